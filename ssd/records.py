"""The record types that flow between stages, and their JSONL reader and writer.

Guarantees:
- One record type per concept (docs/ARCHITECTURE.md): `Problem`, `Sample`, `Verdict`. Every source (LiveCodeBench,
  HumanEval, the generated CPU benchmark) produces `Problem`; every backend produces `Sample`.
- `read_jsonl` validates each line against the dataclass: a malformed line stops with one
  `RecordError` naming the file, the line, the field and what was expected. Unknown keys are errors.
- `read_rows` reads a parquet or JSONL file of raw rows (problem sources, prompt pools) with the same
  file-and-line error messages; `read_json_objects` the JSONL part.
- `JsonlWriter` appends whole lines and flushes each one, so an interrupted stage leaves only complete
  records (plus at most one partial last line, which `read_jsonl(..., drop_partial_tail=True)` discards).

Does not: deduplicate, sort, or hold more than one record at a time in the writer.
"""
from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from pathlib import Path
from typing import Any, Iterator, TypeVar

VERDICT_STATUSES = (
    "passed", "wrong_answer", "runtime_error", "timeout", "memory_limit", "no_code", "harness_error",
)
PROBLEM_KINDS = ("stdin", "functional", "humaneval")


class RecordError(ValueError):
    """A record that does not match its contract; the message names file, line and field."""


@dataclasses.dataclass
class Problem:
    id: str
    source: str
    question: str
    kind: str  # stdin | functional | humaneval
    tests: list[dict[str, Any]]  # [{"input": ..., "output": ...}]; humaneval: [{"input": "", "output": test code}]
    starter_code: str = ""
    func_name: str = ""
    difficulty: str = ""
    contest_date: str = ""
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)

    def validate(self) -> None:
        if self.kind not in PROBLEM_KINDS:
            raise RecordError(f"field 'kind': expected one of {PROBLEM_KINDS}, got {self.kind!r}")
        if self.kind == "functional" and not self.func_name:
            raise RecordError("field 'func_name': required for functional problems")
        for i, t in enumerate(self.tests):
            if not isinstance(t, dict) or "input" not in t or "output" not in t:
                raise RecordError(f"field 'tests[{i}]': expected an object with 'input' and 'output'")


@dataclasses.dataclass
class Sample:
    problem_id: str
    sample_index: int
    prompt: Any  # text, or a list of chat messages
    completion: str
    finish_reason: str  # stop | length
    n_completion_tokens: int
    decoding: dict[str, Any]  # {temperature, top_k, top_p, min_p, max_tokens}
    seed: int | None = None

    def validate(self) -> None:
        if self.sample_index < 0:
            raise RecordError("field 'sample_index': expected a non-negative integer")


@dataclasses.dataclass
class Verdict:
    problem_id: str
    sample_index: int
    status: str
    tests_passed: int
    tests_total: int
    seconds: float
    detail: str = ""

    def validate(self) -> None:
        if self.status not in VERDICT_STATUSES:
            raise RecordError(f"field 'status': expected one of {VERDICT_STATUSES}, got {self.status!r}")


R = TypeVar("R")


def _type_ok(value: Any, annotation: Any) -> bool:
    if annotation is Any:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin is not None:
        annotation = origin
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


def from_dict(cls: type[R], data: Any, where: str = "") -> R:
    """Build a record from a decoded JSON object, raising `RecordError` with `where` on any mismatch."""
    prefix = f"{where}: " if where else ""
    if not isinstance(data, dict):
        raise RecordError(f"{prefix}expected a JSON object for {cls.__name__}, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise RecordError(f"{prefix}field {unknown[0]!r}: unknown field for {cls.__name__}")
    for name, f in fields.items():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if name not in data:
            if required:
                raise RecordError(f"{prefix}field {name!r}: missing (required by {cls.__name__})")
            continue
        if not _type_ok(data[name], hints[name]):
            raise RecordError(
                f"{prefix}field {name!r}: expected {hints[name]}, got {type(data[name]).__name__}"
            )
    record = cls(**data)
    try:
        record.validate()  # type: ignore[attr-defined]
    except RecordError as e:
        raise RecordError(f"{prefix}{e}") from None
    return record


def to_dict(record: Any) -> dict[str, Any]:
    return dataclasses.asdict(record)


def read_jsonl(path: str | os.PathLike, cls: type[R], drop_partial_tail: bool = False) -> Iterator[R]:
    """Yield records of type `cls` from a JSONL file; errors name file and line.

    With `drop_partial_tail`, an undecodable *last* line without a trailing newline (a write cut short)
    is skipped instead of raising; this is what resuming stages use.
    """
    path = Path(path)
    if not path.exists():
        raise RecordError(f"{path}: file not found")
    with path.open("rb") as fh:
        lines = fh.read().split(b"\n")
    ends_with_newline = lines[-1] == b""
    if ends_with_newline:
        lines.pop()
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        is_tail = lineno == len(lines) and not ends_with_newline
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            if drop_partial_tail and is_tail:
                return
            raise RecordError(f"{path}:{lineno}: not valid UTF-8 JSON ({e})") from None
        yield from_dict(cls, data, where=f"{path}:{lineno}")


def read_json_objects(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) from a JSONL file of arbitrary objects; errors name file and line."""
    path = Path(path)
    if not path.exists():
        raise RecordError(f"{path}: file not found")
    with path.open("r", encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise RecordError(f"{path}:{lineno}: not valid JSON ({e})") from None
            if not isinstance(obj, dict):
                raise RecordError(f"{path}:{lineno}: expected a JSON object")
            yield lineno, obj


def read_rows(path: str | os.PathLike, columns: typing.Sequence[str] | None = None) -> Iterator[tuple[str, dict]]:
    """Yield (where, row) for each row of a `.parquet` file (only those of `columns` it has, when given) or of
    a JSONL file of objects (`read_json_objects`); `where` names the file and the row or line."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq  # noqa: PLC0415 - optional dependency, only for parquet files

        names = pq.read_schema(path).names
        table = pq.read_table(path, columns=None if columns is None else [c for c in columns if c in names])
        for i, row in enumerate(table.to_pylist()):
            yield f"{path}: row {i}", row
        return
    for lineno, obj in read_json_objects(path):
        yield f"{path}:{lineno}", obj


class JsonlWriter:
    """Append-only JSONL writer: one flushed line per record, safe to resume after a kill."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._truncate_partial_tail()
        self._fh = self.path.open("a", encoding="utf-8")

    def _truncate_partial_tail(self) -> None:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with self.path.open("rb+") as fh:
            data = fh.read()
            if data.endswith(b"\n"):
                return
            fh.truncate(data.rfind(b"\n") + 1)

    def write(self, record: Any) -> None:
        obj = record if isinstance(record, dict) else to_dict(record)
        self._fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "JsonlWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def write_jsonl(path: str | os.PathLike, records: typing.Iterable[Any]) -> None:
    """Write records to `path` atomically (a temp file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r if isinstance(r, dict) else to_dict(r), ensure_ascii=False) + "\n")
    os.replace(tmp, path)
