/**
 * TRL's own GRPOTrainer trains against `dtr serve`: the built binary serves the fixture model,
 * test/support/trl_grpo.py runs 2 GRPO steps on CPU (a tiny random Llama policy, the real Llama-3
 * tokenizer) with notebooks/python/dtr_reward.py's DtrReward as the reward function, and every
 * reward TRL received equals /v1/score's backbone reward for the same prompt and completion (<= 1e-5).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { writeFixtureModel } from './support/fixture-model.js';
import { need, skipNote } from './support/needs.js';
import { TORCH_PYTHON } from './support/python.js';
import { call, spawnServe, waitReady } from './support/serve.js';
import { tempDir } from './support/temp.js';

const trainers = need('trainers');
describe.skipIf(!trainers.present)(`TRL GRPOTrainer with DtrReward${skipNote(trainers)}`, () => {
  it("2 steps on CPU: every reward TRL received is /v1/score's, the five attributes went to log_extra, the column is named", async () => {
    const dir = writeFixtureModel(tempDir('dtr-trl-')).dir;
    const out = tempDir('dtr-trl-out-');
    const server = await spawnServe(['--model', dir, '--port', '0']);
    try {
      await waitReady(server.url);
      const script = fileURLToPath(new URL('./support/trl_grpo.py', import.meta.url));
      const code = await new Promise<number>((resolve) => {
        const child = spawn(TORCH_PYTHON, [script, server.url, dir, out], {
          env: { ...process.env, TMPDIR: out, TRANSFORMERS_VERBOSITY: 'error', TOKENIZERS_PARALLELISM: 'false' },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
        child.on('close', (c) => {
          if (c !== 0) process.stderr.write(err);
          resolve(c ?? -1);
        });
      });
      expect(code).toBe(0);
      const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
      expect(result.name).toBe('dtr');
      expect(result.logged).toEqual(['rewards/dtr/mean', 'rewards/dtr/std']);
      expect(result.calls).toHaveLength(2);
      let checked = 0;
      for (const c of result.calls) {
        expect(c.had_log_extra).toBe(true);
        expect(c.log_extra).toEqual(['helpfulness', 'correctness', 'coherence', 'complexity', 'verbosity']);
        for (let i = 0; i < c.prompts.length; i++) {
          const r = await call(server.url, '/v1/score', { body: { messages: c.prompts[i], response: c.completions[i][0].content } });
          expect(r.status).toBe(200);
          expect(Math.abs(c.rewards[i] - r.json.backboneReward)).toBeLessThanOrEqual(1e-5);
          checked++;
        }
      }
      expect(checked).toBe(8);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 240_000);
});
