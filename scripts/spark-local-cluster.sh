#!/usr/bin/env bash
# A Spark 3.5 standalone cluster on this machine: one master and N workers, each its own JVM on 127.0.0.1, each
# worker launching executors in JVMs of their own, as on a real cluster.
#
#   scripts/spark-local-cluster.sh start [--workers N] [--worker-memory SIZE] [--port P]
#   scripts/spark-local-cluster.sh status
#   scripts/spark-local-cluster.sh stop
#
# start lays out a Spark installation under the cluster folder (spark-home/jars: symbolic links to the jars Maven
# resolves for scripts/spark-cluster/pom.xml, those of a Spark 3.5 distribution), starts the master
# (spark://127.0.0.1:P, default 7077; web UI and JSON status on port P+1003, default 8080) and N workers (default 2),
# each with 1 core and SIZE of memory for its executors (default 5g), and waits until all workers have registered.
# Submit to it with scripts/spark-submit.sh --master spark://127.0.0.1:P -- [train options]; the training code and
# its libraries are shipped to the executors by the submission, not installed in the cluster.
# Logs, PIDs and the workers' folders (executor logs under worker-*/app-*/) are in EFFICIENTNET_SPARK_CLUSTER
# (default runs/spark-cluster). stop ends the workers (and their executors) and the master by PID.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${EFFICIENTNET_SPARK_CLUSTER:-$root/runs/spark-cluster}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
# shellcheck source=scripts/spark-installation
source "$root/scripts/spark-installation"

usage() {
  echo "usage: $0 start [--workers N] [--worker-memory SIZE] [--port P] | status | stop" >&2
  exit 2
}

# Status JSON of the master, or nothing when it does not answer.
master_json() {
  local ui_port
  ui_port="$(cat "$dir/master.ui-port" 2>/dev/null)" || return 0
  curl -s --max-time 2 "http://127.0.0.1:$ui_port/json/" 2>/dev/null || true
}

alive_workers() {
  master_json | tr '{},' '\n\n\n' | grep -c '"state" *: *"ALIVE"' || true
}

running() {
  [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

# The Spark installation: SPARK_HOME/jars with links to the jars of Spark 3.5 (scripts/spark-installation).
lay_out_spark_home() {
  local classpath
  classpath="$(spark_installation_classpath)"
  rm -rf "$dir/spark-home"
  mkdir -p "$dir/spark-home/jars" "$dir/spark-home/conf"
  tr ':' '\n' <<<"$classpath" | while read -r jar; do ln -s "$jar" "$dir/spark-home/jars/"; done
}

start() {
  local workers=2 memory=5g port=7077
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --workers) workers="$2"; shift 2 ;;
      --worker-memory) memory="$2"; shift 2 ;;
      --port) port="$2"; shift 2 ;;
      *) usage ;;
    esac
  done
  [[ "$workers" =~ ^[1-9][0-9]*$ ]] || { echo "--workers must be a positive whole number, got '$workers'" >&2; exit 2; }
  if running "$dir/master.pid"; then
    echo "a cluster is already running from $dir (master PID $(cat "$dir/master.pid")); stop it first" >&2
    exit 2
  fi
  command -v curl >/dev/null || { echo "curl is needed to read the master's status (apt-get install curl)" >&2; exit 2; }
  lay_out_spark_home
  rm -rf "$dir"/worker-* "$dir"/*.pid "$dir"/*.log
  # shellcheck source=bin/jvm-options
  source "$root/bin/jvm-options"
  local ui_port=$((port + 1003))
  echo "$ui_port" >"$dir/master.ui-port"
  export SPARK_HOME="$dir/spark-home" SPARK_SCALA_VERSION=2.12 SPARK_LOCAL_IP=127.0.0.1
  # shellcheck disable=SC2086
  nohup java -Xmx512m $java17_opens -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$port" --webui-port "$ui_port" >"$dir/master.log" 2>&1 &
  echo $! >"$dir/master.pid"
  for _ in $(seq 60); do
    [[ -n "$(master_json)" ]] && break
    running "$dir/master.pid" || { echo "the master exited; see $dir/master.log" >&2; tail -5 "$dir/master.log" >&2; exit 1; }
    sleep 1
  done
  for i in $(seq "$workers"); do
    mkdir -p "$dir/worker-$i"
    # shellcheck disable=SC2086
    nohup java -Xmx512m $java17_opens -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.worker.Worker \
      --host 127.0.0.1 --cores 1 --memory "$memory" --work-dir "$dir/worker-$i" --webui-port $((ui_port + i)) \
      "spark://127.0.0.1:$port" >"$dir/worker-$i.log" 2>&1 &
    echo $! >"$dir/worker-$i.pid"
  done
  for _ in $(seq 90); do
    [[ "$(alive_workers)" -ge "$workers" ]] && break
    sleep 1
  done
  if [[ "$(alive_workers)" -lt "$workers" ]]; then
    echo "only $(alive_workers) of $workers workers registered within 90 s; see $dir/worker-*.log" >&2
    exit 1
  fi
  echo "Spark standalone cluster: master spark://127.0.0.1:$port (status http://127.0.0.1:$ui_port/json/), $workers workers with 1 core and $memory each; logs in $dir"
  echo "submit with: scripts/spark-submit.sh --master spark://127.0.0.1:$port --executor-memory 4g --executor-cores 1 -- [train options]"
}

status() {
  local json
  json="$(master_json)"
  if [[ -z "$json" ]]; then
    echo "no cluster answers (folder $dir)"
    return 1
  fi
  echo "master PID $(cat "$dir/master.pid"), $(alive_workers) alive workers"
  for f in "$dir"/worker-*.pid; do
    [[ -f "$f" ]] && echo "$(basename "$f" .pid): PID $(cat "$f")$(running "$f" || echo ' (exited)')"
  done
  echo "$json"
}

stop_pid_file() {
  local f="$1" pid
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

stop() {
  local any=0
  for f in "$dir"/worker-*.pid "$dir/master.pid"; do
    [[ -f "$f" ]] && any=1
    stop_pid_file "$f"
  done
  [[ $any -eq 1 ]] && echo "stopped the cluster in $dir" || echo "no cluster was running from $dir"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  status) status ;;
  stop) stop ;;
  *) usage ;;
esac
