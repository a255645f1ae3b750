#!/usr/bin/env bash
# The prepared GPU run of the replication study (docs/results.md): one call,
# under 10 minutes on one H100/H200, on an offline CUDA box with its own torch
# + triton (Python 3.12). From the repository root, with
#   .whl/      the pure-Python wheels it lacks: bash ../shared/device/wheels.sh "setuptools<81"
#   $DATA_DIR  (default .devdata) holding the study's datasets, each folder
#              linked into data/ here: isic2017-256x192/ and ph2-sample/
#              (the converted 4-case PH2 sample) for the default study,
#              drive/ (converted) for configs/studies/drive_gpu.py.
# Steps (each bounded so that the results always come back):
#   1. the Triton op tests on CUDA; on failure the study falls back to the
#      'shift' backend (SGDC_AGGREGATE_BACKEND=shift) and says so;
#   2. tools/study.py $STUDY --jobs $JOBS (all runs at once on the one GPU),
#      stopped with its process group at $STUDY_SECONDS; then the external
#      PH2 test and the report of what finished;
#   3. with time left, benchmark_sgdc.py --device cuda (its CUDA section).
# Results land in $OUT (default gpu_out), 8 files at most: gpu.txt (machine,
# op tests), study.log, results.{md,csv,png}, study.tgz (logs, configs,
# summaries, per-image CSVs; no checkpoints), benchmark.txt, benchmarks.md.
# Other studies: STUDY=configs/studies/drive_gpu.py JOBS=10 (see that file).
set -u
OUT="${OUT:-gpu_out}"
DATA_DIR="${DATA_DIR:-.devdata}"
STUDY="${STUDY:-configs/studies/isic2017_gpu.py}"
JOBS="${JOBS:-8}"
STUDY_SECONDS="${STUDY_SECONDS:-460}"
TOTAL_SECONDS="${TOTAL_SECONDS:-570}"
STUDY_ARGS="${STUDY_ARGS:-}"
mkdir -p "$OUT"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile \
    --target "$HOME/site" .whl/*.whl || exit 1
  export PYTHONPATH="$HOME/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
export PYTHONWARNINGS="ignore::UserWarning"
mkdir -p data
for d in "$DATA_DIR"/*/; do
  d="$(basename "$d")"
  [ -e "data/$d" ] || ln -s "$(cd "$DATA_DIR" && pwd)/$d" "data/$d"
done
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c 'import torch, triton; print("torch", torch.__version__,
"cuda", torch.version.cuda, "triton", triton.__version__)'
  nproc; date -u
} 2>&1 | tee "$OUT/gpu.txt"

if [ -z "${SKIP_TESTS:-}" ]; then
  timeout 90 python3 -m pytest -q -p no:cacheprovider -x \
    tests/ops/backends/test_triton.py tests/ops/test_sgdc_aggregate.py -k "cuda or triton" \
    > "${TMPDIR:-/tmp}/sgdc_tests_ops.txt" 2>&1
  rc=$?
  tail -5 "${TMPDIR:-/tmp}/sgdc_tests_ops.txt" | tee -a "$OUT/gpu.txt"
  if [ $rc -ne 0 ]; then
    echo "Triton op tests failed (exit $rc): study uses the shift backend" \
      | tee -a "$OUT/gpu.txt"
    export SGDC_AGGREGATE_BACKEND=shift
  fi
fi

work_dir="${WORK_DIR:-$(python3 -c "from mmengine.config import Config; \
print(Config.fromfile('$STUDY').work_dir)" 2>/dev/null)}"
STUDY_ARGS="--work-dir $work_dir $STUDY_ARGS"
# Own process group, so that the deadline stops the training processes too.
setsid python3 tools/study.py "$STUDY" --jobs "$JOBS" --no-external \
  $STUDY_ARGS > "$OUT/study.log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$STUDY_SECONDS" ]; do
  sleep 5
done
if kill -0 "$pid" 2>/dev/null; then
  echo "study stopped at its deadline (${STUDY_SECONDS}s)" | tee -a "$OUT/gpu.txt"
  kill -- -"$pid" 2>/dev/null; sleep 3; kill -9 -- -"$pid" 2>/dev/null
fi
wait "$pid" 2>/dev/null
# External test sets of the finished runs (nothing is trained), report.
left=$((TOTAL_SECONDS - SECONDS))
timeout "$((left > 30 ? left : 30))" python3 tools/study.py "$STUDY" \
  $STUDY_ARGS --externals-only >> "$OUT/study.log" 2>&1 || \
  python3 tools/study.py "$STUDY" $STUDY_ARGS --report-only --no-external \
    > /dev/null 2>&1
cp "$work_dir"/results.md "$work_dir"/results.csv "$OUT/" 2>/dev/null
cp "$work_dir"/results.png "$OUT/" 2>/dev/null
tar czf "$OUT/study.tgz" --exclude='*.pth' "$work_dir" 2>/dev/null
tail -40 "$OUT/study.log"
cat "$work_dir/results.md" 2>/dev/null

left=$((TOTAL_SECONDS - SECONDS))
if [ -z "${SKIP_BENCHMARK:-}" ] && [ "$left" -gt 60 ]; then
  timeout "$left" python3 tools/benchmark/benchmark_sgdc.py --device cuda \
    --case-timeout 60 --out "$OUT/benchmarks.md" > "$OUT/benchmark.txt" 2>&1
  tail -30 "$OUT/benchmark.txt"
fi
echo "gpu_study.sh done in ${SECONDS}s"
