/* stun:, stuns:, turn: and turns: URIs (RFC 7064, RFC 7065): a strict parser that says why. */
#include "sl_uri.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Longest piece of the input quoted in a reason, so that the reason stays one short line. */
#define QUOTE_MAX 64

static const struct {
    enum sl_uri_scheme scheme;
    const char *name;
} schemes[] = {
    {SL_URI_STUN, "stun"},
    {SL_URI_STUNS, "stuns"},
    {SL_URI_TURN, "turn"},
    {SL_URI_TURNS, "turns"},
};

const char *sl_uri_scheme_name(enum sl_uri_scheme s)
{
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (schemes[i].scheme == s)
            return schemes[i].name;
    return "?";
}

const char *sl_uri_transport_name(enum sl_uri_transport t)
{
    return t == SL_URI_TCP ? "tcp" : "udp";
}

/* Where the reason goes; a NULL buffer or a zero size means the caller wants none. */
struct why {
    char *buf;
    size_t n;
};

static int fail(struct why *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct why *w, const char *fmt, ...)
{
    if (w->buf && w->n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->buf, w->n, fmt, ap);
        va_end(ap);
    }
    return SL_EINVAL;
}

/* Copies up to QUOTE_MAX bytes of p[0..len) into q, marking a cut with "...". The input holds
 * only printable ASCII by the time anything is quoted (the first pass refuses the rest). */
static const char *snip(char *q, size_t qn, const char *p, size_t len)
{
    if (len > QUOTE_MAX)
        snprintf(q, qn, "%.*s...", QUOTE_MAX, p);
    else
        snprintf(q, qn, "%.*s", (int)len, p);
    return q;
}

/* First pass: a URI is printable ASCII (RFC 3986 §2). Whitespace usually comes from a copy and
 * paste, and a non-ASCII host must be written in its A-label (xn--) form. */
static int check_chars(const char *s, struct why *w)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *edge = (i == 0 || i + 1 == len) ? " (leading or trailing whitespace from a "
                                                      "copy and paste?)"
                                                    : "";
        if (c == ' ')
            return fail(w, "space at character %zu%s", i + 1, edge);
        if (c == '\t')
            return fail(w, "tab at character %zu%s", i + 1, edge);
        if (c == '\n' || c == '\r')
            return fail(w, "line break at character %zu%s", i + 1, edge);
        if (c < 0x20 || c == 0x7f)
            return fail(w, "control character 0x%02x at character %zu", c, i + 1);
        if (c >= 0x80)
            return fail(w,
                        "non-ASCII byte 0x%02x at character %zu (write an international host "
                        "name in its xn-- form)",
                        c, i + 1);
    }
    return SL_OK;
}

static bool all_digits(const char *p, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int parse_scheme(struct sl_uri *out, const char *s, const char **rest, struct why *w)
{
    char q[QUOTE_MAX + 4];
    const char *colon = strchr(s, ':');
    if (!colon || colon == s || s[0] == '[')
        return fail(w, "missing scheme in \"%s\" (expected turn:, turns:, stun: or stuns:)",
                    snip(q, sizeof(q), s, strlen(s)));
    size_t n = (size_t)(colon - s);
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        if (strlen(schemes[i].name) == n && strncasecmp(s, schemes[i].name, n) == 0) {
            out->scheme = schemes[i].scheme;
            *rest = colon + 1;
            return SL_OK;
        }
    }
    /* "turn.example.org:3478" is a host and a port that lost its scheme, not a scheme. */
    const char *after = colon + 1;
    size_t plen = strcspn(after, "?/#");
    if (all_digits(after, plen))
        return fail(w, "missing scheme: \"%s\" looks like HOST:PORT; write turn:%s",
                    snip(q, sizeof(q), s, strlen(s)), q);
    return fail(w, "unknown scheme \"%s\" (expected turn, turns, stun, stuns)",
                snip(q, sizeof(q), s, n));
}

static int parse_port(struct sl_uri *out, const char *p, size_t len, const char *host_shown,
                      struct why *w)
{
    char q[QUOTE_MAX + 4];
    if (len == 0)
        return fail(w, "empty port after \"%s:\" (give a port number or leave out the \":\")",
                    host_shown);
    if (!all_digits(p, len))
        return fail(w, "port \"%s\" is not a number", snip(q, sizeof(q), p, len));
    unsigned long v = 0;
    for (size_t i = 0; i < len && v <= 65535; i++)
        v = v * 10 + (unsigned long)(p[i] - '0');
    if (v == 0 || v > 65535)
        return fail(w, "port \"%s\" out of range (1-65535)", snip(q, sizeof(q), p, len));
    out->port = (uint16_t)v;
    out->port_explicit = true;
    return SL_OK;
}

/* RFC 3986 §3.2.2: an IP-literal in brackets. Zone identifiers (RFC 6874) and IPvFuture are
 * legal URI syntax but no TURN client can use them. */
static int parse_ip_literal(struct sl_uri *out, const char *a, size_t alen, size_t *used,
                            struct why *w)
{
    char q[QUOTE_MAX + 4];
    const char *close = memchr(a, ']', alen);
    if (!close)
        return fail(w, "IPv6 literal \"%s\" lacks \"]\"", snip(q, sizeof(q), a, alen));
    size_t ilen = (size_t)(close - a - 1);
    const char *inner = a + 1;
    if (ilen == 0)
        return fail(w, "empty IPv6 literal \"[]\"");
    if (memchr(inner, '%', ilen))
        return fail(w, "IPv6 literal \"[%s]\" has a zone identifier, which is not supported",
                    snip(q, sizeof(q), inner, ilen));
    if (inner[0] == 'v' || inner[0] == 'V')
        return fail(w, "IPvFuture literal \"[%s]\" is not supported",
                    snip(q, sizeof(q), inner, ilen));
    unsigned char bin[16];
    char tmp[64];
    if (ilen >= sizeof(tmp))
        return fail(w, "invalid IPv6 literal \"[%s]\"", snip(q, sizeof(q), inner, ilen));
    memcpy(tmp, inner, ilen);
    tmp[ilen] = '\0';
    if (inet_pton(AF_INET6, tmp, bin) != 1) {
        if (inet_pton(AF_INET, tmp, bin) == 1)
            return fail(w, "IPv4 address \"%s\" must not be in brackets", tmp);
        return fail(w, "invalid IPv6 literal \"[%s]\"", tmp);
    }
    memcpy(out->host, tmp, ilen + 1);
    out->host_is_ip = true;
    out->host_is_ipv6 = true;
    *used = ilen + 2;
    return SL_OK;
}

/* A reg-name that DNS can resolve (RFC 1123 §2.1 labels, plus "_" which DNS allows and some
 * internal names use), or an IPv4 address. RFC 3986 §3.2.2 would allow more (percent-encoding,
 * sub-delims), but no resolver accepts them, so refusing them here says so before DNS does. */
static int parse_reg_name(struct sl_uri *out, const char *h, size_t hlen, struct why *w)
{
    char q[QUOTE_MAX + 4];
    if (hlen == 0)
        return fail(w, "missing host");
    for (size_t i = 0; i < hlen; i++) {
        char c = h[i];
        if (!is_alnum(c) && c != '-' && c != '.' && c != '_')
            return fail(w, "invalid character \"%c\" in host \"%s\"", c,
                        snip(q, sizeof(q), h, hlen));
    }
    /* A trailing dot (a fully qualified name) is allowed and kept. */
    size_t nlen = h[hlen - 1] == '.' ? hlen - 1 : hlen;
    if (nlen == 0)
        return fail(w, "missing host (only \".\")");
    if (nlen > 253)
        return fail(w, "host name is %zu characters long (at most 253)", nlen);
    bool numeric = true;
    for (size_t i = 0; i < nlen; i++)
        if (h[i] != '.' && (h[i] < '0' || h[i] > '9'))
            numeric = false;
    if (numeric) {
        /* RFC 3986 §3.2.2: what looks like an IPv4 address must be one; inet_pton refuses the
         * short and octal forms ("10.1", "010.0.0.1") that inet_aton would guess at. */
        unsigned char bin[4];
        char tmp[256];
        memcpy(tmp, h, nlen);
        tmp[nlen] = '\0';
        if (nlen != hlen || inet_pton(AF_INET, tmp, bin) != 1)
            return fail(w, "invalid IPv4 address \"%s\"", snip(q, sizeof(q), h, hlen));
        memcpy(out->host, tmp, nlen + 1);
        out->host_is_ip = true;
        return SL_OK;
    }
    size_t start = 0, last_start = 0;
    while (start <= nlen) {
        const char *dot = memchr(h + start, '.', nlen - start);
        size_t end = dot ? (size_t)(dot - h) : nlen;
        size_t llen = end - start;
        if (llen == 0)
            return fail(w, "empty label in host \"%s\"", snip(q, sizeof(q), h, hlen));
        if (llen > 63)
            return fail(w, "a label of host \"%s\" is %zu characters long (at most 63)",
                        snip(q, sizeof(q), h, hlen), llen);
        if (h[start] == '-' || h[end - 1] == '-')
            return fail(w, "label \"%s\" of the host starts or ends with \"-\"",
                        snip(q, sizeof(q), h + start, llen));
        last_start = start;
        if (!dot)
            break;
        start = end + 1;
    }
    /* RFC 3696 §2: a top-level domain is never all digits, so "foo.123" is a mistyped address
     * or name, and a resolver would treat it inconsistently. */
    if (all_digits(h + last_start, nlen - last_start))
        return fail(w,
                    "host \"%s\" is neither an IPv4 address nor a host name (its last label is "
                    "all digits)",
                    snip(q, sizeof(q), h, hlen));
    memcpy(out->host, h, hlen);
    out->host[hlen] = '\0';
    return SL_OK;
}

static int parse_authority(struct sl_uri *out, const char *a, size_t alen, struct why *w)
{
    char q[QUOTE_MAX + 4];
    if (alen == 0)
        return fail(w, "missing host");
    if (a[0] == '[') {
        size_t used = 0;
        int rc = parse_ip_literal(out, a, alen, &used, w);
        if (rc != SL_OK)
            return rc;
        if (used == alen)
            return SL_OK;
        if (a[used] != ':')
            return fail(w, "unexpected \"%s\" after the IPv6 literal \"[%s]\"",
                        snip(q, sizeof(q), a + used, alen - used), out->host);
        char shown[sizeof(out->host) + 2];
        snprintf(shown, sizeof(shown), "[%s]", out->host);
        return parse_port(out, a + used + 1, alen - used - 1, shown, w);
    }
    const char *colon = memchr(a, ':', alen);
    if (colon && memchr(colon + 1, ':', alen - (size_t)(colon - a) - 1)) {
        /* Two colons: an IPv6 address without its brackets (RFC 3986 §3.2.2 requires them,
         * because the port's colon would be ambiguous). */
        char tmp[64];
        unsigned char bin[16];
        if (alen < sizeof(tmp)) {
            memcpy(tmp, a, alen);
            tmp[alen] = '\0';
            if (inet_pton(AF_INET6, tmp, bin) == 1)
                return fail(w, "IPv6 address \"%s\" must be in brackets: %s:[%s]", tmp,
                            sl_uri_scheme_name(out->scheme), tmp);
        }
        return fail(w,
                    "host \"%s\" has more than one \":\" (an IPv6 address goes in brackets, "
                    "as in %s:[2001:db8::1]:%u)",
                    snip(q, sizeof(q), a, alen), sl_uri_scheme_name(out->scheme),
                    (unsigned)out->port);
    }
    size_t hlen = colon ? (size_t)(colon - a) : alen;
    int rc = parse_reg_name(out, a, hlen, w);
    if (rc != SL_OK)
        return rc;
    if (!colon)
        return SL_OK;
    return parse_port(out, colon + 1, alen - hlen - 1, out->host, w);
}

/* RFC 7065 §3: turnURI = scheme ":" host [ ":" port ] [ "?transport=" transport ]. ABNF
 * strings are case-insensitive (RFC 5234 §2.3), so "?TRANSPORT=TCP" is valid too. */
static int parse_query(struct sl_uri *out, const char *qs, struct why *w)
{
    char q[QUOTE_MAX + 4];
    static const char key[] = "transport=";
    const size_t klen = sizeof(key) - 1;
    if (!out->turn) {
        /* RFC 7064 §3.1: stunURI = scheme ":" host [ ":" port ], no query at all. */
        if (strncasecmp(qs, key, klen) == 0)
            return fail(w, "\"?transport=\" is not allowed for %s: URIs (RFC 7064 has no query)",
                        sl_uri_scheme_name(out->scheme));
        return fail(w, "query \"?%s\" is not allowed for %s: URIs (RFC 7064 has no query)",
                    snip(q, sizeof(q), qs, strlen(qs)), sl_uri_scheme_name(out->scheme));
    }
    if (qs[0] == '\0')
        return fail(w, "empty query after \"?\" (expected ?transport=udp or ?transport=tcp)");
    if (strpbrk(qs, "&;"))
        return fail(w,
                    "query \"?%s\" has several parameters; only transport= is defined "
                    "(RFC 7065)",
                    snip(q, sizeof(q), qs, strlen(qs)));
    if (strncasecmp(qs, key, klen) != 0)
        return fail(w, "unknown query \"?%s\" (only ?transport=udp or ?transport=tcp, RFC 7065)",
                    snip(q, sizeof(q), qs, strlen(qs)));
    const char *v = qs + klen;
    if (strcasecmp(v, "udp") == 0) {
        out->transport = SL_URI_UDP;
    } else if (strcasecmp(v, "tcp") == 0) {
        out->transport = SL_URI_TCP;
    } else if (v[0] == '\0') {
        return fail(w, "empty transport after \"?transport=\" (expected udp or tcp)");
    } else if (strcasecmp(v, "tls") == 0 || strcasecmp(v, "dtls") == 0) {
        /* A common guess: security is the scheme's business, not the transport's. */
        return fail(w,
                    "unknown transport \"%s\" (expected udp or tcp; for %s write turns:HOST"
                    "?transport=%s)",
                    snip(q, sizeof(q), v, strlen(v)), strcasecmp(v, "tls") == 0 ? "TLS" : "DTLS",
                    strcasecmp(v, "tls") == 0 ? "tcp" : "udp");
    } else {
        return fail(w, "unknown transport \"%s\" (expected udp or tcp)",
                    snip(q, sizeof(q), v, strlen(v)));
    }
    out->transport_explicit = true;
    return SL_OK;
}

int sl_uri_parse(struct sl_uri *out, const char *s, char *why, size_t why_len)
{
    struct why w = {why, why_len};
    char q[QUOTE_MAX + 4];
    memset(out, 0, sizeof(*out));
    if (why && why_len)
        why[0] = '\0';
    if (!s || s[0] == '\0')
        return fail(&w, "empty URI");
    int rc = check_chars(s, &w);
    if (rc != SL_OK)
        return rc;
    const char *rest = NULL;
    rc = parse_scheme(out, s, &rest, &w);
    if (rc != SL_OK)
        return rc;
    out->secure = out->scheme == SL_URI_STUNS || out->scheme == SL_URI_TURNS;
    out->turn = out->scheme == SL_URI_TURN || out->scheme == SL_URI_TURNS;
    out->port = out->secure ? SL_URI_PORT_SECURE : SL_URI_PORT_PLAIN;
    out->transport = out->secure ? SL_URI_TCP : SL_URI_UDP;
    const char *scheme = sl_uri_scheme_name(out->scheme);

    /* Userinfo first, and without quoting it: "user:password@host" carries a password. */
    if (strchr(rest, '@'))
        return fail(&w,
                    "%s: URIs carry no user name or password (\"...@\"); give them with "
                    "-u/--username and --password-file",
                    scheme);
    if (rest[0] == '/' && rest[1] == '/')
        return fail(&w, "\"//\" after \"%s:\": these URIs have no authority part; write %s:HOST",
                    scheme, scheme);
    const char *hash = strchr(rest, '#');
    if (hash)
        return fail(&w, "fragment \"%s\" is not allowed", snip(q, sizeof(q), hash, strlen(hash)));
    const char *qmark = strchr(rest, '?');
    size_t alen = qmark ? (size_t)(qmark - rest) : strlen(rest);
    const char *slash = memchr(rest, '/', alen);
    if (slash)
        return fail(&w, "path \"%s\" is not allowed after the host (%s: URIs have none)",
                    snip(q, sizeof(q), slash, alen - (size_t)(slash - rest)), scheme);
    rc = parse_authority(out, rest, alen, &w);
    if (rc != SL_OK)
        return rc;
    if (qmark)
        return parse_query(out, qmark + 1, &w);
    return SL_OK;
}

const char *sl_uri_format(const struct sl_uri *u, char *buf, size_t n)
{
    if (!buf || n == 0)
        return buf;
    char port[8] = "";
    char transport[16] = "";
    if (u->port_explicit)
        snprintf(port, sizeof(port), ":%u", (unsigned)u->port);
    if (u->transport_explicit)
        snprintf(transport, sizeof(transport), "?transport=%s",
                 sl_uri_transport_name(u->transport));
    snprintf(buf, n, "%s:%s%s%s%s%s", sl_uri_scheme_name(u->scheme), u->host_is_ipv6 ? "[" : "",
             u->host, u->host_is_ipv6 ? "]" : "", port, transport);
    return buf;
}
