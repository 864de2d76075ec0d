"""Figure 10: Qwen3-30B-Instruct T_train x T_eval grid without truncation (best pass@1 and pass@5).

Paper panels from the transcribed grid (`data/fig10.yaml`); when this package's CPU testbed has written its
no-truncation grid (`results/cpu/grid_no_truncation.json`), a second row shows it on its own colour scale.
Also provides `draw_grids`, which Figure 11 reuses.
Does not: interpolate missing cells or pick checkpoints (the paper's grids already hold the best checkpoint).
"""
from __future__ import annotations

import numpy as np

from paper_figures import style
from paper_figures.sources import Built, Context, DataError, ours, paper, percent, same_length

TITLE = "Figure 10: T_train x T_eval grid, Qwen3-30B-Instruct, no truncation"
GRID_FIELDS = {"t_train": "numbers", "t_eval": "numbers", "pass@1": "rate_grid", "pass@5": "rate_grid"}


def our_grid(ctx: Context, relpath: str) -> dict | None:
    """A CPU grid result, checked: one row of `pass@k` per T_train, one column per T_eval."""
    grid = ours(ctx, relpath, GRID_FIELDS)
    if grid is not None:
        for k in ("pass@1", "pass@5"):
            same_length(grid, ["t_train", k])
            for row in grid[k]:
                if len(row) != len(grid["t_eval"]):
                    raise DataError(f"{grid['_path']}: field '{k}': expected every row to hold "
                                    f"len(t_eval) = {len(grid['t_eval'])} values")
    return grid


def _mark(grid: dict, best_at: tuple[float, float] | None):
    if best_at is None:
        return None
    return grid["t_train"].index(best_at[0]), grid["t_eval"].index(best_at[1])


def draw_grids(ctx: Context, name: str, data: dict, ours_grid: dict | None, model: str, footer: str,
               mark_at: tuple[float, float] | None = None) -> list:
    """Paper pass@1/pass@5 heatmaps, plus this package's grid as a second row when it exists."""
    rows = 2 if ours_grid else 1
    split = f", {ours_grid['split']} split" if ours_grid and "split" in ours_grid else ""
    width = 6.5 if len(data["t_eval"]) <= 10 else 7.5
    fig, axes = style.new_figure(2 * width, 0.45 * len(data["t_train"]) * rows + 2.2 * rows, rows, 2, squeeze=False)
    for col, k in enumerate(("pass@1", "pass@5")):
        image = style.heatmap(axes[0][col], data[k], data["t_eval"], data["t_train"], xlabel="T_eval",
                              ylabel="T_train", title=f"{model} (paper): best {k} (%)", mark=_mark(data, mark_at))
        fig.colorbar(image, ax=axes[0][col], shrink=0.85, label=f"{k} (%) — base {data['baseline'][k]}")
        if ours_grid:
            image = style.heatmap(axes[1][col], percent(ours_grid[k]), ours_grid["t_eval"], ours_grid["t_train"],
                                  xlabel="T_eval", ylabel="T_train",
                                  title=f"CPU testbed (ours{split}): {k} (%)")
            fig.colorbar(image, ax=axes[1][col], shrink=0.85, label=f"{k} (%)")
    return style.save_figure(fig, ctx.out, name, footer)


def build(ctx: Context) -> Built:
    data = paper("fig10")
    grid = our_grid(ctx, "cpu/grid_no_truncation.json")
    best = np.unravel_index(np.argmax(data["pass@1"]), np.shape(data["pass@1"]))
    footer = (f"Paper values transcribed from {data['source']} ({data['_path']}); red box = best pass@1 "
              f"({data['pass@1'][best[0]][best[1]]}). " + ("Bottom row: our CPU run." if grid else ""))
    paths = draw_grids(ctx, "fig10", data, grid, "Qwen3-30B-Instruct", footer,
                       mark_at=(data["t_train"][best[0]], data["t_eval"][best[1]]))
    sources = [f"paper Fig. 10 ({data['_path']})"] + ([f"our run ({grid['_path']})"] if grid else [])
    return Built(paths, sources)
