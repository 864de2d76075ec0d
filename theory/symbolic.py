"""Symbolic (sympy) proofs of the identities that admit one, on small vocabularies with free symbols.

Each `prove_*` function builds both sides with positive symbolic probabilities / temperatures (n = 2..4 tokens)
and returns True iff sympy reduces lhs - rhs to exactly 0 (after expanding powers and logarithms of positive
quantities and imposing normalisation where a statement needs it). `PROOFS` maps statement names (as in
theory.statements) to these functions. Guarantees: exact symbolic algebra, no floating point, except
`prove_three_terms_rational`, which evaluates (15) at exact rationals with 40 significant digits.
Does not: prove statements for general n (the n-token pattern is the same algebra) or prove inequalities.
Importing this module imports sympy (slow); `import theory` does not.
"""
from __future__ import annotations

import sympy as sp


def vanishes(expr) -> bool:
    """True iff expr reduces to exactly 0 (powers and logs of positive symbols expanded)."""
    expr = sp.expand_log(sp.powsimp(sp.expand_power_base(expr, force=True), force=True), force=True)
    return sp.simplify(expr) == 0


def _positive(prefix: str, n: int):
    return sp.symbols(f"{prefix}1:{n + 1}", positive=True)


def _temper(weights, temperature):
    powered = [w ** (1 / temperature) for w in weights]
    total = sum(powered)
    return [w / total for w in powered]


def _entropy(probs):
    return -sum(p * sp.log(p) for p in probs)


def _softmax(logits):
    total = sum(sp.exp(z) for z in logits)
    return [sp.exp(z) / total for z in logits]


def prove_lemma_b1() -> bool:
    """Temper_T2[Temper_T1[p]] = Temper_{T1 T2}[p] (n = 3); on a fixed S it is the same algebra on S."""
    p, (t1, t2) = _positive("p", 3), sp.symbols("T1 T2", positive=True)
    return all(vanishes(a / b - 1) for a, b in zip(_temper(_temper(p, t1), t2), _temper(p, t1 * t2)))


def prove_lemma_r1() -> bool:
    """Temper^S_T[p] = Temper_T[p(.|S)] for S = {1, 2} of 3 tokens."""
    p, t = _positive("p", 3), sp.symbols("T", positive=True)
    conditional = [p[0] / (p[0] + p[1]), p[1] / (p[0] + p[1])]
    return all(vanishes(a / b - 1) for a, b in zip(_temper(p[:2], t), _temper(conditional, t)))


def prove_prop_b2() -> bool:
    """q_s = Temper^S_{T_train}[p_0]; tempering q_s at tau equals Temper^S_{T_train tau}[p_0] (S = 2 of 3)."""
    p, (t_train, tau) = _positive("p", 3), sp.symbols("T tau", positive=True)
    target = _temper(p[:2], t_train)
    return all(vanishes(a / b - 1) for a, b in zip(_temper(target, tau), _temper(p[:2], t_train * tau)))


def prove_prop_b3() -> bool:
    """(27) for S = {1, 2} of 3 tokens and A = {1}."""
    p, (t_train, tau) = _positive("p", 3), sp.symbols("T tau", positive=True)
    student_a = _temper(p[:2], t_train * tau)[0]
    teacher_tau = _temper(p, tau)
    m_s = teacher_tau[0] + teacher_tau[1]
    ratio = _temper(p[:2], t_train * tau)[0] / _temper(p[:2], tau)[0]
    return vanishes(student_a - ratio * teacher_tau[0] / m_s)


def prove_eq9() -> bool:
    """E_{v~p}[d log p_v / dz_j] = 0 for p = softmax(z), n = 3."""
    z = sp.symbols("z1:4", real=True)
    p = _softmax(z)
    return all(sp.simplify(sum(pv * sp.diff(sp.log(pv), zj) for pv in p)) == 0 for zj in z)


def _student_on_support():
    """Softmax student over 3 tokens, S = {1, 2}, target q = (q1, 1 - q1) on S."""
    z = sp.symbols("z1:4", real=True)
    q1 = sp.symbols("q1", positive=True)
    return z, _softmax(z), [q1, 1 - q1]


def prove_eq12() -> bool:
    z, p, q = _student_on_support()
    kept = p[0] + p[1]
    loss = -sum(qv * sp.log(pv) for qv, pv in zip(q, p[:2]))
    return vanishes(loss - (-sp.log(kept) - sum(qv * sp.log(pv / kept) for qv, pv in zip(q, p[:2]))))


def _decomposition_gap(q, student_on_support, kept, t):
    """(15) right side minus the loss, for the student's probabilities on S and its kept mass."""
    conditional = [pv / kept for pv in student_on_support]
    partition = sum(c ** (1 / t) for c in conditional)
    tempered = [c ** (1 / t) / partition for c in conditional]
    terms = (-sp.log(kept) - t * sp.log(partition)
             + t * sum(qv * (sp.log(qv) - sp.log(tv)) for qv, tv in zip(q, tempered)) + t * _entropy(q))
    return terms + sum(qv * sp.log(pv) for qv, pv in zip(q, student_on_support))


def prove_eq14() -> bool:
    """(14): S = V (kept mass 1), symbolic T, 2-token softmax student and target."""
    z, q1, t = sp.symbols("z1:3", real=True), sp.symbols("q1", positive=True), sp.symbols("T", positive=True)
    return vanishes(_decomposition_gap([q1, 1 - q1], _softmax(z), 1, t))


def prove_eq15() -> bool:
    """(15) with symbolic T, student logits and target on S = {1, 2} of 3 tokens."""
    z, p, q = _student_on_support()
    t = sp.symbols("T", positive=True)
    return vanishes(_decomposition_gap(q, p[:2], p[0] + p[1], t))


def prove_three_terms_rational() -> bool:
    """(14)/(15) at exact rational points, evaluated to 40 digits (|lhs - rhs| < 1e-35)."""
    p0 = [sp.Rational(1, 2), sp.Rational(3, 10), sp.Rational(1, 5)]
    theta = [sp.Rational(1, 5), sp.Rational(1, 2), sp.Rational(3, 10)]
    t = sp.Rational(7, 5)
    q = _temper(p0[:2], t)
    kept = theta[0] + theta[1]
    conditional = [theta[0] / kept, theta[1] / kept]
    partition = sum(c ** (1 / t) for c in conditional)
    renyi = sp.log(sum(c ** (1 / t) for c in conditional)) / (1 - 1 / t)
    tempered = [c ** (1 / t) / partition for c in conditional]
    rhs = (-sp.log(kept) + (1 - t) * renyi + t * sum(qv * sp.log(qv / tv) for qv, tv in zip(q, tempered))
           + t * _entropy(q))
    lhs = -sum(qv * sp.log(pv) for qv, pv in zip(q, theta[:2]))
    return bool(abs(sp.N(lhs - rhs, 40)) < sp.Float("1e-35"))


def prove_eq16() -> bool:
    """-T log sum pi^{1/T} = (1 - T) H_{1/T}(pi) for T != 1 (n = 3)."""
    pi, t = _positive("pi", 3), sp.symbols("T", positive=True)
    log_sum = sp.log(sum(x ** (1 / t) for x in pi))
    return sp.simplify(-t * log_sum - (1 - t) * log_sum / (1 - 1 / t)) == 0


def prove_eq17() -> bool:
    """dL/dz = -(1 - KeptMass) p(.|S) + (p(.|S) - q) on S, p_theta outside (n = 3, S = {1, 2})."""
    z, p, q = _student_on_support()
    loss = -sum(qv * sp.log(pv) for qv, pv in zip(q, p[:2]))
    kept = p[0] + p[1]
    closed = [-(1 - kept) * p[v] / kept + (p[v] / kept - q[v]) for v in range(2)] + [p[2]]
    return all(sp.simplify(sp.diff(loss, z[v]) - closed[v]) == 0 for v in range(3))


def _escort_family():
    p, gamma = _positive("p", 3), sp.symbols("gamma", positive=True)
    weights = [x ** gamma for x in p]
    pi = [w / sum(weights) for w in weights]
    logs = [sp.log(x) for x in p]
    mean = sum(a * b for a, b in zip(pi, logs))
    return p, gamma, pi, logs, mean


def prove_eq19() -> bool:
    _, gamma, pi, logs, mean = _escort_family()
    f = sp.symbols("f1:4", real=True)
    expectation = sum(a * b for a, b in zip(pi, f))
    covariance = sum(a * (fv - expectation) * (lv - mean) for a, fv, lv in zip(pi, f, logs))
    return sp.simplify(sp.diff(expectation, gamma) - covariance) == 0


def prove_eq20() -> bool:
    _, gamma, pi, logs, mean = _escort_family()
    subset = pi[0] + pi[1]
    indicator = [1, 1, 0]
    covariance = sum(a * (i - subset) * (lv - mean) for a, i, lv in zip(pi, indicator, logs))
    return sp.simplify(sp.diff(subset, gamma) - covariance) == 0


def prove_eq21() -> bool:
    _, gamma, pi, logs, mean = _escort_family()
    subset = pi[0] + pi[1]
    conditional_mean = (pi[0] * logs[0] + pi[1] * logs[1]) / subset
    return sp.simplify(sp.diff(sp.log(subset), gamma) - (conditional_mean - mean)) == 0


def prove_eq22() -> bool:
    _, gamma, pi, logs, mean = _escort_family()
    variance = sum(a * (lv - mean) ** 2 for a, lv in zip(pi, logs))
    return vanishes(sp.diff(_entropy(pi), gamma) + gamma * variance)


def prove_eq31() -> bool:
    """d/dtau H(Temper_tau[pi]) = Var_{Temper_tau[pi]}(log pi) / tau^3 (n = 3)."""
    p, tau = _positive("p", 3), sp.symbols("tau", positive=True)
    tempered = _temper(p, tau)
    logs = [sp.log(x) for x in p]
    mean = sum(a * b for a, b in zip(tempered, logs))
    variance = sum(a * (lv - mean) ** 2 for a, lv in zip(tempered, logs))
    return vanishes(sp.diff(_entropy(tempered), tau) - variance / tau ** 3)


def prove_eq30() -> bool:
    """Grouping: H(p) = h_2(K) + K H(p(.|S)) + (1 - K) H(u) for p = w / sum(w), S = {1, 2} of 4 tokens."""
    w = _positive("w", 4)
    total = sum(w)
    p = [x / total for x in w]
    kept = p[0] + p[1]
    head = [p[0] / kept, p[1] / kept]
    tail = [p[2] / (1 - kept), p[3] / (1 - kept)]
    split = -kept * sp.log(kept) - (1 - kept) * sp.log(1 - kept) + kept * _entropy(head) + (1 - kept) * _entropy(tail)
    return vanishes(sp.together(_entropy(p) - split))


def prove_renyi_limits() -> bool:
    """H_alpha -> log|supp| (alpha -> 0), Shannon (alpha -> 1), -log max (alpha -> inf) at p = (1/2, 1/3, 1/6)."""
    alpha = sp.symbols("alpha", positive=True)
    p = [sp.Rational(1, 2), sp.Rational(1, 3), sp.Rational(1, 6)]
    renyi = sp.log(sum(x ** alpha for x in p)) / (1 - alpha)
    limits = [(0, sp.log(3)), (1, _entropy(p)), (sp.oo, -sp.log(sp.Rational(1, 2)))]
    return all(sp.simplify(sp.limit(renyi, alpha, point) - value) == 0 for point, value in limits)


PROOFS = {
    "Lemma R1": prove_lemma_r1, "Lemma B.1": prove_lemma_b1, "Prop. B.2": prove_prop_b2,
    "Prop. B.3": prove_prop_b3, "Eq. (9)": prove_eq9, "Eq. (12)": prove_eq12, "Eq. (15)/(4)": prove_eq15,
    "Eq. (14)": prove_eq14, "Eq. (15)/(4) exact rationals": prove_three_terms_rational, "Eq. (16)": prove_eq16,
    "Eq. (17)": prove_eq17,
    "Eq. (19)": prove_eq19, "Eq. (20)": prove_eq20, "Eq. (21)": prove_eq21, "Eq. (22)": prove_eq22,
    "Eq. (30)": prove_eq30, "Eq. (31)": prove_eq31, "Renyi limits": prove_renyi_limits,
}
