#!/usr/bin/env bash
# The scripted responder writes real STUN: each message it crafts, decoded by turnprobe decode,
# is STUN with a matching FINGERPRINT, and its long-term MESSAGE-INTEGRITY verifies on a
# message that names its USERNAME and REALM: test_faults_selftest.sh TURNPROBE
source "$(dirname "$0")/lib.sh"
TP=$1
SCRIPT="$(dirname "$0")/../scripted/turn_script.py"
python3 "$SCRIPT" normal --selftest >"$TEST_DIR/msgs.txt"
n=0
while read -r name hex; do
  rc=0
  printf '%s' "$hex" | "$TP" decode - --password-file "$PW" -u alice >"$TEST_DIR/dec.txt" 2>&1 || rc=$?
  [ "$rc" != 2 ] || { cat "$TEST_DIR/dec.txt" >&2; fail "$name: not a STUN message"; }
  case "$name" in
  endless-message) ;; # no FINGERPRINT: 65552 bytes, the most STUN allows, all PADDING
  *) grep -q 'FINGERPRINT: matches' "$TEST_DIR/dec.txt" ||
       { cat "$TEST_DIR/dec.txt" >&2; fail "$name: FINGERPRINT"; } ;;
  esac
  if [ "$name" = auth-request ]; then
    [ "$rc" = 0 ] && grep -q 'verified with the long-term key' "$TEST_DIR/dec.txt" ||
      { cat "$TEST_DIR/dec.txt" >&2; fail "the long-term MESSAGE-INTEGRITY does not verify"; }
  fi
  n=$((n + 1))
done <"$TEST_DIR/msgs.txt"
[ "$n" -ge 40 ] || fail "only $n messages"
echo "ok: $n crafted messages decode"
