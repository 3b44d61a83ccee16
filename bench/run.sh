#!/usr/bin/env bash
# candex benchmarks: one command from a clean clone.
#   bench/run.sh                  default size (within 30 minutes on 2 cores)
#   bench/run.sh --size small     a quick check of the harness (a few minutes)
#   bench/run.sh --size large     1M profiles for the scaling scenario (about an hour)
#   bench/run.sh --only profile   one scenario (profile, attachments, exporter, scaling); repeatable
# Installs what it needs (wrk and nginx from Debian, oha from crates.io, the Apollo peer from
# npm), builds release binaries, then runs bench/harness.py, which writes bench/results.json
# and bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx-light)
command -v taskset >/dev/null || need_apt+=(util-linux)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing from Debian: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
export PATH="$PWD/bench/.tools/bin:$PATH"
if ! command -v oha >/dev/null; then
  echo "installing oha from crates.io (once; a few minutes)"
  cargo install oha --locked --quiet --root bench/.tools
fi
if [ ! -d bench/peers/apollo/node_modules ]; then
  echo "installing the Apollo peer from npm"
  (cd bench/peers/apollo && npm ci --omit=dev --no-audit --no-fund --silent)
fi

# CANDEX_BENCH_PROFILE=profiling builds the `profiling` profile instead of `release`: the same
# optimised code with symbols and line tables, for `perf record` (the release binary is
# stripped). harness.py reads the same variable.
profile="${CANDEX_BENCH_PROFILE:-release}"
echo "building $profile binaries"
cargo build --profile "$profile" --locked -p candex -p candex-bench-static-peer

exec python3 bench/harness.py "$@"
