/* --proxy for check and matrix: the proxy URL (given, or from the environment), its name for
 * reports, and the TLS interception test (the certificate through the proxy against the one
 * the server presents directly). The tunnel itself is opened by checks/chk_net.c. */
#ifndef TP_PROXY_H
#define TP_PROXY_H

#include <glib.h>

#include "rpt_model.h"
#include "sl_addr.h"

/* The proxy URL that --proxy VALUE means: http://[user:pass@]host:port, socks5://host:port
 * (also socks4a://, socks4://, socks://), or "env": https_proxy, then all_proxy (either case;
 * a bare host:port there is taken as http://). NULL with *err (G_OPTION_ERROR_BAD_VALUE) for
 * a URL GLib's proxies cannot use, or for "env" with neither variable set. */
char *tp_proxy_resolve(const char *value, GError **err);

/* "HTTP proxy 10.0.0.1:3128": never the credentials. */
char *tp_proxy_name(const char *url);

/* What one TLS handshake showed of the server's certificate. */
struct tp_tls_seen {
    gboolean ok;      /* a certificate was received */
    char sha256[100]; /* the leaf's SHA-256 fingerprint, "AB:CD:..." */
    char *subject, *issuer;
    char *error; /* why not, when !ok */
};
void tp_tls_seen_clear(struct tp_tls_seen *t);

/* A TLS handshake (no verification: only the certificate matters) with server, directly when
 * proxy is NULL or through it, SNI host unless host is an address literal; gives up at
 * deadline_us (monotonic). Blocking: call it from a thread that may wait. */
void tp_proxy_fetch_cert(const char *proxy, const struct sl_addr *server, const char *host,
                         gboolean host_is_ip, gint64 deadline_us, struct tp_tls_seen *out);

/* Judges the tls step of session s, which talked TLS through the proxy: the certificates
 * differ (proxy-tls-intercepted: WARN when the handshake passed, FAIL otherwise), are the
 * same, or could not be compared; the tls step's details say which ("proxy_tls"). */
void tp_proxy_judge_tls(struct rpt_session *s, const char *proxy, const struct tp_tls_seen *direct,
                        const struct tp_tls_seen *proxied);

/* For a session that talked TLS over TCP through cfg->proxy: both handshakes (the direct one
 * gets at most 3 s: where only the proxy gets out, a direct attempt only waits), then
 * tp_proxy_judge_tls. Nothing when there is no proxy or the session was not TLS over TCP. */
struct chk_config;
void tp_proxy_check_tls(const struct chk_config *cfg, struct rpt_session *s);

#endif
