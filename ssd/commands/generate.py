"""`ssd generate --config X.yaml`: evaluation generations (n samples per problem) for a problem set.

Guarantees: the generation step every experiment uses (`ssd.experiment.steps.generate`): a stage folder under
`out_root` keyed by the model identity, the decoding, the engine and the hash of the rendered prompts, so a
change of prompt template or prompt code is a new folder; a finished folder is reused, an interrupted one
resumes. Prints the folder.
Does not: grade (`ssd grade`) or filter samples.
"""
from __future__ import annotations

import argparse
import dataclasses

from ssd.config import ConfigError, DecodingConfig, load_config
from ssd.data import read_problems
from ssd.experiment.steps import generate


@dataclasses.dataclass(kw_only=True)
class GenerationCommandConfig:
    """What `ssd generate` and `ssd sample` configs share: the model, prompts, decoding, engine, cache folder."""

    model: str  # HF directory or hub id
    prompt_style: str = "paper"  # ssd.prompts.STYLES
    decoding: DecodingConfig = dataclasses.field(default_factory=DecodingConfig)
    limit: int = 0  # 0 = every problem (prompt)
    backend: str = "transformers"
    device: str = ""
    dtype: str = ""
    batch_size: int = 16
    out_root: str = "runs"

    def validate(self) -> None:
        if self.limit < 0:
            raise ConfigError(f"limit: expected an integer >= 0, got {self.limit}")

    def backend_options(self) -> dict[str, object]:
        """`ssd.generation.make_backend` options (unset device and dtype are left out)."""
        return {**{k: v for k, v in (("device", self.device), ("dtype", self.dtype)) if v},
                "batch_size": self.batch_size}


@dataclasses.dataclass(kw_only=True)
class GenerateConfig(GenerationCommandConfig):
    problems: str  # JSONL of Problem records (ssd.data.write_problems)


def main(argv: list[str] | None = None) -> int:
    """`ssd generate --config X.yaml [--set key=value ...]`."""
    parser = argparse.ArgumentParser(prog="ssd generate", description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    cfg = load_config(args.config, GenerateConfig, args.overrides)
    problems = read_problems(cfg.problems)
    if cfg.limit:
        problems = {k: problems[k] for k in list(problems)[:cfg.limit]}
    out_dir = generate(cfg.model, problems, cfg.decoding, prompt_style=cfg.prompt_style, backend=cfg.backend,
                       backend_options=cfg.backend_options(), root=cfg.out_root,
                       progress=not args.no_progress)
    print(out_dir)
    return 0
