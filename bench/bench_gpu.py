"""GPU throughput: SFT tokens/s and MFU in bf16, and generation tokens/s, for Qwen3-shaped models.

Run on one GPU from the tree: `PYTHONPATH=. python -m bench.bench_gpu` (`make bench-gpu`); it writes
bench/results/gpu.json (a run without a GPU, or with `--tiny`, is refused that path). `--tiny` runs the same
code on a tiny model and short sequences (the test, `tests/test_bench_gpu.py`, on CPU; give `--out`).

Models are built from a config with random weights (no hub, no network, no weights on disk): the shapes of
Qwen3-0.6B, 1.7B and 4B (vocabulary 151,936, tied embeddings, GQA with 8 KV heads of 128), with no EOS id
so that every completion runs to `max_tokens` (the same work in every repetition). Loading goes through
the package's own code with `AutoModelForCausalLM.from_pretrained` patched to build the saved config on
the device (`random_weights`), and the engines' final save is skipped (a 4B fp32 save is 16 GB).

(a) SFT, sequence lengths 4,096 and 16,384, one sequence per micro-batch and 16,384 tokens per optimizer
    step (accumulation 16,384 / length), loss on every token, bf16 autocast over fp32 master weights:
    - `loop`: the package's torch loop (`ssd.sft.loop.run`) with gradient checkpointing and its
      loss-positions-only chunked output layer, as the package runs it;
    - `fsdp`: the package's distributed engine (`ssd.sft.distributed.run`, the HF Trainer) in one process
      launched by `accelerate launch` with experiments/sft/accelerate/fsdp_1node.yaml (FSDP2, bf16, FSDP's
      activation checkpointing) and `--num_processes 1`; with `--tiny` on CPU, the same engine without the
      launcher (plain Trainer).
    Times are the engines' own per-step log (`train_log.jsonl`, wall time at each optimizer step's end, after
    a loss `.item()` that waits for the GPU); the first `WARMUP_STEPS` steps are excluded.
(b) generation with the transformers backend (`ssd.generation`, bf16 on GPU) at batch 1, 32 and 256:
    128-token prompts, 128 new tokens each, paper-style sampling (T 0.7, top-k 20, top-p 0.8): tokens/s of
    generated tokens over the wall time of one `Backend.generate` call, 3 calls after a warm-up call.
(c) the same with vLLM (`load_format="dummy"`: random weights) when `import vllm` works; else skipped with
    the import error as the reason.

FLOPs (model FLOPs, the PaLM convention, Chowdhery et al. 2022, App. B; also torchtitan's):
    flops_per_token = 6 * N + 12 * L * H * Q * T
    N: parameters that take part in a matmul per token = all parameters except the input embedding table,
       with the output layer counted even when it is tied to the embedding;
    L layers, H attention heads, Q head dimension, T sequence length (the attention scores and the
       weighted sum, forward and backward, counted over the full T x T square as PaLM does; a causal kernel
       does about half of that work, so at 16,384 tokens, where the term is large, MFU reads high).
    Gradient-checkpointing recomputation is not counted (it is hardware work, not model work).
    MFU = flops_per_token * tokens / (seconds * peak), with `peak` the device's dense bf16 figure from
    PEAK_BF16_TFLOPS by device name (an unknown device needs `--peak-tflops`). Every input of the formula is
    written into the JSON next to the result, so MFU can be recomputed from it.

Budget: no case starts after `--time-limit-s` (default 450 s; < 8 minutes on an H200 with start-up), and
each part has its share (PARTS: loop 35%, fsdp 30%, transformers 25%, vLLM 10%; time a part leaves unused
passes to the next). SFT cases run 1.7B at 4,096 first (the target: MFU >= 35%), then the others. A case
that would not fit memory (16 bytes per parameter for fp32 weights, gradients and AdamW states, over 90% of
the GPU) or the remaining time is skipped with the reason. An error in a case (out of memory included) is
recorded in its record with a traceback tail and the run goes on; the exit status is then 1.
If the `loop` MFU for the profile case (1.7B at 4,096) is below PROFILE_BELOW, the JSON holds a
torch.profiler breakdown of one optimizer step (top operators by device time).

Does not: measure several GPUs, sequence packing, or the paper's 65,536-token sequences.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any
from unittest import mock

from bench.common import environment, spread
from ssd.cache import atomic_write_json

REPO = Path(__file__).resolve().parent.parent
RESULT = Path(__file__).resolve().parent / "results" / "gpu.json"
FSDP_LAUNCH_CONFIG = REPO / "experiments" / "sft" / "accelerate" / "fsdp_1node.yaml"
PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "B200": 2250.0, "A100": 312.0}
QWEN3 = {"vocab_size": 151936, "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128,
         "tie_word_embeddings": True, "rope_theta": 1_000_000.0, "rms_norm_eps": 1e-6,
         "max_position_embeddings": 40960}
MODELS = {
    "qwen3-0.6b": {**QWEN3, "hidden_size": 1024, "intermediate_size": 3072, "num_hidden_layers": 28},
    "qwen3-1.7b": {**QWEN3, "hidden_size": 2048, "intermediate_size": 6144, "num_hidden_layers": 28},
    "qwen3-4b": {**QWEN3, "hidden_size": 2560, "intermediate_size": 9728, "num_hidden_layers": 36,
                 "num_attention_heads": 32},
}
TINY_MODELS = {"tiny": {**QWEN3, "vocab_size": 512, "hidden_size": 64, "intermediate_size": 128,
                        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
                        "max_position_embeddings": 256}}
WARMUP_STEPS = 1
PROFILE_BELOW = 0.35
MEMORY_FRACTION = 0.9
PARTS = {"loop": 0.35, "fsdp": 0.30, "transformers": 0.25, "vllm": 0.10}  # shares of the time limit, in order


@dataclasses.dataclass(frozen=True)
class Plan:
    """What one run measures; `full()` is the GPU plan, `tiny()` the CPU test's."""

    models: dict[str, dict[str, Any]]
    seq_lens: tuple[int, ...]
    tokens_per_step: int
    measured_steps: int
    batches: tuple[int, ...]
    prompt_tokens: int
    max_tokens: int
    generation_reps: int
    profile_case: tuple[str, int]

    @classmethod
    def full(cls) -> "Plan":
        return cls(MODELS, (4096, 16384), 16384, 3, (1, 32, 256), 128, 128, 3, ("qwen3-1.7b", 4096))

    @classmethod
    def tiny(cls) -> "Plan":
        return cls(TINY_MODELS, (32, 64), 64, 3, (1, 4), 8, 6, 3, ("tiny", 32))


def peak_tflops(device_name: str, override: float | None) -> float:
    if override:
        return override
    for key, value in PEAK_BF16_TFLOPS.items():
        if key in device_name:
            return value
    raise SystemExit(f"bench_gpu: no peak bf16 figure for device {device_name!r}; pass --peak-tflops "
                     f"(known: {', '.join(PEAK_BF16_TFLOPS)})")


def write_model_dir(name: str, shape: dict[str, Any], root: Path) -> Path:
    """A directory with the model's config.json and a word-level tokenizer covering its whole vocabulary."""
    from tokenizers import Tokenizer, models, pre_tokenizers  # noqa: PLC0415 - heavy
    from transformers import PreTrainedTokenizerFast, Qwen3Config  # noqa: PLC0415

    path = root / name
    Qwen3Config(**shape, bos_token_id=None, eos_token_id=None, pad_token_id=0).save_pretrained(path)
    words = Tokenizer(models.WordLevel({f"w{i}": i for i in range(shape["vocab_size"])}, unk_token="w0"))
    words.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    PreTrainedTokenizerFast(tokenizer_object=words, pad_token="w0").save_pretrained(path)
    return path


@contextlib.contextmanager
def random_weights(device: str, seed: int = 0):
    """`AutoModelForCausalLM.from_pretrained(dir)` builds dir's config with random weights on `device`;
    the engines' final saves are skipped."""
    import torch  # noqa: PLC0415
    from transformers import AutoConfig, AutoModelForCausalLM, Trainer  # noqa: PLC0415

    def build(source, *args, dtype=None, attn_implementation=None, **kwargs):
        torch.manual_seed(seed)
        with torch.device(device):
            return AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(source), dtype=dtype,
                                                    attn_implementation=attn_implementation or "sdpa")

    with mock.patch.object(AutoModelForCausalLM, "from_pretrained", build), \
            mock.patch("ssd.sft.loop.save_final", lambda model, tokenizer, out: out), \
            mock.patch.object(Trainer, "save_model", lambda self, *args, **kwargs: None):
        yield


def matmul_params(model) -> int:
    """N of the FLOP count: every parameter except the input embedding table; a tied output layer counts."""
    total = sum(p.numel() for p in model.parameters())  # tied tensors are yielded once
    embedding, head = model.get_input_embeddings().weight, model.get_output_embeddings().weight
    return total - embedding.numel() + (head.numel() if head is embedding else 0)


def flop_inputs(shape: dict[str, Any], n_matmul: int, seq_len: int) -> dict[str, Any]:
    layers, heads, head_dim = shape["num_hidden_layers"], shape["num_attention_heads"], shape["head_dim"]
    return {"n_matmul_params": n_matmul, "layers": layers, "heads": heads, "head_dim": head_dim, "seq_len": seq_len,
            "flops_per_token": 6 * n_matmul + 12 * layers * heads * head_dim * seq_len}


def train_examples(n: int, seq_len: int, vocab_size: int, seed: int = 0) -> list[dict[str, list[int]]]:
    import torch  # noqa: PLC0415

    ids = torch.randint(1, vocab_size, (n, seq_len), generator=torch.Generator().manual_seed(seed)).tolist()
    return [{"input_ids": row, "labels": row} for row in ids]


def sft_config(engine: str, model_dir: Path, out: Path, seq_len: int, plan: Plan):
    from ssd.sft import SFTConfig  # noqa: PLC0415

    return SFTConfig(model=str(model_dir), data="(bench_gpu: synthetic examples)", output_dir=str(out),
                     engine="loop" if engine == "loop" else "distributed", loss_on="all", max_seq_len=seq_len,
                     micro_batch_size=1, grad_accum_steps=max(1, plan.tokens_per_step // seq_len),
                     max_steps=WARMUP_STEPS + plan.measured_steps, lr=1e-5, min_lr=1e-6, warmup_steps=1,
                     bf16=True, gradient_checkpointing=engine == "loop", progress=False)


def step_times(log_file: Path) -> list[tuple[int, float]]:
    """(input tokens, seconds) of each measured optimizer step, from the engine's per-step log."""
    rows = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    return [(row["input_tokens"], row["elapsed_s"] - previous["elapsed_s"])
            for previous, row in zip(rows[WARMUP_STEPS - 1:], rows[WARMUP_STEPS:])]


def summarize_steps(steps: list[tuple[int, float]], flops_per_token: int, peak: float) -> dict[str, Any]:
    rates = [tokens / seconds for tokens, seconds in steps]
    tokens, seconds = sum(t for t, _ in steps), sum(s for _, s in steps)
    return {"measured_steps": len(steps), "tokens": tokens, "seconds": round(seconds, 6),
            "tokens_per_s": round(tokens / seconds, 1), "tokens_per_s_per_step": spread(rates, 1),
            "mfu": round(flops_per_token * tokens / (seconds * peak * 1e12), 6),
            "mfu_per_step": spread([flops_per_token * r / (peak * 1e12) for r in rates], 6)}


def run_engine(cfg, examples: list[dict], tokenizer, out: Path, logger=None) -> Path:
    from ssd.sft import distributed, loop  # noqa: PLC0415

    log_file = out / "train_log.jsonl"
    logger_args = {"log_file": log_file, "progress": False, "report_to": [], "run_dir": out, "config": {}}
    with mock.patch("ssd.sft.loop.StepLogger", logger) if logger else contextlib.nullcontext():
        (loop if cfg.engine == "loop" else distributed).run(cfg, examples, tokenizer, out, logger_args)
    return log_file


def free_device_memory() -> None:
    import torch  # noqa: PLC0415

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


class Budget:
    def __init__(self, deadline: float):
        self.deadline = deadline

    def left(self) -> float:
        return self.deadline - time.time()


def estimated_train_seconds(flops_per_token: int, steps: int, tokens_per_step: int, peak: float) -> float:
    """At 20% MFU with a third more for recomputation, plus 10 s to build the model and warm up."""
    return 10 + steps * tokens_per_step * flops_per_token * 4 / 3 / (0.2 * peak * 1e12)


def train_cases(engine: str, plan: Plan, model_dirs: dict[str, Path], work: Path, device: str, peak: float,
                budget: Budget) -> list[dict[str, Any]]:
    """Every (model, sequence length) SFT case of one engine, 1.7B at 4,096 (the profile case) first."""
    import torch  # noqa: PLC0415
    from transformers import AutoConfig, AutoModelForCausalLM  # noqa: PLC0415

    cases = sorted(((m, s) for m in plan.models for s in plan.seq_lens), key=lambda c: c != plan.profile_case)
    total_memory = torch.cuda.get_device_properties(0).total_memory if device == "cuda" else None
    results = []
    for model_name, seq_len in cases:
        shape = plan.models[model_name]
        with torch.device("meta"):
            skeleton = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(model_dirs[model_name]))
        inputs = flop_inputs(shape, matmul_params(skeleton), seq_len)
        states_bytes = 16 * sum(p.numel() for p in skeleton.parameters())
        record: dict[str, Any] = {"engine": engine, "model": model_name, "seq_len": seq_len, "flops": inputs,
                                  "peak_tflops": peak}
        cfg = sft_config(engine, model_dirs[model_name], work / f"{engine}-{model_name}-{seq_len}", seq_len, plan)
        fsdp_checkpointing = os.environ.get("FSDP_ACTIVATION_CHECKPOINTING") == "true"
        record.update(micro_batch_size=cfg.micro_batch_size, grad_accum_steps=cfg.grad_accum_steps,
                      gradient_checkpointing=cfg.gradient_checkpointing, dtype="bf16 autocast, fp32 master weights",
                      activation_checkpointing="transformers gradient checkpointing" if cfg.gradient_checkpointing
                      else "FSDP's (launch config)" if fsdp_checkpointing else "none",
                      fsdp_active=os.environ.get("ACCELERATE_USE_FSDP") == "true")
        need = estimated_train_seconds(inputs["flops_per_token"], cfg.max_steps, plan.tokens_per_step, peak)
        if total_memory and states_bytes > MEMORY_FRACTION * total_memory:
            record["skipped"] = (f"would not fit: {states_bytes / 2**30:.1f} GiB of fp32 weights, gradients and AdamW "
                                 f"states > {MEMORY_FRACTION:.0%} of {total_memory / 2**30:.1f} GiB")
        elif need > budget.left():
            record["skipped"] = f"time limit: about {need:.0f} s needed, {budget.left():.0f} s left"
        else:
            with errors_recorded(record):
                record.update(train_one(cfg, shape, inputs, device, peak, model_dirs[model_name]))
        results.append(record)
        print(f"bench_gpu: {engine} {model_name} @ {seq_len}: "
              f"{record.get('skipped') or record.get('error') or record['mfu']}", file=sys.stderr)
    return results


def train_one(cfg, shape: dict[str, Any], inputs: dict[str, Any], device: str, peak: float,
              model_dir: Path) -> dict[str, Any]:
    import torch  # noqa: PLC0415

    from ssd.sft.modeling import load_tokenizer  # noqa: PLC0415

    examples = train_examples(cfg.max_steps * cfg.global_batch(), cfg.max_seq_len, shape["vocab_size"])
    with random_weights(device):
        log_file = run_engine(cfg, examples, load_tokenizer(str(model_dir)), Path(cfg.output_dir))
    result = summarize_steps(step_times(log_file), inputs["flops_per_token"], peak)
    if device == "cuda":
        result["max_memory_allocated_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        torch.cuda.reset_peak_memory_stats()
    return result


@contextlib.contextmanager
def errors_recorded(record: dict[str, Any]):
    """An exception in the block (out of memory included) becomes `record["error"]` and a traceback tail, so
    one failed case does not lose the others' figures; `main` then exits with status 1."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 - recorded in the JSON and reflected in the exit status
        record["error"] = f"{type(error).__name__}: {error}"[:2000]
        record["traceback_tail"] = traceback.format_exc()[-3000:]
    finally:
        free_device_memory()


def profile_step(cfg, shape: dict[str, Any], device: str, model_dir: Path, top: int = 15) -> dict[str, Any]:
    """torch.profiler over the second optimizer step of the loop (the first is the profiler's warm-up)."""
    from torch.profiler import ProfilerActivity, profile, schedule  # noqa: PLC0415

    from ssd.sft.modeling import load_tokenizer  # noqa: PLC0415
    from ssd.sft.progress import StepLogger  # noqa: PLC0415

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    profiler = profile(activities=activities, schedule=schedule(wait=0, warmup=1, active=1, repeat=1))

    class ProfiledStepLogger(StepLogger):
        def log(self, *args, **kwargs):
            record = super().log(*args, **kwargs)
            profiler.step()
            return record

    cfg = dataclasses.replace(cfg, max_steps=2, output_dir=cfg.output_dir + "-profile")
    examples = train_examples(cfg.max_steps * cfg.global_batch(), cfg.max_seq_len, shape["vocab_size"])
    with random_weights(device), profiler:
        run_engine(cfg, examples, load_tokenizer(str(model_dir)), Path(cfg.output_dir), ProfiledStepLogger)
    free_device_memory()
    return op_breakdown(profiler.key_averages(), device == "cuda", top)


def op_breakdown(events, on_device: bool, top: int) -> dict[str, Any]:
    """Top operators of a profiled step by self device time (CPU time without a device), with their share of
    all kernel time (of all CPU time without a device), and the step's wall time."""
    from torch.autograd import DeviceType  # noqa: PLC0415

    key = "self_device_time_total" if on_device else "self_cpu_time_total"
    ops = [e for e in events if e.device_type == DeviceType.CPU and not e.key.startswith("ProfilerStep")]
    timed = [e for e in events if e.device_type != DeviceType.CPU] if on_device else ops
    total = sum(getattr(e, key) for e in timed) or 1.0
    step = next((e for e in events if e.key.startswith("ProfilerStep")), None)
    ranked = sorted(ops, key=lambda e: getattr(e, key), reverse=True)[:top]
    return {"scope": "one optimizer step of the loop (step 2 of 2)", "sorted_by": key,
            "step_wall_ms": round(step.cpu_time_total / 1e3, 2) if step else None,
            ("device_busy_ms" if on_device else "cpu_ms"): round(total / 1e3, 2),
            "top": [{"op": e.key, "ms": round(getattr(e, key) / 1e3, 3), "share": round(getattr(e, key) / total, 4),
                     "calls": e.count} for e in ranked if getattr(e, key) > 0]}


def prompts_of(batch: int, length: int, vocab_size: int, seed: int = 0) -> list[str]:
    """`batch` distinct prompts of exactly `length` tokens of the word-level tokenizer."""
    import torch  # noqa: PLC0415

    ids = torch.randint(1, vocab_size, (batch, length), generator=torch.Generator().manual_seed(seed)).tolist()
    return [" ".join(f"w{i}" for i in row) for row in ids]


def make_generation_backend(backend: str, model_dir: Path, device: str, plan: Plan):
    if backend == "transformers":
        from ssd.generation import make_backend  # noqa: PLC0415

        with random_weights(device):
            return make_backend("transformers", str(model_dir), device=device)
    from ssd.generation.vllm_backend import VLLMBackend  # noqa: PLC0415

    return VLLMBackend(str(model_dir), dtype="bfloat16", load_format="dummy", gpu_memory_utilization=0.8,
                       max_model_len=plan.prompt_tokens + plan.max_tokens + 16)


def generation_rates(backend, batch: int, plan: Plan, sampling, vocab_size: int) -> dict[str, Any]:
    backend.batch_size = batch
    prompts = prompts_of(batch, plan.prompt_tokens, vocab_size)
    backend.generate(prompts, dataclasses.replace(sampling, max_tokens=4))  # warm-up
    rates, tokens = [], 0
    for _ in range(plan.generation_reps):
        start = time.perf_counter()
        tokens = sum(c[0].n_tokens for c in backend.generate(prompts, sampling))
        rates.append(tokens / (time.perf_counter() - start))
    return {"dtype": getattr(backend, "dtype", None), "tokens_per_rep": tokens, "tokens_per_s": spread(rates, 1)}


def generation_cases(backend_name: str, plan: Plan, model_dirs: dict[str, Path], device: str,
                     budget: Budget) -> list[dict[str, Any]]:
    """Tokens/s of `Backend.generate` per (model, batch): one warm-up call, then `generation_reps` timed calls."""
    from ssd.config import DecodingConfig  # noqa: PLC0415

    sampling = DecodingConfig(temperature=0.7, top_k=20, top_p=0.8, max_tokens=plan.max_tokens, seed=0)
    results = []
    for model_name, model_dir in model_dirs.items():
        backend = None
        for batch in plan.batches:
            record: dict[str, Any] = {"backend": backend_name, "model": model_name, "batch": batch,
                                      "prompt_tokens": plan.prompt_tokens, "max_tokens": plan.max_tokens,
                                      "decoding": "T 0.7, top-k 20, top-p 0.8"}
            results.append(record)
            if budget.left() <= 0:
                record["skipped"] = "time limit"
                continue
            with errors_recorded(record):
                backend = backend or make_generation_backend(backend_name, model_dir, device, plan)
                record.update(generation_rates(backend, batch, plan, sampling, plan.models[model_name]["vocab_size"]))
            print(f"bench_gpu: {backend_name} {model_name} batch {batch}: "
                  f"{record.get('error') or record['tokens_per_s']}", file=sys.stderr)
        del backend
        free_device_memory()
    return results


def vllm_cases(plan: Plan, model_dirs: dict[str, Path], device: str, budget: Budget) -> list[dict[str, Any]]:
    try:
        import vllm  # noqa: F401, PLC0415
    except ImportError as error:
        return [{"backend": "vllm", "skipped": f"vllm is not importable: {error}"}]
    return generation_cases("vllm", plan, model_dirs, device, budget)


def fsdp_cases(plan: Plan, work: Path, device: str, peak: float, deadline: float) -> list[dict[str, Any]]:
    """The distributed engine's cases in a child process: under `accelerate launch` with the FSDP config on a
    GPU, a plain process on CPU. Its failure is recorded, not raised."""
    if time.time() >= deadline:
        return [{"engine": "fsdp", "model": m, "seq_len": s, "skipped": "time limit"}
                for m in plan.models for s in plan.seq_lens]
    out = work / "fsdp.json"
    plan_name = "tiny" if plan == Plan.tiny() else "full"
    worker = ["-m", "bench.bench_gpu", "--worker", "fsdp", "--plan", plan_name, "--work", str(work),
              "--peak-tflops", str(peak), "--deadline", str(deadline)]
    launcher = (["-m", "accelerate.commands.launch", "--config_file", str(FSDP_LAUNCH_CONFIG), "--num_processes", "1"]
                if device == "cuda" else [])
    command = [sys.executable, *launcher, *worker]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=max(60.0, deadline - time.time() + 120))
    except subprocess.TimeoutExpired:
        return [{"engine": "fsdp", "error": "worker timed out", "command": command}]
    if done.returncode != 0 or not out.exists():
        return [{"engine": "fsdp", "error": f"worker exit {done.returncode}: {done.stderr[-3000:]}",
                 "command": command}]
    results = json.loads(out.read_text(encoding="utf-8"))
    launch = "accelerate launch, experiments/sft/accelerate/fsdp_1node.yaml, 1 process" if launcher else \
        "one plain process (no launcher: CPU)"
    return [{**r, "launcher": launch} for r in results]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny model and sequences (the CPU test)")
    parser.add_argument("--out", default=str(RESULT))
    parser.add_argument("--peak-tflops", type=float, default=None,
                        help="the device's dense bf16 peak; required for devices not in PEAK_BF16_TFLOPS")
    parser.add_argument("--time-limit-s", type=float, default=450.0, help="start no case after this (default 450)")
    parser.add_argument("--worker", choices=["fsdp"], help=argparse.SUPPRESS)
    parser.add_argument("--plan", choices=["full", "tiny"], help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    import torch  # noqa: PLC0415

    from ssd.runtime import configure_threads  # noqa: PLC0415

    configure_threads()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.worker:  # the child process of fsdp_cases
        plan, work = (Plan.tiny() if args.plan == "tiny" else Plan.full()), Path(args.work)
        results = train_cases("fsdp", plan, {m: work / m for m in plan.models}, work, device, args.peak_tflops,
                              Budget(args.deadline))
        if int(os.environ.get("RANK", "0")) == 0:
            (work / "fsdp.json").write_text(json.dumps(results), encoding="utf-8")
        return 0
    if device != "cuda" and not args.tiny:
        raise SystemExit("bench_gpu: no CUDA device here; `--tiny --out PATH` runs the CPU-sized check")
    if (device != "cuda" or args.tiny) and Path(args.out).resolve() == RESULT:
        raise SystemExit(f"bench_gpu: {RESULT.relative_to(REPO)} holds full GPU results only; pass --out for a "
                         "CPU or --tiny run")
    device_name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    peak = peak_tflops(device_name, args.peak_tflops)
    plan = Plan.tiny() if args.tiny else Plan.full()
    start = time.time()
    deadlines, share = {}, 0.0
    for part, fraction in PARTS.items():
        share += fraction
        deadlines[part] = start + share * args.time_limit_s
    result: dict[str, Any] = {
        "benchmark": "gpu", "tiny": args.tiny,
        "compared": "per (model, seq_len): the package's loop vs its distributed engine under FSDP, same random "
                    "model, bf16, tokens per step and step count; each against the device's peak (MFU); "
                    "generation: tokens/s per batch size, transformers backend vs vLLM",
        "device": device_name, "peak_bf16_tflops": peak,
        "peak_source": "--peak-tflops" if args.peak_tflops else "PEAK_BF16_TFLOPS table",
        "mfu_formula": "flops_per_token * tokens / (seconds * peak_bf16_tflops * 1e12); "
                       "flops_per_token = 6 * n_matmul_params + 12 * layers * heads * head_dim * seq_len",
        "models": plan.models, "warmup_steps_excluded": WARMUP_STEPS, "tokens_per_step": plan.tokens_per_step,
        "time_limit_s": args.time_limit_s, "profile_case": list(plan.profile_case), "profile_below_mfu": PROFILE_BELOW,
    }
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as tmp:
        work = Path(tmp)
        model_dirs = {name: write_model_dir(name, shape, work) for name, shape in plan.models.items()}
        result["train"] = train_cases("loop", plan, model_dirs, work, device, peak, Budget(deadlines["loop"]))
        target = next(r for r in result["train"] if (r["model"], r["seq_len"]) == plan.profile_case)
        result["profile"] = None
        if "mfu" in target and target["mfu"] < PROFILE_BELOW:
            model_name, seq_len = plan.profile_case
            cfg = sft_config("loop", model_dirs[model_name], work / "profile", seq_len, plan)
            result["profile"] = {}
            with errors_recorded(result["profile"]):
                result["profile"] = profile_step(cfg, plan.models[model_name], device, model_dirs[model_name])
        result["train"] += fsdp_cases(plan, work, device, peak, deadlines["fsdp"])
        result["generate"] = generation_cases("transformers", plan, model_dirs, device,
                                              Budget(deadlines["transformers"]))
        result["generate"] += vllm_cases(plan, model_dirs, device, Budget(deadlines["vllm"]))
    result["wall_s"] = round(time.time() - start, 1)
    result.update(environment())
    atomic_write_json(args.out, result)
    failed = [r for r in [*result["train"], *result["generate"], result["profile"] or {}] if "error" in r]
    print(json.dumps({"device": result["device"], "wall_s": result["wall_s"], "failed_cases": len(failed)}))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
