#!/usr/bin/env bash
# Installs the Debian packages the netns lab runs, when missing (as root;
# without root it does nothing: the lab says what it needs and stops).
# Used by netns-tests/run.sh and npm run bench:failover.
set -euo pipefail

# iptables: the broken-link scenario and the failover bench's tunnel break.
# redis-server, redis-tools: the TCP service and its client in mesh-names.test.ts.
LAB_PACKAGES="wireguard-go wireguard-tools bird2 iproute2 iputils-ping tcpdump iptables redis-server redis-tools"
[ "$(id -u)" -eq 0 ] || exit 0
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
