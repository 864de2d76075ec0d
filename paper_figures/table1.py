"""Table 1: comparison of training paradigms (dense signal, teacher, verifier, privileged information).

Built from `data/table1.yaml`. The paper prints this table as an image: only the SSD row is confirmed;
the other rows are a plausible reading and are marked as unconfirmed in the output.
Does not: claim the unconfirmed cells are the paper's.
"""
from __future__ import annotations

from paper_figures import style
from paper_figures.sources import Built, Context, paper

TITLE = "Table 1: comparison of training paradigms"


def build(ctx: Context) -> Built:
    t1 = paper("table1")
    rows = [[r["paradigm"]] + [("✓" if mark else "✗") + ("" if r["confirmed"] else " (?)") for mark in r["marks"]]
            for r in t1["rows"]]
    notes = [f"Source: paper {t1['source']} ({t1['_path']}).", *t1["notes"], "(?) = unconfirmed reading."]
    return Built(style.write_table(ctx.out, "table1", TITLE, ["Paradigm", *t1["columns"]], rows, notes),
                 [f"paper Table 1 ({t1['_path']}), partly unconfirmed"])
