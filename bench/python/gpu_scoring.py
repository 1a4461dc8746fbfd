"""Scoring text on a GPU with PyTorch: pairs/s at 2 x N tokens and the fraction of the GPU's
bf16 peak it reaches (issue 12, item 4). No weights are read: the model is a random-weight
LlamaForSequenceClassification of the real Skywork-Reward-Llama-3.1-8B shape (hidden 4,096,
32 layers, 32 / 8 heads, MLP 14,336, vocabulary 128,256), built on the device in bf16.

    python3 bench/python/gpu_scoring.py                      # the 8B shape, CUDA, bf16
    python3 bench/python/gpu_scoring.py --tiny --device cpu  # a small shape: checks the script itself
    python3 bench/python/gpu_scoring.py --peak-tflops 989 --pairs 32 --tokens 1000

Two modes, as bench/scoring.bench.ts times them on CPU: `batch1` (RLHFlow's `compare`: two
batch-1 forwards per pair) and `batched` (8 conversations per forward, equal lengths here).
The FLOPs of one pair are counted from the shape (projections, MLP and causal attention; the
embedding lookup and the 5 x hidden head are left out), so `mfu` = achieved FLOP/s / peak.
Prints a readable table, or one JSON document with --json.

The peak is looked up from the device name (dense bf16 tensor-core TFLOP/s from NVIDIA's data
sheets: H100 SXM 989, H100 PCIe 756, H200 989, A100 312, L40S 362, RTX 4090 165); give
--peak-tflops where the name is not in the table.
"""
import argparse
import json
import sys
import time

PEAKS = [("H200", 989.0), ("H100 PCIe", 756.0), ("H100", 989.0), ("A100", 312.0), ("L40S", 362.0), ("RTX 4090", 165.0)]
SHAPE_8B = {"hidden": 4096, "layers": 32, "heads": 32, "kv_heads": 8, "intermediate": 14336, "vocab": 128256}
SHAPE_TINY = {"hidden": 256, "layers": 4, "heads": 8, "kv_heads": 2, "intermediate": 768, "vocab": 128256}


def pair_flops(shape, tokens):
    """FLOPs of one pair (two conversations of `tokens` tokens): 2 per multiply-add."""
    d, layers, ff = shape["hidden"], shape["layers"], shape["intermediate"]
    kv = d * shape["kv_heads"] // shape["heads"]
    per_token = 2 * (d * d + 2 * d * kv + d * d + 3 * d * ff)  # q, k, v, o; gate, up, down
    attention = 2 * 2 * d * (tokens + 1) / 2  # QK^T and AV over the causal context, on average (t+1)/2
    return 2 * tokens * layers * (per_token + attention)


def peak_for(name):
    for key, tflops in PEAKS:
        if key.lower() in name.lower():
            return tflops
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiny", action="store_true", help="a small shape (hidden 256, 4 layers) instead of the 8B one")
    ap.add_argument("--device", default=None, help="cuda (default when available) or cpu")
    ap.add_argument("--dtype", default=None, choices=["bf16", "fp16", "fp32"], help="bf16 on CUDA, fp32 on CPU by default")
    ap.add_argument("--pairs", type=int, default=16, help="pairs timed per mode (default 16)")
    ap.add_argument("--tokens", type=int, default=1000, help="tokens per conversation (default 1,000)")
    ap.add_argument("--batch", type=int, default=8, help="conversations per forward in the batched mode (default 8)")
    ap.add_argument("--attention", default="sdpa", help="transformers attention implementation (default sdpa)")
    ap.add_argument("--peak-tflops", type=float, default=None, help="the device's dense peak for the dtype, TFLOP/s")
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    args = ap.parse_args(argv)
    for name in ("pairs", "tokens", "batch"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} must be a positive integer, got {getattr(args, name)}")

    import torch
    import transformers

    device = args.device or ("cuda" if torch.cuda.is_available() else None)
    if device is None:
        ap.error("no CUDA device here: give --device cpu (with --tiny) to check the script")
    if device.startswith("cuda") and not torch.cuda.is_available():
        ap.error(f"--device {device}: torch {torch.__version__} sees no CUDA device")
    dtype_name = args.dtype or ("bf16" if device.startswith("cuda") else "fp32")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[dtype_name]
    shape = SHAPE_TINY if args.tiny else SHAPE_8B
    config = transformers.LlamaConfig(
        hidden_size=shape["hidden"], num_hidden_layers=shape["layers"], num_attention_heads=shape["heads"],
        num_key_value_heads=shape["kv_heads"], intermediate_size=shape["intermediate"], vocab_size=shape["vocab"],
        max_position_embeddings=max(8192, args.tokens + 1), rope_theta=500000.0, num_labels=1, pad_token_id=0,
    )
    config._attn_implementation = args.attention
    torch.manual_seed(0)
    t0 = time.perf_counter()
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = transformers.LlamaForSequenceClassification(config).eval()
    finally:
        torch.set_default_dtype(previous)
    build_s = time.perf_counter() - t0
    params = sum(p.numel() for p in model.parameters())
    base = model.model
    head = torch.randn(5, shape["hidden"], dtype=dtype, device=device)

    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(1000, shape["vocab"], (2 * args.pairs, args.tokens), generator=gen).to(device)

    def batch1():
        for i in range(ids.shape[0]):
            h = base(input_ids=ids[i:i + 1]).last_hidden_state[0, -1]
            (head @ h).float().cpu()

    def batched():
        for s in range(0, ids.shape[0], args.batch):
            x = ids[s:s + args.batch]
            h = base(input_ids=x, attention_mask=torch.ones_like(x)).last_hidden_state[:, -1]
            (h @ head.T).float().cpu()

    flops = pair_flops(shape, args.tokens)
    peak = args.peak_tflops
    device_name = torch.cuda.get_device_name(device) if device.startswith("cuda") else "cpu"
    if peak is None and device.startswith("cuda"):
        peak = peak_for(device_name)
    rows = {}
    with torch.inference_mode():
        for mode, fn in (("batch1", batch1), ("batched", batched)):
            fn()  # warm-up: kernels chosen, memory pooled
            sync()
            t = time.perf_counter()
            fn()
            sync()
            seconds = time.perf_counter() - t
            achieved = flops * args.pairs / seconds
            rows[mode] = {
                "pairsPerSecond": args.pairs / seconds,
                "msPerPair": 1000 * seconds / args.pairs,
                "tflops": achieved / 1e12,
                "mfu": achieved / (peak * 1e12) if peak else None,
            }
    doc = {
        "device": device_name,
        "dtype": dtype_name,
        "shape": shape,
        "parameters": params,
        "tokensPerConversation": args.tokens,
        "pairs": args.pairs,
        "flopsPerPair": flops,
        "peakTflops": peak,
        "buildSeconds": build_s,
        "peakMemoryGb": torch.cuda.max_memory_allocated(device) / 2**30 if device.startswith("cuda") else None,
        "modes": rows,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    }
    if args.json:
        print(json.dumps(doc))
        return 0
    print(f"{device_name}, {dtype_name}, {params / 1e9:.2f} B parameters ({'tiny' if args.tiny else '8B'} shape), 2 x {args.tokens} tokens per pair, "
          f"{flops / 1e9:,.1f} GFLOP per pair; peak {peak if peak else 'unknown (give --peak-tflops)'} TFLOP/s")
    for mode, r in rows.items():
        mfu = f"{100 * r['mfu']:.1f}% of peak" if r["mfu"] is not None else "peak unknown"
        print(f"  {mode:8} {r['pairsPerSecond']:8.2f} pairs/s  {r['msPerPair']:8.1f} ms/pair  {r['tflops']:8.3f} TFLOP/s  {mfu}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
