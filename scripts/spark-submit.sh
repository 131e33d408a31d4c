#!/usr/bin/env bash
# Submits `efficientnet train` to a Spark cluster with spark-submit (client deploy mode: the driver runs the training
# loop here, executors read and augment the images).
#
#   scripts/spark-submit.sh [spark-submit options] -- [train options]
#   scripts/spark-submit.sh --master spark://head:7077 --executor-memory 16g -- \
#       --config config/b0.yaml --data /shared/imagenet --output /shared/runs/b0
#
# The data folder must be readable at the same path on every executor (a shared file system). The CLI is built first
# (bin/efficientnet); its jar and every library jar that the cluster's Spark installation does not hold (the same file
# name and version) are shipped to the executors with --jars. The installation's jars are those in $SPARK_HOME/jars
# when SPARK_HOME is set, otherwise a Spark 3.5 distribution's (scripts/spark-installation). With $SPARK_HOME/bin/spark-submit present it
# submits; otherwise Spark's SparkSubmit class from the CLI's own class path (Spark 3.5.3), enough for local[N] and
# standalone masters such as scripts/spark-local-cluster.sh.
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
# shellcheck source=scripts/spark-installation
source "$root/scripts/spark-installation"
if [[ -n "${SPARK_HOME:-}" && -d "$SPARK_HOME/jars" ]]; then
  provided="$(ls "$SPARK_HOME/jars")"
else
  provided="$(spark_installation_classpath | tr ':' '\n')"
fi
declare -A installed=()
while read -r file; do [[ -n "$file" ]] && installed["${file##*/}"]=1; done <<<"$provided"
# Native libraries are shipped for the cluster's platform only (EFFICIENTNET_SPARK_PLATFORM, default this machine's):
# JavaCPP's *-platform artifacts bring every operating system's.
platform="${EFFICIENTNET_SPARK_PLATFORM:-linux-$(uname -m | sed 's/aarch64/arm64/')}"
shipped=()
while read -r file; do
  [[ -n "${installed["${file##*/}"]:-}" ]] && continue # the same jar file (name and version) is installed
  if [[ "$file" =~ -(android|ios|linux|macosx|windows)-[a-z0-9_]+\.jar$ && "$file" != *"-$platform.jar" ]]; then
    continue
  fi
  shipped+=("$file")
done < <(tr ':' '\n' <<<"$classpath")
jars="$(IFS=,; echo "${shipped[*]}")"

if [[ -n "${SPARK_HOME:-}" && -x "$SPARK_HOME/bin/spark-submit" ]]; then
  submit=("$SPARK_HOME/bin/spark-submit")
else
  # shellcheck disable=SC2086
  submit=(java ${EFFICIENTNET_JAVA_OPTS:--Xmx8g} $opens -cp "$jar:$classpath" org.apache.spark.deploy.SparkSubmit)
fi
exec "${submit[@]}" --deploy-mode client --class io.efficientnet.cli.Main \
  --driver-java-options "$opens" --conf "spark.executor.extraJavaOptions=$opens" --jars "$jars" \
  "${submit_opts[@]}" "$jar" train --spark-master spark-submit "$@"
