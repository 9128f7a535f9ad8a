#!/usr/bin/env bash
# The libnice half of the ice step against a real coturn: test_nice.sh SCENARIO TURNPROBE
# Two relay-only libnice agents must reach READY through the server, pick relay/relay and
# exchange data; each failure must be named by its cause, and the step must keep the deadline.
source "$(dirname "$0")/lib.sh"
SCENARIO=$1
TP=$2
J="$TEST_DIR/report.json"
OUT="$TEST_DIR/out.txt"
SUPP="$(dirname "$0")/nice.supp"

run() { # run EXPECTED_EXIT args...: turnprobe check with JSON, timed (WRAP: a command prefix)
  local want=$1; shift
  local t0 rc=0
  t0=$(date +%s%N)
  ${WRAP:-} "$TP" check "$@" --json "$J" --color never >"$OUT" 2>&1 || rc=$?
  ELAPSED_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ "$rc" = "$want" ] || { cat "$OUT" >&2; fail "exit status $rc, expected $want"; }
  ! grep -q 'secret' "$OUT" "$J" || fail "the password appears in the output"
}

# nice EXPR: a Python expression over L, the ice step's details.libnice.
nice() { json_get "$J" "(lambda L: $1)([s for s in d['steps'] if s['id']=='ice'][0]['details']['libnice'])"; }

connects() { # connects URI TRANSPORT: both agents READY, relay/relay, data both ways
  run 0 "$1" -u alice --password-file "$PW"
  expect_eq "$(step_field "$J" ice status)" pass "ice status"
  expect_eq "$(nice "L['ended']")" ready "libnice outcome"
  expect_eq "$(nice "L['status']")" pass "libnice verdict"
  expect_eq "$(nice "L['relay_transport']")" "$2" "TURN transport of the agents"
  for a in controlling controlled; do
    expect_eq "$(nice "L['$a']['final_state']")" ready "$a final state"
    expect_eq "$(nice "[x['state'] for x in L['$a']['states']]")" \
      "['gathering', 'connecting', 'connected', 'ready']" "$a state changes"
    expect_eq "$(nice "L['$a']['selected_pair']['local']['type']+'/'+L['$a']['selected_pair']['remote']['type']")" \
      relay/relay "$a selected pair"
    expect_eq "$(nice "[c['type'] for c in L['$a']['candidates']]")" "['relay']" "$a candidates (relay-only)"
    expect_eq "$(nice "L['$a']['data']['sent']")" 3 "$a datagrams sent"
    expect_eq "$(nice "L['$a']['data']['received']")" 3 "$a datagrams received"
    expect_eq "$(nice "L['$a']['data']['replies']")" 3 "$a echoes back"
    expect_eq "$(nice "0 < L['$a']['data']['rtt_ms']['avg'] < 1000")" True "$a RTT"
    expect_eq "$(nice "0 < L['$a']['gathering_ms'] < 2000")" True "$a gathering time"
  done
  # Each agent's relay address is what the other selected as remote, inside coturn's range.
  expect_eq "$(nice "L['controlling']['selected_pair']['remote']['address']==L['controlled']['candidates'][0]['address']")" \
    True "the controlling agent's remote is the controlled agent's relay"
  local port
  port=$(nice "L['controlling']['candidates'][0]['address'].rsplit(':',1)[1]")
  [ "$port" -ge "$RELAY_MIN" ] && [ "$port" -le "$RELAY_MAX" ] ||
    fail "relay port $port outside coturn's range $RELAY_MIN-$RELAY_MAX"
  expect_eq "$(nice "L['ready_ms'] < 3000")" True "READY within 3 s"
  expect_eq "$(nice "L['close_ms'] < 1000")" True "agents closed (TURN deallocated) within 1 s"
  expect_eq "$(nice "'not in the capture' in L['capture']")" True "the capture note"
  expect_eq "$(nice "sorted(set(x['answer'] for x in L['turn_answers'] if x['request']=='CreatePermission'))")" \
    "['success']" "libnice's CreatePermission answers"
  step_field "$J" ice summary | grep -q "libnice: both agents READY" || fail "the summary does not say libnice connected"
  NICE_READY_MS=$(nice "L['ready_ms']")
}

case "$SCENARIO" in
udp)
  start_coturn --allow-loopback-peers
  connects "turn:127.0.0.1:$TURN_PORT" udp
  expect_eq "$(nice "L['controlling']['local_address']")" 127.0.0.1 "local address" ;;
tcp)
  start_coturn --allow-loopback-peers
  connects "turn:127.0.0.1:$TURN_PORT?transport=tcp" tcp ;;
ipv6)
  start_coturn --allow-loopback-peers
  connects "turn:[::1]:$TURN_PORT" udp
  expect_eq "$(nice "L['controlled']['local_address']")" ::1 "local address" ;;
no-loopback-peers)
  # coturn refuses permissions to loopback peers: libnice's checks between the two relay
  # candidates (both 127.0.0.1) never reach the other agent.
  start_coturn
  run 1 "turn:127.0.0.1:$TURN_PORT" -u alice --password-file "$PW"
  expect_eq "$(step_field "$J" permission diagnosis)" permission-forbidden "permission diagnosis"
  expect_eq "$(step_field "$J" ice status)" fail "ice status"
  expect_eq "$(step_field "$J" ice diagnosis)" ice-check-failed "ice diagnosis"
  step_field "$J" ice summary | grep -q "403 Forbidden to CreatePermission" ||
    fail "the ice step does not name the 403 on CreatePermission"
  for a in controlling controlled; do
    expect_eq "$(nice "L['$a']['relay_candidates']")" 1 "$a relay candidate (gathering worked)"
    [ "$(nice "L['$a']['permission_answers']['error']")" -ge 1 ] ||
      fail "libnice's log shows no error response to the $a agent's CreatePermission"
  done
  expect_eq "$(nice "L['ended']")" failed "libnice's own verdict"
  expect_eq "$(json_get "$J" "len([f for f in d['findings'] if f['step']=='ice'])")" 1 "one ice finding"
  step_field "$J" ice hint | grep -q "allow-loopback-peers" || fail "the hint does not name allow-loopback-peers" ;;
wrong-password)
  # libnice's Allocate gets 401 too: no relay candidate, and the cause is the credentials
  # (the allocate step's finding), not an ICE failure.
  start_coturn --allow-loopback-peers
  printf 'wrong' >"$PW"
  run 1 "turn:127.0.0.1:$TURN_PORT" -u alice --password-file "$PW"
  expect_eq "$(step_field "$J" allocate diagnosis)" auth-rejected "allocate diagnosis"
  expect_eq "$(step_field "$J" ice status)" skip "ice status (the cause is allocate's finding)"
  expect_eq "$(nice "L['ran']")" True "libnice ran"
  expect_eq "$(nice "L['controlling']['relay_candidates']+L['controlled']['relay_candidates']")" 0 "relay candidates"
  expect_eq "$(nice "L['diagnosis']")" auth-rejected "libnice diagnosis"
  nice "L['summary']" | grep -q "no relay candidate: the server refused the credentials (see allocate)" ||
    fail "libnice's summary does not name the credentials"
  step_field "$J" ice summary | grep -q "refused the credentials" || fail "the ice step does not say it"
  step_field "$J" ice summary | grep -q "auth-rejected" || fail "the ice step does not name allocate's failure"
  ! step_field "$J" ice summary | grep -qi "connectivity check" || fail "described as an ICE failure"
  expect_eq "$(json_get "$J" "len([f for f in d['findings'] if f['step']=='ice'])")" 0 "no ice finding"
  [ "$(nice "L['controlling']['allocate_answers']['error']")" -ge 1 ] ||
    fail "libnice's log shows no error response to its Allocate" ;;
silent-udp)
  # Nothing answers: the run's deadline passes in the earlier steps and libnice must not
  # extend it.
  port=$(free_port udp)
  python3 -c "import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('127.0.0.1',$port)); time.sleep(60)" &
  PIDS+=($!)
  for _ in $(seq 1 100); do ss -Hlun "sport = :$port" | grep -q . && break; sleep 0.05; done
  run 1 "turn:127.0.0.1:$port" -u alice --password-file "$PW" --timeout 3
  [ "$ELAPSED_MS" -lt 5000 ] || fail "took ${ELAPSED_MS} ms with --timeout 3"
  expect_eq "$(nice "L['ran']")" False "libnice did not start after the deadline"
  nice "L['why']" | grep -q "deadline" || fail "details.libnice does not say why it did not run" ;;
silent-relay)
  # coturn answers turnprobe's own two flows, but a forwarder in front of it drops every later
  # flow (libnice's), as a firewall would: libnice runs and meets silence, and the deadline
  # (1.5 s, shorter than libnice's own 2 s give-up) must end it.
  start_coturn --allow-loopback-peers
  port=$(free_port udp)
  python3 - "$port" "$TURN_PORT" <<'EOF' &
import select, socket, sys
front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
front.bind(('127.0.0.1', int(sys.argv[1])))
flows, back = {}, {}
while True:
    for s in select.select([front] + list(back), [], [])[0]:
        data, src = s.recvfrom(65536)
        if s is not front:
            front.sendto(data, back[s])
            continue
        if src not in flows:
            if len(flows) >= 2:
                continue  # a third flow: silence
            up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            up.connect(('127.0.0.1', int(sys.argv[2])))
            flows[src], back[up] = up, src
        flows[src].send(data)
EOF
  PIDS+=($!)
  for _ in $(seq 1 100); do ss -Hlun "sport = :$port" | grep -q . && break; sleep 0.05; done
  run 1 "turn:127.0.0.1:$port" -u alice --password-file "$PW" --timeout 1.5
  [ "$ELAPSED_MS" -lt 4000 ] || fail "took ${ELAPSED_MS} ms with --timeout 1.5 (+2 s cleanup)"
  expect_eq "$(step_field "$J" channel status)" pass "turnprobe's own relay works"
  expect_eq "$(step_field "$J" ice status)" fail "ice status"
  expect_eq "$(step_field "$J" ice diagnosis)" no-response "ice diagnosis"
  expect_eq "$(nice "L['ran']")" True "libnice ran"
  expect_eq "$(nice "L['ended']")" deadline "libnice stopped by the deadline"
  expect_eq "$(nice "L['duration_ms'] <= L['budget_ms'] + 200")" True "libnice kept its budget"
  expect_eq "$(nice "L['budget_ms'] < 1500")" True "the budget is what was left of the run"
  expect_eq "$(nice "L['controlling']['allocate_answers']")" "{'success': 0, 'error': 0}" "libnice got no answer"
  nice "L['summary']" | grep -q "never answered libnice's Allocate" || fail "the silence is not named" ;;
valgrind-udp)
  command -v valgrind >/dev/null || { echo "skip: no valgrind"; exit 77; }
  start_coturn --allow-loopback-peers
  VG_LOG="$TEST_DIR/valgrind.txt"
  WRAP="valgrind --leak-check=full --error-exitcode=9 --suppressions=$SUPP --log-file=$VG_LOG"
  run 0 "turn:127.0.0.1:$TURN_PORT" -u alice --password-file "$PW" ||
    { cat "$VG_LOG" >&2; exit 1; }
  expect_eq "$(nice "L['ended']")" ready "libnice outcome under valgrind"
  grep -q "ERROR SUMMARY: 0 errors" "$VG_LOG" || { cat "$VG_LOG" >&2; fail "valgrind found errors"; }
  grep -q "definitely lost: 0 bytes" "$VG_LOG" || grep -q "All heap blocks were freed" "$VG_LOG" ||
    { cat "$VG_LOG" >&2; fail "valgrind found leaks"; }
  grep -E "definitely lost|possibly lost|suppressed:" "$VG_LOG" | sed 's/^==[0-9]*== */valgrind: /' ;;
*) fail "unknown scenario $SCENARIO" ;;
esac
echo "ok: $SCENARIO${NICE_READY_MS:+ (both READY in $NICE_READY_MS ms)} in $ELAPSED_MS ms"
