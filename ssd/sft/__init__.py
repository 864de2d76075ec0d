"""SFT stage: completion-only fine-tuning on raw samples, from one CPU to many GPUs.

Public API: `SFTConfig`, `train(cfg) -> Path` (the final Hugging Face directory),
`ssd.sft.data.build_examples`, and `ssd train --config X.yaml [key=value ...]` (`ssd.sft.cli.main`).
Importing this package does not import torch; `train` does.
"""
from __future__ import annotations

from pathlib import Path

from ssd.sft.config import LoraSettings, SFTConfig

__all__ = ["LoraSettings", "SFTConfig", "train"]


def train(cfg: SFTConfig) -> Path:
    from ssd.sft.run import train as _train  # noqa: PLC0415

    return _train(cfg)
