/* The Markdown report: golden files, table escaping, the Wireshark section. */
#include <glib/gstdio.h>
#include <string.h>

#include "rpt_fixture.h"
#include "tp_golden.h"
#include "rpt_md.h"


static void test_golden(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    char *s = rpt_md_to_string(r);
    golden_check("failing-check.md", s);
    g_free(s);
    rpt_result_free(r);
    r = rpt_fixture_passing_tcp_check();
    s = rpt_md_to_string(r);
    golden_check("passing-tcp-check.md", s);
    g_free(s);
    rpt_result_free(r);
}

/* Every row of a table has as many unescaped '|' as the header row. */
static void check_tables(const char *md)
{
    gchar **lines = g_strsplit(md, "\n", -1);
    int cols = -1;
    for (gchar **l = lines; *l; l++) {
        if (**l != '|') {
            cols = -1;
            continue;
        }
        int n = 0;
        for (const char *c = *l; *c; c++) {
            if (*c == '\\' && c[1]) {
                c++;
                continue;
            }
            n += *c == '|';
        }
        if (cols < 0)
            cols = n;
        g_assert_cmpint(n, ==, cols);
    }
    g_strfreev(lines);
}

static void test_content(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    char *s = rpt_md_to_string(r);
    g_assert_true(g_str_has_prefix(s, "# turnprobe check: ❌ FAIL — turn:127.0.0.1:3478\n"));
    g_assert_nonnull(strstr(s, "| Target | `turn:127.0.0.1:3478` |\n|---|---|\n"));
    g_assert_nonnull(strstr(s, "| Username | alice |\n"));
    g_assert_nonnull(strstr(s, "| Step | Status | Diagnosis | Key facts | Time |\n"));
    g_assert_nonnull(strstr(s, "| CreatePermission for the peer | ❌ fail | `permission-forbidden` "
                               "| CreatePermission for 127.0.0.1:49161 refused: 403 Forbidden IP "
                               "| 0.5 ms |\n"));
    g_assert_nonnull(strstr(s, "- **❌ FAIL** `permission-forbidden` in CreatePermission for the "
                               "peer: The server refused"));
    g_assert_nonnull(strstr(s, "  - **Hint:** The server's peer policy"));
    /* Port 3478 over UDP: a filter, no decode-as; no ChannelData, no TURNCHANNEL note. */
    g_assert_nonnull(strstr(s, "```\n(stun || turnchannel) && ip.addr == 127.0.0.1 && "
                               "udp.port == 3478\n```\n"));
    g_assert_null(strstr(s, "-d udp.port"));
    g_assert_null(strstr(s, "TURNCHANNEL"));
    check_tables(s);
    g_free(s);
    rpt_result_free(r);
}

/* A '|' or markup in model text cannot break a table or inject HTML. */
static void test_escaping(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    struct rpt_session *ss = g_ptr_array_index(r->sessions, 0);
    struct rpt_step *st = rpt_step_find(ss, "binding");
    g_free(st->summary);
    st->summary = g_strdup("a|b <script>*x*_y_ `c` [l](u)\nnext");
    g_free(ss->target.uri);
    ss->target.uri = g_strdup("turn:h|`x`");
    char *s = rpt_md_to_string(r);
    g_assert_nonnull(strstr(s, "| a\\|b &lt;script&gt;\\*x\\*\\_y\\_ \\`c\\` \\[l\\](u) next; mapped"));
    g_assert_nonnull(strstr(s, "| Target | `` turn:h\\|`x` `` |"));
    g_assert_null(strstr(s, "<script>"));
    check_tables(s);
    g_free(s);
    rpt_result_free(r);
}

/* Another port, TLS and ChannelData: decode-as and the TURNCHANNEL note. */
static void test_wireshark(void)
{
    struct rpt_result *r = rpt_fixture_passing_tcp_check();
    struct rpt_session *ss = g_ptr_array_index(r->sessions, 0);
    char *s = rpt_md_to_string(r);
    g_assert_nonnull(strstr(s, "(stun || turnchannel) && ip.addr == 127.0.0.1 && tcp.port == 3478"));
    g_assert_null(strstr(s, "-d tcp.port"));
    g_assert_nonnull(strstr(s, "TURNCHANNEL"));
    g_free(s);

    g_free(ss->target.address);
    ss->target.address = g_strdup("[2001:db8::7]:3479");
    g_free(ss->target.transport);
    ss->target.transport = g_strdup("udp");
    s = rpt_md_to_string(r);
    g_assert_nonnull(strstr(s, "(stun || turnchannel) && ipv6.addr == 2001:db8::7 && "
                               "udp.port == 3479"));
    g_assert_nonnull(strstr(s, "-d udp.port==3479,stun"));
    g_free(s);

    g_free(ss->target.address);
    ss->target.address = g_strdup("198.51.100.7:443");
    g_free(ss->target.transport);
    ss->target.transport = g_strdup("tls");
    s = rpt_md_to_string(r);
    g_assert_nonnull(strstr(s, "(tls || stun || turnchannel) && ip.addr == 198.51.100.7 && "
                               "tcp.port == 443"));
    g_assert_nonnull(strstr(s, "-d tls.port==443,stun"));
    g_free(s);

    /* A redacted address is no address: the filter leaves it out and says so. */
    g_free(ss->target.address);
    ss->target.address = g_strdup("server-public-1:3478");
    g_free(ss->target.host);
    ss->target.host = g_strdup("host-1");
    s = rpt_md_to_string(r);
    g_assert_null(strstr(s, "ip.addr == server"));
    g_assert_nonnull(strstr(s, "add `ip.addr == ADDRESS`"));
    g_free(s);
    rpt_result_free(r);
}

static void test_sessions(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    struct rpt_session *s2 = rpt_session_add(r, "10.0.0.5:51000 -> 127.0.0.2:3478/udp");
    s2->target.address = g_strdup("127.0.0.2:3478");
    s2->target.transport = g_strdup("udp");
    struct rpt_step *st = rpt_step_add(s2, "binding");
    rpt_step_set(st, RPT_PASS, "ok", "mapped address 127.0.0.1:50001", NULL);
    g_ptr_array_add(r->inputs, g_strdup("customer capture.pcapng"));
    g_free(r->command);
    r->command = g_strdup("analyze");
    char *s = rpt_md_to_string(r);
    g_assert_true(g_str_has_prefix(s, "# turnprobe analyze: ❌ FAIL — 2 sessions\n"));
    g_assert_nonnull(strstr(s, "| 2 | 10.0.0.5:51000 -&gt; 127.0.0.2:3478/udp | ✅ PASS |  |\n"));
    g_assert_nonnull(strstr(s, "\n## 2. ✅ PASS — 10.0.0.5:51000 -&gt; 127.0.0.2:3478/udp\n"));
    g_assert_nonnull(strstr(s, "\n### Checklist\n"));
    g_assert_nonnull(strstr(s, "tshark -r 'customer capture.pcapng' -Y"));
    check_tables(s);
    g_free(s);
    rpt_result_free(r);
}

static void test_write(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    char *dir = g_dir_make_tmp("rpt-md-XXXXXX", NULL);
    char *path = g_build_filename(dir, "report.md", NULL);
    GError *err = NULL;
    g_assert_true(rpt_md_write(r, path, &err));
    char *got = NULL, *want = rpt_md_to_string(r);
    g_assert_true(g_file_get_contents(path, &got, NULL, NULL));
    g_assert_cmpstr(got, ==, want);
    char *bad = g_build_filename(dir, "no", "such", "dir.md", NULL);
    g_assert_false(rpt_md_write(r, bad, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    g_unlink(path);
    g_rmdir(dir);
    g_free(bad);
    g_free(got);
    g_free(want);
    g_free(path);
    g_free(dir);
    rpt_result_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rpt_md/golden", test_golden);
    g_test_add_func("/rpt_md/content", test_content);
    g_test_add_func("/rpt_md/escaping", test_escaping);
    g_test_add_func("/rpt_md/wireshark", test_wireshark);
    g_test_add_func("/rpt_md/sessions", test_sessions);
    g_test_add_func("/rpt_md/write", test_write);
    return g_test_run();
}
