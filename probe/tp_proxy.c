/* --proxy: which proxy, its name in reports, and whether it intercepts TLS (tp_proxy.h). */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <string.h>

#include <gio/gio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "chk.h"
#include "tp_proxy.h"

/* The schemes GLib has a GProxy for; https:// (TLS to the proxy) is left out on purpose: it
 * would need glib-networking and its own certificate checks. */
static const char *const schemes[] = {"http", "socks5", "socks4a", "socks4", "socks"};

char *tp_proxy_resolve(const char *value, GError **err)
{
    const char *v = value;
    if (g_strcmp0(value, "env") == 0) {
        const char *names[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
        v = NULL;
        for (size_t i = 0; i < G_N_ELEMENTS(names) && !v; i++) {
            const char *e = g_getenv(names[i]);
            if (e && *e)
                v = e;
        }
        if (!v) {
            g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--proxy env: neither https_proxy nor all_proxy is set");
            return NULL;
        }
    }
    /* Proxy variables often hold a bare host:port, which curl and wget take as HTTP. */
    char *url = strstr(v, "://") ? g_strdup(v) : g_strconcat("http://", v, NULL);
    GError *perr = NULL;
    GUri *u = g_uri_parse(url, G_URI_FLAGS_NONE, &perr);
    const char *why = NULL;
    if (!u)
        why = "not a URL";
    else if (!g_uri_get_host(u) || !*g_uri_get_host(u))
        why = "no proxy host";
    else if (g_uri_get_port(u) <= 0)
        why = "no proxy port (e.g. http://proxy.example.com:3128)";
    else {
        gboolean known = FALSE;
        for (size_t i = 0; i < G_N_ELEMENTS(schemes); i++)
            known |= g_ascii_strcasecmp(g_uri_get_scheme(u), schemes[i]) == 0;
        if (!known)
            why = "the scheme must be http:// (HTTP CONNECT) or socks5:// (also socks4a://, "
                  "socks4://)";
    }
    if (why) {
        /* The reason names the proxy without what may be its password. */
        char *shown = u ? tp_proxy_name(url) : g_strdup("the value given");
        g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--proxy: %s: %s", shown, why);
        g_free(shown);
        g_clear_error(&perr);
        if (u)
            g_uri_unref(u);
        memset(url, 0, strlen(url));
        g_free(url);
        return NULL;
    }
    g_uri_unref(u);
    return url;
}

char *tp_proxy_name(const char *url)
{
    GUri *u = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
    if (!u)
        return g_strdup("the proxy");
    char *scheme = g_ascii_strup(g_uri_get_scheme(u), -1);
    const char *host = g_uri_get_host(u) ? g_uri_get_host(u) : "?";
    gboolean v6 = strchr(host, ':') != NULL;
    char port[16] = "";
    if (g_uri_get_port(u) > 0)
        g_snprintf(port, sizeof(port), ":%d", g_uri_get_port(u));
    char *name =
        g_strdup_printf("%s proxy %s%s%s%s", scheme, v6 ? "[" : "", host, v6 ? "]" : "", port);
    g_free(scheme);
    g_uri_unref(u);
    return name;
}

void tp_tls_seen_clear(struct tp_tls_seen *t)
{
    g_free(t->subject);
    g_free(t->issuer);
    g_free(t->error);
    memset(t, 0, sizeof(*t));
}

static char *name_text(const X509_NAME *n)
{
    BIO *b = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char *data = NULL;
    long len = BIO_get_mem_data(b, &data);
    char *raw = g_strndup(data, (gsize)MAX(len, 0));
    BIO_free(b);
    char *valid = g_utf8_make_valid(raw, -1);
    g_free(raw);
    return valid;
}

/* Waits until fd is ready for what OpenSSL asked, or the deadline. */
static gboolean wait_fd(int fd, int ssl_err, gint64 deadline_us)
{
    gint64 left = deadline_us - g_get_monotonic_time();
    if (left <= 0)
        return FALSE;
    struct pollfd p = {fd, ssl_err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, 0};
    int rc;
    do
        rc = poll(&p, 1, (int)MIN((left + 999) / 1000, 60000));
    while (rc < 0 && errno == EINTR);
    return rc > 0;
}

static void handshake(GSocket *sock, const char *host, gboolean host_is_ip, gint64 deadline_us,
                      struct tp_tls_seen *out)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* only the certificate matters here */
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, g_socket_get_fd(sock));
    if (!host_is_ip)
        SSL_set_tlsext_host_name(ssl, host);
    static const unsigned char alpn[] = "\x09stun.turn";
    SSL_set_alpn_protos(ssl, alpn, sizeof(alpn) - 1);
    SSL_set_connect_state(ssl);
    for (;;) {
        ERR_clear_error();
        int rc = SSL_do_handshake(ssl);
        if (rc == 1)
            break;
        int e = SSL_get_error(ssl, rc);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            char buf[256] = "the server closed the connection";
            unsigned long oe = ERR_peek_error();
            if (oe)
                ERR_error_string_n(oe, buf, sizeof(buf));
            out->error = g_strdup_printf("TLS handshake failed: %s", buf);
            goto out;
        }
        if (!wait_fd(g_socket_get_fd(sock), e, deadline_us)) {
            out->error = g_strdup("no TLS handshake before the deadline");
            goto out;
        }
    }
    X509 *leaf = SSL_get1_peer_certificate(ssl);
    if (!leaf) {
        out->error = g_strdup("the server sent no certificate");
        goto out;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (X509_digest(leaf, EVP_sha256(), md, &n) && n == 32) {
        GString *g = g_string_new(NULL);
        for (unsigned int i = 0; i < n; i++)
            g_string_append_printf(g, "%s%02X", i ? ":" : "", md[i]);
        g_strlcpy(out->sha256, g->str, sizeof(out->sha256));
        g_string_free(g, TRUE);
        out->subject = name_text(X509_get_subject_name(leaf));
        out->issuer = name_text(X509_get_issuer_name(leaf));
        out->ok = TRUE;
    } else {
        out->error = g_strdup("cannot compute the certificate's fingerprint");
    }
    X509_free(leaf);
out:
    SSL_free(ssl);
    SSL_CTX_free(ctx);
}

void tp_proxy_fetch_cert(const char *proxy, const struct sl_addr *server, const char *host,
                         gboolean host_is_ip, gint64 deadline_us, struct tp_tls_seen *out)
{
    memset(out, 0, sizeof(*out));
    gint64 left = deadline_us - g_get_monotonic_time();
    if (left <= 0) {
        out->error = g_strdup("no time left before the deadline");
        return;
    }
    struct sockaddr_storage ss;
    size_t sslen = sl_addr_to_sockaddr(server, &ss);
    GSocketAddress *sa = g_socket_address_new_from_native(&ss, sslen);
    GSocketClient *cl = g_socket_client_new();
    GProxyResolver *res = NULL;
    if (proxy) {
        res = g_simple_proxy_resolver_new(proxy, NULL);
        g_socket_client_set_proxy_resolver(cl, res);
    } else {
        g_socket_client_set_enable_proxy(cl, FALSE); /* really direct, whatever the system says */
    }
    /* Each blocking step (connect, the proxy's answer) waits at most what is left. */
    g_socket_client_set_timeout(cl, (guint)MAX((left + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC, 1));
    GError *err = NULL;
    GSocketConnection *conn = g_socket_client_connect(cl, G_SOCKET_CONNECTABLE(sa), NULL, &err);
    if (!conn) {
        out->error =
            g_strdup_printf("%s: %s", proxy ? "through the proxy" : "directly", err->message);
        g_error_free(err);
    } else {
        GSocket *sock = g_socket_connection_get_socket(conn);
        g_socket_set_blocking(sock, FALSE);
        handshake(sock, host, host_is_ip, deadline_us, out);
        g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
        g_object_unref(conn);
    }
    g_object_unref(cl);
    if (res)
        g_object_unref(res);
    g_object_unref(sa);
}

void tp_proxy_judge_tls(struct rpt_session *s, const char *proxy, const struct tp_tls_seen *direct,
                        const struct tp_tls_seen *proxied)
{
    struct rpt_step *st = rpt_step_find(s, "tls");
    if (!st)
        return;
    char *name = tp_proxy_name(proxy);
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "proxy", name);
    if (proxied->ok) {
        json_object_set_string_member(o, "through_proxy_sha256", proxied->sha256);
        json_object_set_string_member(o, "through_proxy_issuer", proxied->issuer);
    }
    if (direct->ok) {
        json_object_set_string_member(o, "direct_sha256", direct->sha256);
        json_object_set_string_member(o, "direct_issuer", direct->issuer);
    }
    gboolean compared = direct->ok && proxied->ok;
    json_object_set_boolean_member(o, "compared", compared);
    if (!compared) {
        char *why =
            !direct->ok
                ? g_strdup_printf("not compared: no direct TLS connection from here (%s)",
                                  direct->error)
                : g_strdup_printf("not compared: no TLS through the proxy (%s)", proxied->error);
        json_object_set_string_member(o, "note", why);
        g_free(why);
    } else if (strcmp(direct->sha256, proxied->sha256) == 0) {
        json_object_set_boolean_member(o, "intercepted", FALSE);
        json_object_set_string_member(o, "note",
                                      "the same certificate directly and through the "
                                      "proxy: it does not intercept TLS");
    } else {
        json_object_set_boolean_member(o, "intercepted", TRUE);
        gboolean worked = st->status == RPT_PASS || st->status == RPT_WARN;
        char *sum = g_strdup_printf(
            "the certificate through the %s (issuer %s, SHA-256 %.23s…) is not the one the server "
            "presents directly (issuer %s, SHA-256 %.23s…): the proxy intercepts TLS%s%s",
            name, proxied->issuer, proxied->sha256, direct->issuer, direct->sha256,
            st->summary && !worked ? "; through it: " : "",
            st->summary && !worked ? st->summary : "");
        chk_verdict_public(s, st, worked ? RPT_WARN : RPT_FAIL, "proxy-tls-intercepted", sum);
        g_free(sum);
    }
    json_object_set_object_member(st->details, "proxy_tls", o);
    g_free(name);
}

void tp_proxy_check_tls(const struct chk_config *cfg, struct rpt_session *s)
{
    if (!cfg->proxy || !cfg->uri.secure || cfg->uri.transport != SL_URI_TCP || !cfg->server)
        return;
    struct tp_tls_seen direct, proxied;
    gint64 direct_until = MIN(cfg->deadline_us, g_get_monotonic_time() + 3 * G_USEC_PER_SEC);
    tp_proxy_fetch_cert(NULL, cfg->server, cfg->uri.host, cfg->uri.host_is_ip, direct_until,
                        &direct);
    tp_proxy_fetch_cert(cfg->proxy, cfg->server, cfg->uri.host, cfg->uri.host_is_ip,
                        cfg->deadline_us, &proxied);
    tp_proxy_judge_tls(s, cfg->proxy, &direct, &proxied);
    tp_tls_seen_clear(&direct);
    tp_tls_seen_clear(&proxied);
}
