/**
 * Parsing an LLM judge's pairwise verdicts. Formats, tried in this order:
 *
 * - Skywork-Critic: `[[A]]` or `[[B]]` (MT-Bench style `[[C]]` is a tie); the last one wins, as
 *   the final verdict ends the output.
 * - Con-J: a JSON object `{"原因": "...", "更好的回答": 1 | 2}`, bare, in a code fence or in
 *   prose; 1 is the first response shown, 2 the second.
 * - Prose: "A is the better response", "Response B is better", "The better answer is A",
 *   "I prefer Assistant B", "Final verdict: A", Markdown emphasis (`**Response B** is better`)
 *   and inline code ignored. Prose is read clause by clause (clauses end at `. ! ? ; ,` or a
 *   line break) and refused rather than guessed: a clause stating a verdict that also negates
 *   ("Neither A nor B is better", "A is not better", "A is no better than B", "I don't prefer
 *   A") is a `negated verdict`; one that also names the other response ("B is better because
 *   A is wrong") is `names both responses`, except as the comparison "A is better than B";
 *   verdicts for both in different clauses are `conflicting verdicts`. A question ("Is A
 *   better?") states no verdict.
 * - A bare `A`, `B`, `1` or `2` (the whole output, Markdown emphasis ignored).
 *
 * `A` (or 1) always means the response shown first. A verdict that cannot be read is never
 * guessed: it is reported (with its reason) and not used.
 *
 * May import: its own folder (eval/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/. Never
 * model/, anything above (report/ ... cli/) (test/import-graph.test.ts).
 */

/** Which shown response a judge picked: `A` = first shown, `B` = second, or a tie. */
export type JudgeVerdict = 'A' | 'B' | 'tie';

/** The format a verdict was found in. */
export type VerdictFormat = 'skywork' | 'con-j' | 'prose' | 'bare';

/** What {@link parseVerdict} found. */
export type ParsedVerdict = { verdict: JudgeVerdict; format: VerdictFormat } | { verdict: null; format: null; reason: UnreadableReason };

/**
 * Why a verdict could not be read: nothing written; no verdict in any known form; prose whose
 * verdict clause negates it ("Neither A nor B is better") or also names the other response
 * ("B is better because A is wrong"); or verdicts for both responses.
 *
 * @example
 * ```ts
 * const p = parseVerdict('Response B is better because Response A is wrong.');
 * if (p.verdict === null) console.warn(`not used: ${p.reason}`); // not used: names both responses
 * ```
 */
export type UnreadableReason = 'empty' | 'no verdict found' | 'negated verdict' | 'names both responses' | 'conflicting verdicts';

const CONJ_KEY = '更好的回答';

/**
 * Parses one judge output into `A`, `B` or `tie`, or says why it cannot.
 *
 * @example
 * ```ts
 * parseVerdict('Both are fine, but [[B]]').verdict;                          // 'B'
 * parseVerdict('```json\n{"原因": "回答2更准确", "更好的回答": 2}\n```').verdict; // 'B'
 * parseVerdict('Response A is the better response.').verdict;                 // 'A'
 * parseVerdict('**Response B** is better than Response A.').verdict;          // 'B'
 * parseVerdict('I cannot decide.');                                          // { verdict: null, format: null, reason: 'no verdict found' }
 * parseVerdict('Neither A nor B is better.').reason;                          // 'negated verdict'
 * ```
 */
export function parseVerdict(text: string): ParsedVerdict {
  if (typeof text !== 'string') throw new TypeError(`text must be a string, got ${text === null ? 'null' : typeof text}`);
  const t = text.trim();
  if (t === '') return { verdict: null, format: null, reason: 'empty' };

  const brackets = [...t.matchAll(/\[\[\s*([ABC])\s*\]\]/g)];
  if (brackets.length > 0) {
    const last = brackets[brackets.length - 1]![1]!;
    return { verdict: last === 'C' ? 'tie' : (last as 'A' | 'B'), format: 'skywork' };
  }

  const conj = parseConJ(t);
  if (conj !== null) return { verdict: conj, format: 'con-j' };

  // Markdown emphasis and inline code ("**Response B** is better", "is: `A`") carry no meaning here.
  const plain = t.replace(/[*_`]+/g, '');
  const bare = /^\(?\s*(A|B|1|2)\s*\)?[.!]?$/i.exec(plain.trim());
  if (bare) return { verdict: toVerdict(bare[1]!), format: 'bare' };

  const prose = proseVerdicts(plain);
  if (prose.refused !== null) return { verdict: null, format: null, reason: prose.refused };
  if (prose.found.size === 1) return { verdict: [...prose.found][0]!, format: 'prose' };
  if (prose.found.size > 1) return { verdict: null, format: null, reason: 'conflicting verdicts' };
  return { verdict: null, format: null, reason: 'no verdict found' };
}

function toVerdict(x: string): JudgeVerdict {
  const u = x.toUpperCase();
  return u === 'A' || u === '1' ? 'A' : 'B';
}

// Names of a response as judges write them. A bare capital A/B must stand alone ("A is", not "a is").
const WHO = String.raw`(?:(?:response|assistant|answer|output|option|candidate)\s*\(?\s*([AB12])\s*\)?|\b([AB])\b)`;
const WHO_I = String.raw`(?:response|assistant|answer|output|option|candidate)\s*\(?\s*([AB12])\s*\)?`;
// Negations are matched too ("A is not better", "A isn't better", "the better one is neither A
// nor B"), so that the clause is refused as a negated verdict rather than passed over.
const QUALIFIER = String.raw`(?:(?:the|a|clearly|slightly|much|far|overall|definitely|not|no|never|hardly)\s+)*`;

/** Prose patterns; the first defined capture group is the letter or digit of the response picked. */
const PROSE: readonly RegExp[] = [
  // "Response A is the better response", "Assistant 2 is better", "A is better"
  new RegExp(String.raw`${WHO}\s+is(?:n['’]t)?\s+${QUALIFIER}(?:better|superior|preferred|preferable)\b`, 'gi'),
  // "the better response is A", "The better answer is Response B"
  new RegExp(
    String.raw`\bbetter\s+(?:response|answer|one|output|option)\s+is(?:n['’]t)?\s*:?\s*(?:(?:neither|not)\s+)?(?:${WHO_I}|\(?\s*([AB12])\s*\)?\b)`,
    'gi',
  ),
  // "I prefer Response B", "I choose Assistant A"
  new RegExp(String.raw`\b(?:prefer|choose|pick|select)\s+(?:${WHO_I}|\b([AB])\b)`, 'gi'),
  // "Final verdict: A", "Verdict: Response B"
  new RegExp(String.raw`\bverdict\s*(?:is)?\s*[:：]?\s*\**\s*(?:${WHO_I}|\b([AB])\b)`, 'gi'),
];

const NAMED = /(?:response|assistant|answer|output|option|candidate)\s*\(?\s*[ab12]/i;

/** Where a clause ends: a sentence's end, a semicolon, a comma or a line break. */
const CLAUSE_END = /[.!?;,\n。！？；，]/;

/**
 * Words that turn a verdict clause around ("Neither A nor B is better", "A is not better",
 * "A is no better than B", "I don't prefer A"): such a clause is refused, never read as a pick.
 */
const NEGATION = /\b(?:neither|nor|not|never|cannot|none)\b|n['’]t\b|\bno\s+(?:better|worse|clear|real|obvious|significant)\b/i;

/** Every way a clause can name response A (first shown) or B: "Response B", "Assistant 2", a capital "A". */
const NAME_PATTERNS: readonly RegExp[] = [/(?:response|assistant|answer|output|option|candidate)\s*\(?\s*([AB12])\b/gi, /\b([AB])\b/g];

/** The responses a piece of text names. */
function namedIn(text: string): Set<JudgeVerdict> {
  const named = new Set<JudgeVerdict>();
  for (const pattern of NAME_PATTERNS) for (const m of text.matchAll(pattern)) named.add(toVerdict(m[1]!));
  return named;
}

/** "than B", "to Response B", "over Assistant 2" right after a verdict: the comparison, not a second name. */
const COMPARED = new RegExp(String.raw`^\s*(?:than|to|over)\s+(?:the\s+other\s+)?${WHO}`, 'i');

/**
 * Every verdict the prose patterns find, or why the prose is refused: a clause holding a verdict
 * that negates, or that also names the other response (beyond "than B"), is not read as a pick.
 */
function proseVerdicts(text: string): { found: Set<JudgeVerdict>; refused: 'negated verdict' | 'names both responses' | null } {
  const found = new Set<JudgeVerdict>();
  let refused: 'negated verdict' | 'names both responses' | null = null;
  for (const pattern of PROSE) {
    for (const m of text.matchAll(pattern)) {
      const pick = m.slice(1).find((g) => g !== undefined);
      if (pick === undefined) continue;
      // A lower-case bare letter is an article ("a is better"), not a verdict, unless a response is named.
      if ((pick === 'a' || pick === 'b') && !NAMED.test(m[0])) continue;
      const verdict = toVerdict(pick);
      const start = m.index;
      const end = start + m[0].length;
      let from = start;
      while (from > 0 && !CLAUSE_END.test(text[from - 1]!)) from--;
      let to = end;
      while (to < text.length && !CLAUSE_END.test(text[to]!)) to++;
      // A question ("Is A better?", "A is better than B?") states no verdict.
      if (text[to] === '?' || text[to] === '？') continue;
      const clause = text.slice(from, to);
      if (NEGATION.test(clause)) {
        refused ??= 'negated verdict';
        continue;
      }
      const after = text.slice(end, to);
      const compared = COMPARED.exec(after);
      const rest = `${text.slice(from, start)} ${compared ? after.slice(compared[0].length) : after}`;
      if ([...namedIn(rest)].some((v) => v !== verdict)) {
        refused ??= 'names both responses';
        continue;
      }
      found.add(verdict);
    }
  }
  return { found, refused };
}

/** Con-J's JSON verdict, anywhere in the text; null when there is none. */
function parseConJ(text: string): JudgeVerdict | null {
  if (!text.includes(CONJ_KEY)) return null;
  for (const candidate of jsonObjects(text)) {
    let obj: unknown;
    try {
      obj = JSON.parse(candidate);
    } catch {
      continue;
    }
    if (obj !== null && typeof obj === 'object' && CONJ_KEY in obj) {
      const v = (obj as Record<string, unknown>)[CONJ_KEY];
      if (v === 1 || v === '1') return 'A';
      if (v === 2 || v === '2') return 'B';
    }
  }
  // Judges often emit almost-JSON (an unescaped quote in the reason): read the key directly.
  const direct = new RegExp(`["“]?${CONJ_KEY}["”]?\\s*[:：]\\s*["“]?\\s*([12])\\b`).exec(text);
  return direct ? (direct[1] === '1' ? 'A' : 'B') : null;
}

/** Balanced `{...}` spans outside strings, outermost first. */
function jsonObjects(text: string): string[] {
  const out: string[] = [];
  for (let start = text.indexOf('{'); start !== -1; start = text.indexOf('{', start + 1)) {
    let depth = 0;
    let inString = false;
    for (let i = start; i < text.length; i++) {
      const ch = text[i];
      if (inString) {
        if (ch === '\\') i++;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) {
        out.push(text.slice(start, i + 1));
        break;
      }
    }
  }
  return out;
}
