"""Figure 8: the vLLM v0.11.0 decoding pipeline (temperature -> top-k -> top-p -> Gumbel-max sample).

Top: the four steps with the source lines the paper cites (`data/fig08.yaml`). Bottom: one example
distribution pushed through the steps with `theory.decoding`, the package's decoding oracle, so the
illustration is the exact semantics every backend is tested against.
Does not: reproduce the paper's source-code excerpts.
"""
from __future__ import annotations

import numpy as np

from paper_figures import style
from paper_figures.sources import Built, Context, paper, theory

TITLE = "Figure 8: vLLM v0.11.0 decoding pipeline"
EXAMPLE_PROBS = [0.34, 0.22, 0.14, 0.09, 0.06, 0.05, 0.04, 0.03, 0.02, 0.01]
EXAMPLE = {"temperature": 1.5, "top_k": 6, "top_p": 0.8}


def build(ctx: Context) -> Built:
    decoding = theory("decoding")
    f8 = paper("fig08")
    logits = np.log(EXAMPLE_PROBS)
    t = EXAMPLE["temperature"]
    stages = [("p_0 (model)", decoding.decode_distribution(logits)),
              (f"temperature {t}", decoding.decode_distribution(logits, temperature=t)),
              (f"+ top-k {EXAMPLE['top_k']}", decoding.decode_distribution(logits, temperature=t,
                                                                            top_k=EXAMPLE["top_k"])),
              (f"+ top-p {EXAMPLE['top_p']} = sampled from", decoding.decode_distribution(logits, **EXAMPLE))]
    fig = style.new_figure(12, 5.2)[0]
    fig.clf()
    grid = fig.add_gridspec(2, 4, height_ratios=[1, 1.5])
    flow = fig.add_subplot(grid[0, :])
    flow.axis("off")
    flow.set_xlim(0, 4)
    flow.set_ylim(0, 1)
    for i, step in enumerate(f8["steps"]):
        flow.text(i + 0.5, 0.55, f"{step['name']}\n{step['effect']}\n{step['location']}", ha="center", va="center",
                  fontsize=8.5, bbox={"boxstyle": "round,pad=0.5", "fc": "#EEF3FA", "ec": style.SSD})
        if i < 3:
            flow.annotate("", xy=(i + 1.08, 0.55), xytext=(i + 0.92, 0.55),
                          arrowprops={"arrowstyle": "-|>", "lw": 1.5, "mutation_scale": 14})
    ranks = np.arange(1, len(EXAMPLE_PROBS) + 1)
    for i, (label, probs) in enumerate(stages):
        ax = fig.add_subplot(grid[1, i])
        ax.bar(ranks, probs, color=style.SSD if i == 3 else style.BASE)
        ax.set_title(label, fontsize=9.5)
        ax.set_xticks(ranks)
        ax.set_ylim(0, 0.5)
        ax.set_xlabel("token rank")
        if i == 0:
            ax.set_ylabel("probability")
    footer = (f"Steps and source locations transcribed from Fig. 8 ({f8['_path']}); the example distribution is "
              "illustrative and decoded exactly with theory.decoding (vLLM v0.11 semantics).")
    return Built(style.save_figure(fig, ctx.out, "fig08", footer), [f"paper Fig. 8 ({f8['_path']})", "theory.decoding"])
