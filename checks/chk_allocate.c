/* Step "allocate": the 401 challenge, the authenticated Allocate, and the relayed address. */
#include <string.h>

#include "chk_run.h"
#include "sl_auth.h"

struct alloc_state {
    struct chk_client *cl;
    struct chk_req *rq;
    int stale, redirects;
    gboolean done;
};

static const struct chk_attrs *allocate_attrs(void)
{
    static struct chk_attrs a;
    if (a.n == 0) {
        uint8_t udp[4] = {SL_TRANSPORT_UDP, 0, 0, 0};
        /* Only REQUESTED-TRANSPORT: EVEN-PORT and other optional attributes make some servers
         * answer 420 or worse. */
        chk_attrs_add(&a, SL_ATTR_REQUESTED_TRANSPORT, udp, 4);
    }
    return &a;
}

static void take_success(struct alloc_state *st, const struct sl_msg *m)
{
    struct chk_client *cl = st->cl;
    cl->allocated = TRUE;
    sl_msg_get_addr(m, SL_ATTR_XOR_RELAYED_ADDRESS, &cl->relayed);
    sl_msg_get_addr(m, SL_ATTR_XOR_MAPPED_ADDRESS, &cl->mapped);
    cl->lifetime = 0;
    sl_msg_get_u32(m, SL_ATTR_LIFETIME, &cl->lifetime);
}

/* One step of an allocation's conversation with the server; FALSE when it is over. */
static void advance(struct chk_run *run, struct alloc_state *st)
{
    struct sl_msg m;
    struct chk_req *rq = st->rq;
    const char *who = strcmp(st->cl->endpoint, "peer") == 0 ? "the test peer's allocation, " : "";
    gboolean authed = rq->txn->authenticated;
    st->rq = NULL;
    if (rq->txn->outcome == RPT_TXN_SUCCESS && chk_req_response(rq, &m) == SL_OK) {
        take_success(st, &m);
        st->done = TRUE;
    } else if (rq->txn->outcome == RPT_TXN_ERROR && chk_req_response(rq, &m) == SL_OK) {
        int code = rq->txn->error_code;
        if (code == 401 && !authed && run->ctx.cfg->username && run->ctx.cfg->password &&
            chk_client_take_challenge(st->cl, &m) == SL_OK) {
            char *note = g_strdup_printf("%swith MESSAGE-INTEGRITY (realm \"%s\")", who,
                                         st->cl->realm);
            st->rq = chk_req_start(st->cl, "allocate", SL_ALLOCATE, allocate_attrs(), TRUE, note);
            g_free(note);
        } else if (code == 438 && authed && st->stale < 1 &&
                   chk_client_take_challenge(st->cl, &m) == SL_OK) {
            /* RFC 8489 §9.2.5: on 438, retry with the new NONCE. Once: a second 438 is a
             * loop. */
            st->stale++;
            st->rq = chk_req_start(st->cl, "allocate", SL_ALLOCATE, allocate_attrs(), TRUE,
                                   "retry with the fresh nonce after 438 Stale Nonce");
        } else if (code == 300 && st->redirects < 1) {
            /* A server that redirects sends every client away, the test peer too: both
             * allocations follow ALTERNATE-SERVER, each on a connection of its own. */
            struct sl_addr alt;
            struct chk_conn *c = NULL;
            if (sl_msg_get_addr(&m, SL_ATTR_ALTERNATE_SERVER, &alt) == SL_OK &&
                chk_conn_open(&run->ctx, st->cl->endpoint, run->ctx.tp, &alt, &c) == 0) {
                st->redirects++;
                chk_client_attach(st->cl, c);
                g_free(st->cl->realm);
                g_free(st->cl->nonce);
                st->cl->realm = st->cl->nonce = NULL;
                st->cl->have_key = FALSE;
                st->rq = chk_req_start(st->cl, "allocate", SL_ALLOCATE, allocate_attrs(), FALSE,
                                       "at the ALTERNATE-SERVER, without credentials");
            } else {
                chk_conn_close(c);
                st->done = TRUE;
            }
        } else {
            st->done = TRUE;
        }
    } else {
        st->done = TRUE;
    }
    chk_req_free(rq);
}

void chk_allocate_run(struct chk_run *run, struct chk_req *first, struct chk_req *peer_first)
{
    struct alloc_state sts[2] = {{run->client, first, 0, 0, FALSE},
                                 {run->peer, peer_first, 0, 0, peer_first == NULL}};
    for (;;) {
        for (int i = 0; i < 2; i++)
            if (!sts[i].done && sts[i].rq && sts[i].rq->done)
                advance(run, &sts[i]);
        struct chk_req *wait[3] = {NULL, NULL, NULL};
        int n = 0;
        for (int i = 0; i < 2; i++)
            if (!sts[i].done && sts[i].rq)
                wait[n++] = sts[i].rq;
        if (n == 0)
            break;
        chk_req_wait(&run->ctx, wait);
    }
    run->allocated = run->client->allocated && (!run->peer || run->peer->allocated);
}

/* ---- the judge ---- */

struct alloc_view {
    gboolean attempted, ok, open_relay, redirected;
    int stale;
    const struct rpt_txn *last;
    struct sl_addr relayed, mapped;
    uint32_t lifetime;
    char *realm;
};

static void view_of(const struct rpt_result *r, const struct rpt_session *s, const char *ep,
                    struct alloc_view *v)
{
    memset(v, 0, sizeof(*v));
    GPtrArray *txns = chk_txns_of(s, "allocate", ep);
    for (guint i = 0; i < txns->len; i++) {
        const struct rpt_txn *t = g_ptr_array_index(txns, i);
        struct sl_msg m;
        v->attempted = TRUE;
        v->last = t;
        if (t->outcome == RPT_TXN_ERROR && t->error_code == 438)
            v->stale++;
        if (t->outcome == RPT_TXN_ERROR && t->error_code == 300)
            v->redirected = TRUE;
        if (chk_txn_response(r, t, &m) != SL_OK)
            continue;
        const uint8_t *val;
        size_t len;
        if (sl_msg_get_bytes(&m, SL_ATTR_REALM, &val, &len) == SL_OK) {
            g_free(v->realm);
            v->realm = g_strndup((const char *)val, len);
        }
        if (t->outcome == RPT_TXN_SUCCESS) {
            v->ok = TRUE;
            v->open_relay = !t->authenticated;
            sl_msg_get_addr(&m, SL_ATTR_XOR_RELAYED_ADDRESS, &v->relayed);
            sl_msg_get_addr(&m, SL_ATTR_XOR_MAPPED_ADDRESS, &v->mapped);
            sl_msg_get_u32(&m, SL_ATTR_LIFETIME, &v->lifetime);
        }
    }
    g_ptr_array_unref(txns);
}

static gboolean looks_time_limited(const char *user)
{
    const char *colon = user ? strchr(user, ':') : NULL;
    if (!colon)
        return FALSE;
    for (const char *p = user; p < colon; p++)
        if (!g_ascii_isdigit(*p))
            return FALSE;
    return colon > user;
}

static void fail_view(const struct rpt_result *r, struct rpt_session *s, struct rpt_step *st,
                      const struct alloc_view *v, const char *ep, gboolean other_ok)
{
    (void)r;
    const struct rpt_txn *t = v->last;
    gboolean peer = strcmp(ep, "peer") == 0;
    const char *diag = chk_txn_diagnosis(t, "allocate");
    char *why = chk_txn_explain(t);
    GString *sum = g_string_new(NULL);
    GString *hint = g_string_new(NULL);
    if (peer)
        g_string_append(sum, "the test peer's allocation failed: ");
    if (t->outcome == RPT_TXN_ERROR && t->error_code == 438 && v->stale >= 2) {
        diag = "auth-stale-nonce-loop";
        g_string_append_printf(sum, "%d× 438 Stale Nonce, even with the fresh nonce", v->stale);
    } else if (t->outcome == RPT_TXN_ERROR && t->error_code == 401 && t->authenticated) {
        diag = "auth-rejected";
        g_string_append_printf(sum, "401 to the authenticated Allocate: credentials refused "
                                    "(user \"%s\", realm \"%s\")",
                               s->target.username ? s->target.username : "",
                               v->realm ? v->realm : "?");
        g_string_append_printf(hint,
                               "The server answered 401 to the Allocate that carried "
                               "MESSAGE-INTEGRITY: the username or the password is wrong, or the "
                               "credential was issued for another realm. The server's realm is "
                               "\"%s\"; check that the user exists in it (coturn: turnadmin -l, "
                               "or the user= lines) and that the password is the one the server "
                               "holds.",
                               v->realm ? v->realm : "?");
        if (looks_time_limited(s->target.username))
            g_string_append(hint, " The username looks time-limited (EXPIRY:user): with coturn's "
                                  "use-auth-secret the password must be base64(HMAC-SHA1(secret, "
                                  "username)) with the server's static-auth-secret, and EXPIRY "
                                  "must be in the future.");
    } else if (t->outcome == RPT_TXN_ERROR && t->error_code == 401) {
        diag = "credentials-missing";
        g_string_append_printf(sum, "the server asks for credentials (realm \"%s\") and none "
                                    "were given", v->realm ? v->realm : "?");
    } else if (t->outcome == RPT_TXN_ERROR && t->error_code == 300) {
        diag = "alternate-server";
        g_string_append(sum, "redirected again by the alternate server (300 twice)");
    } else if (t->outcome == RPT_TXN_ERROR && t->error_code == 486 && (peer || other_ok)) {
        /* Both allocations go out together: whichever the server handles second is refused. */
        g_string_append(sum, why);
        if (!peer)
            g_string_append(sum, "; the test peer's allocation, made at the same time, took the "
                                 "user's only slot");
        g_string_append(hint, "The user may hold only one allocation (coturn user-quota): "
                              "turnprobe makes two at once, its own and its test peer's, and the "
                              "server refused the second it handled. Real clients make one "
                              "allocation per candidate, so a quota of 1 breaks calls that "
                              "gather several; raise user-quota, or test with --peer ADDR:PORT "
                              "and an external echo peer.");
    } else {
        g_string_append(sum, why);
    }
    if (t->outcome == RPT_TXN_ERROR && t->error_code == 420) {
        GString *u = g_string_new(NULL);
        struct sl_msg m;
        uint16_t types[16];
        size_t n = 0;
        if (chk_txn_response(r, t, &m) == SL_OK &&
            sl_msg_get_unknown(&m, types, G_N_ELEMENTS(types), &n) == SL_OK)
            for (size_t i = 0; i < n; i++)
                g_string_append_printf(u, "%s0x%04x", i ? ", " : "", types[i]);
        g_string_append_printf(sum, "; unknown attributes: %s", u->len ? u->str : "(none listed)");
        g_string_free(u, TRUE);
    }
    chk_verdict(s, st, RPT_FAIL, diag, sum->str, hint->len ? hint->str : NULL);
    g_string_free(sum, TRUE);
    g_string_free(hint, TRUE);
    g_free(why);
}

/* RFC 8656 relays must be reachable by peers: private, loopback, link-local, CGNAT or
 * unspecified addresses are not, unless the server itself sits in such a network (a lab). */
static gboolean unroutable(enum sl_scope sc)
{
    return sc == SL_SCOPE_PRIVATE || sc == SL_SCOPE_LOOPBACK || sc == SL_SCOPE_LINKLOCAL ||
           sc == SL_SCOPE_CGNAT || sc == SL_SCOPE_UNSPECIFIED || sc == SL_SCOPE_MULTICAST;
}

void chk_allocate_judge(const struct rpt_result *r, struct rpt_session *s)
{
    struct rpt_step *st = rpt_step_find(s, "allocate");
    struct alloc_view cv, pv;
    view_of(r, s, "client", &cv);
    view_of(r, s, "peer", &pv);
    if (!cv.attempted)
        goto out;
    chk_step_packets(r, st);
    {
        GPtrArray *all = chk_txns_of(s, "allocate", NULL);
        const struct rpt_txn *a = g_ptr_array_index(all, 0), *b = g_ptr_array_index(all, all->len - 1);
        st->duration_ms = (double)(b->end_us - a->start_us) / 1000.0;
        g_ptr_array_unref(all);
    }
    if (cv.realm)
        json_object_set_string_member(st->details, "realm", cv.realm);
    if (cv.redirected)
        rpt_finding_add(s, "alternate-server", RPT_SEV_WARN, "allocate",
                        "The server redirected the Allocate with 300 Try Alternate; turnprobe "
                        "followed ALTERNATE-SERVER once.",
                        rpt_diag_find("alternate-server")->hint);
    if (cv.ok && cv.open_relay) {
        chk_verdict(s, st, RPT_FAIL, "auth-not-required",
                    "the server allocated a relay without asking for credentials", NULL);
        goto out;
    }
    if (!cv.ok) {
        fail_view(r, s, st, &cv, "client", pv.ok);
        goto out;
    }
    char rel[SL_ADDR_STRLEN], map[SL_ADDR_STRLEN];
    sl_addr_format(&cv.relayed, rel, sizeof(rel), TRUE);
    sl_addr_format(&cv.mapped, map, sizeof(map), TRUE);
    json_object_set_string_member(st->details, "relayed", rel);
    json_object_set_string_member(s->facts, "relayed", rel);
    if (cv.mapped.family)
        json_object_set_string_member(st->details, "mapped", map);
    json_object_set_int_member(st->details, "lifetime", cv.lifetime);
    if (cv.stale)
        json_object_set_int_member(st->details, "stale_nonce_retries", cv.stale);
    if (cv.last->integrity < 0 || (pv.last && pv.last->integrity < 0)) {
        const struct rpt_txn *bad = cv.last->integrity < 0 ? cv.last : pv.last;
        struct sl_msg m;
        gboolean absent =
            chk_txn_response(r, bad, &m) == SL_OK && m.idx_mi < 0 && m.idx_mi256 < 0;
        chk_verdict(s, st, RPT_FAIL, "integrity-invalid",
                    absent ? "the Allocate success carries no MESSAGE-INTEGRITY although the "
                             "request was authenticated"
                           : "the Allocate success's MESSAGE-INTEGRITY does not verify with our "
                             "key",
                    NULL);
        goto out;
    }
    if (pv.attempted && !pv.ok) {
        fail_view(r, s, st, &pv, "peer", cv.ok);
        goto out;
    }
    if (pv.ok) {
        char prel[SL_ADDR_STRLEN];
        sl_addr_format(&pv.relayed, prel, sizeof(prel), TRUE);
        json_object_set_string_member(st->details, "peer_relayed", prel);
    }
    struct sl_addr server;
    enum sl_scope rs = sl_addr_scope(&cv.relayed);
    gboolean lab = s->target.address && sl_addr_parse(&server, s->target.address, 0) == SL_OK &&
                   unroutable(sl_addr_scope(&server));
    char *sum = g_strdup_printf("relayed address %s, lifetime %u s%s%s%s", rel, cv.lifetime,
                                cv.realm ? " (realm \"" : "", cv.realm ? cv.realm : "",
                                cv.realm ? "\")" : "");
    if (unroutable(rs)) {
        char *msg = g_strdup_printf("the relayed address %s is %s: peers on the Internet cannot "
                                    "reach it%s",
                                    rel, sl_scope_name(rs),
                                    lab ? " (the server itself has such an address: a lab "
                                          "set-up, acceptable there)"
                                        : "");
        chk_verdict(s, st, lab ? RPT_WARN : RPT_FAIL, "relay-address-private", msg, NULL);
        g_free(msg);
        g_free(st->summary);
        st->summary = sum;
        sum = NULL;
    } else {
        chk_verdict(s, st, RPT_PASS, "ok", sum, NULL);
    }
    g_free(sum);
out:
    g_free(cv.realm);
    g_free(pv.realm);
}
