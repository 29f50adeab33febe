#!/usr/bin/env bash
# Erlang/OTP distribution baseline for the aemp-bench workloads.
#
# Usage: run.sh [n=N] [oneway16=N] [oneway1024=N] [pingpong=N] [local=N]
#
# Compiles aemp_baseline.erl into a temporary directory, starts node A (the
# driver) on loopback with a random cookie; node A starts node B (a second
# `erl` OS process) itself and runs the workloads.  Result lines go to stdout,
# informational "#" lines and errors to stderr.  Exit status is non-zero if a
# sequence check fails or anything else goes wrong.
#
# Needs erl/erlc (Debian: apt-get install erlang-nox).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

for tool in erl erlc epmd; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install erlang-nox)" >&2; exit 2; }
done

build=$(mktemp -d /tmp/aemp-baseline-erl.XXXXXX)
started_epmd=no
driver_pid=

cleanup() {
    # Only things this script started: the driver node (node B halts on its
    # own when A's connection or port pipe goes away) and epmd if we started it.
    if [ -n "$driver_pid" ] && kill -0 "$driver_pid" 2>/dev/null; then
        kill "$driver_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$driver_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$driver_pid" 2>/dev/null || true
    fi
    if [ "$started_epmd" = yes ]; then
        # epmd refuses -kill while a node is registered: give node B (which
        # halts when A's connection drops) a moment to unregister first.
        for _ in $(seq 50); do
            [ -z "$(epmd -names 2>/dev/null | grep '^name ')" ] && break
            sleep 0.1
        done
        epmd -kill >/dev/null 2>&1 || true
    fi
    rm -rf "$build"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

erlc -o "$build" "$here/aemp_baseline.erl"

# epmd: `erl -name` would start one by itself and leave it running.  Start it
# explicitly (bound to loopback) so that we know to stop it afterwards; reuse
# one that is already running and leave that one alone.
if ! epmd -names >/dev/null 2>&1; then
    ERL_EPMD_ADDRESS=127.0.0.1 epmd -daemon
    started_epmd=yes
    for _ in $(seq 50); do epmd -names >/dev/null 2>&1 && break; sleep 0.1; done
fi

# Unique node names per run, so stray nodes from an earlier run never clash.
suffix="_$$_$RANDOM"
cookie="aemp_bl_$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"

# The only non-default flag: bind the distribution listener to loopback.
# Long names with the IP address as host make both nodes connect to 127.0.0.1.
erl -noshell \
    -name "aemp_bl_a${suffix}@127.0.0.1" \
    -setcookie "$cookie" \
    -kernel inet_dist_use_interface '{127,0,0,1}' \
    -pa "$build" \
    -run aemp_baseline main "ebin=$build" "$@" </dev/null &
driver_pid=$!
status=0
wait "$driver_pid" || status=$?
driver_pid=
exit "$status"
