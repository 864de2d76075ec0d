"""`ssd` command line: one subcommand per stage, each implemented as `main(argv)` in its own module of
`ssd.commands` (argument parsing only; the work lives in the layers below).

Guarantees: a `ConfigError` or `RecordError` (bad input) prints one line `error: ...` and exits 2,
with no traceback; any other exception propagates. Subcommand modules are imported lazily, so
`ssd --help` needs no torch.
"""
from __future__ import annotations

import importlib
import sys

from ssd.config import ConfigError
from ssd.records import RecordError

SUBCOMMANDS = {
    "grade": ("ssd.commands.grade", "grade samples in a sandbox and write verdicts and pass@k results"),
    "sample": ("ssd.commands.sample", "SSD data synthesis: sample from a frozen model"),
    "generate": ("ssd.commands.generate", "evaluation generations for a problem set"),
    "train": ("ssd.commands.train", "SFT on sample records (torch loop or distributed engine)"),
    "reproduce": ("ssd.commands.reproduce", "the CPU SSD experiment (make reproduce)"),
    "paper": ("ssd.commands.paper", "paper-scale pipeline for one model config (make reproduce-paper)"),
    "smollm": ("ssd.commands.smollm", "SSD on SmolLM2-135M-Instruct with HumanEval (make reproduce-smollm)"),
}


def usage() -> str:
    lines = ["usage: ssd <command> [options]", "", "commands:"]
    lines += [f"  {name:<10} {desc}" for name, (_, desc) in SUBCOMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in SUBCOMMANDS:
        print(f"error: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(SUBCOMMANDS[name][0])
    try:
        return int(module.main(rest) or 0)
    except (ConfigError, RecordError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
