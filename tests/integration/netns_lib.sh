# Network namespaces for integration tests, and servers started inside them: a coturn with any
# authentication, dnsmasq as the namespace's DNS server. Source it after lib.sh (it needs
# TEST_DIR, PIDS, fail and lib.sh's cleanup). Tests run as root.
#
# Every namespace a test creates (netns_add) is deleted on exit, with its /etc/netns/NAME
# directory, whatever the outcome: the processes inside are stopped first, then the namespace.

NETNS=()

# The EXIT trap: stop what runs in the namespaces, delete them, then lib.sh's cleanup (which
# stops the other servers, removes TEST_DIR and exits with the test's status).
netns_on_exit() {
  local rc=$? ns p
  set +e
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  for ns in "${NETNS[@]:-}"; do
    [ -n "$ns" ] || continue
    ip netns del "$ns" 2>/dev/null
    rm -rf "/etc/netns/$ns"
  done
  (exit "$rc")
  cleanup
}
trap netns_on_exit EXIT

# A namespace left behind by a test that was killed (CTest's timeout sends SIGKILL, which no
# trap sees): ours are named PREFIX-PID; delete those whose test process is gone.
netns_reap_stale() {
  local ns pid
  for ns in $(ip netns list | awk '{print $1}' | grep -E '^tp-(dns|srv)-[0-9]+$' || true); do
    pid=${ns##*-}
    if ! kill -0 "$pid" 2>/dev/null; then
      ip netns del "$ns" 2>/dev/null || true
      rm -rf "/etc/netns/$ns"
    fi
  done
}

# netns_add NAME: a namespace with lo up and one more interface holding 10.200.0.1/24, so that
# getaddrinfo's AI_ADDRCONFIG (it ignores loopback) does not hide IPv4 answers. A dummy
# interface when the kernel has the module; else a veth pair inside the namespace (containers
# often lack "dummy"; veth is always there, see TESTBED.md).
netns_add() {
  local ns=$1
  NETNS+=("$ns")
  ip netns add "$ns" || fail "cannot create the network namespace $ns"
  ip -n "$ns" link set lo up
  if ip -n "$ns" link add d0 type dummy 2>/dev/null; then
    ip -n "$ns" link set d0 up
  else
    ip -n "$ns" link add d0 type veth peer name d1 || fail "$ns: neither dummy nor veth works"
    ip -n "$ns" link set d1 up
    ip -n "$ns" link set d0 up
  fi
  ip -n "$ns" addr add 10.200.0.1/24 dev d0
  # ip netns exec bind-mounts each file of /etc/netns/NAME over /etc.
  mkdir -p "/etc/netns/$ns"
}

# in_ns NS CMD...: CMD in namespace NS, or here when NS is empty.
in_ns() {
  local ns=$1
  shift
  if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

# wait_listen NS PROTO PORT PID LOG: until something listens on PORT (udp or tcp) in NS; fails
# with the server's log after 5 s or when PID has exited.
wait_listen() {
  local ns=$1 proto=$2 port=$3 pid=$4 log=$5 flag=-Hlun
  [ "$proto" = tcp ] && flag=-Hltn
  for _ in $(seq 1 100); do
    if in_ns "$ns" ss "$flag" "sport = :$port" | grep -q .; then return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  tail -n 20 "$log" >&2
  fail "nothing listens on $proto port $port${ns:+ in $ns} within 5 s"
}

# turnserver_start NS PORT [turnserver options...]: a coturn on 127.0.0.1 only (in namespace NS,
# or here when NS is ""), relaying on a range of its own, without the lib.sh defaults of user and
# realm: the caller gives the authentication (-a -u U:P -r R, or --use-auth-secret ...). Sets
# RELAY_MIN, RELAY_MAX and COTURN_LOG.
turnserver_start() {
  local ns=$1 port=$2
  shift 2
  RELAY_MIN=$((50000 + RANDOM % 10000))
  RELAY_MAX=$((RELAY_MIN + 100))
  local dir="$TEST_DIR/coturn-${ns:-host}-$port"
  mkdir -p "$dir"
  COTURN_LOG="$dir/log"
  local cmd=(turnserver -n --log-file=stdout --simple-log --no-cli -L 127.0.0.1 -E 127.0.0.1
    -p "$port" --min-port "$RELAY_MIN" --max-port "$RELAY_MAX" -f --no-tls --no-dtls
    --allow-loopback-peers --userdb "$dir/db.sqlite" --pidfile "$dir/pid" "$@")
  # Not through in_ns in the background: that would fork a subshell, $! would be the subshell,
  # and the EXIT trap would kill it and leave coturn running. ip netns exec execs in place.
  if [ -n "$ns" ]; then
    ip netns exec "$ns" "${cmd[@]}" >"$COTURN_LOG" 2>&1 &
  else
    "${cmd[@]}" >"$COTURN_LOG" 2>&1 &
  fi
  PIDS+=($!)
  wait_listen "$ns" udp "$port" $! "$COTURN_LOG"
  wait_listen "$ns" tcp "$port" "${PIDS[-1]}" "$COTURN_LOG"
}

# dnsmasq_start NS [dnsmasq options...]: the namespace's DNS server on 127.0.0.1:53, answering
# only from its options (no /etc/hosts, no upstream, no configuration file), authoritative for
# .test; and /etc/netns/NS/resolv.conf pointing at it.
dnsmasq_start() {
  local ns=$1
  shift
  local log="$TEST_DIR/dnsmasq-$ns.log"
  printf 'nameserver 127.0.0.1\n' >"/etc/netns/$ns/resolv.conf"
  ip netns exec "$ns" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
    --listen-address=127.0.0.1 --port=53 --bind-interfaces --pid-file= --user=root \
    --local=/test/ --log-queries "$@" >"$log" 2>&1 &
  PIDS+=($!)
  wait_listen "$ns" udp 53 $! "$log"
}
