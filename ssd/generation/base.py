"""The one generation interface every engine implements, and the choices every engine shares.

Guarantees:
- `Backend.generate(prompts, cfg, seeds=...)` returns, for each already-rendered prompt, `cfg.n`
  `Completion`s in order. Completion j of prompt i is drawn with the seed `derive_seed(seeds[i], j)`
  (default `seeds[i] = derive_seed(cfg.seed, i)`), so a completion depends on its own seed and never on
  which other prompts share its batch (up to the engine's floating-point batch effects).
- A `Completion`'s `text` excludes special tokens and anything from the first stop string on;
  `token_ids` are the generated ids, including the EOS token or the token that completed a stop string;
  `finish_reason` is "stop" (EOS or stop string) or "length" (max_tokens reached).

Does not: build engines (`ssd.generation.make_backend`), render prompts (ssd.prompts) or write records
(ssd.generation.sampling).
"""
from __future__ import annotations

import abc
import dataclasses
import hashlib
from typing import Any

from ssd.config import ConfigError, DecodingConfig

@dataclasses.dataclass(frozen=True)
class Completion:
    text: str
    token_ids: list[int]
    finish_reason: str  # stop | length

    @property
    def n_tokens(self) -> int:
        return len(self.token_ids)


def derive_seed(*parts: Any) -> int:
    """A 63-bit seed that is a pure function of `parts` (their string forms)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def completion_seeds(n_prompts: int, cfg: DecodingConfig, seeds: list[int] | None) -> list[list[int]]:
    """The seed of completion j of prompt i, as documented in the module docstring."""
    if seeds is None:
        seeds = [derive_seed(cfg.seed, i) for i in range(n_prompts)]
    if len(seeds) != n_prompts:
        raise ConfigError(f"seeds: expected one seed per prompt ({n_prompts}), got {len(seeds)}")
    return [[derive_seed(s, j) for j in range(cfg.n)] for s in seeds]


def cut_at_stop(text: str, stop: list[str]) -> tuple[str, bool]:
    """`text` cut before the earliest stop string, and whether one occurred."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


class Backend(abc.ABC):
    """A text generator with the package's decoding semantics (see module docstring)."""

    name: str
    model: str
    tokenizer: Any

    @abc.abstractmethod
    def generate(self, prompts: list[str], cfg: DecodingConfig, *,
                 seeds: list[int] | None = None) -> list[list[Completion]]:
        """`cfg.n` completions for each rendered prompt."""

    def describe(self) -> dict[str, Any]:
        """What identifies this engine in a stage config (name, model, dtype, ...)."""
        return {"backend": self.name, "model": self.model}
