/**
 * Invalid UTF-8 is an error naming the file and line (or the argument), never silently U+FFFD:
 * real invalid bytes (0xFF, truncated sequences, overlong forms, surrogates, code points past
 * U+10FFFF) in JSONL files (read whole and streamed), JSON-array data sets, `@file` arguments,
 * decontamination files, tree files and the command line itself.
 */
import { spawnSync } from 'node:child_process';
import { isUtf8 } from 'node:buffer';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { invalidArgument } from '../src/cli/main.js';
import { DtrError } from '../src/errors.js';
import { readJsonl, streamJsonl } from '../src/io/jsonl.js';
import { decodeUtf8, findInvalidUtf8, readUtf8Lines } from '../src/io/utf8.js';
import { SeededRandom } from '../src/util/random.js';
import { ensureBuilt } from './support/built-package.js';
import { dtr } from './support/cli.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { tempDir } from './support/temp.js';

const bytes = (...xs: number[]): Buffer => Buffer.from(xs);
const text = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Ill-formed sequences, each with what findInvalidUtf8 reports. */
const BAD: Array<[string, Buffer, number[], string]> = [
  ['0xFF', bytes(0xff), [0xff], 'a byte that never occurs in UTF-8'],
  ['0xFE', bytes(0xfe), [0xfe], 'a byte that never occurs in UTF-8'],
  ['0xF5 (past U+10FFFF)', bytes(0xf5, 0x80, 0x80, 0x80), [0xf5], 'a byte that never occurs in UTF-8'],
  ['a lone continuation byte', bytes(0x80), [0x80], 'a continuation byte without a lead byte'],
  ['truncated at the end', bytes(0xe2, 0x82), [0xe2, 0x82], 'a truncated sequence'],
  ['truncated before ASCII', bytes(0xe2, 0x41), [0xe2], 'a truncated sequence'],
  ['truncated 4-byte', bytes(0xf0, 0x9f, 0x98, 0x41), [0xf0, 0x9f, 0x98], 'a truncated sequence'],
  ['overlong 2-byte (C0 AF = "/")', bytes(0xc0, 0xaf), [0xc0], 'an overlong encoding'],
  ['overlong 2-byte (C1 BF)', bytes(0xc1, 0xbf), [0xc1], 'an overlong encoding'],
  ['overlong 3-byte', bytes(0xe0, 0x80, 0xaf), [0xe0, 0x80], 'an overlong encoding'],
  ['overlong 4-byte', bytes(0xf0, 0x80, 0x80, 0xaf), [0xf0, 0x80], 'an overlong encoding'],
  ['a UTF-16 surrogate (ED A0 80)', bytes(0xed, 0xa0, 0x80), [0xed, 0xa0], 'a UTF-16 surrogate'],
  ['past U+10FFFF (F4 90 80 80)', bytes(0xf4, 0x90, 0x80, 0x80), [0xf4, 0x90], 'a code point beyond U+10FFFF'],
];

describe('findInvalidUtf8', () => {
  it('accepts well-formed text of every length (ASCII, é, €, U+FFFD typed, 😀, U+10FFFF)', () => {
    expect(findInvalidUtf8(text('plain é € \uFFFD 😀 \u{10FFFF}'))).toBeNull();
  });

  it.each(BAD)('finds %s, where it starts and why', (_name, seq, shown, reason) => {
    const data = Buffer.concat([text('ok: '), seq, text(' tail')]);
    expect(findInvalidUtf8(data)).toEqual({ offset: 4, bytes: shown, reason });
  });

  it("agrees with Node's own validator on 5,000 random byte strings", () => {
    const rng = new SeededRandom(11);
    for (let n = 0; n < 5000; n++) {
      const b = Buffer.from(
        Array.from({ length: 1 + Math.floor(rng.next() * 6) }, () =>
          rng.next() < 0.3 ? 0x80 + Math.floor(rng.next() * 0x80) : Math.floor(rng.next() * 256),
        ),
      );
      expect(findInvalidUtf8(b) === null, b.toString('hex')).toBe(isUtf8(b));
    }
  });

  it('decodeUtf8 names the line and the byte within it', () => {
    const data = Buffer.concat([text('{"a": 1}\n{"b": "'), bytes(0xff), text('"}\n')]);
    expect(() => decodeUtf8(data, 'rows.jsonl')).toThrow(
      'rows.jsonl:2: not valid UTF-8 (byte 8 of the line: 0xFF, a byte that never occurs in UTF-8)',
    );
    expect(decodeUtf8(Buffer.concat([bytes(0xef, 0xbb, 0xbf), text('x')]), 'bom.txt')).toBe('x');
  });
});

describe('files with invalid UTF-8', () => {
  const dir = tempDir('dtr-utf8-');
  const row = (label: string, extra = ''): string =>
    `{"a": {"helpfulness": 3, "correctness": 3, "coherence": 4, "complexity": 2, "verbosity": 2}, "b": {"helpfulness": 2, "correctness": 3, "coherence": 4, "complexity": 1, "verbosity": 1}, "label": "${label}"${extra}}\n`;
  const write = (name: string, ...parts: Buffer[]): string => {
    const path = join(dir, name);
    writeFileSync(path, Buffer.concat(parts));
    return path;
  };

  it.each(BAD)(
    'a JSONL file with %s on line 3 fails naming the file and line, read whole or streamed',
    async (_name, seq, shown, reason) => {
      const path = write('pairs.jsonl', text(row('a') + row('b')), text(row('a', ', "id": "x').slice(0, -2)), seq, text('"}\n'));
      const expected = new RegExp(
        `pairs\\.jsonl:3: not valid UTF-8 \\(byte \\d+ of the line: ${shown.map((b) => `0x${b.toString(16).toUpperCase()}`).join(' ')}, ${reason.replace(/[+()]/g, (c) => `\\${c}`)}\\)`,
      );
      expect(() => readJsonl(path)).toThrow(expected);
      const streamed = (async () => {
        for await (const _ of streamJsonl(path));
      })();
      await expect(streamed).rejects.toThrow(expected);
      await expect(streamed).rejects.toMatchObject({ code: 'E_ENCODING' });
    },
  );

  it('streamed lines: CRLF, a BOM before the first line, no newline at the end; line numbers count blank lines', async () => {
    const path = write('lines.txt', bytes(0xef, 0xbb, 0xbf), text('one\r\n\ntwo é\nthree'));
    const lines: Array<{ line: number; text: string }> = [];
    for await (const l of readUtf8Lines(path)) lines.push(l);
    expect(lines).toEqual([
      { line: 1, text: 'one' },
      { line: 2, text: '' },
      { line: 3, text: 'two é' },
      { line: 4, text: 'three' },
    ]);
    // A multi-byte character split across the stream's chunks is still one character.
    const big = write('big.txt', text(`${'x'.repeat(65535)}é\n${'y'.repeat(70000)}😀`));
    const got: string[] = [];
    for await (const l of readUtf8Lines(big)) got.push(l.text);
    expect(got).toEqual([`${'x'.repeat(65535)}é`, `${'y'.repeat(70000)}😀`]);
  });

  it('the command line: train-tree, eval (JSONL and a JSON array), report, decontaminate and @file arguments name the file and line (exit 1)', async () => {
    const badLine = Buffer.concat([text(row('a', ', "id": "caf').slice(0, -2)), bytes(0xe9), text('"}\n')]); // Latin-1 é
    write('bad.jsonl', text(row('a')), badLine);
    write(
      'bad-array.json',
      text('[\n  {"prompt": "Hi", "chosen": "A", "rejected": "B", "subset": "x", "id": 1},\n  {"prompt": "H'),
      bytes(0xc0, 0xaf),
      text('", "chosen": "A", "rejected": "B", "subset": "x", "id": 2}\n]\n'),
    );
    write(
      'a.json',
      text('{"helpfulness": 3, "correctness": 3, "coherence": 4, "complexity": 2,\n "verbosity": 2, "note": "'),
      bytes(0xed, 0xa0, 0x80),
      text('"}'),
    );
    const cases: Array<[string[], string]> = [
      [['train-tree', '--pairs', 'bad.jsonl', '--out', 't.json'], 'bad.jsonl:2: not valid UTF-8 (byte '],
      [['eval', '--tree', 'helpsteer2-human', '--data', 'bad.jsonl'], 'bad.jsonl:2: not valid UTF-8'],
      [
        ['eval', '--model', '.', '--data', 'bad-array.json'],
        'bad-array.json:3: not valid UTF-8 (byte 16 of the line: 0xC0, an overlong encoding)',
      ],
      [['report', '--pairs', 'bad.jsonl', '--out', 'r.html'], 'bad.jsonl:2: not valid UTF-8'],
      [['decontaminate', '--train', 'bad.jsonl', '--against', 'bad.jsonl'], 'bad.jsonl:2: not valid UTF-8'],
      [
        ['explain', '--a', '@a.json', '--b', '@a.json'],
        '--a @a.json: a.json:2: not valid UTF-8 (byte 27 of the line: 0xED 0xA0, a UTF-16 surrogate)',
      ],
      [['report', '--example', '--prompt', '@bad.jsonl', '--out', 'r.md'], '--prompt @bad.jsonl: bad.jsonl:2: not valid UTF-8'],
    ];
    for (const [argv, message] of cases) {
      const r = await dtr(argv, { cwd: dir });
      expect(r.stderr, argv.join(' ')).toContain(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.code, argv.join(' ')).toBe(1);
    }
  });

  it('score --file checks every row before scoring: a row with invalid bytes names its line', async () => {
    const model = writeFixtureModel(tempDir('dtr-utf8-model-')).dir;
    write(
      'rows.jsonl',
      text('{"prompt": "Hi", "response": "Hello"}\n{"prompt": "Hi", "response": "Hel'),
      bytes(0xf4, 0x90, 0x80, 0x80),
      text('lo"}\n'),
    );
    const r = await dtr(['score', '--model', model, '--file', 'rows.jsonl'], { cwd: dir });
    expect(r.stderr).toMatch(/rows\.jsonl:2: not valid UTF-8 \(byte 34 of the line: 0xF4 0x90, a code point beyond U\+10FFFF\)/);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(1);
  });

  it('a tree file with invalid bytes is refused naming the file and line', async () => {
    write('tree.json', text('{\n  "format": "decision-tree-reward/tree",\n  "name": "'), bytes(0xff), text('"\n}\n'));
    const r = await dtr(['export-text', '--tree', 'tree.json'], { cwd: dir });
    expect(r.stderr).toMatch(/tree\.json:3: not valid UTF-8 \(byte 12 of the line: 0xFF/);
    expect(r.code).toBe(1);
    expect(() => readJsonl(join(dir, 'tree.json'))).toThrow(DtrError);
  });
});

describe('arguments with invalid UTF-8', () => {
  beforeAll(ensureBuilt);
  const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
  /** dtr run from a shell, so the argument holds the raw bytes `printf` makes (Node's spawn would encode a string). */
  const shell = (args: string): { code: number | null; stderr: string } => {
    const r = spawnSync('/bin/sh', ['-c', `exec "${process.execPath}" "${main}" ${args}`], { encoding: 'utf8' });
    return { code: r.status, stderr: r.stderr };
  };

  it.skipIf(process.platform !== 'linux')(
    'on Linux an argument that is not UTF-8 is a usage error naming the flag (exit 2), before anything runs (skipped elsewhere: no /proc/self/cmdline)',
    () => {
      expect(shell(`explain --example --tree "$(printf 'ab\\377c')"`)).toEqual({
        code: 2,
        stderr:
          'dtr: the value of --tree is not valid UTF-8 (byte 3: 0xFF, a byte that never occurs in UTF-8): pass the text in UTF-8, or in a UTF-8 file with @FILE\n',
      });
      expect(shell(`explain --example --tree="$(printf '\\342\\202')"`).stderr).toBe(
        'dtr: the value of --tree is not valid UTF-8 (byte 1: 0xE2 0x82, a truncated sequence): pass the text in UTF-8, or in a UTF-8 file with @FILE\n',
      );
      expect(shell(`"$(printf '\\300\\257')"`).stderr).toMatch(
        /^dtr: argument 1 is not valid UTF-8 \(byte 1: 0xC0, an overlong encoding\)/,
      );
      // A U+FFFD typed as such (valid UTF-8: EF BF BD) is text like any other.
      const typed = shell(`explain --example --tree "$(printf '\\357\\277\\275')"`);
      expect(typed.stderr).toMatch(/^dtr: unknown tree '\uFFFD'/);
      expect(typed.code).toBe(1);
    },
  );

  it('where the raw arguments cannot be read, an argument holding U+FFFD gets a warning, not an error', () => {
    expect(invalidArgument(['explain', '--tree', 'x'], null)).toBeNull();
    expect(invalidArgument(['explain', '--tree', 'x\uFFFD'], null)).toEqual({
      warning: expect.stringMatching(
        /^the value of --tree holds U\+FFFD \(the replacement character\): if it stands for bytes that are not UTF-8, they were lost/,
      ),
    });
    // Raw arguments that are not these arguments (another process title, say) are not trusted.
    expect(invalidArgument(['explain', '--tree', 'x\uFFFD'], [text('node'), text('other'), bytes(0x78, 0xff)])).toHaveProperty('warning');
    expect(
      invalidArgument(['explain', '--tree', 'x\uFFFD'], [text('node'), text('dtr'), text('explain'), text('--tree'), bytes(0x78, 0xff)]),
    ).toEqual({
      error:
        'the value of --tree is not valid UTF-8 (byte 2: 0xFF, a byte that never occurs in UTF-8): pass the text in UTF-8, or in a UTF-8 file with @FILE',
    });
  });
});
