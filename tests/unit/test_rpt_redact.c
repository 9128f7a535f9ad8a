/* Redaction: after rpt_redact no username, realm, nonce, host name or public address is left in
 * the text, JSON or Markdown report or in the packets, and each value has one label everywhere. */
#include <string.h>

#include "rpt_fixture.h"
#include "tp_golden.h"
#include "rpt_json.h"
#include "rpt_md.h"
#include "rpt_redact.h"
#include "rpt_text.h"
#include "sl_auth.h"
#include "sl_chan.h"
#include "sl_msg.h"

#define T0 1795262400000000LL /* 2026-11-21 12:00:00 UTC */

/* What must not survive redaction (compared without regard to case). */
static const char *const secrets[] = {
    "1795266000:alice", "alice",          "acme-video",     "a1b2c3d4e5f60718",
    "rfragAB",          "lfragCD",        "198.51.100.7",   "198.51.100.8",
    "203.0.113.9",      "203.0.113.50",   "2001:db8::7",    "2001:db8:1::9",
    "2001:db8:1::5",    "CLIENT_RANDOM",
};

struct pb {
    struct rpt_result *r;
    guint session;
    enum rpt_transport tp;
    struct sl_addr client, server;
    gint64 t;
};

static guint add_raw(struct pb *b, enum rpt_kind kind, enum rpt_dir dir, const void *data,
                     size_t len, const char *step, const char *summary, const char *note)
{
    const struct sl_addr *src = dir == RPT_OUT ? &b->client : &b->server;
    const struct sl_addr *dst = dir == RPT_OUT ? &b->server : &b->client;
    struct rpt_packet *p = rpt_packet_add(b->r, kind, dir, b->tp, src, dst, b->t, data, len);
    p->session = b->session;
    p->summary = g_strdup(summary);
    p->endpoint = g_strdup("client");
    rpt_packet_annotate(p, step, "ok", note);
    b->t += 10000;
    return p->n;
}

static guint add_msg(struct pb *b, struct sl_enc *e, enum rpt_dir dir, const char *step,
                     const char *summary, const char *note)
{
    size_t len = 0;
    g_assert_cmpint(sl_enc_finish(e, &len), ==, SL_OK);
    return add_raw(b, RPT_PKT_STUN, dir, e->buf, len, step, summary, note);
}

static void addr(struct sl_addr *a, const char *s)
{
    g_assert_cmpint(sl_addr_parse(a, s, -1), ==, 0);
}

/* Two sessions of an iceServers check, against a server with public (documentation) addresses,
 * a host name, a TURN REST username, and every place a secret can hide. */
static struct rpt_result *public_fixture(void)
{
    struct rpt_result *r = rpt_result_new("check", "0.1.0");
    r->start_us = T0;
    r->duration_ms = 5123.4;
    r->keylog = g_strdup("CLIENT_RANDOM 0011 2233\n");
    uint8_t key[32], buf[600], inner[200];
    size_t keylen = 0;
    guint8 tid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    sl_auth_long_term_key("1795266000:alice", "acme-video.com", "pw", SL_PWALG_MD5, key, &keylen);

    /* Session 1: UDP, everything passes but a redirect. */
    struct rpt_session *s = rpt_session_add(r, "turn:turn.acme-video.com:3478");
    s->target.uri = g_strdup("turn:turn.acme-video.com:3478");
    s->target.host = g_strdup("turn.acme-video.com");
    s->target.port = 3478;
    s->target.transport = g_strdup("udp");
    s->target.username = g_strdup("1795266000:alice");
    s->target.password_info = g_strdup("REST, from --secret-file");
    s->target.address = g_strdup("198.51.100.7:3478");
    json_object_set_string_member(s->facts, "local", "10.0.0.5:51000");
    json_object_set_string_member(s->facts, "mapped", "203.0.113.9:61000");
    json_object_set_string_member(s->facts, "relayed", "198.51.100.7:49160");
    json_object_set_string_member(s->facts, "software", "Coturn-4.6.1 'Gorst'");
    struct rpt_step *st = rpt_step_add(s, "settings");
    rpt_step_set(st, RPT_PASS, "ok",
                 "REST username 1795266000:alice for alice, valid until 2026-11-21 13:00:00 UTC",
                 NULL);
    json_object_set_string_member(st->details, "username", "1795266000:alice");
    json_object_set_int_member(st->details, "expires", 1795266000);
    st = rpt_step_add(s, "dns");
    rpt_step_set(st, RPT_PASS, "ok",
                 "turn.acme-video.com: 198.51.100.7, 198.51.100.8 (SRV turn2.acme-video.com)",
                 NULL);
    JsonArray *addrs = json_array_new();
    json_array_add_string_element(addrs, "198.51.100.7");
    json_array_add_string_element(addrs, "198.51.100.8");
    json_object_set_array_member(st->details, "addresses", addrs);
    json_object_set_string_member(st->details, "srv", "turn2.acme-video.com");
    st = rpt_step_add(s, "tls");
    rpt_step_set(st, RPT_SKIP, "ok", "not a turns: URI", NULL);

    struct pb b = {.r = r, .session = 0, .tp = RPT_UDP, .t = T0 + 1000};
    addr(&b.client, "10.0.0.5:51000");
    addr(&b.server, "198.51.100.7:3478");
    struct sl_addr mapped, relayed, peer;
    addr(&mapped, "203.0.113.9:61000");
    addr(&relayed, "198.51.100.7:49160");
    addr(&peer, "198.51.100.7:49161");
    struct sl_enc e;
    sl_enc_init(&e, buf, sizeof(buf), SL_BINDING, SL_REQUEST, tid);
    sl_enc_fingerprint(&e);
    guint first = add_msg(&b, &e, RPT_OUT, "binding", "Binding request", NULL);
    sl_enc_init(&e, buf, sizeof(buf), SL_BINDING, SL_SUCCESS, tid);
    sl_enc_addr(&e, SL_ATTR_XOR_MAPPED_ADDRESS, &mapped);
    sl_enc_str(&e, SL_ATTR_SOFTWARE, "Coturn-4.6.1 'Gorst'");
    sl_enc_fingerprint(&e);
    add_msg(&b, &e, RPT_IN, "binding", "Binding success response",
            "mapped address 203.0.113.9:61000");
    st = rpt_step_add(s, "binding");
    rpt_step_set(st, RPT_PASS, "ok", "mapped address 203.0.113.9:61000 (RTT 12.3 ms)", NULL);
    json_object_set_string_member(st->details, "mapped", "203.0.113.9:61000");
    st->duration_ms = 12.3;
    for (guint n = first; n < first + 2; n++)
        g_array_append_val(st->packets, n);

    tid[0] = 2;
    sl_enc_init(&e, buf, sizeof(buf), SL_ALLOCATE, SL_ERROR, tid);
    sl_enc_error(&e, 401, "Unauthorized");
    sl_enc_str(&e, SL_ATTR_REALM, "acme-video.com");
    sl_enc_str(&e, SL_ATTR_NONCE, "a1b2c3d4e5f60718");
    sl_enc_fingerprint(&e);
    first = add_msg(&b, &e, RPT_IN, "allocate", "Allocate error response 401 Unauthorized",
                    "expected challenge (realm \"acme-video.com\")");
    tid[0] = 3;
    sl_enc_init(&e, buf, sizeof(buf), SL_ALLOCATE, SL_REQUEST, tid);
    sl_enc_u8_head(&e, SL_ATTR_REQUESTED_TRANSPORT, SL_TRANSPORT_UDP);
    sl_enc_str(&e, SL_ATTR_USERNAME, "1795266000:alice");
    sl_enc_str(&e, SL_ATTR_REALM, "acme-video.com");
    sl_enc_str(&e, SL_ATTR_NONCE, "a1b2c3d4e5f60718");
    sl_enc_integrity(&e, key, keylen);
    sl_enc_fingerprint(&e);
    add_msg(&b, &e, RPT_OUT, "allocate", "Allocate request", "with MESSAGE-INTEGRITY");
    sl_enc_init(&e, buf, sizeof(buf), SL_ALLOCATE, SL_SUCCESS, tid);
    sl_enc_addr(&e, SL_ATTR_XOR_RELAYED_ADDRESS, &relayed);
    sl_enc_addr(&e, SL_ATTR_XOR_MAPPED_ADDRESS, &mapped);
    sl_enc_u32(&e, SL_ATTR_LIFETIME, 600);
    sl_enc_integrity(&e, key, keylen);
    sl_enc_fingerprint(&e);
    add_msg(&b, &e, RPT_IN, "allocate", "Allocate success response",
            "relayed address 198.51.100.7:49160");
    st = rpt_step_add(s, "allocate");
    rpt_step_set(st, RPT_WARN, "alternate-server",
                 "relayed 198.51.100.7:49160, lifetime 600 s (realm \"acme-video.com\"), after a "
                 "redirect to 203.0.113.50:3478",
                 "Check that turn3.acme-video.com (203.0.113.50) accepts the same credentials.");
    json_object_set_string_member(st->details, "relayed", "198.51.100.7:49160");
    json_object_set_int_member(st->details, "lifetime", 600);
    json_object_set_string_member(st->details, "realm", "acme-video.com");
    json_object_set_string_member(st->details, "nonce", "a1b2c3d4e5f60718");
    for (guint n = first; n < first + 3; n++)
        g_array_append_val(st->packets, n);
    rpt_finding_add(s, "alternate-server", RPT_SEV_WARN, "allocate",
                    "The server at 198.51.100.7 redirected alice to 203.0.113.50:3478.",
                    rpt_diag_find("alternate-server")->hint);

    /* An ICE check answered through the relay: addresses and a username inside the DATA of a
     * Data indication, and inside ChannelData. */
    struct sl_enc in;
    tid[0] = 4;
    sl_enc_init(&in, inner, sizeof(inner), SL_BINDING, SL_SUCCESS, tid);
    sl_enc_addr(&in, SL_ATTR_XOR_MAPPED_ADDRESS, &relayed);
    sl_enc_fingerprint(&in);
    size_t ilen = 0;
    g_assert_cmpint(sl_enc_finish(&in, &ilen), ==, SL_OK);
    tid[0] = 5;
    sl_enc_init(&e, buf, sizeof(buf), SL_DATA, SL_INDICATION, tid);
    sl_enc_addr(&e, SL_ATTR_XOR_PEER_ADDRESS, &peer);
    sl_enc_attr(&e, SL_ATTR_DATA, inner, ilen);
    first = add_msg(&b, &e, RPT_IN, "ice", "Data indication",
                    "ICE check answered by 198.51.100.7:49161");
    tid[0] = 6;
    sl_enc_init(&in, inner, sizeof(inner), SL_BINDING, SL_REQUEST, tid);
    sl_enc_str(&in, SL_ATTR_USERNAME, "rfragAB:lfragCD");
    sl_enc_u32(&in, SL_ATTR_PRIORITY, 1853824767);
    sl_enc_fingerprint(&in);
    g_assert_cmpint(sl_enc_finish(&in, &ilen), ==, SL_OK);
    size_t clen = 0;
    g_assert_cmpint(sl_chan_encode(buf, sizeof(buf), 0x4000, inner, ilen, false, &clen), ==, 0);
    add_raw(&b, RPT_PKT_CHANNELDATA, RPT_OUT, buf, clen, "ice", "ChannelData 0x4000",
            "ICE check over channel 0x4000, USERNAME rfragAB:lfragCD");
    st = rpt_step_add(s, "ice");
    rpt_step_set(st, RPT_PASS, "ok", "Binding through the relay answered", NULL);
    for (guint n = first; n < first + 2; n++)
        g_array_append_val(st->packets, n);
    st = rpt_step_add(s, "policy");
    rpt_step_set(st, RPT_PASS, "ok",
                 "refused with 403: 127.0.0.1, 10.0.0.1, 192.168.1.1, 169.254.169.254, ::1", NULL);

    /* Session 2: TLS over IPv6; the binding gets no answer. */
    s = rpt_session_add(r, "turns:turn.acme-video.com:5349?transport=tcp");
    s->target.uri = g_strdup("turns:turn.acme-video.com:5349?transport=tcp");
    s->target.host = g_strdup("turn.acme-video.com");
    s->target.port = 5349;
    s->target.transport = g_strdup("tls");
    s->target.username = g_strdup("1795266000:alice");
    s->target.address = g_strdup("[2001:db8::7]:5349");
    json_object_set_string_member(s->facts, "mapped", "[2001:db8:1::9]:40000");
    st = rpt_step_add(s, "tls");
    rpt_step_set(st, RPT_PASS, "ok",
                 "TLS 1.3 with turn.acme-video.com; certificate for *.acme-video.com", NULL);
    JsonArray *names = json_array_new();
    json_array_add_string_element(names, "*.acme-video.com");
    json_array_add_string_element(names, "acme-video.com");
    json_object_set_array_member(st->details, "names", names);
    json_object_set_string_member(st->details, "sni", "turn.acme-video.com");
    b.session = 1;
    b.tp = RPT_TLS;
    addr(&b.client, "[2001:db8:1::5]:40000");
    addr(&b.server, "[2001:db8::7]:5349");
    static const char hello[] = "\x16\x03\x01\x00\x30 ClientHello sni=turn.acme-video.com alpn";
    first = add_raw(&b, RPT_PKT_TLS, RPT_OUT, hello, sizeof(hello) - 1, "tls", "TLS ClientHello",
                    "SNI turn.acme-video.com");
    g_array_append_val(st->packets, first);
    st = rpt_step_add(s, "binding");
    rpt_step_set(st, RPT_FAIL, "no-response",
                 "no answer from [2001:db8::7]:5349 (turn.acme-video.com) within 5 s",
                 rpt_diag_find("no-response")->hint);
    st->duration_ms = 5000;
    rpt_finding_add(s, "no-response", RPT_SEV_FAIL, "binding",
                    "[2001:db8::7]:5349 did not answer alice's Binding request.",
                    rpt_diag_find("no-response")->hint);
    return r;
}

static gboolean contains_ci(const char *hay, size_t len, const char *needle)
{
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= len; i++)
        if (g_ascii_strncasecmp(hay + i, needle, nl) == 0)
            return TRUE;
    return FALSE;
}

static void assert_clean(const char *what, const char *text)
{
    for (size_t i = 0; i < G_N_ELEMENTS(secrets); i++)
        if (contains_ci(text, strlen(text), secrets[i]))
            g_error("%s still contains \"%s\":\n%s", what, secrets[i], text);
}

static char *all_outputs(struct rpt_result *r)
{
    struct rpt_text_opts o = {.color = FALSE, .unicode = TRUE, .verbose = 1};
    char *t = rpt_text_to_string(r, &o), *j = rpt_json_to_string(r), *m = rpt_md_to_string(r);
    char *all = g_strjoin("\n", t, j, m, NULL);
    g_free(t);
    g_free(j);
    g_free(m);
    return all;
}

/* The fixture really has the secrets: otherwise the test below proves nothing. */
static void test_fixture_has_secrets(void)
{
    struct rpt_result *r = public_fixture();
    char *all = all_outputs(r);
    for (size_t i = 0; i < G_N_ELEMENTS(secrets); i++) {
        if (strcmp(secrets[i], "CLIENT_RANDOM") == 0 || strcmp(secrets[i], "rfragAB") == 0 ||
            strcmp(secrets[i], "lfragCD") == 0 || strcmp(secrets[i], "a1b2c3d4e5f60718") == 0)
            continue; /* only in the packets or the key log */
        g_assert_true(contains_ci(all, strlen(all), secrets[i]));
    }
    g_free(all);
    rpt_result_free(r);
}

static void test_nothing_left(void)
{
    struct rpt_result *r = public_fixture();
    int n = rpt_redact(r);
    /* user, realm, nonce, 4 host names (turn, turn2, *.acme-video.com, turn3), the ICE
     * username, and 3 server, 3 client, 1 other public addresses. */
    g_assert_cmpint(n, ==, 15);
    char *all = all_outputs(r);
    assert_clean("the reports", all);
    struct rpt_text_opts ascii = {.color = FALSE, .unicode = FALSE, .verbose = 1};
    char *t = rpt_text_to_string(r, &ascii);
    assert_clean("the ASCII text report", t);
    g_free(t);
    g_assert_null(r->keylog);

    /* The packets too: STUN still decodes, its FINGERPRINT holds, no public address inside. */
    for (guint i = 0; i < r->packets->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        gsize len = 0;
        const char *data = g_bytes_get_data(p->payload, &len);
        for (size_t k = 0; k < G_N_ELEMENTS(secrets); k++)
            g_assert_false(contains_ci(data, len, secrets[k]));
        g_assert_cmpint(sl_addr_scope(&p->src), !=, SL_SCOPE_DOCUMENTATION);
        g_assert_cmpint(sl_addr_scope(&p->dst), !=, SL_SCOPE_DOCUMENTATION);
        if (p->kind != RPT_PKT_STUN)
            continue;
        struct sl_msg *m = g_new0(struct sl_msg, 1);
        g_assert_cmpint(sl_msg_decode(m, (const uint8_t *)data, len, 0), ==, SL_OK);
        if (m->idx_fp >= 0)
            g_assert_cmpint(sl_auth_check_fingerprint(m), ==, SL_OK);
        for (size_t k = 0; k < m->nattrs; k++) {
            struct sl_addr a;
            if (sl_attr_get_addr(m, &m->attrs[k], &a) == 0)
                g_assert_cmpint(sl_addr_scope(&a), !=, SL_SCOPE_DOCUMENTATION);
        }
        g_free(m);
    }
    g_free(all);
    rpt_result_free(r);
}

static JsonObject *parse(const char *text, JsonParser **parser)
{
    *parser = json_parser_new();
    g_assert_true(json_parser_load_from_data(*parser, text, -1, NULL));
    return json_node_get_object(json_parser_get_root(*parser));
}

static const char *step_detail(JsonObject *session, const char *step, const char *key)
{
    JsonArray *steps = json_object_get_array_member(session, "steps");
    for (guint i = 0; i < json_array_get_length(steps); i++) {
        JsonObject *st = json_array_get_object_element(steps, i);
        if (strcmp(json_object_get_string_member(st, "id"), step) == 0)
            return json_object_get_string_member(json_object_get_object_member(st, "details"),
                                                 key);
    }
    return NULL;
}

/* One value, one label, in every place it appears. */
static void test_consistent(void)
{
    struct rpt_result *r = public_fixture();
    rpt_redact(r);
    char *json = rpt_json_to_string(r);
    JsonParser *parser;
    JsonObject *o = parse(json, &parser);
    JsonArray *sessions = json_object_get_array_member(o, "sessions");
    JsonObject *s1 = json_array_get_object_element(sessions, 0);
    JsonObject *s2 = json_array_get_object_element(sessions, 1);
    JsonObject *t1 = json_object_get_object_member(s1, "target");
    JsonObject *t2 = json_object_get_object_member(s2, "target");
    g_assert_cmpstr(json_object_get_string_member(s1, "name"), ==, "turn:host-1:3478");
    g_assert_cmpstr(json_object_get_string_member(t1, "host"), ==, "host-1");
    g_assert_cmpstr(json_object_get_string_member(t2, "host"), ==, "host-1");
    g_assert_cmpstr(json_object_get_string_member(t1, "username"), ==, "user-1");
    g_assert_cmpstr(json_object_get_string_member(t2, "username"), ==, "user-1");
    g_assert_cmpstr(json_object_get_string_member(t1, "address"), ==, "server-public-1:3478");
    g_assert_cmpstr(json_object_get_string_member(t2, "address"), ==, "[server-public-3]:5349");
    JsonObject *f1 = json_object_get_object_member(s1, "facts");
    g_assert_cmpstr(json_object_get_string_member(f1, "local"), ==, "10.0.0.5:51000");
    g_assert_cmpstr(json_object_get_string_member(f1, "mapped"), ==, "client-public-1:61000");
    g_assert_cmpstr(json_object_get_string_member(f1, "relayed"), ==, "server-public-1:49160");
    g_assert_cmpstr(json_object_get_string_member(f1, "software"), ==, "Coturn-4.6.1 'Gorst'");
    g_assert_cmpstr(step_detail(s1, "settings", "username"), ==, "user-1");
    g_assert_cmpstr(step_detail(s1, "allocate", "realm"), ==, "realm-1");
    g_assert_cmpstr(step_detail(s1, "allocate", "nonce"), ==, "nonce-1");
    g_assert_cmpstr(step_detail(s1, "allocate", "relayed"), ==, "server-public-1:49160");
    g_assert_cmpstr(step_detail(s1, "dns", "srv"), ==, "host-2");
    g_assert_cmpstr(step_detail(s2, "tls", "sni"), ==, "host-1");
    /* The TURN REST username's user part is the same person. */
    JsonObject *settings = json_array_get_object_element(json_object_get_array_member(s1, "steps"), 0);
    g_assert_cmpstr(json_object_get_string_member(settings, "summary"), ==,
                    "REST username user-1 for user-1, valid until 2026-11-21 13:00:00 UTC");
    JsonArray *pk = json_object_get_array_member(o, "packets");
    JsonObject *p1 = json_array_get_object_element(pk, 0);
    g_assert_cmpstr(json_object_get_string_member(p1, "src"), ==, "10.0.0.5:51000");
    g_assert_cmpstr(json_object_get_string_member(p1, "dst"), ==, "server-public-1:3478");
    JsonObject *p2 = json_array_get_object_element(pk, 1);
    g_assert_cmpstr(json_object_get_string_member(p2, "note"), ==,
                    "mapped address client-public-1:61000");
    JsonObject *ptls = json_array_get_object_element(pk, json_array_get_length(pk) - 1);
    g_assert_cmpstr(json_object_get_string_member(ptls, "src"), ==, "[client-public-3]:40000");
    g_assert_cmpstr(json_object_get_string_member(ptls, "note"), ==, "SNI host-1");
    /* Kept: private, loopback, link-local addresses say nothing about the customer. */
    g_assert_nonnull(strstr(json, "refused with 403: 127.0.0.1, 10.0.0.1, 192.168.1.1, "
                                  "169.254.169.254, ::1"));
    /* Text-only addresses and names get labels too. */
    g_assert_nonnull(strstr(json, "redirect to other-public-1:3478"));
    g_assert_nonnull(strstr(json, "Check that host-4 (other-public-1) accepts"));
    g_assert_nonnull(strstr(json, "certificate for host-3"));

    /* Inside the payloads: the rebuilt messages carry the same labels and placeholders. */
    const struct rpt_packet *alloc = rpt_packet_get(r, 4);
    gsize len = 0;
    const uint8_t *data = g_bytes_get_data(alloc->payload, &len);
    struct sl_msg *m = g_new0(struct sl_msg, 1);
    g_assert_cmpint(sl_msg_decode(m, data, len, 0), ==, SL_OK);
    const uint8_t *v;
    size_t vl;
    g_assert_cmpint(sl_msg_get_bytes(m, SL_ATTR_USERNAME, &v, &vl), ==, SL_OK);
    g_assert_cmpmem(v, vl, "user-1", 6);
    g_assert_cmpint(sl_msg_get_bytes(m, SL_ATTR_REALM, &v, &vl), ==, SL_OK);
    g_assert_cmpmem(v, vl, "realm-1", 7);
    g_assert_cmpint(sl_msg_get_bytes(m, SL_ATTR_NONCE, &v, &vl), ==, SL_OK);
    g_assert_cmpmem(v, vl, "nonce-1", 7);
    data = g_bytes_get_data(rpt_packet_get(r, 5)->payload, &len);
    g_assert_cmpint(sl_msg_decode(m, data, len, 0), ==, SL_OK);
    struct sl_addr a;
    char buf[SL_ADDR_STRLEN];
    g_assert_cmpint(sl_msg_get_addr(m, SL_ATTR_XOR_RELAYED_ADDRESS, &a), ==, SL_OK);
    g_assert_cmpstr(rpt_redact_addr_format(&a, buf, sizeof(buf), true), ==,
                    "server-public-1:49160");
    g_assert_cmpint(sl_msg_get_addr(m, SL_ATTR_XOR_MAPPED_ADDRESS, &a), ==, SL_OK);
    g_assert_cmpstr(rpt_redact_addr_format(&a, buf, sizeof(buf), true), ==,
                    "client-public-1:61000");
    g_free(m);

    g_object_unref(parser);
    g_free(json);
    rpt_result_free(r);
}

/* A second redaction finds nothing new and changes nothing. */
static void test_idempotent(void)
{
    struct rpt_result *r = public_fixture();
    rpt_redact(r);
    char *once = all_outputs(r);
    g_assert_cmpint(rpt_redact(r), ==, 0);
    char *twice = all_outputs(r);
    g_assert_cmpstr(once, ==, twice);
    g_free(once);
    g_free(twice);
    rpt_result_free(r);
}

/* The loopback fixture has a username, a realm and a nonce but no public address. */
static void test_loopback_fixture(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    g_assert_cmpint(rpt_redact(r), ==, 3);
    char *all = all_outputs(r);
    g_assert_false(contains_ci(all, strlen(all), "alice"));
    g_assert_false(contains_ci(all, strlen(all), "example.org"));
    g_assert_nonnull(strstr(all, "127.0.0.1:49160"));
    g_assert_nonnull(strstr(all, "\"note\": \"expected challenge (realm \\\"realm-1\\\")\""));
    for (guint i = 0; i < r->packets->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        gsize len = 0;
        const char *data = g_bytes_get_data(p->payload, &len);
        g_assert_false(contains_ci(data, len, "alice"));
        g_assert_false(contains_ci(data, len, "example.org"));
        g_assert_false(contains_ci(data, len, "6b3fa9c1d0e2f7a8"));
    }
    g_free(all);
    rpt_result_free(r);
}

/* Free-text scanning: what is and is not an address or a label. */
static void test_text_scanning(void)
{
    struct rpt_result *r = rpt_result_new("check", "0.1.0");
    struct rpt_session *s = rpt_session_add(r, "x");
    s->target.address = g_strdup("198.51.100.7:3478");
    struct rpt_step *st = rpt_step_add(s, "binding");
    rpt_step_set(st, RPT_PASS, "ok",
                 "Coturn-4.6.1.2 at 12:00:00; [2001:db8::7]:3478, ::ffff:198.51.100.7, "
                 "198.51.100.7. 198.51.100.77 x198.51.100.7 fe80::1 1.2.3.4.5",
                 NULL);
    rpt_redact(r);
    g_assert_cmpstr(st->summary, ==,
                    "Coturn-4.6.1.2 at 12:00:00; [other-public-1]:3478, other-public-2, "
                    "server-public-1. other-public-3 x198.51.100.7 fe80::1 1.2.3.4.5");
    rpt_result_free(r);
}

static void test_golden(void)
{
    struct rpt_result *r = public_fixture();
    rpt_redact(r);
    struct rpt_text_opts o = {.color = FALSE, .unicode = TRUE, .verbose = 1};
    char *s = rpt_text_to_string(r, &o);
    golden_check("redacted-sessions.verbose.txt", s);
    g_free(s);
    o.verbose = 0;
    s = rpt_text_to_string(r, &o);
    golden_check("redacted-sessions.txt", s);
    g_free(s);
    s = rpt_json_to_string(r);
    golden_check("redacted-sessions.json", s);
    g_free(s);
    s = rpt_md_to_string(r);
    golden_check("redacted-sessions.md", s);
    g_free(s);
    rpt_result_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rpt_redact/fixture-has-secrets", test_fixture_has_secrets);
    g_test_add_func("/rpt_redact/nothing-left", test_nothing_left);
    g_test_add_func("/rpt_redact/consistent", test_consistent);
    g_test_add_func("/rpt_redact/idempotent", test_idempotent);
    g_test_add_func("/rpt_redact/loopback-fixture", test_loopback_fixture);
    g_test_add_func("/rpt_redact/text-scanning", test_text_scanning);
    g_test_add_func("/rpt_redact/golden", test_golden);
    return g_test_run();
}
