/**
 * Small, dependency-free SVG charts and Markdown tables for the notebooks. Pure functions of
 * their input: the same numbers give the same bytes, so committed notebook outputs stay stable.
 *
 * @example
 * ```ts
 * import * as tslab from 'tslab';
 * import { heatmap } from './lib/charts.js';
 * tslab.display.svg(heatmap({ title: 'r', rowLabels: ['x', 'y'], colLabels: ['x', 'y'], values: [[1, 0.5], [0.5, 1]], min: -1, max: 1 }));
 * ```
 */

const FONT = 'font-family="sans-serif"';

/** Escapes text for SVG and HTML. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** `x` with `digits` decimals; `-0.00` is written `0.00`. */
export function fixed(x: number, digits = 2): string {
  const s = x.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

/** Escapes text for an HTML attribute value, quotes of both kinds too (e.g. a page in an iframe's `srcdoc`). */
export function escapeAttribute(text: string): string {
  return escapeXml(text).replace(/'/g, '&#39;');
}

/** A number with an explicit sign: `+0.50`, `-1.25`, `0.00`. */
export function signed(x: number, digits = 2): string {
  const s = fixed(x, digits);
  return x > 0 && Number(s) !== 0 ? `+${s}` : s;
}

type Rgb = readonly [number, number, number];
const BLUE: Rgb = [33, 102, 172];
const WHITE: Rgb = [247, 247, 247];
const RED: Rgb = [178, 24, 43];

function mix(from: Rgb, to: Rgb, t: number): string {
  return (
    '#' +
    from
      .map((v, i) =>
        Math.round(v + (to[i]! - v) * t)
          .toString(16)
          .padStart(2, '0'),
      )
      .join('')
  );
}

/**
 * Diverging colour scale: `min` blue, the midpoint white, `max` red (ColorBrewer RdBu ends).
 * Values outside [min, max] are clamped.
 */
export function diverging(value: number, min: number, max: number): string {
  const mid = (min + max) / 2;
  const t = Math.max(-1, Math.min(1, (value - mid) / ((max - min) / 2)));
  return t < 0 ? mix(WHITE, BLUE, -t) : mix(WHITE, RED, t);
}

/** Black or white text, whichever reads better on a fill made by {@link diverging}. */
function textOn(value: number, min: number, max: number): string {
  const mid = (min + max) / 2;
  return Math.abs((value - mid) / ((max - min) / 2)) > 0.6 ? 'white' : 'black';
}

/** A matrix drawn as coloured cells. */
export interface Heatmap {
  title: string;
  rowLabels: readonly string[];
  colLabels: readonly string[];
  /** values[row][col] */
  values: readonly (readonly number[])[];
  /** Ends of the colour scale (diverging around their midpoint). */
  min: number;
  max: number;
  /** Text in each cell (default: the value with 2 decimals); null for none. */
  label?: ((value: number, row: number, col: number) => string) | null;
  /** Fill of each cell (default: {@link diverging}). */
  color?: (value: number, row: number, col: number) => string;
  rowTitle?: string;
  colTitle?: string;
  /** Cell size in pixels (default 56). */
  cell?: number;
  /** Lines under the chart (a legend in words). */
  notes?: readonly string[];
}

/**
 * A heatmap as an SVG document: rows top to bottom, columns left to right.
 *
 * @example
 * ```ts
 * heatmap({ title: 'Pearson r', rowLabels: ATTRIBUTES, colLabels: ATTRIBUTES, values: r, min: -1, max: 1 });
 * ```
 */
export function heatmap(h: Heatmap): string {
  const cell = h.cell ?? 56;
  const rows = h.rowLabels.length;
  const cols = h.colLabels.length;
  if (h.values.length !== rows || h.values.some((r) => r.length !== cols)) {
    throw new RangeError(`heatmap: values must be ${rows} x ${cols}`);
  }
  const label = h.label === undefined ? (v: number) => fixed(v, 2) : h.label;
  const color = h.color ?? ((v: number) => diverging(v, h.min, h.max));
  const left = 12 + Math.max(...h.rowLabels.map((l) => l.length)) * 7 + (h.rowTitle ? 18 : 0);
  const top = 34;
  const colLabelHeight = Math.max(...h.colLabels.map((l) => l.length)) * 7 + 14;
  const notes = h.notes ?? [];
  const width = Math.max(left + cols * cell + 16, left + h.title.length * 8 + 16, ...notes.map((n) => 8 + n.length * 6.2 + 8)).toFixed(0);
  const height = top + rows * cell + colLabelHeight + (h.colTitle ? 18 : 0) + notes.length * 16 + 8;
  const fontSize = cell >= 40 ? 12 : cell >= 24 ? 9 : 7;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeXml(h.title)}</text>`);
  // Shared attributes on groups keep large grids small.
  out.push(`<g stroke="white">`);
  h.values.forEach((row, i) => {
    row.forEach((v, j) =>
      out.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${color(v, i, j)}"/>`),
    );
  });
  out.push('</g>', `<g text-anchor="middle" font-size="${fontSize}">`);
  h.values.forEach((row, i) => {
    row.forEach((v, j) => {
      const text = label ? label(v, i, j) : '';
      if (!text) return;
      const fill = h.color || textOn(v, h.min, h.max) === 'black' ? '' : ' fill="white"';
      out.push(
        `<text x="${left + j * cell + cell / 2}" y="${fixed(top + i * cell + cell / 2 + fontSize / 3, 1)}"${fill}>${escapeXml(text)}</text>`,
      );
    });
  });
  out.push('</g>');
  h.rowLabels.forEach((l, i) =>
    out.push(`<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${escapeXml(l)}</text>`),
  );
  const yCols = top + rows * cell + 8;
  h.colLabels.forEach((l, j) => {
    const x = left + j * cell + cell / 2 + 4;
    out.push(`<text x="${x}" y="${yCols}" text-anchor="end" transform="rotate(-60 ${x} ${yCols})">${escapeXml(l)}</text>`);
  });
  let y = yCols + colLabelHeight;
  if (h.colTitle) {
    out.push(`<text x="${left + (cols * cell) / 2}" y="${y}" text-anchor="middle" font-style="italic">${escapeXml(h.colTitle)}</text>`);
    y += 18;
  }
  if (h.rowTitle) {
    const cy = top + (rows * cell) / 2;
    out.push(
      `<text x="14" y="${cy}" text-anchor="middle" font-style="italic" transform="rotate(-90 14 ${cy})">${escapeXml(h.rowTitle)}</text>`,
    );
  }
  for (const note of notes) {
    out.push(`<text x="8" y="${y}" font-size="11" fill="#444">${escapeXml(note)}</text>`);
    y += 16;
  }
  out.push('</svg>');
  return out.join('\n');
}

/** One small bar chart of a row of panels. */
export interface BarPanel {
  title: string;
  labels: readonly string[];
  values: readonly number[];
}

/** Options of {@link barPanels}. */
export interface BarPanelOptions {
  /** Width and height of one panel's plot area (default 150 x 110). */
  width?: number;
  height?: number;
  /** Shared top of the value axis (default: the largest value). */
  max?: number;
  /** Text above each bar (default: the value as an integer); null for none. */
  format?: ((value: number) => string) | null;
  /** Bar colour (default a muted blue). */
  color?: string;
  /** Caption under the panels. */
  caption?: string;
}

/**
 * Bar charts side by side with one shared value axis, e.g. the rating distribution of each attribute.
 *
 * @example
 * ```ts
 * barPanels([{ title: 'helpfulness', labels: ['0', '1', '2', '3', '4'], values: [243, 210, 253, 521, 773] }]);
 * ```
 */
export function barPanels(panels: readonly BarPanel[], options: BarPanelOptions = {}): string {
  const w = options.width ?? 150;
  const h = options.height ?? 110;
  const format = options.format === undefined ? (v: number) => String(Math.round(v)) : options.format;
  const max = options.max ?? Math.max(...panels.flatMap((p) => p.values));
  const gap = 18;
  const top = 40;
  const width = gap + panels.length * (w + gap);
  const height = top + h + 26 + (options.caption ? 20 : 4);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="11">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  panels.forEach((panel, k) => {
    if (panel.labels.length !== panel.values.length)
      throw new RangeError(`barPanels: panel '${panel.title}' has ${panel.labels.length} labels and ${panel.values.length} values`);
    const x0 = gap + k * (w + gap);
    out.push(`<text x="${x0 + w / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`);
    out.push(`<line x1="${x0}" y1="${top + h}" x2="${x0 + w}" y2="${top + h}" stroke="#888"/>`);
    const slot = w / panel.values.length;
    panel.values.forEach((v, i) => {
      const bh = max > 0 ? (Math.max(0, v) / max) * h : 0;
      const x = x0 + i * slot + slot * 0.12;
      out.push(
        `<rect x="${fixed(x, 1)}" y="${fixed(top + h - bh, 1)}" width="${fixed(slot * 0.76, 1)}" height="${fixed(bh, 1)}" fill="${options.color ?? '#4a7fb5'}"/>`,
      );
      if (format)
        out.push(
          `<text x="${fixed(x + slot * 0.38, 1)}" y="${fixed(top + h - bh - 3, 1)}" text-anchor="middle" font-size="9">${escapeXml(format(v))}</text>`,
        );
      out.push(`<text x="${fixed(x + slot * 0.38, 1)}" y="${top + h + 14}" text-anchor="middle">${escapeXml(panel.labels[i]!)}</text>`);
    });
  });
  if (options.caption) out.push(`<text x="${gap}" y="${height - 6}" fill="#444">${escapeXml(options.caption)}</text>`);
  out.push('</svg>');
  return out.join('\n');
}

/** One line of a {@link lineChart}. */
export interface Line {
  name: string;
  /** y per x (same length as the chart's xs). */
  ys: readonly number[];
  color: string;
  /** Dashed line. */
  dashed?: boolean;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  title: string;
  xs: readonly number[];
  lines: readonly Line[];
  xLabel: string;
  yLabel: string;
  /** y range (default [0, 1]). */
  yMin?: number;
  yMax?: number;
  /** Horizontal reference lines (e.g. 0.5). */
  yRules?: readonly number[];
  /** Tick values on each axis (default: 5 evenly spaced). */
  xTicks?: readonly number[];
  yTicks?: readonly number[];
  /** Draw each line as steps (piecewise constant, as a tree's output). */
  steps?: boolean;
  width?: number;
  height?: number;
}

/**
 * Lines over a shared x axis, with a legend.
 *
 * @example
 * ```ts
 * lineChart({ title: 'P(a)', xs: [-1, 0, 1], lines: [{ name: 'tree', ys: [0.1, 0.2, 0.9], color: 'black' }], xLabel: 'Δ', yLabel: 'P(a)' });
 * ```
 */
export function lineChart(o: LineChartOptions): string {
  const w = o.width ?? 520;
  const h = o.height ?? 240;
  const yMin = o.yMin ?? 0;
  const yMax = o.yMax ?? 1;
  const left = 56;
  const top = 34;
  const legend = 18 * o.lines.length;
  const width = Math.max(left + w + 20, left + o.title.length * 8.5 + 16).toFixed(0);
  const height = top + h + 44 + legend;
  const xMin = Math.min(...o.xs);
  const xMax = Math.max(...o.xs);
  const sx = (x: number): number => left + ((x - xMin) / (xMax - xMin)) * w;
  const sy = (y: number): number => top + h - ((y - yMin) / (yMax - yMin)) * h;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="11">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeXml(o.title)}</text>`);
  out.push(`<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#888"/>`);
  const even = (lo: number, hi: number): number[] => [0, 1, 2, 3, 4].map((k) => lo + ((hi - lo) * k) / 4);
  const label = (v: number): string => (Number.isInteger(v) ? String(v) : fixed(v, 2));
  for (const y of o.yTicks ?? even(yMin, yMax))
    out.push(`<text x="${left - 6}" y="${fixed(sy(y) + 4, 1)}" text-anchor="end">${label(y)}</text>`);
  for (const x of o.xTicks ?? even(xMin, xMax))
    out.push(`<text x="${fixed(sx(x), 1)}" y="${top + h + 14}" text-anchor="middle">${label(x)}</text>`);
  for (const r of o.yRules ?? []) {
    out.push(`<line x1="${left}" y1="${fixed(sy(r), 1)}" x2="${left + w}" y2="${fixed(sy(r), 1)}" stroke="#bbb" stroke-dasharray="2 3"/>`);
  }
  for (const line of o.lines) {
    if (line.ys.length !== o.xs.length)
      throw new RangeError(`lineChart: line '${line.name}' has ${line.ys.length} values for ${o.xs.length} xs`);
    const pts: string[] = [];
    const last = line.ys.length - 1;
    line.ys.forEach((y, i) => {
      const x = fixed(sx(o.xs[i]!), 1);
      if (!o.steps) pts.push(`${x},${fixed(sy(y), 1)}`);
      // Steps: a corner only where the value changes (a tree's output is constant in between).
      else if (i === 0 || i === last) pts.push(`${x},${fixed(sy(y), 1)}`);
      else if (y !== line.ys[i - 1]) pts.push(`${x},${fixed(sy(line.ys[i - 1]!), 1)}`, `${x},${fixed(sy(y), 1)}`);
    });
    if (o.steps && last > 0 && line.ys[last] !== line.ys[last - 1]) {
      pts.splice(pts.length - 1, 0, `${fixed(sx(o.xs[last]!), 1)},${fixed(sy(line.ys[last - 1]!), 1)}`);
    }
    out.push(
      `<polyline points="${pts.join(' ')}" fill="none" stroke="${line.color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
  }
  out.push(`<text x="${left + w / 2}" y="${top + h + 32}" text-anchor="middle" font-style="italic">${escapeXml(o.xLabel)}</text>`);
  out.push(
    `<text x="14" y="${top + h / 2}" text-anchor="middle" font-style="italic" transform="rotate(-90 14 ${top + h / 2})">${escapeXml(o.yLabel)}</text>`,
  );
  o.lines.forEach((line, i) => {
    const y = top + h + 48 + i * 18;
    out.push(
      `<line x1="${left}" y1="${y - 4}" x2="${left + 28}" y2="${y - 4}" stroke="${line.color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    out.push(`<text x="${left + 36}" y="${y}">${escapeXml(line.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/**
 * A Markdown table (tslab displays it with `tslab.display.markdown`). Numbers are written as
 * given; format them first.
 *
 * @example
 * ```ts
 * markdownTable(['attribute', 'mean'], [['helpfulness', '2.56']]);
 * ```
 */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  align?: readonly ('l' | 'r' | 'c')[],
): string {
  const cell = (v: string | number): string => String(v).replace(/\|/g, '\\|');
  const rule = header.map((_, i) => ({ l: ':---', r: '---:', c: ':---:' })[align?.[i] ?? 'l']);
  return [header, rule, ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
}
