#!/bin/sh
# Checks a pcapng turnprobe wrote, through tshark: readable, no bad checksum or TCP anomaly,
# every STUN frame commented with its own frame number, and (given the JSON report) the STUN
# frames exactly where the report's packets of kind "stun" say, each comment naming its summary.
#
# usage: pcapng_check.sh [--allow-retransmissions] [--allow-malformed] FILE [EXPECTED_JSON]
#   --allow-retransmissions  a capture of a timeout legitimately repeats SYNs: do not count
#                            tcp.analysis.retransmission as an anomaly
#   --allow-malformed        a capture of a server that answers garbage may not dissect
# Exit 0 when every check passes; else 1 with one line "pcapng_check: FILE: reason" on stderr
# (2 for bad usage or a missing tool).
set -u

allow_retrans=0
allow_malformed=0
while [ $# -gt 0 ]; do
    case "$1" in
    --allow-retransmissions) allow_retrans=1; shift ;;
    --allow-malformed) allow_malformed=1; shift ;;
    --) shift; break ;;
    -*) echo "pcapng_check: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: pcapng_check.sh [--allow-retransmissions] [--allow-malformed] FILE" \
        "[EXPECTED_JSON]" >&2
    exit 2
fi
F=$1
J=${2:-}

die() {
    echo "pcapng_check: $F: $*" >&2
    exit 1
}

for tool in tshark capinfos; do
    command -v "$tool" >/dev/null 2>&1 || { echo "pcapng_check: $tool not found" >&2; exit 2; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pcapng_check.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT INT TERM

# tshark prints "Running as user root" to stderr; keep its stderr for the reason line only.
ts() {
    tshark -r "$F" "$@" 2>"$TMP/tshark.err"
}
ts_fail() {
    die "tshark failed: $(grep -v '^Running as user' "$TMP/tshark.err" | head -n 1)"
}

[ -r "$F" ] || die "cannot read the file"
capinfos "$F" >"$TMP/capinfos" 2>&1 || die "capinfos cannot read it: $(head -n 1 "$TMP/capinfos")"

# Decode-as for every port that carries cleartext STUN (the magic cookie at offset 4), so that a
# server on a port other than 3478 is dissected too; the heuristic alone can miss short frames.
ts -Y 'udp.payload[4:4] == 21:12:a4:42' -T fields -e udp.srcport -e udp.dstport \
    >"$TMP/udp.ports" || ts_fail
ts -Y 'tcp.payload[4:4] == 21:12:a4:42' -T fields -e tcp.srcport -e tcp.dstport \
    >"$TMP/tcp.ports" || ts_fail
set --
for proto in udp tcp; do
    for port in $(tr -s '\t,' '\n' <"$TMP/$proto.ports" | grep -E '^[0-9]+$' | sort -un); do
        set -- "$@" -d "$proto.port==$port,stun"
    done
done

# Bad (0) or illegal (4) checksums anywhere, TCP analysis flags, malformed frames.
# (2 is "unverified", e.g. the truncated UDP header an ICMP error quotes: not a fault.)
# A live capture on loopback holds what the kernel sent: the checksums it leaves to the
# network card are never filled in, so only rebuilt (self) captures are held to them.
bad='_ws.malformed && !_ws.malformed'
if ! capinfos -k "$F" 2>/dev/null | grep -q 'captured live'; then
    bad='ip.checksum.status==0 || ip.checksum.status==4'
    for p in udp tcp icmp icmpv6; do
        bad="$bad || $p.checksum.status==0 || $p.checksum.status==4"
    done
fi
if [ "$allow_retrans" = 1 ]; then
    bad="$bad || (tcp.analysis.flags && !tcp.analysis.retransmission)"
else
    bad="$bad || tcp.analysis.flags"
fi
[ "$allow_malformed" = 1 ] || bad="$bad || _ws.malformed"
ts "$@" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE \
    -Y "$bad" -T fields -e frame.number -e _ws.col.Info >"$TMP/bad" || ts_fail
if [ -s "$TMP/bad" ]; then
    n=$(wc -l <"$TMP/bad")
    die "$n bad frame(s), first: frame $(head -n 1 "$TMP/bad" | tr '\t' ' ')"
fi

# Every STUN frame has a comment.
ts "$@" -Y 'stun && !frame.comment' -T fields -e frame.number >"$TMP/nocomment" || ts_fail
[ -s "$TMP/nocomment" ] && die "STUN frame $(head -n 1 "$TMP/nocomment") has no comment"

# A comment that names a frame ("#12 ->", "#12 <-") names its own.
ts -Y 'frame.comment' -T fields -e frame.number -e frame.comment >"$TMP/comments" || ts_fail
awk -F'\t' '{
    if (match($2, /#[0-9]+ (->|<-) /)) {
        n = substr($2, RSTART + 1, RLENGTH - 5) + 0
        if (n != $1 + 0) { print "frame " $1 " has the comment of #" n; exit 1 }
    }
}' "$TMP/comments" >"$TMP/misnumbered" || die "$(cat "$TMP/misnumbered")"

[ -n "$J" ] || exit 0

# The report's STUN packets: "n<TAB>summary" for each packet of kind "stun".
[ -r "$J" ] || die "cannot read $J"
if command -v jq >/dev/null 2>&1; then
    # -r, not -e: a report with no STUN packet (nothing was sent) yields no output, which
    # -e would turn into exit 4.
    jq -r '.packets | if type == "array" then . else error("no packets array") end
            | .[] | select(.kind == "stun") | "\(.n)\t\(.summary // "")"' "$J" \
        >"$TMP/want" 2>"$TMP/jq.err" || die "$J: $(head -n 1 "$TMP/jq.err")"
elif command -v python3 >/dev/null 2>&1; then
    python3 - "$J" >"$TMP/want" 2>"$TMP/jq.err" <<'EOF' || die "$J: $(tail -n 1 "$TMP/jq.err")"
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
pk = doc.get("packets")
if not isinstance(pk, list):
    sys.exit("no packets array")
for p in pk:
    if isinstance(p, dict) and p.get("kind") == "stun":
        print("%d\t%s" % (p["n"], p.get("summary") or ""))
EOF
else
    echo "pcapng_check: neither jq nor python3 to read $J" >&2
    exit 2
fi
sort -n -o "$TMP/want" "$TMP/want"

# The capture's STUN messages: outermost STUN, not ChannelData, not inside TLS/DTLS (the report
# calls those "channeldata" and "tls"), not quoted by an ICMP error (the report's "icmp").
ts "$@" -Y 'stun.type && !stun.channel && !tls && !dtls && !icmp && !icmpv6' -T fields \
    -e frame.number \
    -e frame.comment >"$TMP/got" || ts_fail
sort -n -o "$TMP/got" "$TMP/got"

want_n=$(wc -l <"$TMP/want")
got_n=$(wc -l <"$TMP/got")
[ "$want_n" -eq "$got_n" ] ||
    die "$J has $want_n STUN packets, the capture $got_n STUN frames"
cut -f1 "$TMP/want" >"$TMP/want.n"
cut -f1 "$TMP/got" >"$TMP/got.n"
if ! cmp -s "$TMP/want.n" "$TMP/got.n"; then
    want_list=$(tr '\n' ' ' <"$TMP/want.n")
    got_list=$(tr '\n' ' ' <"$TMP/got.n")
    die "STUN frames differ from $J: report ${want_list}vs capture $got_list"
fi

# Each STUN frame's comment carries the report's summary of that packet.
paste "$TMP/want" "$TMP/got" | awk -F'\t' '{
    if ($2 != "" && index($4, $2) == 0) {
        print "frame " $1 ": comment \"" $4 "\" lacks \"" $2 "\""
        exit 1
    }
}' >"$TMP/summary" || die "$(cat "$TMP/summary")"
exit 0
