"""The SSD objects of Appendix B at one context: retained support, target, loss, its terms, ideal-fit student.

Guarantees (all in log space, inputs are log-probabilities with -inf for zero-probability tokens):
- `retained_support` is S_s of Eq. (6): temper by T_train, then the paper's TopK (exactly k tokens, fixed
  tie-break: lower index first), then top-p inside the survivors. It is a rank prefix of p_0, non-empty, and
  contains the argmax. top_k = 0 and top_p = 1 are exact no-ops (S_s = supp p_0).
- `ssd_target` is q_s of Eq. (7); `ssd_loss` is L_s of Eq. (8); `loss_terms` returns the four terms of the
  decomposition (4)/(15) with the Renyi term in its free-energy form (16), so T_train = 1 is exact.
- `loss_gradient` is Eq. (17) assembled from its two named pieces; `ideal_student` is q_{s,tau} of Prop. B.2
  (ideal fit, Eq. 23); `gain_factors` are the two factors of Prop. B.3.
Does not: model a parametric student or finite training; the "student" here is the local ideal fit.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from theory.decoding import GREEDY_BELOW, kept_support_tiebreak
from theory.distributions import (
    cross_entropy, entropy, free_energy, kl_divergence, log_mass, log_normalize, mass, restrict, temper,
)


@dataclasses.dataclass(frozen=True)
class SSDRecipe:
    """Training-time decoding of SSD data synthesis: (T_train, top-k, top-p); top_k = 0 disables top-k."""
    t_train: float
    top_k: int = 0
    top_p: float = 1.0

    def __post_init__(self):
        if not (np.isfinite(self.t_train) and self.t_train >= GREEDY_BELOW):
            raise ValueError(f"t_train: expected a finite temperature >= {GREEDY_BELOW}, got {self.t_train!r}")
        if self.top_k < 0:
            raise ValueError(f"top_k: expected an integer >= 0, got {self.top_k!r}")
        if not (0 < self.top_p <= 1):
            raise ValueError(f"top_p: expected a value in (0, 1], got {self.top_p!r}")


@dataclasses.dataclass(frozen=True)
class LossTerms:
    """The decomposition (15): loss = gate + reshaping + alignment + constant."""
    gate: float  # -log KeptMass_theta: support compression
    reshaping: float  # (1 - T) H_{1/T}(p_theta(.|S)) in free-energy form
    alignment: float  # T KL(q || Temper_T[p_theta(.|S)])
    constant: float  # T H(q): independent of theta

    @property
    def total(self) -> float:
        return self.gate + self.reshaping + self.alignment + self.constant


def retained_support(logp0, recipe: SSDRecipe) -> np.ndarray:
    """S_s (Eq. 6) as a boolean mask."""
    return kept_support_tiebreak(logp0, temperature=recipe.t_train, top_k=recipe.top_k, top_p=recipe.top_p)


def ssd_target(logp0, recipe: SSDRecipe) -> np.ndarray:
    """log q_s (Eq. 7): Temper^{S_s}_{T_train}[p_0]."""
    return temper(logp0, recipe.t_train, retained_support(logp0, recipe))


def ssd_loss(logq, logp_theta) -> float:
    """L_s (Eq. 8) = CE(q_s, p_theta)."""
    return cross_entropy(logq, logp_theta)


def kept_mass(logp_theta, support) -> float:
    """KeptMass_theta(s) (Eq. 10)."""
    return mass(logp_theta, support)


def loss_terms(logp_theta, logq, t_train: float) -> LossTerms:
    """The four terms of (15) for the support of q (S_s) and student log-probabilities logp_theta."""
    support = np.isfinite(logq)
    conditional = restrict(logp_theta, support)
    return LossTerms(
        gate=-np.log(kept_mass(logp_theta, support)),
        reshaping=free_energy(conditional, t_train),
        alignment=t_train * kl_divergence(logq, temper(conditional, t_train)),
        constant=t_train * entropy(logq),
    )


def loss_gradient(logits_theta, logq) -> np.ndarray:
    """dL_s/dz (Eq. 17): on S_s, -(1 - KeptMass) p(.|S) + (p(.|S) - q); off S_s, p_theta."""
    logp_theta = log_normalize(logits_theta)
    support = np.isfinite(logq)
    conditional = np.exp(restrict(logp_theta, support))
    support_transfer = -(1.0 - kept_mass(logp_theta, support)) * conditional
    within_fit = conditional - np.exp(logq)
    return np.where(support, support_transfer + within_fit, np.exp(logp_theta))


def ideal_student(logp0, recipe: SSDRecipe, t_eval: float) -> np.ndarray:
    """log q_{s,tau} (Prop. B.2): the ideal-fit student q_s tempered at T_eval, before evaluation truncation."""
    return temper(ssd_target(logp0, recipe), t_eval)


def gain_factors(logp0, recipe: SSDRecipe, t_eval: float, subset) -> tuple[float, float, float]:
    """(m_s(tau), G_supp, G_resh) of Prop. B.3 for a subset A of S_s with positive mass.

    m_s = p_{0,tau}(S_s); G_supp = 1/m_s; G_resh = pi_{1/(T_train tau)}(A) / pi_{1/tau}(A) on S_s.
    """
    support = retained_support(logp0, recipe)
    m_s = mass(temper(logp0, t_eval), support)
    log_ratio = log_mass(temper(logp0, recipe.t_train * t_eval, support), subset) - log_mass(
        temper(logp0, t_eval, support), subset)
    return m_s, 1.0 / m_s, float(np.exp(log_ratio))
