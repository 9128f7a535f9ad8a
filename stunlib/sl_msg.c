/* STUN message decoding (a bounds-checked view of the caller's bytes) and encoding. */
#include "sl_msg.h"

#include <stdio.h>
#include <string.h>

#include "sl_auth.h"
#include "sl_names.h"
#include "sl_rd.h"

bool sl_attr_known(uint16_t type)
{
    return sl_attr_name(type) != NULL;
}

static bool is_address_type(uint16_t type)
{
    switch (type) {
    case SL_ATTR_MAPPED_ADDRESS:
    case SL_ATTR_RESPONSE_ADDRESS:
    case SL_ATTR_SOURCE_ADDRESS:
    case SL_ATTR_CHANGED_ADDRESS:
    case SL_ATTR_REFLECTED_FROM:
    case SL_ATTR_XOR_PEER_ADDRESS:
    case SL_ATTR_XOR_RELAYED_ADDRESS:
    case SL_ATTR_XOR_MAPPED_ADDRESS:
    case SL_ATTR_ALTERNATE_SERVER:
    case SL_ATTR_RESPONSE_ORIGIN:
    case SL_ATTR_OTHER_ADDRESS:
        return true;
    default:
        return false;
    }
}

static bool is_xor_type(uint16_t type)
{
    return type == SL_ATTR_XOR_MAPPED_ADDRESS || type == SL_ATTR_XOR_PEER_ADDRESS ||
           type == SL_ATTR_XOR_RELAYED_ADDRESS;
}

/* Text attributes are limited in characters as well as bytes (RFC 8489 §14.9, §14.14). */
static size_t utf8_chars(const uint8_t *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            c++;
    return c;
}

static int check_text(const uint8_t *v, size_t len, size_t max_bytes)
{
    if (len > max_bytes || utf8_chars(v, len) >= 128)
        return SL_ETOOLONG;
    return SL_OK;
}

static int check_error_code(const uint8_t *v, size_t len)
{
    /* RFC 8489 §14.8: "The Class represents the hundreds digit of the error code. The value MUST
     * be between 3 and 6. The Number represents the binary encoding of the error code modulo
     * 100, and its value MUST be between 0 and 99." */
    if (len < 4)
        return SL_EBADATTR;
    uint8_t cls = v[2] & 0x07, num = v[3];
    if (cls < 3 || cls > 6 || num > 99)
        return SL_EBADATTR;
    /* "The reason phrase MUST be a UTF-8-encoded sequence of fewer than 128 characters (which
     * can be as long as 509 bytes when encoding them or 763 bytes when decoding them)." */
    return check_text(v + 4, len - 4, SL_MAX_TEXT);
}

static int check_pwalgs(const uint8_t *v, size_t len)
{
    struct sl_rd rd;
    sl_rd_init(&rd, v, len);
    while (sl_rd_left(&rd) > 0) {
        (void)sl_rd_u16(&rd);
        uint16_t plen = sl_rd_u16(&rd);
        sl_rd_skip(&rd, plen);
        sl_rd_skip(&rd, SL_PAD4(plen));
        if (rd.err)
            return SL_EBADATTR;
    }
    return SL_OK;
}

/* The syntax of each attribute stunlib knows; unknown ones are kept without checks. */
static int check_attr(uint16_t type, const uint8_t *v, size_t len)
{
    if (is_address_type(type)) {
        /* RFC 8489 §14.1: family 0x01 (IPv4, 32-bit address) or 0x02 (IPv6, 128-bit). */
        if (len < 4)
            return SL_EBADADDR;
        if (v[1] == SL_AF_IPV4)
            return len == 8 ? SL_OK : SL_EBADADDR;
        if (v[1] == SL_AF_IPV6)
            return len == 20 ? SL_OK : SL_EBADADDR;
        return SL_EBADADDR;
    }
    switch (type) {
    case SL_ATTR_USERNAME:
        return len > SL_MAX_USERNAME ? SL_ETOOLONG : SL_OK;
    case SL_ATTR_REALM:
    case SL_ATTR_NONCE:
    case SL_ATTR_SOFTWARE:
        return check_text(v, len, SL_MAX_TEXT);
    case SL_ATTR_ALTERNATE_DOMAIN:
        return len > SL_MAX_DOMAIN ? SL_ETOOLONG : SL_OK;
    case SL_ATTR_MESSAGE_INTEGRITY:
        return len == 20 ? SL_OK : SL_EBADATTR;
    case SL_ATTR_MESSAGE_INTEGRITY_SHA256:
        /* RFC 8489 §14.6: at least 16 bytes, at most 32, a multiple of 4. */
        return (len >= 16 && len <= 32 && len % 4 == 0) ? SL_OK : SL_EBADATTR;
    case SL_ATTR_FINGERPRINT:
        return len == 4 ? SL_OK : SL_EBADATTR;
    case SL_ATTR_ERROR_CODE:
        return check_error_code(v, len);
    case SL_ATTR_ADDRESS_ERROR_CODE:
        if (len >= 1 && v[0] != SL_AF_IPV4 && v[0] != SL_AF_IPV6)
            return SL_EBADATTR;
        return check_error_code(v, len);
    case SL_ATTR_UNKNOWN_ATTRIBUTES:
        return len % 2 == 0 ? SL_OK : SL_EBADATTR;
    case SL_ATTR_CHANNEL_NUMBER:
    case SL_ATTR_LIFETIME:
    case SL_ATTR_PRIORITY:
    case SL_ATTR_CHANGE_REQUEST:
    case SL_ATTR_CONNECTION_ID:
    case SL_ATTR_CACHE_TIMEOUT:
    case SL_ATTR_TRANSACTION_TRANSMIT_COUNTER:
    case SL_ATTR_RESPONSE_PORT:
    case SL_ATTR_REQUESTED_TRANSPORT:
    case SL_ATTR_ECN_CHECK:
        return len == 4 ? SL_OK : SL_EBADATTR;
    case SL_ATTR_REQUESTED_ADDRESS_FAMILY:
        return (len == 4 && (v[0] == SL_AF_IPV4 || v[0] == SL_AF_IPV6)) ? SL_OK : SL_EBADATTR;
    case SL_ATTR_ADDITIONAL_ADDRESS_FAMILY:
        /* RFC 8656 §18.9: "the only valid value is 0x02 (IPv6)". */
        return (len == 4 && v[0] == SL_AF_IPV6) ? SL_OK : SL_EBADATTR;
    case SL_ATTR_EVEN_PORT:
        return len == 1 ? SL_OK : SL_EBADATTR;
    case SL_ATTR_DONT_FRAGMENT:
    case SL_ATTR_USE_CANDIDATE:
        return len == 0 ? SL_OK : SL_EBADATTR;
    case SL_ATTR_RESERVATION_TOKEN:
    case SL_ATTR_ICE_CONTROLLED:
    case SL_ATTR_ICE_CONTROLLING:
    case SL_ATTR_ICMP:
        return len == 8 ? SL_OK : SL_EBADATTR;
    case SL_ATTR_USERHASH:
        return len == 32 ? SL_OK : SL_EBADATTR;
    case SL_ATTR_PASSWORD_ALGORITHM:
        if (len < 4 || 4u + sl_get_u16(v + 2) > len)
            return SL_EBADATTR;
        return SL_OK;
    case SL_ATTR_PASSWORD_ALGORITHMS:
        return check_pwalgs(v, len);
    case SL_ATTR_ACCESS_TOKEN:
        /* RFC 7635 §6.2: nonce_length (2 bytes), nonce, then the encrypted block. */
        if (len < 2 || 2u + sl_get_u16(v) > len)
            return SL_EBADATTR;
        return SL_OK;
    default:
        return SL_OK;
    }
}

static int fail(struct sl_msg *m, int err, uint16_t attr, size_t off, size_t claimed, size_t left)
{
    m->where.attr = attr;
    m->where.off = off;
    m->where.claimed = claimed;
    m->where.left = left;
    return err;
}

int sl_msg_decode(struct sl_msg *m, const uint8_t *buf, size_t len, unsigned flags)
{
    m->buf = buf;
    m->len = 0;
    m->nattrs = 0;
    m->idx_mi = m->idx_mi256 = m->idx_fp = -1;
    m->n_unknown_required = 0;
    m->classic = false;
    memset(&m->where, 0, sizeof(m->where));

    /* RFC 8489 §5: "The most significant 2 bits of every STUN message MUST be zeroes." */
    if (len > 0 && (buf[0] & 0xC0) != 0)
        return fail(m, SL_ENOTSTUN, 0, 0, 0, len);
    if (len < SL_HDR_LEN)
        return fail(m, SL_ETRUNC, 0, 0, SL_HDR_LEN, len);

    m->type = sl_get_u16(buf);
    m->method = sl_type_method(m->type);
    m->cls = sl_type_class(m->type);
    uint16_t body = sl_get_u16(buf + 2);
    m->cookie = sl_get_u32(buf + 4);
    memcpy(m->tid, buf + 8, SL_TID_LEN);

    /* "Since all STUN attributes are padded to a multiple of 4 bytes, the last 2 bits of this
     * field are always zero." */
    if (body % 4 != 0)
        return fail(m, SL_EBADLEN, 0, 2, body, len - SL_HDR_LEN);
    if (m->cookie != SL_MAGIC_COOKIE) {
        if (!(flags & SL_DEC_CLASSIC))
            return fail(m, SL_EBADCOOKIE, 0, 4, 0, 0);
        m->classic = true;
    }
    if ((size_t)body > len - SL_HDR_LEN)
        return fail(m, SL_ETRUNC, 0, 2, body, len - SL_HDR_LEN);
    if (!(flags & SL_DEC_PREFIX) && (size_t)body < len - SL_HDR_LEN)
        return fail(m, SL_EBADLEN, 0, 2, body, len - SL_HDR_LEN);
    m->len = SL_HDR_LEN + (size_t)body;

    bool after_mi = false, after_mi256 = false, after_fp = false;
    size_t off = SL_HDR_LEN;
    while (off < m->len) {
        /* off and m->len are multiples of 4, so a whole attribute header is always there. */
        uint16_t type = sl_get_u16(buf + off);
        uint16_t alen = sl_get_u16(buf + off + 2);
        size_t left = m->len - off - 4;
        if (alen > left)
            return fail(m, SL_EATTRTRUNC, type, off, alen, left);

        bool ignored = false;
        /* RFC 8489 §14.7: "the FINGERPRINT attribute MUST be the last attribute". */
        if (after_fp)
            return fail(m, SL_EORDER, type, off, alen, left);
        /* §14.5: "With the exception of the MESSAGE-INTEGRITY-SHA256 and FINGERPRINT attributes,
         * which appear after MESSAGE-INTEGRITY, agents MUST ignore all other attributes that
         * follow MESSAGE-INTEGRITY." We refuse them unless asked to be lenient. */
        if ((after_mi && type != SL_ATTR_MESSAGE_INTEGRITY_SHA256 && type != SL_ATTR_FINGERPRINT) ||
            (after_mi256 && type != SL_ATTR_FINGERPRINT)) {
            if (!(flags & SL_DEC_LENIENT))
                return fail(m, SL_EORDER, type, off, alen, left);
            ignored = true;
        }
        if (m->nattrs == SL_MAX_ATTRS)
            return fail(m, SL_ETOOMANY, type, off, alen, left);

        int err = check_attr(type, buf + off + 4, alen);
        if (err != SL_OK)
            return fail(m, err, type, off, alen, left);

        struct sl_attr *a = &m->attrs[m->nattrs];
        a->type = type;
        a->len = alen;
        a->off = (uint32_t)off;
        a->ignored = ignored;
        if (!ignored) {
            if (type == SL_ATTR_MESSAGE_INTEGRITY && m->idx_mi < 0) {
                m->idx_mi = (int)m->nattrs;
                after_mi = true;
            } else if (type == SL_ATTR_MESSAGE_INTEGRITY_SHA256 && m->idx_mi256 < 0) {
                m->idx_mi256 = (int)m->nattrs;
                after_mi256 = true;
            } else if (type == SL_ATTR_FINGERPRINT) {
                m->idx_fp = (int)m->nattrs;
                after_fp = true;
            } else if (sl_attr_required(type) && !sl_attr_known(type) &&
                       m->n_unknown_required < sizeof(m->unknown_required) / 2) {
                m->unknown_required[m->n_unknown_required++] = type;
            }
        }
        m->nattrs++;
        off += 4 + alen + SL_PAD4(alen);
    }
    return SL_OK;
}

const char *sl_msg_explain(const struct sl_msg *m, int err, char *buf, size_t n)
{
    const struct sl_where *w = &m->where;
    const char *an = sl_attr_name(w->attr);
    char attr[48];
    if (an)
        snprintf(attr, sizeof(attr), "%s (0x%04x)", an, w->attr);
    else
        snprintf(attr, sizeof(attr), "attribute 0x%04x", w->attr);

    switch (err) {
    case SL_ENOTSTUN:
        snprintf(buf, n, "the first two bits are not zero (first byte 0x%02x): not a STUN message",
                 m->buf && w->left ? m->buf[0] : 0);
        break;
    case SL_ETRUNC:
        if (w->off == 0)
            snprintf(buf, n, "%zu bytes, shorter than the 20-byte STUN header", w->left);
        else
            snprintf(buf, n, "the header claims %zu bytes of attributes, %zu follow", w->claimed,
                     w->left);
        break;
    case SL_EBADLEN:
        if (w->claimed % 4)
            snprintf(buf, n, "the header length %zu is not a multiple of 4", w->claimed);
        else
            snprintf(buf, n, "the header claims %zu bytes of attributes but %zu follow",
                     w->claimed, w->left);
        break;
    case SL_EBADCOOKIE:
        snprintf(buf, n, "magic cookie is 0x%08x, not 0x2112a442 (RFC 3489 classic STUN?)",
                 m->cookie);
        break;
    case SL_EATTRTRUNC:
        snprintf(buf, n, "%s at offset %zu claims %zu bytes, %zu left", attr, w->off, w->claimed,
                 w->left);
        break;
    case SL_EBADATTR:
        snprintf(buf, n, "%s at offset %zu has a malformed %zu-byte value", attr, w->off,
                 w->claimed);
        break;
    case SL_EBADADDR:
        snprintf(buf, n, "%s at offset %zu: bad address family or length (%zu bytes)", attr,
                 w->off, w->claimed);
        break;
    case SL_ETOOLONG:
        snprintf(buf, n, "%s at offset %zu is %zu bytes, over the RFC's limit", attr, w->off,
                 w->claimed);
        break;
    case SL_EORDER:
        snprintf(buf, n, "%s at offset %zu follows MESSAGE-INTEGRITY or FINGERPRINT", attr,
                 w->off);
        break;
    case SL_ETOOMANY:
        snprintf(buf, n, "more than %d attributes (at offset %zu)", SL_MAX_ATTRS, w->off);
        break;
    default:
        snprintf(buf, n, "%s", sl_strerror(err));
        break;
    }
    return buf;
}

const struct sl_attr *sl_msg_find(const struct sl_msg *m, uint16_t type)
{
    for (size_t i = 0; i < m->nattrs; i++)
        if (m->attrs[i].type == type && !m->attrs[i].ignored)
            return &m->attrs[i];
    return NULL;
}

int sl_msg_get_bytes(const struct sl_msg *m, uint16_t type, const uint8_t **val, size_t *len)
{
    const struct sl_attr *a = sl_msg_find(m, type);
    if (!a)
        return SL_ENOTFOUND;
    *val = sl_attr_value(m, a);
    *len = a->len;
    return SL_OK;
}

int sl_msg_get_u32(const struct sl_msg *m, uint16_t type, uint32_t *v)
{
    const struct sl_attr *a = sl_msg_find(m, type);
    if (!a)
        return SL_ENOTFOUND;
    if (a->len < 4)
        return SL_EBADATTR;
    *v = sl_get_u32(sl_attr_value(m, a));
    return SL_OK;
}

int sl_msg_get_u64(const struct sl_msg *m, uint16_t type, uint64_t *v)
{
    const struct sl_attr *a = sl_msg_find(m, type);
    if (!a)
        return SL_ENOTFOUND;
    if (a->len < 8)
        return SL_EBADATTR;
    const uint8_t *p = sl_attr_value(m, a);
    *v = ((uint64_t)sl_get_u32(p) << 32) | sl_get_u32(p + 4);
    return SL_OK;
}

int sl_attr_get_addr(const struct sl_msg *m, const struct sl_attr *a, struct sl_addr *out)
{
    const uint8_t *v = sl_attr_value(m, a);
    memset(out, 0, sizeof(*out));
    if (a->len < 4 || !is_address_type(a->type))
        return SL_EBADADDR;
    size_t iplen = v[1] == SL_AF_IPV4 ? 4 : v[1] == SL_AF_IPV6 ? 16 : 0;
    if (iplen == 0 || a->len != 4 + iplen)
        return SL_EBADADDR;
    out->family = v[1];
    out->port = sl_get_u16(v + 2);
    memcpy(out->ip, v + 4, iplen);
    if (is_xor_type(a->type)) {
        /* RFC 8489 §14.2: X-Port is the port XORed with the cookie's 16 most significant bits;
         * the address is XORed with the cookie (IPv4) or the cookie and transaction id (IPv6). */
        uint8_t mask[16];
        sl_put_u32(mask, SL_MAGIC_COOKIE);
        memcpy(mask + 4, m->tid, SL_TID_LEN);
        out->port ^= (uint16_t)(SL_MAGIC_COOKIE >> 16);
        for (size_t i = 0; i < iplen; i++)
            out->ip[i] ^= mask[i];
    }
    return SL_OK;
}

int sl_msg_get_addr(const struct sl_msg *m, uint16_t type, struct sl_addr *out)
{
    const struct sl_attr *a = sl_msg_find(m, type);
    if (!a)
        return SL_ENOTFOUND;
    return sl_attr_get_addr(m, a, out);
}

static int get_error_fields(const uint8_t *v, size_t len, int *code, const char **reason,
                            size_t *reason_len)
{
    if (len < 4)
        return SL_EBADATTR;
    *code = (v[2] & 0x07) * 100 + v[3];
    if (reason)
        *reason = (const char *)v + 4;
    if (reason_len)
        *reason_len = len - 4;
    return SL_OK;
}

int sl_msg_get_error(const struct sl_msg *m, int *code, const char **reason, size_t *reason_len)
{
    const struct sl_attr *a = sl_msg_find(m, SL_ATTR_ERROR_CODE);
    if (!a)
        return SL_ENOTFOUND;
    return get_error_fields(sl_attr_value(m, a), a->len, code, reason, reason_len);
}

int sl_msg_get_address_error(const struct sl_msg *m, uint8_t *family, int *code,
                             const char **reason, size_t *reason_len)
{
    const struct sl_attr *a = sl_msg_find(m, SL_ATTR_ADDRESS_ERROR_CODE);
    if (!a)
        return SL_ENOTFOUND;
    const uint8_t *v = sl_attr_value(m, a);
    if (a->len < 4)
        return SL_EBADATTR;
    *family = v[0];
    return get_error_fields(v, a->len, code, reason, reason_len);
}

int sl_msg_get_unknown(const struct sl_msg *m, uint16_t *types, size_t max, size_t *n)
{
    const struct sl_attr *a = sl_msg_find(m, SL_ATTR_UNKNOWN_ATTRIBUTES);
    if (!a)
        return SL_ENOTFOUND;
    const uint8_t *v = sl_attr_value(m, a);
    size_t k = 0;
    for (size_t i = 0; i + 1 < a->len && k < max; i += 2)
        types[k++] = sl_get_u16(v + i);
    *n = k;
    return SL_OK;
}

int sl_msg_get_channel(const struct sl_msg *m, uint16_t *channel)
{
    const struct sl_attr *a = sl_msg_find(m, SL_ATTR_CHANNEL_NUMBER);
    if (!a)
        return SL_ENOTFOUND;
    if (a->len < 2)
        return SL_EBADATTR;
    *channel = sl_get_u16(sl_attr_value(m, a));
    return SL_OK;
}

int sl_msg_get_u8_head(const struct sl_msg *m, uint16_t type, uint8_t *v)
{
    const struct sl_attr *a = sl_msg_find(m, type);
    if (!a)
        return SL_ENOTFOUND;
    if (a->len < 1)
        return SL_EBADATTR;
    *v = sl_attr_value(m, a)[0];
    return SL_OK;
}

int sl_msg_get_icmp(const struct sl_msg *m, uint8_t *type, uint8_t *code, uint32_t *data)
{
    const struct sl_attr *a = sl_msg_find(m, SL_ATTR_ICMP);
    if (!a)
        return SL_ENOTFOUND;
    if (a->len < 8)
        return SL_EBADATTR;
    const uint8_t *v = sl_attr_value(m, a);
    *type = v[2];
    *code = v[3];
    *data = sl_get_u32(v + 4);
    return SL_OK;
}

int sl_msg_get_pwalg(const struct sl_msg *m, uint16_t type, size_t i, uint16_t *alg)
{
    const struct sl_attr *a = sl_msg_find(m, type);
    if (!a)
        return SL_ENOTFOUND;
    struct sl_rd rd;
    sl_rd_init(&rd, sl_attr_value(m, a), a->len);
    for (size_t k = 0; sl_rd_left(&rd) >= 4; k++) {
        uint16_t v = sl_rd_u16(&rd);
        uint16_t plen = sl_rd_u16(&rd);
        if (k == i) {
            *alg = v;
            return SL_OK;
        }
        sl_rd_skip(&rd, (size_t)plen + SL_PAD4(plen));
        if (type == SL_ATTR_PASSWORD_ALGORITHM)
            break;
    }
    return SL_ENOTFOUND;
}

/* ---- encoding ---- */

void sl_enc_init(struct sl_enc *e, uint8_t *buf, size_t cap, uint16_t method, enum sl_class cls,
                 const uint8_t tid[SL_TID_LEN])
{
    e->buf = buf;
    e->cap = cap;
    e->len = 0;
    e->err = SL_OK;
    if (cap < SL_HDR_LEN) {
        e->err = SL_ENOSPACE;
        return;
    }
    sl_put_u16(buf, sl_msg_type(method, cls));
    sl_put_u16(buf + 2, 0);
    sl_put_u32(buf + 4, SL_MAGIC_COOKIE);
    memcpy(buf + 8, tid, SL_TID_LEN);
    e->len = SL_HDR_LEN;
}

/* Appends an attribute header and returns where its value goes; padding is pre-filled. */
static uint8_t *enc_reserve(struct sl_enc *e, uint16_t type, size_t len, uint8_t pad_byte)
{
    if (e->err)
        return NULL;
    size_t need = 4 + len + SL_PAD4(len);
    if (len > 0xFFFF || e->len - SL_HDR_LEN + need > 0xFFFF) {
        e->err = SL_EINVAL;
        return NULL;
    }
    if (need > e->cap - e->len) {
        e->err = SL_ENOSPACE;
        return NULL;
    }
    uint8_t *p = e->buf + e->len;
    sl_put_u16(p, type);
    sl_put_u16(p + 2, (uint16_t)len);
    memset(p + 4 + len, pad_byte, SL_PAD4(len));
    e->len += need;
    sl_put_u16(e->buf + 2, (uint16_t)(e->len - SL_HDR_LEN));
    return p + 4;
}

void sl_enc_attr_padded(struct sl_enc *e, uint16_t type, const void *val, size_t len,
                        uint8_t pad_byte)
{
    uint8_t *p = enc_reserve(e, type, len, pad_byte);
    if (p && len)
        memcpy(p, val, len);
}

void sl_enc_attr(struct sl_enc *e, uint16_t type, const void *val, size_t len)
{
    sl_enc_attr_padded(e, type, val, len, 0);
}

void sl_enc_str(struct sl_enc *e, uint16_t type, const char *s)
{
    sl_enc_attr(e, type, s, strlen(s));
}

void sl_enc_u32(struct sl_enc *e, uint16_t type, uint32_t v)
{
    uint8_t *p = enc_reserve(e, type, 4, 0);
    if (p)
        sl_put_u32(p, v);
}

void sl_enc_u64(struct sl_enc *e, uint16_t type, uint64_t v)
{
    uint8_t *p = enc_reserve(e, type, 8, 0);
    if (p) {
        sl_put_u32(p, (uint32_t)(v >> 32));
        sl_put_u32(p + 4, (uint32_t)v);
    }
}

void sl_enc_empty(struct sl_enc *e, uint16_t type)
{
    (void)enc_reserve(e, type, 0, 0);
}

void sl_enc_u8_head(struct sl_enc *e, uint16_t type, uint8_t v)
{
    uint8_t *p = enc_reserve(e, type, 4, 0);
    if (p) {
        p[0] = v;
        p[1] = p[2] = p[3] = 0;
    }
}

void sl_enc_addr(struct sl_enc *e, uint16_t type, const struct sl_addr *a)
{
    size_t iplen = a->family == SL_AF_IPV4 ? 4 : a->family == SL_AF_IPV6 ? 16 : 0;
    if (iplen == 0) {
        if (!e->err)
            e->err = SL_EINVAL;
        return;
    }
    uint8_t *p = enc_reserve(e, type, 4 + iplen, 0);
    if (!p)
        return;
    p[0] = 0;
    p[1] = a->family;
    uint16_t port = a->port;
    memcpy(p + 4, a->ip, iplen);
    if (is_xor_type(type)) {
        uint8_t mask[16];
        sl_put_u32(mask, SL_MAGIC_COOKIE);
        memcpy(mask + 4, e->buf + 8, SL_TID_LEN);
        port ^= (uint16_t)(SL_MAGIC_COOKIE >> 16);
        for (size_t i = 0; i < iplen; i++)
            p[4 + i] ^= mask[i];
    }
    sl_put_u16(p + 2, port);
}

void sl_enc_error(struct sl_enc *e, int code, const char *reason)
{
    size_t rl = reason ? strlen(reason) : 0;
    if (code < 300 || code > 699) {
        if (!e->err)
            e->err = SL_EINVAL;
        return;
    }
    uint8_t *p = enc_reserve(e, SL_ATTR_ERROR_CODE, 4 + rl, 0);
    if (!p)
        return;
    p[0] = p[1] = 0;
    p[2] = (uint8_t)(code / 100);
    p[3] = (uint8_t)(code % 100);
    if (rl)
        memcpy(p + 4, reason, rl);
}

void sl_enc_channel(struct sl_enc *e, uint16_t channel)
{
    uint8_t *p = enc_reserve(e, SL_ATTR_CHANNEL_NUMBER, 4, 0);
    if (p) {
        sl_put_u16(p, channel);
        sl_put_u16(p + 2, 0);
    }
}

void sl_enc_unknown(struct sl_enc *e, const uint16_t *types, size_t n)
{
    uint8_t *p = enc_reserve(e, SL_ATTR_UNKNOWN_ATTRIBUTES, 2 * n, 0);
    if (p)
        for (size_t i = 0; i < n; i++)
            sl_put_u16(p + 2 * i, types[i]);
}

void sl_enc_pwalg(struct sl_enc *e, uint16_t alg)
{
    uint8_t *p = enc_reserve(e, SL_ATTR_PASSWORD_ALGORITHM, 4, 0);
    if (p) {
        sl_put_u16(p, alg);
        sl_put_u16(p + 2, 0);
    }
}

void sl_enc_integrity(struct sl_enc *e, const uint8_t *key, size_t keylen)
{
    size_t before = e->len;
    /* RFC 8489 §14.5: the length field covers the message up to and including the
     * MESSAGE-INTEGRITY attribute itself; the HMAC covers everything before the attribute. */
    uint8_t *p = enc_reserve(e, SL_ATTR_MESSAGE_INTEGRITY, 20, 0);
    if (!p)
        return;
    const uint8_t *parts[1] = {e->buf};
    size_t lens[1] = {before};
    if (sl_auth_hmac_sha1(key, keylen, parts, lens, 1, p) != SL_OK)
        e->err = SL_ECRYPTO;
}

void sl_enc_integrity_sha256(struct sl_enc *e, const uint8_t *key, size_t keylen, size_t trunc)
{
    if (trunc < 16 || trunc > 32 || trunc % 4) {
        if (!e->err)
            e->err = SL_EINVAL;
        return;
    }
    size_t before = e->len;
    uint8_t *p = enc_reserve(e, SL_ATTR_MESSAGE_INTEGRITY_SHA256, trunc, 0);
    if (!p)
        return;
    uint8_t mac[32];
    const uint8_t *parts[1] = {e->buf};
    size_t lens[1] = {before};
    if (sl_auth_hmac_sha256(key, keylen, parts, lens, 1, mac) != SL_OK) {
        e->err = SL_ECRYPTO;
        memset(p, 0, trunc);
        return;
    }
    memcpy(p, mac, trunc);
}

void sl_enc_fingerprint(struct sl_enc *e)
{
    size_t before = e->len;
    uint8_t *p = enc_reserve(e, SL_ATTR_FINGERPRINT, 4, 0);
    if (p)
        sl_put_u32(p, sl_crc32(e->buf, before) ^ SL_FP_XOR);
}

int sl_enc_finish(struct sl_enc *e, size_t *len)
{
    if (e->err)
        return e->err;
    if (len)
        *len = e->len;
    return SL_OK;
}
