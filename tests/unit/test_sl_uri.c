/* Unit tests for the stun:/turn: URI parser (RFC 7064, RFC 7065): valid forms and every refusal. */
#include <glib.h>
#include <string.h>

#include "sl_uri.h"

struct good {
    const char *in;
    enum sl_uri_scheme scheme;
    const char *host;
    unsigned port;
    bool port_explicit;
    enum sl_uri_transport transport;
    bool transport_explicit;
    bool is_ip, is_ipv6;
    const char *canonical;
};

static const struct good goods[] = {
    {"turn:turn.example.org", SL_URI_TURN, "turn.example.org", 3478, false, SL_URI_UDP, false,
     false, false, "turn:turn.example.org"},
    {"turns:turn.example.org", SL_URI_TURNS, "turn.example.org", 5349, false, SL_URI_TCP, false,
     false, false, "turns:turn.example.org"},
    {"stun:stun.example.org", SL_URI_STUN, "stun.example.org", 3478, false, SL_URI_UDP, false,
     false, false, "stun:stun.example.org"},
    {"stuns:stun.example.org", SL_URI_STUNS, "stun.example.org", 5349, false, SL_URI_TCP, false,
     false, false, "stuns:stun.example.org"},
    {"turn:example.org:3479", SL_URI_TURN, "example.org", 3479, true, SL_URI_UDP, false, false,
     false, "turn:example.org:3479"},
    {"turn:example.org?transport=tcp", SL_URI_TURN, "example.org", 3478, false, SL_URI_TCP, true,
     false, false, "turn:example.org?transport=tcp"},
    {"turn:example.org:443?transport=tcp", SL_URI_TURN, "example.org", 443, true, SL_URI_TCP,
     true, false, false, "turn:example.org:443?transport=tcp"},
    /* turns: over UDP is DTLS (RFC 7065 §3). */
    {"turns:example.org?transport=udp", SL_URI_TURNS, "example.org", 5349, false, SL_URI_UDP,
     true, false, false, "turns:example.org?transport=udp"},
    {"turns:example.org:443?transport=tcp", SL_URI_TURNS, "example.org", 443, true, SL_URI_TCP,
     true, false, false, "turns:example.org:443?transport=tcp"},
    /* Scheme and ABNF strings are case-insensitive; the host keeps its case. */
    {"TURN:Turn.Example.ORG", SL_URI_TURN, "Turn.Example.ORG", 3478, false, SL_URI_UDP, false,
     false, false, "turn:Turn.Example.ORG"},
    {"TuRnS:example.org:5349?TRANSPORT=TCP", SL_URI_TURNS, "example.org", 5349, true, SL_URI_TCP,
     true, false, false, "turns:example.org:5349?transport=tcp"},
    {"STUN:example.org:19302", SL_URI_STUN, "example.org", 19302, true, SL_URI_UDP, false, false,
     false, "stun:example.org:19302"},
    {"turn:192.0.2.1", SL_URI_TURN, "192.0.2.1", 3478, false, SL_URI_UDP, false, true, false,
     "turn:192.0.2.1"},
    {"turn:192.0.2.1:3478?transport=udp", SL_URI_TURN, "192.0.2.1", 3478, true, SL_URI_UDP, true,
     true, false, "turn:192.0.2.1:3478?transport=udp"},
    {"turn:[2001:db8::1]", SL_URI_TURN, "2001:db8::1", 3478, false, SL_URI_UDP, false, true, true,
     "turn:[2001:db8::1]"},
    {"turns:[2001:DB8::1]:443?transport=tcp", SL_URI_TURNS, "2001:DB8::1", 443, true, SL_URI_TCP,
     true, true, true, "turns:[2001:DB8::1]:443?transport=tcp"},
    {"stun:[::1]:3478", SL_URI_STUN, "::1", 3478, true, SL_URI_UDP, false, true, true,
     "stun:[::1]:3478"},
    {"turn:[::ffff:192.0.2.1]", SL_URI_TURN, "::ffff:192.0.2.1", 3478, false, SL_URI_UDP, false,
     true, true, "turn:[::ffff:192.0.2.1]"},
    {"turn:localhost", SL_URI_TURN, "localhost", 3478, false, SL_URI_UDP, false, false, false,
     "turn:localhost"},
    {"turn:example.org.", SL_URI_TURN, "example.org.", 3478, false, SL_URI_UDP, false, false,
     false, "turn:example.org."},
    {"turn:_turn-1.internal", SL_URI_TURN, "_turn-1.internal", 3478, false, SL_URI_UDP, false,
     false, false, "turn:_turn-1.internal"},
    {"turn:xn--bcher-kva.example", SL_URI_TURN, "xn--bcher-kva.example", 3478, false, SL_URI_UDP,
     false, false, false, "turn:xn--bcher-kva.example"},
    {"turn:3com.example", SL_URI_TURN, "3com.example", 3478, false, SL_URI_UDP, false, false,
     false, "turn:3com.example"},
    {"turn:a:1", SL_URI_TURN, "a", 1, true, SL_URI_UDP, false, false, false, "turn:a:1"},
    {"turn:a:65535", SL_URI_TURN, "a", 65535, true, SL_URI_UDP, false, false, false,
     "turn:a:65535"},
    {"turn:a:03478", SL_URI_TURN, "a", 3478, true, SL_URI_UDP, false, false, false,
     "turn:a:3478"},
};

struct bad {
    const char *in;
    const char *why; /* the exact reason */
};

static const struct bad bads[] = {
    {"", "empty URI"},
    {"tunr:example.org", "unknown scheme \"tunr\" (expected turn, turns, stun, stuns)"},
    {"http://example.org", "unknown scheme \"http\" (expected turn, turns, stun, stuns)"},
    {"example.org", "missing scheme in \"example.org\" (expected turn:, turns:, stun: or stuns:)"},
    {"example.org:3478",
     "missing scheme: \"example.org:3478\" looks like HOST:PORT; write turn:example.org:3478"},
    {":3478", "missing scheme in \":3478\" (expected turn:, turns:, stun: or stuns:)"},
    {"turn:", "missing host"},
    {"turn::3478", "missing host"},
    {"turn:?transport=udp", "missing host"},
    {"turn:example.org:", "empty port after \"example.org:\" (give a port number or leave out "
                          "the \":\")"},
    {"turn:example.org:99999", "port \"99999\" out of range (1-65535)"},
    {"turn:example.org:0", "port \"0\" out of range (1-65535)"},
    {"turn:example.org:123456789012", "port \"123456789012\" out of range (1-65535)"},
    {"turn:example.org:34a8", "port \"34a8\" is not a number"},
    {"turn:example.org:-1", "port \"-1\" is not a number"},
    {"turn:example.org?transport=sctp", "unknown transport \"sctp\" (expected udp or tcp)"},
    {"turn:example.org?transport=tls",
     "unknown transport \"tls\" (expected udp or tcp; for TLS write turns:HOST?transport=tcp)"},
    {"turn:example.org?transport=", "empty transport after \"?transport=\" (expected udp or tcp)"},
    {"turn:example.org?", "empty query after \"?\" (expected ?transport=udp or ?transport=tcp)"},
    {"turn:example.org?proto=udp",
     "unknown query \"?proto=udp\" (only ?transport=udp or ?transport=tcp, RFC 7065)"},
    {"turn:example.org?transport=udp&x=1",
     "query \"?transport=udp&x=1\" has several parameters; only transport= is defined (RFC 7065)"},
    {"stun:example.org?transport=udp",
     "\"?transport=\" is not allowed for stun: URIs (RFC 7064 has no query)"},
    {"stuns:example.org?transport=tcp",
     "\"?transport=\" is not allowed for stuns: URIs (RFC 7064 has no query)"},
    {"stun:example.org?x", "query \"?x\" is not allowed for stun: URIs (RFC 7064 has no query)"},
    {"turn:[::1", "IPv6 literal \"[::1\" lacks \"]\""},
    {"turn:[::1:3478", "IPv6 literal \"[::1:3478\" lacks \"]\""},
    {"turn:[]", "empty IPv6 literal \"[]\""},
    {"turn:[::g]", "invalid IPv6 literal \"[::g]\""},
    {"turn:[192.0.2.1]", "IPv4 address \"192.0.2.1\" must not be in brackets"},
    {"turn:[fe80::1%25eth0]",
     "IPv6 literal \"[fe80::1%25eth0]\" has a zone identifier, which is not supported"},
    {"turn:[v1.x]", "IPvFuture literal \"[v1.x]\" is not supported"},
    {"turn:[::1]x", "unexpected \"x\" after the IPv6 literal \"[::1]\""},
    {"turn:[::1]:", "empty port after \"[::1]:\" (give a port number or leave out the \":\")"},
    {"turn:2001:db8::1", "IPv6 address \"2001:db8::1\" must be in brackets: turn:[2001:db8::1]"},
    {"turn:a:b:c", "host \"a:b:c\" has more than one \":\" (an IPv6 address goes in brackets, as "
                   "in turn:[2001:db8::1]:3478)"},
    {"turn:user@example.org", "turn: URIs carry no user name or password (\"...@\"); give them "
                              "with -u/--username and --password-file"},
    {"turns:alice:s3cret@example.org:5349", "turns: URIs carry no user name or password "
                                            "(\"...@\"); give them with -u/--username and "
                                            "--password-file"},
    {"turn://example.org",
     "\"//\" after \"turn:\": these URIs have no authority part; write turn:HOST"},
    {"turn:example.org/path", "path \"/path\" is not allowed after the host (turn: URIs have "
                              "none)"},
    {"turn:example.org#frag", "fragment \"#frag\" is not allowed"},
    {" turn:example.org",
     "space at character 1 (leading or trailing whitespace from a copy and paste?)"},
    {"turn:example.org\n",
     "line break at character 17 (leading or trailing whitespace from a copy and paste?)"},
    {"turn:exa mple.org", "space at character 9"},
    {"turn:exa\tmple.org", "tab at character 9"},
    {"turn:exa\x01mple.org", "control character 0x01 at character 9"},
    {"turn:b\xc3\xbc" "cher.example",
     "non-ASCII byte 0xc3 at character 7 (write an international host name in its xn-- form)"},
    {"turn:exa!mple.org", "invalid character \"!\" in host \"exa!mple.org\""},
    {"turn:exa%41mple.org", "invalid character \"%\" in host \"exa%41mple.org\""},
    {"turn:example..org", "empty label in host \"example..org\""},
    {"turn:.example.org", "empty label in host \".example.org\""},
    {"turn:.", "missing host (only \".\")"},
    {"turn:-example.org", "label \"-example\" of the host starts or ends with \"-\""},
    {"turn:example-.org", "label \"example-\" of the host starts or ends with \"-\""},
    {"turn:256.1.2.3", "invalid IPv4 address \"256.1.2.3\""},
    {"turn:10.1", "invalid IPv4 address \"10.1\""},
    {"turn:010.0.0.1", "invalid IPv4 address \"010.0.0.1\""},
    {"turn:192.0.2.1.", "invalid IPv4 address \"192.0.2.1.\""},
    {"turn:example.123", "host \"example.123\" is neither an IPv4 address nor a host name (its "
                         "last label is all digits)"},
};

static void test_good(gconstpointer data)
{
    const struct good *g = data;
    struct sl_uri u;
    char why[256] = "unset", buf[300];
    int rc = sl_uri_parse(&u, g->in, why, sizeof(why));
    if (rc != SL_OK)
        g_test_message("%s: %s", g->in, why);
    g_assert_cmpint(rc, ==, SL_OK);
    g_assert_cmpstr(why, ==, "");
    g_assert_cmpint(u.scheme, ==, g->scheme);
    g_assert_cmpstr(u.host, ==, g->host);
    g_assert_cmpuint(u.port, ==, g->port);
    g_assert_cmpint(u.port_explicit, ==, g->port_explicit);
    g_assert_cmpint(u.transport, ==, g->transport);
    g_assert_cmpint(u.transport_explicit, ==, g->transport_explicit);
    g_assert_cmpint(u.host_is_ip, ==, g->is_ip);
    g_assert_cmpint(u.host_is_ipv6, ==, g->is_ipv6);
    g_assert_cmpint(u.secure, ==, g->scheme == SL_URI_STUNS || g->scheme == SL_URI_TURNS);
    g_assert_cmpint(u.turn, ==, g->scheme == SL_URI_TURN || g->scheme == SL_URI_TURNS);
    g_assert_cmpstr(sl_uri_format(&u, buf, sizeof(buf)), ==, g->canonical);

    /* The canonical form parses back to the same thing. */
    struct sl_uri again;
    g_assert_cmpint(sl_uri_parse(&again, buf, why, sizeof(why)), ==, SL_OK);
    g_assert_cmpmem(&again, sizeof(again), &u, sizeof(u));
}

static void test_bad(gconstpointer data)
{
    const struct bad *b = data;
    struct sl_uri u;
    char why[256] = "";
    g_assert_cmpint(sl_uri_parse(&u, b->in, why, sizeof(why)), ==, SL_EINVAL);
    g_assert_cmpstr(why, ==, b->why);
    g_assert_null(strchr(why, '\n'));
}

/* A password in "user:password@host" must never come back in the reason. */
static void test_userinfo_not_echoed(void)
{
    struct sl_uri u;
    char why[256];
    g_assert_cmpint(sl_uri_parse(&u, "turn:alice:Tr0ub4dor@example.org", why, sizeof(why)), ==,
                    SL_EINVAL);
    g_assert_null(strstr(why, "Tr0ub4dor"));
    g_assert_null(strstr(why, "alice"));
}

static void test_small_why_buffer(void)
{
    struct sl_uri u;
    char why[8];
    memset(why, 'x', sizeof(why));
    g_assert_cmpint(sl_uri_parse(&u, "tunr:x", why, sizeof(why)), ==, SL_EINVAL);
    g_assert_cmpstr(why, ==, "unknown");
    g_assert_cmpint(sl_uri_parse(&u, "tunr:x", NULL, 0), ==, SL_EINVAL);
}

static void test_long_host(void)
{
    /* 253 characters is the longest DNS name; 254 is refused. */
    char uri[300], label[64], host[300] = "";
    memset(label, 'a', 63);
    label[63] = '\0';
    g_snprintf(host, sizeof(host), "%s.%s.%s.%.61s", label, label, label, label);
    g_assert_cmpuint(strlen(host), ==, 253);
    g_snprintf(uri, sizeof(uri), "turn:%s", host);
    struct sl_uri u;
    char why[256];
    g_assert_cmpint(sl_uri_parse(&u, uri, why, sizeof(why)), ==, SL_OK);
    g_assert_cmpstr(u.host, ==, host);
    g_snprintf(uri, sizeof(uri), "turn:%s.", host);
    g_assert_cmpint(sl_uri_parse(&u, uri, why, sizeof(why)), ==, SL_OK);
    g_snprintf(uri, sizeof(uri), "turn:b%s", host);
    g_assert_cmpint(sl_uri_parse(&u, uri, why, sizeof(why)), ==, SL_EINVAL);
    g_assert_cmpstr(why, ==, "host name is 254 characters long (at most 253)");
    g_snprintf(uri, sizeof(uri), "turn:%sa.org", label);
    g_assert_cmpint(sl_uri_parse(&u, uri, why, sizeof(why)), ==, SL_EINVAL);
    g_assert_true(g_str_has_suffix(why, "is 64 characters long (at most 63)"));
}

static void test_names(void)
{
    g_assert_cmpstr(sl_uri_scheme_name(SL_URI_STUN), ==, "stun");
    g_assert_cmpstr(sl_uri_scheme_name(SL_URI_STUNS), ==, "stuns");
    g_assert_cmpstr(sl_uri_scheme_name(SL_URI_TURN), ==, "turn");
    g_assert_cmpstr(sl_uri_scheme_name(SL_URI_TURNS), ==, "turns");
    g_assert_cmpstr(sl_uri_transport_name(SL_URI_UDP), ==, "udp");
    g_assert_cmpstr(sl_uri_transport_name(SL_URI_TCP), ==, "tcp");
}

static void test_format_truncates(void)
{
    struct sl_uri u;
    char why[64], buf[10];
    g_assert_cmpint(sl_uri_parse(&u, "turn:example.org:3478", why, sizeof(why)), ==, SL_OK);
    g_assert_cmpstr(sl_uri_format(&u, buf, sizeof(buf)), ==, "turn:exam");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(goods); i++) {
        char *path = g_strdup_printf("/sl_uri/good/%zu", i);
        g_test_add_data_func(path, &goods[i], test_good);
        g_free(path);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(bads); i++) {
        char *path = g_strdup_printf("/sl_uri/bad/%zu", i);
        g_test_add_data_func(path, &bads[i], test_bad);
        g_free(path);
    }
    g_test_add_func("/sl_uri/userinfo-not-echoed", test_userinfo_not_echoed);
    g_test_add_func("/sl_uri/small-why-buffer", test_small_why_buffer);
    g_test_add_func("/sl_uri/long-host", test_long_host);
    g_test_add_func("/sl_uri/names", test_names);
    g_test_add_func("/sl_uri/format-truncates", test_format_truncates);
    return g_test_run();
}
