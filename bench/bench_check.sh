#!/usr/bin/env bash
# bench_check: how long the whole checklist takes against a local coturn, next to coturn's own
# client doing one client-to-client exchange through the same server, run after run in turn.
#   bench/bench_check.sh TURNPROBE [RUNS] [udp|tcp]      (or: make bench_check; RUNS=N)
# turnutils_uclient prints whole milliseconds only, so both are timed from outside with
# date +%s%N; the checklist's own duration_ms (from its JSON) is shown as well.
source "$(dirname "$0")/../tests/integration/lib.sh"
# Its own directory: a clean-up of /tmp/turnprobe-test.* by a concurrent test run must not
# take the reports away mid-benchmark.
rm -rf "$TEST_DIR"
TEST_DIR=$(mktemp -d /tmp/turnprobe-bench.XXXXXX)
PW="$TEST_DIR/pw"
printf 'secret' >"$PW"

TP=${1:?usage: bench_check.sh TURNPROBE [RUNS] [udp|tcp]}
RUNS=${2:-${RUNS:-30}}
TRANSPORT=${3:-udp}
command -v turnutils_uclient >/dev/null || fail "turnutils_uclient (package coturn) is missing"

# turnutils_uclient never releases its allocations (they live their 600 s), and each run takes
# four relay ports: lib.sh's range of 100 runs out after 24 runs and the rest fail with 508.
# coturn takes the last --min-port/--max-port given.
relay_min=$((40000 + RANDOM % 8000))
start_coturn --allow-loopback-peers --min-port "$relay_min" --max-port $((relay_min + 4000))
URI="turn:127.0.0.1:$TURN_PORT"
UCLIENT_OPTS=()
if [ "$TRANSPORT" = tcp ]; then
  URI="$URI?transport=tcp"
  UCLIENT_OPTS=(-t)
fi

now_ns() { date +%s%N; }
CHECK_MS=() UCLIENT_MS=() CHECK_OWN_MS=()
check_fail=0 uclient_fail=0
COTURN_PID=${PIDS[-1]}
for i in $(seq 1 "$RUNS"); do
  kill -0 "$COTURN_PID" 2>/dev/null || fail "coturn is gone after $((i - 1)) runs (killed from outside?)"
  t0=$(now_ns)
  rc=0
  "$TP" check "$URI" -u alice --password-file "$PW" --json "$TEST_DIR/r.json" -q || rc=$?
  t1=$(now_ns)
  # 0: passed with warnings (loopback relay, permissive peer policy: a lab server).
  [ "$rc" = 0 ] || check_fail=$((check_fail + 1))
  CHECK_MS+=("$(((t1 - t0) / 1000))")
  CHECK_OWN_MS+=("$(json_get "$TEST_DIR/r.json" "d['duration_ms']")")

  t0=$(now_ns)
  rc=0
  timeout 20 turnutils_uclient -u alice -w secret -y -n 1 "${UCLIENT_OPTS[@]}" -p "$TURN_PORT" \
    127.0.0.1 >"$TEST_DIR/uclient.log" 2>&1 || rc=$?
  t1=$(now_ns)
  [ "$rc" = 0 ] || uclient_fail=$((uclient_fail + 1))
  UCLIENT_MS+=("$(((t1 - t0) / 1000))")
done

# Medians in milliseconds from microseconds (the checklist's own figure is already in ms).
python3 - "$RUNS" "$TRANSPORT" "$check_fail" "$uclient_fail" "${CHECK_MS[*]}" "${UCLIENT_MS[*]}" \
  "${CHECK_OWN_MS[*]}" <<'EOF'
import statistics, sys
runs, tp, cf, uf = sys.argv[1:5]
check = [int(x) / 1000 for x in sys.argv[5].split()]
ucl = [int(x) / 1000 for x in sys.argv[6].split()]
own = [float(x) for x in sys.argv[7].split()]
mc, mu, mo = statistics.median(check), statistics.median(ucl), statistics.median(own)
print(f"bench_check: {runs} runs each over {tp}, against one local coturn, interleaved")
print(f"  turnprobe check (whole checklist)    median {mc:8.1f} ms  "
      f"(min {min(check):.1f}, max {max(check):.1f}; {cf} not exit 0)")
print(f"  turnprobe's own duration_ms (JSON)   median {mo:8.1f} ms")
print(f"  turnutils_uclient -y -n 1            median {mu:8.1f} ms  "
      f"(min {min(ucl):.1f}, max {max(ucl):.1f}; {uf} not exit 0)")
print(f"  ratio check / uclient                {mc / mu:8.2f}")
print("  (turnutils_uclient paces its messages on a one-second timer and waits for stragglers:")
print("   most of its time is its own waiting, not the server's)")
EOF
