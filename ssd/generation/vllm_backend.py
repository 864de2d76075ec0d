"""The vLLM backend: the package's `DecodingConfig` mapped onto vLLM `SamplingParams`.

Guarantees:
- `sampling_params_kwargs(cfg, seed, vllm_version, vocab_size)` is a pure function (no vLLM import): every
  sampling knob is set explicitly (temperature, top_k, top_p, min_p, no penalties, max_tokens, n=1, seed,
  stop, special tokens skipped except for harmony-format models (GPT-OSS), whose channel tokens the SFT data
  needs; vLLM leaves the final end-of-turn token out of the text), so no vLLM or generation_config default can apply. Disabled top-k
  (0, or >= the vocabulary) is -1 before vLLM 0.9.0, where 0 is rejected, and 0 from 0.9.0 on
  (vllm-project/vllm#17773). vLLM treats T < 1e-5 as greedy, as `theory.decoding` does.
- Each completion is its own request with n=1 and the seed `ssd.generation.base` documents, so seeds
  mean the same thing as in the transformers backend (the random streams differ, the distribution not).
- Prompts are sent as token ids from `ssd.prompts.encode_prompt`, the ids training sees; the engine is
  built with `generation_config="vllm"` so the model's generation_config.json sets no defaults.

Does not: install vLLM (see docs/vllm-cpu.md and `make test-vllm`), or run without it.
"""
from __future__ import annotations

import re
from typing import Any

from ssd.config import DecodingConfig
from ssd.generation.base import Backend, Completion, completion_seeds
from ssd.prompts import encode_prompt, keeps_special_tokens

TOP_K_ZERO_MEANS_OFF_SINCE = (0, 9, 0)


def parse_version(version: str) -> tuple[int, int, int]:
    """(major, minor, patch) of a version string such as "0.11.0" or "0.8.5.post1+cpu"."""
    parts = [int(m.group()) if (m := re.match(r"\d+", p)) else 0 for p in version.split(".")[:3]]
    return tuple(parts + [0] * (3 - len(parts)))  # type: ignore[return-value]


def vllm_top_k(top_k: int, vllm_version: str, vocab_size: int | None = None) -> int:
    """vLLM's value for the package's `top_k` (0 = off) in the given vLLM version."""
    off = top_k == 0 or (vocab_size is not None and top_k >= vocab_size)
    if not off:
        return top_k
    return 0 if parse_version(vllm_version) >= TOP_K_ZERO_MEANS_OFF_SINCE else -1


def sampling_params_kwargs(cfg: DecodingConfig, seed: int, vllm_version: str,
                           vocab_size: int | None = None, keep_special_tokens: bool = False) -> dict[str, Any]:
    """Complete keyword arguments for one `vllm.SamplingParams` (one completion)."""
    return {
        "n": 1,
        "temperature": cfg.temperature,
        "top_k": vllm_top_k(cfg.top_k, vllm_version, vocab_size),
        "top_p": cfg.top_p,
        "min_p": cfg.min_p,
        "repetition_penalty": 1.0,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "max_tokens": cfg.max_tokens,
        "seed": seed,
        "stop": list(cfg.stop),
        "skip_special_tokens": not keep_special_tokens,
    }


class VLLMBackend(Backend):
    name = "vllm"

    def __init__(self, model: str, *, dtype: str | None = None, **engine_args: Any):
        import vllm  # noqa: PLC0415 - optional and heavy; only when the engine runs

        self.model = str(model)
        self.dtype = dtype or "auto"
        self.version = vllm.__version__
        self.llm = vllm.LLM(model=self.model, dtype=self.dtype, generation_config="vllm", **engine_args)
        self.tokenizer = self.llm.get_tokenizer()
        self.vocab_size = self.llm.llm_engine.model_config.get_vocab_size()
        self.keep_special = keeps_special_tokens(self.tokenizer)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "dtype": self.dtype, "vllm": self.version}

    def generate(self, prompts: list[str], cfg: DecodingConfig, *,
                 seeds: list[int] | None = None) -> list[list[Completion]]:
        import vllm  # noqa: PLC0415 - optional and heavy; only when the engine runs

        cfg.validate()
        per_prompt = completion_seeds(len(prompts), cfg, seeds)
        requests, params = [], []
        for prompt, row_seeds in zip(prompts, per_prompt):
            ids = encode_prompt(self.tokenizer, prompt)
            for seed in row_seeds:
                requests.append({"prompt_token_ids": ids})
                params.append(vllm.SamplingParams(**sampling_params_kwargs(cfg, seed, self.version,
                                                                           self.vocab_size, self.keep_special)))
        outputs = self.llm.generate(requests, params, use_tqdm=False)
        flat = [Completion(text=o.outputs[0].text, token_ids=list(o.outputs[0].token_ids),
                           finish_reason="length" if o.outputs[0].finish_reason == "length" else "stop")
                for o in outputs]
        return [flat[i * cfg.n:(i + 1) * cfg.n] for i in range(len(prompts))]
