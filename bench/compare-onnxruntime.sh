#!/usr/bin/env bash
# Inference throughput of this project's oneDNN engine (`efficientnet benchmark --engine onednn`) against ONNX Runtime
# Java (the JVM's fastest inference engine) on the same CPU, shapes and thread count: synthetic input, random weights,
# the same network on both sides: torchvision's EfficientNet exported to ONNX (ours built with symmetric padding, as
# torchvision's is), and this project's own network exported with `efficientnet export --format onnx` (SAME padding,
# batch norms folded, ours the same network). Each round runs every shape once on each side, ours first, each in its own JVM; the table shows
# the median of the per-run medians and the ratio ours / ONNX Runtime.
#
#   bench/compare-onnxruntime.sh [--threads N] [--warmup W] [--iterations K] [--rounds R] [--only TEXT]
#                                [--output FILE.md] [--quick]
#
#   --threads N     OMP_NUM_THREADS for ours, intra-op threads for ONNX Runtime (default 2)
#   --warmup W      untimed iterations per run (default 10; batch-1 rows 8·W), --iterations K timed ones (default 15;
#                   batch-1 rows 4·K)
#   --rounds R      alternate ours and ONNX Runtime R times per shape (default 3)
#   --only TEXT     run only the rows whose label contains TEXT
#   --output FILE   also write the table as markdown to FILE, and every run's JSON to FILE with .jsonl appended
#   --quick         smoke test: 64 px, 1 warm-up + 2 iterations; the numbers mean nothing
#
# Shapes: B0 batch 8 @224, B0 batch 1 @224, B3 batch 8 @300, each on both networks. The torchvision files (batch
# dimension dynamic, input size fixed) come from scripts/export-torchvision-onnx.py (Debian's python3-torch and
# python3-torchvision, installed with apt-get when missing), ours from bin/efficientnet export, into bench/out/; ONNX Runtime Java (com.microsoft.onnxruntime:onnxruntime, a test dependency of
# efficientnet-core) runs them through io.efficientnet.core.bench.OnnxRuntimeThroughput. Ours runs with whatever oneDNN
# instruction set the CPU has (set ONEDNN_MAX_CPU_ISA to compare a lower one). Run on an otherwise idle machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
threads=2
warmup=10
iterations=15
rounds=3
bench_name=compare-onnxruntime
help_lines=24
# shellcheck source=bench/compare-common
source "$root/bench/compare-common"

# label|variant|batch|resolution|network (torchvision: its ONNX export, ours with symmetric padding; ours: our export)
if [[ $quick -eq 1 ]]; then
  shapes=("B0 inference, batch 2, 64 px (quick)|b0|2|64|torchvision"
          "B0 inference, batch 2, 64 px, our ONNX export (quick)|b0|2|64|ours")
  warmup=1; iterations=2
else
  shapes=("B0 inference, batch 8, 224 px|b0|8|224|torchvision" "B0 inference, batch 1, 224 px|b0|1|224|torchvision"
          "B3 inference, batch 8, 300 px|b3|8|300|torchvision"
          "B0 inference, batch 8, 224 px, our ONNX export|b0|8|224|ours"
          "B0 inference, batch 1, 224 px, our ONNX export|b0|1|224|ours"
          "B3 inference, batch 8, 300 px, our ONNX export|b3|8|300|ours")
fi

mkdir -p bench/out
# one file per network, variant and resolution: a fixed input size lets ONNX Runtime plan every shape ahead
for nvr in $(printf '%s\n' "${shapes[@]}" | awk -F'|' '{print $5 "-" $2 "-" $4}' | sort -u); do
  IFS=- read -r network variant res <<< "$nvr"
  file="bench/out/$network-$variant-$res.onnx"
  [[ -f "$file" ]] && continue
  if [[ "$network" == torchvision ]]; then
    "$python" scripts/export-torchvision-onnx.py --variant "$variant" --resolution "$res" --output "$file"
  else
    bin/efficientnet export --format onnx --variant "$variant" --resolution "$res" --output "$file" >&2
  fi
done

# shellcheck source=bench/core-test-classpath
source bench/core-test-classpath
export OMP_NUM_THREADS="$threads"
use_jemalloc_if_installed

jsonl="$(mktemp)"
trap 'rm -f "$jsonl"' EXIT
for ((round = 1; round <= rounds; round++)); do
  for s in "${shapes[@]}"; do
    IFS='|' read -r label variant batch res network <<< "$s"
    [[ -n "$only" && "$label" != *"$only"* ]] && continue
    w=$warmup; k=$iterations
    if [[ "$batch" == 1 && $quick -eq 0 ]]; then w=$((8 * warmup)); k=$((4 * iterations)); fi
    echo "compare-onnxruntime: round $round, $label: ours ..." >&2
    padding=same
    [[ "$network" == torchvision ]] && padding=symmetric
    ours="$(bin/efficientnet benchmark --variant "$variant" --padding "$padding" --batch-size "$batch" \
      --resolution "$res" --engine onednn --warmup "$w" --iterations "$k" --json)"
    echo "compare-onnxruntime: round $round, $label: ONNX Runtime ..." >&2
    # shellcheck disable=SC2154
    theirs="$(java -Xmx4g -cp "$core_test_cp" io.efficientnet.core.bench.OnnxRuntimeThroughput \
      "bench/out/$network-$variant-$res.onnx" --batch "$batch" --resolution "$res" --threads "$threads" \
      --warmup "$w" --iterations "$k")"
    "$python" - "$label" "$round" "$ours" "$theirs" >> "$jsonl" <<'EOF'
import json, sys
label, rnd, ours, theirs = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
print(json.dumps({"label": label, "round": rnd, "ours": ours, "onnxruntime": theirs}))
EOF
  done
done

"$python" - "$jsonl" "$threads" "$output" <<'EOF'
import json, statistics, sys, platform, subprocess
path, threads, output = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [json.loads(l) for l in open(path)]
isa = rows[0]["ours"].get("oneDnnIsa", "?") if rows else "?"
ort = rows[0]["onnxruntime"]["engine"] if rows else "?"
lines = [f"ours: oneDNN engine, oneDNN ISA {isa}; peer: {ort}; {threads} threads; median of per-run medians", "",
         "| shape | ours img/s | ONNX Runtime img/s | ours / ORT | per round |", "|---|---:|---:|---:|---|"]
for label in dict.fromkeys(r["label"] for r in rows):
    rs = [r for r in rows if r["label"] == label]
    a = statistics.median(r["ours"]["imagesPerSecondMedian"] for r in rs)
    b = statistics.median(r["onnxruntime"]["imagesPerSecondMedian"] for r in rs)
    per = ", ".join(f'{r["ours"]["imagesPerSecondMedian"] / r["onnxruntime"]["imagesPerSecondMedian"]:.2f}' for r in rs)
    lines.append(f"| {label} | {a:.1f} | {b:.1f} | **{a / b:.2f}×** | {per} |")
    for r in rs:
        refs = r["ours"].get("oneDnnReferenceKernels")
        if refs:
            lines.append(f"|   ↳ reference kernels in round {r['round']} | {', '.join(refs)} | | | |")
print("\n".join(lines))
if output:
    open(output, "w").write("\n".join(lines) + "\n")
    with open(output + ".jsonl", "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
EOF
