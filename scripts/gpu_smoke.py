"""`make gpu-smoke` (`python -m scripts.gpu_smoke`): the whole SSD pipeline at small scale on one device.

It builds a small Qwen3 and its tokenizer (ssd.models.tiny), teaches it the answer format on a generated
arithmetic problem family (plain SFT on reference solutions, so the base model solves some problems),
then runs the shared stage chain of `ssd.experiment`: base evaluation, SSD synthesis on a disjoint prompt
pool, SFT on the raw samples, SSD evaluation, grading in the sandbox, pass@k with intervals and a paired
comparison. It prints the device, each stage's wall time (from the stage manifests) and the metrics.

Guarantees:
- On a CUDA GPU (`--scale gpu`, the default there) generation and training run in bf16 with the transformers
  backend; the run is sized to finish in well under 5 minutes on one H100-class GPU. `--scale cpu` (the
  default without a GPU) runs the same stages with a tiny model and a handful of problems.
- Everything is cached under `--root` like any experiment; the exit status is 0 only if every stage
  completed and `summary.json` was written.

Does not: download anything, use vLLM, or say anything about SSD's effect (the model and data are toys).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from ssd.config import build
from ssd.experiment.config import ExperimentConfig
from ssd.data.problems import write_problems
from ssd.prompts import build_prompt
from ssd.records import Problem, write_jsonl
from ssd.runtime import configure_threads, default_device
from ssd.models.tiny import TinySpec, create_model, train_tokenizer

OPS = {"plus": ("n + {c}", lambda n, c: n + c), "times": ("n * {c}", lambda n, c: n * c),
       "minus": ("n - {c}", lambda n, c: n - c)}
TEST_INPUTS = (3, 10, 42)


@dataclasses.dataclass
class Scale:
    spec: TinySpec
    vocab_size: int
    eval_constants: tuple[int, ...]  # one evaluation problem per (op, constant)
    train_constants: tuple[int, ...]  # format-teaching corpus and SSD pool (disjoint from evaluation)
    pretrain_steps: int
    ssd_steps: int
    n_eval_samples: int
    max_tokens: int
    batch_size: int


SCALES = {
    "gpu": Scale(TinySpec(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
                          head_dim=64, intermediate_size=768), vocab_size=1024,
                 eval_constants=tuple(range(2, 40, 3)), train_constants=tuple(range(40, 100)),
                 pretrain_steps=300, ssd_steps=60, n_eval_samples=10, max_tokens=48, batch_size=64),
    "cpu": Scale(TinySpec(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                          head_dim=16, intermediate_size=64), vocab_size=400,
                 eval_constants=(2, 5), train_constants=(40, 41, 42), pretrain_steps=4, ssd_steps=2,
                 n_eval_samples=2, max_tokens=24, batch_size=8),
}


def make_problem(op: str, c: int, difficulty: str) -> Problem:
    expr, fn = OPS[op]
    return Problem(id=f"{op}-{c}", source="gpu-smoke", kind="stdin", difficulty=difficulty,
                   question=f"Read an integer n from standard input and print {expr.format(c=c)}.",
                   tests=[{"input": f"{n}\n", "output": f"{fn(n, c)}\n"} for n in TEST_INPUTS])


def solution(problem: Problem) -> str:
    op, c = problem.id.split("-")
    return f"```python\nn = int(input())\nprint({OPS[op][0].format(c=c)})\n```"


def problem_sets(scale: Scale) -> tuple[list[Problem], list[Problem], list[Problem]]:
    """(evaluation problems, format-teaching corpus, SSD prompt pool); the last two avoid the first."""
    evaluation = [make_problem(op, c, "hard" if op == "times" else "easy")
                  for op in OPS for c in scale.eval_constants]
    train = [make_problem(op, c, "easy") for op in OPS for c in scale.train_constants]
    return evaluation, train[::2], train[1::2]


def base_model(root: Path, scale: Scale, corpus: list[Problem], device: str) -> Path:
    """A small model that has seen the answer format: SFT of a random init on reference solutions."""
    from ssd.experiment.steps import finetune  # noqa: PLC0415
    from ssd.sft import SFTRecipe  # noqa: PLC0415

    texts = [p.question for p in corpus] + [solution(p) for p in corpus]
    init = root / "init-model"
    if not (init / "config.json").exists():
        create_model(train_tokenizer(texts * 4, vocab_size=scale.vocab_size), init, scale.spec, seed=0)
    from transformers import AutoTokenizer  # noqa: PLC0415

    tokenizer = AutoTokenizer.from_pretrained(init)
    write_jsonl(root / "format-corpus.jsonl",
                [{"prompt": build_prompt(p, "paper", tokenizer), "completion": solution(p)} for p in corpus])
    cfg = SFTRecipe(engine="loop", max_seq_len=512,
                    micro_batch_size=16, max_steps=scale.pretrain_steps, lr=3e-3, min_lr=3e-4,
                    warmup_steps=min(20, scale.pretrain_steps // 4), bf16=device.startswith("cuda"),
                    progress=False)
    return finetune(init, root / "format-corpus.jsonl", cfg, root=root / "runs")


def experiment(root: Path, scale: Scale, model: Path, device: str) -> ExperimentConfig:
    decoding = {"top_k": 20, "top_p": 0.95, "max_tokens": scale.max_tokens}
    return build(ExperimentConfig, {
        "name": f"gpu-smoke-{'gpu' if device.startswith('cuda') else 'cpu'}",
        "model": {"source": str(model), "total_params_b": 0.001},
        "prompt_style": "paper",
        "benchmarks": [{"name": "arithmetic", "kind": "problems", "path": str(root / "eval.jsonl")}],
        "prompt_pool": {"kind": "problems", "path": str(root / "pool.jsonl")},
        "backend": "transformers", "backend_options": {"device": device, "batch_size": scale.batch_size},
        "base_decoding": {"temperature": 0.7, **decoding},
        "synthesis_decoding": {"temperature": 1.2, **decoding},
        "ssd_decoding": {"temperature": 0.9, **decoding},
        "n_eval_samples": scale.n_eval_samples, "ks": [1, min(5, scale.n_eval_samples)],
        "sample_filter": "none", "grading_workers": 4,
        "sft": {"engine": "loop", "max_seq_len": 512, "micro_batch_size": 16, "max_steps": scale.ssd_steps,
                "lr": 1e-3, "min_lr": 1e-4, "warmup_steps": 0, "bf16": device.startswith("cuda"),
                "progress": False},
        "gpus": {"name": device, "count": 1, "memory_gb": 80},
    }, source="scripts/gpu_smoke.py")


def stage_times(results: dict, base_model_dir: Path) -> list[tuple[str, float]]:
    """(step, wall seconds) of every stage of the run, read from the stage manifests."""
    bench = results["benchmarks"]["arithmetic"]
    folders = [("base model (format SFT)", base_model_dir.parent),
               ("base eval: generate", bench["base"]["samples_stage"]),
               ("base eval: grade", bench["base"]["verdicts_stage"]),
               ("SSD synthesis", results["stages"]["ssd_samples"]),
               ("SFT data", results["stages"]["sft_data"]),
               ("SSD SFT", Path(results["stages"]["sft"]).parent),
               ("SSD eval: generate", bench["ssd"]["samples_stage"]),
               ("SSD eval: grade", bench["ssd"]["verdicts_stage"])]
    return [(step, float(json.loads((Path(folder) / "manifest.json").read_text())["wall_seconds"]))
            for step, folder in folders]


def table(results: dict, rows: list[tuple[str, float]], device: str, total: float) -> str:
    lines = [f"device: {device}   total wall time: {total:.1f} s", "", f"{'stage':<26} {'seconds':>8}"]
    lines += [f"{name:<26} {seconds:>8.1f}" for name, seconds in rows]
    lines += ["", f"{'arm':<6} {'metric':<7} {'value':>6}  95% interval"]
    for arm in ("base", "ssd"):
        for k, m in results[arm].items():
            lines.append(f"{arm:<6} {k:<7} {100 * m['value']:>5.1f}%  [{100 * m['ci'][0]:.1f}, {100 * m['ci'][1]:.1f}]")
    health = results["benchmarks"]["arithmetic"]["ssd"]["summary"]["health"]
    lines.append(f"ssd health: no code {health['no_code_rate']:.0%}, EOS {health.get('eos_rate', 0):.0%}, "
                 f"max tokens hit {health.get('max_token_hit_rate', 0):.0%}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.gpu_smoke", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), help="default: gpu with CUDA, else cpu")
    parser.add_argument("--root", type=Path, default=Path("runs/gpu-smoke"), help="stage cache and results")
    args = parser.parse_args(argv)
    configure_threads()
    device = default_device()
    scale = SCALES[args.scale or ("gpu" if device.startswith("cuda") else "cpu")]
    from ssd.studies.paper import run_paper  # noqa: PLC0415

    start = time.time()
    args.root.mkdir(parents=True, exist_ok=True)
    evaluation, corpus, pool = problem_sets(scale)
    write_problems(args.root / "eval.jsonl", evaluation)
    write_problems(args.root / "pool.jsonl", pool)
    model = base_model(args.root, scale, corpus, device)
    results = run_paper(experiment(args.root, scale, model, device), root=args.root / "runs",
                             results_root=args.root / "results")
    print(table(results, stage_times(results, model), device, time.time() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
