/* The JSON writer: golden files, the schema-1 fields, the enums of docs/report-schema.json, and
 * the streaming writer against the tree. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rpt_fixture.h"
#include "tp_golden.h"
#include "rpt_json.h"
#include "sl_msg.h"

static JsonObject *parse_object(const char *text, JsonParser **parser)
{
    GError *err = NULL;
    *parser = json_parser_new();
    g_assert_true(json_parser_load_from_data(*parser, text, -1, &err));
    g_assert_no_error(err);
    JsonNode *root = json_parser_get_root(*parser);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
    return json_node_get_object(root);
}

static void test_golden_failing(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    char *s = rpt_json_to_string(r);
    golden_check("failing-check.json", s);
    g_free(s);
    rpt_result_free(r);
}

static void test_golden_passing_tcp(void)
{
    struct rpt_result *r = rpt_fixture_passing_tcp_check();
    char *s = rpt_json_to_string(r);
    golden_check("passing-tcp-check.json", s);
    g_free(s);
    rpt_result_free(r);
}

/* The fields DESIGN.md's schema 1 promises, with the fixture's values. */
static void test_fields(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    char *s = rpt_json_to_string(r);
    JsonParser *parser;
    JsonObject *o = parse_object(s, &parser);

    JsonObject *tp = json_object_get_object_member(o, "turnprobe");
    g_assert_cmpstr(json_object_get_string_member(tp, "version"), ==, "0.1.0");
    g_assert_cmpint(json_object_get_int_member(tp, "schema"), ==, 1);
    g_assert_cmpstr(json_object_get_string_member(o, "command"), ==, "check");
    g_assert_cmpstr(json_object_get_string_member(o, "started"), ==, "2026-11-21T12:00:00.000Z");
    g_assert_cmpstr(json_object_get_string_member(o, "verdict"), ==, "fail");
    g_assert_false(json_object_has_member(o, "sessions"));

    JsonObject *t = json_object_get_object_member(o, "target");
    g_assert_cmpstr(json_object_get_string_member(t, "uri"), ==, "turn:127.0.0.1:3478");
    g_assert_cmpstr(json_object_get_string_member(t, "host"), ==, "127.0.0.1");
    g_assert_cmpint(json_object_get_int_member(t, "port"), ==, 3478);
    g_assert_cmpstr(json_object_get_string_member(t, "transport"), ==, "udp");
    g_assert_cmpstr(json_object_get_string_member(t, "username"), ==, "alice");

    JsonArray *steps = json_object_get_array_member(o, "steps");
    g_assert_cmpuint(json_array_get_length(steps), ==, 11);
    JsonObject *alloc = json_array_get_object_element(steps, 4);
    g_assert_cmpstr(json_object_get_string_member(alloc, "id"), ==, "allocate");
    g_assert_cmpstr(json_object_get_string_member(alloc, "status"), ==, "warn");
    g_assert_cmpstr(json_object_get_string_member(alloc, "diagnosis"), ==,
                    "relay-address-private");
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(alloc, "duration_ms"), 2.1,
                                   1e-9);
    JsonArray *pk = json_object_get_array_member(alloc, "packets");
    g_assert_cmpuint(json_array_get_length(pk), ==, 4);
    g_assert_cmpint(json_array_get_int_element(pk, 0), ==, 3);
    g_assert_cmpint(json_array_get_int_element(pk, 3), ==, 6);
    JsonObject *det = json_object_get_object_member(alloc, "details");
    g_assert_cmpstr(json_object_get_string_member(det, "relayed"), ==, "127.0.0.1:49160");
    g_assert_cmpint(json_object_get_int_member(det, "lifetime"), ==, 600);
    /* No hint: the key is absent, not null or "". */
    JsonObject *settings = json_array_get_object_element(steps, 0);
    g_assert_false(json_object_has_member(settings, "hint"));
    g_assert_true(json_object_has_member(alloc, "hint"));

    JsonArray *findings = json_object_get_array_member(o, "findings");
    g_assert_cmpuint(json_array_get_length(findings), ==, 2);
    JsonObject *f = json_array_get_object_element(findings, 1);
    g_assert_cmpstr(json_object_get_string_member(f, "diagnosis"), ==, "permission-forbidden");
    g_assert_cmpstr(json_object_get_string_member(f, "severity"), ==, "fail");
    g_assert_cmpstr(json_object_get_string_member(f, "step"), ==, "permission");

    JsonArray *packets = json_object_get_array_member(o, "packets");
    g_assert_cmpuint(json_array_get_length(packets), ==, r->packets->len);
    for (guint i = 0; i < json_array_get_length(packets); i++) {
        JsonObject *p = json_array_get_object_element(packets, i);
        g_assert_cmpint(json_object_get_int_member(p, "n"), ==, i + 1);
    }
    JsonObject *p4 = json_array_get_object_element(packets, 3);
    g_assert_cmpstr(json_object_get_string_member(p4, "dir"), ==, "in");
    g_assert_cmpstr(json_object_get_string_member(p4, "src"), ==, "127.0.0.1:3478");
    g_assert_cmpstr(json_object_get_string_member(p4, "dst"), ==, "127.0.0.1:50000");
    g_assert_cmpstr(json_object_get_string_member(p4, "transport"), ==, "udp");
    g_assert_cmpstr(json_object_get_string_member(p4, "step"), ==, "allocate");
    g_assert_cmpstr(json_object_get_string_member(p4, "summary"), ==,
                    "Allocate error response 401 Unauthorized");
    /* Packet 4 left 3.1 ms after the start (1 ms, then 700 us per packet). */
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(p4, "t"), 0.0031, 1e-9);
    /* Numbers are written in their shortest exact form. */
    g_assert_nonnull(strstr(s, "\"t\": 0.0031,"));
    g_assert_null(strstr(s, "9999999"));

    JsonArray *txns = json_object_get_array_member(o, "transactions");
    JsonObject *t401 = json_array_get_object_element(txns, 1);
    g_assert_cmpstr(json_object_get_string_member(t401, "method"), ==, "Allocate");
    g_assert_cmpstr(json_object_get_string_member(t401, "outcome"), ==, "error");
    g_assert_cmpint(json_object_get_int_member(t401, "error_code"), ==, 401);

    g_object_unref(parser);
    g_free(s);
    rpt_result_free(r);
}

/* The tree shares nothing with the model: editing one leaves the other alone. */
static void test_build_is_a_copy(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    JsonNode *root = rpt_json_build(r);
    JsonObject *alloc =
        json_array_get_object_element(json_object_get_array_member(json_node_get_object(root),
                                                                   "steps"),
                                      4);
    json_object_set_string_member(json_object_get_object_member(alloc, "details"), "relayed",
                                  "changed");
    const struct rpt_step *st = rpt_step_find(g_ptr_array_index(r->sessions, 0), "allocate");
    g_assert_cmpstr(json_object_get_string_member(st->details, "relayed"), ==,
                    "127.0.0.1:49160");
    json_node_unref(root);
    rpt_result_free(r);
}

/* Several sessions: a "sessions" array, and no single target at the top level. */
static void test_sessions(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    struct rpt_session *s2 = rpt_session_add(r, "turn:127.0.0.2:3478");
    s2->target.uri = g_strdup("turn:127.0.0.2:3478");
    struct rpt_step *st = rpt_step_add(s2, "binding");
    rpt_step_set(st, RPT_PASS, "ok", "mapped address 127.0.0.1:50001", NULL);
    char *s = rpt_json_to_string(r);
    JsonParser *parser;
    JsonObject *o = parse_object(s, &parser);
    g_assert_false(json_object_has_member(o, "target"));
    g_assert_false(json_object_has_member(o, "steps"));
    g_assert_cmpstr(json_object_get_string_member(o, "verdict"), ==, "fail");
    JsonArray *sessions = json_object_get_array_member(o, "sessions");
    g_assert_cmpuint(json_array_get_length(sessions), ==, 2);
    JsonObject *o2 = json_array_get_object_element(sessions, 1);
    g_assert_cmpstr(json_object_get_string_member(o2, "name"), ==, "turn:127.0.0.2:3478");
    g_assert_cmpstr(json_object_get_string_member(o2, "verdict"), ==, "pass");
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o2, "steps")), ==, 1);
    JsonObject *p1 = json_array_get_object_element(json_object_get_array_member(o, "packets"), 0);
    g_assert_cmpint(json_object_get_int_member(p1, "session"), ==, 0);
    g_object_unref(parser);
    g_free(s);
    rpt_result_free(r);
}

/* Server-chosen bytes cannot break the document or an HTML page embedding it. */
static void test_escaping(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    struct rpt_step *st = rpt_step_find(g_ptr_array_index(r->sessions, 0), "binding");
    g_free(st->summary);
    st->summary = g_strdup("a\"b\\c\n\x01</script>\xff\xe2\x80\xa8z");
    char *s = rpt_json_to_string(r);
    g_assert_nonnull(strstr(s, "\"summary\": \"a\\\"b\\\\c\\n\\u0001<\\/script>\xef\xbf\xbd"
                               "\\u2028z\""));
    JsonParser *parser;
    parse_object(s, &parser);
    g_object_unref(parser);
    g_free(s);
    rpt_result_free(r);
}

static void test_write_file(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    char *dir = g_dir_make_tmp("rpt-json-XXXXXX", NULL);
    char *path = g_build_filename(dir, "report.json", NULL);
    GError *err = NULL;
    g_assert_true(rpt_json_write(r, path, &err));
    g_assert_no_error(err);
    char *got = NULL, *want = rpt_json_to_string(r);
    g_assert_true(g_file_get_contents(path, &got, NULL, NULL));
    g_assert_cmpstr(got, ==, want);
    /* Only the report is left: the temporary file was renamed over it. */
    GDir *d = g_dir_open(dir, 0, NULL);
    g_assert_cmpstr(g_dir_read_name(d), ==, "report.json");
    g_assert_null(g_dir_read_name(d));
    g_dir_close(d);
    /* A directory that does not exist is an error, not a crash. */
    char *bad = g_build_filename(dir, "missing", "report.json", NULL);
    g_assert_false(rpt_json_write(r, bad, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    g_remove(path);
    g_rmdir(dir);
    g_free(bad);
    g_free(got);
    g_free(want);
    g_free(path);
    g_free(dir);
    rpt_result_free(r);
}

/* A step whose details hold every kind of JSON value, nested: what put_node lays out. */
static void add_nested_details(struct rpt_result *r)
{
    struct rpt_step *st = rpt_step_find(g_ptr_array_index(r->sessions, 0), "allocate");
    JsonObject *d = st->details;
    json_object_set_null_member(d, "none");
    json_object_set_boolean_member(d, "flag", FALSE);
    json_object_set_double_member(d, "ratio", 0.7);
    json_object_set_double_member(d, "whole", 3.0);
    json_object_set_array_member(d, "empty", json_array_new());
    json_object_set_object_member(d, "nothing", json_object_new());
    JsonArray *flat = json_array_new();
    json_array_add_int_element(flat, 1);
    json_array_add_string_element(flat, "</b>");
    json_array_add_null_element(flat);
    json_object_set_array_member(d, "flat", flat);
    JsonArray *rows = json_array_new();
    JsonObject *row = json_object_new();
    json_object_set_string_member(row, "addr", "192.0.2.1:3478");
    JsonArray *inner = json_array_new();
    json_array_add_array_element(inner, json_array_new());
    json_array_add_int_element(inner, 2);
    json_object_set_array_member(row, "mixed", inner);
    json_array_add_object_element(rows, row);
    json_array_add_int_element(rows, 7);
    json_object_set_array_member(d, "rows", rows);
}

/* The text written as it goes is the tree's text, whatever goes in: the fixtures, several
 * sessions, and details with nested arrays and objects. */
static void test_stream_matches_tree(void)
{
    for (int variant = 0; variant < 4; variant++) {
        struct rpt_result *r =
            variant == 1 ? rpt_fixture_passing_tcp_check() : rpt_fixture_failing_check();
        if (variant == 2) {
            struct rpt_session *s2 = rpt_session_add(r, "turn:127.0.0.2:3478");
            rpt_step_set(rpt_step_add(s2, "binding"), RPT_PASS, "ok", "mapped", NULL);
            g_ptr_array_add(r->inputs, g_strdup("a.pcap"));
            g_ptr_array_add(r->inputs, g_strdup("b.pcap"));
        }
        if (variant == 3)
            add_nested_details(r);
        JsonNode *root = rpt_json_build(r);
        char *tree = rpt_json_node_to_string(root);
        char *stream = rpt_json_to_string(r);
        g_assert_cmpstr(stream, ==, tree);
        /* The tree has what the text has: the parsed text prints the same. */
        JsonParser *parser;
        parse_object(stream, &parser);
        char *again = rpt_json_node_to_string(json_parser_get_root(parser));
        if (variant != 3) /* details' 3.0 reads back as the integer 3 */
            g_assert_cmpstr(again, ==, stream);
        g_free(again);
        g_object_unref(parser);
        g_free(stream);
        g_free(tree);
        json_node_unref(root);
        rpt_result_free(r);
    }
}

/* Peak resident memory of this process in kB, or -1 where /proc does not say. */
static gint64 peak_rss_kb(void)
{
    char *status = NULL;
    gint64 kb = -1;
    if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
        return -1;
    const char *hwm = strstr(status, "VmHWM:");
    if (hwm)
        kb = g_ascii_strtoll(hwm + strlen("VmHWM:"), NULL, 10);
    g_free(status);
    return kb;
}

#define BIG_PACKETS  200000
#define BIG_SESSIONS 2000

/* analyze's kind of result, large: many sessions, and packets with their annotations. */
static struct rpt_result *big_result(void)
{
    struct rpt_result *r = rpt_result_new("analyze", "0.1.0");
    r->start_us = 1795262400000000LL;
    r->duration_ms = 1234.5;
    g_ptr_array_add(r->inputs, g_strdup("big.pcap"));
    for (guint i = 0; i < BIG_SESSIONS; i++) {
        char name[64];
        g_snprintf(name, sizeof(name), "10.0.%u.%u:51000 -> 198.51.100.7:3478/udp", i / 250,
                   i % 250);
        struct rpt_session *s = rpt_session_add(r, name);
        s->target.transport = g_strdup("udp");
        s->target.address = g_strdup("198.51.100.7:3478");
        struct rpt_step *st = rpt_step_add(s, "allocate");
        rpt_step_set(st, i % 7 ? RPT_PASS : RPT_FAIL, i % 7 ? "ok" : "auth-rejected",
                     "Allocate answered", NULL);
        json_object_set_int_member(st->details, "lifetime", 600);
        guint8 tid[12] = {(guint8)i, (guint8)(i >> 8)};
        struct rpt_txn *t = rpt_txn_add(s, "allocate", "client", SL_ALLOCATE, tid);
        t->outcome = RPT_TXN_SUCCESS;
        json_object_set_string_member(s->facts, "software", "coturn \"4.6\"");
    }
    struct sl_addr a = {.family = SL_AF_IPV4, .port = 51000, .ip = {10, 0, 0, 1}};
    struct sl_addr b = {.family = SL_AF_IPV4, .port = 3478, .ip = {198, 51, 100, 7}};
    static const guint8 payload[20] = {0x00, 0x03};
    for (guint i = 0; i < BIG_PACKETS; i++) {
        gboolean out = i % 2 == 0;
        struct rpt_packet *p =
            rpt_packet_add(r, RPT_PKT_STUN, out ? RPT_OUT : RPT_IN, RPT_UDP, out ? &a : &b,
                           out ? &b : &a, r->start_us + 1000 * (gint64)i, payload, sizeof(payload));
        p->session = i % BIG_SESSIONS;
        p->summary = g_strdup(out ? "Allocate request" : "Allocate success response");
        rpt_packet_annotate(p, "allocate", "ok", i % 3 ? NULL : "relayed \"203.0.113.9\" </x>");
        const struct rpt_session *s = g_ptr_array_index(r->sessions, p->session);
        struct rpt_step *st = g_ptr_array_index(s->steps, 0);
        g_array_append_val(st->packets, p->n);
    }
    return r;
}

/* A result of 200k packets is written without building the document in memory first, and
 * what is written is the whole document: it parses, with every packet in order. */
static void test_large(void)
{
    struct rpt_result *r = big_result();
    char *dir = g_dir_make_tmp("rpt-json-XXXXXX", NULL);
    char *path = g_build_filename(dir, "big.json", NULL);
    GError *err = NULL;

    gint64 before = peak_rss_kb();
    g_assert_true(rpt_json_write(r, path, &err));
    g_assert_no_error(err);
    gint64 after = peak_rss_kb();
    g_test_message("peak resident memory %" G_GINT64_FORMAT
                   " kB before the write, %" G_GINT64_FORMAT " kB after",
                   before, after);
    /* The document is about 70 MB; building its tree first took 600 MB more. The writer holds
     * one buffer of it. */
    if (before > 0 && after > 0)
        g_assert_cmpint(after - before, <, 16 * 1024);

    /* The file and the string are written in different pieces: the same text. */
    char *text = NULL, *want = rpt_json_to_string(r);
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &text, &len, NULL));
    g_assert_cmpuint(len, ==, strlen(want));
    g_test_message("the document is %" G_GSIZE_FORMAT " bytes", len);
    g_assert_true(memcmp(text, want, len) == 0);
    g_free(want);
    g_free(text);

    JsonParser *parser = json_parser_new();
    g_assert_true(json_parser_load_from_file(parser, path, &err));
    g_assert_no_error(err);
    JsonObject *o = json_node_get_object(json_parser_get_root(parser));
    g_assert_cmpstr(json_object_get_string_member(o, "verdict"), ==, "fail");
    JsonArray *sessions = json_object_get_array_member(o, "sessions");
    g_assert_cmpuint(json_array_get_length(sessions), ==, BIG_SESSIONS);
    JsonObject *last = json_array_get_object_element(sessions, BIG_SESSIONS - 1);
    JsonArray *steps = json_object_get_array_member(last, "steps");
    JsonArray *frames =
        json_object_get_array_member(json_array_get_object_element(steps, 0), "packets");
    g_assert_cmpuint(json_array_get_length(frames), ==, BIG_PACKETS / BIG_SESSIONS);
    g_assert_cmpint(json_array_get_int_element(frames, 0), ==, BIG_SESSIONS);
    JsonArray *packets = json_object_get_array_member(o, "packets");
    g_assert_cmpuint(json_array_get_length(packets), ==, BIG_PACKETS);
    for (guint i = 0; i < BIG_PACKETS; i++) {
        JsonObject *p = json_array_get_object_element(packets, i);
        g_assert_cmpint(json_object_get_int_member(p, "n"), ==, i + 1);
        g_assert_cmpint(json_object_get_int_member(p, "session"), ==, i % BIG_SESSIONS);
    }
    JsonObject *p3 = json_array_get_object_element(packets, BIG_PACKETS - 2);
    g_assert_cmpstr(json_object_get_string_member(p3, "note"), ==, "relayed \"203.0.113.9\" </x>");
    g_assert_cmpstr(json_object_get_string_member(p3, "src"), ==, "10.0.0.1:51000");
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(p3, "t"),
                                   (BIG_PACKETS - 2) / 1000.0, 1e-9);

    g_object_unref(parser);
    g_remove(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
    rpt_result_free(r);
}

/* Runs rpt_json_write(r, "-") with standard output on fd; restores it. */
static gboolean write_stdout_to(const struct rpt_result *r, int fd, GError **err)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    g_assert_cmpint(saved, >=, 0);
    g_assert_cmpint(dup2(fd, STDOUT_FILENO), ==, STDOUT_FILENO);
    gboolean ok = rpt_json_write(r, "-", err);
    clearerr(stdout);
    g_assert_cmpint(dup2(saved, STDOUT_FILENO), ==, STDOUT_FILENO);
    close(saved);
    return ok;
}

/* "-" streams to standard output; a full disk there is an error, not a short report. */
static void test_write_stdout(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    char *tmp = NULL;
    int fd = g_file_open_tmp("rpt-json-XXXXXX", &tmp, NULL);
    g_assert_cmpint(fd, >=, 0);
    GError *err = NULL;
    g_assert_true(write_stdout_to(r, fd, &err));
    g_assert_no_error(err);
    close(fd);
    char *got = NULL, *want = rpt_json_to_string(r);
    g_assert_true(g_file_get_contents(tmp, &got, NULL, NULL));
    g_assert_cmpstr(got, ==, want);
    g_remove(tmp);

    int full = open("/dev/full", O_WRONLY);
    if (full >= 0) {
        g_assert_false(write_stdout_to(r, full, &err));
        g_assert_error(err, G_FILE_ERROR, G_FILE_ERROR_NOSPC);
        g_clear_error(&err);
        close(full);
    }
    g_free(got);
    g_free(want);
    g_free(tmp);
    rpt_result_free(r);
}

/* The schema's enums of step and diagnosis ids are the model's tables, in their order: a new
 * id in rpt_steps or rpt_diags must be added to docs/report-schema.json too. */
static void check_enum(JsonObject *defs, const char *name, const char *const *ids, size_t n)
{
    JsonArray *e = json_object_get_array_member(json_object_get_object_member(defs, name), "enum");
    GString *want = g_string_new("[");
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(want, "%s\"%s\"", i ? ", " : "", ids[i]);
    g_string_append(want, "]");
    gboolean same = json_array_get_length(e) == n;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(json_array_get_string_element(e, (guint)i), ids[i]) == 0;
    if (!same)
        g_error("docs/report-schema.json $defs/%s/enum differs from the model's table; it should "
                "be:\n%s",
                name, want->str);
    g_string_free(want, TRUE);
}

static void test_schema_enums(void)
{
    GError *err = NULL;
    JsonParser *parser = json_parser_new();
    g_assert_true(
        json_parser_load_from_file(parser, TP_SOURCE_DIR "/docs/report-schema.json", &err));
    g_assert_no_error(err);
    JsonObject *schema = json_node_get_object(json_parser_get_root(parser));
    JsonObject *defs = json_object_get_object_member(schema, "$defs");
    const char **ids = g_new0(const char *, MAX(rpt_step_count, rpt_diag_count));
    for (size_t i = 0; i < rpt_step_count; i++)
        ids[i] = rpt_steps[i].id;
    check_enum(defs, "stepId", ids, rpt_step_count);
    for (size_t i = 0; i < rpt_diag_count; i++)
        ids[i] = rpt_diags[i].id;
    check_enum(defs, "diagnosisId", ids, rpt_diag_count);
    /* The other enums name what rpt_model.c writes. */
    const char *status[] = {rpt_status_name(RPT_PASS), rpt_status_name(RPT_WARN),
                            rpt_status_name(RPT_FAIL), rpt_status_name(RPT_SKIP)};
    check_enum(defs, "status", status, 4);
    const char *sev[] = {rpt_severity_name(RPT_SEV_INFO), rpt_severity_name(RPT_SEV_WARN),
                         rpt_severity_name(RPT_SEV_FAIL)};
    check_enum(defs, "severity", sev, 3);
    g_free(ids);
    g_object_unref(parser);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rpt_json/golden/failing", test_golden_failing);
    g_test_add_func("/rpt_json/golden/passing-tcp", test_golden_passing_tcp);
    g_test_add_func("/rpt_json/fields", test_fields);
    g_test_add_func("/rpt_json/copy", test_build_is_a_copy);
    g_test_add_func("/rpt_json/sessions", test_sessions);
    g_test_add_func("/rpt_json/escaping", test_escaping);
    g_test_add_func("/rpt_json/write-file", test_write_file);
    g_test_add_func("/rpt_json/schema-enums", test_schema_enums);
    g_test_add_func("/rpt_json/stream-matches-tree", test_stream_matches_tree);
    g_test_add_func("/rpt_json/write-stdout", test_write_stdout);
    g_test_add_func("/rpt_json/large", test_large);
    return g_test_run();
}
