"""Registry of every checked statement with a random-case generator, and the numeric checker.

Each `Statement` pairs a both-sides function from theory.identities (or theory.realizability) with a draw
function producing random cases (logits with exact ties, zero-probability tokens, wide scales, random
recipes). `check(statement, draws, seed)` evaluates both sides on `draws` cases and reports the worst
violation: for "eq" max |lhs - rhs| / max(1, |rhs|), for "le" max (lhs - rhs) / max(1, |rhs|), NaN counting as
a violation. Guarantees: deterministic for a given seed; labels `source` as "paper" for the paper's own
statements and "package" for the reconstructed ones (theory.md). Does not: prove anything (theory.symbolic
does the symbolic proofs) or cover the edge cases the hypothesis tests pin explicitly.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from theory import identities as ids
from theory.distributions import log_normalize
from theory.operators import ORDERS
from theory.realizability import b8_witness, count_realizing, student_policy, two_stage_policy
from theory.ssd import SSDRecipe, retained_support
from theory.toy import TOY_RECIPE, teacher_states


@dataclasses.dataclass(frozen=True)
class Statement:
    name: str
    source: str  # "paper" | "package"
    claim: str
    sides: Callable[..., tuple[np.ndarray, np.ndarray]]
    draw: Callable[[np.random.Generator], dict]
    relation: str = "eq"  # "eq" or "le"
    tol: float = 1e-9
    draws: int = 200


@dataclasses.dataclass(frozen=True)
class CheckResult:
    name: str
    source: str
    draws: int
    max_violation: float
    passed: bool


# ---- random cases ----

def _logits(rng, n_max=16, zeros=True, scale=None):
    n = int(rng.integers(1, n_max + 1))
    z = rng.normal(0.0, scale or rng.choice([0.3, 1.0, 3.0, 10.0]), n)
    if n > 1 and rng.random() < 0.3:
        z[rng.integers(n)] = z[rng.integers(n)]
    if zeros and n > 1 and rng.random() < 0.3:
        dead = rng.random(n) < 0.3
        dead[np.argmax(z)] = False
        z[dead] = -np.inf
    return z


def _logp(rng, **kwargs):
    return log_normalize(_logits(rng, **kwargs))


def _temperature(rng, low=0.1, high=10.0):
    t = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    return 1.0 if rng.random() < 0.05 else t


def _top_p(rng):
    return 1.0 if rng.random() < 0.2 else float(rng.uniform(0.05, 1.0))


def _recipe(rng, n):
    return SSDRecipe(_temperature(rng, 0.2, 5.0), int(rng.integers(0, n + 1)), _top_p(rng))


def _subset(rng, base):
    """A random non-empty subset of the True entries of `base`."""
    on = np.flatnonzero(base)
    chosen = rng.random(len(on)) < 0.5
    chosen[rng.integers(len(on))] = True
    mask = np.zeros(len(base), bool)
    mask[on[chosen]] = True
    return mask


def _ssd_case(rng, zeros=True):
    logp0 = _logp(rng, zeros=zeros)
    return {"logp0": logp0, "recipe": _recipe(rng, len(logp0))}


def _with_student(rng):
    case = _ssd_case(rng)
    case["logp_theta"] = log_normalize(rng.normal(0, rng.choice([0.3, 1.0, 3.0]), len(case["logp0"])))
    return case


def _escort_case(rng):
    logp0 = _logp(rng, scale=float(rng.choice([0.3, 1.0, 3.0])))
    support = _subset(rng, np.isfinite(logp0))
    return {"logp0": logp0, "support": support, "gamma": float(np.exp(rng.uniform(np.log(0.2), np.log(5))))}


def _pair_of(rng, low, high):
    a, b = sorted((_temperature(rng, low, high), _temperature(rng, low, high)))
    return a, b


def _b3_case(rng):
    case = _ssd_case(rng)
    case["t_eval"] = _temperature(rng, 0.2, 5.0)
    case["subset"] = _subset(rng, retained_support(case["logp0"], case["recipe"]))
    return case


def _escort_with_subset(rng):
    case = _escort_case(rng)
    case["subset"] = _subset(rng, case["support"])
    return case


def _fork_lock_case(rng):
    n = int(rng.integers(2, 12))
    fork, lock = log_normalize(rng.normal(0, 0.5, n)), log_normalize(rng.normal(0, 3.0, n))
    return {"fork": fork, "lock": lock, "r_fork": int(rng.integers(1, n + 1)), "r_lock": int(rng.integers(1, n + 1)),
            "tau": _temperature(rng, 0.2, 5.0), "top_k": int(rng.integers(0, n + 1)),
            "top_p": float(rng.uniform(0.05, 0.999))}


def _realizability_sides():
    """Prop. B.8 (package): the witness has no realizing policy, while the search does find policies for the
    toy root/fork/lock triple (tau = 2.09, no eval truncation) and for an untruncated recipe (sanity)."""
    witness, recipe, tau = b8_witness()
    toy = list(teacher_states().values())
    untruncated = [log_normalize(np.log([0.5, 0.2, 0.2, 0.1])), log_normalize(np.log([0.3, 0.3, 0.25, 0.15]))]
    counts = [count_realizing(witness, recipe, tau), min(1, count_realizing(toy, TOY_RECIPE, 2.09)),
              min(1, count_realizing(untruncated, SSDRecipe(1.3), 0.8))]
    return ids.both_sides(counts, [0, 1, 1])


def _b9_sides(logp0, recipe, t_eval, eval_top_k, eval_top_p):
    """Obs. B.9 (package): ideal-fit student at evaluation = two-temperature six-operator decode-only policy."""
    return ids.both_sides(np.exp(student_policy(logp0, recipe, t_eval, eval_top_k, eval_top_p)),
                     np.exp(two_stage_policy(logp0, recipe, t_eval, eval_top_k, eval_top_p)))


def _b9_case(rng):
    case = _ssd_case(rng)
    n = len(case["logp0"])
    case.update(t_eval=_temperature(rng, 0.2, 5.0), eval_top_k=int(rng.integers(0, n + 1)), eval_top_p=_top_p(rng))
    return case


def _normal_form_case(rng):
    logp = _logp(rng)
    return {"logp": logp, "alpha": 1 / _temperature(rng, 0.05, 20.0), "top_k": int(rng.integers(0, len(logp) + 1)),
            "top_p": _top_p(rng)}


def _decode_case(rng):
    z = _logits(rng)
    return {"logits": z, "temperature": _temperature(rng, 0.05, 20.0), "top_k": int(rng.integers(0, len(z) + 1)),
            "top_p": _top_p(rng)}


STATEMENTS: tuple[Statement, ...] = (
    Statement("Lemma R1", "package", "Temper^S_T[p] = Temper_T[p(.|S)] = (Temper_T[p])(.|S)",
              ids.restriction_commutes,
              lambda r: (lambda lp: {"logp": lp, "temperature": _temperature(r),
                                     "support": _subset(r, np.isfinite(lp))})(_logp(r)), tol=1e-12),
    Statement("Lemma B.1", "paper", "Temper_T2 o Temper_T1 = Temper_{T1 T2}, also on a fixed S", ids.lemma_b1,
              lambda r: (lambda lp: {"logp": lp, "t1": _temperature(r, 0.01, 100), "t2": _temperature(r, 0.01, 100),
                                     "support": _subset(r, np.isfinite(lp)) if r.random() < 0.5 else None})(_logp(r)),
              tol=1e-12),
    Statement("Prop. B.2", "paper", "ideal fit: q_{s,tau} = Temper^{S_s}_{T_train tau}[p_0] (Eq. 25)", ids.prop_b2,
              lambda r: {**_ssd_case(r), "t_eval": _temperature(r, 0.2, 5.0)}, tol=1e-12),
    Statement("Prop. B.3", "paper", "q_{s,tau}(A) = (1/m_s) (pi_{1/(T tau)}(A)/pi_{1/tau}(A)) p_{0,tau}(A) (Eq. 27)",
              ids.prop_b3, _b3_case),
    Statement("Remark B.4 (28)", "paper", "no training truncation: m_s = 1, q_{s,tau} = p_{0,T_train tau}",
              ids.remark_b4_no_truncation,
              lambda r: {"logp0": _logp(r), "t_train": _temperature(r, 0.2, 5.0), "t_eval": _temperature(r, 0.2, 5.0)},
              tol=1e-12),
    Statement("Remark B.4 (29)", "paper", "T_train = 1: q_{s,tau} = p_{0,tau}(.|S_s) = decode-only K->P->T",
              ids.remark_b4_unit_train_temperature,
              lambda r: (lambda lp: {"logp0": lp, "top_k": int(r.integers(0, len(lp) + 1)), "top_p": _top_p(r),
                                     "t_eval": _temperature(r, 0.2, 5.0)})(_logp(r)), tol=1e-12),
    Statement("Prop. B.3 sign rule", "package", "G_resh(argmax) <= 1 iff T_train >= 1; reverse for the least token",
              ids.gain_sign_le, lambda r: {**_ssd_case(r), "t_eval": _temperature(r, 0.2, 5.0)}, relation="le",
              tol=1e-12),
    Statement("Eq. (9)", "paper", "T_train = 1, no truncation: the SSD gradient vanishes (fixed point)",
              ids.eq9_fixed_point, lambda r: {"logits": _logits(r, zeros=False)}, tol=1e-12),
    Statement("Eq. (12)", "paper", "L_s = -log KeptMass + CE(q_s, p_theta(.|S_s))", ids.eq12_gate, _with_student),
    Statement("Eq. (13)", "paper", "L_s - H(q_s) = KL(q_s||p_theta); infimum H(q_s) approached, not attained",
              ids.eq13_infimum, _with_student),
    Statement("Eq. (14)", "paper", "S_s = V: L = (1-T)H_{1/T}(p_theta) + T KL(...) + T H(Temper_T p_0)",
              ids.eq14_temperature_only,
              lambda r: (lambda c: {"logp0": c["logp0"], "t_train": c["recipe"].t_train,
                                    "logp_theta": c["logp_theta"]})(_with_student(r))),
    Statement("Eq. (15)/(4)", "paper", "three-term decomposition: gate + reshaping + alignment + T H(q)",
              ids.eq15_three_terms, _with_student),
    Statement("Eq. (16)", "paper", "-T log sum pi^{1/T} = (1-T) H_{1/T}(pi)", ids.eq16_free_energy,
              lambda r: {"logp": _logp(r), "temperature": _temperature(r)}),
    Statement("Eq. (17)", "paper", "logit gradient = support transfer + within-support fit; p_theta outside",
              ids.eq17_gradient,
              lambda r: (lambda c: {"logp0": c["logp0"], "recipe": c["recipe"],
                                    "logits_theta": r.normal(0, 1.0, len(c["logp0"]))})(_ssd_case(r)), tol=1e-6),
    Statement("Eq. (19)", "paper", "d/dgamma E_pi[f] = Cov_pi(f, log p_0)", ids.eq19_expectation,
              lambda r: (lambda c: {**c, "values": r.normal(0, 1, len(c["logp0"]))})(_escort_case(r)), tol=1e-5),
    Statement("Eq. (20)", "paper", "d/dgamma pi(A) = Cov_pi(1_A, log p_0)", ids.eq20_subset_mass,
              _escort_with_subset, tol=1e-5),
    Statement("Eq. (21)", "paper", "d/dgamma log pi(A) = E_{pi(.|A)}[log p_0] - E_pi[log p_0]",
              ids.eq21_log_subset_mass, _escort_with_subset, tol=1e-5),
    Statement("Eq. (22)", "paper", "d/dgamma H(pi) = -gamma Var_pi(log p_0) <= 0", ids.eq22_entropy, _escort_case,
              tol=1e-5),
    Statement("Cor. R2", "package", "top-m prefix mass of S_s non-decreasing in gamma", ids.prefix_mass_monotone_le,
              lambda r: (lambda c, g: {"logp0": c["logp0"], "support": c["support"], "gamma_low": g[0],
                                       "gamma_high": g[1]})(_escort_case(r), _pair_of(r, 0.05, 20)),
              relation="le", tol=1e-12),
    Statement("Lemma R3", "package", "H_alpha(Temper_T[p]) non-decreasing in T", ids.renyi_of_tempered_le,
              lambda r: (lambda t: {"logp": _logp(r), "alpha": _temperature(r, 0.05, 20), "t_low": t[0],
                                    "t_high": t[1]})(_pair_of(r, 0.05, 20)), relation="le", tol=1e-10),
    Statement("Prop. C", "package", "lock precision falls and fork entropy rises with tau (the conflict)",
              ids.conflict_le,
              lambda r: (lambda t: {"lock": _logp(r), "fork": _logp(r), "tau_low": t[0], "tau_high": t[1]})(
                  _pair_of(r, 0.05, 20)), relation="le", tol=1e-12),
    Statement("Singleton lock", "package", "|S_s| = 1 iff Temper_T[p](c)/Temper_T[p](TopK) >= top-p",
              ids.singleton_lock_criterion, _ssd_case, tol=0.0),
    Statement("Eq. (30)", "paper", "H = h_2(KeptMass) + KeptMass H(head) + (1-KeptMass) H(tail)",
              ids.eq30_entropy_split,
              lambda r: (lambda lp: {"logp_theta": lp, "support": (lambda s: s if not s.all() else
                                     np.arange(len(lp)) == 0)(_subset(r, np.ones(len(lp), bool)))})(
                  log_normalize(r.normal(0, 2.0, int(r.integers(2, 17)))))),
    Statement("Eq. (31)", "paper", "d/dtau H(Temper^S_tau[p(.|S)]) = Var/tau^3 >= 0", ids.eq31_head_entropy,
              lambda r: (lambda c: {"logp_theta": c["logp0"], "support": c["support"],
                                    "tau": 1 / c["gamma"]})(_escort_case(r)), tol=1e-5),
    Statement("Prop. B.5", "paper", "all six orders give p^alpha on a rank prefix (Eq. 35)", ids.prop_b5_normal_form,
              _normal_form_case, tol=1e-12),
    Statement("Cor. B.6", "paper", "the kept support is a rank prefix (both top-k tie semantics)", ids.cor_b6_prefix,
              _decode_case, tol=0.0),
    Statement("Cor. B.7", "paper", "surviving log-odds scale by one alpha (Eq. 36)", ids.cor_b7_power,
              lambda r: {**_normal_form_case(r), "order": str(r.choice(ORDERS))}),
    Statement("Prop. B.5 (vLLM instance)", "package", "the vLLM oracle is order T->K->P with alpha = 1/T",
              ids.vllm_instance, _decode_case, tol=1e-12),
    Statement("Eqs. (37)-(38)", "paper", "S_{s,m}(tau,k) = cumulative tempered top-k mass", ids.eq38_prefix_masses,
              lambda r: (lambda lp: {"logp": lp, "tau": _temperature(r, 0.05, 20),
                                     "top_k": int(r.integers(0, len(lp) + 1))})(_logp(r, zeros=False)), tol=1e-12),
    Statement("Eq. (39)", "paper", "S_{s,m}(tau,k) non-increasing in tau", ids.eq39_prefix_mass_le,
              lambda r: (lambda lp, t: {"logp": lp, "tau_low": t[0], "tau_high": t[1],
                                        "top_k": int(r.integers(0, len(lp) + 1))})(_logp(r), _pair_of(r, 0.05, 20)),
              relation="le", tol=1e-12),
    Statement("Eq. (39) nucleus size", "paper", "m_s(tau,k,top-p) non-decreasing in tau, k, top-p",
              ids.nucleus_monotone_le,
              lambda r: (lambda lp, t: {"logp": lp, "tau": t[0], "tau_high": t[1],
                                        "top_k": int(r.integers(1, len(lp) + 1)), "top_k_high": len(lp),
                                        "top_p": float(r.uniform(0.05, 0.5)), "top_p_high": float(r.uniform(0.5, 1))})(
                  _logp(r), _pair_of(r, 0.05, 20)), relation="le", tol=0.0),
    Statement("Eq. (40)", "paper", "fork/lock feasibility interval equals brute force", ids.eq40_feasibility,
              _fork_lock_case, tol=0.0),
    Statement("Prop. B.8", "package", "a lock/fork pair no single-pass decode-only policy matches (witness)",
              _realizability_sides, lambda r: {}, tol=0.0, draws=1),
    Statement("Obs. B.9", "package", "ideal-fit student = six-operator two-temperature decode-only policy",
              _b9_sides, _b9_case, tol=1e-12),
)


def violation(statement: Statement, case: dict) -> float:
    lhs, rhs = statement.sides(**case)
    if lhs.shape != rhs.shape:
        return float("inf")
    gap = np.abs(lhs - rhs) if statement.relation == "eq" else lhs - rhs
    worst = np.max(gap / np.maximum(1.0, np.abs(rhs)), initial=0.0)
    return float("inf") if np.isnan(worst) or np.isnan(gap).any() else float(max(worst, 0.0))


def check(statement: Statement, draws: int | None = None, seed: int = 0) -> CheckResult:
    rng = np.random.default_rng(seed)
    n = statement.draws if draws is None else min(draws, statement.draws)
    worst = max(violation(statement, statement.draw(rng)) for _ in range(n))
    return CheckResult(statement.name, statement.source, n, worst, worst <= statement.tol)


def by_name(name: str) -> Statement:
    for statement in STATEMENTS:
        if statement.name == name:
            return statement
    raise KeyError(f"no statement named {name!r}")
