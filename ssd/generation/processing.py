"""The package's own torch logits processing and sampler, equal to the `theory.decoding` oracle.

Guarantees (the semantics of `theory/decoding.py`, i.e. vLLM v0.11, on every row of a [batch, vocab] tensor):
- `process_logits` returns the tempered logits with every token outside the kept support set to -inf:
  temperature first (T < 1e-5 is greedy: the argmax alone, lowest index on ties), then min-p relative to
  the most likely token, then top-k on the tempered logits keeping every token tied with the k-th value
  (top_k = 0 or >= vocab is a no-op), then top-p inside the survivors with the descending "mass strictly
  above < top_p" criterion, argmax always kept (top_p = 1 is a no-op). Ranking ties go to the lower index.
- Computed in the dtype of the input: fed float64 it reproduces the oracle's support exactly (the same
  operations in the same order); fed float32 it may differ only where a top-p boundary is within float32
  rounding of a cumulative sum.
- `sample` draws one token per row by the exponential race over the kept support (probs / Exp(1), argmax;
  the Gumbel-max trick vLLM uses), each row from its own `torch.Generator`, so a row's draw never depends
  on the other rows; greedy rows take the argmax without drawing.
- `DecodingProcessor` wraps the same operator as a transformers `LogitsProcessor`, for use with a plain
  `generate` whose own warpers are all disabled (the benchmark's baseline).

Does not: apply penalties, logit bias, or any transformers/vLLM default; choose dtypes or devices.
"""
from __future__ import annotations

import math

import torch

from ssd.config import DecodingConfig
from theory.decoding import GREEDY_BELOW


def process_logits(logits: torch.Tensor, *, temperature: float, top_k: int = 0, top_p: float = 1.0,
                   min_p: float = 0.0) -> torch.Tensor:
    """Tempered logits of a [batch, vocab] tensor with -inf outside the kept support (see module doc)."""
    if logits.dim() != 2:
        raise ValueError(f"logits: expected a [batch, vocab] tensor, got shape {tuple(logits.shape)}")
    neg_inf = -math.inf
    if temperature < GREEDY_BELOW:
        greedy = torch.full_like(logits, neg_inf)
        return greedy.scatter(-1, logits.argmax(dim=-1, keepdim=True), 0.0)
    z = logits / temperature
    if min_p > 0:
        z = z.masked_fill(z - z.max(dim=-1, keepdim=True).values < math.log(min_p), neg_inf)
    vocab = z.shape[-1]
    if 0 < top_k < vocab:
        kth = z.topk(int(top_k), dim=-1).values[:, -1:]
        z = z.masked_fill(z < kth, neg_inf)
    if top_p < 1:
        ranked, order = z.sort(dim=-1, descending=True, stable=True)
        probs = torch.exp(ranked - torch.logsumexp(ranked, dim=-1, keepdim=True))
        mass_above = torch.cat([torch.zeros_like(probs[:, :1]), probs.cumsum(dim=-1)[:, :-1]], dim=-1)
        drop_ranked = mass_above >= top_p
        drop_ranked[:, 0] = False
        z = z.masked_fill(torch.zeros_like(drop_ranked).scatter(-1, order, drop_ranked), neg_inf)
    return z


def distribution(logits: torch.Tensor, cfg: DecodingConfig) -> torch.Tensor:
    """The probabilities `sample` draws from, for a [batch, vocab] tensor of raw logits."""
    return torch.softmax(process_config(logits, cfg), dim=-1)


def process_config(logits: torch.Tensor, cfg: DecodingConfig) -> torch.Tensor:
    return process_logits(logits, temperature=cfg.temperature, top_k=cfg.top_k, top_p=cfg.top_p,
                          min_p=cfg.min_p)


def sample(logits: torch.Tensor, cfg: DecodingConfig, generators: list[torch.Generator]) -> torch.Tensor:
    """One token id per row of raw `logits`, row i drawn with `generators[i]` (exponential race).

    The race runs over the row's kept support only (ascending token ids), so its cost scales with the
    support, not the vocabulary; greedy decoding draws nothing.
    """
    processed = process_config(logits, cfg)
    if cfg.greedy:
        return processed.argmax(dim=-1)
    probs = torch.softmax(processed, dim=-1)
    tokens = []
    for row, generator in zip(probs, generators):
        support = row.nonzero().squeeze(-1)
        noise = torch.empty(support.numel(), dtype=row.dtype, device=row.device).exponential_(generator=generator)
        tokens.append(support[(row[support] / noise).argmax()])
    return torch.stack(tokens)


class DecodingProcessor:
    """A transformers `LogitsProcessor` applying `process_logits` with `cfg` (warpers off in generate)."""

    def __init__(self, cfg: DecodingConfig):
        self.cfg = cfg

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        return process_config(scores, self.cfg)
