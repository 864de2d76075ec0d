"""Figure 3: (a) pass@1 vs effective temperature T_eff = T_train x T_eval; (b) the Qwen3-4B-Thinking grid.

(a) The paper's no-truncation Qwen3-30B-Instruct runs are taken to be the Figure 10 grid cells
(`data/fig10.yaml`; the paper does not say so, but the fit agrees: R² 0.74 here vs 0.75 printed),
redrawn against T_eff with a quadratic fit computed here (R² and peak printed beside the paper's); the
individual truncated runs are not recoverable, so only the best one (49.7%, `data/fig03.yaml`) is marked.
(b) The Figure 11 pass@1 grid. (c) The theory overlay (`theory.toy.effective_temperature_overlay`): the toy
student's success probability vs T_eff for several T_train, which collapses onto one curve without training
truncation (Remark B.4) and does not with top-p 0.85 (Prop. B.3). When this package's CPU grids exist
(`results/cpu/grid_no_truncation.json`, `results/cpu/grid_truncated.json`), a last panel plots them against T_eff.
Does not: fit the paper's truncated groups (their runs are not published).
"""
from __future__ import annotations

import numpy as np

from paper_figures import style
from paper_figures.fig10 import our_grid
from paper_figures.sources import Built, Context, paper, percent, theory

TITLE = "Figure 3: effective temperature and the T_train x T_eval interaction"
OVERLAY_T_TRAIN = (0.5, 0.7, 1.0, 1.5, 2.0)
OVERLAY_T_EVAL = np.linspace(0.2, 4.0, 200)


def _theory_overlay(ax, toy) -> None:
    for top_p, style_kw in ((1.0, {"lw": 2.2, "alpha": 0.55}), (0.85, {"lw": 1.0, "ls": "--"})):
        overlay = toy.effective_temperature_overlay(OVERLAY_T_TRAIN, OVERLAY_T_EVAL, top_p_train=top_p)
        for i, t_train in enumerate(OVERLAY_T_TRAIN):
            label = f"T_train {t_train}" + (" (solid lines coincide)" if i == 0 else "") if top_p == 1.0 else None
            ax.plot(overlay["t_eff"][i], 100 * overlay["pass"][i], color=f"C{i}", **style_kw, label=label)
    ax.set_xlim(0, 4)
    ax.set_xlabel("T_eff = T_train × T_eval")
    ax.set_ylabel("toy success probability (%)")
    ax.set_title("(c) theory: toy student (solid: no train truncation,\ndashed: train top-p 0.85)", fontsize=9.5)
    ax.legend(fontsize=7)


def t_eff_points(grid: dict, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T_eff, value, T_train) for every cell of a grid."""
    t_train = np.repeat(grid["t_train"], len(grid["t_eval"]))
    t_eff = np.outer(grid["t_train"], grid["t_eval"]).ravel()
    return t_eff, np.asarray(grid[key], dtype=float).ravel(), t_train


def quadratic_fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Coefficients, R² and the argmax of a least-squares quadratic y ~ x."""
    coef = np.polyfit(x, y, 2)
    residual = y - np.polyval(coef, x)
    return coef, 1 - residual.var() / y.var(), -coef[1] / (2 * coef[0])


def build(ctx: Context) -> Built:
    f3, f10, f11 = paper("fig03"), paper("fig10"), paper("fig11")
    grids = {name: our_grid(ctx, f"cpu/grid_{name}.json") for name in ("no_truncation", "truncated")}
    have_ours = any(grids.values())
    toy = theory("toy", optional=True)
    panels = 2 + (toy is not None) + have_ours
    fig, axes = style.new_figure(5.5 * panels, 5, 1, panels,
                                 gridspec_kw={"width_ratios": [1, 1.25] + [1] * (panels - 2)})
    ax = axes[0]
    x, y, t_train = t_eff_points(f10, "pass@1")
    points = ax.scatter(x, y, c=t_train, cmap="Greys", vmin=0, vmax=2.2, ec="black", s=28,
                        label="no truncation (Fig. 10 cells)")
    fig.colorbar(points, ax=ax, label="T_train", shrink=0.8)
    coef, r2, peak = quadratic_fit(x, y)
    grid_x = np.linspace(x.min(), x.max(), 200)
    ax.plot(grid_x, np.polyval(coef, grid_x), color="gray",
            label=f"quadratic fit: R² {r2:.2f}, peak T_eff {peak:.2f}\n"
                  f"(paper: R² {f3['no_truncation_fit']['r2']}, peak ≈ {f3['no_truncation_fit']['peak_t_eff']})")
    best = f3["best_truncated_run"]
    ax.scatter(best["t_train"] * best["t_eval"], best["pass@1"], marker="*", s=220, color=style.EXTRA[0],
               ec="black", zorder=5, label=f"best truncated run (train top-k {best['train_top_k']}): {best['pass@1']}")
    ax.axhline(f3["baseline_p1"], color=style.BASE, ls="--", label=f"base {f3['baseline_p1']}")
    ax.set_xlabel("T_eff = T_train × T_eval")
    ax.set_ylabel("LCB v6 pass@1 (%)")
    ax.set_title("(a) Qwen3-30B-Instruct (paper)")
    ax.legend(loc="lower left", fontsize=7.5)
    image = style.heatmap(axes[1], f11["pass@1"], f11["t_eval"], f11["t_train"], xlabel="T_eval", ylabel="T_train",
                          title="(b) Qwen3-4B-Thinking (paper): best pass@1 (%)", mark=(5, 2))
    fig.colorbar(image, ax=axes[1], shrink=0.8)
    sources = [f"paper Fig. 10 grid + Fig. 3 labels ({f10['_path']}, {f3['_path']})", f"paper Fig. 11 ({f11['_path']})"]
    if toy is not None:
        _theory_overlay(axes[2], toy)
        sources.append("theory.toy.effective_temperature_overlay")
    if have_ours:
        ax = axes[-1]
        for (name, grid), color in zip(grids.items(), (style.OURS, style.EXTRA[0])):
            if grid:
                gx, gy, _ = t_eff_points(grid, "pass@1")
                ax.scatter(gx, percent(list(gy)), color=color, s=22, label=name.replace("_", " "))
                sources.append(f"our run ({grid['_path']})")
        ax.set_xlabel("T_eff = T_train × T_eval")
        ax.set_ylabel("pass@1 (%)")
        ax.set_title("CPU testbed (ours)")
        ax.legend()
    footer = (f"Paper numbers transcribed ({f10['_path']}, {f11['_path']}, {f3['_path']}); the fit is recomputed "
              "here from the Fig. 10 cells. Printed labels in the paper's panel (a): "
              + ", ".join(str(v) for v in f3["printed_labels_p1"]) + f" ({f3['label_note']})."
              + ("" if toy else " Theory overlay skipped: theory/toy.py not available."))
    return Built(style.save_figure(fig, ctx.out, "fig03", footer), sources)
