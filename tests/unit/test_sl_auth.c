/* Unit tests of stunlib's credentials: CRC-32, HMACs, OpaqueString, keys and message checks. */
#include <glib.h>
#include <string.h>

#include "sl_auth.h"
#include "sl_msg.h"
#include "tp_testutil.h"

#define assert_err(got, want) g_assert_cmpstr(sl_strerror(got), ==, sl_strerror(want))

static const uint8_t tid[SL_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static void assert_hex(const uint8_t *p, size_t n, const char *hex)
{
    GByteArray *want = tp_hex(hex);
    g_assert_cmpmem(p, n, want->data, want->len);
    g_byte_array_unref(want);
}

static void test_crc32(void)
{
    /* The CRC-32 check value (ITU-T V.42, as in zlib). */
    g_assert_cmphex(sl_crc32((const uint8_t *)"123456789", 9), ==, 0xcbf43926u);
    g_assert_cmphex(sl_crc32(NULL, 0), ==, 0);
    g_assert_cmphex(sl_crc32((const uint8_t *)"a", 1), ==, 0xe8b7be43u);
}

static void test_hmac(void)
{
    uint8_t key[20], out1[20], out256[32];
    memset(key, 0x0b, sizeof(key));
    const uint8_t *parts[3] = {(const uint8_t *)"Hi", (const uint8_t *)" The",
                               (const uint8_t *)"re"};
    size_t lens[3] = {2, 4, 2};

    /* RFC 2202 §3 test case 1 and RFC 4231 §4.2 test case 1, given in three pieces. */
    assert_err(sl_auth_hmac_sha1(key, 20, parts, lens, 3, out1), SL_OK);
    assert_hex(out1, 20, "b617318655057264e28bc0b6fb378c8ef146be00");
    assert_err(sl_auth_hmac_sha256(key, 20, parts, lens, 3, out256), SL_OK);
    assert_hex(out256, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

    /* An empty key and no data: HMAC-SHA1("", ""). */
    assert_err(sl_auth_hmac_sha1(NULL, 0, NULL, NULL, 0, out1), SL_OK);
    assert_hex(out1, 20, "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
}

struct opaque_case {
    const char *in;
    int expect;
    const char *out;
};

static void test_opaque_string(void)
{
    static const struct opaque_case cases[] = {
        {"TheMatrIX", SL_OK, "TheMatrIX"},
        {"caf\xc3\xa9", SL_OK, "caf\xc3\xa9"}, /* é stays */
        {"a\xc2\xa0"
         "b",
         SL_OK, "a b"},                                  /* NO-BREAK SPACE -> space */
        {"\xe3\x80\x80x\xe2\x80\x82", SL_OK, " x "},     /* IDEOGRAPHIC and EN SPACE */
        {"\xf0\x9f\x98\x80", SL_OK, "\xf0\x9f\x98\x80"}, /* a four-byte character */
        {"", SL_EINVAL, NULL},                           /* the empty string */
        {"a\x01"
         "b",
         SL_EINVAL, NULL},          /* a control character */
        {"a\x7f", SL_EINVAL, NULL}, /* DEL */
        {"The\xc2\xad"
         "Matrix",
         SL_EINVAL, NULL}, /* SOFT HYPHEN is disallowed */
        {"a\xe2\x80\x8b"
         "b",
         SL_EINVAL, NULL},                     /* ZERO WIDTH SPACE */
        {"\xef\xbf\xbe", SL_EINVAL, NULL},     /* the noncharacter U+FFFE */
        {"\xc0\xaf", SL_EINVAL, NULL},         /* an overlong '/' */
        {"\xed\xa0\x80", SL_EINVAL, NULL},     /* a UTF-16 surrogate */
        {"\xf4\x90\x80\x80", SL_EINVAL, NULL}, /* past U+10FFFF */
        {"ab\xe2\x82", SL_EINVAL, NULL},       /* cut in the middle of a character */
        {"\x80", SL_EINVAL, NULL},             /* a lone continuation byte */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char out[64];
        memset(out, 'Z', sizeof(out));
        int rc = sl_auth_opaque_string(cases[i].in, out, sizeof(out));
        if (rc != cases[i].expect)
            g_error("case %zu: got %s, want %s", i, sl_strerror(rc), sl_strerror(cases[i].expect));
        if (cases[i].out)
            g_assert_cmpstr(out, ==, cases[i].out);
    }
    /* The output buffer's size is respected. */
    char small[6];
    assert_err(sl_auth_opaque_string("abcdefghij", small, sizeof(small)), SL_ENOSPACE);
}

static void test_short_term_key(void)
{
    uint8_t key[SL_KEY_MAX];
    size_t keylen = 0;
    assert_err(sl_auth_short_term_key("pa\xc2\xa0ss", key, &keylen), SL_OK);
    g_assert_cmpmem(key, keylen, "pa ss", 5);

    char pw[SL_KEY_MAX + 2];
    memset(pw, 'p', sizeof(pw));
    pw[SL_KEY_MAX] = '\0';
    assert_err(sl_auth_short_term_key(pw, key, &keylen), SL_OK);
    g_assert_cmpuint(keylen, ==, SL_KEY_MAX);
    pw[SL_KEY_MAX] = 'p';
    pw[SL_KEY_MAX + 1] = '\0';
    assert_err(sl_auth_short_term_key(pw, key, &keylen), SL_ENOSPACE);
    assert_err(sl_auth_short_term_key("", key, &keylen), SL_EINVAL);
}

static void test_long_term_key(void)
{
    uint8_t key[64], uh[32];
    size_t keylen = 0;
    /* MD5("alice:example.org:secret") and SHA-256 of the same, computed with python hashlib. */
    assert_err(sl_auth_long_term_key("alice", "example.org", "secret", SL_PWALG_MD5, key, &keylen),
               SL_OK);
    g_assert_cmpuint(keylen, ==, 16);
    assert_hex(key, keylen, "543e1aec5d3614f03141652d6ada51b2");
    assert_err(
        sl_auth_long_term_key("alice", "example.org", "secret", SL_PWALG_SHA256, key, &keylen),
        SL_OK);
    g_assert_cmpuint(keylen, ==, 32);
    assert_hex(key, keylen, "d1659fff7a501be15962adc35514ca6a5868905695f2dd1093741f931e000a1f");
    /* The password goes through OpaqueString: a no-break space is a space. */
    uint8_t key2[64];
    size_t keylen2 = 0;
    assert_err(sl_auth_long_term_key("alice", "example.org", "se cret", SL_PWALG_MD5, key, &keylen),
               SL_OK);
    assert_err(sl_auth_long_term_key("alice", "example.org",
                                     "se\xc2\xa0"
                                     "cret",
                                     SL_PWALG_MD5, key2, &keylen2),
               SL_OK);
    g_assert_cmpmem(key, keylen, key2, keylen2);
    assert_err(sl_auth_long_term_key("alice", "example.org", "secret", 3, key, &keylen), SL_EINVAL);
    assert_err(sl_auth_long_term_key("alice", "example.org", "", SL_PWALG_MD5, key, &keylen),
               SL_EINVAL);

    assert_err(sl_auth_userhash("alice", "example.org", uh), SL_OK);
    assert_hex(uh, 32, "435b7933096a304d3c734cfb833ec9075bd47ab1c0160321aed31c06a8c7009e");
}

/* Encodes a Binding request with the given tail, decodes it, and returns the decoded view. */
static size_t build(uint8_t *buf, size_t cap, void (*tail)(struct sl_enc *))
{
    struct sl_enc e;
    size_t len = 0;
    sl_enc_init(&e, buf, cap, SL_BINDING, SL_REQUEST, tid);
    sl_enc_str(&e, SL_ATTR_USERNAME, "alice");
    tail(&e);
    assert_err(sl_enc_finish(&e, &len), SL_OK);
    return len;
}

static void tail_none(struct sl_enc *e)
{
    (void)e;
}

static void tail_mi_sw_fp(struct sl_enc *e)
{
    sl_enc_integrity(e, (const uint8_t *)"key", 3);
    /* Not allowed after MESSAGE-INTEGRITY: a lenient decoder ignores it, and the integrity
     * check must not cover it. */
    sl_enc_str(e, SL_ATTR_SOFTWARE, "late");
    sl_enc_fingerprint(e);
}

static void tail_mi_mi256_fp(struct sl_enc *e)
{
    sl_enc_integrity(e, (const uint8_t *)"key", 3);
    sl_enc_integrity_sha256(e, (const uint8_t *)"key", 3, 20);
    sl_enc_fingerprint(e);
}

static void tail_empty_key(struct sl_enc *e)
{
    sl_enc_integrity(e, NULL, 0);
    sl_enc_integrity_sha256(e, NULL, 0, 16);
}

static void test_checks(void)
{
    uint8_t buf[256];
    struct sl_msg m;
    size_t len = build(buf, sizeof(buf), tail_none);
    assert_err(sl_msg_decode(&m, buf, len, 0), SL_OK);
    assert_err(sl_auth_check_integrity(&m, (const uint8_t *)"key", 3), SL_ENOTFOUND);
    assert_err(sl_auth_check_integrity_sha256(&m, (const uint8_t *)"key", 3), SL_ENOTFOUND);
    assert_err(sl_auth_check_fingerprint(&m), SL_ENOTFOUND);

    len = build(buf, sizeof(buf), tail_mi_sw_fp);
    assert_err(sl_msg_decode(&m, buf, len, 0), SL_EORDER);
    assert_err(sl_msg_decode(&m, buf, len, SL_DEC_LENIENT), SL_OK);
    assert_err(sl_auth_check_integrity(&m, (const uint8_t *)"key", 3), SL_OK);
    assert_err(sl_auth_check_integrity(&m, (const uint8_t *)"kez", 3), SL_EINTEGRITY);
    assert_err(sl_auth_check_fingerprint(&m), SL_OK);
    /* Changing the ignored attribute breaks FINGERPRINT but not MESSAGE-INTEGRITY. */
    const struct sl_attr *sw = &m.attrs[2];
    g_assert_cmphex(sw->type, ==, SL_ATTR_SOFTWARE);
    g_assert_true(sw->ignored);
    buf[sw->off + 4] ^= 0x20;
    assert_err(sl_auth_check_integrity(&m, (const uint8_t *)"key", 3), SL_OK);
    assert_err(sl_auth_check_fingerprint(&m), SL_EFINGERPRINT);

    len = build(buf, sizeof(buf), tail_mi_mi256_fp);
    assert_err(sl_msg_decode(&m, buf, len, 0), SL_OK);
    g_assert_cmpuint(m.attrs[m.idx_mi256].len, ==, 20);
    assert_err(sl_auth_check_integrity(&m, (const uint8_t *)"key", 3), SL_OK);
    assert_err(sl_auth_check_integrity_sha256(&m, (const uint8_t *)"key", 3), SL_OK);
    assert_err(sl_auth_check_integrity_sha256(&m, (const uint8_t *)"ke", 2), SL_EINTEGRITY);
    assert_err(sl_auth_check_fingerprint(&m), SL_OK);
    /* Each covers the one before it: damage MI and both MI and FINGERPRINT fail, but
     * MI-SHA256 too, since it is computed over MESSAGE-INTEGRITY. */
    buf[m.attrs[m.idx_mi].off + 4] ^= 1;
    assert_err(sl_auth_check_integrity(&m, (const uint8_t *)"key", 3), SL_EINTEGRITY);
    assert_err(sl_auth_check_integrity_sha256(&m, (const uint8_t *)"key", 3), SL_EINTEGRITY);
    assert_err(sl_auth_check_fingerprint(&m), SL_EFINGERPRINT);

    len = build(buf, sizeof(buf), tail_empty_key);
    assert_err(sl_msg_decode(&m, buf, len, 0), SL_OK);
    assert_err(sl_auth_check_integrity(&m, NULL, 0), SL_OK);
    assert_err(sl_auth_check_integrity_sha256(&m, NULL, 0), SL_OK);
    assert_err(sl_auth_check_integrity(&m, (const uint8_t *)"x", 1), SL_EINTEGRITY);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sl_auth/crc32", test_crc32);
    g_test_add_func("/sl_auth/hmac", test_hmac);
    g_test_add_func("/sl_auth/opaque-string", test_opaque_string);
    g_test_add_func("/sl_auth/short-term-key", test_short_term_key);
    g_test_add_func("/sl_auth/long-term-key", test_long_term_key);
    g_test_add_func("/sl_auth/checks", test_checks);
    return g_test_run();
}
