/**
 * The conversation back from a policy's rendering. OpenRLHF sends its reward model the text the
 * policy saw and wrote (`query`: the prompt as the policy's chat template rendered it, then the
 * response, special tokens kept) and the rendered prompt (`prompts`). The reward model has a
 * chat template of its own, so the messages are recovered from the policy's markers, the
 * response is `query` minus the prompt, without the policy's end-of-turn tokens, and the pair is
 * rendered again with the reward model's template.
 *
 * Three families are known by their markers (Llama-3, ChatML, Gemma); another template is read
 * from its Jinja file by rendering marked messages through it ({@link policyFormatFromTemplate}).
 */
import { ChatTemplate } from './template.js';
import type { ChatMessage } from './prompt.js';

/** How a policy's chat template marks turns. */
export interface PolicyFormat {
  name: string;
  /** Text before the first turn (a BOS token), any one of which is stripped. */
  prefixes: readonly string[];
  /**
   * Whatever stands before the first turn's opening is skipped (a template read from a file:
   * the policy's BOS token is not known here, and what comes before the first turn is no message).
   */
  skipToFirstTurn?: boolean;
  /** A turn's opening, by role (the role as the template writes it → the role of the message). */
  opens: ReadonlyArray<{ text: string; role: string }> | null;
  /** Llama-3's opening carries the role inside: `<|start_header_id|>ROLE<|end_header_id|>\n\n`. */
  openPattern: RegExp | null;
  /** Closes a turn (what follows each turn's content). */
  close: string;
  /** Ends the rendered prompt: the assistant turn's opening. */
  generation: string;
  /** Tokens that end the policy's response (removed from its end). */
  endOfTurn: readonly string[];
}

/** The families `--policy-template` knows by name. */
export const POLICY_FORMATS: Readonly<Record<'llama-3' | 'chatml' | 'gemma', PolicyFormat>> = {
  'llama-3': {
    name: 'llama-3',
    prefixes: ['<|begin_of_text|>'],
    opens: null,
    openPattern: /<\|start_header_id\|>([^<]*)<\|end_header_id\|>\n\n/y,
    close: '<|eot_id|>',
    generation: '<|start_header_id|>assistant<|end_header_id|>\n\n',
    endOfTurn: ['<|eot_id|>', '<|eom_id|>', '<|end_of_text|>'],
  },
  chatml: {
    name: 'chatml',
    prefixes: [],
    opens: null,
    openPattern: /<\|im_start\|>([^\n<]*)\n/y,
    close: '<|im_end|>\n',
    generation: '<|im_start|>assistant\n',
    endOfTurn: ['<|im_end|>', '<|endoftext|>'],
  },
  gemma: {
    name: 'gemma',
    prefixes: ['<bos>'],
    opens: null,
    openPattern: /<start_of_turn>([^\n<]*)\n/y,
    close: '<end_of_turn>\n',
    generation: '<start_of_turn>model\n',
    endOfTurn: ['<end_of_turn>', '<eos>'],
  },
};

/** The names `--policy-template` takes besides a .jinja file. */
export const POLICY_TEMPLATE_NAMES = ['auto', 'llama-3', 'chatml', 'gemma'] as const;

/**
 * The family whose markers a rendered prompt carries, or null.
 *
 * @example
 * ```ts
 * detectPolicyFormat('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n')?.name; // 'chatml'
 * ```
 */
export function detectPolicyFormat(prompt: string): PolicyFormat | null {
  if (prompt.includes('<|start_header_id|>')) return POLICY_FORMATS['llama-3'];
  if (prompt.includes('<|im_start|>')) return POLICY_FORMATS.chatml;
  if (prompt.includes('<start_of_turn>')) return POLICY_FORMATS.gemma;
  return null;
}

const MARK = ['\u0001DTR-U\u0001', '\u0001DTR-A\u0001', '\u0001DTR-V\u0001'] as const;

/**
 * A policy's format read from its chat template (a .jinja file's text), by rendering marked
 * messages through it: what stands between the marks is its turn markup. Templates whose
 * closing differs by role are not supported (the error says so).
 * @throws RangeError starting with `param` when the template's markup cannot be read off.
 *
 * @example
 * ```ts
 * policyFormatFromTemplate(readFileSync('policy.jinja', 'utf8'), { bos_token: '<s>', eos_token: '</s>' }, '--policy-template');
 * ```
 */
export function policyFormatFromTemplate(
  source: string,
  tokens: { bos_token?: string | null; eos_token?: string | null },
  param: string,
): PolicyFormat {
  const t = new ChatTemplate(source, tokens);
  const three = t.render([
    { role: 'user', content: MARK[0] },
    { role: 'assistant', content: MARK[1] },
    { role: 'user', content: MARK[2] },
  ]);
  const one = t.render([{ role: 'user', content: MARK[0] }]);
  const oneGen = t.render([{ role: 'user', content: MARK[0] }], { addGenerationPrompt: true });
  const bad = (why: string): RangeError => new RangeError(`${param}: cannot read the turn markup off this template (${why})`);
  const at = MARK.map((m) => three.indexOf(m));
  if (at.some((i) => i < 0)) throw bad('it does not render message contents as given');
  const pre = three.slice(0, at[0]);
  const userClose = three.slice(at[2]! + MARK[2].length);
  const mid1 = three.slice(at[0]! + MARK[0].length, at[1]);
  const mid2 = three.slice(at[1]! + MARK[1].length, at[2]);
  if (userClose === '' || !mid1.startsWith(userClose) || !mid2.startsWith(userClose))
    throw bad('its turns do not all end with the same text');
  const assistantOpen = mid1.slice(userClose.length);
  const userOpen = mid2.slice(userClose.length);
  if (!pre.endsWith(userOpen)) throw bad("the first user turn's opening differs from the others");
  if (!oneGen.startsWith(one)) throw bad('the generation prompt is not appended to the conversation');
  const generation = oneGen.slice(one.length);
  const endOfTurn = [...new Set([userClose, userClose.trimEnd(), ...(tokens.eos_token ? [tokens.eos_token] : [])].filter((s) => s !== ''))];
  return {
    name: 'template',
    prefixes: [],
    skipToFirstTurn: true,
    opens: [
      { text: userOpen, role: 'user' },
      { text: assistantOpen, role: 'assistant' },
    ],
    openPattern: null,
    close: userClose,
    generation: generation === '' ? assistantOpen : generation,
    endOfTurn,
  };
}

/** The messages and response a policy rendered, or why they cannot be read. */
export type Recovered =
  { ok: true; messages: ChatMessage[]; response: string } | { ok: false; field: 'query' | 'prompts'; message: string };

/**
 * Recovers the conversation from a policy's rendering: the prompt's messages, and the response
 * (`query` minus `prompt`, the end-of-turn tokens removed from its end).
 *
 * @example
 * ```ts
 * const p = '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n';
 * recoverConversation(POLICY_FORMATS['llama-3'], p + 'Hello!<|eot_id|>', p);
 * // { ok: true, messages: [{ role: 'user', content: 'Hi' }], response: 'Hello!' }
 * ```
 */
export function recoverConversation(format: PolicyFormat, query: string, prompt: string): Recovered {
  if (!query.startsWith(prompt))
    return {
      ok: false,
      field: 'query',
      message: 'does not start with its prompt (prompts[i]): OpenRLHF sends prompt + response as the policy rendered them',
    };
  if (!prompt.endsWith(format.generation))
    return {
      ok: false,
      field: 'prompts',
      message: `does not end with the ${format.name} generation prompt ${JSON.stringify(format.generation)}: is --policy-template right?`,
    };
  let response = query.slice(prompt.length);
  for (let again = true; again;) {
    again = false;
    for (const e of format.endOfTurn) {
      if (response.endsWith(e)) {
        response = response.slice(0, response.length - e.length);
        again = true;
      }
    }
  }
  const body = prompt.slice(0, prompt.length - format.generation.length);
  let i = 0;
  for (const p of format.prefixes) {
    if (body.startsWith(p)) {
      i = p.length;
      break;
    }
  }
  if (format.skipToFirstTurn) {
    const starts = (format.opens ?? []).map((o) => body.indexOf(o.text)).filter((k) => k >= 0);
    if (starts.length > 0) i = Math.min(...starts);
  }
  const messages: ChatMessage[] = [];
  while (i < body.length) {
    let role: string | null = null;
    if (format.openPattern) {
      const re = new RegExp(format.openPattern.source, 'y');
      re.lastIndex = i;
      const m = re.exec(body);
      if (m) {
        role = m[1]!;
        i += m[0].length;
      }
    } else {
      for (const o of format.opens ?? []) {
        if (body.startsWith(o.text, i)) {
          role = o.role;
          i += o.text.length;
          break;
        }
      }
    }
    if (role === null)
      return { ok: false, field: 'prompts', message: `is not a ${format.name} rendering: no turn opens at character ${i}` };
    const end = body.indexOf(format.close, i);
    if (end < 0) return { ok: false, field: 'prompts', message: `has a ${role} turn that is not closed (${JSON.stringify(format.close)})` };
    messages.push({ role: role === 'model' ? 'assistant' : role, content: body.slice(i, end) });
    i = end + format.close.length;
  }
  if (messages.length === 0) return { ok: false, field: 'prompts', message: `holds no ${format.name} turn before the generation prompt` };
  return { ok: true, messages, response };
}
