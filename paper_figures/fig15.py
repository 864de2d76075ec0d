"""Figure 15: the high-temperature stress test (Qwen3-30B-Instruct, T_train 2.0, no truncation).

(b) Best pass@1 and pass@5 over checkpoints for each T_eval: the T_train = 2.0 row of the transcribed
Figure 10 grid. (c) Per-difficulty gains at iteration 2250, T_eval 0.9 (`data/fig15.yaml`).
Does not: show panel (a), the sample text, which is not transcribed.
"""
from __future__ import annotations

import numpy as np

from paper_figures import style
from paper_figures.sources import Built, Context, paper

TITLE = "Figure 15: stress test T_train 2.0 without truncation (Qwen3-30B-Instruct)"


def build(ctx: Context) -> Built:
    f15, f10 = paper("fig15"), paper("fig10")
    row = f10["t_train"].index(f15["t_train"])
    fig, (ax_b, ax_c) = style.new_figure(11, 4, 1, 2)
    for k, color, marker in (("pass@1", style.SSD, "o"), ("pass@5", style.EXTRA[0], "s")):
        ax_b.plot(f10["t_eval"], f10[k][row], marker=marker, color=color, label=f"SSD {k}")
        ax_b.axhline(f10["baseline"][k], color=color, ls=":", lw=1.2, label=f"base {k} {f10['baseline'][k]}")
    peak = f15["peak"]
    ax_b.annotate(f"peak {peak['pass@1']} / {peak['pass@5']}", (peak["t_eval"], peak["pass@5"]),
                  xytext=(1.05, 66), arrowprops={"arrowstyle": "->"}, fontsize=8.5)
    ax_b.set_xlabel("T_eval")
    ax_b.set_ylabel("LCB v6, best over checkpoints (%)")
    ax_b.set_ylim(28, 70)
    ax_b.set_title("(b) T_eval sweep (= Fig. 10 row T_train 2.0)")
    ax_b.legend(loc="lower left", ncol=2, fontsize=7.5)
    gains = f15["per_difficulty_gain"]
    x = np.arange(len(gains["splits"]))
    for offset, k, color in ((-0.2, "pass@1", style.SSD), (0.2, "pass@5", style.EXTRA[0])):
        ax_c.bar(x + offset, gains[k], 0.38, color=color, label=k)
        for xi, v in zip(x, gains[k]):
            ax_c.text(xi + offset, v + 0.3, f"+{v}", ha="center", fontsize=8.5)
    ax_c.set_xticks(x, gains["splits"])
    ax_c.set_ylabel("gain over base (pp)")
    ax_c.set_title(f"(c) by difficulty (iteration {gains['iteration']}, T_eval {gains['t_eval']})")
    ax_c.legend()
    footer = (f"Paper values transcribed from {f15['source']} ({f15['_path']}) and Fig. 10 ({f10['_path']}). "
              "Panel (a), the sample text, is not reproduced. Evaluation at top-k 20, top-p 0.95.")
    return Built(style.save_figure(fig, ctx.out, "fig15", footer), [f"paper Fig. 15 + Fig. 10 row ({f15['_path']})"])
