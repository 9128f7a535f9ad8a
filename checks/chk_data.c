/* Steps "send-data" and "channel": payloads through the relay both ways, and the test peer's
 * side of the conversation (it echoes our payloads and answers ICE checks). */
#include <string.h>

#include "chk_run.h"
#include "sl_chan.h"
#include "sl_msg.h"


static const char *current_step(const struct chk_run *run)
{
    return run->step_name;
}

/* Data that reached one of our allocations from its peer. */
static void on_data(struct chk_client *cl, const struct sl_addr *from, uint16_t channel,
                    const uint8_t *data, size_t len, guint pkt, void *ud)
{
    struct chk_run *run = ud;
    struct rpt_packet *pk = rpt_packet_get(run->ctx.r, pkt);
    gboolean at_peer = cl == run->peer;
    char dir, path;
    uint32_t seq;
    rpt_packet_annotate(pk, current_step(run), NULL, NULL);
    if (len >= 20 && (data[0] & 0xC0) == 0) {
        /* A STUN message inside: an ICE connectivity check or its answer. */
        if (at_peer)
            chk_ice_answer(run, cl, from, channel, data, len, pkt);
        else
            chk_ice_on_response(run, data, len, pkt);
        return;
    }
    if (chk_payload_parse(data, len, run->ctx.token, &dir, &path, &seq) != SL_OK) {
        rpt_packet_annotate(pk, NULL, "relay-no-data", "data that is not ours (misdelivered?)");
        return;
    }
    int pi = path == 'C' ? 1 : 0;
    if (at_peer && dir == 'c') {
        run->got[pi][0]++;
        char *note = g_strdup_printf("payload %u reached the peer through the relay", seq);
        rpt_packet_annotate(pk, NULL, "ok", note);
        g_free(note);
        uint8_t back[CHK_PAYLOAD_LEN];
        chk_payload_make(&run->ctx, back, 'p', path, seq);
        note = g_strdup_printf("the peer answers payload %u", seq);
        if (path == 'C' && run->peer_channel_bound)
            chk_client_send_channel(cl, run->step_name, cl->channel, back, sizeof(back), note);
        else
            chk_client_send_indication(cl, run->step_name, &run->client->relayed, back,
                                       sizeof(back), note);
        g_free(note);
    } else if (!at_peer && (dir == 'p' || (dir == 'c' && run->external_peer))) {
        run->got[pi][1]++;
        char *note = g_strdup_printf("payload %u came back from the peer", seq);
        rpt_packet_annotate(pk, NULL, "ok", note);
        g_free(note);
    } else {
        rpt_packet_annotate(pk, NULL, NULL, "payload in an unexpected direction");
    }
}

void chk_data_install(struct chk_run *run)
{
    run->client->on_data = on_data;
    run->client->data_ud = run;
    if (run->peer) {
        run->peer->on_data = on_data;
        run->peer->data_ud = run;
    }
}

struct got_wait {
    struct chk_run *run;
    int path;
};

static gboolean all_back(void *ud)
{
    struct got_wait *w = ud;
    return w->run->got[w->path][1] >= CHK_PAYLOADS_EACH_WAY;
}

/* Up to two seconds for the payloads' round trips: on loopback they take well under one
 * millisecond; on the Internet a few hundred. */
static void wait_back(struct chk_run *run, int path)
{
    struct got_wait w = {run, path};
    chk_wait(&run->ctx, all_back, &w, g_get_monotonic_time() + 2 * G_USEC_PER_SEC);
}

void chk_data_run(struct chk_run *run)
{
    run->step_name = "send-data";
    for (uint32_t i = 1; i <= CHK_PAYLOADS_EACH_WAY; i++) {
        uint8_t p[CHK_PAYLOAD_LEN];
        chk_payload_make(&run->ctx, p, 'c', 'S', i);
        char *note = g_strdup_printf("payload %u to the peer in a Send indication", i);
        chk_client_send_indication(run->client, "send-data", &run->peer_addr, p, sizeof(p),
                                   note);
        g_free(note);
    }
    wait_back(run, 0);
}

void chk_channel_run(struct chk_run *run)
{
    run->step_name = "channel";
    struct chk_attrs a = {0}, b = {0};
    run->client->channel = 0x4000;
    run->client->channel_peer = run->peer_addr;
    chk_attrs_add_u32(&a, SL_ATTR_CHANNEL_NUMBER, 0x4000u << 16);
    chk_attrs_add_addr(&a, SL_ATTR_XOR_PEER_ADDRESS, &run->peer_addr);
    struct chk_req *rq[3] = {
        chk_req_start(run->client, "channel", SL_CHANNEL_BIND, &a, TRUE,
                      "bind channel 0x4000 to the peer"),
        NULL, NULL};
    if (run->peer) {
        run->peer->channel = 0x4001;
        run->peer->channel_peer = run->client->relayed;
        chk_attrs_add_u32(&b, SL_ATTR_CHANNEL_NUMBER, 0x4001u << 16);
        chk_attrs_add_addr(&b, SL_ATTR_XOR_PEER_ADDRESS, &run->client->relayed);
        rq[1] = chk_req_start(run->peer, "channel", SL_CHANNEL_BIND, &b, TRUE,
                              "the peer binds channel 0x4001 to our relayed address");
    }
    chk_req_wait(&run->ctx, rq);
    run->channel_bound = rq[0]->txn->outcome == RPT_TXN_SUCCESS;
    run->peer_channel_bound = rq[1] && rq[1]->txn->outcome == RPT_TXN_SUCCESS;
    gboolean ok = run->channel_bound && (!run->peer || run->peer_channel_bound);
    chk_req_free(rq[0]);
    chk_req_free(rq[1]);
    if (!ok) {
        run->client->channel = 0;
        if (run->peer)
            run->peer->channel = 0;
        return;
    }
    for (uint32_t i = 1; i <= CHK_PAYLOADS_EACH_WAY; i++) {
        uint8_t p[CHK_PAYLOAD_LEN];
        chk_payload_make(&run->ctx, p, 'c', 'C', i);
        char *note = g_strdup_printf("payload %u to the peer as ChannelData", i);
        chk_client_send_channel(run->client, "channel", 0x4000, p, sizeof(p), note);
        g_free(note);
    }
    wait_back(run, 1);
}

/* ---- judges: they read the payloads back out of the evidence ---- */

struct flow {
    guint sent_c, at_peer, sent_p, back;
};

/* The application data a packet carries (Send/Data indication DATA, or ChannelData). */
static gboolean packet_data(const struct rpt_packet *p, const uint8_t **d, size_t *len,
                            gboolean *is_send)
{
    gsize plen;
    const uint8_t *raw = p->payload ? g_bytes_get_data(p->payload, &plen) : NULL;
    if (!raw)
        return FALSE;
    *is_send = FALSE;
    if (p->kind == RPT_PKT_CHANNELDATA) {
        struct sl_chan ch;
        if (sl_chan_decode(&ch, raw, plen, chk_is_stream(p->transport)) != SL_OK)
            return FALSE;
        *d = ch.data;
        *len = ch.len;
        return TRUE;
    }
    struct sl_msg m;
    if (p->kind != RPT_PKT_STUN || sl_msg_decode(&m, raw, plen, SL_DEC_LENIENT) != SL_OK ||
        m.cls != SL_INDICATION || (m.method != SL_SEND && m.method != SL_DATA))
        return FALSE;
    *is_send = m.method == SL_SEND;
    return sl_msg_get_bytes(&m, SL_ATTR_DATA, d, len) == SL_OK;
}

static void count_flow(const struct rpt_result *r, guint session, const char *step, char path,
                       struct flow *f, gboolean *have_peer)
{
    memset(f, 0, sizeof(*f));
    *have_peer = FALSE;
    for (guint i = 0; i < r->packets->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        const uint8_t *d;
        size_t len;
        gboolean is_send;
        char dir, pth;
        uint32_t seq;
        if (!chk_packet_of(p, session, step) || !packet_data(p, &d, &len, &is_send) ||
            chk_payload_parse(d, len, NULL, &dir, &pth, &seq) != SL_OK || pth != path)
            continue;
        gboolean peer = g_strcmp0(p->endpoint, "peer") == 0;
        *have_peer |= peer;
        if (!peer && p->dir == RPT_OUT && dir == 'c')
            f->sent_c++;
        else if (peer && p->dir == RPT_IN && dir == 'c')
            f->at_peer++;
        else if (peer && p->dir == RPT_OUT && dir == 'p')
            f->sent_p++;
        else if (!peer && p->dir == RPT_IN)
            f->back++;
    }
}

static void judge_flow(const struct rpt_result *r, struct rpt_session *s, const char *step,
                       char path, const char *no_data_diag)
{
    struct rpt_step *st = rpt_step_find(s, step);
    struct flow f;
    gboolean have_peer;
    count_flow(r, chk_session_index(r, s), step, path, &f, &have_peer);
    if (f.sent_c == 0)
        return;
    chk_step_packets(r, st);
    st->duration_ms = chk_packets_span_ms(r, st);
    json_object_set_int_member(st->details, "sent", f.sent_c);
    json_object_set_int_member(st->details, "returned", f.back);
    if (have_peer) {
        json_object_set_int_member(st->details, "reached_peer", f.at_peer);
    }
    char *sum;
    const char *via = path == 'C' ? "ChannelData" : "Send/Data indications";
    if (f.back > 0 && (!have_peer || f.at_peer > 0)) {
        if (have_peer)
            sum = g_strdup_printf("%u/%u payloads reached the peer and %u/%u came back, over %s",
                                  f.at_peer, f.sent_c, f.back, f.sent_p, via);
        else
            sum = g_strdup_printf("%u/%u payloads came back through the relay, over %s", f.back,
                                  f.sent_c, via);
        chk_verdict(s, st, RPT_PASS, "ok", sum, NULL);
    } else if (have_peer && f.at_peer > 0) {
        sum = g_strdup_printf("one way only: %u/%u payloads reached the peer, none of the "
                              "peer's %u answers came back over %s",
                              f.at_peer, f.sent_c, f.sent_p, via);
        chk_verdict(s, st, RPT_FAIL, "relay-one-way", sum, NULL);
    } else {
        sum = g_strdup_printf("none of %u payloads %s over %s", f.sent_c,
                              have_peer ? "reached the peer" : "came back", via);
        chk_verdict(s, st, RPT_FAIL, no_data_diag, sum, NULL);
    }
    g_free(sum);
}

void chk_data_judge(const struct rpt_result *r, struct rpt_session *s)
{
    judge_flow(r, s, "send-data", 'S', "relay-no-data");
}

void chk_channel_judge(const struct rpt_result *r, struct rpt_session *s)
{
    struct rpt_step *st = rpt_step_find(s, "channel");
    GPtrArray *txns = chk_txns_of(s, "channel", NULL);
    for (guint i = 0; i < txns->len; i++) {
        const struct rpt_txn *t = g_ptr_array_index(txns, i);
        if (t->outcome != RPT_TXN_SUCCESS) {
            char *why = chk_txn_explain(t);
            char *sum = g_strdup_printf("%sChannelBind failed: %s",
                                        g_strcmp0(t->endpoint, "peer") == 0 ? "the peer's " : "",
                                        why);
            chk_step_packets(r, st);
            const char *diag = t->outcome == RPT_TXN_ERROR ? "channel-bind-failed"
                                                           : chk_txn_diagnosis(t, "channel");
            chk_verdict(s, st, RPT_FAIL, diag, sum, NULL);
            g_free(sum);
            g_free(why);
            g_ptr_array_unref(txns);
            return;
        }
    }
    g_ptr_array_unref(txns);
    judge_flow(r, s, "channel", 'C', "channel-no-data");
}
