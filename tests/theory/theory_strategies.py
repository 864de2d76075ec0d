"""Hypothesis generators shared by the theory tests: logits with ties, -inf entries, spikes and offsets."""
import numpy as np
from hypothesis import strategies as st


@st.composite
def logits(draw, min_size=1, max_size=24, allow_neg_inf=True):
    """Finite float64 logits (optionally some -inf, never all) with injected exact ties and large offsets."""
    n = draw(st.integers(min_size, max_size))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kind = draw(st.sampled_from(["normal", "spike", "plateau"]))
    scale = draw(st.sampled_from([0.1, 1.0, 5.0, 30.0]))
    z = rng.normal(0.0, scale, n)
    if kind == "spike":
        z[rng.integers(n)] += 20.0
    elif kind == "plateau":
        z = -np.log(np.arange(1, n + 1) ** 1.1) + rng.normal(0, 0.01, n)
        z[: min(4, n)] = 0.0
    if n > 1 and draw(st.booleans()):
        i, j = rng.choice(n, 2, replace=False)
        z[j] = z[i]
    z += draw(st.sampled_from([0.0, -700.0, 300.0]))
    if allow_neg_inf and n > 1 and draw(st.booleans()):
        dead = rng.random(n) < 0.3
        dead[np.argmax(z)] = False
        z[dead] = -np.inf
    return z


temperatures = st.floats(1e-2, 1e2).map(float)
top_ps = st.one_of(st.just(1.0), st.floats(0.01, 1.0, exclude_max=False))


@st.composite
def log_probs(draw, **kwargs):
    """Normalised log-probabilities (-inf = zero-probability token) from `logits`."""
    from theory.distributions import log_normalize
    return log_normalize(draw(logits(**kwargs)))


@st.composite
def subsets(draw, base):
    """A non-empty boolean subset of the True entries of `base`."""
    on = np.flatnonzero(base)
    chosen = draw(st.lists(st.sampled_from(list(on)), min_size=1, max_size=len(on), unique=True))
    mask = np.zeros(len(base), bool)
    mask[chosen] = True
    return mask


@st.composite
def recipes(draw, vocab):
    from theory.ssd import SSDRecipe
    return SSDRecipe(draw(st.floats(0.05, 20.0)), draw(st.integers(0, vocab + 1)), draw(top_ps))
