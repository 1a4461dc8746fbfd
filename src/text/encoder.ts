/**
 * From a prompt and a response to token ids: chat template, tokenizer, and truncation that is
 * never silent.
 *
 * Over `maxLength`, the conversation is shortened in this order, re-rendering after each step:
 * 1. drop the oldest prompt turns (whole messages; a system message is kept for now, and the
 *    conversation keeps starting with a user turn),
 * 2. drop the system message,
 * 3. cut the start of the remaining prompt message (its end, next to the response, is kept),
 * 4. only then cut the end of the response: the response alone does not fit.
 * Every result says whether and how it was truncated.
 *
 * May import: its own folder (text/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts. Never backbone/, anything above (tree/ ... cli/)
 * (test/import-graph.test.ts).
 */
import { DtrError } from '../errors.js';
import { toConversation, type ChatMessage } from './prompt.js';
import type { ChatTemplate } from './template.js';
import type { TextTokenizer } from './tokenizer.js';

/** How a conversation was shortened to fit `maxLength`. */
export interface TruncationInfo {
  maxLength: number;
  /** Tokens of the whole conversation before truncation; null when a text was too long to tokenize whole (it was cut first). */
  originalTokens: number | null;
  /** Tokens after truncation (<= maxLength). */
  tokens: number;
  /** Whole prompt messages dropped, oldest first. */
  droppedMessages: number;
  /** Tokens cut from the start of the earliest kept prompt message (a lower bound when `originalTokens` is null). */
  promptTokensCut: number;
  /** Tokens cut from the end of the response (a lower bound when `originalTokens` is null). */
  responseTokensCut: number;
  /** True when the response itself was cut: it alone did not fit. */
  responseTruncated: boolean;
  /** One line for a user, e.g. "dropped 2 oldest prompt messages; cut 310 tokens from the start of the prompt". */
  summary: string;
}

/** Token ids of one conversation and how it was truncated. */
export interface EncodedConversation {
  ids: Int32Array;
  truncated: boolean;
  truncation: TruncationInfo | null;
}

/** Names used in error messages for the prompt and response parameters. */
export interface TextParams {
  prompt?: string;
  response?: string;
}

/**
 * Renders and tokenizes conversations for one model.
 *
 * @example
 * ```ts
 * const enc = new ConversationEncoder(tokenizer, template, { maxLength: 4096 });
 * const { ids, truncated } = enc.encode('Hello', 'Hi there');
 * // ids: [128000, 128006, 882, 128007, 271, 9906, 128009, 128006, 78191, 128007, 271, 13347, 1070, 128009]
 * ```
 */
export class ConversationEncoder {
  readonly tokenizer: TextTokenizer;
  readonly template: ChatTemplate;
  readonly maxLength: number;
  /** Texts longer than this many characters are cut before tokenizing: they cannot fit anyway. */
  readonly precutChars: number;
  private overheadTokens: number | null = null;

  constructor(tokenizer: TextTokenizer, template: ChatTemplate, options: { maxLength: number }) {
    const { maxLength } = options;
    if (!Number.isInteger(maxLength) || maxLength < 1)
      throw new RangeError(`maxLength must be a positive integer, got ${String(maxLength)}`);
    this.tokenizer = tokenizer;
    this.template = template;
    this.maxLength = maxLength;
    // Every token covers at most maxTokenChars characters, so a text of this length holds at
    // least 2 x (maxLength + 16) tokens: cutting beyond it never changes what is kept.
    this.precutChars = 2 * (maxLength + 16) * Math.max(1, tokenizer.maxTokenChars);
  }

  /**
   * Tokens the template spends on a conversation with one empty user and one empty assistant
   * message: no conversation can be shorter. `maxLength` must exceed it.
   */
  overhead(): number {
    this.overheadTokens ??= this.renderIds([
      { role: 'user', content: '' },
      { role: 'assistant', content: '' },
    ]).length;
    return this.overheadTokens;
  }

  /** Template + tokenizer, no truncation. */
  renderIds(messages: readonly ChatMessage[]): number[] {
    return this.tokenizer.encode(this.template.render(messages));
  }

  /**
   * Checks the inputs, builds the conversation and encodes it, truncating (and saying so) when
   * it is over `maxLength`.
   * @throws TypeError/RangeError naming the parameter for bad text or text holding a special token.
   */
  encode(prompt: unknown, response: unknown, params: TextParams = {}): EncodedConversation {
    const messages = this.checkedConversation(prompt, response, params);
    return this.encodeMessages(messages);
  }

  /**
   * The checked conversation for a prompt and response: {@link toConversation} plus a check that
   * no text holds one of the tokenizer's special tokens (it would be read as a control token:
   * a fake end of turn inside a response changes what the model scores).
   */
  checkedConversation(prompt: unknown, response: unknown, params: TextParams = {}): ChatMessage[] {
    const promptParam = params.prompt ?? 'prompt';
    const responseParam = params.response ?? 'response';
    const messages = toConversation(prompt, response, { prompt: promptParam, response: responseParam });
    const fromString = typeof prompt === 'string';
    messages.forEach((m, i) => {
      // The role is rendered as text too: a control token there would inject a turn just as in the content.
      const roleHit = this.tokenizer.findSpecialToken(m.role);
      if (roleHit !== null && !fromString) {
        throw new RangeError(
          `${promptParam}[${i}].role contains the tokenizer's special token '${roleHit.token}' at index ${roleHit.index}: a role is a name such as 'user'`,
        );
      }
      const hit = this.tokenizer.findSpecialToken(m.content);
      if (hit === null) return;
      const where = i === messages.length - 1 ? responseParam : fromString ? promptParam : `${promptParam}[${i}].content`;
      // Index into the caller's own text: for string prompts, search the original string.
      const index =
        i === messages.length - 1
          ? (response as string).indexOf(hit.token)
          : fromString
            ? (prompt as string).indexOf(hit.token)
            : hit.index;
      throw new RangeError(
        `${where} contains the tokenizer's special token '${hit.token}' at index ${index}: it would be read as a control token, not as text; remove or escape it`,
      );
    });
    return messages;
  }

  /** Encodes checked messages (the last one is the response), truncating when needed. */
  encodeMessages(input: readonly ChatMessage[]): EncodedConversation {
    if (input.length < 2) throw new RangeError('a conversation needs at least a prompt message and the response');
    const messages = input.map((m) => ({ role: m.role, content: m.content }));
    const max = this.maxLength;
    const last = messages.length - 1;
    let precut = false;
    messages.forEach((m, i) => {
      if (m.content.length > this.precutChars) {
        precut = true;
        m.content = i === last ? safeSlice(m.content, 0, this.precutChars) : safeSlice(m.content, m.content.length - this.precutChars);
      }
    });
    let ids = this.renderIds(messages);
    if (!precut && ids.length <= max) return { ids: Int32Array.from(ids), truncated: false, truncation: null };
    if (max <= this.overhead()) {
      throw new RangeError(`maxLength ${max} leaves no room for text: the chat template alone takes ${this.overhead()} tokens`);
    }
    const originalTokens = precut ? null : ids.length;
    let dropped = 0;
    const firstPrompt = (): number => (messages[0]!.role === 'system' ? 1 : 0);
    const promptCount = (): number => messages.length - 1 - firstPrompt();

    // 1. Oldest prompt turns, keeping the last prompt message and a leading user turn.
    if (ids.length > max && promptCount() > 1) {
      const step = this.dropOldest(messages, ids.length);
      dropped = step.dropped;
      ids = step.ids;
    }
    // 2. The system message.
    if (ids.length > max && messages[0]!.role === 'system' && messages.length > 2) {
      messages.splice(0, 1);
      dropped++;
      ids = this.renderIds(messages);
    }
    // 3. The start of the remaining prompt message.
    let promptCut = 0;
    const p = messages.length - 2;
    if (ids.length > max) {
      const r = this.shrink(messages, p, 'start');
      ids = r.ids;
      promptCut = r.cut;
    }
    // 4. The end of the response.
    let responseCut = 0;
    const rIdx = messages.length - 1;
    if (ids.length > max) {
      const r = this.shrink(messages, rIdx, 'end');
      ids = r.ids;
      responseCut = r.cut;
    }
    if (ids.length > max) {
      throw new DtrError('E_INTERNAL', `truncation could not bring the conversation under maxLength ${max} (still ${ids.length} tokens)`);
    }
    const responseTruncated = responseCut > 0 || (precut && input[last]!.content.length > this.precutChars);
    const parts: string[] = [];
    if (dropped > 0) parts.push(`dropped ${dropped} oldest prompt message${dropped === 1 ? '' : 's'}`);
    if (promptCut > 0) parts.push(`cut ${promptCut}${precut ? '+' : ''} tokens from the start of the prompt`);
    if (responseTruncated)
      parts.push(`cut ${responseCut}${precut ? '+' : ''} tokens from the end of the response (it alone is over ${max} tokens)`);
    const summary = `${parts.join('; ')} to fit maxLength ${max}${originalTokens === null ? '' : ` (was ${originalTokens} tokens)`}`;
    return {
      ids: Int32Array.from(ids),
      truncated: true,
      truncation: {
        maxLength: max,
        originalTokens,
        tokens: ids.length,
        droppedMessages: dropped,
        promptTokensCut: promptCut,
        responseTokensCut: responseCut,
        responseTruncated,
        summary,
      },
    };
  }

  /**
   * Step 1 of truncation: the fewest oldest-turn drops that bring the conversation under
   * `maxLength`, or every drop allowed. The drops are the ones the rule "drop the oldest prompt
   * message, then any non-user turns after it, re-render" makes one at a time (so a kept
   * conversation still starts with a user turn); this finds where that loop stops without
   * re-rendering after each drop, which is quadratic in turns (2,000 turns: 20 s). The rendered
   * length only falls as turns are dropped, so the stopping point is the first state that fits:
   * per-message token counts (one pass) guess it, and renders check the guess and its
   * predecessor, bisecting when the guess is off (templates whose turns do not add up exactly).
   * `messages` is edited in place.
   */
  private dropOldest(messages: ChatMessage[], renderedLength: number): { ids: number[]; dropped: number } {
    const max = this.maxLength;
    const first = messages[0]!.role === 'system' ? 1 : 0;
    const last = messages.length - 1; // the response
    // starts[j]: the first kept prompt message after j drop steps (the loop's states, in order).
    const starts = [first];
    for (let s = first; last - s > 1;) {
      s++;
      while (last - s > 1 && messages[s]!.role !== 'user') s++;
      starts.push(s);
    }
    const cache = new Map<number, number[]>();
    const render = (j: number): number[] => {
      let ids = cache.get(j);
      if (ids === undefined) {
        ids = this.renderIds(this.withoutPrompt(messages, first, starts[j]!));
        cache.set(j, ids);
      }
      return ids;
    };
    const fits = (j: number): boolean => (j === 0 ? renderedLength : render(j).length) <= max;
    const lastStep = starts.length - 1;
    let stop: number;
    if (!fits(lastStep)) stop = lastStep;
    else {
      // The guess: per message, its content's tokens plus the template's share of a turn.
      const counts = messages.map((m) => this.tokenizer.encode(m.content).length);
      const perTurn = Math.max(0, (renderedLength - counts.reduce((a, b) => a + b, 0)) / messages.length);
      let guess = lastStep;
      let length = renderedLength;
      for (let j = 1; j <= lastStep; j++) {
        for (let k = starts[j - 1]!; k < starts[j]!; k++) length -= counts[k]! + perTurn;
        if (length <= max) {
          guess = j;
          break;
        }
      }
      if (fits(guess) && !fits(guess - 1)) stop = guess;
      else {
        // Bisect: lo does not fit, hi fits.
        let lo = 0;
        let hi = lastStep;
        if (fits(guess)) hi = guess;
        else lo = guess;
        while (hi - lo > 1) {
          const mid = (lo + hi) >>> 1;
          if (fits(mid)) hi = mid;
          else lo = mid;
        }
        stop = hi;
      }
    }
    const ids = render(stop);
    const dropped = starts[stop]! - first;
    messages.splice(first, dropped);
    return { ids, dropped };
  }

  /** The messages with prompt turns `first` to `start - 1` left out. */
  private withoutPrompt(messages: readonly ChatMessage[], first: number, start: number): ChatMessage[] {
    return [...messages.slice(0, first), ...messages.slice(start)];
  }

  /**
   * Cuts message `i` (its start or its end) until the conversation fits, keeping as much as
   * fits. Returns the new ids and how many of the message's tokens were cut.
   */
  private shrink(messages: ChatMessage[], i: number, side: 'start' | 'end'): { ids: number[]; cut: number } {
    const max = this.maxLength;
    const original = messages[i]!.content;
    const originalTokens = this.tokenizer.encode(original).length;
    let ids = this.renderIds(messages);
    let keep = originalTokens - (ids.length - max);
    // Token counts inside the template can differ from the text's own by a token or two at the
    // edges: re-render and tighten until it fits.
    for (let attempt = 0; attempt < 12 && ids.length > max; attempt++) {
      if (keep <= 0) {
        messages[i]!.content = '';
        ids = this.renderIds(messages);
        break;
      }
      messages[i]!.content = side === 'start' ? this.keepEnd(original, keep) : this.keepStart(original, keep);
      ids = this.renderIds(messages);
      if (ids.length > max) keep -= ids.length - max;
    }
    if (ids.length > max) {
      messages[i]!.content = '';
      ids = this.renderIds(messages);
    }
    const kept = messages[i]!.content === '' ? 0 : this.tokenizer.encode(messages[i]!.content).length;
    return { ids, cut: Math.max(0, originalTokens - kept) };
  }

  /** The longest suffix of `text` with at most `keep` tokens (as the tokenizer reads it alone). */
  keepEnd(text: string, keep: number): string {
    const ids = this.tokenizer.encode(text);
    if (ids.length <= keep) return text;
    if (keep <= 0) return '';
    const tail = this.tokenizer.decode(ids.slice(ids.length - keep));
    if (tail !== '' && text.endsWith(tail)) return tail;
    // The cut fell inside a character (byte-level tokens) or decoding is not lossless: search by characters.
    let lo = 0;
    let hi = text.length;
    while (hi - lo > 1) {
      let mid = (lo + hi) >>> 1;
      if (isLowSurrogate(text.charCodeAt(mid))) mid--;
      if (mid <= lo) mid = lo + 1;
      if (this.tokenizer.encode(text.slice(mid)).length <= keep) hi = mid;
      else lo = mid;
    }
    return text.slice(hi);
  }

  /** The longest prefix of `text` with at most `keep` tokens. */
  keepStart(text: string, keep: number): string {
    const ids = this.tokenizer.encode(text);
    if (ids.length <= keep) return text;
    if (keep <= 0) return '';
    const head = this.tokenizer.decode(ids.slice(0, keep));
    if (head !== '' && text.startsWith(head)) return head;
    let lo = 0;
    let hi = text.length;
    while (hi - lo > 1) {
      let mid = (lo + hi) >>> 1;
      if (isLowSurrogate(text.charCodeAt(mid))) mid++;
      if (mid >= hi) mid = hi - 1;
      if (this.tokenizer.encode(text.slice(0, mid)).length <= keep) lo = mid;
      else hi = mid;
    }
    return text.slice(0, lo);
  }
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** `s.slice(start, end)` that never splits a surrogate pair. */
function safeSlice(s: string, start: number, end = s.length): string {
  let a = Math.max(0, start);
  let b = Math.min(s.length, end);
  if (a > 0 && isLowSurrogate(s.charCodeAt(a))) a++;
  if (b < s.length && isLowSurrogate(s.charCodeAt(b))) b--;
  return s.slice(a, b);
}
