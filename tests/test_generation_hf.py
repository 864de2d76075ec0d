"""The transformers backend on a tiny Qwen3 written by the test: oracle-equal sampling with hostile model
defaults, cache and left padding equal to full recomputation, seeds, stop strings, shapes."""
import shutil

import numpy as np
import pytest
import torch
from scipy import stats
from transformers import GenerationConfig

from ssd.config import ConfigError, DecodingConfig
from ssd.generation import make_backend
from ssd.prompts import encode_prompt
from theory import decoding

CHAT = "<|im_start|>user\nwrite code<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def backend(tmp_path_factory, tiny_model_dir):
    path = shutil.copytree(tiny_model_dir, tmp_path_factory.mktemp("hostile") / "model")
    hostile = GenerationConfig.from_pretrained(path)
    hostile.update(do_sample=True, top_k=2, top_p=0.1, temperature=0.05, repetition_penalty=5.0)
    hostile.save_pretrained(path)
    return make_backend("transformers", str(path), batch_size=64)


def raw_logits(backend, token_ids):
    with torch.inference_mode():
        return backend.net(input_ids=torch.tensor([token_ids])).logits[0, -1].double().numpy()


def test_first_token_frequencies_fit_the_oracle_despite_hostile_generation_config(backend):
    cfg = DecodingConfig(temperature=1.2, top_k=12, top_p=0.9, max_tokens=1, n=3000, seed=5)
    expected = decoding.decode_distribution(raw_logits(backend, encode_prompt(backend.tokenizer, CHAT)),
                                            temperature=1.2, top_k=12, top_p=0.9)
    drawn = np.array([c.token_ids[0] for c in backend.generate([CHAT], cfg)[0]])
    support = expected > 0
    assert support.sum() > 2  # the model's top_k=2 default would leave at most 2 tokens
    assert set(drawn) <= set(np.flatnonzero(support))
    counts = np.bincount(drawn, minlength=expected.size)[support]
    assert stats.chisquare(counts, expected[support] * cfg.n).pvalue > 1e-3


def test_greedy_with_cache_and_left_padding_equals_full_recomputation(backend):
    prompts = [CHAT, "x", "def add(a, b):\n"]
    cfg = DecodingConfig(temperature=0.0, max_tokens=8)
    for prompt, (completion,) in zip(prompts, backend.generate(prompts, cfg)):
        ids = encode_prompt(backend.tokenizer, prompt)
        expected = []
        for _ in range(len(completion.token_ids)):
            expected.append(int(np.argmax(raw_logits(backend, ids + expected))))
        assert completion.token_ids == expected


def test_a_completion_depends_on_its_seed_not_its_batch(backend):
    cfg = DecodingConfig(temperature=1.0, max_tokens=12)
    together = backend.generate([CHAT, "x = ["], cfg, seeds=[11, 12])
    alone = backend.generate(["x = ["], cfg, seeds=[12])
    assert together[1][0].token_ids == alone[0][0].token_ids


def test_rows_that_finish_early_leave_the_batch_without_changing_the_others(backend):
    cfg = DecodingConfig(temperature=1.0, max_tokens=30)
    seeds = list(range(100, 112))
    together = [row[0] for row in backend.generate([CHAT] * len(seeds), cfg, seeds=seeds)]
    assert {c.finish_reason for c in together} == {"stop", "length"}  # some rows left the batch early
    alone = [backend.generate([CHAT], cfg, seeds=[s])[0][0] for s in seeds]
    assert [c.token_ids for c in together] == [c.token_ids for c in alone]


def test_a_cache_that_cannot_drop_rows_gives_the_same_completions(backend, monkeypatch):
    import transformers

    cfg = DecodingConfig(temperature=1.0, max_tokens=30, n=12, seed=4)
    pruned = backend.generate([CHAT], cfg)
    for cls in transformers.DynamicCache.__mro__:
        if "batch_select_indices" in vars(cls):
            monkeypatch.delattr(cls, "batch_select_indices")
    assert backend.generate([CHAT], cfg) == pruned


def test_n_completions_per_prompt_differ_and_keep_order(backend):
    cfg = DecodingConfig(temperature=1.0, max_tokens=6, n=4, seed=3)
    out = backend.generate(["a", "bb"], cfg)
    assert [len(row) for row in out] == [4, 4]
    assert len({tuple(c.token_ids) for c in out[0]}) > 1
    assert out == backend.generate(["a", "bb"], cfg)


def test_eos_ends_a_completion_with_stop_and_stays_out_of_the_text(backend):
    out = backend.generate([CHAT], DecodingConfig(temperature=1.0, max_tokens=30, n=40, seed=1))[0]
    ended = [c for c in out if c.finish_reason == "stop"]
    assert ended and all(c.token_ids[-1] in backend.eos_ids for c in ended)
    assert all(not set(c.token_ids[:-1]) & backend.eos_ids for c in out)
    assert all("<|im_end|>" not in c.text for c in ended)
    assert all(c.n_tokens == 30 for c in out if c.finish_reason == "length")


def test_stop_string_cuts_the_text_and_finishes_with_stop(backend):
    runs = backend.generate([CHAT], DecodingConfig(temperature=1.0, max_tokens=30, n=20, seed=9))[0]
    j, free = next((j, c) for j, c in enumerate(runs) if c.finish_reason == "length")
    cfg = DecodingConfig(temperature=1.0, max_tokens=30, seed=9, n=j + 1)
    stop = next(free.text[i:i + 2] for i in range(8, len(free.text)) if "\ufffd" not in free.text[i:i + 2])
    stopped = backend.generate([CHAT], DecodingConfig(**{**cfg.__dict__, "stop": [stop]}))[0][j]
    assert stopped.finish_reason == "stop"
    assert stopped.text == free.text[:free.text.find(stop)]
    assert stopped.token_ids == free.token_ids[:stopped.n_tokens]


def test_unknown_backend_is_a_config_error():
    with pytest.raises(ConfigError, match="backend"):
        make_backend("llama.cpp", "x")
