/* Step "policy": does the server relay to private, loopback and metadata addresses? Only
 * CreatePermission is sent: never any data. */
#include <string.h>

#include "chk_run.h"

static const char *const policy_peers[] = {
    "127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.0.1", "169.254.169.254", "::1", "fc00::1",
};

void chk_policy_run(struct chk_run *run)
{
    struct chk_req *rq[G_N_ELEMENTS(policy_peers) + 2] = {NULL};
    size_t n = 0;
    struct sl_addr a;
    for (size_t i = 0; i < G_N_ELEMENTS(policy_peers); i++) {
        sl_addr_parse(&a, policy_peers[i], 9);
        struct chk_attrs at = {0};
        chk_attrs_add_addr(&at, SL_ATTR_XOR_PEER_ADDRESS, &a);
        char *note = g_strdup_printf("policy probe: may we reach %s? (no data is ever sent)",
                                     policy_peers[i]);
        rq[n++] = chk_req_start(run->client, "policy", SL_CREATE_PERMISSION, &at, TRUE, note);
        g_free(note);
    }
    /* The server's own address: a relay back into the server reaches its admin interfaces. */
    a = run->ctx.server;
    a.port = 9;
    gboolean listed = FALSE;
    char own[SL_ADDR_STRLEN];
    sl_addr_format(&a, own, sizeof(own), FALSE);
    for (size_t i = 0; i < G_N_ELEMENTS(policy_peers); i++)
        listed |= strcmp(policy_peers[i], own) == 0;
    if (!listed) {
        struct chk_attrs at = {0};
        chk_attrs_add_addr(&at, SL_ATTR_XOR_PEER_ADDRESS, &a);
        rq[n++] = chk_req_start(run->client, "policy", SL_CREATE_PERMISSION, &at, TRUE,
                                "policy probe: the server's own address");
    }
    chk_req_wait(&run->ctx, rq);
    for (size_t i = 0; i < n; i++)
        chk_req_free(rq[i]);
}

void chk_policy_judge(const struct rpt_result *r, struct rpt_session *s)
{
    struct rpt_step *st = rpt_step_find(s, "policy");
    GPtrArray *txns = chk_txns_of(s, "policy", "client");
    if (txns->len == 0) {
        g_ptr_array_unref(txns);
        return;
    }
    chk_step_packets(r, st);
    GString *open = g_string_new(NULL);
    guint refused = 0, unanswered = 0, other = 0;
    JsonObject *per = json_object_new();
    for (guint i = 0; i < txns->len; i++) {
        const struct rpt_txn *t = g_ptr_array_index(txns, i);
        const struct rpt_packet *req = rpt_packet_get(r, g_array_index(t->req_pkts, guint, 0));
        struct sl_msg m;
        struct sl_addr peer = {0};
        char a[SL_ADDR_STRLEN] = "?";
        gsize len;
        const uint8_t *d = req && req->payload ? g_bytes_get_data(req->payload, &len) : NULL;
        if (d && sl_msg_decode(&m, d, len, SL_DEC_LENIENT) == SL_OK &&
            sl_msg_get_addr(&m, SL_ATTR_XOR_PEER_ADDRESS, &peer) == SL_OK)
            sl_addr_format(&peer, a, sizeof(a), FALSE);
        const char *res;
        if (t->outcome == RPT_TXN_SUCCESS) {
            g_string_append_printf(open, "%s%s", open->len ? ", " : "", a);
            res = "accepted";
        } else if (t->outcome == RPT_TXN_ERROR && (t->error_code == 403 || t->error_code == 443)) {
            refused++;
            res = t->error_code == 403 ? "refused (403)" : "refused (443 family mismatch)";
        } else if (t->outcome == RPT_TXN_TIMEOUT) {
            unanswered++;
            res = "no answer";
        } else {
            other++;
            res = "other error";
        }
        json_object_set_string_member(per, a, res);
        st->duration_ms = MAX(st->duration_ms, (double)(t->end_us - t->start_us) / 1000.0);
    }
    json_object_set_object_member(st->details, "peers", per);
    if (open->len) {
        char *sum = g_strdup_printf("the server grants permissions to %s", open->str);
        chk_verdict(s, st, RPT_WARN, "peer-policy-permissive", sum, NULL);
        g_free(sum);
    } else {
        char *sum = g_strdup_printf("all %u private and special peers refused%s", refused,
                                    unanswered || other ? " or not answered" : "");
        chk_verdict(s, st, RPT_PASS, "ok", sum, NULL);
        g_free(sum);
    }
    g_string_free(open, TRUE);
    g_ptr_array_unref(txns);
}
