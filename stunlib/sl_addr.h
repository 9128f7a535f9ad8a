/* Transport addresses as STUN carries them (family, port, IP), independent of sockets. */
#ifndef SL_ADDR_H
#define SL_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;
struct sockaddr_storage;

enum sl_family { SL_AF_NONE = 0, SL_AF_IPV4 = 0x01, SL_AF_IPV6 = 0x02 };

struct sl_addr {
    uint8_t family; /* enum sl_family */
    uint16_t port;
    uint8_t ip[16]; /* 4 bytes used for IPv4 */
};

/* "192.0.2.1:3478" or "[2001:db8::1]:3478"; fits in SL_ADDR_STRLEN. */
#define SL_ADDR_STRLEN 56

/* Where an address lies; the relay and policy judges use it. */
enum sl_scope {
    SL_SCOPE_PUBLIC = 0,
    SL_SCOPE_PRIVATE,      /* RFC 1918, fc00::/7 */
    SL_SCOPE_LOOPBACK,     /* 127/8, ::1 */
    SL_SCOPE_LINKLOCAL,    /* 169.254/16, fe80::/10 */
    SL_SCOPE_CGNAT,        /* 100.64/10 (RFC 6598) */
    SL_SCOPE_UNSPECIFIED,  /* 0.0.0.0/8, :: */
    SL_SCOPE_MULTICAST,    /* 224/4, ff00::/8 */
    SL_SCOPE_DOCUMENTATION /* 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32 */
};

int sl_addr_from_sockaddr(struct sl_addr *out, const struct sockaddr *sa, size_t salen);
/* Returns the sockaddr length, 0 for an address without a family. */
size_t sl_addr_to_sockaddr(const struct sl_addr *a, struct sockaddr_storage *ss);
/* Parses "IPv4:port", "[IPv6]:port", or a bare IP when default_port is not negative. */
int sl_addr_parse(struct sl_addr *out, const char *s, int default_port);
/* Formats with the port ("[::1]:3478"), or without when port is false. */
const char *sl_addr_format(const struct sl_addr *a, char *buf, size_t n, bool with_port);
bool sl_addr_equal(const struct sl_addr *a, const struct sl_addr *b);
enum sl_scope sl_addr_scope(const struct sl_addr *a);
const char *sl_scope_name(enum sl_scope s);

#endif
