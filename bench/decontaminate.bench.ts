/**
 * Decontamination speed: 13-gram overlap of a Skywork-80K-sized training set against a
 * RewardBench-sized evaluation set (2,985 prompts), on synthetic prompts, against the plain
 * Python set-of-tuples check (same data, same run) as the peer. Goal: the whole check in a few
 * seconds, faster than the Python peer. With ../shared, also times real files.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findContamination, readRecordsFile, type PromptRecord } from '../src/eval/decontaminate.js';
import { SeededRandom } from '../src/util/random.js';
import { median, timeRuns, type BenchContext } from './context.js';

function prompts(n: number, words: number, vocab: string[], rng: SeededRandom, prefix: string): PromptRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    index: i,
    where: `${prefix}:${i + 1}`,
    prompt: Array.from({ length: words }, () => vocab[rng.int(vocab.length)]!).join(' '),
    source: `s${i % 7}`,
    id: null,
    subset: null,
  }));
}

const PYTHON_PEER = `
import sys, json, re, time
n = int(sys.argv[3])
tok = lambda s: re.findall(r"\\w+", s.lower())
train = [json.loads(l)["prompt"] for l in open(sys.argv[1])]
ev = [json.loads(l)["prompt"] for l in open(sys.argv[2])]
t = time.perf_counter()
grams = set()
for p in ev:
    w = tok(p)
    for i in range(len(w) - n + 1): grams.add(tuple(w[i:i + n]))
hits = 0
for p in train:
    w = tok(p)
    if any(tuple(w[i:i + n]) in grams for i in range(len(w) - n + 1)): hits += 1
print(json.dumps({"ms": (time.perf_counter() - t) * 1000, "hits": hits}))
`;

export default async function (ctx: BenchContext): Promise<void> {
  const rng = new SeededRandom(7);
  const vocab = Array.from({ length: 5000 }, (_, i) => `w${i.toString(36)}`);
  const trainN = ctx.quick ? 5000 : 80000;
  const evalSet = prompts(2985, 100, vocab, rng, 'eval');
  const train = prompts(trainN, 60, vocab, rng, 'train');
  // Plant leaks: every 50th training prompt copies 20 words of an evaluation prompt.
  for (let i = 0; i < trainN; i += 50) {
    const e = evalSet[i % evalSet.length]!.prompt!.split(' ');
    train[i]!.prompt = `${train[i]!.prompt} ${e.slice(30, 50).join(' ')}`;
  }
  let found = 0;
  const times = await timeRuns(
    () => {
      found = findContamination(train, evalSet, { ngram: 13 }).matches.length;
    },
    ctx.quick ? 1 : 3,
  );
  const ms = median(times);
  ctx.print(
    `${trainN} training prompts (60 words) x 2985 evaluation prompts (100 words), 13-grams: ${ms.toFixed(0)} ms median, ${((trainN / ms) * 1000).toFixed(0)} rows/s; ${found} contaminated (${trainN / 50} planted)`,
  );

  if (ctx.python) {
    const dir = mkdtempSync(join(tmpdir(), 'dtr-bench-decon-'));
    try {
      writeFileSync(join(dir, 't.jsonl'), train.map((r) => JSON.stringify({ prompt: r.prompt })).join('\n'));
      writeFileSync(join(dir, 'e.jsonl'), evalSet.map((r) => JSON.stringify({ prompt: r.prompt })).join('\n'));
      const r = spawnSync(ctx.python, ['-c', PYTHON_PEER, join(dir, 't.jsonl'), join(dir, 'e.jsonl'), '13'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`python peer failed: ${r.stderr}`);
      const peer = JSON.parse(r.stdout) as { ms: number; hits: number };
      ctx.print(
        `python set-of-tuples peer: ${peer.ms.toFixed(0)} ms (${peer.hits} contaminated); ratio dtr/peer = ${(ms / peer.ms).toFixed(2)}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else ctx.print('python peer: unavailable');

  if (ctx.sharedData) {
    const jb = join(ctx.sharedData, 'judgebench');
    const a = readRecordsFile(join(jb, 'judgebench_gpt-4o-2024-05-13.jsonl'));
    const b = readRecordsFile(join(jb, 'judgebench_claude-3-5-sonnet-20240620.jsonl'));
    const t = median(await timeRuns(() => findContamination(a.records, b.records), 3));
    const rep = findContamination(a.records, b.records);
    ctx.print(
      `real: JudgeBench gpt-4o (350) against claude (270): ${t.toFixed(1)} ms, ${rep.matches.length} contaminated, ${rep.ignored.count} template runs ignored`,
    );
  } else ctx.print('real data: ../shared not found, skipped');
}
