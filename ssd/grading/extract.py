"""Code extraction from model output.

Guarantees:
- `extract_code(text)` returns the body of the **last** fenced block (```` ``` ```` or ```` ```python ```` etc.), the
  official SSD evaluator's rule; `which="first"` returns the first block instead.
- Reasoning text is handled: a `<think>...</think>` section is skipped when the answer after it has a block; if
  the only blocks are inside the reasoning, they are used (the official regex scans the whole output).
- A final fence that was opened but never closed (generation cut at max_tokens) still yields its body, unless that
  body is empty. The official evaluator finds nothing in that case; `allow_unclosed=False` restores that.
- `<code>`/`</code>` tags around or inside a block are removed, as the official post-processing does.
- Returns None when there is no code (the grader's `no_code` verdict).

Does not: parse or validate the code, pick a block by language, or strip prose that is not fenced.
"""
from __future__ import annotations

import re

BLOCK = re.compile(r"```[\w+#.-]*\n(.*?)```", re.DOTALL)  # the official evaluator's rule ([a-zA-Z]* there)
OPENING = re.compile(r"```[\w+#.-]*\n")
THINK_END = "</think>"


def fenced_blocks(text: str, allow_unclosed: bool = True) -> list[str]:
    """Bodies of the fenced blocks in `text`, in order; a trailing opened-but-unclosed block last."""
    blocks, end = [], 0
    for match in BLOCK.finditer(text):
        blocks.append(match.group(1))
        end = match.end()
    opening = OPENING.search(text, end) if allow_unclosed else None
    if opening is not None:
        blocks.append(text[opening.end():])
    return blocks


def _clean(code: str) -> str:
    code = code.split("</code>")[0] if "</code>" in code else code
    return code.replace("<code>", "").strip("\n")


def extract_code(text: str, which: str = "last", allow_unclosed: bool = True) -> str | None:
    if which not in ("last", "first"):
        raise ValueError(f"which: expected 'last' or 'first', got {which!r}")
    if not isinstance(text, str):
        raise TypeError(f"text: expected a string, got {type(text).__name__}")
    answer = text.rsplit(THINK_END, 1)[1] if THINK_END in text else text
    blocks = fenced_blocks(answer, allow_unclosed) or fenced_blocks(text, allow_unclosed)
    candidates = [code for code in map(_clean, blocks) if code.strip()]
    if not candidates:
        return None
    return candidates[-1] if which == "last" else candidates[0]
