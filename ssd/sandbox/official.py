"""The program-side half of `semantics: official`: LiveCodeBench's run-time environment, rebuilt inside our sandboxed
child (ssd.sandbox.child runs it; ssd.grading.official builds the program text).

Our own implementation of the behaviour of lcb_runner/evaluation/testing_util.py (LiveCodeBench, MIT licence):
- `apply_lcb_guard()`: what its reliability_guard takes away before any program runs: `quit` and `help` are None,
  25 `os` functions (kill, system, remove, fork, getcwd, chdir, ...), `shutil.rmtree/move/chown` and
  `subprocess.Popen` are None, and ipdb, joblib, resource, psutil and tkinter cannot be imported.
  numpy and unittest.mock are imported first, as they were there. No memory limit (the sandbox's address-space cap is off in this mode), and Python's int-to-str limit is raised
  to 50,000 digits as compute_code_generation_metrics does.
- `run_wrapped(function, text, real_stdin)`: one stdin test, as its `call_method` under `Capturing`: while the
  function runs, the process's own stdin object (`real_stdin`: what `from sys import stdin` and the import block
  bound, over an empty descriptor) answers `read()` with the whole input, `readline()` with the next line *without*
  its newline (StopIteration past the end) and `readlines()` with the lines; `sys.stdin` is a stand-in whose
  `read()` is the whole input, `readline()` reads lines of a StringIO, `readlines()` splits on newlines,
  `buffer.read()` is the input's bytes, `buffer.readline()` is always the first line, and which is not iterable;
  `builtins.open` is a `unittest.mock.mock_open` of the input; `sys.stdout` is a StringIO whose `close()` takes
  an argument and which stops the program once it holds more than the sandbox's output cap (our addition: the
  capture lives in the program's memory, which has no cap here). SystemExit ends the test normally, whatever its code; threads are not waited for. Returns what was
  captured.

Does not: compare outputs, or protect anything from the program (the sandbox around the child does that).
"""
from __future__ import annotations

import builtins
import io
import sys
from typing import Any, Callable

INT_MAX_STR_DIGITS = 50_000
DISABLED = {
    "os": ("kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork", "forkpty",
           "killpg", "rename", "renames", "truncate", "replace", "unlink", "fchmod", "fchown", "chmod", "chown",
           "chroot", "lchflags", "lchmod", "lchown", "getcwd", "chdir"),
    "shutil": ("rmtree", "move", "chown"),
    "subprocess": ("Popen",),
    "builtins": ("quit", "help"),
}
UNIMPORTABLE = ("ipdb", "joblib", "resource", "psutil", "tkinter")
# What LiveCodeBench's grading process imported before its guard ran, so a program can still import it (numpy's
# own import calls os.putenv, which the guard removes).
ALREADY_IMPORTED = ("numpy", "unittest.mock")
PATCHED_READS = ("read", "readline", "readlines")


def apply_lcb_guard() -> None:
    import importlib  # noqa: PLC0415 - only this mode needs it

    for module_name in ALREADY_IMPORTED:
        try:
            importlib.import_module(module_name)
        except ImportError:
            pass
    for module_name, names in DISABLED.items():
        module = importlib.import_module(module_name)
        for name in names:
            setattr(module, name, None)
    for name in UNIMPORTABLE:
        sys.modules[name] = None  # type: ignore[assignment]
    sys.set_int_max_str_digits(INT_MAX_STR_DIGITS)


class _FirstLineBuffer:
    def __init__(self, text: str):
        self._data = text.encode("utf-8")

    def read(self, *args: Any) -> bytes:
        return self._data

    def readline(self, *args: Any) -> bytes:
        return self._data.split(b"\n")[0] + b"\n"


class StandInStdin:
    """What `sys.stdin` is while a wrapped program runs (no __iter__: `for line in sys.stdin` raises TypeError)."""

    def __init__(self, text: str):
        self._text = text
        self._lines = io.StringIO(text)
        self.buffer = _FirstLineBuffer(text)

    def read(self, *args: Any) -> str:
        return self._text

    def readline(self, *args: Any) -> str:
        return self._lines.readline(*args)

    def readlines(self, *args: Any) -> list[str]:
        return self._text.split("\n")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lines, name)


class OutputOverLimit(BaseException):
    """Raised into the program when its captured output passes the sandbox's cap (a BaseException, so that
    `except Exception` in the program cannot keep it printing)."""


class CapturedStdout(io.StringIO):
    """LiveCodeBench's captured stdout, but bounded: past `limit` characters the write raises OutputOverLimit
    (keeping that write in `overflow`), so a printing loop cannot fill the machine's memory."""

    def __init__(self, limit: int):
        super().__init__()
        self.room, self.overflow = limit, ""

    def write(self, text: str) -> int:
        self.room -= len(text)
        if self.room < 0:
            self.overflow = text
            raise OutputOverLimit
        return super().write(text)

    def close(self, _argument: Any) -> int:  # calling sys.stdout.close() is a TypeError there too
        return 1


def run_wrapped(function: Callable[[], Any], text: str, real_stdin: Any, max_chars: int) -> str:
    """Run one stdin test of a wrapped program; the exceptions it raises (but SystemExit) propagate. Output past
    `max_chars` stops the program and is returned with the write that overflowed (so it exceeds the cap)."""
    from unittest import mock  # noqa: PLC0415 - only this mode needs it

    lines = iter(text.split("\n"))
    replacements = {"read": lambda *args: text, "readline": lambda *args: next(lines),
                    "readlines": lambda *args: text.split("\n")}
    saved_open, saved_stdin, saved_stdout = builtins.open, sys.stdin, sys.stdout
    captured = CapturedStdout(max_chars)
    try:
        for name, replacement in replacements.items():
            setattr(real_stdin, name, replacement)
        sys.stdin = StandInStdin(text)
        builtins.open = mock.mock_open(read_data=text)
        sys.stdout = captured
        try:
            function()
        except SystemExit:
            pass
        except OutputOverLimit:
            return captured.getvalue() + captured.overflow
        return captured.getvalue()
    finally:
        sys.stdout, sys.stdin, builtins.open = saved_stdout, saved_stdin, saved_open
        for name in PATCHED_READS:
            real_stdin.__dict__.pop(name, None)
