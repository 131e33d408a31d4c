#!/usr/bin/env bash
# Throughput of this project's EfficientNet (DL4J, `efficientnet benchmark`) against torchvision's (PyTorch,
# bench/torch_bench.py) on the same CPU, same shapes, same thread count, synthetic data, random weights.
#
#   bench/compare-pytorch.sh [--threads N] [--warmup W] [--iterations K] [--rounds R] [--only TEXT] [--output FILE.md]
#                            [--quick]
#
#   --threads N     OMP_NUM_THREADS for both sides, and torch.set_num_threads(N) (default 2)
#   --warmup W      untimed iterations per run (default 10: the JVM's JIT compiler needs about 7 B0 iterations on 2
#                   cores to settle); --iterations K: timed iterations (default 15). Batch-1 rows use 8·W warm-up and
#                   4·K timed iterations on both sides: an iteration is ~8× shorter, and the JIT compiler settles after
#                   a time, not a number of iterations (10 batch-1 warm-ups left ours 10-25% slower, BENCHMARKS.md)
#   --rounds R      run every shape R times, alternating ours and PyTorch; the table shows the median of the
#                   per-run medians (default 1)
#   --only TEXT     run only the row labelled TEXT, or else the rows whose label contains TEXT (e.g. "batch 1")
#   --output FILE   also write the table as markdown to FILE, and every run's JSON to FILE with .jsonl appended
#   --quick         smoke test only: tiny shapes (64 px), 1 warm-up + 2 iterations; the numbers mean nothing
#
# Shapes (ours and PyTorch alternate per shape): B0 inference batch 8 @224, B0 inference batch 1 @224,
# B0 training batch 8 @224 (plain SGD on both sides), B3 inference batch 8 @300, with ours at its default engine
# (auto: the oneDNN engine); then the same shapes with ours on the DL4J network itself (`--engine dl4j`, the path
# taken where oneDNN cannot run a network, e.g. on CUDA).
# Needs /usr/bin/python3 with torch and torchvision (Debian's python3-torch/python3-torchvision are installed with
# apt-get when missing). Our CLI is built by bin/efficientnet when needed. Run on an otherwise idle machine: with
# another process on the cores, OpenMP threads of both libraries wait on each other and times explode.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
threads=2
warmup=10
iterations=15
rounds=1
bench_name=compare-pytorch
help_lines=25
# shellcheck source=bench/compare-common
source "$root/bench/compare-common"

# label|variant|mode|batch|resolution|extra options for ours
if [[ $quick -eq 1 ]]; then
  shapes=("B0 inference, batch 2, 64 px (quick)|b0|inference|2|64|"
          "B0 inference, batch 1, 64 px (quick)|b0|inference|1|64|"
          "B0 training (SGD), batch 2, 64 px (quick)|b0|train|2|64|"
          "B3 inference, batch 2, 64 px (quick)|b3|inference|2|64|"
          "B0 inference, batch 2, 64 px, ours --engine dl4j (quick)|b0|inference|2|64|--engine dl4j"
          "B0 training (SGD), batch 2, 64 px, ours --engine dl4j (quick)|b0|train|2|64|--engine dl4j")
  warmup=1
  iterations=2
else
  shapes=("B0 inference, batch 8, 224 px|b0|inference|8|224|"
          "B0 inference, batch 1, 224 px|b0|inference|1|224|"
          "B0 training (SGD), batch 8, 224 px|b0|train|8|224|"
          "B3 inference, batch 8, 300 px|b3|inference|8|300|"
          "B0 inference, batch 8, 224 px, ours --engine dl4j|b0|inference|8|224|--engine dl4j"
          "B0 inference, batch 1, 224 px, ours --engine dl4j|b0|inference|1|224|--engine dl4j"
          "B0 training (SGD), batch 8, 224 px, ours --engine dl4j|b0|train|8|224|--engine dl4j"
          "B3 inference, batch 8, 300 px, ours --engine dl4j|b3|inference|8|300|--engine dl4j")
fi

export OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
# The same native allocator on both sides: bin/efficientnet preloads jemalloc when it is installed; exporting the
# choice here gives PyTorch the same one (EFFICIENTNET_MALLOC=system compares both with glibc's malloc).
# shellcheck source=bin/jvm-options
source "$root/bin/jvm-options"
use_jemalloc_if_installed
"$root/bin/efficientnet" --version >/dev/null   # builds the CLI now, not inside the first timed run

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for ((round = 1; round <= rounds; round++)); do
  for s in "${shapes[@]}"; do
    IFS='|' read -r label variant mode batch res extra <<<"$s"
    # a label itself selects that row alone; other text selects every row containing it
    if [[ -n "$only" ]]; then
      if printf '%s\n' "${shapes[@]}" | cut -d'|' -f1 | grep -qxF -- "$only"; then
        [[ "$label" != "$only" ]] && continue
      elif [[ "$label" != *"$only"* ]]; then
        continue
      fi
    fi
    w="$warmup" k="$iterations"
    if [[ "$batch" == 1 ]]; then w=$((8 * warmup)) k=$((4 * iterations)); fi
    common=(--mode "$mode" --batch-size "$batch" --resolution "$res" --warmup "$w" --iterations "$k")
    echo "compare-pytorch: round $round/$rounds, $label: ours ..." >&2
    # shellcheck disable=SC2086
    ours="$("$root/bin/efficientnet" benchmark --variant "$variant" "${common[@]}" --learning-rate 0.01 $extra --json)"
    echo "compare-pytorch: round $round/$rounds, $label: PyTorch ..." >&2
    torch="$("$python" "$root/bench/torch_bench.py" --variant "$variant" "${common[@]}" --threads "$threads" \
      --learning-rate 0.01)"
    printf '{"label": "%s", "round": %d, "side": "ours", "result": %s}\n' "$label" "$round" "$ours" >>"$results"
    printf '{"label": "%s", "round": %d, "side": "pytorch", "result": %s}\n' "$label" "$round" "$torch" >>"$results"
  done
done

"$python" - "$results" "$threads" "$warmup" "$iterations" "$rounds" "$output" <<'PY'
import json, platform, statistics, sys, datetime
path, threads, warmup, iterations, rounds, output = sys.argv[1:7]
runs = [json.loads(line) for line in open(path)]
labels = list(dict.fromkeys(r["label"] for r in runs))
def med(label, side):
    return statistics.median(r["result"]["imagesPerSecondMedian"] for r in runs
                             if r["label"] == label and r["side"] == side)
ours0 = next(r["result"] for r in runs if r["side"] == "ours")
torch0 = next(r["result"] for r in runs if r["side"] == "pytorch")
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
header = [
    "Throughput in images/s (median of %s timed iterations after %s warm-up, batch 1: %d after %d%s), %s thread(s) on "
    "both sides, synthetic data, random weights." % (iterations, warmup, 4 * int(iterations), 8 * int(warmup),
                                         "" if rounds == "1" else ", median over %s alternating rounds" % rounds,
                                         threads),
    "CPU: %s; date: %s." % (cpu, datetime.date.today().isoformat()),
    "Ours: DL4J/ND4J, native build %s, %s, Java %s. PyTorch: torch %s, torchvision %s, %s threads, Python %s." % (
        ours0["backend"]["nativeBuild"], ours0["backend"]["blasVendor"], ours0["backend"]["java"],
        torch0["backend"]["torch"], torch0["backend"]["torchvision"], torch0["backend"]["threads"],
        torch0["backend"]["python"]),
    "Native allocator (both sides): %s." % ours0["backend"].get("allocator", "unknown"),
]
rows = [("shape", "ours img/s", "PyTorch img/s", "ours / PyTorch")]
for label in labels:
    o, t = med(label, "ours"), med(label, "pytorch")
    ratio = o / t
    rows.append((label, "%.2f" % o, "%.2f" % t, "%.2f" % ratio if ratio >= 0.1 else "%.3g" % ratio))
widths = [max(len(r[i]) for r in rows) for i in range(4)]
print("\n".join(header))
for i, r in enumerate(rows):
    print("  ".join(c.ljust(widths[j]) if j == 0 else c.rjust(widths[j]) for j, c in enumerate(r)))
    if i == 0:
        print("  ".join("-" * w for w in widths))
if output:
    with open(output, "w") as f:
        f.write("\n".join(header) + "\n\n")
        f.write("| " + " | ".join(rows[0]) + " |\n|---|---:|---:|---:|\n")
        for r in rows[1:]:
            f.write("| " + " | ".join(r) + " |\n")
    with open(output + ".jsonl", "w") as f:
        for r in runs:
            f.write(json.dumps(r) + "\n")
    print("wrote %s and %s.jsonl" % (output, output), file=sys.stderr)
PY
