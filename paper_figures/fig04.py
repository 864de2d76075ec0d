"""Figure 4: forks and locks, and why one evaluation temperature cannot serve both (schematic).

Left: the paper's example of a fork (the algorithm choice in a sorting function) and locks (later uses of
`mid`), as annotated text. Right: the toy FSM's lock and fork (`theory.toy`) tempered at a low and a high
T_eval: low T keeps the lock precise but collapses the fork; high T explores the fork but revives the lock's
distractor tail. Head/tail masses and entropies come from `theory.toy.conflict_panel`.
Does not: reproduce the paper's artwork or its exact code listing.
"""
from __future__ import annotations

import numpy as np

from paper_figures import style
from paper_figures.sources import Built, Context, theory

TITLE = "Figure 4: forks vs locks under one global temperature (schematic)"
TAUS = (0.5, 1.5)
CODE = [("def solve(arr):", None),
        ("    # FORK: which algorithm?", "fork"),
        ("    #   merge sort | quick sort pivot |", "fork"),
        ("    #   insertion sort | arr.sort()", "fork"),
        ("    mid = len(arr) // 2", None),
        ("    left = solve(arr[:mid])   # LOCK", "lock"),
        ("    right = solve(arr[mid:])  # LOCK", "lock"),
        ("    return merge(left, right)", None)]


def build(ctx: Context) -> Built:
    toy = theory("toy")
    distributions = theory("distributions")
    panel = toy.conflict_panel(TAUS)
    teacher = toy.teacher_states()
    fig = style.new_figure(12, 4.6)[0]
    fig.clf()
    grid = fig.add_gridspec(2, 3, width_ratios=[1.25, 1, 1])
    code = fig.add_subplot(grid[:, 0])
    code.axis("off")
    colors = {"fork": style.EXTRA[0], "lock": style.SSD, None: "black"}
    for i, (line, kind) in enumerate(CODE):
        code.text(0.0, 0.92 - 0.11 * i, line, family="monospace", fontsize=8.5, color=colors[kind],
                  transform=code.transAxes)
    code.set_title("fork = several valid continuations;\nlock = one valid continuation", fontsize=9.5)
    for col, tau in enumerate(TAUS):
        stats = panel[tau]
        for row, state in enumerate(("lock", "fork")):
            ax = fig.add_subplot(grid[row, col + 1])
            probs = np.sort(np.exp(distributions.temper(teacher[state], tau)))[::-1]
            head = 1 if state == "lock" else 5
            ax.bar(np.arange(1, head + 1), 100 * probs[:head], color=colors[state], label="head")
            ax.bar(np.arange(head + 1, len(probs) + 1), 100 * probs[head:], color=style.EXTRA[2], label="tail")
            ax.set_ylim(0, 100)
            ax.set_xticks([1, 4, 8, 12, 16])
            if state == "lock":
                note = f"top-1 {100 * stats['lock_top1']:.1f}%, tail {100 * stats['lock_tail']:.1f}%"
                verdict = "precise" if tau < 1 else "low precision"
            else:
                note = f"top-5 {100 * stats['fork_top5']:.1f}%, H {stats['fork_entropy_bits']:.2f} bits"
                verdict = "low exploration" if tau < 1 else "explores"
            ax.set_title(f"{state}, T_eval {tau}: {verdict}\n{note}", fontsize=9)
            if col == 0:
                ax.set_ylabel("probability (%)")
            if row == 1:
                ax.set_xlabel("token rank")
    fig.axes[1].legend(loc="upper right", fontsize=7.5)
    footer = ("Schematic. Right panels computed exactly with theory.toy (toy lock and fork tempered at T_eval, no "
              "truncation); the code on the left paraphrases the paper's example.")
    return Built(style.save_figure(fig, ctx.out, "fig04", footer), ["theory.toy.conflict_panel"])
