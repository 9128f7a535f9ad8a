/* Redaction of a result model: stable labels for usernames, realms, nonces, hosts, public IPs. */
#include "rpt_redact.h"

#include <stdio.h>
#include <string.h>

/* A redacted public address keeps its family and port; its IP becomes a placeholder that names
 * the label and cannot be a real peer: 0.R.I.I in 0.0.0.0/8 ("this network", never a source or
 * destination on the wire) and 100::R:I in 100::/64 (RFC 6666 discard-only). R is the role,
 * I the label's number, so the placeholder alone gives the label back. */
enum role { ROLE_CLIENT = 1, ROLE_SERVER, ROLE_PEER, ROLE_OTHER };
static const char *const role_names[] = {NULL, "client", "server", "peer", "other"};

static bool placeholder_decode(const struct sl_addr *a, int *role, unsigned *idx)
{
    static const uint8_t v6prefix[12] = {0x01, 0x00};
    if (a->family == SL_AF_IPV4 && a->ip[0] == 0 && a->ip[1] >= ROLE_CLIENT &&
        a->ip[1] <= ROLE_OTHER && (a->ip[2] || a->ip[3])) {
        *role = a->ip[1];
        *idx = (unsigned)a->ip[2] << 8 | a->ip[3];
        return true;
    }
    if (a->family == SL_AF_IPV6 && memcmp(a->ip, v6prefix, 12) == 0 && a->ip[12] == 0 &&
        a->ip[13] >= ROLE_CLIENT && a->ip[13] <= ROLE_OTHER && (a->ip[14] || a->ip[15])) {
        *role = a->ip[13];
        *idx = (unsigned)a->ip[14] << 8 | a->ip[15];
        return true;
    }
    return false;
}

const char *rpt_redact_addr_format(const struct sl_addr *a, char *buf, size_t n, bool with_port)
{
    int role;
    unsigned idx;
    if (!placeholder_decode(a, &role, &idx))
        return sl_addr_format(a, buf, n, with_port);
    if (!with_port)
        snprintf(buf, n, "%s-public-%u", role_names[role], idx);
    else if (a->family == SL_AF_IPV6)
        snprintf(buf, n, "[%s-public-%u]:%u", role_names[role], idx, a->port);
    else
        snprintf(buf, n, "%s-public-%u:%u", role_names[role], idx, a->port);
    return buf;
}
