"""SFT stage: completion-only fine-tuning on raw samples, from one CPU to many GPUs.

Public API: `SFTRecipe` (hyper-parameters only), `train(recipe, model, data, output_dir) -> Path` (the final
Hugging Face directory), `SFTConfig` (a recipe plus model, data and output folder: the `ssd train` file format)
with `train_config(cfg)`, `ssd.sft.data.build_examples`, and `ssd train --config X.yaml [key=value ...]`
(`ssd.commands.train`). Importing this package does not import torch; training does.
"""
from __future__ import annotations

import os
from pathlib import Path

from ssd.sft.config import CHECKPOINT_PREFIX, FINAL_DIR, LoraSettings, SFTConfig, SFTRecipe

__all__ = ["CHECKPOINT_PREFIX", "FINAL_DIR", "LoraSettings", "SFTConfig", "SFTRecipe", "train", "train_config"]


def train(recipe: SFTRecipe, model: str | os.PathLike, data: str | os.PathLike | list[str],
          output_dir: str | os.PathLike) -> Path:
    """Fine-tune `model` on `data` (sample JSONL files or folders) with `recipe` into `output_dir`."""
    return train_config(SFTConfig.of(recipe, model, data, output_dir))


def train_config(cfg: SFTConfig) -> Path:
    from ssd.sft.run import train_config as run  # noqa: PLC0415 - imports torch

    return run(cfg)
