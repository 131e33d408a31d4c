#!/usr/bin/env bash
# GPU check: on a machine with an NVIDIA GPU, Maven Central access and JDK 17, builds the CLI with the
# `cuda` profile (nd4j-cuda-11.6 + cuDNN), then
#   1. prints the GPU (nvidia-smi) and the backend ND4J loads,
#   2. runs a B0 forward pass and training steps on synthetic data (benchmark --mode inference/train),
#   3. compares a batch's outputs with the CPU backend (same weights: the bundled Keras-layout B0 file, same image;
#      tolerance: max |p_gpu - p_cpu| <= 1e-3 on softmax outputs, since cuDNN picks other algorithms than oneDNN),
#   4. prints images/s for inference and training at batch 32 and 64.
# Every step runs even if an earlier one failed, and its output is kept in $OUT (default runs/gpu-check-<time>).
# Budget: under 8 minutes after the build (iterations are kept small). Usage: scripts/gpu-check.sh [OUT]
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/runs/gpu-check-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
cli="$root/bin/efficientnet"
golden="$root/efficientnet-core/src/test/resources/golden/efficientnet-b0-keras-random.h5"
image="$root/efficientnet-train/src/test/resources/images/stripes.png"
status=0
step() { # step NAME COMMAND...: runs, logs to $out/NAME.txt, never stops the script
  local name="$1"; shift
  echo "== $name: $*" | tee -a "$out/summary.txt"
  if timeout 300 "$@" >"$out/$name.txt" 2>&1; then echo "   ok" | tee -a "$out/summary.txt"
  else echo "   FAILED (exit $?), see $out/$name.txt; last lines:" | tee -a "$out/summary.txt"
       tail -5 "$out/$name.txt" | sed 's/^/   | /' | tee -a "$out/summary.txt"; status=1; fi
}

step gpu nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv
step java java -version
# CPU reference first (default build), then the CUDA build.
step cpu-convert "$cli" convert --keras "$golden" --variant b0 --output "$out/b0.zip"
step cpu-predict "$cli" predict --model "$out/b0.zip" --top 1000 --json "$image"
step cuda-build env EFFICIENTNET_PROFILE=cuda "$cli" summary --variant b0
step cuda-backend env EFFICIENTNET_PROFILE=cuda "$cli" benchmark --variant b0 --mode inference --batch-size 1 \
  --warmup 1 --iterations 1 --json
step cuda-predict env EFFICIENTNET_PROFILE=cuda "$cli" predict --model "$out/b0.zip" --top 1000 --json "$image"
step compare python3 - "$out/cpu-predict.txt" "$out/cuda-predict.txt" <<'PY'
import json, sys
def probs(path):
    doc = json.loads([l for l in open(path) if l.startswith("{")][-1])
    return {e["class"]: e["probability"] for e in doc["results"][0]["top"]}
cpu, gpu = probs(sys.argv[1]), probs(sys.argv[2])
diff = max(abs(cpu[c] - gpu.get(c, 0.0)) for c in cpu)
print(f"classes compared: {len(cpu)}, max |p_gpu - p_cpu| = {diff:.3g} (tolerance 1e-3)")
sys.exit(0 if diff <= 1e-3 else 1)
PY
for mode in inference train; do
  for b in 32 64; do
    step "cuda-$mode-batch$b" env EFFICIENTNET_PROFILE=cuda "$cli" benchmark --variant b0 --mode "$mode" \
      --batch-size "$b" --warmup 2 --iterations 5 --json
  done
done
echo "== images/s (median) per step:" | tee -a "$out/summary.txt"
grep -ho '"imagesPerSecondMedian":[0-9.]*' "$out"/cuda-*-batch*.txt /dev/null | tee -a "$out/summary.txt"
echo "results in $out (summary.txt)"
exit $status
