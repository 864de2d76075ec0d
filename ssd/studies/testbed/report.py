"""Outputs of the CPU experiment: `summary.json`, the JSON series the paper figures read, small PNGs and
`report.md`, written into one results folder.

Guarantees:
- Every file is written atomically (summary.json, the series and report.md by the one result writer,
  `ssd.experiment.report.write_results`; PNGs via a temp file renamed).
- The series follow the schemas documented in `paper_figures/README.md` (rates are fractions in [0, 1]).
- `report.md` states the headline in words (helped, hurt, or no detectable difference) from the paired
  interval alone: "helped" only if the 95% interval of the pass@1 difference lies above zero.

Does not: compute any metric itself beyond arranging `ssd.metrics` outputs (pass@k and intervals come from
`summarize` and `paired_comparison`), or run anything.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ssd.experiment.report import verdict_sentence, write_results
from ssd.metrics import format_interval

PAPER = {  # LCB v6, Table 2 of the paper (instruct models), for context only
    "Qwen3-4B-Instruct": {"base": (34.0, 41.0), "ssd": (41.5, 56.8)},
    "Qwen3-30B-Instruct": {"base": (42.4, 53.5), "ssd": (55.3, 71.6)},
}


def pct(x: float) -> str:
    return f"{100 * x:.1f}"


def plot_figures(out: Path, series: dict[str, Any]) -> list[str]:
    """Small PNGs for report.md; returns their file names."""
    import matplotlib  # noqa: PLC0415 - plotting is optional and slow to import

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 - after the backend is chosen

    names = []

    def save(fig, name):
        tmp = out / f".{name}"
        fig.savefig(tmp, dpi=80, format="png", bbox_inches="tight")
        plt.close(fig)
        os.replace(tmp, out / name)
        names.append(name)

    sweep = series["fig2_teval_sweep"]
    fig, axes = plt.subplots(1, 2, figsize=(8, 3))
    for ax, k in zip(axes, ("pass@1", "pass@5")):
        ax.plot(sweep["t_eval"], [100 * v for v in sweep["base"][k]], "o-", color="#d08a00", label="base (T_eval sweep)")
        if sweep["base_temperature_only"][k]:
            ax.plot(sweep["t_eval"], [100 * v for v in sweep["base_temperature_only"][k]], "s--", color="#a0a0a0",
                    label="base, no truncation")
        if sweep["ssd"][k] is not None:
            ax.axhline(100 * sweep["ssd"][k], color="#1f5fbf", label="SSD (selected recipe)")
        ax.set_xlabel("T_eval")
        ax.set_ylabel(f"{k} (%) on validation")
    axes[0].legend(fontsize=7)
    save(fig, "fig2_teval_sweep.png")

    fig, axes = plt.subplots(1, 3, figsize=(14, 3.2))
    for ax, name in zip(axes[:2], ("grid_no_truncation", "grid_truncated")):
        g = series[name]
        values = [[100 * v for v in row] for row in g["pass@1"]]
        im = ax.imshow(values, cmap="viridis", aspect="auto")
        for i, row in enumerate(values):
            for j, v in enumerate(row):
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", color="white", fontsize=8)
        ax.set_xticks(range(len(g["t_eval"])), g["t_eval"])
        ax.set_yticks(range(len(g["t_train"])), g["t_train"])
        ax.set_xlabel("T_eval")
        ax.set_ylabel("T_train")
        ax.set_title(name.replace("_", " ") + " (pass@1 %, val)", fontsize=8)
        fig.colorbar(im, ax=ax)
        t_eff = [tt * te for tt in g["t_train"] for te in g["t_eval"]]
        axes[2].scatter(t_eff, [100 * v for row in g["pass@1"] for v in row], label=name.split("_", 1)[1], s=12)
    axes[2].axhline(100 * series["fig2_teval_sweep"]["base_best_val_pass@1"], color="#d08a00", ls="--",
                    label="best base (val)")
    axes[2].set_xlabel("T_eff = T_train x T_eval")
    axes[2].set_ylabel("pass@1 (%)")
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    save(fig, "grid.png")

    stats = series["fig6_token_stats"]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3))
    for label, style in (("fork", "-"), ("lock", "--"), ("other", ":")):
        for model, color in (("base", "#d08a00"), ("ssd", "#1f5fbf")):
            s = stats["by_label"].get(label, {}).get(model)
            if not s:
                continue
            axes[0].plot(stats["rank"], [1 - m for m in s["cumulative_mass"]], style, color=color,
                         label=f"{model} {label}")
            axes[1].plot(stats["t_eval"], s["kept_tokens"], style, color=color)
            axes[2].plot(stats["t_eval"], s["entropy"], style, color=color)
    axes[0].set_yscale("log")
    axes[0].set_xlabel("rank")
    axes[0].set_ylabel("1 - cumulative mass")
    axes[1].set_xlabel("T_eval")
    axes[1].set_ylabel("tokens kept by truncation")
    axes[2].set_xlabel("T_eval")
    axes[2].set_ylabel("entropy after truncation (nats)")
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    save(fig, "token_stats.png")
    return names


def _table2_rows(t2: dict[str, Any]) -> list[str]:
    diffs = t2["difficulties"]
    head = "| model | metric | all | " + " | ".join(diffs) + " |"
    lines = [head, "|---|---|---|" + "---|" * len(diffs)]
    for arm in ("base", "ssd"):
        for k in ("pass@1", "pass@5"):
            cells = [format_interval(t2[arm]["by_difficulty"][d][k]) for d in diffs]
            lines.append(f"| {t2[arm]['name']} | {k} | {format_interval(t2[arm]['overall'][k])} | " + " | ".join(cells) + " |")
    for k in ("pass@1", "pass@5"):
        cells = [_delta_cell(t2["paired"][d][k]) for d in ["all", *diffs]]
        lines.append(f"| SSD - base (paired) | {k} | " + " | ".join(cells) + " |")
    return lines


def _excludes_zero(delta: dict[str, Any]) -> bool:
    lo, hi = delta["ci"]
    return lo > 0 or hi < 0


def _delta_cell(delta: dict[str, Any]) -> str:
    """A paired difference in pp with its interval and sign-test p; bold when the interval excludes zero."""
    text = format_interval(delta, signed=True) + f", p {delta['p_value']:.2g}"
    return f"**{text}**" if _excludes_zero(delta) else text


def _base_rows(summary: dict[str, Any]) -> list[str]:
    lines = ["| base seed | base pass@1 | SSD pass@1 (mean over SSD seeds) | SSD - base pass@1 | SSD - base pass@5 | "
             "SSD per seed | numbers / loop variables copied (val) | base training |", "|---|---|---|---|---|---|---|---|"]
    for b in summary["bases"]:
        copied = " / ".join(pct(b["lock_accuracy_val"][kind]["accuracy"]) for kind in ("number", "loop variable"))
        lines.append(f"| {b['seed']} | {format_interval(b['base']['pass@1'])} | {format_interval(b['ssd']['pass@1'])} | "
                     f"{_delta_cell(b['delta']['pass@1'])} | {_delta_cell(b['delta']['pass@5'])} | "
                     + ", ".join(pct(v) for v in b["ssd_per_seed"].values())
                     + f" | {copied} | {b['training_seconds'] or 0:.0f} s |")
    return lines + ["", "Numbers / loop variables copied: the share of lock positions in the validation split's canonical "
                    "solutions where the base's most likely next token is the canonical constant or bound name "
                    "(teacher-forced). A base that has not learned to copy the statement's constants guesses them.",
                    "", _failures(summary)]


def _failures(summary: dict[str, Any]) -> str:
    """How each base and its SSD students fail on evaluation: runtime errors, wrong answers, max_tokens hits."""
    def cell(health: dict[str, Any]) -> str:
        counts = health["status_counts"]
        return (f"{counts['runtime_error']} / {counts['wrong_answer']} / "
                f"{100 * health['max_token_hit_rate']:.0f}%")
    rows = [f"base {b['seed']}: {cell(b['health']['base'])}, students "
            + ", ".join(cell(h) for h in b["health"]["ssd_per_seed"].values()) for b in summary["bases"]]
    return ("How the failures look (evaluation samples; runtime errors / wrong answers / share ending at max_tokens, "
            "for each base and then each of its SSD students): " + "; ".join(rows) + ".")


def _against_ssd(summary: dict[str, Any]) -> str:
    """The paired results whose interval excludes zero, stated plainly (the unflattering ones first)."""
    t2 = summary["table2"]
    found = [(d, k, t2["paired"][d][k]) for d in ["all", *t2["difficulties"]] for k in ("pass@1", "pass@5")
             if _excludes_zero(t2["paired"][d][k]) or t2["paired"][d][k]["p_value"] < 0.05]
    if not found:
        return "No paired difference, overall or per difficulty, has an interval excluding zero or a sign test p < 0.05."
    worse = [f for f in found if f[2]["value"] < 0]
    better = [f for f in found if f[2]["value"] > 0]
    describe = lambda items: "; ".join(  # noqa: E731
        f"{'overall' if d == 'all' else d} {k} {_delta_cell(p)}" for d, k, p in items)
    parts = []
    if worse:
        parts.append(f"Against SSD (interval excluding zero or sign test p < 0.05): {describe(worse)}.")
    if better:
        parts.append(f"For SSD: {describe(better)}.")
    return " ".join(parts)


def render_markdown(summary: dict[str, Any], series: dict[str, Any], figures: list[str],
                    lead_sections: list[str] = ()) -> str:
    t2 = summary["table2"]
    recipe = summary["recipe"]
    fr = summary["frontier"]
    stress = series["fig7_stress"]
    stats = series["fig6_token_stats"]
    bases = summary["bases"]
    grid = summary["grid"]
    lines = [
        "# SSD on a CPU: a tiny Qwen3 model on a generated benchmark with ground-truth forks and locks", "",
        f"Wall time of this run: {summary['wall_seconds']:.0f} s; the stages it used took {summary['stage_seconds']:.0f} s "
        "when they were computed (the cost from an empty cache; a re-run only reads them). "
        f"Host: {summary['host']['cpu_model']}, {summary['host']['cpu_count']} cores, load average "
        f"{summary['host']['load_average'][0]} at the end.",
        "", *lead_sections,
        "## Benign regime: the generated list-pipeline benchmark", "",
        f"Evaluation split: {t2['n_problems']} problems, n = {t2['n']} samples each; {len(bases)} independently trained "
        f"base models (seeds {summary['base_seeds']}), SSD seeds {summary['seeds']} on each.",
        "", "### Setup", "",
        f"- Model: Qwen3 architecture, {summary['setup']['parameters']:,} parameters "
        f"(hidden {summary['setup']['spec']['hidden_size']}, {summary['setup']['spec']['num_hidden_layers']} layers), "
        f"byte-level BPE with {summary['setup']['vocab_size']} tokens, both trained from scratch per base seed on "
        f"{summary['setup']['corpus_examples']} solutions of {summary['setup']['corpus_problems']} pretrain-split "
        "problems (training time per base in the table below).",
        "- Problems per split: " + ", ".join(f"{k} {v}" for k, v in summary["setup"]["splits"].items())
        + " (disjoint by construction and checked; the pool's solutions are never used).",
        f"- Best base pass@1 on validation (primary base): {pct(fr['best_joint']['val_pass@1'])}%.",
        "", "### Headline (all bases pooled)", "",
        verdict_sentence(t2["paired"]["all"]["pass@1"]),
        f"Base {format_interval(summary['base']['pass@1'])} vs SSD {format_interval(summary['ssd']['pass@1'])} pass@1; "
        f"pass@5 {format_interval(summary['base']['pass@5'])} vs {format_interval(summary['ssd']['pass@5'])}; "
        f"paired pass@5 {_delta_cell(t2['paired']['all']['pass@5'])} "
        "(%, averaged over bases, an SSD arm's pass@k averaged over its SSD seeds; 95% nested bootstrap intervals, "
        "resampling bases, then problems, then SSD seeds, so the base-to-base and the seed-to-seed variance are "
        "inside them; sign tests on the base-averaged per-problem differences).",
        _against_ssd(summary),
        f"Room for a gain: the bases leave {100 * (1 - summary['base']['pass@1']['value']):.1f} pp of pass@1 and "
        f"{100 * (1 - summary['base']['pass@5']['value']):.1f} pp of pass@5 unsolved on average.",
        "", *_base_rows(summary), "",
        "The spread between the rows is the base-to-base variance: bases differ only in their seed (tokenizer, "
        "initialisation, corpus draws, data order), and float kernels that differ between CPUs perturb a base as a "
        "different seed would, so the pooled interval, not a single base, is the claim.",
        "", "For context, the paper (LCB v6, Table 2): " + "; ".join(
            f"{m} {b[0]} -> {s[0]} pass@1, {b[1]} -> {s[1]} pass@5" for m, v in PAPER.items()
            for b, s in [(v["base"], v["ssd"])]) + ". Our benchmark and model are far smaller, so only the "
        "direction and the mechanism are comparable, not the levels.",
        "", "### Recipe and baselines (all chosen on the primary base's validation runs, applied to every base)", "",
        f"- SSD: T_train {recipe['t_train']}, training truncation top-k {recipe['train_top_k']} / top-p "
        f"{recipe['train_top_p']}, one sample per pool prompt, plain SFT; student decoded at T_eval {recipe['t_eval']} "
        f"with top-k {summary['eval_truncation']['top_k']} / top-p {summary['eval_truncation']['top_p']}. "
        f"Validation pass@1 of this cell: {pct(grid['selected']['val_pass@1'])}%.",
        _untruncated_note(grid),
        f"- Base (Table 2 row): the best decode-only setting on validation over temperature x (top-k, top-p): "
        f"T {fr['best_joint']['temperature']}, top-k {fr['best_joint']['top_k']}, top-p {fr['best_joint']['top_p']}. "
        f"Temperature alone (T {fr['best_temperature_only']['temperature']}) on evaluation, per base: "
        + ", ".join(f"seed {b['seed']} {format_interval(b['base_temperature_only']['pass@1'])}" for b in bases) + ".",
        "", "### Table 2 analogue (evaluation split, %, bases pooled)", "", *_table2_rows(t2), "",
        "Bold: the interval of the paired difference excludes zero.", "",
        "### Figures", "",
    ]
    lines += [f"![{name}]({name})" for name in figures]
    lines += [
        "", "- Fig. 2 analogue: the base's pass@1 across T_eval on validation against the selected SSD recipe.",
        "- Figs. 3/10 analogue: T_train x T_eval grids on validation, without and with training truncation, "
        "and pass@1 against the effective temperature T_train x T_eval.",
        "- Figs. 5/6 analogue: teacher-forced next-token statistics on the evaluation split's canonical solutions, "
        "split by the generator's fork and lock labels.",
        "", grid_reading(series, fr["best_joint"]["val_pass@1"]),
        "", "### Fig. 7 analogue: bad data (T_train %s, no truncation)" % stress["t_train"], "",
        f"{pct(stress['no_code_rate'])}% of the SSD training samples contain no extractable code "
        f"({pct(stress['length_rate'])}% hit max_tokens). Trained on them anyway and decoded at T_eval "
        f"{stress['t_eval']} (chosen on validation): pass@1 {pct(stress['ssd']['pass@1'])} vs base "
        f"{pct(stress['base']['pass@1'])}; pass@5 {pct(stress['ssd']['pass@5'])} vs {pct(stress['base']['pass@5'])}.",
        "", "### Where the mechanism did or did not appear (forks and locks)", "",
        "| label | positions | model | P(canonical token) | top-1 mass | kept tokens at T_eval %s | entropy at T_eval %s |"
        % (recipe["t_eval"], recipe["t_eval"]), "|---|---|---|---|---|---|---|",
    ]
    t_index = stats["t_eval"].index(recipe["t_eval"]) if recipe["t_eval"] in stats["t_eval"] else 0
    for label in ("fork", "lock", "other"):
        for model in ("base", "ssd"):
            s = stats["by_label"].get(label, {}).get(model)
            if s:
                lines.append(f"| {label} | {s['positions']} | {model} | {s['p_canonical']:.3f} | "
                             f"{s['cumulative_mass'][0]:.3f} | {s['kept_tokens'][t_index]:.2f} | {s['entropy'][t_index]:.3f} |")
    if recipe["t_train"] < 1:
        summary_note = (f"The validation-selected T_train ({recipe['t_train']}) is below 1: the SSD target is then a "
                        "sharpened copy of the base at every position, forks included, so forks losing mass to the top "
                        "continuation is what the theory predicts in this regime. The paper's regime (T_train > 1 with "
                        "truncation) is in the grid above and did worse on validation here.")
    else:
        summary_note = "The selected recipe is in the paper's regime (T_train > 1)."
    lines += ["", summary["mechanism"], "", summary_note, "",
              "### Caveats", "",
              "- Timings were taken on a 2-core machine shared with other jobs; they are pessimistic.",
              "- Fork/lock labels are exact for the generator's grammar of correct solutions, not for all Python.",
              f"- SSD's SFT settings ({summary['sft']['epochs']} epochs, lr {summary['sft']['lr']} cosine to "
              f"{summary['sft']['min_lr']}) and the pool size were fixed in advance, not tuned; the recipe is the best "
              "*truncated* grid cell on validation (the paper's main recipe truncates), a rule fixed before the run.",
              "- Grid cells and the base sweep use the validation split with n = %d; only Table 2, the frontier "
              "and the stress test use the evaluation split." % summary["sweep_n"],
              "- The frontier, the grid, the stress test and the token statistics use the primary base (the first "
              "seed); Table 2 and the headline use every base.", ""]
    return "\n".join(lines)


def grid_reading(series: dict[str, Any], base_val: float) -> str:
    """How the validation grids relate to T_eff (monotone or with an interior peak, as the paper's Fig. 3 has
    near T_eff 1.2), how many cells beat the best base, and what training truncation does at the hottest T_train."""
    t_eff, values, cells = [], [], {}
    for name in ("grid_no_truncation", "grid_truncated"):
        g = series[name]
        for i, tt in enumerate(g["t_train"]):
            for j, te in enumerate(g["t_eval"]):
                t_eff.append(tt * te)
                values.append(g["pass@1"][i][j])
                cells[(name, tt, te)] = g["pass@1"][i][j]
    r = float(np.corrcoef(t_eff, values)[0, 1]) if len(set(t_eff)) > 1 and len(set(values)) > 1 else float("nan")
    above = sum(v > base_val for v in values)
    coldest, hottest = min(t_eff), max(t_eff)
    peak = t_eff[int(np.argmax(values))]
    if peak == coldest:
        shape = (f"pass@1 is highest at the coldest cell (T_eff {coldest:.2f}) and falls as T_eff grows (r = {r:.2f}): "
                 "a monotone relation, not the interior peak near T_eff 1.2 of the paper's Fig. 3")
    elif peak == hottest:
        shape = f"pass@1 is highest at the hottest cell (T_eff {hottest:.2f}; r = {r:.2f}): a monotone relation"
    else:
        shape = f"pass@1 peaks inside the grid, at T_eff {peak:.2f} (r = {r:.2f}), as the paper's Fig. 3 does near 1.2"
    hot = max(series["grid_truncated"]["t_train"])
    pairs = [(cells[("grid_no_truncation", hot, te)], cells[("grid_truncated", hot, te)])
             for te in series["grid_truncated"]["t_eval"]]
    return (f"Across the {len(values)} validation cells, {shape}; {above} of {len(values)} cells beat the best "
            f"decode-only base ({pct(base_val)}%). At T_train {hot}, training-time truncation changes pass@1 by "
            + ", ".join(f"{100 * (b - a):+.1f} pp at T_eval {te}"
                        for (a, b), te in zip(pairs, series["grid_truncated"]["t_eval"])) + ".")


def mechanism_sentence(stats: dict[str, Any], t_eval: float) -> str:
    """Plain reading of the fork/lock statistics at every measured T_eval: did SSD sharpen locks and keep forks
    open? A fork 'collapses' where SSD keeps fewer tokens or has lower truncated entropy than the base."""
    by = stats["by_label"]
    temps = stats["t_eval"]
    i = temps.index(t_eval) if t_eval in temps else 0
    parts = []
    if "lock" in by:
        b, s = by["lock"]["base"], by["lock"]["ssd"]
        parts.append(f"at locks SSD moved the canonical token's probability {b['p_canonical']:.3f} -> "
                     f"{s['p_canonical']:.3f} and the truncated entropy at T_eval {t_eval} "
                     f"{b['entropy'][i]:.3f} -> {s['entropy'][i]:.3f} nats")
    if "fork" in by:
        b, s = by["fork"]["base"], by["fork"]["ssd"]
        collapsed = [t for j, t in enumerate(temps) if s["entropy"][j] < b["entropy"][j]]
        parts.append(f"at forks the tokens kept by truncation went {b['kept_tokens'][i]:.2f} -> "
                     f"{s['kept_tokens'][i]:.2f} and the truncated entropy {b['entropy'][i]:.3f} -> "
                     f"{s['entropy'][i]:.3f} nats at T_eval {t_eval}; SSD's fork entropy is below the base's at "
                     + (f"{len(collapsed)} of {len(temps)} measured T_eval ({', '.join(map(str, collapsed))})"
                        if collapsed else "none of the measured T_eval")
                     + " (" + ", ".join(f"T {t}: {b['entropy'][j]:.3f} -> {s['entropy'][j]:.3f}"
                                        for j, t in enumerate(temps)) + ")")
    return "Measured: " + "; ".join(parts) + ". The paper's account predicts sharper locks (probability up, " \
        "entropy down) and forks that keep several continuations (kept tokens and entropy not collapsing)."


def _untruncated_note(grid: dict[str, Any]) -> str:
    best = grid.get("best_untruncated")
    selected = grid["selected"]
    if not best:
        return "- The grid has no untruncated cell."
    comparison = "better than" if best["val_pass@1"] > selected["val_pass@1"] else "not better than"
    return (f"- The rule fixed before the run selects the best *truncated* cell (the paper's recipe truncates). The best "
            f"untruncated cell (T_train {best['t_train']}, T_eval {best['t_eval']}: {pct(best['val_pass@1'])}% on "
            f"validation) is {comparison} the selected one" + (" and was left out by that rule." if comparison ==
                                                              "better than" else "."))


def write_all(out: str | Path, summary: dict[str, Any], series: dict[str, Any], lead_sections: list[str] = ()) -> None:
    """Write the results folder; `lead_sections` (markdown lines) go before the benign testbed's sections."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures = plot_figures(out, series)
    write_results(out, summary, render_markdown(summary, series, figures, list(lead_sections)),
                  files={f"{name}.json": data for name, data in series.items()})
