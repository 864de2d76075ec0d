"""Prompt rendering by named style, and the one tokenization of prompts and completions.

Styles (`STYLES`):
- "paper": the paper's format (C.1): a system message asking for a Python solution in a markdown code
  block, the problem statement as the user turn (plus the starter code when there is one), rendered with
  the model's own chat template and the generation prompt. The paper does not publish its system text;
  `PAPER_SYSTEM_PROMPT` is ours.
- "official-chat": the official evaluator's prompt (`official_eval_turn`): one user message in the chat
  template, no system message. stdin problems end with a fence holding "  # YOUR CODE HERE"; functional
  problems end with the starter code in a fence that is never closed, after a stray quote, as the official
  evaluator sends them.
- "official-raw": the official data generation's prompt (`official_generation_turn`), sent without any chat
  template: stdin problems end with "The final solution should be formatted as:" and a closed fence holding
  "# YOUR CODE HERE" plus a newline; functional problems end with the starter code in a closed fence.
  Generation and evaluation texts are distinct, as in the official release; whitespace is theirs.
  The instruction sentences are LiveCodeBench's (lcb_runner/prompts/code_generation.py, the CodeQwen
  template; MIT licence, Copyright (c) 2024 LiveCodeBench), transcribed.
- "raw": the problem statement exactly as it is, no template (the positive control's line-per-token prompts).

Tokenization guarantee: `encode_prompt(tokenizer, text)` is how both generation backends and training
turn a rendered prompt into ids, and `encode_example(tokenizer, prompt, completion)` returns
(prompt ids, completion ids) tokenized *separately*, so training sees the prompt exactly as generation did
(tokenizing prompt + completion as one string can merge tokens across the boundary, e.g. "\\n" + "\\n").
A BOS token is added only when the tokenizer adds one and the text does not already start with it.

Special tokens in completions: `keeps_special_tokens(tokenizer)` is true for harmony-format tokenizers (GPT-OSS);
both backends then decode completions with their special tokens (`decode_completion`), so the channel structure
reaches the SFT data, whose tokenization maps the marker texts back to the same ids.

Does not: truncate, or check lengths against a context window.
"""
from __future__ import annotations

from typing import Any, Mapping

from ssd.config import ConfigError
from ssd.records import Problem

STYLES = ("paper", "official-chat", "official-raw", "raw")
HARMONY_MARKERS = ("<|channel|>", "<|message|>")  # special tokens only harmony-format tokenizers have

PAPER_SYSTEM_PROMPT = (
    "You are an expert Python programmer. Write a complete Python solution to the user's problem "
    "and put it in a single markdown code block (```python ... ```)."
)
# LiveCodeBench's wording (lcb_runner/prompts/code_generation.py; MIT licence, Copyright (c) 2024 LiveCodeBench).
LCB_HEAD = (
    "You will be given a question (problem specification) and will generate a correct Python program "
    "that matches the specification and passes all tests. You will NOT return anything except for the program."
)
LCB_STDIN_FORMAT = (
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on "
    "the sample inputs). Enclose your code within delimiters as follows. Ensure that when the python "
    "program runs, it reads the inputs, runs the algorithm and writes output to STDOUT."
)
LCB_STARTER_FORMAT = (
    "You will use the following starter code to write the solution to the problem and enclose your code "
    "within delimiters."
)
OFFICIAL_FORMAT_LINE = "The final solution should be formatted as:"  # the official stdin generation template's


def fenced(code: str) -> str:
    return f"```python\n{code.rstrip()}\n```"


def paper_user_turn(problem: Problem) -> str:
    if problem.kind == "humaneval":  # question and starter code are both the signature with its docstring
        return f"Complete this Python function:\n{fenced(problem.starter_code)}"
    if problem.starter_code.strip():
        return f"{problem.question}\n\nUse this starter code:\n{fenced(problem.starter_code)}"
    return problem.question


def official_eval_turn(problem: Problem) -> str:
    """The official evaluator's user message (unclosed starter fence and stray quote included)."""
    head = f"{LCB_HEAD}\n\nQuestion: {problem.question}\n\n"
    if problem.starter_code.strip():
        return f"{head}{LCB_STARTER_FORMAT}\"\n```python\n{problem.starter_code}\n"
    return f"{head}{LCB_STDIN_FORMAT}\n```python\n  # YOUR CODE HERE\n```"


def official_generation_turn(problem: Problem) -> str:
    """The official data generation's prompt text."""
    head = f"{LCB_HEAD}\n\nQuestion: {problem.question}\n\n"
    if problem.starter_code.strip():
        return f"{head}{LCB_STARTER_FORMAT}\n```python\n{problem.starter_code}\n```"
    return f"{head}{LCB_STDIN_FORMAT}\n\n{OFFICIAL_FORMAT_LINE}\n```python\n# YOUR CODE HERE\n```\n"


def chat(tokenizer: Any, messages: list[dict[str, str]], template_kwargs: Mapping[str, Any] | None = None) -> str:
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError("prompt_style: this style needs a chat template and the tokenizer has none "
                          "(use 'official-raw', or a model directory with a chat template)")
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True,
                                         **dict(template_kwargs or {}))


def build_prompt(problem: Problem, style: str, tokenizer: Any,
                 template_kwargs: Mapping[str, Any] | None = None) -> str:
    """The rendered prompt text for `problem` in `style` (see the module docstring); `template_kwargs` are
    variables of the chat template (e.g. GPT-OSS's `reasoning_effort`)."""
    if style == "paper":
        return chat(tokenizer, [{"role": "system", "content": PAPER_SYSTEM_PROMPT},
                                {"role": "user", "content": paper_user_turn(problem)}], template_kwargs)
    if style == "official-chat":
        return chat(tokenizer, [{"role": "user", "content": official_eval_turn(problem)}], template_kwargs)
    if style == "official-raw":
        return official_generation_turn(problem)
    if style == "raw":
        return problem.question
    raise ConfigError(f"prompt_style: expected one of {STYLES}, got {style!r}")


def keeps_special_tokens(tokenizer: Any) -> bool:
    """Whether completions must be decoded with their special tokens: models in OpenAI's harmony format
    (GPT-OSS), whose channel markers `<|channel|>`, `<|message|>`, `<|end|>`, ... are special tokens that must
    survive into the SFT data (re-tokenizing the text maps them back to their ids)."""
    vocab = tokenizer.get_vocab()
    return all(token in vocab for token in HARMONY_MARKERS)


def decode_completion(tokenizer: Any, token_ids: list[int], end_ids: set[int], keep_special: bool) -> str:
    """A completion's text: special tokens skipped, or (harmony) kept except a final end-of-turn token, which the
    SFT data adds back as the chat template's end of turn."""
    if keep_special and token_ids and token_ids[-1] in end_ids:
        token_ids = token_ids[:-1]
    return tokenizer.decode(token_ids, skip_special_tokens=not keep_special)


def encode_prompt(tokenizer: Any, text: str) -> list[int]:
    """Token ids of a rendered prompt, as generation and training both see them."""
    bos = getattr(tokenizer, "bos_token", None)
    add_specials = not (bos and text.startswith(bos))
    return list(tokenizer(text, add_special_tokens=add_specials)["input_ids"])


def encode_example(tokenizer: Any, prompt: str, completion: str) -> tuple[list[int], list[int]]:
    """(prompt ids, completion ids), tokenized separately so the boundary matches generation."""
    return encode_prompt(tokenizer, prompt), list(tokenizer(completion, add_special_tokens=False)["input_ids"])
