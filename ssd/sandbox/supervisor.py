"""The supervisor: a single-threaded fork server that runs programs in sandboxed children (see ssd.sandbox).

Guarantees: `serve()` reads one JSON job per line and answers one JSON list of test results per line; a bug in
here becomes a "harness" result, never a verdict. Per program it forks children through ssd.sandbox.child, feeds
inputs, collects capped outputs, enforces the per-test and per-program deadlines, and afterwards kills every
descendant (it is a child subreaper) and removes the program's files. As root it first isolates itself: a new
network namespace, and a private mount namespace with fresh tmpfs /tmp, /var/tmp, /dev/shm in which the sandbox
uid can reach the interpreter.

Does not: judge outputs, or run any untrusted code in its own process.
"""
from __future__ import annotations

import collections
import ctypes
import dataclasses
import importlib
import json
import math
import os
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from ssd.sandbox import UID_BASE, Job, Limits, TestResult, kill_process_group
from ssd.sandbox.child import (CONTROL_FD, EXIT_SETUP, MEMORY, PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE,
                               PR_SET_PDEATHSIG, TEST_FD, enter_sandbox, prctl, prelude_namespace, run_checker,
                               run_tests_in_process, serve_candidate)

STDERR_TAIL = 2000  # characters of a program's stderr kept for the verdict's detail
TESTS_PER_PROCESS = 8  # tests run in one process before a fresh one is forked (bounds the pipes held)
SINGLE_THREADED_LIBRARIES = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
SHARED_TMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
CLONE_NEWNET, CLONE_NEWNS = 0x40000000, 0x00020000
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18


@dataclasses.dataclass
class _TestPipes:
    """The supervisor's ends of one test's pipes and what it still has to send."""

    stdin: int | None
    data: bytes
    stdout: int
    result: int
    sent: int = 0


@dataclasses.dataclass
class _Progress:
    """Where a batch stands: results so far, whether the driver said it is ready, and the current test's clock."""

    per_test_timeout: float
    program_deadline: float
    results: list[TestResult] = dataclasses.field(default_factory=list)
    ready: bool = False
    forged: bool = False
    started: float = dataclasses.field(default_factory=time.monotonic)

    @property
    def deadline(self) -> float:
        return min(self.started + self.per_test_timeout, self.program_deadline)


class _PipeSet:
    """Pipes for one child; the child's ends are closed right after fork, the rest when the test is over."""

    def __init__(self) -> None:
        self.child_ends: list[int] = []
        self.own_ends: list[int] = []

    def make(self, child_reads: bool, internal: bool = False) -> tuple[int, int]:
        r, w = os.pipe()
        if internal:  # both ends belong to children (checker <-> candidate)
            self.child_ends += [r, w]
        else:
            self.child_ends.append(r if child_reads else w)
            self.own_ends.append(w if child_reads else r)
        return r, w

    def close_child_ends(self) -> None:
        while self.child_ends:
            os.close(self.child_ends.pop())

    def close_own(self, fd: int) -> None:
        self.own_ends.remove(fd)
        os.close(fd)

    def close(self) -> None:
        self.close_child_ends()
        while self.own_ends:
            os.close(self.own_ends.pop())


class _Supervisor:
    def __init__(self, limits: Limits):
        self.limits = limits
        self.uid = UID_BASE + os.getpid() if os.geteuid() == 0 else None
        self.devnull = os.open(os.devnull, os.O_RDWR)

    def _fork(self, workdir: str, fds: dict[int, int], cpu_seconds: float, run: Any) -> int:
        pid = os.fork()
        if pid == 0:
            try:
                enter_sandbox(self.limits, workdir, self.uid, fds, cpu_seconds)
            except BaseException:  # noqa: BLE001 - reported on the child's stderr when it is already in place
                try:
                    os.write(2, traceback.format_exc().encode()[-STDERR_TAIL:])
                finally:
                    os._exit(EXIT_SETUP)
            try:
                run()
            finally:
                os._exit(1)  # run() ends the process itself: getting here means the program broke the driver
        return pid

    def run_job(self, job: Job) -> list[TestResult]:
        program_deadline = time.monotonic() + self.limits.program_cap(len(job.inputs))
        workdir = tempfile.mkdtemp(prefix="ssd-sandbox-")
        try:
            if self.uid is not None:
                os.chown(workdir, self.uid, self.uid)
            os.chmod(workdir, 0o700)
            if job.mode == "check":
                return self._run_check(job, workdir, program_deadline)
            if job.prelude:
                prelude_namespace(job.prelude)  # trusted code, built once here and inherited by every fork
            results: list[TestResult] = []
            while len(results) < len(job.inputs) and time.monotonic() < program_deadline:
                first = len(results)
                count = min(TESTS_PER_PROCESS, len(job.inputs) - first)
                results += self._run_batch(job, first, count, workdir, program_deadline)
                if results[-1].status != "exited":
                    break
            return results
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            self._remove_shared_tmp_files()

    def _run_batch(self, job: Job, first: int, count: int, workdir: str, deadline: float) -> list[TestResult]:
        pipes = _PipeSet()
        try:
            control_r, control_w = pipes.make(child_reads=False)
            err_r, err_w = pipes.make(child_reads=False)
            fds = {0: self.devnull, 1: self.devnull, 2: err_w, CONTROL_FD: control_w}
            tests = []
            for k in range(count):
                in_r, in_w = pipes.make(child_reads=True)
                out_r, out_w = pipes.make(child_reads=False)
                res_r, res_w = pipes.make(child_reads=False)
                fds.update({TEST_FD + 3 * k: in_r, TEST_FD + 3 * k + 1: out_w, TEST_FD + 3 * k + 2: res_w})
                fed = job.mode == "stdin" and job.semantics != "official"  # official: the input is mocked
                data = job.inputs[first + k].encode() if fed else b""
                tests.append(_TestPipes(in_w, data, out_r, res_r))
            cpu = deadline - time.monotonic()
            pid = self._fork(workdir, fds, cpu, lambda: run_tests_in_process(job, first, count, self.limits))
            pipes.close_child_ends()
            return self._supervise([pid], pipes, tests, control_r, err_r, deadline, parse_result=job.mode == "call")
        finally:
            pipes.close()
            self._kill_descendants()

    def _run_check(self, job: Job, workdir: str, deadline: float) -> list[TestResult]:
        pipes = _PipeSet()
        try:
            out_r, out_w = pipes.make(child_reads=False)
            err_r, err_w = pipes.make(child_reads=False)
            res_r, res_w = pipes.make(child_reads=False)
            call_r, call_w = pipes.make(child_reads=True, internal=True)
            reply_r, reply_w = pipes.make(child_reads=True, internal=True)
            cpu = deadline - time.monotonic()
            candidate = self._fork(workdir, {0: self.devnull, 1: out_w, 2: err_w, 3: call_r, 4: reply_w}, cpu,
                                   lambda: serve_candidate(job))
            quiet = {0: self.devnull, 1: self.devnull, 2: self.devnull}
            checker = self._fork(workdir, {**quiet, 3: call_w, 4: reply_r, 5: res_w}, cpu, lambda: run_checker(job))
            pipes.close_child_ends()
            return self._supervise([checker, candidate], pipes, [_TestPipes(None, b"", out_r, res_r)], None, err_r,
                                   deadline, parse_result=True)
        finally:
            pipes.close()
            self._kill_descendants()

    def _supervise(self, pids: list[int], pipes: _PipeSet, tests: list[_TestPipes], control: int | None,
                   stderr: int, program_deadline: float, parse_result: bool) -> list[TestResult]:
        """Feed inputs, collect outputs, follow the per-test reports on `control`; stop at the first test that
        does not exit cleanly, at a deadline, at an output over the cap, or when the main process exits."""
        main = pids[0]
        pidfd = os.pidfd_open(main)
        poller = select.poll()
        roles: dict[int, tuple[str, int]] = {pidfd: ("exit", 0), stderr: ("stderr", 0)}
        if control is not None:
            roles[control] = ("control", 0)
        for k, test in enumerate(tests):
            roles[test.stdout], roles[test.result] = ("stdout", k), ("result", k)
            if test.stdin is not None:
                roles[test.stdin] = ("stdin", k)
                os.set_blocking(test.stdin, False)
        for fd, (role, _) in roles.items():
            poller.register(fd, select.POLLOUT if role == "stdin" else select.POLLIN)
        buffers = {(role, k): bytearray() for role, k in roles.values() if role != "stdin"}
        run = _Progress(self.limits.per_test_timeout, program_deadline)
        timed_out = over = exited = finished = False
        try:
            while not (timed_out or over or exited or finished):
                remaining = run.deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    break
                for fd, _ in poller.poll(max(1, math.ceil(remaining * 1000))):
                    if fd not in roles:
                        continue
                    role, k = roles[fd]
                    if role == "exit":
                        exited = True
                    elif role == "stdin":
                        self._feed(tests[k], pipes, poller, roles)
                    else:
                        within_cap, at_end = self._read(fd, buffers[(role, k)], role)
                        over |= not within_cap
                        if at_end:
                            poller.unregister(fd)
                            roles.pop(fd)
                finished = control is not None and self._accept_reports(run, tests, buffers, parse_result)
            status_word = os.waitpid(main, 0)[1] if exited else None
        finally:
            os.close(pidfd)
            for test in tests:
                if test.stdin is not None:
                    pipes.close_own(test.stdin)
                    test.stdin = None
            for pid in pids:
                kill_process_group(pid)
            self._kill_descendants()
        if exited and control is not None and not finished:
            self._read(control, buffers[("control", 0)], "control", drain=True)
            finished = self._accept_reports(run, tests, buffers, parse_result)
        if finished and not run.forged:
            return run.results
        current = len(run.results)
        self._drain_test(tests[current], buffers, current)
        self._read(stderr, buffers[("stderr", 0)], "stderr", drain=True)
        elapsed = round(time.monotonic() - run.started, 4)
        if run.forged:
            run.results.append(TestResult("error", elapsed, detail="the program forged a progress report"))
        elif timed_out:
            run.results.append(TestResult("timeout", elapsed, detail="per-test or per-program time limit"))
        elif over:
            run.results.append(TestResult("output_limit", elapsed,
                                          detail=f"output over {self.limits.max_output_bytes} bytes"))
        else:
            run.results.append(self._result(current, None, status_word, run.ready, buffers, elapsed, parse_result))
        return run.results

    def _accept_reports(self, run: _Progress, tests: list[_TestPipes], buffers: dict, parse_result: bool) -> bool:
        """Turn complete report lines into results; True once the batch is over (a test that did not exit
        cleanly, the last test done, or a report the driver could not have sent, which sets `run.forged`)."""
        control = buffers[("control", 0)]
        while b"\n" in control:
            line, _, rest = bytes(control).partition(b"\n")
            control[:] = rest
            if line == b"ready" and not run.ready:
                run.ready = True
                continue
            k, _, code = line.decode("ascii", errors="replace").partition(" ")
            if not run.ready or k != str(len(run.results)) or not (code == MEMORY or code.lstrip("-").isdigit()):
                run.forged = True
                return True
            self._drain_test(tests[int(k)], buffers, int(k))
            elapsed = round(time.monotonic() - run.started, 4)
            run.results.append(self._result(int(k), code if code == MEMORY else int(code), None, True, buffers,
                                            elapsed, parse_result))
            run.started = time.monotonic()
            if run.results[-1].status != "exited" or len(run.results) == len(tests):
                return True
        return False

    def _feed(self, test: _TestPipes, pipes: _PipeSet, poller: select.poll, roles: dict) -> None:
        try:
            test.sent += os.write(test.stdin, test.data[test.sent:test.sent + 65536])
        except BlockingIOError:
            return
        except BrokenPipeError:  # the program stopped reading: that is its right
            test.sent = len(test.data)
        if test.sent >= len(test.data):
            poller.unregister(test.stdin)
            roles.pop(test.stdin)
            pipes.close_own(test.stdin)
            test.stdin = None

    def _read(self, fd: int, buffer: bytearray, role: str, drain: bool = False) -> tuple[bool, bool]:
        """Read what is available (all of it when draining): (within the stream's cap, reached end of file)."""
        if drain:
            os.set_blocking(fd, False)
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                return True, False
            if not chunk:
                return True, True
            buffer += chunk
            if role == "stderr" and len(buffer) > STDERR_TAIL:
                del buffer[:-STDERR_TAIL]
            elif len(buffer) > (self.limits.max_output_bytes if role != "control" else 1 << 20):
                return False, False
            if not drain:
                return True, False

    def _drain_test(self, test: _TestPipes, buffers: dict, k: int) -> None:
        for role, fd in (("stdout", test.stdout), ("result", test.result)):
            self._read(fd, buffers[(role, k)], role, drain=True)

    def _result(self, k: int, code: int | str | None, status_word: int | None, ready: bool, buffers: dict,
                seconds: float, parse_result: bool) -> TestResult:
        """A test's result from the code the driver reported, or (code None) from how the process ended."""
        stderr = buffers[("stderr", 0)].decode("utf-8", errors="replace")[-STDERR_TAIL:]
        result = TestResult("exited", seconds, buffers[("stdout", k)].decode("utf-8", errors="replace"),
                            detail=stderr)
        if code is None:
            if os.WIFSIGNALED(status_word):
                sig = os.WTERMSIG(status_word)
                result.status = "timeout" if sig == signal.SIGXCPU else "error"
                result.detail = f"killed by signal {signal.Signals(sig).name}; {stderr}"
                return result
            code = os.WEXITSTATUS(status_word)
            if code == EXIT_SETUP and not ready:
                result.status, result.detail = "harness", f"the sandbox could not start the program; {stderr}"
                return result
        if max(len(buffers[("stdout", k)]), len(buffers[("result", k)])) > self.limits.max_output_bytes:
            result.status, result.detail = "output_limit", f"output over {self.limits.max_output_bytes} bytes"
        elif code == MEMORY:
            result.status = "memory"
        elif code != 0:
            result.status, result.detail = "error", f"exit code {code}; {stderr}"
        elif parse_result:
            try:
                result.value = json.loads(bytes(buffers[("result", k)]))
            except (ValueError, RecursionError):
                result.status, result.detail = "error", f"no readable result from the program; {stderr}"
        return result

    def _kill_descendants(self) -> None:
        """Kill and reap every process below this supervisor (escaped ones are reparented here: subreaper).
        Direct children are killed with their groups first; if more keep appearing, every process of the sandbox
        uid is killed at once."""
        for attempt in range(10_000):
            children = _children()
            if not children:
                return
            if attempt and self.uid is not None:
                _kill_uid(self.uid)
            for pid in children:
                kill_process_group(pid)
            for pid in children:
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass
        raise RuntimeError("could not kill the sandboxed processes")

    def _remove_shared_tmp_files(self) -> None:
        if self.uid is None:
            return
        for directory in SHARED_TMP_DIRS:
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.stat(follow_symlinks=False).st_uid != self.uid:
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        os.unlink(entry.path)
                except OSError:
                    pass


def _kill_uid(uid: int) -> None:
    """kill(-1) as `uid`: signals every process of that uid, wherever it is in the tree."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _children() -> list[int]:
    me = os.getpid()
    try:
        with open(f"/proc/{me}/task/{me}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        found = []
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == me:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
        return found


def _closed_ancestor(path: str) -> tuple[str, str] | None:
    """(first ancestor others cannot traverse, its child on the way to `path`), or None if reachable."""
    parts = Path(path).resolve().parts
    for depth in range(1, len(parts)):
        ancestor = os.path.join(*parts[:depth])
        if not os.stat(ancestor).st_mode & 0o001:
            return ancestor, os.path.join(*parts[:depth + 1])
    return None


def _expose_interpreter(libc: Any) -> None:
    """In a private mount namespace, let other users reach the interpreter's own folders (e.g. a Python under a
    0700 /root): the closed folder is covered by a tmpfs that contains only bind mounts of the needed children."""
    needed: dict[str, set[str]] = collections.defaultdict(set)
    for path in {sys.prefix, sys.base_prefix, *sys.path}:
        found = _closed_ancestor(path) if path and os.path.isdir(path) else None
        if found:
            needed[found[0]].add(found[1])
    if not needed:
        return
    staging = tempfile.mkdtemp(prefix="ssd-sandbox-mounts-")
    for closed, children in needed.items():
        held = {}
        for child in children:
            held[child] = os.path.join(staging, str(len(os.listdir(staging))))
            os.mkdir(held[child])
            libc.mount(child.encode(), held[child].encode(), None, MS_BIND | MS_REC, None)
        if libc.mount(b"tmpfs", closed.encode(), b"tmpfs", 0, b"mode=755,size=1m") != 0:
            continue
        for child, source in held.items():
            os.mkdir(child)
            libc.mount(source.encode(), child.encode(), None, MS_BIND | MS_REC, None)


def _isolate_filesystem(libc: Any) -> bool:
    """Root only: a private mount namespace in which the sandbox uid can reach the interpreter and /tmp, /var/tmp
    and /dev/shm are fresh size-capped tmpfs (so files a program leaves there never reach the host)."""
    if libc.unshare(CLONE_NEWNS) != 0 or libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return False
    _expose_interpreter(libc)
    options = b"mode=1777,size=256m,nr_inodes=65536"
    return all(libc.mount(b"tmpfs", d.encode(), b"tmpfs", 0, options) == 0
               for d in SHARED_TMP_DIRS if os.path.isdir(d))


def _sandbox_uid_can_import(uid: int) -> bool:
    """Fork a probe as `uid` that lists every import folder; False means dropping privileges would break imports."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            for path in sys.path:
                if path and os.path.isdir(path):
                    os.listdir(path)
            os._exit(0)
        except BaseException:  # noqa: BLE001
            os._exit(1)
    return os.waitpid(pid, 0)[1] == 0


def serve() -> None:
    """Worker entry point: one JSON job per line on stdin, one JSON result list per line on stdout."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    prctl(PR_SET_DUMPABLE, 0)
    libc = ctypes.CDLL(None, use_errno=True)
    network_isolated = libc.unshare(CLONE_NEWNET) == 0
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    setup = json.loads(requests.readline())
    limits = Limits(**setup["limits"])
    os.environ.update(SINGLE_THREADED_LIBRARIES)  # a preloaded numpy must not start threads in the supervisor
    for module in setup["preload"]:  # imported once here, inherited by every forked program (speed only)
        importlib.import_module(module)
    supervisor = _Supervisor(limits)
    private_tmp = supervisor.uid is not None and _isolate_filesystem(libc)
    if supervisor.uid is not None and not _sandbox_uid_can_import(supervisor.uid):
        supervisor.uid = None
    hello = {"privilege_drop": supervisor.uid is not None, "network_isolated": network_isolated,
             "private_tmp": private_tmp, "uid": supervisor.uid}
    replies.write((json.dumps(hello) + "\n").encode())
    replies.flush()
    for line in requests:
        try:
            results = supervisor.run_job(Job(**json.loads(line)))
        except Exception as e:  # noqa: BLE001 - a supervisor bug becomes a harness error, never a verdict
            results = [TestResult("harness", 0.0, detail=f"supervisor: {type(e).__name__}: {e}")]
        replies.write((json.dumps([dataclasses.asdict(r) for r in results]) + "\n").encode())
        replies.flush()


