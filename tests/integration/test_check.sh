#!/usr/bin/env bash
# Live checks against a real coturn on loopback: test_check.sh SCENARIO TURNPROBE
source "$(dirname "$0")/lib.sh"
SCENARIO=$1
TP=$2
J="$TEST_DIR/report.json"
OUT="$TEST_DIR/out.txt"

run() { # run EXPECTED_EXIT args...: turnprobe check with JSON, timed
  local want=$1; shift
  local t0 rc=0
  t0=$(date +%s%N)
  "$TP" check "$@" --json "$J" --color never >"$OUT" 2>&1 || rc=$?
  ELAPSED_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ "$rc" = "$want" ] || { cat "$OUT" >&2; fail "exit status $rc, expected $want"; }
  # Passwords never appear in any output.
  ! grep -q 'secret' "$OUT" "$J" || fail "the password appears in the output"
}

happy() { # happy URI
  run 0 "$1" -u alice --password-file "$PW"
  expect_eq "$(json_get "$J" "d['verdict']")" warn "verdict (lab server: warnings only)"
  for s in settings dns binding permission send-data channel ice refresh; do
    expect_eq "$(step_field "$J" $s status)" pass "step $s"
  done
  expect_eq "$(step_field "$J" allocate diagnosis)" relay-address-private "allocate diagnosis"
  expect_eq "$(step_field "$J" policy diagnosis)" peer-policy-permissive "policy diagnosis"
  local port
  port=$(json_get "$J" "[s for s in d['steps'] if s['id']=='allocate'][0]['details']['relayed'].rsplit(':',1)[1]")
  [ "$port" -ge "$RELAY_MIN" ] && [ "$port" -le "$RELAY_MAX" ] ||
    fail "relayed port $port outside coturn's range $RELAY_MIN-$RELAY_MAX"
  for s in send-data channel; do
    expect_eq "$(json_get "$J" "[s for s in d['steps'] if s['id']=='$s'][0]['details']['returned']")" 3 "$s payloads back"
    expect_eq "$(json_get "$J" "[s for s in d['steps'] if s['id']=='$s'][0]['details']['reached_peer']")" 3 "$s payloads at the peer"
  done
  expect_eq "$(json_get "$J" "[s for s in d['steps'] if s['id']=='ice'][0]['details']['answered']")" 2 "ICE checks answered"
  expect_eq "$(json_get "$J" "[s for s in d['steps'] if s['id']=='refresh'][0]['details']['released']")" 2 "allocations released"
  [ "$(json_get "$J" "len(d['packets'])")" -gt 20 ] || fail "too few packets in the JSON"
}

case "$SCENARIO" in
happy-udp) start_coturn --allow-loopback-peers; happy "turn:127.0.0.1:$TURN_PORT" ;;
happy-tcp) start_coturn --allow-loopback-peers; happy "turn:127.0.0.1:$TURN_PORT?transport=tcp" ;;
happy-ipv6) start_coturn --allow-loopback-peers; happy "turn:[::1]:$TURN_PORT" ;;
wrong-password|unknown-user)
  start_coturn --allow-loopback-peers
  user=alice; [ "$SCENARIO" = unknown-user ] && user=mallory
  [ "$SCENARIO" = wrong-password ] && printf 'wrong' >"$PW"
  run 1 "turn:127.0.0.1:$TURN_PORT" -u "$user" --password-file "$PW"
  expect_eq "$(step_field "$J" allocate diagnosis)" auth-rejected "allocate diagnosis"
  expect_eq "$(step_field "$J" allocate status)" fail "allocate status"
  for s in permission send-data channel ice refresh policy; do
    expect_eq "$(step_field "$J" $s status)" skip "step $s"
    step_field "$J" $s summary | grep -q "auth-rejected" || fail "step $s does not say why it was skipped"
  done
  json_get "$J" "[s for s in d['steps'] if s['id']=='allocate'][0]['hint']" | grep -q 'example.org' ||
    fail "the hint does not name the server's realm" ;;
no-loopback-peers)
  start_coturn
  run 1 "turn:127.0.0.1:$TURN_PORT" -u alice --password-file "$PW"
  expect_eq "$(step_field "$J" permission diagnosis)" permission-forbidden "permission diagnosis"
  expect_eq "$(json_get "$J" "[s for s in d['steps'] if s['id']=='policy'][0]['details']['peers']['127.0.0.1']")" "refused (403)" "policy: 127.0.0.1"
  expect_eq "$(step_field "$J" send-data status)" skip "send-data skipped" ;;
user-quota)
  start_coturn --allow-loopback-peers --user-quota 1
  run 1 "turn:127.0.0.1:$TURN_PORT" -u alice --password-file "$PW"
  expect_eq "$(step_field "$J" allocate diagnosis)" allocation-quota "allocate diagnosis"
  step_field "$J" allocate summary | grep -q "test peer" || fail "the quota is not explained as the peer's allocation"
  step_field "$J" allocate hint | grep -q "user-quota" || fail "the hint does not name user-quota" ;;
no-udp)
  start_coturn --allow-loopback-peers --no-udp
  run 1 "turn:127.0.0.1:$TURN_PORT" -u alice --password-file "$PW" --timeout 5
  expect_eq "$(step_field "$J" binding diagnosis)" port-unreachable "UDP binding diagnosis"
  [ "$(json_get "$J" "len([p for p in d['packets'] if p.get('kind')=='icmp'])")" -ge 1 ] || fail "no ICMP packet recorded"
  run 0 "turn:127.0.0.1:$TURN_PORT?transport=tcp" -u alice --password-file "$PW"
  expect_eq "$(step_field "$J" channel status)" pass "TCP channel" ;;
tcp-closed-port)
  port=$(free_port tcp)
  run 1 "turn:127.0.0.1:$port?transport=tcp" -u alice --password-file "$PW" --timeout 5
  expect_eq "$(step_field "$J" binding diagnosis)" port-unreachable "binding diagnosis" ;;
silent-udp)
  # A UDP socket that reads and never answers: a firewall that drops silently looks the same.
  port=$(free_port udp)
  python3 -c "import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('127.0.0.1',$port)); time.sleep(60)" &
  PIDS+=($!)
  for _ in $(seq 1 100); do ss -Hlun "sport = :$port" | grep -q . && break; sleep 0.05; done
  run 1 "turn:127.0.0.1:$port" -u alice --password-file "$PW" --timeout 3
  expect_eq "$(step_field "$J" binding diagnosis)" no-response "binding diagnosis"
  [ "$ELAPSED_MS" -lt 6000 ] || fail "took ${ELAPSED_MS} ms with --timeout 3"
  [ "$(json_get "$J" "[s for s in d['steps'] if s['id']=='binding'][0]['details']['transmissions']")" -ge 3 ] ||
    fail "the Binding was not retransmitted" ;;
interrupt-releases)
  # Ctrl-C while the check waits for data from a silent --peer: the run stops early, still
  # writes its report and releases the allocation it made (Refresh with LIFETIME 0).
  start_coturn --allow-loopback-peers
  peer=$(free_port udp)
  python3 -c "import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('127.0.0.1',$peer)); time.sleep(60)" &
  PIDS+=($!)
  for _ in $(seq 1 100); do ss -Hlun "sport = :$peer" | grep -q . && break; sleep 0.05; done
  "$TP" check "turn:127.0.0.1:$TURN_PORT" -u alice --password-file "$PW" --peer "127.0.0.1:$peer" \
    --skip ice --json "$J" --color never >"$OUT" 2>&1 &
  tp=$!
  # send-data waits up to 2 s for payloads the silent peer never echoes: interrupt then.
  sleep 0.8
  kill -INT "$tp"
  rc=0; wait "$tp" || rc=$?
  [ "$rc" -ne 0 ] || fail "an interrupted check exited 0"
  [ -s "$J" ] || fail "no report after Ctrl-C"
  step_field "$J" policy summary | grep -q "interrupted" || fail "later steps do not say the run was interrupted"
  expect_eq "$(json_get "$J" "len([t for t in d['transactions'] if t['method']=='Refresh' and t['outcome']=='success'])")" 1 "Refresh (lifetime 0) after Ctrl-C"
  ;;
*) fail "unknown scenario $SCENARIO" ;;
esac
echo "ok: $SCENARIO"
