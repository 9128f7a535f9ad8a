/* `turnprobe check`: the whole checklist against a TURN server, with every report. */
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chk.h"
#include "chk_nice.h"
#include "rpt_html.h"
#include "rpt_json.h"
#include "rpt_md.h"
#include "rpt_pcapng.h"
#include "rpt_redact.h"
#include "rpt_text.h"
#include "sl_rest.h"
#include "sl_uri.h"
#include "tp.h"
#include "tp_capture.h"
#include "tp_iceservers.h"
#include "tp_proxy.h"
#include "tp_version.h"

struct check_opts {
    char *username, *password_file, *password_cli, *secret_file, *rest_user, *ice_servers;
    char *json, *md, *html, *pcap, *capture, *keylog, *ca, *format, *peer, *skip, *only, *color;
    char *proxy; /* --proxy: a proxy URL, or "env" */
    double timeout;
    gboolean ipv4, ipv6, quiet, no_precheck, redact, insecure;
    int verbose;
};

static gboolean on_verbose(const gchar *name, const gchar *value, gpointer data, GError **err)
{
    (void)name;
    (void)value;
    (void)err;
    ((struct check_opts *)data)->verbose++;
    return TRUE;
}

static gboolean valid_steps(const char *list, char ***out, GError **err)
{
    if (!list)
        return TRUE;
    char **ids = g_strsplit(list, ",", -1);
    for (char **id = ids; *id; id++) {
        g_strstrip(*id);
        gboolean known = FALSE;
        for (size_t i = 0; i < rpt_step_count; i++)
            known |= strcmp(rpt_steps[i].id, *id) == 0;
        if (!known) {
            g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "unknown step \"%s\" (steps: settings, dns, tls, binding, allocate, "
                        "permission, send-data, channel, ice, refresh, policy)",
                        *id);
            g_strfreev(ids);
            return FALSE;
        }
    }
    *out = ids;
    return TRUE;
}

struct async_wait {
    GAsyncResult *res;
};

static void on_async(GObject *src, GAsyncResult *res, gpointer ud)
{
    (void)src;
    ((struct async_wait *)ud)->res = g_object_ref(res);
}

/* Iterates the main context until an async call completes; cancels it at the deadline. */
static void wait_async(struct async_wait *w, GCancellable *cancel, gint64 deadline)
{
    while (!w->res) {
        if (g_get_monotonic_time() >= deadline || tp_interrupted)
            g_cancellable_cancel(cancel);
        GMainContext *mc = g_main_context_get_thread_default();
        g_main_context_iteration(mc, !g_cancellable_is_cancelled(cancel));
        if (g_cancellable_is_cancelled(cancel) && !w->res)
            g_main_context_iteration(mc, TRUE);
    }
}

static GList *lookup_name(GResolver *res, const char *host, gint64 deadline, GError **err)
{
    struct async_wait w = {0};
    GCancellable *cancel = g_cancellable_new();
    g_resolver_lookup_by_name_async(res, host, cancel, on_async, &w);
    wait_async(&w, cancel, deadline);
    GList *l = g_resolver_lookup_by_name_finish(res, w.res, err);
    g_object_unref(w.res);
    g_object_unref(cancel);
    return l;
}

/* A resolved place to probe: the address, and how DNS got there. */
struct place {
    struct sl_addr addr;
    char via[300];
};

static void add_addresses(GArray *out, GList *addrs, uint16_t port, int family, const char *via,
                          JsonArray *list)
{
    for (GList *l = addrs; l; l = l->next) {
        GInetAddress *ia = l->data;
        gboolean v6 = g_inet_address_get_family(ia) == G_SOCKET_FAMILY_IPV6;
        char *txt = g_inet_address_to_string(ia);
        struct place p = {0};
        if (list)
            json_array_add_string_element(list, txt);
        if (!((family == 4 && v6) || (family == 6 && !v6)) &&
            sl_addr_parse(&p.addr, txt, port) == SL_OK) {
            g_strlcpy(p.via, via, sizeof(p.via));
            g_array_append_val(out, p);
        }
        g_free(txt);
    }
}

/* Every address of the URI's host: SRV first when the URI has no port (RFC 5928 §4), then
 * A/AAAA. Fills the dns details; *why explains a failure. */
static GArray *resolve(const struct sl_uri *uri, int family, gint64 deadline, JsonObject *det,
                       char **why)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(struct place));
    *why = NULL;
    if (uri->host_is_ip) {
        struct place p = {0};
        sl_addr_parse(&p.addr, uri->host, uri->port);
        g_strlcpy(p.via, "address literal", sizeof(p.via));
        g_array_append_val(out, p);
        return out;
    }
    GResolver *res = g_resolver_get_default();
    GError *err = NULL;
    if (!uri->port_explicit) {
        /* RFC 5928: _turn._udp, _turn._tcp, _turns._tcp (and _stun(s) for STUN URIs). */
        const char *service = uri->turn ? (uri->secure ? "turns" : "turn")
                                        : (uri->secure ? "stuns" : "stun");
        const char *proto = uri->transport == SL_URI_TCP || uri->secure ? "tcp" : "udp";
        if (uri->secure && uri->transport == SL_URI_UDP)
            proto = "udp";
        char *name = g_strdup_printf("_%s._%s.%s", service, proto, uri->host);
        json_object_set_string_member(det, "srv_query", name);
        struct async_wait w = {0};
        GCancellable *cancel = g_cancellable_new();
        g_resolver_lookup_service_async(res, service, proto, uri->host, cancel, on_async, &w);
        wait_async(&w, cancel, deadline);
        GList *targets = g_resolver_lookup_service_finish(res, w.res, NULL);
        g_object_unref(w.res);
        g_object_unref(cancel);
        JsonArray *srv = json_array_new();
        for (GList *t = targets; t; t = t->next) {
            GSrvTarget *st = t->data;
            const char *host = g_srv_target_get_hostname(st);
            guint16 port = g_srv_target_get_port(st);
            char *entry = g_strdup_printf("%s:%u (priority %u, weight %u)", host, port,
                                          g_srv_target_get_priority(st),
                                          g_srv_target_get_weight(st));
            json_array_add_string_element(srv, entry);
            g_free(entry);
            GList *addrs = lookup_name(res, host, deadline, NULL);
            char *via = g_strdup_printf("SRV %s -> %s:%u", name, host, port);
            add_addresses(out, addrs, port, family, via, NULL);
            g_free(via);
            g_resolver_free_addresses(addrs);
        }
        json_object_set_array_member(det, "srv", srv);
        g_resolver_free_targets(targets);
        g_free(name);
        if (out->len > 0) {
            g_object_unref(res);
            return out;
        }
    }
    GList *addrs = lookup_name(res, uri->host, deadline, &err);
    JsonArray *list = json_array_new();
    char *via = g_strdup_printf("%s %s", uri->host, "A/AAAA");
    add_addresses(out, addrs, uri->port, family, via, list);
    g_free(via);
    json_object_set_array_member(det, "addresses", list);
    if (out->len == 0)
        *why = err ? g_strdup_printf("%s does not resolve: %s", uri->host, err->message)
                   : g_strdup_printf("%s has no IPv%d address", uri->host, family);
    g_resolver_free_addresses(addrs);
    g_clear_error(&err);
    g_object_unref(res);
    return out;
}

/* The settings step: the URI, the credentials, and a time-limited username's expiry. Returns
 * FALSE when nothing should be sent (an expired REST credential without --no-precheck). */
static gboolean step_settings(struct rpt_session *s, const struct chk_config *cfg,
                              const struct check_opts *o)
{
    struct rpt_step *st = rpt_step_add(s, "settings");
    char uri[300];
    sl_uri_format(&cfg->uri, uri, sizeof(uri));
    json_object_set_string_member(st->details, "uri", uri);
    json_object_set_string_member(st->details, "transport", s->target.transport);
    if (cfg->username)
        json_object_set_string_member(st->details, "username", cfg->username);
    json_object_set_string_member(st->details, "password", s->target.password_info);
    if (cfg->uri.turn && (!cfg->username || !cfg->password)) {
        const char *missing = !cfg->username && !cfg->password ? "a username and a password"
                              : !cfg->username                 ? "a username"
                                                               : "a password";
        char *sum = g_strdup_printf("%s: the URI is a TURN server but %s %s not given", uri,
                                    missing, cfg->username || cfg->password ? "was" : "were");
        chk_verdict_public(s, st, RPT_FAIL, "credentials-missing", sum);
        g_free(sum);
        return TRUE;
    }
    int64_t expiry = 0, now = g_get_real_time() / G_USEC_PER_SEC;
    char user[256], when[128];
    if (cfg->username && sl_rest_decode(cfg->username, ':', &expiry, user, sizeof(user)) == SL_OK) {
        sl_rest_describe(expiry, now, when, sizeof(when));
        json_object_set_int_member(st->details, "rest_expiry", expiry);
        json_object_set_string_member(st->details, "rest_expiry_text", when);
        if (expiry < now) {
            char *sum = g_strdup_printf("the time-limited username %s", when);
            chk_verdict_public(s, st, RPT_FAIL, "rest-credential-expired", sum);
            g_free(sum);
            return o->no_precheck;
        }
        if (expiry - now > 10LL * 365 * 86400) {
            char *sum = g_strdup_printf("the time-limited username's timestamp is more than ten "
                                        "years ahead (%s): is it really an expiry?", when);
            chk_verdict_public(s, st, RPT_WARN, "rest-credential-not-yet-valid", sum);
            g_free(sum);
            return TRUE;
        }
        if (expiry - now < (int64_t)cfg->timeout_s) {
            char *sum = g_strdup_printf("the time-limited username %s, before this check ends",
                                        when);
            chk_verdict_public(s, st, RPT_WARN, "rest-credential-expired", sum);
            g_free(sum);
            return TRUE;
        }
    }
    char *sum = g_strdup_printf("%s%s%s, password %s%s%s", uri, cfg->username ? ", user " : "",
                                cfg->username ? cfg->username : "", s->target.password_info,
                                expiry ? "; the time-limited username " : "", expiry ? when : "");
    rpt_step_set(st, RPT_PASS, "ok", sum, NULL);
    g_free(sum);
    return TRUE;
}

/* One URI to check, with its credentials (from the command line or an iceServers entry). */
struct target {
    char *text;
    struct sl_uri uri;
    char *error; /* sl_uri_parse's reason */
    char *username;
    char *password;
};

static void target_free(gpointer data)
{
    struct target *t = data;
    g_free(t->text);
    g_free(t->error);
    g_free(t->username);
    tp_secret_free(t->password);
    g_free(t);
}

static struct rpt_session *new_session(struct rpt_result *r, const struct target *t,
                                       const char *name)
{
    struct rpt_session *s = rpt_session_add(r, name);
    s->target.uri = g_strdup(t->text);
    if (!t->error) {
        char canon[300];
        sl_uri_format(&t->uri, canon, sizeof(canon));
        g_free(s->target.uri);
        s->target.uri = g_strdup(canon);
        s->target.host = g_strdup(t->uri.host);
        s->target.port = t->uri.port;
        /* turns: is TLS over TCP, or DTLS with ?transport=udp (RFC 7065). */
        const char *tp = sl_uri_transport_name(t->uri.transport);
        if (t->uri.secure)
            tp = t->uri.transport == SL_URI_UDP ? "dtls" : "tls";
        s->target.transport = g_strdup(tp);
    }
    s->target.username = g_strdup(t->username);
    s->target.password_info =
        t->password ? g_strdup_printf("given (%ld characters)", g_utf8_strlen(t->password, -1))
                    : g_strdup("not given");
    return s;
}

static void skip_live(struct rpt_session *s, const char *why)
{
    const char *ids[] = {"tls",     "binding", "allocate", "permission", "send-data",
                         "channel", "ice",     "refresh",  "policy"};
    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
        struct rpt_step *st = rpt_step_find(s, ids[i]);
        if (!st)
            st = rpt_step_add(s, ids[i]);
        if (st->status == RPT_SKIP && !st->summary) {
            char *sum = g_strdup_printf("skipped: %s", why);
            rpt_step_set(st, RPT_SKIP, "ok", sum, NULL);
            g_free(sum);
        }
    }
}

/* Checks one target: settings, DNS, then the checklist against each address it resolves
 * to, one session per address. The addresses share what is left of the run's time. */
static void check_target(struct rpt_result *r, struct chk_config *base, const struct target *t,
                         const struct check_opts *o, guint targets_left, gboolean gather)
{
    if (t->error) {
        struct rpt_session *s = new_session(r, t, t->text);
        struct rpt_step *st = rpt_step_add(s, "settings");
        char *sum = g_strdup_printf("%s: %s", t->text, t->error);
        chk_verdict_public(s, st, RPT_FAIL, "uri-invalid", sum);
        g_free(sum);
        rpt_step_set(rpt_step_add(s, "dns"), RPT_SKIP, "ok", "skipped: the URI is invalid", NULL);
        skip_live(s, "the URI is invalid");
        return;
    }
    struct chk_config cfg = *base;
    cfg.uri = t->uri;
    cfg.uri_text = t->text;
    cfg.username = t->username;
    cfg.password = t->password;
    char **only = NULL;
    if (!cfg.uri.turn) {
        /* stun: URIs have only the binding step (RFC 7064). */
        only = g_strsplit("binding", ",", -1);
        cfg.only = only;
    }
    char canon[300];
    sl_uri_format(&t->uri, canon, sizeof(canon));

    /* The time this target may use: its share of what is left. */
    gint64 now = g_get_monotonic_time();
    gint64 share = (base->deadline_us - now) / MAX(targets_left, 1);
    gint64 target_deadline = now + share;

    JsonObject *dns_det = json_object_new();
    char *why = NULL;
    gint64 t0 = g_get_monotonic_time();
    GArray *places = resolve(&t->uri, cfg.family, target_deadline, dns_det, &why);
    double dns_ms = (double)(g_get_monotonic_time() - t0) / 1000.0;
    guint n = MAX(places->len, 1);
    guint first = r->sessions->len;
    for (guint i = 0; i < n; i++) {
        const struct place *pl = places->len ? &g_array_index(places, struct place, i) : NULL;
        char addr[SL_ADDR_STRLEN] = "";
        if (pl)
            sl_addr_format(&pl->addr, addr, sizeof(addr), TRUE);
        char *name = places->len > 1 ? g_strdup_printf("%s @ %s", canon, addr) : g_strdup(canon);
        struct rpt_session *s = new_session(r, t, name);
        g_free(name);
        gboolean go = step_settings(s, &cfg, o);
        struct rpt_step *dns = rpt_step_add(s, "dns");
        dns->duration_ms = dns_ms;
        json_object_unref(dns->details);
        dns->details = json_object_ref(dns_det);
        if (!pl) {
            chk_verdict_public(s, dns, RPT_FAIL, "dns-failed", why);
            skip_live(s, "the host name does not resolve");
            continue;
        }
        char *sum = places->len > 1
                        ? g_strdup_printf("address %u of %u: %s (%s)", i + 1, places->len, addr,
                                          pl->via)
                        : g_strdup_printf("%s (%s)", addr, pl->via);
        rpt_step_set(dns, RPT_PASS, "ok", sum, NULL);
        g_free(sum);
        /* The port actually contacted: an SRV record may name another than the URI's. */
        s->target.port = pl->addr.port;
        struct rpt_step *tls = rpt_step_add(s, "tls");
        if (!t->uri.secure)
            rpt_step_set(tls, RPT_SKIP, "ok", "skipped: not a turns: URI", NULL);
        if (!go) {
            skip_live(s, "the credential has expired (--no-precheck sends anyway)");
            continue;
        }
        gint64 left = target_deadline - g_get_monotonic_time();
        cfg.deadline_us = g_get_monotonic_time() + MAX(left / (gint64)(n - i), 0);
        cfg.server = &pl->addr;
        chk_check_run(&cfg, r, s, &tp_interrupted);
        /* For iceServers input, what a browser's ICE agent gathers from this URL, as the
         * WebRTC samples' "Trickle ICE" page shows it: once per URL, from its first address. */
        if (gather && i == 0 && !tp_interrupted && g_get_monotonic_time() < target_deadline) {
            cfg.deadline_us = target_deadline;
            json_object_set_object_member(s->facts, "gathering",
                                          chk_nice_gather(&cfg, &tp_interrupted));
        }
        tp_proxy_check_tls(&cfg, s);
        if (tp_interrupted)
            break;
    }
    /* Round-robin DNS with a dead node: some addresses work and others do not. */
    if (places->len > 1) {
        guint ok = 0, bad = 0;
        for (guint i = first; i < r->sessions->len; i++)
            rpt_session_verdict(g_ptr_array_index(r->sessions, i)) == RPT_FAIL ? bad++ : ok++;
        JsonObject *per = json_object_new();
        for (guint i = first; i < r->sessions->len; i++) {
            struct rpt_session *s = g_ptr_array_index(r->sessions, i);
            json_object_set_string_member(per, s->target.address ? s->target.address : s->name,
                                          rpt_status_name(rpt_session_verdict(s)));
        }
        json_object_set_object_member(dns_det, "per_address", per);
        if (ok && bad) {
            char *sum = g_strdup_printf("%s: %u of %u addresses fail the checklist while %u "
                                        "pass", t->uri.host, bad, ok + bad, ok);
            for (guint i = first; i < r->sessions->len; i++) {
                struct rpt_session *s = g_ptr_array_index(r->sessions, i);
                chk_verdict_public(s, rpt_step_find(s, "dns"), RPT_WARN, "dns-partial", sum);
            }
            g_free(sum);
        }
    }
    json_object_unref(dns_det);
    g_array_unref(places);
    g_free(why);
    g_strfreev(only);
}

static void print_obtained(FILE *out, JsonObject *obtained, const char *type)
{
    JsonObject *t = obtained && json_object_has_member(obtained, type)
                        ? json_object_get_object_member(obtained, type)
                        : NULL;
    if (t)
        fprintf(out, "  %-5s %2" G_GINT64_FORMAT " in %6.1f ms", type,
                json_object_get_int_member(t, "count"),
                json_object_get_double_member(t, "first_ms"));
    else
        fprintf(out, "  %-5s  -           ", type);
}

/* The gathering view of --ice-servers: which candidate types each URL gave, how fast, and
 * why the others did not come. */
static void print_gathering(FILE *out, const struct rpt_result *r)
{
    gboolean any = FALSE;
    for (guint i = 0; i < r->sessions->len; i++) {
        const struct rpt_session *s = g_ptr_array_index(r->sessions, i);
        if (!json_object_has_member(s->facts, "gathering"))
            continue;
        if (!any)
            fprintf(out, "\nCandidates a browser would gather (one libnice agent per URL, like "
                         "the \"Trickle ICE\" page):\n");
        any = TRUE;
        JsonObject *g = json_object_get_object_member(s->facts, "gathering");
        JsonObject *ob = json_object_has_member(g, "obtained")
                             ? json_object_get_object_member(g, "obtained") : NULL;
        fprintf(out, "  %s\n  ", s->target.uri ? s->target.uri : s->name);
        print_obtained(out, ob, "host");
        print_obtained(out, ob, "srflx");
        print_obtained(out, ob, "relay");
        fputc('\n', out);
        JsonArray *failed = json_object_has_member(g, "failed")
                                ? json_object_get_array_member(g, "failed") : NULL;
        for (guint k = 0; failed && k < json_array_get_length(failed); k++) {
            JsonObject *f = json_array_get_object_element(failed, k);
            fprintf(out, "    no %s: %s\n",
                    json_object_get_string_member_with_default(f, "type", "?"),
                    json_object_get_string_member_with_default(f, "why", "?"));
        }
    }
}

int tp_cmd_check(int argc, char **argv)
{
    struct check_opts o = {.timeout = 30.0};
    GOptionEntry entries[] = {
        {"username", 'u', 0, G_OPTION_ARG_STRING, &o.username, "the TURN username", "USER"},
        {"password-file", 0, 0, G_OPTION_ARG_FILENAME, &o.password_file,
         "read the password from the first line of F (or set TURNPROBE_PASSWORD)", "F"},
        {"password", 'p', 0, G_OPTION_ARG_STRING, &o.password_cli,
         "the password (visible to other users in ps: prefer --password-file)", "PW"},
        {"secret-file", 0, 0, G_OPTION_ARG_FILENAME, &o.secret_file,
         "a TURN REST shared secret (coturn static-auth-secret): mint a time-limited credential "
         "for --user (or set TURNPROBE_SECRET)", "F"},
        {"user", 0, 0, G_OPTION_ARG_STRING, &o.rest_user,
         "the user part of the minted time-limited username", "NAME"},
        {"ice-servers", 0, 0, G_OPTION_ARG_FILENAME, &o.ice_servers,
         "check every URL of a WebRTC iceServers JSON (FILE or - for standard input)", "FILE"},
        {"json", 0, 0, G_OPTION_ARG_FILENAME, &o.json,
         "write the JSON report to FILE (- for standard output)", "FILE"},
        {"md", 0, 0, G_OPTION_ARG_FILENAME, &o.md, "write the Markdown report to FILE", "FILE"},
        {"html", 0, 0, G_OPTION_ARG_FILENAME, &o.html,
         "write a self-contained HTML report (ladder diagram, timings) to FILE", "FILE"},
        {"ca", 0, 0, G_OPTION_ARG_FILENAME, &o.ca,
         "trust this CA certificate (PEM) for turns:, besides the system store", "FILE"},
        {"insecure", 0, 0, G_OPTION_ARG_NONE, &o.insecure,
         "record a certificate failure and go on with the checklist anyway", NULL},
        {"proxy", 0, 0, G_OPTION_ARG_STRING, &o.proxy,
         "connect TCP and TLS through a proxy: http://[USER:PASS@]HOST:PORT (HTTP CONNECT), "
         "socks5://HOST:PORT, or env (https_proxy, all_proxy); UDP cannot go through one", "URL"},
        {"keylog", 0, 0, G_OPTION_ARG_FILENAME, &o.keylog,
         "write the TLS secrets in NSS key log format (Wireshark decrypts with it)", "FILE"},
        {"pcap", 0, 0, G_OPTION_ARG_FILENAME, &o.pcap,
         "write every packet of the check to FILE as pcapng, each commented with its step and "
         "verdict", "FILE"},
        {"capture", 0, 0, G_OPTION_ARG_STRING, &o.capture,
         "where --pcap's frames come from: auto (the default: live where permitted, else self), "
         "live (libpcap on the route to the server: root or CAP_NET_RAW), self (rebuilt from "
         "what turnprobe sent and received) or off", "MODE"},
        {"redact", 0, 0, G_OPTION_ARG_NONE, &o.redact,
         "replace usernames, realms, nonces, host names and public addresses with stable labels "
         "in every report", NULL},
        {"format", 0, 0, G_OPTION_ARG_STRING, &o.format,
         "what to print on standard output: text (default), json or md", "FMT"},
        {"timeout", 0, 0, G_OPTION_ARG_DOUBLE, &o.timeout,
         "one deadline for the whole run, in seconds (default 30)", "SECS"},
        {"peer", 0, 0, G_OPTION_ARG_STRING, &o.peer,
         "an external UDP echo peer instead of turnprobe's own second allocation", "ADDR:PORT"},
        {"skip", 0, 0, G_OPTION_ARG_STRING, &o.skip, "steps not to run", "STEP,..."},
        {"only", 0, 0, G_OPTION_ARG_STRING, &o.only,
         "run only these steps (and what they need)", "STEP,..."},
        {"ipv4", '4', 0, G_OPTION_ARG_NONE, &o.ipv4, "use IPv4 addresses only", NULL},
        {"ipv6", '6', 0, G_OPTION_ARG_NONE, &o.ipv6, "use IPv6 addresses only", NULL},
        {"no-precheck", 0, 0, G_OPTION_ARG_NONE, &o.no_precheck,
         "send requests even when the time-limited username has expired", NULL},
        {"verbose", 'v', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, on_verbose,
         "show every packet and transaction", NULL},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o.quiet, "print nothing; only the exit status",
         NULL},
        {"color", 0, 0, G_OPTION_ARG_STRING, &o.color, "auto (default), always or never",
         "WHEN"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *octx =
        g_option_context_new("URI... - the TURN checklist against a server");
    GOptionGroup *grp = g_option_group_new("check", "", "", &o, NULL);
    g_option_group_add_entries(grp, entries);
    g_option_context_set_main_group(octx, grp);
    g_option_context_set_description(
        octx,
        "URI is turn:HOST[:PORT][?transport=udp|tcp], turns: for TLS (or DTLS with\n"
        "?transport=udp), or stun:/stuns: (RFC 7064, RFC 7065); without\n"
        "a port, SRV records (_turn._udp, _turn._tcp) are looked up first (RFC 5928). Every\n"
        "address of the host is checked on its own.\n"
        "Steps: settings dns tls binding allocate permission send-data channel ice refresh\n"
        "policy. Exit status: 0 every step passed (warnings allowed), 1 a step failed,\n"
        "2 bad usage or input, 3 internal error.\n");

    GError *err = NULL;
    int rc = TP_EXIT_USAGE;
    struct chk_config cfg = {0};
    struct rpt_result *r = NULL;
    enum tp_capture_mode capture = TP_CAPTURE_AUTO;
    struct tp_capture *cap = NULL;
    GPtrArray *targets = g_ptr_array_new_with_free_func(target_free);
    char *password = NULL, *secret = NULL;
    char *proxy_url = NULL;
    struct tp_ice_config *ice = NULL;
    if (!g_option_context_parse(octx, &argc, &argv, &err)) {
        rc = tp_usage_error("check", "%s", err->message);
        goto out;
    }
    if ((argc < 2) == !o.ice_servers) {
        rc = tp_usage_error("check", "give a TURN or STUN URI, or --ice-servers FILE (see "
                                     "turnprobe check --help)");
        goto out;
    }
    if (o.timeout <= 0 || o.timeout > 3600) {
        rc = tp_usage_error("check", "--timeout must be between 0 and 3600 seconds");
        goto out;
    }
    if (o.format && strcmp(o.format, "text") != 0 && strcmp(o.format, "json") != 0 &&
        strcmp(o.format, "md") != 0) {
        rc = tp_usage_error("check", "--format must be text, json or md");
        goto out;
    }
    if (!tp_capture_mode_parse(o.capture, &capture)) {
        rc = tp_usage_error("check", "--capture must be auto, live, self or off");
        goto out;
    }
    if (capture == TP_CAPTURE_LIVE && (!o.pcap || o.redact)) {
        rc = tp_usage_error("check", !o.pcap ? "--capture live needs --pcap FILE"
                                             : "--redact cannot apply to a live capture (its "
                                               "frames hold the real addresses and names): use "
                                               "--capture self");
        goto out;
    }
    if (!tp_color_valid(o.color)) {
        rc = tp_usage_error("check", "--color must be auto, always or never");
        goto out;
    }
    if (o.peer && sl_addr_parse(&cfg.peer, o.peer, -1) != SL_OK) {
        rc = tp_usage_error("check", "--peer \"%s\" is not ADDR:PORT (IPv6 as [ADDR]:PORT)",
                            o.peer);
        goto out;
    }
    if (!valid_steps(o.skip, &cfg.skip, &err) || !valid_steps(o.only, &cfg.only, &err)) {
        rc = tp_usage_error("check", "%s", err->message);
        goto out;
    }
    password = tp_secret_load(o.password_file, "TURNPROBE_PASSWORD", o.password_cli, "password",
                              &err);
    if (!err)
        secret = tp_secret_load(o.secret_file, o.rest_user ? "TURNPROBE_SECRET" : NULL, NULL,
                                "TURN REST secret", &err);
    if (err) {
        rc = tp_usage_error("check", "%s", err->message);
        goto out;
    }
    char *username = g_strdup(o.username);
    if (secret || o.rest_user) {
        if (!secret || !o.rest_user) {
            g_free(username);
            rc = tp_usage_error("check", "--secret-file and --user go together (a TURN REST "
                                         "credential is minted from both)");
            goto out;
        }
        char u[SL_REST_USERNAME_MAX + 1], pw[SL_REST_PASSWORD_SIZE];
        int mrc = sl_rest_mint(secret, o.rest_user, g_get_real_time() / G_USEC_PER_SEC, 86400,
                               ':', u, sizeof(u), pw, sizeof(pw));
        if (mrc != SL_OK) {
            g_free(username);
            rc = tp_usage_error("check", "cannot mint a credential for user \"%s\": %s",
                                o.rest_user, sl_strerror(mrc));
            goto out;
        }
        g_free(username);
        username = g_strdup(u);
        tp_secret_free(password);
        password = g_strdup(pw);
        memset(pw, 0, sizeof(pw));
    }
    if (o.ice_servers) {
        ice = tp_ice_config_load(o.ice_servers, &err);
        if (!ice) {
            g_free(username);
            rc = tp_usage_error("check", "%s", err->message);
            goto out;
        }
        for (guint i = 0; i < ice->urls->len; i++) {
            const struct tp_ice_url *u = g_ptr_array_index(ice->urls, i);
            struct target *t = g_new0(struct target, 1);
            t->text = g_strdup(u->uri);
            t->error = g_strdup(u->error);
            t->uri = u->parsed;
            t->username = g_strdup(u->username ? u->username : username);
            t->password = g_strdup(u->credential ? u->credential : password);
            g_ptr_array_add(targets, t);
        }
    }
    for (int i = 1; i < argc; i++) {
        struct target *t = g_new0(struct target, 1);
        char why[256];
        t->text = g_strdup(argv[i]);
        if (sl_uri_parse(&t->uri, argv[i], why, sizeof(why)) != SL_OK) {
            if (!o.ice_servers && argc == 2) {
                target_free(t);
                g_free(username);
                rc = tp_usage_error("check", "uri-invalid: %s", why);
                goto out;
            }
            t->error = g_strdup(why);
        }
        t->username = g_strdup(username);
        t->password = g_strdup(password);
        g_ptr_array_add(targets, t);
    }
    g_free(username);
    if (o.proxy) {
        proxy_url = tp_proxy_resolve(o.proxy, &err);
        if (!proxy_url) {
            rc = tp_usage_error("check", "%s", err->message);
            goto out;
        }
        const struct target *t0 = g_ptr_array_index(targets, 0);
        if (targets->len == 1 && !t0->error && t0->uri.transport == SL_URI_UDP) {
            rc = tp_usage_error("check", "--proxy carries TCP only (HTTP CONNECT, SOCKS5): use "
                                         "?transport=tcp, or turns: for TLS");
            goto out;
        }
    }

    cfg.proxy = proxy_url;
    cfg.have_peer = o.peer != NULL;
    cfg.ca_file = o.ca;
    cfg.insecure = o.insecure;
    cfg.timeout_s = o.timeout;
    cfg.family = o.ipv4 ? 4 : o.ipv6 ? 6 : 0;
    sl_txn_cfg_default(&cfg.txn, FALSE);
    cfg.deadline_us = g_get_monotonic_time() + (gint64)(o.timeout * G_USEC_PER_SEC);

    /* Live capture begins before anything is sent; a redacted report gets rebuilt frames. */
    /* Through a proxy the packets leave for the proxy, not the server: a live capture filtered
     * on the server would be empty, so auto rebuilds the frames instead. */
    if (capture == TP_CAPTURE_LIVE && proxy_url) {
        rc = tp_usage_error("check", "--capture live cannot follow traffic through --proxy; "
                                     "use --capture self");
        goto out;
    }
    if (o.pcap && (capture == TP_CAPTURE_LIVE ||
                   (capture == TP_CAPTURE_AUTO && !o.redact && !proxy_url))) {
        GArray *uris = g_array_new(FALSE, FALSE, sizeof(struct sl_uri));
        for (guint i = 0; i < targets->len; i++) {
            const struct target *t = g_ptr_array_index(targets, i);
            if (!t->error)
                g_array_append_val(uris, t->uri);
        }
        cap = tp_capture_start((const struct sl_uri *)(void *)uris->data, uris->len, &err);
        g_array_unref(uris);
        if (!cap && capture == TP_CAPTURE_LIVE) {
            fprintf(stderr, "turnprobe check: --capture live: %s\n", err->message);
            rc = TP_EXIT_INTERNAL;
            goto out;
        }
        if (!cap)
            fprintf(stderr, "turnprobe check: no live capture (%s): the pcapng is rebuilt from "
                            "turnprobe's own packet log (--capture self)\n", err->message);
        g_clear_error(&err);
    }
    struct tp_signals sig;
    tp_signals_catch(&sig);
    r = rpt_result_new("check", TP_VERSION);
    for (guint i = 0; i < targets->len && !tp_interrupted; i++) {
        struct target *t = g_ptr_array_index(targets, i);
        check_target(r, &cfg, t, &o, targets->len - i, o.ice_servers != NULL);
    }
    r->duration_ms = (double)(g_get_real_time() - r->start_us) / 1000.0;
    /* Before any report: the packets become the captured frames, numbered as in the file. */
    if (cap) {
        tp_capture_stop(cap);
        if (!tp_capture_adopt(cap, r, &err)) {
            fprintf(stderr, "turnprobe check: %s: the pcapng is rebuilt from turnprobe's own "
                            "packet log instead\n", err->message);
            g_clear_error(&err);
            tp_capture_free(cap);
            cap = NULL;
        }
    }
    tp_signals_release(&sig);

    rc = rpt_result_verdict(r) == RPT_FAIL ? TP_EXIT_FAIL : TP_EXIT_OK;
    if (o.redact)
        rpt_redact(r);
    /* The capture is written whatever the outcome: a failed or interrupted check is exactly
     * when it matters. */
    if (o.pcap && capture != TP_CAPTURE_OFF) {
        g_free(r->capture_file);
        r->capture_file = g_path_get_basename(o.pcap);
        if (!cap) {
            /* The rebuilt capture's own comment says how to look at it, and that the run was
             * cut short when it was (a live capture writes the same from tp_capture). */
            char *how = tp_capture_howto(r, r->capture_file);
            g_free(r->capture_note);
            const char *cut = tp_interrupted ? "the run was interrupted (Ctrl-C): the packets "
                                               "so far\n"
                                             : "";
            r->capture_note = g_strdup_printf("%s%s%s", cut, *how ? "to look at it: " : "", how);
            g_free(how);
        }
    }
    if (o.pcap && capture != TP_CAPTURE_OFF &&
        !(cap ? tp_capture_write(cap, r, o.pcap, tp_interrupted, &err)
              : rpt_pcapng_write(r, o.pcap, &err))) {
        fprintf(stderr, "turnprobe check: cannot write the capture: %s\n", err->message);
        g_clear_error(&err);
        rc = TP_EXIT_INTERNAL;
    }
    if (!tp_write_reports("check", r, o.json, o.md, o.html))
        rc = TP_EXIT_INTERNAL;
    if (o.keylog) {
        /* The secrets decrypt the capture: readable by the owner only. */
        const char *k = r->keylog ? r->keylog : "";
        if (!g_file_set_contents_full(o.keylog, k, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                      &err)) {
            fprintf(stderr, "turnprobe check: cannot write the key log: %s\n", err->message);
            g_clear_error(&err);
            rc = TP_EXIT_INTERNAL;
        }
    }
    if (!o.quiet && !tp_stdout_taken(o.json, o.md, o.html)) {
        if (!tp_print_format(r, o.format)) {
            struct rpt_text_opts to = {tp_want_color(o.color), TRUE, o.verbose};
            rpt_text_write(r, stdout, &to);
            print_gathering(stdout, r);
            if (o.pcap && capture != TP_CAPTURE_OFF)
                tp_capture_print_hint(stdout, cap, r, o.pcap);
        }
    }
    if (tp_interrupted)
        rc = rc == TP_EXIT_OK ? TP_EXIT_FAIL : rc;
out:
    tp_capture_free(cap);
    rpt_result_free(r);
    g_ptr_array_unref(targets);
    tp_ice_config_free(ice);
    tp_secret_free(password);
    tp_secret_free(secret);
    g_strfreev(cfg.skip);
    g_strfreev(cfg.only);
    g_clear_error(&err);
    g_free(o.username);
    g_free(o.password_file);
    if (o.password_cli) {
        memset(o.password_cli, 0, strlen(o.password_cli));
        g_free(o.password_cli);
    }
    g_free(o.secret_file);
    g_free(o.rest_user);
    g_free(o.ice_servers);
    g_free(o.json);
    g_free(o.md);
    g_free(o.pcap);
    g_free(o.html);
    g_free(o.ca);
    g_free(o.proxy);
    if (proxy_url) /* it may hold the proxy's password */
        memset(proxy_url, 0, strlen(proxy_url));
    g_free(proxy_url);
    g_free(o.keylog);
    g_free(o.capture);
    g_free(o.format);
    g_free(o.peer);
    g_free(o.skip);
    g_free(o.only);
    g_free(o.color);
    g_option_context_free(octx);
    return rc;
}
