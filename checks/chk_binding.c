/* Step "binding": a STUN Binding request; the server's view of our address. */
#include "chk_run.h"
#include "sl_fmt.h"

void chk_binding_run(struct chk_run *run, struct chk_req **binding, struct chk_req **alloc,
                     struct chk_req **peer_alloc, gboolean want_alloc)
{
    /* The Binding and the first (unauthenticated) Allocate of both allocations go out together:
     * none depends on another, so the checklist costs one round trip here, not three. */
    struct chk_attrs a = {0};
    uint8_t udp[4] = {SL_TRANSPORT_UDP, 0, 0, 0};
    chk_attrs_add(&a, SL_ATTR_REQUESTED_TRANSPORT, udp, 4);
    *binding = chk_req_start(run->client, "binding", SL_BINDING, NULL, FALSE,
                             "reachability: what address does the server see?");
    *alloc = want_alloc ? chk_req_start(run->client, "allocate", SL_ALLOCATE, &a, FALSE,
                                        "without credentials: expect a 401 challenge")
                        : NULL;
    *peer_alloc = NULL;
    if (run->peer && want_alloc)
        *peer_alloc = chk_req_start(run->peer, "allocate", SL_ALLOCATE, &a, FALSE,
                                    "the test peer's allocation, without credentials");
    struct chk_req *all[] = {*binding, *alloc ? *alloc : *peer_alloc, *alloc ? *peer_alloc : NULL,
                             NULL};
    chk_req_wait(&run->ctx, all);
}

void chk_binding_judge(const struct rpt_result *r, struct rpt_session *s)
{
    struct rpt_step *st = rpt_step_find(s, "binding");
    GPtrArray *txns = chk_txns_of(s, "binding", "client");
    if (txns->len == 0) {
        g_ptr_array_unref(txns);
        return;
    }
    struct rpt_txn *t = g_ptr_array_index(txns, txns->len - 1);
    struct sl_msg m;
    if (t->outcome == RPT_TXN_SUCCESS && chk_txn_response(r, t, &m) == SL_OK) {
        struct sl_addr mapped;
        char a[SL_ADDR_STRLEN];
        int rc = sl_msg_get_addr(&m, SL_ATTR_XOR_MAPPED_ADDRESS, &mapped);
        if (rc != SL_OK)
            rc = sl_msg_get_addr(&m, SL_ATTR_MAPPED_ADDRESS, &mapped);
        if (rc != SL_OK) {
            chk_verdict(s, st, RPT_FAIL, "bad-request",
                        "Binding success without XOR-MAPPED-ADDRESS or MAPPED-ADDRESS",
                        "The server's Binding response lacks the mapped address RFC 8489 §7.3.3 "
                        "requires; it may not be a STUN server.");
        } else {
            sl_addr_format(&mapped, a, sizeof(a), TRUE);
            char *sum = g_strdup_printf("the server sees us as %s (RTT %.1f ms)", a, t->rtt_ms);
            chk_verdict(s, st, RPT_PASS, "ok", sum, NULL);
            g_free(sum);
            json_object_set_string_member(st->details, "mapped", a);
            json_object_set_double_member(st->details, "rtt_ms", t->rtt_ms);
            if (m.classic)
                json_object_set_boolean_member(st->details, "classic", TRUE);
            json_object_set_string_member(s->facts, "mapped", a);
            const uint8_t *v;
            size_t len;
            if (sl_msg_get_bytes(&m, SL_ATTR_SOFTWARE, &v, &len) == SL_OK) {
                char *sw = g_strndup((const char *)v, len);
                char *valid = g_utf8_make_valid(sw, -1);
                json_object_set_string_member(st->details, "software", valid);
                json_object_set_string_member(s->facts, "software", valid);
                g_free(valid);
                g_free(sw);
            }
        }
    } else {
        const char *diag = chk_txn_diagnosis(t, "binding");
        char *sum = chk_txn_explain(t);
        char *hint = NULL;
        if (t->outcome == RPT_TXN_CLOSED && g_strcmp0(s->target.transport, "tcp") == 0)
            /* A TLS-only port closes a plain TURN connection (coturn does, with --no-tcp). */
            hint = g_strdup_printf("The server closed the TCP connection without answering: a "
                                   "port that speaks only TLS does that to plain TURN. Try "
                                   "turns:%s:%u; otherwise check that the server accepts TURN "
                                   "over TCP on this port (coturn: no-tcp).",
                                   s->target.host ? s->target.host : "HOST", s->target.port);
        chk_verdict(s, st, RPT_FAIL, diag, sum, hint);
        g_free(hint);
        g_free(sum);
    }
    json_object_set_int_member(st->details, "transmissions", t->req_pkts->len);
    st->duration_ms = (double)(t->end_us - t->start_us) / 1000.0;
    chk_step_packets(r, st);
    g_ptr_array_unref(txns);
}
