"""The torch half of the exporter: the graph module, its attention masks, the ONNX export, and
the external-data file written tensor by tensor.

Why a module of our own around the checkpoint, rather than exporting the Hugging Face model as is:

- **Masks without transformers' mask builder.** transformers 4.53+ builds attention masks with
  `torch.vmap` (`masking_utils`), which the TorchScript exporter cannot trace (`RuntimeError:
  unordered_map::at` with torch >= 2.6), and 5.x adds `aten::diff` for packed-sequence detection,
  which ONNX has no operator for. Every supported version returns a ready 4-D mask unchanged
  (4.45-4.52: `_update_causal_mask`; 4.53+: `_preprocess_mask_arguments`, and a dict per layer
  type for models with sliding layers), so the graph builds its own from plain tensor ops:
  causal, padding, and Gemma-2's sliding window (`i - j < window`, as transformers'
  `sliding_window_overlay`).
- **Pooling that reproduces the checkpoint.** `pooled` is the final hidden state of each row's
  last attended token: the last token of the unpadded conversation, which RLHFlow's
  embeddings script (decision_tree/get_embeddings.py, `last_hidden_state[0][-1]`) fitted the
  heads on. `logits` (the checkpoint's own score) is read where the installed transformers'
  `*ForSequenceClassification` reads it on that conversation alone (SCALAR_RULES), so the
  scalar equals the model's own forward whatever its pad rule, also when the pad token is one
  that ends conversations.
- **Eager attention by default**: sdpa ignores Gemma-2's attention soft-capping.

torch and transformers are imported inside the functions, so the module imports without them.
"""
from __future__ import annotations

import importlib.util
import os
import shutil

# Weight types the exporter writes. 'mixed': fp16 weights and matrix products, with the
# normalisation layers and the residual stream kept in fp32 (what keeps Gemma-2's large
# activations from overflowing fp16).
DTYPES = ("fp32", "fp16", "mixed", "bf16")

# Tensors at least this large go to the external data file; smaller ones stay in model.onnx.
EXTERNAL_THRESHOLD = 1024
# Offsets in the data file are aligned so that onnxruntime can map tensors directly.
EXTERNAL_ALIGNMENT = 64
COPY_CHUNK = 16 << 20


class GraphError(Exception):
    """A model the exporter cannot turn into a graph; the message says why and what to do."""


def torch_dtype(name):
    import torch

    return {"fp32": torch.float32, "fp16": torch.float16, "mixed": torch.float16, "bf16": torch.bfloat16}[name]


def base_model(model):
    """The decoder inside a `*ForSequenceClassification` (its `base_model_prefix` attribute)."""
    base = getattr(model, getattr(model, "base_model_prefix", "model"), None)
    if base is None:
        raise GraphError(f"{type(model).__name__} has no base model at '{model.base_model_prefix}'")
    return base


def layer_types(config):
    """Each decoder layer's attention kind ('full_attention' / 'sliding_attention'), or None when
    the config does not say (older transformers: the layers apply their window themselves)."""
    kinds = getattr(config, "layer_types", None)
    return list(kinds) if kinds else None


def wants_mask_mapping(config):
    """True when the decoder takes a {layer type: mask} dict: transformers >= 4.53 (masking_utils)
    with sliding layers. There a single 4-D mask would be used for the sliding layers unchanged."""
    kinds = layer_types(config) or []
    return importlib.util.find_spec("transformers.masking_utils") is not None and "sliding_attention" in kinds


def additive_mask(attention_mask, dtype, window=None):
    """[batch, 1, T, T] additive mask: 0 where query i may attend key j, the dtype's minimum elsewhere.

    Allowed: j <= i, key j is a real token, and i - j < window when there is one. Every query may
    attend itself, so no row is fully masked: padding rows stay finite (a fully masked row
    turns into NaN in low precision, and NaN reaches real rows through 0 x NaN in the next
    layer's value product).
    """
    import torch

    length = attention_mask.shape[1]
    steps = torch.arange(length, device=attention_mask.device)
    query = steps.view(1, 1, length, 1)
    key = steps.view(1, 1, 1, length)
    allowed = (key <= query) & attention_mask.view(attention_mask.shape[0], 1, 1, length).bool()
    if window is not None:
        allowed = allowed & (query - key < window)
    allowed = allowed | (query == key)
    zero = torch.zeros((), dtype=dtype, device=attention_mask.device)
    blocked = torch.full((), torch.finfo(dtype).min, dtype=dtype, device=attention_mask.device)
    return torch.where(allowed, zero, blocked)


# Where transformers' `*ForSequenceClassification` reads the score on one unpadded conversation
# (batch 1), by version, as dtr.json's `outputPooling` names it:
# - 'last-token': config.pad_token_id is None (every version: `logits[:, -1]`; with a batch > 1
#   transformers refuses, "Cannot handle batch sizes > 1 if no padding token is defined");
# - 'last-non-pad-token': the rightmost token that is not pad_token_id (transformers >= 4.49,
#   huggingface/transformers#35911, `(token_indices * non_pad_mask).argmax(-1)`);
# - 'first-pad-minus-one': the token before the first pad_token_id, the last token when there is
#   none (transformers < 4.49: `(torch.eq(input_ids, pad).int().argmax(-1) - 1) % length`).
SCALAR_RULES = ("last-token", "last-non-pad-token", "first-pad-minus-one")
RIGHTMOST_NON_PAD_SINCE = (4, 49)


def scalar_rule(transformers_version, pad_token_id):
    """The SCALAR_RULES entry that transformers `transformers_version` applies for a checkpoint
    whose config has `pad_token_id` (None: no pad token)."""
    if pad_token_id is None:
        return "last-token"
    major, minor = (int(x) for x in str(transformers_version).split(".")[:2])
    return "last-non-pad-token" if (major, minor) >= RIGHTMOST_NON_PAD_SINCE else "first-pad-minus-one"


def scalar_index(input_ids, attention_mask, rule, pad_token_id):
    """Index of the token each row's score is read at, by `rule` (SCALAR_RULES), applied to the
    row's attended tokens as transformers applies it to the unpadded conversation: the result is
    the same whichever side the padding is on."""
    import torch

    attended = attention_mask.bool()
    if rule == "last-token" or pad_token_id is None:
        return last_index(attended)
    is_pad = attended & (input_ids == pad_token_id)
    if rule == "last-non-pad-token":
        return last_index(attended & ~is_pad)
    if rule != "first-pad-minus-one":
        raise GraphError(f"unknown scalar rule {rule!r} (one of {', '.join(SCALAR_RULES)})")
    # On the unpadded conversation of length L: f = first pad index (0 when none, as argmax of
    # all zeros), read at (f - 1) mod L, i.e. f - 1, or L - 1 when f is 0.
    start = attended.to(torch.int64).argmax(dim=1)
    length = attended.to(torch.int64).sum(dim=1)
    first = torch.where(is_pad.any(dim=1), is_pad.to(torch.int64).argmax(dim=1) - start, torch.zeros_like(start))
    return start + torch.where(first == 0, length - 1, first - 1)


def last_index(valid):
    """Index of each row's last True (rightmost), 0 for a row with none: `(positions * valid).argmax`,
    as transformers' sequence classification pools."""
    import torch

    positions = torch.arange(valid.shape[1], device=valid.device).unsqueeze(0)
    return (positions * valid.to(positions.dtype)).argmax(dim=1)


def gather_rows(hidden, index):
    """hidden[b, index[b], :] for every row b."""
    return hidden.gather(1, index.view(-1, 1, 1).expand(-1, 1, hidden.shape[-1])).squeeze(1)


def build_module(model, *, head_weight=None, head_bias=None, score_weight=None, score_bias=None, pad_token_id=None, compute_dtype=None,
                 score_rule=None):
    """The graph: (input_ids, attention_mask, position_ids) [batch, T] int64 ->
    rewards [batch, 5] (when a head is fused), pooled [batch, H], logits [batch, L] (when the
    checkpoint has a score layer that is not the attribute head); all float32.

    `pooled` and `rewards` read the last attended token; `logits` the token that `score_rule`
    (SCALAR_RULES; default: the rule of the installed transformers for `pad_token_id`, the
    checkpoint's own config value) picks. Heads and the score layer run in float32 whatever the
    backbone's weight type.
    """
    import torch

    base = base_model(model)
    config = model.config
    kinds = layer_types(config)
    mapping = wants_mask_mapping(config)
    window = getattr(config, "sliding_window", None)
    dtype = compute_dtype or next(model.parameters()).dtype
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    chunked = chunked_attention_available()
    attention = None
    if chunked:
        use_chunked_attention(model)
        heads = int(text.num_attention_heads)
        kv_heads = int(getattr(text, "num_key_value_heads", None) or heads)
        head_dim = int(getattr(text, "head_dim", None) or text.hidden_size // heads)
        attention = {"heads": heads, "kvHeads": kv_heads, "headDim": head_dim}
    if score_rule is None:
        import transformers

        score_rule = scalar_rule(transformers.__version__, pad_token_id)

    class RewardGraph(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.base = base
            self.outputs = (["rewards"] if head_weight is not None else []) + ["pooled"] + (["logits"] if score_weight is not None else [])
            self.pad_token_id = pad_token_id
            self.score_rule = score_rule
            # The chunked attention's shape (export_onnx expands its placeholders), None: explicit scores.
            self.attention = attention
            if head_weight is not None:
                self.register_buffer("head_w", torch.as_tensor(head_weight, dtype=torch.float32))
                self.register_buffer("head_b", torch.as_tensor(head_bias, dtype=torch.float32))
            if score_weight is not None:
                self.register_buffer("score_w", torch.as_tensor(score_weight, dtype=torch.float32))
                b = score_bias if score_bias is not None else [0.0] * len(score_weight)
                self.register_buffer("score_b", torch.as_tensor(b, dtype=torch.float32))

        def forward(self, input_ids, attention_mask, position_ids):
            if chunked:
                # The chunked attention builds its masks per chunk from this [B, 1, 1, L] padding
                # mask (transformers passes a 4-D mask through unchanged); its window comes from
                # each layer's own sliding_window.
                padding = attention_mask.view(attention_mask.shape[0], 1, 1, attention_mask.shape[1])
                mask = {"full_attention": padding, "sliding_attention": padding} if mapping else padding
            elif mapping:
                mask = {"full_attention": additive_mask(attention_mask, dtype)}
                if "sliding_attention" in kinds:
                    mask["sliding_attention"] = additive_mask(attention_mask, dtype, window)
            else:
                mask = additive_mask(attention_mask, dtype)
            hidden = self.base(input_ids=input_ids, attention_mask=mask, position_ids=position_ids, use_cache=False).last_hidden_state
            attended = attention_mask.bool()
            pooled = gather_rows(hidden, last_index(attended)).to(torch.float32)
            out = []
            if head_weight is not None:
                out.append(pooled @ self.head_w.t() + self.head_b)
            out.append(pooled)
            if score_weight is not None:
                if self.score_rule == "last-token":
                    at = pooled
                else:
                    at = gather_rows(hidden, scalar_index(input_ids, attention_mask, self.score_rule, self.pad_token_id)).to(torch.float32)
                out.append(at @ self.score_w.t() + self.score_b)
            return tuple(out)

    return RewardGraph().eval()


def apply_mixed_precision(model):
    """fp16 for the matrix products, fp32 for normalisation and the residual stream.

    The model is cast to fp16, then every normalisation layer back to fp32; each decoder layer
    is entered with fp32 hidden states, and its attention and MLP blocks get fp16 inputs and
    give fp32 outputs (forward hooks), so the residual additions and the norms run in fp32.
    Works for the Llama and Gemma-2 layouts (`self_attn`, `mlp` inside each decoder layer).
    """
    import torch

    model.to(torch.float16)
    base = base_model(model)
    layers = getattr(base, "layers", None)
    if layers is None:
        raise GraphError(f"--dtype mixed needs a decoder with .layers ({type(base).__name__} has none); use fp16 or fp32")
    for module in model.modules():
        if "norm" in type(module).__name__.lower():
            module.to(torch.float32)

    def to_half(_module, args, kwargs):
        args = tuple(a.to(torch.float16) if torch.is_tensor(a) and a.is_floating_point() else a for a in args)
        if "hidden_states" in kwargs and torch.is_tensor(kwargs["hidden_states"]):
            kwargs["hidden_states"] = kwargs["hidden_states"].to(torch.float16)
        return args, kwargs

    def to_float(_module, _args, output):
        if isinstance(output, tuple):
            return (output[0].to(torch.float32),) + tuple(output[1:])
        return output.to(torch.float32)

    def layer_input_float(_module, args, kwargs):
        if args and torch.is_tensor(args[0]):
            args = (args[0].to(torch.float32),) + tuple(args[1:])
        if "hidden_states" in kwargs and torch.is_tensor(kwargs["hidden_states"]):
            kwargs["hidden_states"] = kwargs["hidden_states"].to(torch.float32)
        return args, kwargs

    for layer in layers:
        for name in ("self_attn", "mlp"):
            block = getattr(layer, name, None)
            if block is None:
                raise GraphError(f"--dtype mixed: decoder layer {type(layer).__name__} has no .{name}; use fp16 or fp32")
            block.register_forward_pre_hook(to_half, with_kwargs=True)
            block.register_forward_hook(to_float)
        layer.register_forward_pre_hook(layer_input_float, with_kwargs=True)
    norm = getattr(base, "norm", None)
    if norm is not None:
        norm.register_forward_pre_hook(lambda _m, args: tuple(a.to(torch.float32) if torch.is_tensor(a) else a for a in args))
    return model


def export_onnx(module, out_dir, example, opset=17, data_name="model.onnx_data"):
    """Exports `module` to OUT_DIR/model.onnx with its weights in OUT_DIR/`data_name`.

    The TorchScript exporter (`dynamo=False`) with dynamic batch and sequence axes: it traces the
    module once, and the masks above keep every shape symbolic. Its own output (one file per
    large tensor for models over 2 GB) goes to a scratch folder inside OUT_DIR and is rewritten
    by :func:`externalize` tensor by tensor. Returns the output names.
    """
    import inspect

    import torch

    names = list(module.outputs)
    inputs = ["input_ids", "attention_mask", "position_ids"]
    axes = {k: {0: "batch", 1: "sequence"} for k in inputs}
    axes.update({n: {0: "batch"} for n in names})
    kwargs = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    attention = getattr(module, "attention", None)
    if attention is not None:
        kwargs["custom_opsets"] = {ATTENTION_DOMAIN: 1}
    scratch = os.path.join(out_dir, ".torch-export")
    os.makedirs(scratch, exist_ok=True)
    try:
        raw = os.path.join(scratch, "model.onnx")
        with torch.no_grad():
            torch.onnx.export(module, tuple(example), raw, input_names=inputs, output_names=names, dynamic_axes=axes,
                              opset_version=opset, do_constant_folding=True, **kwargs)
        if attention is not None:
            expanded = expand_chunked_attention(raw, attention["heads"], attention["kvHeads"], attention["headDim"])
            if expanded == 0:
                raise GraphError("the traced graph has no chunked attention: the checkpoint's attention does not go through "
                                 "transformers' attention interface; this exporter cannot export it in O(L) memory")
        externalize(raw, os.path.join(out_dir, "model.onnx"), data_name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return names


def _tensors(graph):
    """Every TensorProto of a graph: initializers and Constant-node values, subgraphs included."""
    from onnx import AttributeProto

    for t in graph.initializer:
        yield t
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == AttributeProto.TENSOR:
                yield attr.t
            elif attr.type == AttributeProto.GRAPH:
                yield from _tensors(attr.g)
            elif attr.type == AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from _tensors(g)


def externalize(src_onnx, dst_onnx, data_name="model.onnx_data", threshold=EXTERNAL_THRESHOLD, chunk=COPY_CHUNK):
    """Rewrites an ONNX model so that every tensor of `threshold` bytes or more lives in one data
    file beside `dst_onnx`, written one tensor at a time.

    The graph is loaded without its external data (`load_external_data=False`), so a model's
    weights are never all in memory: tensors already external (torch writes one file per tensor
    for models over 2 GB) are copied from their files in chunks; tensors held inline (smaller
    models) are written and cleared one by one. Returns the data file's size in bytes.
    """
    import onnx
    from onnx import TensorProto

    model = onnx.load(src_onnx, load_external_data=False)
    src_dir = os.path.dirname(os.path.abspath(src_onnx))
    data_path = os.path.join(os.path.dirname(os.path.abspath(dst_onnx)), data_name)
    with open(data_path, "wb") as out:
        for t in _tensors(model.graph):
            external = t.data_location == TensorProto.EXTERNAL
            if not external and (not t.HasField("raw_data") or len(t.raw_data) < threshold):
                continue
            pad = (-out.tell()) % EXTERNAL_ALIGNMENT
            if pad:
                out.write(b"\0" * pad)
            offset = out.tell()
            if external:
                info = {e.key: e.value for e in t.external_data}
                path = os.path.join(src_dir, info["location"])
                start = int(info.get("offset", 0))
                length = int(info["length"]) if "length" in info else os.path.getsize(path) - start
                with open(path, "rb") as f:
                    f.seek(start)
                    left = length
                    while left > 0:
                        block = f.read(min(chunk, left))
                        if not block:
                            raise GraphError(f"{path}: ends {left} bytes early (tensor {t.name!r})")
                        out.write(block)
                        left -= len(block)
            else:
                length = len(t.raw_data)
                out.write(t.raw_data)
                t.ClearField("raw_data")
            del t.external_data[:]
            for key, value in (("location", data_name), ("offset", str(offset)), ("length", str(length))):
                entry = t.external_data.add()
                entry.key, entry.value = key, value
            t.data_location = TensorProto.EXTERNAL
        size = out.tell()
    onnx.save_model(model, dst_onnx)
    return size


# --------------------------------------------------------------------------- attention in O(L) memory
#
# An explicit matmul-softmax-matmul holds [batch, heads, L, L] scores: 11 GB per layer at 9k
# tokens with 32 heads in fp32. onnxruntime's fused kernels do not help on CPU (measured,
# onnxruntime 1.30, 32 heads, 4,096 tokens): com.microsoft MultiHeadAttention takes its flash
# path only without a mask and not causal (0.1 GB); causal, or with a key padding mask, it
# falls back to full scores (2.3 GB), and so does opset-23 Attention with is_causal (2.3 GB);
# GroupQueryAttention's CPU kernel also allocates batch x heads x L x L probabilities and knows
# right padding only. So the graph computes attention a block of queries at a time: an ONNX Loop
# over query chunks whose scores are [batch, heads, C, keys], with C chosen at run time so that
# a chunk holds about ATTENTION_CHUNK_ELEMENTS scores, and keys cut to those a chunk can see
# (causal: up to the chunk's last query; with a sliding window: from its first query's window).
# Every mask is applied inside the chunk from indices and the [batch, L] padding mask, exactly
# as additive_mask builds it (causal, padding on either side, Gemma-2's window, a query always
# sees itself); soft-capping (Gemma-2) is applied to the scores before the mask, as transformers'
# eager attention does.

ATTENTION_CHUNK_ELEMENTS = 1 << 24
ATTENTION_IMPL = "dtr_chunked"
ATTENTION_OP = "ChunkedAttention"
ATTENTION_DOMAIN = "dtr"


def chunked_attention_available():
    """Whether the installed transformers takes a registered attention function (4.48+)."""
    try:
        from transformers.modeling_utils import AttentionInterface  # noqa: F401
    except ImportError:
        return False
    return True


def reference_attention(query, key, value, valid, scale, window, softcap):
    """The chunked attention's meaning in torch (full scores): query [B, H, L, D], key / value
    [B, Hkv, L, D], valid [B, L] (1 = real token); returns [B, H, L, D]. Used at trace time only."""
    import torch

    groups = query.shape[1] // key.shape[1]
    key = key.repeat_interleave(groups, dim=1)
    value = value.repeat_interleave(groups, dim=1)
    scores = torch.matmul(query * scale, key.transpose(2, 3))
    if softcap:
        scores = torch.tanh(scores / softcap) * softcap
    length = query.shape[2]
    steps = torch.arange(length, device=query.device)
    q, k = steps.view(length, 1), steps.view(1, length)
    allowed = (k <= q).view(1, 1, length, length) & valid.bool().view(valid.shape[0], 1, 1, length)
    if window:
        allowed = allowed & (q - k < window)
    allowed = allowed | (q == k)
    scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
    return torch.matmul(torch.softmax(scores, dim=-1), value)


def _attention_function():
    import torch

    class ChunkedAttentionOp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, query, key, value, valid, scale, window, softcap):
            return reference_attention(query, key, value, valid, scale, window, softcap)

        @staticmethod
        def symbolic(g, query, key, value, valid, scale, window, softcap):
            elem = {"Float": 1, "Half": 10, "BFloat16": 16}[query.type().scalarType()]
            out = g.op(f"{ATTENTION_DOMAIN}::{ATTENTION_OP}", query, key, value, valid, scale_f=float(scale), window_i=int(window or 0),
                       softcap_f=float(softcap or 0.0), elem_type_i=elem)
            out.setType(query.type())
            return out

    def attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, sliding_window=None, softcap=None, **_kwargs):
        # attention_mask: the [B, 1, 1, L] padding mask the graph passes (build_module).
        valid = attention_mask.reshape(attention_mask.shape[0], attention_mask.shape[-1]).to(torch.int64)
        scale = scaling if scaling is not None else query.shape[-1] ** -0.5
        out = ChunkedAttentionOp.apply(query, key, value, valid, float(scale), int(sliding_window or 0), float(softcap or 0.0))
        return out.transpose(1, 2).contiguous(), None

    return attention


def use_chunked_attention(model):
    """Switches `model`'s attention to the chunked one for tracing (see the section comment)."""
    from transformers.modeling_utils import AttentionInterface

    AttentionInterface.register(ATTENTION_IMPL, _attention_function())
    for config in {id(c): c for c in [model.config, getattr(model.config, "get_text_config", lambda: model.config)()]}.values():
        config._attn_implementation = ATTENTION_IMPL
    for module in model.modules():
        config = getattr(module, "config", None)
        if config is not None and hasattr(config, "_attn_implementation"):
            config._attn_implementation = ATTENTION_IMPL


def _chunked_attention_nodes(node, heads, kv_heads, head_dim, elem_type, prefix):
    """The ONNX nodes that replace one ChunkedAttention placeholder (inputs q, k, v, valid; output out)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper

    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    scale, window, softcap = float(attrs.get("scale", 1.0)), int(attrs.get("window", 0)), float(attrs.get("softcap", 0.0))
    np_type = helper.tensor_dtype_to_np_dtype(elem_type)
    q_in, k_in, v_in, valid_in = node.input
    groups = heads // kv_heads
    n = lambda s: f"{prefix}/{s}"  # noqa: E731

    def const(name, value, dtype=np.int64):
        return helper.make_node("Constant", [], [n(name)], value=onnx.numpy_helper.from_array(np.asarray(value, dtype=dtype), n(name)))

    def op(kind, inputs, output, **kw):
        return helper.make_node(kind, [x if x.startswith(prefix) or x in node.input else n(x) for x in inputs], [n(output)], **kw)

    outer = [
        const("c0", [0]), const("c1", [1]), const("c2", [2]), const("c3", [3]), const("cm1", [-1]), const("cbig", [2 ** 62]),
        const("cE", [ATTENTION_CHUNK_ELEMENTS]), const("cH", [heads]), const("cHkv", [kv_heads]), const("cG", [groups]), const("cD", [head_dim]),
        const("scale", scale, np_type), const("c0s", 0), const("c1s", 1),
        helper.make_node("Shape", [q_in], [n("qs")]),
        op("Gather", ["qs", "c0"], "B", axis=0), op("Gather", ["qs", "c2"], "L", axis=0),
        # C = clamp(E // (B * H * L), 1, L) query rows a chunk; n = ceil(L / C) chunks.
        op("Mul", ["B", "cH"], "BH"), op("Mul", ["BH", "L"], "BHL"), op("Div", ["cE", "BHL"], "C0"), op("Max", ["C0", "c1"], "C1"),
        op("Min", ["C1", "L"], "C"), op("Add", ["L", "C"], "LC"), op("Sub", ["LC", "c1"], "LC1"), op("Div", ["LC1", "C"], "n"),
        op("Sub", ["L", "C"], "LmC"), op("Squeeze", ["C", "c0"], "Cs"), op("Squeeze", ["n", "c0"], "ns"),
        # q scaled once, grouped by kv head: [B, Hkv, G, L, D]; keys transposed once: [B, Hkv, D, L].
        helper.make_node("Mul", [q_in, n("scale")], [n("qsc")]),
        op("Concat", ["B", "cHkv", "cG", "L", "cD"], "qshape", axis=0), op("Reshape", ["qsc", "qshape"], "qg"),
        helper.make_node("Transpose", [k_in], [n("kT")], perm=[0, 1, 3, 2]),
        helper.make_node("Cast", [valid_in], [n("validb")], to=TensorProto.BOOL),
        op("Concat", ["B", "c1", "c1", "c1", "L"], "vshape", axis=0), op("Reshape", ["validb", "vshape"], "valid5"),
        op("Range", ["c0s", "Cs", "c1s"], "cidx"), op("Unsqueeze", ["cidx", "c1"], "cidx2"),
    ]
    body = [
        op("Unsqueeze", ["i", "c0"], "i1"), op("Mul", ["i1", "C"], "iC"),
        # Chunk i covers queries [s, s + C): the last chunk is moved back to end at L (same shape every iteration).
        op("Min", ["iC", "LmC"], "s"), op("Add", ["s", "C"], "e"),
    ]
    if window:
        body += [const("winm1", [window - 1]), op("Sub", ["s", "winm1"], "ks0"), op("Max", ["ks0", "c0"], "ks")]
    else:
        body += [op("Identity", ["c0"], "ks")]
    body += [
        op("Slice", ["qg", "s", "e", "c3"], "qi"),
        op("Concat", ["B", "cHkv", "cm1", "cD"], "q4shape", axis=0), op("Reshape", ["qi", "q4shape"], "qi4"),
        op("Slice", ["kT", "ks", "e", "c3"], "kTi"), op("Slice", [v_in, "ks", "e", "c2"], "vi"),
        const("c4", [4]), op("Slice", ["valid5", "ks", "e", "c4"], "validi"),
        op("Squeeze", ["ks", "c0"], "kss"), op("Squeeze", ["e", "c0"], "es"), op("Range", ["kss", "es", "c1s"], "kidx"),
        op("MatMul", ["qi4", "kTi"], "sc4"),
        op("Concat", ["B", "cHkv", "cG", "C", "cm1"], "s5shape", axis=0), op("Reshape", ["sc4", "s5shape"], "sc5"),
    ]
    scores = "sc5"
    if softcap:
        body += [const("cap", softcap, np_type), const("icap", 1.0 / softcap, np_type), op("Mul", [scores, "icap"], "t1"), op("Tanh", ["t1"], "t2"),
                 op("Mul", ["t2", "cap"], "t3")]
        scores = "t3"
    body += [
        op("Squeeze", ["s", "c0"], "ss"), op("Add", ["cidx2", "ss"], "qidx"),
        op("LessOrEqual", ["kidx", "qidx"], "causal"), op("And", ["causal", "validi"], "allowed0"),
    ]
    allowed = "allowed0"
    if window:
        body += [const("win", window), op("Sub", ["qidx", "kidx"], "diff"), op("Less", ["diff", "win"], "inwin"), op("And", ["allowed0", "inwin"], "allowed1")]
        allowed = "allowed1"
    body += [
        op("Equal", ["kidx", "qidx"], "diag"), op("Or", [allowed, "diag"], "allowed"),
        const("blocked", np.finfo(np_type).min, np_type), op("Where", ["allowed", scores, "blocked"], "masked"),
        op("Softmax", ["masked"], "p5", axis=-1), op("Shape", ["sc4"], "p4shape"), op("Reshape", ["p5", "p4shape"], "p4"),
        op("MatMul", ["p4", "vi"], "o4"),
        op("Concat", ["B", "cHkv", "cG", "C", "cD"], "o5shape", axis=0), op("Reshape", ["o4", "o5shape"], "o5"),
        op("Identity", ["cond"], "cond_out"),
    ]
    graph = helper.make_graph(body, n("body"), [helper.make_tensor_value_info(n("i"), TensorProto.INT64, []),
                                                 helper.make_tensor_value_info(n("cond"), TensorProto.BOOL, [])],
                              [helper.make_tensor_value_info(n("cond_out"), TensorProto.BOOL, []), helper.make_tensor_value_info(n("o5"), elem_type, None)])
    outer += [
        const("true", True, np.bool_),
        helper.make_node("Loop", [n("ns"), n("true")], [n("stack")], body=graph),  # [n, B, Hkv, G, C, D]
        # The first n - 1 chunks in order, then the rows of the last one that no other chunk gave.
        op("Sub", ["n", "c1"], "n1"), op("Slice", ["stack", "c0", "n1", "c0"], "head"),
        op("Transpose", ["head"], "headT", perm=[1, 2, 3, 0, 4, 5]),
        op("Concat", ["B", "cHkv", "cG", "cm1", "cD"], "h5", axis=0), op("Reshape", ["headT", "h5"], "headR"),
        op("Mul", ["n1", "C"], "done"), op("Sub", ["L", "done"], "r"), op("Sub", ["C", "r"], "tailstart"),
        op("Slice", ["stack", "n1", "n", "c0"], "last"), op("Squeeze", ["last", "c0"], "last5"),
        op("Slice", ["last5", "tailstart", "cbig", "c3"], "tail"), op("Concat", ["headR", "tail"], "o", axis=3),
        op("Concat", ["B", "cH", "L", "cD"], "oshape", axis=0),
    ]
    outer.append(helper.make_node("Reshape", [n("o"), n("oshape")], [node.output[0]]))
    return outer


def expand_chunked_attention(path, heads, kv_heads, head_dim):
    """Replaces every ChunkedAttention placeholder of the traced model at `path` (its weights left
    where they are) by its Loop; returns how many."""
    import onnx

    model = onnx.load(path, load_external_data=False)
    graph = model.graph
    nodes, count = [], 0
    for node in graph.node:
        if node.domain == ATTENTION_DOMAIN and node.op_type == ATTENTION_OP:
            elem = next(a.i for a in node.attribute if a.name == "elem_type")
            nodes.extend(_chunked_attention_nodes(node, heads, kv_heads, head_dim, elem, f"{node.output[0]}/chunked"))
            count += 1
        else:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    kept = [o for o in model.opset_import if o.domain != ATTENTION_DOMAIN]
    del model.opset_import[:]
    model.opset_import.extend(kept)
    onnx.save_model(model, path)
    return count
