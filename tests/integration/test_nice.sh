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
  if [ "$rc" != "$want" ]; then
    cat "$OUT" ${VG_LOG:+"$VG_LOG"} >&2
    fail "exit status $rc, expected $want"
  fi
  for pw in secret ${TLS_PASSWORD:-}; do # libnice logs passwords: none may reach the report
    ! grep -qF -- "$pw" "$OUT" "$J" || fail "the password appears in the output"
  done
}

# nice EXPR: a Python expression over L, the ice step's details.libnice.
nice() { json_get "$J" "(lambda L: $1)([s for s in d['steps'] if s['id']=='ice'][0]['details']['libnice'])"; }

# assert_nice PYTHON: statements over L (details.libnice), ice (the step) and d (the report)
# calling want(value, expected, what); on any mismatch prints them all and the details.
assert_nice() {
  python3 - "$J" "$1" <<'PY' || fail "details.libnice (above) is not as expected"
import json, sys
d = json.load(open(sys.argv[1]))
ice = [s for s in d['steps'] if s['id'] == 'ice'][0]
L = ice['details']['libnice']
bad = []
def want(value, expected, what):
    if value != expected:
        bad.append(f"{what}: expected {expected!r}, got {value!r}")
exec(sys.argv[2])
if bad:
    print(json.dumps(ice, indent=1), file=sys.stderr)
    print("\n".join("FAIL: " + b for b in bad), file=sys.stderr)
    sys.exit(1)
PY
}

connects() { # connects URI TRANSPORT [ARGS...]: both agents READY, relay/relay, data both ways
  local uri=$1 tp=$2; shift 2
  run 0 "$uri" -u alice --password-file "$PW" "$@"
  assert_nice "
want(ice['status'], 'pass', 'ice status')
want(L['ended'], 'ready', 'libnice outcome')
want(L['status'], 'pass', 'libnice verdict')
want(L['relay_transport'], '$tp', 'TURN transport of the agents')
want('libnice: both agents READY' in ice['summary'], True, 'the summary says libnice connected')
want('not in the capture' in L['capture'], True, 'the capture note')
want(L['closed'], True, 'both agents closed (TURN deallocated) within the bound')
want(L['ready_ms'] < 5000, True, 'READY within 5 s (about 50 ms on loopback)')
want(sorted({x['answer'] for x in L['turn_answers'] if x['request'] == 'CreatePermission'}),
     ['success'], 'the answers to libnice\'s CreatePermission')
for a, other in (('controlling', 'controlled'), ('controlled', 'controlling')):
    A, O = L[a], L[other]
    states = [x['state'] for x in A['states']]
    want((states[0], states[-1], 'connecting' in states), ('gathering', 'ready', True), a + ' state changes')
    want(A['final_state'], 'ready', a + ' final state')
    pair = A['selected_pair']
    want(pair['local']['type'] + '/' + pair['remote']['type'], 'relay/relay', a + ' selected pair')
    want([c['type'] for c in A['candidates']], ['relay'], a + ' candidates (relay-only)')
    want(pair['remote']['address'], O['candidates'][0]['address'], a + ' remote is the other relay')
    want(pair['local']['address'], A['candidates'][0]['address'], a + ' local is its relay')
    port = int(A['candidates'][0]['address'].rsplit(':', 1)[1])
    want($RELAY_MIN <= port <= $RELAY_MAX, True, a + ' relay port in coturn\'s range')
    want((A['data']['sent'], A['data']['received'], A['data']['replies']), (3, 3, 3),
         a + ' datagrams sent, received from the other, echoes back')
    want(0 < A['data']['rtt_ms']['avg'] < 1000, True, a + ' RTT')
    want(0 < A['gathering_ms'] < 5000, True, a + ' gathering time')
"
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
tls)
  # libnice 0.1.21 in RFC 5245 mode speaks plain TCP where TURN over TLS is asked (its TLS
  # wrapping is for the Google and MS-OC modes), so it would send credentials in clear to the
  # TLS port; over DTLS it has nothing. For turns: it does not run and says why, while our
  # own ICE checks pass through the tunnel.
  source "$(dirname "$0")/tls_lib.sh" # it moves TEST_DIR
  J="$TEST_DIR/report.json" OUT="$TEST_DIR/out.txt"
  make_ca
  make_cert server "DNS:turn.example.org,IP:127.0.0.1" now "+90 days -1 hour"
  start_coturn_tls server --allow-loopback-peers
  printf '%s' "$TLS_PASSWORD" >"$PW"
  run 0 "turns:127.0.0.1:$TLS_PORT" -u alice --password-file "$PW" --ca "$CA_DIR/ca.pem"
  assert_nice "
want(ice['status'], 'pass', 'ice status over TLS (our own checks)')
want(L['ran'], False, 'libnice does not run over TLS')
want('plain TCP' in L['why'] and 'libnice did not run' in ice['summary'], True, 'it says why')
"
  run 0 "turns:127.0.0.1:$TLS_PORT?transport=udp" -u alice --password-file "$PW" --ca "$CA_DIR/ca.pem"
  assert_nice "
want(ice['status'], 'pass', 'ice status over DTLS (our own checks)')
want(L['ran'], False, 'libnice does not run over DTLS')
want('DTLS' in L['why'] and 'libnice did not run' in ice['summary'], True, 'it says why')
" ;;
no-loopback-peers)
  # coturn refuses permissions to loopback peers: libnice's checks between the two relay
  # candidates (both 127.0.0.1) never reach the other agent.
  start_coturn
  run 1 "turn:127.0.0.1:$TURN_PORT" -u alice --password-file "$PW"
  expect_eq "$(step_field "$J" permission diagnosis)" permission-forbidden "permission diagnosis"
  assert_nice "
want(ice['status'], 'fail', 'ice status')
want(ice['diagnosis'], 'ice-check-failed', 'ice diagnosis')
want('403 Forbidden to CreatePermission' in ice['summary'], True, 'the summary names the 403 on CreatePermission')
want('allow-loopback-peers' in ice['hint'], True, 'the hint names allow-loopback-peers')
want(L['ended'], 'failed', 'libnice\'s own verdict (FAILED)')
want(L['closed'], True, 'both agents closed')
for a in ('controlling', 'controlled'):
    want(L[a]['relay_candidates'], 1, a + ' relay candidate (gathering worked)')
    want(L[a]['permission_answers']['error'] >= 1, True, a + ': libnice logged an error response to CreatePermission')
    want(L[a]['final_state'], 'failed', a + ' final state')
want(len([f for f in d['findings'] if f['step'] == 'ice']), 1, 'one ice finding')
" ;;
wrong-password)
  # libnice's Allocate gets 401 too: no relay candidate, and the cause is the credentials
  # (the allocate step's finding), not an ICE failure.
  start_coturn --allow-loopback-peers
  printf 'wrong' >"$PW"
  run 1 "turn:127.0.0.1:$TURN_PORT" -u alice --password-file "$PW"
  expect_eq "$(step_field "$J" allocate diagnosis)" auth-rejected "allocate diagnosis"
  assert_nice "
want(ice['status'], 'skip', 'ice status (the cause is the allocate step\'s finding)')
want(L['ran'], True, 'libnice ran')
want(L['ended'], 'no-relay', 'libnice outcome')
want(L['controlling']['relay_candidates'] + L['controlled']['relay_candidates'], 0, 'relay candidates')
want(L['diagnosis'], 'auth-rejected', 'libnice diagnosis')
want('no relay candidate: the server refused the credentials (see allocate)' in L['summary'], True,
     'libnice\'s summary names the credentials')
want('refused the credentials' in ice['summary'] and 'auth-rejected' in ice['summary'], True,
     'the ice step names the credentials and the allocate step')
want('connectivity check' in ice['summary'].lower(), False, 'not described as an ICE failure')
want(len([f for f in d['findings'] if f['step'] == 'ice']), 0, 'no ice finding')
want(L['controlling']['allocate_answers']['success'], 0, 'libnice\'s Allocate never succeeded')
want(L['controlling']['allocate_answers']['error'] >= 1, True, 'libnice logged error responses to its Allocate')
" ;;
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
  assert_nice "
want(ice['status'], 'fail', 'ice status')
want(ice['diagnosis'], 'no-response', 'ice diagnosis')
want(L['ran'], True, 'libnice ran')
want(L['ended'], 'deadline', 'libnice stopped by the deadline')
want(L['budget_ms'] < 1500, True, 'the budget is what was left of the run')
want(L['duration_ms'] <= L['budget_ms'] + 200, True, 'libnice kept its budget')
want(L['closed'], True, 'both agents closed')
want(L['controlling']['allocate_answers'], {'success': 0, 'error': 0}, 'libnice got no answer')
want('never answered libnice\'s Allocate' in L['summary'], True, 'the silence is named')
" ;;
valgrind-udp)
  # The UDP scenario under valgrind: any error or definite/possible leak makes the exit
  # status 9. nice.supp hides only GLib's worker-thread TLS (a one-time allocation).
  command -v valgrind >/dev/null || { echo "skip: no valgrind"; exit 77; }
  start_coturn --allow-loopback-peers
  VG_LOG="$TEST_DIR/valgrind.txt"
  WRAP="valgrind --leak-check=full --error-exitcode=9 --suppressions=$SUPP --log-file=$VG_LOG"
  run 0 "turn:127.0.0.1:$TURN_PORT" -u alice --password-file "$PW"
  assert_nice "
want(L['ended'], 'ready', 'libnice outcome under valgrind')
want(L['closed'], True, 'both agents closed')
"
  grep -q "ERROR SUMMARY: 0 errors" "$VG_LOG" || { cat "$VG_LOG" >&2; fail "valgrind found errors"; }
  grep -E "definitely lost|possibly lost|suppressed:|ERROR SUMMARY" "$VG_LOG" |
    sed 's/^==[0-9]*== */valgrind: /' ;;
*) fail "unknown scenario $SCENARIO" ;;
esac
echo "ok: $SCENARIO${NICE_READY_MS:+ (both READY in $NICE_READY_MS ms)} in $ELAPSED_MS ms"
