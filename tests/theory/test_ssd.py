"""SSD objects at one context (Eqs. 6-8, 10-17, B.2): definitions, edge cases and limits."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.distributions import entropy, log_normalize, restrict, temper
from theory.operators import prefix_length
from theory.ssd import (
    SSDRecipe, ideal_student, loss_gradient, loss_terms, retained_support, ssd_loss, ssd_target,
)
from theory_strategies import log_probs, recipes


@given(st.data(), log_probs())
def test_retained_support_is_nonempty_rank_prefix_with_argmax(data, logp):
    support = retained_support(logp, data.draw(recipes(len(logp))))
    assert support[np.argmax(logp)]
    assert prefix_length(np.where(support, logp, -np.inf), logp) is not None


@given(st.data(), log_probs())
def test_target_is_normalised_tempered_p0_on_the_support(data, logp):
    recipe = data.draw(recipes(len(logp)))
    q = np.exp(ssd_target(logp, recipe))
    support = retained_support(logp, recipe)
    assert abs(q.sum() - 1) < 1e-12 and np.all(q[~support] == 0)
    assert np.allclose(q, np.exp(restrict(temper(logp, recipe.t_train), support)), atol=1e-12)


@given(log_probs(), st.integers(1, 20), st.floats(0.05, 1.0), st.floats(0.1, 10.0))
def test_support_size_grows_with_k_top_p_and_t_train(logp, k, top_p, t):
    size = retained_support(logp, SSDRecipe(t, k, top_p)).sum()
    assert retained_support(logp, SSDRecipe(t, k + 1, top_p)).sum() >= size
    assert retained_support(logp, SSDRecipe(t, k, min(1.0, top_p + 0.1))).sum() >= size
    assert retained_support(logp, SSDRecipe(t * 1.5, k, top_p)).sum() >= size


@given(log_probs(), st.floats(0.05, 20.0))
def test_no_truncation_keeps_the_support_of_p0(logp, t):
    recipe = SSDRecipe(t, len(logp), 1.0)
    assert np.array_equal(retained_support(logp, recipe), np.isfinite(logp))
    assert np.allclose(np.exp(ssd_target(logp, recipe)), np.exp(temper(logp, t)), atol=1e-12)


def test_monte_carlo_loss_converges_to_cross_entropy():
    rng = np.random.default_rng(0)
    logp0, logp_theta = log_normalize(rng.normal(0, 1, 8)), log_normalize(rng.normal(0, 1, 8))
    logq = ssd_target(logp0, SSDRecipe(1.3, 5, 0.9))
    draws = rng.choice(8, size=200_000, p=np.exp(logq))
    assert abs(np.mean(-logp_theta[draws]) - ssd_loss(logq, logp_theta)) < 0.01


def test_singleton_support_is_pure_support_compression():
    logp0 = np.log([0.97, 0.02, 0.01])
    logq = ssd_target(logp0, SSDRecipe(0.5, 0, 0.9))
    terms = loss_terms(log_normalize([0.3, 1.0, -2.0]), logq, 0.5)
    assert abs(terms.reshaping) < 1e-15 and abs(terms.alignment) < 1e-15 and terms.constant == 0
    assert terms.total == pytest.approx(-np.log(np.exp(log_normalize([0.3, 1.0, -2.0]))[0]), rel=1e-12)


def test_full_support_has_no_gate():
    logp0, theta = log_normalize([0.0, 1.0, 2.0]), log_normalize([1.0, 0.0, -1.0])
    assert loss_terms(theta, ssd_target(logp0, SSDRecipe(1.6)), 1.6).gate == pytest.approx(0.0, abs=1e-15)


def test_renyi_term_is_bounded_by_log_support_size():
    rng = np.random.default_rng(1)
    for _ in range(200):
        logp0, theta = log_normalize(rng.normal(0, 2, 12)), log_normalize(rng.normal(0, 2, 12))
        recipe = SSDRecipe(float(rng.uniform(1.0, 3.0)), int(rng.integers(1, 13)), float(rng.uniform(0.1, 1)))
        logq = ssd_target(logp0, recipe)
        size = np.isfinite(logq).sum()
        renyi = loss_terms(theta, logq, recipe.t_train).reshaping / (1 - recipe.t_train) if recipe.t_train != 1 else 0
        assert renyi <= np.log(size) + 1e-12


def test_infimum_is_approached_but_not_attained():
    logq = ssd_target(np.log([0.6, 0.3, 0.1]), SSDRecipe(1.0, 2))
    support = np.isfinite(logq)
    gaps = [ssd_loss(logq, log_normalize(np.where(support, logq, -c))) - entropy(logq) for c in (0, 5, 10, 20)]
    assert all(a > b > 0 for a, b in zip(gaps, gaps[1:]))


@given(st.data(), log_probs(allow_neg_inf=False, min_size=2))
def test_gradient_is_positive_outside_and_sums_to_zero(data, logp):
    recipe = data.draw(recipes(len(logp)))
    logits = np.array(data.draw(st.lists(st.floats(-5, 5), min_size=len(logp), max_size=len(logp))))
    logq = ssd_target(logp, recipe)
    grad = loss_gradient(logits, logq)
    assert np.all(grad[~np.isfinite(logq)] > 0)
    assert abs(grad.sum()) < 1e-12


@given(st.lists(st.floats(-5, 5), min_size=2, max_size=12), st.floats(1.2, 3.0))
def test_fixed_point_breaks_when_t_train_differs_from_one(logits, t_train):
    logp = log_normalize(logits)
    grad = loss_gradient(logits, ssd_target(logp, SSDRecipe(t_train)))
    assert np.ptp(logits) < 1e-3 or np.abs(grad).max() > 1e-12


@given(st.floats(0.05, 50.0), st.floats(0.05, 5.0))
def test_singleton_student_is_temperature_inert(t_eval, t_train):
    logp0 = np.log([0.98, 0.01, 0.01])
    student = np.exp(ideal_student(logp0, SSDRecipe(t_train, 1), t_eval))
    assert list(student) == [1.0, 0.0, 0.0]


def test_two_token_lock_closed_form():
    p1, p2, t_train, tau = 0.75, 0.055, 0.9, 3.0
    student = np.exp(ideal_student(np.log([p1, p2, 0.05, 0.05, 0.05, 0.045]), SSDRecipe(t_train, 2), tau))
    assert student[0] == pytest.approx(1 / (1 + (p2 / p1) ** (1 / (t_train * tau))), rel=1e-12)


@pytest.mark.parametrize("kwargs, field", [({"t_train": 0.0}, "t_train"), ({"t_train": 1.0, "top_k": -1}, "top_k"),
                                           ({"t_train": 1.0, "top_p": 0.0}, "top_p")])
def test_bad_recipe_raises(kwargs, field):
    with pytest.raises(ValueError, match=field):
        SSDRecipe(**kwargs)
