/* Step "refresh": Refresh with a lifetime, then lifetime 0 to release every allocation. */
#include "chk_run.h"

static struct chk_req *refresh(struct chk_client *cl, uint32_t lifetime, const char *note)
{
    struct chk_attrs a = {0};
    chk_attrs_add_u32(&a, SL_ATTR_LIFETIME, lifetime);
    return chk_req_start(cl, "refresh", SL_REFRESH, &a, TRUE, note);
}

/* A 438 on a Refresh gets one retry with the new nonce, as on Allocate. */
static void run_with_retry(struct chk_run *run, struct chk_client **cls, size_t n,
                           uint32_t lifetime, const char *note)
{
    struct chk_req *rq[4] = {NULL};
    for (size_t i = 0; i < n; i++)
        rq[i] = refresh(cls[i], lifetime, note);
    chk_req_wait(&run->ctx, rq);
    struct chk_req *again[4] = {NULL};
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct sl_msg m;
        if (rq[i]->txn->outcome == RPT_TXN_ERROR && rq[i]->txn->error_code == 438 &&
            chk_req_response(rq[i], &m) == SL_OK &&
            chk_client_take_challenge(cls[i], &m) == SL_OK)
            again[k++] = refresh(cls[i], lifetime, "retry with the fresh nonce after 438");
        else if (lifetime == 0 && rq[i]->txn->outcome == RPT_TXN_SUCCESS)
            cls[i]->allocated = FALSE;
        chk_req_free(rq[i]);
    }
    if (k) {
        chk_req_wait(&run->ctx, again);
        for (size_t i = 0; i < k; i++) {
            if (lifetime == 0 && again[i]->txn->outcome == RPT_TXN_SUCCESS)
                again[i]->cl->allocated = FALSE;
            chk_req_free(again[i]);
        }
    }
}

void chk_refresh_run(struct chk_run *run, gboolean refresh_enabled)
{
    struct chk_client *cls[2];
    size_t n = 0;
    if (refresh_enabled && run->client->allocated) {
        cls[0] = run->client;
        run_with_retry(run, cls, 1, 600, "refresh the allocation for 600 s");
    }
    /* RFC 8656 §7: a Refresh with LIFETIME 0 deletes the allocation. Always, so that a failed
     * or interrupted check leaves nothing behind on the server. */
    if (run->client && run->client->allocated)
        cls[n++] = run->client;
    if (run->peer && run->peer->allocated)
        cls[n++] = run->peer;
    if (n)
        run_with_retry(run, cls, n, 0, "release the allocation (lifetime 0)");
}

static gboolean request_lifetime(const struct rpt_result *r, const struct rpt_txn *t,
                                 uint32_t *lifetime)
{
    const struct rpt_packet *p = rpt_packet_get(r, g_array_index(t->req_pkts, guint, 0));
    struct sl_msg m;
    gsize len;
    const uint8_t *d = p && p->payload ? g_bytes_get_data(p->payload, &len) : NULL;
    return d && sl_msg_decode(&m, d, len, SL_DEC_LENIENT) == SL_OK &&
           sl_msg_get_u32(&m, SL_ATTR_LIFETIME, lifetime) == SL_OK;
}

void chk_refresh_judge(const struct rpt_result *r, struct rpt_session *s)
{
    struct rpt_step *st = rpt_step_find(s, "refresh");
    GPtrArray *txns = chk_txns_of(s, "refresh", NULL);
    if (txns->len == 0) {
        g_ptr_array_unref(txns);
        return;
    }
    chk_step_packets(r, st);
    const struct rpt_txn *bad = NULL, *ref = NULL;
    guint released = 0, release_tries = 0;
    for (guint i = 0; i < txns->len; i++) {
        const struct rpt_txn *t = g_ptr_array_index(txns, i);
        uint32_t lt = 1;
        request_lifetime(r, t, &lt);
        gboolean stale = t->outcome == RPT_TXN_ERROR && t->error_code == 438;
        if (lt == 0) {
            release_tries++;
            released += t->outcome == RPT_TXN_SUCCESS;
        } else if (!ref || !stale) {
            ref = t;
        }
        /* A 438 followed by a successful retry is not a failure. */
        if (t->outcome != RPT_TXN_SUCCESS && !stale && !bad)
            bad = t;
        st->duration_ms += (double)(t->end_us - t->start_us) / 1000.0;
    }
    json_object_set_int_member(st->details, "released", released);
    if (bad) {
        char *why = chk_txn_explain(bad);
        chk_verdict(s, st, RPT_FAIL, "refresh-failed", why, NULL);
        g_free(why);
    } else if (ref) {
        struct sl_msg m;
        uint32_t granted = 0;
        if (chk_txn_response(r, ref, &m) == SL_OK)
            sl_msg_get_u32(&m, SL_ATTR_LIFETIME, &granted);
        json_object_set_int_member(st->details, "lifetime", granted);
        char *sum = g_strdup_printf("refreshed for %u s, then %u allocation%s released", granted,
                                    released, released == 1 ? "" : "s");
        chk_verdict(s, st, RPT_PASS, "ok", sum, NULL);
        g_free(sum);
    } else if (release_tries) {
        /* Only the cleanup ran (the step itself was skipped): leave its verdict alone. */
    }
    g_ptr_array_unref(txns);
}
