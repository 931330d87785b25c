#!/usr/bin/env bash
# Runs the whole `npm test` with one CPU-burning process per core beside it
# (at least two), to show that no test depends on how fast the machine is.
# The burners end with the run, also on failure or Ctrl-C; the exit code is
# npm test's.
#   npm run test:busy                      the whole suite under load
#   npm run test:busy -- dist/edge/        arguments pass through to npm test
#   MERIDIAN_BURNERS=4 npm run test:busy   more burners
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

burners=${MERIDIAN_BURNERS:-$(nproc 2>/dev/null || echo 2)}
[ "$burners" -ge 2 ] 2>/dev/null || burners=2

pids=()
stop_burners() {
  [ ${#pids[@]} -eq 0 ] && return
  kill "${pids[@]}" 2>/dev/null
  wait "${pids[@]}" 2>/dev/null
  pids=()
}
trap stop_burners EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A burner spins until this shell is gone, so that none outlives the run even
# if the shell is killed without running its trap.
burn='const parent = Number(process.argv[1]);
for (let alive = true; alive; ) {
  const until = Date.now() + 500;
  while (Date.now() < until);
  try { process.kill(parent, 0); } catch { alive = false; }
}'
for ((i = 0; i < burners; i++)); do
  node -e "$burn" "$$" &
  pids+=($!)
done
echo "test:busy: $burners CPU burners running beside npm test (pids ${pids[*]})"

started=$SECONDS
bash scripts/test.sh "$@"
status=$?
echo "test:busy: npm test exited $status after $((SECONDS - started)) s beside $burners burners"
exit "$status"
