"""OpenRLHF's /get_reward request bodies, built as its client builds them (test/serve-rewards.test.ts).

openrlhf/datasets/prompts_dataset.py preprocess_data: prompt = apply_chat_template(chat, tokenize=False,
add_generation_prompt=True); openrlhf/utils/agent.py SingleTurnAgentExecutor.execute: the prompt is
tokenized with add_special_tokens=False, the policy's tokens (ending with its end-of-turn token) are
appended, query = hf_tokenizer.decode(prompt + action tokens, skip_special_tokens=False);
_fetch_rewards_via_http posts {"query", "prompts", "labels"} with aiohttp's json= (json.dumps).

argv: TOKENIZER_DIR; stdin: JSON [{"template": name or jinja source, "messages", "response", "eot"}];
stdout: JSON [{"body": the exact bytes as text, "prompt"}].
"""
import json
import sys

from transformers import AutoTokenizer


def main() -> None:
    tok = AutoTokenizer.from_pretrained(sys.argv[1])
    cases = json.load(sys.stdin)
    out = []
    for case in cases:
        template = case.get("template")
        kwargs = {"chat_template": template} if template else {}
        prompt = tok.apply_chat_template(case["messages"], tokenize=False, add_generation_prompt=True, **kwargs)
        prompt_ids = tok(text=prompt, add_special_tokens=False)["input_ids"]
        action_ids = tok(text=case["response"] + case["eot"], add_special_tokens=False)["input_ids"]
        query = tok.decode(prompt_ids + action_ids, skip_special_tokens=False)
        label = case.get("label", "")
        payload = {"query": [query], "prompts": [prompt], "labels": [label]}
        out.append({"body": json.dumps(payload), "prompt": prompt, "query": query})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
