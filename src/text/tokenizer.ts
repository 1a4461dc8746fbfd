/**
 * The model's tokenizer, read from Hugging Face's `tokenizer.json` + `tokenizer_config.json`
 * with `@huggingface/tokenizers` (never hand-written). Encoding adds no special tokens: the chat
 * template writes BOS itself, exactly as Python's `apply_chat_template(tokenize=True)` encodes
 * the rendered text with `add_special_tokens=False`.
 *
 * May import: its own folder (text/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts. Never backbone/, anything above (tree/ ... cli/)
 * (test/import-graph.test.ts).
 */
import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { DtrError } from '../errors.js';

/** A special token named in tokenizer_config.json: a string, or an AddedToken object `{content}`. */
type TokenSpec = string | { content?: unknown } | null | undefined;

/**
 * A tokenizer for one model: encode/decode without special-token insertion, the special tokens
 * the chat template uses, and a check that caller text does not smuggle control tokens in.
 *
 * @example
 * ```ts
 * const tok = await TextTokenizer.load('model/tokenizer.json', 'model/tokenizer_config.json');
 * tok.encode('Hello world'); // [9906, 1917] with a Llama-3 tokenizer
 * tok.bosToken;              // '<|begin_of_text|>'
 * ```
 */
export class TextTokenizer {
  /** tokenizer_config.json as read. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly padToken: string | null;
  readonly unkToken: string | null;
  readonly bosId: number | null;
  readonly eosId: number | null;
  /** Id used for padding positions (pad token, else EOS, else 0): masked out, so any id works. */
  readonly padId: number;
  /** Contents of every added token marked `special`. */
  readonly specialTokens: readonly string[];
  /** Length of the longest vocabulary entry, in characters: bounds how much text one token covers. */
  readonly maxTokenChars: number;
  private readonly tokenizer: Tokenizer;
  private readonly specialPattern: RegExp | null;

  private constructor(tokenizer: Tokenizer, tokenizerJson: Record<string, unknown>, config: Record<string, unknown>) {
    this.tokenizer = tokenizer;
    this.config = config;
    this.bosToken = tokenContent(config.bos_token as TokenSpec);
    this.eosToken = tokenContent(config.eos_token as TokenSpec);
    this.padToken = tokenContent(config.pad_token as TokenSpec);
    this.unkToken = tokenContent(config.unk_token as TokenSpec);
    this.bosId = this.bosToken === null ? null : (tokenizer.token_to_id(this.bosToken) ?? null);
    this.eosId = this.eosToken === null ? null : (tokenizer.token_to_id(this.eosToken) ?? null);
    const padId = this.padToken === null ? undefined : tokenizer.token_to_id(this.padToken);
    this.padId = padId ?? this.eosId ?? 0;
    const added = Array.isArray(tokenizerJson.added_tokens) ? (tokenizerJson.added_tokens as Array<Record<string, unknown>>) : [];
    this.specialTokens = added
      .filter((t) => t.special === true && typeof t.content === 'string' && t.content !== '')
      .map((t) => t.content as string);
    this.specialPattern =
      this.specialTokens.length === 0
        ? null
        : new RegExp(
            [...this.specialTokens]
              .sort((a, b) => b.length - a.length)
              .map(escapeRegExp)
              .join('|'),
          );
    const model = tokenizerJson.model as { vocab?: unknown } | undefined;
    let longest = 1;
    const vocab = model?.vocab;
    const keys = Array.isArray(vocab)
      ? vocab.map((v) => (Array.isArray(v) ? String(v[0]) : String(v)))
      : vocab && typeof vocab === 'object'
        ? Object.keys(vocab)
        : [];
    for (const k of keys) if (k.length > longest) longest = k.length;
    this.maxTokenChars = longest;
  }

  /**
   * Builds a tokenizer from parsed tokenizer.json and tokenizer_config.json.
   * @throws DtrError `E_FORMAT` when @huggingface/tokenizers cannot read them.
   */
  static fromJSON(tokenizerJson: unknown, tokenizerConfig: unknown, source = 'tokenizer.json'): TextTokenizer {
    if (tokenizerJson === null || typeof tokenizerJson !== 'object' || Array.isArray(tokenizerJson)) {
      throw new DtrError('E_FORMAT', `${source} must be a JSON object (a Hugging Face tokenizer.json)`);
    }
    const config = (tokenizerConfig ?? {}) as Record<string, unknown>;
    if (typeof config !== 'object' || Array.isArray(config)) throw new DtrError('E_FORMAT', 'tokenizer_config.json must be a JSON object');
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(tokenizerJson, config);
    } catch (cause) {
      throw new DtrError('E_FORMAT', `${source} could not be read by @huggingface/tokenizers: ${(cause as Error).message}`, { cause });
    }
    return new TextTokenizer(tokenizer, tokenizerJson as Record<string, unknown>, config);
  }

  /** Reads and builds a tokenizer from its two files. */
  static async load(tokenizerPath: string, configPath: string): Promise<TextTokenizer> {
    const [tj, tc] = await Promise.all([readJson(tokenizerPath), readJson(configPath)]);
    return TextTokenizer.fromJSON(tj, tc, tokenizerPath);
  }

  /** Token ids of `text`, adding no BOS/EOS (special-token strings in the text become their ids). */
  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** Text of `ids`, keeping special tokens and spacing exactly (no clean-up). */
  decode(ids: readonly number[]): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /** The id of a token string, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  /** The first special-token string inside `text` and where, or null. */
  findSpecialToken(text: string): { token: string; index: number } | null {
    if (this.specialPattern === null) return null;
    const m = this.specialPattern.exec(text);
    return m ? { token: m[0], index: m.index } : null;
  }
}

function tokenContent(spec: TokenSpec): string | null {
  if (typeof spec === 'string') return spec;
  if (spec && typeof spec === 'object' && typeof spec.content === 'string') return spec.content;
  return null;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new DtrError('E_IO', `could not read ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new DtrError('E_FORMAT', `${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}
