/* TURN client transactions: requests with retransmissions, authentication, response matching
 * and integrity checks; indications and ChannelData. */
#include <errno.h>
#include <string.h>

#include <openssl/rand.h>

#include "chk.h"
#include "sl_auth.h"
#include "sl_chan.h"
#include "sl_names.h"

char *chk_msg_summary(const uint8_t *p, size_t len)
{
    struct sl_msg m;
    char desc[96];
    if (sl_msg_decode(&m, p, len, SL_DEC_LENIENT | SL_DEC_CLASSIC) != SL_OK)
        return g_strdup_printf("malformed STUN message (%zu bytes)", len);
    sl_type_describe(m.type, desc, sizeof(desc));
    int code;
    const char *reason;
    size_t rlen;
    if (m.cls == SL_ERROR && sl_msg_get_error(&m, &code, &reason, &rlen) == SL_OK)
        return g_strdup_printf("%s %d %.*s", desc, code, (int)MIN(rlen, 80), reason);
    if (m.cls == SL_ERROR)
        return g_strdup_printf("%s without ERROR-CODE", desc);
    return g_strdup(desc);
}

void chk_attrs_add(struct chk_attrs *a, uint16_t type, const void *val, size_t len)
{
    g_assert(a->n < G_N_ELEMENTS(a->a) && len <= sizeof(a->a[0].val));
    struct chk_attr *x = &a->a[a->n++];
    memset(x, 0, sizeof(*x));
    x->type = type;
    if (len)
        memcpy(x->val, val, len);
    x->len = (uint16_t)len;
}

void chk_attrs_add_u32(struct chk_attrs *a, uint16_t type, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    chk_attrs_add(a, type, b, 4);
}

void chk_attrs_add_addr(struct chk_attrs *a, uint16_t type, const struct sl_addr *addr)
{
    chk_attrs_add(a, type, NULL, 0);
    a->a[a->n - 1].is_addr = TRUE;
    a->a[a->n - 1].addr = *addr;
}

static void req_finish(struct chk_req *rq, enum rpt_txn_outcome o)
{
    if (rq->done)
        return;
    rq->done = TRUE;
    rq->txn->outcome = o;
    rq->txn->end_us = chk_now_real(rq->cl->ctx);
    if (rq->timer_src) {
        g_source_destroy(rq->timer_src);
        g_source_unref(rq->timer_src);
        rq->timer_src = NULL;
    }
    g_ptr_array_remove(rq->cl->pending, rq);
}

static void arm(struct chk_req *rq, uint64_t wake_us);

/* Drives the retransmission schedule (RFC 8489 §6.2.1) from the transaction clock. */
static void tick(struct chk_req *rq)
{
    struct chk_ctx *ctx = rq->cl->ctx;
    uint64_t wake = 0;
    switch (sl_txn_next(&rq->timer, (uint64_t)g_get_monotonic_time(), &wake)) {
    case SL_TXN_SEND: {
        guint n = chk_conn_send(rq->cl->conn, rq->msg, rq->len, RPT_PKT_STUN);
        if (n == 0) {
            rq->txn->local_errno = rq->cl->conn->error;
            req_finish(rq, rq->cl->conn->refused ? RPT_TXN_UNREACH : RPT_TXN_LOCAL);
            return;
        }
        g_array_append_val(rq->txn->req_pkts, n);
        struct rpt_packet *p = rpt_packet_get(ctx->r, n);
        if (rq->txn->req_pkts->len > 1) {
            char *note = g_strdup_printf("retransmission %u (no answer yet)",
                                         rq->txn->req_pkts->len - 1);
            rpt_packet_annotate(p, rq->step, NULL, note);
            g_free(note);
        } else {
            rpt_packet_annotate(p, rq->step, NULL, NULL);
        }
        arm(rq, wake);
        return;
    }
    case SL_TXN_WAIT:
        arm(rq, wake);
        return;
    case SL_TXN_TIMEOUT:
        req_finish(rq, RPT_TXN_TIMEOUT);
        return;
    case SL_TXN_DONE:
        return;
    }
}

static gboolean on_timer(gpointer ud)
{
    struct chk_req *rq = ud;
    g_source_unref(rq->timer_src);
    rq->timer_src = NULL;
    tick(rq);
    return G_SOURCE_REMOVE;
}

static void arm(struct chk_req *rq, uint64_t wake_us)
{
    gint64 now = g_get_monotonic_time();
    guint ms = wake_us > (uint64_t)now ? (guint)((wake_us - (uint64_t)now + 999) / 1000) : 0;
    rq->timer_src = g_timeout_source_new(ms);
    g_source_set_callback(rq->timer_src, on_timer, rq, NULL);
    g_source_attach(rq->timer_src, rq->cl->ctx->mc);
}

static void random_tid(uint8_t tid[SL_TID_LEN])
{
    if (RAND_bytes(tid, SL_TID_LEN) != 1)
        for (int i = 0; i < SL_TID_LEN; i++)
            tid[i] = (uint8_t)g_random_int();
}

static int encode(struct chk_client *cl, struct sl_enc *e, uint8_t *buf, size_t cap,
                  uint16_t method, enum sl_class cls, const uint8_t *tid,
                  const struct chk_attrs *attrs, gboolean auth)
{
    sl_enc_init(e, buf, cap, method, cls, tid);
    for (size_t i = 0; attrs && i < attrs->n; i++) {
        const struct chk_attr *a = &attrs->a[i];
        if (a->is_addr)
            sl_enc_addr(e, a->type, &a->addr);
        else
            sl_enc_attr(e, a->type, a->val, a->len);
    }
    if (auth && cl->have_key) {
        sl_enc_str(e, SL_ATTR_USERNAME, cl->ctx->cfg->username);
        sl_enc_str(e, SL_ATTR_REALM, cl->realm);
        sl_enc_str(e, SL_ATTR_NONCE, cl->nonce);
        sl_enc_integrity(e, cl->key, cl->keylen);
    }
    sl_enc_fingerprint(e);
    size_t len = 0;
    return sl_enc_finish(e, &len);
}

struct chk_req *chk_req_start(struct chk_client *cl, const char *step, uint16_t method,
                              const struct chk_attrs *attrs, gboolean auth, const char *note)
{
    struct chk_ctx *ctx = cl->ctx;
    struct chk_req *rq = g_new0(struct chk_req, 1);
    rq->cl = cl;
    rq->step = g_strdup(step);
    rq->method = method;
    uint8_t tid[SL_TID_LEN];
    random_tid(tid);
    struct sl_enc e;
    int rc = encode(cl, &e, rq->msg, sizeof(rq->msg), method, SL_REQUEST, tid, attrs, auth);
    rq->len = e.len;
    rq->txn = rpt_txn_add(ctx->s, step, cl->endpoint, method, tid);
    rq->txn->start_us = chk_now_real(ctx);
    rq->txn->authenticated = auth && cl->have_key;
    g_ptr_array_add(cl->pending, rq);
    if (rc != SL_OK) {
        rq->txn->local_errno = EINVAL;
        req_finish(rq, RPT_TXN_LOCAL);
        return rq;
    }
    if (cl->conn->state != CHK_CONN_OPEN) {
        rq->txn->local_errno = cl->conn->error;
        req_finish(rq, cl->conn->refused ? RPT_TXN_UNREACH : RPT_TXN_CLOSED);
        return rq;
    }
    struct sl_txn_cfg tc = ctx->cfg->txn;
    tc.reliable = chk_is_stream(cl->conn->tp);
    sl_txn_start(&rq->timer, &tc, (uint64_t)g_get_monotonic_time());
    tick(rq);
    if (note && rq->txn->req_pkts->len > 0) {
        guint n = g_array_index(rq->txn->req_pkts, guint, 0);
        rpt_packet_annotate(rpt_packet_get(ctx->r, n), NULL, NULL, note);
    }
    return rq;
}

static gboolean all_done(void *ud)
{
    struct chk_req *const *reqs = ud;
    for (size_t i = 0; reqs[i]; i++)
        if (!reqs[i]->done)
            return FALSE;
    return TRUE;
}

gboolean chk_req_wait(struct chk_ctx *ctx, struct chk_req *const *reqs)
{
    gboolean ok = chk_wait(ctx, all_done, (void *)reqs, G_MAXINT64);
    /* The run's deadline ends what the retransmission schedule has not. */
    for (size_t i = 0; reqs[i]; i++)
        if (!reqs[i]->done)
            req_finish(reqs[i], RPT_TXN_TIMEOUT);
    return ok;
}

int chk_req_response(const struct chk_req *rq, struct sl_msg *m)
{
    if (!rq->done || rq->resp_len == 0)
        return SL_ENOTFOUND;
    return sl_msg_decode(m, rq->resp, rq->resp_len, SL_DEC_LENIENT);
}

void chk_req_free(struct chk_req *rq)
{
    if (!rq)
        return;
    if (!rq->done)
        req_finish(rq, RPT_TXN_TIMEOUT);
    g_free(rq->step);
    memset(rq->msg, 0, sizeof(rq->msg));
    g_free(rq);
}

int chk_client_take_challenge(struct chk_client *cl, const struct sl_msg *m)
{
    const uint8_t *v;
    size_t len;
    if (sl_msg_get_bytes(m, SL_ATTR_REALM, &v, &len) == SL_OK) {
        g_free(cl->realm);
        cl->realm = g_strndup((const char *)v, len);
    }
    if (sl_msg_get_bytes(m, SL_ATTR_NONCE, &v, &len) != SL_OK || !cl->realm)
        return SL_ENOTFOUND;
    g_free(cl->nonce);
    cl->nonce = g_strndup((const char *)v, len);
    const struct chk_config *cfg = cl->ctx->cfg;
    if (!cfg->username || !cfg->password)
        return SL_EINVAL;
    int rc = sl_auth_long_term_key(cfg->username, cl->realm, cfg->password, SL_PWALG_MD5, cl->key,
                                   &cl->keylen);
    cl->have_key = rc == SL_OK;
    return rc;
}

static struct chk_req *find_pending(struct chk_client *cl, const struct sl_msg *m)
{
    for (guint i = 0; i < cl->pending->len; i++) {
        struct chk_req *rq = g_ptr_array_index(cl->pending, i);
        /* RFC 8489 §6.3: a response matches by transaction id; a method that differs from the
         * request's is not its answer (a confused or hostile server). */
        if (memcmp(rq->txn->tid, m->tid, SL_TID_LEN) == 0 && rq->method == m->method)
            return rq;
    }
    return NULL;
}

static void on_response(struct chk_client *cl, const struct sl_msg *m, const uint8_t *p,
                        size_t len, guint pkt)
{
    struct chk_ctx *ctx = cl->ctx;
    struct rpt_packet *pk = rpt_packet_get(ctx->r, pkt);
    struct chk_req *rq = find_pending(cl, m);
    if (!rq) {
        rpt_packet_annotate(pk, NULL, NULL,
                            "response to no pending request (late, duplicate or misdirected)");
        return;
    }
    memcpy(rq->resp, p, MIN(len, sizeof(rq->resp)));
    rq->resp_len = MIN(len, sizeof(rq->resp));
    rq->txn->resp_pkt = pkt;
    rq->txn->rtt_ms = (double)(chk_now_real(ctx) - rq->txn->start_us) / 1000.0;
    /* RTT from the last transmission is what the network took; from the first, what the user
     * waited. Keep the user's view, as a support engineer reads it. */
    rpt_packet_annotate(pk, rq->step, NULL, NULL);
    enum rpt_txn_outcome o = RPT_TXN_SUCCESS;
    if (m->cls == SL_ERROR) {
        o = RPT_TXN_ERROR;
        int code = 0;
        const char *reason = NULL;
        size_t rlen = 0;
        if (sl_msg_get_error(m, &code, &reason, &rlen) == SL_OK) {
            rq->txn->error_code = code;
            rq->txn->reason = g_strndup(reason, MIN(rlen, 200));
        }
    }
    /* RFC 8489 §9.2.4: responses to authenticated requests carry MESSAGE-INTEGRITY computed
     * with the same key; 401 and 438 challenges do not. */
    if (rq->txn->authenticated && m->idx_mi >= 0) {
        rq->integrity_checked = TRUE;
        rq->integrity_ok = sl_auth_check_integrity(m, cl->key, cl->keylen) == SL_OK;
        rq->txn->integrity = rq->integrity_ok ? 1 : -1;
        if (!rq->integrity_ok)
            rpt_packet_annotate(pk, NULL, "integrity-invalid",
                                "MESSAGE-INTEGRITY does not verify with our key");
    } else if (rq->txn->authenticated && m->cls == SL_SUCCESS && m->idx_mi256 < 0) {
        /* RFC 8489 §9.2.5: a response to an authenticated request without MESSAGE-INTEGRITY
         * is handled as one whose MESSAGE-INTEGRITY does not match: anyone on the path could
         * have forged it. Only successes are held to it here: an error is a failure anyway. */
        rq->integrity_checked = TRUE;
        rq->integrity_ok = FALSE;
        rq->txn->integrity = -1;
        rpt_packet_annotate(pk, NULL, "integrity-invalid",
                            "no MESSAGE-INTEGRITY in the answer to an authenticated request");
    }
    req_finish(rq, o);
}

static void on_record(struct chk_conn *c, const uint8_t *p, size_t len, guint pkt, void *ud)
{
    struct chk_client *cl = ud;
    if (!p) {
        /* The connection failed (ICMP, reset, close): the pending requests end with it. Over
         * UDP an ICMP error ends them only if the socket was refused, or when chk_net.c gave
         * up on a server that floods us (ENOBUFS). */
        enum rpt_txn_outcome o = c->refused ? RPT_TXN_UNREACH : RPT_TXN_CLOSED;
        if (!chk_is_stream(c->tp) && !c->refused && c->error != ENOBUFS)
            return;
        while (cl->pending->len > 0) {
            struct chk_req *rq = g_ptr_array_index(cl->pending, 0);
            rq->txn->local_errno = c->error;
            if (pkt)
                rq->txn->resp_pkt = pkt;
            req_finish(rq, o);
        }
        return;
    }
    struct rpt_packet *pk = rpt_packet_get(cl->ctx->r, pkt);
    if (pk->kind == RPT_PKT_OTHER) {
        /* Something that is not STUN answered: every pending request has its answer. */
        while (cl->pending->len > 0) {
            struct chk_req *rq = g_ptr_array_index(cl->pending, 0);
            rq->txn->resp_pkt = pkt;
            rpt_packet_annotate(pk, rq->step, "not-stun", NULL);
            req_finish(rq, RPT_TXN_GARBAGE);
        }
        return;
    }
    if (pk->kind == RPT_PKT_CHANNELDATA) {
        struct sl_chan ch;
        if (sl_chan_decode(&ch, p, len, chk_is_stream(c->tp)) != SL_OK)
            return;
        struct sl_addr from = {0};
        if (cl->channel == ch.channel)
            from = cl->channel_peer;
        if (cl->on_data)
            cl->on_data(cl, &from, ch.channel, ch.data, ch.len, pkt, cl->data_ud);
        return;
    }
    struct sl_msg m;
    if (sl_msg_decode(&m, p, len, SL_DEC_LENIENT) != SL_OK)
        return;
    if (m.cls == SL_SUCCESS || m.cls == SL_ERROR) {
        on_response(cl, &m, p, len, pkt);
    } else if (m.cls == SL_INDICATION && m.method == SL_DATA) {
        struct sl_addr from;
        const uint8_t *data;
        size_t dlen;
        if (sl_msg_get_addr(&m, SL_ATTR_XOR_PEER_ADDRESS, &from) == SL_OK &&
            sl_msg_get_bytes(&m, SL_ATTR_DATA, &data, &dlen) == SL_OK && cl->on_data)
            cl->on_data(cl, &from, 0, data, dlen, pkt, cl->data_ud);
    } else {
        rpt_packet_annotate(pk, NULL, NULL, "unexpected message from the server");
    }
}

void chk_client_attach(struct chk_client *cl, struct chk_conn *conn)
{
    if (cl->conn && cl->conn != conn)
        chk_conn_close(cl->conn);
    cl->conn = conn;
    conn->on_record = on_record;
    conn->ud = cl;
}

struct chk_client *chk_client_new(struct chk_ctx *ctx, struct chk_conn *conn,
                                  const char *endpoint)
{
    struct chk_client *cl = g_new0(struct chk_client, 1);
    cl->ctx = ctx;
    cl->conn = conn;
    cl->endpoint = g_strdup(endpoint);
    cl->pending = g_ptr_array_new();
    conn->on_record = on_record;
    conn->ud = cl;
    return cl;
}

guint chk_client_send_indication(struct chk_client *cl, const char *step,
                                 const struct sl_addr *peer, const uint8_t *data, size_t len,
                                 const char *note)
{
    uint8_t buf[1500], tid[SL_TID_LEN];
    struct sl_enc e;
    random_tid(tid);
    sl_enc_init(&e, buf, sizeof(buf), SL_SEND, SL_INDICATION, tid);
    sl_enc_addr(&e, SL_ATTR_XOR_PEER_ADDRESS, peer);
    sl_enc_attr(&e, SL_ATTR_DATA, data, len);
    sl_enc_fingerprint(&e);
    size_t n = 0;
    if (sl_enc_finish(&e, &n) != SL_OK)
        return 0;
    guint pkt = chk_conn_send(cl->conn, buf, n, RPT_PKT_STUN);
    if (pkt)
        rpt_packet_annotate(rpt_packet_get(cl->ctx->r, pkt), step, NULL, note);
    return pkt;
}

guint chk_client_send_channel(struct chk_client *cl, const char *step, uint16_t channel,
                              const uint8_t *data, size_t len, const char *note)
{
    uint8_t buf[1500];
    size_t n = 0;
    if (sl_chan_encode(buf, sizeof(buf), channel, data, len, chk_is_stream(cl->conn->tp), &n) !=
        SL_OK)
        return 0;
    guint pkt = chk_conn_send(cl->conn, buf, n, RPT_PKT_CHANNELDATA);
    if (pkt)
        rpt_packet_annotate(rpt_packet_get(cl->ctx->r, pkt), step, NULL, note);
    return pkt;
}

void chk_client_free(struct chk_client *cl)
{
    if (!cl)
        return;
    while (cl->pending->len > 0)
        req_finish(g_ptr_array_index(cl->pending, 0), RPT_TXN_TIMEOUT);
    g_ptr_array_unref(cl->pending);
    chk_conn_close(cl->conn);
    memset(cl->key, 0, sizeof(cl->key));
    g_free(cl->endpoint);
    g_free(cl->realm);
    g_free(cl->nonce);
    g_free(cl->software);
    g_free(cl);
}
