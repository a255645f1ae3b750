#!/usr/bin/env bash
# The prepared GPU check of the fast SGDC op (one run, < 10 min on an H100).
#
# On an offline CUDA box with its own torch + triton (Python 3.12), from the
# repository root, after carrying the pure-Python wheels it lacks:
#     bash ../shared/device/wheels.sh "setuptools<81"   # here, before
#     bash tools/benchmark/gpu_check.sh                  # there
# It installs .whl/*.whl into $HOME/site (if present), then
#   1. runs tests/ops on CUDA (Triton fp32/fp16/bf16 parity, backend='auto'),
#   2. runs tools/benchmark/benchmark_sgdc.py --device cuda, which writes its
#      own "(CUDA)" section of docs/benchmarks.md (the CPU one is kept),
# and copies the logs and docs/benchmarks.md to $OUT (default: ./gpu_out).
set -u
OUT="${OUT:-gpu_out}"
mkdir -p "$OUT"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile \
    --target "$HOME/site" .whl/*.whl || exit 1
  export PYTHONPATH="$HOME/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c 'import torch, triton; print("torch", torch.__version__,
"cuda", torch.version.cuda, "triton", triton.__version__)'
} 2>&1 | tee "$OUT/gpu.txt"
timeout 240 python3 -m pytest -q -p no:cacheprovider tests/ops 2>&1 \
  | tail -25 | tee "$OUT/tests_ops.txt"
timeout 420 python3 tools/benchmark/benchmark_sgdc.py --device cuda \
  --case-timeout 120 --out docs/benchmarks.md 2>&1 | tee "$OUT/benchmark.txt"
cp docs/benchmarks.md "$OUT/"
