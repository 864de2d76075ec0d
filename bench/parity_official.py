"""Measured parity with LiveCodeBench's own harness: grade one corpus with it and with ours, in both modes.

    python bench/parity_official.py --lcb /path/to/LiveCodeBench [--out bench/results/parity.json]

`--lcb` is a local checkout of github.com/LiveCodeBench/LiveCodeBench (nothing is fetched at run time). Its code is
imported only inside child processes started here (`LCB_DRIVER`), which extract the code with its
`extract_code(..., LMStyle.OpenAIChat)` and run its `check_correctness(sample, code, timeout=6)` exactly as
`codegen_metrics` does, so its reliability_guard (which disables os.kill, os.remove, subprocess.Popen, ...) never
runs in this process. Our side grades the same samples with ssd.grading in `official` and in `strict` semantics.

LiveCodeBench's result codes map to our statuses: all True -> passed, -2 or False -> wrong_answer, -3 and -1 (its
global time-out, which also covers a child that died) -> timeout, -4 -> runtime_error, and an empty extracted
program (which it runs and fails) -> no_code. A check_correctness that raises is its "TestRunnerError": the sample
counts as failed with code -2 (as in `evaluate_generations_by_problem`), reported here as runtime_error.

Writes {"official": {...}, "strict": {...}, "corpus": {...}, "lcb": {...}}: per mode the number of samples, the
fraction whose status equals LiveCodeBench's, the same per LiveCodeBench status, and every disagreement with a
one-line reason (the corpus row's note when it documents one, else "UNEXPLAINED").

Does not: download LiveCodeBench or its data, or grade LiveCodeBench's own problems (the corpus is ours:
bench/parity_corpus.py).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import parity_corpus  # noqa: E402
from ssd.grading import LCB_PRELUDE, grade_samples  # noqa: E402
from ssd.records import Problem  # noqa: E402

LCB_TIMEOUT = 6  # codegen_metrics' default per-test timeout
LCB_DRIVER = r"""
import json, sys
checkout, jobs_path, out_path = sys.argv[1:4]
sys.path.insert(0, checkout)
from lcb_runner.evaluation.compute_code_generation_metrics import check_correctness
from lcb_runner.utils.extraction_utils import extract_code
from lcb_runner.lm_styles import LMStyle

def plain(value):
    if str(value) in ("True", "False"):
        return str(value) == "True"
    return int(value)

with open(jobs_path) as jobs, open(out_path, "a") as out:
    for line in jobs:
        job = json.loads(line)
        code = extract_code(job["completion"], LMStyle.OpenAIChat)
        try:
            result, meta = check_correctness({"input_output": job["input_output"]}, code, job["timeout"], debug=False)
            result, meta = [plain(r) for r in result], dict(meta)
        except Exception as e:
            result, meta = [-2], {"error_code": -5, "error_message": "TestRunnerError", "error": repr(e)}
        out.write(json.dumps({"index": job["index"], "code": code, "result": result,
                              "error_message": str(meta.get("error_message", ""))[:200]}) + "\n")
        out.flush()
"""
LCB_CODES = {-1: "timeout", -2: "wrong_answer", -3: "timeout", -4: "runtime_error"}


def lcb_status(code: str, result: list) -> str:
    if not code.strip():
        return "no_code"
    for value in result:
        if value is True:
            continue
        return "wrong_answer" if value is False else LCB_CODES[value]
    return "passed"


def lcb_input_output(problem: Problem) -> str:
    return json.dumps({"inputs": [t["input"] for t in problem.tests], "outputs": [t["output"] for t in problem.tests],
                       "fn_name": problem.func_name if problem.kind == "functional" else None})


def run_lcb(checkout: Path, problems: dict[str, Problem], rows: list[parity_corpus.Row],
            processes: int) -> list[dict]:
    """LiveCodeBench's verdict for every row, from `processes` driver processes."""
    with tempfile.TemporaryDirectory(prefix="ssd-parity-") as tmp:
        shards = []
        for shard in range(processes):
            jobs_path, out_path = Path(tmp) / f"jobs{shard}.jsonl", Path(tmp) / f"out{shard}.jsonl"
            with jobs_path.open("w") as fh:
                for index in range(shard, len(rows), processes):
                    row = rows[index]
                    fh.write(json.dumps({"index": index, "completion": row.completion, "timeout": LCB_TIMEOUT,
                                         "input_output": lcb_input_output(problems[row.problem_id])}) + "\n")
            proc = subprocess.Popen([sys.executable, "-c", LCB_DRIVER, str(checkout), str(jobs_path), str(out_path)],
                                    cwd=tmp, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            shards.append((proc, out_path))
        answers: dict[int, dict] = {}
        for proc, out_path in shards:
            if proc.wait() != 0:
                raise RuntimeError(f"the LiveCodeBench driver exited with {proc.returncode}")
            for line in out_path.read_text().splitlines():
                answer = json.loads(line)
                answers[answer["index"]] = answer
    missing = [rows[i].id for i in range(len(rows)) if i not in answers]
    if missing:
        raise RuntimeError(f"LiveCodeBench gave no verdict for {missing[:5]}")
    return [answers[i] for i in range(len(rows))]


def compare(rows: list[parity_corpus.Row], lcb: list[dict], ours: list[str], mode: str) -> dict:
    per_status: dict[str, Counter] = {}
    disagreements = []
    for row, answer, status in zip(rows, lcb, ours):
        theirs = lcb_status(answer["code"], answer["result"])
        per_status.setdefault(theirs, Counter())["samples"] += 1
        if theirs == status:
            per_status[theirs]["agree"] += 1
            continue
        documented = theirs == row.official and status == row.expected(mode) and row.note
        reason = row.note if documented else "UNEXPLAINED"
        disagreements.append({"id": row.id, "lcb": theirs, "ours": status, "reason": reason,
                              "lcb_detail": answer["error_message"]})
    agree = sum(c["agree"] for c in per_status.values())
    return {"samples": len(rows), "agreement": round(agree / len(rows), 4) if rows else None,
            "by_lcb_status": {s: {"samples": c["samples"], "agreement": round(c["agree"] / c["samples"], 4)}
                              for s, c in sorted(per_status.items())},
            "disagreements": disagreements}


def lcb_commit(checkout: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def lcb_prelude_matches(checkout: Path) -> bool:
    """Whether our LCB_PRELUDE is LiveCodeBench's import block, read from its source text (not imported)."""
    source = (checkout / "lcb_runner" / "evaluation" / "testing_util.py").read_text()
    start = source.index('import_string = "') + len('import_string = ')
    return json.loads(source[start:source.index("\n", start)]) == LCB_PRELUDE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lcb", required=True, type=Path, help="a local LiveCodeBench checkout")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "parity.json")
    parser.add_argument("--groups", default=",".join(parity_corpus.GROUPS),
                        help=f"comma-separated subset of {','.join(parity_corpus.GROUPS)}")
    parser.add_argument("--workers", type=int, default=2, help="our sandbox workers and LCB driver processes")
    args = parser.parse_args(argv)
    if not (args.lcb / "lcb_runner" / "evaluation" / "testing_util.py").exists():
        parser.error(f"--lcb {args.lcb}: not a LiveCodeBench checkout (no lcb_runner/evaluation/testing_util.py)")
    problems, rows = parity_corpus.build(tuple(args.groups.split(",")))
    samples = parity_corpus.as_samples(rows)
    started = time.time()
    lcb = run_lcb(args.lcb.resolve(), problems, rows, args.workers)
    lcb_seconds = time.time() - started
    report = {"lcb": {"checkout_commit": lcb_commit(args.lcb), "prelude_matches_ours": lcb_prelude_matches(args.lcb),
                      "seconds": round(lcb_seconds, 1)},
              "corpus": dict(Counter(r.group for r in rows))}
    for mode in ("official", "strict"):
        started = time.time()
        verdicts = grade_samples(samples, problems, workers=args.workers, semantics=mode)
        report[mode] = compare(rows, lcb, [v.status for v in verdicts], mode)
        report[mode]["seconds"] = round(time.time() - started, 1)
        print(f"{mode}: agreement {report[mode]['agreement']} over {len(rows)} samples, "
              f"{len(report[mode]['disagreements'])} disagreements", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
