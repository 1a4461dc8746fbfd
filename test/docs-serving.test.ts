/**
 * docs/serving.md shows what the server answers. The blocks that talk to the server on port 8000
 * are marked `<!-- not run: ... test/docs-serving.test.ts runs it -->` (the doc runner,
 * test/docs-path.test.ts, runs every other block of the page): here the server block runs on a
 * free port instead (the built binary, on the fixture model), every curl example is sent to it and
 * its answer must equal the JSON block after it, and the Python client runs against it. The flag,
 * error-code and metric tables cover what the command, SERVE_ERROR_CODES and /metrics have.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import serveCommand from '../src/cli/serve.js';
import { SERVE_ERROR_CODES } from '../src/index.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { coveredBy, docBlocks } from './support/doc-blocks.js';
import { call, spawnServe, waitReady, type ServeProcess } from './support/serve.js';
import { tempDir } from './support/temp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const doc = readFileSync(new URL('../docs/serving.md', import.meta.url), 'utf8');
const DOC_URL = 'http://127.0.0.1:8000';
let server: ServeProcess;

beforeAll(async () => {
  const dir = writeFixtureModel(tempDir('dtr-serve-docs-')).dir; // what scripts/make-fixture-model.ts writes
  server = await spawnServe(['--model', dir, '--port', '0']);
  await waitReady(server.url);
});

afterAll(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
});

/** Fenced blocks in order: their language and text. */
function blocks(markdown: string): Array<{ lang: string; text: string }> {
  const out: Array<{ lang: string; text: string }> = [];
  const re = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) out.push({ lang: m[1]!, text: m[2]! });
  return out;
}

/** Shell words of one command line (single and double quotes; no expansions). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[3]!);
  return out;
}

/** The request a `curl -s URL [-H 'K: V'] [-d 'BODY'] [-X METHOD]` line sends. */
function curlRequest(line: string): { url: string; method: string; headers: Record<string, string>; body?: string } {
  const w = words(line);
  expect(w[0]).toBe('curl');
  let url = '';
  let method: string | undefined;
  let body: string | undefined;
  const headers: Record<string, string> = {};
  for (let i = 1; i < w.length; i++) {
    const a = w[i]!;
    if (a === '-s') continue;
    else if (a === '-d' || a === '--data') body = w[++i];
    else if (a === '-X') method = w[++i];
    else if (a === '-H') {
      const [k, ...v] = w[++i]!.split(':');
      headers[k!.trim().toLowerCase()] = v.join(':').trim();
    } else if (a.startsWith('http')) url = a;
    else throw new Error(`the docs test does not know curl's ${a} (in: ${line})`);
  }
  return { url, method: method ?? (body === undefined ? 'GET' : 'POST'), headers, ...(body !== undefined ? { body } : {}) };
}

describe('docs/serving.md', () => {
  const all = blocks(doc);
  const examples = all.flatMap((b, i) =>
    b.lang === 'sh' && all[i + 1]?.lang === 'json' && b.text.startsWith('curl ')
      ? [{ command: b.text.trim(), answer: all[i + 1]!.text }]
      : [],
  );

  it('has curl examples with their answers', () => {
    expect(examples.length).toBeGreaterThanOrEqual(6);
  });

  it('runs every block the page hands to this test, and only those', () => {
    const mine = docBlocks(ROOT, 'docs/serving.md').filter((b) => b.notRun !== null && coveredBy(b.notRun) === 'test/docs-serving.test.ts');
    const curls = mine.filter((b) => b.lang === 'sh' && b.body.startsWith('curl '));
    expect(curls.map((b) => b.body.trim())).toEqual(examples.map((e) => e.command));
    const serve = mine.filter((b) => b.body.includes('dtr serve'));
    // The server of beforeAll: the same fixture folder (what the script writes), on a free port.
    expect(serve.map((b) => b.body)).toEqual([
      'npx tsx scripts/make-fixture-model.ts models/fixture\nnpx dtr serve --model models/fixture\n',
    ]);
    const python = mine.filter((b) => b.lang === 'python');
    expect(python).toHaveLength(1);
    expect(mine).toHaveLength(curls.length + serve.length + python.length);
  });

  for (const { command, answer } of examples) {
    it(`answers as shown: ${command.slice(0, 90)}`, async () => {
      expect(command.split('\n')).toHaveLength(1);
      const req = curlRequest(command);
      expect(req.url.startsWith(DOC_URL)).toBe(true);
      const r = await call(server.url, req.url.slice(DOC_URL.length), {
        method: req.method,
        headers: req.headers,
        ...(req.body !== undefined ? { raw: req.body } : {}),
      });
      expect(r.json).toEqual(JSON.parse(answer));
    });
  }

  it('the Python client prints what is shown', () => {
    const i = all.findIndex((b) => b.lang === 'python');
    expect(all[i + 1]?.lang).toBe('text');
    const python = '/usr/bin/python3';
    expect(existsSync(python), 'Debian python3 (CI has it)').toBe(true);
    const r = spawnSync(python, ['-c', all[i]!.text.replaceAll(DOC_URL, server.url)], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(all[i + 1]!.text);
  });

  it('the flag table names every flag of dtr serve', () => {
    const rows = doc.split('\n').filter((l) => l.startsWith('| `--'));
    for (const name of Object.keys(serveCommand.options))
      expect(
        rows.some((r) => new RegExp(`\`--${name}[ \`]`).test(r)),
        `--${name}`,
      ).toBe(true);
  });

  it('the error table has every code with its status', () => {
    for (const [code, { status }] of Object.entries(SERVE_ERROR_CODES))
      expect(doc).toMatch(new RegExp(`\\n\\| ${status} \\| \`${code}\` \\|`));
  });

  it('the metrics table has every metric family the server writes', async () => {
    const page = (await call(server.url, '/metrics')).text;
    const families = [...page.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const);
    expect(families.length).toBeGreaterThan(10);
    for (const [name, type] of families) expect(doc).toMatch(new RegExp(`\\| \`${name}(\\{[^}]*\\})?\` \\| ${type} \\|`));
  });
});
