"""bench/bench_gpu.py at its tiny CPU size: the JSON's structure, and numbers that recompute from its inputs."""
import json
from types import SimpleNamespace

import pytest
import torch
from torch.autograd import DeviceType
from transformers import AutoModelForCausalLM, Qwen3Config

from bench import bench_gpu
from bench.bench_gpu import TINY_MODELS, Plan, errors_recorded, main, matmul_params, op_breakdown, peak_tflops


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-gpu") / "gpu-tiny.json"
    assert main(["--tiny", "--out", str(out), "--peak-tflops", "1"]) == 0
    return json.loads(out.read_text())


def test_tiny_run_covers_every_case_with_positive_consistent_numbers(tiny_run):
    plan = Plan.tiny()
    train = {(r["engine"], r["model"], r["seq_len"]): r for r in tiny_run["train"]}
    assert set(train) == {(e, m, s) for e in ("loop", "fsdp") for m in plan.models for s in plan.seq_lens}
    for (engine, model, seq_len), r in train.items():
        shape, flops = plan.models[model], r["flops"]
        assert flops["flops_per_token"] == 6 * flops["n_matmul_params"] + 12 * shape["num_hidden_layers"] * \
            shape["num_attention_heads"] * shape["head_dim"] * seq_len
        assert r["tokens"] == r["measured_steps"] * plan.tokens_per_step > 0
        assert r["seconds"] > 0 and r["tokens_per_s"] == pytest.approx(r["tokens"] / r["seconds"], rel=1e-3)
        assert r["mfu"] > 0
        assert r["mfu"] == pytest.approx(flops["flops_per_token"] * r["tokens"] / (r["seconds"] * 1e12), rel=2e-2)
        assert r["mfu_per_step"]["min"] <= r["mfu_per_step"]["median"] <= r["mfu_per_step"]["max"]
        assert r["mfu_per_step"]["n"] == r["measured_steps"] == plan.measured_steps >= 3
        assert r["gradient_checkpointing"] is (engine == "loop")
        # FSDP needs a GPU: on CPU the engine runs without accelerate's launcher
        assert r["fsdp_active"] is (engine == "fsdp" and torch.cuda.is_available())
        assert r["micro_batch_size"] * r["grad_accum_steps"] * seq_len == plan.tokens_per_step
    assert tiny_run["peak_bf16_tflops"] == 1.0 and tiny_run["peak_source"] == "--peak-tflops"
    assert tiny_run["host"]["cpu_count"] >= 1
    assert tiny_run["device"] == (torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu")


def test_tiny_run_profiles_the_profile_case_when_its_mfu_is_low(tiny_run):
    target = next(r for r in tiny_run["train"] if r["engine"] == "loop" and
                  [r["model"], r["seq_len"]] == tiny_run["profile_case"])
    assert target["mfu"] < bench_gpu.PROFILE_BELOW  # 1 TFLOP/s claimed for a tiny model on a shared CPU
    profile = tiny_run["profile"]
    assert profile["top"] and all(op["ms"] > 0 and 0 < op["share"] <= 1 for op in profile["top"])
    assert profile["step_wall_ms"] > 0
    assert sum(op["share"] for op in profile["top"]) <= 1 + 1e-6
    assert any("mm" in op["op"] or "linear" in op["op"] for op in profile["top"])


def test_tiny_generation_runs_every_batch_to_max_tokens(tiny_run):
    plan = Plan.tiny()
    rows = [r for r in tiny_run["generate"] if r["backend"] == "transformers"]
    assert [(r["model"], r["batch"]) for r in rows] == [(m, b) for m in plan.models for b in plan.batches]
    for r in rows:
        assert r["tokens_per_rep"] == r["batch"] * plan.max_tokens  # no EOS id: every row runs to max_tokens
        assert 0 < r["tokens_per_s"]["min"] <= r["tokens_per_s"]["median"] <= r["tokens_per_s"]["max"]
        assert r["tokens_per_s"]["n"] == plan.generation_reps >= 3
    vllm = [r for r in tiny_run["generate"] if r["backend"] == "vllm"]
    assert vllm and all("tokens_per_s" in r or r["skipped"] for r in vllm)


@pytest.mark.parametrize("tied", [True, False])
def test_matmul_params_counts_the_output_layer_once_and_not_the_embedding_lookup(tied):
    shape = {**TINY_MODELS["tiny"], "tie_word_embeddings": tied}
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(Qwen3Config(**shape))
    total = sum(p.numel() for p in model.parameters())
    table = shape["vocab_size"] * shape["hidden_size"]
    assert matmul_params(model) == (total if tied else total - table)


def test_peak_is_looked_up_by_device_name_and_unknown_devices_need_the_flag():
    assert peak_tflops("NVIDIA H200", None) == 989.0
    assert peak_tflops("NVIDIA A100-SXM4-80GB", None) == 312.0
    assert peak_tflops("NVIDIA L4", 121.0) == 121.0
    with pytest.raises(SystemExit, match="--peak-tflops"):
        peak_tflops("NVIDIA L4", None)


def test_a_tiny_run_is_never_written_to_the_committed_gpu_result():
    with pytest.raises(SystemExit, match="full GPU results only"):
        main(["--tiny", "--peak-tflops", "1"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="the refusal is for machines without a GPU")
def test_without_a_gpu_the_full_run_is_refused():
    with pytest.raises(SystemExit, match="no CUDA device"):
        main([])


def test_cases_past_the_time_limit_are_skipped_with_the_reason(tmp_path):
    out = tmp_path / "gpu-none.json"
    assert main(["--tiny", "--out", str(out), "--peak-tflops", "1", "--time-limit-s", "0"]) == 0
    result = json.loads(out.read_text())
    assert result["train"] and all(r["skipped"].startswith("time limit") for r in result["train"])
    assert all("mfu" not in r for r in result["train"]) and result["profile"] is None
    transformers_rows = [r for r in result["generate"] if r["backend"] == "transformers"]
    assert transformers_rows and all(r["skipped"] == "time limit" for r in transformers_rows)


def test_device_breakdown_shares_are_of_kernel_time_and_rank_operators_not_kernels():
    def event(key, device, self_device, cpu_total=0.0):
        return SimpleNamespace(key=key, device_type=device, self_device_time_total=self_device,
                               self_cpu_time_total=0.0, cpu_time_total=cpu_total, count=1)

    events = [event("ProfilerStep#1", DeviceType.CPU, 0.0, cpu_total=10_000.0),
              event("aten::mm", DeviceType.CPU, 3_000.0),
              event("aten::_flash_attention_backward", DeviceType.CPU, 1_000.0),
              event("aten::item", DeviceType.CPU, 0.0),
              event("sm90_gemm_kernel", DeviceType.CUDA, 3_000.0), event("flash_bwd_kernel", DeviceType.CUDA, 1_000.0)]
    breakdown = op_breakdown(events, on_device=True, top=5)
    assert breakdown["device_busy_ms"] == 4.0 and breakdown["step_wall_ms"] == 10.0  # the GPU idled 6 of 10 ms
    assert [op["op"] for op in breakdown["top"]] == ["aten::mm", "aten::_flash_attention_backward"]
    assert [op["share"] for op in breakdown["top"]] == [0.75, 0.25]


def test_an_error_in_a_case_is_recorded_and_does_not_end_the_run():
    record = {"model": "m"}
    with errors_recorded(record):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    assert record["error"].startswith("OutOfMemoryError: CUDA out of memory")
    assert "raise torch.OutOfMemoryError" in record["traceback_tail"]
