/* The JSON report, schema 1 (DESIGN.md, docs/report-schema.json), built from the result model. */
#include "rpt_json.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rpt_redact.h"
#include "sl_names.h"

/* --- scalars, the same for the report and for any tree --------------------------------------- */

static void put_string(GString *out, const char *s)
{
    /* Model strings may carry a server's bytes (a reason phrase, SOFTWARE); JSON must be UTF-8.
     * Almost every string is valid already: copy only those that are not. */
    char *fixed = g_utf8_validate(s, -1, NULL) ? NULL : g_utf8_make_valid(s, -1);
    const char *valid = fixed ? fixed : s;
    g_string_append_c(out, '"');
    for (const char *c = valid; *c; c++) {
        unsigned char ch = (unsigned char)*c;
        switch (ch) {
        case '"':
            g_string_append(out, "\\\"");
            break;
        case '\\':
            g_string_append(out, "\\\\");
            break;
        case '\n':
            g_string_append(out, "\\n");
            break;
        case '\r':
            g_string_append(out, "\\r");
            break;
        case '\t':
            g_string_append(out, "\\t");
            break;
        case '/':
            g_string_append(out, c > valid && c[-1] == '<' ? "\\/" : "/");
            break;
        default:
            if (ch < 0x20 || ch == 0x7f) {
                g_string_append_printf(out, "\\u%04x", ch);
            } else if (ch == 0xe2 && (unsigned char)c[1] == 0x80 &&
                       ((unsigned char)c[2] == 0xa8 || (unsigned char)c[2] == 0xa9)) {
                /* U+2028/U+2029 end a line in JavaScript: escape them for <script> use. */
                g_string_append_printf(out, "\\u%04x",
                                       (unsigned char)c[2] == 0xa8 ? 0x2028 : 0x2029);
                c += 2;
            } else {
                g_string_append_c(out, (char)ch);
            }
        }
    }
    g_string_append_c(out, '"');
    g_free(fixed);
}

/* The shortest text that reads back as the same double, locale-independent. */
static void put_double(GString *out, double d)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    if (!isfinite(d)) {
        g_string_append(out, "null");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        char fmt[8];
        g_snprintf(fmt, sizeof(fmt), "%%.%dg", prec);
        g_ascii_formatd(buf, sizeof(buf), fmt, d);
        if (g_ascii_strtod(buf, NULL) == d)
            break;
    }
    g_string_append(out, buf);
}

static void put_int(GString *out, gint64 v)
{
    /* Not g_string_append_printf, which allocates: a report has millions of numbers. */
    char buf[24];
    g_snprintf(buf, sizeof(buf), "%" G_GINT64_FORMAT, v);
    g_string_append(out, buf);
}

static gboolean is_scalar(JsonNode *n)
{
    return JSON_NODE_HOLDS_VALUE(n) || JSON_NODE_HOLDS_NULL(n);
}

static void put_indent(GString *out, int depth)
{
    g_string_append_c(out, '\n');
    for (int i = 0; i < depth; i++)
        g_string_append(out, "  ");
}

static void put_node(GString *out, JsonNode *n, int depth);

/* An object whose own line is indented by depth; NULL is the empty object. */
static void put_object(GString *out, JsonObject *o, int depth)
{
    GList *members = o ? json_object_get_members(o) : NULL;
    if (!members) {
        g_string_append(out, "{}");
        return;
    }
    g_string_append_c(out, '{');
    for (GList *m = members; m; m = m->next) {
        put_indent(out, depth + 1);
        put_string(out, m->data);
        g_string_append(out, ": ");
        put_node(out, json_object_get_member(o, m->data), depth + 1);
        if (m->next)
            g_string_append_c(out, ',');
    }
    g_list_free(members);
    put_indent(out, depth);
    g_string_append_c(out, '}');
}

static void put_node(GString *out, JsonNode *n, int depth)
{
    switch (json_node_get_node_type(n)) {
    case JSON_NODE_OBJECT:
        put_object(out, json_node_get_object(n), depth);
        break;
    case JSON_NODE_ARRAY: {
        JsonArray *a = json_node_get_array(n);
        guint len = json_array_get_length(a);
        gboolean flat = TRUE;
        for (guint i = 0; i < len && flat; i++)
            flat = is_scalar(json_array_get_element(a, i));
        g_string_append_c(out, '[');
        for (guint i = 0; i < len; i++) {
            /* Frame lists read best on one line: "packets": [4, 5, 6, 7]. */
            if (flat && i > 0)
                g_string_append_c(out, ' ');
            else if (!flat)
                put_indent(out, depth + 1);
            put_node(out, json_array_get_element(a, i), depth + 1);
            if (i + 1 < len)
                g_string_append_c(out, ',');
        }
        if (!flat && len)
            put_indent(out, depth);
        g_string_append_c(out, ']');
        break;
    }
    case JSON_NODE_NULL:
        g_string_append(out, "null");
        break;
    case JSON_NODE_VALUE:
        switch (json_node_get_value_type(n)) {
        case G_TYPE_STRING:
            put_string(out, json_node_get_string(n));
            break;
        case G_TYPE_INT64:
            put_int(out, json_node_get_int(n));
            break;
        case G_TYPE_DOUBLE:
            put_double(out, json_node_get_double(n));
            break;
        case G_TYPE_BOOLEAN:
            g_string_append(out, json_node_get_boolean(n) ? "true" : "false");
            break;
        default:
            g_string_append(out, "null");
        }
        break;
    }
}

char *rpt_json_node_to_string(JsonNode *node)
{
    GString *out = g_string_new(NULL);
    put_node(out, node, 0);
    g_string_append_c(out, '\n');
    return g_string_free(out, FALSE);
}

/* --- the writer: one walk of the model, a tree or text ---------------------------------------- */

/* The report's shape is decided in one place, the walk below (emit_*). It drives this writer,
 * which either builds a JsonNode tree (rpt_json_build) or writes the text as it goes, in
 * exactly put_node's layout (rpt_json_to_string, rpt_json_write): the tree and the text cannot
 * drift apart, and writing a report never holds more of it than one buffer. With the tree,
 * analyze's report on bench/'s 1.1 GB capture (28 MB of JSON) took the run's peak memory from
 * 77 MB to 299 MB. */

/* Text is flushed to the file in pieces of about this size. */
#define JW_CHUNK (64 * 1024)
/* The walk nests containers at most five deep (top, sessions, a session, steps, a step);
 * details objects are written by put_object, not counted here. */
#define JW_MAX_DEPTH 8

struct jw_level {
    gboolean array; /* an array, else an object */
    gboolean any;   /* a member or element has been written */
    gboolean flat;  /* an array of scalars, on one line (decided by its first element) */
};

struct jw {
    JsonBuilder *b; /* the tree; NULL when writing text */
    GString *out;   /* the text, or the part of it not yet written to f */
    FILE *f;        /* where out goes; NULL keeps the whole text in out */
    int err;        /* errno of the first failed write to f, 0 if none */
    int depth;      /* open containers */
    struct jw_level lv[JW_MAX_DEPTH];
};

/* json-glib copies objects and arrays by reference; the report must not share the model's
 * details objects, or a caller editing the tree would edit the model. */
static JsonNode *deep_copy(JsonNode *n)
{
    switch (json_node_get_node_type(n)) {
    case JSON_NODE_OBJECT: {
        JsonObject *src = json_node_get_object(n), *dst = json_object_new();
        GList *members = json_object_get_members(src);
        for (GList *m = members; m; m = m->next)
            json_object_set_member(dst, m->data, deep_copy(json_object_get_member(src, m->data)));
        g_list_free(members);
        JsonNode *node = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(node, dst);
        return node;
    }
    case JSON_NODE_ARRAY: {
        JsonArray *src = json_node_get_array(n), *dst = json_array_new();
        for (guint i = 0; i < json_array_get_length(src); i++)
            json_array_add_element(dst, deep_copy(json_array_get_element(src, i)));
        JsonNode *node = json_node_new(JSON_NODE_ARRAY);
        json_node_take_array(node, dst);
        return node;
    }
    default:
        return json_node_copy(n);
    }
}

static void jw_flush(struct jw *w)
{
    if (!w->f || w->out->len == 0)
        return;
    if (!w->err && fwrite(w->out->str, 1, w->out->len, w->f) != w->out->len)
        w->err = errno ? errno : EIO;
    g_string_truncate(w->out, 0);
}

/* What comes before a value in text: its place in the enclosing array, if any. */
static void jw_value(struct jw *w, gboolean scalar)
{
    if (w->b || w->depth == 0)
        return;
    struct jw_level *lv = &w->lv[w->depth - 1];
    if (!lv->array)
        return; /* jw_key wrote the member's name */
    if (!lv->any)
        lv->flat = scalar;
    /* put_node writes an array with any container in it one element a line: the walk never
     * mixes the two, so the first element decides. */
    g_warn_if_fail(lv->flat == scalar);
    if (lv->any)
        g_string_append_c(w->out, ',');
    if (lv->flat && lv->any)
        g_string_append_c(w->out, ' ');
    else if (!lv->flat)
        put_indent(w->out, w->depth);
    lv->any = TRUE;
    if (w->out->len >= JW_CHUNK)
        jw_flush(w);
}

static void jw_key(struct jw *w, const char *name)
{
    if (w->b) {
        json_builder_set_member_name(w->b, name);
        return;
    }
    struct jw_level *lv = &w->lv[w->depth - 1];
    g_warn_if_fail(!lv->array);
    if (lv->any)
        g_string_append_c(w->out, ',');
    put_indent(w->out, w->depth);
    put_string(w->out, name);
    g_string_append(w->out, ": ");
    lv->any = TRUE;
}

static void jw_begin(struct jw *w, gboolean array)
{
    g_return_if_fail(w->depth < JW_MAX_DEPTH);
    if (w->b) {
        if (array)
            json_builder_begin_array(w->b);
        else
            json_builder_begin_object(w->b);
    } else {
        jw_value(w, FALSE);
        g_string_append_c(w->out, array ? '[' : '{');
    }
    w->lv[w->depth++] = (struct jw_level){.array = array};
}

static void jw_end(struct jw *w)
{
    g_return_if_fail(w->depth > 0);
    struct jw_level *lv = &w->lv[--w->depth];
    if (w->b) {
        if (lv->array)
            json_builder_end_array(w->b);
        else
            json_builder_end_object(w->b);
        return;
    }
    if (lv->any && !(lv->array && lv->flat))
        put_indent(w->out, w->depth);
    g_string_append_c(w->out, lv->array ? ']' : '}');
    if (w->out->len >= JW_CHUNK)
        jw_flush(w);
}

static void jw_string(struct jw *w, const char *v)
{
    if (w->b) {
        json_builder_add_string_value(w->b, v);
        return;
    }
    jw_value(w, TRUE);
    put_string(w->out, v);
}

static void jw_int(struct jw *w, gint64 v)
{
    if (w->b) {
        json_builder_add_int_value(w->b, v);
        return;
    }
    jw_value(w, TRUE);
    put_int(w->out, v);
}

static void jw_double(struct jw *w, double v)
{
    if (w->b) {
        json_builder_add_double_value(w->b, v);
        return;
    }
    jw_value(w, TRUE);
    put_double(w->out, v);
}

static void jw_bool(struct jw *w, gboolean v)
{
    if (w->b) {
        json_builder_add_boolean_value(w->b, v);
        return;
    }
    jw_value(w, TRUE);
    g_string_append(w->out, v ? "true" : "false");
}

/* A model's JsonObject (step details, session facts), copied into the tree or written member by
 * member; NULL is the empty object. */
static void jw_object(struct jw *w, JsonObject *o)
{
    if (w->b) {
        if (!o) {
            json_builder_begin_object(w->b);
            json_builder_end_object(w->b);
            return;
        }
        JsonNode *tmp = json_node_init_object(json_node_alloc(), o);
        json_builder_add_value(w->b, deep_copy(tmp));
        json_node_unref(tmp);
        return;
    }
    jw_value(w, FALSE);
    put_object(w->out, o, w->depth);
}

/* --- the report's shape ----------------------------------------------------------------------- */

/* Optional strings are left out rather than written as null or "": absent means "none". */
static void emit_str(struct jw *w, const char *name, const char *v)
{
    if (!v || !*v)
        return;
    jw_key(w, name);
    jw_string(w, v);
}

static void emit_req_str(struct jw *w, const char *name, const char *v)
{
    jw_key(w, name);
    jw_string(w, v ? v : "");
}

static void emit_int(struct jw *w, const char *name, gint64 v)
{
    jw_key(w, name);
    jw_int(w, v);
}

static void emit_double(struct jw *w, const char *name, double v)
{
    jw_key(w, name);
    jw_double(w, isfinite(v) ? v : 0.0);
}

static void emit_object(struct jw *w, const char *name, JsonObject *o)
{
    jw_key(w, name);
    jw_object(w, o);
}

static void emit_frames(struct jw *w, const char *name, const GArray *frames)
{
    jw_key(w, name);
    jw_begin(w, TRUE);
    for (guint i = 0; frames && i < frames->len; i++)
        jw_int(w, g_array_index(frames, guint, i));
    jw_end(w);
}

static void emit_target(struct jw *w, const struct rpt_target *t)
{
    jw_key(w, "target");
    jw_begin(w, FALSE);
    emit_str(w, "uri", t->uri);
    emit_str(w, "host", t->host);
    if (t->port)
        emit_int(w, "port", t->port);
    emit_str(w, "transport", t->transport);
    emit_str(w, "username", t->username);
    emit_str(w, "password_info", t->password_info);
    emit_str(w, "address", t->address);
    jw_end(w);
}

static void emit_steps(struct jw *w, const struct rpt_session *s)
{
    jw_key(w, "steps");
    jw_begin(w, TRUE);
    for (guint i = 0; i < s->steps->len; i++) {
        const struct rpt_step *st = g_ptr_array_index(s->steps, i);
        jw_begin(w, FALSE);
        emit_req_str(w, "id", st->id);
        emit_req_str(w, "status", rpt_status_name(st->status));
        emit_req_str(w, "diagnosis", st->diagnosis ? st->diagnosis : "ok");
        emit_req_str(w, "summary", st->summary);
        emit_str(w, "hint", st->hint);
        emit_double(w, "duration_ms", st->duration_ms);
        emit_frames(w, "packets", st->packets);
        emit_object(w, "details", st->details);
        jw_end(w);
    }
    jw_end(w);
}

static void emit_findings(struct jw *w, const struct rpt_session *s)
{
    jw_key(w, "findings");
    jw_begin(w, TRUE);
    for (guint i = 0; i < s->findings->len; i++) {
        const struct rpt_finding *f = g_ptr_array_index(s->findings, i);
        jw_begin(w, FALSE);
        emit_req_str(w, "diagnosis", f->diagnosis);
        emit_req_str(w, "severity", rpt_severity_name(f->severity));
        emit_str(w, "step", f->step);
        emit_req_str(w, "message", f->message);
        emit_str(w, "hint", f->hint);
        jw_end(w);
    }
    jw_end(w);
}

static void emit_txns(struct jw *w, const struct rpt_session *s)
{
    jw_key(w, "transactions");
    jw_begin(w, TRUE);
    for (guint i = 0; i < s->txns->len; i++) {
        const struct rpt_txn *t = g_ptr_array_index(s->txns, i);
        char hex[2 * 12 + 1], mname[16];
        for (int k = 0; k < 12; k++)
            g_snprintf(hex + 2 * k, 3, "%02x", t->tid[k]);
        const char *method = sl_method_name(t->method);
        if (!method) {
            g_snprintf(mname, sizeof(mname), "0x%03x", t->method);
            method = mname;
        }
        jw_begin(w, FALSE);
        emit_str(w, "step", t->step);
        emit_str(w, "endpoint", t->endpoint);
        emit_req_str(w, "method", method);
        emit_req_str(w, "tid", hex);
        emit_frames(w, "requests", t->req_pkts);
        if (t->resp_pkt)
            emit_int(w, "response", t->resp_pkt);
        emit_req_str(w, "outcome", rpt_txn_outcome_name(t->outcome));
        if (t->outcome == RPT_TXN_ERROR) {
            emit_int(w, "error_code", t->error_code);
            emit_str(w, "reason", t->reason);
        }
        if (t->outcome == RPT_TXN_LOCAL && t->local_errno) {
            emit_int(w, "errno", t->local_errno);
            emit_str(w, "error", g_strerror(t->local_errno));
        }
        if (t->resp_pkt)
            emit_double(w, "rtt_ms", t->rtt_ms);
        if (t->authenticated) {
            jw_key(w, "authenticated");
            jw_bool(w, TRUE);
        }
        if (t->integrity)
            emit_req_str(w, "integrity", t->integrity > 0 ? "valid" : "invalid");
        jw_end(w);
    }
    jw_end(w);
}

static void emit_packets(struct jw *w, const struct rpt_result *r)
{
    gboolean several = r->sessions->len != 1;
    jw_key(w, "packets");
    jw_begin(w, TRUE);
    for (guint i = 0; i < r->packets->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        char src[SL_ADDR_STRLEN], dst[SL_ADDR_STRLEN];
        jw_begin(w, FALSE);
        emit_int(w, "n", p->n);
        emit_double(w, "t", rpt_packet_time(r, p));
        emit_req_str(w, "dir", p->dir == RPT_OUT ? "out" : "in");
        emit_req_str(w, "src", rpt_redact_addr_format(&p->src, src, sizeof(src), true));
        emit_req_str(w, "dst", rpt_redact_addr_format(&p->dst, dst, sizeof(dst), true));
        emit_req_str(w, "transport", rpt_transport_name(p->transport));
        emit_req_str(w, "summary", p->summary ? p->summary : rpt_kind_name(p->kind));
        emit_str(w, "step", p->step);
        emit_req_str(w, "kind", rpt_kind_name(p->kind));
        emit_int(w, "len", p->payload ? (gint64)g_bytes_get_size(p->payload) : 0);
        emit_str(w, "endpoint", p->endpoint);
        if (several)
            emit_int(w, "session", p->session);
        emit_str(w, "verdict", p->verdict);
        emit_str(w, "note", p->note);
        if (p->kind == RPT_PKT_ICMP_UNREACH) {
            if (p->ref)
                emit_int(w, "ref", p->ref);
            emit_int(w, "icmp_type", p->icmp_type);
            emit_int(w, "icmp_code", p->icmp_code);
        }
        jw_end(w);
    }
    jw_end(w);
}

/* A session's own part: with one session it sits at the top level, else in "sessions". */
static void emit_session_body(struct jw *w, const struct rpt_session *s)
{
    emit_target(w, &s->target);
    emit_req_str(w, "verdict", rpt_status_name(rpt_session_verdict(s)));
    emit_steps(w, s);
    emit_findings(w, s);
    emit_object(w, "facts", s->facts);
    emit_txns(w, s);
}

static void format_started(gint64 us, char *buf, size_t n)
{
    GDateTime *dt = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);
    if (!dt) {
        g_strlcpy(buf, "1970-01-01T00:00:00.000Z", n);
        return;
    }
    char *base = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
    g_snprintf(buf, n, "%s.%03dZ", base, (int)((us % G_USEC_PER_SEC) / 1000));
    g_free(base);
    g_date_time_unref(dt);
}

static void emit_report(struct jw *w, const struct rpt_result *r)
{
    char started[40];
    format_started(r->start_us, started, sizeof(started));

    jw_begin(w, FALSE);
    jw_key(w, "turnprobe");
    jw_begin(w, FALSE);
    emit_req_str(w, "version", r->version);
    emit_int(w, "schema", RPT_JSON_SCHEMA_VERSION);
    jw_end(w);
    emit_req_str(w, "command", r->command);
    emit_req_str(w, "started", started);
    emit_double(w, "duration_ms", r->duration_ms);
    if (r->inputs && r->inputs->len) {
        jw_key(w, "inputs");
        jw_begin(w, TRUE);
        for (guint i = 0; i < r->inputs->len; i++)
            jw_string(w, g_ptr_array_index(r->inputs, i));
        jw_end(w);
    }
    if (r->sessions->len == 1) {
        emit_session_body(w, g_ptr_array_index(r->sessions, 0));
        /* The overall verdict is the session's: emit_session_body wrote it. */
    } else {
        emit_req_str(w, "verdict", rpt_status_name(rpt_result_verdict(r)));
        jw_key(w, "sessions");
        jw_begin(w, TRUE);
        for (guint i = 0; i < r->sessions->len; i++) {
            const struct rpt_session *s = g_ptr_array_index(r->sessions, i);
            jw_begin(w, FALSE);
            emit_req_str(w, "name", s->name);
            emit_session_body(w, s);
            jw_end(w);
        }
        jw_end(w);
    }
    emit_packets(w, r);
    jw_end(w);
}

/* --- the entry points ------------------------------------------------------------------------- */

JsonNode *rpt_json_build(const struct rpt_result *r)
{
    struct jw w = {.b = json_builder_new()};
    emit_report(&w, r);
    JsonNode *root = json_builder_get_root(w.b);
    g_object_unref(w.b);
    return root;
}

char *rpt_json_to_string(const struct rpt_result *r)
{
    struct jw w = {.out = g_string_sized_new(JW_CHUNK)};
    emit_report(&w, r);
    g_string_append_c(w.out, '\n');
    return g_string_free(w.out, FALSE);
}

/* Streams the report to f, ending with a newline; returns 0, or the errno of the first write
 * that failed. */
static int write_stream(const struct rpt_result *r, FILE *f)
{
    struct jw w = {.out = g_string_sized_new(JW_CHUNK + 4096), .f = f};
    errno = 0;
    emit_report(&w, r);
    g_string_append_c(w.out, '\n');
    jw_flush(&w);
    g_string_free(w.out, TRUE);
    if (!w.err && fflush(f) != 0)
        w.err = errno ? errno : EIO;
    return w.err;
}

gboolean rpt_json_write(const struct rpt_result *r, const char *path, GError **err)
{
    int e;
    if (strcmp(path, "-") == 0) {
        e = write_stream(r, stdout);
        if (e)
            g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(e),
                        "writing the JSON report to standard output: %s", g_strerror(e));
        return !e;
    }
    /* What g_file_set_contents does, without the whole text in memory: a temporary file beside
     * path (mode 0666 less the umask), renamed over path once complete, and synced to disk
     * first when it replaces a file, so that a crash leaves the old report or the new one. */
    char *tmp = g_strconcat(path, ".XXXXXX", NULL);
    int fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0666);
    if (fd < 0) {
        e = errno;
        g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(e),
                    "cannot create a temporary file for %s: %s", path, g_strerror(e));
        g_free(tmp);
        return FALSE;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        e = errno;
        close(fd);
    } else {
        e = write_stream(r, f);
        if (!e && g_file_test(path, G_FILE_TEST_EXISTS) && fsync(fileno(f)) != 0)
            e = errno;
        if (fclose(f) != 0 && !e)
            e = errno ? errno : EIO;
    }
    if (!e && g_rename(tmp, path) != 0)
        e = errno;
    if (e) {
        g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(e), "cannot write %s: %s", path,
                    g_strerror(e));
        g_unlink(tmp);
    }
    g_free(tmp);
    return !e;
}
