#!/usr/bin/env bash
# The settings and dns steps live (issue 4): TURN REST credentials minted and expired against a
# coturn in use-auth-secret mode, round-robin DNS with a dead address and SRV records (each in a
# network namespace of its own), an iceServers file; and no password or secret in any output.
# Usage: test_settings.sh SCENARIO PATH/TO/turnprobe   (as root: namespaces, /etc/netns)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/netns_lib.sh"
SCENARIO=$1
TP=$2
D=$TEST_DIR
PCAPNG_CHECK="$(dirname "$0")/pcapng_check.sh"

# Strings unlike anything else in the output, so that a leak cannot hide. Every password and
# secret a scenario uses is added to LEAKS; every file turnprobe writes to OUTPUTS.
SECRET="tp-rest-$RANDOM$RANDOM-Qx8"
PASSWORD="tp-pw-$RANDOM$RANDOM-Zk3"
printf '%s\n' "$SECRET" >"$D/secret"
printf '%s\n' "$PASSWORD" >"$D/password"
LEAKS=("$SECRET" "$PASSWORD")
OUTPUTS=()
NS_RUN= # the namespace turnprobe runs in ("" = this one)

# check_run EXPECTED_EXIT NAME check-args...: turnprobe check with every report: stdout
# $D/NAME.out, stderr .err, --json .json, --md .md, --pcap .pcapng. Sets J to the JSON, and T0
# and T1 to the Unix time before and after the run.
check_run() {
  local want=$1 name=$2 rc=0
  shift 2
  J="$D/$name.json"
  T0=$(date +%s)
  in_ns "$NS_RUN" "$TP" check "$@" --timeout 20 --json "$J" --md "$D/$name.md" \
    --pcap "$D/$name.pcapng" --color never >"$D/$name.out" 2>"$D/$name.err" || rc=$?
  T1=$(date +%s)
  OUTPUTS+=("$D/$name.out" "$D/$name.err" "$J" "$D/$name.md" "$D/$name.pcapng")
  [ "$rc" = "$want" ] || {
    cat "$D/$name.out" "$D/$name.err" >&2
    fail "$name: exit status $rc, expected $want"
  }
  [ -s "$J" ] || fail "$name: no JSON report"
}

# creds_run NAME creds-args...: turnprobe creds; sets USERNAME and MINTED (the password), which
# is then a secret too.
creds_run() {
  local name=$1
  shift
  "$TP" creds "$@" >"$D/$name.out" 2>"$D/$name.err" || {
    cat "$D/$name.err" >&2
    fail "$name: turnprobe creds failed"
  }
  OUTPUTS+=("$D/$name.err") # stdout holds the password: printing it is creds' job
  USERNAME=$(sed -n 's/^username: //p' "$D/$name.out")
  MINTED=$(sed -n 's/^password: //p' "$D/$name.out")
  [ -n "$USERNAME" ] && [ -n "$MINTED" ] || fail "$name: $(cat "$D/$name.out")"
  LEAKS+=("$MINTED")
}

# The REST password coturn expects for USERNAME: base64(HMAC-SHA1(secret, username)).
rest_password() { printf %s "$1" | openssl dgst -sha1 -hmac "$SECRET" -binary | base64; }

# pyassert FILE [NAME=VALUE...] < python: runs the assertions with d = the parsed JSON and the
# NAME=VALUE pairs in the environment (os.environ); a failed assert names the test and the line.
pyassert() {
  local file=$1
  shift
  env "$@" python3 - "$file" "$SCENARIO" || fail "assertions on $(basename "$file") failed"
}

# The frames of a capture, and their comments, as tshark reads them.
pcap_comments() { tshark -r "$1" -T fields -e frame.comment 2>/dev/null; }

# capture_check NAME: the capture of run NAME passes the shared tshark checker against its
# JSON (each run costs tshark about 3 s, so each scenario checks its most telling run). A
# report without STUN packets is checked without the JSON: pcapng_check.sh's "jq -e" exits 4
# when the report's packet list selects nothing, and the checker then fails with an empty
# reason (reported); such a capture must hold no STUN frame at all.
capture_check() {
  local f="$D/$1.pcapng" j="$D/$1.json"
  if [ "$(json_get "$j" "len([p for p in d['packets'] if p.get('kind')=='stun'])")" = 0 ]; then
    sh "$PCAPNG_CHECK" "$f" || fail "tshark rejects $1.pcapng"
    [ -z "$(tshark -r "$f" -Y stun -T fields -e frame.number 2>/dev/null)" ] ||
      fail "$1.pcapng holds STUN frames its report does not list"
  else
    sh "$PCAPNG_CHECK" "$f" "$j" || fail "tshark disagrees with $1.pcapng"
  fi
}

# No password, REST secret or minted password in anything turnprobe wrote: stdout, stderr, the
# JSON, the Markdown, the pcapng (its bytes, and the comments as tshark reads them).
check_no_leaks() {
  local f s n=0
  for f in "${OUTPUTS[@]}"; do
    [ -e "$f" ] || fail "$f was not written"
    case "$f" in *.pcapng) pcap_comments "$f" >"$f.comments" ;; *) : >"$f.comments" ;; esac
    for s in "${LEAKS[@]}"; do
      if grep -qaF -- "$s" "$f" "$f.comments"; then
        fail "a password or secret appears in $(basename "$f")"
      fi
    done
    n=$((n + 1))
  done
  echo "no password or secret in $n outputs (${#LEAKS[@]} strings)"
}

# The coturn of the REST scenarios: use-auth-secret only, in a realm of the caller's. Not
# lib.sh's start_coturn: it adds "-a -u alice:secret -r example.org", a mix coturn accepts with a
# "CONFIGURATION ALERT: ... Shared secret overrides username/password" (the REST credential
# works, alice is refused), which is not the set-up a REST deployment has.
rest_coturn() {
  TURN_PORT=$(free_port)
  REALM=${1:-example.org}
  turnserver_start "" "$TURN_PORT" --use-auth-secret --static-auth-secret="$SECRET" -r "$REALM"
}

# Every JSON report is valid against docs/report-schema.json (skipped, with a note, when python3
# has no jsonschema module).
check_schema() {
  local f rc
  for f in "${OUTPUTS[@]}"; do
    case "$f" in *.json)
      rc=0
      bash "$(dirname "$0")/validate_json.sh" "$SCHEMA" "$f" >/dev/null || rc=$?
      [ "$rc" = 2 ] && { echo "note: JSON Schema checks skipped (no jsonschema)"; return 0; }
      [ "$rc" = 0 ] || fail "$(basename "$f") does not match the report schema"
      ;;
    esac
  done
}
SCHEMA="$(dirname "$0")/../../docs/report-schema.json"

case "$SCENARIO" in
rest-valid)
  rest_coturn
  # 1. check mints the credential itself from --secret-file and --user.
  check_run 0 minted "turn:127.0.0.1:$TURN_PORT" --secret-file "$D/secret" --user bob
  u=$(json_get "$J" "d['target']['username']")
  LEAKS+=("$(rest_password "$u")")
  pyassert "$J" T0="$T0" T1="$T1" RMIN="$RELAY_MIN" RMAX="$RELAY_MAX" <<'EOF'
import json, os, re, sys
d = json.load(open(sys.argv[1])); st = {s["id"]: s for s in d["steps"]}
t0, t1 = int(os.environ["T0"]), int(os.environ["T1"])
assert re.fullmatch(r"\d{10}:bob", d["target"]["username"]), d["target"]
assert st["settings"]["status"] == "pass" and st["settings"]["diagnosis"] == "ok", st["settings"]
exp = st["settings"]["details"]["rest_expiry"]
assert t0 + 86400 <= exp <= t1 + 86400, ("the minted expiry is not now + 1 day", exp, t0, t1)
assert int(d["target"]["username"].split(":")[0]) == exp
a = st["allocate"]
assert a["status"] in ("pass", "warn") and a["diagnosis"] in ("ok", "relay-address-private"), a
port = int(a["details"]["relayed"].rsplit(":", 1)[1])
assert int(os.environ["RMIN"]) <= port <= int(os.environ["RMAX"]), a["details"]
for s in ("binding", "permission", "send-data", "channel", "refresh"):
    assert st[s]["status"] == "pass", (s, st[s])
assert st["refresh"]["details"]["released"] == 2, st["refresh"]
EOF
  capture_check minted
  # 2. creds mints, check uses the result as a plain username and password.
  creds_run creds --secret-file "$D/secret" --user bob
  [ "$MINTED" = "$(rest_password "$USERNAME")" ] || fail "creds: the password is not the HMAC"
  printf '%s\n' "$MINTED" >"$D/minted-pw"
  check_run 0 given "turn:127.0.0.1:$TURN_PORT" -u "$USERNAME" --password-file "$D/minted-pw"
  expect_eq "$(json_get "$J" "d['target']['username']")" "$USERNAME" "username used"
  expect_eq "$(step_field "$J" settings status)" pass "settings"
  expect_eq "$(step_field "$J" send-data status)" pass "send-data with creds' credential"
  # 3. The control: another secret mints a credential coturn refuses, and the hint says why.
  printf 'not-the-secret-%s\n' "$RANDOM" >"$D/other-secret"
  LEAKS+=("$(head -n 1 "$D/other-secret")")
  check_run 1 wrong-secret "turn:127.0.0.1:$TURN_PORT" --secret-file "$D/other-secret" --user bob
  expect_eq "$(step_field "$J" allocate diagnosis)" auth-rejected "allocate with a wrong secret"
  step_field "$J" allocate hint | grep -q 'static-auth-secret' ||
    fail "the hint of a refused REST credential does not name static-auth-secret"
  ;;

rest-expired)
  rest_coturn
  M0=$(date +%s)
  creds_run creds --secret-file "$D/secret" --user bob --ttl -3600
  M1=$(date +%s)
  printf '%s\n' "$MINTED" >"$D/minted-pw"
  # The pre-check: nothing is sent, and every live step says why it did not run.
  check_run 1 precheck "turn:127.0.0.1:$TURN_PORT" -u "$USERNAME" --password-file "$D/minted-pw"
  pyassert "$J" M0="$M0" M1="$M1" <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1])); st = {s["id"]: s for s in d["steps"]}
s = st["settings"]
assert s["status"] == "fail" and s["diagnosis"] == "rest-credential-expired", s
exp = s["details"]["rest_expiry"]
assert int(os.environ["M0"]) - 3600 <= exp <= int(os.environ["M1"]) - 3600, s["details"]
assert "expired" in s["summary"], s["summary"]
assert d["packets"] == [], ("packets were sent with an expired credential", d["packets"])
assert d["verdict"] == "fail"
assert st["dns"]["status"] == "pass", st["dns"]
for i in ("binding", "allocate", "permission", "send-data", "channel", "ice", "refresh", "policy"):
    assert st[i]["status"] == "skip", (i, st[i])
    assert "expired" in st[i]["summary"] and "--no-precheck" in st[i]["summary"], (i, st[i])
assert [f["diagnosis"] for f in d["findings"]] == ["rest-credential-expired"], d["findings"]
EOF
  [ "$(pcap_comments "$D/precheck.pcapng" | wc -l)" = 0 ] || fail "the capture holds frames"
  capture_check precheck
  # --no-precheck sends anyway; coturn answers the authenticated Allocate with 401.
  check_run 1 sent "turn:127.0.0.1:$TURN_PORT" -u "$USERNAME" --password-file "$D/minted-pw" \
    --no-precheck
  pyassert "$J" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); st = {s["id"]: s for s in d["steps"]}
assert st["settings"]["diagnosis"] == "rest-credential-expired", st["settings"]
assert st["binding"]["status"] == "pass", st["binding"]
a = st["allocate"]
assert a["status"] == "fail" and a["diagnosis"] == "auth-rejected", a
assert "401" in a["summary"], a["summary"]
# The refused request carried MESSAGE-INTEGRITY: an authenticated Allocate went out.
sent = [p for p in d["packets"] if p["dir"] == "out" and p["summary"].startswith("Allocate")]
assert len(sent) >= 2, d["packets"]
for i in ("permission", "send-data", "channel", "ice", "refresh", "policy"):
    assert st[i]["status"] == "skip" and "auth-rejected" in st[i]["summary"], (i, st[i])
EOF
  ;;

dns-partial)
  # turn.test has two addresses; only 127.0.0.1 has a TURN server behind it.
  netns_reap_stale
  NS=tp-dns-$$
  netns_add "$NS"
  printf '127.0.0.1 turn.test\n127.0.0.2 turn.test\n' >"/etc/netns/$NS/hosts"
  in_ns "$NS" getent ahostsv4 turn.test | awk '{print $1}' | sort -u >"$D/getent"
  [ "$(tr '\n' ' ' <"$D/getent")" = "127.0.0.1 127.0.0.2 " ] ||
    fail "getaddrinfo in $NS does not see both addresses of turn.test: $(cat "$D/getent")"
  TURN_PORT=$(free_port)
  turnserver_start "$NS" "$TURN_PORT" -a -u "alice:$PASSWORD" -r example.org
  NS_RUN=$NS
  check_run 1 partial "turn:turn.test:$TURN_PORT" -u alice --password-file "$D/password"
  pyassert "$J" P="$TURN_PORT" <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1])); p = os.environ["P"]
ss = d["sessions"]
assert len(ss) == 2, [s["name"] for s in ss]
good, bad = ss
assert good["target"]["address"] == "127.0.0.1:" + p, good["target"]
assert bad["target"]["address"] == "127.0.0.2:" + p, bad["target"]
assert good["name"].endswith("@ 127.0.0.1:" + p) and bad["name"].endswith("@ 127.0.0.2:" + p)
g = {s["id"]: s for s in good["steps"]}; b = {s["id"]: s for s in bad["steps"]}
assert good["verdict"] in ("pass", "warn") and bad["verdict"] == "fail", (good["verdict"], bad["verdict"])
assert g["allocate"]["status"] in ("pass", "warn") and g["send-data"]["status"] == "pass", g["allocate"]
assert b["binding"]["status"] == "fail" and b["binding"]["diagnosis"] == "port-unreachable", b["binding"]
for s in (g, b):
    dns = s["dns"]
    assert dns["status"] == "warn" and dns["diagnosis"] == "dns-partial", dns
    assert dns["details"]["addresses"] == ["127.0.0.1", "127.0.0.2"], dns["details"]
    per = dns["details"]["per_address"]
    assert per["127.0.0.2:" + p] == "fail", per
    assert per["127.0.0.1:" + p] in ("pass", "warn"), per
    assert "1 of 2" in dns["summary"], dns["summary"]
for sess in ss:
    assert "dns-partial" in [f["diagnosis"] for f in sess["findings"]], sess["findings"]
assert d["verdict"] == "fail"
EOF
  capture_check partial
  ;;

srv)
  # No port in the URI: _turn._udp.turn.test and _turn._tcp.turn.test name the servers, on ports
  # that are neither 3478 nor each other, so that the wrong record cannot pass unnoticed.
  netns_reap_stale
  NS=tp-srv-$$
  netns_add "$NS"
  P_UDP=$(free_port)
  P_TCP=$(free_port)
  while [ "$P_TCP" = "$P_UDP" ]; do P_TCP=$(free_port); done
  dnsmasq_start "$NS" --srv-host="_turn._udp.turn.test,turnhost.test,$P_UDP,0,10" \
    --srv-host="_turn._tcp.turn.test,turnhost.test,$P_TCP,0,20" \
    --host-record=turnhost.test,127.0.0.1
  turnserver_start "$NS" "$P_UDP" -a -u "alice:$PASSWORD" -r example.org
  UDP_MIN=$RELAY_MIN UDP_MAX=$RELAY_MAX
  turnserver_start "$NS" "$P_TCP" -a -u "alice:$PASSWORD" -r example.org
  TCP_MIN=$RELAY_MIN TCP_MAX=$RELAY_MAX
  NS_RUN=$NS
  check_run 0 srv-udp "turn:turn.test" -u alice --password-file "$D/password"
  pyassert "$J" P="$P_UDP" RMIN="$UDP_MIN" RMAX="$UDP_MAX" Q=_turn._udp.turn.test W=10 <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1])); e = os.environ; st = {s["id"]: s for s in d["steps"]}
dns = st["dns"]
assert dns["status"] == "pass", dns
assert dns["details"]["srv_query"] == e["Q"], dns["details"]
assert dns["details"]["srv"] == ["turnhost.test:%s (priority 0, weight %s)" % (e["P"], e["W"])], dns["details"]
assert "SRV " + e["Q"] in dns["summary"], dns["summary"]
assert d["target"]["address"] == "127.0.0.1:" + e["P"], d["target"]
relayed = int(st["allocate"]["details"]["relayed"].rsplit(":", 1)[1])
assert int(e["RMIN"]) <= relayed <= int(e["RMAX"]), ("another coturn relayed", relayed)
assert st["send-data"]["status"] == "pass" and st["channel"]["status"] == "pass"
assert d["verdict"] in ("pass", "warn"), d["verdict"]
EOF
  check_run 0 srv-tcp "turn:turn.test?transport=tcp" -u alice --password-file "$D/password"
  pyassert "$J" P="$P_TCP" RMIN="$TCP_MIN" RMAX="$TCP_MAX" Q=_turn._tcp.turn.test W=20 <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1])); e = os.environ; st = {s["id"]: s for s in d["steps"]}
dns = st["dns"]
assert dns["details"]["srv_query"] == e["Q"], dns["details"]
assert dns["details"]["srv"] == ["turnhost.test:%s (priority 0, weight %s)" % (e["P"], e["W"])], dns["details"]
assert d["target"]["address"] == "127.0.0.1:" + e["P"] and d["target"]["transport"] == "tcp", d["target"]
relayed = int(st["allocate"]["details"]["relayed"].rsplit(":", 1)[1])
assert int(e["RMIN"]) <= relayed <= int(e["RMAX"]), ("another coturn relayed", relayed)
assert st["channel"]["status"] == "pass", st["channel"]
assert d["verdict"] in ("pass", "warn"), d["verdict"]
EOF
  capture_check srv-tcp
  # A port in the URI: no SRV query (RFC 5928 §4), the A record and that port.
  check_run 0 no-srv "turn:turnhost.test:$P_UDP" -u alice --password-file "$D/password"
  pyassert "$J" P="$P_UDP" <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1])); st = {s["id"]: s for s in d["steps"]}
det = st["dns"]["details"]
assert "srv_query" not in det and "srv" not in det, det
assert det["addresses"] == ["127.0.0.1"], det
assert d["target"]["address"] == "127.0.0.1:" + os.environ["P"], d["target"]
EOF
  grep -q 'query\[SRV\] _turn._tcp.turn.test' "$TEST_DIR/dnsmasq-$NS.log" ||
    fail "dnsmasq saw no _turn._tcp query"
  ;;

ice-servers)
  TURN_PORT=$(free_port)
  turnserver_start "" "$TURN_PORT" -a -u "alice:$PASSWORD" -r example.org
  write_ice() { # write_ice FILE EXTRA_URL...
    local f=$1
    shift
    python3 - "$f" "$TURN_PORT" "$PASSWORD" "$@" <<'EOF'
import json, sys
f, port, pw, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
urls = ["turn:127.0.0.1:%s?transport=udp" % port, "turn:127.0.0.1:%s?transport=tcp" % port]
json.dump({"iceServers": [{"urls": "stun:127.0.0.1:%s" % port},
                          {"urls": urls + extra, "username": "alice", "credential": pw}]},
          open(f, "w"), indent=1)
EOF
  }
  write_ice "$D/ice-bad.json" "tunr:127.0.0.1:$TURN_PORT"
  write_ice "$D/ice-good.json"
  check_run 1 ice-bad --ice-servers "$D/ice-bad.json"
  pyassert "$J" P="$TURN_PORT" <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1])); p = os.environ["P"]
ss = d["sessions"]
assert [s["target"]["uri"] for s in ss] == ["stun:127.0.0.1:" + p,
    "turn:127.0.0.1:%s?transport=udp" % p, "turn:127.0.0.1:%s?transport=tcp" % p,
    "tunr:127.0.0.1:" + p], [s["target"]["uri"] for s in ss]
steps = [{s["id"]: s for s in x["steps"]} for x in ss]
# stun: only the Binding runs.
stun = steps[0]
assert ss[0]["verdict"] == "pass" and stun["binding"]["status"] == "pass", stun["binding"]
for i in ("allocate", "permission", "send-data", "channel", "ice", "refresh", "policy"):
    assert stun[i]["status"] == "skip", (i, stun[i])
assert "username" not in ss[0]["target"], ss[0]["target"]
for k, tp in ((1, "udp"), (2, "tcp")):
    assert ss[k]["target"]["transport"] == tp and ss[k]["target"]["username"] == "alice"
    assert ss[k]["verdict"] == "warn", (k, ss[k]["verdict"])
    for i in ("binding", "permission", "send-data", "channel", "ice", "refresh"):
        assert steps[k][i]["status"] == "pass", (k, i, steps[k][i])
bad = steps[3]
assert ss[3]["verdict"] == "fail"
assert bad["settings"]["status"] == "fail" and bad["settings"]["diagnosis"] == "uri-invalid", bad["settings"]
for i in ("dns", "binding", "allocate"):
    assert bad[i]["status"] == "skip" and "invalid" in bad[i]["summary"], (i, bad[i])
assert d["verdict"] == "fail"
EOF
  capture_check ice-bad
  check_run 0 ice-good --ice-servers "$D/ice-good.json"
  pyassert "$J" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert [s["verdict"] for s in d["sessions"]] == ["pass", "warn", "warn"], [s["verdict"] for s in d["sessions"]]
assert d["verdict"] == "warn"
# The gathering view: a browser's agent gets a relay candidate from each turn: URL, none from
# the stun: URL, and a host candidate everywhere.
g = [s["facts"]["gathering"] for s in d["sessions"]]
assert "relay" not in g[0]["obtained"] and "host" in g[0]["obtained"], g[0]
for k in (1, 2):
    assert g[k]["obtained"]["relay"]["count"] >= 1, g[k]
    assert g[k]["obtained"]["relay"]["first_ms"] < 5000, g[k]
EOF
  ;;

secrets)
  # --redact on the REST check: neither the username nor the realm leaves in any report. A
  # realm and a user found nowhere else, so that any hit is a leak.
  rest_coturn "realm-$RANDOM$RANDOM.test"
  RUSER="bob$RANDOM$RANDOM"
  check_run 0 plain "turn:127.0.0.1:$TURN_PORT" --secret-file "$D/secret" --user "$RUSER"
  # The control: without --redact both are there (the search below can find them).
  grep -qF "$RUSER" "$J" && grep -qF "$REALM" "$J" || fail "the unredacted report lacks user or realm"
  pcap_comments "$D/plain.pcapng" | grep -qF "$REALM" || fail "no comment names the realm"
  LEAKS+=("$(rest_password "$(json_get "$J" "d['target']['username']")")")
  check_run 0 redacted "turn:127.0.0.1:$TURN_PORT" --secret-file "$D/secret" --user "$RUSER" \
    --redact
  expect_eq "$(step_field "$J" allocate status)" warn "allocate (redacted run)"
  ru=$(json_get "$J" "d['target']['username']")
  [ "$ru" != "" ] && ! grep -qF "$RUSER" <<<"$ru" || fail "target.username not redacted: $ru"
  for f in out err json md; do
    ! grep -qF -e "$RUSER" -e "$REALM" "$D/redacted.$f" || fail "user or realm in redacted.$f"
  done
  pcap_comments "$D/redacted.pcapng" >"$D/redacted.comments"
  [ -s "$D/redacted.comments" ] || fail "the redacted capture has no comments"
  ! grep -qF -e "$RUSER" -e "$REALM" "$D/redacted.comments" ||
    fail "user or realm in the redacted capture's comments"
  capture_check redacted
  ;;

*) fail "unknown scenario $SCENARIO" ;;
esac

check_schema
check_no_leaks
echo "ok: $SCENARIO"
