"""SFT progress reporting: the per-step JSONL log and the progress bar's loss, learning rate and tokens/s."""
import json

from ssd.sft.progress import StepLogger


def test_each_step_appends_one_record_and_a_resumed_logger_continues_the_file(tmp_path):
    log = tmp_path / "train_log.jsonl"
    first = StepLogger(log, total_steps=3, progress=False)
    first.log(1, loss=2.5, lr=1e-3, input_tokens=100)
    first.close()
    second = StepLogger(log, total_steps=3, start_step=1, progress=False)
    second.log(2, loss=2.0, lr=5e-4, input_tokens=50)
    second.close()
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["step"], r["loss"], r["input_tokens"]) for r in records] == [(1, 2.5, 100), (2, 2.0, 50)]
    assert all(r["tokens_per_s"] > 0 and r["elapsed_s"] >= 0 and r["cpu_s"] >= 0 for r in records)


def test_progress_bar_shows_loss_learning_rate_and_tokens_per_second(tmp_path, capsys):
    logger = StepLogger(tmp_path / "log.jsonl", total_steps=2, progress=True)
    logger.log(1, loss=1.23456, lr=3e-4, input_tokens=10)
    logger.close()
    bar = capsys.readouterr().err
    assert "loss=1.2346" in bar and "lr=3.00e-04" in bar and "tok_s=" in bar and "1/2" in bar


def test_tensorboard_receives_every_numeric_metric_per_step(tmp_path, monkeypatch):
    import sys
    import types

    scalars = []

    class RecordingWriter:  # stands in for torch.utils.tensorboard.SummaryWriter (tensorboard not installed)
        def __init__(self, log_dir):
            self.log_dir = log_dir

        def add_scalar(self, name, value, step):
            scalars.append((name, step))

        def close(self):
            scalars.append(("closed", None))

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", types.SimpleNamespace(SummaryWriter=RecordingWriter))
    logger = StepLogger(tmp_path / "log.jsonl", total_steps=1, progress=False, report_to=["tensorboard"])
    logger.log(1, loss=1.0, lr=1e-3, input_tokens=10)
    logger.close()
    assert {("train/loss", 1), ("train/lr", 1), ("train/tokens_per_s", 1), ("train/input_tokens", 1)} <= set(scalars)
    assert scalars[-1] == ("closed", None)
