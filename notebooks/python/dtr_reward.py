"""`dtr serve` as the reward of a training loop: TRL reward functions and veRL's compute_score.

Standard library only (a trainer's environment should not grow for its reward client). Copy this
file next to the training script, or put notebooks/python on PYTHONPATH.

TRL (GRPOTrainer, RLOOTrainer, ...: `reward_funcs` are called as
`f(prompts=..., completions=..., completion_ids=..., **columns, log_extra=..., log_metric=...)`,
trl/trainer/grpo_trainer.py `_calculate_rewards`; async functions are awaited together):

    from dtr_reward import DtrReward
    trainer = GRPOTrainer(model=..., reward_funcs=[DtrReward("http://127.0.0.1:8000")], ...)
    # async: reward_funcs=[DtrReward("http://127.0.0.1:8000").as_async()]

veRL (`custom_reward_function.path=dtr_reward.py custom_reward_function.name=compute_score`;
verl/trainer/ppo/reward.py get_custom_reward_fn merges `custom_reward_function.reward_kwargs`
into the call, and the reward managers call
`compute_score(data_source=, solution_str=, ground_truth=, extra_info=)`): the prompt comes
from `extra_info["prompt"]` (a string or chat messages), the URL from `url=` or $DTR_URL.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Optional, Sequence

ATTRIBUTES = ("helpfulness", "correctness", "coherence", "complexity", "verbosity")


class DtrRewardError(RuntimeError):
    """The reward server refused the request or could not be reached; the message says why."""


def _post(url: str, path: str, body: dict, token: Optional[str], timeout: float, retries: int) -> dict:
    """POSTs JSON; retries 503 (loading, queue full) after its Retry-After, up to `retries` times."""
    data = json.dumps(body).encode("utf-8")
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    target = url.rstrip("/") + path
    for attempt in range(retries + 1):
        request = urllib.request.Request(target, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as res:
                return json.loads(res.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            try:
                error = json.loads(text).get("error", {})
            except ValueError:
                error = {"message": text}
            if e.code == 503 and attempt < retries:
                try:
                    wait = float(e.headers.get("retry-after", "1"))
                except ValueError:
                    wait = 1.0
                time.sleep(min(max(wait, 0.1), 60.0))
                continue
            field = f" (field {error['field']})" if error.get("field") else ""
            raise DtrRewardError(
                f"dtr serve at {url} answered {e.code} {error.get('code', '')}{field}: {error.get('message', text)}"
            ) from None
        except urllib.error.URLError as e:
            raise DtrRewardError(
                f"cannot reach dtr serve at {url} ({e.reason}): is it running? start it with "
                f"'npx dtr serve --model DIR' and wait for its 'ready' line"
            ) from None
        except (TimeoutError, OSError) as e:
            raise DtrRewardError(f"dtr serve at {url} did not answer within {timeout} s ({e})") from None
    raise DtrRewardError(f"dtr serve at {url} stayed busy (503) after {retries} retries")


class DtrReward:
    """A TRL reward function backed by `dtr serve`'s POST /v1/rewards.

    Args:
        url: the server, e.g. "http://127.0.0.1:8000".
        token: its token (`dtr serve --token`), or None.
        timeout: seconds per request.
        reward: the reward to ask for (backbone | attribute:NAME | weights:... | tree-winrate);
            None: the server's --reward.
        retries: how many times a 503 (loading, queue full) is retried after its Retry-After.
        name: the name TRL logs the reward under (rewards/NAME/mean); default "dtr" or "dtr_" + reward.
    """

    def __init__(
        self,
        url: str,
        token: Optional[str] = None,
        timeout: float = 60,
        reward: Optional[str] = None,
        retries: int = 5,
        name: Optional[str] = None,
    ):
        self.url = url
        self.token = token
        self.timeout = timeout
        self.reward = reward
        self.retries = retries
        self.__name__ = name or ("dtr" if reward is None else "dtr_" + "".join(c if c.isalnum() else "_" for c in reward))

    def score(self, prompts: Sequence[Any], completions: Sequence[Any]) -> dict:
        """The server's answer: {"reward", "rewards": [...], "attributes": [{five}, ...]}."""
        body: dict = {"prompts": list(prompts), "completions": list(completions)}
        if self.reward is not None:
            body["reward"] = self.reward
        return _post(self.url, "/v1/rewards", body, self.token, self.timeout, self.retries)

    def __call__(
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        log_extra: Optional[Callable[[str, list], None]] = None,
        **kwargs: Any,
    ) -> list:
        answer = self.score(prompts, completions)
        if log_extra is not None:
            for a in ATTRIBUTES:
                log_extra(a, [row[a] for row in answer["attributes"]])
        return [float(r) for r in answer["rewards"]]

    def as_async(self) -> Callable[..., Any]:
        """The same reward as an `async def` (TRL awaits async reward functions together)."""

        async def reward(prompts, completions, log_extra=None, **kwargs):
            return await asyncio.to_thread(self, prompts, completions, log_extra=log_extra)

        reward.__name__ = self.__name__
        return reward


def compute_score(
    data_source: Any = None,
    solution_str: str = "",
    ground_truth: Any = None,
    extra_info: Optional[dict] = None,
    url: Optional[str] = None,
    token: Optional[str] = None,
    reward: Optional[str] = None,
    timeout: float = 60,
    **kwargs: Any,
) -> dict:
    """veRL's custom reward function: {"score": the reward, and the five attributes (logged)}.

    The prompt is `extra_info["prompt"]` (a string or chat messages); the URL `url` or $DTR_URL.
    """
    target = url or os.environ.get("DTR_URL")
    if not target:
        raise DtrRewardError("compute_score needs the server's URL: set DTR_URL or custom_reward_function.reward_kwargs.url")
    prompt = (extra_info or {}).get("prompt")
    if prompt is None:
        raise DtrRewardError(
            "compute_score needs the prompt in extra_info['prompt'] (veRL passes only the response as solution_str): "
            "add it to the dataset's extra_info column"
        )
    client = DtrReward(target, token=token or os.environ.get("DTR_SERVE_TOKEN"), timeout=timeout, reward=reward)
    answer = client.score([prompt], [solution_str])
    return {"score": float(answer["rewards"][0]), **{a: float(answer["attributes"][0][a]) for a in ATTRIBUTES}}


async def compute_score_async(*args: Any, **kwargs: Any) -> dict:
    """compute_score as a coroutine (veRL awaits an async compute_score in its event loop)."""
    return await asyncio.to_thread(compute_score, *args, **kwargs)
