"""Figure 1: the SSD pipeline and the LiveCodeBench v6 pass@1 gains of Qwen3-4B/30B-Instruct.

Left: the three-step pipeline (from `data/fig01.yaml`). Right: base (hatched) vs +SSD (solid) pass@1 on the
overall/medium/hard splits, drawn from the transcribed Table 2 (the figure's printed gains are checked against
Table 2 by the tests). When this package's CPU testbed has a summary (`results/cpu/summary.json`), its
overall pass@1 is drawn as a third group, beside the paper's.
Does not: draw the paper's artwork; the pipeline panel is a plain schematic.
"""
from __future__ import annotations

from paper_figures import style
from paper_figures.sources import Built, Context, model_rows, paper, percent, run_summaries

TITLE = "Figure 1: SSD pipeline and headline LiveCodeBench v6 gains"
SPLITS = {"all": 0, "medium": 2, "hard": 3}


def _pipeline(ax, steps: list[str], labels: list[str]) -> None:
    ax.axis("off")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    for i, step in enumerate(steps):
        y = 0.82 - 0.28 * i
        ax.text(0.5, y, step.replace(" (", "\n("), ha="center", va="center", fontsize=9.5,
                bbox={"boxstyle": "round,pad=0.5", "fc": "#EEF3FA", "ec": style.SSD})
        if i < len(steps) - 1:
            ax.annotate("", xy=(0.5, y - 0.19), xytext=(0.5, y - 0.09),
                        arrowprops={"arrowstyle": "-|>", "lw": 1.5, "mutation_scale": 16})
    ax.text(0.5, 0.04, " · ".join(labels), ha="center", fontsize=8.5, color=style.BASE, weight="bold")


def build(ctx: Context) -> Built:
    f1, t2 = paper("fig01"), paper("table2")
    rows = model_rows(t2)
    cpu = next((s for s in run_summaries(ctx) if s["run"] == "cpu"), None)
    fig, (left, right) = style.new_figure(10, 4.2, 1, 2, gridspec_kw={"width_ratios": [1, 2.2]})
    _pipeline(left, f1["pipeline"], f1["pipeline_labels"])
    groups = [(rows[k]["name"], [rows[k]["base"][i] for i in SPLITS.values()],
               [rows[k]["ssd"][i] for i in SPLITS.values()], list(SPLITS))
              for k in ("qwen3-4b-instruct", "qwen3-30b-instruct")]
    if cpu:
        splits = ["all"] + [d for d in ("medium", "hard") if d in cpu["by_difficulty"]]
        arms = [cpu] + [cpu["by_difficulty"][d] for d in splits[1:]]
        groups.append(("CPU testbed (ours)", [percent(a["base"]["pass@1"]["value"]) for a in arms],
                       [percent(a["ssd"]["pass@1"]["value"]) for a in arms], splits))
    x = 0.0
    ticks, tick_labels = [], []
    for name, base, ssd, splits in groups:
        right.text(x + 0.2 + (len(splits) - 1) / 2, -11, name, ha="center", va="top", fontsize=9, weight="bold")
        for j, split in enumerate(splits):
            right.bar(x, base[j], 0.38, color="white", ec=style.BASE, hatch="///", label="base" if x == 0 else None)
            right.bar(x + 0.4, ssd[j], 0.38, color=style.SSD, label="+SSD" if x == 0 else None)
            right.text(x + 0.4, ssd[j] + 1, f"{ssd[j] - base[j]:+.1f}", ha="center", fontsize=8.5)
            ticks.append(x + 0.2)
            tick_labels.append(split)
            x += 1.0
        x += 0.5
    right.set_xticks(ticks, tick_labels, fontsize=9)
    right.set_ylabel("pass@1 (%): LCB v6; ours: CPU benchmark" if cpu else "LCB v6 pass@1 (%)")
    right.set_ylim(0, 75)
    right.legend(loc="upper left")
    footer_gain = ", ".join(f"{rows[k]['name']} {v:+.1f}" for k, v in f1["footer_gain"].items())
    right.set_title("pass@1, base vs +SSD (labels: gain in pp)")
    footer = (f"Paper bars transcribed from Table 2 ({t2['_path']}); pipeline and footer from Fig. 1 "
              f"({f1['_path']}).\nFooter gains (v6 pass@1): {footer_gain}."
              + (" Right group: our CPU run (not LiveCodeBench)." if cpu else ""))
    paths = style.save_figure(fig, ctx.out, "fig01", footer)
    sources = [f"paper Table 2 + Fig. 1 ({t2['_path']}, {f1['_path']})"]
    if cpu:
        sources.append(f"our run ({cpu['path']}, {cpu['benchmark']})")
    return Built(paths, sources)
