/**
 * The SDK side of bench/scoring.bench.ts, run in its own process (so its peak RSS is its own):
 * `node --import tsx bench/scoring-sdk.ts MODEL_DIR PAIRS.jsonl THREADS`. Loads the folder,
 * scores one pair to warm up, then times `compareMany` over every pair; prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { RewardModel } from '../src/model/reward-model.js';

const [dir, pairsPath, threadsArg] = process.argv.slice(2);
const threads = Number(threadsArg);
const rows = readFileSync(pairsPath!, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as { prompt: string; a: string; b: string });
const t0 = performance.now();
const model = await RewardModel.load({
  dir: dir!,
  provider: 'cpu',
  sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  onWarning: () => undefined,
});
const loadMs = performance.now() - t0;
const items = rows.map((r) => ({ prompt: r.prompt, a: r.a, b: r.b }));
await model.compareMany(items.slice(0, 1));
const t = performance.now();
const results = await model.compareMany(items);
const seconds = (performance.now() - t) / 1000;
console.log(
  JSON.stringify({
    pairs: rows.length,
    seconds,
    loadSeconds: loadMs / 1000,
    pairsPerSecond: rows.length / seconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    first: [results[0]!.rewards.a, results[0]!.rewards.b],
    firstScalar: [results[0]!.backboneReward?.a ?? null, results[0]!.backboneReward?.b ?? null],
  }),
);
await model.dispose();
