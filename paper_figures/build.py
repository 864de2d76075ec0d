"""`python -m paper_figures.build figures|tables [name ...]`: rebuild the paper's figures or tables.

Guarantees:
- Every artefact has one script (`paper_figures/figNN.py`, `paper_figures/tableN.py`) exposing `TITLE` and
  `build(ctx) -> Built`; this runs them in paper order and prints one line per artefact: where it was
  written and from which sources, or why it was skipped (its data do not exist yet).
- A bad data or result file stops that artefact with one clear error line (file, field, expectation), leaves
  its previous outputs untouched, and makes the command exit non-zero after the other artefacts are built.
- `paper_figures/out/GALLERY.md` lists every artefact's latest build (or skip), with its sources; building a
  subset updates only those rows.

Does not: run experiments or need a GPU; it only reads transcribed numbers, result JSON files and theory/.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from paper_figures.sources import Context, DataError, Skip

FIGURES = [f"fig{i:02d}" for i in range(1, 16)]
TABLES = [f"table{i}" for i in range(1, 7)]
COMMAND = {"figures": "make figures", "tables": "make tables"}


def run(names: list[str], ctx: Context) -> int:
    """Build the named artefacts; return the number that failed."""
    failed = 0
    gallery = ctx.out / "GALLERY.md"
    entries = _gallery_rows(gallery)
    for name in names:
        module = importlib.import_module(f"paper_figures.{name}")
        start = time.perf_counter()
        try:
            built = module.build(ctx)
        except Skip as why:
            print(f"skip  {name}: {why}")
            entries[name] = f"| {name} | {module.TITLE} | skipped: {why} | |"
            continue
        except DataError as e:
            print(f"ERROR {name}: {e}", file=sys.stderr)
            entries[name] = f"| {name} | {module.TITLE} | error (previous outputs kept): {e} | |"
            failed += 1
            continue
        seconds = time.perf_counter() - start
        files = ", ".join(p.name for p in built.paths)
        print(f"built {name} ({seconds:.1f}s): {files}  <- {'; '.join(built.sources)}")
        shown = next((p.name for p in built.paths if p.suffix in (".png", ".md")), files)
        link = f"![{name}]({shown})" if shown.endswith(".png") else f"[{shown}]({shown})"
        entries[name] = f"| {name} | {module.TITLE} | {'; '.join(built.sources)} | {link} |"
    ctx.out.mkdir(parents=True, exist_ok=True)
    lines = ["# Regenerated tables and figures", ""]
    for section, members in (("figures", FIGURES), ("tables", TABLES)):
        lines += [f"## {section} (rebuilt by `{COMMAND[section]}`)", "", "| artefact | title | sources used | output |",
                  "|---|---|---|---|", *(entries[n] for n in members if n in entries), ""]
    gallery.write_text("\n".join(lines), encoding="utf-8")
    return failed


def _gallery_rows(gallery: Path) -> dict[str, str]:
    """The gallery's existing rows by artefact name, so that building a subset keeps the others."""
    if not gallery.exists():
        return {}
    rows = {}
    for line in gallery.read_text(encoding="utf-8").splitlines():
        name = line.split("|")[1].strip() if line.startswith("| ") else ""
        if name in FIGURES or name in TABLES:
            rows[name] = line
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paper_figures.build", description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["figures", "tables"])
    parser.add_argument("names", nargs="*", help="only these artefacts (e.g. fig02 table2)")
    parser.add_argument("--results", type=Path, default=Context.results, help="folder of run results")
    parser.add_argument("--out", type=Path, default=Context.out, help="output folder")
    args = parser.parse_args(argv)
    every = FIGURES if args.kind == "figures" else TABLES
    unknown = [n for n in args.names if n not in every]
    if unknown:
        parser.error(f"unknown {args.kind}: {', '.join(unknown)} (known: {', '.join(every)})")
    ctx = Context(out=args.out, results=args.results)
    failed = run(args.names or every, ctx)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
