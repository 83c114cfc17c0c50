#!/usr/bin/env bash
# A real Kafka-compatible broker for tests: tansu with in-memory storage on
# 127.0.0.1, installed with cargo into $HOME/.cache/ragline-tools (built once,
# 7 to 19 minutes on 2 cores as measured) and skipped when already there.
#
#   scripts/broker.sh install
#   scripts/broker.sh start PORT     (waits until it accepts connections)
#   scripts/broker.sh stop PORT
set -euo pipefail
tools="${RAGLINE_TOOLS:-$HOME/.cache/ragline-tools}"
tansu="$tools/bin/tansu"
export PATH="$HOME/.cargo/bin:$PATH"

install() {
  if [ ! -x "$tansu" ]; then
    echo "broker: building the test broker tansu into $tools (once per machine: 7 to 19 minutes on 2 cores as measured)" >&2
    mkdir -p "$tools"
    # A test broker needs no full optimisation: opt-level 1 builds faster.
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=false \
      cargo install tansu --features dynostore --locked --root "$tools" --target-dir "$tools/target" >&2
  fi
}

case "${1:-}" in
  install)
    install
    ;;
  start)
    port="${2:?port}"
    install
    "$0" stop "$port" >/dev/null 2>&1 || true
    nohup "$tansu" broker \
      --storage-engine memory://tansu/ \
      --listener-url "tcp://127.0.0.1:$port" \
      --advertised-listener-url "tcp://127.0.0.1:$port" \
      >"$tools/tansu-$port.log" 2>&1 &
    echo $! >"$tools/tansu-$port.pid"
    for _ in $(seq 1 150); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "broker: tansu on 127.0.0.1:$port (pid $(cat "$tools/tansu-$port.pid"))" >&2
        exit 0
      fi
      sleep 0.2
    done
    echo "broker: tansu did not start; see $tools/tansu-$port.log" >&2
    exit 1
    ;;
  stop)
    port="${2:?port}"
    if [ -f "$tools/tansu-$port.pid" ]; then
      kill "$(cat "$tools/tansu-$port.pid")" 2>/dev/null || true
      rm -f "$tools/tansu-$port.pid"
    fi
    ;;
  *)
    echo "usage: $0 install | start PORT | stop PORT" >&2
    exit 2
    ;;
esac
