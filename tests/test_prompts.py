"""Prompt styles rendered with a real chat template (SmolLM2's, from its GGUF file) and tokenization that
keeps the prompt/completion boundary exactly as generation saw it, on SmolLM2's real BPE tokenizer."""
import pytest
from transformers import AutoTokenizer

from ssd.config import ConfigError
from ssd.models.sources import SMOLLM2_FILE, SMOLLM2_PACKAGE, package_file
from ssd.prompts import (LCB_HEAD, LCB_STARTER_FORMAT, LCB_STDIN_FORMAT, PAPER_SYSTEM_PROMPT, build_prompt,
                         encode_example, encode_prompt)
from ssd.records import Problem
from ssd.models.tiny import train_tokenizer

STDIN = Problem(id="s", source="t", question="Read n and print n squared.", kind="stdin", tests=[])
FUNCTIONAL = Problem(id="f", source="t", question="Return the sum of a list.", kind="functional", tests=[],
                     starter_code="class Solution:\n    def total(self, xs: list[int]) -> int:\n        ",
                     func_name="total")


@pytest.fixture(scope="module")
def smollm():
    gguf = package_file(SMOLLM2_PACKAGE, SMOLLM2_FILE)
    return AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)


def test_paper_style_is_system_message_then_problem_in_the_models_chat_template(smollm):
    text = build_prompt(STDIN, "paper", smollm)
    assert text == (f"<|im_start|>system\n{PAPER_SYSTEM_PROMPT}<|im_end|>\n"
                    f"<|im_start|>user\n{STDIN.question}<|im_end|>\n<|im_start|>assistant\n")


def test_paper_style_shows_starter_code_of_functional_problems(smollm):
    text = build_prompt(FUNCTIONAL, "paper", smollm)
    assert "```python\nclass Solution:\n    def total(self, xs: list[int]) -> int:\n```" in text


def test_paper_style_shows_a_humaneval_signature_once(smollm):
    signature = 'def add(a: int, b: int) -> int:\n    """Return a + b."""\n'
    problem = Problem(id="HumanEval/x", source="humaneval", question=signature, kind="humaneval",
                      tests=[{"input": "", "output": "def check(f): assert f(1, 2) == 3"}],
                      starter_code=signature, func_name="add")
    text = build_prompt(problem, "paper", smollm)
    assert text.count("def add(") == 1 and "```python\ndef add(" in text


HEAD = ("You will be given a question (problem specification) and will generate a correct Python program that "
        "matches the specification and passes all tests. You will NOT return anything except for the program.")


def test_official_chat_is_the_evaluators_stdin_prompt_in_one_user_turn(smollm):
    text = build_prompt(STDIN, "official-chat", smollm)
    user = text.split("<|im_start|>user\n", 1)[1].split("<|im_end|>")[0]
    assert LCB_HEAD == HEAD
    assert user == (f"{HEAD}\n\nQuestion: {STDIN.question}\n\n{LCB_STDIN_FORMAT}\n```python\n  # YOUR CODE HERE\n```")
    assert PAPER_SYSTEM_PROMPT not in text and text.endswith("<|im_start|>assistant\n")


def test_official_chat_functional_prompt_leaves_the_starter_fence_open(smollm):
    user = build_prompt(FUNCTIONAL, "official-chat", smollm).split("<|im_start|>user\n", 1)[1].split("<|im_end|>")[0]
    assert user == (f"{HEAD}\n\nQuestion: {FUNCTIONAL.question}\n\n{LCB_STARTER_FORMAT}\"\n```python\n"
                    f"{FUNCTIONAL.starter_code}\n")


def test_official_raw_is_the_generation_template_without_chat(smollm):
    assert build_prompt(STDIN, "official-raw", smollm) == (
        f"{HEAD}\n\nQuestion: {STDIN.question}\n\n{LCB_STDIN_FORMAT}\n\nThe final solution should be formatted as:\n"
        "```python\n# YOUR CODE HERE\n```\n")
    assert build_prompt(FUNCTIONAL, "official-raw", smollm) == (
        f"{HEAD}\n\nQuestion: {FUNCTIONAL.question}\n\n{LCB_STARTER_FORMAT}\n```python\n{FUNCTIONAL.starter_code}\n```")


def test_unknown_style_is_a_config_error(smollm):
    with pytest.raises(ConfigError, match="prompt_style"):
        build_prompt(STDIN, "fancy", smollm)


def test_chat_styles_need_a_chat_template():
    tok = train_tokenizer(["abc def"] * 5, vocab_size=280)
    tok.chat_template = None
    with pytest.raises(ConfigError, match="chat template"):
        build_prompt(STDIN, "paper", tok)


def test_joint_tokenization_would_merge_across_the_prompt_boundary(smollm):
    prompt, completion = build_prompt(STDIN, "paper", smollm), "\n    n = int(input())\n"
    joint = smollm(prompt + completion, add_special_tokens=False)["input_ids"]
    prompt_ids, completion_ids = encode_example(smollm, prompt, completion)
    assert joint[:len(prompt_ids)] != prompt_ids  # the trailing "\n" merges with the completion's "\n"
    assert prompt_ids == encode_prompt(smollm, prompt)  # what the generation backends feed the model
    assert smollm.decode(prompt_ids + completion_ids) == prompt + completion


def test_encode_prompt_adds_no_second_bos_to_a_rendered_chat(smollm):
    text = build_prompt(STDIN, "paper", smollm)
    ids = encode_prompt(smollm, text)
    assert smollm.decode(ids) == text
