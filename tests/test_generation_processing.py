"""The package's torch logits processing equals the theory oracle (support and distribution), and the sampler
draws from that distribution (fixed-seed chi-square goodness of fit)."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from ssd.config import DecodingConfig
from ssd.generation import processing
from theory import decoding

logit_rows = st.lists(
    st.one_of(st.floats(-30, 30, allow_nan=False), st.sampled_from([0.0, 1.0, -1.0, 2.5])),
    min_size=1, max_size=40,
)
settings_strategy = st.fixed_dictionaries({
    "temperature": st.one_of(st.just(0.0), st.just(1e-6), st.floats(0.05, 3.0)),
    "top_k": st.one_of(st.just(0), st.integers(1, 45)),
    "top_p": st.one_of(st.just(1.0), st.floats(0.05, 1.0)),
    "min_p": st.one_of(st.just(0.0), st.floats(0.0, 0.9)),
})


@given(rows=st.lists(logit_rows, min_size=1, max_size=3).filter(lambda r: len({len(x) for x in r}) == 1),
       params=settings_strategy)
def test_kept_support_equals_oracle_in_float64(rows, params):
    logits = np.array(rows, dtype=np.float64)
    ours = processing.process_logits(torch.tensor(logits), **params)
    assert np.array_equal(torch.isfinite(ours).numpy(), decoding.kept_support(logits, **params))


@given(row=logit_rows, params=settings_strategy)
def test_distribution_equals_oracle(row, params):
    logits = np.array([row], dtype=np.float64)
    cfg = DecodingConfig(**params)
    ours = processing.distribution(torch.tensor(logits), cfg).numpy()
    np.testing.assert_allclose(ours, decoding.decode_distribution(logits, **params), rtol=1e-9, atol=1e-12)


def test_float32_matches_oracle_on_generic_logits():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, size=(8, 500))
    params = dict(temperature=0.7, top_k=20, top_p=0.8, min_p=0.0)
    ours = processing.distribution(torch.tensor(logits, dtype=torch.float32), DecodingConfig(**params))
    np.testing.assert_allclose(ours.double().numpy(), decoding.decode_distribution(logits, **params), atol=1e-5)


def test_top_k_keeps_every_token_tied_with_the_kth_value():
    logits = torch.tensor([[3.0, 2.0, 2.0, 2.0, 1.0]])
    kept = torch.isfinite(processing.process_logits(logits, temperature=1.0, top_k=2))
    assert kept.tolist() == [[True, True, True, True, False]]


def test_greedy_keeps_only_the_lowest_index_argmax():
    logits = torch.tensor([[1.0, 5.0, 5.0, 0.0]])
    kept = torch.isfinite(processing.process_logits(logits, temperature=0.0, top_k=3, top_p=0.5))
    assert kept.tolist() == [[False, True, False, False]]


def test_sampled_frequencies_fit_the_oracle_distribution():
    rng = np.random.default_rng(1)
    row = rng.normal(0, 1.5, size=60)
    cfg = DecodingConfig(temperature=1.3, top_k=20, top_p=0.8)
    expected = decoding.decode_distribution(row, temperature=1.3, top_k=20, top_p=0.8)
    draws = 20000
    logits = torch.tensor(row, dtype=torch.float64).expand(draws, -1)
    generators = [torch.Generator().manual_seed(i) for i in range(draws)]
    tokens = processing.sample(logits, cfg, generators).numpy()
    support = expected > 0
    assert set(np.unique(tokens)) <= set(np.flatnonzero(support))
    counts = np.bincount(tokens, minlength=row.size)[support]
    assert stats.chisquare(counts, expected[support] * draws).pvalue > 1e-3


def test_sampling_a_row_depends_only_on_its_own_generator():
    logits = torch.randn(4, 50, generator=torch.Generator().manual_seed(0))
    cfg = DecodingConfig(temperature=1.0)
    full = processing.sample(logits, cfg, [torch.Generator().manual_seed(s) for s in (7, 8, 9, 10)])
    alone = processing.sample(logits[2:3], cfg, [torch.Generator().manual_seed(9)])
    assert full[2] == alone[0]


def test_rejects_non_batched_logits():
    with pytest.raises(ValueError, match="batch, vocab"):
        processing.process_logits(torch.zeros(5), temperature=1.0)
