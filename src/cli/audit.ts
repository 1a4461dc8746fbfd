/**
 * `dtr audit`: parse an LLM judge's verdicts, fit a tree of its preferences and compare it with a reference
 * tree (eval/audit.ts); this file parses flags, calls and prints.
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { ATTRIBUTES } from '../attributes.js';
import { auditJudge, readAuditPairs, readVerdicts, type AuditReport } from '../eval/audit.js';
import { currentCommandLine, dataFileRecord, makeProvenance } from '../provenance.js';
import { defineCommand } from './args.js';
import { exact } from '../util/format.js';
import { f3, loadTreeArg, pathArg, printJson, table } from './shared.js';

export default defineCommand({
  name: 'audit',
  summary: 'audit an LLM judge: parse its verdicts, fit a depth-3 tree of its preferences, compare with a reference tree',
  description: `Reads a judge's pairwise outputs (--verdicts, JSONL {"id", "order": "ab"|"ba", "output"}) and
the judged pairs' attribute scores (--pairs: attribute pairs {"id", "a", "b"} or dtr eval results),
parses each verdict (Skywork-Critic [[A]]/[[B]], Con-J {"原因": ..., "更好的回答": 1|2} even inside
prose or a code fence, or prose such as "A is the better response"), counts the unreadable ones,
keeps a pair judged in both orders only when both verdicts were read and agree (one unreadable:
its consistency is unchecked, so it is left out unless --keep-unchecked), and fits a depth-3
tree of the judge's preference on the attribute differences a - b.

Reports the agreement with the reference tree (verdicts and trees), the root attribute, the
importances beside the reference's, how much the judge relies on verbosity, and the tree. With
--out the tree is written as a tree file (with provenance) for 'dtr report --tree' or 'dtr explain'.`,
  options: {
    verdicts: { type: 'string', valueName: 'FILE.jsonl', description: "the judge's outputs, one per line", required: true },
    pairs: {
      type: 'string',
      valueName: 'FILE.jsonl',
      description: 'the judged pairs with attribute scores (ratings or rewards)',
      required: true,
    },
    'reference-tree': {
      type: 'string',
      valueName: 'NAME|PATH',
      description: 'tree to compare the judge with',
      default: 'helpsteer2-human',
    },
    out: { type: 'string', valueName: 'FILE.json', description: "write the judge's tree here (a tree file with provenance)" },
    name: { type: 'string', description: 'name stored in the tree file (default: judge-audit)' },
    'max-depth': { type: 'integer', min: 1, max: 64, description: 'depth of the judge tree', default: 3 },
    criterion: { type: 'string', choices: ['log_loss', 'gini'], description: 'split criterion', default: 'log_loss' },
    asymmetric: { type: 'boolean', description: 'compare decisions with the published rule p = f(a-b) instead of the symmetric one' },
    'keep-unchecked': {
      type: 'boolean',
      description: 'also fit pairs judged in both orders whose other verdict could not be read (position consistency unchecked)',
    },
  },
  examples: [
    'dtr audit --verdicts docs/examples/judge-verdicts.jsonl --pairs docs/examples/judged-pairs.jsonl',
    'dtr audit --verdicts judge.jsonl --pairs pairs.jsonl --reference-tree rlhflow-llama-3.1-8b --out trees/judge.json --json',
  ],
  async run(opts, io) {
    const verdictsPath = pathArg(io, opts.verdicts);
    const pairsPath = pathArg(io, opts.pairs);
    const verdicts = readVerdicts(verdictsPath, opts.verdicts);
    const pairs = readAuditPairs(pairsPath, opts.pairs);
    const reference = loadTreeArg(opts['reference-tree'], io);
    const name = opts.name ?? (opts.out !== undefined ? opts.out.replace(/^.*[\\/]/, '').replace(/\.json$/, '') : 'judge-audit');
    const report = auditJudge(verdicts, pairs, {
      reference,
      symmetric: !opts.asymmetric,
      maxDepth: opts['max-depth'],
      criterion: opts.criterion as 'log_loss' | 'gini',
      keepUnchecked: opts['keep-unchecked'] === true,
      name,
      description: `depth-${opts['max-depth']} tree of the judge verdicts in ${opts.verdicts} on the attribute scores of ${opts.pairs}`,
      pairsSource: opts.pairs,
      provenance: makeProvenance(
        "fitted by dtr audit on a judge's position-consistent verdicts",
        [
          dataFileRecord(opts.verdicts, { rows: verdicts.length, role: 'verdicts', readFrom: verdictsPath }),
          dataFileRecord(opts.pairs, { rows: pairs.n, role: 'attributes', readFrom: pairsPath }),
        ],
        currentCommandLine(),
        `reference tree: ${reference.name}`,
      ),
    });
    if (opts.out !== undefined) report.tree.save(pathArg(io, opts.out));
    if (opts.json) printJson(io, { ...auditJson(report), out: opts.out ?? null });
    else {
      io.stdout(renderAudit(report));
      if (opts.out !== undefined) io.stdout(`wrote ${opts.out}\n`);
    }
    for (const w of report.warnings) io.stderr(`dtr audit: warning: ${w}\n`);
    return 0;
  },
});

/** The `--json` document of `dtr audit`. */
export function auditJson(report: AuditReport): Record<string, unknown> {
  return {
    verdicts: report.verdicts,
    pairs: report.pairs,
    fitAccuracy: report.fitAccuracy,
    root: report.root,
    referenceRoot: report.referenceRoot,
    importances: report.importances,
    referenceImportances: report.referenceImportances,
    agreement: report.agreement,
    verbosity: report.verbosity,
    reference: report.reference,
    warnings: report.warnings,
    tree: exact(report.tree.toJSON()), // the artifact, as --out writes it: full precision
    text: report.tree.exportText({ details: true }),
  };
}

/** The human-readable report of `dtr audit`. */
export function renderAudit(r: AuditReport): string {
  const v = r.verdicts;
  const p = r.pairs;
  const lines: string[] = [];
  const formats = Object.entries(v.byFormat)
    .filter(([, n]) => n > 0)
    .map(([f, n]) => `${f} ${n}`)
    .join(', ');
  lines.push(
    `verdicts: ${v.rows} read, ${v.parsed} parsed${formats ? ` (${formats})` : ''}, ${v.unparseable.length} unparseable, ${v.ties} tie${v.ties === 1 ? '' : 's'}`,
  );
  for (const u of v.unparseable.slice(0, 5))
    lines.push(
      `  unparseable ${u.where}: ${u.reason}: ${JSON.stringify(u.excerpt.length > 60 ? `${u.excerpt.slice(0, 60)}…` : u.excerpt)}`,
    );
  if (v.unparseable.length > 5) lines.push(`  … and ${v.unparseable.length - 5} more (--json lists all)`);
  lines.push(
    `pairs: ${p.total}; judged in both orders ${p.bothOrders} (${p.inconsistent.length} inconsistent, dropped); ` +
      `both orders but one unreadable ${p.oneUnreadable.length} (unchecked, ${p.keptUnchecked ? 'kept' : 'dropped'}); ` +
      `one order ${p.singleOrder}; unreadable ${p.unreadable}; no verdict ${p.notJudged}; kept ${p.kept}`,
  );
  lines.push('');
  const ag = r.agreement;
  lines.push(
    `agreement with ${r.reference.name}: verdicts ${f3(ag.verdictsVsReference)}, trees ${f3(ag.treeVsReference)}${ag.verdictsVsLabels === null ? '' : `; verdicts vs the pairs' labels ${f3(ag.verdictsVsLabels)} (${ag.labelled} pairs)`}`,
  );
  lines.push(`judge tree reproduces ${f3(r.fitAccuracy)} of the kept verdicts`);
  lines.push(`root attribute: ${r.root ?? 'none (single leaf)'} (reference: ${r.referenceRoot ?? 'none'})`, '');
  lines.push(
    table(
      ['importance', 'judge', r.reference.name],
      ATTRIBUTES.map((a) => [a, f3(r.importances[a]), f3(r.referenceImportances[a])]),
    ),
  );
  lines.push('');
  const vb = r.verbosity;
  lines.push(
    `verbosity reliance: importance ${f3(vb.importance)} (reference ${f3(vb.referenceImportance)}); ` +
      (vb.preferMoreVerbose === null
        ? 'no kept pair differs in verbosity'
        : `picks the more verbose response in ${f3(vb.preferMoreVerbose)} of ${vb.pairs} pairs that differ (reference ${f3(vb.referencePreferMoreVerbose)})`),
  );
  lines.push('', 'judge tree:', r.tree.exportText({ details: true }).trimEnd());
  return `${lines.join('\n')}\n`;
}
