/* Helpers the steps share: payloads, error-code diagnoses, reading transactions back. */
#include <errno.h>
#include <string.h>

#include "chk_run.h"
#include "sl_names.h"

void chk_payload_make(const struct chk_ctx *ctx, uint8_t out[CHK_PAYLOAD_LEN], char dir, char path,
                      uint32_t seq)
{
    memset(out, 0, CHK_PAYLOAD_LEN);
    memcpy(out, "TPRB", 4);
    memcpy(out + 4, ctx->token, 8);
    out[12] = (uint8_t)dir;
    out[13] = (uint8_t)path;
    out[14] = (uint8_t)(seq >> 24);
    out[15] = (uint8_t)(seq >> 16);
    out[16] = (uint8_t)(seq >> 8);
    out[17] = (uint8_t)seq;
    memcpy(out + 18, "turnprobe", 9);
}

int chk_payload_parse(const uint8_t *p, size_t len, const uint8_t *token, char *dir, char *path,
                      uint32_t *seq)
{
    if (len != CHK_PAYLOAD_LEN || memcmp(p, "TPRB", 4) != 0)
        return SL_ENOTFOUND;
    if (token && memcmp(p + 4, token, 8) != 0)
        return SL_ENOTFOUND;
    *dir = (char)p[12];
    *path = (char)p[13];
    *seq = ((uint32_t)p[14] << 24) | ((uint32_t)p[15] << 16) | ((uint32_t)p[16] << 8) | p[17];
    return SL_OK;
}

const char *chk_error_diagnosis(int code, const char *step)
{
    switch (code) {
    case 300: return "alternate-server";
    case 400: return "bad-request";
    case 401: return "auth-rejected";
    case 403:
        if (strcmp(step, "permission") == 0)
            return "permission-forbidden";
        if (strcmp(step, "channel") == 0)
            return "channel-bind-failed";
        return "forbidden";
    case 420: return "unknown-attribute";
    case 437: return "allocation-mismatch";
    case 438: return "auth-stale-nonce-loop";
    case 440: return "family-unsupported";
    case 441: return "auth-wrong-credentials";
    case 442: return "transport-unsupported";
    case 486: return "allocation-quota";
    case 500: return "server-error";
    case 508: return "insufficient-capacity";
    default: return "unexpected-error";
    }
}

char *chk_txn_explain(const struct rpt_txn *t)
{
    const char *m = sl_method_name(t->method);
    switch (t->outcome) {
    case RPT_TXN_SUCCESS:
        return g_strdup_printf("%s succeeded (RTT %.1f ms)", m, t->rtt_ms);
    case RPT_TXN_ERROR: {
        /* RFC 8489 §14.8: an error response carries ERROR-CODE; without one (or with one that
         * does not decode) there is no code to name, and "answered 0" would read as a code. */
        if (t->error_code == 0)
            return g_strdup_printf("%s answered with an error response without a valid "
                                   "ERROR-CODE attribute (malformed: RFC 8489 §14.8 requires "
                                   "one)", m);
        const struct sl_error_info *ei = sl_error_info(t->error_code);
        return g_strdup_printf("%s answered %d %s%s%s%s", m, t->error_code,
                               t->reason ? t->reason : "", ei ? " (" : "",
                               ei ? ei->meaning : "", ei ? ")" : "");
    }
    case RPT_TXN_TIMEOUT:
        return g_strdup_printf("no response to %s after %u transmission%s", m,
                               t->req_pkts->len, t->req_pkts->len == 1 ? "" : "s");
    case RPT_TXN_UNREACH:
        return g_strdup_printf("%s: nothing listens there (%s)", m,
                               t->resp_pkt ? "ICMP port unreachable" : "connection refused");
    case RPT_TXN_LOCAL:
        return g_strdup_printf("%s could not be sent: %s", m, g_strerror(t->local_errno));
    case RPT_TXN_CLOSED:
        if (t->local_errno == ENOBUFS) /* chk_net.c gave up on a server that floods us */
            return g_strdup_printf("turnprobe closed the connection before %s was answered: "
                                   "the server sent far more than a TURN check asks for",
                                   m);
        return g_strdup_printf("the server closed the connection before answering %s", m);
    case RPT_TXN_GARBAGE:
        return g_strdup_printf("something that is not STUN answered %s", m);
    case RPT_TXN_PENDING:
        break;
    }
    return g_strdup_printf("%s: no outcome", m);
}

GPtrArray *chk_txns_of(const struct rpt_session *s, const char *step, const char *endpoint)
{
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; i < s->txns->len; i++) {
        struct rpt_txn *t = g_ptr_array_index(s->txns, i);
        if (strcmp(t->step, step) == 0 && (!endpoint || g_strcmp0(t->endpoint, endpoint) == 0))
            g_ptr_array_add(out, t);
    }
    return out;
}

int chk_txn_response(const struct rpt_result *r, const struct rpt_txn *t, struct sl_msg *m)
{
    const struct rpt_packet *p = t->resp_pkt ? rpt_packet_get(r, t->resp_pkt) : NULL;
    if (!p || p->kind != RPT_PKT_STUN || !p->payload)
        return SL_ENOTFOUND;
    gsize len;
    const uint8_t *d = g_bytes_get_data(p->payload, &len);
    /* Captures hold RFC 3489 servers too: a classic Binding response is still an answer. */
    return sl_msg_decode(m, d, len, SL_DEC_LENIENT | SL_DEC_CLASSIC);
}

/* From a step's first packet to its last: for steps made of indications, which have no
 * transactions to time. */
double chk_packets_span_ms(const struct rpt_result *r, const struct rpt_step *st)
{
    if (st->packets->len == 0)
        return 0;
    const struct rpt_packet *a = rpt_packet_get(r, g_array_index(st->packets, guint, 0));
    const struct rpt_packet *b =
        rpt_packet_get(r, g_array_index(st->packets, guint, st->packets->len - 1));
    return a && b ? (double)(b->t_us - a->t_us) / 1000.0 : 0;
}

guint chk_session_index(const struct rpt_result *r, const struct rpt_session *s)
{
    guint idx = 0;
    if (!g_ptr_array_find(r->sessions, s, &idx))
        idx = G_MAXUINT;
    return idx;
}

gboolean chk_packet_of(const struct rpt_packet *p, guint session, const char *step)
{
    return p->session == session && g_strcmp0(p->step, step) == 0;
}

void chk_step_packets(const struct rpt_result *r, struct rpt_step *st)
{
    g_array_set_size(st->packets, 0);
    /* Every judge gathers its packets here, and does so from a session's evidence; annotate
     * the same evidence on the way. A result may hold several sessions (addresses, URLs,
     * client 5-tuples): only this step's session's packets are its own. */
    guint session = G_MAXUINT;
    for (guint i = 0; i < r->sessions->len; i++) {
        const struct rpt_session *s = g_ptr_array_index(r->sessions, i);
        if (g_ptr_array_find(s->steps, st, NULL)) {
            chk_annotate_txns(r, s, st->id);
            session = i;
        }
    }
    for (guint i = 0; i < r->packets->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        if (chk_packet_of(p, session, st->id))
            g_array_append_val(st->packets, p->n);
    }
}

void chk_step_skip(struct rpt_session *s, const char *id, const char *why)
{
    struct rpt_step *st = rpt_step_find(s, id);
    if (st && st->status == RPT_SKIP && !st->summary) {
        char *sum = g_strdup_printf("skipped: %s", why);
        rpt_step_set(st, RPT_SKIP, "ok", sum, NULL);
        g_free(sum);
    }
}

const char *chk_txn_diagnosis(const struct rpt_txn *t, const char *step)
{
    switch (t->outcome) {
    case RPT_TXN_SUCCESS: return "ok";
    case RPT_TXN_ERROR: return chk_error_diagnosis(t->error_code, step);
    case RPT_TXN_UNREACH: return "port-unreachable";
    case RPT_TXN_GARBAGE: return "not-stun";
    case RPT_TXN_TIMEOUT:
    case RPT_TXN_CLOSED:
    case RPT_TXN_LOCAL:
    case RPT_TXN_PENDING: break;
    }
    return "no-response";
}

void chk_verdict(struct rpt_session *s, struct rpt_step *st, enum rpt_status status,
                 const char *diag, const char *summary, const char *hint)
{
    const struct rpt_diag *d = rpt_diag_find(diag);
    const char *h = hint ? hint : (status != RPT_PASS && d ? d->hint : NULL);
    rpt_step_set(st, status, diag, summary, h);
    if (status == RPT_WARN || status == RPT_FAIL)
        rpt_finding_add(s, diag, status == RPT_FAIL ? RPT_SEV_FAIL : RPT_SEV_WARN, st->id,
                        summary, h);
}

void chk_verdict_public(struct rpt_session *s, struct rpt_step *st, enum rpt_status status,
                        const char *diag, const char *summary)
{
    chk_verdict(s, st, status, diag, summary, NULL);
}

static char *response_note(const struct rpt_result *r, const struct rpt_txn *t)
{
    struct sl_msg m;
    struct sl_addr a;
    char buf[SL_ADDR_STRLEN];
    if (chk_txn_response(r, t, &m) != SL_OK)
        return NULL;
    if (t->method == SL_ALLOCATE && sl_msg_get_addr(&m, SL_ATTR_XOR_RELAYED_ADDRESS, &a) == SL_OK) {
        uint32_t lt = 0;
        sl_msg_get_u32(&m, SL_ATTR_LIFETIME, &lt);
        return g_strdup_printf("relayed address %s, lifetime %u s",
                               sl_addr_format(&a, buf, sizeof(buf), TRUE), lt);
    }
    if (t->method == SL_BINDING && sl_msg_get_addr(&m, SL_ATTR_XOR_MAPPED_ADDRESS, &a) == SL_OK)
        return g_strdup_printf("the server sees us as %s", sl_addr_format(&a, buf, sizeof(buf), TRUE));
    if (t->outcome == RPT_TXN_ERROR && t->error_code == 401 && !t->authenticated) {
        const uint8_t *v;
        size_t len;
        if (sl_msg_get_bytes(&m, SL_ATTR_REALM, &v, &len) == SL_OK)
            return g_strdup_printf("the expected challenge (realm \"%.*s\")", (int)MIN(len, 128),
                                   (const char *)v);
        return g_strdup("a challenge without REALM");
    }
    return NULL;
}

void chk_annotate_txns(const struct rpt_result *r, const struct rpt_session *s, const char *step)
{
    GPtrArray *txns = chk_txns_of(s, step, NULL);
    for (guint i = 0; i < txns->len; i++) {
        const struct rpt_txn *t = g_ptr_array_index(txns, i);
        const struct rpt_txn *next = i + 1 < txns->len ? g_ptr_array_index(txns, i + 1) : NULL;
        struct rpt_packet *p = t->resp_pkt ? rpt_packet_get(r, t->resp_pkt) : NULL;
        if (!p) {
            /* No answer: the last transmission carries the verdict. */
            guint last = t->req_pkts->len ? g_array_index(t->req_pkts, guint, t->req_pkts->len - 1) : 0;
            struct rpt_packet *q = last ? rpt_packet_get(r, last) : NULL;
            if (q && !q->verdict)
                rpt_packet_annotate(q, NULL, chk_txn_diagnosis(t, step),
                                    t->outcome == RPT_TXN_TIMEOUT ? "no response to this request"
                                                                  : NULL);
            continue;
        }
        if (p->verdict)
            continue;
        char *note = response_note(r, t);
        const char *verdict = "ok";
        if (t->outcome == RPT_TXN_SUCCESS) {
            if (t->integrity < 0)
                verdict = "integrity-invalid";
        } else if (t->outcome == RPT_TXN_ERROR && t->error_code == 401 && !t->authenticated) {
            /* the normal challenge */
        } else if (t->outcome == RPT_TXN_ERROR && t->error_code == 438 && next &&
                   next->outcome == RPT_TXN_SUCCESS) {
            g_free(note);
            note = g_strdup("stale nonce: retried with the new one");
        } else if (t->outcome == RPT_TXN_ERROR && t->error_code == 401) {
            verdict = "auth-rejected";
            g_free(note);
            note = g_strdup("401 again after MESSAGE-INTEGRITY");
        } else {
            verdict = chk_txn_diagnosis(t, step);
        }
        rpt_packet_annotate(p, NULL, verdict, note);
        g_free(note);
    }
    g_ptr_array_unref(txns);
}
