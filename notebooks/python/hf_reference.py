#!/usr/bin/env python3
"""What transformers says a Hugging Face reward model gives, as JSON: the reference that the
SDK's parity tests hold an exported folder to.

    python3 notebooks/python/hf_reference.py HF_FOLDER --out reference.json [--head heads/x.json] [--conversations FILE.json]

For each conversation (default: the --check set of export_check.py, 20-1,000 tokens): the token
ids of `apply_chat_template(messages, tokenize=True)`, `pooled` (the base model's last hidden
state at the last token), `logits` (the checkpoint's own forward, transformers' pooling), and
`rewards` (the head on `pooled`, float64, in the SDK's attribute order: from --head, or the
checkpoint's 5-label score layer reordered by id2label). fp32, eager attention, CPU, one
conversation at a time, the checkpoint's config as it is (its pad_token_id decides where its
own forward reads `logits`). A checkpoint without a chat template is rendered with the SDK's
built-in template for its tokenizer (builtin_templates.json), as the SDK and dtr_export.py do.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

def main(argv=None):
    ap = argparse.ArgumentParser(prog="hf_reference.py", description="Write transformers' token ids and outputs for conversations, as the parity tests read them.")
    ap.add_argument("model", help="a local Hugging Face model folder")
    ap.add_argument("--out", required=True, help="the JSON file to write")
    ap.add_argument("--head", metavar="FILE.json", help="a head file to apply to pooled (default: a 5-label score layer, else none)")
    ap.add_argument("--conversations", metavar="FILE.json", help="a JSON list of conversations (lists of {role, content}); default: the --check set")
    args = ap.parse_args(argv)

    import torch
    import transformers

    import dtr_export as d
    import export_check

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    kw = {"dtype": torch.float32} if (major, minor) >= (4, 56) else {"torch_dtype": torch.float32}
    model = transformers.AutoModelForSequenceClassification.from_pretrained(args.model, attn_implementation="eager", **kw).eval()
    tok = transformers.AutoTokenizer.from_pretrained(args.model, use_fast=True)
    chat_template = None
    if d.checkpoint_template(args.model)[0] is None:
        builtin = d.builtin_template(args.model)
        if builtin is None:
            print(f"hf_reference: {args.model} has no chat template, and its tokenizer is of no family with a built-in one", file=sys.stderr)
            return 1
        chat_template = builtin["source"]
        print(f"warning: {args.model} has no chat template; using the SDK's built-in '{builtin['name']}' template", file=sys.stderr)
    if args.conversations:
        with open(args.conversations, encoding="utf-8") as f:
            conversations = json.load(f)
    else:
        conversations = export_check.check_conversations()
    head = None
    if args.head:
        with open(args.head, encoding="utf-8") as f:
            head = d.head_arrays(json.load(f))
    else:
        w, b = d.score_layer(model)
        if w is not None and w.shape[0] == len(d.ATTRIBUTES):
            order, _ = d.attribute_order(model.config, d.ATTRIBUTES)
            head = d.head_arrays(d.head_document(w, b, "score", args.model, order))
    rows = export_check.transformers_reference(model, tok, conversations, head, chat_template=chat_template)
    doc = export_check.reference_document(rows, head is not None, os.path.basename(os.path.abspath(args.model)), model.config.pad_token_id,
                                          {"torch": torch.__version__, "transformers": transformers.__version__})
    d.write_json_atomic(args.out, doc)
    print(f"wrote {args.out} ({len(rows)} conversations, outputs {', '.join(doc['outputs'])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
