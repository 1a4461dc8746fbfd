/**
 * Golden Markdown and JSON reports, the JSON round trip (JSON → validate → render gives the same
 * pages) and the committed JSON Schema. Regenerate goldens after an intended change with
 * `UPDATE_GOLDEN=1 npx vitest run test/report-json.test.ts` and review the diff.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { buildComparisonReport } from '../src/report/comparison.js';
import { buildDatasetReport } from '../src/report/dataset.js';
import { treeFileRecord } from '../src/report/provenance.js';
import { dataFileRecord } from '../src/provenance.js';
import { renderHtml } from '../src/report/html.js';
import { datasetInputFromRows } from '../src/report/input.js';
import { parsePairRows } from '../src/data/text-rows.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { renderJson, renderReport } from '../src/report/render.js';
import { reportJsonSchema, validateReport } from '../src/report/schema.js';
import { REPORT_FORMAT_VERSION, type Report } from '../src/report/types.js';
import { readJsonl } from '../src/io/jsonl.js';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { SCHEMA_PATH, schemaText } from '../scripts/report-schema.js';
import { CARD, FLAT, GOLDEN, GOLDEN_GENERATOR, SMALL_PAIRS } from './support/report-fixtures.js';

const llama = PreferenceTree.load('rlhflow-llama-3.1-8b');
const human = PreferenceTree.load('helpsteer2-human');
const update = process.env.UPDATE_GOLDEN === '1';

function golden(name: string, text: string): void {
  const path = join(GOLDEN, name);
  if (update || !existsSync(path)) {
    if (!update) throw new Error(`golden file ${name} is missing: run UPDATE_GOLDEN=1 npx vitest run test/report-json.test.ts`);
    writeFileSync(path, text);
  }
  expect(text).toBe(readFileSync(path, 'utf8'));
}

/** The reports the goldens are made of, with a version-free generator. */
function reports(): Record<string, Report> {
  const pin = <R extends Report>(r: R): R => ({
    ...r,
    generator: GOLDEN_GENERATOR,
    provenance: r.provenance && { ...r.provenance, package: GOLDEN_GENERATOR },
  });
  const rows = parsePairRows(readJsonl(SMALL_PAIRS), 'pairs-small.jsonl', { need: 'scores' });
  // What `dtr report` records; the API reports above record only the trees' names and sources.
  const provenance = {
    source: 'dtr report',
    data: [dataFileRecord('test/fixtures/report/pairs-small.jsonl', { readFrom: SMALL_PAIRS, rows: rows.length, role: 'pairs' })],
    treeFile: treeFileRecord('rlhflow-llama-3.1-8b'),
    compareTreeFile: treeFileRecord('helpsteer2-human'),
    command:
      'dtr report --pairs test/fixtures/report/pairs-small.jsonl --compare-tree helpsteer2-human --bootstrap 10 --hardest 3 --examples 3 --out dataset-small.md',
  };
  return {
    'comparison-card': pin(buildComparisonReport(llama, CARD)),
    'comparison-tie-human': pin(
      buildComparisonReport(human, { a: FLAT, b: { ...FLAT, coherence: 3 }, label: 'a', id: 'flat-1', subset: 'demo' }),
    ),
    'comparison-published-rule': pin(buildComparisonReport(llama, { a: FLAT, b: FLAT }, { symmetric: false })),
    'dataset-small': pin(
      buildDatasetReport(llama, datasetInputFromRows(rows, 'pairs-small.jsonl'), {
        compareTree: human,
        bootstrap: 10,
        hardest: 3,
        examples: 3,
        provenance,
      }),
    ),
  };
}

describe('golden reports', () => {
  const all = reports();
  for (const [name, report] of Object.entries(all)) {
    it(`${name}: Markdown`, () => golden(`${name}.md`, renderMarkdown(report)));
    it(`${name}: JSON`, () => golden(`${name}.json`, renderJson(report)));
  }

  it('is deterministic: building twice gives the same bytes', () => {
    const again = reports();
    for (const [name, report] of Object.entries(all)) {
      expect(renderJson(again[name]!)).toBe(renderJson(report));
      expect(renderHtml(again[name]!)).toBe(renderHtml(report));
    }
  });
});

describe('JSON round trip', () => {
  it('JSON → validate → render gives the same HTML and Markdown', () => {
    for (const report of Object.values(reports())) {
      const check = validateReport(JSON.parse(renderJson(report)));
      expect(check.success).toBe(true);
      if (!check.success) continue;
      for (const format of ['html', 'md', 'json'] as const) expect(renderReport(check.report, format)).toBe(renderReport(report, format));
    }
  });

  it('lists every problem of a broken report with its JSON path', () => {
    const doc = JSON.parse(renderJson(reports()['comparison-card']!)) as Record<string, unknown>;
    delete doc.sentence;
    (doc.decision as Record<string, unknown>).preference = 'c';
    (doc.rewards as Record<string, Record<string, unknown>>).a!.helpfulness = 'high';
    const check = validateReport(doc);
    expect(check.success).toBe(false);
    if (check.success) return;
    expect(check.issues.map((i) => i.path).sort()).toEqual(['decision.preference', 'rewards.a.helpfulness', 'sentence']);
  });

  it('refuses another version of the format, saying which it reads', () => {
    const doc = { ...JSON.parse(renderJson(reports()['comparison-card']!)), version: 3 };
    expect(validateReport(doc)).toEqual({
      success: false,
      issues: [{ path: 'version', message: 'report format version 3 is not supported: this package reads versions 1 and 2' }],
    });
  });

  it('reads version 1 reports (before provenance): provenance and the hardest total unknown, the rest as it was', () => {
    const all = reports();
    for (const name of ['comparison-card', 'dataset-small']) {
      // A version 1 document: no provenance, no totals.
      const v1 = JSON.parse(renderJson(all[name]!)) as Record<string, unknown>;
      v1.version = 1;
      delete v1.provenance;
      delete v1.hardestTotal;
      if (v1.comparison) delete (v1.comparison as Record<string, unknown>).examplesTotal;
      const check = validateReport(v1);
      expect(check.success).toBe(true);
      if (!check.success) continue;
      expect(check.report.version).toBe(REPORT_FORMAT_VERSION);
      expect(check.report.provenance).toBeNull();
      const md = renderMarkdown(check.report);
      expect(md).toContain('**Provenance**: not recorded (a version 1 report)');
      expect(renderHtml(check.report)).toContain('Provenance</bdi></b>: <bdi class="u">not recorded (a version 1 report)</bdi>');
      if (check.report.kind === 'dataset') {
        expect(check.report.hardestTotal).toBeNull();
        expect(check.report.comparison!.examplesTotal).toBe(10);
        expect(md).toContain('the most confident first: 3 listed (this version 1 report did not record how many there are)');
      }
    }
    // Version 2 fields in a version 1 document are named, not silently taken.
    const mixed = { ...JSON.parse(renderJson(all['comparison-card']!)), version: 1 };
    expect(validateReport(mixed)).toEqual({
      success: false,
      issues: [{ path: 'provenance', message: "'provenance' is not part of report format version 1 (it came with version 2)" }],
    });
  });
});

describe('JSON Schema', () => {
  it('docs/report.schema.json is up to date (npx tsx scripts/report-schema.ts)', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(schemaText());
  });

  it('validates every report with an independent JSON Schema validator (ajv, draft 2020-12)', () => {
    const ajv = new Ajv2020.default({ allErrors: true, strict: false });
    const validate = ajv.compile(reportJsonSchema());
    for (const report of Object.values(reports())) {
      const ok = validate(JSON.parse(renderJson(report)));
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    }
    expect(validate({ format: 'decision-tree-reward/report', version: 1, kind: 'comparison' })).toBe(false);
  });
});
