# Shared helpers for integration tests: free ports, a real coturn started and always stopped,
# JSON queries. Source it; set TP to the turnprobe binary.
set -euo pipefail

TEST_DIR=$(mktemp -d /tmp/turnprobe-test.XXXXXX)
PIDS=()
cleanup() {
  local rc=$?
  set +e # a killed server's status must not become the test's
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  if [ $rc -ne 0 ] && [ -n "${KEEP_LOGS:-}" ]; then
    echo "logs kept in $TEST_DIR" >&2
  else
    rm -rf "$TEST_DIR"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }

# A port no socket of the given protocol (udp, tcp, or both) uses now.
free_port() {
  local proto=${1:-both} p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    if [ "$proto" != tcp ] && ss -Hlun "sport = :$p" | grep -q .; then continue; fi
    if [ "$proto" != udp ] && ss -Hltn "sport = :$p" | grep -q .; then continue; fi
    echo "$p"; return 0
  done
  fail "no free port"
}

# start_coturn [turnserver options...]: a coturn on 127.0.0.1 and ::1 with user alice:secret
# in realm example.org; sets TURN_PORT, RELAY_MIN, RELAY_MAX. Waits for the port (bounded).
start_coturn() {
  TURN_PORT=$(free_port)
  RELAY_MIN=$((50000 + RANDOM % 10000)); RELAY_MAX=$((RELAY_MIN + 100))
  local dir="$TEST_DIR/coturn-$TURN_PORT"
  mkdir -p "$dir"
  turnserver -n --log-file=stdout --simple-log --no-cli -L 127.0.0.1 -L ::1 -E 127.0.0.1 \
    -p "$TURN_PORT" --min-port "$RELAY_MIN" --max-port "$RELAY_MAX" -a -u alice:secret \
    -r example.org -f --no-tls --no-dtls --userdb "$dir/db.sqlite" --pidfile "$dir/pid" \
    "$@" >"$dir/log" 2>&1 &
  PIDS+=($!)
  local proto=udp
  case " $* " in *" --no-udp "*) proto=tcp ;; esac
  for _ in $(seq 1 100); do
    if [ "$proto" = udp ] && ss -Hlun "sport = :$TURN_PORT" | grep -q .; then return 0; fi
    if [ "$proto" = tcp ] && ss -Hltn "sport = :$TURN_PORT" | grep -q .; then return 0; fi
    sleep 0.05
  done
  cat "$dir/log" >&2
  fail "coturn did not listen on $TURN_PORT within 5 s"
}

# jq-like query with python3: json_get FILE 'expr over d' (d is the parsed document).
json_get() {
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"
}

step_field() { json_get "$1" "[s['$3'] for s in d['steps'] if s['id']=='$2'][0]"; }

expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }

PW="$TEST_DIR/pw"
printf 'secret' >"$PW"
