/**
 * Reports to text by format (HTML, Markdown, JSON) and to files, the format told by the file's extension.
 *
 * May import: its own folder (report/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/. Never anything above (workflows/ ... cli/) (test/import-graph.test.ts).
 */
import { extname } from 'node:path';
import { DtrError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import type { Report, ReportFormat } from './types.js';

/**
 * The formats reports render to, by file extension.
 *
 * @example
 * ```ts
 * REPORT_EXTENSIONS['.md']; // 'md'
 * ```
 */
export const REPORT_EXTENSIONS: Readonly<Record<string, ReportFormat>> = {
  '.html': 'html',
  '.htm': 'html',
  '.md': 'md',
  '.markdown': 'md',
  '.json': 'json',
};

/**
 * The report JSON text: the report object with 2-space indentation and a final newline.
 * Deterministic: the same report always gives the same bytes.
 *
 * @example
 * ```ts
 * const text = renderJson(report); // '{\n  "format": "decision-tree-reward/report",\n  "version": 1, ...'
 * ```
 */
export function renderJson(report: Report): string {
  return `${JSON.stringify(report, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`;
}

/**
 * Renders a report as HTML, Markdown or JSON text.
 *
 * @example
 * ```ts
 * const md = renderReport(report, 'md');
 * ```
 */
export function renderReport(report: Report, format: ReportFormat): string {
  if (format === 'html') return renderHtml(report);
  if (format === 'md') return renderMarkdown(report);
  if (format === 'json') return renderJson(report);
  throw new TypeError(`format must be 'html', 'md' or 'json', got ${JSON.stringify(format)}`);
}

/**
 * The format a path's extension names (`.html`, `.md`, `.json`).
 * @throws DtrError `E_USAGE` for any other extension, listing the known ones.
 *
 * @example
 * ```ts
 * reportFormatFromPath('out/why.md'); // 'md'
 * ```
 */
export function reportFormatFromPath(path: string): ReportFormat {
  const format = REPORT_EXTENSIONS[extname(path).toLowerCase()];
  if (format === undefined) {
    throw new DtrError(
      'E_USAGE',
      `cannot tell the report format from '${path}': use a file name ending in ${Object.keys(REPORT_EXTENSIONS).join(', ')}`,
      {
        hint: 'e.g. --out report.html',
      },
    );
  }
  return format;
}

/**
 * Renders a report and writes it atomically (temp file + rename): a failed write leaves no
 * partial file. The format comes from the extension unless given.
 *
 * @example
 * ```ts
 * writeReport('why.html', buildComparisonReport(tree, { a, b }));
 * ```
 */
export function writeReport(
  path: string,
  report: Report,
  format: ReportFormat = reportFormatFromPath(path),
): { path: string; format: ReportFormat; bytes: number } {
  const text = renderReport(report, format);
  writeFileAtomic(path, text);
  return { path, format, bytes: Buffer.byteLength(text) };
}
