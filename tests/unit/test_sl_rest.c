/* Unit tests for TURN REST credentials: minting against openssl's own HMAC, decoding, wording. */
#include <glib.h>
#include <string.h>

#include "sl_rest.h"

/* Expected passwords computed outside stunlib:
 *   printf %s 1700000000:alice | openssl dgst -sha1 -hmac north-wind -binary | base64 */
static void test_mint_vectors(void)
{
    static const struct {
        int64_t now, ttl;
        char sep;
        const char *user, *username, *password;
    } v[] = {
        {1699913600, 86400, ':', "alice", "1700000000:alice", "Oko4dt8u/EbTRjRUJWQDFm/zTCc="},
        {1700000000, 3600, '#', "bob", "1700003600#bob", "PEsaabf/n8IjP4aNx3onO9VLKdA="},
        {1700000000, -3600, ':', "alice", "1699996400:alice", "uwUn+0EFFrbooCcwLm7Q4HH5VH0="},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
        char username[64], password[SL_REST_PASSWORD_SIZE];
        g_assert_cmpint(sl_rest_mint("north-wind", v[i].user, v[i].now, v[i].ttl, v[i].sep,
                                     username, sizeof(username), password, sizeof(password)),
                        ==, SL_OK);
        g_assert_cmpstr(username, ==, v[i].username);
        g_assert_cmpstr(password, ==, v[i].password);
    }
}

static void test_mint_refusals(void)
{
    char u[64], p[SL_REST_PASSWORD_SIZE];
    const int64_t now = 1700000000;
    g_assert_cmpint(sl_rest_mint("", "alice", now, 60, ':', u, sizeof(u), p, sizeof(p)), ==,
                    SL_EINVAL);
    g_assert_cmpint(sl_rest_mint("s", "", now, 60, ':', u, sizeof(u), p, sizeof(p)), ==,
                    SL_EINVAL);
    g_assert_cmpint(sl_rest_mint("s", "al\nice", now, 60, ':', u, sizeof(u), p, sizeof(p)), ==,
                    SL_EINVAL);
    /* A digit or a blank separator would make the username ambiguous. */
    g_assert_cmpint(sl_rest_mint("s", "alice", now, 60, '5', u, sizeof(u), p, sizeof(p)), ==,
                    SL_EINVAL);
    g_assert_cmpint(sl_rest_mint("s", "alice", now, 60, ' ', u, sizeof(u), p, sizeof(p)), ==,
                    SL_EINVAL);
    g_assert_cmpint(sl_rest_mint("s", "alice", now, -now - 1, ':', u, sizeof(u), p, sizeof(p)),
                    ==, SL_EINVAL);
    g_assert_cmpint(sl_rest_mint("s", "alice", INT64_MAX, 1, ':', u, sizeof(u), p, sizeof(p)), ==,
                    SL_EINVAL);
    /* Buffers: the username needs 17 bytes here, the password 29. */
    g_assert_cmpint(sl_rest_mint("s", "alice", now, 0, ':', u, 16, p, sizeof(p)), ==,
                    SL_ENOSPACE);
    g_assert_cmpint(sl_rest_mint("s", "alice", now, 0, ':', u, 17, p, sizeof(p)), ==, SL_OK);
    g_assert_cmpint(sl_rest_mint("s", "alice", now, 0, ':', u, sizeof(u), p, 28), ==,
                    SL_ENOSPACE);
    /* RFC 8489: USERNAME under 513 bytes. */
    char big[600], name[520];
    memset(name, 'x', 501);
    name[501] = '\0';
    g_assert_cmpint(sl_rest_mint("s", name, now, 0, ':', big, sizeof(big), p, sizeof(p)), ==,
                    SL_OK);
    g_assert_cmpuint(strlen(big), ==, 512);
    name[501] = 'x', name[502] = '\0';
    g_assert_cmpint(sl_rest_mint("s", name, now, 0, ':', big, sizeof(big), p, sizeof(p)), ==,
                    SL_ETOOLONG);
}

static void test_decode(void)
{
    static const struct {
        const char *username;
        char sep;
        int rc;
        int64_t expiry;
        const char *user;
    } v[] = {
        {"1700000000:alice", ':', SL_OK, 1700000000, "alice"},
        {"alice:1700000000", ':', SL_OK, 1700000000, "alice"},
        {"1700000000", ':', SL_OK, 1700000000, ""},
        {":1700000000", ':', SL_OK, 1700000000, ""},
        {"1700000000:", ':', SL_OK, 1700000000, ""},
        {"1700000000#bob", '#', SL_OK, 1700000000, "bob"},
        {"bob#1700000000", '#', SL_OK, 1700000000, "bob"},
        /* The first separator counts, as in coturn; the user part may hold more of them. */
        {"1700000000:alice:work", ':', SL_OK, 1700000000, "alice:work"},
        /* Both sides digits: the left one is the timestamp (coturn looks there first). */
        {"1700000000:1800000000", ':', SL_OK, 1700000000, "1800000000"},
        {"123456789:x", ':', SL_OK, 123456789, "x"},
        {"99999999999:x", ':', SL_OK, 99999999999, "x"},
        {"12345678:x", ':', SL_ENOTFOUND, 0, NULL},
        {"123456789012:x", ':', SL_ENOTFOUND, 0, NULL},
        {"alice", ':', SL_ENOTFOUND, 0, NULL},
        {"alice:bob", ':', SL_ENOTFOUND, 0, NULL},
        {"alice:work:1700000000", ':', SL_ENOTFOUND, 0, NULL},
        {"1700000000:alice", '#', SL_ENOTFOUND, 0, NULL},
        {"17000000x0:alice", ':', SL_ENOTFOUND, 0, NULL},
        {"", ':', SL_ENOTFOUND, 0, NULL},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
        int64_t expiry = -1;
        char user[64] = "unset";
        int rc = sl_rest_decode(v[i].username, v[i].sep, &expiry, user, sizeof(user));
        g_test_message("%s", v[i].username);
        g_assert_cmpint(rc, ==, v[i].rc);
        if (rc != SL_OK)
            continue;
        g_assert_cmpint(expiry, ==, v[i].expiry);
        g_assert_cmpstr(user, ==, v[i].user);
    }
}

static void test_decode_buffers(void)
{
    int64_t expiry = 0;
    char user[5];
    g_assert_cmpint(sl_rest_decode("1700000000:alice", ':', &expiry, NULL, 0), ==, SL_OK);
    g_assert_cmpint(expiry, ==, 1700000000);
    g_assert_cmpint(sl_rest_decode("1700000000:alice", ':', &expiry, user, sizeof(user)), ==,
                    SL_ENOSPACE);
    g_assert_cmpstr(user, ==, "");
    g_assert_cmpint(sl_rest_decode("1700000000:bob", ':', &expiry, user, sizeof(user)), ==, SL_OK);
    g_assert_cmpstr(user, ==, "bob");
    g_assert_cmpint(sl_rest_decode("1700000000:bob", '\0', &expiry, user, sizeof(user)), ==,
                    SL_EINVAL);
}

/* What minting writes, decoding reads back. */
static void test_mint_decode_round_trip(void)
{
    char username[64], password[SL_REST_PASSWORD_SIZE], user[64];
    int64_t expiry = 0;
    g_assert_cmpint(sl_rest_mint("k", "carol@example.org", 1700000000, 600, ';', username,
                                 sizeof(username), password, sizeof(password)),
                    ==, SL_OK);
    g_assert_cmpint(sl_rest_decode(username, ';', &expiry, user, sizeof(user)), ==, SL_OK);
    g_assert_cmpint(expiry, ==, 1700000600);
    g_assert_cmpstr(user, ==, "carol@example.org");
}

static void test_describe(void)
{
    /* 1795000000 is 2026-11-18 11:06:40 UTC. */
    const int64_t e = 1795000000;
    static const struct {
        int64_t now_minus_expiry;
        const char *text;
    } v[] = {
        {-40, "expires in 40 s (2026-11-18 11:06 UTC)"},
        {-(23 * 3600 + 59 * 60 + 30), "expires in 23 h 59 min (2026-11-18 11:06 UTC)"},
        {-86400, "expires in 1 d (2026-11-18 11:06 UTC)"},
        {-(2 * 86400 + 3 * 3600 + 59), "expires in 2 d 3 h (2026-11-18 11:06 UTC)"},
        {-(12 * 60 + 5), "expires in 12 min 5 s (2026-11-18 11:06 UTC)"},
        {-3600, "expires in 1 h (2026-11-18 11:06 UTC)"},
        {0, "expires now (2026-11-18 11:06 UTC)"},
        {1, "expired 1 s ago (2026-11-18 11:06 UTC)"},
        {3 * 3600 + 12 * 60 + 7, "expired 3 h 12 min ago (2026-11-18 11:06 UTC)"},
        {60, "expired 1 min ago (2026-11-18 11:06 UTC)"},
        {(int64_t)400 * 86400, "expired about 1 year ago (2026-11-18 11:06 UTC)"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
        char buf[96];
        g_assert_cmpstr(sl_rest_describe(e, e + v[i].now_minus_expiry, buf, sizeof(buf)), ==,
                        v[i].text);
    }
    char buf[96];
    g_assert_cmpstr(sl_rest_describe(99999999999, 1700000000, buf, sizeof(buf)), ==,
                    "expires in about 3115 years (5138-11-16 09:46 UTC)");
    /* Absurd inputs neither overflow nor crash. */
    sl_rest_describe(INT64_MAX, INT64_MIN, buf, sizeof(buf));
    g_assert_true(g_str_has_prefix(buf, "expires in about "));
    g_assert_true(g_str_has_suffix(buf, "(date out of range)"));
    sl_rest_describe(INT64_MIN, INT64_MAX, buf, sizeof(buf));
    g_assert_true(g_str_has_prefix(buf, "expired about "));
    char small[8];
    g_assert_cmpstr(sl_rest_describe(e, e, small, sizeof(small)), ==, "expires");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sl_rest/mint-vectors", test_mint_vectors);
    g_test_add_func("/sl_rest/mint-refusals", test_mint_refusals);
    g_test_add_func("/sl_rest/decode", test_decode);
    g_test_add_func("/sl_rest/decode-buffers", test_decode_buffers);
    g_test_add_func("/sl_rest/mint-decode-round-trip", test_mint_decode_round_trip);
    g_test_add_func("/sl_rest/describe", test_describe);
    return g_test_run();
}
