"""transformers peer of the text-scoring benchmark: the same model folder (a Hugging Face
checkpoint), the same pairs, the same work as the SDK's compareMany: chat template + tokenize,
one forward of the decoder, the last token's hidden state, the five-attribute head and the
checkpoint's scalar score.

    python3 scoring_peer.py HF_FOLDER HEAD.json PAIRS.jsonl MODE THREADS

MODE `batch1` is RLHFlow's `compare`: two batch-1 forwards per pair. MODE `batched`: conversations
in file order, 8 per forward, right-padded to the longest of the batch (attention_mask), the
last real token gathered. Prints one JSON line: pairs/s, seconds (scoring only, after one
warm-up pair), peak RSS, the attention implementation, and the rewards of the first pair.
"""
import json
import resource
import sys
import time

import torch
import transformers


def main():
    folder, head_path, pairs_path, mode, threads = sys.argv[1:6]
    torch.set_num_threads(int(threads))
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    kw = {"dtype": torch.float32} if (major, minor) >= (4, 56) else {"torch_dtype": torch.float32}
    model = transformers.AutoModelForSequenceClassification.from_pretrained(folder, **kw).eval()
    tok = transformers.AutoTokenizer.from_pretrained(folder)
    with open(head_path, encoding="utf-8") as f:
        head = json.load(f)
    w = torch.tensor(head["weight"], dtype=torch.float32)
    b = torch.tensor(head["bias"], dtype=torch.float32)
    score = model.score.weight.detach()
    base = getattr(model, model.base_model_prefix)
    with open(pairs_path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]

    def ids(prompt, response):
        out = tok.apply_chat_template([{"role": "user", "content": prompt}, {"role": "assistant", "content": response}], tokenize=True)
        out = out["input_ids"] if hasattr(out, "keys") else out
        return list(out)

    def batch1(pairs):
        result = []
        for r in pairs:
            rewards = []
            for response in (r["a"], r["b"]):
                x = torch.tensor([ids(r["prompt"], response)])
                h = base(input_ids=x).last_hidden_state[0, -1]
                rewards.append(((w @ h + b).tolist(), float(score[0] @ h)))
            result.append(rewards)
        return result

    def batched(pairs):
        convs = [ids(r["prompt"], resp) for r in pairs for resp in (r["a"], r["b"])]
        out = []
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        for start in range(0, len(convs), 8):
            chunk = convs[start:start + 8]
            width = max(len(c) for c in chunk)
            x = torch.tensor([c + [pad] * (width - len(c)) for c in chunk])
            mask = torch.tensor([[1] * len(c) + [0] * (width - len(c)) for c in chunk])
            hidden = base(input_ids=x, attention_mask=mask).last_hidden_state
            last = hidden[torch.arange(len(chunk)), mask.sum(1) - 1]
            out.extend(zip((last @ w.T + b).tolist(), (last @ score[0]).tolist()))
        return [[out[2 * i], out[2 * i + 1]] for i in range(len(pairs))]

    run = batch1 if mode == "batch1" else batched
    with torch.no_grad():
        run(rows[:1])
        t = time.perf_counter()
        result = run(rows)
        seconds = time.perf_counter() - t
    print(json.dumps({
        "mode": mode,
        "pairs": len(rows),
        "seconds": seconds,
        "pairsPerSecond": len(rows) / seconds,
        "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "attention": model.config._attn_implementation,
        "first": result[0],
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    }))


if __name__ == "__main__":
    main()
