/* Deterministic result models built with real STUN messages (see rpt_fixture.h). */
#include "rpt_fixture.h"

#include <string.h>

#include "sl_auth.h"
#include "sl_msg.h"
#include "sl_names.h"

#define T0 1795262400000000LL /* 2026-11-21 12:00:00 UTC */

static const guint8 *tid_for(guint8 *tid, guint8 seed)
{
    for (int i = 0; i < 12; i++)
        tid[i] = (guint8)(seed * 17 + i);
    return tid;
}

struct fx {
    struct rpt_result *r;
    struct rpt_session *s;
    struct sl_addr client, server, relay, peer_relay;
    enum rpt_transport tp;
    gint64 t;
};

/* Appends a STUN packet built by the caller's encoder; returns its frame number. */
static guint add_stun(struct fx *f, struct sl_enc *e, enum rpt_dir dir, const char *step,
                      const char *verdict, const char *note, const char *endpoint)
{
    size_t len = 0;
    g_assert_cmpint(sl_enc_finish(e, &len), ==, SL_OK);
    const struct sl_addr *src = dir == RPT_OUT ? &f->client : &f->server;
    const struct sl_addr *dst = dir == RPT_OUT ? &f->server : &f->client;
    struct rpt_packet *p =
        rpt_packet_add(f->r, RPT_PKT_STUN, dir, f->tp, src, dst, f->t, e->buf, len);
    char desc[96];
    struct sl_msg m;
    g_assert_cmpint(sl_msg_decode(&m, e->buf, len, 0), ==, SL_OK);
    sl_type_describe(m.type, desc, sizeof(desc));
    int code = 0;
    const char *reason = NULL;
    size_t rlen = 0;
    if (sl_msg_get_error(&m, &code, &reason, &rlen) == SL_OK)
        p->summary = g_strdup_printf("%s %d %.*s", desc, code, (int)rlen, reason);
    else
        p->summary = g_strdup(desc);
    p->endpoint = g_strdup(endpoint);
    rpt_packet_annotate(p, step, verdict, note);
    f->t += 700;
    return p->n;
}

static struct rpt_txn *txn(struct fx *f, const char *step, guint16 method, const guint8 *tid,
                           guint req, guint resp, enum rpt_txn_outcome o, int code,
                           double rtt_ms)
{
    struct rpt_txn *t = rpt_txn_add(f->s, step, "client", method, tid);
    g_array_append_val(t->req_pkts, req);
    t->resp_pkt = resp;
    t->outcome = o;
    t->error_code = code;
    t->rtt_ms = rtt_ms;
    if (code) {
        const struct sl_error_info *ei = sl_error_info(code);
        t->reason = g_strdup(ei ? ei->reason : "");
    }
    return t;
}

static void step_packets(struct rpt_step *st, guint from, guint to)
{
    for (guint n = from; n <= to; n++)
        g_array_append_val(st->packets, n);
}

static void fx_init(struct fx *f, enum rpt_transport tp)
{
    memset(f, 0, sizeof(*f));
    f->r = rpt_result_new("check", "0.1.0");
    f->r->start_us = T0;
    f->t = T0 + 1000;
    f->tp = tp;
    sl_addr_parse(&f->client, "127.0.0.1:50000", -1);
    sl_addr_parse(&f->server, "127.0.0.1:3478", -1);
    sl_addr_parse(&f->relay, "127.0.0.1:49160", -1);
    sl_addr_parse(&f->peer_relay, "127.0.0.1:49161", -1);
    const char *uri = tp == RPT_TCP ? "turn:127.0.0.1:3478?transport=tcp" : "turn:127.0.0.1:3478";
    f->s = rpt_session_add(f->r, uri);
    f->s->target.uri = g_strdup(uri);
    f->s->target.host = g_strdup("127.0.0.1");
    f->s->target.port = 3478;
    f->s->target.transport = g_strdup(rpt_transport_name(tp));
    f->s->target.username = g_strdup("alice");
    f->s->target.password_info = g_strdup("given (6 characters)");
    f->s->target.address = g_strdup("127.0.0.1:3478");
    json_object_set_string_member(f->s->facts, "local", "127.0.0.1:50000");
    json_object_set_string_member(f->s->facts, "mapped", "127.0.0.1:50000");
    json_object_set_string_member(f->s->facts, "relayed", "127.0.0.1:49160");
    json_object_set_string_member(f->s->facts, "software", "Coturn-4.6.1 'Gorst'");
}

static void settings_and_binding(struct fx *f, guint8 *tid)
{
    struct rpt_step *st = rpt_step_add(f->s, "settings");
    rpt_step_set(st, RPT_PASS, "ok", "turn:127.0.0.1:3478, user alice, password given", NULL);
    json_object_set_string_member(st->details, "username", "alice");
    st->duration_ms = 0.1;
    st = rpt_step_add(f->s, "dns");
    rpt_step_set(st, RPT_PASS, "ok", "127.0.0.1 is an address literal", NULL);
    st = rpt_step_add(f->s, "tls");
    rpt_step_set(st, RPT_SKIP, "ok", "not a turns: URI", NULL);

    uint8_t buf[512];
    struct sl_enc e;
    sl_enc_init(&e, buf, sizeof(buf), SL_BINDING, SL_REQUEST, tid_for(tid, 1));
    sl_enc_fingerprint(&e);
    guint req = add_stun(f, &e, RPT_OUT, "binding", "ok", "reachability check", "client");
    sl_enc_init(&e, buf, sizeof(buf), SL_BINDING, SL_SUCCESS, tid);
    sl_enc_addr(&e, SL_ATTR_XOR_MAPPED_ADDRESS, &f->client);
    sl_enc_str(&e, SL_ATTR_SOFTWARE, "Coturn-4.6.1 'Gorst'");
    sl_enc_fingerprint(&e);
    guint resp = add_stun(f, &e, RPT_IN, "binding", "ok", "mapped address 127.0.0.1:50000",
                          "client");
    txn(f, "binding", SL_BINDING, tid, req, resp, RPT_TXN_SUCCESS, 0, 0.7);
    st = rpt_step_add(f->s, "binding");
    rpt_step_set(st, RPT_PASS, "ok", "mapped address 127.0.0.1:50000 (RTT 0.7 ms)", NULL);
    json_object_set_string_member(st->details, "mapped", "127.0.0.1:50000");
    json_object_set_double_member(st->details, "rtt_ms", 0.7);
    step_packets(st, req, resp);
    st->duration_ms = 0.7;
}

static guint allocate(struct fx *f, guint8 *tid, const uint8_t *key, size_t keylen)
{
    uint8_t buf[512];
    struct sl_enc e;
    sl_enc_init(&e, buf, sizeof(buf), SL_ALLOCATE, SL_REQUEST, tid_for(tid, 2));
    sl_enc_u8_head(&e, SL_ATTR_REQUESTED_TRANSPORT, SL_TRANSPORT_UDP);
    sl_enc_fingerprint(&e);
    guint first = add_stun(f, &e, RPT_OUT, "allocate", "ok", "without credentials", "client");
    sl_enc_init(&e, buf, sizeof(buf), SL_ALLOCATE, SL_ERROR, tid);
    sl_enc_error(&e, 401, "Unauthorized");
    sl_enc_str(&e, SL_ATTR_NONCE, "6b3fa9c1d0e2f7a8");
    sl_enc_str(&e, SL_ATTR_REALM, "example.org");
    sl_enc_fingerprint(&e);
    guint r401 = add_stun(f, &e, RPT_IN, "allocate", "ok",
                          "expected challenge (realm \"example.org\")", "client");
    txn(f, "allocate", SL_ALLOCATE, tid, first, r401, RPT_TXN_ERROR, 401, 0.6);

    sl_enc_init(&e, buf, sizeof(buf), SL_ALLOCATE, SL_REQUEST, tid_for(tid, 3));
    sl_enc_u8_head(&e, SL_ATTR_REQUESTED_TRANSPORT, SL_TRANSPORT_UDP);
    sl_enc_str(&e, SL_ATTR_USERNAME, "alice");
    sl_enc_str(&e, SL_ATTR_REALM, "example.org");
    sl_enc_str(&e, SL_ATTR_NONCE, "6b3fa9c1d0e2f7a8");
    sl_enc_integrity(&e, key, keylen);
    sl_enc_fingerprint(&e);
    guint req = add_stun(f, &e, RPT_OUT, "allocate", "ok", "with MESSAGE-INTEGRITY", "client");
    sl_enc_init(&e, buf, sizeof(buf), SL_ALLOCATE, SL_SUCCESS, tid);
    sl_enc_addr(&e, SL_ATTR_XOR_RELAYED_ADDRESS, &f->relay);
    sl_enc_addr(&e, SL_ATTR_XOR_MAPPED_ADDRESS, &f->client);
    sl_enc_u32(&e, SL_ATTR_LIFETIME, 600);
    sl_enc_integrity(&e, key, keylen);
    sl_enc_fingerprint(&e);
    guint resp = add_stun(f, &e, RPT_IN, "allocate", "ok", "relayed address 127.0.0.1:49160",
                          "client");
    txn(f, "allocate", SL_ALLOCATE, tid, req, resp, RPT_TXN_SUCCESS, 0, 0.9);

    struct rpt_step *st = rpt_step_add(f->s, "allocate");
    rpt_step_set(st, RPT_WARN, "relay-address-private",
                 "relayed 127.0.0.1:49160, lifetime 600 s (realm \"example.org\")",
                 "The relayed address is loopback; acceptable for a server on loopback.");
    json_object_set_string_member(st->details, "relayed", "127.0.0.1:49160");
    json_object_set_int_member(st->details, "lifetime", 600);
    json_object_set_string_member(st->details, "realm", "example.org");
    step_packets(st, first, resp);
    st->duration_ms = 2.1;
    rpt_finding_add(f->s, "relay-address-private", RPT_SEV_WARN, "allocate",
                    "The relayed address 127.0.0.1:49160 is loopback.",
                    rpt_diag_find("relay-address-private")->hint);
    return resp;
}

struct rpt_result *rpt_fixture_failing_check(void)
{
    struct fx f;
    guint8 tid[12];
    uint8_t key[32];
    size_t keylen = 0;
    fx_init(&f, RPT_UDP);
    sl_auth_long_term_key("alice", "example.org", "secret", SL_PWALG_MD5, key, &keylen);
    settings_and_binding(&f, tid);
    allocate(&f, tid, key, keylen);

    uint8_t buf[512];
    struct sl_enc e;
    sl_enc_init(&e, buf, sizeof(buf), SL_CREATE_PERMISSION, SL_REQUEST, tid_for(tid, 4));
    sl_enc_addr(&e, SL_ATTR_XOR_PEER_ADDRESS, &f.peer_relay);
    sl_enc_str(&e, SL_ATTR_USERNAME, "alice");
    sl_enc_str(&e, SL_ATTR_REALM, "example.org");
    sl_enc_str(&e, SL_ATTR_NONCE, "6b3fa9c1d0e2f7a8");
    sl_enc_integrity(&e, key, keylen);
    sl_enc_fingerprint(&e);
    guint req = add_stun(&f, &e, RPT_OUT, "permission", NULL, "for peer 127.0.0.1:49161",
                         "client");
    sl_enc_init(&e, buf, sizeof(buf), SL_CREATE_PERMISSION, SL_ERROR, tid);
    sl_enc_error(&e, 403, "Forbidden IP");
    sl_enc_integrity(&e, key, keylen);
    sl_enc_fingerprint(&e);
    guint resp = add_stun(&f, &e, RPT_IN, "permission", "permission-forbidden",
                          "the server refuses this peer", "client");
    txn(&f, "permission", SL_CREATE_PERMISSION, tid, req, resp, RPT_TXN_ERROR, 403, 0.5);
    struct rpt_step *st = rpt_step_add(f.s, "permission");
    rpt_step_set(st, RPT_FAIL, "permission-forbidden",
                 "CreatePermission for 127.0.0.1:49161 refused: 403 Forbidden IP",
                 rpt_diag_find("permission-forbidden")->hint);
    step_packets(st, req, resp);
    st->duration_ms = 0.5;
    rpt_finding_add(f.s, "permission-forbidden", RPT_SEV_FAIL, "permission",
                    "The server refused CreatePermission for peer 127.0.0.1:49161 (403).",
                    rpt_diag_find("permission-forbidden")->hint);
    const char *after[] = {"send-data", "channel", "ice"};
    for (size_t i = 0; i < G_N_ELEMENTS(after); i++) {
        st = rpt_step_add(f.s, after[i]);
        rpt_step_set(st, RPT_SKIP, "ok", "skipped: needs a permission (permission failed)",
                     NULL);
    }
    st = rpt_step_add(f.s, "refresh");
    rpt_step_set(st, RPT_PASS, "ok", "refreshed (600 s) and deallocated", NULL);
    st = rpt_step_add(f.s, "policy");
    rpt_step_set(st, RPT_PASS, "ok", "8 private and special peers refused with 403", NULL);
    f.r->duration_ms = 12.5;
    return f.r;
}

struct rpt_result *rpt_fixture_passing_tcp_check(void)
{
    struct fx f;
    guint8 tid[12];
    uint8_t key[32];
    size_t keylen = 0;
    fx_init(&f, RPT_TCP);
    sl_auth_long_term_key("alice", "example.org", "secret", SL_PWALG_MD5, key, &keylen);
    const enum rpt_kind hs[] = {RPT_PKT_TCP_SYN, RPT_PKT_TCP_SYNACK, RPT_PKT_TCP_ACK};
    for (int i = 0; i < 3; i++) {
        enum rpt_dir d = i == 1 ? RPT_IN : RPT_OUT;
        struct rpt_packet *p =
            rpt_packet_add(f.r, hs[i], d, RPT_TCP, d == RPT_OUT ? &f.client : &f.server,
                           d == RPT_OUT ? &f.server : &f.client, f.t, NULL, 0);
        p->summary = g_strdup(rpt_kind_name(hs[i]));
        p->endpoint = g_strdup("client");
        rpt_packet_annotate(p, "binding", "ok", "TCP connection to the server");
        f.t += 100;
    }
    settings_and_binding(&f, tid);
    allocate(&f, tid, key, keylen);
    const char *rest[] = {"permission", "send-data", "channel", "ice", "refresh", "policy"};
    for (size_t i = 0; i < G_N_ELEMENTS(rest); i++) {
        struct rpt_step *st = rpt_step_add(f.s, rest[i]);
        rpt_step_set(st, RPT_PASS, "ok", "passed", NULL);
        st->duration_ms = 1.0;
    }
    struct rpt_packet *p = rpt_packet_add(f.r, RPT_PKT_TCP_FIN, RPT_OUT, RPT_TCP, &f.client,
                                          &f.server, f.t, NULL, 0);
    p->summary = g_strdup("tcp-fin");
    p->endpoint = g_strdup("client");
    rpt_packet_annotate(p, "refresh", "ok", "connection closed after deallocation");
    f.r->duration_ms = 9.0;
    return f.r;
}
