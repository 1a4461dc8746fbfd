/**
 * The reward routes of `dtr serve` on the fixture model, over real HTTP on loopback:
 * `/v1/rewards` (TRL-shaped batches, strings and message lists, the reward choices, the
 * tree's group win rate) and `/get_reward` (OpenRLHF's request replayed byte for byte as its
 * client builds it, for Llama-3 and ChatML policies), each number checked against `/v1/score`
 * or `/v1/compare` for the same texts (<= 1e-5), and every bad payload answered 400 naming its field.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RewardModel, RewardServer } from '../src/index.js';
import { parseRewardChoice } from '../src/model/reward-choice.js';
import { POLICY_FORMATS, policyFormatFromTemplate, recoverConversation } from '../src/text/policy-template.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { need, skipNote } from './support/needs.js';
import { runTorchPython } from './support/python.js';
import { call } from './support/serve.js';
import { tempDir } from './support/temp.js';

const TOL = 1e-5;
const ATTRS = ['helpfulness', 'correctness', 'coherence', 'complexity', 'verbosity'] as const;
let dir: string;
let model: RewardModel;
let server: RewardServer;
let url: string;

beforeAll(async () => {
  dir = writeFixtureModel(tempDir('dtr-rewards-')).dir;
  model = await RewardModel.load({ dir, tokenizeInWorker: false });
  server = await RewardServer.start(model, { port: 0 });
  await server.ready();
  url = server.url;
});

afterAll(async () => {
  await server?.close();
  await model?.dispose();
});

async function score(prompt: unknown, response: string): Promise<any> {
  const body = typeof prompt === 'string' ? { prompt, response } : { messages: prompt, response };
  const r = await call(url, '/v1/score', { body });
  expect(r.status).toBe(200);
  return r.json;
}

function close(got: number, want: number): void {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(TOL);
}

describe('POST /v1/rewards (TRL-shaped batches)', () => {
  const prompts = ['What is 2 + 2?', 'What is 2 + 2?', 'Name a colour.'];
  const completions = ['2 + 2 = 4.', 'It is 5.', 'Blue.'];

  it("the server's reward (backbone: the fixture folder has a scalar) and the five attributes equal /v1/score's", async () => {
    const r = await call(url, '/v1/rewards', { body: { prompts, completions } });
    expect(r.status).toBe(200);
    expect(r.json.reward).toBe('backbone');
    expect(r.json.rewards).toHaveLength(3);
    for (let i = 0; i < 3; i++) {
      const s = await score(prompts[i], completions[i]!);
      close(r.json.rewards[i], s.backboneReward);
      for (const a of ATTRS) close(r.json.attributes[i][a], s.rewards[a]);
    }
  });

  it('message lists, as TRL passes conversational prompts and completions', async () => {
    const p = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ];
    const r = await call(url, '/v1/rewards', { body: { prompts: [p], completions: [[{ role: 'assistant', content: 'Hello!' }]] } });
    expect(r.status).toBe(200);
    close(r.json.rewards[0], (await score(p, 'Hello!')).backboneReward);
  });

  it('a request chooses its reward: attribute:NAME, weights:...', async () => {
    const s = await score(prompts[0], completions[0]!);
    const one = await call(url, '/v1/rewards', {
      body: { prompts: [prompts[0]], completions: [completions[0]], reward: 'attribute:correctness' },
    });
    expect(one.json.reward).toBe('attribute:correctness');
    close(one.json.rewards[0], s.rewards.correctness);
    const mix = await call(url, '/v1/rewards', {
      body: { prompts: [prompts[0]], completions: [completions[0]], reward: 'weights:helpfulness=1,correctness=0.5' },
    });
    close(mix.json.rewards[0], s.rewards.helpfulness + 0.5 * s.rewards.correctness);
  });

  it('"group": "tree-winrate": each completion\'s mean P(preferred) against the others of its prompt, as /v1/compare gives it; paths on request', async () => {
    const ps = ['Q?', 'Q?', 'Q?', 'Other?'];
    const cs = ['Answer one.', 'A second, longer answer.', 'No.', 'Alone.'];
    const r = await call(url, '/v1/rewards', { body: { prompts: ps, completions: cs, group: 'tree-winrate', paths: true } });
    expect(r.status).toBe(200);
    expect(r.json.reward).toBe('tree-winrate');
    for (let i = 0; i < 3; i++) {
      let sum = 0;
      for (let j = 0; j < 3; j++) {
        if (j === i) continue;
        const c = await call(url, '/v1/compare', { body: { prompt: 'Q?', a: cs[i], b: cs[j] } });
        sum += c.json.probability;
        const step = r.json.paths[i].find((x: any) => x.against === j);
        expect(step.path).toEqual(c.json.path);
      }
      close(r.json.rewards[i], sum / 2);
    }
    // Alone in its group: no one to win against.
    expect(r.json.rewards[3]).toBe(0.5);
    expect(r.json.paths[3]).toEqual([]);
  });

  it.each([
    [{ prompts: ['a'], completions: ['x', 'y'] }, 'completions', 'completions has 2 items and prompts 1'],
    [{ completions: ['x'] }, 'prompts', 'prompts is missing'],
    [{ prompts: [], completions: [] }, 'prompts', 'prompts must be a non-empty array'],
    [{ prompts: ['a'], completions: ['x'], reward: 'attribute:charm' }, 'reward', 'reward names "charm", not one of'],
    [{ prompts: ['a'], completions: ['x'], reward: 'weights:helpfulness=lots' }, 'reward', 'not a number'],
    [{ prompts: ['a'], completions: ['x'], group: 'mean' }, 'group', 'group must be "tree-winrate"'],
    [{ prompts: ['a'], completions: [[{ role: 'user', content: 'x' }]] }, 'completions[0]', 'one assistant message'],
    [{ prompts: ['a'], completions: ['x<|eot_id|>'] }, 'completions[0]', "special token '<|eot_id|>'"],
    [{ prompts: ['a'], completions: ['x'], promts: 1 }, 'promts', 'promts is not a known field'],
  ])('400 naming the field: %j', async (body, field, words) => {
    const r = await call(url, '/v1/rewards', { body });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('E_BAD_REQUEST');
    expect(r.json.error.field).toBe(field);
    expect(r.json.error.message).toContain(words);
  });

  it('backbone on a folder without a scalar: 400 naming reward, and the default is helpfulness', async () => {
    const d = writeFixtureModel(tempDir('dtr-rewards-noscalar-'), { rewardOutput: false }).dir;
    const m = await RewardModel.load({ dir: d, tokenizeInWorker: false });
    const s = await RewardServer.start(m, { port: 0 });
    try {
      await s.ready();
      const bad = await call(s.url, '/v1/rewards', { body: { prompts: ['a'], completions: ['x'], reward: 'backbone' } });
      expect(bad.status).toBe(400);
      expect(bad.json.error.field).toBe('reward');
      expect(bad.json.error.message).toContain('no backbone scalar');
      const ok = await call(s.url, '/v1/rewards', { body: { prompts: ['a'], completions: ['x'] } });
      expect(ok.json.reward).toBe('attribute:helpfulness');
      expect(ok.json.rewards[0]).toBe(ok.json.attributes[0].helpfulness);
    } finally {
      await s.close();
      await m.dispose();
    }
  });
});

describe('reward choices and policy renderings (pure)', () => {
  it('parses the four choices and refuses the rest, naming the flag', () => {
    expect(parseRewardChoice('backbone', '--reward')).toEqual({ kind: 'backbone' });
    expect(parseRewardChoice('tree-winrate', '--reward')).toEqual({ kind: 'tree-winrate' });
    expect(parseRewardChoice('weights:verbosity=-0.5', '--reward')).toEqual({
      kind: 'weights',
      weights: { helpfulness: 0, correctness: 0, coherence: 0, complexity: 0, verbosity: -0.5 },
    });
    expect(() => parseRewardChoice('mean', '--reward')).toThrow(/^--reward is "mean": expected backbone \| attribute:NAME/);
    expect(() => parseRewardChoice('weights:helpfulness=1,helpfulness=2', '--reward')).toThrow('weighs helpfulness twice');
  });

  it('a policy template read from its .jinja file recovers what the built-in family does', () => {
    const source = readFileSync(new URL('./fixtures/chat-templates/llama-3.1-instruct.jinja', import.meta.url), 'utf8');
    const format = policyFormatFromTemplate(source, { bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>' }, '--policy-template');
    const prompt =
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n';
    const q = `${prompt}Hello!<|eot_id|>`;
    const builtIn = recoverConversation(POLICY_FORMATS['llama-3'], q, prompt);
    expect(builtIn).toEqual({
      ok: true,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      response: 'Hello!',
    });
    // The file's reading skips what stands before the first user turn (here the system turn the template writes itself).
    const fromFile = recoverConversation(format, q, prompt);
    expect(fromFile).toEqual({ ok: true, messages: [{ role: 'user', content: 'Hi' }], response: 'Hello!' });
  });
});

const torch = need('torch');
describe.skipIf(!torch.present)(`POST /get_reward (OpenRLHF's client, replayed byte for byte)${skipNote(torch)}`, () => {
  const chatml =
    '{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}';
  const llama31 = readFileSync(new URL('./fixtures/chat-templates/llama-3.1-instruct.jinja', import.meta.url), 'utf8');
  const cases = [
    {
      name: 'Llama-3 (the tokenizer own template)',
      messages: [{ role: 'user', content: 'What is 2 + 2?' }],
      response: '2 + 2 = 4.',
      eot: '<|eot_id|>',
    },
    {
      name: 'Llama-3.1 instruct (a default system turn)',
      template: llama31,
      messages: [{ role: 'user', content: 'Name a colour.' }],
      response: 'Blue.',
      eot: '<|eot_id|>',
    },
    {
      name: 'ChatML',
      template: chatml,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      response: 'Hello!',
      eot: '<|im_end|>',
    },
  ];
  let built: Array<{ body: string; prompt: string; query: string }>;
  beforeAll(() => {
    const r = runTorchPython([new URL('./support/openrlhf_payloads.py', import.meta.url).pathname, dir], {
      input: JSON.stringify(cases),
      env: { TRANSFORMERS_VERBOSITY: 'error' },
    });
    if (r.code !== 0) throw new Error(r.stderr);
    built = JSON.parse(r.stdout);
  }, 120_000);

  it.each(cases.map((c, i) => [c.name, i] as const))(
    '%s: rewards, scores and extra_logs equal /v1/score on the recovered conversation',
    async (_n, i) => {
      const c = cases[i]!;
      const r = await call(url, '/get_reward', { raw: built[i]!.body });
      expect(r.status).toBe(200);
      expect(Object.keys(r.json)).toEqual(['rewards', 'scores', 'extra_logs']);
      const recovered = c.template === llama31 ? [{ role: 'system', content: systemOf(built[i]!.prompt) }, ...c.messages] : c.messages;
      const s = await score(recovered, c.response);
      close(r.json.rewards[0], s.backboneReward);
      expect(r.json.scores).toEqual(r.json.rewards);
      expect(Object.keys(r.json.extra_logs)).toEqual([...ATTRS]);
      for (const a of ATTRS) close(r.json.extra_logs[a][0], s.rewards[a]);
    },
  );

  it('?reward= on the URL (OpenRLHF cannot add fields) chooses the reward', async () => {
    const r = await call(url, '/get_reward?reward=attribute:coherence', { raw: built[0]!.body });
    const s = await score(cases[0]!.messages, cases[0]!.response);
    close(r.json.rewards[0], s.rewards.coherence);
  });

  it('every bad payload: 400 naming the field', async () => {
    const p = built[0]!.prompt;
    const q = built[0]!.query;
    const bad: Array<[unknown, string, string]> = [
      [{ query: [q], prompts: [p.replace('2 + 2', '3 + 3')], labels: [''] }, 'query[0]', 'does not start with its prompt'],
      [{ query: [q, q], prompts: [p], labels: ['', ''] }, 'prompts', 'prompts has 1 items and query 2'],
      [{ query: [q], prompts: [p], labels: ['', ''] }, 'labels', 'labels has 2 items and query 1'],
      [{ query: ['plain text, answer'], prompts: ['plain text, '], labels: [''] }, 'prompts[0]', 'no chat-template markers'],
      [
        {
          query: [q.replace('<|start_header_id|>assistant', '<|start_header_id|>user')],
          prompts: [p.replace('<|start_header_id|>assistant', '<|start_header_id|>user')],
        },
        'prompts[0]',
        'does not end with the llama-3 generation prompt',
      ],
      [{ prompts: [p] }, 'query', 'query is missing'],
      [{ query: [1], prompts: [p] }, 'query[0]', 'query[0] must be a string'],
      [{ query: [q], prompts: [p], reward: 'tree-winrate' }, 'reward', 'OpenRLHF sends one sample per request'],
      [{ query: [q], prompts: [p], extra: 1 }, 'extra', 'extra is not a known field'],
    ];
    for (const [body, field, words] of bad) {
      const r = await call(url, '/get_reward', { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.field).toBe(field);
      expect(r.json.error.message).toContain(words);
    }
  });
});

/** The system turn Llama-3.1's template writes itself (its knowledge-date lines). */
function systemOf(prompt: string): string {
  const m = /<\|start_header_id\|>system<\|end_header_id\|>\n\n([\s\S]*?)<\|eot_id\|>/.exec(prompt);
  return m![1]!;
}
