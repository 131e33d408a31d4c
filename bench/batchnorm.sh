#!/usr/bin/env bash
# DL4J's BatchNormalization against FastBatchNormalization (forward + backward, float32 NCHW), alternating the two in
# every round; prints a Markdown table (median of round medians, min-max, ratio). Arguments: [rounds] [iterations per
# round] [shapes NxCxHxW ...], e.g.
#   bench/batchnorm.sh                      # 5 rounds x 5 iterations on the four default shapes
#   bench/batchnorm.sh 3 3 8x96x112x112
# Threads: OMP_NUM_THREADS (default 2). Maven runs offline when MVN_OFFLINE=1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bench_name=batchnorm
# shellcheck source=bench/core-test-classpath
source bench/core-test-classpath
# shellcheck disable=SC2154,SC2086
exec java -Xmx2g -Dorg.bytedeco.javacpp.maxbytes=6G $jvm_kernel_options -cp "$core_test_cp" \
  io.efficientnet.core.bench.BatchNormComparison "$@"
