"""Figure 13: how SSD reshapes the toy FSM's states (Appendix C.4), computed exactly by `theory.toy`.

(a) The lock before (teacher) and after SSD (ideal-fit student, T_train 0.9, top-p 0.85). (b) The fork's
evaluation nucleus (top-p 0.80) at each model's best temperature: a peaked teacher vs a plateau student.
The paper's printed values (`data/toy_c4.yaml`) are shown in the titles beside ours.
Does not: round to the paper's printed digits; the footer lists the paper's own inconsistencies.
"""
from __future__ import annotations

import numpy as np

from paper_figures import style
from paper_figures.sources import Built, Context, paper, theory

TITLE = "Figure 13: toy reshaping — lock spike and fork plateau"


def build(ctx: Context) -> Built:
    toy = theory("toy")
    c4 = paper("toy_c4")
    fig, (ax_a, ax_b) = style.new_figure(11, 4, 1, 2)
    lock = toy.lock_reshaping()
    tokens = np.arange(toy.VOCAB)
    ax_a.bar(tokens - 0.2, 100 * lock["teacher"], 0.4, color="none", ec=style.BASE, hatch="///", label="teacher")
    ax_a.bar(tokens + 0.2, 100 * lock["student"], 0.4, color=style.SSD, label="SSD student")
    for i in (0, 1):
        ax_a.text(i + 0.2, 100 * lock["student"][i] + 2, f"{100 * lock['student'][i]:.1f}", ha="center", fontsize=8.5)
    ax_a.set_xticks(tokens)
    ax_a.set_xlabel("token (tok0 = correct)")
    ax_a.set_ylabel("probability (%)")
    ax_a.set_title(f"(a) lock (paper: student {c4['student_lock'][0] * 100:.1f} / {c4['student_lock'][1] * 100:.1f})")
    ax_a.legend()
    rows = []
    for model, color, offset in (("teacher", style.BASE, -0.2), ("student", style.SSD, 0.2)):
        t_best, p_best = toy.best_temperature(model)
        kept = 100 * toy.nucleus(model, "fork", t_best)
        ax_b.bar(np.arange(len(kept)) + offset, kept, 0.4, color=color, label=f"{model} at T* = {t_best:.3f}")
        for i, v in enumerate(kept):
            ax_b.text(i + offset, v + 1, f"{v:.1f}", ha="center", fontsize=8)
        rows.append(f"{model} P* = {100 * p_best:.2f}%")
    ax_b.set_xticks(range(4), ["rank 1", "rank 2", "rank 3", "rank 4"])
    ax_b.set_ylabel("kept probability after top-p 0.80 (%)")
    ax_b.set_ylim(0, 60)
    ax_b.set_title("(b) fork nucleus at each optimum: " + ", ".join(rows), fontsize=9)
    ax_b.legend()
    f = c4["fork_at_optimum"]
    footer = (f"Computed exactly with theory.toy. Paper (transcribed, {c4['_path']}): teacher fork {f['teacher']} "
              f"(text: {f['teacher_text']}), student {f['student']}; optima {c4['teacher_best']['t']} / "
              f"{c4['student_best']['t']} in the text vs 0.63 / 2.09 in Fig. 14.")
    return Built(style.save_figure(fig, ctx.out, "fig13", footer), ["theory.toy", f"paper C.4 numbers ({c4['_path']})"])
