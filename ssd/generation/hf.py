"""The transformers backend: the package's own batched sampling loop over a KV cache.

Guarantees:
- Nothing from transformers' `generate` or the model's `generation_config` reaches the sampler: the loop
  calls the model's forward pass and samples with `ssd.generation.processing` only (temperature, top-k,
  top-p, min-p exactly as `theory.decoding`). The model's EOS ids (config and generation_config) are used
  only to stop, as vLLM does.
- Batched with left padding and explicit position ids; rows are grouped by prompt length; each completion
  has its own `torch.Generator`, seeded as `ssd.generation.base` documents.
- Prompts are tokenized with `ssd.prompts.encode_prompt`, the same ids training sees.
- Stop strings end a completion as in vLLM: the text stops before the string, the ids keep the token that
  completed it. A stop string that is one special token acts as a stop token id.

- Finished completions leave the batch (their KV-cache rows are dropped) when the cache supports it.

Does not: check the prompt against the model's context length.
"""
from __future__ import annotations

import inspect
from typing import Any

import torch

from ssd.config import DecodingConfig
from ssd.generation import processing
from ssd.generation.base import Backend, Completion, completion_seeds, cut_at_stop
from ssd.prompts import decode_completion, encode_prompt, keeps_special_tokens
from ssd.runtime import configure_threads, default_device


class TransformersBackend(Backend):
    name = "transformers"

    def __init__(self, model: str, *, device: str | None = None, dtype: str | None = None,
                 batch_size: int = 16):
        from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: PLC0415 - heavy; only when a model loads

        configure_threads()
        self.model = str(model)
        self.device = device or default_device()
        self.dtype = dtype or ("bfloat16" if self.device.startswith("cuda") else "float32")
        self.batch_size = batch_size
        self.tokenizer = AutoTokenizer.from_pretrained(self.model)
        self.net = AutoModelForCausalLM.from_pretrained(self.model, dtype=getattr(torch, self.dtype))
        self.net.to(self.device).eval()
        self.eos_ids = self._eos_ids()
        self.keep_special = keeps_special_tokens(self.tokenizer)
        params = inspect.signature(self.net.forward).parameters
        self.cache_arg = "cache" if "cache" in params else "past_key_values"  # renamed in transformers 5.x
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = min(self.eos_ids) if self.eos_ids else 0

    def _eos_ids(self) -> set[int]:
        ids: set[int] = set()
        for source in (self.net.config, getattr(self.net, "generation_config", None), self.tokenizer):
            value = getattr(source, "eos_token_id", None)
            ids.update(value if isinstance(value, (list, tuple)) else [] if value is None else [value])
        return ids

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "dtype": self.dtype, "eos_ids": sorted(self.eos_ids)}

    def _stop_token_ids(self, stop: list[str]) -> set[int]:
        specials = set(self.tokenizer.all_special_ids)
        ids = (self.tokenizer.encode(s, add_special_tokens=False) for s in stop)
        return {i[0] for i in ids if len(i) == 1 and i[0] in specials}

    def generate(self, prompts: list[str], cfg: DecodingConfig, *,
                 seeds: list[int] | None = None) -> list[list[Completion]]:
        cfg.validate()
        per_prompt = completion_seeds(len(prompts), cfg, seeds)
        encoded = [encode_prompt(self.tokenizer, p) for p in prompts]
        rows = [(i, j, s) for i, row_seeds in enumerate(per_prompt) for j, s in enumerate(row_seeds)]
        rows.sort(key=lambda r: -len(encoded[r[0]]))
        out: list[list[Completion | None]] = [[None] * cfg.n for _ in prompts]
        for start in range(0, len(rows), self.batch_size):
            chunk = rows[start:start + self.batch_size]
            done = self._run_batch([encoded[i] for i, _, _ in chunk], [s for _, _, s in chunk], cfg)
            for (i, j, _), completion in zip(chunk, done):
                out[i][j] = completion
        return out  # type: ignore[return-value]

    def _run_batch(self, prompt_ids: list[list[int]], seeds: list[int], cfg: DecodingConfig) -> list[Completion]:

        width = max(len(p) for p in prompt_ids)
        ids = torch.tensor([[self.pad_id] * (width - len(p)) + p for p in prompt_ids], device=self.device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompt_ids], device=self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        generators = [torch.Generator(device=self.device).manual_seed(s) for s in seeds]
        stop_ids = self.eos_ids | self._stop_token_ids(cfg.stop)
        window = 4 * max((len(s) for s in cfg.stop), default=0) + 2
        tokens: list[list[int]] = [[] for _ in prompt_ids]
        finish: list[str | None] = [None] * len(prompt_ids)
        rows = list(range(len(prompt_ids)))  # the completion behind each row of the live batch
        cache = None
        with torch.inference_mode():
            for _ in range(cfg.max_tokens):
                output = self.net(input_ids=ids, attention_mask=mask, position_ids=positions,
                                  use_cache=True, logits_to_keep=1, **{self.cache_arg: cache})
                cache = getattr(output, self.cache_arg)
                logits = output.logits[:, -1, :].float()
                drawn = processing.sample(logits, cfg, [generators[r] for r in rows]).tolist()
                live = []
                for position, (r, token) in enumerate(zip(rows, drawn)):
                    if finish[r] is not None:  # only when the cache could not drop the row
                        continue
                    tokens[r].append(token)
                    if token in stop_ids or (window > 2 and self._hits_stop(tokens[r], window, cfg.stop)):
                        finish[r] = "stop"
                    else:
                        live.append(position)
                if not live:
                    break
                if len(live) < len(rows) and hasattr(cache, "batch_select_indices"):
                    keep = torch.tensor(live, device=self.device)
                    cache.batch_select_indices(keep)
                    mask, positions = mask[keep], positions[keep]
                    rows, drawn = [rows[p] for p in live], [drawn[p] for p in live]
                else:  # a cache that cannot drop rows: finished rows keep decoding padding, ignored
                    drawn = [token if position in live else self.pad_id for position, token in enumerate(drawn)]
                ids = torch.tensor(drawn, device=self.device)[:, None]
                mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=-1)
                positions = positions[:, -1:] + 1
        return [self._completion(t, f or "length", cfg.stop) for t, f in zip(tokens, finish)]

    def _hits_stop(self, token_ids: list[int], window: int, stop: list[str]) -> bool:
        """Whether the decoded text contains a stop string; only the tail window is decoded each step."""
        def found(ids: list[int]) -> bool:
            return cut_at_stop(self.tokenizer.decode(ids, skip_special_tokens=True), stop)[1]
        return found(token_ids[-window:]) and found(token_ids)

    def _completion(self, token_ids: list[int], finish_reason: str, stop: list[str]) -> Completion:
        text, _ = cut_at_stop(decode_completion(self.tokenizer, token_ids, self.eos_ids, self.keep_special), stop)
        return Completion(text=text, token_ids=token_ids, finish_reason=finish_reason)
