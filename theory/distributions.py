"""Distributions on a finite vocabulary in log space: tempering, restriction, entropies, divergences.

Every function takes log-probabilities `logp` (1-D float arrays, -inf for zero-probability tokens, summing to 1
in probability space unless stated) and supports, as boolean masks. Conventions (guaranteed): 0^{1/T} = 0 (a
-inf entry stays -inf under any tempering), 0 log 0 = 0, and all normalisation is a max-shifted logsumexp, so
log-probabilities down to -1e300 give finite results. These are the objects of Appendix B.1 (Eq. 5, the
restriction pi(.|K)), the Renyi entropy of Eq. (14) and the escort family of Eq. (18).
Does not: validate that inputs are normalised (callers pass outputs of `log_normalize`).
"""
from __future__ import annotations

import numpy as np


def logsumexp(logw, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log(sum(exp(logw))) along `axis`; -inf for a slice that is all -inf."""
    logw = np.asarray(logw, dtype=np.float64)
    top = np.max(logw, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = top + np.log(np.sum(np.exp(logw - top), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def log_normalize(logw) -> np.ndarray:
    """Log-probabilities proportional to exp(logw) (logits -> log-softmax); needs one finite entry."""
    logw = np.asarray(logw, dtype=np.float64)
    total = logsumexp(logw, keepdims=True)
    if not np.all(np.isfinite(total)):
        raise ValueError("log_normalize: every entry is -inf (nothing to normalise)")
    return logw - total


def support_of(logp) -> np.ndarray:
    return np.isfinite(np.asarray(logp))


def restrict(logp, support) -> np.ndarray:
    """pi(.|K): zero outside K, renormalised inside; K must carry positive mass."""
    return log_normalize(np.where(support, logp, -np.inf))


def temper(logp, temperature: float, support=None) -> np.ndarray:
    """Temper^S_T[p] (Eq. 5): p^{1/T} on S, renormalised. support=None means S = V."""
    if not temperature > 0:
        raise ValueError(f"temper: expected temperature > 0, got {temperature!r}")
    scaled = np.asarray(logp, dtype=np.float64) / temperature
    return log_normalize(scaled if support is None else np.where(support, scaled, -np.inf))


def escort(logp0, gamma: float, support=None) -> np.ndarray:
    """pi_{s,gamma} of Eq. (18): p0^gamma on S, renormalised (= Temper^S_{1/gamma})."""
    return temper(logp0, 1.0 / gamma, support)


def log_mass(logp, subset) -> float:
    """log of the total probability of a subset (boolean mask); -inf for an empty or zero-mass subset."""
    return float(logsumexp(np.where(subset, logp, -np.inf)))


def mass(logp, subset) -> float:
    """Total probability of a subset (boolean mask)."""
    return float(np.exp(log_mass(logp, subset)))


def expectation(logp, values) -> float:
    """E_p[f] for finite f on the support of p."""
    p = np.exp(logp)
    return float(np.sum(p[p > 0] * np.asarray(values, dtype=np.float64)[p > 0]))


def covariance(logp, f, g) -> float:
    """Cov_p(f, g) on the support of p (entries off the support are ignored)."""
    on = np.isfinite(logp)
    f = np.asarray(f, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    centred_f = np.where(on, f - expectation(logp, np.where(on, f, 0.0)), 0.0)
    centred_g = np.where(on, g - expectation(logp, np.where(on, g, 0.0)), 0.0)
    return expectation(logp, centred_f * centred_g)


def entropy(logp) -> float:
    """Shannon entropy in nats (0 log 0 = 0)."""
    on = np.isfinite(logp)
    return float(-np.sum(np.exp(logp[on]) * logp[on]))


def renyi_entropy(logp, alpha: float) -> float:
    """H_alpha(p) = log(sum p^alpha) / (1 - alpha); the limits at 0, 1 and inf are the usual ones."""
    on = np.isfinite(logp)
    if alpha == 1:
        return entropy(logp)
    if alpha == 0:
        return float(np.log(on.sum()))
    if np.isinf(alpha):
        return float(-np.max(logp))
    logp = logp[on]
    shift = (alpha - 1.0) * logp
    if np.max(np.abs(shift)) < 0.5:  # near alpha = 1: log E_p[p^(alpha-1)] via log1p/expm1, no cancellation
        p = np.exp(logp)
        return float(np.log1p(np.sum(p * np.expm1(shift)) / np.sum(p)) / (1.0 - alpha))
    return float(logsumexp(alpha * logp) / (1.0 - alpha))


def free_energy(logp, temperature: float) -> float:
    """-T log sum_v p(v)^{1/T}: the definition of (1 - T) H_{1/T}(p), continuous through T = 1 (Eq. 16)."""
    on = np.isfinite(logp)
    return float(-temperature * logsumexp(logp[on] / temperature))


def cross_entropy(logq, logp) -> float:
    """CE(q, p) = E_q[-log p]; +inf when q puts mass where p has none."""
    on = np.isfinite(logq)
    if np.any(np.isneginf(np.asarray(logp)[on])):
        return float("inf")
    return float(-np.sum(np.exp(logq[on]) * logp[on]))


def kl_divergence(logq, logp) -> float:
    """KL(q || p) = E_q[log q - log p]; +inf when q puts mass where p has none."""
    return cross_entropy(logq, logp) - entropy(logq)


def binary_entropy(x: float) -> float:
    """h_2(x) = -x log x - (1 - x) log(1 - x), with 0 log 0 = 0."""
    return float(-sum(v * np.log(v) for v in (x, 1.0 - x) if v > 0))
