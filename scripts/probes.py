"""What the recipe probes (probe_base_recipe, probe_control_base) share: their command line and their rows file."""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def parser(doc: str, root: str, out: str) -> argparse.ArgumentParser:
    """--name, --seeds, --root (the probe's stage cache), --out (the JSONL the rows are appended to), overrides."""
    parse = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parse.add_argument("--name", required=True, help="a label for the rows")
    parse.add_argument("--seeds", default="0,1,2", help="comma-separated base seeds")
    parse.add_argument("--root", default=root, help="stage cache for the probe's bases")
    parse.add_argument("--out", default=out)
    parse.add_argument("overrides", nargs="*", help="key=value overrides of the config")
    return parse


def seeds(text: str) -> list[int]:
    return [int(s) for s in text.split(",")]


def append_row(path: str | Path, row: dict) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")
