#!/usr/bin/env bash
# `npm start`: builds what is missing, then runs the local demo (etcd, the
# global controller and three regions on loopback). Arguments go to the demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-deps.sh
exec node bin/meridian demo "$@"
