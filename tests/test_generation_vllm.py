"""vLLM backend. The SamplingParams mapping is a pure function tested without vLLM; the engine tests (the
same oracle goodness-of-fit as the transformers backend) need vLLM and run under `make test-vllm`."""
import numpy as np
import pytest

from ssd.config import DecodingConfig
from ssd.generation.vllm_backend import parse_version, sampling_params_kwargs, vllm_top_k

PAPER = DecodingConfig(temperature=1.6, top_k=20, top_p=0.8, max_tokens=4096, stop=["<|im_end|>"])


@pytest.mark.parametrize("version, off", [("0.8.5", -1), ("0.8.5.post1", -1), ("0.9.0", 0),
                                          ("0.11.0", 0), ("0.11.0+cpu", 0), ("0.6.3.post1", -1)])
def test_disabled_top_k_uses_the_convention_of_the_vllm_version(version, off):
    assert vllm_top_k(0, version) == off


def test_top_k_at_or_above_the_vocabulary_is_disabled():
    assert vllm_top_k(500, "0.11.0", vocab_size=500) == 0
    assert vllm_top_k(500, "0.8.4", vocab_size=500) == -1
    assert vllm_top_k(20, "0.8.4", vocab_size=500) == 20


def test_parse_version_handles_suffixes():
    assert parse_version("0.11.0rc2.dev5+g1234") == (0, 11, 0)
    assert parse_version("1.2") == (1, 2, 0)


def test_every_knob_is_explicit_and_neutral_where_the_paper_uses_none():
    kw = sampling_params_kwargs(PAPER, seed=42, vllm_version="0.11.0")
    assert kw == {"n": 1, "temperature": 1.6, "top_k": 20, "top_p": 0.8, "min_p": 0.0,
                  "repetition_penalty": 1.0, "presence_penalty": 0.0, "frequency_penalty": 0.0,
                  "max_tokens": 4096, "seed": 42, "stop": ["<|im_end|>"], "skip_special_tokens": True}


def test_mapping_is_accepted_by_sampling_params_when_vllm_is_installed():
    vllm = pytest.importorskip("vllm")
    params = vllm.SamplingParams(**sampling_params_kwargs(DecodingConfig(top_k=0), 1, vllm.__version__))
    assert params.top_k in (0, -1) and params.temperature == 1.0


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    pytest.importorskip("vllm")
    from ssd.generation.vllm_backend import VLLMBackend
    from ssd.models.tiny import TinySpec, create_model, train_tokenizer

    tok = train_tokenizer(["def add(a, b):\n    return a + b\n", "print(i)\n"] * 20, vocab_size=300)
    # vLLM's CPU attention kernels support head sizes from 32 up (16 is rejected at engine start).
    path = create_model(tok, tmp_path_factory.mktemp("tiny"), TinySpec(head_dim=64), seed=0)
    # A token budget that always fits every scheduled prompt whole: vLLM (0.32, CPU) fails on seeded requests
    # whose prefill is split across steps ("CPU Generator does not use offset"); see docs/vllm-cpu.md.
    return path, VLLMBackend(str(path), max_num_seqs=64, max_num_batched_tokens=4096, max_model_len=512)


def test_vllm_first_token_frequencies_fit_the_oracle(engine):
    import torch
    from scipy import stats
    from transformers import AutoModelForCausalLM

    from ssd.prompts import encode_prompt
    from theory import decoding

    path, backend = engine
    prompt = "<|im_start|>user\nwrite code<|im_end|>\n<|im_start|>assistant\n"
    net = AutoModelForCausalLM.from_pretrained(path)
    with torch.inference_mode():
        ids = torch.tensor([encode_prompt(backend.tokenizer, prompt)])
        logits = net(input_ids=ids).logits[0, -1].double().numpy()
    expected = decoding.decode_distribution(logits, temperature=1.2, top_k=12, top_p=0.9)
    cfg = DecodingConfig(temperature=1.2, top_k=12, top_p=0.9, max_tokens=1, n=3000, seed=5)
    drawn = np.array([c.token_ids[0] for c in backend.generate([prompt], cfg)[0]])
    support = expected > 0
    assert set(drawn) <= set(np.flatnonzero(support))
    counts = np.bincount(drawn, minlength=expected.size)[support]
    assert stats.chisquare(counts, expected[support] * cfg.n).pvalue > 1e-3
