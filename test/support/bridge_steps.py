"""Runs several steps of the export bridge's tests in one Python process.

    python bridge_steps.py RESULTS.json < STEPS.json

STEPS.json is a list of {"name", "script", "argv"} (a notebooks/python command, run as its
`main(argv)` with sys.argv set as the command line would set it) or {"name", "code"} (Python
source, run with a fresh namespace). Each step's exit status, stdout and stderr are captured
separately; a failing step does not stop the others. RESULTS.json gets {name: {code, stdout,
stderr, seconds}}.

Why: importing torch + transformers and their first use take 10-20 s per process on the test
machines, several times what an export of a tiny checkpoint takes, and the suites run dozens
of steps. The commands' own behaviour (argument parsing, exit status, messages) is the same
as on the command line; docs/building.md's walk-through still runs them as separate processes.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
import time
import traceback

BRIDGE = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "notebooks", "python"))
if BRIDGE not in sys.path:
    sys.path.insert(0, BRIDGE)


def run_step(step):
    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    code = 0
    saved_argv = sys.argv
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            if "script" in step:
                module = importlib.import_module(step["script"].removesuffix(".py"))
                sys.argv = [os.path.join(BRIDGE, step["script"]), *step["argv"]]
                code = module.main(list(step["argv"])) or 0
            else:
                exec(compile(step["code"], f"<step {step['name']}>", "exec"), {"__name__": "__step__"})
        except SystemExit as e:  # argparse's usage errors, sys.exit in a script
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            if not isinstance(e.code, int) and e.code is not None:
                print(e.code, file=sys.stderr)
        except BaseException:  # noqa: BLE001  (reported as the step's failure)
            code = 1
            traceback.print_exc()
        finally:
            sys.argv = saved_argv
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue(), "seconds": round(time.monotonic() - start, 2)}


def main():
    steps = json.load(sys.stdin)
    results = {}
    for step in steps:
        results[step["name"]] = run_step(step)
        r = results[step["name"]]
        print(f"bridge step {step['name']}: exit {r['code']} in {r['seconds']} s", file=sys.stderr, flush=True)
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(results, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
