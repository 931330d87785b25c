#!/usr/bin/env bash
# Builds, lints, then runs the compiled tests with node's test runner.
#   npm test                                the lint, then every dist/**/*.test.js
#   npm test -- dist/lib/resources/         only those paths
#   npm test -- --test-name-pattern=apply   runner options pass through
# The network-namespace lab (dist/netns-tests/) needs root and its own setup:
# it runs only with MERIDIAN_TEST_NETNS=1. `npm run test:busy`
# (scripts/test-busy.sh) runs this beside CPU burners.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-deps.sh

options=()
paths=()
for arg in "$@"; do
  case "$arg" in
    -*) options+=("$arg") ;;
    *) paths+=("$arg") ;;
  esac
done

if [ ${#paths[@]} -eq 0 ]; then
  # The layout walls and the import-cycle check (eslint.config.mjs,
  # docs/lint.md) hold before the whole suite runs.
  echo "lint"
  npx --no-install eslint .
  exclude=(-path dist/netns-tests -prune -o)
  [ "${MERIDIAN_TEST_NETNS:-}" = 1 ] && exclude=()
  mapfile -t paths < <(find dist "${exclude[@]}" -type f -name '*.test.js' -print | LC_ALL=C sort)
  if [ ${#paths[@]} -eq 0 ]; then
    echo "test: no compiled tests under dist/" >&2
    exit 1
  fi
fi

exec node --test --test-reporter=spec --test-concurrency=2 --test-timeout=180000 "${options[@]}" "${paths[@]}"
