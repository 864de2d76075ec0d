"""`SFTRecipe`: the hyper-parameters of one SFT run, with CPU-sized defaults; `SFTConfig`: a recipe plus the
model, data and output folder it runs on (what `ssd train --config X.yaml` reads and both engines accept).

Guarantees:
- Every field is validated in `validate()` (called by `ssd.config.build`/`load_config`); an impossible
  setting raises one `ConfigError` naming the field and what was expected.
- A recipe holds no paths: callers pass the model, data and output folder to `ssd.sft.train`.
- The paper's hyper-parameters (AdamW 0.9/0.95, weight decay 0.1, cosine 5e-6 -> 1e-6, warmup 250/50,
  global batch 32, 2,500/300 steps, sequence length 65,536) live in `experiments/sft/*.yaml`; the
  defaults here suit the tiny CPU models of `ssd.models.tiny`.
- `accumulation_steps(world_size)` and `total_steps(n_examples, world_size)` are the only places where
  the global batch and the run length are derived, so both engines agree on them.

Does not: read files or touch torch.
"""
from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any

from ssd.config import ConfigError

ENGINES = ("loop", "distributed")
FINAL_DIR = "final"  # the final checkpoint: <output_dir>/final
CHECKPOINT_PREFIX = "checkpoint-"  # intermediate checkpoints: <output_dir>/checkpoint-<step>
LOSS_ON = ("completion", "all")
OVERLONG = ("drop", "truncate", "error")
REPORT_TO = ("tensorboard", "wandb")
# Fields that may change between a run and its resumption without making it another run.
NON_IDENTITY_FIELDS = ("output_dir", "log_file", "threads", "progress", "report_to", "save_every")


@dataclasses.dataclass
class LoraSettings:
    """Optional LoRA adapters (peft); the final checkpoint has the adapters merged into the weights."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.0
    target_modules: list[str] = dataclasses.field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    )

    def validate(self) -> None:
        if self.r < 1:
            raise ConfigError(f"lora.r: expected an integer >= 1, got {self.r}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"lora.dropout: expected a value in [0, 1), got {self.dropout}")
        if not self.target_modules:
            raise ConfigError("lora.target_modules: expected at least one module name")


@dataclasses.dataclass
class SFTRecipe:
    engine: str = "loop"  # loop (one CPU/GPU) | distributed (HF Trainer under accelerate/torchrun)
    loss_on: str = "completion"  # completion | all (plain language modelling on every token)
    max_seq_len: int = 1024
    overlong: str = "drop"  # what to do with longer examples: drop | truncate | error (always counted and reported)
    micro_batch_size: int = 8
    grad_accum_steps: int = 1
    global_batch_size: int = 0  # if > 0: grad_accum_steps = global / (micro_batch_size * world_size)
    max_steps: int = 0
    epochs: float = 0.0  # used when max_steps is 0
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup_steps: int = 10
    schedule: str = "cosine"
    weight_decay: float = 0.1
    adam_beta1: float = 0.9
    adam_beta2: float = 0.95
    adam_eps: float = 1e-8
    grad_clip: float = 1.0  # 0 disables clipping
    seed: int = 0
    save_every: int = 0  # checkpoint every N optimizer steps (0: only the final model)
    log_file: str = ""  # JSONL of per-step metrics; default <output_dir>/train_log.jsonl
    report_to: list[str] = dataclasses.field(default_factory=list)  # tensorboard, wandb
    progress: bool = True
    bf16: bool = False  # bf16 autocast over fp32 master weights
    gradient_checkpointing: bool = False
    attn_implementation: str = "sdpa"
    lora: LoraSettings | None = None
    threads: int = 0  # torch threads; 0 reads SSD_THREADS

    def validate(self) -> None:
        checks = [
            (self.engine in ENGINES, "engine", f"one of {ENGINES}"),
            (self.loss_on in LOSS_ON, "loss_on", f"one of {LOSS_ON}"),
            (self.overlong in OVERLONG, "overlong", f"one of {OVERLONG}"),
            (self.schedule == "cosine", "schedule", "'cosine' (warmup, then cosine from lr to min_lr)"),
            (self.max_seq_len >= 2, "max_seq_len", "an integer >= 2"),
            (self.micro_batch_size >= 1, "micro_batch_size", "an integer >= 1"),
            (self.grad_accum_steps >= 1, "grad_accum_steps", "an integer >= 1"),
            (self.global_batch_size >= 0, "global_batch_size", "an integer >= 0 (0: micro x accum x world)"),
            (self.max_steps >= 0, "max_steps", "an integer >= 0 (0: the run length comes from epochs)"),
            (self.epochs >= 0, "epochs", "a number >= 0 (used when max_steps is 0)"),
            (self.max_steps > 0 or self.epochs > 0, "epochs", "a number > 0 when max_steps is 0"),
            (self.lr > 0, "lr", "a learning rate > 0"),
            (0 <= self.min_lr <= self.lr, "min_lr", f"a value in [0, lr={self.lr}]"),
            (self.warmup_steps >= 0, "warmup_steps", "an integer >= 0"),
            (self.weight_decay >= 0, "weight_decay", "a value >= 0"),
            (0 <= self.adam_beta1 < 1 and 0 <= self.adam_beta2 < 1, "adam_beta1", "betas in [0, 1)"),
            (self.grad_clip >= 0, "grad_clip", "a value >= 0 (0 disables)"),
            (self.save_every >= 0, "save_every", "an integer >= 0"),
            (self.threads >= 0, "threads", "an integer >= 0 (0: SSD_THREADS)"),
            (all(r in REPORT_TO for r in self.report_to), "report_to", f"a list drawn from {REPORT_TO}"),
        ]
        for ok, name, expected in checks:
            if not ok:
                raise ConfigError(f"{name}: expected {expected}, got {getattr(self, name)!r}")
        if self.global_batch_size and self.grad_accum_steps != 1:
            raise ConfigError("grad_accum_steps: set either global_batch_size or grad_accum_steps, not both")
        if self.lora is not None:
            self.lora.validate()

    def accumulation_steps(self, world_size: int = 1) -> int:
        if not self.global_batch_size:
            return self.grad_accum_steps
        per_step = self.micro_batch_size * world_size
        if self.global_batch_size % per_step:
            raise ConfigError(
                f"global_batch_size: {self.global_batch_size} is not a multiple of micro_batch_size "
                f"({self.micro_batch_size}) x processes ({world_size})"
            )
        return self.global_batch_size // per_step

    def global_batch(self, world_size: int = 1) -> int:
        return self.micro_batch_size * self.accumulation_steps(world_size) * world_size

    def total_steps(self, n_examples: int, world_size: int = 1) -> int:
        if self.max_steps:
            return self.max_steps
        return max(1, math.ceil(self.epochs * n_examples / self.global_batch(world_size)))

    def identity(self) -> dict[str, Any]:
        """The fields that define the run (what resuming must match)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in NON_IDENTITY_FIELDS}


@dataclasses.dataclass
class SFTConfig(SFTRecipe):
    """A recipe and what it runs on: the `ssd train` file format and the engines' input."""

    model: str = ""  # Hugging Face directory or hub id
    data: str | list[str] = ""  # JSONL file(s) and/or folder(s) of *.jsonl shards
    output_dir: str = ""

    @classmethod
    def of(cls, recipe: SFTRecipe, model: str | os.PathLike, data: str | os.PathLike | list[str],
           output_dir: str | os.PathLike) -> "SFTConfig":
        data = [str(d) for d in data] if isinstance(data, list) else str(data)
        return cls(**{f.name: getattr(recipe, f.name) for f in dataclasses.fields(SFTRecipe)},
                   model=str(model), data=data, output_dir=str(output_dir))

    def recipe(self) -> SFTRecipe:
        return SFTRecipe(**{f.name: getattr(self, f.name) for f in dataclasses.fields(SFTRecipe)})

    def validate(self) -> None:
        for ok, name, expected in [(bool(self.model), "model", "a Hugging Face directory or hub id"),
                                   (bool(self.data), "data", "at least one JSONL file or folder"),
                                   (bool(self.output_dir), "output_dir", "a folder path")]:
            if not ok:
                raise ConfigError(f"{name}: expected {expected}, got {getattr(self, name)!r}")
        super().validate()

    def data_paths(self) -> list[str]:
        return [self.data] if isinstance(self.data, str) else list(self.data)

    def identity(self) -> dict[str, Any]:
        data = super().identity()
        data["model"] = _canonical_location(self.model)
        data["data"] = ([_canonical_location(d) for d in self.data] if isinstance(self.data, list)
                        else _canonical_location(self.data))
        return data


def _canonical_location(value: str) -> str:
    """An existing local path as an absolute path (so `runs/x` and `/repo/runs/x` are one run); else as given."""
    path = Path(value)
    return os.path.abspath(value) if value and path.exists() else value
