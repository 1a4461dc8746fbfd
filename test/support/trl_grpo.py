"""TRL's own GRPOTrainer, 2 steps on CPU, with dtr serve as its reward (test/trainers-trl.test.ts).

A tiny random Llama policy with the real Llama-3 tokenizer (the fixture model's), a handful of
conversational prompts, and DtrReward (notebooks/python/dtr_reward.py) as the reward function,
wrapped only to record what TRL passed it and what it gave back. Writes OUTPUT_DIR/result.json:
{"calls": [{"prompts", "completions", "rewards", "log_extra": [column names]}], "trl": version,
"logged": [the reward's log keys TRL wrote]}.

argv: SERVER_URL TOKENIZER_DIR OUTPUT_DIR
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "notebooks", "python"))


def main() -> None:
    url, tokenizer_dir, out_dir = sys.argv[1:4]
    import torch
    import trl
    from datasets import Dataset
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
    from trl import GRPOConfig, GRPOTrainer

    from dtr_reward import DtrReward

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    policy = LlamaForCausalLM(config)
    prompts = ["What is 2 + 2?", "Name a colour.", "Say hello.", "Count to three."]
    data = Dataset.from_list([{"prompt": [{"role": "user", "content": p}]} for p in prompts])

    calls = []

    class Recorded(DtrReward):
        def __call__(self, prompts, completions, log_extra=None, **kwargs):
            columns = []

            def record_extra(name, values):
                columns.append(name)
                if log_extra is not None:
                    log_extra(name, values)

            rewards = super().__call__(prompts, completions, log_extra=record_extra, **kwargs)
            calls.append(
                {"prompts": list(prompts), "completions": list(completions), "rewards": rewards, "log_extra": columns,
                 "had_log_extra": log_extra is not None}
            )
            return rewards

    reward = Recorded(url)
    args = GRPOConfig(
        output_dir=out_dir,
        max_steps=2,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=8,
        learning_rate=1e-4,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        bf16=False,
        seed=0,
        dataloader_num_workers=0,
    )
    trainer = GRPOTrainer(model=policy, reward_funcs=[reward], args=args, train_dataset=data, processing_class=tok)
    trainer.train()
    logged = sorted({k for entry in trainer.state.log_history for k in entry if k.startswith("rewards/")})
    # TRL prints its logs on stdout: the result goes to a file.
    with open(os.path.join(out_dir, "result.json"), "w", encoding="utf-8") as f:
        json.dump({"calls": calls, "trl": trl.__version__, "logged": logged, "name": reward.__name__}, f)


if __name__ == "__main__":
    main()
