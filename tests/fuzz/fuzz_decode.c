/* Fuzz target: one datagram through every stunlib reader (decoder, getters, formatter, checks,
 * classifier, ChannelData), with invariants that abort when a reader returns nonsense. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_auth.h"
#include "sl_chan.h"
#include "sl_classify.h"
#include "sl_fmt.h"
#include "sl_msg.h"
#include "sl_names.h"
#include "sl_rd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() rather than assert(): the checks must stay in release and replay builds. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static const uint8_t key[] = "fuzz-key";

static void check_string(const char *s, size_t cap)
{
    CHECK(memchr(s, '\0', cap) != NULL);
}

/* Every typed getter on an attribute's type: none may read outside the message. */
static void call_getters(const struct sl_msg *m, uint16_t type)
{
    const uint8_t *val = NULL;
    size_t len = 0, n = 0;
    uint32_t u32;
    uint64_t u64;
    struct sl_addr addr;
    int code;
    const char *reason;
    uint8_t u8, fam, itype, icode;
    uint16_t list[8], ch, alg;
    char s[SL_ADDR_STRLEN];

    if (sl_msg_get_bytes(m, type, &val, &len) == SL_OK)
        CHECK(val >= m->buf + SL_HDR_LEN && val + len <= m->buf + m->len);
    (void)sl_msg_get_u32(m, type, &u32);
    (void)sl_msg_get_u64(m, type, &u64);
    if (sl_msg_get_addr(m, type, &addr) == SL_OK) {
        CHECK(addr.family == SL_AF_IPV4 || addr.family == SL_AF_IPV6);
        check_string(sl_addr_format(&addr, s, sizeof(s), true), sizeof(s));
    }
    if (sl_msg_get_error(m, &code, &reason, &len) == SL_OK)
        CHECK((const uint8_t *)reason + len <= m->buf + m->len);
    if (sl_msg_get_address_error(m, &fam, &code, &reason, &len) == SL_OK)
        CHECK((const uint8_t *)reason + len <= m->buf + m->len);
    if (sl_msg_get_unknown(m, list, 8, &n) == SL_OK)
        CHECK(n <= 8);
    (void)sl_msg_get_channel(m, &ch);
    (void)sl_msg_get_u8_head(m, type, &u8);
    (void)sl_msg_get_icmp(m, &itype, &icode, &u32);
    for (size_t i = 0; i < 4; i++)
        (void)sl_msg_get_pwalg(m, type, i, &alg);
}

/* Rebuilding the message from its decoded attributes and decoding that again must give the
 * same attribute list: the decoder's view and the encoder agree. */
static void check_reencode(const struct sl_msg *m, unsigned flags)
{
    static uint8_t out[SL_HDR_LEN + 65536];
    struct sl_enc e;
    struct sl_msg m2;
    size_t len = 0;
    sl_enc_init(&e, out, sizeof(out), m->method, m->cls, m->tid);
    for (size_t i = 0; i < m->nattrs; i++)
        sl_enc_attr(&e, m->attrs[i].type, sl_attr_value(m, &m->attrs[i]), m->attrs[i].len);
    CHECK(sl_enc_finish(&e, &len) == SL_OK);
    CHECK(len == m->len);
    CHECK(memcmp(out, m->buf, 4) == 0); /* type and length */
    CHECK(sl_msg_decode(&m2, out, len, flags & ~(unsigned)SL_DEC_PREFIX) == SL_OK);
    CHECK(m2.nattrs == m->nattrs);
    for (size_t i = 0; i < m->nattrs; i++) {
        const struct sl_attr *a = &m->attrs[i], *b = &m2.attrs[i];
        CHECK(a->type == b->type && a->len == b->len && a->off == b->off);
        CHECK(a->ignored == b->ignored);
        CHECK(memcmp(sl_attr_value(m, a), sl_attr_value(&m2, b), a->len) == 0);
    }
    CHECK(m2.idx_mi == m->idx_mi && m2.idx_mi256 == m->idx_mi256 && m2.idx_fp == m->idx_fp);
}

static void check_message(const struct sl_msg *m, const uint8_t *data, size_t size, unsigned flags)
{
    char s[40], t[64];
    CHECK(m->buf == data);
    CHECK(m->len >= SL_HDR_LEN && m->len <= size && m->len % 4 == 0);
    CHECK((flags & SL_DEC_PREFIX) || m->len == size);
    CHECK(m->classic == (m->cookie != SL_MAGIC_COOKIE));
    CHECK(!m->classic || (flags & SL_DEC_CLASSIC));
    CHECK(m->nattrs <= SL_MAX_ATTRS);
    CHECK(m->n_unknown_required <= sizeof(m->unknown_required) / sizeof(m->unknown_required[0]));
    size_t next = SL_HDR_LEN;
    for (size_t i = 0; i < m->nattrs; i++) {
        const struct sl_attr *a = &m->attrs[i];
        /* Attributes tile the body: each starts where the previous one's padding ends. */
        CHECK(a->off == next);
        next = a->off + 4u + a->len + SL_PAD4(a->len);
        CHECK(next <= m->len);
        CHECK(!a->ignored || (flags & SL_DEC_LENIENT));
        call_getters(m, a->type);
        struct sl_addr addr;
        (void)sl_attr_get_addr(m, a, &addr);
        check_string(sl_attr_format(m, a, s, sizeof(s)), sizeof(s));
        check_string(sl_attr_format(m, a, s, 1), 1);
    }
    CHECK(next == m->len);
    check_string(sl_type_describe(m->type, t, sizeof(t)), sizeof(t));

    int rc = sl_auth_check_integrity(m, key, sizeof(key) - 1);
    CHECK(rc == (m->idx_mi < 0 ? SL_ENOTFOUND : rc == SL_OK ? SL_OK : SL_EINTEGRITY));
    rc = sl_auth_check_integrity_sha256(m, key, sizeof(key) - 1);
    CHECK(rc == (m->idx_mi256 < 0 ? SL_ENOTFOUND : rc == SL_OK ? SL_OK : SL_EINTEGRITY));
    rc = sl_auth_check_fingerprint(m);
    CHECK(rc == (m->idx_fp < 0 ? SL_ENOTFOUND : rc == SL_OK ? SL_OK : SL_EFINGERPRINT));
    if (!m->classic)
        check_reencode(m, flags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sl_msg m;
    char why[160];

    /* Every combination of PREFIX, CLASSIC and LENIENT. */
    for (unsigned flags = 0; flags < 8; flags++) {
        int rc = sl_msg_decode(&m, data, size, flags);
        CHECK(rc >= 0 && rc < SL_ERR_COUNT);
        if (rc != SL_OK) {
            CHECK(m.len == 0 || rc == SL_EORDER || rc == SL_ETOOMANY || rc == SL_EATTRTRUNC ||
                  rc == SL_EBADATTR || rc == SL_EBADADDR || rc == SL_ETOOLONG);
            check_string(sl_msg_explain(&m, rc, why, sizeof(why)), sizeof(why));
            continue;
        }
        check_message(&m, data, size, flags);
    }

    enum sl_kind k = sl_classify(data, size);
    check_string(sl_kind_name(k), 64);
    if (k == SL_KIND_STUN) {
        CHECK(sl_msg_decode(&m, data, size, SL_DEC_LENIENT) == SL_OK);
        CHECK(m.idx_fp < 0 || sl_auth_check_fingerprint(&m) == SL_OK);
    }

    for (int stream = 0; stream < 2; stream++) {
        struct sl_chan c;
        if (sl_chan_decode(&c, data, size, stream) != SL_OK)
            continue;
        CHECK(sl_chan_valid(c.channel));
        CHECK(c.data == data + 4 && 4u + c.len <= size && c.total <= size);
        CHECK(c.total >= 4u + c.len);
        CHECK(stream ? c.total % 4 == 0 : c.total == size);
        CHECK(k == SL_KIND_CHANNELDATA || stream || (size > 0 && (data[0] & 0xF0) != 0x40));
    }

    char q[64];
    check_string(sl_fmt_quoted(data, size, q, sizeof(q)), sizeof(q));
    check_string(sl_fmt_hex(data, size, 16, q, sizeof(q)), sizeof(q));
    return 0;
}
