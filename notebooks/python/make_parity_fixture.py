#!/usr/bin/env python3
"""Regenerates test/fixtures/tiny-llama: the transformers parity fixture that runs on every
machine (no torch needed to *use* it).

    python3 notebooks/python/make_parity_fixture.py [--out test/fixtures/tiny-llama]

Steps, each a command a user could run: a tiny random Llama-3.1-layout checkpoint with the real
Llama-3 tokenizer and Meta's Llama-3.1 template in tokenizer_config.json
(make_tiny_checkpoint.py), its export with a random head and --check (dtr_export.py), and
transformers' own token ids and outputs for the check conversations (hf_reference.py) saved as
reference.json in the exported folder.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def step(*argv):
    print("+ " + " ".join(argv), file=sys.stderr)
    subprocess.run([sys.executable, *argv], check=True)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="make_parity_fixture.py", description="Regenerate test/fixtures/tiny-llama from transformers.")
    ap.add_argument("--out", default=os.path.join(ROOT, "test", "fixtures", "tiny-llama"))
    args = ap.parse_args(argv)
    work = tempfile.mkdtemp(prefix="dtr-parity-")
    try:
        hf = os.path.join(work, "tiny-llama-hf")
        head = os.path.join(work, "head.json")
        step(os.path.join(HERE, "make_tiny_checkpoint.py"), "--arch", "llama", "--kind", "skywork", "--template-in-config",
             "--tokenizer", os.path.join(ROOT, "node_modules", "@lenml", "tokenizer-llama3", "models"),
             "--chat-template", os.path.join(ROOT, "test", "fixtures", "chat-templates", "llama-3.1-instruct.jinja"),
             "--head-out", head, "--out", hf)
        out = os.path.join(work, "tiny-llama")
        step(os.path.join(HERE, "dtr_export.py"), hf, "--head", head, "--tree", "rlhflow-llama-3.1-8b", "--name", "tiny-llama", "--check", "--out", out)
        step(os.path.join(HERE, "hf_reference.py"), hf, "--head", head, "--out", os.path.join(out, "reference.json"))
        if os.path.exists(args.out):
            shutil.rmtree(args.out)
        shutil.move(out, args.out)
        print(f"wrote {args.out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
