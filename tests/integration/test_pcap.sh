#!/usr/bin/env bash
# The pcapng of `turnprobe check --pcap`, live (libpcap) and self (rebuilt), against a real
# coturn on loopback, read back through tshark: test_pcap.sh SCENARIO TURNPROBE
source "$(dirname "$0")/lib.sh"
SCENARIO=$1
TP=$2
CHECKER="$(dirname "$0")/pcapng_check.sh"
J="$TEST_DIR/report.json"
F="$TEST_DIR/check.pcapng"
OUT="$TEST_DIR/out.txt"
ERR="$TEST_DIR/err.txt"

# pcapng_check.sh knows a live file by its comment ("captured live") and does not hold it to
# TCP/UDP checksums: on loopback the kernel leaves them to a network card that does not exist.
# A live file shows TCP as it went, and a loaded loopback drops now and then (other tests flood
# it): a real retransmission is no fault of the file (tshark does not dissect its payload again,
# and the report lists it as a retransmitted segment, not as a second message).
pcapng_check() { # pcapng_check MODE [options] FILE JSON
  local mode=$1; shift
  [ "$mode" = live ] && set -- --allow-retransmissions "$@"
  sh "$CHECKER" "$@" || fail "pcapng_check.sh rejects the $mode file"
}

run() { # run EXPECTED_EXIT MODE args...
  local want=$1 mode=$2 rc=0; shift 2
  "$TP" check "$@" --capture "$mode" --pcap "$F" --json "$J" --color never >"$OUT" 2>"$ERR" || rc=$?
  [ "$rc" = "$want" ] || { cat "$OUT" "$ERR" >&2; fail "exit status $rc, expected $want"; }
}

shb_comment() { capinfos -k "$F" 2>/dev/null | sed -n 's/^Capture comment: *//p'; }

# One tshark pass over every frame (tshark takes a second to start): number, STUN types,
# ChannelData, ICMP type, SYN/ACK flags, comment.
dump_frames() { # dump_frames [tshark options]
  tshark -r "$F" "$@" -T fields -E occurrence=a -e frame.number -e stun.type -e stun.channel \
    -e icmp.type -e tcp.flags.syn -e tcp.flags.ack -e frame.comment >"$TEST_DIR/frames.tsv" \
    2>/dev/null || fail "tshark cannot read $F"
}

# Every STUN message of the report is a STUN frame of the file, of the type its summary names,
# in the same order, commented with its step; live, every frame is a packet of the report with
# its number (a SYN is a SYN there); the password is nowhere in the file.
check_file() { # check_file MODE PASSWORD [pcapng_check options]
  local mode=$1 pw=$2 port l4 shb; shift 2
  pcapng_check "$mode" "$@" "$F" "$J"
  port=$(json_get "$J" "d['target']['port']")
  l4=$(json_get "$J" "'tcp' if d['target']['transport'] in ('tcp','tls') else 'udp'")
  dump_frames -d "$l4.port==$port,stun"
  python3 - "$J" "$TEST_DIR/frames.tsv" "$mode" "$pw" <<'EOF' || fail "the file and the report disagree"
import json, sys
methods = {"Binding": 1, "Allocate": 3, "Refresh": 4, "Send": 6, "Data": 7,
           "CreatePermission": 8, "ChannelBind": 9}
classes = [("success response", 0x100), ("error response", 0x110), ("indication", 0x010),
           ("request", 0x000)]
def stun_type(summary):
    word = summary.split()[0]
    for name, bits in classes:
        if name in summary:
            return "0x%04x" % (methods[word] | bits)
    sys.exit("no STUN class in %r" % summary)
d = json.load(open(sys.argv[1]))
mode, pw = sys.argv[3], sys.argv[4]
frames = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if l.strip()]
want = [(p["n"], ",".join(stun_type(s) for s in p["summary"].split(" + ")), p.get("step"))
        for p in d["packets"] if p["kind"] == "stun"]
got = [(int(f[0]), f[1], f[6]) for f in frames if f[1] and not f[2] and not f[3]]
if len(want) != len(got):
    sys.exit("report: %d STUN packets, file: %d STUN frames" % (len(want), len(got)))
for (n, types, step), (fn, ftypes, comment) in zip(want, got):
    if fn != n or ftypes != types:
        sys.exit("frame %d is %s, the report's packet #%d is %s" % (fn, ftypes, n, types))
    if not step or not comment.startswith("%s #%d " % (step, n)):
        sys.exit("frame %d: comment %r does not name step %r" % (fn, comment, step))
if any(pw in f[6] for f in frames):
    sys.exit("the password appears in a comment")
if mode == "live":
    if [p["n"] for p in d["packets"]] != list(range(1, len(frames) + 1)):
        sys.exit("the report's packets are not the file's %d frames" % len(frames))
    for f in frames:
        if f[4] == "1":
            kind = d["packets"][int(f[0]) - 1]["kind"]
            if kind != ("tcp-synack" if f[5] == "1" else "tcp-syn"):
                sys.exit("frame %s (a SYN) is %s in the report" % (f[0], kind))
print("%d frames, %d STUN frames agree with the report" % (len(frames), len(got)))
EOF
  ! grep -aqF -- "$pw" "$F" || fail "the password appears in the file"
  shb=$(shb_comment)
  case "$shb" in *"$pw"*) fail "the password appears in the file's comment" ;; esac
  # The text report says where the file is and how to look at it.
  grep -qF "Capture: $F" "$OUT" || fail "the text report does not name the capture file"
  grep -qF "tshark -r '$F' -d $l4.port==$port,stun -Y '(stun || turnchannel) && ip.addr == 127.0.0.1 && $l4.port == $port'" "$OUT" ||
    fail "the text report lacks the display filter and decode-as"
  if [ "$mode" = live ]; then
    case "$shb" in *"captured live on lo by libpcap"*) ;; *) fail "the file does not say it was captured live" ;; esac
    case "$shb" in *"-d $l4.port==$port,stun"*) ;; *) fail "the file's comment lacks the decode-as" ;; esac
    case "$shb" in *"rebuilt from its log"*) fail "the live capture missed packets: $shb" ;; esac
  else
    case "$shb" in *"captured live"*) fail "a rebuilt file claims to be live" ;; esac
  fi
}

happy() { # happy MODE [?transport=tcp]
  start_coturn --allow-loopback-peers
  run 0 "$1" "turn:127.0.0.1:$TURN_PORT${2:-}" -u alice --password-file "$PW"
  expect_eq "$(step_field "$J" channel status)" pass "channel step"
  check_file "$1" secret
}

tcp_handshake() { # the live file holds both TCP handshakes (check_file matched them)
  [ "$(awk -F'\t' '$5 == "1"' "$TEST_DIR/frames.tsv" | wc -l)" -ge 4 ] ||
    fail "fewer than two TCP handshakes in the file"
}

wrong_password() { # wrong_password MODE
  local pw="Wr0ng-pw-$RANDOM$RANDOM"
  start_coturn --allow-loopback-peers
  printf '%s' "$pw" >"$PW"
  run 1 "$1" "turn:127.0.0.1:$TURN_PORT" -u alice --password-file "$PW"
  expect_eq "$(step_field "$J" allocate diagnosis)" auth-rejected "allocate diagnosis"
  check_file "$1" "$pw"
  # The 401 answering the authenticated Allocate is in the file, commented with its verdict.
  awk -F'\t' '$2 == "0x0113" && $7 ~ /^allocate #[0-9]+ <- Allocate error response 401 .*\[auth-rejected\]/' \
    "$TEST_DIR/frames.tsv" | grep -q . || fail "no 401 frame says auth-rejected"
}

interrupted() { # interrupted MODE: SIGINT mid-check still leaves a valid file
  local mode=$1 port pid rc=0
  port=$(free_port udp)
  python3 -c "import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('127.0.0.1',$port)); time.sleep(60)" &
  PIDS+=($!)
  for _ in $(seq 1 100); do ss -Hlun "sport = :$port" | grep -q . && break; sleep 0.05; done
  "$TP" check "turn:127.0.0.1:$port" -u alice --password-file "$PW" --timeout 20 \
    --capture "$mode" --pcap "$F" --json "$J" --color never >"$OUT" 2>"$ERR" &
  pid=$!
  sleep 1
  kill -INT "$pid"
  wait "$pid" || rc=$?
  [ "$rc" -ne 0 ] || fail "an interrupted check exits 0"
  [ "$rc" -lt 128 ] || fail "killed by the signal ($rc) instead of finishing the reports"
  pcapng_check "$mode" "$F" "$J"
  # The Binding and its retransmission(s) of the first second, as the report lists them.
  dump_frames -d "udp.port==$port,stun"
  local n want
  n=$(awk -F'\t' '$2 == "0x0001"' "$TEST_DIR/frames.tsv" | wc -l)
  want=$(json_get "$J" "len([p for p in d['packets'] if p['summary'] == 'Binding request'])")
  [ "$n" -ge 2 ] && [ "$n" = "$want" ] ||
    fail "$n Binding requests in the file, $want in the report (at least 2 before Ctrl-C)"
  if [ "$mode" = live ]; then
    shb_comment | grep -qF "interrupted (Ctrl-C)" || fail "the file's comment does not say it was interrupted"
  fi
}

case "$SCENARIO" in
udp-self | udp-live) happy "${SCENARIO#udp-}" ;;
tcp-self | tcp-live)
  happy "${SCENARIO#tcp-}" "?transport=tcp"
  if [ "$SCENARIO" = tcp-live ]; then tcp_handshake; fi ;;
wrong-password-self | wrong-password-live) wrong_password "${SCENARIO#wrong-password-}" ;;
closed-udp-live)
  port=$(free_port udp)
  run 1 live "turn:127.0.0.1:$port" -u alice --password-file "$PW" --timeout 5
  expect_eq "$(step_field "$J" binding diagnosis)" port-unreachable "binding diagnosis"
  pcapng_check live "$F" "$J"
  dump_frames
  # Every real ICMP error: in the report as icmp, naming the request it quotes, and its
  # comment says what it means.
  python3 - "$J" "$TEST_DIR/frames.tsv" "$port" <<'EOF' || fail "the ICMP errors are not explained"
import json, sys
d = json.load(open(sys.argv[1]))
icmp = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if l.split("\t")[3:4] == ["3"]]
if not icmp:
    sys.exit("no ICMP destination unreachable in the file")
for f in icmp:
    n, comment = int(f[0]), f[6]
    p = d["packets"][n - 1]
    if p["kind"] != "icmp" or d["packets"][p["ref"] - 1]["dir"] != "out":
        sys.exit("frame %d: report packet %r" % (n, p))
    want = "ICMP port unreachable: nothing listens on UDP port %s of the server [port-unreachable]"
    if want % sys.argv[3] not in comment:
        sys.exit("frame %d: the comment %r does not say what it means" % (n, comment))
print("%d ICMP port unreachable, each explained" % len(icmp))
EOF
  ;;
interrupted-self | interrupted-live) interrupted "${SCENARIO#interrupted-}" ;;
auto-without-permission)
  # Without CAP_NET_RAW, auto says so and rebuilds the frames; live refuses before sending.
  command -v capsh >/dev/null || { echo "skip: no capsh"; exit 0; }
  start_coturn --allow-loopback-peers
  rc=0
  capsh --drop=cap_net_raw -- -c '"$0" check "$1" -u alice --password-file "$2" --pcap "$3" --json "$4" --color never' \
    "$TP" "turn:127.0.0.1:$TURN_PORT" "$PW" "$F" "$J" >"$OUT" 2>"$ERR" || rc=$?
  expect_eq "$rc" 0 "exit status without CAP_NET_RAW"
  grep -q "no live capture (cannot capture on lo: .*CAP_NET_RAW" "$ERR" ||
    { cat "$ERR" >&2; fail "auto does not say why it did not capture live"; }
  check_file self secret
  rm -f "$F"
  rc=0
  capsh --drop=cap_net_raw -- -c '"$0" check "$1" -u alice --password-file "$2" --pcap "$3" --capture live --color never' \
    "$TP" "turn:127.0.0.1:$TURN_PORT" "$PW" "$F" >"$OUT" 2>"$ERR" || rc=$?
  expect_eq "$rc" 3 "exit status of --capture live without CAP_NET_RAW"
  grep -q "turnprobe check: --capture live: cannot capture on lo: .*CAP_NET_RAW" "$ERR" ||
    { cat "$ERR" >&2; fail "--capture live does not say why it failed"; }
  [ ! -e "$F" ] || fail "a failed live capture left a file" ;;
*) fail "unknown scenario $SCENARIO" ;;
esac
echo "ok: $SCENARIO"
