#!/usr/bin/env python3
"""Write a Triton Inference Server model repository around an exported model folder's graph.

    python3 notebooks/python/triton_repo.py models/NAME --out triton-repo [--name NAME] [--max-batch-size 64]
    (or: dtr_export.py ... --triton-repo triton-repo)

The repository Triton's ONNX Runtime backend serves as it is (docs/scaling.md):

    OUT/
      NAME/
        config.pbtxt         backend "onnxruntime", inputs and outputs of model.onnx, dynamic batching
        1/model.onnx         the exported graph (version 1), with its external data beside it
        1/model.onnx_data

`tritonserver --model-repository OUT` then answers KServe v2 requests
(`POST /v2/models/NAME/infer`) with the graph's outputs (`pooled`, `rewards`, `logits`), which the
SDK reads with `--backbone-url http://host:8000 --backbone-protocol kserve-v2`.

Tensor shapes: the batch dimension is Triton's (`max_batch_size` > 0, so `dims` leave it out):
inputs [-1] (tokens), outputs [H], [5], [1]. Triton's dynamic batcher joins requests of equal
shape; the SDK sends batches already padded to their longest row, so it works with or without it.

Standard library + onnx (to read the graph's inputs and outputs without its weights).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

# onnx TensorProto element types -> Triton config data types.
_TRITON_TYPES = {1: "TYPE_FP32", 10: "TYPE_FP16", 11: "TYPE_FP64", 16: "TYPE_BF16", 6: "TYPE_INT32", 7: "TYPE_INT64", 9: "TYPE_BOOL"}


class TritonRepoError(Exception):
    pass


def graph_signature(onnx_path):
    """([(name, triton type, dims without batch)], same for outputs) of an ONNX graph, read without its weights."""
    import onnx

    model = onnx.load(onnx_path, load_external_data=False)

    def describe(values):
        out = []
        for v in values:
            t = v.type.tensor_type
            kind = _TRITON_TYPES.get(t.elem_type)
            if kind is None:
                raise TritonRepoError(f"{v.name}: element type {t.elem_type} has no Triton data type")
            dims = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
            if not dims:
                raise TritonRepoError(f"{v.name}: a scalar; Triton's batching needs a batch dimension")
            out.append((v.name, kind, dims[1:] or [1]))
        return out

    initializers = {i.name for i in model.graph.initializer}
    return describe([i for i in model.graph.input if i.name not in initializers]), describe(model.graph.output)


def config_pbtxt(name, inputs, outputs, max_batch_size=64, queue_delay_us=100, instances=1, kind="KIND_GPU"):
    """The config.pbtxt text (protobuf text format, model_config.proto) for the onnxruntime backend."""
    def tensor(entry):
        n, t, dims = entry
        return f'  {{\n    name: "{n}"\n    data_type: {t}\n    dims: [ {", ".join(str(d) for d in dims)} ]\n  }}'

    return "\n".join([
        f'name: "{name}"',
        'backend: "onnxruntime"',
        f"max_batch_size: {max_batch_size}",
        "input [",
        ",\n".join(tensor(i) for i in inputs),
        "]",
        "output [",
        ",\n".join(tensor(o) for o in outputs),
        "]",
        "dynamic_batching {",
        f"  max_queue_delay_microseconds: {queue_delay_us}",
        "}",
        "instance_group [",
        "  {",
        f"    count: {instances}",
        f"    kind: {kind}",
        "  }",
        "]",
        "",
    ])


def write_triton_repo(model_dir, out, model_name=None, max_batch_size=64, overwrite=False, kind="KIND_GPU"):
    """Writes the repository (atomically: assembled beside OUT, renamed into place). Returns OUT."""
    onnx_path = os.path.join(model_dir, "model.onnx")
    if not os.path.isfile(onnx_path):
        raise TritonRepoError(f"{model_dir} has no model.onnx")
    if os.path.exists(out) and not overwrite:
        raise TritonRepoError(f"{out} already exists; pass --overwrite to replace it")
    name = model_name or os.path.basename(os.path.abspath(model_dir))
    inputs, outputs = graph_signature(onnx_path)
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".triton-", dir=parent)
    try:
        version = os.path.join(tmp, name, "1")
        os.makedirs(version)
        for f in sorted(os.listdir(model_dir)):
            if f == "model.onnx" or f.startswith("model.onnx_data") or f.startswith("model.onnx.data"):
                src, dst = os.path.join(model_dir, f), os.path.join(version, f)
                try:
                    os.link(src, dst)  # same file system: no copy of an 8B model's 16 GB
                except OSError:
                    shutil.copyfile(src, dst)
        with open(os.path.join(tmp, name, "config.pbtxt"), "w", encoding="utf-8") as fh:
            fh.write(config_pbtxt(name, inputs, outputs, max_batch_size=max_batch_size, kind=kind))
        if os.path.exists(out):
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="triton_repo.py", description="Write a Triton model repository around an exported model folder's model.onnx.")
    ap.add_argument("model", help="an exported model folder (dtr_export.py)")
    ap.add_argument("--out", required=True, help="the repository folder to write")
    ap.add_argument("--name", help="the model's name in the repository (default: the folder's name); the SDK's --backbone-model")
    ap.add_argument("--max-batch-size", type=int, default=64, help="Triton's max_batch_size (default: %(default)s)")
    ap.add_argument("--kind", choices=["KIND_GPU", "KIND_CPU"], default="KIND_GPU", help="instance kind (default: %(default)s)")
    ap.add_argument("--overwrite", action="store_true")
    args = ap.parse_args(argv)
    if args.max_batch_size < 1:
        ap.error(f"--max-batch-size must be at least 1, got {args.max_batch_size}")
    try:
        write_triton_repo(args.model, args.out, args.name, args.max_batch_size, args.overwrite, args.kind)
    except TritonRepoError as e:
        print(f"triton_repo: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
