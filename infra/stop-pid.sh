#!/usr/bin/env bash
# Sourced by the stop scripts: stop_pid NAME PIDFILE MATCH GRACE stops the process named in PIDFILE, if its command
# line still contains MATCH (a reused pid is left alone), with SIGTERM, then SIGKILL after GRACE seconds.

stop_pid() {
  local name=$1 pidfile=$2 match=$3 grace=$4 pid
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  # A zombie has an empty cmdline, so this is false once the process has exited.
  alive() { [[ -n "$pid" ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$match"; }
  wait_gone() {
    for _ in $(seq 1 $(($1 * 4))); do
      alive || return 0
      sleep 0.25
    done
    ! alive
  }
  if ! alive; then
    echo "$name not running"
    rm -f "$pidfile"
    return 0
  fi
  kill -TERM "$pid"
  if ! wait_gone "$grace"; then
    echo "$name (pid $pid) did not stop within ${grace}s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone 5
  fi
  rm -f "$pidfile"
  echo "$name stopped (pid $pid)"
}
