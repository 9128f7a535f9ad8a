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

/* The peer a CreatePermission asked for, from the request in the evidence. */
static gboolean request_peer(const struct rpt_result *r, const struct rpt_txn *t,
                             struct sl_addr *peer)
{
    const struct rpt_packet *p = t->req_pkts->len
                                     ? rpt_packet_get(r, g_array_index(t->req_pkts, guint, 0))
                                     : NULL;
    struct sl_msg m;
    gsize len;
    const uint8_t *d = p && p->payload ? g_bytes_get_data(p->payload, &len) : NULL;
    return d && sl_msg_decode(&m, d, len, SL_DEC_LENIENT) == SL_OK &&
           sl_msg_get_addr(&m, SL_ATTR_XOR_PEER_ADDRESS, peer) == SL_OK;
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
    gboolean ours = FALSE; /* turnprobe's own test peer took part (a live check) */
    GString *refused = g_string_new(NULL);
    JsonObject *peers = json_object_new();
    for (guint i = 0; i < txns->len; i++) {
        const struct rpt_txn *t = g_ptr_array_index(txns, i);
        struct sl_addr peer;
        char a[SL_ADDR_STRLEN] = "?";
        if (request_peer(r, t, &peer))
            sl_addr_format(&peer, a, sizeof(a), TRUE);
        ours |= g_strcmp0(t->endpoint, "peer") == 0;
        if (t->outcome == RPT_TXN_SUCCESS) {
            json_object_set_string_member(peers, a, "granted");
        } else {
            if (!bad)
                bad = t;
            char *res = t->outcome == RPT_TXN_ERROR
                            ? g_strdup_printf("refused (%d)", t->error_code)
                            : g_strdup(rpt_txn_outcome_name(t->outcome));
            json_object_set_string_member(peers, a, res);
            g_string_append_printf(refused, "%s%s %s", refused->len ? ", " : "", a, res);
            g_free(res);
        }
        rtt = MAX(rtt, t->rtt_ms);
        st->duration_ms = MAX(st->duration_ms, (double)(t->end_us - t->start_us) / 1000.0);
    }
    json_object_set_object_member(st->details, "peers", peers);
    if (!bad) {
        char *sum = g_strdup_printf("permission granted %s (RTT %.1f ms)",
                                    ours ? "both ways" : txns->len > 1 ? "for every peer"
                                                                       : "for the peer",
                                    rtt);
        chk_verdict(s, st, RPT_PASS, "ok", sum, NULL);
        g_free(sum);
    } else {
        char *why = chk_txn_explain(bad);
        char *sum = g_strdup_printf("%s%s; peers not permitted: %s",
                                    g_strcmp0(bad->endpoint, "peer") == 0
                                        ? "the test peer's CreatePermission: " : "",
                                    why, refused->str);
        const char *hint = NULL;
        if (ours && bad->outcome == RPT_TXN_ERROR && bad->error_code == 403)
            hint = "The server's peer policy refuses this peer address. turnprobe's default peer "
                   "is its own second allocation on the same server: when that relay address is "
                   "private or loopback (a lab server), coturn refuses it unless "
                   "allow-loopback-peers is set or the range is allowed (allowed-peer-ip). "
                   "Otherwise check denied-peer-ip.";
        chk_verdict(s, st, RPT_FAIL, chk_txn_diagnosis(bad, "permission"), sum, hint);
        g_free(sum);
        g_free(why);
    }
    g_string_free(refused, TRUE);
    g_ptr_array_unref(txns);
}
