#!/usr/bin/env bash
# Build and run every baseline: the Erlang/OTP distribution baseline (same
# workloads and line formats as aemp-bench) and the C loopback-TCP floors.
#
# Usage: run-all.sh [n=N]
#   n=N  use N for every workload (quick smoke test); default: each script's
#        own defaults (each workload about 2-5 s on a 2-core VM).
#
# Result lines go to stdout; "#" info lines and errors to stderr.
# Needs erl/erlc/epmd (Debian: apt-get install erlang-nox) and gcc.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
args=()
for arg in "$@"; do
    case "$arg" in
        n=*) args+=("$arg") ;;
        *) echo "usage: $0 [n=N]" >&2; exit 2 ;;
    esac
done

status=0
echo "# erlang: OTP distribution, two nodes on loopback" >&2
"$here/erlang/run.sh" "${args[@]}" || status=1
echo "# c: blocking TCP floors on loopback (fork)" >&2
"$here/c/run.sh" "${args[@]}" || status=1
exit "$status"
