"""Shared test setup: hypothesis profiles (deterministic `ci` by default, `long` on demand), --runslow, and the
tiny Qwen3 model (with its BPE tokenizer) that the generation and synthesis tests share."""
import os

import pytest
from hypothesis import HealthCheck, settings

from ssd.models.tiny import TinySpec, create_model, train_tokenizer

settings.register_profile(
    "ci", max_examples=60, derandomize=True, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long", max_examples=2000, derandomize=False, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
os.environ.setdefault("SSD_THREADS", "2")


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow (make test-long)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


CODE_TEXTS = ["def add(a, b):\n    return a + b\n", "for i in range(10):\n    print(i)\n", "```python\nx = 1\n```\n"] * 20


@pytest.fixture(scope="session")
def tiny_tokenizer():
    """A ChatML BPE tokenizer (300 tokens) trained on a little code."""
    return train_tokenizer(CODE_TEXTS, vocab_size=300)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_tokenizer):
    """A random tiny Qwen3 (TinySpec defaults, seed 0) saved as a Hugging Face folder; tests must not modify it."""
    return create_model(tiny_tokenizer, tmp_path_factory.mktemp("tiny"), TinySpec(), seed=0)
