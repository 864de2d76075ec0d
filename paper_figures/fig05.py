"""Figure 5: SSD turns forks into plateaus and locks into spikes (schematic, exact under ideal fit).

The paper gives no parameters for this figure. `theory.toy.plateau_spike_example` supplies the
reconstruction (a fork and a lock on 100 tokens with rank^-1.1 tails, the Qwen3-30B-Instruct recipe
T_train 1.6, top-k 20, top-p 0.8) and the exact ideal-fit SSD target; the red line is the retained-support
cutoff. `data/fig05.yaml` holds the numbers the reconstruction states, printed beside ours.
Does not: show a trained model; this is the ideal-fit student of Prop. B.2 at T_eval = 1.
"""
from __future__ import annotations

import numpy as np

from paper_figures import style
from paper_figures.sources import Built, Context, paper, theory

TITLE = "Figure 5: forks become plateaus, locks become spikes (ideal-fit SSD)"


def build(ctx: Context) -> Built:
    toy = theory("toy")
    spec = paper("fig05")
    example = toy.plateau_spike_example()
    fig, axes = style.new_figure(11, 4, 1, 2)
    shown = spec["ranks_shown"]
    ranks = np.arange(1, shown + 1)
    for ax, part, label in zip(axes, ("fork", "lock"), ("(a) fork: tail trimmed, head flattened",
                                                        "(b) lock: tail trimmed, spike sharpened")):
        p0, q, kept = example[part]["teacher"], example[part]["student"], example[part]["kept"]
        ax.bar(ranks, p0[:shown], 0.8, color="none", ec=style.BASE, hatch="///", label="base p_0")
        ax.bar(ranks[:kept], q[:kept], 0.45, color=style.SSD, label="SSD target q_s")
        ax.axvline(kept + 0.5, color="red", ls="--", lw=1.5, label=f"retained-support cutoff (|S| = {kept})")
        ax.set_yscale("log")
        ax.set_ylim(1e-4, 1.5)
        ax.set_xlabel("token rank")
        ax.set_ylabel("probability")
        ratio = "" if kept < 2 else f"\np(1)/p({kept}): {p0[0] / p0[kept - 1]:.1f} → {q[0] / q[kept - 1]:.1f}"
        ax.set_title(f"{label}{ratio}", fontsize=9.5)
        ax.legend(loc="upper right")
    e = spec["expected"]
    footer = ("Schematic: the paper gives no parameters. Contexts and the exact SSD target from "
              "theory.toy.plateau_spike_example (T_train 1.6, top-k 20, top-p 0.8); "
              f"first {shown} of 100 ranks shown.\nThe reconstruction ({spec['_path']}) states: fork keeps "
              f"{e['fork_kept']} tokens, p(1)/p({e['fork_kept']}) {e['fork_head_ratio_base']} → "
              f"{e['fork_head_ratio_ssd']}; lock keeps {e['lock_kept']}.")
    return Built(style.save_figure(fig, ctx.out, "fig05", footer), ["theory.toy.plateau_spike_example"])
