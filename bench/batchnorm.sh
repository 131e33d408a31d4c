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

mvn_opts=(-B -q)
[[ "${MVN_OFFLINE:-0}" == 1 ]] && mvn_opts+=(-o)
cp_file="efficientnet-core/target/jmh-classpath.txt"
echo "batchnorm: compiling ..." >&2
mvn "${mvn_opts[@]}" -pl efficientnet-core test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/$cp_file" >&2

export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
exec java -Xmx2g -Dorg.bytedeco.javacpp.maxbytes=6G \
  -cp "efficientnet-core/target/test-classes:efficientnet-core/target/classes:$(cat "$cp_file")" \
  io.efficientnet.core.bench.BatchNormComparison "$@"
