/* Step "ice": ICE connectivity checks (RFC 8445 §7.2) carried through the relay, answered by
 * the test peer as an ICE agent would. */
#include <string.h>

#include "chk_run.h"
#include "sl_auth.h"
#include "sl_chan.h"

/* A short-term key is the ICE password itself (RFC 8445 §7.2.2, RFC 8489 §9.1). */
static size_t ice_key(const char *pwd, uint8_t *key)
{
    size_t n = 0;
    if (sl_auth_short_term_key(pwd, key, &n) != SL_OK)
        return 0;
    return n;
}

static void send_via(struct chk_run *run, struct chk_client *cl, uint16_t channel,
                     const struct sl_addr *to, const uint8_t *msg, size_t len, const char *note)
{
    if (channel)
        chk_client_send_channel(cl, "ice", channel, msg, len, note);
    else
        chk_client_send_indication(cl, "ice", to, msg, len, note);
    (void)run;
}

void chk_ice_answer(struct chk_run *run, struct chk_client *cl, const struct sl_addr *from,
                    uint16_t channel, const uint8_t *data, size_t len, guint pkt)
{
    struct rpt_packet *pk = rpt_packet_get(run->ctx.r, pkt);
    struct sl_msg m;
    if (run->external_peer || sl_msg_decode(&m, data, len, 0) != SL_OK ||
        m.method != SL_BINDING || m.cls != SL_REQUEST) {
        rpt_packet_annotate(pk, "ice", NULL, "a STUN message the peer does not answer");
        return;
    }
    uint8_t key[SL_KEY_MAX];
    size_t keylen = ice_key(run->ctx.ice_pwd_peer, key);
    const uint8_t *user;
    size_t ulen;
    char expect[40];
    g_snprintf(expect, sizeof(expect), "%s:%s", run->ctx.ice_ufrag_peer, run->ctx.ice_ufrag_local);
    gboolean user_ok = sl_msg_get_bytes(&m, SL_ATTR_USERNAME, &user, &ulen) == SL_OK &&
                       ulen == strlen(expect) && memcmp(user, expect, ulen) == 0;
    gboolean mi_ok = sl_auth_check_integrity(&m, key, keylen) == SL_OK;

    uint8_t out[512];
    struct sl_enc e;
    /* RFC 8445 §7.3: a valid check is answered with a success carrying XOR-MAPPED-ADDRESS of
     * the source (our relayed address, as the peer sees it), protected with the peer's own
     * password; a bad USERNAME or integrity gets 401 (§7.3 via RFC 8489 §9.1.3). */
    if (user_ok && mi_ok) {
        sl_enc_init(&e, out, sizeof(out), SL_BINDING, SL_SUCCESS, m.tid);
        sl_enc_addr(&e, SL_ATTR_XOR_MAPPED_ADDRESS, from);
        sl_enc_integrity(&e, key, keylen);
        sl_enc_fingerprint(&e);
        rpt_packet_annotate(pk, "ice", "ok",
                            "the peer received our ICE check: USERNAME and MESSAGE-INTEGRITY "
                            "valid");
    } else {
        sl_enc_init(&e, out, sizeof(out), SL_BINDING, SL_ERROR, m.tid);
        sl_enc_error(&e, 401, "Unauthenticated");
        sl_enc_fingerprint(&e);
        rpt_packet_annotate(pk, "ice", "ice-check-failed",
                            user_ok ? "the ICE check's MESSAGE-INTEGRITY does not verify"
                                    : "the ICE check's USERNAME is not peer:probe");
    }
    size_t n = 0;
    if (sl_enc_finish(&e, &n) == SL_OK)
        send_via(run, cl, channel ? cl->channel : 0, from, out, n, "the peer answers the check");
    memset(key, 0, sizeof(key));
}

void chk_ice_on_response(struct chk_run *run, const uint8_t *data, size_t len, guint pkt)
{
    struct rpt_packet *pk = rpt_packet_get(run->ctx.r, pkt);
    struct sl_msg m;
    if (sl_msg_decode(&m, data, len, 0) != SL_OK || m.method != SL_BINDING) {
        rpt_packet_annotate(pk, "ice", NULL, "an unexpected STUN message through the relay");
        return;
    }
    for (int i = 0; i < 2; i++) {
        if (memcmp(m.tid, run->ice_tid[i], SL_TID_LEN) != 0)
            continue;
        if (m.cls != SL_SUCCESS) {
            rpt_packet_annotate(pk, "ice", "ice-check-failed", "the peer refused our check");
            return;
        }
        uint8_t key[SL_KEY_MAX];
        size_t keylen = ice_key(run->ctx.ice_pwd_peer, key);
        run->ice_ok[i] = TRUE;
        run->ice_integrity[i] = sl_auth_check_integrity(&m, key, keylen) == SL_OK;
        memset(key, 0, sizeof(key));
        rpt_packet_annotate(pk, "ice", run->ice_integrity[i] ? "ok" : "integrity-invalid",
                            run->ice_integrity[i]
                                ? "ICE check answered; MESSAGE-INTEGRITY verified with the "
                                  "peer's password"
                                : "ICE check answered, but its integrity does not verify");
        return;
    }
    rpt_packet_annotate(pk, "ice", NULL, "an answer to no check of ours");
}

static gboolean both_answered(void *ud)
{
    struct chk_run *run = ud;
    return run->ice_ok[0] && (run->ice_ok[1] || !run->channel_bound);
}

void chk_ice_run(struct chk_run *run)
{
    run->step_name = "ice";
    uint8_t key[SL_KEY_MAX];
    size_t keylen = ice_key(run->ctx.ice_pwd_peer, key);
    char user[40];
    /* RFC 8445 §7.2.2: USERNAME is "RFRAG:LFRAG", the remote's ufrag first. */
    g_snprintf(user, sizeof(user), "%s:%s", run->ctx.ice_ufrag_peer, run->ctx.ice_ufrag_local);
    for (int i = 0; i < 2; i++) {
        if (i == 1 && !run->channel_bound)
            break;
        uint8_t msg[512];
        struct sl_enc e;
        for (int k = 0; k < SL_TID_LEN; k++)
            run->ice_tid[i][k] = (uint8_t)g_random_int();
        sl_enc_init(&e, msg, sizeof(msg), SL_BINDING, SL_REQUEST, run->ice_tid[i]);
        sl_enc_str(&e, SL_ATTR_USERNAME, user);
        /* A relayed candidate's priority (type preference 0, RFC 8445 §5.1.2.1). */
        sl_enc_u32(&e, SL_ATTR_PRIORITY, (0u << 24) | (65535u << 8) | (256u - 1));
        sl_enc_u64(&e, SL_ATTR_ICE_CONTROLLING, run->ctx.tiebreaker);
        sl_enc_integrity(&e, key, keylen);
        sl_enc_fingerprint(&e);
        size_t n = 0;
        if (sl_enc_finish(&e, &n) != SL_OK)
            break;
        if (i == 0)
            chk_client_send_indication(run->client, "ice", &run->peer_addr, msg, n,
                                       "ICE Binding check to the peer in a Send indication");
        else
            chk_client_send_channel(run->client, "ice", run->client->channel, msg, n,
                                    "ICE Binding check to the peer as ChannelData");
    }
    memset(key, 0, sizeof(key));
    chk_wait(&run->ctx, both_answered, run, g_get_monotonic_time() + 2 * G_USEC_PER_SEC);
}

/* The checks and their answers, read back from the evidence. */
void chk_ice_judge(const struct rpt_result *r, struct rpt_session *s)
{
    struct rpt_step *st = rpt_step_find(s, "ice");
    guint checks = 0, answered = 0, refused = 0, bad_integrity = 0;
    guint session = chk_session_index(r, s);
    for (guint i = 0; i < r->packets->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        if (!chk_packet_of(p, session, "ice") || g_strcmp0(p->endpoint, "peer") == 0)
            continue;
        if (p->dir == RPT_OUT) {
            checks++;
        } else if (g_strcmp0(p->verdict, "ok") == 0) {
            answered++;
        } else if (g_strcmp0(p->verdict, "integrity-invalid") == 0) {
            bad_integrity++;
        } else if (g_strcmp0(p->verdict, "ice-check-failed") == 0) {
            refused++;
        }
    }
    if (checks == 0)
        return;
    chk_step_packets(r, st);
    st->duration_ms = chk_packets_span_ms(r, st);
    json_object_set_int_member(st->details, "checks", checks);
    json_object_set_int_member(st->details, "answered", answered);
    char *sum;
    if (answered == checks) {
        sum = g_strdup_printf("%u/%u ICE checks answered through the relay (%s)", answered,
                              checks, checks > 1 ? "Send indication and ChannelData"
                                                 : "Send indication");
        chk_verdict(s, st, RPT_PASS, "ok", sum, NULL);
    } else if (bad_integrity) {
        sum = g_strdup_printf("%u ICE answers whose MESSAGE-INTEGRITY does not verify",
                              bad_integrity);
        chk_verdict(s, st, RPT_FAIL, "integrity-invalid", sum, NULL);
    } else {
        sum = g_strdup_printf("%u of %u ICE checks answered%s", answered, checks,
                              refused ? " (the peer refused some)" : "");
        chk_verdict(s, st, RPT_FAIL, "ice-check-failed", sum, NULL);
    }
    g_free(sum);
}
