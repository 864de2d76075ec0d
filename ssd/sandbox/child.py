"""What runs inside a forked, sandboxed child of a supervisor (see ssd.sandbox for the whole design).

Guarantees: `enter_sandbox` runs before any untrusted code and sets the child's session, descriptors, rlimits,
directory, environment and identity; if it fails the child exits with EXIT_SETUP before running anything.
`run_tests_in_process` says "ready" once the sandbox is entered, then runs the program once per test on that
test's own pipes and reports "k exit-code" (or "k memory") per test;
`serve_candidate` answers a checker's calls; `run_checker` runs trusted HumanEval test code against a proxy whose
answers are decoded into builtin values only.

Does not: compare outputs (the grader does), or protect itself from the program it runs (nothing here is trusted
after the program's first line, which is why the supervisor only believes what it can check).
"""
from __future__ import annotations

import atexit
import ctypes
import fcntl
import io
import json
import math
import os
import resource
import signal
import sys
import tempfile
import threading
import traceback
import types
from typing import Any

from ssd.sandbox import Job, Limits, decode_value, encode_value
# Imported here, in the fork server: a child sees a private tmpfs at /tmp, so a package installed under /tmp could
# not be imported from inside it.
from ssd.sandbox.official import apply_lcb_guard, run_wrapped

EXIT_SETUP = 4  # the child could not enter the sandbox (the program never ran)
MEMORY = "memory"  # reported instead of an exit code when the program died of MemoryError
CONTROL_FD, TEST_FD = 3, 4  # per-test reports; first test's stdin, stdout, result (then +3 per test)
SANDBOX_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONIOENCODING": "utf-8"}
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 1, 4, 36
_PROGRAM_STREAMS: list[Any] = []  # the child's original stdout/stderr, flushed at exit even if replaced


def prctl(option: int, value: int) -> bool:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def enter_sandbox(limits: Limits, workdir: str, uid: int | None, fds: dict[int, int], cpu_seconds: float) -> None:
    """Runs first in a forked child: session, descriptors, rlimits, directory, environment, identity."""
    os.setsid()
    moved = {target: fcntl.fcntl(source, fcntl.F_DUPFD, 64) for target, source in fds.items()}
    for target, temp in moved.items():
        os.dup2(temp, target)
    keep = sorted(fds)
    low = 0
    for fd in keep + [resource.getrlimit(resource.RLIMIT_NOFILE)[0]]:
        if fd > low:  # os.closerange(n, n) would close everything (close_range with high = -1)
            os.closerange(low, fd)
        low = fd + 1
    cpu = math.ceil(cpu_seconds) + 1
    memory = (limits.memory_mb << 20,) * 2 if limits.memory_mb is not None else resource.getrlimit(resource.RLIMIT_AS)
    processes = limits.max_processes if uid is not None else _user_process_count() + limits.max_processes
    for rlimit, value in ((resource.RLIMIT_CPU, (cpu, cpu + 1)), (resource.RLIMIT_AS, memory),
                          (resource.RLIMIT_FSIZE, (limits.file_size_mb << 20,) * 2),
                          (resource.RLIMIT_CORE, (0, 0)), (resource.RLIMIT_NOFILE, (256, 256)),
                          (resource.RLIMIT_NPROC, (processes, processes))):
        resource.setrlimit(rlimit, value)
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update(SANDBOX_ENV, HOME=workdir, TMPDIR=workdir)
    tempfile.tempdir = None
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    prctl(PR_SET_DUMPABLE, 0)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    atexit._clear()  # the supervisor's exit handlers are not the program's
    sys.argv = ["solution.py"]
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
                                                   encoding="utf-8", errors="backslashreplace",
                                                   line_buffering=True)
    _bind_std_streams()


def _user_process_count() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                count += os.stat(f"/proc/{entry}").st_uid == uid
            except OSError:
                pass
    return count


def _bind_std_streams() -> None:
    """Fresh sys.stdin/sys.stdout over descriptors 0 and 1 (a new test's pipes)."""
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)),
                                                 encoding="utf-8", errors="replace")
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)),
                                                   encoding="utf-8", errors="backslashreplace")
    _PROGRAM_STREAMS[:] = [sys.stdout, sys.stderr]


def _guarded(body: Any) -> int | str:
    """Run the program's code; the exit code a fresh interpreter would have reported for it."""
    try:
        body()
        return 0
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        print(e.code, file=sys.stderr)
        return 1
    except MemoryError:
        return MEMORY
    except BaseException:  # noqa: BLE001 - any exception of the program is its runtime error
        try:
            traceback.print_exc()
        except BaseException:  # noqa: BLE001
            pass
        return 1


def _finish_like_python(code: int | str) -> int | str:
    """What interpreter shutdown does for a program: wait for its threads, run its atexit functions, flush."""
    try:
        for thread in threading.enumerate():
            if thread is not threading.main_thread() and not thread.daemon:
                thread.join()
        atexit._run_exitfuncs()
        atexit._clear()
    except BaseException:  # noqa: BLE001 - the program's own shutdown failed
        code = code or 1
    for stream in (sys.stdout, sys.stderr, *_PROGRAM_STREAMS):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - e.g. the program closed stdout
            code = code or 120
    return code


_PRELUDES: dict[str, dict[str, Any]] = {}  # prelude code -> the namespace it builds


def prelude_namespace(prelude: str) -> dict[str, Any]:
    """The names a (trusted) prelude defines, built once per process; the supervisor builds it before forking."""
    if prelude not in _PRELUDES:
        namespace: dict[str, Any] = {}
        exec(compile(prelude, "prelude.py", "exec", dont_inherit=True), namespace)  # noqa: S102 - trusted code
        namespace.pop("__builtins__", None)
        _PRELUDES[prelude] = namespace
    return _PRELUDES[prelude]


def _load_program(code: str, name: str, prelude: str = "") -> types.ModuleType:
    module = types.ModuleType(name)
    if prelude:
        module.__dict__.update(prelude_namespace(prelude))
    module.__file__ = "solution.py"
    sys.modules[name] = module
    program = compile(code, "solution.py", "exec", dont_inherit=True)  # no __future__ flags of this module
    exec(program, module.__dict__)  # noqa: S102 - inside the sandbox
    return module


def _find_callable(module: types.ModuleType, name: str) -> Any:
    if "Solution" in module.__dict__:  # LiveCodeBench: class Solution methods, else a plain function
        return getattr(module.Solution(), name)
    return getattr(module, name)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def run_tests_in_process(job: Job, first: int, count: int, limits: Limits) -> None:
    """Stdin and call modes: tests first .. first+count-1 in this process, test k on its own pipes (descriptors
    TEST_FD + 3k: stdin, stdout, result). Reports on CONTROL_FD: "ready" before the program first runs, then
    "k exit-code" (or "k memory") after each test."""
    devnull = os.open(os.devnull, os.O_RDWR)
    if job.semantics == "official":
        _run_official_tests(job, first, count, devnull, limits)
    _write_all(CONTROL_FD, b"ready\n")
    for k in range(count):
        index, base = first + k, TEST_FD + 3 * k
        os.dup2(base, 0)
        os.dup2(base + 1, 1)
        os.close(base)
        os.close(base + 1)
        _bind_std_streams()
        if job.mode == "stdin":
            code = _guarded(lambda: _load_program(job.code, "__main__", job.prelude))
        else:
            def call(index: int = index, result_fd: int = base + 2) -> None:
                function = _find_callable(_load_program(job.code, "solution", job.prelude), job.entry_point)
                value = function(*decode_value(json.loads(job.inputs[index])))
                _write_all(result_fd, json.dumps(encode_value(value)).encode())
            code = _guarded(call)
        code = _finish_like_python(code)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.close(base + 2)
        _write_all(CONTROL_FD, f"{k} {code}\n".encode())
    os._exit(0)


def _official_entry(job: Job) -> Any:
    """Execute LiveCodeBench's module text once: its `wrapped_function`, or the method or function to call (on one
    `Solution()` when the text says 'class Solution', as LiveCodeBench decides)."""
    module = types.ModuleType("tmp_sol")
    exec(compile(job.code, "solution.py", "exec", dont_inherit=True), module.__dict__)  # noqa: S102 - in the sandbox
    if job.mode == "stdin":
        return module.wrapped_function
    holder = module.Solution() if "class Solution" in job.code else module
    return getattr(holder, job.entry_point)


def _run_official_tests(job: Job, first: int, count: int, devnull: int, limits: Limits) -> None:
    """`run_tests_in_process` in LiveCodeBench's environment (ssd.sandbox.official): descriptors 0 and 1 are empty
    while the program runs, the module is executed once for all tests of this process, a stdin test's captured
    output is written to its stdout pipe afterwards, and threads are not waited for."""
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    _bind_std_streams()
    process_stdin = sys.stdin
    apply_lcb_guard()
    _write_all(CONTROL_FD, b"ready\n")
    entry: list[Any] = []
    for k in range(count):
        index, base = first + k, TEST_FD + 3 * k
        os.close(base)  # the input reaches the program through LiveCodeBench's mocks only

        def test(index: int = index, stdout_fd: int = base + 1, result_fd: int = base + 2) -> None:
            if not entry:
                entry.append(_official_entry(job))
            if job.mode == "stdin":
                captured = run_wrapped(entry[0], job.inputs[index], process_stdin, limits.max_output_bytes)
                _write_all(stdout_fd, captured.encode("utf-8", errors="backslashreplace"))
            else:
                value = entry[0](*decode_value(json.loads(job.inputs[index])))
                _write_all(result_fd, json.dumps(encode_value(value)).encode())
        code = _guarded(test)
        os.close(base + 1)
        os.close(base + 2)
        _write_all(CONTROL_FD, f"{k} {1 if code == MEMORY else code}\n".encode())  # MemoryError: a runtime error
    os._exit(0)


def serve_candidate(job: Job) -> None:
    """Check mode, untrusted side: answer call requests (one JSON line each) from the checker on fd 3/4."""
    def body() -> None:
        function = getattr(_load_program(job.code, "solution"), job.entry_point)
        requests = io.BufferedReader(io.FileIO(3, "r", closefd=False))
        for line in requests:
            try:
                reply = {"value": encode_value(function(*decode_value(json.loads(line))))}
            except MemoryError:
                reply = {"error": "MemoryError", "memory": True}
            except Exception as e:  # noqa: BLE001 - reported to the checker
                reply = {"error": f"{type(e).__name__}: {e}"[:500]}
            _write_all(4, (json.dumps(reply) + "\n").encode())
    code = _finish_like_python(_guarded(body))
    os._exit(code if isinstance(code, int) else 1)


class CandidateFailure(BaseException):
    """Raised in the checker when the candidate errs or dies; a BaseException so test code cannot swallow it."""


def run_checker(job: Job) -> None:
    """Check mode, trusted side: run `check(candidate)` with a proxy; report the outcome on fd 5."""
    requests = io.FileIO(3, "w", closefd=False)
    replies = io.BufferedReader(io.FileIO(4, "r", closefd=False))

    def candidate(*args: Any) -> Any:
        try:
            _write_all(requests.fileno(), (json.dumps(encode_value(list(args))) + "\n").encode())
        except BrokenPipeError:
            raise CandidateFailure("the candidate exited before answering") from None
        line = replies.readline()
        if not line:
            raise CandidateFailure("the candidate exited before answering")
        try:
            reply = json.loads(line)
            if "error" in reply:
                raise CandidateFailure(("memory: " if reply.get("memory") else "") + str(reply["error"]))
            return decode_value(reply["value"])
        except (ValueError, TypeError, KeyError, RecursionError):
            raise CandidateFailure("malformed reply from the candidate") from None

    try:
        namespace: dict[str, Any] = {"__name__": "checker"}
        checker = compile(job.checker, "checker.py", "exec", dont_inherit=True)
        exec(checker, namespace)  # noqa: S102 - trusted test code
        namespace[job.entry_point] = candidate  # some tests call the function by name (HumanEval/33)
        namespace["check"](candidate)
        report = {"outcome": "passed"}
    except CandidateFailure as e:
        report = {"outcome": "candidate_error", "detail": str(e)[:500]}
    except BaseException as e:  # noqa: BLE001 - a failed assertion or an error in the test
        report = {"outcome": "failed", "detail": f"{type(e).__name__}: {e}"[:500]}
    _write_all(5, json.dumps(report).encode())
    os._exit(0)


