/* Unit tests for the iceServers reader: both shapes, legacy "url", bad URLs kept, clear errors. */
#include <fcntl.h>
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "tp_iceservers.h"

static struct tp_ice_config *parse_ok(const char *json)
{
    GError *err = NULL;
    struct tp_ice_config *c = tp_ice_config_parse(json, -1, "servers.json", &err);
    g_assert_no_error(err);
    g_assert_nonnull(c);
    return c;
}

static char *parse_fail(const char *json)
{
    GError *err = NULL;
    struct tp_ice_config *c = tp_ice_config_parse(json, -1, "servers.json", &err);
    g_assert_null(c);
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_assert_null(strchr(err->message, '\n'));
    char *msg = g_strdup(err->message);
    g_error_free(err);
    return msg;
}

static struct tp_ice_url *url(struct tp_ice_config *c, guint i)
{
    g_assert_cmpuint(i, <, c->urls->len);
    return g_ptr_array_index(c->urls, i);
}

static void test_array_form(void)
{
    struct tp_ice_config *c =
        parse_ok("[{\"urls\": \"turn:a.example:3479\", \"username\": \"u1\", \"credential\": "
                 "\"p1\"},\n"
                 " {\"urls\": [\"stun:s.example\", \"turns:t.example?transport=tcp\"],\n"
                 "  \"username\": \"u2\", \"credential\": \"p2\", \"credentialType\": "
                 "\"password\"}]");
    g_assert_cmpuint(c->urls->len, ==, 3);
    g_assert_null(c->transport_policy);
    struct tp_ice_url *u = url(c, 0);
    g_assert_cmpstr(u->uri, ==, "turn:a.example:3479");
    g_assert_cmpstr(u->username, ==, "u1");
    g_assert_cmpstr(u->credential, ==, "p1");
    g_assert_cmpint(u->server_index, ==, 0);
    g_assert_null(u->error);
    g_assert_cmpint(u->parsed.scheme, ==, SL_URI_TURN);
    g_assert_cmpstr(u->parsed.host, ==, "a.example");
    g_assert_cmpuint(u->parsed.port, ==, 3479);
    u = url(c, 1);
    g_assert_cmpstr(u->uri, ==, "stun:s.example");
    g_assert_cmpint(u->server_index, ==, 1);
    g_assert_cmpstr(u->username, ==, "u2");
    g_assert_cmpint(u->parsed.scheme, ==, SL_URI_STUN);
    u = url(c, 2);
    g_assert_cmpstr(u->uri, ==, "turns:t.example?transport=tcp");
    g_assert_cmpint(u->server_index, ==, 1);
    g_assert_cmpstr(u->credential, ==, "p2");
    g_assert_cmpint(u->parsed.transport, ==, SL_URI_TCP);
    g_assert_true(u->parsed.transport_explicit);
    tp_ice_config_free(c);
}

static void test_configuration_form(void)
{
    struct tp_ice_config *c =
        parse_ok("{\"iceServers\": [{\"urls\": [\"turn:[2001:db8::1]:3478?transport=udp\"],"
                 " \"username\": \"alice\", \"credential\": \"pw\"}],"
                 " \"iceTransportPolicy\": \"relay\", \"bundlePolicy\": \"max-bundle\"}");
    g_assert_cmpstr(c->transport_policy, ==, "relay");
    g_assert_cmpuint(c->urls->len, ==, 1);
    struct tp_ice_url *u = url(c, 0);
    g_assert_null(u->error);
    g_assert_true(u->parsed.host_is_ipv6);
    g_assert_cmpstr(u->parsed.host, ==, "2001:db8::1");
    tp_ice_config_free(c);

    c = parse_ok("{\"iceServers\": [{\"urls\": \"stun:s.example\"}], \"iceTransportPolicy\": "
                 "\"all\"}");
    g_assert_cmpstr(c->transport_policy, ==, "all");
    tp_ice_config_free(c);
}

/* The pre-standard "url", and one bare server object as people paste it. */
static void test_legacy_and_single(void)
{
    struct tp_ice_config *c = parse_ok("[{\"url\": \"turn:old.example\", \"username\": \"u\", "
                                       "\"credential\": \"p\"}]");
    g_assert_cmpuint(c->urls->len, ==, 1);
    g_assert_cmpstr(url(c, 0)->uri, ==, "turn:old.example");
    tp_ice_config_free(c);

    /* "urls" wins over "url" when both are there, as in browsers. */
    c = parse_ok("[{\"urls\": \"turn:new.example\", \"url\": \"turn:old.example\"}]");
    g_assert_cmpuint(c->urls->len, ==, 1);
    g_assert_cmpstr(url(c, 0)->uri, ==, "turn:new.example");
    tp_ice_config_free(c);

    c = parse_ok("{\"urls\": [\"turn:one.example\", \"turn:two.example\"], \"username\": \"u\"}");
    g_assert_cmpuint(c->urls->len, ==, 2);
    g_assert_cmpint(url(c, 1)->server_index, ==, 0);
    tp_ice_config_free(c);
}

/* Missing credentials are recorded, not refused: the settings judge says credentials-missing. */
static void test_missing_credential(void)
{
    struct tp_ice_config *c =
        parse_ok("[{\"urls\": \"turn:a.example\"}, {\"urls\": \"turn:b.example\", "
                 "\"username\": \"u\"}, {\"urls\": \"turn:c.example\", \"username\": null, "
                 "\"credential\": null}]");
    g_assert_cmpuint(c->urls->len, ==, 3);
    g_assert_null(url(c, 0)->username);
    g_assert_null(url(c, 0)->credential);
    g_assert_null(url(c, 0)->error);
    g_assert_cmpstr(url(c, 1)->username, ==, "u");
    g_assert_null(url(c, 1)->credential);
    g_assert_null(url(c, 2)->username);
    g_assert_null(url(c, 2)->credential);
    tp_ice_config_free(c);
}

/* A bad URL is kept with its reason, so the report lists it beside the good ones. */
static void test_invalid_url_kept(void)
{
    struct tp_ice_config *c = parse_ok(
        "[{\"urls\": [\"turn:ok.example\", \"tunr:bad.example\", \"\"]}, "
        "{\"urls\": \"turn:alice:Tr0ub4dor@host.example\"}, {\"urls\": \"turn:x?transport=sctp\"}]");
    g_assert_cmpuint(c->urls->len, ==, 5);
    g_assert_null(url(c, 0)->error);
    g_assert_cmpstr(url(c, 1)->uri, ==, "tunr:bad.example");
    g_assert_cmpstr(url(c, 1)->error, ==,
                    "unknown scheme \"tunr\" (expected turn, turns, stun, stuns)");
    g_assert_cmpstr(url(c, 2)->error, ==, "empty URI");
    /* The password in the userinfo is shown neither in the URI nor in the reason. */
    struct tp_ice_url *u = url(c, 3);
    g_assert_cmpint(u->server_index, ==, 1);
    g_assert_cmpstr(u->uri, ==, "turn:***@host.example");
    g_assert_nonnull(u->error);
    g_assert_null(strstr(u->error, "Tr0ub4dor"));
    g_assert_cmpstr(url(c, 4)->error, ==, "unknown transport \"sctp\" (expected udp or tcp)");
    tp_ice_config_free(c);
}

static void test_malformed_json(void)
{
    char *msg = parse_fail("[\n  {\"urls\": \"turn:a.example\",,\n  }\n]");
    /* NAME:LINE:COL: as compilers write it, without json-glib's "<data>" and "Parse error". */
    g_assert_true(g_str_has_prefix(msg, "servers.json:2:"));
    g_assert_true(g_regex_match_simple("^servers\\.json:2:[0-9]+: unexpected", msg, 0, 0));
    g_assert_null(strstr(msg, "<data>"));
    g_assert_null(strstr(msg, "Parse error"));
    g_free(msg);

    msg = parse_fail("{\"iceServers\": [\n{\"urls\": \"turn:a\"}\n\n");
    /* At the end of input json-glib points at the last token it read. */
    g_assert_true(g_regex_match_simple("^servers\\.json:[0-9]+:[0-9]+: ", msg, 0, 0));
    g_free(msg);

    msg = parse_fail("[1] 2");
    g_assert_true(g_str_has_prefix(msg, "servers.json:1:5: unexpected"));
    g_free(msg);

    /* json-glib quotes the string token next to a syntax error: here, the credential. */
    msg = parse_fail("{\"iceServers\": [{\"urls\": \"turn:a\", \"credential\": \"s3cret\" "
                     "\"username\": \"u\"}]}");
    g_assert_true(g_str_has_prefix(msg, "servers.json:1:"));
    g_assert_null(strstr(msg, "s3cret"));
    g_free(msg);

    msg = parse_fail("");
    g_assert_cmpstr(msg, ==,
                    "servers.json: empty document (expected an iceServers array or configuration)");
    g_free(msg);
}

static void test_wrong_types(void)
{
    static const struct {
        const char *json, *msg;
    } v[] = {
        {"[{\"urls\": \"turn:a\"}, {\"urls\": \"turn:b\"}, {\"urls\": 3}]",
         "servers.json: iceServers[2].urls: expected a string or an array of strings, found a "
         "number"},
        {"[{\"urls\": {\"x\": 1}}]",
         "servers.json: iceServers[0].urls: expected a string or an array of strings, found an "
         "object"},
        {"[{\"urls\": [\"turn:a\", 7]}]",
         "servers.json: iceServers[0].urls[1]: expected a string, found a number"},
        {"[{\"url\": true}]",
         "servers.json: iceServers[0].url: expected a string or an array of strings, found a "
         "boolean"},
        {"[{\"urls\": []}]", "servers.json: iceServers[0].urls: empty array"},
        {"[{\"username\": \"u\"}]", "servers.json: iceServers[0]: no \"urls\""},
        {"[{\"urls\": null}]", "servers.json: iceServers[0]: no \"urls\""},
        {"[{\"urls\": \"turn:a\", \"username\": 5}]",
         "servers.json: iceServers[0].username: expected a string, found a number"},
        {"[{\"urls\": \"turn:a\", \"credential\": {\"accessToken\": \"t\"}}]",
         "servers.json: iceServers[0].credential: expected a string, found an object"},
        {"[{\"urls\": \"turn:a\", \"credentialType\": \"oauth\"}]",
         "servers.json: iceServers[0].credentialType: \"oauth\" is not supported (only "
         "\"password\")"},
        {"[\"turn:a\"]", "servers.json: iceServers[0]: expected an object, found a string"},
        {"[]", "servers.json: iceServers: empty: there is no server to check"},
        {"{\"iceServers\": []}", "servers.json: iceServers: empty: there is no server to check"},
        {"{\"iceServers\": {\"urls\": \"turn:a\"}}",
         "servers.json: iceServers: expected an array, found an object"},
        {"{\"iceServers\": [{\"urls\": \"turn:a\"}], \"iceTransportPolicy\": \"none\"}",
         "servers.json: iceTransportPolicy: expected \"all\" or \"relay\", found \"none\""},
        {"{\"iceServers\": [{\"urls\": \"turn:a\"}], \"iceTransportPolicy\": 1}",
         "servers.json: iceTransportPolicy: expected a string, found a number"},
        {"{\"servers\": []}", "servers.json: no \"iceServers\" (expected an array of servers, or "
                              "an object with \"iceServers\")"},
        {"\"turn:a\"", "servers.json: expected an array of servers or an object with "
                       "\"iceServers\", found a string"},
        {"null", "servers.json: expected an array of servers or an object with \"iceServers\", "
                 "found null"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
        char *msg = parse_fail(v[i].json);
        g_assert_cmpstr(msg, ==, v[i].msg);
        g_free(msg);
    }
}

static void test_load_file_and_stdin(void)
{
    GError *err = NULL;
    char *path = NULL;
    int fd = g_file_open_tmp("iceservers-XXXXXX.json", &path, &err);
    g_assert_no_error(err);
    const char *json = "{\"iceServers\": [{\"urls\": \"turn:f.example\", \"username\": \"u\", "
                       "\"credential\": \"p\"}]}";
    g_assert_cmpint(write(fd, json, strlen(json)), ==, (gssize)strlen(json));
    close(fd);

    struct tp_ice_config *c = tp_ice_config_load(path, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(c->urls->len, ==, 1);
    g_assert_cmpstr(url(c, 0)->uri, ==, "turn:f.example");
    tp_ice_config_free(c);

    /* "-" reads standard input; errors then name it <stdin>. */
    int saved = dup(STDIN_FILENO);
    int in = open(path, O_RDONLY);
    g_assert_cmpint(dup2(in, STDIN_FILENO), ==, STDIN_FILENO);
    close(in);
    c = tp_ice_config_load("-", &err);
    g_assert_no_error(err);
    g_assert_cmpuint(c->urls->len, ==, 1);
    tp_ice_config_free(c);
    in = open("/dev/null", O_RDONLY);
    dup2(in, STDIN_FILENO);
    close(in);
    c = tp_ice_config_load("-", &err);
    g_assert_null(c);
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_assert_true(g_str_has_prefix(err->message, "<stdin>: empty document"));
    g_clear_error(&err);
    dup2(saved, STDIN_FILENO);
    close(saved);

    g_unlink(path);
    c = tp_ice_config_load(path, &err);
    g_assert_null(c);
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, path));
    g_clear_error(&err);
    g_free(path);
    tp_ice_config_free(NULL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/iceservers/array-form", test_array_form);
    g_test_add_func("/iceservers/configuration-form", test_configuration_form);
    g_test_add_func("/iceservers/legacy-and-single", test_legacy_and_single);
    g_test_add_func("/iceservers/missing-credential", test_missing_credential);
    g_test_add_func("/iceservers/invalid-url-kept", test_invalid_url_kept);
    g_test_add_func("/iceservers/malformed-json", test_malformed_json);
    g_test_add_func("/iceservers/wrong-types", test_wrong_types);
    g_test_add_func("/iceservers/load-file-and-stdin", test_load_file_and_stdin);
    return g_test_run();
}
