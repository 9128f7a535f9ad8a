/* `turnprobe check`: the whole checklist against a TURN server, with every report. */
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chk.h"
#include "rpt_json.h"
#include "rpt_text.h"
#include "sl_rest.h"
#include "sl_uri.h"
#include "tp.h"
#include "tp_version.h"

struct check_opts {
    char *username, *password_file, *password_cli;
    char *json, *format, *peer, *skip, *only, *color;
    double timeout;
    gboolean ipv4, ipv6, quiet, no_precheck;
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

static volatile gboolean interrupted;

static gboolean on_sigint(gpointer ud)
{
    (void)ud;
    interrupted = TRUE;
    return G_SOURCE_CONTINUE;
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

struct resolve_wait {
    GList *addrs;
    GError *err;
    gboolean done;
};

static void on_resolved(GObject *src, GAsyncResult *res, gpointer ud)
{
    struct resolve_wait *w = ud;
    w->addrs = g_resolver_lookup_by_name_finish(G_RESOLVER(src), res, &w->err);
    w->done = TRUE;
}

/* The dns step: every A/AAAA address of the host, within the run's deadline. */
static GArray *step_dns(struct rpt_session *s, const struct sl_uri *uri, int family,
                        gint64 deadline)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(struct sl_addr));
    struct rpt_step *st = rpt_step_add(s, "dns");
    struct sl_addr a;
    gint64 t0 = g_get_monotonic_time();
    if (uri->host_is_ip) {
        sl_addr_parse(&a, uri->host, uri->port);
        g_array_append_val(out, a);
        rpt_step_set(st, RPT_PASS, "ok", "the host is an address literal: no DNS needed", NULL);
        return out;
    }
    struct resolve_wait w = {0};
    GCancellable *cancel = g_cancellable_new();
    GResolver *res = g_resolver_get_default();
    g_resolver_lookup_by_name_async(res, uri->host, cancel, on_resolved, &w);
    while (!w.done) {
        if (g_get_monotonic_time() >= deadline || interrupted)
            g_cancellable_cancel(cancel);
        g_main_context_iteration(NULL, !g_cancellable_is_cancelled(cancel));
        if (g_cancellable_is_cancelled(cancel) && !w.done)
            g_main_context_iteration(NULL, TRUE);
    }
    st->duration_ms = (double)(g_get_monotonic_time() - t0) / 1000.0;
    JsonArray *list = json_array_new();
    for (GList *l = w.addrs; l; l = l->next) {
        GInetAddress *ia = l->data;
        gboolean v6 = g_inet_address_get_family(ia) == G_SOCKET_FAMILY_IPV6;
        char *txt = g_inet_address_to_string(ia);
        json_array_add_string_element(list, txt);
        if ((family == 4 && v6) || (family == 6 && !v6) ||
            sl_addr_parse(&a, txt, uri->port) != SL_OK) {
            g_free(txt);
            continue;
        }
        g_array_append_val(out, a);
        g_free(txt);
    }
    json_object_set_array_member(st->details, "addresses", list);
    if (out->len == 0) {
        char *sum = w.err ? g_strdup_printf("%s does not resolve: %s", uri->host, w.err->message)
                          : g_strdup_printf("%s has no IPv%d address", uri->host, family);
        rpt_step_set(st, RPT_FAIL, "dns-failed", sum, rpt_diag_find("dns-failed")->hint);
        rpt_finding_add(s, "dns-failed", RPT_SEV_FAIL, "dns", sum,
                        rpt_diag_find("dns-failed")->hint);
        g_free(sum);
    } else {
        char *sum = g_strdup_printf("%s has %u address%s; probing the first", uri->host,
                                    out->len, out->len == 1 ? "" : "es");
        rpt_step_set(st, RPT_PASS, "ok", sum, NULL);
        g_free(sum);
    }
    g_resolver_free_addresses(w.addrs);
    g_clear_error(&w.err);
    g_object_unref(res);
    g_object_unref(cancel);
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
    json_object_set_string_member(st->details, "transport",
                                  sl_uri_transport_name(cfg->uri.transport));
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

static gboolean want_color(const char *mode)
{
    if (mode && strcmp(mode, "always") == 0)
        return TRUE;
    if (mode && strcmp(mode, "never") == 0)
        return FALSE;
    return isatty(STDOUT_FILENO) && !g_getenv("NO_COLOR");
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
        {"json", 0, 0, G_OPTION_ARG_FILENAME, &o.json, "write the JSON report to FILE (- for "
                                                        "standard output)", "FILE"},
        {"format", 0, 0, G_OPTION_ARG_STRING, &o.format,
         "what to print on standard output: text (default) or json", "FMT"},
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
    GOptionContext *octx = g_option_context_new("URI - the TURN checklist against a server");
    GOptionGroup *grp = g_option_group_new("check", "", "", &o, NULL);
    g_option_group_add_entries(grp, entries);
    g_option_context_set_main_group(octx, grp);
    g_option_context_set_description(
        octx,
        "URI is turn:HOST[:PORT][?transport=udp|tcp] or stun:HOST[:PORT] (RFC 7065).\n"
        "Steps: settings dns tls binding allocate permission send-data channel ice refresh\n"
        "policy. Exit status: 0 every step passed (warnings allowed), 1 a step failed,\n"
        "2 bad usage or input, 3 internal error.\n");

    GError *err = NULL;
    int rc = TP_EXIT_USAGE;
    struct chk_config cfg = {0};
    struct rpt_result *r = NULL;
    GArray *addrs = NULL;
    char why[256];
    if (!g_option_context_parse(octx, &argc, &argv, &err)) {
        rc = tp_usage_error("check", "%s", err->message);
        goto out;
    }
    if (argc != 2) {
        rc = tp_usage_error("check", "give one TURN or STUN URI (see turnprobe check --help)");
        goto out;
    }
    if (sl_uri_parse(&cfg.uri, argv[1], why, sizeof(why)) != SL_OK) {
        rc = tp_usage_error("check", "uri-invalid: %s", why);
        goto out;
    }
    if (cfg.uri.secure) {
        rc = tp_usage_error("check", "%s: TLS and DTLS (turns:, stuns:) are not supported by this "
                                     "version yet; use turn: with ?transport=udp or tcp",
                            argv[1]);
        goto out;
    }
    if (o.timeout <= 0 || o.timeout > 3600) {
        rc = tp_usage_error("check", "--timeout must be between 0 and 3600 seconds");
        goto out;
    }
    if (o.format && strcmp(o.format, "text") != 0 && strcmp(o.format, "json") != 0) {
        rc = tp_usage_error("check", "--format must be text or json");
        goto out;
    }
    if (o.color && strcmp(o.color, "auto") && strcmp(o.color, "always") && strcmp(o.color, "never")) {
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
    cfg.password = tp_secret_load(o.password_file, "TURNPROBE_PASSWORD", o.password_cli,
                                  "password", &err);
    if (err) {
        rc = tp_usage_error("check", "%s", err->message);
        goto out;
    }
    cfg.uri_text = argv[1];
    cfg.username = o.username;
    cfg.have_peer = o.peer != NULL;
    cfg.timeout_s = o.timeout;
    cfg.family = o.ipv4 ? 4 : o.ipv6 ? 6 : 0;
    sl_txn_cfg_default(&cfg.txn, FALSE);
    cfg.deadline_us = g_get_monotonic_time() + (gint64)(o.timeout * G_USEC_PER_SEC);
    if (!cfg.uri.turn) {
        /* stun: URIs have only the binding step (RFC 7064). */
        g_strfreev(cfg.only);
        cfg.only = g_strsplit("binding", ",", -1);
    }

    guint sig = g_unix_signal_add(SIGINT, on_sigint, NULL);
    guint sigterm = g_unix_signal_add(SIGTERM, on_sigint, NULL);
    r = rpt_result_new("check", TP_VERSION);
    char canon[300];
    sl_uri_format(&cfg.uri, canon, sizeof(canon));
    struct rpt_session *s = rpt_session_add(r, canon);
    s->target.uri = g_strdup(canon);
    s->target.host = g_strdup(cfg.uri.host);
    s->target.port = cfg.uri.port;
    s->target.transport = g_strdup(sl_uri_transport_name(cfg.uri.transport));
    s->target.username = g_strdup(cfg.username);
    s->target.password_info =
        cfg.password ? g_strdup_printf("given (%ld characters)", g_utf8_strlen(cfg.password, -1))
                     : g_strdup("not given");

    gboolean go = step_settings(s, &cfg, &o);
    addrs = step_dns(s, &cfg.uri, cfg.family, cfg.deadline_us);
    struct rpt_step *tls = rpt_step_add(s, "tls");
    rpt_step_set(tls, RPT_SKIP, "ok", "skipped: not a turns: URI", NULL);
    if (!go) {
        const char *ids[] = {"binding", "allocate", "permission", "send-data",
                             "channel", "ice",      "refresh",    "policy"};
        for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
            struct rpt_step *st = rpt_step_add(s, ids[i]);
            rpt_step_set(st, RPT_SKIP, "ok",
                         "skipped: the credential has expired (--no-precheck sends anyway)",
                         NULL);
        }
    } else if (addrs->len > 0) {
        cfg.server = &g_array_index(addrs, struct sl_addr, 0);
        chk_check_run(&cfg, r, s, &interrupted);
    }
    r->duration_ms = (double)(g_get_real_time() - r->start_us) / 1000.0;
    g_source_remove(sig);
    g_source_remove(sigterm);

    rc = rpt_result_verdict(r) == RPT_FAIL ? TP_EXIT_FAIL : TP_EXIT_OK;
    if (o.json && !rpt_json_write(r, o.json, &err)) {
        fprintf(stderr, "turnprobe check: cannot write the JSON report: %s\n", err->message);
        g_clear_error(&err);
        rc = TP_EXIT_INTERNAL;
    }
    if (!o.quiet) {
        if (o.format && strcmp(o.format, "json") == 0) {
            if (!o.json || strcmp(o.json, "-") != 0) {
                char *j = rpt_json_to_string(r);
                fputs(j, stdout);
                fputc('\n', stdout);
                g_free(j);
            }
        } else if (!o.json || strcmp(o.json, "-") != 0) {
            struct rpt_text_opts to = {want_color(o.color), TRUE, o.verbose};
            rpt_text_write(r, stdout, &to);
        }
    }
    if (interrupted)
        rc = rc == TP_EXIT_OK ? TP_EXIT_FAIL : rc;
out:
    rpt_result_free(r);
    if (addrs)
        g_array_unref(addrs);
    tp_secret_free(cfg.password);
    g_strfreev(cfg.skip);
    g_strfreev(cfg.only);
    g_clear_error(&err);
    g_free(o.username);
    g_free(o.password_file);
    if (o.password_cli) {
        memset(o.password_cli, 0, strlen(o.password_cli));
        g_free(o.password_cli);
    }
    g_free(o.json);
    g_free(o.format);
    g_free(o.peer);
    g_free(o.skip);
    g_free(o.only);
    g_free(o.color);
    g_option_context_free(octx);
    return rc;
}
