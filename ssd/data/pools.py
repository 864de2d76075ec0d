"""Prompt pools for SSD synthesis, the paper's and the official code's selection rules, and a contamination guard.

Guarantees:
- `load_rstar_seed(path, dedup=True)` reads rStar-Coder `seed_sft` rows (column `question`, optional
  `question_id` and `starter_code`; other columns are ignored and not read from parquet) from a parquet
  file, a JSONL file, or a folder of them (e.g. the hub's `seed_sft/data-*.parquet`), in sorted file
  order, as `Problem`s with no tests. With `dedup`, rows whose whitespace-normalized statement equals an
  earlier one are dropped (the paper's exact-string de-duplication) and ids are content hashes
  (`rstar-<16 hex>`); without it every row is kept (the official code) with ids `rstar-row<n>`.
  A problem with starter code defining a function is `functional` with that `func_name`, else `stdin`.
- `FIDELITY` names two presets: "paper" (de-duplicate, the paper's chat prompt, drop empty and
  single-line stub samples) and "official-code" (no de-duplication, raw prompt without chat template,
  T=1.5 from its config.yaml, its stop strings, drop empty and the shortest 10% of samples).
- `select_samples(samples, rule)` applies "stubs", "shortest-10%" or "none" and reports what it dropped.
  "shortest-10%" is the official data generation's rule: on the stripped lengths of the non-empty samples, the
  cutoff is the length at index int(n * 10 / 100) of the sorted lengths; every sample at least that long is kept
  (so ties at the cutoff stay, and fewer than 10% may go).
- `find_contaminated(pool, eval_problems)` pairs pool prompts with evaluation problems whose normalized
  statements (case-folded, whitespace collapsed) are equal, or where one contains the other and the
  shorter has at least `MIN_CONTAINED_CHARS` characters; `exclude_contaminated` drops them and reports.

Does not: download data (pass a local path; the hub id is `microsoft/rStar-Coder`, config `seed_sft`),
judge semantic near-duplicates, or filter on correctness (SSD uses none).
"""
from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from ssd.config import ConfigError
from ssd.data.problems import starter_function_name
from ssd.records import Problem, RecordError, Sample, read_rows

SAMPLE_FILTERS = ("stubs", "shortest-10%", "none")
SHORTEST_PERCENT = 10.0  # the official config's filter_shortest_percent
MIN_CONTAINED_CHARS = 200
POOL_COLUMNS = ("question", "question_id", "starter_code")


@dataclasses.dataclass(frozen=True)
class Fidelity:
    dedup: bool
    prompt_style: str
    sample_filter: str
    temperature: float | None  # None: the config's decoding temperature (Table 3)
    stop: tuple[str, ...] = ()


FIDELITY = {
    "paper": Fidelity(dedup=True, prompt_style="paper", sample_filter="stubs", temperature=None),
    "official-code": Fidelity(dedup=False, prompt_style="official-raw", sample_filter="shortest-10%",
                              temperature=1.5, stop=("<|im_end|>", "<|endoftext|>")),
}


def fidelity(name: str) -> Fidelity:
    if name not in FIDELITY:
        raise ConfigError(f"fidelity: expected one of {tuple(FIDELITY)}, got {name!r}")
    return FIDELITY[name]


def normalize_statement(text: str) -> str:
    """Whitespace-normalized statement: runs of whitespace become one space, ends stripped."""
    return " ".join(text.split())


def pool_files(path: Path) -> list[Path]:
    if path.is_file():
        if path.suffix not in (".parquet", ".jsonl"):
            raise RecordError(f"{path}: expected a .parquet or .jsonl file")
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in (".parquet", ".jsonl") and p.is_file())
        if files:
            return files
        raise RecordError(f"{path}: no .parquet or .jsonl files in this folder")
    raise RecordError(f"{path}: prompt pool not found (expected a parquet/JSONL file or a folder of them)")


def row_problem(where: str, row: Any, problem_id: str) -> Problem:
    if not isinstance(row, dict) or not isinstance(row.get("question"), str):
        raise RecordError(f"{where}: field 'question': expected a string (rStar-Coder seed_sft row)")
    starter = row.get("starter_code") or ""
    if not isinstance(starter, str):
        raise RecordError(f"{where}: field 'starter_code': expected a string or null")
    func_name = starter_function_name(starter)
    return Problem(id=problem_id, source="rstar-coder/seed_sft", question=row["question"],
                   kind="functional" if func_name else "stdin", tests=[], starter_code=starter,
                   func_name=func_name,
                   metadata={"question_id": row.get("question_id"), "origin": where})


def load_rstar_seed(path: str | Path, *, dedup: bool = True) -> list[Problem]:
    """rStar-Coder seed_sft prompts from local files (see the module docstring)."""
    problems, seen = [], set()
    rows = (r for file in pool_files(Path(path)) for r in read_rows(file, POOL_COLUMNS))
    for row_number, (where, row) in enumerate(rows):
        problem_id = f"rstar-row{row_number}"
        if dedup:
            key = normalize_statement(row.get("question") or "") if isinstance(row, dict) else ""
            if key in seen:
                continue
            seen.add(key)
            problem_id = "rstar-" + hashlib.sha256(key.encode()).hexdigest()[:16]
        problem = row_problem(where, row, problem_id)
        if problem.question.strip():
            problems.append(problem)
    return problems


def is_stub(completion: str) -> bool:
    """Empty, or at most one non-blank line once markdown fence lines are removed."""
    lines = [ln for ln in completion.splitlines() if ln.strip() and not ln.strip().startswith("```")]
    return len(lines) <= 1


def select_samples(samples: list[Sample], rule: str) -> tuple[list[Sample], dict[str, Any]]:
    """The training samples kept by `rule` (order preserved) and a report of the drops."""
    if rule not in SAMPLE_FILTERS:
        raise ConfigError(f"sample_filter: expected one of {SAMPLE_FILTERS}, got {rule!r}")
    non_empty = [s for s in samples if s.completion.strip()]
    if rule == "none":
        kept = list(samples)
    elif rule == "stubs":
        kept = [s for s in non_empty if not is_stub(s.completion)]
    else:
        lengths = sorted(len(s.completion.strip()) for s in non_empty)
        cutoff = lengths[min(int(len(lengths) * SHORTEST_PERCENT / 100.0), len(lengths) - 1)] if lengths else 0
        kept = [s for s in non_empty if len(s.completion.strip()) >= cutoff]
    report = {"rule": rule, "n_in": len(samples), "n_kept": len(kept),
              "n_empty": len(samples) - len(non_empty), "n_dropped": len(samples) - len(kept)}
    return kept, report


def contamination_key(text: str) -> str:
    return normalize_statement(text.casefold())


def find_contaminated(pool: list[Problem], eval_problems: list[Problem]) -> list[tuple[str, str]]:
    """(pool id, eval id) pairs whose normalized statements match (see the module docstring)."""
    evals = [(e.id, contamination_key(e.question)) for e in eval_problems]
    exact = {key: eid for eid, key in evals}
    long_evals = [(eid, key) for eid, key in evals if len(key) >= MIN_CONTAINED_CHARS]
    pairs = []
    for p in pool:
        key = contamination_key(p.question)
        if key in exact:
            pairs.append((p.id, exact[key]))
            continue
        for eid, ekey in long_evals:
            if ekey in key or (len(key) >= MIN_CONTAINED_CHARS and key in ekey):
                pairs.append((p.id, eid))
                break
    return pairs


def exclude_contaminated(pool: list[Problem], eval_problems: list[Problem], *,
                         exclude: bool = True) -> tuple[list[Problem], dict[str, Any]]:
    """The pool without prompts matching an evaluation problem (unless `exclude` is False), and a report."""
    pairs = find_contaminated(pool, eval_problems)
    flagged = {pid for pid, _ in pairs}
    kept = [p for p in pool if p.id not in flagged] if exclude else list(pool)
    report = {"n_eval_problems": len(eval_problems), "n_matches": len(pairs), "excluded": exclude,
              "matches": [{"pool_id": pid, "eval_id": eid} for pid, eid in pairs]}
    return kept, report
