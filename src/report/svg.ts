/**
 * Inline SVG for reports: the tree (with a highlighted path or with data flowing through it),
 * the reliability diagram, importance bars, difference bars and threshold rulers. Pure string
 * builders; every piece of text goes through {@link escapeHtml}.
 *
 * May import: its own folder (report/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/. Never anything above (workflows/ ... cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTES, type Attribute } from '../attributes.js';
import { formatFixed } from '../util/format.js';
import { escapeHtml } from './escape.js';
import type { ReportBin, ReportTree } from './types.js';
import { f3, pct } from './words.js';

/** Coordinates rounded to 0.1 px keep the markup small and deterministic. */
const c = (x: number): string => formatFixed(x, 1).replace(/\.0$/, '');

/** Colours shared by the SVG and the CSS: A is blue, B orange, as scikit-learn's plot_tree. */
export const COLORS = {
  a: '#399de5',
  b: '#e58139',
  path: '#111827',
  mirror: '#7c3aed',
  edge: '#9ca3af',
  grid: '#e5e7eb',
  text: '#111827',
  muted: '#6b7280',
} as const;

/** Fill of a node: white at P(A) = 0.5, blending to blue (A) or orange (B), as scikit-learn. */
export function nodeFill(probabilityA: number): string {
  const alpha = Math.min(1, Math.abs(probabilityA - 0.5) * 2);
  const base = probabilityA >= 0.5 ? [57, 157, 229] : [229, 129, 57];
  const mix = base.map((v) => Math.round(255 * (1 - alpha) + v * alpha));
  return `#${mix.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * How many boxes wide {@link treeSvg} draws a tree: its leaves, with folded nodes counting as one.
 *
 * @example
 * ```ts
 * treeSlots(reportTree(tree), new Set()); // 8 for a full depth-3 tree
 * ```
 */
export function treeSlots(tree: ReportTree, collapse: ReadonlySet<number>): number {
  const walk = (id: number): number => {
    const n = tree.nodes[id]!;
    return n.left === null || n.right === null || collapse.has(id) ? 1 : walk(n.left) + walk(n.right);
  };
  return walk(0);
}

/**
 * Where {@link treeSvg} puts a tree's boxes across: the natural width of the drawing and the
 * horizontal centre of each visible node (leaves in order along the bottom, each split centred
 * over its children; folded nodes count as one box). The page uses the root's centre to open a
 * wide figure on its root.
 *
 * @example
 * ```ts
 * const { width, x } = treeLayout(reportTree(tree), new Set());
 * x[0] / width; // about 0.5: the root sits over the middle of a balanced tree
 * ```
 */
export function treeLayout(
  tree: ReportTree,
  collapse: ReadonlySet<number>,
): { width: number; boxWidth: number; x: Float64Array; visible: number[] } {
  const nodes = tree.nodes;
  const x = new Float64Array(nodes.length);
  const visible: number[] = [];
  let slot = 0;
  const place = (id: number): void => {
    const node = nodes[id]!;
    visible.push(id);
    if (node.left === null || node.right === null || collapse.has(id)) {
      x[id] = MARGIN + slot * (BOX_W + GAP) + BOX_W / 2;
      slot++;
      return;
    }
    place(node.left);
    place(node.right);
    x[id] = (x[node.left]! + x[node.right]!) / 2;
  };
  place(0);
  return { width: MARGIN * 2 + slot * (BOX_W + GAP) - GAP, boxWidth: BOX_W, x, visible };
}

/** Options of {@link treeSvg}. */
export interface TreeSvgOptions {
  /** Accessible title of the figure. */
  title: string;
  /** Prefix of ids inside the SVG, unique per page (default `tree`). */
  idPrefix?: string;
  /** Node ids (root to leaf) of the A − B path to highlight. */
  path?: readonly number[];
  /** Node ids of the B − A reading (symmetric rule), drawn dashed. */
  mirror?: readonly number[];
  /** Text on the edge into a child on the highlighted path (e.g. the difference), keyed by child id. */
  pathLabels?: ReadonlyMap<number, string>;
  mirrorLabels?: ReadonlyMap<number, string>;
  /** Extra lines under a node's figures, keyed by node id. */
  annotations?: ReadonlyMap<number, readonly string[]>;
  /** Share of this data reaching each node: edges into it get proportional widths. */
  flow?: ReadonlyMap<number, number>;
  /** Marks drawn under leaves (e.g. "A − B ends here"), keyed by leaf id. */
  leafMarks?: ReadonlyMap<number, readonly { text: string; kind: 'path' | 'mirror' }[]>;
  /** Split nodes drawn folded: their box, but nothing below it (for trees too wide to read). */
  collapse?: ReadonlySet<number>;
}

const BOX_W = 150;
const GAP = 12;
const LINE = 16;
const LEVEL_GAP = 58;
const MARGIN = 10;

/**
 * The tree as SVG, laid out like scikit-learn's plot_tree: leaves in order along the bottom,
 * each split centred over its children, `<=` to the left. Every node shows its test, training
 * share and P(A preferred); the taken path is drawn thick, the mirrored reading dashed.
 *
 * @example
 * ```ts
 * const svg = treeSvg(reportTree(tree), { title: 'rlhflow-llama-3.1-8b', path: [0, 8, 12, 14] });
 * ```
 */
export function treeSvg(tree: ReportTree, options: TreeSvgOptions): string {
  const nodes = tree.nodes;
  const collapse = options.collapse ?? new Set<number>();
  const leavesBelow = new Int32Array(nodes.length);
  const countLeaves = (id: number): number => {
    const node = nodes[id]!;
    leavesBelow[id] = node.left === null || node.right === null ? 1 : countLeaves(node.left) + countLeaves(node.right);
    return leavesBelow[id]!;
  };
  countLeaves(0);
  const { width, x, visible } = treeLayout(tree, collapse);
  const annotations = options.annotations ?? new Map<number, readonly string[]>();
  const maxExtra = Math.max(0, ...[...annotations.values()].map((a) => a.length)) + (collapse.size > 0 ? 1 : 0);
  const boxH = 10 + LINE * (3 + maxExtra);
  const hasMarks = options.leafMarks !== undefined && options.leafMarks.size > 0;
  const maxDepth = Math.max(...visible.map((id) => nodes[id]!.depth));
  const y = (depth: number): number => MARGIN + 4 + depth * (boxH + LEVEL_GAP);
  const height = y(maxDepth) + boxH + MARGIN + (hasMarks ? 44 : 4);
  const arrowId = `${options.idPrefix ?? 'tree'}-arrow`;
  const onPath = new Set(options.path ?? []);
  const onMirror = new Set(options.mirror ?? []);
  const edge = (parent: number, child: number, side: 'left' | 'right'): string => {
    const x1 = x[parent]!;
    const y1 = y(nodes[parent]!.depth) + boxH;
    const x2 = x[child]!;
    const y2 = y(nodes[child]!.depth);
    const taken = onPath.has(parent) && onPath.has(child);
    const mirrored = onMirror.has(parent) && onMirror.has(child);
    const flow = options.flow?.get(child);
    let out = '';
    const width = flow === undefined ? (taken ? 3.5 : 1.3) : 1 + 15 * flow;
    const stroke = taken ? COLORS.path : flow === undefined ? COLORS.edge : '#93a3b8';
    out += `<path class="edge${taken ? ' on-path' : ''}" data-child="${child}" d="M${c(x1)} ${c(y1)} L${c(x2)} ${c(y2)}" stroke="${stroke}" stroke-width="${c(width)}" fill="none"${taken ? ` marker-end="url(#${arrowId})"` : ''}/>`;
    if (mirrored) {
      const dx = side === 'left' ? 7 : -7;
      out += `<path class="edge on-mirror" data-child="${child}" d="M${c(x1 + dx)} ${c(y1)} L${c(x2 + dx)} ${c(y2)}" stroke="${COLORS.mirror}" stroke-width="2.5" stroke-dasharray="7 4" fill="none"/>`;
    }
    // Which way the test went: '<=' on the left edge, '>' on the right, near the parent.
    const lx = x1 + (x2 - x1) * 0.22 + (side === 'left' ? -10 : 10);
    const ly = y1 + (y2 - y1) * 0.22 + 4;
    out += `<text class="branch" x="${c(lx)}" y="${c(ly)}" text-anchor="middle" font-size="11" fill="${COLORS.muted}">${side === 'left' ? '≤' : '&gt;'}</text>`;
    const label = taken ? options.pathLabels?.get(child) : undefined;
    if (label !== undefined) {
      const mx = x1 + (x2 - x1) * 0.6 + (side === 'left' ? -8 : 8);
      const my = y1 + (y2 - y1) * 0.6;
      out += halo(mx, my, label, side === 'left' ? 'end' : 'start', COLORS.path, 'path-label');
    }
    const mlabel = mirrored ? options.mirrorLabels?.get(child) : undefined;
    if (mlabel !== undefined) {
      const mx = x1 + (x2 - x1) * 0.4 + (side === 'left' ? 10 : -10);
      const my = y1 + (y2 - y1) * 0.4 + 12;
      out += halo(mx, my, mlabel, side === 'left' ? 'start' : 'end', COLORS.mirror, 'mirror-label');
    }
    return out;
  };

  let edges = '';
  let boxes = '';
  for (const id of visible) {
    const node = nodes[id]!;
    const folded = collapse.has(id) && node.left !== null;
    if (node.left !== null && node.right !== null && !folded) {
      edges += edge(node.id, node.left, 'left');
      edges += edge(node.id, node.right, 'right');
    }
    const bx = x[node.id]! - BOX_W / 2;
    const by = y(node.depth);
    const taken = onPath.has(node.id);
    const mirrored = onMirror.has(node.id);
    const leaf = node.feature === null;
    const head = leaf ? `leaf ${node.id}` : `${node.feature} ≤ ${f3(node.threshold!)}`;
    const lines = [
      `${pct(node.share)} of training${node.samples === null ? '' : ` (${Math.round(node.samples).toLocaleString('en-US')})`}`,
      `P(A) = ${f3(node.probability)}`,
      ...(annotations.get(node.id) ?? []),
      ...(folded ? [`▸ ${leavesBelow[id]} leaves below, folded`] : []),
    ];
    const classes = ['node', leaf ? 'leaf' : 'split', folded ? 'folded' : '', taken ? 'on-path' : '', mirrored ? 'on-mirror' : '']
      .filter(Boolean)
      .join(' ');
    let g = `<g class="${classes}" data-node="${node.id}">`;
    g += `<title>${escapeHtml(`node ${node.id}: ${head}; ${lines.join('; ')}`)}</title>`;
    if (mirrored) {
      g += `<rect x="${c(bx - 5)}" y="${c(by - 5)}" width="${BOX_W + 10}" height="${boxH + 10}" rx="9" fill="none" stroke="${COLORS.mirror}" stroke-width="2.5" stroke-dasharray="7 4"/>`;
    }
    g += `<rect x="${c(bx)}" y="${c(by)}" width="${BOX_W}" height="${boxH}" rx="6" fill="${nodeFill(node.probability)}" stroke="${taken ? COLORS.path : COLORS.edge}" stroke-width="${taken ? 3.5 : 1}"${folded ? ' stroke-dasharray="3 3"' : ''}/>`;
    g += text(x[node.id]!, by + 18, head, { weight: 'bold', size: 13.5 });
    lines.forEach((line, k) => {
      g += text(x[node.id]!, by + 18 + LINE * (k + 1), line, { size: 12.5 });
    });
    g += '</g>';
    boxes += g;
    const marks = options.leafMarks?.get(node.id);
    if (marks) {
      marks.forEach((m, k) => {
        boxes += `<text class="leaf-mark ${m.kind === 'path' ? 'mark-path' : 'mark-mirror'}" x="${c(x[node.id]!)}" y="${c(by + boxH + 17 + k * 16)}" text-anchor="middle" font-size="12" font-weight="bold" fill="${m.kind === 'path' ? COLORS.path : COLORS.mirror}">${escapeHtml(m.text)}</text>`;
      });
    }
  }
  const defs = `<defs><marker id="${arrowId}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="${COLORS.path}"/></marker></defs>`;
  return (
    `<svg class="tree" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${c(width)} ${c(height)}" width="${c(width)}" height="${c(height)}" role="img" aria-label="${escapeHtml(options.title)}" font-family="inherit">` +
    `<title>${escapeHtml(options.title)}</title>${defs}<g class="edges">${edges}</g><g class="nodes">${boxes}</g></svg>`
  );
}

function text(x: number, y: number, content: string, o: { weight?: string; size: number; anchor?: string; fill?: string }): string {
  // DejaVu Sans (Debian's default) is wide: squeeze a line that would overflow its box rather than clip it.
  const estimate = content.length * o.size * (o.weight === 'bold' ? 0.56 : 0.52);
  const fit = estimate > BOX_W - 10 ? ` textLength="${BOX_W - 10}" lengthAdjust="spacingAndGlyphs"` : '';
  return `<text x="${c(x)}" y="${c(y)}" text-anchor="${o.anchor ?? 'middle'}" font-size="${o.size}"${o.weight ? ` font-weight="${o.weight}"` : ''} fill="${o.fill ?? COLORS.text}"${fit}>${escapeHtml(content)}</text>`;
}

/** Text with a white outline so it stays readable over edges. */
function halo(x: number, y: number, content: string, anchor: string, fill: string, cls: string): string {
  const body = escapeHtml(content);
  return `<text class="${cls}" x="${c(x)}" y="${c(y)}" text-anchor="${anchor}" font-size="12" font-weight="bold" fill="${fill}" stroke="#fff" stroke-width="4" paint-order="stroke" stroke-linejoin="round">${body}</text>`;
}

/**
 * A reliability diagram: mean predicted P(A) against the observed share of A preferred per bin,
 * dot area proportional to the bin's pairs, the diagonal for perfect calibration, and a count
 * histogram along the bottom.
 *
 * @example
 * ```ts
 * reliabilitySvg(report.calibration.bins, 'Calibration of rlhflow-llama-3.1-8b');
 * ```
 */
export function reliabilitySvg(bins: readonly ReportBin[], title: string): string {
  const W = 380;
  const H = 340;
  const L = 56;
  const R = W - 16;
  const T = 16;
  const B = H - 86;
  const hist = 34;
  const px = (v: number): number => L + v * (R - L);
  const py = (v: number): number => B - v * (B - T);
  let out = `<svg class="reliability" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}" font-family="inherit"><title>${escapeHtml(title)}</title>`;
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    out += `<line x1="${c(px(t))}" y1="${T}" x2="${c(px(t))}" y2="${B}" stroke="${COLORS.grid}"/><line x1="${L}" y1="${c(py(t))}" x2="${R}" y2="${c(py(t))}" stroke="${COLORS.grid}"/>`;
    out += `<text x="${c(px(t))}" y="${B + 15}" text-anchor="middle" font-size="11" fill="${COLORS.muted}">${t}</text>`;
    out += `<text x="${L - 6}" y="${c(py(t) + 4)}" text-anchor="end" font-size="11" fill="${COLORS.muted}">${t}</text>`;
  }
  out += `<line class="diagonal" x1="${px(0)}" y1="${py(0)}" x2="${px(1)}" y2="${py(1)}" stroke="${COLORS.muted}" stroke-dasharray="5 4"/>`;
  out += `<rect x="${L}" y="${T}" width="${R - L}" height="${B - T}" fill="none" stroke="${COLORS.edge}"/>`;
  const maxN = Math.max(1, ...bins.map((b) => b.n));
  const pts: string[] = [];
  for (const b of bins) {
    const bw = px(b.hi) - px(b.lo);
    const h = (b.n / maxN) * hist;
    if (b.n > 0)
      out += `<rect class="count" x="${c(px(b.lo) + 1)}" y="${c(H - 14 - h)}" width="${c(bw - 2)}" height="${c(h)}" fill="#cbd5e1"><title>${b.n} pairs with P(A) in [${b.lo}, ${b.hi})</title></rect>`;
    if (b.meanPredicted === null || b.observed === null) continue;
    pts.push(`${c(px(b.meanPredicted))},${c(py(b.observed))}`);
  }
  if (pts.length > 1) out += `<polyline points="${pts.join(' ')}" fill="none" stroke="${COLORS.a}" stroke-width="2"/>`;
  for (const b of bins) {
    if (b.meanPredicted === null || b.observed === null) continue;
    const r = 3 + 9 * Math.sqrt(b.n / maxN);
    out += `<circle class="bin" cx="${c(px(b.meanPredicted))}" cy="${c(py(b.observed))}" r="${c(r)}" fill="${COLORS.a}" fill-opacity="0.75" stroke="#1e3a8a"><title>${b.n} pairs: mean P(A) ${f3(b.meanPredicted)}, observed ${f3(b.observed)}</title></circle>`;
  }
  out += `<text x="${(L + R) / 2}" y="${B + 32}" text-anchor="middle" font-size="12" fill="${COLORS.text}">predicted P(A preferred)</text>`;
  out += `<text x="${L - 38}" y="${(T + B) / 2}" text-anchor="middle" font-size="12" fill="${COLORS.text}" transform="rotate(-90 ${L - 38} ${(T + B) / 2})">observed share A preferred</text>`;
  out += `<text x="${L}" y="${H - 2}" font-size="10" fill="${COLORS.muted}">pairs per bin</text>`;
  return `${out}</svg>`;
}

/** Options of {@link importanceSvg}. */
export interface ImportanceBars {
  impurity: Readonly<Record<Attribute, number>>;
  bootstrap?: {
    mean: Readonly<Record<Attribute, number>>;
    lower: Readonly<Record<Attribute, number>>;
    upper: Readonly<Record<Attribute, number>>;
  } | null;
}

/**
 * Horizontal bars of importances per attribute: the tree's impurity importance, and the
 * bootstrap mean with its 95% interval when given.
 */
export function importanceSvg(bars: ImportanceBars, title: string): string {
  const rowH = bars.bootstrap ? 34 : 24;
  const L = 96;
  const R = 470;
  const W = 520;
  const H = 26 + ATTRIBUTES.length * rowH + 8;
  const px = (v: number): number => L + v * (R - L);
  let out = `<svg class="importance" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}" font-family="inherit"><title>${escapeHtml(title)}</title>`;
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    out += `<line x1="${c(px(t))}" y1="14" x2="${c(px(t))}" y2="${H - 8}" stroke="${COLORS.grid}"/><text x="${c(px(t))}" y="11" text-anchor="middle" font-size="10" fill="${COLORS.muted}">${t}</text>`;
  }
  ATTRIBUTES.forEach((a, k) => {
    const top = 20 + k * rowH;
    out += `<text x="${L - 8}" y="${top + 13}" text-anchor="end" font-size="12" fill="${COLORS.text}">${a}</text>`;
    const v = bars.impurity[a];
    out += `<rect x="${L}" y="${top + 3}" width="${c(Math.max(0.5, v * (R - L)))}" height="12" fill="#1d4ed8"><title>${a}: impurity importance ${f3(v)}</title></rect>`;
    out += `<text x="${c(px(v) + 5)}" y="${top + 13}" font-size="11" fill="${COLORS.text}">${f3(v)}</text>`;
    if (bars.bootstrap) {
      const m = bars.bootstrap.mean[a];
      const lo = bars.bootstrap.lower[a];
      const hi = bars.bootstrap.upper[a];
      const yb = top + 23;
      out += `<rect x="${L}" y="${yb - 4}" width="${c(Math.max(0.5, m * (R - L)))}" height="8" fill="#93c5fd"><title>${a}: bootstrap mean ${f3(m)}, 95% interval [${f3(lo)}, ${f3(hi)}]</title></rect>`;
      out += `<line x1="${c(px(lo))}" y1="${yb}" x2="${c(px(hi))}" y2="${yb}" stroke="${COLORS.text}" stroke-width="1.5"/><line x1="${c(px(lo))}" y1="${yb - 4}" x2="${c(px(lo))}" y2="${yb + 4}" stroke="${COLORS.text}"/><line x1="${c(px(hi))}" y1="${yb - 4}" x2="${c(px(hi))}" y2="${yb + 4}" stroke="${COLORS.text}"/>`;
    }
  });
  return `${out}</svg>`;
}

/** A small diverging bar for a difference A − B: blue to the right when A is higher, orange to the left. */
export function differenceBar(delta: number, scale: number): string {
  const W = 140;
  const mid = W / 2;
  const len = scale > 0 ? Math.min(1, Math.abs(delta) / scale) * (mid - 2) : 0;
  const x = delta >= 0 ? mid : mid - len;
  return `<svg class="diffbar" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} 14" width="${W}" height="14" aria-hidden="true"><line x1="${mid}" y1="0" x2="${mid}" y2="14" stroke="${COLORS.muted}"/><rect x="${c(x)}" y="3" width="${c(len)}" height="8" fill="${delta >= 0 ? COLORS.a : COLORS.b}"/></svg>`;
}

/** A bar from B (0) to A (1) with a marker at P(A preferred). */
export function probabilityBar(p: number, published: number | null): string {
  const W = 320;
  const L = 22;
  const R = W - 22;
  const px = (v: number): number => L + v * (R - L);
  let out = `<svg class="probbar" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} 40" width="${W}" height="40" role="img" aria-label="P(A preferred) = ${f3(p)}" font-family="inherit">`;
  out += `<defs><linearGradient id="ab" x1="0" x2="1"><stop offset="0" stop-color="${COLORS.b}"/><stop offset="0.5" stop-color="#ffffff"/><stop offset="1" stop-color="${COLORS.a}"/></linearGradient></defs>`;
  out += `<rect x="${L}" y="12" width="${R - L}" height="12" rx="6" fill="url(#ab)" stroke="${COLORS.edge}"/>`;
  out += `<text x="${L - 6}" y="22" text-anchor="end" font-size="12" font-weight="bold" fill="${COLORS.b}">B</text><text x="${R + 6}" y="22" font-size="12" font-weight="bold" fill="${COLORS.a}">A</text>`;
  out += `<line x1="${c(px(0.5))}" y1="8" x2="${c(px(0.5))}" y2="28" stroke="${COLORS.muted}" stroke-dasharray="2 2"/>`;
  if (published !== null && Math.abs(published - p) > 1e-12) {
    out += `<circle class="published" cx="${c(px(published))}" cy="18" r="5" fill="#fff" stroke="${COLORS.text}" stroke-width="1.5"><title>as published: ${f3(published)}</title></circle>`;
  }
  out += `<circle class="marker" cx="${c(px(p))}" cy="18" r="7" fill="${COLORS.path}" stroke="#fff" stroke-width="2"><title>P(A preferred) = ${f3(p)}</title></circle>`;
  out += `<text x="${L}" y="38" font-size="10" fill="${COLORS.muted}">0</text><text x="${c(px(0.5))}" y="38" text-anchor="middle" font-size="10" fill="${COLORS.muted}">0.5</text><text x="${R}" y="38" text-anchor="end" font-size="10" fill="${COLORS.muted}">1</text>`;
  return `${out}</svg>`;
}

/**
 * Where two trees cut one attribute: a number line with the primary tree's thresholds above and
 * the other tree's below. Give every attribute the same `range` so the lines compare.
 */
export function thresholdRuler(
  attribute: Attribute,
  primary: readonly number[],
  other: readonly number[],
  names: { primary: string; other: string },
  range?: readonly [number, number],
): string {
  primary = [...new Set(primary)];
  other = [...new Set(other)];
  const all = [...primary, ...other];
  let lo = range ? range[0] : Math.min(...all);
  let hi = range ? range[1] : Math.max(...all);
  const pad = Math.max(0.25, (hi - lo) * 0.08);
  lo -= pad;
  hi += pad;
  const W = 520;
  const L = 96;
  const R = W - 16;
  const px = (v: number): number => L + ((v - lo) / (hi - lo)) * (R - L);
  let out = `<svg class="ruler" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} 58" width="${W}" height="58" role="img" aria-label="${escapeHtml(`${attribute} thresholds: ${names.primary} ${primary.map(f3).join(', ') || 'none'}; ${names.other} ${other.map(f3).join(', ') || 'none'}`)}" font-family="inherit">`;
  out += `<text x="${L - 8}" y="33" text-anchor="end" font-size="12" fill="${COLORS.text}">${attribute}</text>`;
  out += `<line x1="${L}" y1="29" x2="${R}" y2="29" stroke="${COLORS.muted}"/>`;
  if (lo < 0 && hi > 0) {
    // The zero tick is labelled only where no threshold label would sit on top of it.
    const crowded = all.some((t) => Math.abs(px(t) - px(0)) < 22);
    out += `<line x1="${c(px(0))}" y1="24" x2="${c(px(0))}" y2="34" stroke="${COLORS.muted}"/>`;
    if (!crowded) out += `<text x="${c(px(0))}" y="44" text-anchor="middle" font-size="9" fill="${COLORS.muted}">0</text>`;
  }
  for (const t of primary) {
    out += `<line class="t-primary" x1="${c(px(t))}" y1="14" x2="${c(px(t))}" y2="29" stroke="${COLORS.path}" stroke-width="2.5"/><text x="${c(px(t))}" y="11" text-anchor="middle" font-size="10" fill="${COLORS.path}">${f3(t)}</text>`;
  }
  for (const t of other) {
    out += `<line class="t-other" x1="${c(px(t))}" y1="29" x2="${c(px(t))}" y2="44" stroke="${COLORS.mirror}" stroke-width="2.5"/><text x="${c(px(t))}" y="55" text-anchor="middle" font-size="10" fill="${COLORS.mirror}">${f3(t)}</text>`;
  }
  return `${out}</svg>`;
}
