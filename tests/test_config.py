import dataclasses

import pytest

from ssd.config import ConfigError, DecodingConfig, build, load_config


@dataclasses.dataclass
class Outer:
    name: str = "x"
    decoding: DecodingConfig = dataclasses.field(default_factory=DecodingConfig)


def test_nested_yaml_with_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: run\ndecoding:\n  temperature: 1.6\n  top_k: 20\n")
    cfg = load_config(path, Outer, overrides=["decoding.top_p=0.8"])
    assert (cfg.decoding.temperature, cfg.decoding.top_k, cfg.decoding.top_p) == (1.6, 20, 0.8)


def test_unknown_key_names_file_and_dotted_key(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("decoding:\n  temprature: 1.0\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: decoding\.temprature: unknown key"):
        load_config(path, Outer)


@pytest.mark.parametrize("field,value", [("temperature", -0.1), ("top_p", 0.0), ("top_p", 1.5), ("top_k", -1),
                                         ("min_p", 2.0), ("n", 0)])
def test_impossible_decoding_values_are_rejected(field, value):
    with pytest.raises(ConfigError, match=field):
        build(DecodingConfig, {field: value})


def test_wrong_type_is_rejected():
    with pytest.raises(ConfigError, match="top_k: expected an integer"):
        build(DecodingConfig, {"top_k": "20"})


def test_greedy_threshold():
    assert DecodingConfig(temperature=1e-6).greedy and not DecodingConfig(temperature=1e-4).greedy
