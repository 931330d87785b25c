#!/usr/bin/env bash
# Runs the network-namespace lab tests (npm run test:netns). Needs root: it
# makes namespaces, veth pairs, WireGuard interfaces and runs BIRD.
#   netns-tests/run.sh                          every netns-tests/*.test.ts
#   netns-tests/run.sh dist/netns-tests/bgp.test.js
#   netns-tests/run.sh --test-name-pattern=anycast
# MERIDIAN_NETNS_NO_BUILD=1 skips installing and building (use dist/ as is).
# Files run one at a time so that the failover times they measure are not
# skewed by another lab on the same two cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "netns-tests: must run as root (namespaces, veth, WireGuard, BIRD); try: sudo $0 $*" >&2
  exit 1
fi

# Debian packages the lab runs; installed when missing.
LAB_PACKAGES="wireguard-go wireguard-tools bird2 iproute2 iputils-ping tcpdump"
if [ "${MERIDIAN_NETNS_NO_BUILD:-}" != 1 ]; then
  missing=()
  for pkg in $LAB_PACKAGES; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" = installed ] || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing apt packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
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

exec node --test --test-reporter=spec --test-concurrency=1 --test-timeout=180000 "${options[@]}" "${paths[@]}"
