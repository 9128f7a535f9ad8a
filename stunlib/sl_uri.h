/* stun:, stuns:, turn: and turns: URIs (RFC 7064, RFC 7065): parsing, checking, formatting. */
#ifndef SL_URI_H
#define SL_URI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_err.h"

enum sl_uri_scheme { SL_URI_STUN, SL_URI_STUNS, SL_URI_TURN, SL_URI_TURNS };
enum sl_uri_transport { SL_URI_UDP, SL_URI_TCP };

#define SL_URI_PORT_PLAIN  3478 /* stun:, turn: (RFC 8489 §18.6, RFC 8656 §19) */
#define SL_URI_PORT_SECURE 5349 /* stuns:, turns: */

struct sl_uri {
    enum sl_uri_scheme scheme;
    bool secure;     /* stuns:/turns: */
    bool turn;       /* turn:/turns: */
    char host[256];  /* without brackets for IPv6 literals; case as given, compare ignoring case */
    bool host_is_ip; /* an IPv4 or IPv6 literal (no SNI, no DNS) */
    bool host_is_ipv6;
    uint16_t port; /* the explicit port, or the scheme's default: 3478, or 5349 for stuns/turns */
    bool port_explicit;
    /* ?transport=, else UDP for turn:/stun:, TCP for turns:/stuns: */
    enum sl_uri_transport transport;
    bool transport_explicit;
};

/* Parses s; on failure returns an sl_err code (SL_EINVAL) and writes a one-line reason into why,
 * such as `unknown scheme "tunr" (expected turn, turns, stun, stuns)`,
 * `port "99999" out of range (1-65535)`, `unknown transport "sctp" (expected udp or tcp)`,
 * `IPv6 literal "[::1" lacks "]"`, `missing host`, or
 * `"?transport=" is not allowed for stun: URIs (RFC 7064 has no query)`.
 * The reason never repeats userinfo ("user:pass@"), which may hold a password. why may be NULL. */
int sl_uri_parse(struct sl_uri *out, const char *s, char *why, size_t why_len);

/* Canonical form: "turn:host:port?transport=tcp" with brackets for IPv6: the scheme and the
 * transport in lower case, the host as given. The port and the transport appear only when the
 * input had them, because leaving them out means something (RFC 7065 §3: a URI without a port
 * asks for SRV resolution). Truncates to n; returns buf. */
const char *sl_uri_format(const struct sl_uri *u, char *buf, size_t n);

/* "stun", "stuns", "turn", "turns". */
const char *sl_uri_scheme_name(enum sl_uri_scheme s);

/* "udp", "tcp". */
const char *sl_uri_transport_name(enum sl_uri_transport t);

#endif
