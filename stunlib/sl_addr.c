/* Conversions, parsing, formatting and classification of transport addresses. */
#include "sl_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sl_err.h"

int sl_addr_from_sockaddr(struct sl_addr *out, const struct sockaddr *sa, size_t salen)
{
    memset(out, 0, sizeof(*out));
    if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        out->family = SL_AF_IPV4;
        out->port = ntohs(in->sin_port);
        memcpy(out->ip, &in->sin_addr, 4);
        return SL_OK;
    }
    if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        out->family = SL_AF_IPV6;
        out->port = ntohs(in6->sin6_port);
        memcpy(out->ip, &in6->sin6_addr, 16);
        return SL_OK;
    }
    return SL_EINVAL;
}

size_t sl_addr_to_sockaddr(const struct sl_addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == SL_AF_IPV4) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(a->port);
        memcpy(&in->sin_addr, a->ip, 4);
        return sizeof(*in);
    }
    if (a->family == SL_AF_IPV6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(a->port);
        memcpy(&in6->sin6_addr, a->ip, 16);
        return sizeof(*in6);
    }
    return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
    if (*s == '\0' || strlen(s) > 5)
        return SL_EINVAL;
    unsigned long v = 0;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9')
            return SL_EINVAL;
        v = v * 10 + (unsigned long)(*c - '0');
    }
    if (v > 65535)
        return SL_EINVAL;
    *port = (uint16_t)v;
    return SL_OK;
}

int sl_addr_parse(struct sl_addr *out, const char *s, int default_port)
{
    char host[64];
    const char *port = NULL;
    memset(out, 0, sizeof(*out));
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || (size_t)(end - s - 1) >= sizeof(host))
            return SL_EINVAL;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        if (end[1] == ':')
            port = end + 2;
        else if (end[1] != '\0')
            return SL_EINVAL;
    } else {
        const char *colon = strchr(s, ':');
        size_t hl = colon ? (size_t)(colon - s) : strlen(s);
        if (colon && strchr(colon + 1, ':')) {
            /* A bare IPv6 literal: no port possible without brackets. */
            hl = strlen(s);
            colon = NULL;
        }
        if (hl >= sizeof(host))
            return SL_EINVAL;
        memcpy(host, s, hl);
        host[hl] = '\0';
        if (colon)
            port = colon + 1;
    }
    if (inet_pton(AF_INET, host, out->ip) == 1)
        out->family = SL_AF_IPV4;
    else if (inet_pton(AF_INET6, host, out->ip) == 1)
        out->family = SL_AF_IPV6;
    else
        return SL_EINVAL;
    if (port)
        return parse_port(port, &out->port);
    if (default_port < 0 || default_port > 65535)
        return SL_EINVAL;
    out->port = (uint16_t)default_port;
    return SL_OK;
}

const char *sl_addr_format(const struct sl_addr *a, char *buf, size_t n, bool with_port)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (a->family == SL_AF_IPV4)
        inet_ntop(AF_INET, a->ip, ip, sizeof(ip));
    else if (a->family == SL_AF_IPV6)
        inet_ntop(AF_INET6, a->ip, ip, sizeof(ip));
    if (!with_port)
        snprintf(buf, n, "%s", ip);
    else if (a->family == SL_AF_IPV6)
        snprintf(buf, n, "[%s]:%u", ip, a->port);
    else
        snprintf(buf, n, "%s:%u", ip, a->port);
    return buf;
}

bool sl_addr_equal(const struct sl_addr *a, const struct sl_addr *b)
{
    size_t n = a->family == SL_AF_IPV4 ? 4 : 16;
    return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, n) == 0;
}

static enum sl_scope scope_v4(const uint8_t *ip)
{
    if (ip[0] == 0)
        return SL_SCOPE_UNSPECIFIED;
    if (ip[0] == 127)
        return SL_SCOPE_LOOPBACK;
    if (ip[0] == 10 || (ip[0] == 172 && (ip[1] & 0xF0) == 16) || (ip[0] == 192 && ip[1] == 168))
        return SL_SCOPE_PRIVATE;
    if (ip[0] == 169 && ip[1] == 254)
        return SL_SCOPE_LINKLOCAL;
    if (ip[0] == 100 && (ip[1] & 0xC0) == 64)
        return SL_SCOPE_CGNAT;
    if ((ip[0] & 0xF0) == 224)
        return SL_SCOPE_MULTICAST;
    if ((ip[0] == 192 && ip[1] == 0 && ip[2] == 2) || (ip[0] == 198 && ip[1] == 51 && ip[2] == 100) ||
        (ip[0] == 203 && ip[1] == 0 && ip[2] == 113))
        return SL_SCOPE_DOCUMENTATION;
    return SL_SCOPE_PUBLIC;
}

enum sl_scope sl_addr_scope(const struct sl_addr *a)
{
    static const uint8_t zero[16];
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a->family == SL_AF_IPV4)
        return scope_v4(a->ip);
    if (a->family != SL_AF_IPV6)
        return SL_SCOPE_UNSPECIFIED;
    if (memcmp(a->ip, v4mapped, 12) == 0)
        return scope_v4(a->ip + 12);
    if (memcmp(a->ip, zero, 16) == 0)
        return SL_SCOPE_UNSPECIFIED;
    if (memcmp(a->ip, zero, 15) == 0 && a->ip[15] == 1)
        return SL_SCOPE_LOOPBACK;
    if ((a->ip[0] & 0xFE) == 0xFC)
        return SL_SCOPE_PRIVATE;
    if (a->ip[0] == 0xFE && (a->ip[1] & 0xC0) == 0x80)
        return SL_SCOPE_LINKLOCAL;
    if (a->ip[0] == 0xFF)
        return SL_SCOPE_MULTICAST;
    if (a->ip[0] == 0x20 && a->ip[1] == 0x01 && a->ip[2] == 0x0d && a->ip[3] == 0xb8)
        return SL_SCOPE_DOCUMENTATION;
    return SL_SCOPE_PUBLIC;
}

const char *sl_scope_name(enum sl_scope s)
{
    switch (s) {
    case SL_SCOPE_PUBLIC: return "public";
    case SL_SCOPE_PRIVATE: return "private";
    case SL_SCOPE_LOOPBACK: return "loopback";
    case SL_SCOPE_LINKLOCAL: return "link-local";
    case SL_SCOPE_CGNAT: return "carrier-grade NAT";
    case SL_SCOPE_UNSPECIFIED: return "unspecified";
    case SL_SCOPE_MULTICAST: return "multicast";
    case SL_SCOPE_DOCUMENTATION: return "documentation";
    }
    return "unknown";
}
