#!/usr/bin/env bash
# End-to-end check of training on a real Spark standalone cluster (scripts/spark-local-cluster.sh): a master and two
# 1-core workers on this machine, executors in JVMs of their own, the training code shipped by spark-submit.
#
#   scripts/spark-cluster-check.sh [WORK_DIR]      (default: a new temporary folder; about 5 minutes on 2 cores)
#
# 1. Trains the quickstart recipe for 2 epochs through the cluster (parameters averaged every 2 steps) and checks
#    that two executors ran, each in its own JVM under its own worker; kills one executor with SIGKILL after the
#    first checkpoint: Spark must re-run the lost task and the run must finish; the training loss must fall, the
#    final model must beat chance and evaluate without Spark exactly as the run's last validation reported.
# 2. Kills the driver with SIGKILL after its first checkpoint: `train --resume` through the cluster must continue from
#    that checkpoint and finish.
# Exits 0 when every check passes; otherwise prints what failed, with the logs' last lines, and exits 1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$(mktemp -d -t spark-cluster-check.XXXXXX)}"
mkdir -p "$work"
export EFFICIENTNET_SPARK_CLUSTER="$work/cluster"
cluster="$root/scripts/spark-local-cluster.sh"
port=$((17077 + RANDOM % 1000))

fail() {
  echo "spark-cluster-check: FAILED: $*" >&2
  for f in "$work"/*.log; do [[ -f "$f" ]] && { echo "--- $f" >&2; grep -v DEBUG "$f" | tail -15 >&2; }; done
  exit 1
}
trap '"$cluster" stop >/dev/null 2>&1 || true' EXIT

submit() { # submit LOG [train options]: runs in the background, sets $driver
  local log="$1"; shift
  "$root/scripts/spark-submit.sh" --master "spark://127.0.0.1:$port" --executor-memory 3g --executor-cores 1 -- \
    --config "$root/config/quickstart.yaml" --data "$root/datasets/fashion-mnist-mini" --no-progress "$@" \
    >"$log" 2>&1 &
  driver=$!
}

wait_for_checkpoint() { # wait_for_checkpoint RUN_DIR PID
  for _ in $(seq 600); do
    compgen -G "$1/checkpoints/ckpt-*.zip" >/dev/null && return 0
    kill -0 "$2" 2>/dev/null || fail "the run in $1 ended before its first checkpoint"
    sleep 0.5
  done
  fail "no checkpoint in $1 after 5 minutes"
}

executors_of() { # executors_of WORKER_NUMBER: PIDs of the executor JVMs that worker launched
  pgrep -P "$(cat "$EFFICIENTNET_SPARK_CLUSTER/worker-$1.pid")" -f CoarseGrainedExecutorBackend || true
}

"$root/bin/efficientnet" --version >/dev/null # build the CLI first, outside the timed runs
"$cluster" start --workers 2 --worker-memory 4g --port "$port" | tee "$work/cluster-start.log"

echo "== run 1: 2 epochs, averaging every 2 steps; one executor killed after the first checkpoint"
run1="$work/run1"
submit "$work/run1.log" --output "$run1" --epochs 2 --spark-averaging-frequency 2 --set run.checkpoint_every=8
wait_for_checkpoint "$run1" "$driver"
e1="$(executors_of 1)" e2="$(executors_of 2)"
[[ -n "$e1" && -n "$e2" && "$e1" != "$e2" ]] || fail "expected one executor JVM under each worker, got '$e1' and '$e2'"
ui_port="$(cat "$EFFICIENTNET_SPARK_CLUSTER/master.ui-port")"
used="$(curl -s "http://127.0.0.1:$ui_port/json/" | grep -o '"coresused" *: *[0-9]*' | grep -c ': *1$' || true)"
[[ "$used" == 2 ]] || fail "the master's status shows $used workers using their core, expected 2"
echo "executors: PID $e1 (worker 1), PID $e2 (worker 2); killing $e1"
kill -9 "$e1"
wait "$driver" || fail "run 1 exited with status $? after an executor was killed"
grep -q "Lost executor" "$work/run1.log" || fail "the driver's log does not mention the lost executor"
[[ "$(executors_of 1)" != "$e1" && -n "$(executors_of 1)" ]] || echo "note: worker 1 has not relaunched an executor"
python3 - "$run1/metrics.csv" <<'EOF' || fail "run 1's metrics"
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 2, f"{len(rows)} epochs in metrics.csv, expected 2"
l1, l2 = float(rows[0]["train_loss"]), float(rows[1]["train_loss"])
assert math.isfinite(l2) and l2 < l1, f"training loss did not fall: {l1} -> {l2}"
top1 = float(rows[1]["val_top1"])
assert top1 > 0.2, f"validation top-1 {top1} is not above chance (0.1 on 10 classes)"
print(f"run 1: training loss {l1:.4f} -> {l2:.4f}, validation top-1 {top1:.4f}")
EOF
recorded="$(python3 -c "import csv,sys; print(list(csv.DictReader(open(sys.argv[1])))[-1]['val_top1'])" "$run1/metrics.csv")"
evaluated="$("$root/bin/efficientnet" evaluate --model "$run1/model-final.zip" --data "$root/datasets/fashion-mnist-mini" \
  --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['top1'])")"
python3 -c "import sys; a, b = map(float, sys.argv[1:]); assert abs(a - b) < 1e-9, (a, b)" "$recorded" "$evaluated" \
  || fail "model-final.zip evaluates to top-1 $evaluated without Spark; the run recorded $recorded"
echo "run 1: model-final.zip evaluated without Spark: top-1 $evaluated, as recorded"

echo "== run 2: the driver killed after its first checkpoint, then --resume"
run2="$work/run2"
options=(--output "$run2" --epochs 1 --spark-averaging-frequency 4 --set run.checkpoint_every=16)
submit "$work/run2.log" "${options[@]}"
wait_for_checkpoint "$run2" "$driver"
kill -9 "$driver"
wait "$driver" 2>/dev/null || true
checkpoint="$(ls "$run2/checkpoints" | tail -1)"
echo "driver killed; newest checkpoint $checkpoint"
submit "$work/run2-resumed.log" "${options[@]}" --resume "$run2" # the command that started it, with --resume
wait "$driver" || fail "the resumed run exited with status $?"
grep -q "resuming from .*$checkpoint" "$work/run2-resumed.log" || fail "the resumed run did not start from $checkpoint"
[[ -f "$run2/model-final.zip" ]] || fail "the resumed run wrote no model-final.zip"
[[ "$(ls "$run2/checkpoints" | tail -1)" == ckpt-000000063.zip ]] || fail "the resumed run did not end at iteration 63"
echo "run 2: resumed from $checkpoint and finished"
echo "spark-cluster-check: all checks passed ($work)"
