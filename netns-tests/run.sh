#!/usr/bin/env bash
# Runs the network-namespace lab tests (npm run test:netns). Needs root: it
# makes namespaces, veth pairs, WireGuard interfaces and runs BIRD.
#   netns-tests/run.sh                          every netns-tests/*.test.ts
#   netns-tests/run.sh dist/netns-tests/bgp.test.js
#   netns-tests/run.sh --test-name-pattern=anycast
# MERIDIAN_NETNS_NO_BUILD=1 skips the build (use dist/ as is; .ci/run sets
# it after npm test built). Missing Debian packages are installed either way.
# Files run one at a time so that the failover times they measure are not
# skewed by another lab on the same two cores. Whatever way the run ends
# (failure, Ctrl-C, SIGTERM), the labs it made are torn down: each test file
# tears its own down, and netns-tests/cleanup sweeps any run prefix that
# appeared during this run (never one that existed before it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "netns-tests: must run as root (namespaces, veth, WireGuard, BIRD); try: sudo $0 $*" >&2
  exit 1
fi

bash netns-tests/ensure-lab-packages.sh
if [ "${MERIDIAN_NETNS_NO_BUILD:-}" != 1 ]; then
  # node_modules and the build, as npm test does it.
  bash scripts/ensure-deps.sh
fi

options=()
paths=()
for arg in "$@"; do
  case "$arg" in
    -*) options+=("$arg") ;;
    *) paths+=("$arg") ;;
  esac
done
if [ ${#paths[@]} -eq 0 ]; then
  mapfile -t paths < <(find dist/netns-tests -maxdepth 1 -type f -name '*.test.js' -print | LC_ALL=C sort)
  if [ ${#paths[@]} -eq 0 ]; then
    echo "netns-tests: no compiled tests under dist/netns-tests (build first)" >&2
    exit 1
  fi
fi

# Lab runs present on the host: namespaces and directories named mr + 4 hex digits.
lab_runs() {
  { ip netns list 2>/dev/null | awk '{print $1}' | grep -oE '^mr[0-9a-f]{4}' || true
    ls "${TMPDIR:-/tmp}/meridian-netns" 2>/dev/null | grep -xE 'mr[0-9a-f]{4}' || true; } | sort -u
}
before=$(lab_runs)
sweep_new_runs() {
  local run
  for run in $(lab_runs); do
    if ! grep -qx "$run" <<<"$before"; then
      echo "netns-tests: sweeping what run $run left behind" >&2
      bash netns-tests/cleanup "$run" >&2 || true
    fi
  done
}
trap sweep_new_runs EXIT

started=$(date +%s)
node --test --test-reporter=spec --test-concurrency=1 --test-timeout=300000 "${options[@]}" "${paths[@]}" &
child=$!
# A signal to this script reaches the tests too, which tear their labs down.
on_signal() {
  kill -TERM "$child" 2>/dev/null || true
  wait "$child" 2>/dev/null || true
  exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
status=0
wait "$child" || status=$?
echo "netns-tests: finished in $(($(date +%s) - started)) s (exit $status)"
exit "$status"
