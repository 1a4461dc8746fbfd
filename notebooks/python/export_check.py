"""`dtr_export.py --check`: the exported graph against transformers itself.

The reference is the checkpoint's own Hugging Face forward, not the module that was traced:

- token ids: `tokenizer.apply_chat_template(messages, tokenize=True)`;
- `pooled`: the base model's `last_hidden_state[0, -1]` on the unpadded conversation (what
  RLHFlow's embeddings script reads), one conversation at a time;
- `logits`: `AutoModelForSequenceClassification(...)(ids).logits[0]` (transformers' own pooling);
- `rewards`: the head applied to the reference `pooled` in float64.

The graph is run by onnxruntime on the same conversations one at a time and in padded batches
with the padding on the right and on the left. Every output must be finite and within the
tolerance of its dtype and the reference's (see TOLERANCES); the check fails otherwise, and the exporter writes no
folder. Standard library + numpy here; torch and onnxruntime are imported inside functions.
"""
from __future__ import annotations

from export_graph import GraphError

# The largest |onnxruntime - transformers| accepted, per weight type, as
#   atol + rtol * (largest |reference value| of that output over the check's conversations).
# Against the fp32 reference (the default): fp32 is the issue's 1e-4 absolute; fp16 and mixed
# were measured on the tests' tiny random Llama-3.1 and Gemma-2 checkpoints, three seeds each
# (measure_export_error.py; docs/building.md, "Tolerances and measured error"): at most 2.3e-3,
# 1.4e-3 of max|reference|; the limits leave 7x or more, since real checkpoints have longer
# residual streams (their export.json records the measured error). bf16 graphs run on CUDA
# only: their tolerance is not measured here.
TOLERANCES = {
    "fp32": {"atol": 1e-4, "rtol": 0.0},
    "fp16": {"atol": 1e-3, "rtol": 1e-2},
    "mixed": {"atol": 1e-3, "rtol": 1e-2},
    "bf16": {"atol": 1e-2, "rtol": 6e-2},
}

# Against a bf16 reference (--reference-dtype bf16: half the memory, for 27B): the reference
# itself carries bf16's rounding (8 significant bits, 2^-8 = 0.4% per operation), so the error
# no longer depends on the graph's dtype and scales with the values: measured, the same for fp32,
# fp16 and mixed graphs, at most 1% of max|reference| for rewards and pooled and 2.3% for the
# scalar (a dot product of the hidden state: its error is that of the hidden state, its values
# smaller). rtol 6e-2 leaves 2.6x over the worst; a structural mistake (a wrong token, a missing
# mask) moves outputs by their own size. The fp32 reference remains the precise check.
# bf16 graph against a bf16 reference: the two budgets added, not measured (CUDA only).
BF16_REFERENCE_TOLERANCES = {
    "fp32": {"atol": 1e-3, "rtol": 6e-2},
    "fp16": {"atol": 1e-3, "rtol": 6e-2},
    "mixed": {"atol": 1e-3, "rtol": 6e-2},
    "bf16": {"atol": 1e-2, "rtol": 1.2e-1},
}

CARD_PROMPT = (
    "Jane has 12 apples. She gives 4 apples to her friend Mark, then buys 1 more apple, and finally splits all her apples "
    "equally among herself and her 2 siblings. How many apples does each person get?"
)
CARD_RESPONSES = [
    "1. Jane starts with 12 apples and gives 4 to Mark. 12 - 4 = 8. Jane now has 8 apples.\n2. Jane buys 1 more apple. 8 + 1 = 9. "
    "Jane now has 9 apples.\n3. Jane splits the 9 apples equally among herself and her 2 siblings (3 people in total). 9 ÷ 3 = 3 apples each. "
    "Each person gets 3 apples.",
    "1. Jane starts with 12 apples and gives 4 to Mark. 12 - 4 = 8. Jane now has 8 apples.\n2. Jane buys 1 more apple. 8 + 1 = 9. "
    "Jane now has 9 apples.\n3. Jane splits the 9 apples equally among her 2 siblings (2 people in total). 9 ÷ 2 = 4.5 apples each. "
    "Each person gets 4 apples.",
]

_PARAGRAPH = (
    "Rivers shape the land they cross. Over thousands of years a river cuts its bed deeper, carries sand and silt "
    "downstream, and lays them down where the current slows, building deltas, floodplains and sandbars. "
)


def check_conversations(long_repeats=20):
    """The conversations --check runs: the model card's two, short ones, a multi-turn one and a
    long one (about 1,000 tokens with Llama-3's tokenizer), so a batch mixes lengths from
    about 20 to about 1,000 tokens and padding is exercised on both sides, and one whose texts
    begin and end with characters that Python and JavaScript disagree are whitespace."""
    card = [[{"role": "user", "content": CARD_PROMPT}, {"role": "assistant", "content": r}] for r in CARD_RESPONSES]
    return card + [
        [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi there"}],
        [{"role": "user", "content": "What is 2 + 2?"}, {"role": "assistant", "content": "4"}],
        [
            {"role": "user", "content": "Name a prime number."},
            {"role": "assistant", "content": "7 is prime."},
            {"role": "user", "content": "And an even one?"},
            {"role": "assistant", "content": "2: the only even prime, since every other even number is divisible by 2."},
        ],
        [{"role": "user", "content": "Explain how rivers change landscapes, in detail."}, {"role": "assistant", "content": _PARAGRAPH * long_repeats}],
        # Characters where Python's and JavaScript's whitespace differ (U+FEFF, U+0085, U+001C-U+001F):
        # templates trim message contents, and the SDK must trim as Python's jinja2 does.
        [{"role": "user", "content": "\ufeffWhat does \u201cdelta\u201d mean?\x85"}, {"role": "assistant", "content": "\x1c A river mouth's fan of sediment. \ufeff\x1f"}],
    ]


def token_ids(tokenizer, messages, chat_template=None):
    """`apply_chat_template(messages, tokenize=True)` as a list of ints, on transformers 4.x (a list)
    and 5.x (a BatchEncoding unless return_dict=False). `chat_template`: a template to use instead
    of the tokenizer's (the SDK's built-in one for a checkpoint that has none)."""
    out = tokenizer.apply_chat_template(messages, tokenize=True, **({"chat_template": chat_template} if chat_template is not None else {}))
    if hasattr(out, "keys") and "input_ids" in out:
        out = out["input_ids"]
    if hasattr(out, "tolist"):
        out = out.tolist()
    if out and isinstance(out[0], list):
        if len(out) != 1:
            raise GraphError(f"apply_chat_template returned {len(out)} sequences for one conversation")
        out = out[0]
    return [int(i) for i in out]


def transformers_reference(model, tokenizer, conversations, head=None, base=None, chat_template=None):
    """The reference rows: {messages, inputIds, pooled, logits?, rewards?} from the checkpoint's
    own forward, one unpadded conversation at a time (float lists, float64 for rewards).

    `head` is (weight [5, H], bias [5]) in the SDK's attribute order, or None. `model` is the
    `*ForSequenceClassification`; its base model gives `pooled`, its own forward `logits`: batch
    1, so the checkpoint's own pad rule applies as it would to that conversation alone (with no
    pad token, transformers refuses batches and reads the last token). `chat_template` replaces
    the tokenizer's (see token_ids).
    """
    import numpy as np
    import torch

    from export_graph import base_model

    base = base if base is not None else base_model(model)
    device = next(model.parameters()).device
    rows = []
    for messages in conversations:
        ids = token_ids(tokenizer, messages, chat_template)
        t = torch.tensor([ids], device=device)
        with torch.no_grad():
            hidden = base(input_ids=t).last_hidden_state[0, -1].float().cpu().numpy().astype(np.float64)
            logits = model(input_ids=t).logits[0].float().cpu().numpy().astype(np.float64)
        row = {"messages": messages, "inputIds": ids, "pooled": hidden.tolist(), "logits": logits.tolist()}
        if head is not None:
            w, b = head
            row["rewards"] = (np.asarray(w, dtype=np.float64) @ hidden + np.asarray(b, dtype=np.float64)).tolist()
        rows.append(row)
    return rows


def check_vectors(reference, reference_dtype="fp32"):
    """export.json's `checkVectors`: the check conversations' messages, token ids and transformers'
    pooled state (and scalar) of each, with the tolerance of each weight type against that
    reference. The SDK holds an inference engine to them (`dtr doctor`, `--self-check` with
    `--backbone-url`): normalised vectors, mean pooling, another template or tokenizer, or a
    precision coarser than the one named all show up here."""
    table = TOLERANCES if reference_dtype == "fp32" else BF16_REFERENCE_TOLERANCES
    return {
        "format": "decision-tree-reward/check-vectors",
        "version": 1,
        "output": "pooled",
        "referenceDtype": reference_dtype,
        "tolerances": table,
        "conversations": [{"messages": r["messages"], "inputIds": r["inputIds"], "pooled": r["pooled"],
                           **({"logits": r["logits"]} if "logits" in r else {})} for r in reference],
    }


def reference_document(rows, has_head, source, pad_token_id, versions, dtype="fp32"):
    """The reference.json document (decision-tree-reward/reference) of reference rows, as the SDK's parity tests read it."""
    return {
        "format": "decision-tree-reward/reference",
        "tolerance": 1e-4,
        "dtype": dtype,
        "outputs": (["rewards"] if has_head else []) + ["pooled", "logits"],
        "source": source,
        "padTokenId": pad_token_id,
        "versions": versions,
        "rows": rows,
    }


def pad_batch(rows, side, pad_id):
    """input_ids, attention_mask, position_ids (int64 numpy [batch, longest]) for token lists,
    padded on `side`; positions count real tokens from 0 (padding holds 1, as transformers fills it)."""
    import numpy as np

    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    pos = np.ones((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        start = 0 if side == "right" else width - len(r)
        ids[i, start:start + len(r)] = r
        mask[i, start:start + len(r)] = 1
        pos[i, start:start + len(r)] = np.arange(len(r))
    return ids, mask, pos


def run_graph(session, names, token_rows, side, pad_id, batch_size):
    """Runs the graph on every row in batches of `batch_size` padded on `side`; {output: [rows]}."""
    import numpy as np

    got = {n: [None] * len(token_rows) for n in names}
    for start in range(0, len(token_rows), batch_size):
        chunk = token_rows[start:start + batch_size]
        ids, mask, pos = pad_batch(chunk, side, pad_id)
        outs = session.run(names, {"input_ids": ids, "attention_mask": mask, "position_ids": pos})
        for n, o in zip(names, outs):
            for k in range(len(chunk)):
                got[n][start + k] = np.asarray(o[k], dtype=np.float64)
    return got


def compare(reference, got, names, tolerance, reference_outputs=None):
    """Per output: the largest |got - reference|, the limit, finiteness. `reference_outputs` maps
    a graph output to the reference field it is checked against (default: the same name)."""
    import numpy as np

    result = {}
    for n in names:
        field = (reference_outputs or {}).get(n, n)
        if field not in reference[0]:
            continue
        ref = [np.asarray(r[field], dtype=np.float64) for r in reference]
        scale = max(float(np.max(np.abs(r))) for r in ref) if ref else 0.0
        limit = tolerance["atol"] + tolerance["rtol"] * scale
        worst, finite = 0.0, True
        for r, g in zip(ref, got[n]):
            if g.shape != r.shape:
                raise GraphError(f"output {n!r}: shape {list(g.shape)} but the reference has {list(r.shape)}")
            if not np.isfinite(g).all():
                finite = False
                continue
            worst = max(worst, float(np.max(np.abs(g - r))))
        result[n] = {"maxAbsDiff": worst, "limit": limit, "finite": finite, "ok": finite and worst <= limit}
    return result


def remove_ort_temp_log():
    """onnxruntime's Linux build carries Microsoft's telemetry SDK, which creates an empty
    mat-debug-<pid>.log in the temporary folder when onnxruntime starts and never removes it (one
    file per process). Removes this process's, while it is empty (as the SDK's src/backbone/ort.ts does)."""
    import os
    import tempfile

    log = os.path.join(tempfile.gettempdir(), f"mat-debug-{os.getpid()}.log")
    try:
        if os.path.getsize(log) == 0:
            os.remove(log)
    except OSError:
        pass


def tolerance_for(dtype, reference_dtype="fp32"):
    """The --check tolerance {atol, rtol} of a `dtype` graph against a `reference_dtype` reference."""
    table = TOLERANCES if reference_dtype == "fp32" else BF16_REFERENCE_TOLERANCES
    if reference_dtype not in ("fp32", "bf16") or dtype not in table:
        raise GraphError(f"no tolerance for a {dtype} graph against a {reference_dtype} reference")
    return table[dtype]


def run_check(onnx_path, names, reference, dtype, pad_id, providers=None, tolerance=None, reference_outputs=None, log=print, reference_dtype="fp32"):
    """The whole check: every output, batch 1 and one padded batch per side. Returns the report
    ({ok, dtype, referenceDtype, tolerance, runs: {name: {output: ...}}, worst: {output: ...}});
    prints a line per output. `pad_id` fills the padding (any id: the attention mask hides it)."""
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise GraphError("--check needs onnxruntime: pip install onnxruntime (or onnxruntime-gpu)") from e
    tol = tolerance or tolerance_for(dtype, reference_dtype)
    try:
        session = ort.InferenceSession(onnx_path, providers=providers or ["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types
        message = str(e).splitlines()[0]
        hint = " (onnxruntime's CPU provider has no bfloat16 kernels: check a bf16 export on CUDA, or export fp16/mixed)" if dtype == "bf16" else ""
        raise GraphError(f"onnxruntime could not load the exported graph: {message}{hint}") from e
    finally:
        remove_ort_temp_log()
    token_rows = [r["inputIds"] for r in reference]
    runs = {}
    for label, side, batch in (("batch 1", "right", 1), ("padded right", "right", len(token_rows)), ("padded left", "left", len(token_rows))):
        got = run_graph(session, names, token_rows, side, pad_id, batch)
        runs[label] = compare(reference, got, names, tol, reference_outputs)
    worst = {}
    for n in names:
        per = [runs[k][n] for k in runs if n in runs[k]]
        if per:
            worst[n] = {"maxAbsDiff": max(p["maxAbsDiff"] for p in per), "limit": per[0]["limit"], "finite": all(p["finite"] for p in per)}
            worst[n]["ok"] = worst[n]["finite"] and worst[n]["maxAbsDiff"] <= worst[n]["limit"]
    ok = all(w["ok"] for w in worst.values()) and bool(worst)
    lengths = sorted(len(r) for r in token_rows)
    log(f"check: {len(token_rows)} conversations ({lengths[0]}-{lengths[-1]} tokens), batch 1 and padded batches on both sides, "
        f"against transformers in {reference_dtype} ({dtype}: |diff| <= {tol['atol']:g} + {tol['rtol']:g} x max|reference|)")
    for n, w in worst.items():
        state = "ok" if w["ok"] else ("FAILED: NaN or Inf" if not w["finite"] else "FAILED")
        log(f"check {n}: max |onnxruntime - transformers| = {w['maxAbsDiff']:.3g} (limit {w['limit']:.3g}) {state}")
    return {"ok": ok, "dtype": dtype, "referenceDtype": reference_dtype, "tolerance": tol, "conversations": len(token_rows), "tokens": [lengths[0], lengths[-1]], "runs": runs, "worst": worst}


def card_rewards_table(rewards, published=None, attributes=None):
    """Lines showing the card example's rewards (and the published ones beside them, when known)."""
    attributes = attributes or ["helpfulness", "correctness", "coherence", "complexity", "verbosity"]
    lines = []
    for k, row in enumerate(rewards):
        parts = []
        for a, v in zip(attributes, row):
            p = None if published is None else published[k][attributes.index(a)]
            parts.append(f"{a} {v:.4f}" + ("" if p is None else f" (card {p:.4f}, {v - p:+.4f})"))
        lines.append(f"card response {k + 1}: " + ", ".join(parts))
    return lines

