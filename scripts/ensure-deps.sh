#!/usr/bin/env bash
# Makes the machine ready to build, test and run Meridian: the Debian packages
# it runs (etcd, ...), node_modules, and the build in dist/. Meant for a fresh
# Debian 12 with Node 20, as root; safe to run again, it only does what is
# missing. Quiet on success apart from one line per step it takes.
set -euo pipefail

# The Debian packages the tests and the demo need (prometheus for promtool,
# which checks every part's /metrics in the tests; redis for the demo's TCP
# service). Add to this list.
APT_PACKAGES="etcd-server etcd-client wrk nginx haproxy chromium prometheus redis-server redis-tools"

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Runs a step with its output kept aside; shows it only if the step fails.
quietly() {
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "ensure-deps: failed: $*" >&2
    exit 1
  fi
}

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

if command -v dpkg-query >/dev/null; then
  missing=()
  for pkg in $APT_PACKAGES; do
    installed "$pkg" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "ensure-deps: missing Debian packages; as root, run: apt-get install ${missing[*]}" >&2
      exit 1
    fi
    echo "installing apt packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    quietly apt-get update
    quietly apt-get install -y --no-install-recommends "${missing[@]}"
    # Only the binaries are used (the tests and the demo start their own
    # processes): the daemons these packages start on install (prometheus on
    # :9090, nginx on :80, ...) are stopped and disabled, so installing opens
    # no port. Only for packages installed here, never for ones already there.
    if [ -d /run/systemd/system ]; then
      for pkg in "${missing[@]}"; do
        case "$pkg" in
          etcd-server) svc=etcd ;;
          nginx | haproxy | prometheus | redis-server) svc=$pkg ;;
          *) continue ;;
        esac
        systemctl disable --now "$svc" >/dev/null 2>&1 || true
      done
    fi
  fi
else
  echo "ensure-deps: not a Debian system; make sure these are installed: $APT_PACKAGES" >&2
fi

# npm keeps node_modules/.package-lock.json in step with what it installed:
# older than package-lock.json means the lock file changed since.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "npm ci"
  quietly npm ci --no-audit --no-fund
fi

# tsc never removes output: drop what was compiled from sources that are gone,
# so that the tests of a deleted file do not keep running.
if [ -d dist ]; then
  find dist -type f -name '*.js' -print0 | while IFS= read -r -d '' js; do
    src="${js#dist/}"
    [ -f "${src%.js}.ts" ] || rm -f "$js" "$js.map"
  done
fi

echo "building"
quietly npm run build
