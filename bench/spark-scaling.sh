#!/usr/bin/env bash
# Spark training throughput and accuracy against the averaging frequency K and the number of workers, on a standalone
# cluster on this machine (scripts/spark-local-cluster.sh: 1-core workers, executors in JVMs of their own).
#
#   bench/spark-scaling.sh [--epochs E] [--frequencies "1 4 16"] [--workers "1 2"] [--output FILE.md]
#
# For each worker count W the cluster is started with W workers; for each K the quickstart recipe (batch 32,
# datasets/fashion-mnist-mini: 2,000 training and 500 validation images) trains E epochs (default 3) with
# spark.workers W and spark.averaging_frequency K. images/s is the median over epochs 2..E of the epoch's images per
# second (epoch 1 includes the executors' start and their download of the shipped jars); top-1 is the last epoch's
# validation. Scaling efficiency: images/s with 2 workers / (2 x images/s with 1 worker), per K.
# Run on an otherwise idle machine: the driver, the executors and anything else share its cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
epochs=3
frequencies="1 4 16"
worker_counts="1 2"
output=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --frequencies) frequencies="$2"; shift 2 ;;
    --workers) worker_counts="$2"; shift 2 ;;
    --output) output="$2"; shift 2 ;;
    *) echo "usage: $0 [--epochs E] [--frequencies \"1 4 16\"] [--workers \"1 2\"] [--output FILE.md]" >&2; exit 2 ;;
  esac
done
[[ "$epochs" -ge 2 ]] || { echo "--epochs must be at least 2 (epoch 1 is not timed)" >&2; exit 2; }
work="$(mktemp -d -t spark-scaling.XXXXXX)"
export EFFICIENTNET_SPARK_CLUSTER="$work/cluster"
cluster="$root/scripts/spark-local-cluster.sh"
trap '"$cluster" stop >/dev/null 2>&1 || true' EXIT
"$root/bin/efficientnet" --version >/dev/null
results="$work/results.tsv"

for w in $worker_counts; do
  "$cluster" start --workers "$w" --worker-memory 4g --port 17077 >/dev/null
  for k in $frequencies; do
    run="$work/w$w-k$k"
    echo "workers $w, averaging every $k steps ..." >&2
    "$root/scripts/spark-submit.sh" --master spark://127.0.0.1:17077 --executor-memory 3g --executor-cores 1 -- \
      --config "$root/config/quickstart.yaml" --data "$root/datasets/fashion-mnist-mini" --output "$run" \
      --epochs "$epochs" --spark-workers "$w" --spark-averaging-frequency "$k" --no-progress >"$run.log" 2>&1 \
      || { echo "the run with $w workers and K=$k failed; see $run.log" >&2; exit 1; }
    python3 - "$run/metrics.csv" "$w" "$k" >>"$results" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
speed = statistics.median(float(r["images_per_sec"]) for r in rows[1:])
print(sys.argv[2], sys.argv[3], f"{speed:.1f}", f"{100 * float(rows[-1]['val_top1']):.2f}",
      f"{float(rows[-1]['train_loss']):.4f}", sep="\t")
EOF
  done
  "$cluster" stop >/dev/null
done

table="$(python3 - "$results" "$epochs" <<'EOF'
import sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()]
speed = {(r[0], r[1]): float(r[2]) for r in rows}
print(f"| workers | K | images/s | val top-1 after {sys.argv[2]} epochs | train loss | scaling efficiency |")
print("|---:|---:|---:|---:|---:|---:|")
for w, k, s, top1, loss in rows:
    eff = ""
    if w == "2" and ("1", k) in speed:
        eff = f"{float(s) / (2 * speed[('1', k)]):.2f}"
    print(f"| {w} | {k} | {s} | {top1}% | {loss} | {eff} |")
EOF
)"
echo "$table"
if [[ -n "$output" ]]; then
  { echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; 1-core workers;" \
      "quickstart recipe (batch 32), $epochs epochs"; echo; echo "$table"; } >"$output"
fi
