"""Edge cases of tempering, restriction, entropies and the ranked operators (theory.md sections 2-7)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.distributions import (
    binary_entropy, entropy, escort, free_energy, log_normalize, mass, renyi_entropy, temper,
)
from theory.identities import eq22_entropy, eq31_head_entropy
from theory.operators import ORDERS, decode_only, nucleus_size, prefix_masses, recover_alpha
from theory.ssd import SSDRecipe, gain_factors, ideal_student, retained_support
from theory_strategies import log_probs, temperatures


def test_restriction_to_one_token_is_a_point_mass_at_every_temperature():
    logp = log_normalize([0.0, 1.0, -2.0])
    for t in (1e-2, 1.0, 1e2):
        assert list(np.exp(temper(logp, t, np.array([False, False, True])))) == [0.0, 0.0, 1.0]


@given(log_probs(), temperatures)
def test_zero_probability_tokens_never_gain_mass(logp, t):
    assert np.all(np.isneginf(temper(logp, t)[np.isneginf(logp)]))


@given(log_probs(), temperatures, temperatures)
def test_temperatures_commute_and_invert(logp, t1, t2):
    assert np.allclose(np.exp(temper(temper(logp, t1), t2)), np.exp(temper(temper(logp, t2), t1)), atol=1e-12)
    assert np.allclose(np.exp(temper(temper(logp, t1), 1 / t1)), np.exp(logp), atol=1e-9)
    assert np.allclose(np.exp(temper(logp, 1.0)), np.exp(logp), atol=1e-12)


def test_composed_temperature_limits_are_tied_argmax_and_uniform():
    logp = log_normalize([2.0, 2.0, 0.0, -np.inf])
    assert np.allclose(np.exp(temper(temper(logp, 1e-2), 1e-2)), [0.5, 0.5, 0, 0], atol=1e-12)
    assert np.allclose(np.exp(temper(temper(logp, 1e2), 1e3)), [1 / 3, 1 / 3, 1 / 3, 0], atol=1e-4)


def test_extreme_logits_stay_finite_in_log_space():
    logp = log_normalize([1e3, -1e3, 0.0])
    out = temper(logp, 1e-2)
    assert np.all(np.isfinite(out)) and out[0] == 0.0


@given(log_probs(), st.floats(1.0, 50.0))
def test_renyi_of_order_below_one_exceeds_shannon(logp, t):
    assert renyi_entropy(logp, 1 / t) >= entropy(logp) - 1e-12


def test_renyi_limits_numerically():
    logp = np.log([0.5, 0.3, 0.2])
    assert renyi_entropy(logp, 1 + 1e-7) == pytest.approx(entropy(logp), rel=1e-6)
    assert renyi_entropy(logp, 0) == pytest.approx(np.log(3))
    assert renyi_entropy(logp, np.inf) == pytest.approx(np.log(2))


@pytest.mark.parametrize("alpha", [1 / (1 + 2.2e-16), 1 + 1e-12, 0.9, 1.3, 13.0])
def test_renyi_entropy_is_accurate_at_and_away_from_order_one(alpha):
    logp = np.log(np.array([0.05, 0.06, 0.055, 0.045] * 5) / 1.05)
    direct = float(np.log(np.sum(np.exp(logp) ** alpha)) / (1 - alpha)) if abs(alpha - 1) > 1e-3 else entropy(logp)
    assert renyi_entropy(logp, alpha) == pytest.approx(direct, rel=1e-9)


def test_free_energy_is_continuous_through_t_equal_one():
    logp = np.log([0.5, 0.3, 0.2])
    assert free_energy(logp, 1.0) == pytest.approx(0.0, abs=1e-15)
    assert abs(free_energy(logp, 1 + 1e-4)) < 2e-4 and abs(free_energy(logp, 1 - 1e-4)) < 2e-4


def test_binary_entropy_limits():
    assert binary_entropy(1.0) == 0.0 and binary_entropy(0.0) == 0.0
    assert binary_entropy(0.5) == pytest.approx(np.log(2))


def test_singleton_support_has_zero_temperature_sensitivity():
    logp = log_normalize([0.0, 1.0, 2.0])
    support = np.array([False, True, False])
    assert eq22_entropy(logp, support, 2.0)[1][0] == 0.0
    assert eq31_head_entropy(logp, support, 2.0)[1][0] == 0.0


def test_uniform_support_has_zero_entropy_derivative():
    logp = log_normalize([1.0, 1.0, 1.0, -3.0])
    lhs, rhs = eq22_entropy(logp, np.array([True, True, True, False]), 0.7)
    assert abs(lhs[0]) < 1e-9 and rhs[0] == pytest.approx(0.0, abs=1e-15)


def test_extreme_logit_spread_gives_finite_derivatives():
    logp = log_normalize([0.0, -500.0, -1000.0])
    lhs, rhs = eq22_entropy(logp, np.ones(3, bool), 0.5)
    assert np.isfinite(lhs).all() and np.isfinite(rhs).all()


@given(log_probs(), st.floats(0.05, 20.0))
def test_escort_is_tempering_by_inverse_gamma(logp, gamma):
    assert np.allclose(np.exp(escort(logp, gamma)), np.exp(temper(logp, 1 / gamma)), atol=1e-12)


@given(log_probs())
def test_identity_policy_in_every_order(logp):
    assert all(np.allclose(np.exp(decode_only(logp, order, 1.0, 0, 1.0)), np.exp(logp), atol=1e-12) for order in ORDERS)


def test_orders_change_the_prefix_length():
    logp = np.log([0.4, 0.2, 0.15, 0.1, 0.08, 0.04, 0.03])
    sizes = {order: int(np.isfinite(decode_only(log_normalize(logp), order, 0.5, 5, 0.7)).sum()) for order in ORDERS}
    assert sizes["TPK"] == 4 and all(sizes[o] == 3 for o in ORDERS if o != "TPK")


@given(log_probs(allow_neg_inf=False, min_size=2), st.floats(0.05, 20.0))
def test_alpha_is_recovered_from_two_unequal_survivors(logp, alpha):
    out = decode_only(logp, "TKP", alpha, 0, 1.0)
    assert recover_alpha(out, logp) == pytest.approx(alpha, rel=1e-6) or np.ptp(logp) < 1e-9


def test_tied_survivors_keep_zero_log_odds():
    out = decode_only(log_normalize([1.0, 1.0, 0.0]), "PTK", 3.0, 2, 0.9)
    assert out[0] == out[1]


@given(log_probs(), temperatures, st.integers(1, 30))
def test_full_top_k_prefix_has_mass_one(logp, tau, k):
    assert prefix_masses(logp, tau, k)[-1] == pytest.approx(1.0, abs=1e-12)


def test_nucleus_size_of_the_toy_fork_grows_with_temperature():
    fork = log_normalize(np.log([0.148, 0.280, 0.140, 0.144, 0.144, 0.072, 0.036, 0.036]))
    assert nucleus_size(fork, 0.5, 0, 0.8) < nucleus_size(fork, 2.0, 0, 0.8)


@given(log_probs(), st.floats(0.1, 5.0), st.floats(0.1, 5.0))
def test_only_the_product_of_temperatures_matters_on_a_fixed_support(logp, t_train, t_eval):
    recipe, swapped = SSDRecipe(t_train, 0, 1.0), SSDRecipe(t_eval, 0, 1.0)
    assert np.allclose(np.exp(ideal_student(logp, recipe, t_eval)), np.exp(ideal_student(logp, swapped, t_train)),
                       atol=1e-12)


@given(log_probs(), st.floats(0.1, 5.0), st.floats(0.1, 5.0), st.floats(0.05, 1.0))
def test_gain_factors_ranges(logp, t_train, t_eval, top_p):
    recipe = SSDRecipe(t_train, 0, top_p)
    support = retained_support(logp, recipe)
    m_s, g_supp, _ = gain_factors(logp, recipe, t_eval, support)
    assert 0 < m_s <= 1 + 1e-12 and g_supp >= 1 - 1e-12
    assert mass(ideal_student(logp, recipe, t_eval), support) == pytest.approx(1.0, abs=1e-12)


@given(log_probs(), st.floats(0.1, 5.0), st.integers(1, 20), st.floats(0.05, 1.0))
def test_unit_train_temperature_has_no_reshaping_gain(logp, t_eval, k, top_p):
    recipe = SSDRecipe(1.0, k, top_p)
    top = np.arange(len(logp)) == np.argmax(logp)
    assert gain_factors(logp, recipe, t_eval, top)[2] == pytest.approx(1.0, rel=1e-12)


@given(log_probs(), st.floats(0.1, 5.0), st.floats(0.1, 5.0))
def test_no_truncation_has_no_support_gain(logp, t_train, t_eval):
    assert gain_factors(logp, SSDRecipe(t_train), t_eval, np.isfinite(logp))[1] == pytest.approx(1.0, abs=1e-12)
