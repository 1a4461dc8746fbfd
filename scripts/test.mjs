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
// Skipped tests are listed grouped by what would enable them: a suite that skips says why in its
// name, `(skipped: WHAT missing; enable: COMMAND)` (test/support/needs.ts).
// Tests clean up after themselves: everything runs with its own temporary folder (TMPDIR), and
// whatever is left in it afterwards, tool caches aside, is reported and counts as a failure.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'test-output');
const jsonPath = join(outDir, 'vitest.json');
mkdirSync(outDir, { recursive: true });
rmSync(jsonPath, { force: true });

// The run's own temporary folder: every test and every process it starts writes its temporary files here.
const runTmp = mkdtempSync(join(tmpdir(), 'dtr-test-run-'));
const env = { ...process.env, TMPDIR: runTmp };
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${jsonPath}`, ...process.argv.slice(2)];
const res = spawnSync('npx', args, { cwd: root, stdio: 'inherit', env });
/** Skipped tests, by the command that would enable them: command -> { what, tests: [name] }. */
const skips = new Map();
const addSkip = (what, enable, name) => {
  const group = skips.get(enable) ?? { what, tests: [] };
  group.tests.push(name);
  skips.set(enable, group);
};

let passed = 0,
  failed = 0,
  skipped = 0;
if (existsSync(jsonPath)) {
  const report = JSON.parse(readFileSync(jsonPath, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A suite that fails to load (syntax error, bad import) has no tests in it: count it as a failure.
  failed += (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length;
  // Skipped tests state their reason in their names (`(skipped: WHAT missing; enable: COMMAND)`):
  // gather them (in a filtered run, where everything filtered out counts as skipped, only those).
  for (const file of report.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      if (!['skipped', 'pending', 'todo'].includes(t.status)) continue;
      const why = /\(skipped: (.+?) missing; enable: (.+?)\)/.exec(t.fullName);
      if (!why && process.argv.length > 2) continue;
      const suite = [file.name.slice(root.length), ...(t.ancestorTitles ?? [])].join(' > ').replace(/ \(skipped: .*?\)/g, '');
      addSkip(why?.[1] ?? 'no reason in its name', why?.[2] ?? '(none given: name the reason with skipNote, test/support/needs.ts)', suite);
    }
  }
} else {
  failed = 1;
  console.error('test runner: vitest wrote no JSON report');
}
const notebooks = await runNotebooks(process.argv.length > 2);
const nb = notebooks.passed + notebooks.failed + notebooks.skipped;
// vitest's own summary (above) counts its tests only: say what the last line adds to it.
if (nb > 0)
  console.log(
    `totals: vitest's ${passed + failed + skipped} tests + ${nb} notebook checks (type checks and headless runs) = ${passed + failed + skipped + nb}, counted in the line below`,
  );
passed += notebooks.passed;
failed += notebooks.failed;
skipped += notebooks.skipped;
if (skips.size > 0) {
  console.log('skipped, by the command that enables them:');
  for (const [enable, { what, tests }] of skips) {
    console.log(`  ${tests.length} skipped (${what} missing): ${enable}`);
    for (const [suite, n] of countBy(tests)) console.log(`      ${suite}${n > 1 ? ` (${n} tests)` : ''}`);
  }
  console.log('  (.ci/run installs all of them, as CI does, and runs the tests)');
}
// Whatever the tests left in their temporary folder (tool caches aside) is a leak: name it, then remove it.
const TOOL_CACHES = [/^tsx-\d+$/, /^torchinductor_/, /^\.ses$/]; // tsx's and torch's compile caches; onnxruntime's telemetry session file
const left = readdirSync(runTmp).filter((n) => !TOOL_CACHES.some((re) => re.test(n)));
rmSync(runTmp, { recursive: true, force: true });
if (left.length > 0) {
  console.log(
    `temporary files: the tests left ${left.length} entries in their temporary folder (a test removes what it makes: tempDir() in test/support/temp.ts): ${left.slice(0, 12).join(', ')}${left.length > 12 ? ', ...' : ''}`,
  );
  failed += 1;
}
// CI installs everything the suites need, so there a skip can only hide a failure: count it as one.
if (process.env.CI === 'true' && process.argv.length <= 2 && skipped > 0) {
  console.log(`CI=true: the ${skipped} skipped test(s) listed above count as failures (CI installs everything, so nothing may skip)`);
  failed += skipped;
  skipped = 0;
}
const code = res.status === 0 && failed === 0 ? 0 : 1;
console.log(`vitest: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(code);

/** [name, count] of the names in `tests` (one per skipped test: its file and suite), in order of first appearance. */
function countBy(tests) {
  const counts = new Map();
  for (const t of tests) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

/** Runs a step that ends with "N passed, N failed", echoing its output; a step without that line counts as one failure. */
function step(command, args) {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env });
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
    for (const f of [...ts.map((f) => `${f} (type check)`), ...all.map((f) => `${f} (run)`)])
      addSkip("the notebooks' kernel, tslab", 'npm ci --prefix notebooks', `notebooks: ${f}`);
    return { ...none, skipped: all.length + ts.length };
  }
  const checked = await step(process.execPath, ['notebooks/typecheck.mjs']);
  const python = '/usr/bin/python3';
  if (!existsSync(python) || spawnSync(python, ['-c', 'import nbclient, nbformat'], { stdio: 'ignore' }).status !== 0) {
    for (const f of all)
      addSkip(`Debian's jupyter-nbconvert (nbclient for ${python})`, 'apt-get install jupyter-nbconvert', `notebooks: ${f} (run)`);
    return { passed: checked.passed, failed: checked.failed, skipped: all.length };
  }
  const ran = await step(python, ['notebooks/run.py']);
  return { passed: checked.passed + ran.passed, failed: checked.failed + ran.failed, skipped: 0 };
}
