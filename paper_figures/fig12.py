"""Figure 12: the toy FSM (Appendix C.4): its structure and the lock/fork state archetypes.

(a) The FSM drawn from `theory.toy` (16 tokens; the root branches into two paths, each one fork then
`LOCK_DEPTH` locks, then PASS; every wrong token fails). (b) The top-6 probabilities of each archetype and
its entropy in bits, computed exactly from the reconstructed distributions, beside the paper's entropies.
Does not: draw all 16 edges per state (wrong tokens are summarised by one FAIL edge).
"""
from __future__ import annotations

import numpy as np

from paper_figures import style
from paper_figures.sources import Built, Context, paper, theory

TITLE = "Figure 12: toy FSM structure and state archetypes"


def _node(ax, x, y, text, color):
    ax.text(x, y, text, ha="center", va="center", fontsize=8.5,
            bbox={"boxstyle": "round,pad=0.35", "fc": "white", "ec": color, "lw": 1.5})


def _arrow(ax, start, end, text="", color="black"):
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": color, "lw": 1.1,
                                                     "shrinkA": 14, "shrinkB": 14})
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.09, text, ha="center", fontsize=7.5, color=color)


def draw_fsm(ax, lock_depth: int) -> None:
    ax.axis("off")
    ax.set_xlim(-0.5, lock_depth + 3.6)
    ax.set_ylim(-1.6, 1.6)
    _node(ax, 0, 0, "root", "black")
    for y, path, token in ((0.8, "A", "tok0"), (-0.8, "B", "tok1")):
        _arrow(ax, (0, 0), (1, y), token)
        _node(ax, 1, y, f"fork {path}", style.EXTRA[0])
        for i in range(lock_depth):
            _node(ax, 2 + i, y, f"lock {i + 1}", style.SSD)
            _arrow(ax, (1 + i, y), (2 + i, y), "tok0")
        _node(ax, lock_depth + 2.2, y, "PASS", style.EXTRA[0])
        _arrow(ax, (lock_depth + 1, y), (lock_depth + 2.2, y), "tok0")
    _node(ax, 1.5, 0, "FAIL", style.EXTRA[2])
    _arrow(ax, (0, 0), (1.5, 0), "tok2, …", style.EXTRA[2])
    ax.text(lock_depth / 2 + 1.5, -1.45, "every wrong token at a fork or lock → FAIL", ha="center", fontsize=8,
            color=style.EXTRA[2])


def build(ctx: Context) -> Built:
    toy = theory("toy")
    c4 = paper("toy_c4")
    fig, (ax_a, ax_b) = style.new_figure(12, 4, 1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    draw_fsm(ax_a, toy.LOCK_DEPTH)
    ax_a.set_title(f"(a) FSM, {toy.VOCAB}-token vocabulary")
    bars = toy.archetype_bars()
    x = np.arange(6)
    for offset, name, color in ((-0.2, "lock", style.SSD), (0.2, "fork", style.EXTRA[0])):
        probs = 100 * bars[name]["probs"]
        ax_b.bar(x + offset, probs, 0.38, color=color,
                 label=f"{name}: H = {bars[name]['entropy_bits']:.2f} bits (paper {c4['entropy_bits'][name]})")
        for xi, v in zip(x, probs):
            ax_b.text(xi + offset, v + 1, f"{v:.1f}", ha="center", fontsize=7.5)
    ax_b.set_xticks(x, [f"tok{i}" for i in x])
    ax_b.set_ylabel("probability (%)")
    ax_b.set_ylim(0, 85)
    ax_b.set_title("(b) archetypes: top-6 tokens (tok0 = correct)")
    ax_b.legend()
    footer = (f"Computed exactly with theory.toy (Table 6 heads + reconstructed geometric tails); paper entropies "
              f"transcribed from Fig. 12b ({c4['_path']}).")
    return Built(style.save_figure(fig, ctx.out, "fig12", footer), ["theory.toy", f"paper Fig. 12b ({c4['_path']})"])
