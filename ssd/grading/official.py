"""LiveCodeBench's program rules for `semantics: official` (the trusted, grader side; ssd.sandbox.official is the
side that runs with the program).

Our own implementation of the behaviour of lcb_runner (github.com/LiveCodeBench/LiveCodeBench, MIT licence):
- `extract_code_official`: utils/extraction_utils.extract_code for chat models: the lines that contain ``` are
  fences; with fewer than two there is no code, else the code is what lies between the last two such lines.
- `official_program(kind, code)`: evaluation/testing_util: a functional program is the import block followed by
  the code; a stdin program first loses a final `if __name__ == '__main__':` (its body is kept), then its
  top-level imports are hoisted and every other statement becomes the body of `wrapped_function()`, after the
  import block. A program that does not parse is left as it is (and then fails to compile, as there).
- `LCB_PRELUDE`: the import block (star and plain imports of 16 modules, builtins and typing, recursion limit
  50,000), which bench/parity_official.py checks against the checkout's text.

Does not: run anything.
"""
from __future__ import annotations

import ast

PRELUDE_MODULES = ("string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random",
                   "statistics", "itertools", "functools", "operator", "io", "sys", "json")
LCB_PRELUDE = ("".join(f"from {m} import *\n" for m in (*PRELUDE_MODULES, "builtins", "typing"))
               + "".join(f"import {m}\n" for m in PRELUDE_MODULES) + "sys.setrecursionlimit(50000)\n")
WRAPPER_NAME = "wrapped_function"
FENCE = "```"


def extract_code_official(text: str) -> str | None:
    """The code between the last two lines containing a fence; None when there is none (or it is blank)."""
    lines = text.split("\n")
    fences = [i for i, line in enumerate(lines) if FENCE in line]
    if len(fences) < 2:
        return None
    code = "\n".join(lines[fences[-2] + 1:fences[-1]])
    return code if code.strip() else None


def _is_main_guard(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.If) and ast.unparse(statement.test).strip() == "__name__ == '__main__'"


def unwrap_main_guard(code: str) -> str:
    """Code whose last statement is `if __name__ == '__main__':` with that body in its place (else unchanged)."""
    try:
        body = ast.parse(code).body
        if body and _is_main_guard(body[-1]):
            return ast.unparse(body[:-1]) + "\n" + ast.unparse(body[-1].body)
    except Exception:  # noqa: BLE001 - as LiveCodeBench: code it cannot transform runs as written
        pass
    return code


def _function(name: str, body: list[ast.stmt]) -> ast.FunctionDef:
    fields = {"name": name, "args": ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[],
                                                  defaults=[]),
              "body": body, "decorator_list": [], "returns": None, "type_params": []}
    return ast.FunctionDef(**{k: v for k, v in fields.items() if k in ast.FunctionDef._fields}, lineno=-1)


def wrap_stdin_program(code: str) -> str:
    """The import block, the program's top-level imports, then `def wrapped_function():` holding the rest."""
    try:
        body = ast.parse(code).body
        imports = [s for s in body if isinstance(s, (ast.Import, ast.ImportFrom))]
        rest = [s for s in body if not isinstance(s, (ast.Import, ast.ImportFrom))]
        return LCB_PRELUDE + "\n" + ast.unparse(imports) + "\n" + ast.unparse(_function(WRAPPER_NAME, rest))
    except Exception:  # noqa: BLE001 - as LiveCodeBench: code it cannot transform runs as written
        return code


def official_program(kind: str, code: str) -> str:
    """The module text LiveCodeBench executes for a stdin or functional program."""
    if kind == "stdin":
        return wrap_stdin_program(unwrap_main_guard(code))
    if kind == "functional":
        return LCB_PRELUDE + "\n\n" + code
    raise ValueError(f"kind: official semantics cover 'stdin' and 'functional' problems, got {kind!r}")
