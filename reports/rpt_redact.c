/* Redaction of a result model: stable labels for usernames, realms, nonces, hosts, public IPs. */
#include "rpt_redact.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "sl_chan.h"
#include "sl_msg.h"

/* A redacted public address keeps its family and port; its IP becomes a placeholder that names
 * the label and cannot be a real peer: 0.R.I.I in 0.0.0.0/8 ("this network", never a source or
 * destination on the wire) and 100::R:I in 100::/64 (RFC 6666 discard-only). R is the role,
 * I the label's number, so the placeholder alone gives the label back. */
enum role { ROLE_CLIENT = 1, ROLE_SERVER, ROLE_PEER, ROLE_OTHER, ROLE_N };
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

/* --- the mapping ---------------------------------------------------------------------------- */

enum kind { K_USER, K_REALM, K_NONCE, K_HOST, K_N };
static const char *const kind_names[] = {"user", "realm", "nonce", "host"};

/* Shorter values are replaced only where they are a whole field: as words in free text they
 * would hit ordinary words ("a", "ok"). */
#define MIN_TEXT_MATCH 3

struct lit {
    char *orig;
    const char *label; /* owned by the first lit of that label */
    char *own_label;
};

struct ipmap {
    struct sl_addr ip; /* port 0 */
    int role;
    unsigned idx;
    char label[32];
};

struct red {
    GPtrArray *lits;    /* struct lit*, longest first when matching */
    GPtrArray *ips;     /* struct ipmap* */
    GPtrArray *domains; /* char*: registrable domains of the hosts, lower case */
    unsigned nkind[K_N];
    unsigned nrole[ROLE_N];
    gboolean sorted;
};

static void lit_free(gpointer p)
{
    struct lit *l = p;
    g_free(l->orig);
    g_free(l->own_label);
    g_free(l);
}

/* A label of ours, as a second redaction finds them: left alone, so redaction is idempotent. */
static gboolean is_label(const char *s)
{
    static const char *const pats[] = {"user-", "realm-", "nonce-", "host-"};
    const char *num = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(pats) && !num; i++)
        if (g_str_has_prefix(s, pats[i]))
            num = s + strlen(pats[i]);
    for (int r = ROLE_CLIENT; r < ROLE_N && !num; r++) {
        char p[24];
        g_snprintf(p, sizeof(p), "%s-public-", role_names[r]);
        if (g_str_has_prefix(s, p))
            num = s + strlen(p);
    }
    if (!num || !*num)
        return FALSE;
    for (; *num; num++)
        if (!g_ascii_isdigit(*num))
            return FALSE;
    return TRUE;
}

static struct lit *lit_find(struct red *rd, const char *s, size_t len)
{
    for (guint i = 0; i < rd->lits->len; i++) {
        struct lit *l = g_ptr_array_index(rd->lits, i);
        if (strlen(l->orig) == len && g_ascii_strncasecmp(l->orig, s, len) == 0)
            return l;
    }
    return NULL;
}

static void lit_alias(struct red *rd, const char *orig, const char *label)
{
    if (strlen(orig) < MIN_TEXT_MATCH || lit_find(rd, orig, strlen(orig)))
        return;
    struct lit *l = g_new0(struct lit, 1);
    l->orig = g_strdup(orig);
    l->label = label;
    g_ptr_array_add(rd->lits, l);
    rd->sorted = FALSE;
}

/* The registrable part of a host name, well enough to catch its siblings: the last two labels,
 * or three under a two-letter country code with a generic second level (example.co.uk). */
static char *registrable_domain(const char *host)
{
    static const char *const generic[] = {"co", "com", "net", "org", "gov", "edu", "ac", "or",
                                          "ne", "go"};
    char *h = g_ascii_strdown(host, -1);
    gsize hl = strlen(h);
    while (hl && h[hl - 1] == '.')
        h[--hl] = '\0';
    gchar **parts = g_strsplit(h, ".", -1);
    guint n = g_strv_length(parts), take = 2;
    if (n >= 3 && strlen(parts[n - 1]) == 2)
        for (size_t i = 0; i < G_N_ELEMENTS(generic); i++)
            if (strcmp(parts[n - 2], generic[i]) == 0)
                take = 3;
    char *out = NULL;
    gboolean ok = n >= take;
    for (guint i = n - MIN(n, take); ok && i < n; i++)
        ok = *parts[i] != '\0';
    if (ok)
        out = g_strjoinv(".", parts + n - take);
    g_strfreev(parts);
    g_free(h);
    return out;
}

static gboolean is_ip_text(const char *s)
{
    struct sl_addr a;
    return sl_addr_parse(&a, s, 0) == 0;
}

static const char *lit_add(struct red *rd, enum kind k, const char *value)
{
    if (!value || !*value || is_label(value))
        return NULL;
    struct lit *l = lit_find(rd, value, strlen(value));
    if (l)
        return l->label;
    l = g_new0(struct lit, 1);
    l->orig = g_strdup(value);
    l->own_label = g_strdup_printf("%s-%u", kind_names[k], ++rd->nkind[k]);
    l->label = l->own_label;
    g_ptr_array_add(rd->lits, l);
    rd->sorted = FALSE;
    if (k == K_USER) {
        /* A TURN REST username is EXPIRY:user: the user part alone names the same person. */
        const char *colon = strchr(value, ':');
        if (colon && colon > value && colon[1]) {
            gboolean digits = TRUE;
            for (const char *c = value; c < colon && digits; c++)
                digits = g_ascii_isdigit(*c);
            if (digits)
                lit_alias(rd, colon + 1, l->label);
        }
    }
    if (k == K_HOST) {
        char *dom = registrable_domain(value);
        gboolean have = !dom;
        for (guint i = 0; i < rd->domains->len && !have; i++)
            have = strcmp(g_ptr_array_index(rd->domains, i), dom) == 0;
        if (have)
            g_free(dom);
        else
            g_ptr_array_add(rd->domains, dom);
    }
    return l->label;
}

static gboolean is_public(const struct sl_addr *a)
{
    int role;
    unsigned idx;
    if (a->family != SL_AF_IPV4 && a->family != SL_AF_IPV6)
        return FALSE;
    if (placeholder_decode(a, &role, &idx))
        return FALSE;
    enum sl_scope s = sl_addr_scope(a);
    /* Documentation ranges count as public: tests and examples use them as public addresses. */
    return s == SL_SCOPE_PUBLIC || s == SL_SCOPE_DOCUMENTATION;
}

/* The label of a public IP (the first role it is seen in wins), NULL for any other address. */
static struct ipmap *ip_get(struct red *rd, const struct sl_addr *a, int role)
{
    if (!is_public(a))
        return NULL;
    size_t n = a->family == SL_AF_IPV4 ? 4 : 16;
    for (guint i = 0; i < rd->ips->len; i++) {
        struct ipmap *m = g_ptr_array_index(rd->ips, i);
        if (m->ip.family == a->family && memcmp(m->ip.ip, a->ip, n) == 0)
            return m;
    }
    struct ipmap *m = g_new0(struct ipmap, 1);
    m->ip = *a;
    m->ip.port = 0;
    m->role = role;
    m->idx = ++rd->nrole[role];
    g_snprintf(m->label, sizeof(m->label), "%s-public-%u", role_names[role], m->idx);
    g_ptr_array_add(rd->ips, m);
    return m;
}

static void ip_placeholder(const struct ipmap *m, struct sl_addr *a)
{
    uint16_t port = a->port;
    memset(a, 0, sizeof(*a));
    a->family = m->ip.family;
    a->port = port;
    if (a->family == SL_AF_IPV4) {
        a->ip[1] = (uint8_t)m->role;
        a->ip[2] = (uint8_t)(m->idx >> 8);
        a->ip[3] = (uint8_t)m->idx;
    } else {
        a->ip[0] = 0x01;
        a->ip[13] = (uint8_t)m->role;
        a->ip[14] = (uint8_t)(m->idx >> 8);
        a->ip[15] = (uint8_t)m->idx;
    }
}

/* Replaces a public address by its placeholder in place. */
static void redact_addr(struct red *rd, struct sl_addr *a, int role)
{
    struct ipmap *m = ip_get(rd, a, role);
    if (m)
        ip_placeholder(m, a);
}

/* --- collecting what is secret from the structured parts ------------------------------------ */

static int key_in(const char *key, const char *const *keys, size_t n)
{
    for (size_t i = 0; key && i < n; i++)
        if (g_ascii_strcasecmp(key, keys[i]) == 0)
            return 1;
    return 0;
}

#define KEY_IN(k, arr) key_in(k, arr, G_N_ELEMENTS(arr))
static const char *const user_keys[] = {"username", "user"};
static const char *const realm_keys[] = {"realm"};
static const char *const nonce_keys[] = {"nonce"};
static const char *const host_keys[] = {"host",    "hostname", "sni",        "server_name",
                                        "srv",     "srv_target", "names",    "cert_names",
                                        "subject", "san",       "alternate_domain", "domain",
                                        "issuer_names", "common_name"};
static const char *const client_keys[] = {"local", "mapped", "client", "reflexive", "public"};
static const char *const server_keys[] = {"server",    "relayed",          "relay",
                                          "address",   "addresses",        "alternate",
                                          "alternate_server", "resolved",  "origin",
                                          "response_origin",  "other_address"};
static const char *const peer_keys[] = {"peer", "peers"};
/* SOFTWARE names the server's product and version: useful, and says nothing about the user. */
static const char *const keep_keys[] = {"software"};

static void collect_addr_text(struct red *rd, const char *s, int role)
{
    struct sl_addr a;
    if (sl_addr_parse(&a, s, 0) == 0)
        ip_get(rd, &a, role);
}

static void collect_json(struct red *rd, const char *key, JsonNode *n)
{
    if (!n)
        return;
    if (JSON_NODE_HOLDS_OBJECT(n)) {
        JsonObject *o = json_node_get_object(n);
        GList *members = json_object_get_members(o);
        for (GList *m = members; m; m = m->next)
            collect_json(rd, m->data, json_object_get_member(o, m->data));
        g_list_free(members);
        return;
    }
    if (JSON_NODE_HOLDS_ARRAY(n)) {
        JsonArray *a = json_node_get_array(n);
        for (guint i = 0; i < json_array_get_length(a); i++)
            collect_json(rd, key, json_array_get_element(a, i));
        return;
    }
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return;
    const char *s = json_node_get_string(n);
    if (KEY_IN(key, user_keys))
        lit_add(rd, K_USER, s);
    else if (KEY_IN(key, realm_keys))
        lit_add(rd, K_REALM, s);
    else if (KEY_IN(key, nonce_keys))
        lit_add(rd, K_NONCE, s);
    else if (KEY_IN(key, host_keys) && is_ip_text(s))
        collect_addr_text(rd, s, ROLE_SERVER);
    else if (KEY_IN(key, host_keys))
        lit_add(rd, K_HOST, s);
    else if (KEY_IN(key, client_keys))
        collect_addr_text(rd, s, ROLE_CLIENT);
    else if (KEY_IN(key, server_keys))
        collect_addr_text(rd, s, ROLE_SERVER);
    else if (KEY_IN(key, peer_keys))
        collect_addr_text(rd, s, ROLE_PEER);
}

static void collect_object(struct red *rd, JsonObject *o)
{
    if (!o)
        return;
    JsonNode *tmp = json_node_init_object(json_node_alloc(), o);
    collect_json(rd, NULL, tmp);
    json_node_unref(tmp);
}

static void collect_target(struct red *rd, const struct rpt_target *t)
{
    lit_add(rd, K_USER, t->username);
    if (t->address)
        collect_addr_text(rd, t->address, ROLE_SERVER);
    if (t->host) {
        if (is_ip_text(t->host))
            collect_addr_text(rd, t->host, ROLE_SERVER);
        else
            lit_add(rd, K_HOST, t->host);
    }
}

/* --- rewriting text ------------------------------------------------------------------------- */

static void sort_lits(struct red *rd);

static gboolean word_char(char c)
{
    return g_ascii_isalnum(c);
}

static gboolean dom_char(char c)
{
    return g_ascii_isalnum(c) || c == '-' || c == '_' || c == '*' || c == '.';
}

/* An IP literal starting at s[0] (not inside a word or a dotted run): its length, or 0. */
static size_t ip_at(const char *s, struct sl_addr *a)
{
    size_t run = 0, colons = 0;
    while (g_ascii_isxdigit(s[run]) || s[run] == ':' || s[run] == '.') {
        colons += s[run] == ':';
        run++;
    }
    char buf[64];
    if (colons >= 2) {
        /* IPv6; an unbracketed "addr:port" is tried without its last group too. */
        size_t len = run;
        while (len && s[len - 1] == '.')
            len--;
        for (int attempt = 0; attempt < 2 && len && len < sizeof(buf); attempt++) {
            memcpy(buf, s, len);
            buf[len] = '\0';
            if (inet_pton(AF_INET6, buf, a->ip) == 1 && !word_char(s[len])) {
                a->family = SL_AF_IPV6;
                a->port = 0;
                return len;
            }
            const char *last = g_strrstr_len(s, (gssize)len, ":");
            if (!last)
                break;
            len = (size_t)(last - s);
        }
        return 0;
    }
    size_t len = 0, dots = 0;
    while (g_ascii_isdigit(s[len]) || s[len] == '.') {
        dots += s[len] == '.';
        len++;
    }
    while (len && s[len - 1] == '.') {
        len--;
        dots--;
    }
    if (dots != 3 || len >= sizeof(buf) || word_char(s[len]))
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, a->ip) != 1)
        return 0;
    a->family = SL_AF_IPV4;
    a->port = 0;
    return len;
}

/* A host name starting at s[0] that is a known name or belongs to a known host's domain: its
 * label, registering it when new, and its length. */
static const char *host_at(struct red *rd, const char *s, size_t *len)
{
    size_t n = 0;
    while (dom_char(s[n]))
        n++;
    while (n && s[n - 1] == '.')
        n--;
    if (!memchr(s, '.', n) || n == 0)
        return NULL;
    char *tok = g_ascii_strdown(s, (gssize)n);
    const char *label = NULL;
    for (guint i = 0; i < rd->domains->len && !label; i++) {
        const char *dom = g_ptr_array_index(rd->domains, i);
        size_t dl = strlen(dom);
        if (strcmp(tok, dom) == 0 || (n > dl && tok[n - dl - 1] == '.' &&
                                      strcmp(tok + n - dl, dom) == 0)) {
            struct lit *l = lit_find(rd, tok, n);
            label = l ? l->label : lit_add(rd, K_HOST, tok);
        }
    }
    g_free(tok);
    if (label)
        *len = n;
    return label;
}

/* The length of a run of hex digits, colons and dots with two colons or more, else 1. */
static size_t ipv6_run(const char *s)
{
    size_t run = 0, colons = 0;
    while (g_ascii_isxdigit(s[run]) || s[run] == ':' || s[run] == '.') {
        colons += s[run] == ':';
        run++;
    }
    return colons >= 2 ? run : 1;
}

/* The text with every secret replaced, in one pass so that a label is never matched again. */
static char *rewrite(struct red *rd, const char *s)
{
    if (!s)
        return NULL;
    sort_lits(rd);
    struct lit *whole = lit_find(rd, s, strlen(s));
    if (whole)
        return g_strdup(whole->label);
    GString *o = g_string_new(NULL);
    size_t i = 0, n = strlen(s);
    while (i < n) {
        char prev = i ? s[i - 1] : ' ';
        size_t len = 0;
        const char *label = NULL;
        if (!dom_char(prev) && (g_ascii_isalnum(s[i]) || s[i] == '*'))
            label = host_at(rd, s + i, &len);
        /* host_at may have added a name: keep the longest-first order. */
        sort_lits(rd);
        for (guint k = 0; !label && !word_char(prev) && k < rd->lits->len; k++) {
            struct lit *l = g_ptr_array_index(rd->lits, k);
            size_t ll = strlen(l->orig);
            if (ll >= MIN_TEXT_MATCH && ll <= n - i &&
                g_ascii_strncasecmp(s + i, l->orig, ll) == 0 && !word_char(s[i + ll])) {
                label = l->label;
                len = ll;
            }
        }
        size_t skip = 1;
        if (!label && !dom_char(prev) && (g_ascii_isxdigit(s[i]) || s[i] == ':')) {
            struct sl_addr a;
            len = ip_at(s + i, &a);
            struct ipmap *m = len ? ip_get(rd, &a, ROLE_OTHER) : NULL;
            if (m)
                label = m->label;
            else
                skip = len ? len : ipv6_run(s + i);
        }
        if (label) {
            g_string_append(o, label);
            i += len;
        } else {
            /* Not an address: go past a whole IPv6-like run, or a restart in its middle could
             * read its tail ("db8::7") as an address of its own. */
            g_string_append_len(o, s + i, (gssize)skip);
            i += skip;
        }
    }
    return g_string_free(o, FALSE);
}

static int lit_cmp(gconstpointer a, gconstpointer b)
{
    const struct lit *x = *(struct lit *const *)a, *y = *(struct lit *const *)b;
    size_t lx = strlen(x->orig), ly = strlen(y->orig);
    return lx < ly ? 1 : lx > ly ? -1 : 0;
}

/* Longest first, so "1795266000:alice" is replaced whole before "alice". */
static void sort_lits(struct red *rd)
{
    if (rd->sorted)
        return;
    g_ptr_array_sort(rd->lits, lit_cmp);
    rd->sorted = TRUE;
}

static void rewrite_str(struct red *rd, char **p)
{
    if (!*p)
        return;
    char *n = rewrite(rd, *p);
    g_free(*p);
    *p = n;
}

static void rewrite_json(struct red *rd, const char *key, JsonNode *n)
{
    if (!n || KEY_IN(key, keep_keys))
        return;
    if (JSON_NODE_HOLDS_OBJECT(n)) {
        JsonObject *o = json_node_get_object(n);
        GList *members = json_object_get_members(o);
        for (GList *m = members; m; m = m->next)
            rewrite_json(rd, m->data, json_object_get_member(o, m->data));
        g_list_free(members);
    } else if (JSON_NODE_HOLDS_ARRAY(n)) {
        JsonArray *a = json_node_get_array(n);
        for (guint i = 0; i < json_array_get_length(a); i++)
            rewrite_json(rd, key, json_array_get_element(a, i));
    } else if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING) {
        char *v = rewrite(rd, json_node_get_string(n));
        json_node_set_string(n, v);
        g_free(v);
    }
}

static void rewrite_object(struct red *rd, JsonObject *o)
{
    if (!o)
        return;
    JsonNode *tmp = json_node_init_object(json_node_alloc(), o);
    rewrite_json(rd, NULL, tmp);
    json_node_unref(tmp);
}

/* --- rewriting payloads --------------------------------------------------------------------- */

/* Same-length overwrite of every secret string in opaque bytes (a TLS ClientHello's SNI, a
 * certificate's names): the label, cut or padded with 'x', so record lengths stay right. */
static void scrub_bytes(struct red *rd, uint8_t *p, size_t len)
{
    for (guint k = 0; k < rd->lits->len; k++) {
        const struct lit *l = g_ptr_array_index(rd->lits, k);
        size_t ll = strlen(l->orig), lab = strlen(l->label);
        if (ll < MIN_TEXT_MATCH || ll > len)
            continue;
        for (size_t i = 0; i + ll <= len; i++) {
            if (g_ascii_strncasecmp((const char *)p + i, l->orig, ll) != 0)
                continue;
            for (size_t j = 0; j < ll; j++)
                p[i + j] = (uint8_t)(j < lab ? l->label[j] : 'x');
            i += ll - 1;
        }
    }
}

static GBytes *rewrite_stun(struct red *rd, const uint8_t *buf, size_t len, int depth);

static const char *label_for_attr(struct red *rd, uint16_t type, const uint8_t *v, size_t len)
{
    char *s = g_strndup((const char *)v, len);
    const char *label = NULL;
    switch (type) {
    case SL_ATTR_USERNAME:
        label = lit_add(rd, K_USER, s);
        break;
    case SL_ATTR_REALM:
        label = lit_add(rd, K_REALM, s);
        break;
    case SL_ATTR_NONCE:
        label = lit_add(rd, K_NONCE, s);
        break;
    case SL_ATTR_ALTERNATE_DOMAIN:
        label = lit_add(rd, K_HOST, s);
        break;
    }
    g_free(s);
    return label;
}

static int addr_role(uint16_t type)
{
    switch (type) {
    case SL_ATTR_XOR_MAPPED_ADDRESS:
    case SL_ATTR_MAPPED_ADDRESS:
    case SL_ATTR_SOURCE_ADDRESS:
    case SL_ATTR_RESPONSE_ADDRESS:
    case SL_ATTR_REFLECTED_FROM:
        return ROLE_CLIENT;
    case SL_ATTR_XOR_PEER_ADDRESS:
        return ROLE_PEER;
    case SL_ATTR_XOR_RELAYED_ADDRESS:
    case SL_ATTR_ALTERNATE_SERVER:
    case SL_ATTR_RESPONSE_ORIGIN:
    case SL_ATTR_OTHER_ADDRESS:
    case SL_ATTR_CHANGED_ADDRESS:
        return ROLE_SERVER;
    default:
        return 0;
    }
}

/* A STUN message rebuilt with its secrets replaced: names by their labels, public addresses by
 * their placeholders, FINGERPRINT recomputed. MESSAGE-INTEGRITY is copied as it was and no
 * longer verifies; it could not be recomputed without the password, which we must not have.
 * NULL when the bytes are not a STUN message we can rebuild. */
static GBytes *rewrite_stun(struct red *rd, const uint8_t *buf, size_t len, int depth)
{
    struct sl_msg *m = g_new0(struct sl_msg, 1);
    GBytes *out = NULL;
    if (sl_msg_decode(m, buf, len, SL_DEC_LENIENT) != 0 || m->classic)
        goto out;
    /* A label may be longer than the value it replaces; addresses keep their size. */
    size_t cap = len + m->nattrs * 40 + 64;
    uint8_t *nb = g_malloc(cap);
    struct sl_enc e;
    sl_enc_init(&e, nb, cap, m->method, m->cls, m->tid);
    for (size_t i = 0; i < m->nattrs; i++) {
        const struct sl_attr *a = &m->attrs[i];
        const uint8_t *v = sl_attr_value(m, a);
        const char *label = label_for_attr(rd, a->type, v, a->len);
        int role = addr_role(a->type);
        struct sl_addr addr;
        if (a->type == SL_ATTR_FINGERPRINT) {
            sl_enc_fingerprint(&e);
        } else if (label) {
            sl_enc_str(&e, a->type, label);
        } else if (role && sl_attr_get_addr(m, a, &addr) == 0) {
            redact_addr(rd, &addr, role);
            sl_enc_addr(&e, a->type, &addr);
        } else if (a->type == SL_ATTR_DATA && depth < 2) {
            /* An ICE check inside a Send or Data indication carries addresses and names too. */
            GBytes *inner = rewrite_stun(rd, v, a->len, depth + 1);
            if (inner) {
                sl_enc_attr(&e, a->type, g_bytes_get_data(inner, NULL), g_bytes_get_size(inner));
                g_bytes_unref(inner);
            } else {
                sl_enc_attr(&e, a->type, v, a->len);
            }
        } else {
            sl_enc_attr(&e, a->type, v, a->len);
        }
    }
    size_t olen = 0;
    if (sl_enc_finish(&e, &olen) == 0)
        out = g_bytes_new(nb, olen);
    g_free(nb);
out:
    g_free(m);
    return out;
}

static void rewrite_payload(struct red *rd, struct rpt_packet *p)
{
    if (!p->payload)
        return;
    gsize len = 0;
    const uint8_t *buf = g_bytes_get_data(p->payload, &len);
    GBytes *nb = NULL;
    if (p->kind == RPT_PKT_STUN) {
        nb = rewrite_stun(rd, buf, len, 0);
    } else if (p->kind == RPT_PKT_CHANNELDATA) {
        bool stream = p->transport == RPT_TCP || p->transport == RPT_TLS;
        struct sl_chan c;
        if (sl_chan_decode(&c, buf, len, stream) == 0) {
            GBytes *inner = rewrite_stun(rd, c.data, c.len, 1);
            if (inner) {
                gsize il = g_bytes_get_size(inner);
                uint8_t *ob = g_malloc(il + 8);
                size_t olen = 0;
                if (sl_chan_encode(ob, il + 8, c.channel, g_bytes_get_data(inner, NULL), il,
                                   stream, &olen) == 0)
                    nb = g_bytes_new(ob, olen);
                g_free(ob);
                g_bytes_unref(inner);
            }
        }
    }
    if (!nb) {
        /* TLS records, other bytes, or STUN we could not rebuild: scrub the names in place. */
        uint8_t *copy = g_memdup2(buf, len);
        scrub_bytes(rd, copy, len);
        nb = g_bytes_new_take(copy, len);
    }
    g_bytes_unref(p->payload);
    p->payload = nb;
}

/* --- the whole model ------------------------------------------------------------------------ */

int rpt_redact(struct rpt_result *r)
{
    struct red rd = {0};
    rd.lits = g_ptr_array_new_with_free_func(lit_free);
    rd.ips = g_ptr_array_new_with_free_func(g_free);
    rd.domains = g_ptr_array_new_with_free_func(g_free);

    /* What the structured fields say first, so that the target is server-public-1 and the
     * first username user-1; then the packets in order; then whatever free text still shows. */
    for (guint i = 0; i < r->sessions->len; i++) {
        struct rpt_session *s = g_ptr_array_index(r->sessions, i);
        collect_target(&rd, &s->target);
        collect_object(&rd, s->facts);
        for (guint k = 0; k < s->steps->len; k++)
            collect_object(&rd, ((struct rpt_step *)g_ptr_array_index(s->steps, k))->details);
    }
    for (guint i = 0; i < r->packets->len; i++) {
        struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        redact_addr(&rd, &p->src, p->dir == RPT_OUT ? ROLE_CLIENT : ROLE_SERVER);
        redact_addr(&rd, &p->dst, p->dir == RPT_OUT ? ROLE_SERVER : ROLE_CLIENT);
    }
    for (guint i = 0; i < r->packets->len; i++)
        rewrite_payload(&rd, g_ptr_array_index(r->packets, i));

    for (guint i = 0; i < r->sessions->len; i++) {
        struct rpt_session *s = g_ptr_array_index(r->sessions, i);
        rewrite_str(&rd, &s->name);
        rewrite_str(&rd, &s->target.uri);
        rewrite_str(&rd, &s->target.host);
        rewrite_str(&rd, &s->target.username);
        rewrite_str(&rd, &s->target.address);
        rewrite_object(&rd, s->facts);
        for (guint k = 0; k < s->steps->len; k++) {
            struct rpt_step *st = g_ptr_array_index(s->steps, k);
            rewrite_str(&rd, &st->summary);
            rewrite_str(&rd, &st->hint);
            rewrite_object(&rd, st->details);
        }
        for (guint k = 0; k < s->findings->len; k++) {
            struct rpt_finding *f = g_ptr_array_index(s->findings, k);
            rewrite_str(&rd, &f->message);
            rewrite_str(&rd, &f->hint);
        }
        for (guint k = 0; k < s->txns->len; k++)
            rewrite_str(&rd, &((struct rpt_txn *)g_ptr_array_index(s->txns, k))->reason);
    }
    for (guint i = 0; i < r->packets->len; i++) {
        struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        rewrite_str(&rd, &p->summary);
        rewrite_str(&rd, &p->note);
    }
    for (guint i = 0; i < r->inputs->len; i++)
        rewrite_str(&rd, (char **)&g_ptr_array_index(r->inputs, i));
    /* The TLS secrets would decrypt the original names inside the records: they go. */
    if (r->keylog) {
        memset(r->keylog, 0, strlen(r->keylog));
        g_free(r->keylog);
        r->keylog = NULL;
    }

    int count = 0;
    for (int k = 0; k < K_N; k++)
        count += (int)rd.nkind[k];
    for (int k = ROLE_CLIENT; k < ROLE_N; k++)
        count += (int)rd.nrole[k];
    g_ptr_array_unref(rd.lits);
    g_ptr_array_unref(rd.ips);
    g_ptr_array_unref(rd.domains);
    return count;
}
