#!/usr/bin/env bash
# The prepared GPU check of the fast SGDC op (one run, < 13 min on an H100).
#
# On an offline CUDA box with its own torch + triton (Python 3.12), from the
# repository root, after carrying the pure-Python wheels it lacks:
#     bash ../shared/device/wheels.sh "setuptools<81"   # here, before
#     bash tools/benchmark/gpu_check.sh                  # there
# It installs .whl/*.whl into $HOME/site (if present), then
#   1. runs tests/ops on CUDA (Triton fp32/fp16/bf16 parity, backend='auto'),
#   2. runs tools/benchmark/benchmark_sgdc.py --device cuda
#      --compile-train-step, which writes its own "(CUDA)" section of
#      docs/benchmarks.md (the CPU ones are kept): Triton vs the unfold
#      reference at B=8, C=256, 128x128 in fp32 and bf16 with GB/s against
#      the card's peak, SGDC-R50 vs UPerNet-R50 train steps at 512x512
#      batch 8, plain and under torch.compile, peak memory,
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
timeout 180 python3 -m pytest -q -p no:cacheprovider tests/ops 2>&1 \
  | tail -25 | tee "$OUT/tests_ops.txt"
timeout 540 python3 tools/benchmark/benchmark_sgdc.py --device cuda \
  --compile-train-step --case-timeout 240 --out docs/benchmarks.md 2>&1 \
  | tee "$OUT/benchmark.txt"
cp docs/benchmarks.md "$OUT/"
