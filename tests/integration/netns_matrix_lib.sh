# Restricted networks for the matrix and proxy tests: a client namespace and a server namespace
# joined by a veth pair, coturn in the server namespace on the usual TURN ports, HTTP and SOCKS5
# proxies on a second server address, and nftables rules in the client namespace. Source it
# after lib.sh (it needs TEST_DIR, PIDS, fail and lib.sh's cleanup). Tests run as root.
#
#   client 10.200.41.1 (c0) ---- veth ---- (s0) 10.200.41.2 coturn, 10.200.41.3 proxies
#
# The proxies live in the server namespace on their own address, so a client firewall can let
# "only the proxy" out by address. Names end in the test's PID ($$), so parallel tests do not
# meet; both namespaces are deleted on exit whatever the outcome (and a namespace left by a
# test killed with SIGKILL is reaped by the next one).

# A directory with its own prefix: a clean-up of leftover /tmp/turnprobe-test.* directories by
# a concurrent run must not take this one's certificates and reports away mid-test.
rm -rf "$TEST_DIR"
TEST_DIR=$(mktemp -d /tmp/turnprobe-matrix.XXXXXX)
PW="$TEST_DIR/pw"
printf 'secret' >"$PW"

MX_CLIENT=tpmx-c-$$
MX_SERVER=tpmx-s-$$
MX_CLIENT_IP=10.200.41.1
MX_SERVER_IP=10.200.41.2
MX_PROXY_IP=10.200.41.3
MX_HOST=turn.example.org
MX_NETNS=()

mx_on_exit() {
  local rc=$? ns p
  set +e
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  PIDS=()
  for ns in "${MX_NETNS[@]:-}"; do
    [ -n "$ns" ] || continue
    ip netns del "$ns" 2>/dev/null
    rm -rf "/etc/netns/$ns"
  done
  (exit "$rc")
  cleanup
}
trap mx_on_exit EXIT

# Namespaces of ours whose test process is gone (CTest's timeout kills with SIGKILL, which no
# trap sees).
mx_reap_stale() {
  local ns pid
  for ns in $(ip netns list | awk '{print $1}' | grep -E '^tpmx-[cs]-[0-9]+$' || true); do
    pid=${ns##*-}
    if ! kill -0 "$pid" 2>/dev/null; then
      ip netns del "$ns" 2>/dev/null || true
      rm -rf "/etc/netns/$ns"
    fi
  done
}

# mx_setup: both namespaces, the veth pair (created inside them: no name ever appears in the
# host's namespace), the addresses, and /etc/netns/CLIENT/hosts naming the server.
mx_setup() {
  mx_reap_stale
  MX_NETNS+=("$MX_CLIENT")
  ip netns add "$MX_CLIENT" || fail "cannot create the network namespace $MX_CLIENT"
  MX_NETNS+=("$MX_SERVER")
  ip netns add "$MX_SERVER" || fail "cannot create the network namespace $MX_SERVER"
  ip -n "$MX_CLIENT" link set lo up
  ip -n "$MX_SERVER" link set lo up
  ip -n "$MX_CLIENT" link add c0 type veth peer name s0 netns "$MX_SERVER" ||
    fail "cannot create the veth pair"
  ip -n "$MX_CLIENT" addr add "$MX_CLIENT_IP/24" dev c0
  ip -n "$MX_SERVER" addr add "$MX_SERVER_IP/24" dev s0
  ip -n "$MX_SERVER" addr add "$MX_PROXY_IP/24" dev s0
  ip -n "$MX_CLIENT" link set c0 up
  ip -n "$MX_SERVER" link set s0 up
  # ip netns exec bind-mounts each file of /etc/netns/NAME over /etc.
  mkdir -p "/etc/netns/$MX_CLIENT"
  printf '127.0.0.1 localhost\n%s %s\n' "$MX_SERVER_IP" "$MX_HOST" >"/etc/netns/$MX_CLIENT/hosts"
  # The addresses need a moment (IPv4 has no DAD, but the link must be up).
  for _ in $(seq 1 50); do
    ip -n "$MX_CLIENT" -br link show c0 | grep -q UP && break
    sleep 0.05
  done
}

# in_client CMD..., in_server CMD... (foreground only: a server started in the background is
# started with ip netns exec itself, so that $! is the server and not a subshell)
in_client() { ip netns exec "$MX_CLIENT" "$@"; }
in_server() { ip netns exec "$MX_SERVER" "$@"; }

# mx_wait_listen PROTO ADDR PORT PID LOG: until PID listens on ADDR:PORT in the server
# namespace; fails with the log after 5 s or when PID exits.
mx_wait_listen() {
  local proto=$1 addr=$2 port=$3 pid=$4 log=$5 flag=-Hlun
  [ "$proto" = tcp ] && flag=-Hltn
  for _ in $(seq 1 100); do
    if in_server ss "$flag" "src $addr and sport = :$port" | grep -q .; then return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  tail -n 20 "$log" >&2
  fail "nothing listens on $proto $addr:$port in $MX_SERVER within 5 s"
}

# mx_cert: a self-signed certificate for turn.example.org and the server's address, valid a
# year (a shorter one would add tls-cert-expiring-soon warnings): $TEST_DIR/srv.pem, srv.key.
mx_cert() {
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TEST_DIR/srv.key" -out "$TEST_DIR/srv.pem" \
    -days 365 -subj "/CN=$MX_HOST" \
    -addext "subjectAltName=DNS:$MX_HOST,IP:$MX_SERVER_IP" >"$TEST_DIR/openssl.log" 2>&1 ||
    { cat "$TEST_DIR/openssl.log" >&2; fail "openssl req failed"; }
}

# mx_coturn: two coturns on the server address, user alice:secret in realm example.org:
# one on 3478 (UDP, TCP) and 5349 (TLS, DTLS), one on 443 for UDP, TCP, TLS and DTLS alike
# (coturn tells TLS from plain TCP, and DTLS from plain UDP, on any listening port).
mx_coturn() {
  [ -f "$TEST_DIR/srv.pem" ] || mx_cert
  local spec port tls min dir
  for spec in 3478:5349:50000 443:443:50200; do
    IFS=: read -r port tls min <<<"$spec"
    dir="$TEST_DIR/coturn-$port"
    mkdir -p "$dir"
    ip netns exec "$MX_SERVER" turnserver -n --log-file=stdout --simple-log --no-cli \
      -L "$MX_SERVER_IP" -E "$MX_SERVER_IP" -p "$port" --tls-listening-port "$tls" \
      --min-port "$min" --max-port $((min + 100)) -a -u alice:secret -r example.org -f \
      --cert "$TEST_DIR/srv.pem" --pkey "$TEST_DIR/srv.key" \
      --userdb "$dir/db.sqlite" --pidfile "$dir/pid" >"$dir/log" 2>&1 &
    PIDS+=($!)
    mx_wait_listen udp "$MX_SERVER_IP" "$port" $! "$dir/log"
    mx_wait_listen tcp "$MX_SERVER_IP" "$port" "${PIDS[-1]}" "$dir/log"
    mx_wait_listen tcp "$MX_SERVER_IP" "$tls" "${PIDS[-1]}" "$dir/log"
  done
}

# mx_firewall RULES: an nftables table in the client namespace whose input chain (a
# firewall's silent drop: nothing comes back, nothing fails fast) holds RULES.
mx_firewall() {
  in_client nft -f - <<EOF || fail "nft refused the rules"
table inet tpmx {
  chain input {
    type filter hook input priority 0; policy accept;
    iif lo accept
    $1
  }
}
EOF
}

# mx_tinyproxy PORT [BasicAuth USER PASS]: tinyproxy on the proxy address allowing CONNECT to
# 3478, 5349 and 443 only (squid's SSL_ports idea); sets MX_HTTP_PROXY.
mx_tinyproxy() {
  local port=$1 auth=${2:-}
  local conf="$TEST_DIR/tinyproxy-$port.conf" log="$TEST_DIR/tinyproxy-$port.log"
  cat >"$conf" <<EOF
Port $port
Listen $MX_PROXY_IP
Timeout 30
MaxClients 100
Allow 10.200.41.0/24
ConnectPort 3478
ConnectPort 5349
ConnectPort 443
LogLevel Info
LogFile "$log"
PidFile "$TEST_DIR/tinyproxy-$port.pid"
$auth
EOF
  ip netns exec "$MX_SERVER" tinyproxy -d -c "$conf" >"$log.out" 2>&1 &
  PIDS+=($!)
  mx_wait_listen tcp "$MX_PROXY_IP" "$port" $! "$log.out"
  MX_HTTP_PROXY="http://$MX_PROXY_IP:$port"
}

# mx_danted PORT: Dante's SOCKS5 server on the proxy address, no authentication, passing
# CONNECT to the server's 3478, 5349 and 443 only; sets MX_SOCKS_PROXY.
mx_danted() {
  local port=$1
  local conf="$TEST_DIR/danted.conf" log="$TEST_DIR/danted.log"
  cat >"$conf" <<EOF
logoutput: $log
internal: $MX_PROXY_IP port = $port
external: $MX_PROXY_IP
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 10.200.41.0/24 to: 0.0.0.0/0 }
socks pass { from: 10.200.41.0/24 to: $MX_SERVER_IP/32 port = 3478 command: connect }
socks pass { from: 10.200.41.0/24 to: $MX_SERVER_IP/32 port = 5349 command: connect }
socks pass { from: 10.200.41.0/24 to: $MX_SERVER_IP/32 port = 443 command: connect }
socks block { from: 0.0.0.0/0 to: 0.0.0.0/0 log: connect error }
EOF
  ip netns exec "$MX_SERVER" danted -f "$conf" -p "$TEST_DIR/danted.pid" -N 1 >"$log.out" 2>&1 &
  PIDS+=($!)
  mx_wait_listen tcp "$MX_PROXY_IP" "$port" $! "$log.out"
  MX_SOCKS_PROXY="socks5://$MX_PROXY_IP:$port"
}

# mx_intercepting_proxy PORT: an HTTP CONNECT proxy that inspects TLS, as corporate "TLS
# inspection" boxes do: it answers the ClientHello itself with a certificate of its own
# (CN=Inspecting Proxy) and speaks TLS to the server on the other side. Sets MX_MITM_PROXY.
mx_intercepting_proxy() {
  local port=$1
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TEST_DIR/mitm.key" \
    -out "$TEST_DIR/mitm.pem" -days 365 -subj "/CN=Inspecting Proxy" \
    -addext "subjectAltName=DNS:$MX_HOST,IP:$MX_SERVER_IP" >>"$TEST_DIR/openssl.log" 2>&1 ||
    fail "openssl req (proxy certificate) failed"
  cat >"$TEST_DIR/mitm.py" <<'EOF'
# A TLS-inspecting HTTP CONNECT proxy for the test: terminates TLS with its own certificate.
import select, socket, ssl, sys, threading

ip, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
front = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
front.load_cert_chain(cert, key)
front.set_alpn_protocols(["stun.turn"])
back = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
back.check_hostname = False
back.verify_mode = ssl.CERT_NONE


def relay(a, b):
    while True:
        r, _, _ = select.select([a, b], [], [], 30)
        if not r:
            return
        for s in r:
            o = b if s is a else a
            try:
                d = s.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                continue
            if not d:
                return
            o.sendall(d)
            while s.pending():
                o.sendall(s.recv(65536))


def handle(c):
    try:
        head = b""
        while b"\r\n\r\n" not in head:
            d = c.recv(1)
            if not d:
                return
            head += d
        host, p = head.split()[1].decode().rsplit(":", 1)
        up = socket.create_connection((host.strip("[]"), int(p)), timeout=5)
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        tc = front.wrap_socket(c, server_side=True)
        tu = back.wrap_socket(up, server_hostname="turn.example.org")
        relay(tc, tu)
    except OSError:
        pass
    finally:
        c.close()


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((ip, port))
srv.listen(50)
while True:
    conn, _ = srv.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
EOF
  ip netns exec "$MX_SERVER" python3 "$TEST_DIR/mitm.py" "$MX_PROXY_IP" "$port" \
    "$TEST_DIR/mitm.pem" "$TEST_DIR/mitm.key" >"$TEST_DIR/mitm.log" 2>&1 &
  PIDS+=($!)
  mx_wait_listen tcp "$MX_PROXY_IP" "$port" $! "$TEST_DIR/mitm.log"
  MX_MITM_PROXY="http://$MX_PROXY_IP:$port"
}
