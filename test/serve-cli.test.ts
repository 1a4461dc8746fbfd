/**
 * `dtr serve` as a user runs it: flags and their errors (in-process), and the built binary as a
 * child process on loopback: the first stdout line, readiness, SIGTERM with requests in flight
 * (every one answered, exit 0), a second signal (exit at once), the token from the environment
 * (never printed), and --json life-cycle lines.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dtr } from './support/cli.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { call, metric, spawnServe, until, waitReady, type ServeProcess } from './support/serve.js';
import { tempDir } from './support/temp.js';

let dir: string;
let slowDir: string;

beforeAll(() => {
  dir = writeFixtureModel(tempDir('dtr-serve-')).dir;
  // Long conversations make real forward passes slow enough to stop the server in the middle of them.
  slowDir = writeFixtureModel(tempDir('dtr-serve-'), { maxLength: 2048 }).dir;
});

/** A pair of ~1,500-token responses: tens of milliseconds of real forward pass each. */
const longPair = (i: number): { prompt: string; a: string; b: string } => ({
  prompt: `Essay ${i}: write at length.`,
  a: `${'many words of text '.repeat(300)}${i}`,
  b: `${'other words here now '.repeat(280)}${i}`,
});

describe('dtr serve: flags', () => {
  it('--help shows the routes and every flag; dtr --help lists serve', async () => {
    const r = await dtr(['serve', '--help']);
    expect(r.code).toBe(0);
    for (const text of [
      'POST /v1/compare',
      'GET  /healthz',
      '--host ADDRESS',
      '--port N',
      '--token TOKEN|@FILE',
      '--queue-size N',
      '--timeout SECONDS',
      '--max-body-bytes N',
      '--allow-unauthenticated',
      'DTR_SERVE_TOKEN',
    ])
      expect(r.stdout).toContain(text);
    expect((await dtr(['--help'])).stdout).toMatch(/\n {2}serve +serve the model over HTTP/);
  });

  it('bad flag values exit 2 naming the flag', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--port', '70000'], /--port must be an integer in \[0, 65535\], got 70000/],
      [['--port', 'eighty'], /--port must be an integer in \[0, 65535\], got 'eighty'/],
      [['--queue-size', '0'], /--queue-size must be an integer >= 1, got 0/],
      [['--timeout', '0'], /--timeout must be a number > 0, got 0/],
      [['--tie-band', '0.5'], /--tie-band must be a number in \[0, 0.5\), got 0.5/],
      [['--max-body-bytes', '-1'], /--max-body-bytes must be an integer >= 1, got -1/],
      [
        ['--host', '0.0.0.0'],
        /--host 0\.0\.0\.0 is reachable from other machines: set a token \(--token, or DTR_SERVE_TOKEN\).* or pass --allow-unauthenticated/,
      ],
      [['--token', 'two words'], /the token \(--token\) must be non-empty and hold no spaces/],
      [['--token', 'abcdefabcdefabcdef', '--allow-unauthenticated'], /--allow-unauthenticated contradicts the token/],
      [['--prot', '1'], /unknown option '--prot' \(did you mean --port\?\)/],
    ];
    for (const [args, message] of cases) {
      const r = await dtr(['serve', '--model', dir, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
    const missing = await dtr(['serve']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing required option --model/);
  });

  it('a missing model folder fails before listening; a port in use fails naming it (exit 1)', async () => {
    const nope = await dtr(['serve', '--model', 'no/such/folder', '--port', '0']);
    expect(nope.code).toBe(1);
    expect(nope.stderr).toBe('dtr: --model no/such/folder: no such folder\n');
    expect(nope.stdout).toBe('');
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (taken.address() as { port: number }).port;
      const r = await dtr(['serve', '--model', dir, '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `dtr: cannot listen on 127.0.0.1:${port}: 127.0.0.1:${port} is already in use (another server listens there): choose another --port, or --port 0 for a free one\n`,
      );
    } finally {
      taken.close();
    }
  });

  it('a folder that does not load: the address first, then the load error, exit 1', async () => {
    const r = await dtr(['serve', '--model', tempDir(), '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+\n$/);
    expect(r.stderr).toMatch(/^dtr: .* is not a usable model folder \(5 problems\)/);
  });
});

describe('dtr serve: the built binary', () => {
  const alive: ServeProcess[] = [];
  afterAll(() => {
    for (const p of alive) p.child.kill('SIGKILL');
  });

  it('prints "listening on http://HOST:PORT" first, becomes ready, and answers as dtr compare --json does', async () => {
    const p = await spawnServe(['--model', dir, '--port', '0']);
    alive.push(p);
    expect(p.stdout().split('\n')[0]).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
    await waitReady(p.url);
    await until(() => p.stdout().includes('ready:'), 'the ready line');
    expect(p.stdout().split('\n')[1]).toMatch(
      /^ready: model fixture-last_hidden_state \(cpu\), tree rlhflow-llama-3\.1-8b, loaded in \d+\.\d s; POST \/v1\/compare, POST \/v1\/score, POST \/v1\/rewards, POST \/get_reward, GET \/healthz, GET \/metrics$/,
    );
    // The reward of /v1/rewards and /get_reward is said, with why (the fixture folder has a backbone scalar).
    expect(p.stdout().split('\n')[2]).toBe("reward: backbone (the checkpoint's own scalar; choose another with --reward)");
    const r = await call(p.url, '/v1/compare', { body: { prompt: 'How many apples?', a: 'Three each.', b: 'Four each.' } });
    const cli = await dtr(['compare', '--model', dir, '--prompt', 'How many apples?', '--a', 'Three each.', '--b', 'Four each.', '--json']);
    expect(r.json).toEqual(JSON.parse(cli.stdout));
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);
    // 503s: /healthz polled while the model loaded.
    expect(p.stdout()).toMatch(/\nstopped: \d+ requests answered \(200: 2(, 503: \d+)?\), 2 conversations scored\n$/);
    expect(p.stderr()).toContain('dtr serve: SIGINT: accepting no more requests, answering the ones received (Ctrl-C again stops at once)');
  });

  it('SIGTERM with requests in flight: no new connections, every request received answered (none dropped), exit 0', async () => {
    const p = await spawnServe(['--model', slowDir, '--port', '0']);
    alive.push(p);
    await waitReady(p.url);
    let batchDone = false;
    // Long enough (seconds) for a slow, busy client to send the others while it runs.
    const batch = call(p.url, '/v1/compare', { body: { items: Array.from({ length: 160 }, (_, i) => longPair(i)) } }).finally(
      () => (batchDone = true),
    );
    await until(async () => metric((await call(p.url, '/metrics')).text, 'dtr_serve_running_conversations') > 0, 'the batch in the model');
    const singles = Array.from({ length: 10 }, (_, i) =>
      call(p.url, i % 2 ? '/v1/score' : '/v1/compare', {
        body: i % 2 ? { prompt: `Q${i}`, response: `A${i}` } : { prompt: `Q${i}`, a: `A${i}`, b: 'B' },
      }),
    );
    // All 11 received (plus the metrics request asking), and the batch still running.
    await until(
      async () => {
        const page = (await call(p.url, '/metrics')).text;
        return metric(page, 'dtr_serve_requests_in_flight') >= 12 || batchDone;
      },
      'all 11 requests received',
      90_000,
    );
    expect(batchDone, 'the batch finished before the signal: make it longer').toBe(false);
    p.child.kill('SIGTERM');
    await until(() => p.stderr().includes('SIGTERM: accepting no more'), 'the signal handled');
    await expect(call(p.url, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const replies = await Promise.all([batch, ...singles]);
    for (const r of replies) expect(r.status, r.text.slice(0, 200)).toBe(200);
    expect(replies[0]!.json.items).toHaveLength(160);
    expect(await p.exited).toBe(0);
    expect(p.stderr()).toContain(
      'dtr serve: SIGTERM: accepting no more requests, answering the ones received (SIGTERM again stops at once)',
    );
    // 320 + 5 x 2 + 5 x 1 conversations (the 503s: /healthz polled while the model loaded).
    expect(p.stdout()).toMatch(/\nstopped: \d+ requests answered \(200: \d+(, 503: \d+)?\), 335 conversations scored/);
  }, 240_000);

  it('a second signal exits at once, without waiting for the work in flight', async () => {
    const p = await spawnServe(['--model', slowDir, '--port', '0']);
    alive.push(p);
    await waitReady(p.url);
    const batch = call(p.url, '/v1/compare', { body: { items: Array.from({ length: 160 }, (_, i) => longPair(i)) } }).catch(
      (e: Error) => e,
    );
    await until(async () => metric((await call(p.url, '/metrics')).text, 'dtr_serve_running_conversations') > 0, 'the batch in the model');
    p.child.kill('SIGTERM');
    await until(() => p.stderr().includes('SIGTERM: accepting no more'), 'the first signal handled');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(143);
    expect(p.stderr()).toContain('dtr serve: SIGTERM again: stopping now, without answering the requests still open');
    expect(await batch).toBeInstanceOf(Error); // the connection was cut: the batch was not finished
  }, 120_000);

  it('the token from DTR_SERVE_TOKEN guards a non-loopback bind, and is never printed', async () => {
    const token = 'env-token-5f2b9c7d1e3a4f60';
    const p = await spawnServe(['--model', dir, '--host', '0.0.0.0', '--port', '0', '--verbose'], { env: { DTR_SERVE_TOKEN: token } });
    alive.push(p);
    const local = p.url.replace('0.0.0.0', '127.0.0.1');
    await waitReady(local);
    expect((await call(local, '/v1/score', { body: { prompt: 'Hi', response: 'Hello' } })).status).toBe(401);
    expect(
      (await call(local, '/v1/score', { body: { prompt: 'Hi', response: 'Hello' }, headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.stdout() + p.stderr()).not.toContain(token);
  });

  it('--json writes the life cycle as JSON lines, the first naming the address', async () => {
    const p = await spawnServe(['--model', dir, '--port', '0', '--json']);
    alive.push(p);
    const first = JSON.parse(p.stdout().split('\n')[0]!);
    expect(first).toEqual({ event: 'listening', url: p.url, host: '127.0.0.1', port: Number(new URL(p.url).port) });
    await waitReady(p.url);
    await until(() => p.stdout().split('\n').length >= 3, 'the ready line');
    expect(JSON.parse(p.stdout().split('\n')[1]!)).toMatchObject({
      event: 'ready',
      model: 'fixture-last_hidden_state',
      provider: 'cpu',
      tree: 'rlhflow-llama-3.1-8b',
    });
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);
    const last = JSON.parse(p.stdout().trim().split('\n').at(-1)!);
    expect(last).toEqual({
      event: 'stopped',
      responses: expect.objectContaining({ '200': expect.any(Number) }),
      conversations: 0,
      truncated: 0,
      abandoned: 0,
    });
  });
});
