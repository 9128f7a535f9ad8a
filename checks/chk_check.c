/* The checklist against one server address: runs the steps in order, skips what cannot run
 * with the reason, and always releases what it allocated. */
#include <string.h>

#include <openssl/rand.h>

#include "chk_nice.h"
#include "chk_run.h"

static const char *const live_steps[] = {"binding", "allocate", "permission", "send-data",
                                         "channel", "ice",      "refresh",    "policy"};

gboolean chk_step_enabled(const struct chk_config *cfg, const char *id)
{
    if (cfg->only && !g_strv_contains((const char *const *)cfg->only, id))
        return FALSE;
    if (cfg->skip && g_strv_contains((const char *const *)cfg->skip, id))
        return FALSE;
    return TRUE;
}

static void block_from(struct chk_run *run, const char *const *ids, size_t n, const char *why)
{
    for (size_t i = 0; i < n; i++)
        chk_step_skip(run->ctx.s, ids[i], why);
    (void)run;
}

static char *failure_reason(struct rpt_session *s, const char *step)
{
    struct rpt_step *st = rpt_step_find(s, step);
    return g_strdup_printf("needs %s (%s failed: %s)", step, step,
                           st && st->diagnosis ? st->diagnosis : "?");
}

static void random_string(char *out, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t rnd[64];
    if (RAND_bytes(rnd, (int)sizeof(rnd)) != 1)
        for (size_t i = 0; i < sizeof(rnd); i++)
            rnd[i] = (uint8_t)g_random_int();
    for (size_t i = 0; i + 1 < n && i < sizeof(rnd); i++)
        out[i] = alphabet[rnd[i] & 63];
    out[n - 1] = '\0';
}

static void judge_all(struct chk_run *run)
{
    const struct rpt_result *r = run->ctx.r;
    struct rpt_session *s = run->ctx.s;
    chk_binding_judge(r, s);
    chk_allocate_judge(r, s);
    chk_permission_judge(r, s);
    chk_data_judge(r, s);
    chk_channel_judge(r, s);
    chk_ice_judge(r, s);
    chk_policy_judge(r, s);
    chk_refresh_judge(r, s);
}

static gboolean connect_client(struct chk_run *run, const char *endpoint,
                               struct chk_client **out)
{
    struct chk_conn *c = NULL;
    *out = NULL;
    int rc = chk_conn_open(&run->ctx, endpoint, run->ctx.tp, &run->ctx.server, &c);
    struct rpt_step *tls = rpt_step_find(run->ctx.s, "tls");
    gboolean tls_failed = c->tls && tls && tls->status == RPT_FAIL;
    if (rc != 0) {
        if (strcmp(endpoint, "client") == 0 && !tls_failed) {
            struct rpt_step *st = rpt_step_find(run->ctx.s, "binding");
            char *a = chk_addr_str(&run->ctx.server);
            char *sum;
            const char *diag;
            if (c->fail_diag) {
                diag = c->fail_diag; /* the proxy's answer (chk_net.c) */
                sum = g_strdup(c->fail_why);
            } else if (c->refused) {
                diag = "port-unreachable";
                sum = g_strdup_printf("TCP connection to %s refused: nothing listens there", a);
            } else if (c->timed_out) {
                diag = "tcp-connect-timeout";
                sum = g_strdup_printf("TCP connection to %s not accepted before the deadline",
                                      a);
            } else {
                diag = "no-response";
                sum = g_strdup_printf("cannot open a socket to %s: %s", a, g_strerror(c->error));
            }
            chk_step_packets(run->ctx.r, st);
            for (guint i = 0; i < run->ctx.r->packets->len; i++) {
                struct rpt_packet *p = g_ptr_array_index(run->ctx.r->packets, i);
                if (!p->step)
                    rpt_packet_annotate(p, "binding", diag, NULL);
            }
            chk_step_packets(run->ctx.r, st);
            chk_verdict(run->ctx.s, st, RPT_FAIL, diag, sum, NULL);
            g_free(sum);
            g_free(a);
        }
        chk_conn_close(c);
        return FALSE;
    }
    *out = chk_client_new(&run->ctx, c, endpoint);
    g_ptr_array_add(run->ctx.clients, *out);
    return TRUE;
}

static gboolean interrupted_check(struct chk_run *run)
{
    return run->ctx.interrupted || (run->ctx.stop && *run->ctx.stop);
}

gboolean chk_check_run(const struct chk_config *cfg, struct rpt_result *r,
                       struct rpt_session *s, volatile gboolean *interrupted)
{
    struct chk_run run;
    memset(&run, 0, sizeof(run));
    struct chk_ctx *ctx = &run.ctx;
    /* The thread's own context: matrix cells run checks in parallel threads. */
    ctx->mc = g_main_context_ref_thread_default();
    ctx->cfg = cfg;
    ctx->r = r;
    ctx->s = s;
    ctx->stop = interrupted;
    ctx->session_index = r->sessions->len ? r->sessions->len - 1 : 0;
    for (guint i = 0; i < r->sessions->len; i++)
        if (g_ptr_array_index(r->sessions, i) == s)
            ctx->session_index = i;
    ctx->mono0 = g_get_monotonic_time();
    ctx->real0 = g_get_real_time();
    ctx->deadline = cfg->deadline_us ? cfg->deadline_us
                                     : ctx->mono0 + (gint64)(cfg->timeout_s * G_USEC_PER_SEC);
    ctx->server = *cfg->server;
    ctx->tp = cfg->uri.transport == SL_URI_TCP ? (cfg->uri.secure ? RPT_TLS : RPT_TCP)
                                               : (cfg->uri.secure ? RPT_DTLS : RPT_UDP);
    ctx->clients = g_ptr_array_new();
    if (RAND_bytes(ctx->token, sizeof(ctx->token)) != 1)
        for (size_t i = 0; i < sizeof(ctx->token); i++)
            ctx->token[i] = (uint8_t)g_random_int();
    g_strlcpy(ctx->ice_ufrag_local, "probe", sizeof(ctx->ice_ufrag_local));
    g_strlcpy(ctx->ice_ufrag_peer, "peer", sizeof(ctx->ice_ufrag_peer));
    random_string(ctx->ice_pwd_local, sizeof(ctx->ice_pwd_local));
    random_string(ctx->ice_pwd_peer, sizeof(ctx->ice_pwd_peer));
    ctx->tiebreaker = ((uint64_t)g_random_int() << 32) | g_random_int();

    for (size_t i = 0; i < G_N_ELEMENTS(live_steps); i++)
        if (!rpt_step_find(s, live_steps[i]))
            rpt_step_add(s, live_steps[i]);
    g_free(s->target.address);
    s->target.address = chk_addr_str(&ctx->server);

    char *why = NULL;
    struct chk_req *bind = NULL, *alloc = NULL, *peer_alloc = NULL;
    if (!connect_client(&run, "client", &run.client)) {
        struct rpt_step *tls = rpt_step_find(s, "tls");
        why = failure_reason(s, tls && tls->status == RPT_FAIL ? "tls" : "binding");
        goto skip_rest;
    }
    /* Allocations only when a selected step needs one (stun: URIs have only binding). */
    gboolean want_alloc = FALSE;
    for (size_t i = 1; i < G_N_ELEMENTS(live_steps); i++)
        want_alloc |= chk_step_enabled(cfg, live_steps[i]);
    gboolean want_peer = chk_step_enabled(cfg, "permission") ||
                         chk_step_enabled(cfg, "send-data") || chk_step_enabled(cfg, "channel") ||
                         chk_step_enabled(cfg, "ice");
    if (cfg->have_peer) {
        run.external_peer = TRUE;
        run.peer_addr = cfg->peer;
    } else if (!want_peer || !connect_client(&run, "peer", &run.peer)) {
        run.peer = NULL;
    }
    chk_data_install(&run);

    chk_binding_run(&run, &bind, &alloc, &peer_alloc, want_alloc);
    chk_binding_judge(r, s);
    chk_req_free(bind);
    if (!want_alloc)
        goto skip_rest;
    chk_allocate_run(&run, alloc, peer_alloc);
    chk_allocate_judge(r, s);
    struct rpt_step *alloc_st = rpt_step_find(s, "allocate");
    if (!run.client->allocated) {
        why = failure_reason(s, "allocate");
        goto skip_rest;
    }
    /* A server whose responses do not verify cannot be trusted with what comes next; the
     * allocation is still released at the end. */
    if (alloc_st && g_strcmp0(alloc_st->diagnosis, "integrity-invalid") == 0) {
        why = failure_reason(s, "allocate");
        goto skip_rest;
    }
    if (!run.external_peer && want_peer) {
        if (!run.peer || !run.peer->allocated) {
            why = g_strdup("needs the test peer's allocation (it failed)");
            const char *ids[] = {"permission", "send-data", "channel", "ice"};
            block_from(&run, ids, G_N_ELEMENTS(ids), why);
            goto policy;
        }
        run.peer_addr = run.peer->relayed;
    }
    if (interrupted_check(&run))
        goto skip_rest;

    gboolean want_data = chk_step_enabled(cfg, "send-data") || chk_step_enabled(cfg, "channel") ||
                         chk_step_enabled(cfg, "ice");
    if (chk_step_enabled(cfg, "permission") || want_data) {
        chk_permission_run(&run);
        chk_permission_judge(r, s);
        if (!run.permitted) {
            char *w = failure_reason(s, "permission");
            const char *ids[] = {"send-data", "channel", "ice"};
            block_from(&run, ids, G_N_ELEMENTS(ids), w);
            g_free(w);
            goto policy;
        }
    }
    if (chk_step_enabled(cfg, "send-data") && !interrupted_check(&run)) {
        chk_data_run(&run);
        chk_data_judge(r, s);
    }
    if ((chk_step_enabled(cfg, "channel") || chk_step_enabled(cfg, "ice")) &&
        !interrupted_check(&run)) {
        chk_channel_run(&run);
        chk_channel_judge(r, s);
    }
    if (chk_step_enabled(cfg, "ice") && !interrupted_check(&run)) {
        if (run.external_peer)
            chk_step_skip(s, "ice", "--peer is an echo peer, not an ICE agent: nothing answers "
                                    "ICE checks there");
        else {
            chk_ice_run(&run);
            chk_ice_judge(r, s);
            chk_nice_run(&run);
            chk_nice_judge(r, s);
        }
    }
policy:
    if (chk_step_enabled(cfg, "policy") && !interrupted_check(&run)) {
        chk_policy_run(&run);
        chk_policy_judge(r, s);
    }
skip_rest:
    if (interrupted_check(&run)) {
        g_free(why);
        why = g_strdup("interrupted (Ctrl-C)");
    } else if (!why && chk_expired(ctx)) {
        why = g_strdup("the run's deadline (--timeout) passed");
    }
    /* libnice's agents make their own allocations: when an earlier failure kept our ICE checks
     * from running, they still show what a WebRTC client meets. It runs once, and records why
     * not when the deadline or Ctrl-C came first (chk_nice.c). */
    chk_nice_run(&run);
    chk_nice_judge(r, s);
    /* Release everything, even after a failure, the deadline or Ctrl-C: give the cleanup its
     * own two seconds. */
    ctx->stop = NULL;
    ctx->interrupted = FALSE;
    ctx->deadline = MAX(ctx->deadline, g_get_monotonic_time()) + 2 * G_USEC_PER_SEC;
    if (run.client)
        chk_refresh_run(&run, chk_step_enabled(cfg, "refresh") && !why);
    chk_refresh_judge(r, s);
    for (size_t i = 0; i < G_N_ELEMENTS(live_steps); i++) {
        const char *id = live_steps[i];
        if (!chk_step_enabled(cfg, id))
            chk_step_skip(s, id, "not selected (--skip/--only)");
        else
            chk_step_skip(s, id, why ? why : "not run");
    }
    for (guint i = 0; i < ctx->clients->len; i++)
        chk_client_free(g_ptr_array_index(ctx->clients, i));
    g_ptr_array_unref(ctx->clients);
    g_main_context_unref(ctx->mc);
    memset(ctx->ice_pwd_peer, 0, sizeof(ctx->ice_pwd_peer));
    g_free(why);
    (void)judge_all;
    return TRUE;
}
