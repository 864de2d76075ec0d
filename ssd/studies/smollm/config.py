"""The SmolLM study's config: an `ExperimentConfig` (decodings, SFT recipe, pool, n, ks) plus the HumanEval
subset, the base and SSD T_eval sweeps and the measured CPU throughputs the wall-time estimate comes from.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from ssd.config import ConfigError, DecodingConfig, load_config
from ssd.data import load_humaneval
from ssd.experiment.config import ExperimentConfig, sft_recipe
from ssd.records import Problem

SETTINGS = {"small": "experiments/smollm/small.yaml", "full": "experiments/smollm/full.yaml"}


@dataclasses.dataclass
class Throughput:
    """Measured on the target machine (see the YAML comment); the wall-time estimate is computed from it."""

    decode_tokens_per_second: float
    train_tokens_per_second: float
    mean_prompt_tokens: int
    mean_completion_tokens: int

    def validate(self) -> None:
        if min(self.decode_tokens_per_second, self.train_tokens_per_second) <= 0:
            raise ConfigError("throughput: expected positive tokens per second")
        if min(self.mean_prompt_tokens, self.mean_completion_tokens) < 1:
            raise ConfigError("throughput: expected mean token counts >= 1")


@dataclasses.dataclass
class SmolLMConfig:
    experiment: ExperimentConfig
    throughput: Throughput
    base_temperatures: list[float]  # base T_eval sweep; the truncation is experiment.base_decoding's
    ssd_temperatures: list[float]  # SSD T_eval sweep; the truncation is experiment.ssd_decoding's
    humaneval_stride: int = 1  # evaluate HumanEval/0, /stride, /2*stride, ... (1: all 164)

    def validate(self) -> None:
        if self.humaneval_stride < 1:
            raise ConfigError(f"humaneval_stride: expected an integer >= 1, got {self.humaneval_stride}")
        for key in ("base_temperatures", "ssd_temperatures"):
            values = getattr(self, key)
            if not values or min(values) < 0 or len(set(values)) != len(values):
                raise ConfigError(f"{key}: expected distinct temperatures >= 0, got {values}")
        if self.base_temperatures[0] != self.ssd_temperatures[0]:
            raise ConfigError("base_temperatures, ssd_temperatures: the first of each is the pre-registered "
                              f"matched pair and must be equal, got {self.base_temperatures[0]} and "
                              f"{self.ssd_temperatures[0]}")
        if self.experiment.prompt_pool.kind != "problems":
            raise ConfigError("experiment.prompt_pool.kind: expected 'problems' (the committed stdlib pool)")
        for key, role in (("base_temperatures", "base"), ("ssd_temperatures", "ssd")):
            for i, temperature in enumerate(getattr(self, key)):
                try:
                    arm_decoding(self, role, temperature).validate()
                except ConfigError as e:
                    raise ConfigError(f"{key}[{i}]: {e}") from None


def load_smollm(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> SmolLMConfig:
    cfg = load_config(path, SmolLMConfig, overrides)
    sft_recipe(cfg.experiment, source=str(path))
    return cfg


def humaneval_subset(stride: int) -> dict[str, Problem]:
    """HumanEval/i for every i divisible by `stride`, in task order."""

    problems = load_humaneval()
    return {pid: p for pid, p in problems.items() if int(pid.split("/")[1]) % stride == 0}


def arm_decoding(cfg: SmolLMConfig, arm: str, temperature: float) -> DecodingConfig:
    return dataclasses.replace(cfg.experiment.eval_decoding(arm), temperature=temperature)
