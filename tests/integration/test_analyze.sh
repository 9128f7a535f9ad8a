#!/usr/bin/env bash
# turnprobe analyze on the real captures in ../shared/captures and on captures of turnprobe check
# against a real coturn: test_analyze.sh SCENARIO TURNPROBE SHARED_DIR
source "$(dirname "$0")/lib.sh"
SCENARIO=$1
TP=$2
CAPS=$3/captures
SRC=$(cd "$(dirname "$0")/../.." && pwd)
J="$TEST_DIR/a.json"
OUT="$TEST_DIR/out.txt"
ERR="$TEST_DIR/err.txt"
PCAP="$TEST_DIR/a.pcapng"

# analyze EXPECTED_EXIT|any FILE...: every report at once; the exit status, the JSON's schema and
# command, and that the pcapng holds every input frame with each STUN frame commented.
analyze() {
  local want=$1 rc=0
  shift
  "$TP" analyze "$@" --json "$J" --md "$TEST_DIR/a.md" --html "$TEST_DIR/a.html" --pcap "$PCAP" \
    --color never >"$OUT" 2>"$ERR" || rc=$?
  [ "$want" = any ] || [ "$rc" = "$want" ] || { cat "$OUT" "$ERR" >&2; fail "exit status $rc, expected $want"; }
  ANALYZE_RC=$rc
  if python3 -c 'import jsonschema' 2>/dev/null; then
    bash "$SRC/tests/integration/validate_json.sh" "$SRC/docs/report-schema.json" "$J" ||
      fail "the JSON report does not follow docs/report-schema.json"
  fi
  expect_eq "$(json_get "$J" "d['command']")" analyze "command"
  grep -q '^# ' "$TEST_DIR/a.md" || fail "no Markdown report"
  grep -q '</html>' "$TEST_DIR/a.html" || fail "no HTML report"
  local n_in=0 n_out
  # tshark fails on a damaged file after listing the frames before the damage: count those.
  for f in "$@"; do
    n_in=$((n_in + $( (tshark -r "$f" -T fields -e frame.number 2>/dev/null || true) | wc -l)))
  done
  n_out=$(tshark -r "$PCAP" -T fields -e frame.number 2>/dev/null | wc -l)
  expect_eq "$n_out" "$n_in" "frames in the annotated pcapng"
}

# q 'EXPR': a Python expression over the JSON report, with helpers for sessions and steps.
q() {
  python3 - "$J" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
S = d.get('sessions') or ([d] if 'steps' in d else [])
def step(s, i): return next((x for x in s['steps'] if x['id'] == i), None)
def diag(s, i): return (step(s, i) or {}).get('diagnosis')
def status(s, i): return (step(s, i) or {}).get('status')
def ids(s): return [x['id'] for x in s['steps']]
def addr(s): return s['target'].get('address', '')
def facts(s): return s.get('facts', {})
def stun(s): t = facts(s).get('traffic', {}).get('stun', {}); return t.get('out', 0) + t.get('in', 0)
def txns(s, i=None): return [t for t in s.get('transactions', []) if i is None or t.get('step') == i]
TURN = {'allocate', 'permission', 'send-data', 'channel', 'refresh'}
P = d['packets']
print(eval(sys.argv[2]))
PY
}

# Frames tshark calls STUN in FILE, and frames commented in our pcapng, as sorted lists.
tshark_stun() { tshark -r "$1" -Y stun -T fields -e frame.number 2>/dev/null | sort -n | tr '\n' ' '; }
commented() { tshark -r "$PCAP" -Y frame.comment -T fields -e frame.number 2>/dev/null | sort -n | tr '\n' ' '; }

# Every frame tshark calls STUN carries our comment; every other commented frame is one tshark
# does not call STUN for a reason we know (classic STUN on an unusual port, TCP FIN/RST, ICMP).
pcap_covers() {
  local f=$1 extra_ok
  extra_ok=$(tshark -r "$PCAP" -Y 'tcp.flags.reset==1 || tcp.flags.fin==1 || icmp || icmpv6 || classicstun' \
    -T fields -e frame.number 2>/dev/null | tr '\n' ' ')
  python3 - "$(tshark_stun "$f")" "$(commented)" "$extra_ok" <<'PY' || fail "pcapng comments do not cover the STUN frames"
import sys
want, got, ok = (set(map(int, a.split())) for a in sys.argv[1:4])
missing, extra = sorted(want - got), sorted(got - want - ok)
if missing or extra:
    print(f"STUN frames without a comment: {missing}; commented frames tshark does not explain: {extra}",
          file=sys.stderr)
    sys.exit(1)
PY
}

# A comment names the frame it is on: "#N" with N the frame number.
comments_numbered() {
  tshark -r "$PCAP" -Y frame.comment -T fields -e frame.number -e frame.comment 2>/dev/null |
    awk -F'\t' '{ if (index($2, "#" $1 " ") == 0) { print "frame " $1 ": " $2; bad=1 } } END { exit bad }' ||
    fail "a comment names another frame"
  # The JSON's packet numbers are the pcapng's frame numbers.
  python3 - "$J" "$PCAP" <<'PY' || fail "JSON packet n does not match the pcapng frame"
import json, subprocess, sys
d = json.load(open(sys.argv[1]))
out = subprocess.run(['tshark', '-r', sys.argv[2], '-Y', 'frame.comment', '-T', 'fields', '-e',
                      'frame.number', '-e', 'frame.comment'], capture_output=True, text=True).stdout
com = dict(l.split('\t', 1) for l in out.splitlines() if '\t' in l)
for p in d['packets']:
    c = com.get(str(p['n']))
    if c is None or p['summary'] not in c:
        sys.exit(f"packet {p['n']} ({p['summary']}) is not frame {p['n']}'s comment: {c}")
PY
}

live_check() { # live_check EXPECTED_EXIT|any URI [check options]: check with --pcap
  local want=$1 uri=$2 rc=0
  shift 2
  "$TP" check "$uri" -u alice --password-file "$PW" --json "$TEST_DIR/check.json" \
    --pcap "$TEST_DIR/check.pcapng" --capture self --color never "$@" >"$TEST_DIR/check.txt" 2>&1 || rc=$?
  [ "$want" = any ] || [ "$rc" = "$want" ] ||
    { cat "$TEST_DIR/check.txt" >&2; fail "check: exit status $rc, expected $want"; }
  [ "$rc" -le 1 ] || { cat "$TEST_DIR/check.txt" >&2; fail "check: exit status $rc"; }
  [ -s "$TEST_DIR/check.pcapng" ] || fail "check --pcap wrote no capture"
}

# The client's session in analyze says for each step what check said.
same_diagnosis() { # same_diagnosis STEP...
  local s cd ad
  for s in "$@"; do
    cd=$(step_field "$TEST_DIR/check.json" "$s" diagnosis)
    ad=$(q "[diag(x, '$s') for x in S if '$s' in ids(x)][0]")
    expect_eq "$ad" "$cd" "analyze's $s diagnosis (check said $cd)"
  done
}

has_check_pcap() { "$TP" check --help 2>&1 | grep -q -- '--pcap'; }

case "$SCENARIO" in
ndpi-stun)
  F=$CAPS/ndpi/stun.pcap
  analyze 1 "$F"
  pcap_covers "$F"
  comments_numbered
  # Both CreatePermission 403s, with their peers.
  expect_eq "$(q "[step(s,'permission')['details']['forbidden_peers'] for s in S if diag(s,'permission')=='permission-forbidden']")" \
    "[['192.168.0.102:44459', '10.36.43.120:42272']]" "the peers refused with 403"
  expect_eq "$(q "len([t for s in S for t in txns(s,'permission') if t.get('error_code')==403])")" 2 "CreatePermission 403s"
  # TCP and IPv6 sessions, found without a port hint (ports 41588, 42000, 3478, 40003).
  expect_eq "$(q "sorted(addr(s) for s in S if s['target']['transport']=='tcp')")" \
    "['10.206.50.239:42000', '87.47.100.17:3478']" "TCP sessions"
  expect_eq "$(q "[status(s,'allocate') for s in S if addr(s)=='87.47.100.17:3478']")" "['pass']" "TURN over TCP allocates"
  expect_eq "$(q "[status(s,'ice') for s in S if addr(s)=='10.206.50.239:42000']")" "['pass']" "ICE-TCP (RFC 4571 framing)"
  expect_eq "$(q "len([s for s in S if addr(s).startswith('[')])")" 2 "IPv6 sessions"
  # 45 STUN messages over IPv6 (the README's count), all found.
  expect_eq "$(q "sum(stun(s) for s in S if addr(s).startswith('['))")" \
    "$(tshark -r "$F" -Y 'stun.type && ipv6' 2>/dev/null | wc -l)" "STUN over IPv6"
  # The relay on Google's side is private: check's allocate judge says so.
  expect_eq "$(q "[diag(s,'allocate') for s in S if addr(s)=='74.125.247.128:3478']")" "['relay-address-private']" "private relay"
  # ChannelData only on channels a ChannelBind bound: 19 records in the capture.
  expect_eq "$(q "sum(facts(s)['traffic'].get('channeldata',{}).get('out',0)+facts(s)['traffic'].get('channeldata',{}).get('in',0) for s in S) + len([p for p in P if p['kind']=='channeldata' and p.get('step')=='ice'])")" \
    "$(tshark -r "$F" -Y 'stun && !stun.type' 2>/dev/null | wc -l)" "ChannelData records"
  ;;
ndpi-tcp-multi)
  F=$CAPS/ndpi/stun_tcp_multiple_msgs_same_pkt.pcap
  analyze 1 "$F"
  pcap_covers "$F"
  # Six Allocate requests in four segments (three in the last one): tshark shows 4 frames and
  # 6 messages; one transaction (one id), never answered.
  expect_eq "$(q "len(S)")" 1 "sessions"
  expect_eq "$(q "stun(S[0])")" "$(tshark -r "$F" -Y stun -T fields -e stun.type 2>/dev/null | tr ',' '\n' | grep -c .)" "messages"
  expect_eq "$(q "[len(t['requests']) for t in txns(S[0])]")" "[6]" "requests of the one transaction"
  expect_eq "$(q "sorted(set(p['n'] for p in P))")" "[2, 3, 4, 5]" "frames"
  expect_eq "$(q "diag(S[0],'allocate')")" no-response "allocate diagnosis"
  ;;
ndpi-lru-ipv6)
  F=$CAPS/ndpi/lru_ipv6_caches.pcapng
  analyze 1 "$F"
  pcap_covers "$F"
  expect_eq "$(q "all(s['facts']['client'].startswith('[') and addr(s).startswith('[') for s in S) and len(S)>=3")" True "all-IPv6 sessions"
  expect_eq "$(q "len(set(p['n'] for p in P if p['kind']=='stun'))")" "$(tshark_stun "$F" | wc -w)" "STUN frames"
  expect_eq "$(q "any(status(s,'ice')=='pass' for s in S)")" True "an ICE session that works"
  ;;
ndpi-dtls-rtp)
  F=$CAPS/ndpi/stun_dtls_rtp.pcapng
  analyze 1 "$F"
  pcap_covers "$F"
  T="[s for s in S if s['target']['transport']=='tcp'][0]"
  expect_eq "$(q "ids($T)")" "['allocate', 'permission', 'send-data', 'channel', 'ice']" "TURN over TCP steps"
  expect_eq "$(q "step($T,'send-data')['details']['sent']>0 and step($T,'send-data')['details']['received']>0")" True "Send and Data indications both ways"
  expect_eq "$(q "status($T,'send-data')")" pass "send-data"
  # ChannelBind (frame 58, retransmitted in 91) is unanswered 0.3 s before the capture ends:
  # not judged, rather than called a timeout.
  expect_eq "$(q "[p['n'] for p in P if p.get('step')=='channel']")" "[58, 91]" "ChannelBind frames"
  expect_eq "$(q "status($T,'channel')")" skip "ChannelBind not judged"
  q "facts($T)['unjudged']" | grep -q "ChannelBind (frame 91)" || fail "the unjudged ChannelBind is not noted"
  expect_eq "$(q "len([t for t in txns($T,'ice')])>0")" True "ICE checks inside Send indications"
  # DTLS after ICE on the media flow is not TURN.
  expect_eq "$(q "[s['target']['transport'] for s in S]")" "['udp', 'tcp']" "sessions"
  ;;
ndpi-classic)
  F=$CAPS/ndpi/stun_classic.pcap
  analyze 0 "$F"
  # RFC 3489 on port 13958: tshark needs -d udp.port==13958,classicstun; analyze does not.
  expect_eq "$(q "step(S[0],'binding')['details'].get('classic')")" True "classic STUN"
  expect_eq "$(q "step(S[0],'binding')['details']['mapped']")" "172.16.63.224:55050" "mapped address"
  expect_eq "$(commented)" "1 2 " "commented frames"
  ;;
zeek-malformed-error)
  F=$CAPS/zeek-spicy-stun/stun-malformed-error.pcap
  analyze 1 "$F"
  expect_eq "$(q "[x['diagnosis'] for s in S for x in s['steps'] if x['status']=='fail']")" "['not-stun']" "malformed response"
  q "S[0]['steps'][0]['summary']" | grep -q "ERROR-CODE (0x0009) at offset 20 has a malformed 3-byte value" ||
    fail "the summary lacks the decoder's explanation"
  tshark -r "$PCAP" -Y 'frame.number==2' -T fields -e frame.comment 2>/dev/null | grep -q "not-stun" ||
    fail "frame 2's comment does not say not-stun"
  ;;
zeek-attr-ffff)
  F=$CAPS/zeek-spicy-stun/stun-attribute-length-ffff.pcap
  analyze 1 "$F"
  expect_eq "$(q "diag(S[0],'binding')")" not-stun "binding diagnosis"
  q "step(S[0],'binding')['summary']" | grep -q "claims 65535 bytes, 8 left" || fail "no decode error text"
  ;;
zeek-ice-testcall)
  F=$CAPS/zeek-spicy-stun/stun-ice-testcall.pcap
  analyze 0 "$F"
  pcap_covers "$F"
  comments_numbered
  expect_eq "$(q "len(S)")" 5 "sessions"
  # The 401 and 500 the client sent to the peer's checks are reported.
  q "' '.join(step(s,'ice')['summary'] for s in S if step(s,'ice'))" | grep -q "500 SERVER ERROR" || fail "500 not reported"
  q "' '.join(step(s,'ice')['summary'] for s in S if step(s,'ice'))" | grep -q "401 UNAUTHORIZED" || fail "401 not reported"
  ;;
arkime)
  F=$CAPS/arkime/stun.pcap
  analyze 1 "$F"
  # No TURN session: MS-TURN's length-113 Allocate (not a multiple of 4) and the text on 3478
  # (TCP frame 5, UDP frame 8) are not STUN; only the two RFC 3489 Binding requests are.
  expect_eq "$(q "[i for s in S for i in ids(s) if i in TURN]")" "[]" "TURN steps"
  expect_eq "$(q "sorted(p['n'] for p in P)")" "[6, 7]" "STUN frames"
  expect_eq "$(commented)" "6 7 " "commented frames"
  ;;
pion-raw | pion-csv)
  F=$CAPS/pion-stun/ex1_chrome.stun
  [ "$SCENARIO" = pion-csv ] && F=$CAPS/pion-stun/frombrowsers.csv
  rc=0
  "$TP" analyze "$F" --json "$J" >"$OUT" 2>"$ERR" || rc=$?
  expect_eq "$rc" 2 "exit status"
  expect_eq "$(wc -l <"$ERR")" 1 "error lines"
  grep -q "$(basename "$F"): .*\(raw STUN message\|not a pcap or pcapng capture\)" "$ERR" || fail "unclear error: $(cat "$ERR")"
  [ ! -s "$OUT" ] && [ ! -e "$J" ] || fail "something was written for a file that is not a capture"
  ;;
usage)
  rc=0; "$TP" analyze >"$OUT" 2>&1 || rc=$?; expect_eq "$rc" 2 "no capture"
  rc=0; "$TP" analyze "$CAPS/ndpi/stun.pcap" --format xml >"$OUT" 2>&1 || rc=$?; expect_eq "$rc" 2 "--format xml"
  rc=0; "$TP" analyze "$CAPS/ndpi/stun.pcap" "$TEST_DIR/missing.pcap" >"$OUT" 2>&1 || rc=$?
  expect_eq "$rc" 2 "a missing second file"
  grep -q "missing.pcap: No such file" "$OUT" || fail "the missing file is not named"
  rc=0; "$TP" analyze "$CAPS/ndpi/stun.pcap" --format json -q >"$OUT" 2>&1 || rc=$?
  expect_eq "$rc" 1 "-q keeps the exit status"
  [ ! -s "$OUT" ] || fail "-q printed something"
  "$TP" analyze "$CAPS/ndpi/stun_classic.pcap" --format json >"$J"
  expect_eq "$(q "d['command']")" analyze "--format json on standard output"
  ;;
truncated)
  # A capture cut in the middle of a frame: analysed up to the damage, reported as a warning.
  head -c 20000 "$CAPS/ndpi/stun_dtls_rtp.pcapng" >"$TEST_DIR/cut.pcapng"
  analyze 1 "$TEST_DIR/cut.pcapng"
  grep -q "warning: .*cut.pcapng: damaged after frame 84: .*; analysed the 84 frames before the damage" "$ERR" ||
    fail "the damage is not reported: $(cat "$ERR")"
  expect_eq "$(q "all('capture_damage' in facts(s) for s in S)")" True "damage noted in the sessions"
  expect_eq "$(q "status([s for s in S if s['target']['transport']=='tcp'][0],'allocate')")" fail "allocate still judged"
  ;;
split)
  # A capture split in three files reads as one: TCP streams continue across the files and the
  # frame numbers with them.
  editcap -c 40 "$CAPS/ndpi/stun_dtls_rtp.pcapng" "$TEST_DIR/part.pcapng" >/dev/null
  mapfile -t parts < <(ls "$TEST_DIR"/part_*.pcapng)
  [ "${#parts[@]}" -ge 3 ] || fail "editcap did not split the capture"
  analyze 1 "${parts[@]}"
  mv "$J" "$TEST_DIR/split.json"
  "$TP" analyze "$CAPS/ndpi/stun_dtls_rtp.pcapng" --json "$J" -q || true
  python3 - "$TEST_DIR/split.json" "$J" <<'PY' || fail "the split capture reads differently from the whole"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
strip = lambda d: ([(s['name'], [(x['id'], x['status'], x['diagnosis']) for x in s['steps']]) for s in d['sessions']],
                   [(p['n'], p['summary']) for p in d['packets']])
if strip(a) != strip(b):
    sys.exit(f"split: {strip(a)}\nwhole: {strip(b)}")
PY
  ;;
live-healthy | live-healthy-tcp)
  has_check_pcap || fail "turnprobe check has no --pcap"
  start_coturn --allow-loopback-peers
  URI="turn:127.0.0.1:$TURN_PORT"
  [ "$SCENARIO" = live-healthy-tcp ] && URI="$URI?transport=tcp"
  # check's ice step also runs two libnice agents, which a loaded machine can make fail; what
  # matters here is that analyze judges the capture as check judged the same packets.
  live_check any "$URI"
  analyze any "$TEST_DIR/check.pcapng"
  comments_numbered
  # The client's session: check's steps, check's diagnoses, and the exit status they imply.
  same_diagnosis binding allocate permission send-data channel refresh policy
  want=0
  for s in binding allocate permission send-data channel refresh policy; do
    [ "$(step_field "$TEST_DIR/check.json" "$s" status)" = fail ] && want=1
  done
  expect_eq "$ANALYZE_RC" "$want" "analyze's exit status"
  expect_eq "$(q "[status(s,'ice') for s in S if 'binding' in ids(s)]")" "['pass']" "turnprobe's own ICE checks"
  expect_eq "$(q "len(S)")" 2 "sessions (the client and turnprobe's test peer)"
  ;;
live-wrong-password)
  has_check_pcap || fail "turnprobe check has no --pcap"
  start_coturn --allow-loopback-peers
  printf 'wrong' >"$PW"
  live_check 1 "turn:127.0.0.1:$TURN_PORT"
  analyze 1 "$TEST_DIR/check.pcapng"
  same_diagnosis allocate
  expect_eq "$(q "sorted(set(diag(s,'allocate') for s in S))")" "['auth-rejected']" "every allocation refused"
  q "[step(s,'allocate')['hint'] for s in S][0]" | grep -q 'example.org' || fail "the hint lacks the realm"
  ;;
live-no-loopback-peers)
  has_check_pcap || fail "turnprobe check has no --pcap"
  start_coturn
  live_check 1 "turn:127.0.0.1:$TURN_PORT"
  analyze 1 "$TEST_DIR/check.pcapng"
  same_diagnosis permission policy
  q "[step(s,'permission')['details']['forbidden_peers'] for s in S if 'binding' in ids(s)][0]" | grep -q "127.0.0.1:" ||
    fail "the refused loopback peer is not listed"
  ;;
live-tshark)
  # The same fault seen by tshark on lo (Ethernet frames of a real client run), not by
  # turnprobe's own capture.
  start_coturn --allow-loopback-peers
  printf 'wrong' >"$PW"
  tshark -i lo -w "$TEST_DIR/lo.pcapng" -f "udp port $TURN_PORT or tcp port $TURN_PORT" \
    >"$TEST_DIR/tshark.log" 2>&1 &
  TSHARK=$!
  PIDS+=("$TSHARK")
  for _ in $(seq 1 100); do grep -q "Capturing on" "$TEST_DIR/tshark.log" && break; sleep 0.1; done
  grep -q "Capturing on" "$TEST_DIR/tshark.log" || fail "tshark did not start: $(cat "$TEST_DIR/tshark.log")"
  sleep 0.3 # "Capturing on" comes just before the first packet can be seen
  rc=0
  "$TP" check "turn:127.0.0.1:$TURN_PORT" -u alice --password-file "$PW" --json "$TEST_DIR/check.json" \
    --color never >"$TEST_DIR/check.txt" 2>&1 || rc=$?
  expect_eq "$rc" 1 "check exit status"
  sleep 0.5
  kill -INT "$TSHARK"
  wait "$TSHARK" || true
  analyze 1 "$TEST_DIR/lo.pcapng"
  pcap_covers "$TEST_DIR/lo.pcapng"
  same_diagnosis allocate
  ;;
synthetic)
  # Hand-made evidence for what the shared captures lack: a 438 loop, 401 after
  # MESSAGE-INTEGRITY, an error response without ERROR-CODE, ChannelData lookalikes on a 5-tuple
  # without ChannelBind, ChannelData on a bound and an unbound channel, a silent server, ICMP.
  python3 - "$TEST_DIR/syn.pcap" <<'PY'
import struct, sys
frames, t = [], [1700000000.0]
def attr(k, v): return struct.pack('>HH', k, len(v)) + v + b'\0' * ((4 - len(v) % 4) % 4)
def err(code, why): return attr(0x0009, struct.pack('>HBB', 0, code // 100, code % 100) + why)
def stun(typ, tid, *attrs):
    body = b''.join(attrs)
    return struct.pack('>HHI', typ, len(body), 0x2112A442) + tid + body
def csum(h):
    s = sum(struct.unpack('>10H', h))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def ip4(src, dst, proto, l4):
    h = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0, bytes(src), bytes(dst))
    return h[:10] + struct.pack('>H', csum(h)) + h[12:] + l4
def udp(src, sp, dst, dp, pl, dt=0.1):
    ip = ip4(src, dst, 17, struct.pack('>HHHH', sp, dp, 8 + len(pl), 0) + pl)
    frames.append((t[0], b'\x02\0\0\0\0\1\x02\0\0\0\0\2\x08\0' + ip)); t[0] += dt
    return ip
S = [198, 51, 100, 1]
MI = attr(0x0008, b'\x11' * 20)
AUTH = attr(0x0006, b'alice') + attr(0x0014, b'example.org') + attr(0x0015, b'n0nce') + MI
RT = attr(0x0019, b'\x11\0\0\0')
def tid(n): return struct.pack('>I', n) + b'tidtidti'
def txn(c, cp, rq, rs, n, req_attrs, resp_attrs=b''):
    udp(c, cp, S, 3478, stun(rq, tid(n), req_attrs))
    if rs: udp(S, 3478, c, cp, stun(rs, tid(n), resp_attrs))
A = [10, 0, 0, 1]   # 438 on every Refresh
txn(A, 40001, 0x0003, 0x0103, 1, RT + AUTH, attr(0x0016, b'\0\x01\xe0\x01\xea\x33\xd4\x4b') + MI)
for n in range(2, 5):
    txn(A, 40001, 0x0004, 0x0114, n, attr(0x000D, b'\0\0\x02\x58') + AUTH, err(438, b'Stale Nonce') + attr(0x0015, b'n%d' % n))
B = [10, 0, 0, 2]   # 401 to the authenticated Allocate
txn(B, 40002, 0x0003, 0x0113, 10, RT, err(401, b'Unauthorized') + attr(0x0014, b'example.org') + attr(0x0015, b'n'))
txn(B, 40002, 0x0003, 0x0113, 11, RT + AUTH, err(401, b'Unauthorized') + attr(0x0014, b'example.org') + attr(0x0015, b'n'))
C = [10, 0, 0, 3]   # an error response without ERROR-CODE
txn(C, 40003, 0x0001, 0x0111, 20, b'', attr(0x8022, b'broken server'))
D = [10, 0, 0, 4]   # ChannelData lookalikes and no STUN at all
for i in range(5):
    udp(D, 40004, S, 3478, struct.pack('>HH', 0x4001, 8) + b'not turn')
E = [10, 0, 0, 5]   # ChannelBind 0x4001, then ChannelData on it and on unbound 0x4002
txn(E, 40005, 0x0003, 0x0103, 30, RT + AUTH, attr(0x0016, b'\0\x01\xe0\x01\xea\x33\xd4\x4b') + MI)
txn(E, 40005, 0x0009, 0x0109, 31, attr(0x000C, b'\x40\x01\0\0') + attr(0x0012, b'\0\x01\x2d\x7a\xe7\x37\xde\x74') + AUTH, MI)
for i in range(5):
    udp(E, 40005, S, 3478, struct.pack('>HH', 0x4001, 12) + b'\x80' + b'm' * 11)
    udp(S, 3478, E, 40005, struct.pack('>HH', 0x4001, 12) + b'\x80' + b'p' * 11)
    udp(E, 40005, S, 3478, struct.pack('>HH', 0x4002, 12) + b'\x80' + b'x' * 11)
F = [10, 0, 0, 6]   # a server that never answers (three transmissions)
for i in range(3):
    udp(F, 40006, S, 3478, stun(0x0003, tid(40), RT), dt=0.5)
G = [10, 0, 0, 7]   # ICMP port unreachable quoting the Binding request
q = udp(G, 40007, S, 3478, stun(0x0001, tid(50)))
icmp = struct.pack('>BBHI', 3, 3, 0, 0) + q[:28]
frames.append((t[0], b'\x02\0\0\0\0\1\x02\0\0\0\0\2\x08\0' + ip4(S, G, 1, icmp))); t[0] += 10
udp([10, 0, 0, 9], 40009, [10, 0, 0, 8], 53, b'\x12\x34' + b'\0' * 10)  # the capture goes on
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for ts, fr in frames:
        f.write(struct.pack('<IIII', int(ts), int(round((ts % 1) * 1e6)) % 1000000, len(fr), len(fr)) + fr)
PY
  analyze 1 "$TEST_DIR/syn.pcap"
  comments_numbered
  # tshark calls every ChannelData-looking payload on 3478 STUN; analyze only those on a channel
  # a ChannelBind bound on that 5-tuple.
  python3 - "$(tshark_stun "$TEST_DIR/syn.pcap")" "$(commented)" <<'PY' || fail "lookalikes commented, or STUN not"
import sys
want, got = (set(map(int, a.split())) for a in sys.argv[1:3])
lookalikes = set(range(15, 20)) | {26, 29, 32, 35, 38}
assert want - got == lookalikes, sorted(want - got)
assert got - want <= {43}, sorted(got - want)  # 43: the ICMP error
PY
  sess() { echo "[s for s in S if s['facts']['client'].startswith('10.0.0.$1:')]"; }
  expect_eq "$(q "diag($(sess 1)[0],'refresh')")" auth-stale-nonce-loop "438 on every Refresh"
  expect_eq "$(q "diag($(sess 2)[0],'allocate')")" auth-rejected "401 after MESSAGE-INTEGRITY"
  expect_eq "$(q "diag($(sess 3)[0],'binding')")" not-stun "error response without ERROR-CODE"
  q "step($(sess 3)[0],'binding')['summary']" | grep -q "without ERROR-CODE" || fail "malformed response not explained"
  expect_eq "$(q "len($(sess 4))")" 0 "ChannelData lookalikes without ChannelBind"
  expect_eq "$(q "facts($(sess 5)[0])['traffic']['channeldata']['out'], facts($(sess 5)[0])['traffic']['channeldata']['in']")" "(5, 5)" "ChannelData on the bound channel only"
  expect_eq "$(q "status($(sess 5)[0],'channel')")" pass "channel"
  expect_eq "$(q "[diag(x,'allocate') for x in $(sess 6)] + [len(t['requests']) for x in $(sess 6) for t in txns(x)]")" "['no-response', 3]" "a silent server"
  expect_eq "$(q "diag($(sess 7)[0],'binding')")" port-unreachable "ICMP port unreachable"
  expect_eq "$(q "len(S)")" 6 "sessions"
  ;;
tls)
  # TURN over TLS (openssl s_server and s_client, captured on lo), told from other TLS by its
  # ALPN stun.turn (RFC 7443) since the ports here are random: reported as encrypted TURN with
  # its SNI and ALPN; a client that demands TLS 1.3 from a server limited to TLS 1.2 ends in a
  # fatal alert; TLS without that ALPN on another port (HTTPS, say) is not TURN at all.
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TEST_DIR/k.pem" -out "$TEST_DIR/c.pem" \
    -days 2 -subj /CN=turn.example.org >/dev/null 2>&1
  P1=$(free_port tcp)
  P2=$(free_port tcp)
  P3=$(free_port tcp)
  tshark -i lo -w "$TEST_DIR/tls.pcapng" -f "tcp port $P1 or tcp port $P2 or tcp port $P3" \
    >"$TEST_DIR/tshark.log" 2>&1 &
  TSHARK=$!
  PIDS+=("$TSHARK")
  for _ in $(seq 1 100); do grep -q "Capturing on" "$TEST_DIR/tshark.log" && break; sleep 0.1; done
  sleep 0.3
  for p in "$P1" "$P2" "$P3"; do
    extra=()
    [ "$p" = "$P2" ] && extra=(-tls1_2)
    openssl s_server -accept "$p" -cert "$TEST_DIR/c.pem" -key "$TEST_DIR/k.pem" -naccept 1 \
      -quiet "${extra[@]}" >"$TEST_DIR/srv$p.log" 2>&1 &
    PIDS+=($!)
  done
  for p in "$P1" "$P2" "$P3"; do
    for _ in $(seq 1 50); do ss -Hltn "sport = :$p" | grep -q . && break; sleep 0.1; done
  done
  client() { (echo hello; sleep 0.5) | openssl s_client -connect "127.0.0.1:$1" -servername turn.example.org -quiet "${@:2}" >/dev/null 2>&1 || true; }
  client "$P1" -alpn stun.turn
  client "$P2" -alpn stun.turn -tls1_3
  client "$P3" -alpn http/1.1
  sleep 0.5
  kill -INT "$TSHARK"
  wait "$TSHARK" || true
  analyze 1 "$TEST_DIR/tls.pcapng"
  comments_numbered
  expect_eq "$(q "sorted(s['target']['port'] for s in S)")" "$(python3 -c "print(sorted([$P1, $P2]))")" "TLS sessions"
  expect_eq "$(q "[s['target']['transport'] for s in S]")" "['tls', 'tls']" "transport"
  G="[s for s in S if s['target']['port']==$P1][0]"
  expect_eq "$(q "status($G,'tls'), step($G,'tls')['details']['sni'], step($G,'tls')['details']['alpn_offered']")" \
    "('pass', 'turn.example.org', 'stun.turn')" "TURN over TLS with ALPN stun.turn"
  q "step($G,'tls')['summary']" | grep -q "encrypted TURN" || fail "not called encrypted TURN"
  B="[s for s in S if s['target']['port']==$P2][0]"
  expect_eq "$(q "diag($B,'tls')")" tls-handshake-failed "refused handshake"
  q "step($B,'tls')['summary']" | grep -q "protocol_version" || fail "the alert is not named"
  ;;
*) fail "unknown scenario $SCENARIO" ;;
esac
echo "ok $SCENARIO"
