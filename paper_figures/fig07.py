"""Figure 7: "bad data, good results" — SSD on T_train 2.0 samples without truncation still helps.

(a) What the training samples were (shares of samples with and without extractable code) and (b) base vs
SSD pass@1/pass@5, both transcribed (`data/fig07.yaml`). When this package's stress test exists
(`results/cpu/fig7_stress.json`), its no-code share and pass@k are drawn beside the paper's.
Does not: reproduce the paper's gibberish sample text.
"""
from __future__ import annotations

from paper_figures import style
from paper_figures.sources import Built, Context, ours, paper, percent

TITLE = "Figure 7: bad data, good results (T_train 2.0, no truncation)"
STRESS_FIELDS = {"no_code_rate": "rate", "base/pass@1": "rate", "base/pass@5": "rate", "ssd/pass@1": "rate",
                 "ssd/pass@5": "rate"}


def build(ctx: Context) -> Built:
    f7 = paper("fig07")
    run = ours(ctx, "cpu/fig7_stress.json", STRESS_FIELDS)
    fig, (ax_a, ax_b) = style.new_figure(10, 4, 1, 2)
    shares = [("paper (Qwen3-30B-I)", f7["samples_no_code_percent"], f7["samples_cot_then_code_percent"])]
    if run:
        no_code = percent(run["no_code_rate"])
        shares.append(("CPU testbed (ours)", no_code, 100 - no_code))
    for i, (name, no_code, with_code) in enumerate(shares):
        ax_a.barh(i, no_code, 0.5, color=style.EXTRA[2], label="no extractable code" if i == 0 else None)
        ax_a.barh(i, with_code, 0.5, left=no_code, color=style.EXTRA[0], label="code block found" if i == 0 else None)
        ax_a.barh(i, 100 - no_code - with_code, 0.5, left=no_code + with_code, color=style.EXTRA[1],
                  label="not described" if i == 0 else None)
        ax_a.text(no_code / 2, i, f"{no_code:.0f}%", ha="center", va="center", color="white", weight="bold")
        ax_a.text(no_code + with_code / 2, i, f"{with_code:.0f}%", ha="center", va="center", color="white")
    ax_a.set_yticks(range(len(shares)), [s[0] for s in shares])
    ax_a.set_xlim(0, 100)
    ax_a.set_ylim(-0.7, len(shares) - 0.3)
    ax_a.set_xlabel("share of SSD training samples (%)")
    ax_a.set_title(f"(a) training data (final loss {f7['final_training_loss']})")
    ax_a.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3)
    groups = [("paper", f7["base"], f7["ssd"])]
    if run:
        groups.append(("ours", {k: percent(v) for k, v in run["base"].items() if k.startswith("pass@")},
                       {k: percent(v) for k, v in run["ssd"].items() if k.startswith("pass@")}))
    x = 0.0
    ticks, labels = [], []
    for name, base, ssd in groups:
        for k in ("pass@1", "pass@5"):
            ax_b.bar(x, base[k], 0.38, color="white", ec=style.BASE, hatch="///", label="base" if x == 0 else None)
            ax_b.bar(x + 0.4, ssd[k], 0.38, color=style.SSD, label="+SSD" if x == 0 else None)
            ax_b.text(x, base[k] + 1, f"{base[k]:.1f}", ha="center", fontsize=8.5)
            ax_b.text(x + 0.4, ssd[k] + 1, f"{ssd[k]:.1f}", ha="center", fontsize=8.5)
            ticks.append(x + 0.2)
            labels.append(f"{k}\n({name})")
            x += 1.0
    ax_b.set_xticks(ticks, labels)
    ax_b.set_ylim(0, 80)
    ax_b.set_ylabel("LCB v6 (%)" if not run else "pass@k (%)")
    ax_b.set_title("(b) evaluation")
    ax_b.legend(loc="upper left")
    footer = (f"Paper values transcribed from {f7['source']} ({f7['_path']}); the paper states ~62% without code and "
              "~37% chain-of-thought then code (the rest is not described)." + (" Our run beside it." if run else ""))
    sources = [f"paper Fig. 7 ({f7['_path']})"] + ([f"our run ({run['_path']})"] if run else [])
    return Built(style.save_figure(fig, ctx.out, "fig07", footer), sources)
