# Helpers for the fault tests (test_faults.sh), on top of lib.sh: the scripted responder
# (tests/scripted/turn_script.py), a timed and measured turnprobe run, a network namespace.
# Source lib.sh first. Environment:
#   TP_SANITIZED=1      turnprobe is an ASan/UBSan build: set the sanitizers' exit codes apart
#                       from turnprobe's own, fail on any report, allow more time, skip the
#                       RSS limit (shadow memory); the CMake fragment sets it with TP_SANITIZE.
#   TP_TIME_SLACK_MS    how long after --timeout the process may exit, reports written
#                       (default 3000, sanitized 8000). The run itself, as its JSON reports
#                       it, must end within --timeout + 2 s: the grace chk_check.c gives the
#                       release of allocations after the deadline.

SCRIPT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../scripted" && pwd)/turn_script.py"
# A directory with its own prefix, as tls_lib.sh does: a clean-up of leftover
# /tmp/turnprobe-test.* directories by a concurrent run must not take the reports mid-test.
rm -rf "$TEST_DIR"
TEST_DIR=$(mktemp -d /tmp/turnprobe-faults.XXXXXX)
J_FULL="$TEST_DIR/report.json"
J="$TEST_DIR/report-steps.json" # the report without its packets (packet_count instead)
OUT="$TEST_DIR/out.txt"
NETNS=""
NS_EXEC=()
SCRIPT_PIDS=()
# A password no hint or report could contain by chance ("secret" is in "use-auth-secret").
FPW="tp-faults-pw-$RANDOM$RANDOM"
FPW_FILE="$TEST_DIR/fpw"
printf '%s' "$FPW" >"$FPW_FILE"
TURN_USER=alice

if [ -n "${TP_SANITIZED:-}" ]; then
  # turnprobe's own statuses are 0-3; a sanitizer report must not look like "a step failed".
  export ASAN_OPTIONS="detect_leaks=1:exitcode=86:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  export LSAN_OPTIONS="exitcode=86${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
  SLACK_MS=${TP_TIME_SLACK_MS:-8000}
else
  SLACK_MS=${TP_TIME_SLACK_MS:-3000}
fi

# The namespace goes after the processes in it; then lib.sh's cleanup (which keeps the status).
faults_cleanup() {
  local rc=$?
  set +e
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  PIDS=()
  [ -n "$NETNS" ] && ip netns del "$NETNS" 2>/dev/null
  (exit $rc)
  cleanup
}
trap faults_cleanup EXIT

# make_netns: a namespace with only a loopback that also holds 198.18.0.1, an address
# turnprobe counts as public (RFC 2544's benchmarking range, routed nowhere). Commands run
# in it through "${NS_EXEC[@]}". Returns 1 when namespaces are not available.
make_netns() {
  NETNS="tp-faults-$$"
  ip netns add "$NETNS" 2>/dev/null || { NETNS=""; return 1; }
  ip -n "$NETNS" link set lo up &&
    ip -n "$NETNS" addr add 198.18.0.1/32 dev lo || return 1
  NS_EXEC=(ip netns exec "$NETNS")
}

# start_script SCENARIO TRANSPORT [options...]: the scripted responder on TRANSPORT (udp or
# tcp), in the namespace when there is one; sets SCRIPT_PORT. Waits for it (bounded).
start_script() {
  local scenario=$1 transport=$2
  shift 2
  local out="$TEST_DIR/script-$scenario.out"
  "${NS_EXEC[@]}" python3 "$SCRIPT" "$scenario" -v --"$transport" 0 --password "$FPW" "$@" \
    >"$out" 2>"$TEST_DIR/script-$scenario.log" &
  PIDS+=($!)
  SCRIPT_PIDS+=($!)
  for _ in $(seq 1 100); do
    if grep -q '^ready$' "$out" 2>/dev/null; then
      SCRIPT_PORT=$(awk -v t="$transport" '$1 == t { print $2 }' "$out")
      return 0
    fi
    sleep 0.05
  done
  cat "$TEST_DIR/script-$scenario.log" >&2
  fail "the scripted responder did not start within 5 s"
}

# stop_scripts: the scripted responders have served; a flood must not slow the assertions.
stop_scripts() {
  local p
  for p in "${SCRIPT_PIDS[@]:-}"; do
    [ -z "$p" ] || { kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; } || true
  done
  SCRIPT_PIDS=()
}

# check_run EXPECTED_EXIT TIMEOUT URI [options...]: turnprobe check as TURN_USER with the
# password FPW from a file, --json and --timeout TIMEOUT, then stop_scripts; sets ELAPSED_MS
# and PEAK_RSS_KB (0 when unknown). Asserts the exit status, that the run ended within
# TIMEOUT (by its own JSON duration, and by the clock with SLACK_MS for start-up and the
# reports), that no sanitizer complained, and that the password shows nowhere.
check_run() {
  local want=$1 timeout=$2
  shift 2
  local rc=0 t0 timer=() rss="$TEST_DIR/rss.txt"
  rm -f "$J" "$J_FULL" "$rss"
  if [ -x /usr/bin/time ]; then
    timer=(/usr/bin/time -f '%M' -o "$rss")
  else
    # The same figure without GNU time: the largest RSS of a waited-for child.
    timer=(python3 -c 'import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
open(sys.argv[1], "w").write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc if rc >= 0 else 128 - rc)' "$rss")
  fi
  t0=$(date +%s%N)
  # A hang must fail here, with a message, not at ctest's TIMEOUT.
  timeout -s KILL $((timeout + 20)) "${NS_EXEC[@]}" "${timer[@]}" "$TP" check "$@" \
    --timeout "$timeout" -u "$TURN_USER" --password-file "$FPW_FILE" --json "$J_FULL" --color never \
    >"$OUT" 2>&1 || rc=$?
  ELAPSED_MS=$((($(date +%s%N) - t0) / 1000000))
  stop_scripts
  PEAK_RSS_KB=$(tail -n 1 "$rss" 2>/dev/null | grep -E '^[0-9]+$' || echo 0)
  echo "exit $rc in ${ELAPSED_MS} ms (--timeout $timeout), peak RSS ${PEAK_RSS_KB} KiB"
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$OUT"; then
    cat "$OUT" >&2
    fail "sanitizer report"
  fi
  [ "$rc" != 137 ] || fail "turnprobe hung: killed $((timeout + 20)) s into a --timeout $timeout run"
  [ "$rc" = "$want" ] || { tail -n 40 "$OUT" >&2; fail "exit status $rc, expected $want"; }
  [ -s "$J_FULL" ] || fail "no JSON report"
  # A flood leaves thousands of packets in the report: parse it once, not per assertion.
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
d["packet_count"] = len(d.pop("packets", []))
json.dump(d, open(sys.argv[2], "w"))' "$J_FULL" "$J"
  local run_ms
  run_ms=$(json_get "$J" "int(d['duration_ms'])")
  echo "the run took ${run_ms} ms by its own report"
  [ "$run_ms" -le $((timeout * 1000 + 2000)) ] ||
    fail "the run took ${run_ms} ms with --timeout $timeout"
  [ "$ELAPSED_MS" -le $((timeout * 1000 + SLACK_MS)) ] ||
    fail "exited after ${ELAPSED_MS} ms with --timeout $timeout (slack ${SLACK_MS} ms)"
  ! grep -qF "$FPW" "$OUT" "$J_FULL" || fail "the password appears in the output"
}

# peak_rss_below MIB: the last run's peak RSS, unless a sanitizer inflates it.
peak_rss_below() {
  if [ -n "${TP_SANITIZED:-}" ] || [ "$PEAK_RSS_KB" = 0 ]; then
    echo "peak RSS not checked (${PEAK_RSS_KB} KiB; sanitized or unknown)"
    return 0
  fi
  [ "$PEAK_RSS_KB" -lt $(($1 * 1024)) ] ||
    fail "peak RSS ${PEAK_RSS_KB} KiB, limit $1 MiB: memory grew with what the server sent"
}

# expect_steps STEP:STATUS[:DIAGNOSIS]...: the steps' verdicts, in one reading of the report.
expect_steps() {
  python3 - "$J" "$@" <<'EOF' || fail "step verdicts differ (see above)"
import json, sys
steps = {s["id"]: s for s in json.load(open(sys.argv[1]))["steps"]}
bad = 0
for spec in sys.argv[2:]:
    sid, status, *diag = spec.split(":")
    s = steps.get(sid, {})
    if s.get("status") != status or (diag and s.get("diagnosis") != diag[0]):
        print(f"step {sid}: expected {status} {''.join(diag)}, got {s.get('status')} "
              f"{s.get('diagnosis')}: {s.get('summary')}", file=sys.stderr)
        bad = 1
sys.exit(bad)
EOF
}

# expect_blocked_by WORDS: the steps after allocate are skipped, each saying WORDS in why.
expect_blocked_by() {
  python3 - "$J" "$1" <<'EOF' || fail "steps not skipped for \"$1\" (see above)"
import json, sys
bad = 0
for s in json.load(open(sys.argv[1]))["steps"]:
    if s["id"] in ("permission", "send-data", "channel", "refresh", "policy") and (
            s["status"] != "skip" or sys.argv[2] not in (s.get("summary") or "")):
        print(f"step {s['id']}: {s['status']}: {s.get('summary')}", file=sys.stderr)
        bad = 1
sys.exit(bad)
EOF
}

# step_json FILE STEP 'expr over s': a value from one step (s is the step's object).
step_json() {
  json_get "$1" "[(lambda s: $3)(s) for s in d['steps'] if s['id']=='$2'][0]"
}

# finding FILE DIAG FIELD: the FIELD of the first finding with that diagnosis, or "none".
finding() {
  json_get "$1" "([f['$3'] for f in d['findings'] if f['diagnosis']=='$2'] or ['none'])[0]"
}
