"""The ranked decode-only operators of Appendix B.5 and the prefix-mass curves of Eqs. (37)-(40).

A decode-only policy is an order of the three operators T_alpha (Eq. 32), K_k (33) and P_top-p (34), each used
once, with global (alpha, k, top-p). Orders are strings over "TKP" applied left to right ("TKP" is vLLM's
temper -> top-k -> top-p with alpha = 1/T). Guarantees: operators act on log-probabilities in any token order
and rank by descending probability with the lower index first on ties (the fixed tie-break of the paper);
K keeps exactly min(k, #nonzero) tokens; P keeps the smallest ranked prefix reaching top-p, and top_p = 1 is
an exact no-op. All of them reuse theory.decoding, so the vLLM oracle and these operators cannot drift apart.
Does not: model greedy decoding (alpha must be finite and positive).
"""
from __future__ import annotations

import itertools

import numpy as np

from theory.decoding import descending_order, kept_support_tiebreak
from theory.distributions import log_normalize, logsumexp

ORDERS = tuple("".join(order) for order in itertools.permutations("TKP"))


def temper_op(logp, alpha: float) -> np.ndarray:
    """T_alpha (Eq. 32): p^alpha renormalised."""
    return log_normalize(alpha * np.asarray(logp, dtype=np.float64))


def top_k_op(logp, k: int) -> np.ndarray:
    """K_k (Eq. 33): the k highest-ranked tokens, renormalised; k = 0 or k >= |V| is the identity."""
    return log_normalize(np.where(kept_support_tiebreak(logp, top_k=k), logp, -np.inf))


def top_p_op(logp, top_p: float) -> np.ndarray:
    """P_top-p (Eq. 34): the smallest ranked prefix with mass >= top-p, renormalised."""
    return log_normalize(np.where(kept_support_tiebreak(logp, top_p=top_p), logp, -np.inf))


def apply_operators(logp, operators: str, alpha: float, k: int, top_p: float) -> np.ndarray:
    """Apply the operators named in `operators` (any sub-sequence of "TKP" letters) left to right."""
    if not (np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha: expected a finite value > 0, got {alpha!r}")
    steps = {"T": lambda lp: temper_op(lp, alpha), "K": lambda lp: top_k_op(lp, k),
             "P": lambda lp: top_p_op(lp, top_p)}
    out = np.asarray(logp, dtype=np.float64)
    for name in operators:
        out = steps[name](out)
    return out


def decode_only(logp, order: str, alpha: float, k: int, top_p: float) -> np.ndarray:
    """mu^sigma (Eq. 35): the three operators in `order` (a permutation of "TKP") applied left to right."""
    if sorted(order) != sorted("TKP"):
        raise ValueError(f"order: expected a permutation of 'TKP', got {order!r}")
    return apply_operators(logp, order, alpha, k, top_p)


def ranked(logp) -> np.ndarray:
    """The log-probabilities in rank order p_(1) >= p_(2) >= ... (ties: lower index first)."""
    logp = np.asarray(logp, dtype=np.float64)
    return logp[descending_order(logp)]


def prefix_length(logp_out, logp_in) -> int | None:
    """m such that the support of logp_out is exactly the first m ranks of logp_in, else None."""
    kept = np.isfinite(np.asarray(logp_out))[descending_order(logp_in)]
    m = int(kept.sum())
    return m if kept[:m].all() else None


def prefix_masses(logp, tau: float, k: int) -> np.ndarray:
    """S_{s,m}(tau, k) for m = 1..k' (Eq. 38), k' = min(k, |V|) (k = 0 means |V|), as an array of length k'."""
    tempered = ranked(logp) / tau
    k = len(tempered) if k == 0 else min(k, len(tempered))
    head = tempered[:k]
    return np.exp(np.logaddexp.accumulate(head) - logsumexp(head))


def nucleus_size(logp, tau: float, k: int, top_p: float) -> int:
    """m_s(tau, k, top-p) = min{m <= k : S_{s,m}(tau, k) >= top-p} (unnumbered display after Eq. 39)."""
    return int(np.isfinite(decode_only(logp, "TKP", 1.0 / tau, k, top_p)).sum())


def serves_fork_and_lock(fork, lock, r_fork: int, r_lock: int, tau: float, k: int, top_p: float) -> bool:
    """Eq. (40): r_F <= k and S_{F, r_F - 1}(tau, k) < top-p <= S_{L, r_L}(tau, k) (S_{., 0} = 0).

    With r_L > k' the lock condition holds trivially (the precision note of theory.md section 7.4).
    """
    k_eff = len(fork) if k == 0 else k
    if r_fork > k_eff:
        return False
    fork_before = 0.0 if r_fork == 1 else prefix_masses(fork, tau, k)[r_fork - 2]
    lock_masses = prefix_masses(lock, tau, k)
    lock_at = 1.0 if r_lock > len(lock_masses) else lock_masses[r_lock - 1]
    return bool(fork_before < top_p <= lock_at)


def recover_alpha(logp_out, logp_in) -> float | None:
    """Least-squares alpha from log-odds of the surviving tokens (Cor. B.7); None if they are all tied."""
    on = np.isfinite(np.asarray(logp_out))
    x = np.asarray(logp_in)[on] - np.mean(np.asarray(logp_in)[on])
    y = np.asarray(logp_out)[on] - np.mean(np.asarray(logp_out)[on])
    denominator = float(x @ x)
    return float(x @ y) / denominator if denominator > 1e-24 else None
