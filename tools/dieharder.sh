#!/usr/bin/env bash
# Pipe philoxinit's raw Philox stream (random_bits_, tools/stream_bits.py) into the dieharder battery
# and summarize its verdicts.
#
#   tools/dieharder.sh [-t SECONDS] [-o LOG] [-s SEED] [-S STREAM] [-- DIEHARDER-TEST-ARGS...]
#
# Default: the whole battery (`dieharder -a`) on stdin raw input (`-g 200`), stopped after
# -t SECONDS (default 1500: 25 minutes; 0 = no limit). Tests that finished before the limit are
# reported; the log says which. Pass test selectors after `--` to run a subset instead, e.g.
#   tools/dieharder.sh -- -d 0 -d 1 -d 2 -d 15
# Installs dieharder with apt-get (Debian package `dieharder`) when it is missing. Python is
# $PYTHON, else `python3`, and must be able to import philoxinit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
limit=1500
log=""
seed=0x0123456789ABCDEF
stream=0
while getopts "t:o:s:S:h" opt; do
  case "$opt" in
    t) limit="$OPTARG" ;;
    o) log="$OPTARG" ;;
    s) seed="$OPTARG" ;;
    S) stream="$OPTARG" ;;
    h) sed -n '2,13p' "$0"; exit 0 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[[ "${1:-}" == "--" ]] && shift
tests=("$@")
[[ ${#tests[@]} -eq 0 ]] && tests=(-a)
python="${PYTHON:-python3}"
[[ -n "$log" ]] || log="$(mktemp -t dieharder.XXXXXX.log)"

if ! command -v dieharder >/dev/null 2>&1; then
  echo "dieharder not found: installing the Debian package" >&2
  if [[ $(id -u) -ne 0 ]]; then
    echo "need root for apt-get (or install dieharder yourself)" >&2
    exit 2
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dieharder >/dev/null
fi

"$python" -c "import philoxinit" || { echo "cannot import philoxinit with $python" >&2; exit 2; }

echo "dieharder ${tests[*]} -g 200 on philoxinit random_bits_ (seed $seed, stream $stream), limit ${limit}s" | tee "$log"
start=$(date +%s)
set +e
# stdbuf: dieharder prints each test's line when it ends; keep them if the time limit stops it.
if [[ "$limit" -gt 0 ]]; then
  "$python" "$here/stream_bits.py" --seed "$seed" --stream "$stream" |
    timeout --signal=TERM "$limit" stdbuf -oL dieharder "${tests[@]}" -g 200 2>&1 | tee -a "$log"
else
  "$python" "$here/stream_bits.py" --seed "$seed" --stream "$stream" |
    stdbuf -oL dieharder "${tests[@]}" -g 200 2>&1 | tee -a "$log"
fi
rc=${PIPESTATUS[1]}
set -e
elapsed=$(($(date +%s) - start))

passed=$(grep -c '|  PASSED' "$log" || true)
weak=$(grep -c '|   WEAK' "$log" || true)
failed=$(grep -c '|  FAILED' "$log" || true)
{
  echo
  if [[ $rc -eq 124 ]]; then
    echo "stopped by the ${limit}s limit after ${elapsed}s (the tests listed above finished)"
  else
    echo "dieharder exited $rc after ${elapsed}s"
  fi
  echo "summary: PASSED $passed  WEAK $weak  FAILED $failed"
  if [[ $((weak + failed)) -gt 0 ]]; then
    echo "not passed:"
    grep -E '\|  +(WEAK|FAILED)' "$log" || true
  fi
  echo "log: $log"
} | tee -a "$log"
[[ $failed -eq 0 ]]
