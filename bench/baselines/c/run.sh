#!/usr/bin/env bash
# C floors for the aemp-bench workloads: blocking TCP on loopback between two
# processes (fork), TCP_NODELAY, no serialisation.
#
# Usage: run.sh [n=N] [pingpong=N] [rawtcp16=N] [rawtcp1024=N]
#
# Prints:
#   pingpong n=N mean_us=A p50_us=B p99_us=C floor=c
#   rawtcp payload=16 n=N secs=S msgs_per_s=R mb_per_s=M floor=c
#   rawtcp payload=1024 n=N secs=S msgs_per_s=R mb_per_s=M floor=c
# Needs gcc.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-gcc}

# Defaults: roughly 2-5 s each on a small (2-core) Linux VM.
n_pingpong=150000
n_rawtcp16=1200000
n_rawtcp1024=1200000
for arg in "$@"; do
    case "$arg" in
        n=*) n_pingpong=${arg#n=}; n_rawtcp16=${arg#n=}; n_rawtcp1024=${arg#n=} ;;
        pingpong=*) n_pingpong=${arg#*=} ;;
        rawtcp16=*) n_rawtcp16=${arg#*=} ;;
        rawtcp1024=*) n_rawtcp1024=${arg#*=} ;;
        *) echo "error: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

build=$(mktemp -d /tmp/aemp-baseline-c.XXXXXX)
trap 'rm -rf "$build"' EXIT

"$CC" -O2 -Wall -Wextra -o "$build/pingpong" "$here/pingpong.c"
"$CC" -O2 -Wall -Wextra -o "$build/rawtcp" "$here/rawtcp.c"

"$build/pingpong" "$n_pingpong"
"$build/rawtcp" 16 "$n_rawtcp16"
"$build/rawtcp" 1024 "$n_rawtcp1024"
