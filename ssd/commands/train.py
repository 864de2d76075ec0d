"""`ssd train --config X.yaml [key=value ...]`: build an `SFTConfig` strictly and train.

Guarantees: unknown keys, wrong types and impossible values stop with one `ConfigError` before any work;
the final checkpoint path is printed on stdout (by the main process). Under `accelerate launch` or
`torchrun` every process runs this same command with `engine=distributed`.

Does not: launch processes itself (the launcher does; see experiments/sft/README.md).
"""
from __future__ import annotations

import argparse
import os

from ssd.config import load_config
from ssd.sft import SFTConfig, train_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ssd train", description="SFT on sample records")
    parser.add_argument("--config", required=True, help="YAML file of SFTConfig fields")
    parser.add_argument("overrides", nargs="*", help="key=value overrides, e.g. max_steps=10 lora.r=8")
    args = parser.parse_args(argv)
    cfg = load_config(args.config, SFTConfig, args.overrides)
    final = train_config(cfg)
    if int(os.environ.get("RANK", "0")) == 0:
        print(final)
    return 0

