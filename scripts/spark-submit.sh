#!/usr/bin/env bash
# Submits `efficientnet train` to a Spark cluster with spark-submit (client deploy mode: the driver runs the training
# loop here, executors read and augment the images).
#
#   scripts/spark-submit.sh [spark-submit options] -- [train options]
#   scripts/spark-submit.sh --master spark://head:7077 --executor-memory 16g -- \
#       --config config/b0.yaml --data /shared/imagenet --output /shared/runs/b0
#
# The data folder must be readable at the same path on every executor (a shared file system). The CLI is built first
# (bin/efficientnet); its dependencies except Spark, Scala and Hadoop (which the cluster's Spark 3.5 installation
# provides) are shipped with --jars. With SPARK_HOME set, $SPARK_HOME/bin/spark-submit is used; without it, Spark's
# SparkSubmit class from the CLI's own class path (Spark 3.5.3) — enough for local[N] and standalone masters.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/bin/efficientnet" --version >/dev/null # builds the CLI when needed
jar="$root/efficientnet-train/target/efficientnet-train-0.1.0-SNAPSHOT.jar"
classpath="$(cat "$root/efficientnet-train/target/classpath.txt")"

submit_opts=()
while [[ $# -gt 0 && "$1" != "--" ]]; do submit_opts+=("$1"); shift; done
[[ $# -gt 0 ]] && shift
if [[ ${#submit_opts[@]} -eq 0 ]]; then
  echo "usage: $0 --master URL [spark-submit options] -- [train options]" >&2
  exit 2
fi

# shellcheck source=bin/jvm-options
source "$root/bin/jvm-options"
opens="$jvm_kernel_options $java17_opens -Dorg.bytedeco.javacpp.maxbytes=16G"
jars="$(tr ':' '\n' <<<"$classpath" | grep -v -E '/org/apache/spark/|/org/scala-lang/|/org/apache/hadoop/' \
  | paste -sd, -)"

if [[ -n "${SPARK_HOME:-}" ]]; then
  submit=("$SPARK_HOME/bin/spark-submit")
else
  # shellcheck disable=SC2086
  submit=(java ${EFFICIENTNET_JAVA_OPTS:--Xmx8g} $opens -cp "$jar:$classpath" org.apache.spark.deploy.SparkSubmit)
fi
exec "${submit[@]}" --deploy-mode client --class io.efficientnet.cli.Main \
  --driver-java-options "$opens" --conf "spark.executor.extraJavaOptions=$opens" --jars "$jars" \
  "${submit_opts[@]}" "$jar" train --spark-master spark-submit "$@"
