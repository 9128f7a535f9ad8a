#!/usr/bin/env bash
# Faults a real coturn cannot produce, from the scripted responder (tests/scripted/
# turn_script.py), each checked by its exit status, its step and diagnosis in the JSON, its
# time against --timeout and the password's absence: test_faults.sh SCENARIO TURNPROBE
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faults_lib.sh"
SCENARIO=$1
TP=$2

# Allocate fails the same way on UDP as on TCP: one function, both transports.
allocate_fails() { # allocate_fails SCENARIO TRANSPORT DIAGNOSIS
  local uri
  start_script "$1" "$2"
  uri="turn:127.0.0.1:$SCRIPT_PORT"
  [ "$2" = tcp ] && uri="$uri?transport=tcp"
  check_run 1 4 "$uri"
  expect_steps binding:pass:ok allocate:fail:"$3"
  expect_eq "$(finding "$J" "$3" severity)" fail "finding $3"
  expect_blocked_by "allocate failed: $3"
}

# A response that never comes, or comes as something else: binding and allocate both fail.
first_steps_fail() { # first_steps_fail DIAGNOSIS
  expect_steps binding:fail:"$1" allocate:fail:"$1"
  expect_blocked_by "$1"
}

case "$SCENARIO" in
alternate | alternate-tcp)
  # 300 Try Alternate to a real coturn: both allocations (ours and the test peer's) must
  # follow it and everything after runs there.
  start_coturn --allow-loopback-peers -u "carol:$FPW"
  TURN_USER=carol
  tp=udp q=""
  [ "$SCENARIO" = alternate-tcp ] && tp=tcp q="?transport=tcp"
  start_script alternate $tp --alternate "127.0.0.1:$TURN_PORT"
  check_run 0 5 "turn:127.0.0.1:$SCRIPT_PORT$q"
  expect_eq "$(finding "$J" alternate-server severity)" warn "alternate-server finding"
  expect_eq "$(finding "$J" alternate-server step)" allocate "alternate-server finding's step"
  expect_eq "$(json_get "$J" "len([f for f in d['findings'] if f['severity']=='fail'])")" 0 \
    "failed findings"
  # The scripted responder is on loopback, so the relay's loopback address is a lab's.
  expect_steps allocate:warn:relay-address-private binding:pass permission:pass \
    send-data:pass channel:pass refresh:pass
  for k in relayed peer_relayed; do
    port=$(step_json "$J" allocate "s['details']['$k'].rsplit(':',1)[1]")
    [ "$port" -ge "$RELAY_MIN" ] && [ "$port" -le "$RELAY_MAX" ] ||
      fail "$k port $port is not coturn's ($RELAY_MIN-$RELAY_MAX): the redirect was not followed"
  done
  grep -q 'Allocate request -> error 300' "$TEST_DIR/script-alternate.log" ||
    fail "the scripted responder never redirected"
  ;;
stale-nonce)
  # The first authenticated Allocate of each 5-tuple gets 438 and a fresh nonce. The relay
  # address is public-looking so that allocate can pass outright.
  start_script stale-nonce udp --relay-ip 198.18.0.1
  check_run 0 5 "turn:127.0.0.1:$SCRIPT_PORT"
  expect_steps allocate:pass:ok binding:pass permission:pass send-data:pass channel:pass \
    ice:pass refresh:pass policy:pass
  expect_eq "$(step_json "$J" allocate "s['details']['stale_nonce_retries']")" 1 "stale_nonce_retries"
  expect_eq "$(step_json "$J" allocate "s['details']['relayed'].split(':')[0]")" 198.18.0.1 "relayed"
  expect_eq "$(json_get "$J" "d['verdict']")" pass "verdict"
  # The responder's MESSAGE-INTEGRITY verifies with turnprobe's key on every signed answer.
  expect_eq "$(json_get "$J" "sorted({t.get('integrity', 'none') for t in d['transactions']
    if t.get('authenticated') and t.get('error_code') not in (401, 438)})")" "['valid']" \
    "integrity of the authenticated answers"
  [ "$(json_get "$J" "sum(t.get('integrity') == 'valid' for t in d['transactions'])")" -ge 10 ] ||
    fail "fewer than 10 signed answers checked"
  [ "$(grep -c 'Allocate authenticated request -> error 438' "$TEST_DIR/script-stale-nonce.log")" -ge 2 ] ||
    fail "the responder did not send 438 to both allocations"
  ;;
stale-loop) allocate_fails stale-loop udp auth-stale-nonce-loop ;;
insufficient-capacity) allocate_fails insufficient-capacity udp insufficient-capacity ;;
unknown-attribute)
  allocate_fails unknown-attribute udp unknown-attribute
  step_field "$J" allocate summary | grep -q 'unknown attributes: 0x0019' ||
    fail "the summary does not list the unknown attribute 0x0019"
  ;;
bad-integrity)
  start_script bad-integrity udp
  check_run 1 5 "turn:127.0.0.1:$SCRIPT_PORT"
  expect_steps allocate:fail:integrity-invalid permission:skip:ok send-data:skip:ok
  step_field "$J" allocate summary | grep -q 'does not verify' || fail "allocate summary"
  # Nothing more is asked of a server whose answers do not verify.
  step_field "$J" permission summary | grep -q 'integrity-invalid' || fail "permission not skipped for integrity"
  ;;
no-integrity)
  start_script no-integrity udp
  check_run 1 5 "turn:127.0.0.1:$SCRIPT_PORT"
  expect_steps allocate:fail:integrity-invalid
  step_field "$J" allocate summary | grep -q 'carries no MESSAGE-INTEGRITY' || fail "allocate summary"
  ;;
auth-loop) allocate_fails auth-loop udp auth-rejected ;;
auth-loop-tcp) allocate_fails auth-loop tcp auth-rejected ;;
open-relay)
  start_script open-relay udp
  check_run 1 5 "turn:127.0.0.1:$SCRIPT_PORT"
  expect_steps allocate:fail:auth-not-required
  # No request of ours was ever challenged, so none carried MESSAGE-INTEGRITY.
  ! grep -q 'authenticated request' "$TEST_DIR/script-open-relay.log" ||
    fail "turnprobe sent credentials nobody asked for"
  ;;
private-relay)
  # A correct challenge and a signed success that names 10.1.2.3. The server itself is on
  # loopback, so turnprobe calls it a lab (warn); private-relay-public shows the failure.
  start_script private-relay udp
  check_run 0 5 "turn:127.0.0.1:$SCRIPT_PORT"
  expect_steps allocate:warn:relay-address-private
  msg=$(finding "$J" relay-address-private message)
  echo "$msg" | grep -q '10\.1\.2\.3.* is private' || fail "finding: $msg"
  echo "$msg" | grep -q 'lab' || fail "a loopback server is not called a lab: $msg"
  ;;
private-relay-public)
  # The same, with the server on an address turnprobe counts as public: no lab excuse.
  if ! make_netns; then
    echo "skipped: cannot create a network namespace"
    exit 77
  fi
  start_script private-relay udp --host 198.18.0.1 --relay-ip 10.1.2.3
  check_run 1 5 "turn:198.18.0.1:$SCRIPT_PORT"
  expect_steps allocate:fail:relay-address-private
  msg=$(finding "$J" relay-address-private message)
  echo "$msg" | grep -q '10\.1\.2\.3.* is private' || fail "finding: $msg"
  ! echo "$msg" | grep -q 'lab' || fail "a public server is excused as a lab: $msg"
  expect_eq "$(finding "$J" relay-address-private severity)" fail "finding severity"
  ;;
not-stun | not-stun-tcp)
  # "HTTP/1.1 400 Bad Request" to everything: recognised at once, not waited out.
  tp=udp q=""
  [ "$SCENARIO" = not-stun-tcp ] && tp=tcp q="?transport=tcp"
  start_script not-stun $tp
  check_run 1 4 "turn:127.0.0.1:$SCRIPT_PORT$q"
  first_steps_fail not-stun
  ;;
silent | silent-tcp)
  tp=udp q=""
  [ "$SCENARIO" = silent-tcp ] && tp=tcp q="?transport=tcp"
  start_script silent $tp
  check_run 1 3 "turn:127.0.0.1:$SCRIPT_PORT$q"
  first_steps_fail no-response
  [ "$ELAPSED_MS" -ge 2500 ] || fail "gave up after ${ELAPSED_MS} ms, before the deadline"
  ;;
garbage-tcp)
  start_script garbage-tcp tcp
  check_run 1 4 "turn:127.0.0.1:$SCRIPT_PORT?transport=tcp"
  first_steps_fail not-stun
  ;;
endless-tcp)
  # 64 KiB Binding successes, back to back, forever: the first answers our Binding (without
  # a mapped address: bad-request); then turnprobe must give up on the stream.
  start_script endless-tcp tcp
  check_run 1 3 "turn:127.0.0.1:$SCRIPT_PORT?transport=tcp"
  expect_steps binding:fail:bad-request allocate:fail
  step_field "$J" allocate summary | grep -q 'far more than a TURN check asks for' ||
    fail "allocate does not say the server flooded us: $(step_field "$J" allocate summary)"
  [ "$(json_get "$J" "d['packet_count']")" -lt 2000 ] || fail "too many packets kept"
  peak_rss_below 150
  ;;
endless-tcp-indications | endless-udp-indications)
  # Valid 28-byte Binding indications without end: every one a record to keep.
  tp=${SCENARIO#endless-}
  tp=${tp%-indications}
  q=""
  [ "$tp" = tcp ] && q="?transport=tcp"
  start_script "$SCENARIO" "$tp"
  check_run 1 3 "turn:127.0.0.1:$SCRIPT_PORT$q"
  first_steps_fail no-response
  step_field "$J" binding summary | grep -q 'far more than a TURN check asks for' ||
    fail "binding does not say the server flooded us: $(step_field "$J" binding summary)"
  [ "$(json_get "$J" "d['packet_count']")" -lt 20000 ] || fail "too many packets kept"
  peak_rss_below 150
  ;;
error-no-code)
  # Error responses with no ERROR-CODE: malformed, reported as unexpected-error and said so.
  start_script error-no-code udp
  check_run 1 4 "turn:127.0.0.1:$SCRIPT_PORT"
  first_steps_fail unexpected-error
  for s in binding allocate; do
    step_field "$J" $s summary | grep -q 'without a valid ERROR-CODE' ||
      fail "step $s summary: $(step_field "$J" $s summary)"
  done
  ;;
*) fail "unknown scenario $SCENARIO" ;;
esac
echo "ok: $SCENARIO"
