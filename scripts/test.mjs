#!/usr/bin/env node
// Runs the whole test suite and ends with one plain summary line that CI reads:
//   vitest: 212 passed, 0 failed, 3 skipped
// vitest's own summary is printed too (for humans) but CI does not parse it, so the counts
// come from its JSON reporter.
// With CI=true a skipped test counts as a failure.
// The notebooks are counted in the same line: each TypeScript notebook is one test for its type
// check (notebooks/typecheck.mjs) and every notebook one test for its run (notebooks/run.py:
// executed headless, outputs identical to the committed ones). They are not run when arguments
// are passed to vitest (a filtered run); they are skipped, with the reason printed, when
// notebooks/node_modules (`npm ci --prefix notebooks`) or Debian's jupyter-nbconvert is missing.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'test-output');
const jsonPath = join(outDir, 'vitest.json');
mkdirSync(outDir, { recursive: true });
rmSync(jsonPath, { force: true });

const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${jsonPath}`, ...process.argv.slice(2)];
const res = spawnSync('npx', args, { cwd: root, stdio: 'inherit' });

let passed = 0, failed = 0, skipped = 0;
if (existsSync(jsonPath)) {
  const report = JSON.parse(readFileSync(jsonPath, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A suite that fails to load (syntax error, bad import) has no tests in it: count it as a failure.
  failed += (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length;
  // Skipped tests state their reason in their names (describe.skipIf(...)('... (skipped: why)')): list
  // them (not in a filtered run, where everything filtered out counts as skipped).
  for (const file of process.argv.length > 2 ? [] : (report.testResults ?? [])) {
    for (const t of file.assertionResults ?? []) {
      if (['skipped', 'pending', 'todo'].includes(t.status)) console.log(`skipped: ${file.name.slice(root.length)}: ${t.fullName}`);
    }
  }
} else {
  failed = 1;
  console.error('test runner: vitest wrote no JSON report');
}
const notebooks = await runNotebooks(process.argv.length > 2);
const nb = notebooks.passed + notebooks.failed + notebooks.skipped;
// vitest's own summary (above) counts its tests only: say what the last line adds to it.
if (nb > 0) console.log(`totals: vitest's ${passed + failed + skipped} tests + ${nb} notebook checks (type checks and headless runs) = ${passed + failed + skipped + nb}, counted in the line below`);
passed += notebooks.passed;
failed += notebooks.failed;
skipped += notebooks.skipped;
// CI installs everything the suites need, so there a skip can only hide a failure: count it as one.
if (process.env.CI === 'true' && process.argv.length <= 2 && skipped > 0) {
  console.log(`CI=true: the ${skipped} skipped test(s) listed above count as failures (CI installs everything, so nothing may skip)`);
  failed += skipped;
  skipped = 0;
}
const code = res.status === 0 && failed === 0 ? 0 : 1;
console.log(`vitest: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(code);

/** Runs a step that ends with "N passed, N failed", echoing its output; a step without that line counts as one failure. */
function step(command, args) {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.on('error', (err) => {
      console.error(`test runner: ${command} did not start: ${err.message}`);
      done({ passed: 0, failed: 1 });
    });
    child.on('close', (status) => {
      const m = /(\d+) passed, (\d+) failed\s*$/.exec(out);
      if (!m) console.error(`test runner: ${args.join(' ')} exited ${status} without its summary line`);
      const counts = m ? { passed: Number(m[1]), failed: Number(m[2]) } : { passed: 0, failed: 1 };
      if (status !== 0 && counts.failed === 0) counts.failed = 1;
      done(counts);
    });
  });
}

async function runNotebooks(filtered) {
  const dir = join(root, 'notebooks');
  const all = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.ipynb')) : [];
  const ts = all.filter((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')).metadata?.kernelspec?.name === 'tslab');
  const none = { passed: 0, failed: 0, skipped: 0 };
  if (all.length === 0) return none;
  if (filtered) {
    console.log('notebooks: not run (arguments were passed to vitest)');
    return none;
  }
  if (!existsSync(join(dir, 'node_modules', 'tslab'))) {
    console.log(`notebooks: ${all.length + ts.length} skipped: tslab is not installed (run \`npm ci --prefix notebooks\`)`);
    return { ...none, skipped: all.length + ts.length };
  }
  const checked = await step(process.execPath, ['notebooks/typecheck.mjs']);
  const python = '/usr/bin/python3';
  if (!existsSync(python) || spawnSync(python, ['-c', 'import nbclient, nbformat'], { stdio: 'ignore' }).status !== 0) {
    console.log(`notebooks: ${all.length} runs skipped: ${python} has no nbclient (Debian: apt-get install jupyter-nbconvert)`);
    return { passed: checked.passed, failed: checked.failed, skipped: all.length };
  }
  const ran = await step(python, ['notebooks/run.py']);
  return { passed: checked.passed + ran.passed, failed: checked.failed + ran.failed, skipped: 0 };
}
