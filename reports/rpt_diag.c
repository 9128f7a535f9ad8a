/* The diagnosis table: each stable id with its severity, meaning and the hint a support
 * engineer needs. Extend it; never rename an id (JSON, HTML and tests use them). */
#include <string.h>

#include "rpt_model.h"

#define F RPT_SEV_FAIL
#define W RPT_SEV_WARN
#define I RPT_SEV_INFO

const struct rpt_diag rpt_diags[] = {
    {"ok", I, "the step passed", ""},
    {"uri-invalid", F, "the TURN/STUN URI cannot be parsed",
     "Check the URI against RFC 7065: turn:HOST[:PORT][?transport=udp|tcp] or turns:...; "
     "credentials go in -u and --password-file, not in the URI."},
    {"credentials-missing", F, "a TURN URI was given without a username or password",
     "Give -u USER and --password-file FILE (or TURNPROBE_PASSWORD), or --secret-file with "
     "--user for TURN REST credentials."},
    {"rest-credential-expired", F, "the time-limited (TURN REST) username has expired",
     "The web application must mint fresh credentials for each session; check its TTL and the "
     "clocks of the application server and the TURN server (NTP)."},
    {"rest-credential-not-yet-valid", F, "the time-limited username's timestamp is in the future",
     "Check the clock of the server that minted the credential and the username format "
     "(coturn expects EXPIRY:user with EXPIRY the Unix time it expires)."},
    {"dns-failed", F, "the server's host name does not resolve",
     "Check the name for typos and that it has A/AAAA (or _turn._udp/_turns._tcp SRV) records "
     "visible from the customer's network."},
    {"dns-partial", W, "some of the host's addresses work and others do not",
     "A round-robin name includes a dead or misconfigured node; remove it from DNS or fix it. "
     "Clients that pick it will fail intermittently."},
    {"no-response", F, "the server did not answer within the deadline",
     "UDP or the port is probably filtered by a firewall between client and server, or the "
     "server is down. Try TCP/TLS on 443 (turnprobe matrix) and check the server's listening "
     "ports and security groups."},
    {"port-unreachable", F, "nothing listens on that port (ICMP port unreachable or TCP reset)",
     "The server is reachable but no TURN service listens there: check listening-port / "
     "tls-listening-port and that the transport (no-udp, no-tcp) is enabled."},
    {"tcp-connect-timeout", F, "the TCP connection was not accepted within the deadline",
     "A firewall drops the SYN, or the host is down. Check security groups for TCP on this "
     "port."},
    {"not-stun", F, "something other than STUN answered",
     "Another service listens on this port (a web server, a proxy, TLS where plain TURN was "
     "expected, or the reverse). Check the port and the transport in the URI."},
    {"tls-handshake-failed", F, "the TLS/DTLS handshake failed",
     "Check the server's certificate and key configuration (cert, pkey), the TLS versions and "
     "ciphers it allows, and that the port speaks TLS."},
    {"tls-cert-expired", F, "the server certificate has expired",
     "Renew the certificate on the TURN server (cert/pkey in turnserver.conf) and restart it."},
    {"tls-cert-not-yet-valid", F, "the server certificate is not valid yet",
     "Check the server's clock and the certificate's notBefore date."},
    {"tls-hostname-mismatch", F, "the certificate does not cover the host name in the URI",
     "Use a certificate whose subjectAltName includes the name clients use, or use that name "
     "in the URI."},
    {"tls-untrusted", F, "the certificate does not chain to a trusted root",
     "Install the full chain (leaf + intermediates) on the server; a self-signed certificate "
     "is refused by browsers."},
    {"tls-cert-expiring-soon", W, "the server certificate expires within 30 days",
     "Renew the certificate before it expires; check that automatic renewal reloads coturn."},
    {"auth-rejected", F, "the server refused the credentials (401 after MESSAGE-INTEGRITY)",
     "Check the username, the password and the realm the credential was issued for; with "
     "coturn static-auth-secret, the password must be base64(HMAC-SHA1(secret, username)) and "
     "the username EXPIRY:user."},
    {"auth-wrong-credentials", F, "the server says the credentials differ from the allocation's (441)",
     "The same 5-tuple was used with other credentials; wait for the allocation to expire or "
     "use a new source port."},
    {"auth-stale-nonce-loop", F, "the server keeps answering 438 Stale Nonce",
     "The server's nonce lifetime is shorter than a round trip, or its clock jumps; check "
     "stale-nonce in turnserver.conf."},
    {"auth-not-required", F, "the server allocated a relay without asking for credentials",
     "This is an open relay anyone can abuse; enable long-term credentials (lt-cred-mech or "
     "use-auth-secret) in turnserver.conf."},
    {"alternate-server", W, "the server redirected the client (300 Try Alternate)",
     "Load balancing by redirect: make sure every alternate server is reachable from the "
     "customer's network and accepts the same credentials."},
    {"allocation-quota", F, "the user's allocation quota is reached (486)",
     "Too many allocations for this user: raise user-quota in turnserver.conf, or find the "
     "client that leaks allocations (they expire after their lifetime)."},
    {"insufficient-capacity", F, "the server has no capacity left (508)",
     "The relay port range (min-port..max-port) or total-quota/bps-capacity is exhausted; widen "
     "the range or add servers."},
    {"allocation-mismatch", F, "the server reports an allocation mismatch (437)",
     "An allocation already exists for this 5-tuple, or a Refresh/permission came for one that "
     "does not; often a NAT rebinding or a reused source port."},
    {"transport-unsupported", F, "the server refuses the requested relay transport (442)",
     "The server cannot relay this transport (no-udp-relay or no-tcp-relay set)."},
    {"family-unsupported", F, "the server cannot relay the requested address family (440)",
     "The server has no relay address of that family; configure relay-ip / external-ip for it."},
    {"forbidden", F, "the server forbade the request (403)",
     "The user, the realm or the client's address is not allowed (denied-peer-ip, "
     "allowed-peer-ip, no-multicast-peers, or a per-user restriction)."},
    {"unknown-attribute", F, "the server did not understand an attribute of ours (420)",
     "The server does not implement an attribute the request carried; see which are listed in "
     "UNKNOWN-ATTRIBUTES."},
    {"bad-request", F, "the server found a request malformed (400)",
     "An interoperability problem between client and server versions; capture it and compare "
     "with the RFC."},
    {"server-error", F, "the server failed temporarily (500)",
     "Check the TURN server's log at that time."},
    {"unexpected-error", F, "the server answered with an error code this step does not expect",
     "Check the error code and reason against the server's documentation."},
    {"integrity-invalid", F, "a response's MESSAGE-INTEGRITY does not verify",
     "Something between client and server rewrites packets, or the server computes the key "
     "from another realm or password: responses cannot be trusted."},
    {"relay-address-private", F, "the relayed address is private, loopback or otherwise unroutable",
     "The server advertises an address peers cannot reach: set external-ip=PUBLIC/PRIVATE "
     "(and relay-ip) in turnserver.conf when the server is behind NAT."},
    {"permission-forbidden", F, "CreatePermission for the peer was refused (403)",
     "The server's peer policy refuses this peer (denied-peer-ip, no-loopback-peers, "
     "private ranges); allow the range your peers use."},
    {"relay-no-data", F, "data sent through the relay never arrived",
     "The relay ports (min-port..max-port, UDP) are probably blocked by the server's firewall "
     "or security group, or external-ip is wrong."},
    {"relay-one-way", F, "data went through the relay in one direction only",
     "Check the firewall for the relay port range in both directions and permissions on both "
     "sides."},
    {"channel-bind-failed", F, "ChannelBind was refused",
     "Check the error code: 400 for a bad channel number, 403 for peer policy, 437/438 as for "
     "other requests."},
    {"channel-no-data", F, "ChannelData did not round-trip",
     "Channels are bound but data does not flow: check the relay port range in the firewall "
     "and that the server supports channels over this transport."},
    {"ice-check-failed", F, "the ICE connectivity check through the relay got no success",
     "Permissions or the relay path fail for ICE traffic; compare with the send-data step."},
    {"ice-timeout", F, "the ICE agents did not connect within the deadline",
     "Check the relay candidates were gathered; a firewall on the relay range blocks checks."},
    {"peer-policy-permissive", W, "the server relays to a private, loopback or metadata address",
     "Anyone with credentials can reach the server's internal network through the relay: set "
     "denied-peer-ip for 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16, 127.0.0.0/8, "
     "::1, fc00::/7 and the server's own addresses (coturn: no-loopback-peers, "
     "no-multicast-peers)."},
    {"refresh-failed", F, "Refresh or deallocation failed",
     "The allocation could not be refreshed or released; check the error code and "
     "max-allocate-lifetime."},
    {"proxy-unreachable", F, "the proxy given with --proxy cannot be reached or is not a proxy",
     "Check the proxy's address and port (the browser's or the system's proxy settings, PAC "
     "file, https_proxy) and that it speaks the scheme given: http:// for HTTP CONNECT, "
     "socks5:// for SOCKS5."},
    {"proxy-auth-required", F, "the proxy wants credentials, or refused the ones given (407)",
     "Give the proxy's username and password in the URL (--proxy http://USER:PASS@HOST:PORT) "
     "and check them; a proxy that only does NTLM/Kerberos (Negotiate) needs a browser, not "
     "Basic credentials."},
    {"proxy-refused", F, "the proxy refuses CONNECT to this server or port (403, SOCKS ruleset)",
     "Corporate proxies often allow CONNECT to port 443 only (squid: SSL_ports, tinyproxy: "
     "ConnectPort): offer TURN over TLS on 443 (turns:HOST:443?transport=tcp), or ask for the "
     "TURN server's ports to be allowed."},
    {"proxy-connect-failed", F, "the proxy could not connect to the TURN server (5xx, SOCKS "
     "refused/unreachable)",
     "The proxy accepted the request but the server did not answer it: check that the TURN "
     "server listens on this port and that the proxy's own network may reach it."},
    {"proxy-tls-intercepted", W, "a proxy replaces the server's TLS certificate (TLS interception)",
     "A TLS-inspecting proxy terminates TLS with its own certificate: browsers refuse it for "
     "TURN over TLS unless the proxy's CA is trusted. Exempt the TURN server's name from TLS "
     "inspection on the proxy."},
    {"proxy-udp-unsupported", F, "UDP and DTLS cannot go through an HTTP or SOCKS5 proxy",
     "HTTP CONNECT and SOCKS5 CONNECT carry TCP only: through a proxy, use "
     "turn:HOST:PORT?transport=tcp or turns:HOST:443?transport=tcp."},
};
const size_t rpt_diag_count = G_N_ELEMENTS(rpt_diags);

const struct rpt_diag *rpt_diag_find(const char *id)
{
    for (size_t i = 0; i < rpt_diag_count; i++)
        if (strcmp(rpt_diags[i].id, id) == 0)
            return &rpt_diags[i];
    return NULL;
}
