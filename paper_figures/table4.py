"""Table 4: decoding of the frozen base models (the baseline rows of Table 2).

Built from the transcribed Table 4 (`data/table4.yaml`).
Does not: read the experiment configs (the tests compare them).
"""
from __future__ import annotations

from paper_figures import style
from paper_figures.sources import Built, Context, paper
from paper_figures.table3 import decoding_cells

TITLE = "Table 4: baseline decoding of the frozen base models"


def build(ctx: Context) -> Built:
    t4 = paper("table4")
    rows = [[m["name"]] + decoding_cells(m["evaluation"]) for m in t4["models"]]
    notes = [f"Source: paper {t4['source']} (transcribed, {t4['_path']})."]
    return Built(style.write_table(ctx.out, "table4", TITLE, ["Model", "T", "top-k", "top-p"], rows, notes),
                 [f"paper Table 4 ({t4['_path']})"])
