"""Every formal statement of the paper's theory (and the package's own lemmas) as code computing both sides.

Each function takes one concrete case and returns `(lhs, rhs)` as float arrays of equal shape. For an
identity the claim is lhs == rhs; for an inequality or monotonicity (named `*_le`) the claim is lhs <= rhs
elementwise. Distributions are compared in probability space. Derivatives are central finite differences of
the left side against the closed form on the right. `theory.statements` draws random cases and checks the
claims; tests call the same functions on hypothesis-generated edge cases. Equation numbers are the paper's.
Does not: decide tolerances (the caller does) or prove anything symbolically (see theory.symbolic).
"""
from __future__ import annotations

import numpy as np

from theory.decoding import decode_distribution, decode_logprobs, descending_order, kept_support, kept_support_tiebreak
from theory.distributions import (
    binary_entropy, covariance, cross_entropy, entropy, escort, expectation, free_energy, kl_divergence,
    log_mass, log_normalize, mass, renyi_entropy, restrict, temper,
)
from theory.operators import (
    ORDERS, decode_only, nucleus_size, prefix_length, prefix_masses, ranked, serves_fork_and_lock,
)
from theory.ssd import (
    SSDRecipe, gain_factors, ideal_student, kept_mass, loss_gradient, loss_terms, retained_support, ssd_loss,
    ssd_target,
)


def both_sides(lhs, rhs) -> tuple[np.ndarray, np.ndarray]:
    """(lhs, rhs) as 1-D float arrays."""
    return np.atleast_1d(np.asarray(lhs, dtype=np.float64)), np.atleast_1d(np.asarray(rhs, dtype=np.float64))


def _central_difference(f, x: float, step: float) -> float:
    return (f(x + step) - f(x - step)) / (2 * step)


# ---- Appendix B.1 / B.3: tempering and restriction ----

def restriction_commutes(logp, temperature, support):
    """Lemma R1: Temper^S_T[p] = Temper_T[p(.|S)] = (Temper_T[p])(.|S)."""
    direct = np.exp(temper(logp, temperature, support))
    return both_sides([direct, direct], [np.exp(temper(restrict(logp, support), temperature)),
                                         np.exp(restrict(temper(logp, temperature), support))])


def lemma_b1(logp, t1, t2, support=None):
    """Lemma B.1 (24): Temper_{T2}[Temper_{T1}[p]] = Temper_{T1 T2}[p], also on a fixed support S."""
    return both_sides(np.exp(temper(temper(logp, t1, support), t2, support)), np.exp(temper(logp, t1 * t2, support)))


def prop_b2(logp0, recipe: SSDRecipe, t_eval):
    """Prop. B.2 (25): q_{s,tau} = Temper^{S_s}_{T_train tau}[p_0]."""
    support = retained_support(logp0, recipe)
    return both_sides(np.exp(ideal_student(logp0, recipe, t_eval)),
                      np.exp(temper(logp0, recipe.t_train * t_eval, support)))


def prop_b3(logp0, recipe: SSDRecipe, t_eval, subset):
    """Prop. B.3 (27): q_{s,tau}(A) = (1/m_s) (pi_{1/(T tau)}(A) / pi_{1/tau}(A)) p_{0,tau}(A), A in S_s."""
    support = retained_support(logp0, recipe)
    log_m_s = log_mass(temper(logp0, t_eval), support)
    log_ratio = log_mass(escort(logp0, 1 / (recipe.t_train * t_eval), support), subset) - log_mass(
        escort(logp0, 1 / t_eval, support), subset)
    return both_sides(mass(ideal_student(logp0, recipe, t_eval), subset),
                      np.exp(log_ratio + log_mass(temper(logp0, t_eval), subset) - log_m_s))


def remark_b4_no_truncation(logp0, t_train, t_eval):
    """Remark B.4 (28): without training truncation m_s = 1 and q_{s,tau} = p_{0, T_train tau}."""
    recipe = SSDRecipe(t_train)
    m_s = gain_factors(logp0, recipe, t_eval, np.isfinite(logp0))[0]
    return both_sides(np.append(np.exp(ideal_student(logp0, recipe, t_eval)), m_s),
                      np.append(np.exp(temper(logp0, t_train * t_eval)), 1.0))


def remark_b4_unit_train_temperature(logp0, top_k, top_p, t_eval):
    """Remark B.4 (29): T_train = 1 gives q_{s,tau} = p_{0,tau}(.|S_s), which decode-only K->P->T reproduces."""
    recipe = SSDRecipe(1.0, top_k, top_p)
    student = np.exp(ideal_student(logp0, recipe, t_eval))
    compressed = np.exp(restrict(temper(logp0, t_eval), retained_support(logp0, recipe)))
    reordered = np.exp(decode_only(logp0, "KPT", 1 / t_eval, top_k, top_p))
    return both_sides([student, student], [compressed, reordered])


def gain_sign_le(logp0, recipe: SSDRecipe, t_eval):
    """Sign rule (package): G_resh(argmax) - 1 has the sign of 1 - T_train; the least probable token of S_s
    the reverse. Encoded as two products that must be <= 0."""
    support = retained_support(logp0, recipe)
    on = np.flatnonzero(support)
    top, bottom = on[np.argmax(logp0[on])], on[np.argmin(logp0[on])]
    signs = []
    for token, direction in ((top, 1.0), (bottom, -1.0)):
        g_resh = gain_factors(logp0, recipe, t_eval, np.arange(len(logp0)) == token)[2]
        signs.append(direction * (g_resh - 1.0) * (recipe.t_train - 1.0))
    return both_sides(signs, [0.0, 0.0])


# ---- Appendix B.2: the objective ----

def eq9_fixed_point(logits):
    """Eq. (9): with T_train = 1 and no truncation the target is p_theta and the expected gradient is 0."""
    logp = log_normalize(logits)
    return both_sides(loss_gradient(logits, ssd_target(logp, SSDRecipe(1.0))), np.zeros(len(logp)))


def eq12_gate(logp0, recipe: SSDRecipe, logp_theta):
    """Eq. (12): L_s = -log KeptMass_theta + CE(q_s, p_theta(.|S_s))."""
    logq = ssd_target(logp0, recipe)
    support = np.isfinite(logq)
    return both_sides(ssd_loss(logq, logp_theta),
                      -np.log(kept_mass(logp_theta, support)) + cross_entropy(logq, restrict(logp_theta, support)))


def eq13_infimum(logp0, recipe: SSDRecipe, logp_theta, depths=(0.0, 5.0, 10.0, 20.0)):
    """Eq. (13): L_s - H(q_s) = KL(q_s || p_theta) >= 0, and with logits log q on S_s and -c outside the gap is
    exactly log(1 + |V \\ S_s| e^{-c}): positive for every finite c, -> 0 as c -> inf (infimum not attained)."""
    logq = ssd_target(logp0, recipe)
    outside = int((~np.isfinite(logq)).sum())
    gaps = [ssd_loss(logq, log_normalize(np.where(np.isfinite(logq), logq, -c))) - entropy(logq) for c in depths]
    return both_sides([ssd_loss(logq, logp_theta) - entropy(logq), *gaps],
                      [kl_divergence(logq, logp_theta), *(np.log1p(outside * np.exp(-c)) for c in depths)])


def eq14_temperature_only(logp0, t_train, logp_theta):
    """Eq. (14), S_s = V: L = (1-T) H_{1/T}(p_theta) + T KL(Temper_T p_0 || Temper_T p_theta) + T H(Temper_T p_0)."""
    target = temper(logp0, t_train)
    return both_sides(ssd_loss(target, logp_theta),
                      free_energy(logp_theta, t_train) + t_train * kl_divergence(target, temper(logp_theta, t_train))
                      + t_train * entropy(target))


def eq15_three_terms(logp0, recipe: SSDRecipe, logp_theta):
    """Eqs. (4)/(15): L_s = -log KeptMass + (1-T) H_{1/T}(p_theta(.|S)) + T KL(q || Temper_T[p_theta(.|S)]) + T H(q)."""
    logq = ssd_target(logp0, recipe)
    return both_sides(ssd_loss(logq, logp_theta), loss_terms(logp_theta, logq, recipe.t_train).total)


def eq16_free_energy(logp, temperature):
    """Eq. (16): -T log sum pi^{1/T} = (1 - T) H_{1/T}(pi)  (T != 1; both sides are 0 at T = 1)."""
    rhs = 0.0 if temperature == 1 else (1 - temperature) * renyi_entropy(logp, 1 / temperature)
    return both_sides(free_energy(logp, temperature), rhs)


def eq17_gradient(logp0, recipe: SSDRecipe, logits_theta, step=1e-6):
    """Eq. (17): the split gradient equals the finite-difference gradient of L_s in the logits."""
    logq = ssd_target(logp0, recipe)
    logits_theta = np.asarray(logits_theta, dtype=np.float64)

    def loss_along(v):
        return lambda x: ssd_loss(logq, log_normalize(np.where(np.arange(len(logits_theta)) == v, x, logits_theta)))

    numeric = [_central_difference(loss_along(v), logits_theta[v], step) for v in range(len(logits_theta))]
    return both_sides(loss_gradient(logits_theta, logq), numeric)


# ---- Appendix B.3: temperature sensitivity inside a fixed support, (18)-(22) ----

def _gamma_step(gamma):
    return 1e-5 * gamma


def eq19_expectation(logp0, support, gamma, values):
    """Eq. (19): d/dgamma E_{pi_gamma}[f] = Cov_{pi_gamma}(f, log p_0)."""
    values = np.where(support, values, 0.0)
    numeric = _central_difference(lambda g: expectation(escort(logp0, g, support), values), gamma,
                                  _gamma_step(gamma))
    return both_sides(numeric, covariance(escort(logp0, gamma, support), values, np.where(support, logp0, 0.0)))


def eq20_subset_mass(logp0, support, gamma, subset):
    """Eq. (20): d/dgamma pi_gamma(A) = Cov_{pi_gamma}(1_A, log p_0)."""
    return eq19_expectation(logp0, support, gamma, (subset & support).astype(float))


def eq21_log_subset_mass(logp0, support, gamma, subset):
    """Eq. (21): d/dgamma log pi_gamma(A) = E_{pi_gamma(.|A)}[log p_0] - E_{pi_gamma}[log p_0]."""
    subset = subset & support
    numeric = _central_difference(lambda g: np.log(mass(escort(logp0, g, support), subset)), gamma,
                                  _gamma_step(gamma))
    pi = escort(logp0, gamma, support)
    log_values = np.where(support, logp0, 0.0)
    return both_sides(numeric, expectation(restrict(pi, subset), log_values) - expectation(pi, log_values))


def eq22_entropy(logp0, support, gamma):
    """Eq. (22): d/dgamma H(pi_gamma) = -gamma Var_{pi_gamma}(log p_0)."""
    numeric = _central_difference(lambda g: entropy(escort(logp0, g, support)), gamma, _gamma_step(gamma))
    log_values = np.where(support, logp0, 0.0)
    pi = escort(logp0, gamma, support)
    return both_sides(numeric, -gamma * covariance(pi, log_values, log_values))


def prefix_mass_monotone_le(logp0, support, gamma_low, gamma_high):
    """Corollary R2 (package): the mass of every top-m prefix of S_s is non-decreasing in gamma."""
    def prefix_curve(gamma):
        return np.cumsum(np.exp(ranked(escort(logp0, gamma, support))))
    return both_sides(prefix_curve(gamma_low), prefix_curve(gamma_high))


def renyi_of_tempered_le(logp, alpha, t_low, t_high):
    """Lemma R3 (package): H_alpha(Temper_T[p]) is non-decreasing in T."""
    return both_sides(renyi_entropy(temper(logp, t_low), alpha), renyi_entropy(temper(logp, t_high), alpha))


def conflict_le(lock, fork, tau_low, tau_high):
    """Proposition C (package): lock precision Temper_tau[p_L](argmax) is non-increasing and fork entropy
    H(Temper_tau[p_F]) non-decreasing in tau, so one temperature serves both iff tau_F <= tau_L."""
    def precision(tau):
        return float(np.exp(np.max(temper(lock, tau))))
    return both_sides([precision(tau_high), entropy(temper(fork, tau_low))],
                      [precision(tau_low), entropy(temper(fork, tau_high))])


def singleton_lock_criterion(logp0, recipe: SSDRecipe):
    """Package: |S_s| = 1 iff Temper_T[p](argmax) / Temper_T[p](TopK) >= top-p; returns indicator pairs."""
    tempered = temper(logp0, recipe.t_train)
    head = kept_support_tiebreak(logp0, temperature=recipe.t_train, top_k=recipe.top_k)
    criterion = (recipe.top_p >= 1 and head.sum() == 1) or (
        recipe.top_p < 1 and np.exp(np.max(tempered)) / mass(tempered, head) >= recipe.top_p)
    return both_sides(float(retained_support(logp0, recipe).sum() == 1), float(criterion))


# ---- Appendix B.4: entropy of the student ----

def eq30_entropy_split(logp_theta, support):
    """Eq. (30): H(p) = h_2(KeptMass) + KeptMass H(p(.|S)) + (1 - KeptMass) H(u), u = p restricted to V \\ S."""
    kept = kept_mass(logp_theta, support)
    rhs = binary_entropy(kept) + kept * entropy(restrict(logp_theta, support)) + (1 - kept) * entropy(
        restrict(logp_theta, ~support))
    return both_sides(entropy(logp_theta), rhs)


def eq31_head_entropy(logp_theta, support, tau):
    """Eq. (31): d/dtau H(Temper^S_tau[p(.|S)]) = Var_{Temper^S_tau[p(.|S)]}[log p(.|S)] / tau^3 >= 0."""
    conditional = restrict(logp_theta, support)
    numeric = _central_difference(lambda t: entropy(temper(conditional, t)), tau, 1e-5 * tau)
    log_values = np.where(support, conditional, 0.0)
    return both_sides(numeric, covariance(temper(conditional, tau), log_values, log_values) / tau ** 3)


# ---- Appendix B.5: decode-only normal form ----

def prop_b5_normal_form(logp, alpha, top_k, top_p):
    """Prop. B.5 (35), all six orders: the output is p^alpha on a rank prefix (capped at the nonzero tokens).
    Returns, per order, the output and p^alpha renormalised on its prefix (a non-prefix output gives NaN)."""
    outputs, forms = [], []
    for order in ORDERS:
        out = decode_only(logp, order, alpha, top_k, top_p)
        m = prefix_length(out, logp)
        prefix = np.zeros(len(logp), bool)
        if m is not None:
            prefix[descending_order(logp)[:m]] = True
        outputs.append(np.exp(out))
        forms.append(np.exp(temper(logp, 1 / alpha, prefix)) if m else np.full(len(logp), np.nan))
    return both_sides(np.concatenate(outputs), np.concatenate(forms))


def cor_b6_prefix(logits, temperature, top_k, top_p):
    """Cor. B.6: the kept support is a rank prefix, for the paper's tie-break top-k and for vLLM's
    tie-keeping top-k (ties at the k-th value are consecutive ranks). Returns is-prefix indicators."""
    logp = log_normalize(logits)
    masks = [kept_support_tiebreak(logits, temperature=temperature, top_k=top_k, top_p=top_p),
             kept_support(logits, temperature=temperature, top_k=top_k, top_p=top_p)]
    flags = [float(prefix_length(np.where(mask, logp, -np.inf), logp) is not None) for mask in masks]
    return both_sides(flags, [1.0, 1.0])


def cor_b7_power(logp, order, alpha, top_k, top_p):
    """Cor. B.7 (36): log(mu_i / mu_j) = alpha log(p_i / p_j) for all surviving i, j (pivot: the top token)."""
    out = decode_only(logp, order, alpha, top_k, top_p)
    on = np.isfinite(out)
    pivot = np.flatnonzero(on)[np.argmax(logp[on])]
    return both_sides(out[on] - out[pivot], alpha * (logp[on] - logp[pivot]))


def vllm_instance(logits, temperature, top_k, top_p):
    """N5 (package): the vLLM oracle with the paper's top-k tie-break is order T->K->P with alpha = 1/T."""
    return both_sides(decode_distribution(logits, temperature=temperature, top_k=top_k, top_p=top_p, tiebreak=True),
                      np.exp(decode_only(log_normalize(logits), "TKP", 1 / temperature, top_k, top_p)))


def eq38_prefix_masses(logp, tau, top_k):
    """Eqs. (37)-(38): S_{s,m}(tau, k) is the cumulative mass of the tempered top-k distribution (37)."""
    decoded = decode_logprobs(logp, temperature=tau, top_k=top_k, tiebreak=True)
    masses = prefix_masses(logp, tau, top_k)
    return both_sides(masses, np.cumsum(np.exp(ranked(decoded)))[: len(masses)])


def eq39_prefix_mass_le(logp, tau_low, tau_high, top_k):
    """Eq. (39): S_{s,m}(tau, k) is non-increasing in tau."""
    return both_sides(prefix_masses(logp, tau_high, top_k), prefix_masses(logp, tau_low, top_k))


def nucleus_monotone_le(logp, tau, top_k, top_p, tau_high, top_k_high, top_p_high):
    """Unnumbered display after (39): m_s(tau, k, top-p) is non-decreasing in tau, in k and in top-p."""
    base = nucleus_size(logp, tau, top_k, top_p)
    return both_sides([base] * 3, [nucleus_size(logp, tau_high, top_k, top_p),
                              nucleus_size(logp, tau, top_k_high, top_p),
                              nucleus_size(logp, tau, top_k, top_p_high)])


def eq40_feasibility(fork, lock, r_fork, r_lock, tau, top_k, top_p):
    """Eq. (40) against brute force: decode both contexts with (tau, k, top-p) and check the fork keeps its
    rank-r_F token while the lock keeps at most r_L tokens."""
    fork_kept = kept_support_tiebreak(fork, temperature=tau, top_k=top_k, top_p=top_p)
    lock_kept = kept_support_tiebreak(lock, temperature=tau, top_k=top_k, top_p=top_p)
    fork_token = descending_order(fork)[r_fork - 1]
    brute = bool(fork_kept[fork_token]) and int(lock_kept.sum()) <= r_lock
    return both_sides(float(serves_fork_and_lock(fork, lock, r_fork, r_lock, tau, top_k, top_p)), float(brute))
