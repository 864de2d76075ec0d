"""Table 3: the SSD decoding settings per model (data synthesis at T_train, student evaluation at T_eval).

Built from the transcribed Table 3 (`data/table3.yaml`). The tests check these settings against the
paper-scale experiment configs under `experiments/`.
Does not: read or validate the experiment configs itself.
"""
from __future__ import annotations

from paper_figures import style
from paper_figures.sources import Built, Context, paper

TITLE = "Table 3: SSD decoding (generation = data synthesis, evaluation = student)"


def decoding_cells(d: dict) -> list[str]:
    return [style.fmt(d["temperature"]), "none" if d["top_k"] == 0 else str(d["top_k"]),
            style.fmt(d["top_p"], 2)]


def build(ctx: Context) -> Built:
    t3 = paper("table3")
    header = ["Model", "T_train", "top-k", "top-p", "T_eval", "top-k", "top-p"]
    rows = [[m["name"]] + decoding_cells(m["generation"]) + decoding_cells(m["evaluation"]) for m in t3["models"]]
    notes = [f"Source: paper {t3['source']} (transcribed, {t3['_path']}).", *t3["notes"]]
    return Built(style.write_table(ctx.out, "table3", TITLE, header, rows, notes), [f"paper Table 3 ({t3['_path']})"])
