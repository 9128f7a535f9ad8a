/* The JSON report, schema 1 (DESIGN.md, docs/report-schema.json), built from the result model. */
#include "rpt_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rpt_redact.h"
#include "sl_names.h"

/* --- building the tree ---------------------------------------------------------------------- */

/* json-glib copies objects and arrays by reference; the report must not share the model's
 * details objects, or a caller editing the tree would edit the model. */
static JsonNode *deep_copy(JsonNode *n)
{
    switch (json_node_get_node_type(n)) {
    case JSON_NODE_OBJECT: {
        JsonObject *src = json_node_get_object(n), *dst = json_object_new();
        GList *members = json_object_get_members(src);
        for (GList *m = members; m; m = m->next)
            json_object_set_member(dst, m->data,
                                   deep_copy(json_object_get_member(src, m->data)));
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

static void add_object_copy(JsonBuilder *b, const char *name, JsonObject *o)
{
    json_builder_set_member_name(b, name);
    if (!o) {
        json_builder_begin_object(b);
        json_builder_end_object(b);
        return;
    }
    JsonNode *tmp = json_node_init_object(json_node_alloc(), o);
    json_builder_add_value(b, deep_copy(tmp));
    json_node_unref(tmp);
}

/* Optional strings are left out rather than written as null or "": absent means "none". */
static void add_str(JsonBuilder *b, const char *name, const char *v)
{
    if (!v || !*v)
        return;
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, v);
}

static void add_req_str(JsonBuilder *b, const char *name, const char *v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, v ? v : "");
}

static void add_int(JsonBuilder *b, const char *name, gint64 v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, v);
}

static void add_double(JsonBuilder *b, const char *name, double v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_double_value(b, isfinite(v) ? v : 0.0);
}

static void add_frames(JsonBuilder *b, const char *name, const GArray *frames)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (guint i = 0; frames && i < frames->len; i++)
        json_builder_add_int_value(b, g_array_index(frames, guint, i));
    json_builder_end_array(b);
}

static void add_target(JsonBuilder *b, const struct rpt_target *t)
{
    json_builder_set_member_name(b, "target");
    json_builder_begin_object(b);
    add_str(b, "uri", t->uri);
    add_str(b, "host", t->host);
    if (t->port)
        add_int(b, "port", t->port);
    add_str(b, "transport", t->transport);
    add_str(b, "username", t->username);
    add_str(b, "password_info", t->password_info);
    add_str(b, "address", t->address);
    json_builder_end_object(b);
}

static void add_steps(JsonBuilder *b, const struct rpt_session *s)
{
    json_builder_set_member_name(b, "steps");
    json_builder_begin_array(b);
    for (guint i = 0; i < s->steps->len; i++) {
        const struct rpt_step *st = g_ptr_array_index(s->steps, i);
        json_builder_begin_object(b);
        add_req_str(b, "id", st->id);
        add_req_str(b, "status", rpt_status_name(st->status));
        add_req_str(b, "diagnosis", st->diagnosis ? st->diagnosis : "ok");
        add_req_str(b, "summary", st->summary);
        add_str(b, "hint", st->hint);
        add_double(b, "duration_ms", st->duration_ms);
        add_frames(b, "packets", st->packets);
        add_object_copy(b, "details", st->details);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void add_findings(JsonBuilder *b, const struct rpt_session *s)
{
    json_builder_set_member_name(b, "findings");
    json_builder_begin_array(b);
    for (guint i = 0; i < s->findings->len; i++) {
        const struct rpt_finding *f = g_ptr_array_index(s->findings, i);
        json_builder_begin_object(b);
        add_req_str(b, "diagnosis", f->diagnosis);
        add_req_str(b, "severity", rpt_severity_name(f->severity));
        add_str(b, "step", f->step);
        add_req_str(b, "message", f->message);
        add_str(b, "hint", f->hint);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void add_txns(JsonBuilder *b, const struct rpt_session *s)
{
    json_builder_set_member_name(b, "transactions");
    json_builder_begin_array(b);
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
        json_builder_begin_object(b);
        add_str(b, "step", t->step);
        add_str(b, "endpoint", t->endpoint);
        add_req_str(b, "method", method);
        add_req_str(b, "tid", hex);
        add_frames(b, "requests", t->req_pkts);
        if (t->resp_pkt)
            add_int(b, "response", t->resp_pkt);
        add_req_str(b, "outcome", rpt_txn_outcome_name(t->outcome));
        if (t->outcome == RPT_TXN_ERROR) {
            add_int(b, "error_code", t->error_code);
            add_str(b, "reason", t->reason);
        }
        if (t->outcome == RPT_TXN_LOCAL && t->local_errno) {
            add_int(b, "errno", t->local_errno);
            add_str(b, "error", g_strerror(t->local_errno));
        }
        if (t->resp_pkt)
            add_double(b, "rtt_ms", t->rtt_ms);
        if (t->authenticated) {
            json_builder_set_member_name(b, "authenticated");
            json_builder_add_boolean_value(b, TRUE);
        }
        if (t->integrity)
            add_req_str(b, "integrity", t->integrity > 0 ? "valid" : "invalid");
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void add_packets(JsonBuilder *b, const struct rpt_result *r)
{
    gboolean several = r->sessions->len != 1;
    json_builder_set_member_name(b, "packets");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->packets->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        char src[SL_ADDR_STRLEN], dst[SL_ADDR_STRLEN];
        json_builder_begin_object(b);
        add_int(b, "n", p->n);
        add_double(b, "t", rpt_packet_time(r, p));
        add_req_str(b, "dir", p->dir == RPT_OUT ? "out" : "in");
        add_req_str(b, "src", rpt_redact_addr_format(&p->src, src, sizeof(src), true));
        add_req_str(b, "dst", rpt_redact_addr_format(&p->dst, dst, sizeof(dst), true));
        add_req_str(b, "transport", rpt_transport_name(p->transport));
        add_req_str(b, "summary", p->summary ? p->summary : rpt_kind_name(p->kind));
        add_str(b, "step", p->step);
        add_req_str(b, "kind", rpt_kind_name(p->kind));
        add_int(b, "len", p->payload ? (gint64)g_bytes_get_size(p->payload) : 0);
        add_str(b, "endpoint", p->endpoint);
        if (several)
            add_int(b, "session", p->session);
        add_str(b, "verdict", p->verdict);
        add_str(b, "note", p->note);
        if (p->kind == RPT_PKT_ICMP_UNREACH) {
            if (p->ref)
                add_int(b, "ref", p->ref);
            add_int(b, "icmp_type", p->icmp_type);
            add_int(b, "icmp_code", p->icmp_code);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

/* A session's own part: with one session it sits at the top level, else in "sessions". */
static void add_session_body(JsonBuilder *b, const struct rpt_session *s)
{
    add_target(b, &s->target);
    add_req_str(b, "verdict", rpt_status_name(rpt_session_verdict(s)));
    add_steps(b, s);
    add_findings(b, s);
    add_object_copy(b, "facts", s->facts);
    add_txns(b, s);
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

JsonNode *rpt_json_build(const struct rpt_result *r)
{
    JsonBuilder *b = json_builder_new();
    char started[40];
    format_started(r->start_us, started, sizeof(started));

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "turnprobe");
    json_builder_begin_object(b);
    add_req_str(b, "version", r->version);
    add_int(b, "schema", RPT_JSON_SCHEMA_VERSION);
    json_builder_end_object(b);
    add_req_str(b, "command", r->command);
    add_req_str(b, "started", started);
    add_double(b, "duration_ms", r->duration_ms);
    if (r->inputs && r->inputs->len) {
        json_builder_set_member_name(b, "inputs");
        json_builder_begin_array(b);
        for (guint i = 0; i < r->inputs->len; i++)
            json_builder_add_string_value(b, g_ptr_array_index(r->inputs, i));
        json_builder_end_array(b);
    }
    if (r->sessions->len == 1) {
        add_session_body(b, g_ptr_array_index(r->sessions, 0));
        /* The overall verdict is the session's: add_session_body wrote it. */
    } else {
        add_req_str(b, "verdict", rpt_status_name(rpt_result_verdict(r)));
        json_builder_set_member_name(b, "sessions");
        json_builder_begin_array(b);
        for (guint i = 0; i < r->sessions->len; i++) {
            const struct rpt_session *s = g_ptr_array_index(r->sessions, i);
            json_builder_begin_object(b);
            add_req_str(b, "name", s->name);
            add_session_body(b, s);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
    }
    add_packets(b, r);
    json_builder_end_object(b);

    JsonNode *root = json_builder_get_root(b);
    g_object_unref(b);
    return root;
}

/* --- writing it ----------------------------------------------------------------------------- */

static void put_string(GString *out, const char *s)
{
    /* Model strings may carry a server's bytes (a reason phrase, SOFTWARE); JSON must be UTF-8. */
    char *valid = g_utf8_make_valid(s, -1);
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
                g_string_append_printf(out, "\\u%04x", (unsigned char)c[2] == 0xa8 ? 0x2028 : 0x2029);
                c += 2;
            } else {
                g_string_append_c(out, (char)ch);
            }
        }
    }
    g_string_append_c(out, '"');
    g_free(valid);
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

static void put_node(GString *out, JsonNode *n, int depth)
{
    switch (json_node_get_node_type(n)) {
    case JSON_NODE_OBJECT: {
        JsonObject *o = json_node_get_object(n);
        GList *members = json_object_get_members(o);
        if (!members) {
            g_string_append(out, "{}");
            break;
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
        break;
    }
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
            g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(n));
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

char *rpt_json_to_string(const struct rpt_result *r)
{
    JsonNode *root = rpt_json_build(r);
    char *s = rpt_json_node_to_string(root);
    json_node_unref(root);
    return s;
}

static gboolean write_text(const char *path, const char *text, GError **err)
{
    if (strcmp(path, "-") == 0) {
        size_t len = strlen(text);
        if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
            int e = errno;
            g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(e),
                        "writing the JSON report to standard output: %s", g_strerror(e));
            return FALSE;
        }
        return TRUE;
    }
    /* g_file_set_contents writes a temporary file beside path and renames it over path. */
    return g_file_set_contents(path, text, -1, err);
}

gboolean rpt_json_write(const struct rpt_result *r, const char *path, GError **err)
{
    char *text = rpt_json_to_string(r);
    gboolean ok = write_text(path, text, err);
    g_free(text);
    return ok;
}
