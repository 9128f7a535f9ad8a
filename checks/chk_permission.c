/* Step "permission": CreatePermission for the peer, both ways. */
#include "chk_run.h"

void chk_permission_run(struct chk_run *run)
{
    struct chk_attrs a = {0}, b = {0};
    chk_attrs_add_addr(&a, SL_ATTR_XOR_PEER_ADDRESS, &run->peer_addr);
    char *pa = chk_addr_str(&run->peer_addr);
    char *note = g_strdup_printf("for the peer %s", pa);
    struct chk_req *rq[3] = {chk_req_start(run->client, "permission", SL_CREATE_PERMISSION, &a,
                                           TRUE, note),
                             NULL, NULL};
    if (run->peer) {
        /* The peer must permit our relayed address too, or its answers would be dropped. */
        chk_attrs_add_addr(&b, SL_ATTR_XOR_PEER_ADDRESS, &run->client->relayed);
        rq[1] = chk_req_start(run->peer, "permission", SL_CREATE_PERMISSION, &b, TRUE,
                              "the peer permits our relayed address");
    }
    chk_req_wait(&run->ctx, rq);
    run->permitted = TRUE;
    for (int i = 0; rq[i]; i++) {
        if (rq[i]->txn->outcome != RPT_TXN_SUCCESS)
            run->permitted = FALSE;
        chk_req_free(rq[i]);
    }
    g_free(note);
    g_free(pa);
}

void chk_permission_judge(const struct rpt_result *r, struct rpt_session *s)
{
    struct rpt_step *st = rpt_step_find(s, "permission");
    GPtrArray *txns = chk_txns_of(s, "permission", NULL);
    if (txns->len == 0) {
        g_ptr_array_unref(txns);
        return;
    }
    chk_step_packets(r, st);
    const struct rpt_txn *bad = NULL;
    double rtt = 0;
    for (guint i = 0; i < txns->len; i++) {
        const struct rpt_txn *t = g_ptr_array_index(txns, i);
        if (t->outcome != RPT_TXN_SUCCESS && !bad)
            bad = t;
        rtt = MAX(rtt, t->rtt_ms);
        st->duration_ms = MAX(st->duration_ms, (double)(t->end_us - t->start_us) / 1000.0);
    }
    if (!bad) {
        char *sum = g_strdup_printf("permission granted %s (RTT %.1f ms)",
                                    txns->len > 1 ? "both ways" : "for the peer", rtt);
        chk_verdict(s, st, RPT_PASS, "ok", sum, NULL);
        g_free(sum);
    } else {
        char *why = chk_txn_explain(bad);
        char *sum = g_strdup_printf("%s%s", g_strcmp0(bad->endpoint, "peer") == 0
                                                ? "the test peer's CreatePermission: " : "",
                                    why);
        const char *hint = NULL;
        if (bad->outcome == RPT_TXN_ERROR && bad->error_code == 403)
            hint = "The server's peer policy refuses this peer address. turnprobe's default peer "
                   "is its own second allocation on the same server: when that relay address is "
                   "private or loopback (a lab server), coturn refuses it unless "
                   "allow-loopback-peers is set or the range is allowed (allowed-peer-ip). "
                   "Otherwise check denied-peer-ip.";
        chk_verdict(s, st, RPT_FAIL, chk_txn_diagnosis(bad, "permission"), sum, hint);
        g_free(sum);
        g_free(why);
    }
    g_ptr_array_unref(txns);
}
