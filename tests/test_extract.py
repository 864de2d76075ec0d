"""Code extraction from model output: last/first block, unclosed fences, reasoning text, no code."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssd.grading.extract import extract_code, fenced_blocks

TWO_BLOCKS = "First try:\n```python\nprint(1)\n```\nBetter:\n```\nprint(2)\n```\nDone."


def test_last_block_by_default():
    assert extract_code(TWO_BLOCKS) == "print(2)"


def test_first_block_on_request():
    assert extract_code(TWO_BLOCKS, which="first") == "print(1)"


def test_unclosed_final_fence_is_used():
    assert extract_code("```python\nprint(1)\n```\nrevised:\n```python\nprint(2)\nx = 3") == "print(2)\nx = 3"


def test_unclosed_fence_can_be_refused_like_the_official_evaluator():
    assert extract_code("```python\nprint(2)\n", allow_unclosed=False) is None


def test_empty_blocks_are_skipped():
    assert extract_code("```python\nprint(1)\n```\n```python\n\n```") == "print(1)"
    assert extract_code("```python\n```") is None


def test_answer_after_reasoning_wins_over_blocks_inside_it():
    text = "<think>\n```python\ndraft()\n```\n</think>\nFinal:\n```python\nfinal()\n```"
    assert extract_code(text, which="first") == "final()"


def test_blocks_inside_reasoning_are_used_when_the_answer_has_none():
    assert extract_code("<think>\n```python\ndraft()\n```\n</think>\nsee above") == "draft()"


@pytest.mark.parametrize("text", ["no code here", "", "inline ``` fence ``` only", "<think>```"])
def test_no_code_is_none(text):
    assert extract_code(text) is None


def test_code_tags_are_removed():
    assert extract_code("```python\n<code>x = 1\n</code>\n```") == "x = 1"


@pytest.mark.parametrize("tag", ["python", "py", "python3", "", "Python"])
def test_language_tags(tag):
    assert extract_code(f"```{tag}\nx = 1\n```") == "x = 1"


def test_invalid_choice_is_an_error():
    with pytest.raises(ValueError, match="which"):
        extract_code(TWO_BLOCKS, which="middle")


code_text = st.text(st.characters(blacklist_characters="`\r", blacklist_categories=("Cs",)), min_size=1).filter(
    lambda s: s.strip() and "</code>" not in s and "<code>" not in s and "</think>" not in s)


@given(prose=st.text(st.characters(blacklist_characters="`", blacklist_categories=("Cs",))), code=code_text)
def test_any_fenced_code_is_recovered_from_prose(prose, code):
    assert extract_code(f"{prose}\n```python\n{code}\n```\n{prose}") == code.strip("\n")


def test_fenced_blocks_lists_every_block_in_order():
    assert fenced_blocks(TWO_BLOCKS) == ["print(1)\n", "print(2)\n"]
