#!/usr/bin/env bash
# Start or stop the Docker engine the tests use. Usage: tests/services.sh start|stop
# dockerd runs as root here without iptables or a bridge; builds use --network host.
set -u
STATE=${LINTIMG_SERVICES_STATE:-/tmp/lintimg-services}
DOCKER=/usr/bin/docker
case "${1:-}" in
start)
  mkdir -p "$STATE"
  if $DOCKER info >/dev/null 2>&1; then
    echo "services: docker engine already running"
    exit 0
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    echo "services: dockerd not installed" >&2
    exit 1
  fi
  nohup dockerd --iptables=false --bridge=none >"$STATE/dockerd.log" 2>&1 &
  echo $! >"$STATE/dockerd.pid"
  for _ in $(seq 1 60); do
    if $DOCKER info >/dev/null 2>&1; then
      echo "services: docker engine started"
      exit 0
    fi
    sleep 0.5
  done
  echo "services: docker engine did not start; log follows" >&2
  tail -20 "$STATE/dockerd.log" >&2
  exit 1
  ;;
stop)
  if [ -f "$STATE/dockerd.pid" ]; then
    kill "$(cat "$STATE/dockerd.pid")" 2>/dev/null || true
    rm -f "$STATE/dockerd.pid"
    echo "services: docker engine stopped"
  fi
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
