"""Can a decode-only policy on the frozen model reproduce the ideal-fit SSD student? (Obs. B.9, Prop. B.8)

Guarantees:
- `student_policy` is the ideal-fit student's evaluation distribution (q_s decoded with T->K->P at T_eval);
  `two_stage_policy` is the six-operator decode-only composition of Observation B.9 (package statement).
- `realizing_policies` enumerates every single-pass decode-only policy (all 6 orders, every k, every distinct
  top-p outcome) that reproduces given target distributions at all given contexts. alpha is pinned by power
  rigidity (Cor. B.7) whenever a target keeps two tokens of unequal frozen probability; top-p is tested at the
  midpoints of the cumulative curves the P operator sees, which covers every distinct outcome.
- `b8_witness` is the package's Proposition B.8 witness (theory.md section 7.6).
Does not: search over policies that re-temper twice (by B.9 those always succeed under ideal fit).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from theory.distributions import log_normalize
from theory.identities import both_sides
from theory.operators import ORDERS, apply_operators, decode_only, ranked, recover_alpha
from theory.ssd import SSDRecipe, ssd_target


@dataclasses.dataclass(frozen=True)
class Policy:
    order: str
    alpha: float
    top_k: int
    top_p: float


def student_policy(logp0, recipe: SSDRecipe, t_eval: float, eval_top_k: int = 0, eval_top_p: float = 1.0):
    """log of the ideal-fit student's evaluation distribution."""
    return decode_only(ssd_target(logp0, recipe), "TKP", 1 / t_eval, eval_top_k, eval_top_p)


def two_stage_policy(logp0, recipe: SSDRecipe, t_eval: float, eval_top_k: int = 0, eval_top_p: float = 1.0):
    """Obs. B.9: P_{p_eval} K_{k_eval} T_{1/tau} P_{p_train} K_{k_train} T_{1/T_train} applied to p_0."""
    trained = decode_only(logp0, "TKP", 1 / recipe.t_train, recipe.top_k, recipe.top_p)
    return decode_only(trained, "TKP", 1 / t_eval, eval_top_k, eval_top_p)


def _pinned_alpha(contexts, targets) -> float | None:
    """The exponent every matching policy must use, 1.0 when no target identifies it, None if inconsistent."""
    pinned = [a for a in (recover_alpha(t, c) for c, t in zip(contexts, targets)) if a is not None]
    if not pinned:
        return 1.0
    if min(pinned) <= 0 or max(pinned) - min(pinned) > 1e-6 * max(pinned):
        return None
    return float(np.mean(pinned))


def _top_p_candidates(contexts, order: str, alpha: float, k: int) -> list[float]:
    before_p = order[: order.index("P")]
    cuts = {0.0, 1.0}
    for logp in contexts:
        curve = apply_operators(logp, before_p, alpha, k, 1.0)
        cuts.update(np.cumsum(np.exp(ranked(curve))).clip(0, 1).tolist())
    points = sorted(cuts)
    return [(a + b) / 2 for a, b in zip(points, points[1:]) if b > a] + [1.0]


def realizing_policies(contexts, targets, atol: float = 1e-9) -> list[Policy]:
    """Every decode-only policy whose output matches `targets[i]` at `contexts[i]` for all i (log-probs)."""
    alpha = _pinned_alpha(contexts, targets)
    if alpha is None:
        return []
    found = []
    for order in ORDERS:
        for k in range(1, len(contexts[0]) + 1):
            for top_p in _top_p_candidates(contexts, order, alpha, k):
                if all(np.allclose(np.exp(decode_only(c, order, alpha, k, top_p)), np.exp(t), atol=atol, rtol=0)
                       for c, t in zip(contexts, targets)):
                    found.append(Policy(order, alpha, k, top_p))
    return found


def b8_witness() -> tuple[list[np.ndarray], SSDRecipe, float]:
    """(lock and fork frozen log-probs, training recipe, T_eval) of the Prop. B.8 witness (no eval truncation)."""
    lock = np.log([0.5283, 0.0965, 0.0918, 0.0685, 0.0528, 0.0515, 0.042, 0.0273, 0.0185, 0.0159, 0.007])
    fork = np.log([0.1924, 0.1568, 0.1392, 0.0911, 0.0768, 0.0766, 0.0611, 0.0605, 0.0512, 0.0498, 0.0446])
    return [log_normalize(lock), log_normalize(fork)], SSDRecipe(0.7, 11, 0.676), 1.25


def count_realizing(contexts, recipe: SSDRecipe, t_eval: float) -> int:
    """Number of single-pass decode-only policies matching the ideal-fit student at every context."""
    targets = [student_policy(c, recipe, t_eval) for c in contexts]
    return len(realizing_policies(contexts, targets))


def prop_b8_sides(toy_contexts, toy_recipe: SSDRecipe):
    """Prop. B.8 (package): (policy counts, expected): the witness has none, while the search does find
    policies for the toy root/fork/lock triple (tau = 2.09, no eval truncation) and an untruncated recipe."""
    witness, recipe, tau = b8_witness()
    untruncated = [log_normalize(np.log([0.5, 0.2, 0.2, 0.1])), log_normalize(np.log([0.3, 0.3, 0.25, 0.15]))]
    counts = [count_realizing(witness, recipe, tau), min(1, count_realizing(toy_contexts, toy_recipe, 2.09)),
              min(1, count_realizing(untruncated, SSDRecipe(1.3), 0.8))]
    return both_sides(counts, [0, 1, 1])


def obs_b9_sides(logp0, recipe: SSDRecipe, t_eval: float, eval_top_k: int, eval_top_p: float):
    """Obs. B.9 (package): ideal-fit student at evaluation == the two-temperature six-operator policy."""
    return both_sides(np.exp(student_policy(logp0, recipe, t_eval, eval_top_k, eval_top_p)),
                      np.exp(two_stage_policy(logp0, recipe, t_eval, eval_top_k, eval_top_p)))
