/* The terminal report: golden files for both fixtures, colour, width, several sessions. */
#include <string.h>

#include "rpt_fixture.h"
#include "tp_golden.h"
#include "rpt_text.h"


typedef struct rpt_result *(*fixture_fn)(void);

static void golden(fixture_fn fx, const char *name, gboolean unicode, int verbose)
{
    struct rpt_result *r = fx();
    struct rpt_text_opts o = {.color = FALSE, .unicode = unicode, .verbose = verbose};
    char *s = rpt_text_to_string(r, &o);
    golden_check(name, s);
    g_free(s);
    rpt_result_free(r);
}

static void test_golden_failing(void)
{
    golden(rpt_fixture_failing_check, "failing-check.txt", TRUE, 0);
    golden(rpt_fixture_failing_check, "failing-check.ascii.txt", FALSE, 0);
    golden(rpt_fixture_failing_check, "failing-check.verbose.txt", TRUE, 1);
}

static void test_golden_passing(void)
{
    golden(rpt_fixture_passing_tcp_check, "passing-tcp-check.txt", TRUE, 0);
    golden(rpt_fixture_passing_tcp_check, "passing-tcp-check.ascii.txt", FALSE, 0);
    golden(rpt_fixture_passing_tcp_check, "passing-tcp-check.verbose.txt", TRUE, 1);
}

static char *render(struct rpt_result *r, gboolean color, gboolean unicode, int verbose)
{
    struct rpt_text_opts o = {.color = color, .unicode = unicode, .verbose = verbose};
    return rpt_text_to_string(r, &o);
}

static void test_content(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    char *s = render(r, FALSE, TRUE, 0);
    /* One line per step, with its symbol, title, time and summary. */
    g_assert_nonnull(strstr(s, "✓   0.7 ms  STUN Binding (reachability) — mapped address "
                               "127.0.0.1:50000 (RTT 0.7 ms)\n"));
    g_assert_nonnull(strstr(s, "✗   0.5 ms  CreatePermission for the peer — CreatePermission"));
    g_assert_nonnull(strstr(s, "–           TLS/DTLS handshake — not a turns: URI\n"));
    g_assert_nonnull(strstr(s, "!   2.1 ms  Allocation and authentication"));
    /* Findings: the failure before the warning, each with its hint. */
    const char *fail = strstr(s, "✗ FAIL  permission-forbidden — CreatePermission for the peer");
    const char *warn = strstr(s, "! WARN  relay-address-private");
    g_assert_nonnull(fail);
    g_assert_nonnull(warn);
    g_assert_true(fail < warn);
    g_assert_nonnull(strstr(fail, "Hint: The server's peer policy refuses this peer"));
    g_assert_nonnull(strstr(s, "\nVerdict: ✗ FAIL — CreatePermission for the peer: "
                               "permission-forbidden\n         11 steps: 1 failed, 1 warned, 5 "
                               "passed, 4 skipped · 12.5 ms\n"));
    /* The permission step's hint is its finding's: said once, under the finding. */
    const char *h = strstr(s, "Hint: The server's peer policy");
    g_assert_true(h > fail);
    g_assert_null(strstr(h + 1, "Hint: The server's peer policy"));
    /* Not verbose: no packets. */
    g_assert_null(strstr(s, "#1 "));
    g_free(s);

    s = render(r, FALSE, TRUE, 1);
    g_assert_nonnull(strstr(s, "#4    0.0031 s ← Allocate error response 401 Unauthorized — "
                               "expected challenge\n"));
    g_assert_nonnull(strstr(s, "Transaction: Allocate error 401 Unauthenticated, RTT 0.6 ms (#3 → #4)"));
    g_assert_nonnull(strstr(s, "Details: relayed 127.0.0.1:49160 · lifetime 600 · realm "
                               "example.org"));
    g_free(s);
    rpt_result_free(r);
}

static void test_ascii_and_color(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    char *s = render(r, FALSE, FALSE, 1);
    for (const char *c = s; *c; c++)
        g_assert_cmpint((unsigned char)*c, <, 0x80);
    g_assert_nonnull(strstr(s, "[XX]"));
    g_assert_null(strchr(s, '\033'));
    g_free(s);

    s = render(r, TRUE, TRUE, 0);
    g_assert_nonnull(strstr(s, "\033[31m✗\033[0m"));
    g_assert_nonnull(strstr(s, "\033[32m✓\033[0m"));
    g_free(s);
    rpt_result_free(r);
}

/* No line is wider than 100 columns unless it is one unbreakable word. */
static void check_width(const char *s)
{
    gchar **lines = g_strsplit(s, "\n", -1);
    for (gchar **l = lines; *l; l++) {
        if (g_utf8_strlen(*l, -1) <= 100)
            continue;
        gchar *trimmed = g_strstrip(g_strdup(*l));
        g_assert_null(strchr(trimmed, ' '));
        g_free(trimmed);
    }
    g_strfreev(lines);
}

static void test_width(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    struct rpt_step *st = rpt_step_find(g_ptr_array_index(r->sessions, 0), "policy");
    g_free(st->summary);
    st->summary = g_strdup("a very long summary that goes on and on past the end of the line "
                           "and on again past a second end of the line, so that it must wrap "
                           "twice at least: unbreakable-"
                           "wordwordwordwordwordwordwordwordwordwordwordwordwordwordwordwordword"
                           "wordwordwordwordwordwordwordword end");
    for (int v = 0; v <= 1; v++)
        for (int u = 0; u <= 1; u++) {
            char *s = render(r, FALSE, u, v);
            check_width(s);
            g_free(s);
        }
    rpt_result_free(r);
}

static void test_sessions(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    struct rpt_session *s2 = rpt_session_add(r, "turn:127.0.0.2:3478");
    s2->target.uri = g_strdup("turn:127.0.0.2:3478");
    struct rpt_step *st = rpt_step_add(s2, "binding");
    rpt_step_set(st, RPT_PASS, "ok", "mapped address 127.0.0.1:50001", NULL);
    char *s = render(r, FALSE, TRUE, 0);
    g_assert_nonnull(strstr(s, "\n■ 1/2  turn:127.0.0.1:3478\n"));
    g_assert_nonnull(strstr(s, "\n■ 2/2  turn:127.0.0.2:3478\n"));
    g_assert_nonnull(strstr(s, "\nSummary\n  ✗ FAIL  turn:127.0.0.1:3478  permission-forbidden "
                               "(permission)\n  ✓ PASS  turn:127.0.0.2:3478\n"));
    g_assert_nonnull(strstr(s, "Verdict: ✗ FAIL\n         2 sessions: 1 failed, 1 passed"));
    g_free(s);
    rpt_result_free(r);
}

static void test_file(void)
{
    struct rpt_result *r = rpt_fixture_passing_tcp_check();
    struct rpt_text_opts o = {.color = FALSE, .unicode = FALSE, .verbose = 0};
    char *want = rpt_text_to_string(r, &o);
    FILE *f = tmpfile();
    rpt_text_write(r, f, &o);
    rewind(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    g_assert_cmpstr(buf, ==, want);
    g_free(want);
    rpt_result_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rpt_text/golden/failing", test_golden_failing);
    g_test_add_func("/rpt_text/golden/passing-tcp", test_golden_passing);
    g_test_add_func("/rpt_text/content", test_content);
    g_test_add_func("/rpt_text/ascii-and-color", test_ascii_and_color);
    g_test_add_func("/rpt_text/width", test_width);
    g_test_add_func("/rpt_text/sessions", test_sessions);
    g_test_add_func("/rpt_text/file", test_file);
    return g_test_run();
}
