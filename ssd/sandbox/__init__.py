"""Isolated execution of untrusted Python programs: a pool of single-threaded fork servers.

How a program runs. `Sandbox` starts `workers` supervisor processes: fresh interpreters (`python -I`) that are
single-threaded and never execute untrusted code themselves. For each program a supervisor forks a child that,
before the program's first line runs:
- starts its own session and process group;
- keeps only its stderr, a report pipe and, per test, its own stdin (a real pipe carrying that test's input),
  stdout and result pipes (drained by the supervisor, capped at `Limits.max_output_bytes`); every other
  inherited descriptor is closed;
- sets rlimits on address space (none when `Limits.memory_mb` is None, as official grading semantics ask),
  CPU seconds, file size, processes/threads and core files;
- works in a new empty temporary directory (also its HOME and TMPDIR) with a scrubbed environment;
- when the supervisor runs as root, switches to an unprivileged uid/gid unique to that supervisor (so it cannot
  signal the supervisor or the grader, nor write to root-owned files) and is non-dumpable; if that uid could
  not import the standard library, the supervisor keeps root and `Sandbox.info["privilege_drop"]` is False;
- gets SIGKILL if its supervisor dies.
The child then runs the program once per test, like LiveCodeBench does, but each time as a fresh `__main__` (or
`solution`) module on that test's own pipes; it waits for the program's threads and runs its atexit functions
after each test, as interpreter shutdown would. Up to TESTS_PER_PROCESS tests share a process; a program that ends
its process (e.g. `os._exit(0)` after printing) only ends its current test, and the next test gets a new process.
The supervisor enforces the per-test timeout from the child's per-test reports (a forged or out-of-order report
fails the test) and a per-program cap, and kills the process group at a deadline or once the tests are done, then
every remaining descendant: supervisors are child subreapers, so processes that escape the group (setsid, double
fork) come back to the supervisor and are killed; as root, every process of the sandbox uid is killed.
Comparison of outputs never happens in the untrusted process: stdin programs return raw stdout, call-based programs
return the encoded return value, and HumanEval's trusted `check` runs in a separate checker process that calls the
candidate through a pipe and only ever receives plain builtin values (`decode_value`), so neither `sys.exit(0)`
nor patched builtins nor an always-equal object can fake a pass.
As root, each supervisor also lives in a private mount namespace where /tmp, /var/tmp and /dev/shm are fresh tmpfs
(whatever a program leaves there is deleted after it and never reaches the host) and, where the interpreter sits
under a folder other users cannot enter (e.g. /root), only the interpreter's folders are made reachable.
Supervisors try to enter a new network namespace (empty: no network). `Sandbox.info` says which of privilege drop,
network isolation and private tmp are in effect.

Runs on Linux only (fork, pidfd, prctl, namespaces). Does not guarantee: protection against kernel exploits;
isolation when not root (then a program runs as the grader's user: it can read and write that user's files and
signal its processes, and the process limit counts the user's other processes); secrecy of world-readable files;
network isolation where namespaces are not permitted; CPU-time accounting on an oversubscribed machine (timeouts
are wall-clock). Tests of one program share an interpreter (as in LiveCodeBench): modules it imported and builtins
it patched persist to its next test. Modules the supervisor imported (including `Sandbox(preload=...)`) and the
namespace of a job's trusted `prelude` (built in the supervisor) are inherited, not re-created, by each program.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import numbers
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

RAW_STATUSES = ("exited", "error", "timeout", "memory", "output_limit", "harness")
UID_BASE = 200_000  # sandbox uid = UID_BASE + supervisor pid (root only)
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder that holds the ssd package


@dataclasses.dataclass(frozen=True)
class Limits:
    per_test_timeout: float = 6.0  # wall seconds per test (LiveCodeBench's default)
    program_timeout: float | None = None  # wall seconds for all tests of a program; None: LCB's (t + 1) * n + 5
    memory_mb: int | None = 2048  # address space; None: no cap (LiveCodeBench sets none)
    max_output_bytes: int = 8 << 20  # stdout (and call results) per test
    file_size_mb: int = 16
    max_processes: int = 32  # processes and threads of the sandbox uid (root) or extra ones of the user

    def __post_init__(self) -> None:
        for name in ("per_test_timeout", "program_timeout"):
            value = getattr(self, name)
            allowed = value is None and name == "program_timeout"
            if not allowed and not (isinstance(value, (int, float)) and value > 0):
                raise ValueError(f"Limits.{name}: expected a positive number of seconds, got {value}")
        for name in ("memory_mb", "max_output_bytes", "file_size_mb", "max_processes"):
            if not (name == "memory_mb" and self.memory_mb is None) and not getattr(self, name) >= 1:
                raise ValueError(f"Limits.{name}: expected a positive integer, got {getattr(self, name)}")

    def program_cap(self, n_tests: int) -> float:
        """Seconds for all tests of a program with `n_tests` tests."""
        return self.program_timeout or (self.per_test_timeout + 1) * n_tests + 5


@dataclasses.dataclass
class Job:
    """One program and its tests. `inputs[i]` is the stdin text (stdin mode), the JSON text of the encoded argument
    list (call mode), or ignored (check mode: one test, `checker` is trusted code defining `check(candidate)`).
    `prelude` (stdin and call modes) is code whose effect is as if it preceded `code`: it runs once per process and
    each test's module starts from a copy of its namespace. `semantics` "official" (stdin and call modes) runs the
    program in LiveCodeBench's environment instead of as a real interpreter would (ssd.sandbox.official): `code`
    is then the module text LiveCodeBench builds (ssd.grading.official), executed once per process."""

    mode: str
    code: str
    inputs: list[str]
    entry_point: str = ""
    checker: str = ""
    prelude: str = ""
    semantics: str = "strict"


@dataclasses.dataclass
class TestResult:
    status: str  # one of RAW_STATUSES
    seconds: float
    stdout: str = ""
    value: Any = None  # call mode: the encoded return value; check mode: the checker's report
    detail: str = ""


# ---------------------------------------------------------------------------------------------------------------
# Values crossing process boundaries: builtin types only, so a decoded value cannot carry custom behaviour.

def encode_value(value: Any) -> Any:
    """A JSON-able tree for builtins (numbers.Integral/Real are converted); anything else raises TypeError."""
    if value is None or type(value) in (bool, int, str):
        return value
    if isinstance(value, (int, str)):  # subclasses such as IntEnum: their plain value
        return int(value) if isinstance(value, int) else str(value)
    if isinstance(value, float):
        return {"float": repr(float(value))}
    for container in (list, tuple, set, frozenset):
        if isinstance(value, container):
            return {container.__name__: [encode_value(v) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[encode_value(k), encode_value(v)] for k, v in value.items()]}
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    for convert in (_as_int, _as_float):
        converted = convert(value)
        if converted is not None:
            return encode_value(converted)
    raise TypeError(f"cannot return a value of type {type(value).__name__}")


def _as_int(value: Any) -> int | None:
    return int(value) if isinstance(value, numbers.Integral) else None


def _as_float(value: Any) -> float | None:
    return float(value) if isinstance(value, numbers.Real) else None


_CONTAINERS = {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}


def decode_value(tree: Any) -> Any:
    """Inverse of `encode_value`; builds builtin objects only. Malformed trees raise ValueError."""
    if tree is None or type(tree) in (bool, int, str):
        return tree
    if isinstance(tree, dict) and len(tree) == 1:
        (tag, body), = tree.items()
        if tag == "float" and isinstance(body, str):
            return float(body)
        if tag in _CONTAINERS and isinstance(body, list):
            return _CONTAINERS[tag](decode_value(v) for v in body)
        if tag == "dict" and isinstance(body, list):
            return {decode_value(k): decode_value(v) for k, v in body}
        if tag == "bytes" and isinstance(body, str):
            return bytes.fromhex(body)
    raise ValueError(f"not an encoded value: {str(tree)[:80]}")


def kill_process_group(pid: int) -> None:
    """SIGKILL the process group led by `pid` and the process itself; gone ones are ignored."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# ---------------------------------------------------------------------------------------------------------------
# The grader side: a pool of supervisors (ssd.sandbox.supervisor), each running programs in children
# (ssd.sandbox.child).

_BOOT = f"import sys; sys.path.insert(0, {PACKAGE_ROOT!r}); from ssd.sandbox.supervisor import serve; serve()"


class _Worker:
    def __init__(self, limits: Limits, preload: tuple[str, ...]):
        self.proc = subprocess.Popen([sys.executable, "-I", "-c", _BOOT], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, cwd="/", close_fds=True)
        self.send({"limits": dataclasses.asdict(limits), "preload": list(preload)})
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("sandbox worker failed to start")
        self.info = json.loads(line)
        self.job: int | None = None
        self.started = 0.0

    def send(self, obj: Any) -> None:
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        self.proc.stdin.flush()

    def close(self, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if not stream.closed:
                stream.close()
        if self.info.get("uid") is not None:
            _kill_uid_from_outside(self.info["uid"])


def _kill_uid_from_outside(uid: int) -> None:
    """After a worker died: kill what its sandbox uid still runs (root only), found through /proc."""
    for _ in range(100):
        victims = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/status") as fh:
                    uids = next(line for line in fh if line.startswith("Uid:")).split()[1:]
            except (OSError, StopIteration):
                continue
            if str(uid) in uids:
                victims.append(int(entry))
        if not victims:
            return
        for pid in victims:
            kill_process_group(pid)
        time.sleep(0.01)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


class Sandbox:
    """A pool of supervisors. `run(jobs)` returns per-job test results in job order; use as a context manager.
    `preload` names modules each supervisor imports once so that forked programs inherit them (speed only)."""

    def __init__(self, workers: int | None = None, limits: Limits | None = None, preload: tuple[str, ...] = ()):
        self.limits = limits or Limits()
        self.preload = tuple(preload)
        self.workers = [_Worker(self.limits, self.preload) for _ in range(workers or default_workers())]
        self.info = dict(self.workers[0].info)
        self.info.pop("uid")

    def run(self, jobs: list[Job]) -> list[list[TestResult]]:
        results: list[list[TestResult] | None] = [None] * len(jobs)
        for index, result in self.run_unordered(jobs):
            results[index] = result
        return results  # type: ignore[return-value]

    def run_unordered(self, jobs: list[Job]) -> Iterator[tuple[int, list[TestResult]]]:
        """Yield (job index, results) as jobs finish. A dead or stuck worker yields a 'harness' result."""
        pending = collections.deque(range(len(jobs)))
        selector = selectors.DefaultSelector()
        try:
            for worker in self.workers:
                selector.register(worker.proc.stdout, selectors.EVENT_READ, worker)
            while pending or any(w.job is not None for w in self.workers):
                for worker in self.workers:
                    if worker.job is None and pending:
                        worker.job, worker.started = pending.popleft(), time.monotonic()
                        try:
                            worker.send(dataclasses.asdict(jobs[worker.job]))
                        except BrokenPipeError:
                            pass  # seen as EOF below
                for key, _ in selector.select(timeout=1.0):
                    worker = key.data
                    line = worker.proc.stdout.readline()
                    index = worker.job
                    if line:
                        worker.job = None
                        yield index, [TestResult(**r) for r in json.loads(line)]
                        continue
                    self._replace(selector, worker)
                    if index is not None:
                        yield index, [TestResult("harness", 0.0, detail="sandbox worker died")]
                for worker in list(self.workers):
                    if worker.job is None:
                        continue
                    budget = self.limits.program_cap(len(jobs[worker.job].inputs)) + 30
                    if time.monotonic() - worker.started > budget:
                        index = worker.job
                        yield index, [TestResult("harness", budget, detail="sandbox worker stopped responding")]
                        self._replace(selector, worker)
        finally:  # a consumer that stops early must not leave a stale answer in a busy worker
            for worker in list(self.workers):
                if worker.job is not None:
                    self._replace(selector, worker)
            selector.close()

    def _replace(self, selector: selectors.BaseSelector, worker: _Worker) -> None:
        selector.unregister(worker.proc.stdout)
        worker.close(kill=True)
        fresh = _Worker(self.limits, self.preload)
        self.workers[self.workers.index(worker)] = fresh
        selector.register(fresh.proc.stdout, selectors.EVENT_READ, fresh)

    def close(self) -> None:
        for worker in self.workers:
            worker.close()
        self.workers = []

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
