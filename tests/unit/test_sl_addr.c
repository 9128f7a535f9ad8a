/* Unit tests of transport addresses: parsing, formatting, sockaddr conversion and scopes. */
#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "sl_addr.h"
#include "sl_err.h"

#define assert_err(got, want) g_assert_cmpstr(sl_strerror(got), ==, sl_strerror(want))

struct parse_case {
    const char *in;
    int default_port;
    int expect;
    uint8_t family;
    int port;
    const char *formatted; /* with the port; NULL when parsing fails */
};

static const struct parse_case parse_cases[] = {
    {"192.0.2.1:3478", -1, SL_OK, SL_AF_IPV4, 3478, "192.0.2.1:3478"},
    {"0.0.0.0:0", -1, SL_OK, SL_AF_IPV4, 0, "0.0.0.0:0"},
    {"255.255.255.255:65535", -1, SL_OK, SL_AF_IPV4, 65535, "255.255.255.255:65535"},
    {"[2001:db8::1]:3478", -1, SL_OK, SL_AF_IPV6, 3478, "[2001:db8::1]:3478"},
    {"[2001:DB8:0:0:0:0:0:1]:5349", -1, SL_OK, SL_AF_IPV6, 5349, "[2001:db8::1]:5349"},
    {"[::ffff:192.0.2.1]:80", -1, SL_OK, SL_AF_IPV6, 80, "[::ffff:192.0.2.1]:80"},
    {"[::]:1", -1, SL_OK, SL_AF_IPV6, 1, "[::]:1"},
    {"10.1.2.3", 3478, SL_OK, SL_AF_IPV4, 3478, "10.1.2.3:3478"},
    {"::1", 5349, SL_OK, SL_AF_IPV6, 5349, "[::1]:5349"},
    {"fe80::1", 0, SL_OK, SL_AF_IPV6, 0, "[fe80::1]:0"},
    {"[fe80::1]", 7, SL_OK, SL_AF_IPV6, 7, "[fe80::1]:7"},
    /* Refused. */
    {"10.1.2.3", -1, SL_EINVAL, 0, 0, NULL}, /* no port, none by default */
    {"::1", -1, SL_EINVAL, 0, 0, NULL},
    {"10.1.2.3", 65536, SL_EINVAL, 0, 0, NULL},
    {"192.0.2.1:65536", -1, SL_EINVAL, 0, 0, NULL},
    {"192.0.2.1:", -1, SL_EINVAL, 0, 0, NULL},
    {"192.0.2.1:-1", -1, SL_EINVAL, 0, 0, NULL},
    {"192.0.2.1: 80", -1, SL_EINVAL, 0, 0, NULL},
    {"192.0.2.1:80x", -1, SL_EINVAL, 0, 0, NULL},
    {"192.0.2.1:000080", -1, SL_EINVAL, 0, 0, NULL},
    {"192.0.2:80", -1, SL_EINVAL, 0, 0, NULL},
    {"192.0.2.256:80", -1, SL_EINVAL, 0, 0, NULL},
    {"turn.example.org:3478", -1, SL_EINVAL, 0, 0, NULL}, /* names are resolved elsewhere */
    {"[2001:db8::1", -1, SL_EINVAL, 0, 0, NULL},
    {"[2001:db8::1]x", -1, SL_EINVAL, 0, 0, NULL},
    {"[2001:db8::1]:", -1, SL_EINVAL, 0, 0, NULL},
    {"[]:80", -1, SL_EINVAL, 0, 0, NULL},
    {"", 80, SL_EINVAL, 0, 0, NULL},
    {"[fe80::1%eth0]:80", -1, SL_EINVAL, 0, 0, NULL},
    {"[aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa]:1", -1,
     SL_EINVAL, 0, 0, NULL}, /* longer than any address: no overflow */
};

static void test_parse_format(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(parse_cases); i++) {
        const struct parse_case *c = &parse_cases[i];
        struct sl_addr a;
        char s[SL_ADDR_STRLEN];
        int rc = sl_addr_parse(&a, c->in, c->default_port);
        if (rc != c->expect)
            g_error("\"%s\": got %s, want %s", c->in, sl_strerror(rc), sl_strerror(c->expect));
        if (rc != SL_OK)
            continue;
        g_assert_cmpuint(a.family, ==, c->family);
        g_assert_cmpint(a.port, ==, c->port);
        g_assert_cmpstr(sl_addr_format(&a, s, sizeof(s), true), ==, c->formatted);
        /* The formatted text parses back to the same address. */
        struct sl_addr b;
        assert_err(sl_addr_parse(&b, s, -1), SL_OK);
        g_assert_true(sl_addr_equal(&a, &b));
    }
}

static void test_format(void)
{
    struct sl_addr a;
    char s[SL_ADDR_STRLEN], small[8];
    assert_err(sl_addr_parse(&a, "[2001:db8:1234:5678:11:2233:4455:6677]:32853", -1), SL_OK);
    g_assert_cmpstr(sl_addr_format(&a, s, sizeof(s), false), ==,
                    "2001:db8:1234:5678:11:2233:4455:6677");
    g_assert_cmpstr(sl_addr_format(&a, small, sizeof(small), true), ==, "[2001:d");
    /* The longest form fits in SL_ADDR_STRLEN. */
    assert_err(sl_addr_parse(&a, "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535", -1),
               SL_OK);
    sl_addr_format(&a, s, sizeof(s), true);
    g_assert_cmpstr(s, ==, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
    struct sl_addr none = {0};
    g_assert_cmpstr(sl_addr_format(&none, s, sizeof(s), false), ==, "?");
}

static void test_equal(void)
{
    struct sl_addr a, b;
    assert_err(sl_addr_parse(&a, "192.0.2.1:1", -1), SL_OK);
    assert_err(sl_addr_parse(&b, "192.0.2.1:2", -1), SL_OK);
    g_assert_false(sl_addr_equal(&a, &b));
    b.port = 1;
    g_assert_true(sl_addr_equal(&a, &b));
    /* Bytes past an IPv4 address do not matter. */
    b.ip[10] = 0x55;
    g_assert_true(sl_addr_equal(&a, &b));
    assert_err(sl_addr_parse(&b, "[::ffff:192.0.2.1]:1", -1), SL_OK);
    g_assert_false(sl_addr_equal(&a, &b)); /* different families */
}

static void test_sockaddr(void)
{
    struct sl_addr a, b;
    struct sockaddr_storage ss;
    assert_err(sl_addr_parse(&a, "198.51.100.20:3478", -1), SL_OK);
    size_t n = sl_addr_to_sockaddr(&a, &ss);
    g_assert_cmpuint(n, ==, sizeof(struct sockaddr_in));
    const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
    g_assert_cmpint(in->sin_family, ==, AF_INET);
    g_assert_cmpuint(ntohs(in->sin_port), ==, 3478);
    g_assert_cmphex(ntohl(in->sin_addr.s_addr), ==, 0xc6336414u);
    assert_err(sl_addr_from_sockaddr(&b, (const struct sockaddr *)&ss, n), SL_OK);
    g_assert_true(sl_addr_equal(&a, &b));
    /* A length too short for the family is refused. */
    assert_err(sl_addr_from_sockaddr(&b, (const struct sockaddr *)&ss, n - 1), SL_EINVAL);

    assert_err(sl_addr_parse(&a, "[2001:db8::7]:5349", -1), SL_OK);
    n = sl_addr_to_sockaddr(&a, &ss);
    g_assert_cmpuint(n, ==, sizeof(struct sockaddr_in6));
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
    g_assert_cmpint(in6->sin6_family, ==, AF_INET6);
    g_assert_cmpuint(ntohs(in6->sin6_port), ==, 5349);
    g_assert_cmphex(in6->sin6_addr.s6_addr[15], ==, 7);
    assert_err(sl_addr_from_sockaddr(&b, (const struct sockaddr *)&ss, n), SL_OK);
    g_assert_true(sl_addr_equal(&a, &b));

    struct sl_addr none = {0};
    g_assert_cmpuint(sl_addr_to_sockaddr(&none, &ss), ==, 0);
    struct sockaddr unix_sa = {.sa_family = AF_UNIX};
    assert_err(sl_addr_from_sockaddr(&b, &unix_sa, sizeof(unix_sa)), SL_EINVAL);
}

struct scope_case {
    const char *ip;
    enum sl_scope scope;
};

static const struct scope_case scope_cases[] = {
    {"10.0.0.1", SL_SCOPE_PRIVATE},
    {"10.255.255.255", SL_SCOPE_PRIVATE},
    {"172.16.0.1", SL_SCOPE_PRIVATE},
    {"172.31.255.254", SL_SCOPE_PRIVATE},
    {"172.15.255.255", SL_SCOPE_PUBLIC},
    {"172.32.0.0", SL_SCOPE_PUBLIC},
    {"192.168.1.1", SL_SCOPE_PRIVATE},
    {"192.169.0.1", SL_SCOPE_PUBLIC},
    {"100.64.0.1", SL_SCOPE_CGNAT},
    {"100.127.255.255", SL_SCOPE_CGNAT},
    {"100.63.255.255", SL_SCOPE_PUBLIC},
    {"100.128.0.0", SL_SCOPE_PUBLIC},
    {"169.254.169.254", SL_SCOPE_LINKLOCAL},
    {"169.253.0.1", SL_SCOPE_PUBLIC},
    {"127.0.0.1", SL_SCOPE_LOOPBACK},
    {"127.255.0.9", SL_SCOPE_LOOPBACK},
    {"0.0.0.0", SL_SCOPE_UNSPECIFIED},
    {"224.0.0.1", SL_SCOPE_MULTICAST},
    {"239.255.255.250", SL_SCOPE_MULTICAST},
    {"192.0.2.1", SL_SCOPE_DOCUMENTATION},
    {"198.51.100.7", SL_SCOPE_DOCUMENTATION},
    {"203.0.113.200", SL_SCOPE_DOCUMENTATION},
    {"192.0.3.1", SL_SCOPE_PUBLIC},
    {"8.8.8.8", SL_SCOPE_PUBLIC},
    {"1.1.1.1", SL_SCOPE_PUBLIC},
    {"::1", SL_SCOPE_LOOPBACK},
    {"::", SL_SCOPE_UNSPECIFIED},
    {"::2", SL_SCOPE_PUBLIC},
    {"fc00::1", SL_SCOPE_PRIVATE},
    {"fd12:3456:789a::1", SL_SCOPE_PRIVATE},
    {"fe80::1", SL_SCOPE_LINKLOCAL},
    {"febf::1", SL_SCOPE_LINKLOCAL},
    {"fec0::1", SL_SCOPE_PUBLIC},
    {"ff02::1", SL_SCOPE_MULTICAST},
    {"2001:db8::1", SL_SCOPE_DOCUMENTATION},
    {"2001:db9::1", SL_SCOPE_PUBLIC},
    {"2606:4700:4700::1111", SL_SCOPE_PUBLIC},
    {"::ffff:10.0.0.1", SL_SCOPE_PRIVATE}, /* v4-mapped: the IPv4 address decides */
    {"::ffff:127.0.0.1", SL_SCOPE_LOOPBACK},
    {"::ffff:100.64.1.1", SL_SCOPE_CGNAT},
    {"::ffff:169.254.169.254", SL_SCOPE_LINKLOCAL},
    {"::ffff:8.8.8.8", SL_SCOPE_PUBLIC},
};

static void test_scope(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(scope_cases); i++) {
        struct sl_addr a;
        assert_err(sl_addr_parse(&a, scope_cases[i].ip, 0), SL_OK);
        enum sl_scope s = sl_addr_scope(&a);
        if (s != scope_cases[i].scope)
            g_error("%s: %s, want %s", scope_cases[i].ip, sl_scope_name(s),
                    sl_scope_name(scope_cases[i].scope));
    }
    struct sl_addr none = {0};
    g_assert_cmpint(sl_addr_scope(&none), ==, SL_SCOPE_UNSPECIFIED);
    g_assert_cmpstr(sl_scope_name(SL_SCOPE_CGNAT), ==, "carrier-grade NAT");
    g_assert_cmpstr(sl_scope_name(SL_SCOPE_PUBLIC), ==, "public");
    g_assert_cmpstr(sl_scope_name((enum sl_scope)99), ==, "unknown");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sl_addr/parse-format", test_parse_format);
    g_test_add_func("/sl_addr/format", test_format);
    g_test_add_func("/sl_addr/equal", test_equal);
    g_test_add_func("/sl_addr/sockaddr", test_sockaddr);
    g_test_add_func("/sl_addr/scope", test_scope);
    return g_test_run();
}
