"""Table 5: out-of-domain transfer (AIME, HumanEval, CruxEval, MMLU), base vs +SSD.

Built from the transcribed Table 5 (`data/table5.yaml`), with a Δ row recomputed per model.
Does not: include this package's HumanEval runs (those are reported by their own experiment).
"""
from __future__ import annotations

from paper_figures import style
from paper_figures.sources import Built, Context, paper

TITLE = "Table 5: out-of-domain transfer (%)"


def build(ctx: Context) -> Built:
    t5 = paper("table5")
    rows = []
    for m in t5["models"]:
        rows.append([m["name"]] + [style.fmt(v) for v in m["base"]])
        rows.append(["+SSD"] + [style.fmt(v) for v in m["ssd"]])
        rows.append(["Δ"] + [style.fmt(s - b, signed=True) for b, s in zip(m["base"], m["ssd"])])
    notes = [f"Source: paper {t5['source']} (transcribed, {t5['_path']}); Δ recomputed as SSD − base.", *t5["notes"]]
    return Built(style.write_table(ctx.out, "table5", TITLE, ["Model", *t5["columns"]], rows, notes),
                 [f"paper Table 5 ({t5['_path']})"])
