"""Hypothesis property tests: every registered statement on generated cases, including the edge cases
(T -> 0 and T -> inf, exact ties, zero-probability tokens, |S| = 1, logits near -700, top-p = 1)."""
import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from theory.distributions import log_normalize
from theory.ssd import SSDRecipe, retained_support
from theory.statements import by_name, violation
from theory_strategies import log_probs, logits, recipes, subsets, temperatures, top_ps

wide_temperatures = st.floats(1e-2, 1e2)


def assert_holds(name, **case):
    statement = by_name(name)
    worst = violation(statement, case)
    assert worst <= statement.tol, f"{name}: violation {worst:.3e} > {statement.tol}"


@given(st.data(), log_probs(), wide_temperatures)
def test_lemma_r1(data, logp, t):
    assert_holds("Lemma R1", logp=logp, temperature=t, support=data.draw(subsets(np.isfinite(logp))))


@given(st.data(), log_probs(), wide_temperatures, wide_temperatures, st.booleans())
def test_lemma_b1(data, logp, t1, t2, restricted):
    support = data.draw(subsets(np.isfinite(logp))) if restricted else None
    assert_holds("Lemma B.1", logp=logp, t1=t1, t2=t2, support=support)


@given(st.data(), log_probs(), temperatures)
def test_prop_b2(data, logp, t_eval):
    assert_holds("Prop. B.2", logp0=logp, recipe=data.draw(recipes(len(logp))), t_eval=t_eval)


@given(st.data(), log_probs(), st.floats(0.1, 10.0))
def test_prop_b3(data, logp, t_eval):
    recipe = data.draw(recipes(len(logp)))
    subset = data.draw(subsets(retained_support(logp, recipe)))
    assert_holds("Prop. B.3", logp0=logp, recipe=recipe, t_eval=t_eval, subset=subset)


@given(st.data(), log_probs(), st.floats(0.1, 10.0))
def test_gain_sign_rule(data, logp, t_eval):
    assert_holds("Prop. B.3 sign rule", logp0=logp, recipe=data.draw(recipes(len(logp))), t_eval=t_eval)


@given(log_probs(), st.floats(0.05, 20.0), temperatures)
def test_remark_b4_no_truncation(logp, t_train, t_eval):
    assert_holds("Remark B.4 (28)", logp0=logp, t_train=t_train, t_eval=t_eval)


@given(st.data(), log_probs(), temperatures)
def test_remark_b4_unit_train_temperature(data, logp, t_eval):
    assert_holds("Remark B.4 (29)", logp0=logp, top_k=data.draw(st.integers(0, len(logp) + 1)),
                 top_p=data.draw(top_ps), t_eval=t_eval)


@given(logits(allow_neg_inf=False))
def test_eq9_fixed_point(z):
    assert_holds("Eq. (9)", logits=z)


def _student(data, n):
    return log_normalize(data.draw(st.lists(st.floats(-10, 10), min_size=n, max_size=n)))


@given(st.data(), log_probs())
def test_eq12_gate(data, logp):
    assert_holds("Eq. (12)", logp0=logp, recipe=data.draw(recipes(len(logp))), logp_theta=_student(data, len(logp)))


@given(st.data(), log_probs())
def test_eq13_gap_is_kl(data, logp):
    assert_holds("Eq. (13)", logp0=logp, recipe=data.draw(recipes(len(logp))), logp_theta=_student(data, len(logp)))


@given(st.data(), log_probs(), st.one_of(st.just(1.0), st.just(1 + 1e-9), st.just(1 - 1e-9), wide_temperatures))
def test_eq14_temperature_only(data, logp, t):
    assert_holds("Eq. (14)", logp0=logp, t_train=t, logp_theta=_student(data, len(logp)))


@given(st.data(), log_probs(), st.one_of(st.just(1.0), st.just(1 + 1e-9), temperatures))
def test_eq15_three_terms(data, logp, t):
    recipe = data.draw(recipes(len(logp)))
    recipe = SSDRecipe(t, recipe.top_k, recipe.top_p)
    assert_holds("Eq. (15)/(4)", logp0=logp, recipe=recipe, logp_theta=_student(data, len(logp)))


@given(log_probs(), st.one_of(st.just(1.0), st.just(1 - 1e-9), wide_temperatures))
def test_eq16_free_energy(logp, t):
    assert_holds("Eq. (16)", logp=logp, temperature=t)


@given(st.data(), log_probs(max_size=10))
def test_eq17_gradient(data, logp):
    theta = np.array(data.draw(st.lists(st.floats(-3, 3), min_size=len(logp), max_size=len(logp))))
    assert_holds("Eq. (17)", logp0=logp, recipe=data.draw(recipes(len(logp))), logits_theta=theta)


def _escort_case(data):
    logp = data.draw(log_probs(max_size=12))
    spread = np.ptp(logp[np.isfinite(logp)])
    logp = log_normalize(logp * min(1.0, 20.0 / spread)) if spread > 0 else logp  # finite differences need spread <= 20
    return {"logp0": logp, "support": data.draw(subsets(np.isfinite(logp))), "gamma": data.draw(st.floats(0.2, 5.0))}


@given(st.data())
def test_eq19_expectation(data):
    case = _escort_case(data)
    values = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=len(case["logp0"]), max_size=len(case["logp0"]))))
    assert_holds("Eq. (19)", values=values, **case)


@given(st.data())
def test_eq20_subset_mass(data):
    case = _escort_case(data)
    assert_holds("Eq. (20)", subset=data.draw(subsets(case["support"])), **case)


@given(st.data())
def test_eq21_log_subset_mass(data):
    case = _escort_case(data)
    assert_holds("Eq. (21)", subset=data.draw(subsets(case["support"])), **case)


@given(st.data())
def test_eq22_entropy(data):
    assert_holds("Eq. (22)", **_escort_case(data))


@given(st.data(), st.floats(0.05, 20), st.floats(0.05, 20))
def test_cor_r2_prefix_mass_monotone(data, g1, g2):
    case = _escort_case(data)
    assert_holds("Cor. R2", logp0=case["logp0"], support=case["support"], gamma_low=min(g1, g2),
                 gamma_high=max(g1, g2))


@given(log_probs(), st.floats(0.05, 20), wide_temperatures, wide_temperatures)
def test_lemma_r3_renyi_monotone(logp, alpha, t1, t2):
    assert_holds("Lemma R3", logp=logp, alpha=alpha, t_low=min(t1, t2), t_high=max(t1, t2))


@given(log_probs(), log_probs(), wide_temperatures, wide_temperatures)
def test_prop_c_conflict(lock, fork, t1, t2):
    assert_holds("Prop. C", lock=lock, fork=fork, tau_low=min(t1, t2), tau_high=max(t1, t2))


@given(st.data(), log_probs())
def test_singleton_lock_criterion(data, logp):
    recipe = data.draw(recipes(len(logp)))
    tempered = logp / recipe.t_train
    finite = np.sort(tempered[np.isfinite(tempered)])
    assume(len(finite) < 2 or finite[-1] - finite[-2] > 1e-9)  # the criterion is exact only without a top tie
    assert_holds("Singleton lock", logp0=logp, recipe=recipe)


@given(st.data(), logits(allow_neg_inf=False, min_size=2))
def test_eq30_entropy_split(data, z):
    logp = log_normalize(z)
    support = data.draw(subsets(np.ones(len(z), bool)))
    assume(not support.all())
    assert_holds("Eq. (30)", logp_theta=logp, support=support)


@given(st.data(), st.floats(0.2, 5.0))
def test_eq31_head_entropy(data, tau):
    case = _escort_case(data)
    assert_holds("Eq. (31)", logp_theta=case["logp0"], support=case["support"], tau=tau)


@given(st.data(), log_probs(), st.floats(0.05, 20.0))
def test_prop_b5_normal_form_all_orders(data, logp, alpha):
    assert_holds("Prop. B.5", logp=logp, alpha=alpha, top_k=data.draw(st.integers(0, len(logp) + 1)),
                 top_p=data.draw(top_ps))


@given(st.data(), logits(), temperatures)
def test_cor_b6_prefix(data, z, t):
    assert_holds("Cor. B.6", logits=z, temperature=t, top_k=data.draw(st.integers(0, len(z) + 1)),
                 top_p=data.draw(top_ps))


@given(st.data(), log_probs(), st.floats(0.05, 20.0), st.sampled_from(["TKP", "TPK", "KTP", "KPT", "PTK", "PKT"]))
def test_cor_b7_power(data, logp, alpha, order):
    assert_holds("Cor. B.7", logp=logp, order=order, alpha=alpha, top_k=data.draw(st.integers(0, len(logp) + 1)),
                 top_p=data.draw(top_ps))


@given(st.data(), logits(), temperatures)
def test_vllm_oracle_is_an_instance_of_the_normal_form(data, z, t):
    assert_holds("Prop. B.5 (vLLM instance)", logits=z, temperature=t,
                 top_k=data.draw(st.integers(0, len(z) + 1)), top_p=data.draw(top_ps))


@given(st.data(), log_probs(allow_neg_inf=False), temperatures)
def test_eq38_prefix_masses(data, logp, tau):
    assert_holds("Eqs. (37)-(38)", logp=logp, tau=tau, top_k=data.draw(st.integers(0, len(logp) + 1)))


@given(st.data(), log_probs(), wide_temperatures, wide_temperatures)
def test_eq39_prefix_mass_decreasing(data, logp, t1, t2):
    assert_holds("Eq. (39)", logp=logp, tau_low=min(t1, t2), tau_high=max(t1, t2),
                 top_k=data.draw(st.integers(0, len(logp) + 1)))


@given(st.data(), log_probs(), temperatures, temperatures, st.floats(0.01, 1.0), st.floats(0.01, 1.0))
def test_nucleus_size_monotone(data, logp, t1, t2, p1, p2):
    k = data.draw(st.integers(1, len(logp)))
    assert_holds("Eq. (39) nucleus size", logp=logp, tau=min(t1, t2), tau_high=max(t1, t2), top_k=k,
                 top_k_high=data.draw(st.integers(k, len(logp) + 1)), top_p=min(p1, p2), top_p_high=max(p1, p2))


@given(st.data(), st.integers(2, 10), st.integers(0, 2**32 - 1), temperatures, st.floats(0.01, 0.999))
def test_eq40_feasibility(data, n, seed, tau, top_p):
    rng = np.random.default_rng(seed)
    fork, lock = log_normalize(rng.normal(0, 0.5, n)), log_normalize(rng.normal(0, 3.0, n))
    assert_holds("Eq. (40)", fork=fork, lock=lock, r_fork=data.draw(st.integers(1, n)),
                 r_lock=data.draw(st.integers(1, n)), tau=tau, top_k=data.draw(st.integers(0, n)), top_p=top_p)


@given(st.data(), log_probs(), temperatures)
def test_obs_b9_two_stage_policy(data, logp, t_eval):
    assert_holds("Obs. B.9", logp0=logp, recipe=data.draw(recipes(len(logp))), t_eval=t_eval,
                 eval_top_k=data.draw(st.integers(0, len(logp) + 1)), eval_top_p=data.draw(top_ps))
