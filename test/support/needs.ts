/**
 * What optional suites need, and the one command that installs it. A suite that cannot run says
 * so in its name, `describe.skipIf(!n.present)(`parity with numpy${skipNote(n)}`, ...)`, and
 * `npm test` (scripts/test.mjs) groups the skipped tests by that command. CI installs all of it
 * (.ci/run), and there a skipped test counts as a failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hasNumpy, hasSklearn, PYTHON, runsTorchSuites, TORCH_PYTHON, TORCH_SETUP } from './python.js';

/** One requirement: whether it is here, what it is, and the command that installs it. */
export interface Need {
  readonly present: boolean;
  readonly what: string;
  readonly enable: string;
}

const CHECKS = {
  python3: () => ({ present: existsSync(PYTHON), what: `Debian's python3 (${PYTHON})`, enable: 'apt-get install python3' }),
  numpy: () => ({ present: hasNumpy(), what: "Debian's python3-numpy", enable: 'apt-get install python3-numpy' }),
  sklearn: () => ({
    present: hasSklearn(),
    what: "Debian's python3-sklearn and python3-numpy",
    enable: 'apt-get install python3-sklearn python3-numpy',
  }),
  jinja2: () => ({
    present: existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import jinja2.sandbox'], { stdio: 'ignore' }).status === 0,
    what: "Debian's python3-jinja2",
    enable: 'apt-get install python3-jinja2',
  }),
  chromium: () => ({
    present: existsSync('/usr/bin/chromium'),
    what: "Debian's chromium (/usr/bin/chromium)",
    enable: 'apt-get install chromium',
  }),
  // Under CI=true these suites run (and fail) rather than skip: see runsTorchSuites.
  torch: () => ({ present: runsTorchSuites(), what: 'a Python with torch and transformers in .venv', enable: TORCH_SETUP }),
  // TRL, datasets, accelerate in .venv (notebooks/python/requirements-trainers.txt); under CI=true the suite runs (and fails) rather than skips.
  trainers: () => ({
    present:
      process.env.CI === 'true' ||
      (existsSync(TORCH_PYTHON) && spawnSync(TORCH_PYTHON, ['-c', 'import trl, datasets, accelerate'], { stdio: 'ignore' }).status === 0),
    what: 'TRL, datasets and accelerate in .venv',
    enable: '.venv/bin/pip install -r notebooks/python/requirements-trainers.txt',
  }),
} satisfies Record<string, () => Need>;

/**
 * The requirement `name`, checked now.
 * @example const n = need('numpy'); describe.skipIf(!n.present)(`parity with numpy${skipNote(n)}`, () => {});
 */
export function need(name: keyof typeof CHECKS): Need {
  return CHECKS[name]();
}

/** ` (skipped: WHAT missing; enable: COMMAND)` when `n` is absent, else '': the form scripts/test.mjs reads. */
export function skipNote(n: Need): string {
  return n.present ? '' : ` (skipped: ${n.what} missing; enable: ${n.enable})`;
}
