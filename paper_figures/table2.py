"""Table 2: LiveCodeBench v6/v5 pass@1 and pass@5 of each base model and its SSD student.

Built from the transcribed Table 2 (`data/table2.yaml`); the Δ rows are recomputed from the base and SSD
rows (the transcribed Δs are checked against them by the tests). When this package has run results
(`results/*/summary.json`), a second table puts them beside the paper's rows.
Does not: re-grade anything or recompute pass@k; it prints reported or already-computed numbers.
"""
from __future__ import annotations

from paper_figures import style
from ssd.metrics import format_interval
from paper_figures.sources import Built, Context, paper, run_summaries

TITLE = "Table 2: LiveCodeBench pass@k (%), base vs +SSD"


def _cell(summary: dict, arm: str, k: str) -> str:
    return format_interval(summary[arm][k])


def build(ctx: Context) -> Built:
    t2 = paper("table2")
    header = ["Model", "v6 p@1 ALL", "E", "M", "H", "v6 p@5 ALL", "E", "M", "H",
              "v5 p@1 ALL", "E", "M", "H", "v5 p@5 ALL", "E", "M", "H"]
    rows = []
    for m in t2["models"]:
        star = "*" if m.get("later_revision_only") else ""
        rows.append([m["name"] + star] + [style.fmt(v) for v in m["base"]])
        rows.append(["+SSD" + star] + [style.fmt(v) for v in m["ssd"]])
        rows.append(["Δ" + star] + [style.fmt(s - b, signed=True) for b, s in zip(m["base"], m["ssd"])])
    notes = [f"Source: paper {t2['source']} (transcribed, {t2['_path']}); Δ recomputed as SSD − base.",
             "* later revision only.",
             *(f"Paper inconsistency ({i['model']}, {i['column']}): {i['note']}." for i in t2["inconsistencies"])]
    paths = style.write_table(ctx.out, "table2", TITLE, header, rows, notes)
    sources = [f"paper Table 2 ({t2['_path']})"]
    runs = run_summaries(ctx)
    if runs:
        header_ours = ["Run (this package)", "Benchmark", "Problems", "base p@1", "SSD p@1", "Δ p@1",
                       "base p@5", "SSD p@5", "Δ p@5"]
        rows_ours = []
        for s in runs:
            for split, arms in [("all", s), *s["by_difficulty"].items()]:
                deltas = [100 * (arms["ssd"][k]["value"] - arms["base"][k]["value"]) for k in ("pass@1", "pass@5")]
                rows_ours.append([s["run"], s["benchmark"], split, _cell(arms, "base", "pass@1"),
                                  _cell(arms, "ssd", "pass@1"), style.fmt(deltas[0], signed=True),
                                  _cell(arms, "base", "pass@5"), _cell(arms, "ssd", "pass@5"),
                                  style.fmt(deltas[1], signed=True)])
        paths += style.write_table(ctx.out, "table2_ours", "Table 2 (this package's runs): pass@k (%) [95% CI]",
                                   header_ours, rows_ours,
                                   ["Values from " + ", ".join(sorted({s["path"] for s in runs})) + "."])
        sources.append("our runs (" + ", ".join(sorted({s["path"] for s in runs})) + ")")
    return Built(paths, sources)
