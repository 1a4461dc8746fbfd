#!/usr/bin/env python3
"""Export a Hugging Face reward model into a decision-tree-reward model folder.

    python3 notebooks/python/dtr_export.py HF_FOLDER --out models/NAME [--head heads/mine.json | --no-head] [--dtype fp32|fp16|mixed|bf16] --check

HF_FOLDER is a local Hugging Face model folder (config.json, safetensors weights, tokenizer
files, its chat template), or a hub id already in the local Hugging Face cache (`--download`
lets transformers fetch it). Two kinds of checkpoint:

- Skywork-Reward style (`num_labels` 1): the graph outputs `pooled` (the last token's hidden
  state) and `logits` (the checkpoint's own scalar reward); the five-attribute head comes from a
  head file (`--head`, from `dtr fit-head`) or is left out (`--no-head`, to make embeddings).
- RLHFlow Decision-Tree-Reward style (`num_labels` 5): its score layer *is* the attribute head,
  rows ordered by `id2label`; its `decision_tree.pkl` is converted with the scikit-learn
  converter (unpickling runs code: trusted files only).

The folder it writes (docs/building.md):

    OUT/
      dtr.json                 the SDK's config: outputs, pooling rule of each, pad token, dtype, template sha256
      model.onnx, model.onnx_data
                               inputs input_ids, attention_mask, position_ids [batch, sequence] (dynamic);
                               outputs rewards [batch, 5] (head fused), pooled [batch, H], logits [batch, 1]; float32
      tokenizer.json, tokenizer_config.json, special_tokens_map.json, chat_template.jinja
                               copied byte for byte from the checkpoint (whichever it has)
      heads/NAME.json          the five-attribute head (the weights the graph fuses)
      trees/NAME.json          the tree (converted from a pickle), unless dtr.json names a shipped one
      export.json              what was exported from what, versions, and the --check report

`--check` runs the exported graph in onnxruntime against transformers itself (export_check.py):
the card example and conversations of 20-1,000 tokens, one at a time and in padded batches on
both sides; NaN/Inf or a difference over the dtype's tolerance fails it, exit status 1, and no
folder is written. The folder is assembled beside OUT and renamed into place at the end: OUT is
complete or absent, never partial. Weights are streamed into model.onnx_data tensor by tensor.

torch, transformers, onnx and onnxruntime are imported only inside the functions that need
them; the rest (heads, dtr.json, the folder) is plain Python + numpy and tested without torch.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

# The lead's scikit-learn converter: tree files, atomic JSON, hashing.
from sklearn_tree_to_json import ConversionError, sha256_file, tree_to_json, write_json_atomic, _find_tree  # noqa: E402
from export_check import CARD_PROMPT, CARD_RESPONSES, TOLERANCES  # noqa: E402,F401  (re-exported: notebooks use dtr_export.CARD_*)
from export_graph import DTYPES, GraphError  # noqa: E402

ATTRIBUTES = ["helpfulness", "correctness", "coherence", "complexity", "verbosity"]
HEAD_FORMAT = "decision-tree-reward/head"
HEAD_FORMAT_VERSION = 1
HEAD_SEMANTICS = (
    "rewards[k] = sum_j weight[k][j] * pooled[j] + bias[k]; rows of weight and entries of bias follow `attributes`; "
    "pooled is the backbone hidden state named by `pooling`"
)
MODEL_FORMAT = "decision-tree-reward/model"
MODEL_FORMAT_VERSION = 1
EXPORTER = "notebooks/python/dtr_export.py"

# What is known about the supported models: hidden size, longest conversation, and the shipped
# tree to name in dtr.json when the checkpoint brings none.
PRESETS = {
    "Skywork/Skywork-Reward-Llama-3.1-8B-v0.2": {"hidden_size": 4096, "max_length": 4096, "tree": "rlhflow-llama-3.1-8b", "tree_file": None},
    "Skywork/Skywork-Reward-Gemma-2-27B-v0.2": {"hidden_size": 4608, "max_length": 4096, "tree": "rlhflow-gemma-2-27b", "tree_file": None},
    "RLHFlow/Decision-Tree-Reward-Llama-3.1-8B": {"hidden_size": 4096, "max_length": 4096, "tree": "rlhflow-llama-3.1-8b", "tree_file": "decision_tree.pkl"},
    "RLHFlow/Decision-Tree-Reward-Gemma-2-27B": {"hidden_size": 4608, "max_length": 4096, "tree": "rlhflow-gemma-2-27b", "tree_file": "decision_tree.pkl"},
}

# What the Decision-Tree-Reward-Llama-3.1-8B card prints for the card example's two responses
# (../shared/seeds/004: bf16 weights, flash attention, transformers 4.45.2).
CARD_REWARDS = {
    "RLHFlow/Decision-Tree-Reward-Llama-3.1-8B": [
        [3.9603815, 3.9727726, 3.8582935, 0.9909791, 1.4901903],
        [2.1698856, 2.2035594, 3.2032843, 0.8786768, 1.4569137],
    ],
}
CARD_REWARDS_LLAMA_8B = CARD_REWARDS["RLHFlow/Decision-Tree-Reward-Llama-3.1-8B"]

# Tokenizer files copied byte for byte, and where transformers looks for the chat template, in
# its order of precedence (tokenization_utils_base: a chat_template.jinja file wins over the
# tokenizer_config.json entry; chat_template.json is the older processor convention).
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja", "chat_template.json"]
TEMPLATE_DIR = "additional_chat_templates"
CHAT_TEMPLATE_SOURCES = ("chat_template.jinja", "tokenizer_config.json", "chat_template.json")


class ExportError(Exception):
    """Something the user can fix; the message says what."""


class CheckFailed(ExportError):
    """--check found the graph off transformers (or not finite); nothing was written."""


# --------------------------------------------------------------------------- arguments


def build_parser():
    ap = argparse.ArgumentParser(
        prog="dtr_export.py",
        description="Export a Hugging Face reward model (Skywork-Reward-*, RLHFlow Decision-Tree-Reward-*, or any Llama / Gemma-2 "
                    "sequence classifier) into a decision-tree-reward model folder.",
        epilog="Example: python3 notebooks/python/dtr_export.py ~/models/Skywork-Reward-Llama-3.1-8B-v0.2 --head heads/mine.json "
               "--out models/skywork-8b --dtype fp16 --check",
    )
    ap.add_argument("model", help="a local Hugging Face model folder, or a hub id in the local Hugging Face cache")
    ap.add_argument("--out", required=True, help="model folder to write (must not exist unless --overwrite)")
    ap.add_argument("--name", help="model name in dtr.json (default: the folder name)")
    ap.add_argument("--backbone-id", help="what dtr.json and heads call the backbone (default: the hub id, or the checkpoint folder's name)")
    ap.add_argument("--revision", help="with a hub id: the revision (branch, tag or commit)")
    ap.add_argument("--download", action="store_true", help="with a hub id: let transformers download what the cache lacks")
    head = ap.add_mutually_exclusive_group()
    head.add_argument("--head", metavar="FILE.json", help="a head file (from dtr fit-head) to ship and fuse into the graph")
    head.add_argument("--head-weights", metavar="FILE", help="head weights as .npy/.npz/.safetensors: weight [5, H] (+ bias [5]), rows in --head-attributes order")
    head.add_argument("--head-key", metavar="NAME", help="state-dict name of a [5, H] attribute layer in the checkpoint (default: its 5-label score layer)")
    head.add_argument("--no-head", action="store_true", help="export the backbone alone (outputs pooled and logits): to make embeddings and fit a head")
    ap.add_argument("--head-attributes", default=",".join(ATTRIBUTES),
                    help="order of the head's rows when the checkpoint's id2label does not name the attributes (default: %(default)s)")
    tree = ap.add_mutually_exclusive_group()
    tree.add_argument("--tree-pickle", metavar="FILE.pkl", help="a scikit-learn decision tree pickle to convert (default: the checkpoint's decision_tree.pkl)")
    tree.add_argument("--tree", metavar="NAME|FILE.json", help="a shipped tree name or a tree file for dtr.json (default: the preset's)")
    ap.add_argument("--kind", choices=["pooled", "rewards"], default="pooled",
                    help="what dtr.json reads: 'pooled' (the SDK applies heads/NAME.json, swappable) or 'rewards' (the fused head output)")
    ap.add_argument("--dtype", choices=list(DTYPES), default="fp32",
                    help="weight type of the graph: fp32 (default), fp16, mixed (fp16 with fp32 norms and residual stream) or bf16 (CUDA only)")
    ap.add_argument("--reference-dtype", choices=["fp32", "bf16"], default="fp32",
                    help="weight type the checkpoint is loaded in for the transformers reference that --check compares with (default: %(default)s; "
                         "bf16 halves its memory, and --check then allows bf16's rounding: 6%% of the largest |value| + 1e-3, docs/building.md)")
    ap.add_argument("--attn-implementation", default="eager", choices=["eager", "sdpa"],
                    help="attention of the traced model (default: eager; sdpa ignores Gemma-2's soft-capping)")
    ap.add_argument("--max-length", type=int, help="longest conversation in tokens, at most the checkpoint's window (default: its max_position_embeddings)")
    ap.add_argument("--opset", type=int, default=17, help="ONNX opset (default: %(default)s)")
    ap.add_argument("--device", default="cpu", help="torch device for the export and the reference (default: %(default)s; e.g. cuda)")
    ap.add_argument("--check", action="store_true", help="compare the exported graph with transformers; exit 1 and write nothing on a mismatch")
    ap.add_argument("--tolerance", type=float, metavar="ATOL", help="--check: replace the dtype's tolerance by this absolute one")
    ap.add_argument("--reference-out", metavar="FILE.json", help="--check: also write transformers' ids and outputs for the check conversations (hf_reference.py's format)")
    ap.add_argument("--triton-repo", metavar="DIR", help="also write a Triton model repository around the exported graph (ONNX Runtime backend, dynamic batching; triton_repo.py)")
    ap.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    ap.add_argument("--trust-remote-code", action="store_true", help="allow the checkpoint's own Python code (transformers' trust_remote_code)")
    return ap


def preset_for(model):
    """The PRESETS key of a hub id, or of a local folder named like one (…/Skywork-Reward-Llama-3.1-8B-v0.2); None otherwise."""
    ref = model.rstrip("/")
    if ref in PRESETS:
        return ref
    base = os.path.basename(os.path.abspath(ref)) if os.path.isdir(ref) else None
    return next((k for k in PRESETS if base is not None and k.split("/")[-1] == base), None)


def parse_args(argv=None):
    """Parses and checks the command line; exits with status 2 and a message on a mistake."""
    ap = build_parser()
    args = ap.parse_args(argv)
    names = [a.strip() for a in args.head_attributes.split(",")]
    if sorted(names) != sorted(ATTRIBUTES) or len(names) != len(ATTRIBUTES):
        ap.error(f"--head-attributes must name each of {', '.join(ATTRIBUTES)} once, got {args.head_attributes!r}")
    args.head_attributes = names
    if args.max_length is not None and args.max_length < 2:
        ap.error(f"--max-length must be at least 2, got {args.max_length}")
    if args.opset < 14:
        ap.error(f"--opset must be at least 14 (Trilu, scaled attention), got {args.opset}")
    if args.no_head and args.kind == "rewards":
        ap.error("--kind rewards needs a head in the graph; drop --no-head or use --kind pooled")
    if args.tolerance is not None and not (args.tolerance > 0):
        ap.error(f"--tolerance must be a positive number, got {args.tolerance}")
    if args.tolerance is not None and not args.check:
        ap.error("--tolerance applies to --check; add --check")
    if args.reference_out is not None and not args.check:
        ap.error("--reference-out applies to --check; add --check")
    if args.triton_repo is not None and os.path.exists(args.triton_repo) and not args.overwrite:
        ap.error(f"--triton-repo {args.triton_repo} already exists; choose another folder or pass --overwrite")
    if os.path.exists(args.out) and not args.overwrite:
        ap.error(f"--out {args.out} already exists; choose another folder or pass --overwrite")
    for flag in ("head", "head_weights", "tree_pickle"):
        path = getattr(args, flag)
        if path is not None and not os.path.isfile(path):
            ap.error(f"--{flag.replace('_', '-')} {path}: no such file")
    args.preset_id = preset_for(args.model)
    args.preset = PRESETS.get(args.preset_id) if args.preset_id else None
    if args.backbone_id is None:
        args.backbone_id = args.preset_id or (os.path.basename(os.path.abspath(args.model)) if os.path.isdir(args.model) else args.model.rstrip("/"))
    if args.name is None:
        args.name = os.path.basename(os.path.abspath(args.out))
    return args


# --------------------------------------------------------------------------- heads


def head_document(weight, bias, name, backbone, attributes=ATTRIBUTES, description="", provenance=None, metrics=None):
    """The head-file document (decision-tree-reward/head v1) for a [5, H] weight and [5] bias.

    `attributes` gives the order of the rows as stored in the source; the document lists rows in
    the SDK's order. Values must be finite.
    """
    import numpy as np

    w = np.asarray(weight, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != len(ATTRIBUTES):
        raise ExportError(f"head weight must be [5, hidden size], got {list(w.shape)}")
    b = np.zeros(len(ATTRIBUTES)) if bias is None else np.asarray(bias, dtype=np.float64).reshape(-1)
    if b.shape != (len(ATTRIBUTES),):
        raise ExportError(f"head bias must have 5 values, got {list(b.shape)}")
    if not (np.isfinite(w).all() and np.isfinite(b).all()):
        raise ExportError("head weights hold NaN or infinite values")
    attributes = list(attributes)
    if sorted(attributes) != sorted(ATTRIBUTES):
        raise ExportError(f"head attributes must be {ATTRIBUTES} in some order, got {attributes}")
    order = [attributes.index(a) for a in ATTRIBUTES]
    return {
        "format": HEAD_FORMAT,
        "version": HEAD_FORMAT_VERSION,
        "name": name,
        "description": description,
        "attributes": list(ATTRIBUTES),
        "hiddenSize": int(w.shape[1]),
        "pooling": "last-token",
        "backbone": backbone,
        "semantics": HEAD_SEMANTICS,
        "weight": [[float(v) for v in w[i]] for i in order],
        "bias": [float(b[i]) for i in order],
        "metrics": metrics,
        "provenance": provenance or {"source": f"exported by {EXPORTER}", "data": [], "command": None, "package": package_id()},
    }


def head_arrays(doc):
    """(weight [5, H], bias [5]) of a head document, rows in the SDK's attribute order; checks it."""
    import numpy as np

    if doc.get("format") != HEAD_FORMAT or doc.get("version") != HEAD_FORMAT_VERSION:
        raise ExportError(f"not a head file (format {doc.get('format')!r}, version {doc.get('version')!r})")
    attrs = doc.get("attributes")
    if not isinstance(attrs, list) or sorted(attrs) != sorted(ATTRIBUTES):
        raise ExportError(f"head attributes must be {ATTRIBUTES}, got {attrs}")
    w = np.asarray(doc["weight"], dtype=np.float64)
    b = np.asarray(doc["bias"], dtype=np.float64)
    if w.shape != (5, doc.get("hiddenSize")):
        raise ExportError(f"head weight is {list(w.shape)} but hiddenSize is {doc.get('hiddenSize')}")
    order = [attrs.index(a) for a in ATTRIBUTES]
    return w[order], b[order]


def find_head_key(shapes, hidden_size, key=None):
    """Name of the five-attribute linear layer's weight in a checkpoint, from {name: shape}.

    With `key`, checks that it is [5, hidden]. Otherwise the one 2-D [5, hidden] tensor that is not
    an embedding; zero or several candidates is an error naming them (pass --head-key).
    """
    if key is not None:
        if key not in shapes:
            raise ExportError(f"--head-key {key!r} is not in the checkpoint; tensors of shape [5, {hidden_size}]: {', '.join(_candidates(shapes, hidden_size)) or 'none'}")
        if tuple(shapes[key]) != (5, hidden_size):
            raise ExportError(f"--head-key {key!r} has shape {list(shapes[key])}, expected [5, {hidden_size}]")
        return key
    found = _candidates(shapes, hidden_size)
    if len(found) == 1:
        return found[0]
    if not found:
        raise ExportError(f"the checkpoint has no [5, {hidden_size}] linear layer (no five-attribute head): pass --head FILE.json or --head-weights, or --no-head")
    raise ExportError(f"several [5, {hidden_size}] tensors could be the attribute head: {', '.join(found)}; choose one with --head-key")


def _candidates(shapes, hidden_size):
    return sorted(k for k, s in shapes.items() if tuple(s) == (5, hidden_size) and "embed" not in k and k.endswith("weight"))


def bias_key_for(weight_key, shapes):
    """The bias beside a linear layer's weight, if the checkpoint has one of shape [5]."""
    key = weight_key[: -len("weight")] + "bias"
    return key if key in shapes and tuple(shapes[key]) == (5,) else None


def read_head_weights(path):
    """(weight [5, H], bias [5] or None) from .npy (weight only), .npz or .safetensors (`weight`, optional `bias`)."""
    import numpy as np

    if path.endswith(".npy"):
        return np.load(path, allow_pickle=False), None
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as z:
            if "weight" not in z:
                raise ExportError(f"{path} has no 'weight' array (it has {', '.join(z.files)})")
            return z["weight"], (z["bias"] if "bias" in z else None)
    if path.endswith(".safetensors"):
        tensors = read_safetensors(path)
        if "weight" not in tensors:
            raise ExportError(f"{path} has no 'weight' tensor (it has {', '.join(tensors)})")
        return tensors["weight"], tensors.get("bias")
    raise ExportError(f"{path}: head weights must be .npy, .npz or .safetensors (a .pt file needs torch: load it and save as .npz)")


def read_safetensors(path):
    """A safetensors file as {name: numpy array} (F64/F32/F16/BF16/I64/I32), numpy only."""
    import numpy as np

    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ExportError(f"{path}: truncated (shorter than the 8-byte header length)")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ExportError(f"{path}: truncated: the header needs bytes 8..{8 + n} but the file has {len(data)}")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        if 8 + n + end > len(data):
            raise ExportError(f"{path}: truncated: tensor {name!r} ends at byte offset {8 + n + end}, the file has {len(data)}")
        raw = data[8 + n + b:8 + n + end]
        if e["dtype"] == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            dt = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4"}.get(e["dtype"])
            if dt is None:
                raise ExportError(f"{path}: tensor {name!r} has dtype {e['dtype']}, not supported here")
            arr = np.frombuffer(raw, dtype=dt)
        out[name] = arr.reshape(e["shape"])
    return out


# --------------------------------------------------------------------------- dtr.json and the folder


# How each graph output is pooled (dtr.json backbone.outputPooling): the last attended token of
# each row (the last token of the unpadded conversation), or, for the checkpoint's own score,
# where the installed transformers' sequence classification reads it (export_graph.SCALAR_RULES:
# the rightmost token that is not the pad token since 4.49, the token before the first pad token
# before; the last token when the config has no pad token).
POOLING_LAST_TOKEN = "last-token"
POOLING_LAST_NON_PAD = "last-non-pad-token"
POOLING_FIRST_PAD_MINUS_ONE = "first-pad-minus-one"
SCALAR_POOLINGS = (POOLING_LAST_TOKEN, POOLING_LAST_NON_PAD, POOLING_FIRST_PAD_MINUS_ONE)


def model_config(name, backbone_id, hidden_size, kind="pooled", has_score=True, head=None, tree="rlhflow-llama-3.1-8b",
                 max_length=4096, description="", provenance=None, pad_token_id=None, dtype=None, chat_template_sha256=None,
                 scalar_pooling=None):
    """The dtr.json document (decision-tree-reward/model v1) for an exported folder.

    kind 'pooled': the SDK reads output `pooled` [batch, H] and applies `head` (a file in the folder);
    kind 'rewards': it reads `rewards` [batch, 5], the head fused in the graph, and `head` must be None.
    `backbone.outputPooling` says which token each output reads: `scalar_pooling` (one of
    SCALAR_POOLINGS) for `logits`, by default 'last-non-pad-token' with a pad token and
    'last-token' without; `pad_token_id` is the checkpoint's config value (None when it has
    none). `chatTemplateSha256` is the sha256 of the checkpoint's chat template (UTF-8), which
    the SDK checks when it loads the folder.
    """
    if kind not in ("pooled", "rewards"):
        raise ExportError(f"kind must be 'pooled' or 'rewards', got {kind!r}")
    if kind == "rewards" and head is not None:
        raise ExportError("kind 'rewards' reads the fused head: dtr.json must not name a head file")
    if not isinstance(hidden_size, int) or hidden_size < 1:
        raise ExportError(f"hidden size must be a positive integer, got {hidden_size!r}")
    if pad_token_id is not None and (not isinstance(pad_token_id, int) or pad_token_id < 0):
        raise ExportError(f"pad token id must be a non-negative integer or None, got {pad_token_id!r}")
    if scalar_pooling is None:
        scalar_pooling = POOLING_LAST_NON_PAD if pad_token_id is not None else POOLING_LAST_TOKEN
    if scalar_pooling not in SCALAR_POOLINGS:
        raise ExportError(f"scalar pooling must be one of {', '.join(SCALAR_POOLINGS)}, got {scalar_pooling!r}")
    if scalar_pooling != POOLING_LAST_TOKEN and pad_token_id is None:
        raise ExportError(f"scalar pooling {scalar_pooling!r} needs the pad token id it skips")
    pooling = {kind: POOLING_LAST_TOKEN}
    if kind == "rewards":
        pooling["pooled"] = POOLING_LAST_TOKEN
    if has_score:
        pooling["logits"] = scalar_pooling
    return {
        "format": MODEL_FORMAT,
        "version": MODEL_FORMAT_VERSION,
        "name": name,
        "description": description,
        "backbone": {
            "id": backbone_id,
            "file": "model.onnx",
            "kind": kind,
            "output": kind,
            "hiddenSize": hidden_size,
            "rewardOutput": "logits" if has_score else None,
            "attributes": list(ATTRIBUTES) if kind == "rewards" else None,
            "inputs": {"inputIds": "input_ids", "attentionMask": "attention_mask", "positionIds": "position_ids"},
            "outputPooling": pooling,
            "padTokenId": pad_token_id,
            "dtype": dtype,
        },
        "pooling": "last-token",
        "maxLength": max_length,
        # The graph takes position_ids, so either side works; right is what transformers does by default.
        "paddingSide": "right",
        "provider": "auto",
        "head": head,
        "tree": tree,
        "chatTemplate": None,
        "chatTemplateSha256": chat_template_sha256,
        "templateVariables": {},
        "batchSize": 8,
        "maxTokensPerBatch": 16384,
        "provenance": provenance,
    }


class FolderWriter:
    """Builds a model folder in a temporary folder beside `out`; `commit()` renames it into place.

    Use as a context manager: an exception (or no commit) removes the temporary folder, so `out`
    is never left half-written. With overwrite, an existing `out` is replaced only at commit.
    At commit, folders get 0777 and files 0666 less the umask (ordinary permissions: the
    temporary folder and files are created 0700 / 0600 by the tempfile module).
    """

    def __init__(self, out, overwrite=False):
        self.out = os.path.abspath(out)
        if os.path.exists(self.out) and not overwrite:
            raise ExportError(f"{out} already exists (pass --overwrite to replace it)")
        parent = os.path.dirname(self.out)
        os.makedirs(parent, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(self.out)}.", suffix=".partial", dir=parent)
        self.files = []

    def path(self, rel):
        p = os.path.join(self.tmp, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def add(self, rel):
        """Records a file written into the folder by someone else (the ONNX export)."""
        if not os.path.isfile(os.path.join(self.tmp, rel)):
            raise ExportError(f"{rel} was not written")
        self.files.append(rel)

    def write_json(self, rel, doc):
        write_json_atomic(self.path(rel), doc)
        self.files.append(rel)

    def copy(self, src, rel):
        shutil.copyfile(src, self.path(rel))
        self.files.append(rel)

    def commit(self):
        umask = os.umask(0)
        os.umask(umask)
        for dirpath, dirnames, filenames in os.walk(self.tmp):
            os.chmod(dirpath, 0o777 & ~umask)
            for f in filenames:
                os.chmod(os.path.join(dirpath, f), 0o666 & ~umask)
        if os.path.exists(self.out):
            old = self.out + ".replaced"
            os.replace(self.out, old)
            os.replace(self.tmp, self.out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.tmp, self.out)
        self.tmp = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return False


def checkpoint_template(src_dir):
    """(template text, file it came from) of a Hugging Face folder, as transformers picks it:
    chat_template.jinja first, then tokenizer_config.json's `chat_template` (a string, or named
    templates of which 'default' is used), then chat_template.json; (None, None) when none.
    Named templates without a 'default' are an ExportError naming them: transformers refuses to
    choose one ("This model has multiple chat templates with no default specified!").

    Text files are read as Python's open() reads them (universal newlines), as transformers does.
    """
    jinja = os.path.join(src_dir, "chat_template.jinja")
    if os.path.isfile(jinja):
        with open(jinja, encoding="utf-8") as f:
            return f.read(), "chat_template.jinja"
    for rel in ("tokenizer_config.json", "chat_template.json"):
        path = os.path.join(src_dir, rel)
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        t = doc.get("chat_template") if isinstance(doc, dict) else None
        named = None
        if isinstance(t, list):
            named = {x.get("name"): x.get("template") for x in t if isinstance(x, dict)}
        elif isinstance(t, dict):
            named = t
        if named is not None:
            if "default" not in named:
                raise ExportError(f"{rel} has several chat templates and none named 'default' ({', '.join(sorted(str(k) for k in named))}): "
                                  "transformers refuses to choose one (\"multiple chat templates with no default specified\"), and so does the SDK; "
                                  "save the one the reward model was trained with as chat_template.jinja in the checkpoint folder")
            t = named["default"]
        if isinstance(t, str) and t:
            return t, rel
    return None, None


BUILTIN_TEMPLATES_FILE = os.path.join(_HERE, "builtin_templates.json")


def builtin_template(src_dir):
    """The SDK's built-in template for a folder with none ({name, description, markers, source}),
    chosen as the SDK chooses it (src/model/folder.ts): the first of builtin_templates.json whose
    markers are all added tokens of tokenizer.json; None when the tokenizer is of no known family."""
    with open(BUILTIN_TEMPLATES_FILE, encoding="utf-8") as f:
        templates = json.load(f)["templates"]
    try:
        with open(os.path.join(src_dir, "tokenizer.json"), encoding="utf-8") as f:
            added = json.load(f).get("added_tokens") or []
    except (OSError, ValueError):
        return None
    contents = {t.get("content") for t in added if isinstance(t, dict)}
    return next((t for t in templates if all(m in contents for m in t["markers"])), None)


def template_sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def copy_tokenizer_files(src_dir, writer):
    """Copies the Hugging Face tokenizer files and chat templates of a local model folder byte for
    byte; tokenizer.json and tokenizer_config.json are required. Returns the names copied."""
    missing = [f for f in TOKENIZER_FILES[:2] if not os.path.isfile(os.path.join(src_dir, f))]
    if missing:
        raise ExportError(f"{src_dir} lacks {', '.join(missing)} (a fast tokenizer is needed: tokenizer.json)")
    copied = []
    for f in TOKENIZER_FILES:
        if os.path.isfile(os.path.join(src_dir, f)):
            writer.copy(os.path.join(src_dir, f), f)
            copied.append(f)
    extra = os.path.join(src_dir, TEMPLATE_DIR)
    if os.path.isdir(extra):
        for f in sorted(os.listdir(extra)):
            if f.endswith(".jinja"):
                writer.copy(os.path.join(extra, f), f"{TEMPLATE_DIR}/{f}")
                copied.append(f"{TEMPLATE_DIR}/{f}")
    return copied


def tree_from_pickle(path, name, description=""):
    """A tree-file document from a scikit-learn pickle (via sklearn_tree_to_json). Unpickling runs code: trusted files only."""
    import pickle

    with open(path, "rb") as f:
        clf = _find_tree(pickle.load(f))
    provenance = {
        "source": "converted from a scikit-learn DecisionTreeClassifier by " + EXPORTER,
        "data": [{"path": os.path.basename(path), "sha256": sha256_file(path), "role": "pickled model"}],
        "command": None,
        "package": package_id(),
    }
    return tree_to_json(clf, name, description, None, None, provenance)


def package_id():
    try:
        with open(os.path.join(_HERE, "..", "..", "package.json"), encoding="utf-8") as f:
            pkg = json.load(f)
        return f"{pkg['name']}@{pkg['version']} {EXPORTER}"
    except OSError:
        return EXPORTER


def write_folder(out, *, overwrite=False, **kwargs):
    """Writes a complete model folder (everything but running torch): dtr.json, heads/, trees/,
    tokenizer files, the ONNX files given as {folder name: source path}, export.json.
    See :func:`assemble` for the arguments. Returns the folder's path.
    """
    with FolderWriter(out, overwrite=overwrite) as w:
        assemble(w, **kwargs)
        w.commit()
    return os.path.abspath(out)


def assemble(w, *, name, backbone_id, hidden_size, head_doc=None, tree_doc=None, tree_ref=None, kind="pooled",
             has_score=True, max_length=4096, tokenizer_dir=None, onnx_files=None, report=None,
             command=None, on_step=None, extra_json=None, pad_token_id=None, dtype=None, chat_template_sha256=None, scalar_pooling=None):
    """Everything of a model folder into the FolderWriter `w` (which the caller commits).

    `tree_doc` (a converted tree) is written to trees/NAME.json and named in dtr.json; otherwise
    `tree_ref` (a shipped tree name) is named. `onnx_files` ({name: source path}) are copied;
    files already in the folder (an export written into `w.tmp`) are recorded with `w.add`
    before. `extra_json` ({name: document}) adds files such as the fixture's reference.json.
    `on_step(name)` is called between steps (tests use it to interrupt).
    """
    head_ref = None
    if head_doc is not None:
        if head_doc["hiddenSize"] != hidden_size:
            raise ExportError(f"head '{head_doc['name']}' expects hidden size {head_doc['hiddenSize']} but the backbone's is {hidden_size}")
        w.write_json(f"heads/{head_doc['name']}.json", head_doc)
        head_ref = f"heads/{head_doc['name']}.json" if kind == "pooled" else None
    elif kind == "rewards":
        raise ExportError("kind 'rewards' needs a head in the graph")
    _step(on_step, "head")
    if tree_doc is not None:
        w.write_json(f"trees/{tree_doc['name']}.json", tree_doc)
        tree_ref = f"trees/{tree_doc['name']}.json"
    if tree_ref is None:
        raise ExportError("no tree: give --tree NAME|FILE.json or --tree-pickle FILE.pkl")
    _step(on_step, "tree")
    if tokenizer_dir is not None:
        copy_tokenizer_files(tokenizer_dir, w)
        if chat_template_sha256 is None:
            text, _ = checkpoint_template(tokenizer_dir)
            chat_template_sha256 = template_sha256(text) if text is not None else None
    _step(on_step, "tokenizer")
    for rel, src in (onnx_files or {}).items():
        w.copy(src, rel)
    for rel, doc in (extra_json or {}).items():
        w.write_json(rel, doc)
    _step(on_step, "onnx")
    data = []
    for rel in sorted(set(w.files)):
        if rel.endswith(".json") and (rel.startswith("heads/") or rel.startswith("trees/")):
            data.append({"path": rel, "sha256": sha256_file(w.path(rel)), "role": "head" if rel.startswith("heads/") else "tree"})
    provenance = {"source": f"exported from {backbone_id} by {EXPORTER}", "data": data, "command": command, "package": package_id()}
    cfg = model_config(name, backbone_id, hidden_size, kind=kind, has_score=has_score, head=head_ref, tree=tree_ref,
                       max_length=max_length, description=f"{backbone_id} exported for decision-tree-reward", provenance=provenance,
                       pad_token_id=pad_token_id, dtype=dtype, chat_template_sha256=chat_template_sha256, scalar_pooling=scalar_pooling)
    w.write_json("dtr.json", cfg)
    w.write_json("export.json", {
        "exporter": package_id(),
        "source": backbone_id,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": sorted(set(w.files) | {"export.json"}),
        **(report or {}),
    })
    _step(on_step, "config")


def _step(on_step, name):
    if on_step is not None:
        on_step(name)


# --------------------------------------------------------------------------- torch: export and check


def _torch():
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as e:
        raise ExportError(f"the ONNX export needs PyTorch and transformers ({e.name} is missing): "
                          "pip install -r notebooks/python/requirements.txt") from e
    import torch
    import transformers
    return torch, transformers


def resolve_source(args):
    """The local folder of the checkpoint: the argument itself, or its snapshot in the Hugging Face
    cache (downloaded only with --download: nothing is fetched behind the user's back)."""
    if os.path.isdir(args.model):
        return os.path.abspath(args.model)
    try:
        from huggingface_hub import snapshot_download
    except ImportError as e:
        raise ExportError(f"{args.model} is not a folder, and huggingface_hub (to find it in the cache) is missing") from e
    try:
        return snapshot_download(args.model, revision=args.revision, local_files_only=not args.download)
    except Exception as e:  # huggingface_hub raises several types; the message says which
        hint = "" if args.download else " (pass --download to let huggingface_hub fetch it)"
        raise ExportError(f"{args.model}: not a local folder and not in the Hugging Face cache{hint}: {str(e).splitlines()[0]}") from e


def _dtype_kwarg(transformers, dtype):
    # transformers 4.56 renamed from_pretrained's torch_dtype to dtype.
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}


def load_checkpoint(src, args, torch, transformers, dtype):
    """(model, tokenizer): the `*ForSequenceClassification` in `dtype` on the device, eval mode."""
    print(f"loading {args.model} ({'fp32' if dtype == torch.float32 else str(dtype).replace('torch.', '')}, {args.attn_implementation} attention) ...", file=sys.stderr)
    try:
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            src, trust_remote_code=args.trust_remote_code, attn_implementation=args.attn_implementation, **_dtype_kwarg(transformers, dtype))
    except ValueError as e:
        raise ExportError(f"transformers cannot load {args.model} as a sequence classifier: {str(e).splitlines()[0]}") from e
    model = model.to(args.device).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(src, use_fast=True)
    return model, tokenizer


def attribute_order(config, fallback):
    """Row order of a 5-label score layer: its id2label when that names the five attributes, else `fallback`."""
    labels = getattr(config, "id2label", None) or {}
    names = [labels.get(i, labels.get(str(i))) for i in range(len(ATTRIBUTES))]
    if sorted(str(n) for n in names) == sorted(ATTRIBUTES):
        return [str(n) for n in names], "id2label"
    return list(fallback), "--head-attributes"


def score_layer(model):
    """(weight [L, H], bias [L] or None) of the checkpoint's score layer, as numpy float64, or (None, None)."""
    layer = getattr(model, "score", None)
    if layer is None or not hasattr(layer, "weight"):
        return None, None
    w = layer.weight.detach().float().cpu().numpy().astype("float64")
    b = layer.bias.detach().float().cpu().numpy().astype("float64") if getattr(layer, "bias", None) is not None else None
    return w, b


def choose_head(args, model, hidden, state_shapes):
    """(head document or None, score weight or None, score bias, description of where the head came from)."""
    score_w, score_b = score_layer(model)
    labels = score_w.shape[0] if score_w is not None else 0
    if args.head:
        with open(args.head, encoding="utf-8") as f:
            doc = json.load(f)
        head_arrays(doc)
        source = f"head file {os.path.basename(args.head)}"
    elif args.head_weights:
        weight, bias = read_head_weights(args.head_weights)
        doc = head_document(weight, bias, f"{args.name}-head", args.backbone_id, args.head_attributes, description=f"head weights {os.path.basename(args.head_weights)}")
        source = f"head weights {os.path.basename(args.head_weights)}"
    elif args.head_key:
        state = model.state_dict()
        key = find_head_key(state_shapes, hidden, args.head_key)
        bkey = bias_key_for(key, state_shapes)
        order, _ = attribute_order(model.config, args.head_attributes)
        doc = head_document(state[key].float().cpu().numpy(), state[bkey].float().cpu().numpy() if bkey else None, f"{args.name}-head", args.backbone_id, order,
                            description=f"the layer '{key}' of {args.model}")
        source = f"checkpoint layer {key}"
    elif args.no_head:
        doc, source = None, "none (--no-head)"
    elif labels == len(ATTRIBUTES):
        order, where = attribute_order(model.config, args.head_attributes)
        doc = head_document(score_w, score_b, f"{args.name}-head", args.backbone_id, order,
                            description=f"the 5-label score layer of {args.model}, rows ordered by {where} ({', '.join(order)})")
        source = f"the checkpoint's 5-label score layer (rows by {where})"
    else:
        raise ExportError(f"{args.model} has a {labels}-label score layer, not a five-attribute head: give --head FILE.json (from dtr fit-head), "
                          "--head-weights FILE, or --no-head to export the backbone alone (to make embeddings with dtr embed)")
    # The checkpoint's own scalar reward (Skywork-style, one label) is a graph output of its own.
    scalar = labels == 1
    return doc, (score_w if scalar else None), (score_b if scalar else None), source


def example_inputs(tokenizer, torch, device, pad_id, chat_template=None):
    """Trace inputs: the card example's two conversations (different lengths), right-padded."""
    from export_check import check_conversations, pad_batch, token_ids

    rows = [token_ids(tokenizer, c, chat_template) for c in check_conversations()[:2]]
    ids, mask, pos = pad_batch(rows, "right", pad_id)
    return [torch.tensor(a, device=device) for a in (ids, mask, pos)]


def run(args):
    """The whole export (needs torch and transformers). Returns the export report."""
    torch, transformers = _torch()
    import export_check
    import export_graph

    src = resolve_source(args)
    preset = args.preset or {}
    # The template first: a folder the SDK would refuse (named templates, none 'default') fails
    # before the weights are read.
    template, template_from = checkpoint_template(src)
    chat_template = None  # None: the tokenizer's own, as transformers loads it
    if template is None:
        builtin = builtin_template(src)
        if builtin is None:
            raise ExportError(f"{args.model} has no chat template (chat_template.jinja, tokenizer_config.json, chat_template.json) and its tokenizer "
                              "is not of a family with a built-in one in the SDK (llama-3.1-instruct, gemma-2-it): add the template the reward model "
                              "was trained with as chat_template.jinja in the checkpoint folder")
        chat_template = builtin["source"]
        template_from = f"built-in: {builtin['name']}"
        print(f"warning: {args.model} has no chat template; the SDK will use its built-in '{builtin['name']}' template ({builtin['description']}), "
              "and so do the trace and --check", file=sys.stderr)
    if args.dtype == "bf16" and args.check and not str(args.device).startswith("cuda"):
        raise ExportError("--dtype bf16 --check needs --device cuda and onnxruntime-gpu: onnxruntime's CPU provider has no bfloat16 kernels "
                          "(measured with onnxruntime 1.30: Where(16) has no bfloat16 implementation); export fp16 or mixed for CPU")
    declared = transformers.AutoConfig.from_pretrained(src, trust_remote_code=args.trust_remote_code)
    if getattr(declared, "model_type", "").startswith("gemma") and args.dtype == "fp16" and not args.check:
        raise ExportError("Gemma-2 overflows fp16 (its activations exceed 65504); an fp16 Gemma-2 export is written only when --check passes: "
                          "add --check, or use --dtype mixed / fp32")
    # The checkpoint is loaded once, in the reference's dtype, and cast to --dtype after the
    # reference: a bf16 reference halves the memory; an fp32/fp16 checkpoint's weights are then
    # rounded to bf16 first (real Skywork / RLHFlow checkpoints are stored in bf16: nothing lost).
    ref_dtype = torch.bfloat16 if args.reference_dtype == "bf16" else torch.float32
    # (`dtype` since transformers 4.56, where reading `torch_dtype` warns; `torch_dtype` before.)
    stored = str(getattr(declared, "dtype", None) or getattr(declared, "torch_dtype", None) or "").replace("torch.", "") if args.reference_dtype == "bf16" else ""
    if stored and stored != "bfloat16":
        print(f"warning: {args.model} is stored in {stored}; --reference-dtype bf16 loads it in bf16, so the exported weights are rounded to bf16 first",
              file=sys.stderr)
    model, tokenizer = load_checkpoint(src, args, torch, transformers, ref_dtype)
    config = model.config
    model_type = getattr(config, "model_type", "?")
    hidden = int(config.hidden_size)
    if preset and preset["hidden_size"] != hidden:
        raise ExportError(f"{args.model} has hidden size {hidden}, the preset says {preset['hidden_size']}")
    if model_type.startswith("gemma") and args.attn_implementation == "sdpa":
        print("warning: sdpa attention ignores Gemma-2's attention soft-capping; the export will differ from the eager model", file=sys.stderr)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    head_doc, score_w, score_b, head_source = choose_head(args, model, hidden, shapes)
    if head_doc is not None and head_doc["hiddenSize"] != hidden:
        raise ExportError(f"the head expects hidden size {head_doc['hiddenSize']} but {args.model} has {hidden}")
    head = head_arrays(head_doc) if head_doc is not None else None
    # The checkpoint's config is never changed: its pad_token_id (None included) decides where
    # its own forward reads the score, and the graph's `logits` reproduces that rule
    # (export_graph.SCALAR_RULES). The id that fills padding is another matter: any id works
    # there (the attention mask hides it), the tokenizer's pad token as the SDK pads with it.
    scalar_pad = (config.get_text_config() if hasattr(config, "get_text_config") else config).pad_token_id
    scalar_pooling = export_graph.scalar_rule(transformers.__version__, scalar_pad)
    fill_id = next((i for i in (scalar_pad, getattr(tokenizer, "pad_token_id", None)) if i is not None), 0)

    loaded = tokenizer.chat_template.get("default") if isinstance(tokenizer.chat_template, dict) else tokenizer.chat_template
    if template is not None and loaded != template:
        raise ExportError(f"the chat template transformers loaded differs from {template_from} of {args.model}; "
                          "this exporter copies the checkpoint's files byte for byte and cannot tell which one is meant")

    tree_doc, tree_ref = None, args.tree
    pickle_path = args.tree_pickle
    if pickle_path is None and args.tree is None and os.path.isfile(os.path.join(src, "decision_tree.pkl")):
        pickle_path = os.path.join(src, "decision_tree.pkl")
    if pickle_path:
        print(f"warning: unpickling {os.path.basename(pickle_path)} runs code from the file; only convert pickles you trust", file=sys.stderr)
        tree_doc = tree_from_pickle(pickle_path, f"{args.name}-tree", f"converted from {os.path.basename(pickle_path)} of {args.model}")
    elif tree_ref is None:
        tree_ref = preset.get("tree")
    if tree_doc is None and tree_ref is None:
        raise ExportError(f"no tree: {args.model} has no decision_tree.pkl; give --tree NAME|FILE.json (shipped: rlhflow-llama-3.1-8b, "
                          "rlhflow-gemma-2-27b, helpsteer2-human) or --tree-pickle FILE.pkl")

    reference = None
    if args.check:
        conversations = export_check.check_conversations()
        print(f"reference: transformers {transformers.__version__} forward of {len(conversations)} conversations ...", file=sys.stderr)
        reference = export_check.transformers_reference(model, tokenizer, conversations, head, chat_template=chat_template)
        if args.reference_out:
            write_json_atomic(args.reference_out, export_check.reference_document(reference, head is not None, args.backbone_id, scalar_pad,
                                                                                  {"torch": torch.__version__, "transformers": transformers.__version__},
                                                                                  dtype=args.reference_dtype))
    if args.dtype == "mixed":
        export_graph.apply_mixed_precision(model)
    else:
        model.to(export_graph.torch_dtype(args.dtype))

    module = export_graph.build_module(model, head_weight=head[0] if head else None, head_bias=head[1] if head else None,
                                       score_weight=score_w, score_bias=score_b, pad_token_id=scalar_pad, score_rule=scalar_pooling,
                                       compute_dtype=export_graph.torch_dtype(args.dtype)).to(args.device)
    # The longest conversation: the checkpoint's own window unless asked for less (the graph's
    # attention is O(L) in memory, export_graph.py); the SDK truncates beyond it, and says so.
    window = getattr(config.get_text_config() if hasattr(config, "get_text_config") else config, "max_position_embeddings", None)
    if args.max_length is not None and window and args.max_length > int(window):
        raise ExportError(f"--max-length {args.max_length} is over {args.model}'s window (max_position_embeddings {int(window)})")
    max_length = args.max_length or (int(window) if window else None) or preset.get("max_length") or 4096
    command = " ".join(["python3", EXPORTER] + [a for a in sys.argv[1:]]) if sys.argv and sys.argv[0].endswith("dtr_export.py") else None
    report = {"outputs": module.outputs, "dtype": args.dtype, "opset": args.opset, "hiddenSize": hidden, "modelType": model_type,
              "head": head_source, "padTokenId": scalar_pad, "scalarPooling": scalar_pooling if score_w is not None else None,
              "chatTemplate": template_from, "attention": args.attn_implementation,
              "graphAttention": "query-chunked" if module.attention is not None else "explicit",
              "versions": {"torch": torch.__version__, "transformers": transformers.__version__}}
    with FolderWriter(args.out, overwrite=args.overwrite) as w:
        print(f"exporting ONNX ({args.dtype}, opset {args.opset}) ...", file=sys.stderr)
        example = example_inputs(tokenizer, torch, args.device, fill_id, chat_template)
        names = export_graph.export_onnx(module, w.tmp, example, args.opset)
        w.add("model.onnx")
        w.add("model.onnx_data")
        if args.check:
            providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if str(args.device).startswith("cuda") else ["CPUExecutionProvider"]
            tol = {"atol": args.tolerance, "rtol": 0.0} if args.tolerance is not None else None
            check = export_check.run_check(os.path.join(w.tmp, "model.onnx"), names, reference, args.dtype, fill_id, providers=providers,
                                           tolerance=tol, reference_dtype=args.reference_dtype, log=lambda s: print(s, file=sys.stderr))
            report["check"] = check
            # The check conversations' ids and pooled vectors: what an inference engine serving
            # this backbone is held to (dtr doctor; docs/scaling.md).
            report["checkVectors"] = export_check.check_vectors(reference, args.reference_dtype)
            if "rewards" in names:
                card = [r["rewards"] for r in reference[:2]]
                report["check"]["cardRewards"] = [dict(zip(ATTRIBUTES, row)) for row in card]
                for line in export_check.card_rewards_table(card, CARD_REWARDS.get(args.preset_id)):
                    print(line, file=sys.stderr)
            if not check["ok"]:
                raise CheckFailed(f"--check failed: the exported graph is off transformers ({', '.join(n for n, v in check['worst'].items() if not v['ok'])}); "
                                  f"nothing was written to {args.out}")
        assemble(w, name=args.name, backbone_id=args.backbone_id, hidden_size=hidden, head_doc=head_doc, tree_doc=tree_doc, tree_ref=tree_ref,
                 kind=args.kind, has_score=score_w is not None, max_length=max_length, tokenizer_dir=src, report=report, command=command,
                 pad_token_id=scalar_pad, dtype=args.dtype, chat_template_sha256=template_sha256(template) if template is not None else None,
                 scalar_pooling=scalar_pooling, extra_json=score_layer_files(score_w, score_b, hidden, scalar_pooling, scalar_pad))
        w.commit()
    if args.triton_repo:
        import triton_repo

        triton_repo.write_triton_repo(args.out, args.triton_repo, model_name=args.name, overwrite=args.overwrite)
        print(f"wrote the Triton model repository {args.triton_repo}", file=sys.stderr)
    return report


def score_layer_files(score_w, score_b, hidden, rule, pad_token_id):
    """{'score-layer.json': document} for a one-label checkpoint (Skywork kind), else {}: its score
    layer beside the head, so an inference engine that returns only the pooled state (vLLM's
    embeddings API) still gives the checkpoint's own reward where `rule` reads the same token."""
    if score_w is None:
        return {}
    return {"score-layer.json": {
        "format": "decision-tree-reward/score-layer",
        "version": 1,
        "output": "logits",
        "hiddenSize": int(hidden),
        "pooling": rule,
        "padTokenId": pad_token_id,
        "weight": [float(x) for x in score_w[0]],
        "bias": float(score_b[0]) if score_b is not None else 0.0,
    }}


def main(argv=None):
    args = parse_args(argv)
    try:
        run(args)
    except (ExportError, ConversionError, GraphError) as e:
        print(f"dtr_export: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
