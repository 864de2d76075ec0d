import pytest

from ssd.config import ConfigError
from ssd.generation import make_backend


def test_transformers_backend_refuses_tensor_parallelism():
    with pytest.raises(ConfigError, match="tensor_parallel_size"):
        make_backend("transformers", "unused-model", tensor_parallel_size=8)


def test_unknown_backend_is_a_config_error():
    with pytest.raises(ConfigError, match="backend: expected one of"):
        make_backend("tgi", "unused-model")
