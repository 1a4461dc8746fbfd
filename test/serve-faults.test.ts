/**
 * `dtr serve` under load and faults, over real HTTP on loopback, with the real onnxruntime
 * backbone behind a gate that holds forward passes while a test sets up a state: a full queue
 * (503 + Retry-After), deadlines passing (504, waiting work dropped), clients hanging up, the
 * model failing (500, and serving on), and a graceful close with requests in flight.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RewardServer, type RewardModel } from '../src/index.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { call, gatedModel, metric, until, type Gate } from './support/serve.js';
import { tempDir } from './support/temp.js';

let dir: string;
let model: RewardModel;
let gate: Gate;

beforeAll(async () => {
  dir = writeFixtureModel(tempDir('dtr-serve-')).dir;
  ({ model, gate } = await gatedModel(dir, { tokenizeInWorker: false }));
});

afterAll(async () => {
  gate?.release();
  await model?.dispose();
});

const pair = (i: number): { prompt: string; a: string; b: string } => ({ prompt: `Question ${i}?`, a: `Answer ${i}.`, b: 'No idea.' });

async function withServer(options: Parameters<typeof RewardServer.start>[1], body: (s: RewardServer) => Promise<void>): Promise<void> {
  const s = await RewardServer.start(model, { port: 0, ...options });
  try {
    await body(s);
  } finally {
    gate.release();
    await s.close();
  }
}

describe('the bounded queue', () => {
  it('when full, answers 503 E_QUEUE_FULL with Retry-After; what it accepted is answered', async () => {
    await withServer({ queueSize: 4 }, async (s) => {
      gate.hold();
      const first = call(s.url, '/v1/compare', { body: pair(1) });
      await until(() => metric(s.metrics(), 'dtr_serve_running_conversations') === 2, 'the first pair in the model');
      const second = call(s.url, '/v1/compare', { body: pair(2) });
      await until(() => metric(s.metrics(), 'dtr_serve_queue_depth') === 2, 'the second pair queued');
      const refused = await call(s.url, '/v1/compare', { body: pair(3) });
      expect(refused.status).toBe(503);
      expect(refused.json.error.code).toBe('E_QUEUE_FULL');
      expect(refused.json.error.message).toBe(
        'the queue is full (4 of 4 conversations waiting or running; this request has 2): retry after a moment, or send it to another replica',
      );
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      const score = await call(s.url, '/v1/score', { body: { prompt: 'x', response: 'y' } });
      expect(score.status).toBe(503);
      gate.release();
      expect((await first).status).toBe(200);
      expect((await second).status).toBe(200);
      // Room again: the refused request goes through on retry.
      expect((await call(s.url, '/v1/compare', { body: pair(3) })).status).toBe(200);
      const page = s.metrics();
      expect(metric(page, 'dtr_serve_requests_total', 'route="/v1/compare",code="503"')).toBe(1);
      expect(metric(page, 'dtr_serve_queue_depth')).toBe(0);
    });
  });

  it('Retry-After follows the backlog at the measured rate (1 to 60 seconds)', async () => {
    await withServer({ queueSize: 10 }, async (s) => {
      // Measure a rate first, then fill the queue.
      for (let i = 0; i < 3; i++) expect((await call(s.url, '/v1/compare', { body: pair(i) })).status).toBe(200);
      gate.hold();
      const pending = [0, 1, 2, 3, 4].map((i) => call(s.url, '/v1/compare', { body: pair(10 + i) }));
      await until(
        () => metric(s.metrics(), 'dtr_serve_queue_depth') + metric(s.metrics(), 'dtr_serve_running_conversations') === 10,
        'a full queue',
      );
      const refused = await call(s.url, '/v1/compare', { body: pair(99) });
      const after = Number(refused.headers['retry-after']);
      expect(Number.isInteger(after) && after >= 1 && after <= 60).toBe(true);
      gate.release();
      for (const p of pending) expect((await p).status).toBe(200);
    });
  });
});

describe('the per-request timeout', () => {
  it('answers 504 E_TIMEOUT; the timed-out request leaves the queue without a forward pass', async () => {
    await withServer({ timeoutMs: 300 }, async (s) => {
      gate.hold();
      const runsBefore = gate.runs;
      const started = Date.now();
      const first = call(s.url, '/v1/compare', { body: pair(1) });
      await until(() => metric(s.metrics(), 'dtr_serve_running_conversations') === 2, 'the first pair in the model');
      const second = call(s.url, '/v1/score', {
        body: {
          items: [
            { prompt: 'a', response: 'b' },
            { prompt: 'c', response: 'd' },
          ],
        },
      });
      const [r1, r2] = await Promise.all([first, second]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      for (const r of [r1, r2]) {
        expect(r.status).toBe(504);
        expect(r.json.error.code).toBe('E_TIMEOUT');
        expect(r.json.error.message).toMatch(/took longer than the server's timeout \(0\.3 s\)/);
      }
      // The queued batch was dropped: nothing waits, and only the first window reached the backbone.
      expect(metric(s.metrics(), 'dtr_serve_queue_depth')).toBe(0);
      expect(metric(s.metrics(), 'dtr_serve_running_conversations')).toBe(2);
      gate.release();
      await until(() => metric(s.metrics(), 'dtr_serve_running_conversations') === 0, 'the held window to finish');
      expect(gate.runs - runsBefore).toBe(1);
      const ok = await call(s.url, '/v1/compare', { body: pair(2) });
      expect(ok.status).toBe(200);
      expect(metric(s.metrics(), 'dtr_serve_requests_total', 'route="/v1/compare",code="504"')).toBe(1);
    });
  });
});

describe('clients that hang up', () => {
  it('take their waiting work with them (counted as abandoned, 499); the others are answered', async () => {
    await withServer({}, async (s) => {
      gate.hold();
      const first = call(s.url, '/v1/compare', { body: pair(1) });
      await until(() => metric(s.metrics(), 'dtr_serve_running_conversations') === 2, 'the first pair in the model');
      const gone = request(`${s.url}/v1/compare`, { method: 'POST', agent: false });
      gone.on('error', () => undefined);
      gone.end(JSON.stringify({ items: [pair(2), pair(3)] }));
      await until(() => metric(s.metrics(), 'dtr_serve_queue_depth') === 4, 'the batch queued');
      gone.destroy();
      await until(() => metric(s.metrics(), 'dtr_serve_queue_depth') === 0, 'the abandoned batch dropped');
      gate.release();
      expect((await first).status).toBe(200);
      await until(() => metric(s.metrics(), 'dtr_serve_abandoned_requests_total') === 1, 'the abandoned count');
      expect(metric(s.metrics(), 'dtr_serve_requests_total', 'route="/v1/compare",code="499"')).toBe(1);
      expect(s.summary().abandoned).toBe(1);
    });
  });
});

describe('the model failing', () => {
  it('answers 500 E_INTERNAL saying what failed, logs one line, and serves the next request', async () => {
    const errors: string[] = [];
    await withServer({ onError: (m) => errors.push(m) }, async (s) => {
      gate.failNext(new Error('CUDA out of memory (simulated)'));
      const r = await call(s.url, '/v1/compare', { body: pair(1) });
      expect(r.status).toBe(500);
      expect(r.json.error.code).toBe('E_INTERNAL');
      expect(r.json.error.message).toMatch(/^the model failed on this request: .*CUDA out of memory \(simulated\)/);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/CUDA out of memory/);
      expect((await call(s.url, '/v1/compare', { body: pair(2) })).status).toBe(200);
      expect((await call(s.url, '/healthz')).status).toBe(200);
    });
  });
});

describe('graceful close', () => {
  it('stops accepting, answers every request received (none dropped), then resolves with the counts', async () => {
    const s = await RewardServer.start(model, { port: 0 });
    gate.hold();
    const inFlight = Array.from({ length: 12 }, (_, i) =>
      call(s.url, i % 3 === 0 ? '/v1/score' : '/v1/compare', { body: i % 3 === 0 ? { prompt: `P${i}`, response: `R${i}` } : pair(i) }),
    );
    await until(() => metric(s.metrics(), 'dtr_serve_requests_in_flight') === 12, 'all 12 requests received');
    const closing = s.close();
    expect(s.state).toBe('draining');
    // No new connections.
    await expect(call(s.url, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    gate.release();
    const replies = await Promise.all(inFlight);
    for (const r of replies) {
      expect(r.status).toBe(200);
      expect(r.headers.connection).toBe('close');
    }
    const summary = await closing;
    expect(s.state).toBe('stopped');
    expect(summary.responses).toEqual({ '200': 12 });
    expect(summary.conversations).toBe(4 * 1 + 8 * 2);
    expect(await s.close()).toBe(summary); // idempotent
  });

  it('a request whose headers complete after close() began gets 503 E_SHUTTING_DOWN on its open connection', async () => {
    const s = await RewardServer.start(model, { port: 0 });
    try {
      gate.hold();
      const held = call(s.url, '/v1/compare', { body: pair(1) });
      await until(() => metric(s.metrics(), 'dtr_serve_running_conversations') === 2, 'the pair in the model');
      const body = JSON.stringify(pair(2));
      const socket = connect(s.port, '127.0.0.1');
      let reply = '';
      socket.on('data', (d) => void (reply += d.toString()));
      const ended = new Promise<void>((res) => socket.on('close', () => res()));
      await new Promise<void>((res) => socket.once('connect', () => res()));
      // Half a request: the connection is busy, so closing the server does not drop it.
      socket.write(`POST /v1/compare HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`);
      await new Promise((r) => setTimeout(r, 100));
      const closing = s.close();
      socket.write(`\r\n${body}`);
      await ended;
      expect(reply).toMatch(/^HTTP\/1\.1 503 Service Unavailable/);
      expect(reply).toMatch(/\r\nconnection: close\r\n/i);
      expect(reply).toContain('"code":"E_SHUTTING_DOWN"');
      gate.release();
      expect((await held).status).toBe(200);
      expect((await closing).responses).toEqual({ '200': 1, '503': 1 });
    } finally {
      gate.release();
    }
  });
});
