#!/usr/bin/env bash
# shellcheck disable=SC2086  # JVM option strings are split on purpose
# A local three-node KRaft Kafka cluster on 127.0.0.1 (three processes, each broker+controller).
#
#   cluster.sh start            format once, start the nodes that are not running, wait until ready
#   cluster.sh stop             stop every node (SIGTERM, then SIGKILL after 20 s)
#   cluster.sh start-node N     start node N (1-3) and wait until it answers
#   cluster.sh stop-node N      stop node N gracefully
#   cluster.sh kill-node N      SIGKILL node N
#   cluster.sh status           one line per node: id, port, pid or "down"
#   cluster.sh brokers          the bootstrap list (127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3)
#
# Ports: KAFKA_CLUSTER_PORT (default 29092) is node 1's broker port; node N listens on
# KAFKA_CLUSTER_PORT + 2(N-1) and its controller on the port after it. KAFKA_NICE (default 0) starts
# the nodes at that niceness (or the caller's, if higher), e.g. so that a test's measured process
# does not wait for three brokers that would run on other machines in production.
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BASE="${KAFKA_CLUSTER_PORT:-29092}"
RUN="$DIR/.local"
HOME_DIR="$RUN/cluster-$BASE"
NODES=(1 2 3)
NICE="${KAFKA_NICE:-0}"
[[ "$NICE" =~ ^[0-9]+$ ]] || { echo "cluster.sh: KAFKA_NICE must be 0-19, got '$NICE'" >&2; exit 2; }
# nice -n adds to the caller's niceness: add what is missing (a caller already that nice adds nothing)
NICE_BY=$((NICE > $(nice) ? NICE - $(nice) : 0))

port_of() { echo $((BASE + 2 * ($1 - 1))); }
controller_of() { echo $((BASE + 2 * ($1 - 1) + 1)); }
node_dir() { echo "$HOME_DIR/node-$1"; }
props_of() { echo "$(node_dir "$1")/server.properties"; }
pid_of() { cat "$(node_dir "$1")/kafka.pid" 2>/dev/null || true; }
brokers() {
  local list=()
  for n in "${NODES[@]}"; do list+=("127.0.0.1:$(port_of "$n")"); done
  (IFS=,; echo "${list[*]}")
}
alive() {
  local pid
  pid="$(pid_of "$1")"
  [[ -n "$pid" ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $(props_of "$1")"
}
node_arg() {
  [[ "${1:-}" =~ ^[123]$ ]] || { echo "cluster.sh: node must be 1, 2 or 3, got '${1:-}'" >&2; exit 2; }
}

QUICK_JVM="-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true"
LOG4J="-Dlog4j.configuration=file:$DIR/log4j.properties"
CP="$RUN/libs/*"

render() {
  local n=$1 voters=() dir
  for m in "${NODES[@]}"; do voters+=("$m@127.0.0.1:$(controller_of "$m")"); done
  dir="$(node_dir "$n")"
  mkdir -p "$dir/data"
  sed -e "s|@NODE_ID@|$n|g" -e "s|@PORT@|$(port_of "$n")|g" -e "s|@CONTROLLER_PORT@|$(controller_of "$n")|g" \
    -e "s|@VOTERS@|$(IFS=,; echo "${voters[*]}")|g" -e "s|@DATA_DIR@|$dir/data|g" \
    "$DIR/cluster.properties" >"$(props_of "$n")"
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    [[ -f "$HOME_DIR/cluster.id" ]] ||
      java -Xmx256m $QUICK_JVM "$LOG4J" -cp "$CP" kafka.tools.StorageTool random-uuid >"$HOME_DIR/cluster.id"
    java -Xmx256m $QUICK_JVM "$LOG4J" -cp "$CP" kafka.tools.StorageTool format \
      -t "$(cat "$HOME_DIR/cluster.id")" -c "$(props_of "$n")" >/dev/null
  fi
}

launch() {
  local n=$1 dir
  dir="$(node_dir "$n")"
  if alive "$n"; then return 0; fi
  for p in "$(port_of "$n")" "$(controller_of "$n")"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "cluster.sh: port $p on 127.0.0.1 is in use by another process (set KAFKA_CLUSTER_PORT)" >&2
      exit 1
    fi
  done
  render "$n"
  nohup nice -n "$NICE_BY" java ${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m} ${KAFKA_JVM_OPTS:-$QUICK_JVM} "$LOG4J" \
    -cp "$CP" kafka.Kafka "$(props_of "$n")" >"$dir/kafka.log" 2>&1 </dev/null &
  echo $! >"$dir/kafka.pid"
  echo "node $n starting (pid $!, port $(port_of "$n"), nice $(($(nice) + NICE_BY)))"
}

stop_node() {
  local n=$1 signal=$2 pid
  pid="$(pid_of "$n")"
  if ! alive "$n"; then
    echo "node $n not running"
    return 0
  fi
  kill "-$signal" "$pid"
  await_stop "$n" "$signal" "$pid"
}

# Waits up to 20 s for node N (signalled already) to exit, then SIGKILLs it.
await_stop() {
  local n=$1 signal=$2 pid=$3
  for _ in $(seq 1 80); do
    alive "$n" || break
    sleep 0.25
  done
  if alive "$n"; then
    echo "node $n (pid $pid) did not stop within 20s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
  fi
  rm -f "$(node_dir "$n")/kafka.pid"
  echo "node $n stopped ($signal, pid $pid)"
}

# Ready: a client can create a topic with three replicas, write to it with acks=all and find the
# group coordinator (wait-ready.mjs), through the nodes that are up.
wait_ready() {
  local up=()
  for n in "${NODES[@]}"; do alive "$n" && up+=("127.0.0.1:$(port_of "$n")"); done
  # three JVMs starting at once on a small, busy machine can take well over a minute
  KAFKA_READY_TIMEOUT="${KAFKA_READY_TIMEOUT:-180}" KAFKA_READY_REPLICATION="${1:-3}" node "$DIR/wait-ready.mjs" "$(IFS=,; echo "${up[*]}")" && return
  for n in "${NODES[@]}"; do
    echo "--- last lines of node $n's log ---" >&2
    tail -n 20 "$(node_dir "$n")/kafka.log" >&2 2>/dev/null || true
  done
  return 1
}

case "${1:-}" in
  start)
    "$DIR/install.sh"
    mkdir -p "$HOME_DIR"
    start=$(date +%s%N)
    for n in "${NODES[@]}"; do launch "$n"; done
    wait_ready 3 || { "$0" stop >&2; exit 1; }
    ms=$((($(date +%s%N) - start) / 1000000))
    printf 'kafka cluster ready in %d.%ds\n' $((ms / 1000)) $((ms % 1000 / 100))
    echo "KAFKA_BROKERS=$(brokers)"
    ;;
  stop)
    # every node is signalled first, so that they shut down together (at most ~20 s in all)
    pids=()
    for n in "${NODES[@]}"; do
      if alive "$n"; then
        pids[n]="$(pid_of "$n")"
        kill -TERM "${pids[n]}"
      else
        echo "node $n not running"
      fi
    done
    for n in "${!pids[@]}"; do await_stop "$n" TERM "${pids[n]}"; done
    ;;
  start-node)
    node_arg "${2:-}"
    launch "$2"
    wait_ready 1
    ;;
  stop-node)
    node_arg "${2:-}"
    stop_node "$2" TERM
    ;;
  kill-node)
    node_arg "${2:-}"
    stop_node "$2" KILL
    ;;
  status)
    for n in "${NODES[@]}"; do
      if alive "$n"; then echo "node $n port $(port_of "$n") pid $(pid_of "$n")"; else echo "node $n port $(port_of "$n") down"; fi
    done
    ;;
  brokers)
    brokers
    ;;
  *)
    sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
