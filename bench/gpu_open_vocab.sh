#!/usr/bin/env bash
# The open-vocabulary benchmark at GPU scale (bench/open_vocab_benchmark.py --scale gpu), prepared for one
# device call per fold (FOLD=1, 2 or 3; the pool is simulated again on the machine's cores each call, the
# same bytes from the same seed). One log, every step under its own timeout, so a cut run still reports.
# Carried beside the tree: .whl/ (tomli-w, webdataset, braceexpand wheels) and .bench_minilm/
# (bench/device_text.py save). The results come back in $OUT/ov/results-v2.json; merge the folds' files
# here and print the tables with the benchmark's --out on the merged directory.
# Dry run on a CPU: SCALE=smoke FOLD=1 OUT=/tmp/dry bash bench/gpu_open_vocab.sh
set -uo pipefail
export PYTHONUNBUFFERED=1
FOLD=${FOLD:-1}; SCALE=${SCALE:-gpu}; OUT=${OUT:-/tmp}
mkdir -p "$OUT/ov"
LOG=$OUT/gpu_open_vocab.log
exec > >(tee -a "$LOG") 2>&1
source bench/device_env.sh || exit 1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no GPU: a dry run"
echo "== [$(date +%T)] restore the text tower"
timeout 60 python3 bench/device_text.py restore /tmp/minilm || exit 1
echo "== [$(date +%T)] fold $FOLD at scale $SCALE (simulation, both variants, scoring)"
timeout "${LIMIT:-520}" python3 bench/open_vocab_benchmark.py --scale "$SCALE" --out "$OUT/ov" --folds "$FOLD" \
  --text-model /tmp/minilm 2>&1 | grep -v "clip/s"
rm -rf "$OUT/ov/pool" "$OUT/ov/in_family" "$OUT/ov/fold"* "$OUT/ov/runs"  # only the results come back
echo "== [$(date +%T)] done"
