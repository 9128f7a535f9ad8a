#!/usr/bin/env bash
# turns: over TLS and DTLS against a real coturn, with certificates the test makes with openssl:
# trusted, self-signed, expired, not yet valid, for another name, expiring soon, issued by an
# intermediate the server does or does not send; by name and over IPv6; wrong ports; the
# capture decrypted by tshark with its embedded secrets; the certificate in the HTML.
# usage: test_tls.sh SCENARIO TURNPROBE
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tls_lib.sh"
SCENARIO=$1
TP=$2
J="$TEST_DIR/report.json"
OUT="$TEST_DIR/out.txt"
SAN_OK="DNS:turn.example.org,IP:127.0.0.1"

# run EXPECTED_EXIT args...: turnprobe check with the JSON report, timed; EXPECTED_EXIT "any"
# leaves the status in RC for later. The password must not appear in anything it wrote: the
# terminal, the JSON, and every file in EXTRA_OUTPUTS.
EXTRA_OUTPUTS=()
run() {
  local want=$1; shift
  local t0 rc=0 f
  rm -f "$J" "${EXTRA_OUTPUTS[@]}"
  t0=$(date +%s%N)
  "$TP" check "$@" --json "$J" --color never >"$OUT" 2>&1 || rc=$?
  ELAPSED_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
  RC=$rc
  if [ "$want" != any ] && [ "$rc" != "$want" ]; then
    cat "$OUT" >&2
    fail "exit status $rc, expected $want"
  fi
  for f in "$OUT" "$J" "${EXTRA_OUTPUTS[@]}"; do
    [ -e "$f" ] || fail "$f was not written"
    ! grep -aqF "$TLS_PASSWORD" "$f" || fail "the password appears in $f"
  done
}

# A certificate problem stops the checklist before any credential goes through the tunnel.
expect_stopped_by_tls() { # DIAGNOSIS
  local s
  {
    # In RFC 5245 mode libnice's "TURN over TLS" is plain TCP (and DTLS plain UDP): its agents
    # would log in unencrypted, so they must not run against this server either.
    echo "det('ice').get('libnice', {}).get('ran', False) == False  # libnice's agents ran" \
      "against a server whose tls step failed, and libnice logs in without TLS: username," \
      "realm and MESSAGE-INTEGRITY in clear to a server nobody verified"
    for s in binding allocate permission send-data channel ice refresh policy; do
      echo "step('$s')['status'] == 'skip'"
      echo "'needs tls (tls failed: $1)' in step('$s')['summary']"
    done
    echo "len(kinds('stun', 'channeldata')) == 0  # STUN went through a tunnel that failed"
  } | jcheck
}

# Every step after tls as in the plain happy path (test_check.sh); NO_ICE=1 when the run had
# --skip ice.
expect_checklist_passes() {
  local s
  {
    for s in binding permission send-data channel ice refresh; do
      [ $s = ice ] && [ "${NO_ICE:-0}" = 1 ] && continue
      echo "step('$s')['status'] == 'pass'"
    done
    echo "step('allocate')['diagnosis'] == 'relay-address-private'"
    echo "step('policy')['diagnosis'] == 'peer-policy-permissive'"
    echo "$RELAY_MIN <= int(det('allocate')['relayed'].rsplit(':', 1)[1]) <= $RELAY_MAX"
    for s in send-data channel; do
      echo "det('$s')['returned'] == 3"
      echo "det('$s')['reached_peer'] == 3"
    done
    [ "${NO_ICE:-0}" = 1 ] || echo "det('ice')['answered'] == 2"
    echo "det('refresh')['released'] == 2"
  } | jcheck
}

# cert_date NAME notBefore|notAfter: the certificate's date as turnprobe writes it.
cert_date() {
  local d opt=-enddate
  [ "$2" = notBefore ] && opt=-startdate
  d=$(openssl x509 -in "$TEST_DIR/$1.pem" -noout $opt | cut -d= -f2)
  date -u -d "$d" '+%Y-%m-%d %H:%M:%S UTC'
}

# The negotiated parameters and the leaf certificate of a verified handshake.
expect_tls_details() { # PROTO (TLS or DTLS)
  jcheck <<EOF
step('tls')['status'] == 'pass'
det('tls')['version'] in ('${1}v1.2', '${1}v1.3')
len(det('tls')['cipher']) > 0
det('tls')['alpn'] == 'stun.turn'
det('tls')['sni'] == '(none: address literal)'
det('tls')['chain'][0]['subject'] == 'CN = turn.example.org'
det('tls')['chain'][0]['issuer'] == 'CN = turnprobe test CA'
det('tls')['chain'][0]['san'] == ['DNS:turn.example.org', 'IP:127.0.0.1']
det('tls')['chain'][0]['not_before'] == '$(cert_date server notBefore)'
det('tls')['chain'][0]['not_after'] == '$(cert_date server notAfter)'
det('tls')['chain'][0]['days_left'] == 89
det('tls')['chain'][0]['key'] == 'id-ecPublicKey 256 bits'
det('tls')['chain'][0]['signature'] == 'ecdsa-with-SHA256'
det('tls')['verify_errors'] == []
'certificate valid for 89 more days' in step('tls')['summary']
EOF
}

# client_hello_sni PCAP PROTO PORT: the server_name of each ClientHello to PORT in the capture,
# one line each, "-" for a ClientHello without one. No ClientHello at all fails the test: a
# check of none would pass whatever we sent.
client_hello_sni() {
  local pcap=$1 proto=$2 port=$3 l4=tcp
  [ "$proto" = dtls ] && l4=udp
  # The frame number keeps a line for a ClientHello without the extension.
  tshark -r "$pcap" -d "$l4.port==$port,$proto" \
    -Y "$proto.handshake.type == 1 && $l4.dstport == $port" -T fields -e frame.number \
    -e "$proto.handshake.extensions_server_name" >"$TEST_DIR/hellos.txt" \
    2>"$TEST_DIR/tshark.err" || { cat "$TEST_DIR/tshark.err" >&2; fail "tshark failed"; }
  [ -s "$TEST_DIR/hellos.txt" ] || fail "no ClientHello to port $port in $pcap"
  cut -f2 "$TEST_DIR/hellos.txt" | sed 's/^$/-/'
}

# session_reports: the report split into one file per session (a name that resolves to several
# addresses gives one session each), with the helpers' layout (steps at the top, the session's
# packets); prints their names.
session_reports() {
  "$PY" - "$J" "$TEST_DIR/session" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for i, s in enumerate(d.get("sessions", [d])):
    out = dict(s, packets=[p for p in d["packets"] if p.get("session", 0) == i])
    name = "%s-%d.json" % (sys.argv[2], i)
    json.dump(out, open(name, "w"))
    print(name)
EOF
}

# ---- capture: tshark decrypts the tunnel with the secrets in the pcapng alone ----

# tshark_stun PCAP PROTO PORT: frame, STUN types, error numbers, channels and comment of every
# STUN frame inside the TLS or DTLS tunnel. The Lua script maps the tunnel's payload to STUN:
# by ALPN "stun.turn" (Wireshark 4.0 otherwise shows the records as data: the port mapping
# alone does not do it) and by port.
tshark_stun() {
  local pcap=$1 proto=$2 port=$3
  local lua="$TEST_DIR/stun-in-$proto.lua" sub=stun-tcp l4=tcp
  [ "$proto" = dtls ] && { sub=stun-udp; l4=udp; }
  cat >"$lua" <<EOF
local stun = Dissector.get("$sub")
DissectorTable.get("$proto.port"):add($port, stun)
DissectorTable.get("$proto.alpn"):add("stun.turn", stun)
EOF
  tshark -r "$pcap" -X lua_script:"$lua" -d "$l4.port==$port,$proto" \
    -Y 'stun.type || stun.channel' -T fields -E occurrence=a -E aggregator=, \
    -e frame.number -e stun.type -e stun.att.error -e stun.channel -e frame.comment \
    2>"$TEST_DIR/tshark.err" || { cat "$TEST_DIR/tshark.err" >&2; fail "tshark failed"; }
}

# capture PROTO URI_SUFFIX VERSION MODE [turnprobe options...]: the checklist over PROTO (tls
# or dtls) with --pcap and --keylog, against the coturn started before; VERSION is the protocol
# version the server should pick; MODE the --capture mode (live: the default for root on
# loopback; self: rebuilt from turnprobe's packet log).
capture() {
  local proto=$1 suffix=$2 want_version=$3 mode=$4 pcap="$TEST_DIR/c.pcapng"
  local keylog="$TEST_DIR/keys.txt" mode_args=()
  shift 4
  [ "$mode" = self ] && mode_args=(--capture self)
  EXTRA_OUTPUTS=("$pcap" "$keylog")
  run 0 "turns:127.0.0.1:$TLS_PORT$suffix" -u alice --password-file "$PW" \
    --ca "$CA_DIR/ca.pem" --pcap "$pcap" --keylog "$keylog" "${mode_args[@]}" "$@"
  jcheck <<EOF
step('tls')['status'] == 'pass'
det('tls')['version'] == '$want_version'
EOF
  expect_checklist_passes
  local described=(--allow-retransmissions)
  if [ "$mode" = self ]; then
    described=()
    capinfos "$pcap" | grep -q "rebuilt from turnprobe's own packet log" ||
      fail "the capture does not say it was rebuilt"
  else
    capinfos "$pcap" | grep -q "captured live on lo by libpcap" ||
      fail "the capture does not say it was captured live on lo"
  fi

  # The key log: the owner's only, one set of secrets per connection (client and peer), each
  # for a ClientHello of the capture.
  expect_eq "$(stat -c %a "$keylog")" 600 "key log mode"
  local version randoms hellos label
  version=$(jq_py "det('tls')['version']")
  if [ "${version#*v}" = 1.3 ]; then
    for label in CLIENT_HANDSHAKE_TRAFFIC_SECRET SERVER_HANDSHAKE_TRAFFIC_SECRET \
      CLIENT_TRAFFIC_SECRET_0 SERVER_TRAFFIC_SECRET_0; do
      expect_eq "$(grep -cE "^$label [0-9a-f]{64} [0-9a-f]{64,96}\$" "$keylog")" 2 "$label lines"
    done
    randoms=$(awk '$1 == "CLIENT_TRAFFIC_SECRET_0" { print $2 }' "$keylog" | sort)
  else
    expect_eq "$(grep -cE '^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$' "$keylog")" 2 \
      "CLIENT_RANDOM lines ($version)"
    expect_eq "$(grep -cv '^CLIENT_RANDOM ' "$keylog")" 0 "other key log lines ($version)"
    randoms=$(awk '{ print $2 }' "$keylog" | sort)
  fi
  # A DTLS client sends its ClientHello twice (before and after the cookie): same random.
  hellos=$(tshark -r "$pcap" -Y 'tls.handshake.type == 1 || dtls.handshake.type == 1' \
    -T fields -e tls.handshake.random -e dtls.handshake.random 2>/dev/null |
    tr -d ':\t' | sort -u)
  expect_eq "$hellos" "$randoms" "the key log's client randoms against the capture's ClientHellos"

  # One Decryption Secrets Block, and the capture passes the shared checker.
  capinfos "$pcap" | grep -q '^Number of decryption secrets in file: 1$' ||
    fail "capinfos does not count 1 decryption secret: $(capinfos "$pcap" | grep -i secret)"
  # A live capture holds what the kernel did: on a loaded machine a tail-loss probe resends the
  # server's last segment now and then.
  sh "$(dirname "$0")/pcapng_check.sh" "${described[@]}" "$pcap" ||
    fail "pcapng_check.sh rejects the capture"

  # With the embedded secrets alone (no -o tls.keylog_file), the messages inside the tunnel.
  tshark_stun "$pcap" "$proto" "$TLS_PORT" >"$TEST_DIR/stun.txt"
  jq_py "'\n'.join('%d\t%s' % (p['n'], p['summary']) for p in kinds('stun', 'channeldata'))" \
    >"$TEST_DIR/want.txt"
  "$PY" - "$TEST_DIR/want.txt" "$TEST_DIR/stun.txt" <<'EOF' || fail "$proto capture: see above"
import collections, sys
# The report's packets: one message each, or "A + B" for a record that held several.
want = {}
for line in open(sys.argv[1]).read().splitlines():
    n, summary = line.split("\t", 1)
    want[int(n)] = summary
def bad(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)
def count(parts):
    chan = sum(1 for p in parts if p.startswith("ChannelData"))
    return len(parts) - chan, chan
types, got, matched, reassembled = collections.Counter(), [0, 0], set(), []
for line in open(sys.argv[2]).read().splitlines():
    n, typ, err, chan, comment = line.split("\t")
    n = int(n)
    stun = [t for t in typ.split(",") if t]
    chans = [c for c in chan.split(",") if c]
    types.update(stun)
    got[0] += len(stun)
    got[1] += len(chans)
    if "0x0113" in typ and err.split(",")[0] != "1":
        bad("frame %d: an Allocate error that is not 401 (%s)" % (n, err))
    if "#%d " % n not in comment:
        bad("frame %d: comment %r does not name it" % (n, comment))
    if n in want and count(want[n].split(" + ")) == (len(stun), len(chans)):
        if want[n] not in comment:
            bad("frame %d: comment %r lacks %r" % (n, comment, want[n]))
        matched.add(n)
    else:
        reassembled.append(n)
# The checklist's requests and responses, as many as it sent and received.
expect = {"0x0001": 1, "0x0101": 1, "0x0003": 4, "0x0113": 2, "0x0103": 2, "0x0009": 2,
          "0x0109": 2, "0x0004": 3, "0x0104": 3}
for t, k in expect.items():
    if types[t] != k:
        bad("%d messages of type %s inside the tunnel, expected %d" % (types[t], t, k))
report = [sum(x) for x in zip(*[count(s.split(" + ")) for s in want.values()])]
if got != report:
    bad("%d STUN and %d ChannelData messages inside the tunnel, the report has %d and %d"
        % (got[0], got[1], report[0], report[1]))
# A TLS record cut into several TCP segments is dissected in the frame where it ends, with
# every message it holds: each report packet not dissected in its own frame is one of those
# (the counts above match, so only where they end remains to check).
for n in sorted(set(want) - matched):
    if not any(n <= m for m in reassembled):
        bad("the report's packet %d (%s) is not in the capture" % (n, want[n]))
EOF
  local challenge='allocate #[0-9]* <- Allocate error response 401 Unauthorized: the expected'
  grep -q $'\t'"$challenge challenge" "$TEST_DIR/stun.txt" ||
    fail "no commented Allocate 401 inside the tunnel"

  # The secrets are what decrypts it: without the block, nothing inside is readable. (Not
  # editcap --discard-all-secrets: Wireshark 4.0's editcap cannot rewrite a file whose
  # Decryption Secrets Block comes before its Interface Description Block.)
  "$PY" - "$pcap" "$TEST_DIR/nosecrets.pcapng" <<'EOF' || fail "cannot strip the secrets"
import struct, sys
data, out, off, dsb = open(sys.argv[1], "rb").read(), [], 0, 0
while off + 12 <= len(data):
    btype, blen = struct.unpack_from("<II", data, off)
    if blen < 12 or off + blen > len(data):
        sys.exit("bad block at %d" % off)
    if btype == 0x0000000A:
        dsb += 1
    else:
        out.append(data[off:off + blen])
    off += blen
if dsb != 1 or off != len(data):
    sys.exit("%d Decryption Secrets Blocks, %d of %d bytes read" % (dsb, off, len(data)))
open(sys.argv[2], "wb").write(b"".join(out))
EOF
  [ "$(tshark_stun "$TEST_DIR/nosecrets.pcapng" "$proto" "$TLS_PORT" | wc -l)" = 0 ] ||
    fail "STUN dissected without the secrets: the test does not test the block"
}

case "$SCENARIO" in
ca-tls | ca-dtls)
  make_cert server "$SAN_OK" now "+90 days -1 hour"
  start_coturn_tls server --allow-loopback-peers
  suffix="" proto=TLS
  [ "$SCENARIO" = ca-dtls ] && { suffix="?transport=udp" proto=DTLS; }
  run 0 "turns:127.0.0.1:$TLS_PORT$suffix" -u alice --password-file "$PW" --ca "$CA_DIR/ca.pem"
  expect_tls_details $proto
  expect_checklist_passes
  jcheck <<EOF
d['verdict'] == 'warn'
d['target']['transport'] == '${proto,,}'
# Every message went through the tunnel.
sorted(set(p['transport'] for p in d['packets'])) == ['${proto,,}']
len(kinds('tls')) >= 4
EOF
  ;;

self-signed)
  make_self_signed selfsigned "$SAN_OK" 30
  start_coturn_tls selfsigned --allow-loopback-peers
  for suffix in "" "?transport=udp"; do
    run 1 "turns:127.0.0.1:$TLS_PORT$suffix" -u alice --password-file "$PW" --timeout 10
    jcheck <<'EOF'
step('tls')['status'] == 'fail'
step('tls')['diagnosis'] == 'tls-untrusted'
'the certificate is self-signed and not trusted' in step('tls')['summary']
'--ca' in step('tls')['summary']
any('self' in e and 'signed certificate' in e for e in det('tls')['verify_errors'])
det('tls')['chain'][0]['issuer'] == 'CN = turn.example.org'
d['verdict'] == 'fail'
EOF
    expect_stopped_by_tls tls-untrusted
  done ;;

insecure)
  make_self_signed selfsigned "$SAN_OK" 30
  start_coturn_tls selfsigned --allow-loopback-peers
  run 1 "turns:127.0.0.1:$TLS_PORT" -u alice --password-file "$PW" --insecure
  jcheck <<'EOF'
step('tls')['status'] == 'fail'
step('tls')['diagnosis'] == 'tls-untrusted'
'self-signed' in step('tls')['summary']
'(--insecure: going on anyway)' in step('tls')['summary']
d['verdict'] == 'fail'
'tls-untrusted' in [f['diagnosis'] for f in d['findings']]
EOF
  expect_checklist_passes ;;

expired | not-yet-valid)
  if [ "$SCENARIO" = expired ]; then
    make_cert server "$SAN_OK" "-400 days" "-10 days"
    diag=tls-cert-expired
    summary="the certificate expired on $(cert_date server notAfter) (10 days ago)"
    error="certificate has expired"
  else
    make_cert server "$SAN_OK" "+10 days" "+400 days"
    diag=tls-cert-not-yet-valid
    summary="the certificate is not valid before $(cert_date server notBefore)"
    error="certificate is not yet valid"
  fi
  start_coturn_tls server --allow-loopback-peers
  for suffix in "" "?transport=udp"; do
    run 1 "turns:127.0.0.1:$TLS_PORT$suffix" -u alice --password-file "$PW" \
      --ca "$CA_DIR/ca.pem" --timeout 10
    jcheck <<EOF
step('tls')['status'] == 'fail'
step('tls')['diagnosis'] == '$diag'
'$summary' in step('tls')['summary']
det('tls')['verify_errors'] == ['$error']
det('tls')['chain'][0]['not_before'] == '$(cert_date server notBefore)'
det('tls')['chain'][0]['not_after'] == '$(cert_date server notAfter)'
EOF
    [ "$SCENARIO" = expired ] && jcheck <<<"det('tls')['chain'][0]['days_left'] == -10"
    expect_stopped_by_tls $diag
  done ;;

mismatch-ip)
  # The certificate names another host only: the address we dialled is not in it.
  make_cert other "DNS:other.example.org" now "+90 days"
  start_coturn_tls other --allow-loopback-peers
  run 1 "turns:127.0.0.1:$TLS_PORT" -u alice --password-file "$PW" --ca "$CA_DIR/ca.pem"
  jcheck <<'EOF'
step('tls')['diagnosis'] == 'tls-hostname-mismatch'
'does not cover "127.0.0.1"; it covers DNS:other.example.org' in step('tls')['summary']
det('tls')['verify_errors'] == ['IP address mismatch']
det('tls')['chain'][0]['san'] == ['DNS:other.example.org']
EOF
  expect_stopped_by_tls tls-hostname-mismatch ;;

mismatch-name)
  # A host name that resolves to 127.0.0.1 but is not in the certificate: SNI carries it.
  make_cert server "$SAN_OK" now "+90 days"
  start_coturn_tls server --allow-loopback-peers
  run 1 "turns:localhost:$TLS_PORT" -4 -u alice --password-file "$PW" --ca "$CA_DIR/ca.pem"
  jcheck <<'EOF'
step('tls')['diagnosis'] == 'tls-hostname-mismatch'
'does not cover "localhost"; it covers DNS:turn.example.org, IP:127.0.0.1' in step('tls')['summary']
det('tls')['sni'] == 'localhost'
det('tls')['verify_errors'] == ['hostname mismatch']
EOF
  expect_stopped_by_tls tls-hostname-mismatch ;;

expiring-soon)
  make_cert server "$SAN_OK" now "+10 days -1 hour"
  start_coturn_tls server --allow-loopback-peers
  run 0 "turns:127.0.0.1:$TLS_PORT" -u alice --password-file "$PW" --ca "$CA_DIR/ca.pem"
  jcheck <<'EOF'
step('tls')['status'] == 'warn'
step('tls')['diagnosis'] == 'tls-cert-expiring-soon'
'the certificate expires in 9 days' in step('tls')['summary']
det('tls')['chain'][0]['days_left'] == 9
det('tls')['verify_errors'] == []
d['verdict'] == 'warn'
('tls-cert-expiring-soon', 'warn') in [(f['diagnosis'], f['severity']) for f in d['findings']]
EOF
  expect_checklist_passes ;;

tls-on-plain-port)
  # turns: at a coturn without TLS: it takes our ClientHello for the start of a STUN message
  # and waits for the rest, saying nothing. DTLS at its plain UDP port: no answer either. The
  # summary names the plain URI, and that URI works.
  start_coturn_tls - --allow-loopback-peers
  for suffix in "" "?transport=udp"; do
    run 1 "turns:127.0.0.1:$TURN_PORT$suffix" -u alice --password-file "$PW" --timeout 5
    [ "$ELAPSED_MS" -lt 8000 ] || fail "took ${ELAPSED_MS} ms with --timeout 5"
    if [ -z "$suffix" ]; then
      diag=tls-handshake-failed proto=TLS plain="turn:127.0.0.1:$TURN_PORT?transport=tcp"
      jcheck <<<"'that the port speaks TLS' in step('tls')['hint']"
    else
      diag=no-response proto=DTLS plain="turn:127.0.0.1:$TURN_PORT"
      jcheck <<<"len([p for p in d['packets'] if p['summary'] == 'DTLS ClientHello']) >= 2"
    fi
    summary="no answer to our ClientHello before the deadline: something drops it, or the"
    summary+=" port speaks plain TURN, not $proto (then the URI is $plain)"
    jcheck <<EOF
step('tls')['status'] == 'fail'
step('tls')['diagnosis'] == '$diag'
step('tls')['summary'] == '$summary'
EOF
    expect_stopped_by_tls $diag
    run 0 "$plain" -u alice --password-file "$PW"
    expect_checklist_passes
  done ;;

plain-on-tls-port)
  # A coturn with TLS and DTLS listeners only (--no-tcp --no-udp). Plain TCP at the TLS port:
  # coturn closes the connection. Plain UDP at the DTLS port: coturn answers it all the same.
  make_cert server "$SAN_OK" now "+90 days -1 hour"
  start_coturn_tls server --allow-loopback-peers --no-tcp --no-udp
  run 1 "turn:127.0.0.1:$TLS_PORT?transport=tcp" -u alice --password-file "$PW" --timeout 5
  [ "$ELAPSED_MS" -lt 8000 ] || fail "took ${ELAPSED_MS} ms with --timeout 5"
  jcheck <<'EOF'
step('tls')['status'] == 'skip'
step('binding')['status'] == 'fail'
step('binding')['diagnosis'] == 'no-response'
'the server closed the connection before answering Binding' in step('binding')['summary']
# A FIN, or a RST when our next request was already in its buffer.
len([p for p in kinds('tcp-fin', 'tcp-rst') if p['dir'] == 'in' and p['endpoint'] == 'client']) >= 1
EOF
  run 0 "turn:127.0.0.1:$TLS_PORT" -u alice --password-file "$PW" --timeout 10
  jcheck <<<"step('tls')['status'] == 'skip'"
  expect_checklist_passes ;;

tls-only-server)
  # The same TLS-only coturn is a sound turns: server: the whole checklist passes over TLS and
  # over DTLS.
  make_cert server "$SAN_OK" now "+90 days -1 hour"
  start_coturn_tls server --allow-loopback-peers --no-tcp --no-udp
  for suffix in "" "?transport=udp"; do
    run any "turns:127.0.0.1:$TLS_PORT$suffix" -u alice --password-file "$PW" \
      --ca "$CA_DIR/ca.pem" --timeout 15
    jcheck <<EOF
step('tls')['status'] == 'pass'
step('ice')['status'] == 'pass'  # libnice's "TURN over TLS" is plain TCP: unanswered here
EOF
    expect_checklist_passes
    expect_eq "$RC" 0 "exit status"
  done ;;

per-connection-detection)
  # A coturn with a certificate tells TLS from plain TURN per connection (and DTLS from plain
  # UDP per datagram) on both its ports: there, no port is the wrong one.
  make_cert server "$SAN_OK" now "+90 days -1 hour"
  start_coturn_tls server --allow-loopback-peers
  for uri in "turns:127.0.0.1:$TURN_PORT" "turns:127.0.0.1:$TURN_PORT?transport=udp" \
    "turn:127.0.0.1:$TLS_PORT?transport=tcp" "turn:127.0.0.1:$TLS_PORT"; do
    run 0 "$uri" -u alice --password-file "$PW" --ca "$CA_DIR/ca.pem" --timeout 10
    tls=skip
    case "$uri" in turns:*) tls=pass ;; esac
    jcheck <<EOF
step('tls')['status'] == '$tls'
step('binding')['status'] == 'pass'
det('channel')['returned'] == 3
EOF
  done ;;

capture-tls | capture-dtls | capture-tls-self | capture-dtls-self)
  # This coturn (both listeners on each port) negotiates TLS 1.2 and DTLS 1.2.
  make_cert server "$SAN_OK" now "+90 days -1 hour"
  start_coturn_tls server --allow-loopback-peers
  mode=live
  case "$SCENARIO" in *-self) mode=self ;; esac
  case "$SCENARIO" in
  capture-tls*) capture tls "" TLSv1.2 $mode ;;
  *) capture dtls "?transport=udp" DTLSv1.2 $mode ;;
  esac ;;

capture-tls13)
  # A coturn with TLS listeners only negotiates TLS 1.3: other secrets in the key log, and
  # encrypted tickets after the handshake. (--skip ice: libnice cannot talk TLS, see
  # tls-only-server.)
  make_cert server "$SAN_OK" now "+90 days -1 hour"
  start_coturn_tls server --allow-loopback-peers --no-tcp --no-udp
  NO_ICE=1 capture tls "" TLSv1.3 live --skip ice ;;

html)
  make_cert server "$SAN_OK" now "+90 days -1 hour"
  start_coturn_tls server --allow-loopback-peers
  H="$TEST_DIR/report.html"
  EXTRA_OUTPUTS=("$H")
  run 0 "turns:127.0.0.1:$TLS_PORT" -u alice --password-file "$PW" --ca "$CA_DIR/ca.pem" \
    --html "$H"
  for want in "CN = turn.example.org" "CN = turnprobe test CA" "DNS:turn.example.org" \
    "IP:127.0.0.1" "stun.turn" "$(cert_date server notAfter)" "$(jq_py "det('tls')['cipher']")"; do
    grep -qF "$want" "$H" || fail "the HTML report lacks \"$want\""
  done ;;

incomplete-chain)
  # Root CA -> intermediate CA -> server, and the client trusts the root alone (--ca), as a
  # browser trusts a public root. A server configured with its leaf alone leaves the client
  # nothing to link the leaf to the root with: the classic incomplete chain. The same leaf
  # with its intermediate after it in the certificate file verifies.
  make_intermediate
  make_cert leaf "$SAN_OK" now "+90 days -1 hour" "$INTER_DIR"
  cat "$TEST_DIR/leaf.pem" "$INTER_DIR/ca.pem" >"$TEST_DIR/full.pem"
  cp "$TEST_DIR/leaf.key" "$TEST_DIR/full.key"
  start_coturn_tls leaf --allow-loopback-peers
  for suffix in "" "?transport=udp"; do
    run 1 "turns:127.0.0.1:$TLS_PORT$suffix" -u alice --password-file "$PW" \
      --ca "$CA_DIR/ca.pem" --timeout 10
    jcheck <<'EOF'
step('tls')['status'] == 'fail'
step('tls')['diagnosis'] == 'tls-untrusted'
'the issuer is unknown' in step('tls')['summary']
'incomplete chain (the server must send its intermediate certificates)' in step('tls')['summary']
'full chain' in step('tls')['hint']
det('tls')['verify_errors'][0] == 'unable to get local issuer certificate'
det('tls')['verify_errors'][1:] == ['unable to verify the first certificate']
# What the server sent: the leaf alone, issued by a CA the client was not given.
len(det('tls')['chain']) == 1
det('tls')['chain'][0]['subject'] == 'CN = turn.example.org'
det('tls')['chain'][0]['issuer'] == 'CN = turnprobe test intermediate CA'
d['verdict'] == 'fail'
EOF
    expect_stopped_by_tls tls-untrusted
  done
  start_coturn_tls full --allow-loopback-peers
  for suffix in "" "?transport=udp"; do
    run 0 "turns:127.0.0.1:$TLS_PORT$suffix" -u alice --password-file "$PW" \
      --ca "$CA_DIR/ca.pem" --timeout 15
    jcheck <<'EOF'
step('tls')['status'] == 'pass'
step('tls')['diagnosis'] == 'ok'
'certificate valid for 89 more days' in step('tls')['summary']
det('tls')['verify_errors'] == []
len(det('tls')['chain']) == 2
det('tls')['chain'][0]['subject'] == 'CN = turn.example.org'
det('tls')['chain'][0]['issuer'] == 'CN = turnprobe test intermediate CA'
det('tls')['chain'][0]['days_left'] == 89
det('tls')['chain'][1]['subject'] == 'CN = turnprobe test intermediate CA'
det('tls')['chain'][1]['issuer'] == 'CN = turnprobe test CA'
det('tls')['chain'][1]['san'] == []
EOF
    expect_checklist_passes
  done ;;

tls-ipv6 | dtls-ipv6)
  # A coturn on ::1 alone, its certificate naming the address: the whole checklist over TLS
  # (DTLS) to [::1]. No SNI on the wire (RFC 6066: no address literals in server_name), and
  # the address is what the certificate is verified against: a certificate naming 127.0.0.1
  # alone does not cover ::1.
  suffix="" proto=tls
  [ "$SCENARIO" = dtls-ipv6 ] && { suffix="?transport=udp" proto=dtls; }
  COTURN_LISTEN="::1"
  make_cert v4only "DNS:turn.example.org,IP:127.0.0.1" now "+90 days -1 hour"
  start_coturn_tls v4only --allow-loopback-peers
  run 1 "turns:[::1]:$TLS_PORT$suffix" -u alice --password-file "$PW" --ca "$CA_DIR/ca.pem" \
    --timeout 10
  jcheck <<'EOF'
step('tls')['diagnosis'] == 'tls-hostname-mismatch'
'does not cover "::1"; it covers DNS:turn.example.org, IP:127.0.0.1' in step('tls')['summary']
det('tls')['verify_errors'] == ['IP address mismatch']
EOF
  expect_stopped_by_tls tls-hostname-mismatch

  make_cert server "DNS:turn.example.org,IP:::1" now "+90 days -1 hour"
  start_coturn_tls server --allow-loopback-peers
  pcap="$TEST_DIR/c.pcapng"
  EXTRA_OUTPUTS=("$pcap")
  run 0 "turns:[::1]:$TLS_PORT$suffix" -u alice --password-file "$PW" --ca "$CA_DIR/ca.pem" \
    --timeout 15 --pcap "$pcap"
  jcheck <<EOF
step('tls')['status'] == 'pass'
step('tls')['diagnosis'] == 'ok'
det('tls')['version'] in ('${proto^^}v1.2', '${proto^^}v1.3')
det('tls')['alpn'] == 'stun.turn'
det('tls')['sni'] == '(none: address literal)'
det('tls')['chain'][0]['san'] == ['DNS:turn.example.org', 'IP:::1']
det('tls')['verify_errors'] == []
d['target']['transport'] == '$proto'
d['target']['address'] == '[::1]:$TLS_PORT'
det('binding')['mapped'].startswith('[::1]:')
sorted(set(p['transport'] for p in d['packets'])) == ['$proto']
EOF
  expect_checklist_passes
  client_hello_sni "$pcap" $proto "$TLS_PORT" | sort -u >"$TEST_DIR/sni.txt"
  expect_eq "$(cat "$TEST_DIR/sni.txt")" - "server_name in the ClientHellos to [::1]"
  ;;

hostname-ok)
  # A certificate for the name dialled: verified against the name, and the name in SNI. The
  # server listens on both loopback addresses: localhost may resolve to both (GLib's resolver
  # here gives ::1 and 127.0.0.1), one session each, and each must pass.
  make_cert server "DNS:localhost" now "+90 days -1 hour"
  COTURN_LISTEN="127.0.0.1 ::1" start_coturn_tls server --allow-loopback-peers
  pcap="$TEST_DIR/c.pcapng"
  EXTRA_OUTPUTS=("$pcap")
  run 0 "turns:localhost:$TLS_PORT" -u alice --password-file "$PW" --ca "$CA_DIR/ca.pem" \
    --timeout 20 --pcap "$pcap"
  jcheck <<<"d['verdict'] == 'warn'"
  mapfile -t sessions < <(session_reports)
  [ ${#sessions[@]} -ge 1 ] || fail "no session in the report"
  addresses=()
  for J in "${sessions[@]}"; do
    jcheck <<EOF
step('tls')['status'] == 'pass'
step('tls')['diagnosis'] == 'ok'
det('tls')['sni'] == 'localhost'
det('tls')['chain'][0]['san'] == ['DNS:localhost']
det('tls')['verify_errors'] == []
'certificate valid for 89 more days' in step('tls')['summary']
d['target']['host'] == 'localhost'
d['target']['address'] in ('127.0.0.1:$TLS_PORT', '[::1]:$TLS_PORT')
EOF
    expect_checklist_passes
    addresses+=("$(jq_py "d['target']['address']")")
  done
  [ "$(printf '%s\n' "${addresses[@]}" | sort -u | wc -l)" = ${#addresses[@]} ] ||
    fail "one address checked twice: ${addresses[*]}"
  client_hello_sni "$pcap" tls "$TLS_PORT" | sort -u >"$TEST_DIR/sni.txt"
  expect_eq "$(cat "$TEST_DIR/sni.txt")" localhost "server_name in the ClientHellos"
  ;;

*) fail "unknown scenario $SCENARIO" ;;
esac
echo "ok: $SCENARIO"
