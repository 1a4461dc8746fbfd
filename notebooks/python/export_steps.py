"""The pure-Python steps of notebooks/04-export.ipynb, around the exporter.

The export itself is notebooks/python/dtr_export.py (ONNX, head, tree, dtr.json, its own
torch-against-onnxruntime check). These are the steps around it that a user runs on the GPU
machine and that need neither torch nor the weights: comparing rewards with a reference,
reading what the exporter recorded, checking the folder before copying it, a manifest to verify
the copy, and the files and command line for the first comparison in Node.

Standard library only, so they run, and are tested, on any machine: test/notebook-export.test.ts
imports this module with Debian's /usr/bin/python3.

    import sys; sys.path.insert(0, "notebooks/python")
    from export_steps import check_rewards, export_summary, check_model_folder, folder_manifest
"""
from __future__ import annotations

import hashlib
import json
import math
import os

ATTRIBUTES = ["helpfulness", "correctness", "coherence", "complexity", "verbosity"]
MODEL_CONFIG_FILE = "dtr.json"
MODEL_CONFIG_FORMAT = "decision-tree-reward/model"
HEAD_FORMAT = "decision-tree-reward/head"
TREE_FORMAT = "decision-tree-reward/tree"


def as_rewards(values):
    """Attribute rewards as a dict in ATTRIBUTES order, from a dict or a sequence of five numbers."""
    if isinstance(values, dict):
        missing = [a for a in ATTRIBUTES if a not in values]
        unknown = [k for k in values if k not in ATTRIBUTES]
        if missing or unknown:
            raise ValueError(f"rewards need exactly {ATTRIBUTES}; missing {missing}, unknown {unknown}")
        return {a: float(values[a]) for a in ATTRIBUTES}
    values = [float(v) for v in values]
    if len(values) != len(ATTRIBUTES):
        raise ValueError(f"expected {len(ATTRIBUTES)} rewards ({', '.join(ATTRIBUTES)}), got {len(values)}")
    return dict(zip(ATTRIBUTES, values))


def check_rewards(expected, got, tolerance, label="rewards"):
    """Problems (empty when none) where `got` differs from `expected` by more than `tolerance`.

    Each problem names the attribute, both values and the difference, e.g.
    "response 1: correctness 3.9728 expected, 3.9012 got (difference 0.0716 > 0.05)".
    """
    if not (tolerance >= 0 and math.isfinite(tolerance)):
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance}")
    e, g = as_rewards(expected), as_rewards(got)
    problems = []
    for a in ATTRIBUTES:
        d = abs(e[a] - g[a])
        if not math.isfinite(g[a]) or d > tolerance:
            problems.append(f"{label}: {a} {e[a]:.4f} expected, {g[a]:.4f} got (difference {d:.4f} > {tolerance})")
    return problems


def max_difference(expected, got):
    """The largest absolute difference over the five attributes (for a one-line summary)."""
    e, g = as_rewards(expected), as_rewards(got)
    return max(abs(e[a] - g[a]) for a in ATTRIBUTES)


def _read_json(path, problems, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        problems.append(f"{what}: missing")
    except (OSError, ValueError) as err:
        problems.append(f"{what}: unreadable ({err})")
    return None


def _looks_like_path(ref):
    return "/" in ref or "\\" in ref or ref.endswith(".json")


def check_model_folder(folder, hidden_size=None):
    """Problems (empty when none) that would stop the SDK from loading `folder` as a model.

    A quick check on the machine that exported it, before copying gigabytes elsewhere: dtr.json
    (format, backbone file, head, tree), the ONNX file, the tokenizer files, the head (format,
    attribute order, shape, hidden size) and the tree file (format, attribute order). A head or
    tree given by name may be one the SDK ships; those are not checked here. The SDK's own
    loader checks everything again, and more.
    """
    problems = []
    if not os.path.isdir(folder):
        return [f"{folder}: not a folder"]
    config = _read_json(os.path.join(folder, MODEL_CONFIG_FILE), problems, MODEL_CONFIG_FILE)
    if config is not None and not isinstance(config, dict):
        problems.append(f"{MODEL_CONFIG_FILE}: must be a JSON object")
        config = None
    if config is not None:
        if config.get("format") != MODEL_CONFIG_FORMAT:
            problems.append(f"{MODEL_CONFIG_FILE}: format must be {MODEL_CONFIG_FORMAT!r}, got {config.get('format')!r}")
        if config.get("version") != 1:
            problems.append(f"{MODEL_CONFIG_FILE}: version must be 1, got {config.get('version')!r}")
    backbone = (config or {}).get("backbone") or {}
    kind = backbone.get("kind")
    onnx = backbone.get("file") or "model.onnx"
    onnx_path = os.path.join(folder, onnx)
    if not os.path.isfile(onnx_path):
        problems.append(f"{onnx}: missing")
    elif os.path.getsize(onnx_path) == 0:
        problems.append(f"{onnx}: empty (0 bytes)")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        doc = _read_json(os.path.join(folder, name), problems, name)
        if name == "tokenizer.json" and doc is not None and (not isinstance(doc, dict) or "model" not in doc):
            problems.append("tokenizer.json: not a Hugging Face tokenizer.json (no 'model' section)")
    expected_hidden = hidden_size if hidden_size is not None else backbone.get("hiddenSize")
    problems.extend(_check_template(folder, config or {}))

    if kind != "rewards":
        head_ref = (config or {}).get("head")
        heads_dir = os.path.join(folder, "heads")
        in_dir = sorted(f for f in os.listdir(heads_dir) if f.endswith(".json")) if os.path.isdir(heads_dir) else []
        head_path = None
        if head_ref is None:
            if os.path.isfile(os.path.join(folder, "head.json")):
                head_path = os.path.join(folder, "head.json")
            elif len(in_dir) == 1:
                head_path = os.path.join(heads_dir, in_dir[0])
            else:
                problems.append("head.json: missing (put the head in head.json or heads/, or name it in dtr.json 'head')")
        elif _looks_like_path(head_ref):
            head_path = os.path.join(folder, head_ref)
        elif os.path.isfile(os.path.join(heads_dir, f"{head_ref}.json")):
            head_path = os.path.join(heads_dir, f"{head_ref}.json")
        if head_path is not None:
            problems.extend(_check_head(folder, head_path, expected_hidden))

    tree_ref = (config or {}).get("tree")
    if config is not None and not tree_ref:
        problems.append(f"{MODEL_CONFIG_FILE}: tree is required (a tree file in the folder, or a shipped tree's name)")
    elif tree_ref:
        tree_path = os.path.join(folder, tree_ref) if _looks_like_path(tree_ref) else os.path.join(folder, "trees", f"{tree_ref}.json")
        if _looks_like_path(tree_ref) or os.path.isfile(tree_path):
            problems.extend(_check_tree(folder, tree_path))
    return problems


def _folder_template(folder):
    """The folder's chat template as the SDK finds it: chat_template.jinja, then tokenizer_config.json, then chat_template.json.
    Named templates with none named 'default' are a ValueError naming them (transformers and the SDK refuse to choose)."""
    jinja = os.path.join(folder, "chat_template.jinja")
    if os.path.isfile(jinja):
        with open(jinja, encoding="utf-8") as f:
            return f.read(), "chat_template.jinja"
    for rel in ("tokenizer_config.json", "chat_template.json"):
        path = os.path.join(folder, rel)
        try:
            with open(path, encoding="utf-8") as f:
                t = json.load(f).get("chat_template")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(t, list):
            t = {x.get("name"): x.get("template") for x in t if isinstance(x, dict)}
        if isinstance(t, dict):
            if "default" not in t:
                raise ValueError(f"{rel}: named chat templates and none is named 'default' (available: {', '.join(sorted(str(k) for k in t))}); "
                                 "transformers and the SDK refuse to choose one")
            t = t["default"]
        if isinstance(t, str) and t:
            return t, rel
    return None, None


def _check_template(folder, config):
    """The chat template the SDK will render with: present, and the exported one when dtr.json records its sha256."""
    if config.get("chatTemplate"):
        return []
    try:
        text, where = _folder_template(folder)
    except ValueError as err:
        return [str(err)]
    recorded = config.get("chatTemplateSha256")
    if text is None:
        if recorded:
            return ["chat_template.jinja: missing (dtr.json records the exported template's sha256; copy the whole exported folder)"]
        return []  # the SDK falls back to its built-in template for Llama-3 / Gemma tokenizers, with a warning
    if recorded and hashlib.sha256(text.encode("utf-8")).hexdigest() != recorded:
        return [f"{where}: not the chat template the model was exported with (sha256 differs from dtr.json chatTemplateSha256)"]
    return []


def _check_head(folder, path, hidden_size):
    problems = []
    rel = os.path.relpath(path, folder)
    doc = _read_json(path, problems, rel)
    if doc is None:
        return problems
    if not isinstance(doc, dict) or doc.get("format") != HEAD_FORMAT:
        return problems + [f"{rel}: not a head file (format must be {HEAD_FORMAT!r})"]
    if doc.get("attributes") != ATTRIBUTES:
        problems.append(f"{rel}: attributes must be {ATTRIBUTES} in this order, got {doc.get('attributes')}")
    weight, bias, h = doc.get("weight"), doc.get("bias"), doc.get("hiddenSize")
    if not isinstance(weight, list) or len(weight) != len(ATTRIBUTES):
        problems.append(f"{rel}: weight must have {len(ATTRIBUTES)} rows")
    elif any(not isinstance(row, list) or len(row) != h for row in weight):
        problems.append(f"{rel}: every weight row must have hiddenSize = {h} values")
    if not isinstance(bias, list) or len(bias) != len(ATTRIBUTES):
        problems.append(f"{rel}: bias must have {len(ATTRIBUTES)} values")
    if hidden_size is not None and h != hidden_size:
        problems.append(f"{rel}: hidden size {h} does not match the backbone's {hidden_size}")
    return problems


def _check_tree(folder, path):
    problems = []
    rel = os.path.relpath(path, folder)
    doc = _read_json(path, problems, rel)
    if doc is None:
        return problems
    if not isinstance(doc, dict) or doc.get("format") != TREE_FORMAT:
        return problems + [f"{rel}: not a tree file (format must be {TREE_FORMAT!r})"]
    if doc.get("attributes") != ATTRIBUTES:
        problems.append(f"{rel}: attributes must be {ATTRIBUTES} in this order, got {doc.get('attributes')}")
    return problems


def sha256_file(path, chunk=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def folder_manifest(folder):
    """Every file under `folder` with its size and sha256, sorted by path ('/' separators).

    Write it next to the folder when copying a model to the machine that serves it, and compare
    there: a model is gigabytes, and a truncated model.onnx_data fails only at the first request.
    """
    rows = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, folder).replace(os.sep, "/")
            rows.append({"path": rel, "bytes": os.path.getsize(path), "sha256": sha256_file(path)})
    rows.sort(key=lambda r: r["path"])
    return rows


def compare_manifests(expected, actual):
    """Problems (empty when none) between two manifests: missing, extra or different files."""
    e = {r["path"]: r for r in expected}
    a = {r["path"]: r for r in actual}
    problems = [f"{p}: missing" for p in sorted(e.keys() - a.keys())]
    problems += [f"{p}: not in the manifest" for p in sorted(a.keys() - e.keys())]
    for p in sorted(e.keys() & a.keys()):
        if e[p]["bytes"] != a[p]["bytes"]:
            problems.append(f"{p}: {a[p]['bytes']} bytes, expected {e[p]['bytes']}")
        elif e[p]["sha256"] != a[p]["sha256"]:
            problems.append(f"{p}: sha256 differs")
    return problems



def export_summary(folder):
    """What the exporter recorded in FOLDER/export.json, as lines to read: source, dtype, outputs,
    versions, the --check verdict and the largest onnxruntime-vs-transformers difference per output,
    and the rewards it computed for the card example (when it ran with --check)."""
    path = os.path.join(folder, "export.json")
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    lines = [f"source: {doc.get('source')}", f"weights: {doc.get('dtype')}, opset {doc.get('opset')}, hidden size {doc.get('hiddenSize')}"]
    lines.append(f"outputs: {', '.join(doc.get('outputs') or [])}")
    versions = doc.get("versions") or {}
    if versions:
        lines.append("versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    check = doc.get("check")
    if not check:
        lines.append("check: not run (export with --check to compare onnxruntime with transformers)")
        return lines
    worst = check.get("worst") or {}
    state = "passed" if check.get("ok") else "FAILED"
    against = f"against transformers in {check['referenceDtype']}" if check.get("referenceDtype") else "against transformers"
    lines.append(f"check: {state} ({check.get('conversations')} conversations, {check.get('dtype')}, {against})")
    for name, w in sorted(worst.items()):
        lines.append(f"check {name}: max |onnxruntime - transformers| = {w['maxAbsDiff']:.3g} (limit {w['limit']:.3g})")
    for k, row in enumerate(check.get("cardRewards") or []):
        lines.append(f"card response {k + 1}: " + ", ".join(f"{a} {as_rewards(row)[a]:.4f}" for a in ATTRIBUTES))
    return lines


def card_rewards(folder):
    """The card example's rewards the exporter computed with onnxruntime (export.json), one dict per response."""
    with open(os.path.join(folder, "export.json"), encoding="utf-8") as f:
        check = json.load(f).get("check") or {}
    rows = check.get("cardRewards")
    if not rows:
        raise ValueError(f"{folder}/export.json has no card rewards: export with --check (and a head)")
    return [as_rewards(r) for r in rows]


def compare_command(model_dir, files_dir, prompt, response_a, response_b):
    """Writes the prompt and both responses as text files in `files_dir` and returns the `dtr`
    arguments that compare them with the model folder: ["compare", "--model", DIR, "--self-check",
    "--prompt", "@FILE", "--a", "@FILE", "--b", "@FILE"]. Run it as `npx dtr ARGS...`."""
    os.makedirs(files_dir, exist_ok=True)
    names = {"prompt": prompt, "a": response_a, "b": response_b}
    args = ["compare", "--model", str(model_dir), "--self-check"]
    for key, text in names.items():
        path = os.path.join(files_dir, f"{key}.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        args += [f"--{key}", f"@{path}"]
    return args
