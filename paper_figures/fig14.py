"""Figure 14: the toy temperature sweep as butterfly charts, and the success curve P(T), via `theory.toy`.

Top rows: at a low, medium and high evaluation temperature (T = 0.5, 1.0, 2.09), the fork and the lock
distributions of the teacher (up) and the SSD student (down), tokens in teacher order; hatched = mass pruned
by top-p 0.80, solid = what is sampled from. Each column's title gives P for both models beside the paper's
readout. Bottom: P(T) on a fine grid with each model's optimum.
Does not: show the root state (its kept set never changes the comparison; its numbers are in Figure 13).
"""
from __future__ import annotations

import numpy as np

from paper_figures import style
from paper_figures.sources import Built, Context, paper, theory

TITLE = "Figure 14: toy temperature sweep — butterfly charts and P(T)"
MODEL_COLOR = {"teacher": style.BASE, "student": style.SSD}


def build(ctx: Context) -> Built:
    toy = theory("toy")
    decoding = theory("decoding")
    c4 = paper("toy_c4")
    temps = c4["butterfly_t"]
    fig = style.new_figure(13, 9.5)[0]
    fig.clf()
    grid = fig.add_gridspec(3, len(temps), height_ratios=[1, 1, 1.1])
    logp = {m: toy.states(m) for m in toy.MODELS}
    sampled = {m: toy.evaluation_policy(m, temps) for m in toy.MODELS}
    passes = {m: toy.pass_curve(m, temps) for m in toy.MODELS}
    tokens = np.arange(toy.VOCAB)
    for col, t in enumerate(temps):
        for row, state in enumerate(("fork", "lock")):
            ax = fig.add_subplot(grid[row, col])
            order = np.argsort(-logp["teacher"][state], kind="stable")
            for model, sign in (("teacher", 1), ("student", -1)):
                tempered = decoding.decode_distribution(logp[model][state] / t)[order]
                kept = sampled[model][state][col][order]
                color = MODEL_COLOR[model]
                pruned = np.where(kept > 0, 0.0, tempered)
                ax.bar(tokens, sign * 100 * pruned, 0.8, color="none", ec=color, hatch="///", lw=0.6)
                ax.bar(tokens, sign * 100 * kept, 0.8, color=color, label=model if row == col == 0 else None)
            ax.axhline(0, color="black", lw=0.6)
            ax.set_ylim(-100, 100)
            ax.set_yticks([-100, -50, 0, 50, 100], ["100", "50", "0", "50", "100"])
            ax.set_xticks(tokens[::3])
            if col == 0:
                ax.set_ylabel(f"{state}: prob. (%)\n↑ teacher  ↓ student", fontsize=8.5)
            if row == 0:
                paper_t, paper_s = c4["butterfly_pass"]["teacher"][col], c4["butterfly_pass"]["student"][col]
                ax.set_title(f"T = {t}: P teacher {100 * passes['teacher'][col]:.1f}% / student "
                             f"{100 * passes['student'][col]:.1f}%\n(paper {paper_t} / {paper_s})", fontsize=9.5)
            else:
                ax.set_xlabel("token (teacher order)")
    fig.axes[0].legend(loc="upper right", fontsize=7.5)
    ax = fig.add_subplot(grid[2, :])
    sweep = toy.temperature_grid(0.2, 3.5, 0.005)
    for model in toy.MODELS:
        t_best, p_best = toy.best_temperature(model)
        ax.plot(sweep, 100 * toy.pass_curve(model, sweep), color=MODEL_COLOR[model],
                label=f"{model}: best {100 * p_best:.2f}% at T = {t_best:.3f}")
        ax.plot(t_best, 100 * p_best, "o", color=MODEL_COLOR[model], mec="black")
    ax.set_xlabel("evaluation temperature T (top-p 0.80)")
    ax.set_ylabel("success probability P (%)")
    ax.legend(loc="upper right")
    ax.set_title(f"P(T); paper: teacher {100 * c4['teacher_best']['pass']:.2f}% at {c4['teacher_best']['t']}, "
                 f"student {100 * c4['student_best']['pass']:.2f}% at {c4['student_best']['t']}", fontsize=9.5)
    footer = (f"Computed exactly with theory.toy and theory.decoding; paper readouts transcribed from Fig. 14 and "
              f"C.4 ({c4['_path']}). Hatched = pruned by top-p 0.80. The paper's caption calls this the 'V19 toy'.")
    return Built(style.save_figure(fig, ctx.out, "fig14", footer), ["theory.toy", f"paper Fig. 14 ({c4['_path']})"])
