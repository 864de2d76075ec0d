"""Figure 5: SSD turns forks into plateaus and locks into spikes (schematic, exact under ideal fit).

The two contexts are the reconstruction in `data/fig05.yaml` (the paper gives no parameters): a fork and a
lock on 100 tokens whose tails fall off as rank^-1.1. The SSD target q_s = Temper^{S_s}_{T_train}[p_0] and its
retained support S_s come from `theory.ssd` with the Qwen3-30B-Instruct recipe (T_train 1.6, top-k 20,
top-p 0.8); the red line is the retained-support cutoff.
Does not: show a trained model; this is the ideal-fit student of Prop. B.2 at T_eval = 1.
"""
from __future__ import annotations

import numpy as np

from paper_figures import style
from paper_figures.sources import Built, Context, paper, theory

TITLE = "Figure 5: forks become plateaus, locks become spikes (ideal-fit SSD)"


def zipf_context(head: list[float], tail_mass: float, size: int, exponent: float) -> np.ndarray:
    """Probabilities: the given head, then ranks len(head)+1..size with weight rank^-exponent summing to tail_mass."""
    ranks = np.arange(len(head) + 1, size + 1, dtype=float)
    tail = ranks ** -exponent
    return np.concatenate([head, tail_mass * tail / tail.sum()])


def build(ctx: Context) -> Built:
    ssd = theory("ssd")
    spec = paper("fig05")
    recipe = ssd.SSDRecipe(**spec["recipe"])
    fig, axes = style.new_figure(11, 4, 1, 2)
    shown = spec["ranks_shown"]
    for ax, part, label in zip(axes, ("fork", "lock"), ("(a) fork: tail trimmed, head flattened",
                                                        "(b) lock: tail trimmed, spike sharpened")):
        p0 = zipf_context(spec[part]["head"], spec[part]["tail_mass"], spec["vocabulary_size"], spec["zipf_exponent"])
        logp0 = np.log(p0)
        q = np.exp(ssd.ssd_target(logp0, recipe))
        kept = int(ssd.retained_support(logp0, recipe).sum())
        ranks = np.arange(1, shown + 1)
        ax.bar(ranks, p0[:shown], 0.8, color="none", ec=style.BASE, hatch="///", label="base p_0")
        ax.bar(ranks[:kept], q[:kept], 0.45, color=style.SSD, label="SSD target q_s")
        ax.axvline(kept + 0.5, color="red", ls="--", lw=1.5, label=f"retained support cutoff (|S| = {kept})")
        ax.set_yscale("log")
        ax.set_ylim(1e-4, 1.2)
        ax.set_xlabel("token rank")
        ax.set_ylabel("probability")
        ratio = "" if kept < 2 else f"; p(1)/p({kept}): {p0[0] / p0[kept - 1]:.1f} → {q[0] / q[kept - 1]:.1f}"
        ax.set_title(f"{label}{ratio}", fontsize=9.5)
        ax.legend(loc="upper right")
    footer = (f"Schematic: the paper gives no parameters. Contexts from {spec['_path']}; SSD target computed exactly "
              f"with theory.ssd (T_train {recipe.t_train}, top-k {recipe.top_k}, top-p {recipe.top_p}). "
              f"First {shown} of {spec['vocabulary_size']} ranks shown.")
    return Built(style.save_figure(fig, ctx.out, "fig05", footer), [f"theory.ssd + {spec['_path']}"])
