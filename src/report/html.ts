/**
 * HTML rendering: one self-contained file (inline CSS and SVG; no script, no network, no
 * external fonts), readable on a laptop and printable. A Content-Security-Policy forbids scripts
 * and every fetch, so even a mistake in escaping could not run code or call home.
 *
 * May import: its own folder (report/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/. Never anything above (workflows/ ... cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTES } from '../attributes.js';
import type { Preference } from '../tree/decision.js';
import { escapeHtml, escapeUserText } from './escape.js';
import { formatFixed } from '../util/format.js';
import { differenceBar, importanceSvg, probabilityBar, reliabilitySvg, thresholdRuler, treeLayout, treeSlots, treeSvg } from './svg.js';
import type { ComparisonReport, DatasetReport, Report, ReportExample, ReportTree } from './types.js';
import {
  LEAF_PAIR_ROWS,
  SPLIT_ROWS,
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

const e = escapeHtml;

/** Texts longer than this (characters or lines) are folded behind a <details>. */
const FOLD_CHARS = 1500;
const FOLD_LINES = 30;
const PREVIEW_CHARS = 600;

/**
 * Renders a report as one self-contained HTML page.
 *
 * @example
 * ```ts
 * writeFileAtomic('why.html', renderHtml(buildComparisonReport(tree, { a, b })));
 * ```
 */
export function renderHtml(report: Report): string {
  const body = report.kind === 'comparison' ? comparisonBody(report) : datasetBody(report);
  return page(report.title, report.generator, body);
}

function page(title: string, generator: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta name="generator" content="${e(generator)}">
<title>${e(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

const CSS = `
:root{--a:#1f6fb2;--b:#c2410c;--ink:#111827;--muted:#5b6472;--line:#e5e7eb;--panel:#f8fafc;--mirror:#7c3aed}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","DejaVu Sans",Arial,sans-serif;color:var(--ink);background:#fff}
main{max-width:1240px;margin:0 auto;padding:22px 28px 48px}
header.top{border-bottom:1px solid var(--line);padding-bottom:12px;margin-bottom:16px}
h1{font-size:26px;line-height:1.25;margin:0 0 6px}
h2{font-size:19px;margin:30px 0 10px;padding-top:10px;border-top:1px solid var(--line)}
h3{font-size:15.5px;margin:18px 0 6px}
p{margin:6px 0}
.sub{color:var(--muted);margin:0}
.muted{color:var(--muted)}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:.92em}
.badge{display:inline-block;min-width:1.7em;padding:0 .45em;border-radius:999px;color:#fff;font-weight:700;text-align:center;line-height:1.5}
.badge.a{background:var(--a)}.badge.b{background:var(--b)}.badge.tie{background:#6b7280}
.verdict{display:flex;flex-wrap:wrap;gap:14px 36px;align-items:center;background:var(--panel);border:1px solid var(--line);border-radius:12px;padding:14px 20px}
.verdict .big{font-size:28px;font-weight:700;line-height:1.2}
.verdict .prob{font-size:17px}
.verdict .leafinfo{color:var(--muted);font-size:14px}
.sentence{font-size:15px;margin:12px 2px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(165px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:10px;padding:10px 14px;background:var(--panel)}
.card .k{color:var(--muted);font-size:13px}
.card .v{font-size:24px;font-weight:700;font-variant-numeric:tabular-nums;line-height:1.3}
.card .d{font-size:12.5px;color:var(--muted)}
.card .v .na{font-size:17px;font-weight:600;color:var(--muted)}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;margin:6px 0 10px}
th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-size:13px;color:var(--muted);font-weight:600;border-bottom:2px solid var(--line)}
td.num,th.num{text-align:right}
td.num{white-space:nowrap}
tr.hl td{background:#eef2ff;font-weight:600}
.figure{overflow-x:auto;border:1px solid var(--line);border-radius:10px;padding:8px;background:#fff}
.figure svg.tree{width:100%;height:auto;min-width:880px;display:block}
.figure.wide .canvas{position:relative;min-width:var(--min)}
.figure.wide svg.tree{min-width:0}
.root-anchor{position:absolute;top:0;height:1px;pointer-events:none;scroll-initial-target:nearest;scroll-snap-align:center}
.legend{display:flex;flex-wrap:wrap;gap:6px 20px;font-size:13px;color:var(--muted);margin:4px 2px 8px}
.legend .sw{display:inline-block;width:26px;height:0;vertical-align:middle;margin-right:6px}
.sw.path{border-top:3.5px solid #111827}.sw.mirror{border-top:2.5px dashed var(--mirror)}
.sw.ca,.sw.cb{height:12px;width:14px;border-radius:3px}.sw.ca{background:#399de5}.sw.cb{background:#e58139}
.warn{background:#fff7ed;border:1px solid #fdba74;color:#7c2d12;border-radius:8px;padding:8px 14px;margin:10px 0}
.warn ul,.note ul{margin:4px 0;padding-left:20px}
.note{background:#f1f5f9;border-left:4px solid #94a3b8;padding:8px 12px;border-radius:4px;margin:10px 0}
.flip{background:#f0fdf4;border:1px solid #86efac;border-radius:8px;padding:10px 14px}
.texts{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:14px;align-items:start}
.textbox .label{font-weight:600;margin-bottom:4px}
.text{white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:isolate;font:13.5px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:10px 12px;margin:0}
.u{unicode-bidi:isolate}
.ctl{color:#991b1b;background:#fee2e2;border-radius:3px;font-size:.8em;padding:0 2px}
details>summary{cursor:pointer;color:#1d4ed8;margin:4px 0}
.example{border:1px solid var(--line);border-radius:10px;padding:8px 14px;margin:10px 0}
.example .head{display:flex;flex-wrap:wrap;gap:4px 18px;align-items:baseline}
.path{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:13px}
.two{display:grid;grid-template-columns:repeat(auto-fit,minmax(400px,1fr));gap:16px;align-items:start}
footer{margin-top:36px;padding-top:10px;border-top:1px solid var(--line);color:var(--muted);font-size:13px}
footer ul.provenance{list-style:none;margin:4px 0 0;padding:0;font-size:12px;overflow-wrap:anywhere}
footer ul.provenance code{font-size:11.5px}
@page{margin:12mm}
@media print{
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  main{max-width:none;padding:0}
  h2{break-after:avoid}
  .figure,.card,.verdict,.example,tr,svg{break-inside:avoid}
  .figure{overflow:visible;border:none;padding:0}
  .figure svg.tree,.figure.wide .canvas{min-width:0}
  .root-anchor,.scroll-hint{display:none}
  details>summary{color:var(--muted)}
}
`;

// ---------------------------------------------------------------------------------------------
// Pieces

function badge(p: Preference): string {
  return `<span class="badge ${p}">${p === 'tie' ? 'tie' : p.toUpperCase()}</span>`;
}

/** User text, escaped, isolated from the surrounding direction, bidi controls made visible. */
function u(text: string): string {
  return `<bdi class="u">${escapeUserText(text)}</bdi>`;
}

function textBlock(label: string, text: string | null, truncated: boolean | null, fold: boolean): string {
  if (text === null) return '';
  const lines = text.split('\n').length;
  const warn = truncated ? ' <span class="badge b" title="the model read only part of it">truncated</span>' : '';
  const size = `${int(text.length)} character${text.length === 1 ? '' : 's'}${lines > 1 ? `, ${int(lines)} lines` : ''}`;
  const head = `<div class="label">${e(label)}${warn} <span class="muted">(${size})</span></div>`;
  if (!fold && text.length <= FOLD_CHARS && lines <= FOLD_LINES) {
    return `<div class="textbox">${head}<div class="text" dir="auto">${escapeUserText(text)}</div></div>`;
  }
  // Preview: the first few hundred characters (cut at a line or word), the whole text folded below.
  let preview = text.slice(0, PREVIEW_CHARS);
  const previewLines = preview.split('\n').slice(0, 12).join('\n');
  preview = previewLines.length < preview.length ? previewLines : preview.replace(/\s+\S*$/, '');
  return (
    `<div class="textbox">${head}<div class="text preview" dir="auto">${escapeUserText(preview)}<span class="muted"> …</span></div>` +
    `<details><summary>Show the whole ${e(label.toLowerCase())} (${size})</summary><div class="text" dir="auto">${escapeUserText(text)}</div></details></div>`
  );
}

function cards(items: readonly { k: string; v: string; d?: string }[]): string {
  return `<div class="cards">${items.map((c) => `<div class="card"><div class="k">${c.k}</div><div class="v">${c.v}</div>${c.d ? `<div class="d">${c.d}</div>` : ''}</div>`).join('')}</div>`;
}

function list(cls: string, items: readonly string[]): string {
  if (items.length === 0) return '';
  return `<div class="${cls}"><ul>${items.map((w) => `<li>${e(w)}</li>`).join('')}</ul></div>`;
}

/** Trees of more than 16 leaves are drawn with branches folded (see {@link foldFor}) and may scroll sideways. */
const WIDE_LEAVES = 16;

/** Trees up to this many boxes across (1,468 px) fill the figure's width: at least 80% of their natural size on a laptop. */
const FIT_SLOTS = 9;
/**
 * A wider tree shrinks to the figure's width down to this share of its natural size (node text
 * no smaller than about 8 px); wider still, it scrolls sideways and opens on its root.
 */
const MIN_TREE_SCALE = 0.62;
/** The widest a figure's drawing area gets: main's 1,240 px less its padding, the figure's border and padding. */
const FIGURE_WIDTH = 1166;

/**
 * A tree drawing in its figure. Up to {@link FIT_SLOTS} boxes across it fills the width. A wider
 * one fills the width too, but no narrower than {@link MIN_TREE_SCALE} of its natural size: past
 * that it scrolls sideways, and (no script: reports work with JavaScript disabled) an empty
 * element over the root with CSS `scroll-initial-target` opens the scroll box centred on the
 * root rather than on the leftmost leaves. Browsers without that property open it at the left
 * edge; the caption says where the root is.
 */
function treeFigure(tree: ReportTree, fold: ReadonlySet<number>, svg: string): string {
  if (treeSlots(tree, fold) <= FIT_SLOTS) return `<div class="figure">${svg}</div>`;
  const { width, boxWidth, x } = treeLayout(tree, fold);
  const share = (v: number): string => `${formatFixed((100 * v) / width, 3)}%`;
  const minWidth = Math.round(width * MIN_TREE_SCALE);
  const root = `<span class="root-anchor" style="left:${share(x[0]! - boxWidth / 2)};width:${share(boxWidth)}" aria-hidden="true"></span>`;
  // Wider than the page's figure even at the smallest scale: say so (and where the root is) for every browser.
  const where = x[0]! / width < 0.35 ? 'left of the middle' : x[0]! / width > 0.65 ? 'right of the middle' : 'near the middle';
  const caption =
    minWidth > FIGURE_WIDTH
      ? `<p class="muted scroll-hint">This tree is wider than the page: scroll the figure sideways to see all of it (the root is ${where}).</p>`
      : '';
  return `<div class="figure wide"><div class="canvas" style="--min:${minWidth}px">${svg}${root}</div></div>${caption}`;
}

/**
 * For a tree too wide to read (more than 16 leaves): the split nodes to draw folded. With paths,
 * every branch off them is folded, so the figure shows the paths and their immediate
 * alternatives; without, everything below depth 4 (at most 16 boxes across).
 */
function foldFor(tree: ReportTree, paths: readonly (readonly number[])[] | null): Set<number> {
  const fold = new Set<number>();
  if (tree.nodes.filter((n) => n.feature === null).length <= WIDE_LEAVES) return fold;
  if (paths) {
    const on = new Set(paths.flat());
    for (const id of on) {
      const n = tree.nodes[id]!;
      for (const child of [n.left, n.right]) if (child !== null && !on.has(child) && tree.nodes[child]!.feature !== null) fold.add(child);
    }
  } else {
    for (const n of tree.nodes) if (n.depth === 4 && n.feature !== null) fold.add(n.id);
  }
  return fold;
}

function treeTitle(tree: ReportTree): string {
  return `<p class="sub">Tree <b>${u(tree.name)}</b>${tree.description ? ` — ${u(tree.description)}` : ''}</p>`;
}

function footer(report: Report): string {
  const lines = provenanceLines(report.provenance, report.tree).map((l) => {
    const what = [
      l.code !== null ? `<code>${u(l.code)}</code>` : '',
      l.detail !== null ? (l.code !== null ? `(${u(l.detail)})` : u(l.detail)) : '',
    ]
      .filter(Boolean)
      .join(' ');
    const parts = [
      what,
      l.hash !== null ? `${e(l.hash.name)} <code class="hash">${e(l.hash.value)}</code>` : '',
      l.note !== null ? u(l.note) : '',
    ].filter(Boolean);
    return `<li><b>${u(l.label)}</b>: ${parts.join(' · ')}</li>`;
  });
  return (
    `<footer><p>Made by ${e(report.generator)} · report format ${e(report.format)} v${report.version}. ${e(treeReadingWords(report.tree))}</p>` +
    `<ul class="provenance" aria-label="provenance">${lines.join('')}</ul></footer>`
  );
}

// ---------------------------------------------------------------------------------------------
// One comparison

function comparisonBody(r: ComparisonReport): string {
  const d = r.decision;
  const out: string[] = [];
  out.push(
    `<header class="top"><h1>${u(r.title)}</h1>${treeTitle(r.tree)}<p class="sub">${e(ruleWords(r.rule))}${r.source ? ` · source: ${u(r.source)}` : ''}${r.id ? ` · id ${u(r.id)}` : ''}${r.subset ? ` · subset ${u(r.subset)}` : ''}</p></header>`,
  );
  out.push(list('warn', r.warnings));

  const pPreferred = d.preference === 'b' ? 1 - d.probability : d.probability;
  const leaf = r.leaf;
  const count = leaf.samples === null ? '' : ` (${int(leaf.samples)} pairs)`;
  let labelLine = '';
  if (r.label !== null)
    labelLine = `<div class="leafinfo">Label: ${badge(r.label)} preferred — the tree ${d.agreesWithLabel ? '<b>agrees</b>' : '<b>disagrees</b>'}</div>`;
  out.push(
    `<section class="verdict" id="verdict"><div><div class="big">${badge(d.preference)} ${d.preference === 'tie' ? 'neither preferred' : 'preferred'}</div>` +
      `<div class="prob">${d.preference === 'tie' ? 'P(A preferred)' : `P(${d.preference.toUpperCase()} preferred)`} = <b class="p-main">${f3(pPreferred)}</b></div></div>` +
      `<div>${probabilityBar(d.probability, r.rule.symmetric ? d.publishedProbability : null)}</div>` +
      `<div><div class="leafinfo">Leaf ${leaf.node}: ${pct(leaf.share)} of training pairs${count}, P(A) = ${f3(leaf.probability)}</div>` +
      (r.rule.symmetric ? `<div class="leafinfo">${publishedLine(r)}</div>` : '') +
      `${labelLine}</div></section>`,
  );
  out.push(`<p class="sentence">${u(r.sentence)}</p>`);

  // The tree with both readings.
  const pathIds = [...r.path.map((s) => s.node), leaf.node];
  const pathLabels = new Map<number, string>();
  r.path.forEach((s, k) => pathLabels.set(pathIds[k + 1]!, `${signed(s.delta)}`));
  const mirror = r.readings.find((x) => x.reading === 'b-a') ?? null;
  const mirrorIds = mirror ? [...mirror.path.map((s) => s.node), mirror.leaf.node] : [];
  const mirrorLabels = new Map<number, string>();
  if (mirror) mirror.path.forEach((s, k) => mirrorLabels.set(mirrorIds[k + 1]!, `${signed(s.delta)}`));
  const marks = new Map<number, { text: string; kind: 'path' | 'mirror' }[]>();
  marks.set(leaf.node, [{ text: '▲ A − B ends here', kind: 'path' }]);
  if (mirror) marks.set(mirror.leaf.node, [...(marks.get(mirror.leaf.node) ?? []), { text: '▲ B − A ends here', kind: 'mirror' }]);
  out.push(`<h2 id="tree">The decision path</h2>`);
  out.push(
    `<div class="legend"><span><span class="sw path"></span>path of A − B (numbers: the difference tested)</span>` +
      (mirror ? `<span><span class="sw mirror"></span>path of B − A (the mirrored reading the symmetric rule averages in)</span>` : '') +
      `<span><span class="sw ca"></span>favours A</span><span><span class="sw cb"></span>favours B</span></div>`,
  );
  out.push(
    treeFigure(
      r.tree,
      foldFor(r.tree, [pathIds, mirrorIds]),
      treeSvg(r.tree, {
        title: `Tree ${r.tree.name}: the path of A − B${mirror ? ' and of B − A' : ''}`,
        idPrefix: 'single',
        path: pathIds,
        mirror: mirrorIds,
        pathLabels,
        mirrorLabels,
        leafMarks: marks,
        collapse: foldFor(r.tree, [pathIds, mirrorIds]),
      }),
    ),
  );
  if (foldFor(r.tree, [pathIds, mirrorIds]).size > 0)
    out.push(
      `<p class="muted">The tree has ${r.tree.nodes.filter((x) => x.feature === null).length} leaves: the branches off the two paths are folded (▸); the Markdown and JSON reports hold every node.</p>`,
    );

  // Path as a table (also the text alternative of the figure).
  const rows = r.path.map(
    (s, k) =>
      `<tr><td class="num">${k + 1}</td><td class="num">${s.node}</td><td>${s.attribute} ≤ ${f3(s.threshold)}?</td><td class="num">${signed(s.delta)}</td><td>${s.went === 'left' ? 'yes → left' : 'no → right'}</td><td class="num">${pct(s.share)}</td><td class="num">${f3(s.probability)}</td></tr>`,
  );
  rows.push(
    `<tr class="hl"><td class="num">${r.path.length + 1}</td><td class="num">${leaf.node}</td><td>leaf</td><td></td><td></td><td class="num">${pct(leaf.share)}</td><td class="num">${f3(leaf.probability)}</td></tr>`,
  );
  out.push(
    `<h3>Step by step (A − B)</h3><table class="path-table"><thead><tr><th class="num">step</th><th class="num">node</th><th>test</th><th class="num">A − B</th><th>answer</th><th class="num">training pairs</th><th class="num">P(A) at node</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
  );

  if (r.rule.symmetric) out.push(readingsTable(r));

  // Rewards side by side, with where each attribute is tested in each reading.
  const testedIn = (reading: 'a-b' | 'b-a', attribute: string): number[] =>
    r.readings
      .find((x) => x.reading === reading)
      ?.path.filter((s) => s.attribute === attribute)
      .map((s) => s.node) ?? [];
  const scale = Math.max(1e-9, ...ATTRIBUTES.map((k) => Math.abs(r.rewards.delta[k])));
  const rewardRows = ATTRIBUTES.map((k) => {
    const fwd = testedIn('a-b', k);
    const mir = testedIn('b-a', k);
    const where = [fwd.length ? `A − B: node ${fwd.join(', ')}` : '', mir.length ? `B − A: node ${mir.join(', ')}` : '']
      .filter(Boolean)
      .join('; ');
    return `<tr${fwd.length ? ' class="hl"' : ''}><td>${k}</td><td class="num">${f3(r.rewards.a[k])}</td><td class="num">${f3(r.rewards.b[k])}</td><td class="num">${signed(r.rewards.delta[k])}</td><td>${differenceBar(r.rewards.delta[k], scale)}</td><td>${where || '<span class="muted">not tested</span>'}</td></tr>`;
  });
  out.push(
    `<h2 id="rewards">Attribute rewards</h2><table class="rewards"><thead><tr><th>attribute</th><th class="num">A</th><th class="num">B</th><th class="num">A − B</th><th>difference</th><th>on the path</th></tr></thead><tbody>${rewardRows.join('')}</tbody></table>`,
  );

  out.push(`<h2 id="flip">What would flip it</h2>`);
  const cf = r.counterfactual;
  out.push(
    cf
      ? `<div class="flip"><b>${e(cf.sentence)}</b><br><span class="muted">The ${cf.attribute} difference would go from ${signed(cf.delta)} to ${signed(cf.newDelta)} (a change of ${signed(cf.change)}); P(A preferred) would become ${f3(cf.probability)}. This is the smallest single-attribute change that flips the decision, within the range of differences the tree was trained on.</span></div>`
      : `<div class="note">No change to a single attribute within the range the tree was trained on flips this decision.</div>`,
  );

  if (r.texts.prompt !== null || r.texts.a !== null || r.texts.b !== null) {
    out.push(`<h2 id="texts">Prompt and responses</h2>`);
    if (r.texts.prompt !== null) out.push(textBlock('Prompt', r.texts.prompt, null, false));
    out.push(
      `<div class="texts">${textBlock('Response A', r.texts.a, r.truncated.a, false)}${textBlock('Response B', r.texts.b, r.truncated.b, false)}</div>`,
    );
  }
  out.push(footer(r));
  return out.filter(Boolean).join('\n');
}

function publishedLine(r: ComparisonReport): string {
  const d = r.decision;
  if (Math.abs(d.publishedProbability - d.probability) <= 1e-12)
    return `As published (A − B only): P(A) = ${f3(d.publishedProbability)}, the same.`;
  const flip =
    d.publishedPreference !== d.preference ? ` — <b>the published rule decides ${e(preferenceWords(d.publishedPreference))}</b>` : '';
  return `As published (A − B only): P(A) = <b class="p-published">${f3(d.publishedProbability)}</b>${flip}`;
}

function readingsTable(r: ComparisonReport): string {
  const rows = r.readings.map((x) => {
    const leafP = x.leaf.probability;
    const pa = x.reading === 'a-b' ? f3(x.probabilityA) : `1 − ${f3(leafP)} = ${f3(x.probabilityA)}`;
    return `<tr><td>${x.reading === 'a-b' ? 'A − B' : 'B − A'}</td><td class="path">${e(pathWords(x.path, x.leaf.node))}</td><td class="num">${pct(x.leaf.share)}</td><td class="num">${f3(leafP)}</td><td class="num">${pa}</td></tr>`;
  });
  const [fwd, mir] = r.readings;
  const avg =
    fwd && mir
      ? `½ × (${f3(fwd.probabilityA)} + ${f3(mir.probabilityA)}) = <b>${f3(r.decision.probability)}</b>`
      : f3(r.decision.probability);
  return (
    `<h3>Both readings</h3><p class="muted">The tree reads the first response's rewards minus the second's. The symmetric rule asks it both ways and averages, so the order of A and B cannot change the answer.</p>` +
    `<table class="readings"><thead><tr><th>reading</th><th>path</th><th class="num">training pairs</th><th class="num">leaf P(first preferred)</th><th class="num">P(A)</th></tr></thead><tbody>${rows.join('')}` +
    `<tr class="hl"><td>symmetric</td><td colspan="3">average of the two readings</td><td class="num">${avg}</td></tr>` +
    `<tr><td>as published</td><td colspan="3">A − B only</td><td class="num">${f3(r.decision.publishedProbability)} (${e(preferenceWords(r.decision.publishedPreference))})</td></tr></tbody></table>`
  );
}

// ---------------------------------------------------------------------------------------------
// A dataset

function datasetBody(r: DatasetReport): string {
  const out: string[] = [];
  const n = r.data.n;
  const labelled = r.data.labelled === 0 ? 'no labels' : r.data.labelled === n ? 'all labelled' : `${int(r.data.labelled)} labelled`;
  out.push(
    `<header class="top"><h1>${u(r.title)}</h1>${treeTitle(r.tree)}<p class="sub">${int(n)} pairs${r.data.source ? ` from ${u(r.data.source)}` : ''} · ${labelled}${r.data.subsets.length ? ` · ${r.data.subsets.length} subsets` : ''} · ${e(ruleWords(r.rule))}</p></header>`,
  );
  out.push(list('warn', r.warnings));
  out.push(list('note', r.notes));

  const c = r.comparison;
  out.push(
    cards([
      { k: 'Decisions', v: `${pct(r.decisions.a / n)} A`, d: e(decisionsWords(r.decisions, n)) },
      r.accuracy
        ? {
            k: 'Accuracy',
            v: f3(r.accuracy.accuracy),
            d: `on ${int(r.accuracy.labelled)} labelled pairs; published rule ${f3(r.accuracy.publishedAccuracy)}`,
          }
        : { k: 'Accuracy', v: '<span class="na">needs labels</span>', d: 'no pair has a label' },
      {
        k: 'Decided by style',
        v: pct(r.style.share),
        d: `paths through ${r.style.attributes.join(' or ')}; ${pct(r.style.neutralChangedShare)} change if style differences were 0`,
      },
      {
        k: 'Position consistency',
        v: pct(r.positionConsistency.published),
        d: `published rule, A and B swapped; ${r.rule.symmetric ? `symmetric rule ${pct(r.positionConsistency.rule)}` : 'the rule in use'}`,
      },
      r.calibration
        ? {
            k: 'Calibration',
            v: `ECE ${f3(r.calibration.ece)}`,
            d: `Brier ${f3(r.calibration.brier)} · log loss ${f3(r.calibration.logLoss)}`,
          }
        : { k: 'Calibration', v: '<span class="na">needs labels</span>', d: 'reliability, ECE and Brier compare P(A) with labels' },
      ...(c
        ? [
            {
              k: `Agreement with ${u(c.otherName)}`,
              v: pct(c.agreement),
              d: `${int(c.n - c.agree)} of ${int(c.n)} pairs decided differently`,
            },
          ]
        : []),
    ]),
  );

  // The tree with this data flowing through it.
  const flow = new Map<number, number>();
  const reach = reachShares(r);
  for (const [id, share] of reach) flow.set(id, share);
  const annotations = new Map<number, string[]>();
  for (const node of r.tree.nodes) annotations.set(node.id, [`this data: ${pct(reach.get(node.id) ?? 0)}`]);
  for (const leaf of r.leaves) {
    const extra = annotations.get(leaf.node)!;
    if (leaf.accuracy !== null) extra.push(`accuracy ${f3(leaf.accuracy)} (${int(leaf.labelled)})`);
    else if (leaf.differ !== null && c) extra.push(`differs: ${leaf.count ? pct(leaf.differ / leaf.count) : '–'}`);
  }
  out.push(`<h2 id="tree">The tree on this data</h2>`);
  out.push(
    `<div class="legend"><span>edge width: share of this data's pairs (A − B reading) passing along it</span><span><span class="sw ca"></span>favours A</span><span><span class="sw cb"></span>favours B</span></div>`,
  );
  out.push(
    treeFigure(
      r.tree,
      foldFor(r.tree, null),
      treeSvg(r.tree, {
        title: `Tree ${r.tree.name} with ${n} pairs`,
        idPrefix: 'primary',
        flow,
        annotations,
        collapse: foldFor(r.tree, null),
      }),
    ),
  );
  if (foldFor(r.tree, null).size > 0)
    out.push(
      `<p class="muted">The tree has ${r.leaves.length} leaves: levels below depth 4 are folded (▸); the table of paths lists every leaf.</p>`,
    );

  // Paths.
  const leafRows = r.leaves.map(
    (l) =>
      `<tr><td class="num">${l.node}</td><td class="path">${e(prettyPath(l.pathText))}</td><td class="num">${pct(l.trainingShare)}</td><td class="num">${int(l.count)}</td><td class="num">${pct(l.share)}</td>${r.rule.symmetric ? `<td class="num">${int(l.mirrorCount)}</td>` : ''}<td class="num">${f3(l.probability)}</td><td class="num">${l.observedA === null ? '–' : f3(l.observedA)}</td><td class="num">${l.accuracy === null ? '–' : f3(l.accuracy)}</td>${c ? `<td class="num">${l.differ === null ? '–' : int(l.differ)}</td>` : ''}</tr>`,
  );
  out.push(
    `<h2 id="paths">Paths taken</h2><p class="muted">One row per leaf: how often this data's pairs end there (A − B reading)${r.rule.symmetric ? ', how often the mirrored B − A reading ends there' : ''}, the leaf's P(A), and with labels the observed share of A preferred and the accuracy of the final decisions.</p>` +
      `<table class="leaves"><thead><tr><th class="num">leaf</th><th>path</th><th class="num">training</th><th class="num">pairs</th><th class="num">share</th>${r.rule.symmetric ? '<th class="num">B − A ends here</th>' : ''}<th class="num">P(A)</th><th class="num">observed A</th><th class="num">accuracy</th>${c ? `<th class="num">differ from ${u(c.otherName)}</th>` : ''}</tr></thead><tbody>${leafRows.join('')}</tbody></table>`,
  );

  if (r.subsets.length > 0) {
    const rows = r.subsets.map(
      (s) =>
        `<tr><td>${u(s.name)}</td><td class="num">${int(s.n)}</td><td class="num">${int(s.labelled)}</td><td class="num">${f3(s.accuracy)}</td><td class="num">${pct(s.decisions.a / s.n)}</td><td class="num">${pct(s.styleShare)}</td>${c ? `<td class="num">${pct(s.agreement)}</td>` : ''}</tr>`,
    );
    out.push(
      `<h2 id="subsets">By subset</h2><table class="subsets"><thead><tr><th>subset</th><th class="num">pairs</th><th class="num">labelled</th><th class="num">accuracy</th><th class="num">A preferred</th><th class="num">decided by style</th>${c ? `<th class="num">agreement with ${u(c.otherName)}</th>` : ''}</tr></thead><tbody>${rows.join('')}</tbody></table>`,
    );
  }

  // Style.
  const s = r.style;
  out.push(`<h2 id="style">Decided by style</h2>`);
  out.push(
    `<p>${pct(s.share)} of the decisions (${int(s.count)} of ${int(n)}) follow a path that tests ${s.attributes.join(' or ')}${r.rule.symmetric ? ' in either reading' : ''}: ${s.byAttribute.map((b) => `${b.attribute} ${pct(b.share)}`).join(', ')}. ` +
      `Setting the style differences to 0 changes ${pct(s.neutralChangedShare)} of the decisions (${int(s.neutralChanged)}).` +
      (s.accuracyStyled !== null || s.accuracyOther !== null
        ? ` Accuracy on style-decided pairs ${f3(s.accuracyStyled)}, on the others ${f3(s.accuracyOther)}.`
        : '') +
      `</p>`,
  );
  if (s.matrix) out.push(styleMatrixHtml(s.matrix));

  // Importances.
  const b = r.importances.bootstrap;
  out.push(`<h2 id="importances">Importances</h2>`);
  const impRows = ATTRIBUTES.map(
    (a) =>
      `<tr><td>${a}</td><td class="num">${f3(r.importances.impurity[a])}</td>${b ? `<td class="num">${f3(b.mean[a])} ± ${f3(b.std[a])}</td><td class="num">[${f3(b.lower[a])}, ${f3(b.upper[a])}]</td><td class="num">${pct(b.rootShare[a])}</td>` : ''}</tr>`,
  );
  out.push(
    `<div class="two"><div>${importanceSvg({ impurity: r.importances.impurity, bootstrap: b }, 'Importances per attribute')}<p class="muted">Dark bars: the tree's impurity importance (from its training data).${b ? ` Light bars: mean over ${b.refits} bootstrap refits on this data's labels, with the 95% interval.` : ''}</p></div>` +
      `<div><table class="importances"><thead><tr><th>attribute</th><th class="num">impurity</th>${b ? `<th class="num">bootstrap mean ± sd</th><th class="num">95% interval</th><th class="num">root split</th>` : ''}</tr></thead><tbody>${impRows.join('')}</tbody></table>` +
      (b
        ? `<p class="muted">${b.refits} refits with replacement (seed ${b.seed}), same depth and criterion as the tree; “root split”: share of refits whose first test is on the attribute.</p>`
        : `<p class="muted">Bootstrap importances refit the tree on resampled labelled pairs: ${r.data.labelled < 2 ? 'they need labels.' : 'not computed.'}</p>`) +
      `</div></div>`,
  );

  // Calibration.
  out.push(`<h2 id="calibration">Calibration</h2>`);
  if (r.calibration) {
    const cal = r.calibration;
    const rows = cal.bins.map(
      (bin) =>
        `<tr><td class="num">[${bin.lo.toFixed(1)}, ${bin.hi.toFixed(1)}${bin.hi === 1 ? ']' : ')'}</td><td class="num">${int(bin.n)}</td><td class="num">${f3(bin.meanPredicted)}</td><td class="num">${f3(bin.observed)}</td></tr>`,
    );
    out.push(
      `<div class="two"><div>${reliabilitySvg(cal.bins, 'Reliability diagram')}</div><div><p>Expected calibration error <b>${f3(cal.ece)}</b>, Brier score <b>${f3(cal.brier)}</b>, log loss <b>${f3(cal.logLoss)}</b> on ${int(cal.labelled)} labelled pairs.</p>` +
        `<table class="bins"><thead><tr><th class="num">P(A) bin</th><th class="num">pairs</th><th class="num">mean P(A)</th><th class="num">observed A</th></tr></thead><tbody>${rows.join('')}</tbody></table></div></div>`,
    );
  } else {
    out.push(`<div class="note">Calibration compares predicted P(A) with what the labels say: it needs labels.</div>`);
  }

  out.push(`<h2 id="position">Position consistency</h2>`);
  out.push(
    `<p>With A and B swapped, the published rule (A − B only) decides ${pct(r.positionConsistency.published)} of the pairs the mirrored way; ${positionWords(r.positionConsistency.inconsistent)} ` +
      (r.rule.symmetric
        ? `The symmetric rule used in this report is consistent on ${pct(r.positionConsistency.rule)}.`
        : 'This report uses the published rule.') +
      `</p>`,
  );

  out.push(`<h2 id="hardest">Hardest disagreements</h2>`);
  if (r.data.labelled === 0) out.push(`<div class="note">Disagreements with the labels need labels.</div>`);
  else {
    out.push(`<p class="${r.hardest.length > 0 ? 'muted ' : ''}listed">${e(hardestWords(r.hardest.length, r.hardestTotal))}</p>`);
    r.hardest.forEach((x, k) => out.push(exampleBlock(x, k + 1, r.tree.name, c?.otherName ?? null)));
  }

  if (c) out.push(comparisonSection(r, c));
  out.push(footer(r));
  return out.filter(Boolean).join('\n');
}

/** Share of the data reaching every node of the primary tree (A − B reading), from the leaf counts. */
/**
 * RM-Bench's style matrix beside "decided by style": per cell the tree's accuracy and how many
 * of its decisions went through a style attribute.
 */
function styleMatrixHtml(m: NonNullable<DatasetReport['style']['matrix']>): string {
  const head = `<tr><th>chosen \\ rejected</th>${m.styles.map((x) => `<th class="num">${e(x)}</th>`).join('')}</tr>`;
  const rows = m.cells
    .map(
      (row, i) =>
        `<tr><td>${e(m.styles[i] ?? String(i))}</td>${row.map((c) => `<td class="num">${c.n > 0 ? `${pct(c.accuracy)} <span class="muted">(${pct(c.styleShare)} by style, ${int(c.n)})</span>` : '–'}</td>`).join('')}</tr>`,
    )
    .join('');
  return (
    `<h3>RM-Bench style matrix</h3><p>${int(m.n)} labelled comparisons, every domain together (<code>dtr eval</code> gives the matrix per domain). Rows: the chosen response's style; columns: the rejected one's. Each cell: the tree's accuracy (the share of its decisions decided by style, comparisons).</p>` +
    `<table class="subsets style-matrix"><thead>${head}</thead><tbody>${rows}</tbody></table>` +
    `<p>Hard (chosen plainer than rejected, above the diagonal) ${pct(m.hard)}, normal (same style) ${pct(m.normal)}, easy (chosen richer) ${pct(m.easy)}.</p>`
  );
}

function reachShares(r: DatasetReport): Map<number, number> {
  const shares = new Map<number, number>();
  for (const l of r.leaves) shares.set(l.node, l.share);
  const total = (id: number): number => {
    const node = r.tree.nodes[id]!;
    if (node.left === null || node.right === null) return shares.get(id) ?? 0;
    const v = total(node.left) + total(node.right);
    shares.set(id, v);
    return v;
  };
  total(0);
  return shares;
}

function exampleBlock(x: ReportExample, rank: number, treeName: string, otherName: string | null): string {
  const where = [
    x.id !== null ? `id ${u(x.id)}` : null,
    x.line !== null ? `line ${x.line}` : `row ${x.index + 1}`,
    x.subset !== null ? `subset ${u(x.subset)}` : null,
  ]
    .filter(Boolean)
    .join(' · ');
  const label = x.label ? `label ${badge(x.label)}` : '';
  const pP = (p: Preference, prob: number): string => `${badge(p)} ${f3(p === 'b' ? 1 - prob : prob)}`;
  const tested = ATTRIBUTES.map((a) => `${a} ${signed(x.delta[a])}`).join(', ');
  let body = `<div class="head"><b>#${rank}</b><span class="muted">${where}</span>${label ? `<span>${label}</span>` : ''}<span>${u(treeName)}: ${pP(x.preference, x.probability)}</span>${x.other ? `<span>${u(otherName ?? 'other')}: ${pP(x.other.preference, x.other.probability)}</span>` : ''}</div>`;
  body += `<div class="path">${e(prettyPath(x.pathText))} → leaf ${x.leaf}${x.mirrorLeaf !== null ? ` <span class="muted">(B − A: leaf ${x.mirrorLeaf})</span>` : ''}</div>`;
  if (x.other) body += `<div class="path" style="color:var(--mirror)">${e(prettyPath(x.other.pathText))} → leaf ${x.other.leaf}</div>`;
  body += `<div class="muted" style="font-size:13px">A − B: ${tested}</div>`;
  if (x.texts) {
    const t = x.texts;
    body += `<details><summary>Prompt and responses</summary>${textBlock('Prompt', t.prompt, null, true)}<div class="texts">${textBlock('Response A', t.a, x.truncated?.a ?? null, true)}${textBlock('Response B', t.b, x.truncated?.b ?? null, true)}</div></details>`;
  }
  return `<div class="example">${body}</div>`;
}

function comparisonSection(r: DatasetReport, c: NonNullable<DatasetReport['comparison']>): string {
  const out: string[] = [];
  const name = u(c.otherName);
  const primary = u(r.tree.name);
  out.push(`<h2 id="compare">${primary} compared with ${name}</h2>`);
  const differ = c.n - c.agree;
  out.push(
    `<p>The two trees decide <b>${pct(c.agreement)}</b> of the pairs alike and <b>${int(differ)}</b> differently.` +
      e(splitsWords(c.explained, differ)) +
      (c.accuracy
        ? ` On ${int(c.accuracy.labelled)} labelled pairs: ${primary} ${f3(c.accuracy.primary)}, ${name} ${f3(c.accuracy.other)}.`
        : '') +
      ` Decided by style (a path through ${r.style.attributes.join(' or ')}): ${primary} ${pct(r.style.share)}, ${name} ${pct(c.otherStyle.share)}.` +
      `</p>`,
  );
  const prefs: Preference[] = ['a', 'b', 'tie'];
  const used = prefs.filter((p) => prefs.some((q) => c.cross[p][q] > 0 || c.cross[q][p] > 0));
  out.push(
    `<h3>Decisions side by side</h3><table class="cross"><thead><tr><th>${primary} ↓ · ${name} →</th>${used.map((p) => `<th class="num">${e(preferenceWords(p))}</th>`).join('')}</tr></thead><tbody>` +
      used
        .map(
          (p) =>
            `<tr><td>${e(preferenceWords(p))}</td>${used.map((q) => `<td class="num"${p !== q && c.cross[p][q] > 0 ? ' style="background:#fef3c7;font-weight:600"' : ''}>${int(c.cross[p][q])}</td>`).join('')}</tr>`,
        )
        .join('') +
      `</tbody></table>`,
  );
  if (c.splits.length > 0) {
    const shown = c.splits.slice(0, SPLIT_ROWS);
    const rows = shown.map(
      (s) =>
        `<tr><td>${s.tree === 'primary' ? primary : name}</td><td class="num">${s.node}</td><td>${s.attribute} ≤ ${f3(s.threshold)}</td><td class="num">${int(s.count)}</td><td class="num">${pct(s.share)}</td></tr>`,
    );
    out.push(
      `<h3>Splits that make the difference</h3><p class="muted">For each split of either tree: how many of the ${int(differ)} differing pairs it undoes, that is, sending the pair the other way at this split alone (in either reading, under the symmetric rule) makes the two trees agree. A pair can count for several splits.${e(shownWords(shown.length, c.splits.length, 'splits that undo the most differences'))}</p>` +
        `<table class="splits"><thead><tr><th>tree</th><th class="num">node</th><th>test</th><th class="num">differences undone</th><th class="num">share of differences</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    );
  }
  const cut = ATTRIBUTES.filter((a) => c.thresholds[a].primary.length + c.thresholds[a].other.length > 0);
  const every = cut.flatMap((a) => [...c.thresholds[a].primary, ...c.thresholds[a].other]);
  const range = [Math.min(0, ...every), Math.max(0, ...every)] as const;
  const rulers = cut.map((a) =>
    thresholdRuler(a, c.thresholds[a].primary, c.thresholds[a].other, { primary: r.tree.name, other: c.otherName }, range),
  );
  const rulerBlock =
    `<div><h3>Where the trees cut each attribute</h3><div class="legend"><span><span class="sw path"></span>${primary} (above the line)</span><span><span class="sw mirror" style="border-top-style:solid"></span>${name} (below)</span></div>` +
    `<p class="muted">Each line is one attribute's difference A − B on a common scale; ticks mark the thresholds each tree tests.</p><div>${rulers.join('<br>')}</div></div>`;
  const differing = c.leafPairs.filter((p) => p.differ > 0);
  const pairRows = differing
    .slice(0, LEAF_PAIR_ROWS)
    .map(
      (p) =>
        `<tr><td class="num">${p.leaf}</td><td class="num">${p.otherLeaf}</td><td class="num">${int(p.count)}</td><td class="num">${int(p.differ)}</td></tr>`,
    );
  const pairBlock =
    pairRows.length > 0
      ? `<div><h3>Where the differences fall</h3><p class="muted">Pairs of leaves (A − B reading) reached together, with how many of their pairs the two trees decide differently.${e(shownWords(pairRows.length, differing.length, 'leaf pairs with the most differences'))}</p><table class="leafpairs"><thead><tr><th class="num">leaf of ${primary}</th><th class="num">leaf of ${name}</th><th class="num">pairs</th><th class="num">decided differently</th></tr></thead><tbody>${pairRows.join('')}</tbody></table></div>`
      : '';
  out.push(`<div class="two">${rulerBlock}${pairBlock}</div>`);
  // The other tree, with this data through it.
  const otherTree = c.tree;
  {
    const shares = new Map<number, number>();
    for (const l of c.otherLeaves) shares.set(l.node, c.n ? l.count / c.n : 0);
    const total = (id: number): number => {
      const node = otherTree.nodes[id]!;
      if (node.left === null || node.right === null) return shares.get(id) ?? 0;
      const v = total(node.left) + total(node.right);
      shares.set(id, v);
      return v;
    };
    total(0);
    const annotations = new Map<number, string[]>();
    for (const node of otherTree.nodes) annotations.set(node.id, [`this data: ${pct(shares.get(node.id) ?? 0)}`]);
    for (const l of c.otherLeaves) annotations.get(l.node)!.push(`differs: ${l.count ? pct(l.differ / l.count) : '–'}`);
    out.push(
      `<h3>${name} on this data</h3>${treeFigure(otherTree, foldFor(otherTree, null), treeSvg(otherTree, { title: `Tree ${c.otherName} with ${c.n} pairs`, idPrefix: 'other', flow: shares, annotations, collapse: foldFor(otherTree, null) }))}`,
    );
  }
  if (differ > 0) {
    out.push(
      `<h3>Largest differences</h3><p class="muted listed">${e(largestWords(c.examples.length, c.examplesTotal))}${c.examples.length > 0 ? ` The second path (purple) is ${name}'s.` : ''}</p>`,
    );
    c.examples.forEach((x, k) => out.push(exampleBlock(x, k + 1, r.tree.name, c.otherName)));
  }
  return out.join('\n');
}
