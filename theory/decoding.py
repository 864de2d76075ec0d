"""Decoding with vLLM v0.11 semantics, computed in log space: the package's decoding oracle.

For logits z (1-D, or 2-D batched over rows; the last axis is the vocabulary) the pipeline is
  1. temperature: z / T. T < GREEDY_BELOW (1e-5) is greedy: the support is the argmax alone (lowest index on
     ties) and top-k, top-p and min-p are ignored, as in vLLM.
  2. min-p: drop tokens whose tempered probability is < min_p * (max probability), i.e. z_v/T - max < log(min_p).
     vLLM v0.11 applies min-p as an argmax-invariant logits processor right after temperature, *before*
     top-k/top-p (HF transformers applies it last; the two differ only when min_p > 0 and top-p < 1).
  3. top-k on the tempered logits: drop every token strictly below the k-th largest value, so all tokens tied
     with the k-th value are kept. top_k = 0 or top_k >= |V| is an exact no-op.
  4. top-p inside the survivors, vLLM's ascending criterion: a token is dropped when the ascending cumulative
     probability up to and including it is <= 1 - top_p, equivalently when the mass of the tokens ranked
     strictly above it is >= top_p. The argmax is always kept. top_p = 1 is an exact no-op (short-circuited,
     so tokens of tempered mass ~1e-300 are never dropped by rounding).
  5. renormalise on the kept support.

Conventions (guaranteed):
- Ranking (for top-p and the tie-break top-k) is descending tempered logit, ties broken by the lower index
  first. vLLM's own order among exactly tied tokens at a top-p boundary is unspecified (unstable sort).
- A -inf logit is an impossible token: it is never in the support. A row of only -inf, +inf or NaN logits,
  an empty vocabulary, or tempered logits that overflow float64 raise ValueError.
- Logits are shifted by their row maximum before tempering (softmax is shift-invariant) and normalised with a
  max-shifted logsumexp, so logits near -700 at T = 1e-2 keep full precision and never underflow into NaN.
  Probabilities below ~1e-308 may round to 0.0 in `decode_distribution` while their token stays in
  `kept_support` and has a finite value in `decode_logprobs`. `tempered_logits` returns the unshifted z / T.
Does not: sample, apply penalties or logit bias, or reproduce vLLM's float32 rounding at exact boundaries.
"""
from __future__ import annotations

import numpy as np

from theory.distributions import logsumexp

GREEDY_BELOW = 1e-5


def _check_params(temperature: float, top_k: int, top_p: float, min_p: float) -> None:
    if not (np.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature: expected a finite number >= 0, got {temperature!r}")
    if isinstance(top_k, bool) or not float(top_k).is_integer() or top_k < 0:
        raise ValueError(f"top_k: expected an integer >= 0 (0 disables), got {top_k!r}")
    if not (0 < top_p <= 1):
        raise ValueError(f"top_p: expected a value in (0, 1], got {top_p!r}")
    if not (0 <= min_p <= 1):
        raise ValueError(f"min_p: expected a value in [0, 1], got {min_p!r}")


def _rows(logits) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim not in (1, 2):
        raise ValueError(f"logits: expected a 1-D or 2-D array, got shape {z.shape}")
    if z.shape[-1] == 0:
        raise ValueError("logits: empty vocabulary (last axis has length 0)")
    rows = np.atleast_2d(z)
    for what, bad in (("NaN", np.isnan(rows)), ("+inf", np.isposinf(rows))):
        if bad.any():
            r, v = np.argwhere(bad)[0]
            raise ValueError(f"logits: row {r}, token {v} is {what}; expected finite values or -inf")
    empty = np.isneginf(rows).all(axis=-1)
    if empty.any():
        raise ValueError(f"logits: row {int(np.argmax(empty))} is all -inf (no possible token)")
    return rows


def descending_order(z: np.ndarray) -> np.ndarray:
    """Indices sorting each row by descending value, ties by lower index first (-inf last)."""
    return np.argsort(-np.asarray(z, dtype=np.float64), axis=-1, kind="stable")


def _ranks(z: np.ndarray) -> np.ndarray:
    order = descending_order(z)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(z.shape[-1])[None, :].repeat(len(z), axis=0), axis=-1)
    return ranks


def _tempered_rows(rows: np.ndarray, temperature: float, shifted: bool = False) -> np.ndarray:
    """rows / T, or (rows - row max) / T when `shifted` (same distribution, no precision lost at -700 / 0.01)."""
    if temperature < GREEDY_BELOW:
        greedy = np.full(rows.shape, -np.inf)
        greedy[np.arange(len(rows)), np.argmax(rows, axis=-1)] = 0.0
        return greedy
    with np.errstate(over="ignore"):
        z = ((rows - rows.max(axis=-1, keepdims=True)) if shifted else rows) / temperature
    if (np.isinf(z) & np.isfinite(rows)).any():
        raise ValueError(f"logits / temperature overflows float64 (temperature={temperature!r})")
    return z


def tempered_logits(logits, temperature: float) -> np.ndarray:
    """z / T with the shape of `logits`; for T < 1e-5 the greedy limit (0 at the argmax, -inf elsewhere)."""
    _check_params(temperature, 0, 1.0, 0.0)
    z = _tempered_rows(_rows(logits), temperature)
    return z if np.ndim(logits) == 2 else z[0]


def _kept_rows(rows, temperature, top_k, top_p, min_p, exact_k: bool) -> np.ndarray:
    _check_params(temperature, top_k, top_p, min_p)
    z = _tempered_rows(rows, temperature, shifted=True)
    keep = np.isfinite(z)
    if temperature < GREEDY_BELOW:
        return keep
    if min_p > 0:
        keep &= z - z.max(axis=-1, keepdims=True) >= np.log(min_p)
    vocab = z.shape[-1]
    if 0 < top_k < vocab:
        masked = np.where(keep, z, -np.inf)
        if exact_k:
            keep &= _ranks(masked) < top_k
        else:
            kth = np.sort(masked, axis=-1)[:, vocab - int(top_k)]
            keep &= masked >= kth[:, None]
    if top_p < 1:
        masked = np.where(keep, z, -np.inf)
        order = descending_order(masked)
        ranked = np.take_along_axis(masked, order, axis=-1)
        probs = np.exp(ranked - logsumexp(ranked, keepdims=True))
        mass_above = np.concatenate([np.zeros((len(z), 1)), np.cumsum(probs, axis=-1)[:, :-1]], axis=-1)
        keep_ranked = mass_above < top_p
        keep_ranked[:, 0] = True
        in_nucleus = np.empty_like(keep)
        np.put_along_axis(in_nucleus, order, keep_ranked, axis=-1)
        keep &= in_nucleus
    return keep


def _shape_like(result: np.ndarray, logits) -> np.ndarray:
    return result if np.ndim(logits) == 2 else result[0]


def kept_support(logits, *, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                 min_p: float = 0.0) -> np.ndarray:
    """Boolean mask (shape of `logits`) of the tokens vLLM v0.11 can sample (see the module docstring)."""
    return _shape_like(_kept_rows(_rows(logits), temperature, top_k, top_p, min_p, exact_k=False), logits)


def kept_support_tiebreak(logits, *, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                          min_p: float = 0.0) -> np.ndarray:
    """As `kept_support`, but top-k keeps exactly min(k, #possible) tokens: the paper's TopK with a fixed
    deterministic tie-break (lower index wins among equal tempered logits)."""
    return _shape_like(_kept_rows(_rows(logits), temperature, top_k, top_p, min_p, exact_k=True), logits)


def _logprobs_on(rows: np.ndarray, temperature: float, keep: np.ndarray) -> np.ndarray:
    z = np.where(keep, _tempered_rows(rows, temperature, shifted=True), -np.inf)
    return z - logsumexp(z, keepdims=True)


def decode_logprobs(logits, *, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                    min_p: float = 0.0, tiebreak: bool = False) -> np.ndarray:
    """Log-probabilities of the final sampling distribution (-inf outside the kept support)."""
    rows = _rows(logits)
    keep = _kept_rows(rows, temperature, top_k, top_p, min_p, exact_k=tiebreak)
    return _shape_like(_logprobs_on(rows, temperature, keep), logits)


def decode_distribution(logits, *, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                        min_p: float = 0.0, tiebreak: bool = False) -> np.ndarray:
    """Probabilities of the final sampling distribution: zeros outside the support, renormalised inside."""
    return np.exp(decode_logprobs(logits, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p,
                                  tiebreak=tiebreak))
