import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from ssd.models.tiny import TinySpec, create_model

TEXTS = ["def add(a, b):\n    return a + b\n", "for i in range(10):\n    print(i)\n"] * 20


def test_tokenizer_round_trips_unicode_and_code(tiny_tokenizer):
    tok = tiny_tokenizer
    text = "def f(x):\n    return 'é' * x  # ünï\n"
    assert tok.decode(tok(text)["input_ids"]) == text


def test_chat_template_is_chatml(tiny_tokenizer):
    tok = tiny_tokenizer
    rendered = tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    assert rendered == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


def test_model_directory_loads_with_auto_classes_and_is_deterministic(tmp_path, tiny_tokenizer):
    tok = tiny_tokenizer
    a = create_model(tok, tmp_path / "a", TinySpec(hidden_size=32, intermediate_size=64, head_dim=8), seed=3)
    b = create_model(tok, tmp_path / "b", TinySpec(hidden_size=32, intermediate_size=64, head_dim=8), seed=3)
    ma, mb = AutoModelForCausalLM.from_pretrained(a), AutoModelForCausalLM.from_pretrained(b)
    assert type(ma).__name__ == "Qwen3ForCausalLM"
    assert all(torch.equal(p, q) for p, q in zip(ma.parameters(), mb.parameters()))
    assert AutoTokenizer.from_pretrained(a).eos_token == "<|im_end|>"
