/* The terminal report: a checklist a support engineer reads top to bottom, 100 columns wide. */
#include "rpt_text.h"

#include <math.h>
#include <string.h>

#include "rpt_redact.h"
#include "sl_names.h"

#define WIDTH 100

/* ANSI SGR sequences; empty when colour is off so the code reads the same either way. */
struct style {
    const char *bold, *dim, *green, *yellow, *red, *reset;
};

struct tw {
    GString *o;
    const struct rpt_text_opts *opts;
    struct style st;
    const char *dot;   /* separator between facts */
    const char *dash;  /* between a title and its summary */
    const char *out_arrow, *in_arrow, *to;
};

static const char *status_sym(const struct tw *w, enum rpt_status s)
{
    static const char *const uni[] = {"✓", "!", "✗", "–"};
    static const char *const ascii[] = {"[ok]", "[!!]", "[XX]", "[--]"};
    if ((unsigned)s > RPT_SKIP)
        return "?";
    return w->opts->unicode ? uni[s] : ascii[s];
}

static const char *sev_sym(const struct tw *w, enum rpt_severity s)
{
    static const char *const uni[] = {"i", "!", "✗"};
    static const char *const ascii[] = {"[ii]", "[!!]", "[XX]"};
    if ((unsigned)s > RPT_SEV_FAIL)
        return "?";
    return w->opts->unicode ? uni[s] : ascii[s];
}

static const char *status_color(const struct tw *w, enum rpt_status s)
{
    switch (s) {
    case RPT_PASS:
        return w->st.green;
    case RPT_WARN:
        return w->st.yellow;
    case RPT_FAIL:
        return w->st.red;
    default:
        return w->st.dim;
    }
}

static const char *sev_color(const struct tw *w, enum rpt_severity s)
{
    return s == RPT_SEV_FAIL ? w->st.red : s == RPT_SEV_WARN ? w->st.yellow : "";
}

/* Display columns of a UTF-8 string; every character we print is one column wide. */
static int width_of(const char *s)
{
    return (int)g_utf8_strlen(s, -1);
}

static void put(struct tw *w, const char *s)
{
    g_string_append(w->o, s);
}

static void spaces(struct tw *w, int n)
{
    for (int i = 0; i < n; i++)
        g_string_append_c(w->o, ' ');
}

/* Appends text word by word from column col, breaking before WIDTH; continuation lines start at
 * column indent. Returns the column after the text. A word wider than a line is not cut: an
 * address or a URI must stay whole to be copied. */
static int wrap(struct tw *w, const char *text, int col, int indent)
{
    gchar **words = g_strsplit(text ? text : "", " ", -1);
    gboolean first = TRUE;
    for (gchar **wd = words; *wd; wd++) {
        if (**wd == '\0')
            continue;
        int len = width_of(*wd);
        if (!first && col + 1 + len > WIDTH) {
            g_string_append_c(w->o, '\n');
            spaces(w, indent);
            col = indent;
        } else if (!first) {
            g_string_append_c(w->o, ' ');
            col++;
        }
        put(w, *wd);
        col += len;
        first = FALSE;
    }
    g_strfreev(words);
    return col;
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

/* A detail's value as a person reads it: strings bare, numbers short, lists joined. */
static char *value_text(JsonNode *n)
{
    switch (json_node_get_node_type(n)) {
    case JSON_NODE_VALUE:
        switch (json_node_get_value_type(n)) {
        case G_TYPE_STRING:
            return g_strdup(json_node_get_string(n));
        case G_TYPE_INT64:
            return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n));
        case G_TYPE_DOUBLE: {
            char buf[G_ASCII_DTOSTR_BUF_SIZE];
            return g_strdup(g_ascii_formatd(buf, sizeof(buf), "%.6g", json_node_get_double(n)));
        }
        case G_TYPE_BOOLEAN:
            return g_strdup(json_node_get_boolean(n) ? "yes" : "no");
        default:
            return g_strdup("?");
        }
    case JSON_NODE_ARRAY: {
        JsonArray *a = json_node_get_array(n);
        GString *s = g_string_new(NULL);
        for (guint i = 0; i < json_array_get_length(a); i++) {
            char *v = value_text(json_array_get_element(a, i));
            g_string_append_printf(s, "%s%s", i ? ", " : "", v);
            g_free(v);
        }
        return g_string_free(s, FALSE);
    }
    case JSON_NODE_OBJECT: {
        JsonObject *o = json_node_get_object(n);
        GList *members = json_object_get_members(o);
        GString *s = g_string_new("{");
        for (GList *m = members; m; m = m->next) {
            char *v = value_text(json_object_get_member(o, m->data));
            g_string_append_printf(s, "%s%s %s", m == members ? "" : ", ", (char *)m->data, v);
            g_free(v);
        }
        g_list_free(members);
        g_string_append_c(s, '}');
        return g_string_free(s, FALSE);
    }
    default:
        return g_strdup("none");
    }
}

/* The key facts a reader looks for on the step's own line, when the summary does not already
 * say them: the checks' summaries usually do, and saying a thing twice is noise. */
static const struct {
    const char *key, *label, *unit;
} key_facts[] = {
    {"mapped", "mapped", ""},
    {"relayed", "relayed", ""},
    {"lifetime", "lifetime", " s"},
    {"rtt_ms", "RTT", " ms"},
};

char *rpt_text_step_facts(const struct rpt_step *st)
{
    GString *s = g_string_new(st->summary ? st->summary : "");
    for (size_t i = 0; i < G_N_ELEMENTS(key_facts); i++) {
        JsonNode *n = st->details ? json_object_get_member(st->details, key_facts[i].key) : NULL;
        if (!n || !JSON_NODE_HOLDS_VALUE(n))
            continue;
        char *v = value_text(n);
        if (!strstr(s->str, v))
            g_string_append_printf(s, "%s%s %s%s", s->len ? "; " : "", key_facts[i].label, v,
                                   key_facts[i].unit);
        g_free(v);
    }
    return g_string_free(s, FALSE);
}

/* Columns of a step line: "  ✓    0.7 ms  Title — summary". */
static int sym_width(const struct tw *w)
{
    return w->opts->unicode ? 1 : 4;
}

#define TIME_W 8
static int text_col(const struct tw *w)
{
    return 2 + sym_width(w) + 1 + TIME_W + 2;
}

static void put_sym(struct tw *w, const char *color, const char *sym)
{
    g_string_append_printf(w->o, "%s%s%s", color, sym, *color ? w->st.reset : "");
}

static void put_labelled(struct tw *w, const char *label, const char *text, int indent)
{
    spaces(w, indent);
    g_string_append_printf(w->o, "%s%s%s ", w->st.dim, label, *w->st.dim ? w->st.reset : "");
    wrap(w, text, indent + width_of(label) + 1, indent + width_of(label) + 1);
    put(w, "\n");
}

static gboolean frame_listed(const GArray *a, guint n)
{
    for (guint i = 0; a && i < a->len; i++)
        if (g_array_index(a, guint, i) == n)
            return TRUE;
    return FALSE;
}

static guint session_index(const struct rpt_result *r, const struct rpt_session *s)
{
    for (guint i = 0; i < r->sessions->len; i++)
        if (g_ptr_array_index(r->sessions, i) == s)
            return i;
    return 0;
}

/* A packet belongs to a step when the step lists it as evidence or the packet names the step
 * (a TCP handshake is annotated with the step that opened the connection). */
static gboolean packet_in_step(const struct rpt_packet *p, guint si, const struct rpt_step *st)
{
    if (frame_listed(st->packets, p->n))
        return TRUE;
    return p->session == si && p->step && strcmp(p->step, st->id) == 0;
}

static void put_packet(struct tw *w, const struct rpt_result *r, const struct rpt_packet *p,
                       int indent)
{
    char head[64];
    g_snprintf(head, sizeof(head), "#%-3u %7.4f s %s ", p->n, rpt_packet_time(r, p),
               p->dir == RPT_OUT ? w->out_arrow : w->in_arrow);
    spaces(w, indent);
    put(w, head);
    int col = indent + width_of(head);
    GString *s = g_string_new(p->summary ? p->summary : rpt_kind_name(p->kind));
    if (p->endpoint && strcmp(p->endpoint, "client") != 0)
        g_string_append_printf(s, " [%s]", p->endpoint);
    if (p->note && *p->note)
        g_string_append_printf(s, " %s %s", w->dash, p->note);
    if (p->verdict && strcmp(p->verdict, "ok") != 0)
        g_string_append_printf(s, " (%s)", p->verdict);
    wrap(w, s->str, col, col);
    put(w, "\n");
    g_string_free(s, TRUE);
}

static void put_txn(struct tw *w, const struct rpt_txn *t, int indent)
{
    GString *s = g_string_new(NULL);
    const char *method = sl_method_name(t->method);
    if (method)
        g_string_append(s, method);
    else
        g_string_append_printf(s, "method 0x%03x", t->method);
    g_string_append_printf(s, " %s", rpt_txn_outcome_name(t->outcome));
    if (t->outcome == RPT_TXN_ERROR)
        g_string_append_printf(s, " %d%s%s", t->error_code, t->reason ? " " : "",
                               t->reason ? t->reason : "");
    if (t->outcome == RPT_TXN_LOCAL && t->local_errno)
        g_string_append_printf(s, " (%s)", g_strerror(t->local_errno));
    if (t->resp_pkt) {
        char rtt[32];
        g_snprintf(rtt, sizeof(rtt), "%.1f ms", t->rtt_ms);
        g_string_append_printf(s, ", RTT %s", rtt);
    }
    if (t->req_pkts->len) {
        g_string_append(s, " (#");
        for (guint i = 0; i < t->req_pkts->len; i++)
            g_string_append_printf(s, "%s%u", i ? ", #" : "", g_array_index(t->req_pkts, guint, i));
        if (t->resp_pkt)
            g_string_append_printf(s, " %s #%u", w->to, t->resp_pkt);
        g_string_append(s, ")");
        if (t->req_pkts->len > 1)
            g_string_append_printf(s, ", %u retransmissions", t->req_pkts->len - 1);
    }
    if (t->endpoint && strcmp(t->endpoint, "client") != 0)
        g_string_append_printf(s, " [%s]", t->endpoint);
    put_labelled(w, "Transaction:", s->str, indent);
    g_string_free(s, TRUE);
}

static char *object_text(const struct tw *w, JsonObject *o)
{
    GString *s = g_string_new(NULL);
    GList *members = o ? json_object_get_members(o) : NULL;
    for (GList *m = members; m; m = m->next) {
        char *v = value_text(json_object_get_member(o, m->data));
        /* No-break spaces would be nicer, but the wrap must be able to break anywhere. */
        g_string_append_printf(s, "%s%s %s", m == members ? "" : w->dot, (char *)m->data, v);
        g_free(v);
    }
    g_list_free(members);
    return g_string_free(s, FALSE);
}

static gboolean diag_in_findings(const struct rpt_session *s, const char *diag)
{
    for (guint i = 0; i < s->findings->len; i++) {
        const struct rpt_finding *f = g_ptr_array_index(s->findings, i);
        if (f->diagnosis && strcmp(f->diagnosis, diag) == 0)
            return TRUE;
    }
    return FALSE;
}

static gboolean hint_in_findings(const struct rpt_session *s, const struct rpt_step *st)
{
    for (guint i = 0; i < s->findings->len; i++) {
        const struct rpt_finding *f = g_ptr_array_index(s->findings, i);
        if (f->hint && st->hint && strcmp(f->hint, st->hint) == 0)
            return TRUE;
    }
    return FALSE;
}

static void put_step(struct tw *w, const struct rpt_result *r, const struct rpt_session *s,
                     const struct rpt_step *st)
{
    char ms[32];
    fmt_ms(st->duration_ms, ms, sizeof(ms));
    spaces(w, 2);
    put_sym(w, status_color(w, st->status), status_sym(w, st->status));
    g_string_append_printf(w->o, " %*s  ", TIME_W, ms);
    const char *title = rpt_step_title(st->id);
    g_string_append_printf(w->o, "%s%s%s", w->st.bold, title, *w->st.bold ? w->st.reset : "");
    int col = text_col(w) + width_of(title);
    char *line = rpt_text_step_facts(st);
    if (*line) {
        char *tail = g_strdup_printf("%s %s", w->dash, line);
        put(w, " ");
        wrap(w, tail, col + 1, text_col(w) + 2);
        g_free(tail);
    }
    g_free(line);
    put(w, "\n");

    int indent = text_col(w) + 2;
    /* The diagnosis id is what support searches for: say it whenever the step did not pass,
     * unless a finding below says it already. */
    if ((st->status == RPT_WARN || st->status == RPT_FAIL) && st->diagnosis &&
        strcmp(st->diagnosis, "ok") != 0 && !diag_in_findings(s, st->diagnosis)) {
        const struct rpt_diag *d = rpt_diag_find(st->diagnosis);
        char *t = d ? g_strdup_printf("%s: %s", st->diagnosis, d->meaning) : g_strdup(st->diagnosis);
        put_labelled(w, "Diagnosis:", t, indent);
        g_free(t);
    }
    /* A failed step's hint is usually its finding's too, which comes below: say it once. */
    if (st->hint && *st->hint && !hint_in_findings(s, st) &&
        (w->opts->verbose || st->status == RPT_WARN || st->status == RPT_FAIL))
        put_labelled(w, "Hint:", st->hint, indent);
    if (!w->opts->verbose)
        return;
    if (st->details && json_object_get_size(st->details)) {
        char *t = object_text(w, st->details);
        put_labelled(w, "Details:", t, indent);
        g_free(t);
    }
    guint si = session_index(r, s);
    for (guint i = 0; i < r->packets->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        if (packet_in_step(p, si, st))
            put_packet(w, r, p, indent);
    }
    for (guint i = 0; i < s->txns->len; i++) {
        const struct rpt_txn *t = g_ptr_array_index(s->txns, i);
        if (t->step && strcmp(t->step, st->id) == 0)
            put_txn(w, t, indent);
    }
}

/* Packets no step of the session claims: a reader of -v must still see every frame. */
static void put_other_packets(struct tw *w, const struct rpt_result *r,
                              const struct rpt_session *s)
{
    guint si = session_index(r, s);
    gboolean any = FALSE;
    for (guint i = 0; i < r->packets->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        if (p->session != si)
            continue;
        gboolean claimed = FALSE;
        for (guint k = 0; k < s->steps->len && !claimed; k++)
            claimed = packet_in_step(p, si, g_ptr_array_index(s->steps, k));
        if (claimed)
            continue;
        if (!any)
            g_string_append_printf(w->o, "\n%sOther packets%s\n", w->st.bold,
                                   *w->st.bold ? w->st.reset : "");
        any = TRUE;
        put_packet(w, r, p, 4);
    }
}

static void put_findings(struct tw *w, const struct rpt_session *s)
{
    if (!s->findings->len)
        return;
    g_string_append_printf(w->o, "\n%sFindings%s\n", w->st.bold, *w->st.bold ? w->st.reset : "");
    /* The most severe first; the model's order within one severity. */
    for (int sev = RPT_SEV_FAIL; sev >= RPT_SEV_INFO; sev--) {
        for (guint i = 0; i < s->findings->len; i++) {
            const struct rpt_finding *f = g_ptr_array_index(s->findings, i);
            if ((int)f->severity != sev)
                continue;
            spaces(w, 2);
            put_sym(w, sev_color(w, f->severity), sev_sym(w, f->severity));
            int indent = 2 + sym_width(w) + 1;
            char *word = g_ascii_strup(rpt_severity_name(f->severity), -1);
            g_string_append_printf(w->o, " %s%-4s  %s%s", w->st.bold, word, f->diagnosis,
                                   *w->st.bold ? w->st.reset : "");
            g_free(word);
            if (f->step)
                g_string_append_printf(w->o, " %s %s", w->dash, rpt_step_title(f->step));
            put(w, "\n");
            if (f->message && *f->message) {
                spaces(w, indent);
                wrap(w, f->message, indent, indent);
                put(w, "\n");
            }
            if (f->hint && *f->hint)
                put_labelled(w, "Hint:", f->hint, indent);
        }
    }
}

static void count_steps(const struct rpt_session *s, int n[4])
{
    for (guint i = 0; i < s->steps->len; i++) {
        const struct rpt_step *st = g_ptr_array_index(s->steps, i);
        if ((unsigned)st->status <= RPT_SKIP)
            n[st->status]++;
    }
}

static void counts_text(GString *s, const int n[4])
{
    static const char *const names[] = {"passed", "warned", "failed", "skipped"};
    static const int order[] = {RPT_FAIL, RPT_WARN, RPT_PASS, RPT_SKIP};
    gboolean first = TRUE;
    for (int i = 0; i < 4; i++) {
        if (!n[order[i]])
            continue;
        g_string_append_printf(s, "%s%d %s", first ? "" : ", ", n[order[i]], names[order[i]]);
        first = FALSE;
    }
    if (first)
        g_string_append(s, "no steps");
}

static void put_verdict_word(struct tw *w, enum rpt_status v)
{
    char *up = g_ascii_strup(rpt_status_name(v), -1);
    g_string_append_printf(w->o, "%s%s%s %s%s", w->st.bold, status_color(w, v), status_sym(w, v),
                           up, (*w->st.bold || *status_color(w, v)) ? w->st.reset : "");
    g_free(up);
}

static void put_session_head(struct tw *w, const struct rpt_session *s)
{
    const struct rpt_target *t = &s->target;
    GString *h = g_string_new(NULL);
    if (t->address || t->host)
        g_string_append_printf(h, "server address %s", t->address ? t->address : t->host);
    if (t->transport)
        g_string_append_printf(h, " over %s", t->transport);
    if (t->address && t->host && !g_str_has_prefix(t->address, t->host))
        g_string_append_printf(h, "%shost %s", h->len ? w->dot : "", t->host);
    if (t->username)
        g_string_append_printf(h, "%suser %s", h->len ? w->dot : "", t->username);
    if (t->password_info)
        g_string_append_printf(h, "%spassword %s", h->len ? w->dot : "", t->password_info);
    if (h->len) {
        spaces(w, 2);
        wrap(w, h->str, 2, 4);
        put(w, "\n");
    }
    g_string_free(h, TRUE);
    if (w->opts->verbose && s->facts && json_object_get_size(s->facts)) {
        char *f = object_text(w, s->facts);
        put_labelled(w, "Facts:", f, 2);
        g_free(f);
    }
}

static void put_session(struct tw *w, const struct rpt_result *r, const struct rpt_session *s)
{
    put_session_head(w, s);
    put(w, "\n");
    for (guint i = 0; i < s->steps->len; i++)
        put_step(w, r, s, g_ptr_array_index(s->steps, i));
    if (w->opts->verbose)
        put_other_packets(w, r, s);
    put_findings(w, s);
}

static void put_verdict(struct tw *w, const struct rpt_result *r, const struct rpt_session *s)
{
    enum rpt_status v = s ? rpt_session_verdict(s) : rpt_result_verdict(r);
    int n[4] = {0};
    GString *head = g_string_new(NULL), *tail = g_string_new(NULL);
    if (s) {
        /* The first line names what to look at; the second counts. */
        const struct rpt_step *worst = rpt_session_worst_step(s);
        if (worst)
            g_string_append_printf(head, "%s: %s", rpt_step_title(worst->id), worst->diagnosis);
        count_steps(s, n);
        g_string_append_printf(tail, "%u steps: ", s->steps->len);
    } else {
        for (guint i = 0; i < r->sessions->len; i++)
            n[rpt_session_verdict(g_ptr_array_index(r->sessions, i))]++;
        g_string_append_printf(tail, "%u sessions: ", r->sessions->len);
    }
    counts_text(tail, n);
    char ms[32];
    fmt_ms(r->duration_ms, ms, sizeof(ms));
    if (*ms)
        g_string_append_printf(tail, "%s%s", w->dot, ms);

    put(w, "\nVerdict: ");
    put_verdict_word(w, v);
    int col = width_of("Verdict: ") + width_of(status_sym(w, v)) + 1 + 4;
    if (head->len) {
        g_string_append_printf(w->o, " %s ", w->dash);
        wrap(w, head->str, col + 3, 9);
    }
    put(w, "\n         ");
    wrap(w, tail->str, 9, 9);
    put(w, "\n");
    g_string_free(head, TRUE);
    g_string_free(tail, TRUE);
}

/* With several sessions: one line each, then the overall verdict. */
static void put_summary_table(struct tw *w, const struct rpt_result *r)
{
    int name_w = 0;
    for (guint i = 0; i < r->sessions->len; i++) {
        const struct rpt_session *s = g_ptr_array_index(r->sessions, i);
        name_w = MAX(name_w, width_of(s->name ? s->name : ""));
    }
    name_w = MIN(name_w, 48);
    g_string_append_printf(w->o, "\n%sSummary%s\n", w->st.bold, *w->st.bold ? w->st.reset : "");
    for (guint i = 0; i < r->sessions->len; i++) {
        const struct rpt_session *s = g_ptr_array_index(r->sessions, i);
        enum rpt_status v = rpt_session_verdict(s);
        char *up = g_ascii_strup(rpt_status_name(v), -1);
        const char *name = s->name ? s->name : "";
        spaces(w, 2);
        put_sym(w, status_color(w, v), status_sym(w, v));
        g_string_append_printf(w->o, " %-4s  %s", up, name);
        spaces(w, name_w - width_of(name));
        const struct rpt_step *worst = rpt_session_worst_step(s);
        if (worst)
            g_string_append_printf(w->o, "  %s (%s)", worst->diagnosis, worst->id);
        put(w, "\n");
        g_free(up);
    }
}

char *rpt_text_to_string(const struct rpt_result *r, const struct rpt_text_opts *o)
{
    static const struct rpt_text_opts defaults = {FALSE, TRUE, 0};
    struct tw w = {0};
    w.o = g_string_new(NULL);
    w.opts = o ? o : &defaults;
    if (w.opts->color)
        w.st = (struct style){"\033[1m", "\033[2m", "\033[32m", "\033[33m", "\033[31m", "\033[0m"};
    else
        w.st = (struct style){"", "", "", "", "", ""};
    gboolean u = w.opts->unicode;
    w.dot = u ? " · " : ", ";
    w.dash = u ? "—" : "-";
    w.out_arrow = u ? "→" : "->";
    w.in_arrow = u ? "←" : "<-";
    w.to = u ? "→" : "->";

    /* Header: what ran, against what, when. */
    g_string_append_printf(w.o, "%sturnprobe %s%s %s", w.st.bold, r->command ? r->command : "",
                           *w.st.bold ? w.st.reset : "", w.dash);
    if (r->sessions->len == 1) {
        const struct rpt_session *s = g_ptr_array_index(r->sessions, 0);
        g_string_append_printf(w.o, " %s", s->target.uri ? s->target.uri : s->name);
    } else {
        g_string_append_printf(w.o, " %u sessions", r->sessions->len);
    }
    GDateTime *dt = g_date_time_new_from_unix_utc(r->start_us / G_USEC_PER_SEC);
    if (dt) {
        char *when = g_date_time_format(dt, "%Y-%m-%d %H:%M:%S UTC");
        g_string_append_printf(w.o, "%s%s", w.dot, when);
        g_free(when);
        g_date_time_unref(dt);
    }
    g_string_append_printf(w.o, "%sversion %s\n", w.dot, r->version ? r->version : "?");
    if (r->inputs && r->inputs->len) {
        GString *in = g_string_new(NULL);
        for (guint i = 0; i < r->inputs->len; i++)
            g_string_append_printf(in, "%s%s", i ? w.dot : "",
                                   (char *)g_ptr_array_index(r->inputs, i));
        put_labelled(&w, "Input:", in->str, 2);
        g_string_free(in, TRUE);
    }

    if (r->sessions->len == 1) {
        const struct rpt_session *s = g_ptr_array_index(r->sessions, 0);
        put_session(&w, r, s);
        put_verdict(&w, r, s);
    } else {
        for (guint i = 0; i < r->sessions->len; i++) {
            const struct rpt_session *s = g_ptr_array_index(r->sessions, i);
            g_string_append_printf(w.o, "\n%s%s %u/%u  %s%s\n", w.st.bold, u ? "■" : "==", i + 1,
                                   r->sessions->len, s->name ? s->name : "",
                                   *w.st.bold ? w.st.reset : "");
            put_session(&w, r, s);
        }
        if (r->sessions->len)
            put_summary_table(&w, r);
        put_verdict(&w, r, NULL);
    }
    return g_string_free(w.o, FALSE);
}

void rpt_text_write(const struct rpt_result *r, FILE *out, const struct rpt_text_opts *o)
{
    char *s = rpt_text_to_string(r, o);
    fputs(s, out);
    fflush(out);
    g_free(s);
}
