"""`run_control(cfg, root)`: the positive control end to end, returned as one JSON-able dict.

Order of work (every model step is a cached stage, models.py):
1. generate the benchmark (both families, four disjoint splits);
2. theory on the generator's true distributions: policies (a), (b), (c) and the controls (truth.py);
3. per base seed: fit the base by maximum likelihood, its exact path tables (val/eval x family), its calibration,
   policies (a), (b), (c) and the controls' predictions;
4. trained students (d): the recipe grid (T_train x truncation on/off x learning rate) on the first base with the
   first SSD seed, selected on validation (fragile family); then the selected recipe on every base with every SSD
   seed; the two control recipes (T_train 1 untruncated; hot T_train) trained on the first base;
5. headline: predicted gain (c) - (a) and measured gain (d) - (a) on evaluation, intervals by a nested
   bootstrap (bases, then problems, then the SSD seeds of (d)), their ratio; fit diagnostics (where the gain is
   lost).
6. one exactness check per run: the first base's policy (a) sampled through the generation backend and graded in
   the sandbox, beside its exact value.
Guarantees: every selection reads validation tables only; evaluation tables are read at selected settings. The
whole result is a stage keyed by the config and the analysis code, so a re-run reads it.
Does not: grade sampled outputs for the headline (exact pass@1 replaces sampling; checks.verify_by_execution checks
the generator's labels in the sandbox, tested in tests/test_control_benchmark.py).
"""
from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from theory.ssd import SSDRecipe
from ssd.cache import Stage, atomic_write_json, config_hash
from ssd.config import ConfigError
from ssd.metrics import nested_bootstrap
from ssd.models.tiny import TinySpec
from ssd.records import Problem
from ssd.sft import SFTRecipe
from ssd.runtime import host_info
from ssd.studies.control import benchmark
from ssd.studies.control.benchmark import Design
from ssd.studies.control.checks import sampled_model_pass_rate
from ssd.studies.control.diagnostics import (
    calibration, fit_summary, generator_probabilities, position_probabilities,
)
from ssd.studies.control.exact import sweep
from ssd.studies.control.models import (
    model_table, train_base, train_student,
)
from ssd.studies.control.policies import (
    DecodeGrid, RecipeGrid, recipe_dict, recipe_result, select_decode, select_decode_any_order, select_student,
    student_table,
)
from ssd.studies.control.tokenizer import build_tokenizer
from ssd.studies.control.truth import truth_table


@dataclasses.dataclass
class StudentGrid:
    t_trains: list[float] = dataclasses.field(default_factory=lambda: [0.7, 1.4])
    truncation_top_p: float = 0.8  # "truncation on"; off is top-p 1.0
    lrs: list[float] = dataclasses.field(default_factory=lambda: [1e-3, 3e-3])  # min_lr = lr / 10
    hot_t_train: float = 3.0  # control: lock tails re-enter the kept set
    sft: SFTRecipe = dataclasses.field(default_factory=lambda: SFTRecipe(
        max_seq_len=64, micro_batch_size=64, epochs=10.0, warmup_steps=5, weight_decay=0.0, progress=False))

    def recipe(self, lr: float) -> SFTRecipe:
        return dataclasses.replace(self.sft, lr=lr, min_lr=lr / 10)


@dataclasses.dataclass
class ControlConfig:
    benchmark_seed: int = 0
    counts: dict = dataclasses.field(default_factory=lambda: {"pretrain": 8000, "pool": 2000, "val": 100,
                                                               "eval": 100})
    design: Design = dataclasses.field(default_factory=Design)
    spec: TinySpec = dataclasses.field(default_factory=lambda: TinySpec(max_position_embeddings=64))
    base_sft: SFTRecipe = dataclasses.field(default_factory=lambda: SFTRecipe(
        max_seq_len=64, micro_batch_size=64, epochs=16.0, lr=1e-2, min_lr=1e-5, warmup_steps=20, weight_decay=0.0,
        progress=False))
    base_seeds: list[int] = dataclasses.field(default_factory=lambda: [0, 1, 2])
    ssd_seeds: list[int] = dataclasses.field(default_factory=lambda: [0, 1, 2])
    students: StudentGrid = dataclasses.field(default_factory=StudentGrid)
    decode: DecodeGrid = dataclasses.field(default_factory=DecodeGrid)
    recipes: RecipeGrid = dataclasses.field(default_factory=RecipeGrid)
    seen_problems: int = 100  # pool problems used for the generalisation diagnostic
    sampling_check_n: int = 20  # samples per evaluation problem for the exact-vs-sampled check on the first base
    bootstrap: int = 2000

    def validate(self) -> None:
        if len(self.base_seeds) < 1 or len(self.ssd_seeds) < 1:
            raise ConfigError("base_seeds, ssd_seeds: expected at least one seed each")
        missing = sorted(set(benchmark.SPLITS) - set(self.counts))
        if missing:
            raise ConfigError(f"counts: missing split {missing[0]!r}")


def _family(problems: list[Problem], family: str) -> list[Problem]:
    return [p for p in problems if p.metadata["family"] == family]


def _public(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "eval_per_problem"}


def token_ids() -> dict[str, int]:
    """Line -> token id, in id order (the tokenizer's own vocabulary order varies between processes, and sums over
    lines must not)."""
    vocab = sorted(build_tokenizer().get_vocab().items(), key=lambda item: item[1])
    return {token[:-1]: i for token, i in vocab if token.endswith("\n")}


def theory_on_generator(cfg: ControlConfig, problems: dict[str, list[Problem]]) -> dict:
    """(a), (b), (c) and the controls on the design's true distributions, per family."""
    out = {}
    for family in benchmark.FAMILIES:
        val = truth_table(_family(problems["val"], family), cfg.design)
        test = truth_table(_family(problems["eval"], family), cfg.design)
        a = select_decode(val, test, cfg.decode)
        c = select_student(val, test, cfg.recipes.recipes(), cfg.decode)
        best = SSDRecipe(**c["best"]["recipe"])
        out[family] = {
            "a": _public(a), "b": _public(select_decode_any_order(val, test, cfg.decode)), "c": _public(c["best"]),
            "predicted_gain": c["best"]["eval"] - a["eval"],
            "controls": {
                "t_train_1_untruncated": recipe_result(val, test, SSDRecipe(1.0, 0, 1.0), cfg.decode)["eval"] - a["eval"],
                "hot_t_train": recipe_result(val, test, SSDRecipe(cfg.students.hot_t_train, best.top_k, best.top_p),
                                             cfg.decode)["eval"] - a["eval"],
            },
        }
    return out


def _gain(arms: list[list[np.ndarray]], reps: int, seed: int) -> dict:
    """Mean gain of arm 0 over arm 1 (each base's [policy, reference] per-problem pass; a policy of several
    students is an SSD seeds x problems array) and its 95% interval (ssd.metrics.nested_bootstrap)."""
    result = nested_bootstrap(arms, n_boot=reps, seed=seed, statistic=lambda m: m[0] - m[1])
    return {"value": result["value"], "ci": result["ci"]}


def _ratio(arms: list[list[np.ndarray]], reps: int, seed: int) -> dict:
    """Measured over predicted mean gain from each base's [students, (a), (c)] arms, resampled jointly; None where
    the predicted gain is not positive."""
    result = nested_bootstrap(arms, n_boot=reps, seed=seed,
                              statistic=lambda m: (m[0] - m[1]) / (m[2] - m[1]) if m[2] > m[1] else np.nan)
    finite = bool(np.isfinite(result["value"]))
    ci_finite = all(np.isfinite(result["ci"]))
    return {"value": result["value"] if finite else None, "ci": result["ci"] if ci_finite else None}


class _Tables:
    """Exact path tables of one model on the study's problem sets, built on first use."""

    def __init__(self, root: Path, model: Path, sets: dict[str, list[Problem]]):
        self.root, self.model, self.sets, self._cache = root, model, sets, {}

    def __getitem__(self, name: str):
        if name not in self._cache:
            self._cache[name] = model_table(self.root, self.model, self.sets[name])
        return self._cache[name]


def _train_student(cfg, root, base, pool, recipe: SSDRecipe, lr: float, seed: int) -> tuple[Path, Path]:
    return train_student(root, base, pool, recipe, cfg.students.recipe(lr), seed)


def synthesis_stats(samples: Path, problems: dict[str, Problem]) -> dict:
    """In the synthesized data: the share of lock lines that are the dictated line, fork correct/popular share."""
    locks_ok = locks = forks_ok = forks_popular = n = 0
    for line in samples.read_text().splitlines():
        sample = json.loads(line)
        problem = problems[sample["problem_id"]]
        kind = benchmark.KIND_BY_NAME[problem.metadata["fork_kind"]]
        lines = sample["completion"].split("\n")
        want = problem.metadata["locks"]
        got = lines[3:3 + len(want)] if len(lines) > 3 else []
        locks += len(want)
        locks_ok += sum(a == b for a, b in zip(got, want))
        fork = lines[2] if len(lines) > 2 else ""
        forks_ok += fork in kind.correct
        forks_popular += fork == kind.popular
        n += 1
    return {"lock_tail_mass": 1 - locks_ok / locks, "fork_correct_share": forks_ok / n,
            "fork_popular_share": forks_popular / n, "samples": n}


def _analysis_source_hash() -> str:
    """A hash of the code the result depends on beyond the model stages (this package but its report renderer,
    the intervals in ssd/metrics.py, and theory/)."""
    here = Path(__file__).resolve().parent
    files = sorted(f for f in here.glob("*.py") if f.name != "report.py")
    files += [here.parents[1] / "metrics.py", *sorted((here.parents[2] / "theory").glob("*.py"))]
    return config_hash([f.read_text(encoding="utf-8") for f in files], length=16)


def run_control(cfg: ControlConfig, root: str | Path) -> dict:
    """The positive control; see the module docstring. Returns the `positive_control` summary object; the whole
    result is itself a stage (keyed by the config and the analysis code), so a re-run only reads."""
    root = Path(root)
    stage = Stage(root, "control-result", dataclasses.asdict(cfg), {"code": _analysis_source_hash()})
    if stage.complete:
        return json.loads((stage.dir / "result.json").read_text(encoding="utf-8"))
    result = _run(cfg, root)
    with stage:
        atomic_write_json(stage.dir / "result.json", result)
        stage.finish({"wall_seconds_run": result["wall_seconds"]})
    return result


def _run(cfg: ControlConfig, root: Path) -> dict:
    t0 = time.time()
    problems = benchmark.generate(cfg.counts, seed=cfg.benchmark_seed)
    pool = problems["pool"]
    pool_by_id = {p.id: p for p in pool}
    sets = {f"{split}/{family}": _family(problems[split], family)
            for split in ("val", "eval") for family in benchmark.FAMILIES}
    sets["seen/fragile"] = _family(pool, "fragile")[:cfg.seen_problems]
    sets["pretrain"] = problems["pretrain"][:cfg.seen_problems]  # problems the bases were trained on
    token_of = token_ids()
    theory = theory_on_generator(cfg, problems)

    bases, base_tables = [], []
    for seed in cfg.base_seeds:
        model = train_base(root, problems["pretrain"], cfg.design, cfg.spec, cfg.base_sft, seed)
        tables = _Tables(root, model, sets)
        a = select_decode(tables["val/fragile"], tables["eval/fragile"], cfg.decode)
        b = select_decode_any_order(tables["val/fragile"], tables["eval/fragile"], cfg.decode)
        c = select_student(tables["val/fragile"], tables["eval/fragile"], cfg.recipes.recipes(), cfg.decode)
        a_benign = select_decode(tables["val/benign"], tables["eval/benign"], cfg.decode)
        evals = sets["eval/fragile"] + sets["eval/benign"]
        model_probs = {k: np.concatenate([position_probabilities(tables[f"eval/{f}"], sets[f"eval/{f}"], token_of)[k]
                                          for f in benchmark.FAMILIES]) for k in ("fork_popular", "fork_correct",
                                                                                  "fork_junk", "lock_dictated")}
        trained_on = calibration(position_probabilities(tables["pretrain"], sets["pretrain"], token_of),
                                 generator_probabilities(sets["pretrain"], cfg.design))
        bases.append({"seed": seed, "model": str(model), "a": a, "b": b, "c": c, "a_benign": a_benign,
                      "calibration": calibration(model_probs, generator_probabilities(evals, cfg.design)),
                      "calibration_pretrain": trained_on})
        base_tables.append(tables)

    # exact pass@1 of a model against sampling through the generation backend, graded in the sandbox
    first_a = bases[0]["a"]
    exact = float(first_a["eval_per_problem"].mean())
    sampled = sampled_model_pass_rate(Path(bases[0]["model"]), sets["eval/fragile"], first_a["T"], first_a["top_k"],
                                      first_a["top_p"], cfg.sampling_check_n, seed=cfg.benchmark_seed)
    n_samples = cfg.sampling_check_n * len(sets["eval/fragile"])
    sampling_check = {"policy": {k: first_a[k] for k in ("T", "top_k", "top_p")}, "exact": exact, "sampled": sampled,
                      "samples": n_samples, "binomial_half_width_99": 2.576 * float(np.sqrt(
                          max(exact * (1 - exact), 1e-12) / n_samples))}

    # (d): the recipe grid on the first base with the first SSD seed, selected on validation
    grid_runs = []
    first, first_tables = bases[0], base_tables[0]
    for t_train in cfg.students.t_trains:
        for top_p in (cfg.students.truncation_top_p, 1.0):
            for lr in cfg.students.lrs:
                recipe = SSDRecipe(t_train, 0, top_p)
                student, _ = _train_student(cfg, root, Path(first["model"]), pool, recipe, lr, cfg.ssd_seeds[0])
                tables = _Tables(root, student, sets)
                chosen = select_decode(tables["val/fragile"], tables["eval/fragile"], cfg.decode)
                ideal = recipe_result(first_tables["val/fragile"], first_tables["eval/fragile"], recipe, cfg.decode)
                grid_runs.append({"recipe": recipe_dict(recipe), "lr": lr, "val": chosen["val"],
                                  "eval": chosen["eval"], "ideal_eval": ideal["eval"],
                                  "predicted_gain": ideal["eval"] - first["a"]["eval"],
                                  "measured_gain": chosen["eval"] - first["a"]["eval"]})
    selected = max(grid_runs, key=lambda r: r["val"])
    recipe, lr = SSDRecipe(**selected["recipe"]), selected["lr"]

    fragile_arms, benign_arms = [], []  # per base: [students (SSD seeds x problems), (a), (c)]
    for base, tables in zip(bases, base_tables):
        runs = []
        for seed in cfg.ssd_seeds:
            student, samples = _train_student(cfg, root, Path(base["model"]), pool, recipe, lr, seed)
            st = _Tables(root, student, sets)
            runs.append({"seed": seed, "fragile": select_decode(st["val/fragile"], st["eval/fragile"], cfg.decode),
                         "any_order": select_decode_any_order(st["val/fragile"], st["eval/fragile"], cfg.decode),
                         "benign": select_decode(st["val/benign"], st["eval/benign"], cfg.decode),
                         "fit": fit_summary(st["eval/fragile"], sets["eval/fragile"], token_of),
                         "fit_seen": fit_summary(st["seen/fragile"], sets["seen/fragile"], token_of),
                         "seen_pass": float(select_decode(st["val/fragile"], st["seen/fragile"],
                                                          cfg.decode)["eval"]),
                         "synthesis": synthesis_stats(samples, pool_by_id), "table": st["eval/fragile"]})
        students = np.array([r["fragile"]["eval_per_problem"] for r in runs])
        ideal_benign = recipe_result(tables["val/benign"], tables["eval/benign"], SSDRecipe(**base["c"]["best"]["recipe"]),
                                     cfg.decode)
        fragile_arms.append([students, base["a"]["eval_per_problem"], base["c"]["best"]["eval_per_problem"]])
        benign_arms.append([np.array([r["benign"]["eval_per_problem"] for r in runs]),
                            base["a_benign"]["eval_per_problem"], ideal_benign["eval_per_problem"]])
        ideal_at_trained = student_table(tables["eval/fragile"], recipe)
        ideal_eval = recipe_result(tables["val/fragile"], tables["eval/fragile"], recipe, cfg.decode)
        ideal_seen = student_table(tables["seen/fragile"], recipe)
        base["d"] = {"eval": float(students.mean()), "per_seed": [
            {"seed": r["seed"], "eval": r["fragile"]["eval"], "T": r["fragile"]["T"], "top_k": r["fragile"]["top_k"],
             "top_p": r["fragile"]["top_p"], "seen_pass": r["seen_pass"],
             "any_order": _public(r["any_order"])} for r in runs]}
        base["diagnostics"] = {
            "base": fit_summary(tables["eval/fragile"], sets["eval/fragile"], token_of),
            "ideal_student": fit_summary(ideal_at_trained, sets["eval/fragile"], token_of),
            "ideal_student_seen": fit_summary(ideal_seen, sets["seen/fragile"], token_of),
            "ideal_at_trained_recipe_eval": ideal_eval["eval"],
            "ideal_at_trained_recipe_setting": {k: ideal_eval[k] for k in ("T", "top_k", "top_p")},
            # the same exact evaluation with the settings swapped: is the loss in the evaluation regime?
            "ideal_at_student_settings": [_at(ideal_at_trained, r["fragile"]) for r in runs],
            "students_at_ideal_setting": [_at(r["table"], ideal_eval) for r in runs],
            "ideal_at_trained_recipe_seen": recipe_result(tables["val/fragile"], tables["seen/fragile"], recipe,
                                                          cfg.decode)["eval"],
            "trained_students": [r["fit"] for r in runs], "trained_students_seen": [r["fit_seen"] for r in runs],
            "trained_seen_pass": [r["seen_pass"] for r in runs],
            "synthesis": [r["synthesis"] for r in runs],
        }

    # controls: predicted on every base (ideal student), measured on the first base (trained, first SSD seed)
    controls = {}
    for name, control in (("t_train_1_untruncated", SSDRecipe(1.0, 0, 1.0)),
                          ("hot_t_train", SSDRecipe(cfg.students.hot_t_train, 0, recipe.top_p))):
        pred = [recipe_result(t["val/fragile"], t["eval/fragile"], control, cfg.decode)["eval"] - b["a"]["eval"]
                for b, t in zip(bases, base_tables)]
        student, _ = _train_student(cfg, root, Path(first["model"]), pool, control, lr, cfg.ssd_seeds[0])
        st = _Tables(root, student, sets)
        meas = select_decode(st["val/fragile"], st["eval/fragile"], cfg.decode)["eval"] - first["a"]["eval"]
        controls[name] = {"recipe": recipe_dict(control), "predicted_per_base": pred,
                          "predicted": float(np.mean(pred)), "measured_first_base": float(meas),
                          "theory_on_generator": theory["fragile"]["controls"][name]}
    controls["benign_twin"] = {"predicted": _gain([[c, a] for _, a, c in benign_arms], cfg.bootstrap, seed=1),
                               "measured": _gain([[d, a] for d, a, _ in benign_arms], cfg.bootstrap, seed=2),
                               "theory_on_generator": theory["benign"]["predicted_gain"]}
    return {
        "predicted_gain": _gain([[c, a] for _, a, c in fragile_arms], cfg.bootstrap, seed=3),
        "measured_gain": _gain([[d, a] for d, a, _ in fragile_arms], cfg.bootstrap, seed=3),
        "ratio": _ratio(fragile_arms, cfg.bootstrap, seed=4),
        "controls": controls,
        "calibration": {"per_base": [b["calibration"] for b in bases],
                        "per_base_pretrain": [b["calibration_pretrain"] for b in bases],
                        "max_abs_diff": max(b["calibration"]["max_abs_diff"] for b in bases),
                        "mean_abs_diff": float(np.mean([b["calibration"]["mean_abs_diff"] for b in bases])),
                        "target": 0.03},
        "bases": [_base_summary(b) for b in bases],
        "student_grid": {"runs": grid_runs, "selected": {"recipe": recipe_dict(recipe), "lr": lr}},
        "theory_on_generator": theory,
        "diagnostics": {f"base_{b['seed']}": b["diagnostics"] for b in bases},
        "sampling_check": sampling_check,
        "problems": {split: len(v) for split, v in problems.items()},
        "host": host_info(),
        "wall_seconds": round(time.time() - t0, 1),
    }


def _at(table, setting: dict) -> float:
    """Mean exact pass of `table` under one vLLM-order setting {T, top_k, top_p}."""
    return float(sweep(table, "TKP", [setting["T"]], [setting["top_k"]], [setting["top_p"]]).mean())


def _base_summary(base: dict) -> dict:
    c = base["c"]["best"]
    return {"seed": base["seed"], "a": _public(base["a"]), "b": _public(base["b"]),
            "c": _public(c), "d": base["d"], "a_benign": _public(base["a_benign"]),
            "c_per_recipe": base["c"]["per_recipe"]}
