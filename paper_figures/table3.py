"""Table 3: the SSD decoding settings per model (data synthesis at T_train, student evaluation at T_eval).

Built from the transcribed Table 3 (`data/table3.yaml`). `config_disagreements` lists every setting of
Tables 3 and 4 that an experiment config (`experiments/paper/<config>.yaml`) contradicts or lacks; the tests
require that list to be empty.
Does not: validate the rest of an experiment config (its own loader does).
"""
from __future__ import annotations

from pathlib import Path

import yaml

from paper_figures import style
from paper_figures.sources import Built, Context, paper

TITLE = "Table 3: SSD decoding (generation = data synthesis, evaluation = student)"


def decoding_cells(d: dict) -> list[str]:
    return [style.fmt(d["temperature"]), "none" if d["top_k"] == 0 else str(d["top_k"]),
            style.fmt(d["top_p"], 2)]


CONFIG_SECTIONS = (("table3", "generation", "synthesis_decoding"), ("table3", "evaluation", "ssd_decoding"),
                   ("table4", "evaluation", "base_decoding"))


def config_disagreements(experiments: Path) -> list[str]:
    """One line per Table 3/4 decoding setting that `experiments/paper/<config>.yaml` contradicts or lacks."""
    problems = []
    for table, part, section in CONFIG_SECTIONS:
        for m in paper(table)["models"]:
            path = experiments / "paper" / f"{m['config']}.yaml"
            if not path.exists():
                problems.append(f"{path}: missing (needed for {table} {m['name']})")
                continue
            config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for field, expected in m[part].items():
                got = (config.get(section) or {}).get(field)
                if got is None or abs(float(got) - float(expected)) > 1e-9:
                    problems.append(f"{path}: {section}.{field} = {got!r}, but paper {table} ({m['name']}, "
                                    f"{part}) says {expected!r}")
    return problems


def build(ctx: Context) -> Built:
    t3 = paper("table3")
    header = ["Model", "T_train", "top-k", "top-p", "T_eval", "top-k", "top-p"]
    rows = [[m["name"]] + decoding_cells(m["generation"]) + decoding_cells(m["evaluation"]) for m in t3["models"]]
    notes = [f"Source: paper {t3['source']} (transcribed, {t3['_path']}).", *t3["notes"]]
    return Built(style.write_table(ctx.out, "table3", TITLE, header, rows, notes), [f"paper Table 3 ({t3['_path']})"])
