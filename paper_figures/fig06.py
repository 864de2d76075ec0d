"""Figure 6: next-token statistics of the base model and its SSD student (this package's run only).

The paper publishes no numbers behind Figure 6 (only axes and annotations), so this figure exists only once
this package's CPU testbed has written `results/cpu/fig6_token_stats.json`: (a) cumulative probability mass
by token rank, (b) tokens surviving truncation and (c) entropy after truncation, both vs T_eval; with the
testbed's ground-truth fork/lock labels drawn as separate lines when both arms have them at every T_eval.
Does not: fall back to any paper number; without our run it is skipped.
"""
from __future__ import annotations

import numpy as np
from matplotlib.ticker import FuncFormatter, NullFormatter

from paper_figures import style
from paper_figures.sources import Built, Context, Skip, ours, same_length

TITLE = "Figure 6: token statistics before and after SSD"
ARMS = ("base", "ssd")
FIELDS = {"rank": "numbers", "t_eval": "numbers", **{f"{arm}/{k}": kind for arm in ARMS for k, kind in
          (("cumulative_mass", "rates"), ("kept_tokens", "numbers"), ("entropy", "numbers"))}}
LINESTYLE = {"all": "-", "fork": "--", "lock": ":"}


def _complete(label_stats, n_temperatures: int) -> bool:
    """A ground-truth label's series is drawn only if both arms have finite values at every T_eval."""
    if not isinstance(label_stats, dict):
        return False
    return all(isinstance(label_stats.get(arm, {}).get(k), list) and len(label_stats[arm][k]) == n_temperatures
               and all(isinstance(v, (int, float)) and np.isfinite(v) for v in label_stats[arm][k])
               for arm in ARMS for k in ("kept_tokens", "entropy"))


def build(ctx: Context) -> Built:
    stats = ours(ctx, "cpu/fig6_token_stats.json", FIELDS)
    if stats is None:
        raise Skip("no numbers behind Fig. 6 in the paper and results/cpu/fig6_token_stats.json does not exist yet")
    same_length(stats, ["rank"] + [f"{arm}/cumulative_mass" for arm in ARMS])
    same_length(stats, ["t_eval"] + [f"{arm}/{k}" for arm in ARMS for k in ("kept_tokens", "entropy")])
    series = {"all": stats}
    for label in ("fork", "lock"):
        if _complete(stats.get("by_label", {}).get(label), len(stats["t_eval"])):
            series[label] = stats["by_label"][label]
    fig, axes = style.new_figure(13, 4, 1, 3)
    for arm, color in zip(ARMS, (style.BASE, style.SSD)):
        missing = 1 - np.asarray(stats[arm]["cumulative_mass"])
        axes[0].plot(stats["rank"], np.clip(missing, 1e-12, None), color=color, label=arm)
        for label, data in series.items():
            for ax, key in zip(axes[1:], ("kept_tokens", "entropy")):
                ax.plot(stats["t_eval"], data[arm][key], color=color, ls=LINESTYLE[label], marker="o", ms=3,
                        label=f"{arm} ({label} positions)")
    axes[0].set_yscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:.3g}")
    axes[0].yaxis.set_major_formatter(plain)
    axes[0].yaxis.set_minor_formatter(NullFormatter())  # minor labels of a log axis collide
    axes[0].set_xlabel("token rank")
    axes[0].set_ylabel("1 − cumulative mass")
    axes[0].set_title("(a) mass outside the top ranks")
    axes[1].set_ylabel("tokens surviving truncation")
    axes[1].set_title("(b) kept support vs T_eval")
    axes[2].set_ylabel("entropy after truncation (nats)")
    axes[2].set_title("(c) entropy vs T_eval")
    for ax in axes[1:]:
        ax.set_xlabel("T_eval")
    for ax in axes:
        ax.legend(fontsize=7, handlelength=3.5)  # long enough to show the dash patterns
    footer = f"Our CPU run ({stats['_path']}); the paper gives no numbers for Fig. 6, so no paper series is drawn."
    return Built(style.save_figure(fig, ctx.out, "fig06", footer), [f"our run ({stats['_path']})"])
