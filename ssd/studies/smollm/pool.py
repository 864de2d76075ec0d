"""The SmolLM study's SSD prompt pool: implementation tasks written from the docstrings of pure Python
standard-library functions (offline and disjoint from HumanEval; committed as experiments/smollm/stdlib_pool.jsonl).
"""
from __future__ import annotations

import hashlib
import importlib
import inspect

from ssd.records import Problem

POOL_SOURCE = "python-stdlib-docstrings"
# Standard-library modules whose public functions are pure computations worth re-implementing.
STDLIB_MODULES = (
    "base64", "binascii", "bisect", "calendar", "cmath", "colorsys", "difflib", "email.utils", "fnmatch",
    "fractions", "graphlib", "heapq", "html", "ipaddress", "itertools", "json", "keyword", "math", "operator",
    "posixpath", "quopri", "reprlib", "shlex", "statistics", "string", "textwrap", "unicodedata",
    "urllib.parse", "xml.sax.saxutils", "zlib",
)
MIN_DOC_CHARS = 40
MAX_DOC_CHARS = 700


def _doc_summary(doc: str) -> str:
    """The docstring's leading paragraphs, whitespace-collapsed, cut at a paragraph end near MAX_DOC_CHARS."""
    text = ""
    for paragraph in doc.split("\n\n"):
        candidate = " ".join(f"{text}\n\n{paragraph}".split()) if text else " ".join(paragraph.split())
        if text and len(candidate) > MAX_DOC_CHARS:
            break
        text = candidate
    return text[:MAX_DOC_CHARS]


def stdlib_prompt_pool(modules: tuple[str, ...] = STDLIB_MODULES) -> list[Problem]:
    """Implementation tasks from the docstrings of public stdlib functions, in a seeded-hash order.

    Each prompt asks for the function (name and signature as Python reports them) without importing its
    module; functions without a signature or with a docstring shorter than MIN_DOC_CHARS are skipped, and
    a (name, docstring) pair seen in an earlier module is skipped as a duplicate. The pool depends on the
    Python version's docstrings, so the experiment reads the committed JSONL, not this function.
    """
    problems: dict[str, Problem] = {}
    seen: set[tuple[str, str]] = set()
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name, obj in sorted(vars(module).items()):
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isbuiltin(obj)):
                continue
            try:
                signature = str(inspect.signature(obj))
            except (TypeError, ValueError):
                continue
            doc = _doc_summary(inspect.getdoc(obj) or "")
            if len(doc) < MIN_DOC_CHARS or (name, doc) in seen or "<" in signature:
                continue
            seen.add((name, doc))
            question = (f"Implement the Python function `{name}{signature}` from scratch, without importing "
                        f"the `{module_name}` module. It should behave as this description says:\n\n{doc}")
            pid = f"stdlib/{module_name}.{name}"
            problems[pid] = Problem(id=pid, source=POOL_SOURCE, question=question, kind="functional",
                                    tests=[], func_name=name, metadata={"module": module_name})
    order = sorted(problems, key=lambda pid: hashlib.sha256(pid.encode()).hexdigest())
    return [problems[pid] for pid in order]
