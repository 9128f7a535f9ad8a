#!/usr/bin/env bash
# The README's first command: install what is needed, build, start a local coturn and run the
# whole checklist against it (UDP and TLS), writing every report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
TP=$PWD/build/probe/turnprobe
OUT=$PWD/out/demo
mkdir -p "$OUT"
WORK=$(mktemp -d)
TURN_PID=
cleanup() {
  set +e
  [ -n "$TURN_PID" ] && kill "$TURN_PID" 2>/dev/null && wait "$TURN_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    ss -Hlun "sport = :$p" | grep -q . && continue
    ss -Hltn "sport = :$p" | grep -q . && continue
    echo "$p"; return 0
  done
  echo "demo: no free port" >&2; exit 1
}

# A CA and a server certificate for turns:, made fresh for this run.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/ca.key" -out "$OUT/demo-ca.pem" \
  -days 30 -subj "/CN=turnprobe demo CA" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$WORK/server.key" -out "$WORK/server.csr" \
  -subj "/CN=turn.example.org" 2>/dev/null
printf 'subjectAltName=DNS:turn.example.org,IP:127.0.0.1\n' >"$WORK/ext.cnf"
openssl x509 -req -in "$WORK/server.csr" -CA "$OUT/demo-ca.pem" -CAkey "$WORK/ca.key" \
  -CAcreateserial -CAserial "$WORK/ca.srl" -out "$WORK/server.pem" -days 90 -extfile "$WORK/ext.cnf" 2>/dev/null

PORT=$(free_port); TLS_PORT=$(free_port); MIN=$((50000 + RANDOM % 10000))
turnserver -c examples/turnserver.conf -p "$PORT" --tls-listening-port "$TLS_PORT" \
  --min-port "$MIN" --max-port $((MIN + 200)) --cert "$WORK/server.pem" --pkey "$WORK/server.key" \
  --userdb "$WORK/turndb.sqlite" --pidfile "$WORK/turnserver.pid" >"$OUT/coturn.log" 2>&1 &
TURN_PID=$!
for _ in $(seq 1 100); do
  ss -Hlun "sport = :$PORT" | grep -q . && break
  sleep 0.05
done
printf 'secret' >"$WORK/password"

echo "== turnprobe check turn:127.0.0.1:$PORT (coturn on loopback, UDP)"
"$TP" check "turn:127.0.0.1:$PORT" -u alice --password-file "$WORK/password" \
  --json "$OUT/udp.json" --md "$OUT/udp.md" --html "$OUT/udp.html" --pcap "$OUT/udp.pcapng" || true
echo
echo "== turnprobe check turns:127.0.0.1:$TLS_PORT (the same server over TLS)"
"$TP" check "turns:127.0.0.1:$TLS_PORT" -u alice --password-file "$WORK/password" \
  --ca "$OUT/demo-ca.pem" --json "$OUT/tls.json" --md "$OUT/tls.md" --html "$OUT/tls.html" \
  --pcap "$OUT/tls.pcapng" --keylog "$OUT/tls.keylog" || true
echo
echo "Reports are in $OUT:"
ls -1 "$OUT" | sed 's/^/  /'
echo "Open udp.html or tls.html in a browser; tls.pcapng decrypts in Wireshark as it is."
