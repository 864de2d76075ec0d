"""Figure 11: Qwen3-4B-Thinking T_train x T_eval grid (best pass@1 and pass@5); pass@1 is also Figure 3b.

Paper panels from the transcribed grid (`data/fig11.yaml`); when this package's CPU testbed has written its
truncated grid (`results/cpu/grid_truncated.json`), a second row shows it.
Does not: settle the caption contradiction (with or without truncation); the footer states it.
"""
from __future__ import annotations

from paper_figures.fig10 import draw_grids, our_grid
from paper_figures.sources import Built, Context, paper

TITLE = "Figure 11: T_train x T_eval grid, Qwen3-4B-Thinking"


def build(ctx: Context) -> Built:
    data = paper("fig11")
    grid = our_grid(ctx, "cpu/grid_truncated.json")
    footer = (f"Paper values transcribed from {data['source']} ({data['_path']}). Red box = Table 2/3 setting "
              "(T_train 1.1, T_eval 0.7).\nCaption contradiction: Fig. 11 says 'without truncation', Fig. 3b "
              "'with truncation'; the boxed cell equals Table 2's SSD row, so most likely truncated."
              + (" Bottom row: our CPU run." if grid else ""))
    paths = draw_grids(ctx, "fig11", data, grid, "Qwen3-4B-Thinking", footer, mark_at=(1.1, 0.7))
    sources = [f"paper Fig. 11 ({data['_path']})"] + ([f"our run ({grid['_path']})"] if grid else [])
    return Built(paths, sources)
