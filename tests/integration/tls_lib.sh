# Helpers for the TLS/DTLS integration tests: a test CA, server certificates with chosen names
# and dates (openssl ca, so dates in the past or the future need no faked clock), and a coturn
# that speaks TLS and DTLS. Source it after lib.sh.

# A directory with its own prefix: a clean-up of leftover /tmp/turnprobe-test.* directories by
# a concurrent run must not take this one's certificates and reports away mid-test.
rm -rf "$TEST_DIR"
TEST_DIR=$(mktemp -d /tmp/turnprobe-tls.XXXXXX)
PW="$TEST_DIR/pw"
CA_DIR="$TEST_DIR/ca"

# Keys are P-256: an RSA key takes openssl half a second or more on a loaded machine.
EC_KEY=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)

# openssl's own messages go to a log, shown only when a command fails.
ossl() {
  openssl "$@" >>"$TEST_DIR/openssl.log" 2>&1 || {
    cat "$TEST_DIR/openssl.log" >&2
    fail "openssl $1 failed"
  }
}

# ca_setup DIR: what `openssl ca` needs to sign with the CA whose ca.pem and ca.key are in DIR
# (its ca.cnf, index and serial). The CSR's extensions are copied: CA:TRUE for an intermediate,
# the subjectAltName for a server.
ca_setup() {
  local dir=$1
  mkdir -p "$dir/newcerts"
  : >"$dir/index.txt"
  echo 1000 >"$dir/serial"
  cat >"$dir/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = $dir
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = copy
[ any_name ]
commonName = supplied
EOF
}

# make_ca: a test CA (CA:TRUE) in $CA_DIR/ca.pem, with what `openssl ca` needs beside it.
make_ca() {
  ca_setup "$CA_DIR"
  ossl req -x509 "${EC_KEY[@]}" -keyout "$CA_DIR/ca.key" -out "$CA_DIR/ca.pem" \
    -days 3650 -subj "/CN=turnprobe test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}

# make_intermediate: an intermediate CA signed by the test CA, in $INTER_DIR/ca.pem, with what
# `openssl ca` needs beside it: give make_cert $INTER_DIR to sign with it. Real servers' chains
# look like this (root -> intermediate -> server), and the intermediate is what a server
# configured with its leaf alone leaves out.
INTER_DIR="$TEST_DIR/intermediate"
make_intermediate() {
  [ -f "$CA_DIR/ca.pem" ] || make_ca
  ca_setup "$INTER_DIR"
  ossl req "${EC_KEY[@]}" -keyout "$INTER_DIR/ca.key" -out "$INTER_DIR/ca.csr" \
    -subj "/CN=turnprobe test intermediate CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
  ossl ca -batch -notext -config "$CA_DIR/ca.cnf" -cert "$CA_DIR/ca.pem" \
    -keyfile "$CA_DIR/ca.key" -in "$INTER_DIR/ca.csr" -out "$INTER_DIR/ca.pem" \
    -startdate "$(ca_date now)" -enddate "$(ca_date "+5 years")"
}

# An openssl ca date from a date(1) expression relative to now ("now", "-10 days").
ca_date() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

# make_cert NAME SAN START END [CA_DIR]: a server certificate for CN=turn.example.org signed by
# the test CA (or by the CA in CA_DIR: $INTER_DIR), with subjectAltName SAN, valid from START to
# END (date(1) expressions: "now", "-400 days", "+90 days -1 hour"); writes $TEST_DIR/NAME.pem
# and NAME.key. An end an hour short of whole days keeps the days left the same however long
# the test takes to get there.
make_cert() {
  local name=$1 san=$2 start=$3 end=$4 ca=${5:-$CA_DIR}
  [ -f "$CA_DIR/ca.pem" ] || make_ca
  ossl req "${EC_KEY[@]}" -keyout "$TEST_DIR/$name.key" -out "$TEST_DIR/$name.csr" \
    -subj "/CN=turn.example.org" -addext "subjectAltName=$san"
  ossl ca -batch -notext -config "$ca/ca.cnf" -cert "$ca/ca.pem" \
    -keyfile "$ca/ca.key" -in "$TEST_DIR/$name.csr" -out "$TEST_DIR/$name.pem" \
    -startdate "$(ca_date "$start")" -enddate "$(ca_date "$end")"
}

# make_self_signed NAME SAN DAYS: a self-signed server certificate, $TEST_DIR/NAME.pem and .key.
make_self_signed() {
  ossl req -x509 "${EC_KEY[@]}" -keyout "$TEST_DIR/$1.key" -out "$TEST_DIR/$1.pem" \
    -days "$3" -subj "/CN=turn.example.org" -addext "subjectAltName=$2"
}

# The password of the TLS tests' user alice: distinctive, so that a search for it in every
# output cannot match ordinary words ("secret" is in hints and key log labels).
TLS_PASSWORD=tp-tls-9fK3q7Zr
printf '%s' "$TLS_PASSWORD" >"$PW"

# start_coturn_tls NAME [turnserver options...]: coturn on the addresses in COTURN_LISTEN
# (default 127.0.0.1; "::1", or "127.0.0.1 ::1"; relays on 127.0.0.1 whatever they are) with
# the certificate NAME.pem (which may hold intermediates after the server's own) and its key
# NAME.key: plain TURN on TURN_PORT (UDP and TCP), TLS and DTLS on TLS_PORT; user alice with
# TLS_PASSWORD in realm example.org. NAME "-" starts it without a certificate and with
# --no-tls --no-dtls: plain TURN only. Waits for the ports (bounded).
start_coturn_tls() {
  for _ in 1 2 3 4 5; do
    try_coturn_tls "$@" && return 0
  done
  fail "coturn did not get ports of its own in 5 attempts"
}

# listeners_of PID "t PORT"|"u PORT"...: 0 when PID alone listens on each, 1 when one is not
# listened on yet, 2 when another process listens there too (coturn binds with SO_REUSEPORT:
# another test's server that chose the same port would share it).
listeners_of() {
  local pid=$1 w owners; shift
  for w in "$@"; do
    owners=$(ss -Hl"${w% *}"np "sport = :${w#* }" | grep -o 'pid=[0-9]*' | sort -u)
    [ -n "$owners" ] || return 1
    [ "$owners" = "pid=$pid" ] || return 2
  done
}

try_coturn_tls() {
  local name=$1; shift
  local tls_args=(--cert "$TEST_DIR/$name.pem" --pkey "$TEST_DIR/$name.key")
  [ "$name" = - ] && tls_args=(--no-tls --no-dtls)
  local a listen_args=()
  for a in ${COTURN_LISTEN:-127.0.0.1}; do listen_args+=(-L "$a"); done
  TURN_PORT=$(free_port)
  TLS_PORT=$(free_port)
  while [ "$TLS_PORT" = "$TURN_PORT" ]; do TLS_PORT=$(free_port); done
  RELAY_MIN=$((50000 + RANDOM % 10000)); RELAY_MAX=$((RELAY_MIN + 100))
  local dir="$TEST_DIR/coturn-$TLS_PORT"
  mkdir -p "$dir"
  COTURN_LOG="$dir/log"
  turnserver -n --log-file=stdout --simple-log --no-cli "${listen_args[@]}" -E 127.0.0.1 \
    -p "$TURN_PORT" --tls-listening-port "$TLS_PORT" --min-port "$RELAY_MIN" \
    --max-port "$RELAY_MAX" -a -u "alice:$TLS_PASSWORD" -r example.org -f "${tls_args[@]}" \
    --userdb "$dir/db.sqlite" --pidfile "$dir/pid" "$@" >"$COTURN_LOG" 2>&1 &
  local pid=$!
  PIDS+=($pid)
  # What will listen: --no-tcp/--no-udp take the plain port's listener away, "-" the TLS port.
  local want=()
  case " $* " in *" --no-tcp "*) ;; *) want+=("t $TURN_PORT") ;; esac
  case " $* " in *" --no-udp "*) ;; *) want+=("u $TURN_PORT") ;; esac
  [ "$name" = - ] || want+=("t $TLS_PORT" "u $TLS_PORT")
  local rc
  for _ in $(seq 1 100); do
    rc=0
    listeners_of $pid "${want[@]}" || rc=$?
    [ $rc = 0 ] && return 0
    if [ $rc = 2 ]; then
      kill $pid 2>/dev/null
      wait $pid 2>/dev/null
      return 1
    fi
    sleep 0.05
  done
  cat "$COTURN_LOG" >&2
  fail "coturn did not listen on $TURN_PORT and $TLS_PORT within 5 s"
}

# The system's Python, not a version manager's shim: these tests call it often, and a shim
# costs half a second a call on a loaded machine.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

# jq-like query of the report: jq_py 'EXPR' [FILE] prints EXPR over d (the parsed FILE, $J by
# default), with step(ID) the step ID and det(ID) its details.
JSON_HELPERS='
import json, sys
d = json.load(open(sys.argv[1]))
def step(i):
    return [s for s in d["steps"] if s["id"] == i][0]
def det(i):
    return step(i)["details"]
def kinds(*k):
    return [p for p in d["packets"] if p["kind"] in k]
'
jq_py() { "$PY" -c "$JSON_HELPERS"'
print(eval(sys.argv[2]))' "${2:-$J}" "$1"; }

# jcheck [FILE]: each line of standard input is a Python condition over the report (with the
# helpers of jq_py); the first false one fails the test, showing the value it was about. One
# interpreter for a whole batch of checks.
jcheck() {
  local why
  why=$("$PY" -c "$JSON_HELPERS"'
for line in sys.stdin.read().splitlines():
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    try:
        ok = eval(line)
    except Exception as e:
        print("%s: %s: %s" % (line, type(e).__name__, e)); sys.exit(1)
    if not ok:
        for op in (" == ", " in ", " >= ", " <= ", " < ", " > "):
            if op in line:
                left, right = line.split(op, 1)
                side = ("right", right) if op == " in " else ("left", left)
                print("%s  (%s side: %r)" % (line, side[0], eval(side[1]))); break
        else:
            print(line)
        sys.exit(1)
' "${1:-$J}") || fail "report check failed: $why"
}
