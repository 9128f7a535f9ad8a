#!/usr/bin/env bash
# turnprobe matrix and --proxy in restricted networks (issue 9), in network namespaces with
# a real coturn, real proxies (tinyproxy, Dante) and nftables in the client namespace:
#   test_matrix.sh SCENARIO TURNPROBE
# Scenarios:
#   udp-blocked     UDP dropped: UDP and DTLS cells no-response, TCP/TLS ok, recommendation TCP
#   tcp443-only     only TCP from port 443 gets back: exactly tcp:443 and tls:443 work
#   all-dropped     everything dropped: every cell fails within the deadline, no hang
#   http-proxy      only the proxy is reachable: matrix and check through tinyproxy; a port it
#                   does not allow is proxy-refused; a dead proxy is proxy-unreachable
#   http-proxy-auth tinyproxy with BasicAuth: the right password works, a wrong one or none is
#                   proxy-auth-required, and no password shows in any output
#   socks5-proxy    the same through Dante's SOCKS5 server
#   tls-intercept   a TLS-inspecting proxy: the certificates differ, proxy-tls-intercepted
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/netns_matrix_lib.sh"
SCENARIO=$1
TP=$2
SCHEMA="$(cd "$(dirname "$0")/../.." && pwd)/docs/report-schema.json"
J="$TEST_DIR/report.json"
OUT="$TEST_DIR/out.txt"
PROXY_PW=pr0xy-Pa55

# No output may hold the TURN password ("secret") or the proxy's.
no_secrets() {
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    ! grep -qw -e 'secret' -e "$PROXY_PW" "$f" || fail "a password appears in $f"
  done
}

# The JSON report against the schema (skipped without python3-jsonschema), and the merged
# report's numbering: every packet a step or transaction names exists and belongs to it.
check_json() {
  local rc=0
  bash "$(dirname "$0")/validate_json.sh" "$SCHEMA" "$J" >"$TEST_DIR/schema.txt" 2>&1 || rc=$?
  [ "$rc" = 2 ] && echo "note: schema not checked: $(cat "$TEST_DIR/schema.txt")" >&2
  [ "$rc" = 1 ] && { cat "$TEST_DIR/schema.txt" >&2; fail "the JSON does not match the schema"; }
  python3 - "$J" <<'EOF' || fail "the merged report's packet numbers do not hold together"
import json, sys
d = json.load(open(sys.argv[1]))
pk = d["packets"]
assert [p["n"] for p in pk] == list(range(1, len(pk) + 1)), "frame numbers not 1..n"
for i, s in enumerate(d["sessions"]):
    for st in s["steps"]:
        for n in st.get("packets", []):
            assert pk[n - 1]["session"] == i, (s["name"], st["id"], n)
    for t in s["transactions"]:
        for n in t["requests"]:
            assert pk[n - 1]["session"] == i, (s["name"], n)
m = d["matrix"]
assert len(d["sessions"]) == len(m["rows"]) * len(m["columns"])
for r in m["rows"]:
    for c in r["cells"]:
        s = d["sessions"][c["session"]]
        assert s["target"]["uri"] == c["uri"], (s["target"]["uri"], c["uri"])
EOF
}

# mx EXPECTED_EXIT [options]: turnprobe matrix turn.example.org in the client namespace, JSON in
# $J, text in $OUT, ELAPSED_MS set.
mx() {
  local want=$1 rc=0 t0
  shift
  t0=$(date +%s%N)
  in_client "$TP" matrix "$MX_HOST" "$@" --json "$J" --color never >"$OUT" 2>&1 || rc=$?
  ELAPSED_MS=$((($(date +%s%N) - t0) / 1000000))
  cat "$OUT"
  [ "$rc" = "$want" ] || fail "matrix exited $rc, expected $want"
  no_secrets "$OUT" "$J"
  check_json
}

# chk EXPECTED_EXIT URI [options]: turnprobe check in the client namespace, JSON in $J.
chk() {
  local want=$1 uri=$2 rc=0
  shift 2
  in_client "$TP" check "$uri" -u alice --password-file "$PW" --ca "$TEST_DIR/srv.pem" \
    --only binding,allocate --timeout 15 --capture self --json "$J" --color never "$@" \
    >"$OUT" 2>&1 || rc=$?
  [ "$rc" = "$want" ] || { cat "$OUT" >&2; fail "check $uri exited $rc, expected $want"; }
  no_secrets "$OUT" "$J"
}

cell() { json_get "$J" "[c for r in d['matrix']['rows'] for c in r['cells'] if c['column']=='$1'][0]['$2']"; }
urls() { json_get "$J" "' '.join(d['matrix']['ice_servers']['iceServers'][0]['urls'])"; }
rec() { json_get "$J" "d['matrix']['recommendation']"; }

expect_ok() {
  local c
  for c in "$@"; do
    expect_eq "$(cell "$c" verdict)" ok "cell $c"
  done
}
expect_verdict() { # expect_verdict VERDICT CELL...
  local v=$1 c
  shift
  for c in "$@"; do
    expect_eq "$(cell "$c" verdict)" "$v" "cell $c"
  done
}
expect_in() { case "$1" in *"$2"*) ;; *) fail "$3: \"$2\" not in \"$1\"" ;; esac; }

MATRIX_CREDS=(-u alice --password-file "$PW" --ca "$TEST_DIR/srv.pem")

mx_setup
mx_coturn

case "$SCENARIO" in
udp-blocked)
  mx_firewall "meta l4proto udp drop"
  mx 0 "${MATRIX_CREDS[@]}" --timeout 10 --html "$TEST_DIR/m.html" --md "$TEST_DIR/m.md"
  expect_verdict no-response udp:3478 udp:443 dtls:5349
  expect_ok tcp:3478 tls:5349 tcp:443 tls:443
  expect_eq "$(cell tcp:3478 step)" allocate "tcp:3478 judged up to the allocation"
  expect_eq "$(cell tcp:3478 diagnosis)" relay-address-private "tcp:3478's warning"
  expect_eq "$(urls)" "turn:$MX_HOST:3478?transport=tcp turn:$MX_HOST:443?transport=tcp turns:$MX_HOST:443?transport=tcp turns:$MX_HOST:5349?transport=tcp" "iceServers order"
  expect_eq "$(json_get "$J" "d['matrix']['ice_servers']['iceServers'][0]['username']")" alice "iceServers username"
  expect_eq "$(json_get "$J" "'credential' in d['matrix']['ice_servers']['iceServers'][0]")" False "no credential in iceServers"
  expect_in "$(rec)" "UDP is blocked from here (udp:3478 no-response, dtls:5349 no-response, udp:443 no-response)" "recommendation"
  expect_in "$(rec)" "turn:$MX_HOST:3478?transport=tcp works" "recommendation"
  expect_eq "$(json_get "$J" "d['matrix']['usable']")" True "usable"
  expect_eq "$(json_get "$J" "d['matrix']['best']")" "turn:$MX_HOST:3478?transport=tcp" "best"
  grep -q "^Recommendation: UDP is blocked from here" "$OUT" || fail "no recommendation in the text"
  grep -q '"urls": \["turn:turn.example.org:3478?transport=tcp"' "$OUT" || fail "no iceServers in the text"
  # Every allocation was released: the cleanup runs in each cell.
  expect_eq "$(json_get "$J" "sum(s['details'].get('released', 0) for x in d['sessions'] for s in x['steps'] if s['id']=='refresh')")" 4 "allocations released"
  # The other writers carry the matrix too.
  grep -q 'id="matrix"' "$TEST_DIR/m.html" || fail "no matrix in the HTML report"
  python3 -c "import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])" "$TEST_DIR/m.html" ||
    fail "the HTML report is not well-formed"
  grep -q '^## Reachability matrix' "$TEST_DIR/m.md" || fail "no matrix in the Markdown report"
  grep -q '| 10.200.41.2 | ❌ `no-response` |' "$TEST_DIR/m.md" || fail "Markdown matrix row"
  no_secrets "$TEST_DIR/m.html" "$TEST_DIR/m.md"
  ;;
tcp443-only)
  mx_firewall "ip saddr $MX_SERVER_IP tcp sport 443 accept
    drop"
  mx 0 "${MATRIX_CREDS[@]}" --timeout 10 --port 8443
  expect_ok tcp:443 tls:443
  for c in udp:3478 tcp:3478 tls:5349 dtls:5349 udp:443 udp:8443 tcp:8443 tls:8443; do
    [ "$(cell "$c" status)" = fail ] || fail "cell $c should fail, it is $(cell "$c" status)"
  done
  expect_verdict tcp-connect-timeout tcp:3478 tls:5349 tcp:8443 tls:8443
  expect_eq "$(urls)" "turn:$MX_HOST:443?transport=tcp turns:$MX_HOST:443?transport=tcp" "iceServers"
  expect_in "$(rec)" "Only port 443 gets through" "recommendation"
  expect_in "$(rec)" "UDP is blocked from here" "recommendation"
  ;;
all-dropped)
  mx_firewall "drop"
  mx 1 "${MATRIX_CREDS[@]}" --timeout 5
  # One deadline for everything: 5 s, plus the 2 s the cleanup may take, plus start-up.
  [ "$ELAPSED_MS" -le 8500 ] || fail "matrix took $ELAPSED_MS ms with --timeout 5"
  [ "$ELAPSED_MS" -ge 4500 ] || fail "matrix gave up early ($ELAPSED_MS ms)"
  expect_verdict no-response udp:3478 udp:443 dtls:5349
  expect_verdict tcp-connect-timeout tcp:3478 tcp:443 tls:5349 tls:443
  expect_eq "$(urls)" "" "iceServers"
  expect_eq "$(json_get "$J" "d['matrix']['usable']")" False "usable"
  expect_in "$(rec)" "Nothing works from here" "recommendation"
  expect_in "$(rec)" "drops everything towards it" "recommendation"
  grep -q "iceServers: none" "$OUT" || fail "the text should say no URL works"
  # The progress line: on a terminal only.
  ! grep -q "cells done" "$OUT" || fail "a progress line went to a file"
  command -v script >/dev/null || { echo "PASS (no script(1): progress line not checked)"; exit 0; }
  script -qec "ip netns exec $MX_CLIENT $TP matrix $MX_HOST --timeout 2 >/dev/null" \
    "$TEST_DIR/tty.txt" >/dev/null 2>&1 || true
  grep -q "matrix: [0-9]* of 7 cells done, [0-9]* pending" "$TEST_DIR/tty.txt" ||
    fail "no progress line on a terminal"
  ;;
http-proxy)
  mx_tinyproxy 8888
  # Only the proxy answers: a network whose only way out is the web proxy.
  mx_firewall "ip saddr $MX_PROXY_IP accept
    drop"
  mx 0 "${MATRIX_CREDS[@]}" --timeout 15 --proxy "$MX_HTTP_PROXY" --port 8443
  expect_eq "$(json_get "$J" "d['matrix']['columns']")" "['tcp:3478', 'tls:5349', 'tcp:443', 'tls:443', 'tcp:8443', 'tls:8443']" "columns through a proxy"
  expect_eq "$(json_get "$J" "d['matrix']['proxy']")" "HTTP proxy $MX_PROXY_IP:8888" "proxy"
  expect_ok tcp:3478 tls:5349 tcp:443 tls:443
  expect_verdict proxy-refused tcp:8443 tls:8443
  expect_in "$(rec)" "Through the HTTP proxy $MX_PROXY_IP:8888, turn:$MX_HOST:3478?transport=tcp works" "recommendation"
  # The evidence names the proxy hop; the direct handshake for the interception test could not
  # happen here, and the report says the certificates were not compared.
  expect_eq "$(json_get "$J" "[p['note'] for p in d['packets'] if p['summary']=='TCP SYN'][0].startswith('via HTTP proxy $MX_PROXY_IP:8888 (HTTP CONNECT to $MX_SERVER_IP:3478)')")" True "SYN note"
  expect_eq "$(json_get "$J" "[st['details']['proxy_tls']['compared'] for s in d['sessions'] if s['target']['uri']=='turns:$MX_HOST:443?transport=tcp' for st in s['steps'] if st['id']=='tls'][0]")" False "interception not compared"
  # The same with the proxy from the environment.
  in_client env https_proxy="$MX_HTTP_PROXY" "$TP" matrix "$MX_HOST" "${MATRIX_CREDS[@]}" \
    --timeout 15 --proxy env --json "$J" >"$OUT" 2>&1 || { cat "$OUT" >&2; fail "--proxy env"; }
  expect_ok tcp:3478 tls:443
  # check through the proxy.
  chk 0 "turn:$MX_HOST:3478?transport=tcp" --proxy "$MX_HTTP_PROXY"
  expect_eq "$(step_field "$J" binding status)" pass "check tcp binding via proxy"
  expect_eq "$(step_field "$J" allocate diagnosis)" relay-address-private "check tcp allocate via proxy"
  chk 0 "turns:$MX_HOST:443" --proxy "$MX_HTTP_PROXY"
  expect_eq "$(step_field "$J" tls status)" pass "check tls via proxy"
  chk 1 "turn:$MX_HOST:8443?transport=tcp" --proxy "$MX_HTTP_PROXY"
  expect_eq "$(step_field "$J" binding diagnosis)" proxy-refused "CONNECT to 8443"
  grep -q "proxy-refused" "$OUT" || fail "proxy-refused not in the text"
  chk 1 "turn:$MX_HOST:3478?transport=tcp" --proxy "http://$MX_PROXY_IP:8899"
  expect_eq "$(step_field "$J" binding diagnosis)" proxy-unreachable "a proxy port nobody listens on"
  chk 2 "turn:$MX_HOST:3478" --proxy "$MX_HTTP_PROXY"
  grep -q "carries TCP only" "$OUT" || fail "UDP through a proxy must be refused clearly"
  ;;
http-proxy-auth)
  mx_tinyproxy 8888 "BasicAuth tpuser $PROXY_PW"
  mx_firewall "ip saddr $MX_PROXY_IP accept
    drop"
  good="http://tpuser:$PROXY_PW@$MX_PROXY_IP:8888"
  mx 0 "${MATRIX_CREDS[@]}" --timeout 15 --proxy "$good"
  expect_ok tcp:3478 tls:5349 tcp:443 tls:443
  expect_eq "$(json_get "$J" "d['matrix']['proxy']")" "HTTP proxy $MX_PROXY_IP:8888" "proxy named without its password"
  chk 0 "turn:$MX_HOST:3478?transport=tcp" --proxy "$good"
  chk 1 "turn:$MX_HOST:3478?transport=tcp" --proxy "http://tpuser:wrong-Pa55@$MX_PROXY_IP:8888"
  expect_eq "$(step_field "$J" binding diagnosis)" proxy-auth-required "wrong proxy password"
  ! grep -q "wrong-Pa55" "$OUT" "$J" || fail "the proxy password appears in the output"
  grep -q "refused the username and password" "$J" || fail "the summary should say the credentials were refused"
  chk 1 "turns:$MX_HOST:443" --proxy "$MX_HTTP_PROXY"
  expect_eq "$(step_field "$J" binding diagnosis)" proxy-auth-required "no proxy credentials"
  grep -q "wants a username and password" "$J" || fail "the summary should say credentials are wanted"
  mx 1 "${MATRIX_CREDS[@]}" --timeout 8 --proxy "http://tpuser:wrong-Pa55@$MX_PROXY_IP:8888"
  expect_verdict proxy-auth-required tcp:3478 tls:5349 tcp:443 tls:443
  expect_in "$(rec)" "every cell ended in proxy-auth-required" "recommendation"
  ;;
socks5-proxy)
  mx_danted 1080
  mx_firewall "ip saddr $MX_PROXY_IP accept
    drop"
  mx 0 "${MATRIX_CREDS[@]}" --timeout 15 --proxy "$MX_SOCKS_PROXY" --port 8443
  expect_ok tcp:3478 tls:5349 tcp:443 tls:443
  expect_verdict proxy-refused tcp:8443 tls:8443
  expect_eq "$(json_get "$J" "d['matrix']['proxy']")" "SOCKS5 proxy $MX_PROXY_IP:1080" "proxy"
  chk 0 "turn:$MX_HOST:3478?transport=tcp" --proxy "$MX_SOCKS_PROXY"
  expect_eq "$(step_field "$J" binding status)" pass "check tcp via SOCKS5"
  chk 0 "turns:$MX_HOST:5349" --proxy "$MX_SOCKS_PROXY"
  expect_eq "$(step_field "$J" tls status)" pass "check tls via SOCKS5"
  chk 1 "turn:$MX_HOST:8443?transport=tcp" --proxy "$MX_SOCKS_PROXY"
  expect_eq "$(step_field "$J" binding diagnosis)" proxy-refused "SOCKS5 ruleset"
  ;;
tls-intercept)
  mx_intercepting_proxy 8889
  mx_tinyproxy 8888
  # The client may go direct too, so the two certificates can be compared.
  chk 1 "turns:$MX_HOST:443" --proxy "$MX_MITM_PROXY"
  expect_eq "$(step_field "$J" tls diagnosis)" proxy-tls-intercepted "TLS inspection"
  expect_eq "$(json_get "$J" "[s['details']['proxy_tls']['through_proxy_issuer'] for s in d['steps'] if s['id']=='tls'][0]")" "CN=Inspecting Proxy" "issuer through the proxy"
  expect_eq "$(json_get "$J" "[s['details']['proxy_tls']['direct_issuer'] for s in d['steps'] if s['id']=='tls'][0]")" "CN=$MX_HOST" "issuer directly"
  # A proxy that does not inspect TLS: the same certificate both ways.
  chk 0 "turns:$MX_HOST:443" --proxy "$MX_HTTP_PROXY"
  expect_eq "$(json_get "$J" "[s['details']['proxy_tls']['intercepted'] for s in d['steps'] if s['id']=='tls'][0]")" False "tinyproxy does not intercept"
  ;;
*)
  fail "unknown scenario $SCENARIO"
  ;;
esac
echo "PASS: matrix $SCENARIO"
