/**
 * The fenced blocks of a documentation page, and the conventions that say which ones run and
 * what they must print (CONTRIBUTING.md, "Tests"; test/docs-path.test.ts runs them):
 *
 * - A code block (`sh`, `ts`, `python`) is run as written, unless an HTML comment right above it
 *   says why not: `<!-- not run: needs the real 8B weights -->`. A reason that names another test
 *   file (`... test/docs-serving.test.ts runs it ...`) hands the block to that test.
 * - A `text` block right after a code block (with only prose between, no heading) is what that
 *   code printed on stdout; `text stderr` is what it printed on stderr. A `text` block anywhere
 *   else is an error: text that is no command's output goes in an untagged block. A `json`
 *   block right after code that runs is its stdout too (after a synopsis or elsewhere, data).
 * - In an expected output, `…` stands for any text (an elision, across lines too), and numbers
 *   that legitimately vary between runs match any number: file sizes (`28.5 KB`) and durations
 *   (`0.4s`, `1.6 s`). A `json` block without `…` must equal the printed JSON value; one with `…`
 *   is matched as text with whitespace ignored. On stderr, npm's own `npm warn` lines (npx prints
 *   them) are not the command's and are left out.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One fenced block of a page. */
export interface DocBlock {
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's first word (`sh`, `ts`, `text`...; '' when untagged). */
  lang: string;
  /** The info string's other words (`stderr`). */
  flags: string[];
  body: string;
  /** The reason of a `<!-- not run: REASON -->` comment right above the block, else null. */
  notRun: string | null;
  /** The outputs shown after a code block: stdout (`text` / `json`) and stderr (`text stderr`). */
  stdout?: DocBlock;
  stderr?: DocBlock;
  /** For an output block: the code block it belongs to. */
  outputOf?: DocBlock;
}

/** Languages a reader would run: every block in one of them is run, or says why not. */
export const CODE = new Set(['sh', 'ts', 'python']);
/** Languages the doc runner runs. */
export const RUNNABLE = new Set(['sh', 'ts']);

/** The fenced blocks of `page` (a path relative to `root`), in order, outputs attached to their code. */
export function docBlocks(root: string, page: string): DocBlock[] {
  const lines = readFileSync(join(root, page), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  // Prose since the previous block: an output must follow its code with only prose between.
  let codeBefore: DocBlock | null = null;
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]!);
    if (!open) {
      if (/^#{1,6} /.test(lines[i]!)) codeBefore = null; // an output never follows its code across a heading
      continue;
    }
    const [lang = '', ...flags] = open[1]!.trim().split(/\s+/).filter(Boolean);
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`${page}:${start + 1}: a fence that is never closed`);
    const block: DocBlock = { page, line: start + 1, lang, flags, body: body.join('\n') + '\n', notRun: notRunReason(lines, start) };
    const where = `${page}:${block.line}`;
    if (block.notRun !== null && !CODE.has(lang))
      throw new Error(`${where}: a 'not run' comment above a ${lang || 'untagged'} block (only code blocks run)`);
    // json is an output only after code that runs here (elsewhere, as after a synopsis, it is data).
    if (lang === 'text' || (lang === 'json' && codeBefore && codeBefore.notRun === null)) {
      const stream = flags.includes('stderr') ? 'stderr' : 'stdout';
      if (!codeBefore) throw new Error(`${where}: a text block that is no command's output: make it an untagged block`);
      if (codeBefore[stream]) throw new Error(`${where}: a second ${stream} block for the code at ${page}:${codeBefore.line}`);
      if (lang === 'json' && stream === 'stderr') throw new Error(`${where}: json is matched against stdout only`);
      codeBefore[stream] = block;
      block.outputOf = codeBefore;
    } else {
      codeBefore = CODE.has(lang) ? block : null;
    }
    blocks.push(block);
  }
  return blocks;
}

/** The reason of a `<!-- not run: ... -->` comment ending on the line above `fence` (blank lines between allowed). */
function notRunReason(lines: string[], fence: number): string | null {
  let j = fence - 1;
  while (j >= 0 && lines[j]!.trim() === '') j--;
  if (j < 0 || !lines[j]!.trimEnd().endsWith('-->')) return null;
  let k = j;
  while (k >= 0 && !lines[k]!.includes('<!--')) k--;
  if (k < 0) return null;
  const comment = lines
    .slice(k, j + 1)
    .join(' ')
    .replace(/\s+/g, ' ');
  const m = /<!-- not run: (.+?) -->/.exec(comment);
  return m ? m[1]! : null;
}

/** The test file a not-run reason hands its block to (`test/NAME.test.ts`), or null. */
export function coveredBy(reason: string): string | null {
  return /\btest\/[\w-]+\.test\.ts\b/.exec(reason)?.[0] ?? null;
}

/** Numbers that legitimately vary between runs, matched as any number: file sizes and durations. */
const VARYING: Array<[RegExp, string]> = [
  [/\b\d+(?:\.\d+)? ?(?:B|KB|MB|GB)\b/g, '<size>'],
  [/\b\d+(?:\.\d+)? ?(?:ms|s)\b/g, '<duration>'],
];

function normalize(text: string): string {
  let t = text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/\n+$/, '');
  for (const [re, to] of VARYING) t = t.replace(re, to);
  return t;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Whether `printed` is what the output block `expected` shows (conventions above); null when it
 * is, else a message showing both.
 */
export function outputMismatch(expected: DocBlock, printed: string): string | null {
  const shown = expected.body;
  if (expected.lang === 'json' && !shown.includes('…')) {
    let value: unknown;
    try {
      value = JSON.parse(printed);
    } catch {
      return `expected one JSON value, printed:\n${printed}`;
    }
    return JSON.stringify(value) === JSON.stringify(JSON.parse(shown)) ? null : `printed JSON differs from the page's:\n${printed}`;
  }
  const squeeze = expected.lang === 'json' ? (s: string): string => s.replace(/\s+/g, '') : (s: string): string => s;
  const want = squeeze(normalize(shown));
  // npm's own notices (`npm warn ...` about its configuration, printed by npx) are not the command's output.
  const got = squeeze(normalize(expected.flags.includes('stderr') ? printed.replace(/^npm warn .*\n/gm, '') : printed));
  const pattern = new RegExp(`^${want.split('…').map(escapeRegExp).join('[\\s\\S]*?')}$`);
  if (pattern.test(got)) return null;
  return `printed (after the varying numbers were masked):\n${got}\n\n--- the page shows (${expected.page}:${expected.line}):\n${want}`;
}
