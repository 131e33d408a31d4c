#!/usr/bin/env bash
# The speed measurements of BENCHMARKS.md in one command, for an otherwise idle machine:
#
#   bench/measure-all.sh [--threads N] [--rounds R] [--out DIR] [--quick]
#
# 1. ours vs PyTorch (bench/compare-pytorch.sh)                         -> DIR/pytorch-comparison.md (+ .jsonl)
# 2. B0 inference, original vs batch-norm-folded export, batch 8 and 1 -> DIR/export-*.json, table in SUMMARY.md
#    (the model is the bundled Keras-layout B0 file converted with `convert`, then `export --optimize-for-inference`)
# 3. where B0 training time goes (benchmark --profile), train batch 8 and inference batch 8 -> DIR/profile-*.txt
# 4. JMH micro-benchmarks of ChannelScaleVertex and DropPath (bench/jmh.sh) -> DIR/jmh.txt, DIR/jmh.json
# and DIR/SUMMARY.md with all tables. Defaults: 2 threads (OMP_NUM_THREADS), 1 round, DIR=runs/bench-<time>.
# --quick: tiny shapes and iteration counts, to check that the pipeline works (numbers meaningless).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
threads=2
rounds=1
out="$root/runs/bench-$(date +%Y%m%d-%H%M%S)"
quick=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "measure-all: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
out="$(cd "$out" && pwd)"
export OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
# shellcheck source=bin/jvm-options
source "$root/bin/jvm-options"
use_jemalloc_if_installed   # what bin/efficientnet does, exported so that the PyTorch runs share the allocator
cli="$root/bin/efficientnet"
log() { echo "measure-all: $*" >&2; }

if [[ $quick -eq 1 ]]; then
  res=64; batch=2; warm=1; iters=2; quick_flag=(--quick); jmh_flags=(--quick)
else
  res=224; batch=8; warm=10; iters=15; quick_flag=(); jmh_flags=()
fi
"$cli" --version >/dev/null   # build once, before anything is timed
{
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs visible"
  echo "load before start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "git: $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo ' (modified)')"
  echo "OMP_NUM_THREADS=$OMP_NUM_THREADS"
  echo "LD_PRELOAD=${LD_PRELOAD:-} MALLOC_CONF=${MALLOC_CONF:-}"
  java -version 2>&1 | head -n 1
} >"$out/environment.txt"

log "1/4 ours vs PyTorch"
"$root/bench/compare-pytorch.sh" --threads "$threads" --rounds "$rounds" --output "$out/pytorch-comparison.md" \
  ${quick_flag[@]+"${quick_flag[@]}"}

log "2/4 original vs batch-norm-folded export"
"$cli" convert --keras "$root/efficientnet-core/src/test/resources/golden/efficientnet-b0-keras-random.h5" \
  --variant b0 --output "$out/b0.zip" >&2
"$cli" export --model "$out/b0.zip" --optimize-for-inference --output "$out/b0-folded.zip" >&2
for b in "$batch" 1; do
  for ((round = 1; round <= rounds; round++)); do
    for m in b0 b0-folded; do
      "$cli" benchmark --model "$out/$m.zip" --resolution "$res" --mode inference --batch-size "$b" \
        --warmup "$warm" --iterations "$iters" --json >"$out/export-$m-batch$b-round$round.json"
    done
  done
done

log "3/4 per-layer-type profiles of B0"
"$cli" benchmark --variant b0 --resolution "$res" --mode train --batch-size "$batch" --warmup "$warm" \
  --iterations "$iters" --profile >"$out/profile-b0-train-batch$batch.txt"
"$cli" benchmark --variant b0 --resolution "$res" --mode inference --batch-size "$batch" --warmup "$warm" \
  --iterations "$iters" --profile >"$out/profile-b0-inference-batch$batch.txt"

log "4/4 JMH"
"$root/bench/jmh.sh" ${jmh_flags[@]+"${jmh_flags[@]}"} -rf json -rff "$out/jmh.json" >"$out/jmh.txt"

/usr/bin/python3 - "$out" <<'PY'
import glob, json, os, re, statistics, sys
out = sys.argv[1]
parts = ["# Benchmark run", "", "```", open(os.path.join(out, "environment.txt")).read().rstrip(), "```", "",
         "## Ours vs PyTorch", "", open(os.path.join(out, "pytorch-comparison.md")).read().rstrip(), "",
         "## Inference: original vs batch-norm-folded export (B0)", "",
         "| batch | original img/s | folded img/s | folded / original | original peak RSS MiB | folded peak RSS MiB |",
         "|---:|---:|---:|---:|---:|---:|"]
runs = {}
for f in glob.glob(os.path.join(out, "export-*.json")):
    m = re.match(r"export-(b0|b0-folded)-batch(\d+)-round\d+\.json", os.path.basename(f))
    runs.setdefault((int(m.group(2)), m.group(1)), []).append(json.load(open(f)))
for batch in sorted({b for b, _ in runs}, reverse=True):
    o, f = runs[(batch, "b0")], runs[(batch, "b0-folded")]
    oi = statistics.median(r["imagesPerSecondMedian"] for r in o)
    fi = statistics.median(r["imagesPerSecondMedian"] for r in f)
    om = max(r["memory"]["peakRssBytes"] for r in o) / 2**20
    fm = max(r["memory"]["peakRssBytes"] for r in f) / 2**20
    parts.append("| %d | %.2f | %.2f | %.2f | %.0f | %.0f |" % (batch, oi, fi, fi / oi, om, fm))
parts += ["", "## Where the time goes (benchmark --profile)", ""]
for f in sorted(glob.glob(os.path.join(out, "profile-*.txt"))):
    parts += ["`%s`:" % os.path.basename(f), "", "```", open(f).read().rstrip(), "```", ""]
jmh = open(os.path.join(out, "jmh.txt")).read()
lines = jmh.splitlines()
start = max((i for i, l in enumerate(lines) if l.startswith("Benchmark ") and " Mode " in l), default=0)
table = "\n".join(l for l in lines[start:] if not l.startswith("Benchmark result is saved"))
parts += ["## JMH micro-benchmarks", "", "```", table.rstrip(), "```", ""]
open(os.path.join(out, "SUMMARY.md"), "w").write("\n".join(parts) + "\n")
print(os.path.join(out, "SUMMARY.md"))
PY
log "done: $out/SUMMARY.md"
