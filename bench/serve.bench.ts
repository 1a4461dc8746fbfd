/**
 * `dtr serve` under load, on the fixture model: requests per second and p50/p99 latency of
 * single-pair requests with many in flight, and pairs per second of batch requests, against the
 * same pairs through `compareMany` in-process (the peer, measured in the same run).
 *
 * The server is the built binary in its own process (as it is deployed), so the load generator
 * here does not share its thread; the client keeps connections alive. The fixture backbone's
 * forward pass is tiny, so what is measured is the service's own cost per pair (HTTP, JSON,
 * queueing, tokenizing) against the SDK's: with a real 8B backbone the forward pass dominates
 * both and the ratio moves toward 1.
 *
 * The trainers' routes (issue 22) are measured the same way: rewards per second through
 * `POST /v1/rewards` (TRL-shaped batches of 32) and `POST /get_reward` (OpenRLHF: one sample per
 * request, the policy's Llama-3 rendering, 32 in flight), against `scoreMany` in-process on the
 * same prompt + completion conversations (one reward is one conversation scored), and
 * `compareMany`'s pairs/s x 2 conversations for scale.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RewardModel, type CompareItem } from '../src/index.js';
import { SeededRandom } from '../src/util/random.js';
import { writeFixtureModel } from '../test/support/fixture-model.js';
import type { BenchContext } from './context.js';

const WORDS =
  'the model reads each response and scores how helpful correct coherent complex and verbose it is while the tree explains which attribute decided'.split(
    ' ',
  );

function pairs(n: number, seed: number): CompareItem[] {
  const rng = new SeededRandom(seed);
  const text = (words: number): string => Array.from({ length: words }, () => WORDS[rng.int(WORDS.length)]!).join(' ');
  return Array.from({ length: n }, (_, i) => ({
    prompt: `Question ${i}: ${text(8 + rng.int(24))}?`,
    a: text(10 + rng.int(90)),
    b: text(10 + rng.int(90)),
  }));
}

function post(agent: Agent, url: string, body: string): Promise<{ status: number; ms: number }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends every body with `concurrency` in flight; latencies in ms, wall seconds. */
async function load(agent: Agent, url: string, bodies: string[], concurrency: number): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const r = await post(agent, url, bodies[next++]!);
        if (r.status !== 200) throw new Error(`the server answered ${r.status}`);
        latencies.push(r.ms);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - t) / 1000 };
}

/**
 * Hostile clients beside the load, until `stop()`: bodies declared and held (ended by
 * --body-timeout), bodies over --max-body-bytes (answered 413, the rest read and dropped),
 * 10,000-deep JSON and batches larger than the queue (refused before parsing or checking).
 * Returns the stopper, which resolves with the attacks sent.
 */
function hostile(url: string): () => Promise<number> {
  const { hostname, port } = new URL(url);
  let running = true;
  let sent = 0;
  const held: ReturnType<typeof connect>[] = [];
  const rawPost = (head: string, body: Buffer | string): Promise<void> =>
    new Promise((resolve) => {
      const c = connect(Number(port), hostname);
      c.on('error', () => resolve());
      c.on('close', () => resolve());
      c.on('data', () => undefined);
      c.write(head);
      c.end(body);
    });
  const big = Buffer.alloc(2 * 1024 * 1024, 32);
  const deep = `{"prompt": ${'['.repeat(10_000)}${']'.repeat(10_000)}, "a": "x", "b": "y"}`;
  const many = `{"items": [${'{},'.repeat(99_999)}{}]}`;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const kind = i % 4;
      if (kind === 0 && held.length < 16) {
        const c = connect(Number(port), hostname);
        c.on('error', () => undefined);
        c.write('POST /v1/compare HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"prompt":"');
        held.push(c);
      } else {
        const body = kind === 1 ? big : kind === 2 ? deep : many;
        await rawPost(
          `POST /v1/compare HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
          body,
        );
      }
      sent++;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return async () => {
    running = false;
    await loop;
    for (const c of held) c.destroy();
    return sent;
  };
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

export default async function (ctx: BenchContext): Promise<void> {
  const n = ctx.quick ? 300 : 2000;
  const inFlight = 32;
  const batch = 32;
  const dir = mkdtempSync(join(tmpdir(), 'dtr-bench-serve-'));
  let proc: ChildProcess | null = null;
  try {
    writeFixtureModel(dir);
    const items = pairs(n, 5);

    // Peer: the same pairs through compareMany in this process (warm).
    const model = await RewardModel.load(dir);
    let peerSeconds: number;
    try {
      // A whole run first: long runs start the tokenizer worker, which is then warm, as in a server.
      await model.compareMany(items);
      const t = performance.now();
      await model.compareMany(items);
      peerSeconds = (performance.now() - t) / 1000;
    } finally {
      await model.dispose();
    }
    const peerRate = n / peerSeconds;
    // The trainers' peer: one conversation per reward, the same prompt + completion through scoreMany.
    const scoreItems = items.map((it) => ({ prompt: it.prompt as string, response: it.a })); // pairs() writes string prompts
    const scorer = await RewardModel.load(dir);
    let scoreSeconds: number;
    try {
      await scorer.scoreMany(scoreItems);
      const t = performance.now();
      await scorer.scoreMany(scoreItems);
      scoreSeconds = (performance.now() - t) / 1000;
    } finally {
      await scorer.dispose();
    }
    const scoreRate = n / scoreSeconds;

    const server = spawn(
      process.execPath,
      [
        join(ctx.root, 'dist', 'cli', 'main.js'),
        'serve',
        '--model',
        dir,
        '--port',
        '0',
        '--queue-size',
        String(4 * inFlight * batch),
        '--max-body-bytes',
        String(1024 * 1024),
        '--body-timeout',
        '2',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    server.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    proc = server;
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /ready: .*\n/.test(out) ? /listening on (\S+)/.exec(out) : null;
        if (m) resolve(m[1]!);
      });
      server.on('exit', (code) => reject(new Error(`dtr serve exited with ${code}: ${stderr}`)));
    });
    const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
    try {
      const single = items.map((it) => JSON.stringify(it));
      await load(agent, `${url}/v1/compare`, single.slice(0, 64), inFlight); // warm-up
      const s = await load(agent, `${url}/v1/compare`, single, inFlight);
      const rate = n / s.seconds;
      const batches: string[] = [];
      for (let i = 0; i < n; i += batch) batches.push(JSON.stringify({ items: items.slice(i, i + batch) }));
      const b = await load(agent, `${url}/v1/compare`, batches, 4);
      const batchRate = n / b.seconds;
      // The same single-pair load again, with hostile clients beside it: the limits' cost, vs the clean run above.
      const stop = hostile(url);
      const h = await load(agent, `${url}/v1/compare`, single, inFlight);
      const attacks = await stop();
      const hostileRate = n / h.seconds;
      // The trainers' routes: TRL-shaped batches, and OpenRLHF's one sample per request as its client renders it.
      const trl: string[] = [];
      for (let i = 0; i < n; i += batch) {
        const part = scoreItems.slice(i, i + batch);
        trl.push(
          JSON.stringify({ prompts: part.map((x) => x.prompt), completions: part.map((x) => x.response), reward: 'attribute:helpfulness' }),
        );
      }
      const r = await load(agent, `${url}/v1/rewards`, trl, 4);
      const trlRate = n / r.seconds;
      const rendered = (q: string): string =>
        `<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n${q}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`;
      const openrlhf = scoreItems.map((x) =>
        JSON.stringify({ query: [rendered(x.prompt) + x.response + '<|eot_id|>'], prompts: [rendered(x.prompt)], labels: [''] }),
      );
      const o = await load(agent, `${url}/get_reward?reward=attribute:helpfulness`, openrlhf, inFlight);
      const openrlhfRate = n / o.seconds;

      ctx.print(
        `${n} pairs (fixture model: tiny backbone, real Llama-3 tokenizer, responses of 10-100 words); server: dtr serve in its own process, keep-alive clients`,
      );
      ctx.print(`| measure | dtr serve | peer (same run) | ratio |`);
      ctx.print(`|---|---|---|---|`);
      ctx.print(
        `| single-pair POST /v1/compare, ${inFlight} in flight | ${rate.toFixed(0)} req/s, p50 ${quantile(s.latencies, 0.5).toFixed(1)} ms, p99 ${quantile(s.latencies, 0.99).toFixed(1)} ms | compareMany in-process: ${peerRate.toFixed(0)} pairs/s | ${(rate / peerRate).toFixed(2)} |`,
      );
      ctx.print(
        `| single-pair POST /v1/compare, ${inFlight} in flight, beside ${attacks} hostile requests (held bodies, 2 MiB over a 1 MiB limit, 10,000-deep JSON, 100,000-item batches) | ${hostileRate.toFixed(0)} req/s, p50 ${quantile(h.latencies, 0.5).toFixed(1)} ms, p99 ${quantile(h.latencies, 0.99).toFixed(1)} ms | the same load without them: ${rate.toFixed(0)} req/s | ${(hostileRate / rate).toFixed(2)} |`,
      );
      ctx.print(
        `| batches of ${batch} pairs, 4 in flight | ${batchRate.toFixed(0)} pairs/s, p50 ${quantile(b.latencies, 0.5).toFixed(0)} ms per batch | compareMany in-process: ${peerRate.toFixed(0)} pairs/s | ${(batchRate / peerRate).toFixed(2)} |`,
      );
      ctx.print(
        `| POST /v1/rewards, TRL batches of ${batch} completions, 4 in flight | ${trlRate.toFixed(0)} rewards/s | scoreMany in-process: ${scoreRate.toFixed(0)} conversations/s (compareMany: ${(2 * peerRate).toFixed(0)}) | ${(trlRate / scoreRate).toFixed(2)} |`,
      );
      ctx.print(
        `| POST /get_reward, OpenRLHF one sample per request (Llama-3 rendering), ${inFlight} in flight | ${openrlhfRate.toFixed(0)} rewards/s, p50 ${quantile(o.latencies, 0.5).toFixed(1)} ms | scoreMany in-process: ${scoreRate.toFixed(0)} conversations/s | ${(openrlhfRate / scoreRate).toFixed(2)} |`,
      );
    } finally {
      agent.destroy();
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
  } finally {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
