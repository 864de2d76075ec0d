"""theory.decoding against independent brute-force references (vLLM v0.11 semantics)."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.special import softmax

from theory.decoding import (
    decode_distribution, decode_logprobs, kept_support, kept_support_tiebreak, tempered_logits,
)
from theory_strategies import logits, temperatures, top_ps


def brute_top_p(probs, top_p):
    """Smallest descending prefix (ties: lower index first) whose mass reaches top_p."""
    order = sorted(range(len(probs)), key=lambda v: (-probs[v], v))
    kept, mass = [], 0.0
    for v in order:
        if probs[v] == 0 or (kept and mass >= top_p):
            break
        kept.append(v)
        mass += probs[v]
    mask = np.zeros(len(probs), bool)
    mask[kept] = True
    return mask


def vllm_ascending_top_p(probs, top_p):
    """Literal transcription of vLLM's rule: ascending cumsum <= 1 - p is removed, the last is kept."""
    order = np.argsort(probs, kind="stable")
    removed = np.cumsum(probs[order]) <= 1 - top_p
    removed[-1] = False
    mask = np.ones(len(probs), bool)
    mask[order[removed]] = False
    return mask & (probs > 0)


@given(logits(), temperatures)
def test_no_truncation_is_tempered_softmax(z, t):
    expected = softmax(np.where(np.isfinite(z), z / t, -np.inf))
    assert np.allclose(decode_distribution(z, temperature=t), expected, atol=1e-12, rtol=0)


@given(logits(), temperatures)
def test_top_k_zero_and_full_vocab_and_top_p_one_are_no_ops(z, t):
    full = kept_support(z, temperature=t)
    assert np.array_equal(full, np.isfinite(z))
    assert np.array_equal(kept_support(z, temperature=t, top_k=len(z)), full)
    assert np.array_equal(kept_support(z, temperature=t, top_k=len(z) + 5, top_p=1.0), full)


def test_top_p_one_keeps_tokens_of_negligible_mass():
    z = np.array([0.0, -700.0, -745.0])
    assert kept_support(z, temperature=0.05, top_p=1.0).all()
    assert np.isfinite(decode_logprobs(z, temperature=0.05)).all()


@given(logits(), temperatures, st.floats(0.01, 0.999))
def test_top_p_is_smallest_descending_prefix(z, t, p):
    probs = decode_distribution(z, temperature=t)
    assert np.array_equal(kept_support(z, temperature=t, top_p=p), brute_top_p(probs, p))


@given(logits(allow_neg_inf=False), temperatures, st.floats(0.01, 0.99))
def test_top_p_matches_vllm_ascending_formula_away_from_ties(z, t, p):
    probs = decode_distribution(z, temperature=t)
    assume(len(np.unique(probs)) == len(probs))
    assume(np.min(np.abs(np.cumsum(np.sort(probs)) - (1 - p))) > 1e-9)
    assert np.array_equal(kept_support(z, temperature=t, top_p=p), vllm_ascending_top_p(probs, p))


@given(logits(), temperatures, st.integers(0, 30), top_ps, st.floats(0, 1))
def test_support_is_nonempty_and_contains_argmax(z, t, k, p, mp):
    mask = kept_support(z, temperature=t, top_k=k, top_p=p, min_p=mp)
    assert mask[np.argmax(z)]
    dist = decode_distribution(z, temperature=t, top_k=k, top_p=p, min_p=mp)
    assert abs(dist.sum() - 1) < 1e-12 and np.all(dist[~mask] == 0)


@given(logits(), temperatures, st.integers(1, 30))
def test_top_k_keeps_every_token_tied_with_the_kth_value(z, t, k):
    mask = kept_support(z, temperature=t, top_k=k)
    tz = np.where(np.isfinite(z), z / t, -np.inf)
    finite = np.sort(tz[np.isfinite(tz)])[::-1]
    kth = finite[min(k, len(finite)) - 1]
    assert np.array_equal(mask, np.isfinite(tz) & (tz >= kth))


@given(logits(), temperatures, st.integers(1, 30))
def test_tiebreak_top_k_keeps_exactly_k_lowest_index_first(z, t, k):
    mask = kept_support_tiebreak(z, temperature=t, top_k=k)
    possible = int(np.isfinite(z).sum())
    assert mask.sum() == min(k, possible)
    tz = np.where(np.isfinite(z), z / t, -np.inf)
    ranked = sorted(range(len(z)), key=lambda v: (-tz[v], v))
    assert set(np.flatnonzero(mask)) == set(ranked[: min(k, possible)])


def test_top_k_tie_semantics_differ_on_a_tie():
    z = np.log([0.4, 0.3, 0.3])
    assert kept_support(z, top_k=2).sum() == 3
    assert list(kept_support_tiebreak(z, top_k=2)) == [True, True, False]


@given(logits(), temperatures, st.floats(0, 1))
def test_min_p_keeps_tokens_with_at_least_min_p_times_max_probability(z, t, mp):
    probs = decode_distribution(z, temperature=t)
    expected = probs >= mp * probs.max()
    assume(np.all(np.abs(probs - mp * probs.max()) > 1e-12 * probs.max()) or mp == 0)
    assert np.array_equal(kept_support(z, temperature=t, min_p=mp), expected & np.isfinite(z))


def test_min_p_is_applied_before_top_p_as_in_vllm():
    tail = np.full(20, 0.01)
    z = np.log(np.concatenate([[0.6, 0.2], tail]))
    # min-p removes the tail first, the renormalised head (0.75, 0.25) then reaches top-p 0.7 with one token
    assert kept_support(z, min_p=0.1, top_p=0.7).sum() == 1
    assert kept_support(z, top_p=0.7).sum() == 2


def test_top_k_counts_only_the_min_p_survivors():
    assert list(kept_support([0.0, -1.0, -10.0, -11.0], min_p=0.1, top_k=3)) == [True, True, False, False]


@given(logits(), st.floats(0, 9.9e-6))
def test_greedy_is_one_hot_argmax_lowest_index(z, t):
    dist = decode_distribution(z, temperature=t, top_k=3, top_p=0.5, min_p=0.5)
    assert dist[int(np.argmax(z))] == 1.0 and dist.sum() == 1.0


def test_greedy_tie_picks_lowest_index():
    assert list(decode_distribution([1.0, 3.0, 3.0], temperature=0.0)) == [0.0, 1.0, 0.0]


def test_small_temperature_splits_mass_over_tied_maxima():
    dist = decode_distribution([1.0, 3.0, 3.0, -1e3], temperature=1e-3)
    assert np.allclose(dist, [0.0, 0.5, 0.5, 0.0], atol=1e-12)


@given(logits(), st.integers(0, 30), top_ps)
def test_large_temperature_tends_to_uniform_on_support(z, k, p):
    assume(np.ptp(z[np.isfinite(z)]) < 100)
    dist = decode_distribution(z, temperature=1e9, top_k=k, top_p=p)
    kept = dist > 0
    assert np.allclose(dist[kept], 1 / kept.sum(), atol=1e-6)


def test_extreme_logits_at_small_temperature_stay_finite():
    z = np.array([1e3, -1e3, 0.0, 999.0])
    lp = decode_logprobs(z, temperature=1e-2)
    assert np.isfinite(lp).all() and np.isclose(np.exp(lp).sum(), 1)


@given(st.lists(logits(min_size=6, max_size=6, allow_neg_inf=False), min_size=1, max_size=4),
       temperatures, st.integers(0, 8), top_ps)
def test_batched_rows_equal_single_rows(rows, t, k, p):
    batch = np.stack(rows)
    got = decode_distribution(batch, temperature=t, top_k=k, top_p=p)
    assert all(np.array_equal(got[i], decode_distribution(r, temperature=t, top_k=k, top_p=p))
               for i, r in enumerate(rows))


def test_tempered_logits_divides_and_greedy_limit_is_log_one_hot():
    assert np.array_equal(tempered_logits([2.0, -4.0], 2.0), [1.0, -2.0])
    assert list(tempered_logits([2.0, 5.0], 0.0)) == [-np.inf, 0.0]


def test_neg_inf_tokens_are_impossible():
    z = np.array([0.0, -np.inf, 1.0])
    assert list(kept_support(z, temperature=100.0)) == [True, False, True]


@pytest.mark.parametrize("logits_, kwargs, field", [
    ([0.0, 1.0], {"temperature": -0.1}, "temperature"),
    ([0.0, 1.0], {"temperature": float("nan")}, "temperature"),
    ([0.0, 1.0], {"top_p": 0.0}, "top_p"),
    ([0.0, 1.0], {"top_p": 1.5}, "top_p"),
    ([0.0, 1.0], {"top_k": -1}, "top_k"),
    ([0.0, 1.0], {"top_k": 1.5}, "top_k"),
    ([0.0, 1.0], {"min_p": 2.0}, "min_p"),
    ([], {}, "empty"),
    ([-np.inf, -np.inf], {}, "all -inf"),
    ([0.0, np.nan], {}, "NaN"),
    ([0.0, np.inf], {}, "inf"),
    ([[[0.0]]], {}, "1-D or 2-D"),
    ([1e308, -1e308], {"temperature": 1e-4}, "overflows"),
])
def test_bad_arguments_raise_one_clear_error(logits_, kwargs, field):
    with pytest.raises(ValueError, match=field):
        decode_distribution(logits_, **kwargs)
