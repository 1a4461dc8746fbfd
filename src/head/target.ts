/**
 * Scalarisation formulas: one number from the five attribute rewards, written by a user, such
 * as `helpfulness + 0.5*correctness` or `min(helpfulness, correctness) - 0.1*verbosity`.
 *
 * The text is parsed with mathjs and the syntax tree is checked before anything is compiled:
 * the only names allowed are the five attributes, the only functions a short list of pure math
 * functions, the only operators arithmetic ones. Assignments, function definitions, property
 * access, strings, matrices, comparisons and every other construct are rejected with the
 * position of the offending part, so evaluating a formula can never run anything else.
 *
 * May import: its own folder (head/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/. Never tree/, anything above (explain/ ...
 * cli/) (test/import-graph.test.ts).
 */
import { createRequire } from 'node:module';
import { ATTRIBUTES, type Attribute, type AttributeScores } from '../attributes.js';
import { DtrError, type Issue } from '../errors.js';

/**
 * Functions a formula may call.
 *
 * @example
 * ```ts
 * compileTarget('max(helpfulness, correctness) - abs(verbosity - 2)');
 * ```
 */
export const TARGET_FUNCTIONS = ['abs', 'min', 'max', 'sqrt', 'exp', 'log'] as const;

const OPERATORS = new Set(['add', 'subtract', 'multiply', 'divide', 'pow', 'unaryMinus', 'unaryPlus']);

/** A compiled, checked scalarisation formula. */
export interface TargetFormula {
  /** The formula as given. */
  readonly formula: string;
  /** The attributes it reads, in {@link ATTRIBUTES} order. */
  readonly attributes: readonly Attribute[];
  /** The value for one response's scores (by name). @throws DtrError `E_FORMULA` when the result is not a finite number. */
  evaluate(scores: AttributeScores): number;
  /** The value for a 5-vector in {@link ATTRIBUTES} order, read at `offset` (no allocation per call). */
  evaluateVector(values: ArrayLike<number>, offset?: number): number;
}

interface MathNode {
  type: string;
  name?: string;
  value?: unknown;
  fn?: MathNode | string;
  op?: string;
  traverse(cb: (node: MathNode, path: string, parent: MathNode | null) => void): void;
  compile(): { evaluate(scope: Record<string, number>): unknown };
  toString(): string;
}

interface MathInstance {
  parse(text: string): MathNode;
}

let mathjs: MathInstance | null = null;

/** mathjs, loaded on first use (synchronously, through its CommonJS build): it costs ~0.7 s to import. */
function math(): MathInstance {
  if (!mathjs) {
    const m = createRequire(import.meta.url)('mathjs') as { create: (f: unknown, c: unknown) => MathInstance; all: unknown };
    // A private instance, so nothing else in the process can import() or reconfigure into it.
    mathjs = m.create(m.all, { number: 'number' });
  }
  return mathjs;
}

function describeNode(n: MathNode): string {
  const text = n.toString();
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * Parses and checks a scalarisation formula, then compiles it.
 *
 * @throws DtrError `E_FORMULA` listing every problem (unknown names, disallowed functions or
 *   constructs), each with the part of the formula it concerns.
 * @example
 * ```ts
 * const t = compileTarget('helpfulness + 0.5*correctness');
 * t.attributes; // ['helpfulness', 'correctness']
 * t.evaluate({ helpfulness: 3, correctness: 2, coherence: 4, complexity: 1, verbosity: 2 }); // 4
 * ```
 */
export function compileTarget(formula: string): TargetFormula {
  if (typeof formula !== 'string') throw new TypeError(`formula must be a string, got ${typeof formula}`);
  const text = formula.trim();
  if (text === '') throw new DtrError('E_FORMULA', 'the formula is empty', { hint: `e.g. 'helpfulness + 0.5*correctness'` });
  let root: MathNode;
  try {
    root = math().parse(text);
  } catch (cause) {
    throw new DtrError('E_FORMULA', `cannot parse formula ${JSON.stringify(text)}: ${(cause as Error).message}`, {
      cause,
      hint: `use the attribute names ${ATTRIBUTES.join(', ')}, numbers, + - * / ^, parentheses and ${TARGET_FUNCTIONS.join(', ')}()`,
    });
  }
  const issues: Issue[] = [];
  const used = new Set<Attribute>();
  root.traverse((node, path, parent) => {
    switch (node.type) {
      case 'ConstantNode':
        if (typeof node.value !== 'number') issues.push({ path: describeNode(node), message: 'only numbers are allowed as constants' });
        return;
      case 'ParenthesisNode':
        return;
      case 'OperatorNode':
        if (!OPERATORS.has(String(node.fn)))
          issues.push({ path: describeNode(node), message: `operator '${node.op}' is not allowed (only + - * / ^)` });
        return;
      case 'FunctionNode': {
        const fn = node.fn as MathNode;
        if (fn.type !== 'SymbolNode' || !(TARGET_FUNCTIONS as readonly string[]).includes(fn.name ?? '')) {
          issues.push({
            path: describeNode(node),
            message: `function '${fn.type === 'SymbolNode' ? fn.name : describeNode(fn)}' is not allowed; allowed: ${TARGET_FUNCTIONS.join(', ')}`,
          });
        }
        return;
      }
      case 'SymbolNode': {
        if (parent?.type === 'FunctionNode' && path === 'fn') return; // checked with its FunctionNode
        const name = node.name ?? '';
        if ((ATTRIBUTES as readonly string[]).includes(name)) used.add(name as Attribute);
        else issues.push({ path: name, message: `unknown name '${name}': a formula may use only ${ATTRIBUTES.join(', ')}` });
        return;
      }
      default:
        issues.push({
          path: describeNode(node),
          message: `${node.type
            .replace(/Node$/, '')
            .replace(/([a-z])([A-Z])/g, '$1 $2')
            .toLowerCase()} expressions are not allowed (no assignments, definitions, property access, strings, matrices or comparisons)`,
        });
    }
  });
  if (issues.length > 0) {
    throw new DtrError(
      'E_FORMULA',
      `formula ${JSON.stringify(text)} is not allowed: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { issues },
    );
  }
  const code = root.compile();
  const scope: Record<string, number> = {};
  const attributes = ATTRIBUTES.filter((a) => used.has(a));
  const run = (): number => {
    const v = code.evaluate(scope);
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      const shown = attributes.map((a) => `${a}=${scope[a]}`).join(', ');
      throw new DtrError(
        'E_FORMULA',
        `formula ${JSON.stringify(text)} gives ${typeof v === 'number' ? v : `a non-number (${String(v)})`} for ${shown || 'these scores'}`,
        {
          hint: 'guard sqrt/log against negative rewards, e.g. sqrt(abs(x)) or log(1 + abs(x))',
        },
      );
    }
    return v;
  };
  return {
    formula: text,
    attributes,
    evaluate(scores: AttributeScores): number {
      for (const a of ATTRIBUTES) scope[a] = scores[a];
      return run();
    },
    evaluateVector(values: ArrayLike<number>, offset = 0): number {
      for (let k = 0; k < ATTRIBUTES.length; k++) scope[ATTRIBUTES[k]!] = values[offset + k]!;
      return run();
    },
  };
}
