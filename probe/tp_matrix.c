/* `turnprobe matrix`: every address of a host × every transport and usual port, probed in
 * parallel worker threads, then what works from here, a recommendation and an iceServers list.
 *
 * Each cell is one run of the engine (chk_check_run) in its own thread with its own
 * GMainContext pushed as the thread default and its own rpt_result: the model is not
 * thread-safe. When every cell is done, the cells' results are merged into one (packet numbers
 * shifted) so that the JSON, HTML, Markdown and pcapng writers see one report with one session
 * per cell. The matrix itself (table, recommendation, iceServers) has no place in the result
 * model: it is added to the JSON tree as "matrix", and spliced into the Markdown and HTML text
 * by this file. */
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chk.h"
#include "rpt_html.h"
#include "rpt_json.h"
#include "rpt_md.h"
#include "rpt_pcapng.h"
#include "rpt_text.h"
#include "sl_rest.h"
#include "sl_uri.h"
#include "tp.h"
#include "tp_proxy.h"
#include "tp_version.h"

#define MX_WORKERS     8
#define MX_MAX_COLUMNS 40

struct mx_opts {
    char *username, *password_file, *password_cli, *secret_file, *rest_user;
    char *ports, *json, *html, *md, *pcap, *proxy, *ca, *color;
    double timeout;
    gboolean deep, insecure, ipv4, ipv6, quiet;
    int verbose;
};

static gboolean on_verbose(const gchar *name, const gchar *value, gpointer data, GError **err)
{
    (void)name;
    (void)value;
    (void)err;
    ((struct mx_opts *)data)->verbose++;
    return TRUE;
}

/* A column: one transport on one port. */
struct mx_col {
    enum rpt_transport tp;
    guint16 port;
    char label[16]; /* "udp:3478" */
};

/* A cell: one column against one address; its own configuration and result until merged. */
struct mx_cell {
    guint row, col;
    struct chk_config cfg;
    struct sl_addr server;
    char uri[300]; /* canonical URI: turn:HOST:PORT?transport=... */
    char *name;    /* session name */
    struct rpt_result *r;
    struct rpt_session *s;
    /* The outcome, read from the session once the run is over. */
    enum rpt_status status;
    char *verdict; /* "ok", "not-run", or the diagnosis of the first failing step */
    char *diag;    /* the deciding step's diagnosis: that failure, else the first warning */
    char *step;    /* the deciding step */
    char *summary;
    GPtrArray *warnings; /* diagnosis ids (char*) of the steps that warned */
    double rtt_ms;       /* the Binding's RTT, < 0 when none */
};

struct mx_run {
    struct rpt_result *r; /* the merged report */
    GPtrArray *cells;     /* struct mx_cell*, row-major */
    GArray *cols;         /* struct mx_col */
    GArray *rows;         /* struct sl_addr */
    gint next, done;      /* work queue: next cell to take, cells finished */
    volatile gboolean *stop;
    const char *password;
};

static gboolean is_secure(enum rpt_transport tp)
{
    return tp == RPT_TLS || tp == RPT_DTLS;
}

/* ---- columns ---- */

static void add_col(GArray *cols, enum rpt_transport tp, guint16 port)
{
    for (guint i = 0; i < cols->len; i++) {
        const struct mx_col *c = &g_array_index(cols, struct mx_col, i);
        if (c->tp == tp && c->port == port)
            return;
    }
    struct mx_col c = {tp, port, ""};
    g_snprintf(c.label, sizeof(c.label), "%s:%u", rpt_transport_name(tp), port);
    g_array_append_val(cols, c);
}

/* The usual places a TURN server listens (RFC 8656 §19: 3478, 5349 for TLS/DTLS) and 443,
 * which restrictive firewalls and proxies let through; then each --port over UDP, TCP and
 * TLS. With a proxy, UDP and DTLS are left out: CONNECT carries TCP only. */
static GArray *make_cols(const char *ports, gboolean proxy, GError **err)
{
    GArray *cols = g_array_new(FALSE, TRUE, sizeof(struct mx_col));
    const struct {
        enum rpt_transport tp;
        guint16 port;
    } std[] = {{RPT_UDP, 3478}, {RPT_TCP, 3478}, {RPT_TLS, 5349}, {RPT_DTLS, 5349},
               {RPT_UDP, 443},  {RPT_TCP, 443},  {RPT_TLS, 443}};
    for (size_t i = 0; i < G_N_ELEMENTS(std); i++)
        if (!proxy || !(std[i].tp == RPT_UDP || std[i].tp == RPT_DTLS))
            add_col(cols, std[i].tp, std[i].port);
    char **list = ports ? g_strsplit(ports, ",", -1) : NULL;
    for (char **p = list; p && *p; p++) {
        g_strstrip(*p);
        guint64 v = 0;
        if (!g_ascii_string_to_unsigned(*p, 10, 1, 65535, &v, NULL)) {
            g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--port: \"%s\" is not a port (1-65535)", *p);
            g_strfreev(list);
            g_array_unref(cols);
            return NULL;
        }
        if (!proxy)
            add_col(cols, RPT_UDP, (guint16)v);
        add_col(cols, RPT_TCP, (guint16)v);
        add_col(cols, RPT_TLS, (guint16)v);
    }
    g_strfreev(list);
    if (cols->len > MX_MAX_COLUMNS) {
        g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--port: too many ports (%u columns; at most %d)", cols->len, MX_MAX_COLUMNS);
        g_array_unref(cols);
        return NULL;
    }
    return cols;
}

/* The order a client should try working URLs: UDP (the media path TURN was made for) before
 * TCP before TLS; 3478 before 443 before other ports, and TLS on 443 before 5349 (443 is what
 * firewalls let through). DTLS is last: browsers do not speak TURN over DTLS. */
static int col_rank(const struct mx_col *c)
{
    int port = c->port == 3478 ? 0 : c->port == 443 ? 1 : c->port == 5349 ? 2 : 3;
    switch (c->tp) {
    case RPT_UDP:
        return 0 + port;
    case RPT_TCP:
        return 10 + port;
    case RPT_TLS:
        return 20 + (c->port == 443 ? 0 : c->port == 5349 ? 1 : 2);
    case RPT_DTLS:
        return 30 + port;
    }
    return 99;
}

/* ---- one cell ---- */

static void cell_free(gpointer data)
{
    struct mx_cell *c = data;
    rpt_result_free(c->r);
    g_free(c->name);
    g_free(c->verdict);
    g_free(c->diag);
    if (c->warnings)
        g_ptr_array_unref(c->warnings);
    g_free(c->step);
    g_free(c->summary);
    g_free(c);
}

static void add_pass_step(struct rpt_session *s, const char *id, const char *summary)
{
    rpt_step_set(rpt_step_add(s, id), RPT_PASS, "ok", summary, NULL);
}

static void cell_run(struct mx_run *run, struct mx_cell *c)
{
    GMainContext *mc = g_main_context_new();
    g_main_context_push_thread_default(mc);
    c->r = rpt_result_new("matrix", TP_VERSION);
    c->s = rpt_session_add(c->r, c->name);
    struct rpt_session *s = c->s;
    s->target.uri = g_strdup(c->uri);
    s->target.host = g_strdup(c->cfg.uri.host);
    s->target.port = c->cfg.uri.port;
    s->target.transport = g_strdup(rpt_transport_name(
        c->cfg.uri.secure ? (c->cfg.uri.transport == SL_URI_UDP ? RPT_DTLS : RPT_TLS)
                          : (c->cfg.uri.transport == SL_URI_UDP ? RPT_UDP : RPT_TCP)));
    s->target.username = g_strdup(c->cfg.username);
    s->target.password_info =
        run->password ? g_strdup_printf("given (%ld characters)", g_utf8_strlen(run->password, -1))
                      : g_strdup("not given");
    char *sum = g_strdup_printf("%s, one cell of the matrix%s", c->uri,
                                c->cfg.username ? "" : "; no credentials: Binding only");
    add_pass_step(s, "settings", sum);
    g_free(sum);
    char a[SL_ADDR_STRLEN];
    sl_addr_format(&c->server, a, sizeof(a), FALSE);
    sum = g_strdup_printf("%s (resolved once for the whole matrix)", a);
    add_pass_step(s, "dns", sum);
    g_free(sum);
    struct rpt_step *tls = rpt_step_add(s, "tls");
    if (!c->cfg.uri.secure)
        rpt_step_set(tls, RPT_SKIP, "ok", "skipped: not TLS or DTLS", NULL);
    c->cfg.server = &c->server;
    chk_check_run(&c->cfg, c->r, s, run->stop);
    tp_proxy_check_tls(&c->cfg, s);
    g_main_context_pop_thread_default(mc);
    g_main_context_unref(mc);
}

static gpointer worker(gpointer data)
{
    struct mx_run *run = data;
    for (;;) {
        gint i = g_atomic_int_add(&run->next, 1);
        if (i >= (gint)run->cells->len)
            break;
        cell_run(run, g_ptr_array_index(run->cells, i));
        g_atomic_int_inc(&run->done);
    }
    return NULL;
}

/* The cell's verdict: the first failing step decides; else ok, with the Binding's RTT. */
static void cell_judge(struct mx_cell *c)
{
    const struct rpt_session *s = c->s;
    c->rtt_ms = -1;
    c->status = RPT_PASS;
    c->warnings = g_ptr_array_new_with_free_func(g_free);
    const struct rpt_step *warn = NULL, *binding = NULL;
    for (guint i = 0; i < s->steps->len; i++) {
        const struct rpt_step *st = g_ptr_array_index(s->steps, i);
        if (strcmp(st->id, "binding") == 0)
            binding = st;
        if (st->status == RPT_FAIL && c->status != RPT_FAIL) {
            c->status = RPT_FAIL;
            c->verdict = g_strdup(st->diagnosis ? st->diagnosis : "unexpected-error");
            c->diag = g_strdup(c->verdict);
            c->step = g_strdup(st->id);
            c->summary = g_strdup(st->summary);
        }
        if (st->status == RPT_WARN) {
            if (!warn)
                warn = st;
            g_ptr_array_add(c->warnings, g_strdup(st->diagnosis));
        }
    }
    if (c->status == RPT_FAIL)
        return;
    if (!binding || binding->status == RPT_SKIP) {
        /* Interrupted or out of time before anything was sent. */
        c->status = RPT_SKIP;
        c->verdict = g_strdup("not-run");
        c->diag = g_strdup("ok");
        c->summary = g_strdup(binding && binding->summary ? binding->summary : "not run");
        return;
    }
    if (json_object_has_member(binding->details, "rtt_ms"))
        c->rtt_ms = json_object_get_double_member(binding->details, "rtt_ms");
    c->verdict = g_strdup("ok");
    c->diag = g_strdup(warn ? warn->diagnosis : "ok");
    c->step = g_strdup(warn ? warn->id : "binding");
    c->summary = g_strdup(warn ? warn->summary : binding->summary);
    if (warn)
        c->status = RPT_WARN;
}

static gboolean cell_works(const struct mx_cell *c)
{
    return c->status == RPT_PASS || c->status == RPT_WARN;
}

/* ---- merging the cells' results into one report ---- */

static void shift(GArray *pkts, guint off)
{
    for (guint i = 0; i < pkts->len; i++)
        g_array_index(pkts, guint, i) += off;
}

/* Moves src's packets and sessions to the end of dst: frame numbers and session indexes are
 * shifted so that every reference (steps, transactions, ICMP) still names the same packet. */
static void merge_result(struct rpt_result *dst, struct rpt_result *src)
{
    guint off = dst->packets->len, soff = dst->sessions->len;
    gsize n = 0;
    gpointer *pk = g_ptr_array_steal(src->packets, &n);
    for (gsize i = 0; i < n; i++) {
        struct rpt_packet *p = pk[i];
        p->n += off;
        if (p->ref)
            p->ref += off;
        p->session += soff;
        g_ptr_array_add(dst->packets, p);
    }
    g_free(pk);
    gpointer *ss = g_ptr_array_steal(src->sessions, &n);
    for (gsize i = 0; i < n; i++) {
        struct rpt_session *s = ss[i];
        for (guint k = 0; k < s->steps->len; k++)
            shift(((struct rpt_step *)g_ptr_array_index(s->steps, k))->packets, off);
        for (guint k = 0; k < s->txns->len; k++) {
            struct rpt_txn *t = g_ptr_array_index(s->txns, k);
            shift(t->req_pkts, off);
            if (t->resp_pkt)
                t->resp_pkt += off;
        }
        g_ptr_array_add(dst->sessions, s);
    }
    g_free(ss);
    if (src->keylog) {
        char *prev = dst->keylog;
        dst->keylog = g_strconcat(prev ? prev : "", src->keylog, NULL);
        if (prev) {
            memset(prev, 0, strlen(prev));
            g_free(prev);
        }
    }
}

/* ---- the matrix as text, JSON, Markdown and HTML ---- */

static char *cell_text(const struct mx_cell *c)
{
    if (!c)
        return g_strdup("-");
    if (cell_works(c)) {
        if (c->rtt_ms >= 0)
            return g_strdup_printf("ok %.*f ms%s", c->rtt_ms < 10 ? 1 : 0, c->rtt_ms,
                                   c->status == RPT_WARN ? " !" : "");
        return g_strdup_printf("ok%s", c->status == RPT_WARN ? " !" : "");
    }
    return g_strdup(c->verdict);
}

static struct mx_cell *cell_at(const struct mx_run *run, guint row, guint col)
{
    return g_ptr_array_index(run->cells, row * run->cols->len + col);
}

static const char *row_label(const struct mx_run *run, guint row, char *buf, size_t n)
{
    return sl_addr_format(&g_array_index(run->rows, struct sl_addr, row), buf, n, FALSE);
}

/* The best working cell of a column (lowest RTT over the addresses), or NULL. */
static const struct mx_cell *col_best(const struct mx_run *run, guint col, guint *nok)
{
    const struct mx_cell *best = NULL;
    *nok = 0;
    for (guint r = 0; r < run->rows->len; r++) {
        const struct mx_cell *c = cell_at(run, r, col);
        if (!cell_works(c))
            continue;
        (*nok)++;
        if (!best || (c->rtt_ms >= 0 && (best->rtt_ms < 0 || c->rtt_ms < best->rtt_ms)))
            best = c;
    }
    return best;
}

/* Column indexes in order of preference. */
static GArray *cols_by_rank(const struct mx_run *run)
{
    GArray *order = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < run->cols->len; i++)
        g_array_append_val(order, i);
    /* A stable insertion sort: few columns, and equal ranks keep the table's order. */
    for (guint i = 1; i < order->len; i++) {
        guint v = g_array_index(order, guint, i);
        int rv = col_rank(&g_array_index(run->cols, struct mx_col, v));
        guint j = i;
        while (j > 0 && col_rank(&g_array_index(run->cols, struct mx_col,
                                                g_array_index(order, guint, j - 1))) > rv) {
            g_array_index(order, guint, j) = g_array_index(order, guint, j - 1);
            j--;
        }
        g_array_index(order, guint, j) = v;
    }
    return order;
}

/* Transports as a firewall sees them: UDP (DTLS too), TCP, and TLS (over TCP). */
enum mx_class { MX_UDP, MX_TCP, MX_TLS };

static enum mx_class class_of(enum rpt_transport tp)
{
    return tp == RPT_UDP || tp == RPT_DTLS ? MX_UDP : tp == RPT_TCP ? MX_TCP : MX_TLS;
}

/* Nothing came back at all: what a firewall that drops does. */
static gboolean silent_verdict(const char *v)
{
    return g_strcmp0(v, "no-response") == 0 || g_strcmp0(v, "tcp-connect-timeout") == 0;
}

/* "udp:3478 no-response, udp:443 no-response": how the columns of one class failed. */
static char *failures_of(const struct mx_run *run, enum mx_class cls, gboolean *all_silent,
                         guint *n)
{
    GString *g = g_string_new(NULL);
    *all_silent = TRUE;
    *n = 0;
    for (guint i = 0; i < run->cols->len; i++) {
        const struct mx_col *col = &g_array_index(run->cols, struct mx_col, i);
        if (class_of(col->tp) != cls)
            continue;
        guint nok;
        if (col_best(run, i, &nok))
            continue;
        const struct mx_cell *c = cell_at(run, 0, i);
        g_string_append_printf(g, "%s%s %s", g->len ? ", " : "", col->label, c->verdict);
        *all_silent &= silent_verdict(c->verdict);
        (*n)++;
    }
    return g_string_free(g, FALSE);
}

static guint cols_of(const struct mx_run *run, enum mx_class cls)
{
    guint n = 0;
    for (guint i = 0; i < run->cols->len; i++)
        n += class_of(g_array_index(run->cols, struct mx_col, i).tp) == cls;
    return n;
}

/* One paragraph for a person: what works, what does not, what to configure. */
static char *recommend(const struct mx_run *run, const char *host, const char *proxy_name,
                       gboolean have_creds)
{
    GString *g = g_string_new(NULL);
    GArray *order = cols_by_rank(run);
    const struct mx_cell *best = NULL;
    guint best_ok = 0;
    for (guint i = 0; i < order->len && !best; i++)
        best = col_best(run, g_array_index(order, guint, i), &best_ok);
    g_array_unref(order);
    char rtt[48] = "";
    if (best && best->rtt_ms >= 0)
        g_snprintf(rtt, sizeof(rtt), " (RTT %.*f ms)", best->rtt_ms < 10 ? 1 : 0, best->rtt_ms);

    if (!best) {
        /* Nothing works: say what the cells have in common. */
        const struct mx_cell *first = cell_at(run, 0, 0);
        gboolean same = TRUE, reached = FALSE, silent = TRUE;
        for (guint i = 0; i < run->cells->len; i++) {
            const struct mx_cell *c = g_ptr_array_index(run->cells, i);
            same &= g_strcmp0(c->verdict, first->verdict) == 0;
            silent &= silent_verdict(c->verdict);
            const struct rpt_step *b = rpt_step_find(c->s, "binding");
            reached |= b && b->status == RPT_PASS;
        }
        if (reached) {
            const struct mx_cell *auth = NULL;
            for (guint i = 0; i < run->cells->len && !auth; i++) {
                const struct mx_cell *c = g_ptr_array_index(run->cells, i);
                const struct rpt_step *b = rpt_step_find(c->s, "binding");
                if (b && b->status == RPT_PASS)
                    auth = c;
            }
            g_string_append_printf(g,
                                   "%s answers STUN (%s) but no allocation succeeds: %s "
                                   "(%s). Fix that first; the network is not the problem "
                                   "there.",
                                   host, auth->uri, auth->verdict, auth->summary);
        } else if (same && first->verdict) {
            const struct rpt_diag *d = rpt_diag_find(first->verdict);
            g_string_append_printf(g, "Nothing works from here%s%s: every cell ended in %s (%s).",
                                   proxy_name ? " through the " : "", proxy_name ? proxy_name : "",
                                   first->verdict, d ? d->meaning : first->summary);
            if (silent)
                g_string_append_printf(g,
                                       " A firewall between here and %s drops everything "
                                       "towards it, or the server is down.%s",
                                       host,
                                       proxy_name ? ""
                                                  : " If this network has a web "
                                                    "proxy, try --proxy.");
        } else if (silent) {
            g_string_append_printf(g,
                                   "Nothing works from here%s%s: nothing comes back on any "
                                   "transport or port (UDP no-response, TCP connections "
                                   "never accepted). A firewall between here and %s drops "
                                   "everything towards it, or the server is down.%s",
                                   proxy_name ? " through the " : "", proxy_name ? proxy_name : "",
                                   host,
                                   proxy_name ? ""
                                              : " If this network has a web proxy, try "
                                                "--proxy.");
        } else {
            g_string_append_printf(g, "Nothing works from here%s%s:",
                                   proxy_name ? " through the " : "", proxy_name ? proxy_name : "");
            const enum mx_class all[] = {MX_UDP, MX_TCP, MX_TLS};
            for (size_t t = 0; t < G_N_ELEMENTS(all); t++) {
                gboolean s2;
                guint n;
                char *f = failures_of(run, all[t], &s2, &n);
                if (n)
                    g_string_append_printf(g, " %s;", f);
                g_free(f);
            }
            g_string_truncate(g, g->len - 1);
            g_string_append(g, ".");
        }
        return g_string_free(g, FALSE);
    }

    char uri[300];
    g_strlcpy(uri, best->uri, sizeof(uri));
    gboolean udp_probed = cols_of(run, MX_UDP) > 0;
    gboolean silent, udp_told = FALSE;
    guint nfail;
    char *udp_fail = failures_of(run, MX_UDP, &silent, &nfail);
    if (proxy_name) {
        g_string_append_printf(g,
                               "Through the %s, %s works%s. UDP cannot go through an HTTP or "
                               "SOCKS5 proxy: clients behind it need TURN over TCP or TLS, "
                               "and must be configured to use the proxy for it.",
                               proxy_name, uri, rtt);
    } else if (udp_probed && nfail == cols_of(run, MX_UDP)) {
        g_string_append_printf(g, "UDP %s from here (%s); %s works%s.",
                               silent ? "is blocked" : "fails", udp_fail, uri, rtt);
        udp_told = TRUE;
    } else {
        g_string_append_printf(g, "%s works%s: use it first.", uri, rtt);
    }
    g_free(udp_fail);

    /* Only 443 gets through: a firewall that lets web ports out and nothing else. */
    gboolean only_443 = TRUE, other_probed = FALSE;
    for (guint i = 0; i < run->cols->len; i++) {
        const struct mx_col *col = &g_array_index(run->cols, struct mx_col, i);
        guint nok;
        gboolean ok = col_best(run, i, &nok) != NULL;
        if (col->port != 443)
            other_probed = TRUE;
        if (ok && col->port != 443)
            only_443 = FALSE;
    }
    if (only_443 && other_probed)
        g_string_append(g, " Only port 443 gets through: this network lets web traffic out and "
                           "nothing else, so TURN must listen on 443 (TLS on 443 passes most "
                           "proxies and firewalls).");

    /* What else failed, by transport, when it is not the whole story already told. */
    const enum mx_class rest[] = {MX_UDP, MX_TCP, MX_TLS};
    GString *other = g_string_new(NULL);
    for (size_t t = udp_told ? 1 : 0; t < G_N_ELEMENTS(rest); t++) {
        gboolean s2;
        guint n;
        char *f = failures_of(run, rest[t], &s2, &n);
        if (n)
            g_string_append_printf(other, "%s%s", other->len ? ", " : "", f);
        g_free(f);
    }
    if (other->len && !only_443)
        g_string_append_printf(g, " Failing: %s.", other->str);
    g_string_free(other, TRUE);

    /* A URL that works on some addresses only: clients that pick another fail. */
    if (run->rows->len > 1 && best_ok < run->rows->len)
        g_string_append_printf(g,
                               " %s works on %u of %u addresses of %s: clients that pick "
                               "another one fail.",
                               uri, best_ok, run->rows->len, host);
    if (!have_creds)
        g_string_append(g, " Without credentials only STUN Binding was tried: give -u and "
                           "--password-file to test allocations.");
    return g_string_free(g, FALSE);
}

/* The iceServers entry: working URLs in order of preference, with the username and never the
 * password. "credential" is left out on purpose: a placeholder would be pasted and fail as a
 * wrong password deep inside ICE, while a missing credential makes the browser throw at once
 * (RTCPeerConnection: InvalidAccessError). DTLS is left out: browsers do not speak it to TURN. */
static JsonNode *ice_servers(const struct mx_run *run, const char *username)
{
    GArray *order = cols_by_rank(run);
    JsonArray *urls = json_array_new();
    for (guint i = 0; i < order->len; i++) {
        guint col = g_array_index(order, guint, i);
        guint nok;
        const struct mx_cell *c = col_best(run, col, &nok);
        if (c && g_array_index(run->cols, struct mx_col, col).tp != RPT_DTLS)
            json_array_add_string_element(urls, c->uri);
    }
    g_array_unref(order);
    JsonObject *server = json_object_new();
    json_object_set_array_member(server, "urls", urls);
    if (username)
        json_object_set_string_member(server, "username", username);
    JsonArray *servers = json_array_new();
    json_array_add_object_element(servers, server);
    JsonObject *root = json_object_new();
    json_object_set_array_member(root, "iceServers", servers);
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, root);
    return n;
}

static JsonObject *matrix_json(const struct mx_run *run, const char *host, const char *proxy_name,
                               const char *rec, JsonNode *ice, double timeout, gboolean deep,
                               gboolean creds)
{
    JsonObject *m = json_object_new();
    json_object_set_string_member(m, "host", host);
    if (proxy_name)
        json_object_set_string_member(m, "proxy", proxy_name);
    json_object_set_double_member(m, "timeout_s", timeout);
    json_object_set_int_member(m, "workers", MX_WORKERS);
    JsonArray *steps = json_array_new();
    json_array_add_string_element(steps, "binding");
    if (creds) {
        json_array_add_string_element(steps, "allocate");
        if (deep) {
            json_array_add_string_element(steps, "permission");
            json_array_add_string_element(steps, "send-data");
        }
    }
    json_object_set_array_member(m, "steps", steps);
    JsonArray *cols = json_array_new();
    for (guint i = 0; i < run->cols->len; i++)
        json_array_add_string_element(cols, g_array_index(run->cols, struct mx_col, i).label);
    json_object_set_array_member(m, "columns", cols);
    if (proxy_name) {
        JsonArray *omitted = json_array_new();
        json_array_add_string_element(omitted, "udp");
        json_array_add_string_element(omitted, "dtls");
        json_object_set_array_member(m, "omitted_transports", omitted);
    }
    JsonArray *rows = json_array_new();
    for (guint r = 0; r < run->rows->len; r++) {
        JsonObject *row = json_object_new();
        char a[SL_ADDR_STRLEN];
        json_object_set_string_member(row, "address", row_label(run, r, a, sizeof(a)));
        JsonArray *cells = json_array_new();
        for (guint c = 0; c < run->cols->len; c++) {
            const struct mx_cell *cell = cell_at(run, r, c);
            const struct mx_col *col = &g_array_index(run->cols, struct mx_col, c);
            JsonObject *o = json_object_new();
            json_object_set_string_member(o, "column", col->label);
            json_object_set_string_member(o, "transport", rpt_transport_name(col->tp));
            json_object_set_int_member(o, "port", col->port);
            json_object_set_string_member(o, "uri", cell->uri);
            json_object_set_string_member(o, "status", rpt_status_name(cell->status));
            json_object_set_string_member(o, "verdict", cell->verdict);
            json_object_set_string_member(o, "diagnosis", cell->diag);
            if (cell->step)
                json_object_set_string_member(o, "step", cell->step);
            if (cell->rtt_ms >= 0)
                json_object_set_double_member(o, "rtt_ms", cell->rtt_ms);
            if (cell->summary)
                json_object_set_string_member(o, "summary", cell->summary);
            if (cell->warnings->len) {
                JsonArray *w = json_array_new();
                for (guint k = 0; k < cell->warnings->len; k++)
                    json_array_add_string_element(w, g_ptr_array_index(cell->warnings, k));
                json_object_set_array_member(o, "warnings", w);
            }
            json_object_set_int_member(o, "session", r * run->cols->len + c);
            json_array_add_object_element(cells, o);
        }
        json_object_set_array_member(row, "cells", cells);
        json_array_add_object_element(rows, row);
    }
    json_object_set_array_member(m, "rows", rows);
    /* The report's own verdict fails when any cell fails, which a matrix expects: whether
     * anything works from here is what the exit status and "usable" say. */
    JsonArray *urls = json_object_get_array_member(
        json_array_get_object_element(
            json_object_get_array_member(json_node_get_object(ice), "iceServers"), 0),
        "urls");
    gboolean usable = FALSE;
    for (guint i = 0; i < run->cells->len; i++)
        usable |= cell_works(g_ptr_array_index(run->cells, i));
    json_object_set_boolean_member(m, "usable", usable);
    if (json_array_get_length(urls))
        json_object_set_string_member(m, "best", json_array_get_string_element(urls, 0));
    json_object_set_string_member(m, "recommendation", rec);
    json_object_set_member(m, "ice_servers", json_node_copy(ice));
    return m;
}

/* ANSI colours for a cell when the terminal wants them. */
static const char *cell_color(const struct mx_cell *c, gboolean color)
{
    if (!color)
        return "";
    return c->status == RPT_PASS   ? "\033[32m"
           : c->status == RPT_WARN ? "\033[33m"
           : c->status == RPT_FAIL ? "\033[31m"
                                   : "\033[2m";
}

static void print_table(FILE *out, const struct mx_run *run, gboolean color)
{
    guint ncol = run->cols->len;
    size_t *w = g_new0(size_t, ncol + 1);
    char a[SL_ADDR_STRLEN];
    w[0] = strlen("address");
    for (guint r = 0; r < run->rows->len; r++)
        w[0] = MAX(w[0], strlen(row_label(run, r, a, sizeof(a))));
    for (guint c = 0; c < ncol; c++) {
        w[c + 1] = strlen(g_array_index(run->cols, struct mx_col, c).label);
        for (guint r = 0; r < run->rows->len; r++) {
            char *t = cell_text(cell_at(run, r, c));
            w[c + 1] = MAX(w[c + 1], strlen(t));
            g_free(t);
        }
    }
    fprintf(out, "%-*s", (int)w[0], "address");
    for (guint c = 0; c < ncol; c++)
        fprintf(out, "  %-*s", c + 1 < ncol ? (int)w[c + 1] : 0,
                g_array_index(run->cols, struct mx_col, c).label);
    fputc('\n', out);
    for (guint r = 0; r < run->rows->len; r++) {
        fprintf(out, "%-*s", (int)w[0], row_label(run, r, a, sizeof(a)));
        for (guint c = 0; c < ncol; c++) {
            const struct mx_cell *cell = cell_at(run, r, c);
            char *t = cell_text(cell);
            fprintf(out, "  %s%-*s%s", cell_color(cell, color), c + 1 < ncol ? (int)w[c + 1] : 0, t,
                    color ? "\033[0m" : "");
            g_free(t);
        }
        fputc('\n', out);
    }
    g_free(w);
}

static void print_text(FILE *out, const struct mx_run *run, const char *host,
                       const char *proxy_name, const char *rec, JsonNode *ice, gboolean color,
                       const char *tried, double secs)
{
    fprintf(out, "turnprobe matrix — %s%s%s · %u address%s × %u columns in %.1f s\n", host,
            proxy_name ? " via " : "", proxy_name ? proxy_name : "", run->rows->len,
            run->rows->len == 1 ? "" : "es", run->cols->len, secs);
    if (proxy_name)
        fprintf(out, "UDP and DTLS left out: HTTP CONNECT and SOCKS5 carry TCP only.\n");
    if (tp_interrupted)
        fprintf(out, "Interrupted (Ctrl-C): the cells still running show what they had seen.\n");
    fputc('\n', out);
    print_table(out, run, color);
    fprintf(out,
            "\n(ok: %s passed, with the Binding's RTT; ! a warning; otherwise\n"
            "the diagnosis of the first failing step)\n\n",
            tried);
    /* Failing cells, one line each, so the diagnosis has its reason beside it. */
    gboolean any = FALSE;
    GPtrArray *at = g_ptr_array_new_with_free_func(g_free); /* "udp:3478 @ 192.0.2.1" */
    size_t wmax = 0;
    for (guint i = 0; i < run->cells->len; i++) {
        const struct mx_cell *c = g_ptr_array_index(run->cells, i);
        char a[SL_ADDR_STRLEN];
        const char *label = g_array_index(run->cols, struct mx_col, c->col).label;
        char *w = run->rows->len > 1
                      ? g_strdup_printf("%s @ %s", label, row_label(run, c->row, a, sizeof(a)))
                      : g_strdup(label);
        wmax = MAX(wmax, strlen(w));
        g_ptr_array_add(at, w);
    }
    for (guint i = 0; i < run->cells->len; i++) {
        const struct mx_cell *c = g_ptr_array_index(run->cells, i);
        if (c->status != RPT_FAIL)
            continue;
        if (!any)
            fprintf(out, "Failures:\n");
        any = TRUE;
        fprintf(out, "  %-*s  %s: %s\n", (int)wmax, (const char *)g_ptr_array_index(at, i),
                c->verdict, c->summary ? c->summary : "");
    }
    if (any)
        fputc('\n', out);
    /* Warnings do not stop a URL from working: one line per diagnosis, with where. */
    GPtrArray *ids = g_ptr_array_new();
    for (guint i = 0; i < run->cells->len; i++) {
        const struct mx_cell *c = g_ptr_array_index(run->cells, i);
        for (guint k = 0; c->warnings && k < c->warnings->len; k++) {
            const char *id = g_ptr_array_index(c->warnings, k);
            gboolean seen = FALSE;
            for (guint j = 0; j < ids->len; j++)
                seen |= strcmp(g_ptr_array_index(ids, j), id) == 0;
            if (!seen)
                g_ptr_array_add(ids, (gpointer)id);
        }
    }
    for (guint j = 0; j < ids->len; j++) {
        const char *id = g_ptr_array_index(ids, j);
        const struct rpt_diag *d = rpt_diag_find(id);
        GString *where = g_string_new(NULL);
        for (guint i = 0; i < run->cells->len; i++) {
            const struct mx_cell *c = g_ptr_array_index(run->cells, i);
            gboolean has = FALSE;
            for (guint k = 0; c->warnings && k < c->warnings->len; k++)
                has |= strcmp(g_ptr_array_index(c->warnings, k), id) == 0;
            if (has)
                g_string_append_printf(where, "%s%s", where->len ? ", " : "",
                                       (const char *)g_ptr_array_index(at, i));
        }
        fprintf(out, "%s  ! %s (%s): %s\n", j ? "" : "Warnings (the URL still works):\n", id,
                d ? d->meaning : "", where->str);
        g_string_free(where, TRUE);
    }
    if (ids->len)
        fputc('\n', out);
    g_ptr_array_unref(ids);
    g_ptr_array_unref(at);
    fprintf(out, "Recommendation: %s\n\n", rec);
    JsonArray *urls = json_object_get_array_member(
        json_array_get_object_element(
            json_object_get_array_member(json_node_get_object(ice), "iceServers"), 0),
        "urls");
    if (json_array_get_length(urls) == 0) {
        fprintf(out, "iceServers: none (no URL works from here)\n");
        return;
    }
    char *j = rpt_json_node_to_string(ice);
    g_strchomp(j);
    fprintf(out, "iceServers (add \"credential\": turnprobe never writes passwords):\n%s\n", j);
    g_free(j);
}

static void md_cell(GString *o, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '|' || *p == '\\' || *p == '`' || *p == '*' || *p == '_')
            g_string_append_c(o, '\\');
        g_string_append_c(o, *p == '\n' ? ' ' : *p);
    }
}

static char *matrix_md(const struct mx_run *run, const char *rec, JsonNode *ice)
{
    GString *o = g_string_new("## Reachability matrix\n\n| Address |");
    for (guint c = 0; c < run->cols->len; c++)
        g_string_append_printf(o, " %s |", g_array_index(run->cols, struct mx_col, c).label);
    g_string_append(o, "\n|---|");
    for (guint c = 0; c < run->cols->len; c++)
        g_string_append(o, "---|");
    g_string_append_c(o, '\n');
    for (guint r = 0; r < run->rows->len; r++) {
        char a[SL_ADDR_STRLEN];
        g_string_append_printf(o, "| %s |", row_label(run, r, a, sizeof(a)));
        for (guint c = 0; c < run->cols->len; c++) {
            const struct mx_cell *cell = cell_at(run, r, c);
            char *t = cell_text(cell);
            const char *mark = cell->status == RPT_PASS   ? "✅"
                               : cell->status == RPT_WARN ? "⚠️"
                               : cell->status == RPT_FAIL ? "❌"
                                                          : "➖";
            g_string_append_printf(o, " %s %s%s%s |", mark, cell_works(cell) ? "" : "`", t,
                                   cell_works(cell) ? "" : "`");
            g_free(t);
        }
        g_string_append_c(o, '\n');
    }
    g_string_append(o, "\n**Recommendation:** ");
    md_cell(o, rec);
    char *j = rpt_json_node_to_string(ice);
    g_strchomp(j);
    g_string_append_printf(o,
                           "\n\niceServers (add `credential`: turnprobe never writes "
                           "passwords):\n\n```json\n%s\n```\n\n",
                           j);
    g_free(j);
    return g_string_free(o, FALSE);
}

static void html_esc(GString *o, const char *s)
{
    char *e = g_markup_escape_text(s, -1);
    g_string_append(o, e);
    g_free(e);
}

static char *matrix_html(const struct mx_run *run, const char *rec, JsonNode *ice)
{
    GString *o = g_string_new("<section class=\"card\" id=\"matrix\"><h2>Reachability "
                              "matrix</h2><table><thead><tr><th>Address</th>");
    for (guint c = 0; c < run->cols->len; c++) {
        g_string_append(o, "<th>");
        html_esc(o, g_array_index(run->cols, struct mx_col, c).label);
        g_string_append(o, "</th>");
    }
    g_string_append(o, "</tr></thead><tbody>");
    for (guint r = 0; r < run->rows->len; r++) {
        char a[SL_ADDR_STRLEN];
        g_string_append(o, "<tr><th>");
        html_esc(o, row_label(run, r, a, sizeof(a)));
        g_string_append(o, "</th>");
        for (guint c = 0; c < run->cols->len; c++) {
            const struct mx_cell *cell = cell_at(run, r, c);
            char *t = cell_text(cell);
            const char *cls = cell->status == RPT_SKIP ? "info" : rpt_status_name(cell->status);
            g_string_append_printf(o, "<td title=\"");
            html_esc(o, cell->summary ? cell->summary : "");
            g_string_append_printf(o, "\"><span class=\"badge b-%s\">", cls);
            html_esc(o, t);
            g_string_append(o, "</span></td>");
            g_free(t);
        }
        g_string_append(o, "</tr>");
    }
    g_string_append(o, "</tbody></table><p><b>Recommendation:</b> ");
    html_esc(o, rec);
    g_string_append(o,
                    "</p><p>iceServers (add <code>credential</code>: turnprobe never writes "
                    "passwords):</p><pre style=\"white-space:pre-wrap;overflow-wrap:anywhere\">");
    char *j = rpt_json_node_to_string(ice);
    html_esc(o, j);
    g_free(j);
    g_string_append(o, "</pre></section>");
    return g_string_free(o, FALSE);
}

/* Puts text after the first occurrence of anchor in doc (or at the end). */
static char *splice_after(char *doc, const char *anchor, const char *text)
{
    const char *at = strstr(doc, anchor);
    size_t pos = at ? (size_t)(at - doc) + strlen(anchor) : strlen(doc);
    GString *g = g_string_new_len(doc, (gssize)pos);
    g_string_append(g, text);
    g_string_append(g, doc + pos);
    g_free(doc);
    return g_string_free(g, FALSE);
}

static gboolean write_text_file(const char *path, const char *text, GError **err)
{
    if (strcmp(path, "-") == 0) {
        fputs(text, stdout);
        return TRUE;
    }
    return g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, err);
}

/* ---- DNS ---- */

struct async_wait {
    GAsyncResult *res;
};

static void on_async(GObject *src, GAsyncResult *res, gpointer ud)
{
    (void)src;
    ((struct async_wait *)ud)->res = g_object_ref(res);
}

/* Every A/AAAA of host (of the family asked), waiting at most until the deadline. */
static GArray *resolve_rows(const struct sl_uri *u, int family, gint64 deadline, char **why)
{
    GArray *rows = g_array_new(FALSE, TRUE, sizeof(struct sl_addr));
    *why = NULL;
    if (u->host_is_ip) {
        struct sl_addr a;
        if (sl_addr_parse(&a, u->host, 3478) == SL_OK)
            g_array_append_val(rows, a);
        return rows;
    }
    GResolver *res = g_resolver_get_default();
    GCancellable *cancel = g_cancellable_new();
    struct async_wait w = {0};
    g_resolver_lookup_by_name_async(res, u->host, cancel, on_async, &w);
    while (!w.res) {
        if (g_get_monotonic_time() >= deadline || tp_interrupted)
            g_cancellable_cancel(cancel);
        g_main_context_iteration(NULL, FALSE);
        if (!w.res)
            g_usleep(2000);
    }
    GError *err = NULL;
    GList *addrs = g_resolver_lookup_by_name_finish(res, w.res, &err);
    for (GList *l = addrs; l; l = l->next) {
        GInetAddress *ia = l->data;
        gboolean v6 = g_inet_address_get_family(ia) == G_SOCKET_FAMILY_IPV6;
        if ((family == 4 && v6) || (family == 6 && !v6))
            continue;
        char *txt = g_inet_address_to_string(ia);
        struct sl_addr a;
        if (sl_addr_parse(&a, txt, 3478) == SL_OK)
            g_array_append_val(rows, a);
        g_free(txt);
    }
    if (rows->len == 0)
        *why = err ? g_strdup_printf("%s does not resolve: %s", u->host, err->message)
                   : g_strdup_printf("%s has no IPv%d address", u->host, family);
    g_clear_error(&err);
    g_resolver_free_addresses(addrs);
    g_object_unref(w.res);
    g_object_unref(cancel);
    g_object_unref(res);
    return rows;
}

/* HOST, [IPv6], or a turn:/turns:/stun: URI whose host is taken. */
static gboolean parse_host(const char *arg, struct sl_uri *u, char *why, size_t n)
{
    gboolean uri = g_str_has_prefix(arg, "turn:") || g_str_has_prefix(arg, "turns:") ||
                   g_str_has_prefix(arg, "stun:") || g_str_has_prefix(arg, "stuns:");
    char *text = uri ? g_strdup(arg) : g_strconcat("turn:", arg, NULL);
    int rc = sl_uri_parse(u, text, why, n);
    g_free(text);
    return rc == SL_OK;
}

/* ---- progress on a terminal ---- */

static void progress(const struct mx_run *run, gint64 deadline, gboolean show)
{
    if (!show)
        return;
    gint done = g_atomic_int_get(&run->done);
    double left = (double)(deadline - g_get_monotonic_time()) / G_USEC_PER_SEC;
    fprintf(stderr, "\r\033[Kmatrix: %d of %u cells done, %u pending, %.0f s left", done,
            run->cells->len, run->cells->len - (guint)done, MAX(left, 0));
    fflush(stderr);
}

int tp_cmd_matrix(int argc, char **argv)
{
    struct mx_opts o = {.timeout = 15.0};
    GOptionEntry entries[] = {
        {"username", 'u', 0, G_OPTION_ARG_STRING, &o.username,
         "the TURN username (without credentials only STUN Binding is tried)", "USER"},
        {"password-file", 0, 0, G_OPTION_ARG_FILENAME, &o.password_file,
         "read the password from the first line of F (or set TURNPROBE_PASSWORD)", "F"},
        {"password", 'p', 0, G_OPTION_ARG_STRING, &o.password_cli,
         "the password (visible to other users in ps: prefer --password-file)", "PW"},
        {"secret-file", 0, 0, G_OPTION_ARG_FILENAME, &o.secret_file,
         "a TURN REST shared secret: mint a time-limited credential for --user", "F"},
        {"user", 0, 0, G_OPTION_ARG_STRING, &o.rest_user,
         "the user part of the minted time-limited username", "NAME"},
        {"port", 0, 0, G_OPTION_ARG_STRING, &o.ports,
         "more ports to try, each over UDP, TCP and TLS", "P,..."},
        {"deep", 0, 0, G_OPTION_ARG_NONE, &o.deep,
         "also CreatePermission and data through the relay in each cell", NULL},
        {"timeout", 0, 0, G_OPTION_ARG_DOUBLE, &o.timeout,
         "one deadline for the whole matrix, in seconds (default 15)", "SECS"},
        {"json", 0, 0, G_OPTION_ARG_FILENAME, &o.json,
         "write the JSON report to FILE (- for standard output)", "FILE"},
        {"html", 0, 0, G_OPTION_ARG_FILENAME, &o.html, "write the HTML report to FILE", "FILE"},
        {"md", 0, 0, G_OPTION_ARG_FILENAME, &o.md,
         "write the Markdown report to FILE (- for standard output)", "FILE"},
        {"pcap", 0, 0, G_OPTION_ARG_FILENAME, &o.pcap,
         "write every cell's packets as pcapng (rebuilt from what turnprobe sent and received)",
         "FILE"},
        {"proxy", 0, 0, G_OPTION_ARG_STRING, &o.proxy,
         "go through a proxy: http://[USER:PASS@]HOST:PORT, socks5://HOST:PORT or env "
         "(https_proxy, all_proxy); UDP and DTLS are then left out",
         "URL"},
        {"ca", 0, 0, G_OPTION_ARG_FILENAME, &o.ca,
         "trust this CA certificate (PEM) for TLS and DTLS, besides the system store", "FILE"},
        {"insecure", 0, 0, G_OPTION_ARG_NONE, &o.insecure,
         "go on when a certificate does not verify", NULL},
        {"ipv4", '4', 0, G_OPTION_ARG_NONE, &o.ipv4, "IPv4 addresses only", NULL},
        {"ipv6", '6', 0, G_OPTION_ARG_NONE, &o.ipv6, "IPv6 addresses only", NULL},
        {"verbose", 'v', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, on_verbose,
         "also print every cell's checklist", NULL},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o.quiet, "print nothing; only the exit status", NULL},
        {"color", 0, 0, G_OPTION_ARG_STRING, &o.color, "auto (default), always or never", "WHEN"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *octx =
        g_option_context_new("HOST - reachability over every transport and usual port");
    GOptionGroup *grp = g_option_group_new("matrix", "", "", &o, NULL);
    g_option_group_add_entries(grp, entries);
    g_option_context_set_main_group(octx, grp);
    g_option_context_set_description(
        octx,
        "Every address of HOST is tried over UDP 3478, TCP 3478, TLS 5349, DTLS 5349, UDP 443,\n"
        "TCP 443 and TLS 443 (and each --port over UDP, TCP and TLS), all at once in 8 worker\n"
        "threads within one --timeout. Each cell runs Binding and Allocate (and releases the\n"
        "allocation); --deep adds CreatePermission and data through the relay. Then: which\n"
        "URLs work from here, a recommendation, and an iceServers list in order of preference\n"
        "(UDP 3478 > other UDP > TCP 3478 > TCP 443 > TLS 443 > TLS 5349). The list holds the\n"
        "username but never the password: add \"credential\" yourself (a missing one makes the\n"
        "browser throw at once, where a placeholder would fail quietly as a wrong password).\n"
        "Exit status: 0 at least one URL works, 1 none does, 2 bad usage, 3 internal error.\n");

    GError *err = NULL;
    int rc = TP_EXIT_USAGE;
    char *password = NULL, *secret = NULL, *username = NULL, *proxy_url = NULL;
    char *proxy_name = NULL, *rec = NULL;
    char **only = NULL;
    GArray *cols = NULL, *rows = NULL;
    struct mx_run run = {0};
    JsonNode *ice = NULL;
    struct sl_uri host;
    char why[256];
    if (!g_option_context_parse(octx, &argc, &argv, &err)) {
        rc = tp_usage_error("matrix", "%s", err->message);
        goto out;
    }
    if (argc != 2) {
        rc = tp_usage_error("matrix", "give one HOST (see turnprobe matrix --help)");
        goto out;
    }
    if (!parse_host(argv[1], &host, why, sizeof(why))) {
        rc = tp_usage_error("matrix", "\"%s\" is not a host: %s", argv[1], why);
        goto out;
    }
    if (o.timeout <= 0 || o.timeout > 3600) {
        rc = tp_usage_error("matrix", "--timeout must be between 0 and 3600 seconds");
        goto out;
    }
    if (!tp_color_valid(o.color)) {
        rc = tp_usage_error("matrix", "--color must be auto, always or never");
        goto out;
    }
    if (o.proxy) {
        proxy_url = tp_proxy_resolve(o.proxy, &err);
        if (!proxy_url) {
            rc = tp_usage_error("matrix", "%s", err->message);
            goto out;
        }
        proxy_name = tp_proxy_name(proxy_url);
    }
    /* An explicit port in a URI given as HOST is one more port to try. */
    char *ports = host.port_explicit ? g_strdup_printf("%s%s%u", o.ports ? o.ports : "",
                                                       o.ports ? "," : "", host.port)
                                     : g_strdup(o.ports);
    cols = make_cols(ports, proxy_url != NULL, &err);
    g_free(ports);
    if (!cols) {
        rc = tp_usage_error("matrix", "%s", err->message);
        goto out;
    }
    password = tp_secret_load(o.password_file, o.username ? "TURNPROBE_PASSWORD" : NULL,
                              o.password_cli, "password", &err);
    if (!err)
        secret = tp_secret_load(o.secret_file, o.rest_user ? "TURNPROBE_SECRET" : NULL, NULL,
                                "TURN REST secret", &err);
    if (err) {
        rc = tp_usage_error("matrix", "%s", err->message);
        goto out;
    }
    username = g_strdup(o.username);
    if (secret || o.rest_user) {
        char u[SL_REST_USERNAME_MAX + 1], pw[SL_REST_PASSWORD_SIZE];
        if (!secret || !o.rest_user) {
            rc = tp_usage_error("matrix", "--secret-file and --user go together");
            goto out;
        }
        int mrc = sl_rest_mint(secret, o.rest_user, g_get_real_time() / G_USEC_PER_SEC, 86400, ':',
                               u, sizeof(u), pw, sizeof(pw));
        if (mrc != SL_OK) {
            rc = tp_usage_error("matrix", "cannot mint a credential for user \"%s\": %s",
                                o.rest_user, sl_strerror(mrc));
            goto out;
        }
        g_free(username);
        username = g_strdup(u);
        tp_secret_free(password);
        password = g_strdup(pw);
        memset(pw, 0, sizeof(pw));
    }
    if ((username != NULL) != (password != NULL)) {
        rc = tp_usage_error("matrix", username ? "-u needs a password (--password-file F or "
                                                 "TURNPROBE_PASSWORD)"
                                               : "a password was given without -u USER");
        goto out;
    }
    gboolean creds = username != NULL;
    only = g_strsplit(!creds   ? "binding"
                      : o.deep ? "binding,allocate,permission,send-data"
                               : "binding,allocate",
                      ",", -1);

    gint64 t0 = g_get_monotonic_time();
    gint64 deadline = t0 + (gint64)(o.timeout * G_USEC_PER_SEC);
    struct tp_signals sig;
    tp_signals_catch(&sig);
    char *dns_why = NULL;
    rows = resolve_rows(&host, o.ipv4 ? 4 : o.ipv6 ? 6 : 0, deadline, &dns_why);
    run.r = rpt_result_new("matrix", TP_VERSION);
    if (rows->len == 0) {
        /* No address: the report says so with the settings and dns steps. */
        struct rpt_session *s = rpt_session_add(run.r, host.host);
        s->target.host = g_strdup(host.host);
        add_pass_step(s, "settings", host.host);
        chk_verdict_public(s, rpt_step_add(s, "dns"), RPT_FAIL, "dns-failed", dns_why);
        if (!o.quiet)
            fprintf(stderr, "turnprobe matrix: %s\n", dns_why);
        g_free(dns_why);
        tp_signals_release(&sig);
        rc = TP_EXIT_FAIL;
        if (o.json && !rpt_json_write(run.r, o.json, &err)) {
            fprintf(stderr, "turnprobe matrix: cannot write the JSON report: %s\n", err->message);
            rc = TP_EXIT_INTERNAL;
        }
        goto out;
    }
    g_free(dns_why);

    run.cols = cols;
    run.rows = rows;
    run.stop = &tp_interrupted;
    run.password = password;
    run.cells = g_ptr_array_new_with_free_func(cell_free);
    for (guint r = 0; r < rows->len; r++) {
        for (guint c = 0; c < cols->len; c++) {
            const struct mx_col *col = &g_array_index(cols, struct mx_col, c);
            struct mx_cell *cell = g_new0(struct mx_cell, 1);
            cell->row = r;
            cell->col = c;
            cell->server = g_array_index(rows, struct sl_addr, r);
            cell->server.port = col->port;
            struct sl_uri u = host;
            u.scheme = is_secure(col->tp) ? SL_URI_TURNS : SL_URI_TURN;
            u.secure = is_secure(col->tp);
            u.turn = TRUE;
            u.port = col->port;
            u.port_explicit = TRUE;
            u.transport = col->tp == RPT_UDP || col->tp == RPT_DTLS ? SL_URI_UDP : SL_URI_TCP;
            u.transport_explicit = TRUE;
            sl_uri_format(&u, cell->uri, sizeof(cell->uri));
            char a[SL_ADDR_STRLEN];
            cell->name = host.host_is_ip
                             ? g_strdup(cell->uri)
                             : g_strdup_printf("%s @ %s", cell->uri,
                                               sl_addr_format(&cell->server, a, sizeof(a), FALSE));
            struct chk_config *cfg = &cell->cfg;
            cfg->uri = u;
            cfg->uri_text = cell->uri;
            cfg->username = username;
            cfg->password = password;
            cfg->timeout_s = o.timeout;
            cfg->ca_file = o.ca;
            cfg->insecure = o.insecure;
            cfg->only = only;
            cfg->proxy = proxy_url;
            sl_txn_cfg_default(&cfg->txn, FALSE);
            cfg->deadline_us = deadline;
            g_ptr_array_add(run.cells, cell);
        }
    }

    gboolean show = !o.quiet && isatty(STDERR_FILENO);
    guint nworkers = MIN(MX_WORKERS, run.cells->len);
    GThread *threads[MX_WORKERS];
    for (guint i = 0; i < nworkers; i++)
        threads[i] = g_thread_new("matrix", worker, &run);
    /* The main thread watches: Ctrl-C (its signal sources live on the global default
     * context) and the progress line. */
    gint64 next_progress = 0;
    while (g_atomic_int_get(&run.done) < (gint)run.cells->len) {
        while (g_main_context_iteration(NULL, FALSE))
            ;
        if (g_get_monotonic_time() >= next_progress) {
            progress(&run, deadline, show);
            next_progress = g_get_monotonic_time() + 200000;
        }
        g_usleep(20000);
    }
    for (guint i = 0; i < nworkers; i++)
        g_thread_join(threads[i]);
    if (show)
        fprintf(stderr, "\r\033[K");
    tp_signals_release(&sig);
    double secs = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;

    /* One report, one session per cell in table order. */
    for (guint i = 0; i < run.cells->len; i++) {
        struct mx_cell *cell = g_ptr_array_index(run.cells, i);
        cell_judge(cell);
        merge_result(run.r, cell->r);
    }
    run.r->duration_ms = secs * 1000.0;
    rec = recommend(&run, host.host, proxy_name, creds);
    ice = ice_servers(&run, username);

    gboolean any_ok = FALSE;
    for (guint i = 0; i < run.cells->len; i++)
        any_ok |= cell_works(g_ptr_array_index(run.cells, i));
    rc = any_ok ? TP_EXIT_OK : TP_EXIT_FAIL;
    if (tp_interrupted && rc == TP_EXIT_OK)
        rc = TP_EXIT_FAIL;

    if (o.pcap && !rpt_pcapng_write(run.r, o.pcap, &err)) {
        fprintf(stderr, "turnprobe matrix: cannot write the capture: %s\n", err->message);
        g_clear_error(&err);
        rc = TP_EXIT_INTERNAL;
    }
    if (o.json) {
        JsonNode *root = rpt_json_build(run.r);
        json_object_set_object_member(
            json_node_get_object(root), "matrix",
            matrix_json(&run, host.host, proxy_name, rec, ice, o.timeout, o.deep, creds));
        char *j = rpt_json_node_to_string(root);
        char *jn = g_strconcat(j, "\n", NULL);
        if (!write_text_file(o.json, jn, &err)) {
            fprintf(stderr, "turnprobe matrix: cannot write the JSON report: %s\n", err->message);
            g_clear_error(&err);
            rc = TP_EXIT_INTERNAL;
        }
        g_free(jn);
        g_free(j);
        json_node_unref(root);
    }
    if (o.md) {
        char *section = matrix_md(&run, rec, ice);
        /* After the title and its blank line: the matrix first, then the sessions. */
        char *doc = splice_after(rpt_md_to_string(run.r), "\n\n", section);
        if (!write_text_file(o.md, doc, &err)) {
            fprintf(stderr, "turnprobe matrix: cannot write the Markdown report: %s\n",
                    err->message);
            g_clear_error(&err);
            rc = TP_EXIT_INTERNAL;
        }
        g_free(doc);
        g_free(section);
    }
    if (o.html) {
        char *section = matrix_html(&run, rec, ice);
        char *doc = splice_after(rpt_html_to_string(run.r), "</header>", section);
        if (!write_text_file(o.html, doc, &err)) {
            fprintf(stderr, "turnprobe matrix: cannot write the HTML report: %s\n", err->message);
            g_clear_error(&err);
            rc = TP_EXIT_INTERNAL;
        }
        g_free(doc);
        g_free(section);
    }
    gboolean stdout_taken = (o.json && strcmp(o.json, "-") == 0) ||
                            (o.md && strcmp(o.md, "-") == 0) ||
                            (o.html && strcmp(o.html, "-") == 0);
    if (!o.quiet && !stdout_taken) {
        gboolean color = tp_want_color(o.color);
        if (o.verbose) {
            struct rpt_text_opts to = {color, TRUE, o.verbose - 1};
            rpt_text_write(run.r, stdout, &to);
            fputc('\n', stdout);
        }
        print_text(stdout, &run, host.host, proxy_name, rec, ice, color,
                   !creds   ? "Binding"
                   : o.deep ? "Binding, Allocate, CreatePermission and data both ways"
                            : "Binding and Allocate",
                   secs);
    }

out:
    if (ice)
        json_node_unref(ice);
    g_free(rec);
    if (run.cells)
        g_ptr_array_unref(run.cells);
    rpt_result_free(run.r);
    if (cols)
        g_array_unref(cols);
    if (rows)
        g_array_unref(rows);
    g_strfreev(only);
    tp_secret_free(password);
    tp_secret_free(secret);
    g_free(username);
    if (proxy_url) /* it may hold the proxy's password */
        memset(proxy_url, 0, strlen(proxy_url));
    g_free(proxy_url);
    g_free(proxy_name);
    g_clear_error(&err);
    g_free(o.username);
    g_free(o.password_file);
    if (o.password_cli) {
        memset(o.password_cli, 0, strlen(o.password_cli));
        g_free(o.password_cli);
    }
    if (o.proxy)
        memset(o.proxy, 0, strlen(o.proxy));
    g_free(o.proxy);
    g_free(o.secret_file);
    g_free(o.rest_user);
    g_free(o.ports);
    g_free(o.json);
    g_free(o.html);
    g_free(o.md);
    g_free(o.pcap);
    g_free(o.ca);
    g_free(o.color);
    g_option_context_free(octx);
    return rc;
}
