"""Problem sets and prompt pools: where problems come from, chosen by kind in one table each.

Public API: `load_livecodebench`, `load_humaneval`, `read_problems`, `write_problems` (ssd.data.problems),
`load_rstar_seed`, `select_samples`, `exclude_contaminated`, `find_contaminated` (ssd.data.pools), and
`load_benchmark(spec)` / `load_prompt_pool(spec)`, which pick the loader by `spec.kind` from
`BENCHMARK_LOADERS` / `POOL_LOADERS` (the only place a kind is mapped to a loader).

Guarantees: relative paths resolve against `base_dir` when the file exists there (experiment files name
data relative to themselves), else against the current folder. Nothing is downloaded.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

from ssd.data.pools import exclude_contaminated, find_contaminated, load_rstar_seed, select_samples
from ssd.data.problems import as_problem_dict, load_humaneval, load_livecodebench, read_problems, write_problems
from ssd.records import Problem

__all__ = [
    "BENCHMARK_LOADERS", "POOL_LOADERS", "as_problem_dict", "exclude_contaminated", "find_contaminated",
    "load_benchmark", "load_humaneval", "load_livecodebench", "load_problems", "load_prompt_pool",
    "load_rstar_seed", "read_problems", "select_samples", "write_problems",
]


def _window(spec: Any) -> dict[str, str]:
    """A benchmark spec's [start, end) date window (overriding its release's), as load_livecodebench arguments."""
    window = getattr(spec, "window", None) or ()
    return dict(zip(("start", "end"), window))


# kind -> loader(path, spec); `spec` carries the kind's own options (release, dedup).
BENCHMARK_LOADERS: dict[str, Callable[[Path, Any], dict[str, Problem]]] = {
    "livecodebench": lambda path, spec: load_livecodebench(path, spec.release, **_window(spec)),
    "humaneval": lambda path, spec: load_humaneval(),
    "problems": lambda path, spec: read_problems(path),
}
POOL_LOADERS: dict[str, Callable[[Path, Any], list[Problem]]] = {
    "rstar_seed_sft": lambda path, spec: load_rstar_seed(path, dedup=spec.dedup),
    "problems": lambda path, spec: list(read_problems(path).values()),
}


def resolve_path(path: str, base_dir: str | Path | None) -> Path:
    if base_dir is not None and not Path(path).is_absolute() and (Path(base_dir) / path).exists():
        return Path(base_dir) / path
    return Path(path)


def load_benchmark(spec: Any, base_dir: str | Path | None = None) -> dict[str, Problem]:
    """The problems of one benchmark spec (`kind`, `path`, and the kind's options)."""
    return BENCHMARK_LOADERS[spec.kind](resolve_path(spec.path, base_dir), spec)


def load_problems(source: str | Path) -> dict[str, Problem]:
    """A problem set named on a command line: "humaneval", or a JSONL of Problem records."""
    return load_humaneval() if str(source) == "humaneval" else read_problems(source)


def load_prompt_pool(spec: Any, base_dir: str | Path | None = None,
                     exclude: Iterable[Problem] = ()) -> dict[str, Problem]:
    """The unlabeled SSD prompts (rStar-Coder seed_sft or a JSONL of problems), first `limit` of them,
    without any prompt that matches a problem of `exclude` (the contamination guard of ssd.data.pools)."""
    pool = POOL_LOADERS[spec.kind](resolve_path(spec.path, base_dir), spec)
    pool = pool[: spec.limit] if spec.limit else pool
    return as_problem_dict(exclude_contaminated(pool, list(exclude))[0])
