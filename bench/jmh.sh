#!/usr/bin/env bash
# JMH micro-benchmarks: EfficientNet's custom graph pieces (ChannelScaleVertex forward/backward, DropPath) and DL4J's
# layers in NCHW vs NHWC (DataFormat).
# The benchmarks live in efficientnet-core's test sources (io.efficientnet.core.bench); this compiles them and runs
# JMH with any JMH options you pass, e.g.
#   bench/jmh.sh                                   # everything, the defaults in the annotations (1 fork, 3x2 s + 5x2 s)
#   bench/jmh.sh ChannelScale -p shape=8x96x56x56  # one benchmark class, one shape
#   bench/jmh.sh -rf json -rff runs/jmh.json       # machine-readable results
#   bench/jmh.sh --quick                           # smoke run: 1 fork, 1 x 1 s warm-up, 1 x 1 s measurement
# Threads: OMP_NUM_THREADS (default 2), inherited by JMH's forked JVMs. Maven runs offline when MVN_OFFLINE=1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

args=()
for a in "$@"; do
  if [[ "$a" == "--quick" ]]; then
    args+=(-f 1 -wi 1 -w 1s -i 1 -r 1s)
  else
    args+=("$a")
  fi
done

bench_name=jmh
# shellcheck source=bench/core-test-classpath
source bench/core-test-classpath
echo "jmh: OMP_NUM_THREADS=$OMP_NUM_THREADS" >&2
# shellcheck disable=SC2154,SC2086
exec java -Xmx1g $jvm_kernel_options -cp "$core_test_cp" org.openjdk.jmh.Main "${args[@]}"
