"""The positive control's report pieces: a markdown section and one figure (predicted vs measured gain per recipe).

Guarantees: both read only the dict `run_control` returns; numbers are printed in percentage points with their
intervals; the unflattering comparison (measured against predicted) comes first.
Does not: recompute anything.
"""
from __future__ import annotations

from pathlib import Path


def _pp(x: float) -> str:
    return f"{100 * x:+.1f}"


def _percents(values) -> str:
    return ", ".join(f"{100 * v:.1f}" for v in values)


def _ratio(ratio: dict) -> str:
    if ratio["value"] is None:
        return "ratio undefined: the predicted gain is not positive"
    interval = f" [{ratio['ci'][0]:.2f}, {ratio['ci'][1]:.2f}]" if ratio["ci"] else ""
    return f"ratio {ratio['value']:.2f}{interval}"


def _fixed(values) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def _ci(obj: dict) -> str:
    return f"{_pp(obj['value'])} pp [{_pp(obj['ci'][0])}, {_pp(obj['ci'][1])}]"


def _against_any_order(result: dict) -> str:
    """The comparison that flatters SSD least: a decode-only policy free to truncate before tempering (b)."""
    bases = result["bases"]
    ideal = [b["c"]["eval"] - b["b"]["eval"] for b in bases]
    trained = [b["d"]["eval"] - b["b"]["eval"] for b in bases]
    untruncated = result["controls"]["t_train_1_untruncated"]["measured_first_base"]
    return (
        "Read with care: the gain is over decode-only policies in vLLM's operator order (temperature, then top-k, "
        "then top-p). A decode-only policy that may truncate before tempering (b) closes most of it: the ideal "
        f"student beats (b) by {', '.join(_pp(x) for x in ideal)} pp per base, and the trained students are "
        f"{', '.join(_pp(x) for x in trained)} pp from (b), so against (b) the measured gain is "
        + ("positive." if min(trained) > 0 else "not positive.")
        + f" Plain SFT on the base's own untruncated T_train 1 samples, where the theory predicts no change, "
        f"measured {_pp(untruncated)} pp on the first base: the fit itself costs part of the predicted gain.")


def _grid_edges(grid: dict) -> str:
    """Whether the selected recipe sits inside the grid on T_train and lr, or on an edge (its optimum may lie beyond)."""
    runs, selected = grid["runs"], grid["selected"]
    values = {"T_train": (sorted({r["recipe"]["t_train"] for r in runs}), selected["recipe"]["t_train"]),
              "lr": (sorted({r["lr"] for r in runs}), selected["lr"])}
    edges = [name for name, (axis, value) in values.items() if len(axis) > 1 and value in (axis[0], axis[-1])]
    if not edges:
        return "It lies inside the grid on T_train and lr."
    return f"It lies on the grid's edge in {' and '.join(edges)}: the best recipe may lie beyond the grid."


def _calibration_verdict(result: dict) -> str:
    """Whether every quantity's mean |diff| per position is within the target on every base, or which are not."""
    calibration = result["calibration"]
    misses = [f"{name.replace('_', ' ')} on base {base['seed']} ({q['mean_abs_diff']:.3f})"
              for base, fit in zip(result["bases"], calibration["per_base"]) for name, q in fit["per_quantity"].items()
              if q["mean_abs_diff"] > calibration["target"]]
    if not misses:
        return "every quantity's mean |diff| per position is within the target on every base"
    return "mean |diff| per position above the target: " + ", ".join(misses)


def render_markdown(result: dict) -> str:
    """The report.md section for `positive_control`."""
    c = result["controls"]
    ratio = result["ratio"]
    selected = result["student_grid"]["selected"]
    lines = [
        "## Positive control (issue #14): a family where the theory predicts an SSD gain",
        "",
        f"Measured gain of the trained SSD students over the best vLLM-order decode-only policy: "
        f"**{_ci(result['measured_gain'])}**, against the predicted gain of the ideal SSD student "
        f"**{_ci(result['predicted_gain'])}** ({_ratio(ratio)}). "
        f"Exact pass@1 (success paths, no sampling noise) on {result['problems']['eval']} evaluation problems "
        f"(fragile family: half of them), {len(result['bases'])} base models; intervals: nested bootstrap "
        "(bases, then problems, then the trained students' SSD seeds). Everything was selected on the validation "
        "split.",
        "",
        _against_any_order(result),
        "",
        "| base | (a) decode-only, vLLM order | (b) any operator order | (c) ideal SSD student | (d) trained SSD students |",
        "|---|---|---|---|---|",
    ]
    for base in result["bases"]:
        a, b, cc, d = base["a"], base["b"], base["c"], base["d"]
        lines.append(
            f"| {base['seed']} | {100 * a['eval']:.1f} (T {a['T']}, k {a['top_k']}, p {a['top_p']}) "
            f"| {100 * b['eval']:.1f} ({b['order']}, T {b['T']}, k {b['top_k']}, p {b['top_p']}) "
            f"| {100 * cc['eval']:.1f} (T_train {cc['recipe']['t_train']}, p {cc['recipe']['top_p']}; T_eval {cc['T']}) "
            f"| {100 * d['eval']:.1f} ({_percents(s['eval'] for s in d['per_seed'])}) |")
    lines += [
        "",
        f"Trained-student recipe (selected on validation from the grid): T_train {selected['recipe']['t_train']}, "
        f"top-p {selected['recipe']['top_p']}, lr {selected['lr']}. {_grid_edges(result['student_grid'])}",
        "",
        "Controls (prediction from the ideal student on each base; measured with a trained student on the first base):",
        "",
        "| control | predicted | measured | theory on the generator's distributions |",
        "|---|---|---|---|",
        f"| T_train 1, no truncation (predicted 0) | {_pp(c['t_train_1_untruncated']['predicted'])} pp "
        f"| {_pp(c['t_train_1_untruncated']['measured_first_base'])} pp "
        f"| {_pp(c['t_train_1_untruncated']['theory_on_generator'])} pp |",
        f"| hot T_train {c['hot_t_train']['recipe']['t_train']} (lock tails re-enter; predicted < 0) "
        f"| {_pp(c['hot_t_train']['predicted'])} pp | {_pp(c['hot_t_train']['measured_first_base'])} pp "
        f"| {_pp(c['hot_t_train']['theory_on_generator'])} pp |",
        f"| benign twin (popular branch correct; predicted <= 0) | {_ci(c['benign_twin']['predicted'])} "
        f"| {_ci(c['benign_twin']['measured'])} | {_pp(c['benign_twin']['theory_on_generator'])} pp |",
        "",
        f"Calibration of the bases at labelled positions against the generator (target +-{result['calibration']['target']}): "
        f"mean absolute difference per position {result['calibration']['mean_abs_diff']:.3f}, largest at one position "
        f"{result['calibration']['max_abs_diff']:.3f}; {_calibration_verdict(result)}. Per quantity "
        "(model mean vs generator; mean |diff| per position, per base):",
        "",
        "| quantity | generator | bases (mean) | mean abs diff per position |",
        "|---|---|---|---|",
    ]
    per_base = [b["per_quantity"] for b in result["calibration"]["per_base"]]
    for name in per_base[0]:
        lines.append(f"| {name.replace('_', ' ')} | {per_base[0][name]['generator']:.3f} "
                     f"| {_fixed(b[name]['model'] for b in per_base)} | {_fixed(b[name]['mean_abs_diff'] for b in per_base)} |")
    locks = [b["lock_dictated"] for b in per_base]
    pretrain = [b["per_quantity"]["lock_dictated"] for b in result["calibration"]["per_base_pretrain"]]
    lines += ["", "Lock calibration in detail (per base): bias (signed mean difference) "
              f"{_fixed(q['mean_diff'] for q in locks)}; scatter: median |diff| {_fixed(q['median_abs_diff'] for q in locks)}, "
              f"90th percentile {_fixed(q['p90_abs_diff'] for q in locks)}; mean |diff| per lock index "
              + "; ".join(_fixed(q["mean_abs_diff_per_index"]) for q in locks) + ". Mean |diff| on pretraining "
              f"problems the bases were trained on {_fixed(q['mean_abs_diff'] for q in pretrain)}, on evaluation "
              f"problems {_fixed(q['mean_abs_diff'] for q in locks)} (equal scatter on seen problems is noise in the "
              "fit per context, not a failure to generalise)."]
    lines += [
        "",
        "Where the gain goes (first base; lock tail mass, fork correct-branch share on evaluation problems):",
        "",
        "| model | lock tail mass | fork correct share | fork popular share |",
        "|---|---|---|---|",
    ]
    diag = result["diagnostics"][f"base_{result['bases'][0]['seed']}"]
    check = result["sampling_check"]
    rows = [("base", diag["base"]), ("ideal SSD student", diag["ideal_student"])]
    rows += [(f"trained student, seed {i}", fit) for i, fit in enumerate(diag["trained_students"])]
    rows += [(f"synthesized data, seed {i}", fit) for i, fit in enumerate(diag["synthesis"])]
    for name, fit in rows:
        lines.append(f"| {name} | {fit['lock_tail_mass']:.4f} | {fit['fork_correct_share']:.3f} "
                     f"| {fit['fork_popular_share']:.3f} |")
    lines += [
        "",
        f"Generalisation (first base): ideal student at the trained recipe {100 * diag['ideal_at_trained_recipe_seen']:.1f} "
        f"on seen pool problems vs {100 * diag['ideal_at_trained_recipe_eval']:.1f} on evaluation; trained students "
        f"{_percents(diag['trained_seen_pass'])} on seen pool problems vs "
        f"{_percents(s['eval'] for s in result['bases'][0]['d']['per_seed'])} on evaluation.",
        "",
        f"Evaluation regime (first base): the ideal student's selected setting is T_eval "
        f"{diag['ideal_at_trained_recipe_setting']['T']}, top-k {diag['ideal_at_trained_recipe_setting']['top_k']}, "
        f"top-p {diag['ideal_at_trained_recipe_setting']['top_p']}; the trained students at that setting pass "
        f"{_percents(diag['students_at_ideal_setting'])}, and the ideal student at each trained student's own selected "
        f"setting passes {_percents(diag['ideal_at_student_settings'])}. Trained students with a decoder free to "
        f"reorder its operators (b-style): {_percents(s['any_order']['eval'] for s in result['bases'][0]['d']['per_seed'])}.",
        "",
        f"Exactness check (first base, policy (a) on the fragile evaluation problems): exact pass@1 "
        f"{100 * check['exact']:.1f}, sampled through the generation backend and graded in the sandbox "
        f"{100 * check['sampled']:.1f} over {check['samples']} samples (99% binomial half-width "
        f"{100 * check['binomial_half_width_99']:.1f} pp).",
        "",
        "![positive control](positive_control.png)",
        "",
    ]
    return "\n".join(lines)


def plot(result: dict, path: str | Path) -> Path:
    """Predicted (ideal student) vs measured (trained student) gain per grid recipe on the first base, with the
    controls and the headline; a PNG at `path`."""
    import matplotlib  # noqa: PLC0415 - plotting only when a figure is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 - after choosing the Agg backend

    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    runs = result["student_grid"]["runs"]
    xs = [100 * r["predicted_gain"] for r in runs]
    ys = [100 * r["measured_gain"] for r in runs]
    ax.scatter(xs, ys, color="tab:blue", label="grid recipes, T_train/top-p/lr (first base, validation-selected T_eval)")
    for r, x, y in zip(runs, xs, ys):
        ax.annotate(f"{r['recipe']['t_train']}/{r['recipe']['top_p']}/{r['lr']:g}", (x, y), fontsize=6,
                    xytext=(3, 3), textcoords="offset points")
    for name, marker in (("t_train_1_untruncated", "s"), ("hot_t_train", "v")):
        control = result["controls"][name]
        ax.scatter([100 * control["predicted_per_base"][0]], [100 * control["measured_first_base"]], marker=marker,
                   color="tab:red", label=f"control: {name.replace('_', ' ')}")
    pred, meas = result["predicted_gain"], result["measured_gain"]
    ax.errorbar([100 * pred["value"]], [100 * meas["value"]],
                xerr=[[100 * (pred["value"] - pred["ci"][0])], [100 * (pred["ci"][1] - pred["value"])]],
                yerr=[[100 * (meas["value"] - meas["ci"][0])], [100 * (meas["ci"][1] - meas["value"])]],
                fmt="D", color="black", capsize=3, label="headline (all bases, selected recipe)")
    low = min(xs + ys + [0.0]) - 2
    high = max(xs + ys + [100 * pred["ci"][1], 100 * meas["ci"][1]]) + 2
    ax.plot([low, high], [low, high], color="grey", lw=0.8, ls="--", label="measured = predicted")
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel("predicted gain over (a), pp (ideal SSD student)")
    ax.set_ylabel("measured gain over (a), pp (trained SSD student)")
    ax.set_title("Positive control: theory vs pipeline", fontsize=10)
    ax.legend(fontsize=6, loc="upper left")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path
