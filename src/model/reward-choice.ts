/**
 * Which scalar is "the reward" when a trainer asks for one number per response: the backbone's
 * own scalar, one attribute, a linear mix of the five, or (group mode) the tree's win rate of a
 * response against the other responses to the same prompt. `dtr serve --reward R` sets it for
 * the reward routes (`/v1/rewards`, `/get_reward`), a request's `"reward"` overrides it.
 *
 * The default is never silent: {@link defaultRewardChoice} says why it chose what it chose, and
 * `dtr serve` prints it at start-up.
 */
import { ATTRIBUTES, isAttribute, type Attribute, type AttributeScores } from '../attributes.js';
import type { ScoreResult } from './types.js';

/** A reward choice, parsed. */
export type RewardChoice =
  | { kind: 'backbone' }
  | { kind: 'attribute'; attribute: Attribute }
  | { kind: 'weights'; weights: AttributeScores }
  | { kind: 'tree-winrate' };

/** The syntax, for messages and --help. */
export const REWARD_CHOICE_SYNTAX = 'backbone | attribute:NAME | weights:helpfulness=1,correctness=0.5,... | tree-winrate';

/**
 * Parses `backbone`, `attribute:NAME`, `weights:NAME=X,...` (unnamed attributes weigh 0) or
 * `tree-winrate`. `param` names the field or flag in the error.
 * @throws RangeError starting with `param` for anything else.
 *
 * @example
 * ```ts
 * parseRewardChoice('weights:helpfulness=1,correctness=0.5', '--reward');
 * // { kind: 'weights', weights: { helpfulness: 1, correctness: 0.5, coherence: 0, complexity: 0, verbosity: 0 } }
 * ```
 */
export function parseRewardChoice(text: unknown, param: string): RewardChoice {
  const bad = (why: string): RangeError => new RangeError(`${param} ${why}: expected ${REWARD_CHOICE_SYNTAX}`);
  if (typeof text !== 'string') throw bad(`must be a string, got ${text === null ? 'null' : typeof text}`);
  const t = text.trim();
  if (t === 'backbone') return { kind: 'backbone' };
  if (t === 'tree-winrate') return { kind: 'tree-winrate' };
  if (t.startsWith('attribute:')) {
    const name = t.slice('attribute:'.length).trim();
    if (!isAttribute(name)) throw bad(`names "${name}", not one of ${ATTRIBUTES.join(', ')}`);
    return { kind: 'attribute', attribute: name };
  }
  if (t.startsWith('weights:')) {
    const weights: Record<Attribute, number> = { helpfulness: 0, correctness: 0, coherence: 0, complexity: 0, verbosity: 0 };
    const seen = new Set<string>();
    const body = t.slice('weights:'.length);
    if (body.trim() === '') throw bad('gives no weights');
    for (const part of body.split(',')) {
      const m = /^\s*([a-z]+)\s*=\s*(\S+)\s*$/.exec(part);
      if (!m) throw bad(`has "${part.trim()}", not NAME=NUMBER`);
      const [, name, value] = m as unknown as [string, string, string];
      if (!isAttribute(name)) throw bad(`weighs "${name}", not one of ${ATTRIBUTES.join(', ')}`);
      if (seen.has(name)) throw bad(`weighs ${name} twice`);
      const x = Number(value);
      if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value) || !Number.isFinite(x))
        throw bad(`gives ${name} the weight "${value}", not a number`);
      seen.add(name);
      weights[name] = x;
    }
    return { kind: 'weights', weights };
  }
  throw bad(`is "${t}"`);
}

/**
 * The choice as text (what {@link parseRewardChoice} reads back).
 *
 * @example
 * ```ts
 * formatRewardChoice({ kind: 'attribute', attribute: 'correctness' }); // 'attribute:correctness'
 * ```
 */
export function formatRewardChoice(c: RewardChoice): string {
  if (c.kind === 'attribute') return `attribute:${c.attribute}`;
  if (c.kind === 'weights')
    return `weights:${ATTRIBUTES.filter((a) => c.weights[a] !== 0)
      .map((a) => `${a}=${c.weights[a]}`)
      .join(',')}`;
  return c.kind;
}

/**
 * The reward when none is asked for: the backbone's scalar where the folder has one, else
 * helpfulness (the attribute the trees split on first); `why` says which and why, for the
 * start-up line.
 *
 * @example
 * ```ts
 * defaultRewardChoice(false).why; // 'attribute:helpfulness (the model folder has no backbone scalar; choose with --reward)'
 * ```
 */
export function defaultRewardChoice(hasBackboneScalar: boolean): { choice: RewardChoice; why: string } {
  return hasBackboneScalar
    ? { choice: { kind: 'backbone' }, why: "backbone (the checkpoint's own scalar; choose another with --reward)" }
    : {
        choice: { kind: 'attribute', attribute: 'helpfulness' },
        why: 'attribute:helpfulness (the model folder has no backbone scalar; choose with --reward)',
      };
}

/**
 * Checks a choice against what the model has: `backbone` needs a backbone scalar.
 * @throws RangeError starting with `param`.
 *
 * @example
 * ```ts
 * checkRewardChoice({ kind: 'backbone' }, false, '--reward'); // throws: "--reward backbone: ... no backbone scalar ..."
 * ```
 */
export function checkRewardChoice(choice: RewardChoice, hasBackboneScalar: boolean, param: string): void {
  if (choice.kind === 'backbone' && !hasBackboneScalar)
    throw new RangeError(
      `${param} backbone: this model folder has no backbone scalar (dtr.json rewardOutput is null): choose attribute:NAME, weights:... or tree-winrate`,
    );
}

/**
 * One response's reward under a per-response choice (not `tree-winrate`, which needs the group).
 *
 * @example
 * ```ts
 * rewardOf({ kind: 'attribute', attribute: 'correctness' }, await model.score('Hi', 'Hello!')); // its correctness
 * ```
 */
export function rewardOf(choice: RewardChoice, result: ScoreResult): number {
  switch (choice.kind) {
    case 'backbone':
      if (result.backboneReward === undefined) throw new RangeError('reward backbone: the model gave no backbone scalar for this response');
      return result.backboneReward;
    case 'attribute':
      return result.rewards[choice.attribute];
    case 'weights': {
      let s = 0;
      for (const a of ATTRIBUTES) s += choice.weights[a] * result.rewards[a];
      return s;
    }
    case 'tree-winrate':
      throw new RangeError('reward tree-winrate is a group reward: score the group together');
  }
}
