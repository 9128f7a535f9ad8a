/* The Markdown report: what a support engineer pastes into a ticket. */
#include "rpt_md.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rpt_text.h"
#include "sl_addr.h"

/* Text from the model (a server's reason phrase, a host name) must not turn into markup: escape
 * what Markdown would act on inline, '|' for tables, '<' and '>' so no HTML gets through.
 * Newlines become spaces: every place we write model text is one line. */
static void md_text(GString *o, const char *s)
{
    for (const char *c = s ? s : ""; *c; c++) {
        switch (*c) {
        case '\\':
        case '`':
        case '*':
        case '_':
        case '[':
        case ']':
        case '|':
        case '~':
            g_string_append_c(o, '\\');
            g_string_append_c(o, *c);
            break;
        case '<':
            g_string_append(o, "&lt;");
            break;
        case '>':
            g_string_append(o, "&gt;");
            break;
        case '&':
            g_string_append(o, "&amp;");
            break;
        case '\n':
        case '\r':
            g_string_append_c(o, ' ');
            break;
        default:
            g_string_append_c(o, *c);
        }
    }
}

/* An inline code span: fenced by more backticks than any run inside, padded with spaces when
 * the text touches a backtick; in a table '|' is still escaped (GFM reads it before the span). */
static void md_code(GString *o, const char *s, gboolean in_table)
{
    int longest = 0, run = 0;
    for (const char *c = s; *c; c++) {
        run = *c == '`' ? run + 1 : 0;
        longest = MAX(longest, run);
    }
    gboolean pad = *s == '`' || (*s && s[strlen(s) - 1] == '`');
    for (int i = 0; i <= longest; i++)
        g_string_append_c(o, '`');
    if (pad)
        g_string_append_c(o, ' ');
    for (const char *c = s; *c; c++) {
        if (*c == '|' && in_table)
            g_string_append(o, "\\|");
        else if (*c == '\n' || *c == '\r')
            g_string_append_c(o, ' ');
        else
            g_string_append_c(o, *c);
    }
    if (pad)
        g_string_append_c(o, ' ');
    for (int i = 0; i <= longest; i++)
        g_string_append_c(o, '`');
}

static const char *status_badge(enum rpt_status s)
{
    static const char *const b[] = {"✅ pass", "⚠️ warn", "❌ fail", "➖ skip"};
    return (unsigned)s <= RPT_SKIP ? b[s] : "?";
}

static const char *verdict_badge(enum rpt_status s)
{
    static const char *const b[] = {"✅ PASS", "⚠️ WARN", "❌ FAIL", "➖ SKIP"};
    return (unsigned)s <= RPT_SKIP ? b[s] : "?";
}

static const char *severity_badge(enum rpt_severity s)
{
    static const char *const b[] = {"ℹ️ INFO", "⚠️ WARN", "❌ FAIL"};
    return (unsigned)s <= RPT_SEV_FAIL ? b[s] : "?";
}

static void fmt_ms(double ms, char *buf, size_t n)
{
    if (!(ms > 0))
        buf[0] = '\0';
    else if (ms < 100)
        g_snprintf(buf, n, "%.1f ms", ms);
    else if (ms < 1000)
        g_snprintf(buf, n, "%.0f ms", ms);
    else
        g_snprintf(buf, n, "%.2f s", ms / 1000);
}

static void row(GString *o, const char *key, const char *value, gboolean code)
{
    if (!value || !*value)
        return;
    g_string_append_printf(o, "| %s | ", key);
    if (code)
        md_code(o, value, TRUE);
    else
        md_text(o, value);
    g_string_append(o, " |\n");
}

static char *value_text(JsonNode *n)
{
    if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
        return g_strdup(json_node_get_string(n));
    if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64)
        return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n));
    if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_DOUBLE) {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        return g_strdup(g_ascii_formatd(buf, sizeof(buf), "%.6g", json_node_get_double(n)));
    }
    if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN)
        return g_strdup(json_node_get_boolean(n) ? "yes" : "no");
    JsonGenerator *g = json_generator_new();
    json_generator_set_root(g, n);
    char *s = json_generator_to_data(g, NULL);
    g_object_unref(g);
    return s;
}

static void target_table(GString *o, const struct rpt_result *r, const struct rpt_session *s,
                         gboolean with_run)
{
    const struct rpt_target *t = &s->target;
    g_string_append(o, "| Target | ");
    md_code(o, t->uri ? t->uri : s->name ? s->name : "", TRUE);
    g_string_append(o, " |\n|---|---|\n");
    row(o, "Server address", t->address, FALSE);
    if (t->host && (!t->address || !g_str_has_prefix(t->address, t->host)))
        row(o, "Host", t->host, FALSE);
    row(o, "Transport", t->transport, FALSE);
    row(o, "Username", t->username, FALSE);
    row(o, "Password", t->password_info, FALSE);
    GList *members = s->facts ? json_object_get_members(s->facts) : NULL;
    for (GList *m = members; m; m = m->next) {
        char *v = value_text(json_object_get_member(s->facts, m->data));
        char *key = g_strdup(m->data);
        key[0] = g_ascii_toupper(key[0]);
        GString *k = g_string_new(NULL);
        md_text(k, key);
        row(o, k->str, v, FALSE);
        g_string_free(k, TRUE);
        g_free(key);
        g_free(v);
    }
    g_list_free(members);
    if (!with_run)
        return;
    GDateTime *dt = g_date_time_new_from_unix_utc(r->start_us / G_USEC_PER_SEC);
    if (dt) {
        char *when = g_date_time_format(dt, "%Y-%m-%d %H:%M:%S UTC");
        row(o, "Started", when, FALSE);
        g_free(when);
        g_date_time_unref(dt);
    }
    char ms[32];
    fmt_ms(r->duration_ms, ms, sizeof(ms));
    row(o, "Duration", ms, FALSE);
    row(o, "turnprobe", r->version, FALSE);
}

static void checklist(GString *o, const struct rpt_session *s, const char *h)
{
    g_string_append_printf(o, "\n%s Checklist\n\n", h);
    g_string_append(o, "| Step | Status | Diagnosis | Key facts | Time |\n"
                       "|---|---|---|---|--:|\n");
    for (guint i = 0; i < s->steps->len; i++) {
        const struct rpt_step *st = g_ptr_array_index(s->steps, i);
        char ms[32];
        fmt_ms(st->duration_ms, ms, sizeof(ms));
        g_string_append(o, "| ");
        md_text(o, rpt_step_title(st->id));
        g_string_append_printf(o, " | %s | ", status_badge(st->status));
        md_code(o, st->diagnosis ? st->diagnosis : "ok", TRUE);
        g_string_append(o, " | ");
        char *facts = rpt_text_step_facts(st);
        md_text(o, facts);
        g_free(facts);
        g_string_append_printf(o, " | %s |\n", ms);
    }
    /* Hints of steps that did not pass and that no finding repeats. */
    gboolean any = FALSE;
    for (guint i = 0; i < s->steps->len; i++) {
        const struct rpt_step *st = g_ptr_array_index(s->steps, i);
        if ((st->status != RPT_WARN && st->status != RPT_FAIL) || !st->hint || !*st->hint)
            continue;
        gboolean dup = FALSE;
        for (guint k = 0; k < s->findings->len && !dup; k++) {
            const struct rpt_finding *f = g_ptr_array_index(s->findings, k);
            dup = f->hint && strcmp(f->hint, st->hint) == 0;
        }
        if (dup)
            continue;
        g_string_append(o, any ? "" : "\n");
        any = TRUE;
        g_string_append(o, "- **");
        md_text(o, rpt_step_title(st->id));
        g_string_append(o, ":** ");
        md_text(o, st->hint);
        g_string_append_c(o, '\n');
    }
}

static void findings(GString *o, const struct rpt_session *s, const char *h)
{
    g_string_append_printf(o, "\n%s Findings\n\n", h);
    if (!s->findings->len) {
        g_string_append(o, "None.\n");
        return;
    }
    for (int sev = RPT_SEV_FAIL; sev >= RPT_SEV_INFO; sev--) {
        for (guint i = 0; i < s->findings->len; i++) {
            const struct rpt_finding *f = g_ptr_array_index(s->findings, i);
            if ((int)f->severity != sev)
                continue;
            g_string_append_printf(o, "- **%s** ", severity_badge(f->severity));
            md_code(o, f->diagnosis ? f->diagnosis : "", FALSE);
            if (f->step) {
                g_string_append(o, " in ");
                md_text(o, rpt_step_title(f->step));
            }
            g_string_append(o, ": ");
            md_text(o, f->message);
            g_string_append_c(o, '\n');
            if (f->hint && *f->hint) {
                g_string_append(o, "  - **Hint:** ");
                md_text(o, f->hint);
                g_string_append_c(o, '\n');
            }
        }
    }
}

static gboolean uses_channels(const struct rpt_result *r, guint si, const struct rpt_session *s)
{
    for (guint i = 0; i < r->packets->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        if (p->session == si && p->kind == RPT_PKT_CHANNELDATA)
            return TRUE;
    }
    const struct rpt_step *ch = rpt_step_find(s, "channel");
    return ch && ch->status != RPT_SKIP;
}

/* The display filter and decode-as that show this session in Wireshark 4: STUN is found by
 * heuristics on any port, but ChannelData carries no magic cookie and is recognised only on a
 * port decoded as STUN (udp/tcp 3478 by default); STUN inside TLS/DTLS has no port of its own. */
static void wireshark(GString *o, const struct rpt_result *r, guint si,
                      const struct rpt_session *s, const char *h)
{
    const struct rpt_target *t = &s->target;
    const char *tp = t->transport ? t->transport : "udp";
    gboolean secure = strcmp(tp, "tls") == 0 || strcmp(tp, "dtls") == 0;
    const char *l4 = strcmp(tp, "tcp") == 0 || strcmp(tp, "tls") == 0 ? "tcp" : "udp";
    struct sl_addr a;
    gboolean have_ip = FALSE;
    guint port = t->port;
    if (t->address && sl_addr_parse(&a, t->address, t->port) == 0)
        have_ip = TRUE;
    else if (t->host && sl_addr_parse(&a, t->host, t->port) == 0)
        have_ip = TRUE;
    if (have_ip && a.port)
        port = a.port;

    GString *f = g_string_new(secure ? "(tls || stun || turnchannel)" : "(stun || turnchannel)");
    if (strcmp(tp, "dtls") == 0)
        g_string_overwrite(f, 1, "dtls");
    if (have_ip) {
        char ip[SL_ADDR_STRLEN];
        sl_addr_format(&a, ip, sizeof(ip), false);
        g_string_append_printf(f, " && %s == %s", a.family == SL_AF_IPV6 ? "ipv6.addr" : "ip.addr",
                               ip);
    }
    if (port)
        g_string_append_printf(f, " && %s.port == %u", l4, port);

    g_string_append_printf(o, "\n%s See it in Wireshark\n\n", h);
    g_string_append(o, "Display filter for this session:\n\n```\n");
    g_string_append(o, f->str);
    g_string_append(o, "\n```\n\n");
    if (!have_ip)
        g_string_append(o, "The server's address is not known here (or was redacted): add "
                           "`ip.addr == ADDRESS` to keep to this server.\n\n");

    gboolean decode_as = port && (secure || port != 3478);
    char *capture = r->inputs && r->inputs->len
                        ? g_shell_quote(g_ptr_array_index(r->inputs, 0))
                    : r->capture_file ? g_shell_quote(r->capture_file)
                                      : g_strdup("CAPTURE.pcapng");
    if (decode_as) {
        const char *table = secure ? (strcmp(tp, "tls") == 0 ? "tls" : "dtls") : l4;
        if (secure)
            g_string_append_printf(o, "The STUN messages travel inside %s: the pcapng that "
                                      "`--pcap` writes carries the session keys, so Wireshark "
                                      "decrypts them; tell it the content is STUN with *Analyze "
                                      "› Decode As…* (%s port %u → STUN), or with tshark:\n\n",
                                   strcmp(tp, "tls") == 0 ? "TLS" : "DTLS",
                                   strcmp(tp, "tls") == 0 ? "TLS" : "DTLS", port);
        else
            g_string_append_printf(o, "Port %u is not STUN's registered port (3478): decode it "
                                      "as STUN with *Analyze › Decode As…* (%s port %u → STUN), "
                                      "or with tshark:\n\n",
                                   port, strcmp(l4, "tcp") == 0 ? "TCP" : "UDP", port);
        g_string_append_printf(o, "```\ntshark -r %s -d %s.port==%u,stun -Y '%s'\n```\n\n",
                               capture, table, port, f->str);
    } else {
        g_string_append_printf(o, "Wireshark decodes STUN on port 3478 by itself:\n\n"
                                  "```\ntshark -r %s -Y '%s'\n```\n\n",
                               capture, f->str);
    }
    if (uses_channels(r, si, s))
        g_string_append(o, "ChannelData messages (TURN channels) have no magic cookie: "
                           "Wireshark shows them as TURNCHANNEL, and `turnchannel` matches them, "
                           "only on a port it decodes as STUN. Until then they show as plain "
                           "UDP or TCP data.\n\n");
    g_string_append(o, "Traffic between the relay and the peer uses the relay's port, not the "
                       "server's: drop the port clause to see it. In turnprobe's pcapng each "
                       "packet's comment names its step and verdict: add `frame.comment` as a "
                       "column.\n");
    g_free(capture);
    g_string_free(f, TRUE);
}

static void lead(GString *o, const struct rpt_session *s)
{
    const struct rpt_step *worst = rpt_session_worst_step(s);
    if (!worst)
        return;
    const struct rpt_diag *d = rpt_diag_find(worst->diagnosis ? worst->diagnosis : "");
    g_string_append(o, "**Look at:** ");
    md_text(o, rpt_step_title(worst->id));
    g_string_append(o, ", ");
    md_code(o, worst->diagnosis ? worst->diagnosis : "", FALSE);
    if (d) {
        g_string_append(o, ": ");
        md_text(o, d->meaning);
    }
    g_string_append(o, ".\n\n");
}

static void session_body(GString *o, const struct rpt_result *r, guint si,
                         const struct rpt_session *s, const char *h)
{
    checklist(o, s, h);
    findings(o, s, h);
    wireshark(o, r, si, s, h);
}

char *rpt_md_to_string(const struct rpt_result *r)
{
    GString *o = g_string_new(NULL);
    const char *cmd = r->command ? r->command : "";
    enum rpt_status v = rpt_result_verdict(r);
    if (r->sessions->len == 1) {
        const struct rpt_session *s = g_ptr_array_index(r->sessions, 0);
        g_string_append_printf(o, "# turnprobe %s: %s — ", cmd, verdict_badge(v));
        md_text(o, s->target.uri ? s->target.uri : s->name);
        g_string_append(o, "\n\n");
        lead(o, s);
        target_table(o, r, s, TRUE);
        session_body(o, r, 0, s, "##");
        return g_string_free(o, FALSE);
    }

    g_string_append_printf(o, "# turnprobe %s: %s — %u sessions\n\n", cmd, verdict_badge(v),
                           r->sessions->len);
    g_string_append(o, "| Command | ");
    md_text(o, cmd);
    g_string_append(o, " |\n|---|---|\n");
    if (r->inputs && r->inputs->len) {
        GString *in = g_string_new(NULL);
        for (guint i = 0; i < r->inputs->len; i++) {
            g_string_append(in, i ? ", " : "");
            md_code(in, g_ptr_array_index(r->inputs, i), TRUE);
        }
        g_string_append_printf(o, "| Input | %s |\n", in->str);
        g_string_free(in, TRUE);
    }
    GDateTime *dt = g_date_time_new_from_unix_utc(r->start_us / G_USEC_PER_SEC);
    if (dt) {
        char *when = g_date_time_format(dt, "%Y-%m-%d %H:%M:%S UTC");
        row(o, "Started", when, FALSE);
        g_free(when);
        g_date_time_unref(dt);
    }
    char ms[32];
    fmt_ms(r->duration_ms, ms, sizeof(ms));
    row(o, "Duration", ms, FALSE);
    row(o, "turnprobe", r->version, FALSE);

    g_string_append(o, "\n| # | Session | Verdict | Diagnosis |\n|--:|---|---|---|\n");
    for (guint i = 0; i < r->sessions->len; i++) {
        const struct rpt_session *s = g_ptr_array_index(r->sessions, i);
        const struct rpt_step *worst = rpt_session_worst_step(s);
        g_string_append_printf(o, "| %u | ", i + 1);
        md_text(o, s->name);
        g_string_append_printf(o, " | %s | ", verdict_badge(rpt_session_verdict(s)));
        if (worst) {
            md_code(o, worst->diagnosis ? worst->diagnosis : "", TRUE);
            g_string_append(o, " in ");
            md_text(o, rpt_step_title(worst->id));
        }
        g_string_append(o, " |\n");
    }
    for (guint i = 0; i < r->sessions->len; i++) {
        const struct rpt_session *s = g_ptr_array_index(r->sessions, i);
        g_string_append_printf(o, "\n## %u. %s — ", i + 1,
                               verdict_badge(rpt_session_verdict(s)));
        md_text(o, s->name);
        g_string_append(o, "\n\n");
        lead(o, s);
        target_table(o, r, s, FALSE);
        session_body(o, r, i, s, "###");
    }
    return g_string_free(o, FALSE);
}

static gboolean write_text(const char *path, const char *text, GError **err)
{
    if (strcmp(path, "-") == 0) {
        size_t len = strlen(text);
        if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
            int e = errno;
            g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(e),
                        "writing the Markdown report to standard output: %s", g_strerror(e));
            return FALSE;
        }
        return TRUE;
    }
    /* g_file_set_contents writes a temporary file beside path and renames it over path. */
    return g_file_set_contents(path, text, -1, err);
}

gboolean rpt_md_write(const struct rpt_result *r, const char *path, GError **err)
{
    char *text = rpt_md_to_string(r);
    gboolean ok = write_text(path, text, err);
    g_free(text);
    return ok;
}
