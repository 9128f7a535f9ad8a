/* Human-readable attribute values (see sl_fmt.h). */
#include "sl_fmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sl_names.h"
#include "sl_rd.h"

/* An appending snprintf that never overruns and always terminates. */
struct fmt {
    char *buf;
    size_t n, len;
};

static void put(struct fmt *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct fmt *f, const char *fmt, ...)
{
    if (f->n == 0 || f->len >= f->n - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(f->buf + f->len, f->n - f->len, fmt, ap);
    va_end(ap);
    if (w > 0)
        f->len += (size_t)w < f->n - f->len ? (size_t)w : f->n - f->len - 1;
}

static size_t utf8_seq_len(const uint8_t *p, size_t left)
{
    uint8_t c = p[0];
    size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || len > left || c == 0xC0 || c == 0xC1 || c > 0xF4)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

const char *sl_fmt_quoted(const uint8_t *p, size_t len, char *buf, size_t n)
{
    struct fmt f = {buf, n, 0};
    if (n)
        buf[0] = '\0';
    put(&f, "\"");
    for (size_t i = 0; i < len;) {
        uint8_t c = p[i];
        if (c == '"' || c == '\\') {
            put(&f, "\\%c", c);
            i++;
        } else if (c >= 0x20 && c < 0x7F) {
            put(&f, "%c", c);
            i++;
        } else if (c >= 0x80 && utf8_seq_len(p + i, len - i)) {
            size_t k = utf8_seq_len(p + i, len - i);
            put(&f, "%.*s", (int)k, (const char *)p + i);
            i += k;
        } else {
            put(&f, "\\x%02x", c);
            i++;
        }
    }
    put(&f, "\"");
    return buf;
}

const char *sl_fmt_hex(const uint8_t *p, size_t len, size_t max, char *buf, size_t n)
{
    struct fmt f = {buf, n, 0};
    if (n)
        buf[0] = '\0';
    size_t show = len < max ? len : max;
    for (size_t i = 0; i < show; i++)
        put(&f, "%02x", p[i]);
    if (show < len)
        put(&f, "...");
    return buf;
}

static const char *family_name(uint8_t fam)
{
    return fam == SL_AF_IPV4 ? "IPv4" : fam == SL_AF_IPV6 ? "IPv6" : "unknown family";
}

static const char *pwalg_name(uint16_t alg)
{
    return alg == SL_PWALG_MD5 ? "MD5" : alg == SL_PWALG_SHA256 ? "SHA-256" : "unknown";
}

static void put_error(struct fmt *f, const uint8_t *v, size_t len, size_t skip)
{
    int code = (v[2] & 7) * 100 + v[3];
    char q[800];
    const struct sl_error_info *ei = sl_error_info(code);
    put(f, "%d %s", code, sl_fmt_quoted(v + skip, len - skip, q, sizeof(q)));
    if (ei)
        put(f, " (%s: %s)", ei->reason, ei->meaning);
}

const char *sl_attr_format(const struct sl_msg *m, const struct sl_attr *a, char *buf, size_t n)
{
    struct fmt f = {buf, n, 0};
    const uint8_t *v = sl_attr_value(m, a);
    size_t len = a->len;
    char tmp[800];
    if (n)
        buf[0] = '\0';

    struct sl_addr addr;
    if (sl_attr_get_addr(m, a, &addr) == SL_OK) {
        char s[SL_ADDR_STRLEN];
        put(&f, "%s", sl_addr_format(&addr, s, sizeof(s), true));
        return buf;
    }
    switch (a->type) {
    case SL_ATTR_USERNAME:
    case SL_ATTR_REALM:
    case SL_ATTR_NONCE:
    case SL_ATTR_SOFTWARE:
    case SL_ATTR_ALTERNATE_DOMAIN:
    case SL_ATTR_PASSWORD:
        put(&f, "%s", sl_fmt_quoted(v, len, tmp, sizeof(tmp)));
        return buf;
    case SL_ATTR_ERROR_CODE:
        if (len >= 4) {
            put_error(&f, v, len, 4);
            return buf;
        }
        break;
    case SL_ATTR_ADDRESS_ERROR_CODE:
        if (len >= 4) {
            put(&f, "%s: ", family_name(v[0]));
            put_error(&f, v, len, 4);
            return buf;
        }
        break;
    case SL_ATTR_LIFETIME:
        if (len == 4) {
            put(&f, "%u s", sl_get_u32(v));
            return buf;
        }
        break;
    case SL_ATTR_PRIORITY:
    case SL_ATTR_CONNECTION_ID:
    case SL_ATTR_CACHE_TIMEOUT:
        if (len == 4) {
            put(&f, "%u", sl_get_u32(v));
            return buf;
        }
        break;
    case SL_ATTR_CHANGE_REQUEST:
        if (len == 4) {
            uint32_t fl = sl_get_u32(v);
            put(&f, "change IP: %s, change port: %s", (fl & 4) ? "yes" : "no",
                (fl & 2) ? "yes" : "no");
            return buf;
        }
        break;
    case SL_ATTR_CHANNEL_NUMBER:
        if (len == 4) {
            put(&f, "0x%04x", sl_get_u16(v));
            return buf;
        }
        break;
    case SL_ATTR_REQUESTED_TRANSPORT:
        if (len == 4) {
            put(&f, "%s (%u)", v[0] == 17 ? "UDP" : v[0] == 6 ? "TCP" : "unknown", v[0]);
            return buf;
        }
        break;
    case SL_ATTR_REQUESTED_ADDRESS_FAMILY:
    case SL_ATTR_ADDITIONAL_ADDRESS_FAMILY:
        if (len == 4) {
            put(&f, "%s", family_name(v[0]));
            return buf;
        }
        break;
    case SL_ATTR_EVEN_PORT:
        if (len == 1) {
            put(&f, "reserve next port: %s", (v[0] & 0x80) ? "yes" : "no");
            return buf;
        }
        break;
    case SL_ATTR_RESPONSE_PORT:
        if (len == 4) {
            put(&f, "%u", sl_get_u16(v));
            return buf;
        }
        break;
    case SL_ATTR_DONT_FRAGMENT:
    case SL_ATTR_USE_CANDIDATE:
        if (len == 0) {
            put(&f, "(flag)");
            return buf;
        }
        break;
    case SL_ATTR_ICE_CONTROLLED:
    case SL_ATTR_ICE_CONTROLLING:
    case SL_ATTR_RESERVATION_TOKEN:
        if (len == 8) {
            put(&f, "0x%08x%08x", sl_get_u32(v), sl_get_u32(v + 4));
            return buf;
        }
        break;
    case SL_ATTR_FINGERPRINT:
        if (len == 4) {
            put(&f, "0x%08x", sl_get_u32(v));
            return buf;
        }
        break;
    case SL_ATTR_ICMP:
        if (len == 8) {
            put(&f, "type %u code %u data 0x%08x", v[2], v[3], sl_get_u32(v + 4));
            return buf;
        }
        break;
    case SL_ATTR_UNKNOWN_ATTRIBUTES:
        for (size_t i = 0; i + 1 < len; i += 2) {
            uint16_t t = sl_get_u16(v + i);
            const char *nm = sl_attr_name(t);
            put(&f, "%s0x%04x%s%s%s", i ? ", " : "", t, nm ? " (" : "", nm ? nm : "",
                nm ? ")" : "");
        }
        if (len == 0)
            put(&f, "(none)");
        return buf;
    case SL_ATTR_PASSWORD_ALGORITHM:
        if (len >= 4) {
            put(&f, "%s", pwalg_name(sl_get_u16(v)));
            return buf;
        }
        break;
    case SL_ATTR_PASSWORD_ALGORITHMS: {
        struct sl_rd rd;
        sl_rd_init(&rd, v, len);
        for (int i = 0; sl_rd_left(&rd) >= 4; i++) {
            uint16_t alg = sl_rd_u16(&rd);
            uint16_t plen = sl_rd_u16(&rd);
            sl_rd_skip(&rd, (size_t)plen + SL_PAD4(plen));
            put(&f, "%s%s", i ? ", " : "", pwalg_name(alg));
        }
        return buf;
    }
    case SL_ATTR_DATA:
    case SL_ATTR_PADDING:
    case SL_ATTR_MOBILITY_TICKET:
    case SL_ATTR_ACCESS_TOKEN:
    case SL_ATTR_THIRD_PARTY_AUTHORIZATION:
        put(&f, "%zu bytes: %s", len, sl_fmt_hex(v, len, 24, tmp, sizeof(tmp)));
        return buf;
    default:
        break;
    }
    put(&f, "%s", sl_fmt_hex(v, len, 32, tmp, sizeof(tmp)));
    return buf;
}
