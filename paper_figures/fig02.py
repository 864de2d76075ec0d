"""Figure 2: decode-only temperature sweep of each frozen base model against its SSD student (LCB v6).

The paper prints only the margins (SSD minus the best base temperature), not the sweep values, so each paper
panel draws SSD (Table 2) as a blue line and the best base level it implies (SSD − printed margin) as an amber
line over the swept T_eval range, with the margin shaded. When this package's CPU testbed has written its
sweep (`results/cpu/fig2_teval_sweep.json`), a bottom row draws the real base curve and the SSD level.
Does not: invent the paper's sweep curves.
"""
from __future__ import annotations

from paper_figures import style
from paper_figures.sources import Built, Context, model_rows, ours, paper, percent, same_length

TITLE = "Figure 2: decode-only T_eval sweep vs SSD"
COLUMN = {"v6_p1_all": 0, "v6_p1_hard": 3, "v6_p5_all": 4, "v6_p5_hard": 7}
PANEL_TITLE = {"v6_p1_all": "pass@1, all", "v6_p1_hard": "pass@1, hard", "v6_p5_all": "pass@5, all",
               "v6_p5_hard": "pass@5, hard"}
SWEEP_FIELDS = {"t_eval": "numbers", "base/pass@1": "rates", "base/pass@5": "rates", "ssd/pass@1": "rate",
                "ssd/pass@5": "rate_or_null"}


def _paper_panel(ax, ssd: float, margin: float, t_range: list[float], hard: bool) -> None:
    lo, hi = min(t_range), max(t_range)
    ax.hlines(ssd, lo, hi, color=style.SSD, lw=2, label="+SSD (Table 2)")
    ax.hlines(ssd - margin, lo, hi, color=style.BASE, lw=2, ls="--", label="best base T_eval (SSD − margin)")
    ax.fill_between([lo, hi], ssd - margin, ssd, color=style.SSD, alpha=0.08 if hard else 0.18,
                    hatch="//" if hard else None, ec=style.SSD, lw=0)
    ax.text((lo + hi) / 2, ssd - margin / 2, f"+{margin:.1f}", ha="center", va="center", weight="bold")
    ax.set_ylim(ssd - margin - max(3, margin * 0.6), ssd + max(3, margin * 0.6))
    ax.set_xticks(t_range)


def build(ctx: Context) -> Built:
    f2, t2 = paper("fig02"), paper("table2")
    rows = model_rows(t2)
    sweep = ours(ctx, "cpu/fig2_teval_sweep.json", SWEEP_FIELDS)
    if sweep:
        same_length(sweep, ["t_eval", "base/pass@1", "base/pass@5"])
    models = list(f2["margins"])
    nrows = len(models) + (1 if sweep else 0)
    fig, axes = style.new_figure(13, 2.6 * nrows, nrows, 4, squeeze=False)
    for r, key in enumerate(models):
        for c, panel in enumerate(f2["panels"]):
            ax = axes[r][c]
            _paper_panel(ax, rows[key]["ssd"][COLUMN[panel]], f2["margins"][key][c], f2["sweep_t_eval"],
                         hard=panel.endswith("hard"))
            ax.set_title(f"{rows[key]['name']}: {PANEL_TITLE[panel]}", fontsize=9.5)
            if c == 0:
                ax.set_ylabel("LCB v6 (%)")
    if sweep:
        for c, k in enumerate(("pass@1", "pass@5")):
            ax = axes[-1][c]
            ax.plot(sweep["t_eval"], percent(sweep["base"][k]), "o-", color=style.BASE, label="base, T_eval swept")
            if sweep["ssd"][k] is not None:
                ax.axhline(percent(sweep["ssd"][k]), color=style.SSD, lw=2, label="+SSD")
            split = f", {sweep['split']} split" if "split" in sweep else ""
            ax.set_title(f"CPU testbed (ours{split}): {k}, all", fontsize=9.5)
            ax.set_xlabel("T_eval")
            ax.set_ylabel(f"{k} (%)")
            ax.margins(y=0.25)
            ax.legend(loc="lower left", fontsize=7.5)
        for ax in axes[-1][2:]:
            ax.axis("off")
    for ax in axes[len(models) - 1]:
        ax.set_xlabel("T_eval")
    axes[0][0].legend(loc="lower left", fontsize=7.5)
    footer = (f"Paper: margins transcribed from Fig. 2 ({f2['_path']}), SSD levels from Table 2 ({t2['_path']}); "
              "the paper's sweep values are not published, so each amber line is the best base level the margin "
              "implies.\nHatched shading = hard problems. Text only: Qwen3-30B-Thinking pass@1 margin +1.1."
              + (" Bottom row: our CPU run." if sweep else ""))
    paths = style.save_figure(fig, ctx.out, "fig02", footer)
    sources = [f"paper Fig. 2 margins + Table 2 ({f2['_path']})"] + ([f"our run ({sweep['_path']})"] if sweep else [])
    return Built(paths, sources)
