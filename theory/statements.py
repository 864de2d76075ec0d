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
from theory.realizability import obs_b9_sides, prop_b8_sides
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

class Draw:
    """Random ingredients of a case: logits with exact ties and zero-probability tokens, temperatures
    log-uniform (exactly 1 now and then), top-p in (0, 1] (exactly 1 now and then), recipes, subsets."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def logits(self, n_max: int = 16, zeros: bool = True, scale: float | None = None) -> np.ndarray:
        rng = self.rng
        n = int(rng.integers(1, n_max + 1))
        z = rng.normal(0.0, scale or rng.choice([0.3, 1.0, 3.0, 10.0]), n)
        if n > 1 and rng.random() < 0.3:
            z[rng.integers(n)] = z[rng.integers(n)]
        if zeros and n > 1 and rng.random() < 0.3:
            dead = rng.random(n) < 0.3
            dead[np.argmax(z)] = False
            z[dead] = -np.inf
        return z

    def logp(self, **kwargs) -> np.ndarray:
        return log_normalize(self.logits(**kwargs))

    def temperature(self, low: float = 0.1, high: float = 10.0) -> float:
        t = float(np.exp(self.rng.uniform(np.log(low), np.log(high))))
        return 1.0 if self.rng.random() < 0.05 else t

    def ordered_pair(self, low: float = 0.05, high: float = 20.0) -> tuple[float, float]:
        a, b = sorted((self.temperature(low, high), self.temperature(low, high)))
        return a, b

    def top_p(self) -> float:
        return 1.0 if self.rng.random() < 0.2 else float(self.rng.uniform(0.05, 1.0))

    def top_k(self, n: int, low: int = 0) -> int:
        return int(self.rng.integers(low, n + 1))

    def recipe(self, n: int) -> SSDRecipe:
        return SSDRecipe(self.temperature(0.2, 5.0), self.top_k(n), self.top_p())

    def subset(self, base) -> np.ndarray:
        """A random non-empty subset of the True entries of `base`."""
        on = np.flatnonzero(base)
        chosen = self.rng.random(len(on)) < 0.5
        chosen[self.rng.integers(len(on))] = True
        mask = np.zeros(len(base), bool)
        mask[on[chosen]] = True
        return mask


def _restriction_case(d: Draw):
    logp = d.logp()
    return {"logp": logp, "temperature": d.temperature(), "support": d.subset(np.isfinite(logp))}


def _composition_case(d: Draw):
    logp = d.logp()
    support = d.subset(np.isfinite(logp)) if d.rng.random() < 0.5 else None
    return {"logp": logp, "t1": d.temperature(0.01, 100), "t2": d.temperature(0.01, 100), "support": support}


def _ssd_case(d: Draw):
    logp0 = d.logp()
    return {"logp0": logp0, "recipe": d.recipe(len(logp0))}


def _student_case(d: Draw):
    case = _ssd_case(d)
    case["t_eval"] = d.temperature(0.2, 5.0)
    return case


def _gain_case(d: Draw):
    case = _student_case(d)
    case["subset"] = d.subset(retained_support(case["logp0"], case["recipe"]))
    return case


def _untruncated_case(d: Draw):
    return {"logp0": d.logp(), "t_train": d.temperature(0.2, 5.0), "t_eval": d.temperature(0.2, 5.0)}


def _unit_train_case(d: Draw):
    logp0 = d.logp()
    return {"logp0": logp0, "top_k": d.top_k(len(logp0)), "top_p": d.top_p(), "t_eval": d.temperature(0.2, 5.0)}


def _loss_case(d: Draw):
    case = _ssd_case(d)
    case["logp_theta"] = log_normalize(d.rng.normal(0, d.rng.choice([0.3, 1.0, 3.0]), len(case["logp0"])))
    return case


def _temperature_only_case(d: Draw):
    case = _loss_case(d)
    return {"logp0": case["logp0"], "t_train": case["recipe"].t_train, "logp_theta": case["logp_theta"]}


def _gradient_case(d: Draw):
    case = _ssd_case(d)
    case["logits_theta"] = d.rng.normal(0, 1.0, len(case["logp0"]))
    return case


def _escort_case(d: Draw):
    logp0 = d.logp(scale=float(d.rng.choice([0.3, 1.0, 3.0])))
    gamma = float(np.exp(d.rng.uniform(np.log(0.2), np.log(5))))
    return {"logp0": logp0, "support": d.subset(np.isfinite(logp0)), "gamma": gamma}


def _escort_values_case(d: Draw):
    case = _escort_case(d)
    case["values"] = d.rng.normal(0, 1, len(case["logp0"]))
    return case


def _escort_subset_case(d: Draw):
    case = _escort_case(d)
    case["subset"] = d.subset(case["support"])
    return case


def _prefix_gamma_case(d: Draw):
    case = _escort_case(d)
    low, high = d.ordered_pair()
    return {"logp0": case["logp0"], "support": case["support"], "gamma_low": low, "gamma_high": high}


def _renyi_case(d: Draw):
    low, high = d.ordered_pair()
    return {"logp": d.logp(), "alpha": d.temperature(0.05, 20), "t_low": low, "t_high": high}


def _conflict_case(d: Draw):
    low, high = d.ordered_pair()
    return {"lock": d.logp(), "fork": d.logp(), "tau_low": low, "tau_high": high}


def _entropy_split_case(d: Draw):
    logp = log_normalize(d.rng.normal(0, 2.0, int(d.rng.integers(2, 17))))
    support = d.subset(np.ones(len(logp), bool))
    if support.all():
        support[-1] = False
    return {"logp_theta": logp, "support": support}


def _head_entropy_case(d: Draw):
    case = _escort_case(d)
    return {"logp_theta": case["logp0"], "support": case["support"], "tau": 1 / case["gamma"]}


def _normal_form_case(d: Draw):
    logp = d.logp()
    return {"logp": logp, "alpha": 1 / d.temperature(0.05, 20.0), "top_k": d.top_k(len(logp)), "top_p": d.top_p()}


def _power_case(d: Draw):
    return {**_normal_form_case(d), "order": str(d.rng.choice(ORDERS))}


def _decode_case(d: Draw):
    z = d.logits()
    return {"logits": z, "temperature": d.temperature(0.05, 20.0), "top_k": d.top_k(len(z)), "top_p": d.top_p()}


def _prefix_mass_case(d: Draw):
    logp = d.logp(zeros=False)
    return {"logp": logp, "tau": d.temperature(0.05, 20), "top_k": d.top_k(len(logp))}


def _prefix_mass_pair_case(d: Draw):
    logp = d.logp()
    low, high = d.ordered_pair()
    return {"logp": logp, "tau_low": low, "tau_high": high, "top_k": d.top_k(len(logp))}


def _nucleus_case(d: Draw):
    logp = d.logp()
    low, high = d.ordered_pair()
    return {"logp": logp, "tau": low, "tau_high": high, "top_k": d.top_k(len(logp), low=1), "top_k_high": len(logp),
            "top_p": float(d.rng.uniform(0.05, 0.5)), "top_p_high": float(d.rng.uniform(0.5, 1))}


def _fork_lock_case(d: Draw):
    n = int(d.rng.integers(2, 12))
    return {"fork": log_normalize(d.rng.normal(0, 0.5, n)), "lock": log_normalize(d.rng.normal(0, 3.0, n)),
            "r_fork": d.top_k(n, low=1), "r_lock": d.top_k(n, low=1), "tau": d.temperature(0.2, 5.0),
            "top_k": d.top_k(n), "top_p": float(d.rng.uniform(0.05, 0.999))}


def _witness_case(d: Draw):
    return {"toy_contexts": list(teacher_states().values()), "toy_recipe": TOY_RECIPE}


def _two_stage_case(d: Draw):
    case = _student_case(d)
    case.update(eval_top_k=d.top_k(len(case["logp0"])), eval_top_p=d.top_p())
    return case


def _statement(name, source, claim, sides, draw, relation="eq", tol=1e-9, draws=200) -> Statement:
    return Statement(name, source, claim, sides, lambda rng: draw(Draw(rng)), relation, tol, draws)


STATEMENTS: tuple[Statement, ...] = (
    _statement("Lemma R1", "package", "Temper^S_T[p] = Temper_T[p(.|S)] = (Temper_T[p])(.|S)",
               ids.restriction_commutes, _restriction_case, tol=1e-12),
    _statement("Lemma B.1", "paper", "Temper_T2 o Temper_T1 = Temper_{T1 T2}, also on a fixed S", ids.lemma_b1,
               _composition_case, tol=1e-12),
    _statement("Prop. B.2", "paper", "ideal fit: q_{s,tau} = Temper^{S_s}_{T_train tau}[p_0] (Eq. 25)", ids.prop_b2,
               _student_case, tol=1e-12),
    _statement("Prop. B.3", "paper", "q_{s,tau}(A) = (1/m_s) (pi_{1/(T tau)}(A)/pi_{1/tau}(A)) p_{0,tau}(A) (27)",
               ids.prop_b3, _gain_case),
    _statement("Remark B.4 (28)", "paper", "no training truncation: m_s = 1, q_{s,tau} = p_{0,T_train tau}",
               ids.remark_b4_no_truncation, _untruncated_case, tol=1e-12),
    _statement("Remark B.4 (29)", "paper", "T_train = 1: q_{s,tau} = p_{0,tau}(.|S_s) = decode-only K->P->T",
               ids.remark_b4_unit_train_temperature, _unit_train_case, tol=1e-12),
    _statement("Prop. B.3 sign rule", "package", "G_resh(argmax) <= 1 iff T_train >= 1; reverse for the least token",
               ids.gain_sign_le, _student_case, relation="le", tol=1e-12),
    _statement("Eq. (9)", "paper", "T_train = 1, no truncation: the SSD gradient vanishes (fixed point)",
               ids.eq9_fixed_point, lambda d: {"logits": d.logits(zeros=False)}, tol=1e-12),
    _statement("Eq. (12)", "paper", "L_s = -log KeptMass + CE(q_s, p_theta(.|S_s))", ids.eq12_gate, _loss_case),
    _statement("Eq. (13)", "paper", "L_s - H(q_s) = KL(q_s||p_theta); infimum H(q_s) approached, not attained",
               ids.eq13_infimum, _loss_case),
    _statement("Eq. (14)", "paper", "S_s = V: L = (1-T)H_{1/T}(p_theta) + T KL(...) + T H(Temper_T p_0)",
               ids.eq14_temperature_only, _temperature_only_case),
    _statement("Eq. (15)/(4)", "paper", "three-term decomposition: gate + reshaping + alignment + T H(q)",
               ids.eq15_three_terms, _loss_case),
    _statement("Eq. (16)", "paper", "-T log sum pi^{1/T} = (1-T) H_{1/T}(pi)", ids.eq16_free_energy,
               lambda d: {"logp": d.logp(), "temperature": d.temperature()}),
    _statement("Eq. (17)", "paper", "logit gradient = support transfer + within-support fit; p_theta outside",
               ids.eq17_gradient, _gradient_case, tol=1e-6),
    _statement("Eq. (19)", "paper", "d/dgamma E_pi[f] = Cov_pi(f, log p_0)", ids.eq19_expectation,
               _escort_values_case, tol=1e-5),
    _statement("Eq. (20)", "paper", "d/dgamma pi(A) = Cov_pi(1_A, log p_0)", ids.eq20_subset_mass,
               _escort_subset_case, tol=1e-5),
    _statement("Eq. (21)", "paper", "d/dgamma log pi(A) = E_{pi(.|A)}[log p_0] - E_pi[log p_0]",
               ids.eq21_log_subset_mass, _escort_subset_case, tol=1e-5),
    _statement("Eq. (22)", "paper", "d/dgamma H(pi) = -gamma Var_pi(log p_0) <= 0", ids.eq22_entropy, _escort_case,
               tol=1e-5),
    _statement("Cor. R2", "package", "top-m prefix mass of S_s non-decreasing in gamma", ids.prefix_mass_monotone_le,
               _prefix_gamma_case, relation="le", tol=1e-12),
    _statement("Lemma R3", "package", "H_alpha(Temper_T[p]) non-decreasing in T", ids.renyi_of_tempered_le,
               _renyi_case, relation="le", tol=1e-10),
    _statement("Prop. C", "package", "lock precision falls and fork entropy rises with tau (the conflict)",
               ids.conflict_le, _conflict_case, relation="le", tol=1e-12),
    _statement("Singleton lock", "package", "|S_s| = 1 iff Temper_T[p](c)/Temper_T[p](TopK) >= top-p",
               ids.singleton_lock_criterion, _ssd_case, tol=0.0),
    _statement("Eq. (30)", "paper", "H = h_2(KeptMass) + KeptMass H(head) + (1-KeptMass) H(tail)",
               ids.eq30_entropy_split, _entropy_split_case),
    _statement("Eq. (31)", "paper", "d/dtau H(Temper^S_tau[p(.|S)]) = Var/tau^3 >= 0", ids.eq31_head_entropy,
               _head_entropy_case, tol=1e-5),
    _statement("Prop. B.5", "paper", "all six orders give p^alpha on a rank prefix (Eq. 35)",
               ids.prop_b5_normal_form, _normal_form_case, tol=1e-12),
    _statement("Cor. B.6", "paper", "the kept support is a rank prefix (both top-k tie semantics)",
               ids.cor_b6_prefix, _decode_case, tol=0.0),
    _statement("Cor. B.7", "paper", "surviving log-odds scale by one alpha (Eq. 36)", ids.cor_b7_power, _power_case),
    _statement("Prop. B.5 (vLLM instance)", "package", "the vLLM oracle is order T->K->P with alpha = 1/T",
               ids.vllm_instance, _decode_case, tol=1e-12),
    _statement("Eqs. (37)-(38)", "paper", "S_{s,m}(tau,k) = cumulative tempered top-k mass",
               ids.eq38_prefix_masses, _prefix_mass_case, tol=1e-12),
    _statement("Eq. (39)", "paper", "S_{s,m}(tau,k) non-increasing in tau", ids.eq39_prefix_mass_le,
               _prefix_mass_pair_case, relation="le", tol=1e-12),
    _statement("Eq. (39) nucleus size", "paper", "m_s(tau,k,top-p) non-decreasing in tau, k, top-p",
               ids.nucleus_monotone_le, _nucleus_case, relation="le", tol=0.0),
    _statement("Eq. (40)", "paper", "fork/lock feasibility interval equals brute force", ids.eq40_feasibility,
               _fork_lock_case, tol=0.0),
    _statement("Prop. B.8", "package", "a lock/fork pair no single-pass decode-only policy matches (witness)",
               prop_b8_sides, _witness_case, tol=0.0, draws=1),
    _statement("Obs. B.9", "package", "ideal-fit student = six-operator two-temperature decode-only policy",
               obs_b9_sides, _two_stage_case, tol=1e-12),
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
