/**
 * The HTTP API of `dtr serve` (RewardServer) on the fixture model, over real HTTP on loopback:
 * parity with `dtr compare --json` / `dtr score --json`, the batch form, hundreds of concurrent
 * requests sharing micro-batches with results independent of the batch (<= 1e-5), health,
 * metrics, the token, and every kind of bad request (each answered, the server serving on).
 */
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RewardModel, RewardServer, type CompareItem } from '../src/index.js';
import { dtr } from './support/cli.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { call, metric, pool } from './support/serve.js';
import { tempDir } from './support/temp.js';

const TOL = 1e-5;
let dir: string;
let model: RewardModel;
let server: RewardServer;
let url: string;

beforeAll(async () => {
  dir = writeFixtureModel(tempDir('dtr-serve-')).dir;
  model = await RewardModel.load({ dir, tokenizeInWorker: false });
  server = await RewardServer.start(model, { port: 0, maxBodyBytes: 64 * 1024, queueSize: 600 });
  await server.ready();
  url = server.url;
});

afterAll(async () => {
  await server?.close();
  await model?.dispose();
});

/** Deep equality with numbers within `tol` (anything else exact). */
function expectClose(got: unknown, want: unknown, tol = TOL, path = '$'): void {
  if (typeof want === 'number' && typeof got === 'number') {
    if (Math.abs(got - want) > tol) throw new Error(`${path}: ${got} differs from ${want} by more than ${tol}`);
    return;
  }
  if (want !== null && typeof want === 'object') {
    expect(got !== null && typeof got === 'object', `${path} is an object`).toBe(true);
    expect(Object.keys(got as object).sort(), `${path} keys`).toEqual(Object.keys(want).sort());
    for (const k of Object.keys(want))
      expectClose((got as Record<string, unknown>)[k], (want as Record<string, unknown>)[k], tol, `${path}.${k}`);
    return;
  }
  expect(got, path).toEqual(want);
}

const APPLES =
  'Jane has 12 apples. She gives 4 apples to her friend Mark, then buys 1 more apple, and finally splits all her apples equally among herself and her 2 siblings. How many apples does each person get?';

describe('POST /v1/compare and /v1/score: the JSON of dtr compare --json / dtr score --json', () => {
  it('compare with a string prompt equals dtr compare --json (plus the id)', async () => {
    const cli = await dtr([
      'compare',
      '--model',
      dir,
      '--prompt',
      APPLES,
      '--a',
      'Each person gets 3 apples.',
      '--b',
      'Each person gets 4.5 apples.',
      '--json',
    ]);
    expect(cli.code, cli.stderr).toBe(0);
    const r = await call(url, '/v1/compare', {
      body: { id: 'apples', prompt: APPLES, a: 'Each person gets 3 apples.', b: 'Each person gets 4.5 apples.' },
    });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    const { id, ...rest } = r.json;
    expect(id).toBe('apples');
    expect(Object.keys(r.json)[0]).toBe('id');
    expectClose(rest, JSON.parse(cli.stdout));
    expect(rest.sentence).toBe(JSON.parse(cli.stdout).sentence);
  });

  it('compare with chat messages (and the asymmetric rule, a tie band) equals dtr compare --json', async () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Name a prime.' },
    ];
    const cli = await dtr([
      'compare',
      '--model',
      dir,
      '--messages',
      JSON.stringify(messages),
      '--a',
      '7',
      '--b',
      '8',
      '--asymmetric',
      '--tie-band',
      '0.1',
      '--json',
    ]);
    expect(cli.code, cli.stderr).toBe(0);
    const r = await call(url, '/v1/compare', { body: { messages, a: '7', b: '8', symmetric: false, tieBand: 0.1 } });
    expect(r.status).toBe(200);
    expectClose(r.json, JSON.parse(cli.stdout));
    expect(r.json.messages).toEqual(messages);
    expect(r.json.symmetric).toBe(false);
  });

  it('score equals dtr score --json, with a numeric id', async () => {
    const cli = await dtr(['score', '--model', dir, '--prompt', 'What is 2 + 2?', '--response', '2 + 2 = 4.', '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    const r = await call(url, '/v1/score', { body: { prompt: 'What is 2 + 2?', response: '2 + 2 = 4.', id: 42 } });
    expect(r.status).toBe(200);
    const { id, ...rest } = r.json;
    expect(id).toBe(42);
    expectClose(rest, JSON.parse(cli.stdout));
  });

  it('the batch form answers {items} in input order, each as its single request would be', async () => {
    const items = [
      { id: 'x', prompt: 'Hello', a: 'Hi there', b: 'Go away.' },
      { prompt: 'Name a colour.', a: 'Blue.', b: 'Blue is a colour that many people like.' },
      { id: 3, messages: [{ role: 'user', content: 'Hi' }], a: 'Hello!', b: 'Hey.' },
    ];
    const batch = await call(url, '/v1/compare', { body: { items } });
    expect(batch.status).toBe(200);
    expect(Object.keys(batch.json)).toEqual(['items']);
    expect(batch.json.items).toHaveLength(3);
    for (const [i, item] of items.entries()) {
      const single = await call(url, '/v1/compare', { body: item });
      expectClose(batch.json.items[i], single.json);
    }
    expect(batch.json.items[1].id).toBeUndefined();
    const scores = await call(url, '/v1/score', {
      body: {
        items: [
          { prompt: 'a', response: 'b' },
          { prompt: 'c', response: 'd', id: 'd' },
        ],
      },
    });
    expect(scores.status).toBe(200);
    expect(scores.json.items.map((x: { id?: string }) => x.id)).toEqual([undefined, 'd']);
    expectClose(scores.json.items[1], (await call(url, '/v1/score', { body: { prompt: 'c', response: 'd', id: 'd' } })).json);
  });

  it('reports truncation in the result and counts it in /metrics', async () => {
    const before = metric((await call(url, '/metrics')).text, 'dtr_serve_truncated_conversations_total');
    const r = await call(url, '/v1/score', { body: { prompt: 'Tell me a long story.', response: 'and then '.repeat(400) } });
    expect(r.status).toBe(200);
    expect(r.json.truncated).toBe(true);
    expect(r.json.truncation.responseTruncated).toBe(true);
    expect(r.json.tokens).toBe(512);
    const c = await call(url, '/v1/compare', { body: { prompt: 'Story?', a: 'once '.repeat(700), b: 'Short.' } });
    expect(c.json.truncation.a.summary).toMatch(/cut/);
    expect(c.json.truncation.b).toBeNull();
    const after = metric((await call(url, '/metrics')).text, 'dtr_serve_truncated_conversations_total');
    expect(after - before).toBe(2);
  });
});

describe('concurrent requests share micro-batches, and results do not depend on the batch', () => {
  it('300 requests, 48 in flight, on keep-alive connections: each result equals the pair scored alone (<= 1e-5)', async () => {
    const pairs: CompareItem[] = Array.from({ length: 300 }, (_, i) => ({
      prompt: i % 3 === 0 ? `Question ${i}: how many apples are left?` : [{ role: 'user', content: `Count to ${i % 17}.` }],
      a: `${'one two three '.repeat(1 + (i % 13))}done.`,
      b: i % 5 === 0 ? 'No.' : `Answer ${i}: ${'four '.repeat(i % 29)}`,
    }));
    // The reference: each conversation in a batch of its own.
    const alone = await model.compareMany(pairs, { batchSize: 1 });
    const windowsBefore = metric(server.metrics(), 'dtr_serve_window_conversations_count');
    const batchesBefore = metric(server.metrics(), 'dtr_serve_batch_size_count');
    const fullBefore =
      metric(server.metrics(), 'dtr_serve_batch_size_count') - metric(server.metrics(), 'dtr_serve_batch_size_bucket', 'le="4"');
    const agent = new Agent({ keepAlive: true, maxSockets: 48 });
    let inFlight = 0;
    let peak = 0;
    try {
      const replies = await pool(
        pairs.map((p, i) => async () => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          const r = await call(url, '/v1/compare', {
            body: { id: i, ...(typeof p.prompt === 'string' ? { prompt: p.prompt } : { messages: p.prompt }), a: p.a, b: p.b },
            agent,
          });
          inFlight--;
          return r;
        }),
        48,
      );
      expect(peak).toBe(48);
      replies.forEach((r, i) => {
        expect(r.status).toBe(200);
        expect(r.json.id).toBe(i);
        for (const side of ['a', 'b'] as const) expectClose(r.json.rewards[side], alone[i]!.rewards[side]);
        expect(r.json.preference).toBe(alone[i]!.preference);
      });
    } finally {
      agent.destroy();
    }
    const page = server.metrics();
    const windows = metric(page, 'dtr_serve_window_conversations_count') - windowsBefore;
    const batches = metric(page, 'dtr_serve_batch_size_count') - batchesBefore;
    const full = metric(page, 'dtr_serve_batch_size_count') - metric(page, 'dtr_serve_batch_size_bucket', 'le="4"') - fullBefore;
    // Shared: far fewer forward passes than the 600 conversations, most of them of 5-8 rows (the batch size is 8).
    expect(windows).toBeLessThan(300);
    expect(batches).toBeLessThan(300);
    expect(full).toBeGreaterThan(batches / 2);
    expect(metric(page, 'dtr_serve_batch_size_bucket', 'le="8"')).toBe(metric(page, 'dtr_serve_batch_size_count'));
    expect(metric(page, 'dtr_serve_queue_depth')).toBe(0);
    expect(metric(page, 'dtr_serve_running_conversations')).toBe(0);
  });

  it('score and compare requests in flight together are each answered correctly', async () => {
    const tasks = Array.from(
      { length: 60 },
      (_, i) => () =>
        i % 2 === 0
          ? call(url, '/v1/score', { body: { prompt: `P${i}`, response: `R${i} `.repeat(1 + (i % 9)) } })
          : call(url, '/v1/compare', { body: { prompt: `P${i}`, a: `A${i}`, b: `B${i} `.repeat((i % 7) + 1) } }),
    );
    const replies = await pool(tasks, 30);
    for (const [i, r] of replies.entries()) {
      expect(r.status).toBe(200);
      if (i % 2 === 0) expectClose(r.json.rewards, (await model.score(`P${i}`, `R${i} `.repeat(1 + (i % 9)))).rewards);
      else expect(r.json.preference).toMatch(/^(a|b|tie)$/);
    }
  });
});

describe('GET /healthz and GET /metrics', () => {
  it('healthz says ready with the model, provider and tree; HEAD works too', async () => {
    const r = await call(url, '/healthz');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'ready', model: 'fixture-last_hidden_state', provider: 'cpu', tree: 'rlhflow-llama-3.1-8b' });
    const head = await call(url, '/healthz', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
  });

  it('healthz is 503 while the model loads, and scoring answers 503 E_NOT_READY with Retry-After', async () => {
    let resolve!: (m: RewardModel) => void;
    const loading = new Promise<RewardModel>((r) => (resolve = r));
    const s = await RewardServer.start(loading, { port: 0 });
    try {
      expect(s.state).toBe('loading');
      const h = await call(s.url, '/healthz');
      expect(h.status).toBe(503);
      expect(h.json).toEqual({ status: 'loading' });
      expect(h.headers['retry-after']).toBe('1');
      const c = await call(s.url, '/v1/compare', { body: { prompt: 'Hi', a: 'x', b: 'y' } });
      expect(c.status).toBe(503);
      expect(c.json.error.code).toBe('E_NOT_READY');
      expect(c.headers['retry-after']).toBe('1');
      resolve(model);
      await s.ready();
      expect((await call(s.url, '/healthz')).status).toBe(200);
      expect((await call(s.url, '/v1/compare', { body: { prompt: 'Hi', a: 'x', b: 'y' } })).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('a model that fails to load: healthz 503 "failed" with the reason, scoring 500', async () => {
    const s = await RewardServer.start(() => RewardModel.load(tempDir()), { port: 0 });
    try {
      await expect(s.ready()).rejects.toMatchObject({ code: 'E_MODEL' });
      const h = await call(s.url, '/healthz');
      expect(h.status).toBe(503);
      expect(h.json.status).toBe('failed');
      expect(h.json.error).toMatch(/E_MODEL: .* is not a usable model folder/);
      const c = await call(s.url, '/v1/score', { body: { prompt: 'Hi', response: 'x' } });
      expect(c.status).toBe(500);
      expect(c.json.error.message).toMatch(/the model failed to load/);
    } finally {
      await s.close();
    }
  });

  it('metrics is Prometheus text: requests by route and code, latency histogram, batch sizes, queue depth, truncations', async () => {
    await call(url, '/v1/compare', { body: { prompt: 'Hi', a: 'x', b: 'y' } });
    await call(url, '/nope');
    const r = await call(url, '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const page = r.text;
    for (const family of [
      'dtr_serve_requests_total counter',
      'dtr_serve_request_duration_seconds histogram',
      'dtr_serve_batch_size histogram',
      'dtr_serve_window_conversations histogram',
      'dtr_serve_queue_depth gauge',
      'dtr_serve_truncated_conversations_total counter',
      'dtr_serve_ready gauge',
    ]) {
      expect(page).toContain(`# TYPE ${family}`);
    }
    // Every sample line: name{labels} value (the exposition format).
    for (const line of page
      .trimEnd()
      .split('\n')
      .filter((l) => !l.startsWith('#')))
      expect(line).toMatch(/^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (-?[0-9.e+-]+|\+Inf|NaN)$/);
    expect(metric(page, 'dtr_serve_requests_total', 'route="/v1/compare",code="200"')).toBeGreaterThan(0);
    expect(metric(page, 'dtr_serve_requests_total', 'route="other",code="404"')).toBeGreaterThan(0);
    const count = metric(page, 'dtr_serve_request_duration_seconds_count', 'route="/v1/compare"');
    expect(metric(page, 'dtr_serve_request_duration_seconds_bucket', 'route="/v1/compare",le="+Inf"')).toBe(count);
    expect(metric(page, 'dtr_serve_ready')).toBe(1);
    expect(metric(page, 'dtr_serve_queue_capacity')).toBe(600);
    expect(page).toContain('dtr_serve_info{model="fixture-last_hidden_state",provider="cpu",tree="rlhflow-llama-3.1-8b",version=');
  });
});

describe('bad requests: 4xx with {error: {code, message}} naming the field; the server serves on', () => {
  const bad = async (path: string, body: unknown, status: number, code: string, field?: string, message?: RegExp): Promise<void> => {
    const r =
      typeof body === 'string' || Buffer.isBuffer(body) ? await call(url, path, { raw: body as string }) : await call(url, path, { body });
    expect(r.status, r.text).toBe(status);
    expect(r.json.error.code).toBe(code);
    if (field !== undefined) expect(r.json.error.field).toBe(field);
    if (message) expect(r.json.error.message).toMatch(message);
  };

  it('malformed JSON, an empty body, invalid UTF-8: 400 E_BAD_JSON', async () => {
    await bad('/v1/compare', '{"prompt": "Hi", "a": ', 400, 'E_BAD_JSON', undefined, /not valid JSON \(/);
    await bad('/v1/compare', '', 400, 'E_BAD_JSON', undefined, /empty/);
    await bad('/v1/score', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]) as unknown as string, 400, 'E_BAD_JSON', undefined, /UTF-8/);
  });

  it('wrong shapes and types name the field', async () => {
    await bad('/v1/compare', [1, 2], 400, 'E_BAD_REQUEST', '$', /must be a JSON object/);
    await bad('/v1/compare', { prompt: 'Hi', a: 'x' }, 400, 'E_BAD_REQUEST', 'b', /^b is missing$/);
    await bad('/v1/compare', { a: 'x', b: 'y' }, 400, 'E_BAD_REQUEST', 'prompt', /prompt is missing/);
    await bad('/v1/compare', { prompt: 'Hi', a: 3, b: 'y' }, 400, 'E_BAD_REQUEST', 'a', /^a must be a string, got number 3$/);
    await bad(
      '/v1/compare',
      { prompt: 'Hi', messages: [{ role: 'user', content: 'Hi' }], a: 'x', b: 'y' },
      400,
      'E_BAD_REQUEST',
      'messages',
      /both given/,
    );
    await bad('/v1/compare', { messages: 'Hi', a: 'x', b: 'y' }, 400, 'E_BAD_REQUEST', 'messages', /must be an array/);
    await bad(
      '/v1/compare',
      { messages: [{ content: 'Hi' }], a: 'x', b: 'y' },
      400,
      'E_BAD_REQUEST',
      'messages[0].role',
      /messages\[0\]\.role must be a non-empty string/,
    );
    await bad(
      '/v1/score',
      { prompt: 'Hi', respons: 'x' },
      400,
      'E_BAD_REQUEST',
      'respons',
      /not a known field \(did you mean "response"\?\)/,
    );
    await bad('/v1/score', { prompt: 'Hi', response: '   ' }, 400, 'E_BAD_REQUEST', 'response', /non-empty/);
    await bad(
      '/v1/score',
      { prompt: 'Hi', response: 'x', id: { n: 1 } },
      400,
      'E_BAD_REQUEST',
      'id',
      /id must be a string or a number, got an object/,
    );
    await bad('/v1/compare', { prompt: 'Hi', a: 'x', b: 'y', tieBand: 0.7 }, 400, 'E_BAD_REQUEST', 'tieBand', /\[0, 0\.5\)/);
    await bad('/v1/compare', { prompt: 'Hi', a: 'x', b: 'y', symmetric: 'yes' }, 400, 'E_BAD_REQUEST', 'symmetric', /true or false/);
    await bad('/v1/score', { prompt: 'Hi', response: 'x', symmetric: true }, 400, 'E_BAD_REQUEST', 'symmetric', /not a known field/);
  });

  it('text the model refuses (a special token, a NUL character) names the field and the place', async () => {
    await bad(
      '/v1/compare',
      { prompt: 'Hi', a: 'x', b: 'fake end<|eot_id|>' },
      400,
      'E_BAD_REQUEST',
      'b',
      /^b contains the tokenizer's special token '<\|eot_id\|>' at index 8/,
    );
    await bad(
      '/v1/score',
      { messages: [{ role: 'user', content: 'a\u0000b' }], response: 'x' },
      400,
      'E_BAD_REQUEST',
      'messages[0].content',
      /NUL character at index 1/,
    );
  });

  it('a batch reports every bad item at once, with its index', async () => {
    const r = await call(url, '/v1/compare', {
      body: {
        items: [
          { prompt: 'ok', a: 'x', b: 'y' },
          'no',
          { prompt: 'Hi', a: 1, b: '<|eot_id|>' },
          { prompt: '', a: 'x', b: 'y' },
          { prompt: 'Hi', a: 'x', b: 'y', tieBand: 0.1 },
        ],
      },
    });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('E_BAD_REQUEST');
    expect(r.json.error.field).toBe('items[1]');
    expect(r.json.error.issues.map((i: { field: string }) => i.field)).toEqual([
      'items[1]',
      'items[2].a',
      'items[2].b',
      'items[3].prompt',
      'items[4].tieBand',
    ]);
    expect(r.json.error.message).toMatch(/^items\[1\] must be an object .* \(and 4 more problems: see "issues"\)$/);
    await bad('/v1/compare', { items: [] }, 400, 'E_BAD_REQUEST', 'items', /must not be empty/);
    await bad('/v1/score', { items: { prompt: 'x' } }, 400, 'E_BAD_REQUEST', 'items', /must be an array/);
    await bad(
      '/v1/score',
      { items: [{ prompt: 'x', response: 'y' }], prompt: 'x' },
      400,
      'E_BAD_REQUEST',
      'prompt',
      /a batch has only "items"/,
    );
  });

  it('unknown routes 404, wrong methods 405 with Allow', async () => {
    const nf = await call(url, '/v1/nope', { body: {} });
    expect(nf.status).toBe(404);
    expect(nf.json.error).toEqual({
      code: 'E_NOT_FOUND',
      message:
        'no route POST /v1/nope: the routes are POST /v1/compare, POST /v1/score, POST /v1/rewards, POST /get_reward, GET /healthz, GET /metrics',
    });
    const get = await call(url, '/v1/compare');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect(get.json.error.code).toBe('E_METHOD');
    const post = await call(url, '/healthz', { body: {} });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect((await call(url, '/v1/compare?x=1', { body: { prompt: 'Hi', a: 'x', b: 'y' } })).status).toBe(200); // a query string is not part of the route
  });

  it('a body over the limit is 413, whether its Content-Length says so or it is chunked', async () => {
    const big = JSON.stringify({ prompt: 'Hi', a: 'x'.repeat(70 * 1024), b: 'y' });
    await bad('/v1/compare', big, 413, 'E_TOO_LARGE', undefined, /over the server's limit of 65536 bytes/);
    // Chunked (no Content-Length): refused once the bytes read pass the limit.
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${url}/v1/compare`, { method: 'POST', agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => void (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(8 * 1024));
      req.end();
    });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error.code).toBe('E_TOO_LARGE');
  });

  it('a batch with more conversations than the queue holds is 413, naming the queue size', async () => {
    const items = Array.from({ length: 301 }, () => ({ prompt: 'x', a: 'y', b: 'z' }));
    const s = await RewardServer.start(model, { port: 0, queueSize: 600 });
    try {
      const r = await call(s.url, '/v1/compare', { body: { items } });
      expect(r.status).toBe(413);
      expect(r.json.error.message).toMatch(/this batch has 602 conversations, more than the queue holds \(600, --queue-size\): split it/);
    } finally {
      await s.close();
    }
  });

  it('a request that is not HTTP gets 400 from the HTTP parser; after every bad request the server still serves', async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(server.port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let data = '';
      socket.on('data', (d) => void (data += d.toString()));
      socket.on('close', () => resolve(data));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    const ok = await call(url, '/v1/compare', { body: { prompt: 'Still there?', a: 'Yes.', b: 'No.' } });
    expect(ok.status).toBe(200);
    expect((await call(url, '/healthz')).json.status).toBe('ready');
  });
});

describe('the bearer token', () => {
  const TOKEN = 'test-token-0123456789abcdef';
  let s: RewardServer;
  beforeAll(async () => {
    s = await RewardServer.start(model, { port: 0, token: TOKEN });
  });
  afterAll(async () => {
    await s.close();
  });

  it('refuses requests without it or with another token (401, WWW-Authenticate), accepts the right one', async () => {
    const body = { prompt: 'Hi', a: 'x', b: 'y' };
    const none = await call(s.url, '/v1/compare', { body });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="dtr"');
    expect(none.json.error.code).toBe('E_UNAUTHORIZED');
    const wrong = await call(s.url, '/v1/compare', { body, headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.message).toBe('wrong token');
    const shorter = await call(s.url, '/v1/compare', { body, headers: { authorization: 'Bearer t' } });
    expect(shorter.status).toBe(401);
    const basic = await call(s.url, '/v1/compare', { body, headers: { authorization: `Basic ${TOKEN}` } });
    expect(basic.json.error.message).toMatch(/must be "Bearer <token>"/);
    const ok = await call(s.url, '/v1/compare', { body, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect((await call(s.url, '/metrics')).status).toBe(401);
    const metrics = await call(s.url, '/metrics', { headers: { authorization: `bearer ${TOKEN}` } });
    expect(metrics.status).toBe(200);
    // Health checks from a load balancer need no token.
    expect((await call(s.url, '/healthz')).status).toBe(200);
    for (const text of [metrics.text, none.text, wrong.text, JSON.stringify(s.summary())]) expect(text).not.toContain(TOKEN);
  });

  it('bad options are refused naming the option', async () => {
    await expect(RewardServer.start(model, { token: 'has space' })).rejects.toThrow(/token must be a non-empty string without spaces/);
    await expect(RewardServer.start(model, { port: 70000 })).rejects.toThrow(/port must be an integer in \[0, 65535\], got 70000/);
    await expect(RewardServer.start(model, { queueSize: 0 })).rejects.toThrow(/queueSize must be an integer >= 1/);
    await expect(RewardServer.start(model, { timeoutMs: -1 })).rejects.toThrow(/timeoutMs must be a positive number/);
    await expect(RewardServer.start(model, { port: s.port })).rejects.toMatchObject({
      code: 'E_LISTEN',
      message: expect.stringMatching(/is already in use/),
    });
  });
});
