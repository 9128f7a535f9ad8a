#!/usr/bin/env bash
# `turnprobe creds` end to end: output, exit codes, no secret leaks, and a real coturn's verdict.
# Usage: test_creds.sh PATH/TO/turnprobe
set -u -o pipefail

TP=${1:?usage: test_creds.sh PATH/TO/turnprobe}
DIR=$(mktemp -d /tmp/tp-creds.XXXXXX)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    rm -rf "$DIR"
}
trap cleanup EXIT

FAILS=0
fail() {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}
ok() { echo "ok: $*"; }

# A secret unlike anything else in the output, so that a leak cannot hide.
SECRET="tp-secret-$RANDOM$RANDOM-Zq9"
printf '%s\n' "$SECRET" >"$DIR/secret"
ALL="$DIR/all-output" # every byte turnprobe writes, checked for the secret at the end
: >"$ALL"

# run EXPECTED_RC NAME ARGS...: runs turnprobe, keeps stdout in $DIR/NAME.out, stderr in .err.
run() {
    local want=$1 name=$2
    shift 2
    "$TP" "$@" >"$DIR/$name.out" 2>"$DIR/$name.err"
    local rc=$?
    cat "$DIR/$name.out" "$DIR/$name.err" >>"$ALL"
    if [ "$rc" -ne "$want" ]; then
        fail "$name: exit $rc, expected $want; stderr: $(cat "$DIR/$name.err")"
        return 1
    fi
    return 0
}

field() { sed -n "s/^$1: //p" "$2"; }

# ---- minting ----
if run 0 mint creds --secret-file "$DIR/secret" --user alice; then
    USERNAME=$(field username "$DIR/mint.out")
    PASSWORD=$(field password "$DIR/mint.out")
    now=$(date +%s)
    exp=${USERNAME%%:*}
    [ "$(wc -l <"$DIR/mint.out")" -eq 2 ] || fail "mint: expected two lines"
    [ "${USERNAME#*:}" = alice ] || fail "mint: username \"$USERNAME\" is not EXPIRY:alice"
    # Default TTL 86400 s, allowing for a slow second.
    d=$((exp - now))
    { [ "$d" -ge 86398 ] && [ "$d" -le 86400 ]; } || fail "mint: expiry is now+$d, not now+86400"
    want=$(printf %s "$USERNAME" | openssl dgst -sha1 -hmac "$SECRET" -binary | base64)
    [ "$PASSWORD" = "$want" ] && ok "mint: password is base64(HMAC-SHA1(secret, username))" ||
        fail "mint: password $PASSWORD, openssl says $want"
fi

# The environment variable is the other way to give the secret.
if TURNPROBE_SECRET="$SECRET" run 0 mint-env creds --user bob --ttl 600; then
    u=$(field username "$DIR/mint-env.out")
    want=$(printf %s "$u" | openssl dgst -sha1 -hmac "$SECRET" -binary | base64)
    [ "$(field password "$DIR/mint-env.out")" = "$want" ] && ok "mint: TURNPROBE_SECRET" ||
        fail "mint with TURNPROBE_SECRET: wrong password"
fi

if run 0 mint-sep creds --secret-file "$DIR/secret" --user carol --separator '#'; then
    [[ "$(field username "$DIR/mint-sep.out")" =~ ^[0-9]{10}#carol$ ]] && ok "mint: --separator" ||
        fail "mint --separator: $(cat "$DIR/mint-sep.out")"
fi

# ---- JSON: a ready iceServers entry ----
if run 0 mint-json creds --secret-file "$DIR/secret" --user alice --ttl 3600 --json \
    --uri 'TURN:127.0.0.1:3478' --uri 'turns:turn.example.org?transport=tcp'; then
    if python3 - "$DIR/mint-json.out" "$SECRET" <<'EOF'; then
import base64, hashlib, hmac, json, re, sys, time
e = json.load(open(sys.argv[1]))
assert set(e) == {"urls", "username", "credential"}, e
assert e["urls"] == ["turn:127.0.0.1:3478", "turns:turn.example.org?transport=tcp"], e["urls"]
m = re.fullmatch(r"(\d+):alice", e["username"])
assert m and abs(int(m.group(1)) - time.time() - 3600) <= 2, e["username"]
mac = hmac.new(sys.argv[2].encode(), e["username"].encode(), hashlib.sha1).digest()
assert e["credential"] == base64.b64encode(mac).decode(), "credential is not the HMAC"
EOF
        ok "mint --json: iceServers entry parses and holds the right credential"
    else
        fail "mint --json: $(cat "$DIR/mint-json.out")"
    fi
fi

# ---- usage errors: exit 2, one clear line ----
TURNPROBE_SECRET= run 2 no-secret creds --user alice
grep -q "no shared secret" "$DIR/no-secret.err" || fail "no secret: $(cat "$DIR/no-secret.err")"
run 2 no-user creds --secret-file "$DIR/secret"
run 2 bad-uri creds --secret-file "$DIR/secret" --user a --uri 'turn:alice:pw@h.example'
grep -q 'carry no user name or password' "$DIR/bad-uri.err" || fail "bad uri: $(cat "$DIR/bad-uri.err")"
grep -q 'pw@' "$DIR/bad-uri.err" && fail "bad uri: the userinfo was echoed"
run 2 bad-sep creds --secret-file "$DIR/secret" --user a --separator 7
run 2 check-and-user creds --check 1700000000:a --user a
run 2 missing-file creds --secret-file "$DIR/nonexistent" --user a
ok "usage errors exit 2"

# ---- --check ----
if run 0 check-valid creds --check "$USERNAME"; then
    grep -q '^status:  valid, expires in 23 h 59 min\|^status:  valid, expires in 1 d' \
        "$DIR/check-valid.out" && grep -q '^user:    alice$' "$DIR/check-valid.out" &&
        ok "check: valid" || fail "check valid: $(cat "$DIR/check-valid.out")"
fi
if run 1 check-expired creds --check "$(($(date +%s) - 3 * 3600 - 15 * 60)):alice"; then
    grep -q '^status:  expired 3 h 1[45] min ago (' "$DIR/check-expired.out" &&
        ok "check: expired, exit 1" || fail "check expired: $(cat "$DIR/check-expired.out")"
fi
# "user:EXPIRY" with another separator.
run 1 check-reversed creds --check "alice#1700000000" --separator '#' &&
    grep -q '^user:    alice$' "$DIR/check-reversed.out" && ok "check: user#EXPIRY" ||
    fail "check user#EXPIRY: $(cat "$DIR/check-reversed.out")"
run 2 check-plain creds --check alice && grep -q 'not a time-limited username' \
    "$DIR/check-plain.out" && ok "check: not time-limited, exit 2" ||
    fail "check plain: $(cat "$DIR/check-plain.out")"
if run 1 check-json creds --check 1700000000:bob --json; then
    python3 - "$DIR/check-json.out" <<'EOF' && ok "check --json" || fail "check --json: $(cat "$DIR/check-json.out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "expired" and r["user"] == "bob" and r["expiry"] == 1700000000, r
assert r["expiry_utc"] == "2023-11-14T22:13:20Z" and r["seconds_left"] < 0, r
assert r["message"].startswith("expired about "), r
EOF
fi
run 0 check-far creds --check "99999999999:eve" &&
    grep -q '^warning: .*coturn compares timestamps in 32 bits' "$DIR/check-far.out" &&
    ok "check: far-future expiry is flagged" || fail "check far: $(cat "$DIR/check-far.out")"
run 0 check-10y creds --check "$(($(date +%s) + 20 * 31556952)):eve" &&
    grep -q '^warning: the expiry is more than 10 years away' "$DIR/check-10y.out" ||
    fail "check 20 years: $(cat "$DIR/check-10y.out")"

# ---- a real coturn judges the credentials ----
port_free() { ! ss -Hlnu "sport = :$1" | grep -q . && ! ss -Hlnt "sport = :$1" | grep -q .; }
PORT=
for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    if port_free "$p"; then
        PORT=$p
        break
    fi
done
[ -n "$PORT" ] || { fail "no free port"; exit 1; }
MINP=$((20000 + (PORT - 20000 + 1000) % 39000))
MAXP=$((MINP + 200))

turnserver -n --log-file=stdout --simple-log --no-cli -L 127.0.0.1 -E 127.0.0.1 -p "$PORT" \
    --min-port "$MINP" --max-port "$MAXP" --use-auth-secret --static-auth-secret="$SECRET" \
    -r example.org -f --allow-loopback-peers --no-tls --no-dtls --userdb "$DIR/db.sqlite" \
    --pidfile "$DIR/pid" >"$DIR/coturn.log" 2>&1 &
SERVER_PID=$!
up=
for _ in $(seq 100); do
    if ss -Hlnu "sport = :$PORT" | grep -q .; then
        up=1
        break
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
done
if [ -z "$up" ]; then
    fail "coturn did not listen on $PORT within 5 s: $(tail -5 "$DIR/coturn.log")"
    exit 1
fi

# allocate USER PASSWORD: one authenticated Allocate, printing "success" or "error CODE".
# coturn's uclient says only "Cannot complete Allocation"; this shows the server's answer.
allocate() {
    python3 - "$PORT" "$1" "$2" <<'EOF'
import hashlib, hmac, os, socket, struct, sys
port, user, pw = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3].encode()
def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)
def msg(attrs, key=None):
    tid, body = os.urandom(12), b"".join(attrs)
    if key:  # RFC 8489 §14.5: the length covers MESSAGE-INTEGRITY when computing it
        hdr = struct.pack("!HHI", 0x0003, len(body) + 24, 0x2112A442) + tid
        body += attr(0x0008, hmac.new(key, hdr + body, hashlib.sha1).digest())
    return struct.pack("!HHI", 0x0003, len(body), 0x2112A442) + tid + body
def recv(s):
    d = s.recv(4096)
    mtype, mlen = struct.unpack("!HH", d[:4])
    attrs, off = {}, 20
    while off + 4 <= 20 + mlen:
        t, n = struct.unpack("!HH", d[off:off + 4])
        attrs.setdefault(t, d[off + 4:off + 4 + n])
        off += 4 + n + (-n % 4)
    err = attrs.get(0x0009)
    return mtype, attrs, err and (err[2] & 7) * 100 + err[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect(("127.0.0.1", port))
udp = attr(0x0019, b"\x11\0\0\0")
s.send(msg([udp]))
mtype, a, code = recv(s)
if code != 401:
    sys.exit("unauthenticated Allocate: expected 401, got type 0x%04x code %s" % (mtype, code))
realm, nonce = a[0x0014], a[0x0015]
key = hashlib.md5(user + b":" + realm + b":" + pw).digest()
s.send(msg([udp, attr(0x0006, user), attr(0x0014, realm), attr(0x0015, nonce)], key))
mtype, a, code = recv(s)
print("success" if mtype == 0x0103 else "error %s" % code)
EOF
}

# Valid credentials: coturn's own client relays data with them, and the Allocate succeeds.
if timeout 10 turnutils_uclient -u "$USERNAME" -w "$PASSWORD" -y -n 1 -p "$PORT" 127.0.0.1 \
    >"$DIR/uclient.out" 2>&1 && grep -q 'tot_recv_msgs=[1-9]' "$DIR/uclient.out" &&
    ! grep -q ERROR "$DIR/uclient.out"; then
    ok "coturn accepts minted credentials (turnutils_uclient relayed data)"
else
    fail "turnutils_uclient with minted credentials: $(tail -5 "$DIR/uclient.out")"
fi
r=$(allocate "$USERNAME" "$PASSWORD")
[ "$r" = success ] && ok "coturn: Allocate with minted credentials succeeds" ||
    fail "Allocate with minted credentials: $r"

# A wrong password for the same username is refused: the HMAC is what coturn checks.
r=$(allocate "$USERNAME" "AAAA${PASSWORD#????}")
[ "$r" = "error 401" ] && ok "coturn: wrong password refused with 401" || fail "wrong password: $r"

# Expired: the password is right (HMAC of that username) but the time has passed.
if run 0 mint-expired creds --secret-file "$DIR/secret" --user alice --ttl -3600; then
    EU=$(field username "$DIR/mint-expired.out")
    EP=$(field password "$DIR/mint-expired.out")
    run 1 check-minted-expired creds --check "$EU" ||
        fail "check of an expired minted username did not exit 1"
    r=$(allocate "$EU" "$EP")
    [ "$r" = "error 401" ] && ok "coturn: expired username refused with 401" ||
        fail "Allocate with expired credentials: $r"
    if timeout 10 turnutils_uclient -u "$EU" -w "$EP" -y -n 1 -p "$PORT" 127.0.0.1 \
        >"$DIR/uclient-expired.out" 2>&1; then
        fail "turnutils_uclient succeeded with expired credentials"
    else
        grep -q 'Cannot complete Allocation' "$DIR/uclient-expired.out" &&
            ok "coturn: turnutils_uclient refused with expired credentials" ||
            fail "uclient expired: $(tail -3 "$DIR/uclient-expired.out")"
    fi
fi

# The reason for --check's warning: 2^31 s ahead wraps coturn's 32-bit clock into the past.
if run 0 mint-wrap creds --secret-file "$DIR/secret" --user alice --ttl $((1 << 31)); then
    r=$(allocate "$(field username "$DIR/mint-wrap.out")" "$(field password "$DIR/mint-wrap.out")")
    [ "$r" = "error 401" ] && ok "coturn: an expiry 2^31 s ahead is refused, as --check warns" ||
        fail "Allocate with expiry 2^31 s ahead: $r"
fi

# ---- the secret never appears in anything turnprobe printed ----
if grep -qF "$SECRET" "$ALL"; then
    fail "the shared secret appears in turnprobe's output"
else
    ok "the secret appears in none of $(wc -l <"$ALL") lines of output"
fi

if [ "$FAILS" -ne 0 ]; then
    echo "$FAILS failure(s)" >&2
    exit 1
fi
echo "all passed"
