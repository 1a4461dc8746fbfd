/**
 * The reward routes, for training loops: one number per response, in the shapes the trainers
 * send and read.
 *
 * - `POST /v1/rewards` (TRL's reward functions, through notebooks/python/dtr_reward.py):
 *   `{"prompts": [...], "completions": [...], "reward"?, "group"?, "paths"?}`, prompts and
 *   completions as TRL passes them (strings, or message lists), answered
 *   `{"reward", "rewards": [...], "attributes": [{five}, ...]}`.
 * - `POST /get_reward` (OpenRLHF's remote reward model, openrlhf/utils/agent.py
 *   `_fetch_rewards_via_http`): `{"query": [...], "prompts": [...], "labels": [...]}`, the texts
 *   as the policy rendered them, answered `{"rewards", "scores", "extra_logs": {five}}`.
 *
 * Everything is checked before any work, every problem reported with its field (as requests.ts).
 * Pure functions over a {@link RewardContext}: the server supplies the scoring.
 */
import { ATTRIBUTES, type AttributeScores } from '../attributes.js';
import { explain } from '../explain/explain.js';
import type { RewardModel } from '../model/reward-model.js';
import { checkRewardChoice, formatRewardChoice, parseRewardChoice, rewardOf, type RewardChoice } from '../model/reward-choice.js';
import type { ScoreResult } from '../model/types.js';
import { recoverConversation, detectPolicyFormat, type PolicyFormat } from '../text/policy-template.js';
import { describeValue as describe, type ChatMessage, type Prompt } from '../text/prompt.js';
import type { PreferenceTree } from '../tree/preference-tree.js';
import { probabilityOf } from '../tree/decision.js';
import { ServeError, type FieldIssue } from './errors.js';
import type { ScoreRequestItem } from './requests.js';

/** What the reward routes need from the server. */
export interface RewardContext {
  model: RewardModel;
  /** The server's `--reward`. */
  reward: RewardChoice;
  /** `--policy-template`: a format, or `auto` (detected per prompt). */
  policy: PolicyFormat | 'auto';
  tree: PreferenceTree;
  symmetric: boolean;
  /** Scores the items through the server's queue (results in order). */
  score(items: ScoreRequestItem[]): Promise<ScoreResult[]>;
  /** Most conversations one request may hold (the queue's capacity). */
  capacity: number;
}

/**
 * Answers `POST /v1/rewards`.
 * @throws ServeError `E_BAD_REQUEST` listing every problem.
 *
 * @example
 * ```ts
 * await answerRewards({ prompts: ['Hi', 'Hi'], completions: ['Hello!', 'Go away.'] }, ctx);
 * // { reward: 'backbone', rewards: [0.84, 0.87], attributes: [{ helpfulness: ..., ... }, ...] }
 * ```
 */
export async function answerRewards(body: unknown, ctx: RewardContext): Promise<unknown> {
  const issues: FieldIssue[] = [];
  if (!isObject(body))
    throw bad([{ field: '$', message: `the body must be a JSON object {"prompts": [...], "completions": [...]}, got ${describe(body)}` }]);
  for (const k of Object.keys(body))
    if (!['prompts', 'completions', 'reward', 'group', 'paths'].includes(k))
      issues.push({ field: k, message: `${k} is not a known field: expected {"prompts", "completions", "reward"?, "group"?, "paths"?}` });
  const choice = requestChoice(body.reward, body.group, ctx, issues);
  if (body.paths !== undefined && typeof body.paths !== 'boolean')
    issues.push({ field: 'paths', message: `paths must be true or false, got ${describe(body.paths)}` });
  const prompts = listField(body, 'prompts', issues);
  const completions = listField(body, 'completions', issues);
  if (prompts && completions && prompts.length !== completions.length)
    issues.push({
      field: 'completions',
      message: `completions has ${completions.length} items and prompts ${prompts.length}: give one prompt per completion (TRL repeats a prompt for each of its completions)`,
    });
  const items: ScoreRequestItem[] = [];
  if (prompts && completions && prompts.length === completions.length) {
    prompts.forEach((p, i) => {
      const item = trlItem(p, completions[i], i, ctx.model, issues);
      if (item) items.push(item);
    });
  }
  if (issues.length > 0) throw bad(issues);
  if (choice === null) throw new Error('unreachable: a choice issue is reported above');
  tooMany(items.length, ctx);
  const results = await ctx.score(items);
  const attributes = results.map((r) => r.rewards);
  const answer: Record<string, unknown> = { reward: formatRewardChoice(choice) };
  if (choice.kind === 'tree-winrate') {
    const group = treeWinrate(items, results, ctx, body.paths === true);
    answer.rewards = group.rewards;
    answer.attributes = attributes;
    if (body.paths === true) answer.paths = group.paths;
  } else {
    answer.rewards = results.map((r) => rewardOf(choice, r));
    answer.attributes = attributes;
  }
  return answer;
}

/**
 * Answers `POST /get_reward` (OpenRLHF). `reward` is the route's `?reward=` or the server's.
 * @throws ServeError `E_BAD_REQUEST` listing every problem.
 *
 * @example
 * ```ts
 * await answerGetReward({ query: [prompt + 'Hello!<|eot_id|>'], prompts: [prompt], labels: [''] }, ctx, null);
 * // { rewards: [0.84], scores: [0.84], extra_logs: { helpfulness: [2.7], ... } }
 * ```
 */
export async function answerGetReward(body: unknown, ctx: RewardContext, urlReward: string | null): Promise<unknown> {
  const issues: FieldIssue[] = [];
  if (!isObject(body))
    throw bad([
      { field: '$', message: `the body must be a JSON object {"query": [...], "prompts": [...], "labels": [...]}, got ${describe(body)}` },
    ]);
  for (const k of Object.keys(body))
    if (!['query', 'prompts', 'labels', 'reward'].includes(k))
      issues.push({ field: k, message: `${k} is not a known field: OpenRLHF sends {"query", "prompts", "labels"}` });
  let choice: RewardChoice | null = ctx.reward;
  const given = body.reward ?? urlReward ?? undefined;
  if (given !== undefined) {
    try {
      choice = parseRewardChoice(given, body.reward !== undefined ? 'reward' : '?reward=');
      checkRewardChoice(choice, ctx.model.config.backbone.rewardOutput !== null, body.reward !== undefined ? 'reward' : '?reward=');
    } catch (e) {
      issues.push({ field: 'reward', message: (e as Error).message });
      choice = null;
    }
  }
  if (choice?.kind === 'tree-winrate') {
    issues.push({
      field: 'reward',
      message:
        'reward tree-winrate needs the group of completions of a prompt, and OpenRLHF sends one sample per request: choose backbone, attribute:NAME or weights:... (?reward= on the URL)',
    });
    choice = null;
  }
  const query = stringList(body, 'query', issues);
  const prompts = stringList(body, 'prompts', issues);
  const labels = body.labels;
  if (labels !== undefined && labels !== null) {
    if (!Array.isArray(labels))
      issues.push({ field: 'labels', message: `labels must be an array (one per query), got ${describe(labels)}` });
    else if (query && labels.length !== query.length)
      issues.push({ field: 'labels', message: `labels has ${labels.length} items and query ${query.length}: give one per query` });
  }
  if (query && prompts && query.length !== prompts.length)
    issues.push({ field: 'prompts', message: `prompts has ${prompts.length} items and query ${query.length}: give one prompt per query` });
  const items: ScoreRequestItem[] = [];
  if (query && prompts && query.length === prompts.length) {
    query.forEach((q, i) => {
      const format = ctx.policy === 'auto' ? detectPolicyFormat(prompts[i]!) : ctx.policy;
      if (format === null) {
        issues.push({
          field: `prompts[${i}]`,
          message: `prompts[${i}] has no chat-template markers this server knows (Llama-3, ChatML, Gemma): start dtr serve with --policy-template FILE.jinja (the policy's chat template)`,
        });
        return;
      }
      const r = recoverConversation(format, q, prompts[i]!);
      if (!r.ok) {
        issues.push({ field: `${r.field}[${i}]`, message: `${r.field}[${i}] ${r.message}` });
        return;
      }
      const item = checked(r.messages, r.response, `prompts[${i}]`, `query[${i}]`, ctx.model, issues);
      if (item) items.push(item);
    });
  }
  if (issues.length > 0) throw bad(issues);
  tooMany(items.length, ctx);
  const results = await ctx.score(items);
  const rewards = results.map((r) => rewardOf(choice!, r));
  const extra: Record<string, number[]> = {};
  for (const a of ATTRIBUTES) extra[a] = results.map((r) => r.rewards[a]);
  return { rewards, scores: rewards, extra_logs: extra };
}

/** Each completion's mean P(preferred) against the other completions of the same prompt. */
function treeWinrate(
  items: readonly ScoreRequestItem[],
  results: readonly ScoreResult[],
  ctx: RewardContext,
  withPaths: boolean,
): { rewards: number[]; paths: unknown[] } {
  const groups = new Map<string, number[]>();
  items.forEach((it, i) => {
    const key = JSON.stringify(it.prompt);
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  const rewards = new Array<number>(items.length).fill(0.5);
  const paths: unknown[] = items.map(() => []);
  const delta = new Float64Array(ATTRIBUTES.length);
  for (const members of groups.values()) {
    for (const i of members) {
      let sum = 0;
      const mine: unknown[] = [];
      for (const j of members) {
        if (j === i) continue;
        const a: AttributeScores = results[i]!.rewards;
        const b: AttributeScores = results[j]!.rewards;
        ATTRIBUTES.forEach((k, n) => (delta[n] = a[k] - b[k]));
        const p = probabilityOf(ctx.tree, delta, ctx.symmetric);
        sum += p;
        if (withPaths) {
          const e = explain(ctx.tree, a, b, { symmetric: ctx.symmetric });
          mine.push({ against: j, probability: p, path: e.path, leaf: e.leaf, sentence: e.sentence });
        }
      }
      // A prompt with one completion has no one to win against: 0.5, neither better nor worse.
      if (members.length > 1) rewards[i] = sum / (members.length - 1);
      paths[i] = mine;
    }
  }
  return { rewards, paths };
}

function requestChoice(reward: unknown, group: unknown, ctx: RewardContext, issues: FieldIssue[]): RewardChoice | null {
  let choice: RewardChoice | null = ctx.reward;
  if (group !== undefined) {
    if (group !== 'tree-winrate') {
      issues.push({ field: 'group', message: `group must be "tree-winrate" (the only group reward), got ${describe(group)}` });
      return null;
    }
    if (reward !== undefined && reward !== 'tree-winrate') {
      issues.push({ field: 'reward', message: `reward ${describe(reward)} contradicts group "tree-winrate": give one` });
      return null;
    }
    return { kind: 'tree-winrate' };
  }
  if (reward !== undefined) {
    try {
      choice = parseRewardChoice(reward, 'reward');
      checkRewardChoice(choice, ctx.model.config.backbone.rewardOutput !== null, 'reward');
    } catch (e) {
      issues.push({ field: 'reward', message: (e as Error).message });
      return null;
    }
  }
  return choice;
}

/** A TRL prompt (string or messages) and completion (string, or `[{"role": "assistant", "content"}]`). */
function trlItem(prompt: unknown, completion: unknown, i: number, model: RewardModel, issues: FieldIssue[]): ScoreRequestItem | null {
  let response: unknown = completion;
  if (Array.isArray(completion)) {
    // TRL's conversational completions: one assistant message.
    const c = completion as unknown[];
    const m = c[0];
    if (c.length !== 1 || !isObject(m) || m.role !== 'assistant' || typeof m.content !== 'string') {
      issues.push({
        field: `completions[${i}]`,
        message: `completions[${i}] must be a string or [{"role": "assistant", "content": "..."}] (one assistant message, as TRL passes it), got ${describe(completion)}`,
      });
      return null;
    }
    response = m.content;
  }
  return checked(prompt, response, `prompts[${i}]`, `completions[${i}]`, model, issues);
}

function checked(
  prompt: unknown,
  response: unknown,
  promptField: string,
  responseField: string,
  model: RewardModel,
  issues: FieldIssue[],
): ScoreRequestItem | null {
  try {
    model.encoder.checkedConversation(prompt, response, { prompt: promptField, response: responseField });
  } catch (e) {
    if (!(e instanceof TypeError || e instanceof RangeError)) throw e;
    const first = /^[^\s:]+/.exec(e.message)?.[0] ?? '';
    issues.push({ field: first.startsWith(promptField) || first === responseField ? first : responseField, message: e.message });
    return null;
  }
  return { prompt: prompt as Prompt | ChatMessage[], response: response as string };
}

function listField(body: Record<string, unknown>, name: string, issues: FieldIssue[]): unknown[] | null {
  const v = body[name];
  if (v === undefined) {
    issues.push({ field: name, message: `${name} is missing` });
    return null;
  }
  if (!Array.isArray(v) || v.length === 0) {
    issues.push({ field: name, message: `${name} must be a non-empty array, got ${describe(v)}` });
    return null;
  }
  return v;
}

function stringList(body: Record<string, unknown>, name: string, issues: FieldIssue[]): string[] | null {
  const v = listField(body, name, issues);
  if (v === null) return null;
  let ok = true;
  v.forEach((s, i) => {
    if (typeof s !== 'string') {
      issues.push({
        field: `${name}[${i}]`,
        message: `${name}[${i}] must be a string (the text as the policy rendered it), got ${describe(s)}`,
      });
      ok = false;
    }
  });
  return ok ? (v as string[]) : null;
}

function tooMany(n: number, ctx: RewardContext): void {
  if (n > ctx.capacity)
    throw new ServeError(
      'E_TOO_LARGE',
      `this batch has ${n} conversations, more than the queue holds (${ctx.capacity}, --queue-size): split it into smaller batches`,
    );
}

function bad(issues: FieldIssue[]): ServeError {
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''}: see "issues")` : '';
  return new ServeError('E_BAD_REQUEST', `${issues[0]!.message}${more}`, { issues });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
