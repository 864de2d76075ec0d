"""Adversarial and behavioural tests of ssd.sandbox: each hostile program gets the right raw status, the pool
survives, and no process or file is left behind."""
import dataclasses
import json
import os
import threading
import time
from pathlib import Path

import pytest

from ssd.sandbox import UID_BASE, Job, Limits, Sandbox, decode_value, encode_value

LIMITS = Limits(per_test_timeout=1.0, program_timeout=3.0, memory_mb=256, max_output_bytes=1 << 16,
                file_size_mb=1, max_processes=16)


def require(sb: Sandbox, capability: str) -> None:
    """Skip where the host does not permit a documented guarantee (Sandbox.info says which ones hold)."""
    if not sb.info[capability]:
        pytest.skip(f"{capability} is not available on this host (documented in ssd.sandbox)")


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2, limits=LIMITS) as sb:
        yield sb


@pytest.fixture(scope="module")
def patient():
    """For programs that need real work before they fail (filling memory, overflowing the C stack) on a busy CPU."""
    with Sandbox(workers=1, limits=dataclasses.replace(LIMITS, per_test_timeout=10.0, program_timeout=10.0)) as sb:
        yield sb


def leftovers(sb: Sandbox) -> list[int]:
    """Processes still below a worker, or (as root) still running as a worker's sandbox uid."""
    found = []
    uids = {str(UID_BASE + w.proc.pid) for w in sb.workers}
    for worker in sb.workers:
        pid = worker.proc.pid
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            found += [int(p) for p in fh.read().split()]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as fh:
                    uid_line = next(line for line in fh if line.startswith("Uid:"))
            except (OSError, StopIteration):
                continue
            if set(uid_line.split()[1:]) & uids:
                found.append(int(entry))
    return found


def run_one(sb: Sandbox, code: str, stdin: str = "", mode: str = "stdin", **job):
    [results] = sb.run([Job(mode, code, [stdin], **job)])
    assert leftovers(sb) == []
    return results[0]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(os.geteuid() != 0, reason="privileges are dropped only by a root grader")
def test_root_grader_never_runs_programs_as_root(sandbox):
    assert sandbox.info["privilege_drop"], "as root the sandbox must switch programs to an unprivileged uid"
    assert run_one(sandbox, "import os\nprint(os.getuid(), os.geteuid())").stdout.split() != ["0", "0"]


def test_stdin_program_reads_every_line_through_a_real_pipe(sandbox):
    code = ("import sys\na = sys.stdin.buffer.readline()\nb = input()\nrest = sys.stdin.read()\n"
            "print(a.strip().decode(), b, rest.split())")
    result = run_one(sandbox, code, "first\nsecond\nthird fourth\n")
    assert (result.status, result.stdout) == ("exited", "first second ['third', 'fourth']\n")


def test_program_is_compiled_like_a_fresh_interpreter_would(sandbox):
    result = run_one(sandbox, "def f(x: Undefined):\n    pass")  # no inherited `from __future__ import annotations`
    assert result.status == "error" and "NameError" in result.detail


def test_each_program_gets_its_own_random_seed_even_when_preloaded():
    jobs = [Job("stdin", "import random\nprint(random.random())", [""]) for _ in range(3)]
    with Sandbox(workers=1, limits=LIMITS, preload=("random",)) as sb:
        assert len({r[0].stdout for r in sb.run(jobs)}) == 3


def test_large_input_is_fed_without_deadlock(sandbox):
    data = "x" * (3 << 20) + "\n"
    result = run_one(sandbox, "import sys\nprint(len(sys.stdin.read()))", data)
    assert result.stdout == f"{len(data)}\n"


def test_main_guard_runs_and_atexit_and_thread_idiom_produce_output(sandbox):
    code = ("import atexit, sys, threading\natexit.register(lambda: print('bye'))\n"
            "def main():\n    sys.setrecursionlimit(100000)\n    f = lambda n: 0 if n == 0 else 1 + f(n - 1)\n"
            "    print(f(20000))\nif __name__ == '__main__':\n    threading.stack_size(1 << 26)\n"
            "    threading.Thread(target=main).start()\n")
    assert run_one(sandbox, code).stdout == "20000\nbye\n"


def test_infinite_loop_times_out_within_the_limit(sandbox):
    result = run_one(sandbox, "while True:\n    pass")
    assert result.status == "timeout"
    assert result.seconds < LIMITS.per_test_timeout + 0.5


def test_sleep_times_out(sandbox):
    assert run_one(sandbox, "import time\ntime.sleep(60)").status == "timeout"


def test_ignoring_sigterm_does_not_help(sandbox):
    code = "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass"
    assert run_one(sandbox, code).status == "timeout"


@pytest.mark.parametrize("code", ["x = bytearray(10 ** 10)",
                                  "chunks = []\nwhile True:\n    chunks.append(b'x' * 10 ** 7)"])
def test_memory_bomb_is_a_memory_verdict(patient, code):
    assert run_one(patient, code).status == "memory"


def test_fork_bomb_is_contained_and_fully_killed(sandbox):
    require(sandbox, "privilege_drop")  # without it the process limit counts the user's other processes
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    assert run_one(sandbox, code).status == "timeout"


def test_huge_output_stops_at_the_cap(sandbox):
    result = run_one(sandbox, "while True:\n    print('x' * 10000)")
    assert result.status == "output_limit"
    assert result.seconds < LIMITS.per_test_timeout


def test_children_and_escaped_sessions_are_killed_after_the_program_exits(sandbox):
    code = ("import os, subprocess, time\np = subprocess.Popen(['sleep', '60'])\npid = os.fork()\n"
            "if pid == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(60)\n    os._exit(0)\n"
            "time.sleep(0.2)\nprint(p.pid)")
    result = run_one(sandbox, code)
    assert result.status == "exited"
    assert not alive(int(result.stdout))


def test_non_daemon_thread_that_never_ends_is_a_timeout(sandbox):
    code = "import threading, time\nthreading.Thread(target=time.sleep, args=(60,)).start()\nprint(1)"
    assert run_one(sandbox, code).status == "timeout"


def test_daemon_thread_does_not_hold_the_program(sandbox):
    code = "import threading, time\nthreading.Thread(target=time.sleep, args=(60,), daemon=True).start()\nprint(1)"
    result = run_one(sandbox, code)
    assert (result.status, result.stdout) == ("exited", "1\n")


def test_deep_recursion_is_an_error(sandbox):
    assert run_one(sandbox, "def f(n):\n    return f(n + 1)\nf(0)").status == "error"


def test_c_stack_overflow_is_an_error_not_a_crash_of_the_grader(patient):
    c_stack_overflow = ("import sys\nsys.setrecursionlimit(10 ** 9)\nx = []\nfor _ in range(10 ** 5):\n"
                        "    x = [x]\nrepr(x)")
    result = run_one(patient, c_stack_overflow)
    assert (result.status, result.detail.split(";")[0]) == ("error", "killed by signal SIGSEGV")


def test_closed_stdout_is_an_error(sandbox):
    assert run_one(sandbox, "import os\nos.close(1)\nprint('x')").status == "error"


def test_nonzero_exit_after_output_is_an_error(sandbox):
    result = run_one(sandbox, "import sys\nprint(3)\nsys.exit(2)")
    assert (result.status, result.stdout) == ("error", "3\n")


def test_temporary_directory_is_removed_and_environment_scrubbed(sandbox):
    os.environ["SSD_SECRET_FOR_TEST"] = "leak"
    try:
        result = run_one(sandbox, "import os\nprint(os.getcwd())\nprint(os.environ.get('SSD_SECRET_FOR_TEST'))")
    finally:
        del os.environ["SSD_SECRET_FOR_TEST"]
    workdir, secret = result.stdout.split()
    assert secret == "None"
    assert not Path(workdir).exists()


def test_file_size_limit(sandbox):
    code = "with open('big', 'wb') as f:\n    f.write(b'x' * (4 << 20))"
    assert run_one(sandbox, code).status == "error"


def test_writing_outside_the_temporary_directory_leaves_nothing(sandbox, tmp_path):
    require(sandbox, "privilege_drop")
    token = f"ssd-escape-{os.getpid()}-{time.time_ns()}"
    grader_owned = [tmp_path / token, Path(__file__).parent / token, Path.home() / token]
    shared = [Path("/tmp") / token, Path("/dev/shm") / token]
    code = "import importlib\nos = importlib.import_module('posix')\n" + "".join(
        f"try:\n    open({str(t)!r}, 'w').write('x')\n    print('written')\nexcept OSError as e:\n"
        f"    print(type(e).__name__)\n" for t in grader_owned + shared)
    outcomes = run_one(sandbox, code).stdout.split()
    assert set(outcomes[:3]) <= {"PermissionError", "FileNotFoundError"}
    assert [t for t in grader_owned + shared if t.exists()] == []


@pytest.mark.parametrize("attack, status", [
    ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)", "error"),
    ("import ctypes, os\nif ctypes.CDLL(None).kill(os.getppid(), 9) != 0:\n    raise PermissionError", "error"),
    ("import os\nos.kill(1, 9)", "error"),
    ("import posix\nposix.kill(-1, 9)", "exited"),  # reaches only the program's own uid, never itself
])
def test_killing_the_supervisor_fails_and_the_pool_survives(sandbox, attack, status):
    require(sandbox, "privilege_drop")
    workers = [w.proc.pid for w in sandbox.workers]
    assert run_one(sandbox, attack).status == status
    assert [w.proc.pid for w in sandbox.workers] == workers
    assert run_one(sandbox, "print(42)").stdout == "42\n"


def test_no_network(sandbox):
    require(sandbox, "network_isolated")
    code = "import socket\ns = socket.socket()\ns.settimeout(0.5)\ns.connect(('1.1.1.1', 80))"
    assert run_one(sandbox, code).status == "error"


def test_call_mode_returns_encoded_value_of_solution_method(sandbox):
    code = "class Solution:\n    def pair(self, a, b):\n        return (a + b, [a])\n"
    result = run_one(sandbox, code, json.dumps(encode_value([1, 2])), mode="call", entry_point="pair")
    assert decode_value(result.value) == (3, [1])


def test_call_mode_exit_before_returning_is_an_error(sandbox):
    code = "import sys\nsys.exit(0)\ndef f(x):\n    return x\n"
    assert run_one(sandbox, code, json.dumps(encode_value([1])), mode="call", entry_point="f").status == "error"


def test_call_mode_rejects_objects_with_custom_equality(sandbox):
    code = "class Eq:\n    def __eq__(self, other):\n        return True\ndef f(x):\n    return Eq()\n"
    assert run_one(sandbox, code, json.dumps(encode_value([1])), mode="call", entry_point="f").status == "error"


CHECKER = "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(3) == 9\n"


@pytest.mark.parametrize("code, outcome", [
    ("def sq(x):\n    return x * x\n", "passed"),
    ("def sq(x):\n    return x + 2\n", "failed"),
    ("import sys\nsys.exit(0)\ndef sq(x):\n    return 0\n", "candidate_error"),
    ("class Eq:\n    def __eq__(self, o):\n        return True\ndef sq(x):\n    return Eq()\n", "candidate_error"),
    ("import builtins\nbuiltins.AssertionError = type('N', (Exception,), {})\ndef check(c):\n    pass\n"
     "def sq(x):\n    return 0\n", "failed"),
    ("import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, b'{\"outcome\": \"passed\"}')\n"
     "    except OSError:\n        pass\nos._exit(0)\n", "candidate_error"),
])
def test_check_mode_outcome_cannot_be_faked(sandbox, code, outcome):
    result = run_one(sandbox, code, mode="check", entry_point="sq", checker=CHECKER)
    assert (result.status, result.value["outcome"]) == ("exited", outcome)


def test_program_stops_at_first_error_and_respects_the_program_cap():
    limits = Limits(per_test_timeout=1.0, program_timeout=2.0)
    with Sandbox(workers=1, limits=limits) as sb:
        [crash] = sb.run([Job("stdin", "x = int(input())\nassert x < 2\nprint(x)", ["1", "5", "1"])])
        [slow] = sb.run([Job("stdin", "import time\ntime.sleep(0.6)", [""] * 6)])
    assert [r.status for r in crash] == ["exited", "error"]
    assert [r.status for r in slow] == ["exited"] * 3 + ["timeout"]


def test_closing_the_pool_leaves_no_worker():
    sb = Sandbox(workers=2, limits=LIMITS)
    pids = [w.proc.pid for w in sb.workers]
    sb.run([Job("stdin", "print(1)", [""])])
    sb.close()
    assert [pid for pid in pids if alive(pid)] == []


def test_tests_share_a_process_but_each_gets_fresh_stdin_module_and_output(sandbox):
    code = "import sys\nseen = globals().get('seen', 0)\nprint(sys.stdin.read().strip(), seen)\nseen = 1"
    inputs = [str(i) for i in range(20)]  # more than one process's worth of tests
    [results] = sandbox.run([Job("stdin", code, inputs)])
    assert [r.stdout for r in results] == [f"{i} 0\n" for i in range(20)]


def test_prelude_names_start_fresh_in_every_test(sandbox):
    [results] = sandbox.run([Job("stdin", "print(x)\nx = 5", ["", ""], prelude="x = 1")])
    assert [r.stdout for r in results] == ["1\n", "1\n"]


def test_fast_exit_idiom_ends_only_its_own_test(sandbox):
    code = "import os, sys\nsys.stdout.write(input() + '\\n')\nsys.stdout.flush()\nos._exit(0)"
    [results] = sandbox.run([Job("stdin", code, ["a", "b", "c"])])
    assert [(r.status, r.stdout) for r in results] == [("exited", "a\n"), ("exited", "b\n"), ("exited", "c\n")]


def test_forged_progress_report_is_not_accepted(sandbox):
    code = "import os\nos.write(3, b'1 0\\n2 0\\n')\nprint(1)"
    [results] = sandbox.run([Job("stdin", code, ["", "", ""])])
    assert [r.status for r in results] == ["error"]


@pytest.mark.parametrize("code", ["import sys\nsys.exit(4)", "import os\nos._exit(4)", "import os\nos.close(3)",
                                  "import os\nos.close(4)\nos.close(5)"])
def test_a_program_cannot_pass_itself_off_as_a_harness_failure(sandbox, code):
    assert run_one(sandbox, code).status == "error"


def test_dead_worker_is_a_harness_result_and_is_replaced():
    with Sandbox(workers=1, limits=LIMITS) as sb:
        victim = sb.workers[0].proc
        threading.Timer(0.3, victim.kill).start()
        [dead] = sb.run([Job("stdin", "import time\ntime.sleep(0.9)", [""])])
        [fine] = sb.run([Job("stdin", "print(1)", [""])])
    assert dead[0].status == "harness"
    assert fine[0].stdout == "1\n"


def test_stopping_early_leaves_no_stale_answers(sandbox):
    jobs = [Job("stdin", f"import time\ntime.sleep(0.2)\nprint({i})", [""]) for i in range(4)]
    for _ in sandbox.run_unordered(jobs):
        break
    assert [r[0].stdout for r in sandbox.run(jobs[:2])] == ["0\n", "1\n"]


def test_results_come_back_in_job_order(sandbox):
    jobs = [Job("stdin", f"import time\ntime.sleep({0.3 if i % 2 else 0})\nprint({i})", [""]) for i in range(6)]
    assert [r[0].stdout for r in sandbox.run(jobs)] == [f"{i}\n" for i in range(6)]


@pytest.mark.parametrize("value", [None, True, 0, -(10 ** 30), 1.5, float("inf"), "s", b"b", [1, (2, 3)],
                                   {(1, 2): {"a": [None]}}, {1, 2}, frozenset({3})])
def test_value_codec_round_trips_builtin_types_exactly(value):
    decoded = decode_value(json.loads(json.dumps(encode_value(value))))
    assert decoded == value and type(decoded) is type(value)


def test_decode_rejects_unknown_tags():
    with pytest.raises(ValueError):
        decode_value({"object": "os.system"})


def test_limits_validate():
    with pytest.raises(ValueError, match="per_test_timeout"):
        Limits(per_test_timeout=0)
    with pytest.raises(ValueError, match="program_timeout"):
        Limits(program_timeout=-1)


def test_default_program_cap_is_livecodebench_global_timeout():
    assert Limits(per_test_timeout=6).program_cap(10) == 75
    assert Limits(per_test_timeout=6, program_timeout=20).program_cap(10) == 20
