"""Figure 9: the full Qwen3-30B-Instruct sweep, pass@1 and pass@5 vs T_eff for three truncation groups.

The paper's individual runs are not recoverable: the top row draws only the per-group values printed in the
figure and the baselines (`data/fig09.yaml`). When this package's CPU grids exist
(`results/cpu/grid_no_truncation.json`, `results/cpu/grid_truncated.json`), the bottom row draws every run
against T_eff with a quadratic fit per group, which is what the paper's figure shows at its scale.
Does not: guess the paper's runs.
"""
from __future__ import annotations

import numpy as np

from paper_figures import style
from paper_figures.fig03 import quadratic_fit, t_eff_points
from paper_figures.fig10 import our_grid
from paper_figures.sources import Built, Context, paper, percent

TITLE = "Figure 9: Qwen3-30B-Instruct sweep vs T_eff, by truncation group"
METRICS = ("pass@1", "pass@5")


def build(ctx: Context) -> Built:
    f9 = paper("fig09")
    grids = {name: our_grid(ctx, f"cpu/grid_{name}.json") for name in ("no_truncation", "truncated")}
    have_ours = any(grids.values())
    fig, axes = style.new_figure(10, 3.8 * (2 if have_ours else 1), 2 if have_ours else 1, 2, squeeze=False)
    colors = (style.BASE, style.EXTRA[0], style.EXTRA[1])
    for ax, k in zip(axes[0], METRICS):
        values = f9["printed_labels"][k]
        for i, (v, color) in enumerate(zip(values, colors)):
            ax.plot(i, v, "o", ms=11, color=color, mec="black")
            ax.text(i, v + 0.8, f"{v}", ha="center")
        ax.axhline(f9["baseline"][k], color="black", ls="--", lw=1, label=f"base {f9['baseline'][k]}")
        ax.set_xticks(range(len(values)), f9["groups"])
        ax.set_xlim(-0.6, len(values) - 0.4)
        ax.set_ylim(f9["baseline"][k] - 10, max(values) + 5)
        ax.set_ylabel(f"LCB v6 {k} (%)")
        ax.set_title(f"paper: {k} value printed per group")
        ax.legend(loc="upper right")
    sources = [f"paper Fig. 9 printed labels ({f9['_path']})"]
    if have_ours:
        for ax, k in zip(axes[1], METRICS):
            for (name, grid), color in zip(grids.items(), (style.OURS, style.EXTRA[0])):
                if not grid:
                    continue
                x, y, _ = t_eff_points(grid, k)
                y = np.asarray(percent(list(y)))
                ax.scatter(x, y, color=color, s=18, label=name.replace("_", " "))
                if len(x) >= 3:
                    coef, r2, _ = quadratic_fit(x, y)
                    xs = np.linspace(x.min(), x.max(), 100)
                    ax.plot(xs, np.polyval(coef, xs), color=color, lw=1, label=f"fit R² {r2:.2f}")
            ax.set_xlabel("T_eff = T_train × T_eval")
            ax.set_ylabel(f"{k} (%)")
            ax.set_title(f"CPU testbed (ours): {k}")
            ax.legend(fontsize=7.5)
        sources += [f"our run ({g['_path']})" for g in grids.values() if g]
    footer = (f"Paper labels transcribed from {f9['source']} ({f9['_path']}); the individual runs are not recoverable. "
              f"Group order of the labels: {f9['label_note']}. These sweep runs are shorter than the main runs.")
    return Built(style.save_figure(fig, ctx.out, "fig09", footer), sources)
