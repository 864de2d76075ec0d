"""One token per line: a `tokenizers` WordLevel model over every line the control's prompts and solutions use.

Guarantees: the pre-tokenizer splits text into lines, each keeping its "\n" (a last line without one is its own
piece); the vocabulary holds every statement line and every code line of benchmark.py (with "\n"), so every
lock or fork decision is exactly one token; the Fuse decoder concatenates tokens, so decode(encode(text)) ==
text for any text made of those lines. Specials: <pad>, <unk>, <eos> (the EOS that ends a completion).
Does not: handle text outside that vocabulary (it maps to <unk>); there is no chat template (prompts are plain
text, the statement lines).
"""
from __future__ import annotations

from ssd.studies.control.benchmark import (
    CLOSE_FENCE, FORK_KINDS, FORK_LINES, HEADER, LOCK_OPS, OPEN_FENCE, RETURN,
)

SPECIALS = ("<pad>", "<unk>", "<eos>")
LINE_PATTERN = r"[^\n]*\n|[^\n]+"


def vocabulary_lines() -> list[str]:
    """Every line the benchmark can produce, each ending in "\n", in a fixed order."""
    statements = [kind.statement for kind in FORK_KINDS] + [op.statement for op in LOCK_OPS]
    code = [OPEN_FENCE, HEADER, *FORK_LINES, *(op.line for op in LOCK_OPS), RETURN, CLOSE_FENCE]
    return [line + "\n" for line in dict.fromkeys(statements + code)]


def build_tokenizer():
    """A PreTrainedTokenizerFast with one id per line (specials first)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers  # noqa: PLC0415 - heavy, only here
    from transformers import PreTrainedTokenizerFast  # noqa: PLC0415 - heavy, only here

    vocab = {token: i for i, token in enumerate([*SPECIALS, *vocabulary_lines()])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(LINE_PATTERN), behavior="isolated")
    tok.decoder = decoders.Fuse()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", pad_token="<pad>", unk_token="<unk>")
    fast.padding_side = "left"
    return fast
