/* Unit tests of stunlib's message codec: RFC vectors, malformed input, truncation, round trips. */
#include <glib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "sl_auth.h"
#include "sl_chan.h"
#include "sl_classify.h"
#include "sl_fmt.h"
#include "sl_msg.h"
#include "sl_names.h"
#include "sl_rd.h"
#include "tp_testutil.h"

static GPtrArray *vectors;

static const uint8_t test_tid[SL_TID_LEN] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                             0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

/* Compares result codes by name, so a failure reads "truncated" == "ok" rather than 4 == 0. */
#define assert_err(got, want) g_assert_cmpstr(sl_strerror(got), ==, sl_strerror(want))

/* Decodes a vector from its own exact-size allocation; the caller frees *copy. */
static void decode_vector(const char *prefix, struct sl_msg *m, uint8_t **copy, size_t *len)
{
    const struct tp_vector *v = tp_vector_find(vectors, prefix);
    *len = v->bytes->len;
    *copy = tp_dup(v->bytes->data, v->bytes->len);
    assert_err(sl_msg_decode(m, *copy, *len, 0), SL_OK);
    g_assert_cmpuint(m->len, ==, *len);
}

static void assert_attr_order(const struct sl_msg *m, const uint16_t *types, size_t n)
{
    g_assert_cmpuint(m->nattrs, ==, n);
    for (size_t i = 0; i < n; i++) {
        g_assert_cmphex(m->attrs[i].type, ==, types[i]);
        g_assert_false(m->attrs[i].ignored);
    }
}

static void assert_bytes_attr(const struct sl_msg *m, uint16_t type, const void *want,
                              size_t want_len)
{
    const uint8_t *val = NULL;
    size_t len = 0;
    assert_err(sl_msg_get_bytes(m, type, &val, &len), SL_OK);
    g_assert_nonnull(val);
    g_assert_cmpmem(val, len, want, want_len);
}

static void assert_addr(const struct sl_msg *m, uint16_t type, const char *want)
{
    struct sl_addr a, w;
    char s[SL_ADDR_STRLEN];
    assert_err(sl_msg_get_addr(m, type, &a), SL_OK);
    assert_err(sl_addr_parse(&w, want, -1), SL_OK);
    g_assert_true(sl_addr_equal(&a, &w));
    g_assert_cmpstr(sl_addr_format(&a, s, sizeof(s), true), ==, want);
}

static void short_term_key(uint8_t *key, size_t *keylen)
{
    assert_err(sl_auth_short_term_key(TP_SHORT_TERM_PASSWORD, key, keylen), SL_OK);
    g_assert_cmpmem(key, *keylen, TP_SHORT_TERM_PASSWORD, strlen(TP_SHORT_TERM_PASSWORD));
}

/* ---- RFC 5769 §2.1-2.4 and RFC 8489 B.1 ---- */

static void test_vector_2_1(void)
{
    struct sl_msg m;
    uint8_t *buf, key[SL_KEY_MAX];
    size_t len, keylen;
    decode_vector("RFC5769_2.1", &m, &buf, &len);
    g_assert_cmpuint(m.method, ==, SL_BINDING);
    g_assert_cmpint(m.cls, ==, SL_REQUEST);
    g_assert_cmphex(m.cookie, ==, SL_MAGIC_COOKIE);
    g_assert_false(m.classic);
    g_assert_cmpmem(m.tid, SL_TID_LEN, test_tid, SL_TID_LEN);
    static const uint16_t order[] = {SL_ATTR_SOFTWARE,          SL_ATTR_PRIORITY,
                                     SL_ATTR_ICE_CONTROLLED,    SL_ATTR_USERNAME,
                                     SL_ATTR_MESSAGE_INTEGRITY, SL_ATTR_FINGERPRINT};
    assert_attr_order(&m, order, G_N_ELEMENTS(order));
    g_assert_cmpint(m.idx_mi, ==, 4);
    g_assert_cmpint(m.idx_mi256, ==, -1);
    g_assert_cmpint(m.idx_fp, ==, 5);
    g_assert_cmpuint(m.n_unknown_required, ==, 0);

    assert_bytes_attr(&m, SL_ATTR_SOFTWARE, "STUN test client", 16);
    /* The USERNAME is 9 bytes; its padding (0x20) is not part of the value. */
    assert_bytes_attr(&m, SL_ATTR_USERNAME, "evtj:h6vY", 9);
    uint32_t prio = 0;
    uint64_t tie = 0;
    assert_err(sl_msg_get_u32(&m, SL_ATTR_PRIORITY, &prio), SL_OK);
    g_assert_cmphex(prio, ==, 0x6e0001ffu);
    assert_err(sl_msg_get_u64(&m, SL_ATTR_ICE_CONTROLLED, &tie), SL_OK);
    g_assert_cmphex(tie, ==, G_GUINT64_CONSTANT(0x932ff9b151263b36));

    short_term_key(key, &keylen);
    assert_err(sl_auth_check_integrity(&m, key, keylen), SL_OK);
    assert_err(sl_auth_check_integrity_sha256(&m, key, keylen), SL_ENOTFOUND);
    assert_err(sl_auth_check_fingerprint(&m), SL_OK);
    key[0] ^= 1;
    assert_err(sl_auth_check_integrity(&m, key, keylen), SL_EINTEGRITY);
    g_free(buf);
}

static void test_vector_2_2(void)
{
    struct sl_msg m;
    uint8_t *buf, key[SL_KEY_MAX];
    size_t len, keylen;
    decode_vector("RFC5769_2.2", &m, &buf, &len);
    g_assert_cmpuint(m.method, ==, SL_BINDING);
    g_assert_cmpint(m.cls, ==, SL_SUCCESS);
    static const uint16_t order[] = {SL_ATTR_SOFTWARE, SL_ATTR_XOR_MAPPED_ADDRESS,
                                     SL_ATTR_MESSAGE_INTEGRITY, SL_ATTR_FINGERPRINT};
    assert_attr_order(&m, order, G_N_ELEMENTS(order));
    assert_bytes_attr(&m, SL_ATTR_SOFTWARE, "test vector", 11);
    assert_addr(&m, SL_ATTR_XOR_MAPPED_ADDRESS, "192.0.2.1:32853");
    /* Not present: the getters say so rather than returning stale data. */
    struct sl_addr a;
    assert_err(sl_msg_get_addr(&m, SL_ATTR_MAPPED_ADDRESS, &a), SL_ENOTFOUND);

    char s[128];
    g_assert_cmpstr(sl_attr_format(&m, &m.attrs[1], s, sizeof(s)), ==, "192.0.2.1:32853");
    g_assert_cmpstr(sl_attr_format(&m, &m.attrs[0], s, sizeof(s)), ==, "\"test vector\"");
    g_assert_cmpstr(sl_attr_format(&m, &m.attrs[3], s, sizeof(s)), ==, "0xc07d4c96");

    short_term_key(key, &keylen);
    assert_err(sl_auth_check_integrity(&m, key, keylen), SL_OK);
    assert_err(sl_auth_check_fingerprint(&m), SL_OK);
    g_free(buf);
}

static void test_vector_2_3(void)
{
    struct sl_msg m;
    uint8_t *buf, key[SL_KEY_MAX];
    size_t len, keylen;
    decode_vector("RFC5769_2.3", &m, &buf, &len);
    g_assert_cmpint(m.cls, ==, SL_SUCCESS);
    static const uint16_t order[] = {SL_ATTR_SOFTWARE, SL_ATTR_XOR_MAPPED_ADDRESS,
                                     SL_ATTR_MESSAGE_INTEGRITY, SL_ATTR_FINGERPRINT};
    assert_attr_order(&m, order, G_N_ELEMENTS(order));
    assert_bytes_attr(&m, SL_ATTR_SOFTWARE, "test vector", 11);
    assert_addr(&m, SL_ATTR_XOR_MAPPED_ADDRESS, "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
    short_term_key(key, &keylen);
    assert_err(sl_auth_check_integrity(&m, key, keylen), SL_OK);
    assert_err(sl_auth_check_fingerprint(&m), SL_OK);
    g_free(buf);
}

static void test_vector_2_4(void)
{
    struct sl_msg m;
    uint8_t *buf, key[64];
    size_t len, keylen = 0;
    decode_vector("RFC5769_2.4", &m, &buf, &len);
    g_assert_cmpint(m.cls, ==, SL_REQUEST);
    static const uint16_t order[] = {SL_ATTR_USERNAME, SL_ATTR_NONCE, SL_ATTR_REALM,
                                     SL_ATTR_MESSAGE_INTEGRITY};
    assert_attr_order(&m, order, G_N_ELEMENTS(order));
    assert_bytes_attr(&m, SL_ATTR_USERNAME, TP_LT_USERNAME, strlen(TP_LT_USERNAME));
    assert_bytes_attr(&m, SL_ATTR_NONCE, "f//499k954d6OL34oL9FSTvy64sA", 28);
    assert_bytes_attr(&m, SL_ATTR_REALM, "example.org", 11);

    assert_err(sl_auth_long_term_key(TP_LT_USERNAME, TP_LT_REALM, TP_LT_PASSWORD, SL_PWALG_MD5, key,
                                     &keylen),
               SL_OK);
    GByteArray *want = tp_hex("e8ca7ad59d5eb0518e312911d2dab2a9"); /* MD5, by python hashlib */
    g_assert_cmpmem(key, keylen, want->data, want->len);
    g_byte_array_unref(want);
    assert_err(sl_auth_check_integrity(&m, key, keylen), SL_OK);
    assert_err(sl_auth_check_fingerprint(&m), SL_ENOTFOUND);
    /* The SHA-256 key of the same credentials is a different key. */
    assert_err(sl_auth_long_term_key(TP_LT_USERNAME, TP_LT_REALM, TP_LT_PASSWORD, SL_PWALG_SHA256,
                                     key, &keylen),
               SL_OK);
    assert_err(sl_auth_check_integrity(&m, key, keylen), SL_EINTEGRITY);
    g_free(buf);
}

static void test_vector_b1(void)
{
    struct sl_msg m;
    uint8_t *buf, key[64], uh[32];
    size_t len, keylen = 0;
    decode_vector("RFC8489_B.1_erratum6268_VALID", &m, &buf, &len);
    g_assert_cmpint(m.cls, ==, SL_REQUEST);
    static const uint16_t order[] = {SL_ATTR_USERHASH, SL_ATTR_NONCE, SL_ATTR_REALM,
                                     SL_ATTR_PASSWORD_ALGORITHM, SL_ATTR_MESSAGE_INTEGRITY_SHA256};
    assert_attr_order(&m, order, G_N_ELEMENTS(order));
    g_assert_cmpint(m.idx_mi, ==, -1);
    g_assert_cmpint(m.idx_mi256, ==, 4);

    assert_err(sl_auth_userhash(TP_LT_USERNAME, TP_LT_REALM, uh), SL_OK);
    assert_bytes_attr(&m, SL_ATTR_USERHASH, uh, sizeof(uh));
    GByteArray *want = tp_hex("4a3cf38fef6992bda952c6780417da0f24819415569e60b205c46e41407f1704");
    g_assert_cmpmem(uh, sizeof(uh), want->data, want->len);
    g_byte_array_unref(want);
    assert_bytes_attr(&m, SL_ATTR_NONCE, "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA", 41);
    assert_bytes_attr(&m, SL_ATTR_REALM, "example.org", 11);
    uint16_t alg = 0;
    assert_err(sl_msg_get_pwalg(&m, SL_ATTR_PASSWORD_ALGORITHM, 0, &alg), SL_OK);
    g_assert_cmphex(alg, ==, SL_PWALG_SHA256);
    assert_err(sl_msg_get_pwalg(&m, SL_ATTR_PASSWORD_ALGORITHM, 1, &alg), SL_ENOTFOUND);

    assert_err(sl_auth_long_term_key(TP_LT_USERNAME, TP_LT_REALM, TP_LT_PASSWORD, SL_PWALG_SHA256,
                                     key, &keylen),
               SL_OK);
    g_assert_cmpuint(keylen, ==, 32);
    want = tp_hex("dd295a613b9058c3c23d6dc7165bda072304d989c9d0af3a8c7e184b4f9bb4a1");
    g_assert_cmpmem(key, keylen, want->data, want->len);
    g_byte_array_unref(want);
    assert_err(sl_auth_check_integrity_sha256(&m, key, keylen), SL_OK);
    assert_err(sl_auth_check_integrity(&m, key, keylen), SL_ENOTFOUND);
    assert_err(sl_auth_long_term_key(TP_LT_USERNAME, TP_LT_REALM, TP_LT_PASSWORD, SL_PWALG_MD5, key,
                                     &keylen),
               SL_OK);
    assert_err(sl_auth_check_integrity_sha256(&m, key, keylen), SL_EINTEGRITY);
    g_free(buf);
}

/* The B.1 message as printed in RFC 8489 claims 0x9c bytes of attributes but carries 0x88. */
static void test_vector_b1_published(void)
{
    const struct tp_vector *v = tp_vector_find(vectors, "RFC8489_B.1_as_published_INVALID");
    struct sl_msg m;
    uint8_t *buf = tp_dup(v->bytes->data, v->bytes->len);
    char why[200];
    assert_err(sl_msg_decode(&m, buf, v->bytes->len, 0), SL_ETRUNC);
    assert_err(sl_msg_decode(&m, buf, v->bytes->len, SL_DEC_PREFIX | SL_DEC_LENIENT), SL_ETRUNC);
    g_assert_cmpstr(sl_msg_explain(&m, SL_ETRUNC, why, sizeof(why)), ==,
                    "the header claims 156 bytes of attributes, 136 follow");

    /* With the length corrected it decodes, but its MESSAGE-INTEGRITY-SHA256 verifies with
     * neither long-term key (erratum 6268). */
    uint8_t key[64];
    size_t keylen = 0;
    buf[2] = 0;
    buf[3] = (uint8_t)(v->bytes->len - SL_HDR_LEN);
    assert_err(sl_msg_decode(&m, buf, v->bytes->len, 0), SL_OK);
    g_assert_cmpint(m.idx_mi256, >=, 0);
    for (int alg = SL_PWALG_MD5; alg <= SL_PWALG_SHA256; alg++) {
        assert_err(
            sl_auth_long_term_key(TP_LT_USERNAME, TP_LT_REALM, TP_LT_PASSWORD, alg, key, &keylen),
            SL_OK);
        assert_err(sl_auth_check_integrity_sha256(&m, key, keylen), SL_EINTEGRITY);
    }
    g_free(buf);
}

static void assert_encoded_equals(struct sl_enc *e, const char *vector)
{
    const struct tp_vector *v = tp_vector_find(vectors, vector);
    size_t len = 0;
    assert_err(sl_enc_finish(e, &len), SL_OK);
    g_assert_cmpmem(e->buf, len, v->bytes->data, v->bytes->len);
}

/* RFC 5769 §2.1 rebuilt with the encoder: the same bytes, MESSAGE-INTEGRITY and FINGERPRINT
 * included, prove that the encoder computes both exactly as the RFC does. */
static void test_reencode_2_1(void)
{
    uint8_t buf[256], key[SL_KEY_MAX];
    size_t keylen;
    struct sl_enc e;
    short_term_key(key, &keylen);
    sl_enc_init(&e, buf, sizeof(buf), SL_BINDING, SL_REQUEST, test_tid);
    sl_enc_str(&e, SL_ATTR_SOFTWARE, "STUN test client");
    sl_enc_u32(&e, SL_ATTR_PRIORITY, 0x6e0001ffu);
    sl_enc_u64(&e, SL_ATTR_ICE_CONTROLLED, G_GUINT64_CONSTANT(0x932ff9b151263b36));
    sl_enc_attr_padded(&e, SL_ATTR_USERNAME, "evtj:h6vY", 9, 0x20);
    sl_enc_integrity(&e, key, keylen);
    sl_enc_fingerprint(&e);
    assert_encoded_equals(&e, "RFC5769_2.1");
}

static void test_reencode_2_2_and_2_3(void)
{
    uint8_t buf[256], key[SL_KEY_MAX];
    size_t keylen;
    struct sl_enc e;
    struct sl_addr a;
    short_term_key(key, &keylen);

    assert_err(sl_addr_parse(&a, "192.0.2.1:32853", -1), SL_OK);
    sl_enc_init(&e, buf, sizeof(buf), SL_BINDING, SL_SUCCESS, test_tid);
    sl_enc_attr_padded(&e, SL_ATTR_SOFTWARE, "test vector", 11, 0x20);
    sl_enc_addr(&e, SL_ATTR_XOR_MAPPED_ADDRESS, &a);
    sl_enc_integrity(&e, key, keylen);
    sl_enc_fingerprint(&e);
    assert_encoded_equals(&e, "RFC5769_2.2");

    assert_err(sl_addr_parse(&a, "[2001:db8:1234:5678:11:2233:4455:6677]:32853", -1), SL_OK);
    sl_enc_init(&e, buf, sizeof(buf), SL_BINDING, SL_SUCCESS, test_tid);
    sl_enc_attr_padded(&e, SL_ATTR_SOFTWARE, "test vector", 11, 0x20);
    sl_enc_addr(&e, SL_ATTR_XOR_MAPPED_ADDRESS, &a);
    sl_enc_integrity(&e, key, keylen);
    sl_enc_fingerprint(&e);
    assert_encoded_equals(&e, "RFC5769_2.3");
}

static void test_reencode_long_term(void)
{
    static const uint8_t tid[SL_TID_LEN] = {0x78, 0xad, 0x34, 0x33, 0xc6, 0xad,
                                            0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e};
    uint8_t buf[256], key[64], uh[32];
    size_t keylen;
    struct sl_enc e;

    assert_err(sl_auth_long_term_key(TP_LT_USERNAME, TP_LT_REALM, TP_LT_PASSWORD, SL_PWALG_MD5, key,
                                     &keylen),
               SL_OK);
    sl_enc_init(&e, buf, sizeof(buf), SL_BINDING, SL_REQUEST, tid);
    sl_enc_str(&e, SL_ATTR_USERNAME, TP_LT_USERNAME);
    sl_enc_str(&e, SL_ATTR_NONCE, "f//499k954d6OL34oL9FSTvy64sA");
    sl_enc_str(&e, SL_ATTR_REALM, TP_LT_REALM);
    sl_enc_integrity(&e, key, keylen);
    assert_encoded_equals(&e, "RFC5769_2.4");

    assert_err(sl_auth_long_term_key(TP_LT_USERNAME, TP_LT_REALM, TP_LT_PASSWORD, SL_PWALG_SHA256,
                                     key, &keylen),
               SL_OK);
    assert_err(sl_auth_userhash(TP_LT_USERNAME, TP_LT_REALM, uh), SL_OK);
    sl_enc_init(&e, buf, sizeof(buf), SL_BINDING, SL_REQUEST, tid);
    sl_enc_attr(&e, SL_ATTR_USERHASH, uh, sizeof(uh));
    sl_enc_str(&e, SL_ATTR_NONCE, "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA");
    sl_enc_str(&e, SL_ATTR_REALM, TP_LT_REALM);
    sl_enc_pwalg(&e, SL_PWALG_SHA256);
    sl_enc_integrity_sha256(&e, key, keylen, 32);
    assert_encoded_equals(&e, "RFC8489_B.1_erratum6268_VALID");
}

/* ---- malformed messages ---- */

enum bad_kind {
    BAD_RAW,         /* hex is the whole datagram */
    BAD_BODY,        /* hex is the attribute list; a Binding request header is put in front */
    BAD_BUILD,       /* build() writes the attribute list */
    BAD_CHAN_UDP,    /* hex is a ChannelData datagram */
    BAD_CHAN_STREAM, /* hex is a ChannelData record on a stream */
};

struct bad_case {
    const char *name;
    enum bad_kind kind;
    const char *hex;
    void (*build)(GByteArray *body);
    unsigned flags;
    int expect;
    int off;             /* expected where.off, -1 when not checked */
    const char *explain; /* expected sl_msg_explain text, NULL when not checked */
};

static void put_attr(GByteArray *b, uint16_t type, const void *val, size_t len, uint8_t fill)
{
    uint8_t hdr[4] = {(uint8_t)(type >> 8), (uint8_t)type, (uint8_t)(len >> 8), (uint8_t)len};
    g_byte_array_append(b, hdr, 4);
    if (len)
        g_byte_array_append(b, val, (guint)len);
    for (size_t i = 0; i < SL_PAD4(len); i++)
        g_byte_array_append(b, &fill, 1);
}

static void put_repeated(GByteArray *b, uint16_t type, const char *unit, size_t count)
{
    GString *s = g_string_new(NULL);
    for (size_t i = 0; i < count; i++)
        g_string_append(s, unit);
    put_attr(b, type, s->str, s->len, 0);
    g_string_free(s, TRUE);
}

static void build_realm_128(GByteArray *b)
{
    put_repeated(b, SL_ATTR_REALM, "r", 128);
}
static void build_nonce_128(GByteArray *b)
{
    put_repeated(b, SL_ATTR_NONCE, "n", 128);
}
static void build_software_128(GByteArray *b)
{
    put_repeated(b, SL_ATTR_SOFTWARE, "s", 128);
}
/* 128 three-byte characters: 384 bytes, under the byte limit but not the character limit. */
static void build_software_128_utf8(GByteArray *b)
{
    put_repeated(b, SL_ATTR_SOFTWARE, "\xe2\x82\xac", 128);
}
/* 764 continuation bytes count as no characters at all: only the byte limit can refuse it. */
static void build_realm_764_bytes(GByteArray *b)
{
    put_repeated(b, SL_ATTR_REALM, "\x80", 764);
}
static void build_username_513(GByteArray *b)
{
    put_repeated(b, SL_ATTR_USERNAME, "u", 513);
}
static void build_alternate_domain_256(GByteArray *b)
{
    put_repeated(b, SL_ATTR_ALTERNATE_DOMAIN, "d", 256);
}
static void build_reason_128(GByteArray *b)
{
    GString *s = g_string_new(NULL);
    g_string_append_len(s, "\x00\x00\x04\x00", 4);
    for (int i = 0; i < 128; i++)
        g_string_append_c(s, 'x');
    put_attr(b, SL_ATTR_ERROR_CODE, s->str, s->len, 0);
    g_string_free(s, TRUE);
}
static void build_129_attrs(GByteArray *b)
{
    for (int i = 0; i < SL_MAX_ATTRS + 1; i++)
        put_attr(b, 0x8050, NULL, 0, 0);
}

#define HDR_TID "2112a442 b7e7a701bc34d686fa87dfae"

static const struct bad_case bad_cases[] = {
    {"empty datagram", BAD_RAW, "", NULL, 0, SL_ETRUNC, 0,
     "0 bytes, shorter than the 20-byte STUN header"},
    {"header of 19 bytes", BAD_RAW, "0001 0000 2112a442 b7e7a701bc34d686fa87df", NULL, 0, SL_ETRUNC,
     0, "19 bytes, shorter than the 20-byte STUN header"},
    {"first bits 01", BAD_RAW, "4001 0000 " HDR_TID, NULL, 0, SL_ENOTSTUN, 0,
     "the first two bits are not zero (first byte 0x40): not a STUN message"},
    {"first bits 10", BAD_RAW, "8001 0000 " HDR_TID, NULL, 0, SL_ENOTSTUN, 0, NULL},
    {"first bits 11, short", BAD_RAW, "c0", NULL, 0, SL_ENOTSTUN, 0, NULL},
    {"length not a multiple of 4", BAD_RAW, "0001 0006 " HDR_TID " 802200020000", NULL, 0,
     SL_EBADLEN, 2, "the header length 6 is not a multiple of 4"},
    {"length shorter than the datagram", BAD_RAW, "0001 0000 " HDR_TID " 80220000", NULL, 0,
     SL_EBADLEN, 2, "the header claims 0 bytes of attributes but 4 follow"},
    {"length longer than the datagram", BAD_RAW, "0001 0008 " HDR_TID " 80220000", NULL, 0,
     SL_ETRUNC, 2, "the header claims 8 bytes of attributes, 4 follow"},
    {"wrong magic cookie", BAD_RAW, "0001 0000 2112a443 b7e7a701bc34d686fa87dfae", NULL, 0,
     SL_EBADCOOKIE, 4, "magic cookie is 0x2112a443, not 0x2112a442 (RFC 3489 classic STUN?)"},
    {"attribute past the end", BAD_BODY, "0006 0009 6576746a", NULL, 0, SL_EATTRTRUNC, 20,
     "USERNAME (0x0006) at offset 20 claims 9 bytes, 4 left"},
    {"attribute length 0xffff", BAD_BODY, "8022 0004 74657374 9999 ffff 00000000", NULL, 0,
     SL_EATTRTRUNC, 28, "attribute 0x9999 at offset 28 claims 65535 bytes, 4 left"},
    {"SOFTWARE after MESSAGE-INTEGRITY", BAD_BODY,
     "0008 0014 0000000000000000000000000000000000000000 8022 0004 74657374", NULL, 0, SL_EORDER,
     44, "SOFTWARE (0x8022) at offset 44 follows MESSAGE-INTEGRITY or FINGERPRINT"},
    {"USERNAME after MESSAGE-INTEGRITY-SHA256", BAD_BODY,
     "001c 0010 00000000000000000000000000000000 0006 0004 75736572", NULL, 0, SL_EORDER, 40, NULL},
    {"MESSAGE-INTEGRITY after MESSAGE-INTEGRITY-SHA256", BAD_BODY,
     "001c 0010 00000000000000000000000000000000 "
     "0008 0014 0000000000000000000000000000000000000000",
     NULL, 0, SL_EORDER, 40, NULL},
    {"SOFTWARE after FINGERPRINT", BAD_BODY, "8028 0004 00000000 8022 0004 74657374", NULL, 0,
     SL_EORDER, 28, NULL},
    {"SOFTWARE after FINGERPRINT, lenient", BAD_BODY, "8028 0004 00000000 8022 0004 74657374", NULL,
     SL_DEC_LENIENT, SL_EORDER, 28, NULL},
    {"FINGERPRINT twice", BAD_BODY, "8028 0004 00000000 8028 0004 00000000", NULL, 0, SL_EORDER, 28,
     NULL},
    {"MESSAGE-INTEGRITY-SHA256 after FINGERPRINT", BAD_BODY,
     "8028 0004 00000000 001c 0010 00000000000000000000000000000000", NULL, 0, SL_EORDER, 28, NULL},
    {"MAPPED-ADDRESS family 0x03", BAD_BODY, "0001 0008 0003 1234 c0000201", NULL, 0, SL_EBADADDR,
     20, "MAPPED-ADDRESS (0x0001) at offset 20: bad address family or length (8 bytes)"},
    {"XOR-MAPPED-ADDRESS family 0x00", BAD_BODY, "0020 0008 0000 1234 c0000201", NULL, 0,
     SL_EBADADDR, 20, NULL},
    {"IPv4 address of 12 bytes", BAD_BODY, "0001 000c 0001 1234 c0000201 00000000", NULL, 0,
     SL_EBADADDR, 20, NULL},
    {"IPv6 XOR-PEER-ADDRESS of 8 bytes", BAD_BODY, "0012 0008 0002 1234 c0000201", NULL, 0,
     SL_EBADADDR, 20, NULL},
    {"IPv4 XOR-RELAYED-ADDRESS of 20 bytes", BAD_BODY,
     "0016 0014 0001 1234 c0000201 000000000000000000000000", NULL, 0, SL_EBADADDR, 20, NULL},
    {"ALTERNATE-SERVER of 2 bytes", BAD_BODY, "8023 0002 0001 0000", NULL, 0, SL_EBADADDR, 20,
     NULL},
    {"ERROR-CODE of 3 bytes", BAD_BODY, "0009 0003 000004 00", NULL, 0, SL_EBADATTR, 20,
     "ERROR-CODE (0x0009) at offset 20 has a malformed 3-byte value"},
    {"ERROR-CODE class 2", BAD_BODY, "0009 0004 0000 0200", NULL, 0, SL_EBADATTR, 20, NULL},
    {"ERROR-CODE class 7", BAD_BODY, "0009 0004 0000 0700", NULL, 0, SL_EBADATTR, 20, NULL},
    {"ERROR-CODE number 100", BAD_BODY, "0009 0004 0000 0464", NULL, 0, SL_EBADATTR, 20, NULL},
    {"ERROR-CODE reason of 128 characters", BAD_BUILD, NULL, build_reason_128, 0, SL_ETOOLONG, 20,
     NULL},
    {"ADDRESS-ERROR-CODE family 0x03", BAD_BODY, "8001 0004 0300 0440", NULL, 0, SL_EBADATTR, 20,
     NULL},
    {"REALM of 128 characters", BAD_BUILD, NULL, build_realm_128, 0, SL_ETOOLONG, 20,
     "REALM (0x0014) at offset 20 is 128 bytes, over the RFC's limit"},
    {"REALM of 764 bytes", BAD_BUILD, NULL, build_realm_764_bytes, 0, SL_ETOOLONG, 20, NULL},
    {"NONCE of 128 characters", BAD_BUILD, NULL, build_nonce_128, 0, SL_ETOOLONG, 20, NULL},
    {"SOFTWARE of 128 characters", BAD_BUILD, NULL, build_software_128, 0, SL_ETOOLONG, 20, NULL},
    {"SOFTWARE of 128 three-byte characters", BAD_BUILD, NULL, build_software_128_utf8, 0,
     SL_ETOOLONG, 20, NULL},
    {"USERNAME of 513 bytes", BAD_BUILD, NULL, build_username_513, 0, SL_ETOOLONG, 20, NULL},
    {"ALTERNATE-DOMAIN of 256 bytes", BAD_BUILD, NULL, build_alternate_domain_256, 0, SL_ETOOLONG,
     20, NULL},
    {"MESSAGE-INTEGRITY of 19 bytes", BAD_BODY,
     "0008 0013 00000000000000000000000000000000000000 00", NULL, 0, SL_EBADATTR, 20, NULL},
    {"MESSAGE-INTEGRITY-SHA256 of 12 bytes", BAD_BODY, "001c 000c 000000000000000000000000", NULL,
     0, SL_EBADATTR, 20, NULL},
    {"MESSAGE-INTEGRITY-SHA256 of 36 bytes", BAD_BODY,
     "001c 0024 000000000000000000000000000000000000000000000000000000000000000000000000", NULL, 0,
     SL_EBADATTR, 20, NULL},
    {"MESSAGE-INTEGRITY-SHA256 of 18 bytes", BAD_BODY,
     "001c 0012 000000000000000000000000000000000000 0000", NULL, 0, SL_EBADATTR, 20, NULL},
    {"FINGERPRINT of 3 bytes", BAD_BODY, "8028 0003 000000 00", NULL, 0, SL_EBADATTR, 20, NULL},
    {"UNKNOWN-ATTRIBUTES of odd length", BAD_BODY, "000a 0003 000100 00", NULL, 0, SL_EBADATTR, 20,
     NULL},
    {"LIFETIME of 3 bytes", BAD_BODY, "000d 0003 000258 00", NULL, 0, SL_EBADATTR, 20, NULL},
    {"CHANNEL-NUMBER of 2 bytes", BAD_BODY, "000c 0002 4000 0000", NULL, 0, SL_EBADATTR, 20, NULL},
    {"PRIORITY of 8 bytes", BAD_BODY, "0024 0008 6e0001ff 00000000", NULL, 0, SL_EBADATTR, 20,
     NULL},
    {"REQUESTED-TRANSPORT of 8 bytes", BAD_BODY, "0019 0008 11000000 00000000", NULL, 0,
     SL_EBADATTR, 20, NULL},
    {"EVEN-PORT of 4 bytes", BAD_BODY, "0018 0004 80000000", NULL, 0, SL_EBADATTR, 20, NULL},
    {"DONT-FRAGMENT with a value", BAD_BODY, "001a 0004 00000000", NULL, 0, SL_EBADATTR, 20, NULL},
    {"USE-CANDIDATE with a value", BAD_BODY, "0025 0001 01 000000", NULL, 0, SL_EBADATTR, 20, NULL},
    {"ICE-CONTROLLING of 4 bytes", BAD_BODY, "802a 0004 00000001", NULL, 0, SL_EBADATTR, 20, NULL},
    {"ICMP of 4 bytes", BAD_BODY, "8004 0004 00000301", NULL, 0, SL_EBADATTR, 20, NULL},
    {"USERHASH of 31 bytes", BAD_BODY,
     "001e 001f 00000000000000000000000000000000000000000000000000000000000000 00", NULL, 0,
     SL_EBADATTR, 20, NULL},
    {"ADDITIONAL-ADDRESS-FAMILY 0x01", BAD_BODY, "8000 0004 01000000", NULL, 0, SL_EBADATTR, 20,
     NULL},
    {"REQUESTED-ADDRESS-FAMILY 0x03", BAD_BODY, "0017 0004 03000000", NULL, 0, SL_EBADATTR, 20,
     NULL},
    {"PASSWORD-ALGORITHMS parameters past the end", BAD_BODY, "8002 0008 0001 0000 0002 0008", NULL,
     0, SL_EBADATTR, 20, NULL},
    {"PASSWORD-ALGORITHMS of 2 bytes", BAD_BODY, "8002 0002 0001 0000", NULL, 0, SL_EBADATTR, 20,
     NULL},
    {"PASSWORD-ALGORITHM parameters past the end", BAD_BODY, "001d 0004 0002 0004", NULL, 0,
     SL_EBADATTR, 20, NULL},
    {"ACCESS-TOKEN nonce length past the end", BAD_BODY, "001b 0004 0008 aabb", NULL, 0,
     SL_EBADATTR, 20, NULL},
    {"ACCESS-TOKEN of 1 byte", BAD_BODY, "001b 0001 00 000000", NULL, 0, SL_EBADATTR, 20, NULL},
    {"more than SL_MAX_ATTRS attributes", BAD_BUILD, NULL, build_129_attrs, 0, SL_ETOOMANY,
     20 + 4 * SL_MAX_ATTRS, "more than 128 attributes (at offset 532)"},
    {"ChannelData length past the end (UDP)", BAD_CHAN_UDP, "4000 0008 01020304", NULL, 0,
     SL_ETRUNC, -1, NULL},
    {"ChannelData length past the end (stream)", BAD_CHAN_STREAM, "4000 0008 01020304", NULL, 0,
     SL_ETRUNC, -1, NULL},
    {"ChannelData without its stream padding", BAD_CHAN_STREAM, "4000 0005 0102030405", NULL, 0,
     SL_ETRUNC, -1, NULL},
    {"ChannelData of 3 bytes", BAD_CHAN_UDP, "4000 00", NULL, 0, SL_ETRUNC, -1, NULL},
    {"ChannelData channel 0x5000", BAD_CHAN_UDP, "5000 0000", NULL, 0, SL_EBADCHAN, -1, NULL},
    {"ChannelData channel 0x3fff", BAD_CHAN_UDP, "3fff 0000", NULL, 0, SL_EBADCHAN, -1, NULL},
    {"ChannelData channel 0xffff (stream)", BAD_CHAN_STREAM, "ffff 0000", NULL, 0, SL_EBADCHAN, -1,
     NULL},
    {"ChannelData UDP with 4 trailing bytes", BAD_CHAN_UDP, "4000 0001 01 00000000", NULL, 0,
     SL_EBADLEN, -1, NULL},
};

static GByteArray *bad_case_bytes(const struct bad_case *c)
{
    if (c->kind != BAD_BODY && c->kind != BAD_BUILD)
        return tp_hex(c->hex);
    GByteArray *body = c->kind == BAD_BODY ? tp_hex(c->hex) : g_byte_array_new();
    if (c->build)
        c->build(body);
    g_assert_cmpuint(body->len % 4, ==, 0);
    g_assert_cmpuint(body->len, <=, 0xFFFF);
    GByteArray *msg = tp_hex("0001 0000 " HDR_TID);
    msg->data[2] = (uint8_t)(body->len >> 8);
    msg->data[3] = (uint8_t)body->len;
    g_byte_array_append(msg, body->data, body->len);
    g_byte_array_unref(body);
    return msg;
}

static void test_bad_case(gconstpointer data)
{
    const struct bad_case *c = data;
    GByteArray *bytes = bad_case_bytes(c);
    uint8_t *buf = tp_dup(bytes->data, bytes->len);
    size_t len = bytes->len;
    g_byte_array_unref(bytes);

    if (c->kind == BAD_CHAN_UDP || c->kind == BAD_CHAN_STREAM) {
        struct sl_chan ch;
        assert_err(sl_chan_decode(&ch, buf, len, c->kind == BAD_CHAN_STREAM), c->expect);
        g_free(buf);
        return;
    }
    struct sl_msg m;
    char why[256];
    assert_err(sl_msg_decode(&m, buf, len, c->flags), c->expect);
    if (c->off >= 0)
        g_assert_cmpuint(m.where.off, ==, (size_t)c->off);
    sl_msg_explain(&m, c->expect, why, sizeof(why));
    g_assert_cmpuint(strlen(why), >, 0);
    if (c->explain)
        g_assert_cmpstr(why, ==, c->explain);
    /* What even lenient decoding refuses is not a STUN message to the classifier either. */
    if (sl_msg_decode(&m, buf, len, SL_DEC_LENIENT) != SL_OK)
        g_assert_cmpint(sl_classify(buf, len), !=, SL_KIND_STUN);
    g_free(buf);
}

/* ---- well-formed edge cases: what the strict rules must still accept ---- */

static void decode_body(struct sl_msg *m, GByteArray *body, unsigned flags, int expect)
{
    GByteArray *msg = tp_hex("0001 0000 " HDR_TID);
    msg->data[2] = (uint8_t)(body->len >> 8);
    msg->data[3] = (uint8_t)body->len;
    g_byte_array_append(msg, body->data, body->len);
    /* The message stays alive in the array the caller gave: swap contents. */
    g_byte_array_set_size(body, 0);
    g_byte_array_append(body, msg->data, msg->len);
    g_byte_array_unref(msg);
    assert_err(sl_msg_decode(m, body->data, body->len, flags), expect);
}

static void test_lenient(void)
{
    struct sl_msg m;
    GByteArray *b = tp_hex("0008 0014 0000000000000000000000000000000000000000 "
                           "8022 0004 74657374 0006 0004 75736572");
    decode_body(&m, b, SL_DEC_LENIENT, SL_OK);
    g_assert_cmpuint(m.nattrs, ==, 3);
    g_assert_false(m.attrs[0].ignored);
    g_assert_true(m.attrs[1].ignored);
    g_assert_true(m.attrs[2].ignored);
    g_assert_null(sl_msg_find(&m, SL_ATTR_SOFTWARE));
    const uint8_t *v;
    size_t len;
    assert_err(sl_msg_get_bytes(&m, SL_ATTR_USERNAME, &v, &len), SL_ENOTFOUND);
    g_assert_cmpint(m.idx_mi, ==, 0);
    g_byte_array_unref(b);

    /* FINGERPRINT after ignored attributes is still found. */
    b = tp_hex("0008 0014 0000000000000000000000000000000000000000 "
               "8022 0004 74657374 8028 0004 00000000");
    decode_body(&m, b, SL_DEC_LENIENT, SL_OK);
    g_assert_cmpint(m.idx_fp, ==, 2);
    g_assert_true(m.attrs[1].ignored);
    g_assert_false(m.attrs[2].ignored);
    g_byte_array_unref(b);

    /* MESSAGE-INTEGRITY-SHA256 and FINGERPRINT may follow MESSAGE-INTEGRITY, strictly too. */
    b = tp_hex("0008 0014 0000000000000000000000000000000000000000 "
               "001c 0010 00000000000000000000000000000000 8028 0004 00000000");
    decode_body(&m, b, 0, SL_OK);
    g_assert_cmpint(m.idx_mi, ==, 0);
    g_assert_cmpint(m.idx_mi256, ==, 1);
    g_assert_cmpint(m.idx_fp, ==, 2);
    g_byte_array_unref(b);
}

static void test_classic(void)
{
    struct sl_msg m;
    /* RFC 3489: a 128-bit transaction id where the cookie would be. */
    GByteArray *b =
        tp_hex("0001 000c 0123456789abcdef0123456789abcdef 0001 0008 0001 0d96 c0000201");
    assert_err(sl_msg_decode(&m, b->data, b->len, 0), SL_EBADCOOKIE);
    assert_err(sl_msg_decode(&m, b->data, b->len, SL_DEC_CLASSIC), SL_OK);
    g_assert_true(m.classic);
    g_assert_cmphex(m.cookie, ==, 0x01234567u);
    assert_addr(&m, SL_ATTR_MAPPED_ADDRESS, "192.0.2.1:3478");
    g_byte_array_unref(b);
}

static void test_limits_accepted(void)
{
    struct sl_msg m;
    GByteArray *b = g_byte_array_new();
    put_repeated(b, SL_ATTR_REALM, "r", 127);
    put_repeated(b, SL_ATTR_NONCE, "\xe2\x82\xac", 127); /* 381 bytes, 127 characters */
    put_repeated(b, SL_ATTR_USERNAME, "u", 512);
    put_repeated(b, SL_ATTR_ALTERNATE_DOMAIN, "d", 255);
    decode_body(&m, b, 0, SL_OK);
    g_assert_cmpuint(m.nattrs, ==, 4);
    g_assert_cmpuint(m.attrs[1].len, ==, 381);
    g_byte_array_unref(b);

    b = g_byte_array_new();
    for (int i = 0; i < SL_MAX_ATTRS; i++)
        put_attr(b, 0x8050, NULL, 0, 0);
    decode_body(&m, b, 0, SL_OK);
    g_assert_cmpuint(m.nattrs, ==, SL_MAX_ATTRS);
    g_byte_array_unref(b);

    /* ERROR-CODE 300 and 699 are the ends of the range; MI-SHA256 may be 16 to 32 bytes. */
    b = tp_hex("0009 0004 0000 0300 0009 0004 0000 0663");
    decode_body(&m, b, 0, SL_OK);
    int code = 0;
    assert_err(sl_msg_get_error(&m, &code, NULL, NULL), SL_OK);
    g_assert_cmpint(code, ==, 300); /* the first of two */
    g_byte_array_unref(b);
    for (size_t n = 16; n <= 32; n += 4) {
        b = g_byte_array_new();
        put_repeated(b, SL_ATTR_MESSAGE_INTEGRITY_SHA256, "\x01", n);
        decode_body(&m, b, 0, SL_OK);
        g_assert_cmpint(m.idx_mi256, ==, 0);
        g_byte_array_unref(b);
    }

    /* Unknown attributes: comprehension-required ones are listed for a 420, others are not. */
    b = tp_hex("0030 0000 c001 0004 01020304 7fff 0000");
    decode_body(&m, b, 0, SL_OK);
    g_assert_cmpuint(m.n_unknown_required, ==, 2);
    g_assert_cmphex(m.unknown_required[0], ==, 0x0030);
    g_assert_cmphex(m.unknown_required[1], ==, 0x7fff);
    g_byte_array_unref(b);

    /* An empty message, and one whose padding bytes are not zero. */
    b = g_byte_array_new();
    decode_body(&m, b, 0, SL_OK);
    g_assert_cmpuint(m.nattrs, ==, 0);
    g_byte_array_unref(b);
    b = tp_hex("8022 0001 41ffffff");
    decode_body(&m, b, 0, SL_OK);
    assert_bytes_attr(&m, SL_ATTR_SOFTWARE, "A", 1);
    g_byte_array_unref(b);

    /* UDP ChannelData may carry up to three bytes of padding. */
    struct sl_chan ch;
    GByteArray *c = tp_hex("4001 0001 aa 000000");
    assert_err(sl_chan_decode(&ch, c->data, c->len, false), SL_OK);
    g_assert_cmphex(ch.channel, ==, 0x4001);
    g_assert_cmpuint(ch.len, ==, 1);
    g_assert_cmphex(ch.data[0], ==, 0xaa);
    g_assert_cmpuint(ch.total, ==, 8);
    g_byte_array_unref(c);
}

/* Attributes placed past offset 65535 of a 64 KiB message (possible over TCP): offsets are 32
 * bits wide, so the decoder gives the right values, never the wrong bytes. */
static void test_large_offsets(void)
{
    size_t cap = SL_HDR_LEN + 65532;
    uint8_t *buf = g_malloc(cap);
    uint8_t *data = g_malloc0(65512);
    struct sl_enc e;
    struct sl_msg m;
    size_t len = 0;

    sl_enc_init(&e, buf, cap, SL_SEND, SL_INDICATION, test_tid);
    sl_enc_attr(&e, SL_ATTR_DATA, data, 65512);
    sl_enc_str(&e, SL_ATTR_SOFTWARE, "offset-65536");
    assert_err(sl_enc_finish(&e, &len), SL_OK);
    g_assert_cmpuint(len, ==, cap);
    assert_err(sl_msg_decode(&m, buf, len, 0), SL_OK);
    assert_bytes_attr(&m, SL_ATTR_SOFTWARE, "offset-65536", 12);
    g_assert_cmpuint(m.attrs[1].off, ==, 65536);

    sl_enc_init(&e, buf, cap, SL_SEND, SL_INDICATION, test_tid);
    sl_enc_attr(&e, SL_ATTR_DATA, data, 65488);
    sl_enc_integrity(&e, (const uint8_t *)"k", 1);
    sl_enc_fingerprint(&e);
    assert_err(sl_enc_finish(&e, &len), SL_OK);
    g_assert_cmpuint(len, ==, 65544);
    assert_err(sl_msg_decode(&m, buf, len, 0), SL_OK);
    assert_err(sl_auth_check_integrity(&m, (const uint8_t *)"k", 1), SL_OK);
    assert_err(sl_auth_check_fingerprint(&m), SL_OK);
    /* The largest message whose attributes all start below 64 KiB is fine either way. */
    sl_enc_init(&e, buf, cap, SL_SEND, SL_INDICATION, test_tid);
    sl_enc_attr(&e, SL_ATTR_DATA, data, 65480);
    sl_enc_integrity(&e, (const uint8_t *)"k", 1);
    sl_enc_fingerprint(&e);
    assert_err(sl_enc_finish(&e, &len), SL_OK);
    assert_err(sl_msg_decode(&m, buf, len, 0), SL_OK);
    g_assert_cmpuint(m.attrs[2].off, ==, 65528);
    assert_err(sl_auth_check_integrity(&m, (const uint8_t *)"k", 1), SL_OK);
    assert_err(sl_auth_check_fingerprint(&m), SL_OK);
    g_free(data);
    g_free(buf);
}

/* ---- truncation: every prefix of every vector ---- */

static void test_prefixes(void)
{
    for (guint i = 0; i < vectors->len; i++) {
        const struct tp_vector *v = g_ptr_array_index(vectors, i);
        if (!tp_vector_valid(v))
            continue;
        for (size_t k = 0; k < v->bytes->len; k++) {
            uint8_t *p = tp_dup(v->bytes->data, k);
            struct sl_msg m;
            static const unsigned flagsets[] = {0, SL_DEC_PREFIX, SL_DEC_LENIENT | SL_DEC_CLASSIC};
            for (size_t f = 0; f < G_N_ELEMENTS(flagsets); f++) {
                int rc = sl_msg_decode(&m, p, k, flagsets[f]);
                if (rc != SL_ETRUNC)
                    g_error("%s: prefix of %zu bytes with flags %u gave %s", v->name, k,
                            flagsets[f], sl_strerror(rc));
            }
            g_assert_cmpint(sl_classify(p, k), ==, SL_KIND_OTHER);
            g_free(p);
        }
    }
}

static void test_trailing_bytes(void)
{
    for (guint i = 0; i < vectors->len; i++) {
        const struct tp_vector *v = g_ptr_array_index(vectors, i);
        if (!tp_vector_valid(v))
            continue;
        for (size_t extra = 1; extra <= 9; extra++) {
            size_t n = v->bytes->len + extra;
            uint8_t *p = g_malloc(n);
            memcpy(p, v->bytes->data, v->bytes->len);
            memset(p + v->bytes->len, 0xA5, extra);
            struct sl_msg m;
            assert_err(sl_msg_decode(&m, p, n, 0), SL_EBADLEN);
            assert_err(sl_msg_decode(&m, p, n, SL_DEC_PREFIX), SL_OK);
            g_assert_cmpuint(m.len, ==, v->bytes->len);
            g_assert_cmpuint(m.attrs[m.nattrs - 1].off + 4u + m.attrs[m.nattrs - 1].len, <=,
                             v->bytes->len);
            if (m.idx_fp >= 0)
                assert_err(sl_auth_check_fingerprint(&m), SL_OK);
            g_free(p);
        }
    }
}

/* Any single flipped bit in a protected vector is caught by decoding, integrity or
 * FINGERPRINT. */
static void test_bit_flips(void)
{
    const struct tp_vector *v = tp_vector_find(vectors, "RFC5769_2.1");
    uint8_t key[SL_KEY_MAX];
    size_t keylen;
    short_term_key(key, &keylen);
    for (size_t i = 0; i < v->bytes->len * 8; i++) {
        uint8_t *p = tp_dup(v->bytes->data, v->bytes->len);
        p[i / 8] ^= (uint8_t)(1u << (i % 8));
        struct sl_msg m;
        int rc = sl_msg_decode(&m, p, v->bytes->len, 0);
        if (rc == SL_OK) {
            int mi = sl_auth_check_integrity(&m, key, keylen);
            int fp = sl_auth_check_fingerprint(&m);
            if (mi == SL_OK && fp == SL_OK)
                g_error("bit %zu flipped and everything still verifies", i);
        }
        g_free(p);
    }
}

/* ---- message types ---- */

static void test_types(void)
{
    g_assert_cmphex(sl_msg_type(SL_BINDING, SL_REQUEST), ==, 0x0001);
    g_assert_cmphex(sl_msg_type(SL_BINDING, SL_INDICATION), ==, 0x0011);
    g_assert_cmphex(sl_msg_type(SL_BINDING, SL_SUCCESS), ==, 0x0101);
    g_assert_cmphex(sl_msg_type(SL_BINDING, SL_ERROR), ==, 0x0111);
    g_assert_cmphex(sl_msg_type(SL_ALLOCATE, SL_ERROR), ==, 0x0113);
    g_assert_cmphex(sl_msg_type(SL_SEND, SL_INDICATION), ==, 0x0016);
    g_assert_cmphex(sl_msg_type(SL_DATA, SL_INDICATION), ==, 0x0017);
    g_assert_cmphex(sl_msg_type(SL_CHANNEL_BIND, SL_SUCCESS), ==, 0x0109);
    g_assert_cmphex(sl_msg_type(SL_GOOG_PING, SL_REQUEST), ==, 0x0200);
    g_assert_cmphex(sl_msg_type(0xFFF, SL_ERROR), ==, 0x3FFF);
    for (uint16_t method = 0; method < 0x1000; method++)
        for (int cls = 0; cls < 4; cls++) {
            uint16_t t = sl_msg_type(method, (enum sl_class)cls);
            g_assert_cmphex(t & 0xC000, ==, 0);
            g_assert_cmphex(sl_type_method(t), ==, method);
            g_assert_cmpint(sl_type_class(t), ==, cls);
        }
    char s[64];
    g_assert_cmpstr(sl_type_describe(0x0113, s, sizeof(s)), ==, "Allocate error response");
    g_assert_cmpstr(sl_type_describe(0x0016, s, sizeof(s)), ==, "Send indication");
    g_assert_cmpstr(sl_type_describe(0x00AB, s, sizeof(s)), ==, "method 0x05b request");
}

/* ---- the encoder's own errors ---- */

static void test_encoder_errors(void)
{
    static uint8_t big[70000], payload[65536];
    uint8_t buf[64];
    struct sl_enc e;
    size_t len = 12345;

    sl_enc_init(&e, buf, 19, SL_BINDING, SL_REQUEST, test_tid);
    assert_err(sl_enc_finish(&e, &len), SL_ENOSPACE);
    g_assert_cmpuint(len, ==, 12345);

    /* A buffer one byte short: nothing is written past cap, and the error is sticky. */
    memset(buf, 0xEE, sizeof(buf));
    sl_enc_init(&e, buf, 31, SL_BINDING, SL_REQUEST, test_tid);
    sl_enc_u64(&e, SL_ATTR_ICE_CONTROLLING, 1);
    assert_err(e.err, SL_ENOSPACE);
    sl_enc_empty(&e, SL_ATTR_USE_CANDIDATE);
    sl_enc_error(&e, 200, "x");
    assert_err(sl_enc_finish(&e, &len), SL_ENOSPACE);
    for (size_t i = 20; i < sizeof(buf); i++)
        g_assert_cmphex(buf[i], ==, 0xEE);
    g_assert_cmphex(buf[3], ==, 0); /* the header length still says 0 */

    struct {
        const char *what;
        int expect;
    } cases[] = {{"error 299", SL_EINVAL},       {"error 700", SL_EINVAL},
                 {"family 0", SL_EINVAL},        {"sha256 trunc 12", SL_EINVAL},
                 {"sha256 trunc 18", SL_EINVAL}, {"sha256 trunc 36", SL_EINVAL},
                 {"attr 65536", SL_EINVAL}};
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct sl_addr a = {0};
        sl_enc_init(&e, big, sizeof(big), SL_BINDING, SL_REQUEST, test_tid);
        switch (i) {
        case 0:
            sl_enc_error(&e, 299, "x");
            break;
        case 1:
            sl_enc_error(&e, 700, "x");
            break;
        case 2:
            sl_enc_addr(&e, SL_ATTR_XOR_MAPPED_ADDRESS, &a);
            break;
        case 3:
            sl_enc_integrity_sha256(&e, (const uint8_t *)"k", 1, 12);
            break;
        case 4:
            sl_enc_integrity_sha256(&e, (const uint8_t *)"k", 1, 18);
            break;
        case 5:
            sl_enc_integrity_sha256(&e, (const uint8_t *)"k", 1, 36);
            break;
        case 6:
            sl_enc_attr(&e, SL_ATTR_DATA, payload, 65536);
            break;
        }
        if (sl_enc_finish(&e, &len) != cases[i].expect)
            g_error("%s: got %s", cases[i].what, sl_strerror(e.err));
    }

    /* The body may not outgrow the 16-bit length field. */
    sl_enc_init(&e, big, sizeof(big), SL_SEND, SL_INDICATION, test_tid);
    sl_enc_attr(&e, SL_ATTR_DATA, payload, 65528);
    assert_err(e.err, SL_OK);
    sl_enc_empty(&e, SL_ATTR_DONT_FRAGMENT);
    assert_err(e.err, SL_EINVAL);
}

/* ---- decode(encode(x)) == x for every attribute stunlib names ---- */

enum rt_kind {
    RT_ADDR,
    RT_U32,
    RT_U64,
    RT_BYTES,
    RT_EMPTY,
    RT_U8HEAD,
    RT_ERROR,
    RT_ADDR_ERROR,
    RT_UNKNOWN,
    RT_CHANNEL,
    RT_PWALG,
    RT_PWALGS,
    RT_ICMP,
    RT_MI,
    RT_MI256,
    RT_FP,
};

struct rt_case {
    uint16_t type;
    enum rt_kind kind;
    const char *text; /* address, string, or hex (with "0x" prefix) for RT_BYTES */
    uint64_t num;     /* number, code, family, channel, algorithm, truncation... */
    const char *fmt;  /* expected sl_attr_format output; NULL when not checked */
};

#define V4 "192.0.2.1:32853"
#define V6 "[2001:db8:1234:5678:11:2233:4455:6677]:3478"

static const struct rt_case rt_cases[] = {
    {SL_ATTR_MAPPED_ADDRESS, RT_ADDR, V4, 0, V4},
    {SL_ATTR_MAPPED_ADDRESS, RT_ADDR, V6, 0, V6},
    {SL_ATTR_RESPONSE_ADDRESS, RT_ADDR, "10.0.0.1:1", 0, "10.0.0.1:1"},
    {SL_ATTR_RESPONSE_ADDRESS, RT_ADDR, "[::1]:65535", 0, "[::1]:65535"},
    {SL_ATTR_CHANGE_REQUEST, RT_U32, NULL, 6, "change IP: yes, change port: yes"},
    {SL_ATTR_SOURCE_ADDRESS, RT_ADDR, "198.51.100.7:3478", 0, NULL},
    {SL_ATTR_SOURCE_ADDRESS, RT_ADDR, "[fe80::1]:3478", 0, NULL},
    {SL_ATTR_CHANGED_ADDRESS, RT_ADDR, "203.0.113.9:3479", 0, NULL},
    {SL_ATTR_CHANGED_ADDRESS, RT_ADDR, "[2001:db8::9]:3479", 0, NULL},
    {SL_ATTR_USERNAME, RT_BYTES, "alice:bob", 0, "\"alice:bob\""},
    {SL_ATTR_PASSWORD, RT_BYTES, "secret", 0, "\"secret\""},
    {SL_ATTR_MESSAGE_INTEGRITY, RT_MI, NULL, 0, NULL},
    {SL_ATTR_ERROR_CODE, RT_ERROR, "Stale Nonce", 438,
     "438 \"Stale Nonce\" (Stale Nonce: the nonce expired; retry with the new one)"},
    {SL_ATTR_ERROR_CODE, RT_ERROR, "", 699, "699 \"\""},
    {SL_ATTR_UNKNOWN_ATTRIBUTES, RT_UNKNOWN, NULL, 3,
     "0x0024 (PRIORITY), 0x0031, 0x8022 (SOFTWARE)"},
    {SL_ATTR_REFLECTED_FROM, RT_ADDR, "192.0.2.200:9", 0, NULL},
    {SL_ATTR_REFLECTED_FROM, RT_ADDR, "[2001:db8::200]:9", 0, NULL},
    {SL_ATTR_CHANNEL_NUMBER, RT_CHANNEL, NULL, 0x4ffe, "0x4ffe"},
    {SL_ATTR_LIFETIME, RT_U32, NULL, 600, "600 s"},
    {SL_ATTR_XOR_PEER_ADDRESS, RT_ADDR, "203.0.113.5:49152", 0, "203.0.113.5:49152"},
    {SL_ATTR_XOR_PEER_ADDRESS, RT_ADDR, V6, 0, V6},
    {SL_ATTR_DATA, RT_BYTES, "0x0001fe7f80", 0, "5 bytes: 0001fe7f80"},
    {SL_ATTR_REALM, RT_BYTES, "example.org", 0, "\"example.org\""},
    {SL_ATTR_NONCE, RT_BYTES, "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA", 0, NULL},
    {SL_ATTR_XOR_RELAYED_ADDRESS, RT_ADDR, "100.64.0.1:50000", 0, "100.64.0.1:50000"},
    {SL_ATTR_XOR_RELAYED_ADDRESS, RT_ADDR, "[2001:db8::1]:50000", 0, "[2001:db8::1]:50000"},
    {SL_ATTR_REQUESTED_ADDRESS_FAMILY, RT_U8HEAD, NULL, SL_AF_IPV6, "IPv6"},
    {SL_ATTR_EVEN_PORT, RT_BYTES, "0x80", 0, "reserve next port: yes"},
    {SL_ATTR_REQUESTED_TRANSPORT, RT_U8HEAD, NULL, SL_TRANSPORT_UDP, "UDP (17)"},
    {SL_ATTR_DONT_FRAGMENT, RT_EMPTY, NULL, 0, "(flag)"},
    {SL_ATTR_ACCESS_TOKEN, RT_BYTES, "0x0004 01020304 a1a2a3a4a5", 0, NULL},
    {SL_ATTR_MESSAGE_INTEGRITY_SHA256, RT_MI256, NULL, 32, NULL},
    {SL_ATTR_MESSAGE_INTEGRITY_SHA256, RT_MI256, NULL, 16, NULL},
    {SL_ATTR_PASSWORD_ALGORITHM, RT_PWALG, NULL, SL_PWALG_SHA256, "SHA-256"},
    {SL_ATTR_USERHASH, RT_BYTES,
     "0x4a3cf38fef6992bda952c6780417da0f24819415569e60b205c46e41407f1704", 0, NULL},
    {SL_ATTR_XOR_MAPPED_ADDRESS, RT_ADDR, V4, 0, V4},
    {SL_ATTR_XOR_MAPPED_ADDRESS, RT_ADDR, V6, 0, V6},
    {SL_ATTR_RESERVATION_TOKEN, RT_U64, NULL, G_GUINT64_CONSTANT(0x0102030405060708),
     "0x0102030405060708"},
    {SL_ATTR_PRIORITY, RT_U32, NULL, 0x6e0001ff, "1845494271"},
    {SL_ATTR_USE_CANDIDATE, RT_EMPTY, NULL, 0, "(flag)"},
    {SL_ATTR_PADDING, RT_BYTES, "0x00000000000000", 0, "7 bytes: 00000000000000"},
    {SL_ATTR_RESPONSE_PORT, RT_U32, NULL, 3478u << 16, "3478"},
    {SL_ATTR_CONNECTION_ID, RT_U32, NULL, 0xdeadbeef, "3735928559"},
    {SL_ATTR_ADDITIONAL_ADDRESS_FAMILY, RT_U8HEAD, NULL, SL_AF_IPV6, "IPv6"},
    {SL_ATTR_ADDRESS_ERROR_CODE, RT_ADDR_ERROR, "Address Family not Supported", 440, NULL},
    {SL_ATTR_PASSWORD_ALGORITHMS, RT_PWALGS, NULL, 0, "SHA-256, MD5"},
    {SL_ATTR_ALTERNATE_DOMAIN, RT_BYTES, "turn.example.org", 0, "\"turn.example.org\""},
    {SL_ATTR_ICMP, RT_ICMP, NULL, 0, "type 3 code 1 data 0x12345678"},
    {SL_ATTR_SOFTWARE, RT_BYTES, "turnprobe \xc3\xa9t\xc3\xa9", 0,
     "\"turnprobe \xc3\xa9t\xc3\xa9\""},
    {SL_ATTR_ALTERNATE_SERVER, RT_ADDR, "198.51.100.1:3478", 0, NULL},
    {SL_ATTR_ALTERNATE_SERVER, RT_ADDR, "[2001:db8::3478]:3478", 0, NULL},
    {SL_ATTR_TRANSACTION_TRANSMIT_COUNTER, RT_U32, NULL, 0x00000301, "00000301"},
    {SL_ATTR_CACHE_TIMEOUT, RT_U32, NULL, 3600, "3600"},
    {SL_ATTR_FINGERPRINT, RT_FP, NULL, 0, NULL},
    {SL_ATTR_ICE_CONTROLLED, RT_U64, NULL, G_GUINT64_CONSTANT(0x932ff9b151263b36),
     "0x932ff9b151263b36"},
    {SL_ATTR_ICE_CONTROLLING, RT_U64, NULL, G_GUINT64_CONSTANT(0xffffffffffffffff),
     "0xffffffffffffffff"},
    {SL_ATTR_RESPONSE_ORIGIN, RT_ADDR, "192.0.2.2:3478", 0, NULL},
    {SL_ATTR_RESPONSE_ORIGIN, RT_ADDR, "[2001:db8::2]:3478", 0, NULL},
    {SL_ATTR_OTHER_ADDRESS, RT_ADDR, "192.0.2.3:3479", 0, NULL},
    {SL_ATTR_OTHER_ADDRESS, RT_ADDR, "[2001:db8::3]:3479", 0, NULL},
    {SL_ATTR_ECN_CHECK, RT_U32, NULL, 0x00000003, "00000003"},
    {SL_ATTR_THIRD_PARTY_AUTHORIZATION, RT_BYTES, "https://auth.example.org/", 0, NULL},
    {SL_ATTR_MOBILITY_TICKET, RT_BYTES, "0xa0a1a2a3a4a5a6a7a8a9", 0,
     "10 bytes: a0a1a2a3a4a5a6a7a8a9"},
};

/* The value of an attribute as the getters give it back. */
struct rt_val {
    struct sl_addr addr;
    uint64_t num;
    uint8_t bytes[128];
    size_t len;
    uint8_t family;
    uint16_t list[8];
    size_t n;
};

static const uint8_t rt_key[] = "round-trip key";

static void rt_value_of_case(const struct rt_case *c, struct rt_val *v)
{
    memset(v, 0, sizeof(*v));
    v->num = c->num;
    switch (c->kind) {
    case RT_ADDR:
        assert_err(sl_addr_parse(&v->addr, c->text, -1), SL_OK);
        break;
    case RT_BYTES:
    case RT_ERROR:
    case RT_ADDR_ERROR:
        if (g_str_has_prefix(c->text, "0x")) {
            GByteArray *b = tp_hex(c->text + 2);
            g_assert_cmpuint(b->len, <=, sizeof(v->bytes));
            memcpy(v->bytes, b->data, b->len);
            v->len = b->len;
            g_byte_array_unref(b);
        } else {
            v->len = strlen(c->text);
            g_assert_cmpuint(v->len, <, sizeof(v->bytes));
            memcpy(v->bytes, c->text, v->len);
        }
        if (c->kind == RT_ADDR_ERROR)
            v->family = SL_AF_IPV6;
        break;
    case RT_UNKNOWN:
        v->list[0] = SL_ATTR_PRIORITY;
        v->list[1] = 0x0031;
        v->list[2] = SL_ATTR_SOFTWARE;
        v->n = 3;
        break;
    case RT_PWALGS:
        v->list[0] = SL_PWALG_SHA256;
        v->list[1] = SL_PWALG_MD5;
        v->n = 2;
        break;
    case RT_ICMP:
        v->list[0] = 3; /* type */
        v->list[1] = 1; /* code */
        v->num = 0x12345678;
        break;
    default:
        break;
    }
}

static void rt_encode(struct sl_enc *e, const struct rt_case *c, const struct rt_val *v)
{
    uint8_t tmp[160];
    switch (c->kind) {
    case RT_ADDR:
        sl_enc_addr(e, c->type, &v->addr);
        break;
    case RT_U32:
        sl_enc_u32(e, c->type, (uint32_t)v->num);
        break;
    case RT_U64:
        sl_enc_u64(e, c->type, v->num);
        break;
    case RT_BYTES:
        sl_enc_attr(e, c->type, v->bytes, v->len);
        break;
    case RT_EMPTY:
        sl_enc_empty(e, c->type);
        break;
    case RT_U8HEAD:
        sl_enc_u8_head(e, c->type, (uint8_t)v->num);
        break;
    case RT_ERROR: {
        char reason[sizeof(v->bytes) + 1];
        memcpy(reason, v->bytes, v->len);
        reason[v->len] = '\0';
        sl_enc_error(e, (int)v->num, reason);
        break;
    }
    case RT_ADDR_ERROR:
        /* RFC 8656 §18.12: family, reserved, class, number, reason. No dedicated encoder. */
        tmp[0] = v->family;
        tmp[1] = 0;
        tmp[2] = (uint8_t)(v->num / 100);
        tmp[3] = (uint8_t)(v->num % 100);
        memcpy(tmp + 4, v->bytes, v->len);
        sl_enc_attr(e, c->type, tmp, 4 + v->len);
        break;
    case RT_UNKNOWN:
        sl_enc_unknown(e, v->list, v->n);
        break;
    case RT_CHANNEL:
        sl_enc_channel(e, (uint16_t)v->num);
        break;
    case RT_PWALG:
        sl_enc_pwalg(e, (uint16_t)v->num);
        break;
    case RT_PWALGS:
        /* RFC 8489 §14.11: a list of algorithm (2 bytes), parameters length (2) and
         * parameters; MD5 and SHA-256 have none. */
        for (size_t i = 0; i < v->n; i++) {
            tmp[4 * i] = (uint8_t)(v->list[i] >> 8);
            tmp[4 * i + 1] = (uint8_t)v->list[i];
            tmp[4 * i + 2] = tmp[4 * i + 3] = 0;
        }
        sl_enc_attr(e, c->type, tmp, 4 * v->n);
        break;
    case RT_ICMP:
        tmp[0] = tmp[1] = 0;
        tmp[2] = (uint8_t)v->list[0];
        tmp[3] = (uint8_t)v->list[1];
        tmp[4] = (uint8_t)(v->num >> 24);
        tmp[5] = (uint8_t)(v->num >> 16);
        tmp[6] = (uint8_t)(v->num >> 8);
        tmp[7] = (uint8_t)v->num;
        sl_enc_attr(e, c->type, tmp, 8);
        break;
    case RT_MI:
        sl_enc_integrity(e, rt_key, sizeof(rt_key) - 1);
        break;
    case RT_MI256:
        sl_enc_integrity_sha256(e, rt_key, sizeof(rt_key) - 1, (size_t)v->num);
        break;
    case RT_FP:
        sl_enc_fingerprint(e);
        break;
    }
}

/* Integrity and FINGERPRINT are computed here without stunlib, from the RFC's definitions. */
static void independent_hmac(const EVP_MD *md, const uint8_t *msg, size_t attr_off, size_t attr_len,
                             uint8_t *out, unsigned *outlen)
{
    uint8_t *copy = tp_dup(msg, attr_off);
    size_t covered = attr_off + 4 + attr_len - SL_HDR_LEN;
    copy[2] = (uint8_t)(covered >> 8);
    copy[3] = (uint8_t)covered;
    g_assert_nonnull(HMAC(md, rt_key, (int)(sizeof(rt_key) - 1), copy, attr_off, out, outlen));
    g_free(copy);
}

static uint32_t bitwise_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void rt_read(const struct sl_msg *m, const struct rt_case *c, struct rt_val *v)
{
    const struct sl_attr *a = sl_msg_find(m, c->type);
    g_assert_nonnull(a);
    const uint8_t *raw = sl_attr_value(m, a);
    memset(v, 0, sizeof(*v));
    switch (c->kind) {
    case RT_ADDR:
        assert_err(sl_msg_get_addr(m, c->type, &v->addr), SL_OK);
        break;
    case RT_U32: {
        uint32_t x = 0;
        assert_err(sl_msg_get_u32(m, c->type, &x), SL_OK);
        v->num = x;
        break;
    }
    case RT_U64:
        assert_err(sl_msg_get_u64(m, c->type, &v->num), SL_OK);
        break;
    case RT_BYTES: {
        const uint8_t *p;
        assert_err(sl_msg_get_bytes(m, c->type, &p, &v->len), SL_OK);
        g_assert_cmpuint(v->len, <=, sizeof(v->bytes));
        memcpy(v->bytes, p, v->len);
        break;
    }
    case RT_EMPTY:
        g_assert_cmpuint(a->len, ==, 0);
        break;
    case RT_U8HEAD: {
        uint8_t x = 0;
        assert_err(sl_msg_get_u8_head(m, c->type, &x), SL_OK);
        v->num = x;
        g_assert_cmpuint(a->len, ==, 4);
        g_assert_cmphex(raw[1] | raw[2] | raw[3], ==, 0);
        break;
    }
    case RT_ERROR:
    case RT_ADDR_ERROR: {
        int code = 0;
        const char *reason = NULL;
        if (c->kind == RT_ERROR)
            assert_err(sl_msg_get_error(m, &code, &reason, &v->len), SL_OK);
        else
            assert_err(sl_msg_get_address_error(m, &v->family, &code, &reason, &v->len), SL_OK);
        v->num = (uint64_t)code;
        memcpy(v->bytes, reason, v->len);
        break;
    }
    case RT_UNKNOWN:
        assert_err(sl_msg_get_unknown(m, v->list, G_N_ELEMENTS(v->list), &v->n), SL_OK);
        break;
    case RT_CHANNEL: {
        uint16_t ch = 0;
        assert_err(sl_msg_get_channel(m, &ch), SL_OK);
        v->num = ch;
        g_assert_cmphex(sl_get_u16(raw + 2), ==, 0); /* RFFU */
        break;
    }
    case RT_PWALG: {
        uint16_t alg = 0;
        assert_err(sl_msg_get_pwalg(m, c->type, 0, &alg), SL_OK);
        v->num = alg;
        break;
    }
    case RT_PWALGS:
        for (v->n = 0; v->n < G_N_ELEMENTS(v->list); v->n++)
            if (sl_msg_get_pwalg(m, c->type, v->n, &v->list[v->n]) != SL_OK)
                break;
        break;
    case RT_ICMP: {
        uint8_t type = 0, code = 0;
        uint32_t data = 0;
        assert_err(sl_msg_get_icmp(m, &type, &code, &data), SL_OK);
        v->list[0] = type;
        v->list[1] = code;
        v->num = data;
        break;
    }
    case RT_MI: {
        uint8_t mac[EVP_MAX_MD_SIZE];
        unsigned maclen = 0;
        assert_err(sl_auth_check_integrity(m, rt_key, sizeof(rt_key) - 1), SL_OK);
        assert_err(sl_auth_check_integrity(m, (const uint8_t *)"wrong", 5), SL_EINTEGRITY);
        independent_hmac(EVP_sha1(), m->buf, a->off, a->len, mac, &maclen);
        g_assert_cmpmem(raw, a->len, mac, maclen);
        break;
    }
    case RT_MI256: {
        uint8_t mac[EVP_MAX_MD_SIZE];
        unsigned maclen = 0;
        assert_err(sl_auth_check_integrity_sha256(m, rt_key, sizeof(rt_key) - 1), SL_OK);
        assert_err(sl_auth_check_integrity_sha256(m, (const uint8_t *)"wrong", 5), SL_EINTEGRITY);
        independent_hmac(EVP_sha256(), m->buf, a->off, a->len, mac, &maclen);
        g_assert_cmpmem(raw, a->len, mac, a->len);
        v->num = a->len;
        break;
    }
    case RT_FP: {
        assert_err(sl_auth_check_fingerprint(m), SL_OK);
        uint8_t *copy = tp_dup(m->buf, a->off);
        g_assert_cmphex(sl_get_u32(raw), ==, bitwise_crc32(copy, a->off) ^ 0x5354554eu);
        g_free(copy);
        break;
    }
    }
}

static void rt_assert_same(const struct rt_case *c, const struct rt_val *a, const struct rt_val *b)
{
    switch (c->kind) {
    case RT_ADDR:
        g_assert_cmpint(a->addr.family, ==, b->addr.family);
        g_assert_cmpuint(a->addr.port, ==, b->addr.port);
        g_assert_true(sl_addr_equal(&a->addr, &b->addr));
        break;
    case RT_BYTES:
        g_assert_cmpmem(a->bytes, a->len, b->bytes, b->len);
        break;
    case RT_ERROR:
    case RT_ADDR_ERROR:
        g_assert_cmpuint(a->num, ==, b->num);
        g_assert_cmpmem(a->bytes, a->len, b->bytes, b->len);
        g_assert_cmpuint(a->family, ==, b->family);
        break;
    case RT_UNKNOWN:
    case RT_PWALGS:
        g_assert_cmpmem(a->list, a->n * sizeof(a->list[0]), b->list, b->n * sizeof(b->list[0]));
        break;
    case RT_ICMP:
        g_assert_cmpuint(a->list[0], ==, b->list[0]);
        g_assert_cmpuint(a->list[1], ==, b->list[1]);
        g_assert_cmpuint(a->num, ==, b->num);
        break;
    default:
        g_assert_cmpuint(a->num, ==, b->num);
        break;
    }
}

/* SOFTWARE before the attribute and PRIORITY after it (except where nothing may follow), so the
 * attribute sits between others and a wrong offset or length shows. */
static size_t rt_build(const struct rt_case *c, const struct rt_val *v, uint8_t *buf, size_t cap)
{
    static const uint8_t tid[SL_TID_LEN] = {0x10, 0x32, 0x54, 0x76, 0x98, 0xba,
                                            0xdc, 0xfe, 0x01, 0x23, 0x45, 0x67};
    struct sl_enc e;
    size_t len = 0;
    bool last = c->kind == RT_MI || c->kind == RT_MI256 || c->kind == RT_FP;
    sl_enc_init(&e, buf, cap, SL_ALLOCATE, SL_SUCCESS, tid);
    if (c->type != SL_ATTR_SOFTWARE)
        sl_enc_str(&e, SL_ATTR_SOFTWARE, "rt");
    rt_encode(&e, c, v);
    if (!last && c->type != SL_ATTR_PRIORITY)
        sl_enc_u32(&e, SL_ATTR_PRIORITY, 0x01020304);
    assert_err(sl_enc_finish(&e, &len), SL_OK);
    return len;
}

static void test_roundtrip(gconstpointer data)
{
    const struct rt_case *c = data;
    struct rt_val want, got;
    uint8_t buf[512], again[512];
    struct sl_msg m;
    char s[256];

    rt_value_of_case(c, &want);
    size_t len = rt_build(c, &want, buf, sizeof(buf));
    uint8_t *copy = tp_dup(buf, len);
    assert_err(sl_msg_decode(&m, copy, len, 0), SL_OK);
    g_assert_cmpuint(m.method, ==, SL_ALLOCATE);
    g_assert_cmpint(m.cls, ==, SL_SUCCESS);
    const struct sl_attr *a = sl_msg_find(&m, c->type);
    g_assert_nonnull(a);
    g_assert_cmpuint(a->off % 4, ==, 0);
    g_assert_cmpuint(m.n_unknown_required, ==, 0);

    rt_read(&m, c, &got);
    if (c->kind != RT_MI && c->kind != RT_FP)
        rt_assert_same(c, &want, &got);
    if (c->kind == RT_ADDR &&
        (c->type == SL_ATTR_XOR_MAPPED_ADDRESS || c->type == SL_ATTR_XOR_PEER_ADDRESS ||
         c->type == SL_ATTR_XOR_RELAYED_ADDRESS)) {
        /* On the wire the port is XORed with the cookie's top half. */
        g_assert_cmphex(sl_get_u16(sl_attr_value(&m, a) + 2), ==, want.addr.port ^ 0x2112);
    } else if (c->kind == RT_ADDR) {
        g_assert_cmphex(sl_get_u16(sl_attr_value(&m, a) + 2), ==, want.addr.port);
    }

    /* Formatting: the expected text, and never past a small buffer. */
    sl_attr_format(&m, a, s, sizeof(s));
    if (c->fmt)
        g_assert_cmpstr(s, ==, c->fmt);
    g_assert_cmpuint(strlen(s), >, 0);
    for (size_t n = 1; n < 12; n++) {
        char small[12];
        memset(small, 'Z', sizeof(small));
        sl_attr_format(&m, a, small, n);
        g_assert_cmpuint(strlen(small), <, n);
        g_assert_true(strncmp(small, s, strlen(small)) == 0);
        for (size_t k = n; k < sizeof(small); k++)
            g_assert_cmpint(small[k], ==, 'Z');
    }

    /* Encoding what was read back gives the same bytes. */
    if (c->kind == RT_MI || c->kind == RT_FP)
        got = want;
    size_t len2 = rt_build(c, &got, again, sizeof(again));
    g_assert_cmpmem(again, len2, buf, len);
    g_free(copy);
}

static void test_roundtrip_missing(gconstpointer data)
{
    const struct sl_name *n = data;
    g_error("attribute %s (0x%04x) has no round-trip case", n->name, n->value);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    vectors = tp_vectors_load();
    g_assert_cmpuint(vectors->len, >=, 6);

    g_test_add_func("/sl_msg/vector/rfc5769-2.1", test_vector_2_1);
    g_test_add_func("/sl_msg/vector/rfc5769-2.2", test_vector_2_2);
    g_test_add_func("/sl_msg/vector/rfc5769-2.3", test_vector_2_3);
    g_test_add_func("/sl_msg/vector/rfc5769-2.4", test_vector_2_4);
    g_test_add_func("/sl_msg/vector/rfc8489-b.1", test_vector_b1);
    g_test_add_func("/sl_msg/vector/rfc8489-b.1-as-published", test_vector_b1_published);
    g_test_add_func("/sl_msg/reencode/rfc5769-2.1", test_reencode_2_1);
    g_test_add_func("/sl_msg/reencode/rfc5769-2.2-2.3", test_reencode_2_2_and_2_3);
    g_test_add_func("/sl_msg/reencode/long-term", test_reencode_long_term);

    for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        gchar *path = g_strdup_printf("/sl_msg/malformed/%02zu %s", i, bad_cases[i].name);
        g_test_add_data_func(path, &bad_cases[i], test_bad_case);
        g_free(path);
    }
    g_test_add_func("/sl_msg/accepted/lenient", test_lenient);
    g_test_add_func("/sl_msg/accepted/classic", test_classic);
    g_test_add_func("/sl_msg/accepted/limits", test_limits_accepted);
    g_test_add_func("/sl_msg/large-offsets", test_large_offsets);
    g_test_add_func("/sl_msg/truncation/prefixes", test_prefixes);
    g_test_add_func("/sl_msg/truncation/trailing-bytes", test_trailing_bytes);
    g_test_add_func("/sl_msg/bit-flips", test_bit_flips);
    g_test_add_func("/sl_msg/types", test_types);
    g_test_add_func("/sl_msg/encoder-errors", test_encoder_errors);

    for (size_t i = 0; i < sl_attr_count; i++) {
        const struct sl_name *n = &sl_attr_names[i];
        int k = 0;
        for (size_t j = 0; j < G_N_ELEMENTS(rt_cases); j++) {
            if (rt_cases[j].type != n->value)
                continue;
            gchar *path = g_strdup_printf("/sl_msg/roundtrip/%s/%d", n->name, k++);
            g_test_add_data_func(path, &rt_cases[j], test_roundtrip);
            g_free(path);
        }
        if (k == 0) {
            gchar *path = g_strdup_printf("/sl_msg/roundtrip/%s", n->name);
            g_test_add_data_func(path, n, test_roundtrip_missing);
            g_free(path);
        }
    }
    int rc = g_test_run();
    g_ptr_array_unref(vectors);
    return rc;
}
