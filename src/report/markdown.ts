/**
 * Markdown rendering (GitHub flavour): the same content as the HTML page, with the tree drawn
 * as text in a code block, tables for the figures and long texts folded in `<details>`.
 *
 * May import: its own folder (report/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/. Never anything above (workflows/ ... cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTES } from '../attributes.js';
import type { Preference } from '../tree/decision.js';
import { markdownFence, markdownInline } from './escape.js';
import type { ComparisonReport, DatasetReport, Report, ReportExample, ReportTree } from './types.js';
import {
  SPLIT_ROWS,
  LEAF_PAIR_ROWS,
  decisionsWords,
  f3,
  hardestWords,
  int,
  largestWords,
  pathWords,
  pct,
  positionWords,
  preferenceWords,
  prettyPath,
  provenanceLines,
  ruleWords,
  shownWords,
  signed,
  splitsWords,
  treeReadingWords,
} from './words.js';

const md = markdownInline;

/**
 * Renders a report as GitHub-flavoured Markdown.
 *
 * @example
 * ```ts
 * writeFileAtomic('why.md', renderMarkdown(buildComparisonReport(tree, { a, b })));
 * ```
 */
export function renderMarkdown(report: Report): string {
  const lines = report.kind === 'comparison' ? comparison(report) : dataset(report);
  lines.push(
    '',
    `<sub>Made by ${md(report.generator)} · report format ${report.format} v${report.version}. ${md(treeReadingWords(report.tree))}</sub>`,
    '',
  );
  // One <sub> line per provenance line, ending in two spaces: a line break on GitHub.
  const prov = provenanceLines(report.provenance, report.tree).map((l) => {
    const what = [l.code !== null ? md(l.code) : '', l.detail !== null ? (l.code !== null ? `(${md(l.detail)})` : md(l.detail)) : '']
      .filter(Boolean)
      .join(' ');
    const parts = [what, l.hash !== null ? `${l.hash.name} ${l.hash.value}` : '', l.note !== null ? md(l.note) : ''].filter(Boolean);
    return `<sub>**${md(l.label)}**: ${parts.join(' · ')}</sub>`;
  });
  lines.push(prov.join('  \n'));
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n')}\n`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `|${align.map((a) => (a === 'r' ? '---:' : ':---')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

function callout(kind: 'WARNING' | 'NOTE', items: readonly string[]): string[] {
  if (items.length === 0) return [];
  return ['', `> [!${kind}]`, ...items.map((w) => `> - ${md(w)}`), ''];
}

function folded(label: string, text: string | null, truncated: boolean | null): string[] {
  if (text === null) return [];
  const lines = text.split('\n').length;
  const size = `${int(text.length)} character${text.length === 1 ? '' : 's'}${lines > 1 ? `, ${int(lines)} lines` : ''}`;
  const head = `${label}${truncated ? ' (truncated: the model read only part of it)' : ''} (${size})`;
  if (text.length <= 1500 && lines <= 30) return ['', `**${head}**`, '', markdownFence(text), ''];
  return ['', `<details><summary>${head}</summary>`, '', markdownFence(text), '', '</details>', ''];
}

/** The tree as text: one line per node, `├─≤`/`└─>` for the branches, markers and extra columns. */
function textTree(tree: ReportTree, extra: (id: number) => string, marks: (id: number) => string): string {
  const rows: Array<[string, string, string]> = [];
  const walk = (id: number, prefix: string, branch: string, childPrefix: string): void => {
    const n = tree.nodes[id]!;
    const label = n.feature === null ? `leaf ${id}` : `node ${id}  ${n.feature} ≤ ${f3(n.threshold)}`;
    const figures = `${pct(n.share).padStart(6)}  P(A) ${f3(n.probability)}${extra(id)}`;
    rows.push([`${prefix}${branch}${label}`, figures, marks(id)]);
    if (n.left !== null && n.right !== null) {
      walk(n.left, childPrefix, '├─≤ ', `${childPrefix}│   `);
      walk(n.right, childPrefix, '└─> ', `${childPrefix}    `);
    }
  };
  walk(0, '', '', '');
  const width = Math.max(...rows.map(([l]) => [...l].length)) + 2;
  const body = rows.map(([l, f, m]) => `${l}${' '.repeat(width - [...l].length)}${f}${m ? `  ${m}` : ''}`.trimEnd()).join('\n');
  return markdownFence(body);
}

// ---------------------------------------------------------------------------------------------

function comparison(r: ComparisonReport): string[] {
  const d = r.decision;
  const out: string[] = [`# ${md(r.title)}`, ''];
  out.push(`Tree **${md(r.tree.name)}**${r.tree.description ? `: ${md(r.tree.description)}` : ''}  `);
  out.push(
    `Rule: ${md(ruleWords(r.rule))}${r.source ? `  \nSource: ${md(r.source)}` : ''}${r.id ? `  \nId: ${md(r.id)}` : ''}${r.subset ? `  \nSubset: ${md(r.subset)}` : ''}`,
  );
  out.push(...callout('WARNING', r.warnings));
  const pPreferred = d.preference === 'b' ? 1 - d.probability : d.probability;
  const who = d.preference === 'tie' ? '**Neither response preferred** (tie)' : `**${d.preference.toUpperCase()} preferred**`;
  out.push('', '## Decision', '');
  out.push(
    `${who}: ${d.preference === 'tie' ? 'P(A preferred)' : `P(${d.preference.toUpperCase()} preferred)`} = **${f3(pPreferred)}**${d.preference === 'b' ? ` (P(A preferred) = ${f3(d.probability)})` : ''}.  `,
  );
  out.push(
    `Leaf ${r.leaf.node}: ${pct(r.leaf.share)} of training pairs${r.leaf.samples === null ? '' : ` (${int(r.leaf.samples)} pairs)`}, P(A) = ${f3(r.leaf.probability)}.${r.rule.symmetric ? `  \n${publishedLine(r)}` : ''}`,
  );
  if (r.label !== null) out.push('', `Label: ${r.label.toUpperCase()} preferred. The tree ${d.agreesWithLabel ? 'agrees' : 'disagrees'}.`);
  out.push('', md(r.sentence));

  const fwd = new Set([...r.path.map((s) => s.node), r.leaf.node]);
  const mirror = r.readings.find((x) => x.reading === 'b-a') ?? null;
  const mir = new Set(mirror ? [...mirror.path.map((s) => s.node), mirror.leaf.node] : []);
  out.push('', '## The decision path', '');
  out.push(
    `◀ marks the path of A − B${mirror ? '; ◁ the path of B − A, the mirrored reading the symmetric rule averages in' : ''}. \`├─≤\` is the branch taken when the test holds, \`└─>\` when it does not.`,
    '',
  );
  out.push(
    textTree(
      r.tree,
      () => '',
      (id) => {
        const m: string[] = [];
        if (fwd.has(id)) m.push(id === r.leaf.node ? '◀ A − B ends here' : '◀ A − B');
        if (mir.has(id)) m.push(mirror && id === mirror.leaf.node ? '◁ B − A ends here' : '◁ B − A');
        return m.join('  ');
      },
    ),
  );
  out.push('', '### Step by step (A − B)', '');
  out.push(
    ...table(
      ['step', 'node', 'test', 'A − B', 'answer', 'training pairs', 'P(A) at node'],
      [
        ...r.path.map((s, k) => [
          String(k + 1),
          String(s.node),
          `${s.attribute} ≤ ${f3(s.threshold)}?`,
          signed(s.delta),
          s.went === 'left' ? 'yes → left' : 'no → right',
          pct(s.share),
          f3(s.probability),
        ]),
        [String(r.path.length + 1), String(r.leaf.node), '**leaf**', '', '', pct(r.leaf.share), `**${f3(r.leaf.probability)}**`],
      ],
      ['r', 'r', 'l', 'r', 'l', 'r', 'r'],
    ),
  );
  if (r.rule.symmetric) {
    const [a, b] = r.readings;
    out.push(
      '',
      '### Both readings',
      '',
      "The tree reads the first response's rewards minus the second's. The symmetric rule asks it both ways and averages, so the order of A and B cannot change the answer.",
      '',
    );
    out.push(
      ...table(
        ['reading', 'path', 'training pairs', 'leaf P(first preferred)', 'P(A)'],
        [
          ...r.readings.map((x) => [
            x.reading === 'a-b' ? 'A − B' : 'B − A',
            `\`${pathWords(x.path, x.leaf.node)}\``,
            pct(x.leaf.share),
            f3(x.leaf.probability),
            x.reading === 'a-b' ? f3(x.probabilityA) : `1 − ${f3(x.leaf.probability)} = ${f3(x.probabilityA)}`,
          ]),
          [
            '**symmetric**',
            'average of the two readings',
            '',
            '',
            a && b ? `½ × (${f3(a.probabilityA)} + ${f3(b.probabilityA)}) = **${f3(d.probability)}**` : f3(d.probability),
          ],
          ['as published', 'A − B only', '', '', `${f3(d.publishedProbability)} (${preferenceWords(d.publishedPreference)})`],
        ],
        ['l', 'l', 'r', 'r', 'r'],
      ),
    );
  }
  out.push('', '## Attribute rewards', '');
  const testedIn = (reading: 'a-b' | 'b-a', attribute: string): number[] =>
    r.readings
      .find((x) => x.reading === reading)
      ?.path.filter((s) => s.attribute === attribute)
      .map((s) => s.node) ?? [];
  out.push(
    ...table(
      ['attribute', 'A', 'B', 'A − B', 'on the path'],
      ATTRIBUTES.map((k) => {
        const f = testedIn('a-b', k);
        const m = testedIn('b-a', k);
        const where = [f.length ? `A − B: node ${f.join(', ')}` : '', m.length ? `B − A: node ${m.join(', ')}` : '']
          .filter(Boolean)
          .join('; ');
        return [f.length ? `**${k}**` : k, f3(r.rewards.a[k]), f3(r.rewards.b[k]), signed(r.rewards.delta[k]), where || 'not tested'];
      }),
      ['l', 'r', 'r', 'r', 'l'],
    ),
  );
  out.push('', '## What would flip it', '');
  const cf = r.counterfactual;
  out.push(
    cf
      ? `**${md(cf.sentence)}** The ${cf.attribute} difference would go from ${signed(cf.delta)} to ${signed(cf.newDelta)} (a change of ${signed(cf.change)}); P(A preferred) would become ${f3(cf.probability)}. This is the smallest single-attribute change that flips the decision, within the range of differences the tree was trained on.`
      : 'No change to a single attribute within the range the tree was trained on flips this decision.',
  );
  if (r.texts.prompt !== null || r.texts.a !== null || r.texts.b !== null) {
    out.push('', '## Prompt and responses');
    out.push(
      ...folded('Prompt', r.texts.prompt, null),
      ...folded('Response A', r.texts.a, r.truncated.a),
      ...folded('Response B', r.texts.b, r.truncated.b),
    );
  }
  return out;
}

function publishedLine(r: ComparisonReport): string {
  const d = r.decision;
  if (Math.abs(d.publishedProbability - d.probability) <= 1e-12)
    return `As published (A − B only): P(A) = ${f3(d.publishedProbability)}, the same.`;
  const flip = d.publishedPreference !== d.preference ? ` **The published rule decides ${preferenceWords(d.publishedPreference)}.**` : '';
  return `As published (A − B only): P(A) = **${f3(d.publishedProbability)}**.${flip}`;
}

// ---------------------------------------------------------------------------------------------

function dataset(r: DatasetReport): string[] {
  const n = r.data.n;
  const c = r.comparison;
  const out: string[] = [`# ${md(r.title)}`, ''];
  const labelled = r.data.labelled === 0 ? 'no labels' : r.data.labelled === n ? 'all labelled' : `${int(r.data.labelled)} labelled`;
  out.push(`Tree **${md(r.tree.name)}**${r.tree.description ? `: ${md(r.tree.description)}` : ''}  `);
  out.push(
    `Data: ${int(n)} pairs${r.data.source ? ` from ${md(r.data.source)}` : ''} · ${labelled}${r.data.subsets.length ? ` · ${r.data.subsets.length} subsets` : ''}  `,
  );
  out.push(`Rule: ${md(ruleWords(r.rule))}`);
  out.push(...callout('WARNING', r.warnings), ...callout('NOTE', r.notes));

  out.push('', '## Summary', '');
  const rows: string[][] = [['Decisions', `${pct(r.decisions.a / n)} A`, decisionsWords(r.decisions, n)]];
  rows.push(
    r.accuracy
      ? [
          'Accuracy',
          f3(r.accuracy.accuracy),
          `on ${int(r.accuracy.labelled)} labelled pairs; published rule ${f3(r.accuracy.publishedAccuracy)}`,
        ]
      : ['Accuracy', 'needs labels', 'no pair has a label'],
  );
  rows.push([
    'Decided by style',
    pct(r.style.share),
    `paths through ${r.style.attributes.join(' or ')}; ${pct(r.style.neutralChangedShare)} change if style differences were 0`,
  ]);
  rows.push([
    'Position consistency',
    pct(r.positionConsistency.published),
    `published rule, A and B swapped${r.rule.symmetric ? `; symmetric rule ${pct(r.positionConsistency.rule)}` : ''}`,
  ]);
  rows.push(
    r.calibration
      ? ['Calibration', `ECE ${f3(r.calibration.ece)}`, `Brier ${f3(r.calibration.brier)} · log loss ${f3(r.calibration.logLoss)}`]
      : ['Calibration', 'needs labels', 'reliability, ECE and Brier compare P(A) with labels'],
  );
  if (c)
    rows.push([`Agreement with ${md(c.otherName)}`, pct(c.agreement), `${int(c.n - c.agree)} of ${int(c.n)} pairs decided differently`]);
  out.push(...table(['', 'value', 'detail'], rows, ['l', 'r', 'l']));

  const byLeaf = new Map(r.leaves.map((l) => [l.node, l]));
  const reach = new Map<number, number>();
  const total = (id: number): number => {
    const node = r.tree.nodes[id]!;
    const v = node.left === null || node.right === null ? (byLeaf.get(id)?.share ?? 0) : total(node.left) + total(node.right);
    reach.set(id, v);
    return v;
  };
  total(0);
  out.push(
    '',
    '## The tree on this data',
    '',
    "Columns: share of the training pairs, the node's P(A), the share of this data reaching it (A − B reading), and at leaves the accuracy when labelled.",
    '',
  );
  out.push(
    textTree(
      r.tree,
      (id) => {
        const leaf = byLeaf.get(id);
        const acc = leaf && leaf.accuracy !== null ? `  accuracy ${f3(leaf.accuracy)}` : '';
        return `  this data ${pct(reach.get(id) ?? 0).padStart(6)}${acc}`;
      },
      () => '',
    ),
  );

  out.push('', '## Paths taken', '');
  out.push(
    ...table(
      [
        'leaf',
        'path',
        'training',
        'pairs',
        'share',
        ...(r.rule.symmetric ? ['B − A ends here'] : []),
        'P(A)',
        'observed A',
        'accuracy',
        ...(c ? [`differ from ${md(c.otherName)}`] : []),
      ],
      r.leaves.map((l) => [
        String(l.node),
        `\`${prettyPath(l.pathText)}\``,
        pct(l.trainingShare),
        int(l.count),
        pct(l.share),
        ...(r.rule.symmetric ? [int(l.mirrorCount)] : []),
        f3(l.probability),
        f3(l.observedA),
        f3(l.accuracy),
        ...(c ? [l.differ === null ? '–' : int(l.differ)] : []),
      ]),
      ['r', 'l', 'r', 'r', 'r', ...(r.rule.symmetric ? (['r'] as const) : []), 'r', 'r', 'r', ...(c ? (['r'] as const) : [])],
    ),
  );

  if (r.subsets.length > 0) {
    out.push('', '## By subset', '');
    out.push(
      ...table(
        ['subset', 'pairs', 'labelled', 'accuracy', 'A preferred', 'decided by style', ...(c ? [`agreement with ${md(c.otherName)}`] : [])],
        r.subsets.map((s) => [
          md(s.name),
          int(s.n),
          int(s.labelled),
          f3(s.accuracy),
          pct(s.decisions.a / s.n),
          pct(s.styleShare),
          ...(c ? [pct(s.agreement)] : []),
        ]),
        ['l', 'r', 'r', 'r', 'r', 'r', ...(c ? (['r'] as const) : [])],
      ),
    );
  }

  const s = r.style;
  out.push('', '## Decided by style', '');
  out.push(
    `${pct(s.share)} of the decisions (${int(s.count)} of ${int(n)}) follow a path that tests ${s.attributes.join(' or ')}${r.rule.symmetric ? ' in either reading' : ''}: ${s.byAttribute.map((b) => `${b.attribute} ${pct(b.share)}`).join(', ')}. ` +
      `Setting the style differences to 0 changes ${pct(s.neutralChangedShare)} of the decisions (${int(s.neutralChanged)}).` +
      (s.accuracyStyled !== null || s.accuracyOther !== null
        ? ` Accuracy on style-decided pairs ${f3(s.accuracyStyled)}, on the others ${f3(s.accuracyOther)}.`
        : ''),
  );
  if (s.matrix) {
    const m = s.matrix;
    out.push(
      '',
      '### RM-Bench style matrix',
      '',
      `${int(m.n)} labelled comparisons, every domain together (\`dtr eval\` gives the matrix per domain). Rows: the chosen response's style; columns: the rejected one's. Each cell: the tree's accuracy (the share of its decisions decided by style, comparisons).`,
      '',
    );
    out.push(
      ...table(
        ['chosen \\ rejected', ...m.styles.map(md)],
        m.cells.map((row, i) => [
          md(m.styles[i] ?? String(i)),
          ...row.map((c) => (c.n > 0 ? `${pct(c.accuracy)} (${pct(c.styleShare)} by style, ${int(c.n)})` : '–')),
        ]),
        ['l', ...m.styles.map(() => 'r' as const)],
      ),
    );
    out.push(
      '',
      `Hard (chosen plainer than rejected, above the diagonal) ${pct(m.hard)}, normal (same style) ${pct(m.normal)}, easy (chosen richer) ${pct(m.easy)}.`,
    );
  }

  const b = r.importances.bootstrap;
  out.push('', '## Importances', '');
  out.push(
    ...table(
      ['attribute', 'impurity', ...(b ? ['bootstrap mean ± sd', '95% interval', 'root split'] : [])],
      ATTRIBUTES.map((a) => [
        a,
        f3(r.importances.impurity[a]),
        ...(b ? [`${f3(b.mean[a])} ± ${f3(b.std[a])}`, `[${f3(b.lower[a])}, ${f3(b.upper[a])}]`, pct(b.rootShare[a])] : []),
      ]),
      ['l', 'r', ...(b ? (['r', 'r', 'r'] as const) : [])],
    ),
  );
  out.push(
    '',
    b
      ? `Impurity: the tree's own importances (from its training data). Bootstrap: ${b.refits} refits with replacement on this data's labels (seed ${b.seed}), same depth and criterion; root split: share of refits whose first test is on the attribute.`
      : `Impurity: the tree's own importances (from its training data). Bootstrap importances refit the tree on resampled labelled pairs: ${r.data.labelled < 2 ? 'they need labels.' : 'not computed.'}`,
  );

  out.push('', '## Calibration', '');
  if (r.calibration) {
    const cal = r.calibration;
    out.push(
      `Expected calibration error **${f3(cal.ece)}**, Brier score **${f3(cal.brier)}**, log loss **${f3(cal.logLoss)}** on ${int(cal.labelled)} labelled pairs.`,
      '',
    );
    out.push(
      ...table(
        ['P(A) bin', 'pairs', 'mean P(A)', 'observed A'],
        cal.bins.map((bin) => [
          `[${bin.lo.toFixed(1)}, ${bin.hi.toFixed(1)}${bin.hi === 1 ? ']' : ')'}`,
          int(bin.n),
          f3(bin.meanPredicted),
          f3(bin.observed),
        ]),
        ['r', 'r', 'r', 'r'],
      ),
    );
  } else {
    out.push('Calibration compares predicted P(A) with what the labels say: it needs labels.');
  }

  out.push('', '## Position consistency', '');
  out.push(
    `With A and B swapped, the published rule (A − B only) decides ${pct(r.positionConsistency.published)} of the pairs the mirrored way; ${positionWords(r.positionConsistency.inconsistent)} ` +
      (r.rule.symmetric
        ? `The symmetric rule used in this report is consistent on ${pct(r.positionConsistency.rule)}.`
        : 'This report uses the published rule.'),
  );

  out.push('', '## Hardest disagreements', '');
  if (r.data.labelled === 0) out.push('Disagreements with the labels need labels.');
  else {
    out.push(hardestWords(r.hardest.length, r.hardestTotal));
    r.hardest.forEach((x, k) => out.push(...example(x, k + 1, r.tree.name, c?.otherName ?? null)));
  }
  if (c) out.push(...compared(r, c));
  return out;
}

function example(x: ReportExample, rank: number, treeName: string, otherName: string | null): string[] {
  const where = [
    x.id !== null ? `id ${md(x.id)}` : null,
    x.line !== null ? `line ${x.line}` : `row ${x.index + 1}`,
    x.subset !== null ? `subset ${md(x.subset)}` : null,
  ]
    .filter(Boolean)
    .join(' · ');
  const pp = (p: Preference, prob: number): string => `${preferenceWords(p)} ${f3(p === 'b' ? 1 - prob : prob)}`;
  const out = [
    '',
    `**#${rank}** · ${where}${x.label ? ` · label ${x.label.toUpperCase()}` : ''} · ${md(treeName)}: ${pp(x.preference, x.probability)}${x.other ? ` · ${md(otherName ?? 'other')}: ${pp(x.other.preference, x.other.probability)}` : ''}  `,
  ];
  out.push(
    `${md(treeName)}: \`${prettyPath(x.pathText)} → leaf ${x.leaf}\`${x.mirrorLeaf !== null ? ` (B − A: leaf ${x.mirrorLeaf})` : ''}  `,
  );
  if (x.other) out.push(`${md(otherName ?? 'other')}: \`${prettyPath(x.other.pathText)} → leaf ${x.other.leaf}\`  `);
  out.push(`A − B: ${ATTRIBUTES.map((a) => `${a} ${signed(x.delta[a])}`).join(', ')}`);
  if (x.texts) {
    const t = x.texts;
    out.push('', '<details><summary>Prompt and responses</summary>');
    for (const [label, text, trunc] of [
      ['Prompt', t.prompt, null],
      ['Response A', t.a, x.truncated?.a ?? null],
      ['Response B', t.b, x.truncated?.b ?? null],
    ] as const) {
      if (text === null) continue;
      out.push('', `**${label}**${trunc ? ' (truncated)' : ''}`, '', markdownFence(text));
    }
    out.push('', '</details>');
  }
  return out;
}

function compared(r: DatasetReport, c: NonNullable<DatasetReport['comparison']>): string[] {
  const out: string[] = [];
  const name = md(c.otherName);
  const primary = md(r.tree.name);
  const differ = c.n - c.agree;
  out.push('', `## ${primary} compared with ${name}`, '');
  out.push(
    `The two trees decide **${pct(c.agreement)}** of the pairs alike and **${int(differ)}** differently.` +
      splitsWords(c.explained, differ) +
      (c.accuracy
        ? ` On ${int(c.accuracy.labelled)} labelled pairs: ${primary} ${f3(c.accuracy.primary)}, ${name} ${f3(c.accuracy.other)}.`
        : '') +
      ` Decided by style (a path through ${r.style.attributes.join(' or ')}): ${primary} ${pct(r.style.share)}, ${name} ${pct(c.otherStyle.share)}.`,
  );
  const prefs: Preference[] = ['a', 'b', 'tie'];
  const used = prefs.filter((p) => prefs.some((q) => c.cross[p][q] > 0 || c.cross[q][p] > 0));
  out.push('', '### Decisions side by side', '');
  out.push(
    ...table(
      [`${primary} ↓ · ${name} →`, ...used.map(preferenceWords)],
      used.map((p) => [
        preferenceWords(p),
        ...used.map((q) => (p !== q && c.cross[p][q] > 0 ? `**${int(c.cross[p][q])}**` : int(c.cross[p][q]))),
      ]),
      ['l', ...used.map(() => 'r' as const)],
    ),
  );
  if (c.splits.length > 0) {
    const shown = c.splits.slice(0, SPLIT_ROWS);
    out.push(
      '',
      '### Splits that make the difference',
      '',
      `For each split of either tree: how many of the ${int(differ)} differing pairs it undoes, that is, sending the pair the other way at this split alone (in either reading, under the symmetric rule) makes the two trees agree. A pair can count for several splits.${shownWords(shown.length, c.splits.length, 'splits that undo the most differences')}`,
      '',
    );
    out.push(
      ...table(
        ['tree', 'node', 'test', 'differences undone', 'share of differences'],
        shown.map((s) => [
          s.tree === 'primary' ? primary : name,
          String(s.node),
          `${s.attribute} ≤ ${f3(s.threshold)}`,
          int(s.count),
          pct(s.share),
        ]),
        ['l', 'r', 'l', 'r', 'r'],
      ),
    );
  }
  out.push('', '### Where the trees cut each attribute', '');
  const attrs = ATTRIBUTES.filter((a) => c.thresholds[a].primary.length + c.thresholds[a].other.length > 0);
  const cuts = (xs: readonly number[]): string => [...new Set(xs)].map(f3).join(', ') || '–';
  out.push(
    ...table(
      ['attribute', primary, name],
      attrs.map((a) => [a, cuts(c.thresholds[a].primary), cuts(c.thresholds[a].other)]),
      ['l', 'l', 'l'],
    ),
  );
  const differing = c.leafPairs.filter((p) => p.differ > 0);
  const pairRows = differing.slice(0, LEAF_PAIR_ROWS);
  if (pairRows.length > 0) {
    out.push(
      '',
      '### Where the differences fall',
      '',
      `Pairs of leaves (A − B reading) reached together, with how many of their pairs the two trees decide differently.${shownWords(pairRows.length, differing.length, 'leaf pairs with the most differences')}`,
      '',
    );
    out.push(
      ...table(
        [`leaf of ${primary}`, `leaf of ${name}`, 'pairs', 'decided differently'],
        pairRows.map((p) => [String(p.leaf), String(p.otherLeaf), int(p.count), int(p.differ)]),
        ['r', 'r', 'r', 'r'],
      ),
    );
  }
  const byLeaf = new Map(c.otherLeaves.map((l) => [l.node, l]));
  out.push('', `### ${name} on this data`, '');
  out.push(
    textTree(
      c.tree,
      (id) => {
        const l = byLeaf.get(id);
        return l ? `  this data ${pct(c.n ? l.count / c.n : 0).padStart(6)}  differs ${l.count ? pct(l.differ / l.count) : '–'}` : '';
      },
      () => '',
    ),
  );
  if (differ > 0) {
    out.push('', '### Largest differences', '', largestWords(c.examples.length, c.examplesTotal));
    c.examples.forEach((x, k) => out.push(...example(x, k + 1, r.tree.name, c.otherName)));
  }
  return out;
}
