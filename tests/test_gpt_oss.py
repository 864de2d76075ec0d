"""GPT-OSS fidelity (issue #13 items 4-6) on a tokenizer built with the harmony special tokens (no package ships
openai/gpt-oss-20b's tokenizer files): the channel tokens survive synthesis -> SFT data -> label masks, the
reasoning effort reaches the chat template, and MXFP4 checkpoints are dequantized for full SFT."""
import json

import pytest

from ssd.experiment.config import load_experiment
from ssd.generation.vllm_backend import sampling_params_kwargs
from ssd.config import DecodingConfig
from ssd.models.tiny import train_tokenizer
from ssd.prompts import build_prompt, decode_completion, keeps_special_tokens
from ssd.records import Problem, Sample
from ssd.sft import SFTConfig
from ssd.sft import modeling
from ssd.sft.data import IGNORE, build_examples
from ssd.studies.paper import PAPER_DIR

HARMONY = ["<|start|>", "<|channel|>", "<|message|>", "<|end|>", "<|return|>", "<|call|>", "<|constrain|>"]
# The shape of GPT-OSS's template: a system turn stating the reasoning effort (default medium), turns framed by
# <|start|>role ... <|end|>, a final assistant message on the 'final' channel closed by <|return|>.
TEMPLATE = (
    "{%- if reasoning_effort is not defined %}{%- set reasoning_effort = 'medium' %}{%- endif %}"
    "<|start|>system<|message|>Reasoning: {{ reasoning_effort }}<|end|>"
    "{%- for m in messages %}{%- if m.role == 'assistant' %}"
    "<|start|>assistant<|channel|>final<|message|>{{ m.content }}<|return|>"
    "{%- else %}<|start|>{{ m.role }}<|message|>{{ m.content }}<|end|>{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}<|start|>assistant{%- endif %}"
)
COMPLETION = ("<|channel|>analysis<|message|>Read n and print its square.<|end|><|start|>assistant"
              "<|channel|>final<|message|>```python\nn = int(input())\nprint(n * n)\n```")
PROBLEM = Problem(id="sq", source="t", question="Read n and print n squared.", kind="stdin", tests=[])


@pytest.fixture(scope="module")
def harmony():
    tok = train_tokenizer(["Read n and print its square. n = int(input()) print(n * n) analysis final"] * 20,
                          vocab_size=300)
    tok.add_special_tokens({"additional_special_tokens": HARMONY})
    tok.eos_token = "<|return|>"
    tok.chat_template = TEMPLATE
    return tok


def test_only_harmony_tokenizers_keep_special_tokens(harmony):
    assert keeps_special_tokens(harmony)
    assert not keeps_special_tokens(train_tokenizer(["plain chatml text"] * 5, vocab_size=280))


def test_vllm_decodes_special_tokens_only_when_asked():
    cfg = DecodingConfig(max_tokens=8)
    assert sampling_params_kwargs(cfg, 0, "0.11.0")["skip_special_tokens"] is True
    assert sampling_params_kwargs(cfg, 0, "0.11.0", keep_special_tokens=True)["skip_special_tokens"] is False


def test_channel_tokens_survive_synthesis_sft_data_and_label_masks(harmony):
    end = harmony.convert_tokens_to_ids("<|return|>")
    generated = harmony(COMPLETION, add_special_tokens=False)["input_ids"] + [end]  # what the model emitted
    text = decode_completion(harmony, generated, {end}, keeps_special_tokens(harmony))
    assert text == COMPLETION  # the final <|return|> is left to the SFT data's end of turn
    assert "<|channel|>" not in decode_completion(harmony, generated, {end}, keep_special=False)  # the old loss
    prompt = build_prompt(PROBLEM, "paper", harmony, {"reasoning_effort": "high"})
    sample = Sample("sq", 0, prompt, text, "stop", len(generated), {"temperature": 1.0})
    (example,), _ = build_examples([sample], harmony, max_seq_len=4096)
    ids, labels = example["input_ids"], example["labels"]
    n_prompt = labels.count(IGNORE)
    assert ids[n_prompt:] == generated  # the completion trains on exactly the ids the model generated
    assert labels[n_prompt:] == generated
    for token in ("<|channel|>", "<|message|>", "<|end|>", "<|start|>", "<|return|>"):
        assert harmony.convert_tokens_to_ids(token) in labels[n_prompt:], token


def test_reasoning_effort_reaches_the_chat_template(harmony):
    assert "Reasoning: medium" in build_prompt(PROBLEM, "paper", harmony)
    assert "Reasoning: high" in build_prompt(PROBLEM, "paper", harmony, {"reasoning_effort": "high"})
    cfg = load_experiment(PAPER_DIR / "gpt-oss-20b.yaml")
    assert cfg.chat_template_kwargs == {"reasoning_effort": "high"}


def _config_dir(path, quantization):
    path.mkdir()
    config = {"model_type": "qwen3", "vocab_size": 64, "hidden_size": 16, "intermediate_size": 32,
              "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 8}
    if quantization:
        config["quantization_config"] = quantization
    (path / "config.json").write_text(json.dumps(config))
    return path


def test_mxfp4_checkpoints_load_dequantized_for_full_sft(tmp_path, monkeypatch):
    assert modeling.dequantizing_kwargs(str(_config_dir(tmp_path / "plain", None)), {}) == {}
    mxfp4 = _config_dir(tmp_path / "mxfp4", {"quant_method": "mxfp4"})
    seen = {}

    class Loaded(Exception):
        pass

    def from_pretrained(source, **kwargs):
        seen.update(kwargs)
        raise Loaded

    import transformers
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", from_pretrained)
    with pytest.raises(Loaded):
        modeling.load_model(SFTConfig(model=str(mxfp4), data="d", output_dir="o"))
    assert seen["quantization_config"].dequantize is True
