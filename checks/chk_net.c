/* Connections to the server over UDP and TCP that record every packet into the evidence. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <string.h>

#include "chk.h"
#include "sl_chan.h"
#include "sl_classify.h"

/* A connection that sends us more than this much garbage is closed: a hostile server must not
 * make us buffer without bound. */
#define CHK_MAX_RX_BYTES (4u << 20)
/* The same bound holds for what a connection adds to the evidence, valid STUN included: every
 * record is kept, and a server that streams records without end would otherwise fill memory
 * until the deadline. A record counts at least 1 KiB, about what keeping it costs, so a flood
 * of 20-byte indications stops after 4096 of them; a whole checklist receives a few dozen. */
#define CHK_RX_RECORD_MIN_COST 1024u
/* Reads per wake-up: a peer that sends faster than we record must not keep us in the read
 * loop, where the run's deadline is never looked at. */
#define CHK_READS_PER_WAKEUP 16

/* c->error is an errno (g_strerror names it): GIO's error codes are not errnos, and
 * G_IO_ERROR_HOST_UNREACHABLE printed as errno 37 reads "No locks available". */
static int errno_of(const GError *e)
{
    if (!e)
        return EIO;
    if (e->domain != G_IO_ERROR)
        return EIO;
    switch (e->code) {
    case G_IO_ERROR_CONNECTION_REFUSED: return ECONNREFUSED;
    case G_IO_ERROR_HOST_UNREACHABLE: return EHOSTUNREACH;
    case G_IO_ERROR_NETWORK_UNREACHABLE: return ENETUNREACH;
    case G_IO_ERROR_TIMED_OUT: return ETIMEDOUT;
    case G_IO_ERROR_PERMISSION_DENIED: return EPERM;
    case G_IO_ERROR_CONNECTION_CLOSED: return ECONNRESET;
    case G_IO_ERROR_ADDRESS_IN_USE: return EADDRINUSE;
    case G_IO_ERROR_MESSAGE_TOO_LARGE: return EMSGSIZE;
    case G_IO_ERROR_NOT_CONNECTED: return ENOTCONN;
    case G_IO_ERROR_NO_SPACE: return ENOBUFS;
    default: return EIO;
    }
}

gint64 chk_now_real(const struct chk_ctx *ctx)
{
    return ctx->real0 + (g_get_monotonic_time() - ctx->mono0);
}

static gboolean stopped(const struct chk_ctx *ctx)
{
    return ctx->interrupted || (ctx->stop && *ctx->stop);
}

gboolean chk_expired(const struct chk_ctx *ctx)
{
    return stopped(ctx) || g_get_monotonic_time() >= ctx->deadline;
}

char *chk_addr_str(const struct sl_addr *a)
{
    char buf[SL_ADDR_STRLEN];
    return g_strdup(sl_addr_format(a, buf, sizeof(buf), TRUE));
}

struct rpt_packet *chk_conn_record(struct chk_conn *c, enum rpt_kind kind, enum rpt_dir dir,
                                   const uint8_t *p, size_t len)
{
    const struct sl_addr *src = dir == RPT_OUT ? &c->local : &c->remote;
    const struct sl_addr *dst = dir == RPT_OUT ? &c->remote : &c->local;
    struct rpt_packet *pk =
        rpt_packet_add(c->ctx->r, kind, dir, c->tp, src, dst, chk_now_real(c->ctx), p, len);
    pk->endpoint = g_strdup(c->endpoint);
    pk->session = c->ctx->session_index;
    switch (kind) {
    case RPT_PKT_STUN:
        pk->summary = chk_msg_summary(p, len);
        break;
    case RPT_PKT_CHANNELDATA: {
        struct sl_chan ch;
        if (sl_chan_decode(&ch, p, len, chk_is_stream(c->tp)) == SL_OK)
            pk->summary = g_strdup_printf("ChannelData 0x%04x, %u bytes", ch.channel, ch.len);
        else
            pk->summary = g_strdup("ChannelData (malformed)");
        break;
    }
    case RPT_PKT_TCP_SYN: pk->summary = g_strdup("TCP SYN"); break;
    case RPT_PKT_TCP_SYNACK: pk->summary = g_strdup("TCP SYN, ACK"); break;
    case RPT_PKT_TCP_ACK: pk->summary = g_strdup("TCP ACK"); break;
    case RPT_PKT_TCP_FIN: pk->summary = g_strdup("TCP FIN"); break;
    case RPT_PKT_TCP_RST: pk->summary = g_strdup("TCP RST"); break;
    case RPT_PKT_ICMP_UNREACH: pk->summary = g_strdup("ICMP port unreachable"); break;
    case RPT_PKT_TLS: pk->summary = chk_tls_describe(p, len, c->tp == RPT_DTLS); break;
    case RPT_PKT_OTHER: {
        enum sl_kind k = sl_classify(p, len);
        pk->summary = g_strdup_printf("%zu bytes of %s (not STUN)", len,
                                      k == SL_KIND_OTHER ? "unknown data" : sl_kind_name(k));
        break;
    }
    }
    return pk;
}

static void fail_conn(struct chk_conn *c)
{
    if (c->state == CHK_CONN_OPEN || c->state == CHK_CONN_CONNECTING)
        c->state = c->refused || c->timed_out ? CHK_CONN_FAILED : CHK_CONN_CLOSED;
    if (c->src) {
        g_source_destroy(c->src);
        g_source_unref(c->src);
        c->src = NULL;
    }
    if (c->on_record)
        c->on_record(c, NULL, 0, 0, c->ud); /* NULL record: the connection failed */
}

static gboolean over_budget(struct chk_conn *c)
{
    return c->rx_other > CHK_MAX_RX_BYTES || c->rx_cost > CHK_MAX_RX_BYTES;
}

/* Gives up on a connection that sent far more than anyone asked for, and says so in the
 * evidence; ENOBUFS tells the transactions why (chk_turn.c, chk_txn_explain). */
static void flooded(struct chk_conn *c)
{
    struct rpt_result *r = c->ctx->r;
    if (r->packets->len > 0)
        rpt_packet_annotate(g_ptr_array_index(r->packets, r->packets->len - 1), NULL, NULL,
                            "turnprobe stops reading here: the server sent far more than a "
                            "TURN check asks for");
    c->error = ENOBUFS;
    fail_conn(c);
}

void chk_conn_notify(struct chk_conn *c, const uint8_t *p, size_t len, guint pkt)
{
    c->rx_cost += MAX(len, CHK_RX_RECORD_MIN_COST);
    if (c->on_record)
        c->on_record(c, p, len, pkt, c->ud);
}

static void deliver(struct chk_conn *c, const uint8_t *p, size_t len, enum rpt_kind kind)
{
    struct rpt_packet *pk = chk_conn_record(c, kind, RPT_IN, p, len);
    if (kind == RPT_PKT_OTHER) {
        c->garbage = TRUE;
        c->rx_other += (guint32)len;
    }
    chk_conn_notify(c, p, len, pk->n);
}

static enum rpt_kind kind_of_datagram(const uint8_t *p, size_t len)
{
    switch (sl_classify(p, len)) {
    case SL_KIND_STUN: return RPT_PKT_STUN;
    case SL_KIND_CHANNELDATA: return RPT_PKT_CHANNELDATA;
    default: return RPT_PKT_OTHER;
    }
}

static void read_udp(struct chk_conn *c)
{
    uint8_t buf[65536];
    for (int reads = 0; reads < CHK_READS_PER_WAKEUP; reads++) {
        GError *err = NULL;
        gssize n = g_socket_receive(c->sock, (gchar *)buf, sizeof(buf), NULL, &err);
        if (n < 0) {
            if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
                g_error_free(err);
                return;
            }
            if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)) {
                /* Linux reports the ICMP port unreachable on a connected UDP socket this way;
                 * the ICMP came from the server's host about our last datagram. */
                struct rpt_packet *pk = chk_conn_record(c, RPT_PKT_ICMP_UNREACH, RPT_IN, NULL, 0);
                pk->ref = c->last_sent;
                pk->icmp_type = c->remote.family == SL_AF_IPV6 ? 1 : 3;
                pk->icmp_code = c->remote.family == SL_AF_IPV6 ? 4 : 3;
                c->refused = TRUE;
                c->error = ECONNREFUSED;
                g_error_free(err);
                if (c->on_record)
                    c->on_record(c, NULL, 0, pk->n, c->ud);
                continue; /* the socket stays usable: a later datagram may still be answered */
            }
            c->error = errno_of(err);
            g_error_free(err);
            fail_conn(c);
            return;
        }
        if (c->tls)
            chk_tls_receive(c, buf, (size_t)n);
        else
            deliver(c, buf, (size_t)n, kind_of_datagram(buf, (size_t)n));
        if (c->state == CHK_CONN_OPEN && over_budget(c)) {
            flooded(c);
            return;
        }
    }
}

static void drain_framer(struct chk_conn *c)
{
    struct sl_frame fr;
    int rc;
    while ((rc = sl_framer_next(c->framer, &fr)) == SL_OK) {
        enum rpt_kind k = fr.kind == SL_FRAME_STUN ? RPT_PKT_STUN : RPT_PKT_CHANNELDATA;
        /* A framed "STUN" record must still decode to count as STUN. */
        if (k == RPT_PKT_STUN) {
            struct sl_msg m;
            if (sl_msg_decode(&m, fr.p, fr.len, SL_DEC_LENIENT) != SL_OK)
                k = RPT_PKT_OTHER;
        }
        deliver(c, fr.p, fr.wire_len, k);
        if (c->state == CHK_CONN_OPEN && over_budget(c))
            flooded(c);
        if (c->state != CHK_CONN_OPEN)
            return;
    }
}

static void read_tcp(struct chk_conn *c)
{
    uint8_t buf[16384];
    for (int reads = 0; reads < CHK_READS_PER_WAKEUP; reads++) {
        GError *err = NULL;
        gssize n = g_socket_receive(c->sock, (gchar *)buf, sizeof(buf), NULL, &err);
        if (n < 0) {
            if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
                g_error_free(err);
                return;
            }
            c->error = errno_of(err);
            g_error_free(err);
            chk_conn_record(c, RPT_PKT_TCP_RST, RPT_IN, NULL, 0);
            c->reset = TRUE;
            fail_conn(c);
            return;
        }
        if (n == 0) {
            chk_conn_record(c, RPT_PKT_TCP_FIN, RPT_IN, NULL, 0);
            c->peer_closed = TRUE;
            fail_conn(c);
            return;
        }
        if (c->tls) {
            chk_tls_receive(c, buf, (size_t)n);
        } else if (c->framer->err) {
            /* Already out of step: everything else is garbage. */
            deliver(c, buf, (size_t)n, RPT_PKT_OTHER);
        } else {
            size_t off = 0;
            while (off < (size_t)n && c->state == CHK_CONN_OPEN) {
                off += sl_framer_feed(c->framer, buf + off, (size_t)n - off);
                drain_framer(c);
                if (c->framer->err) {
                    /* What the framer holds and the rest of this read are not TURN. */
                    size_t held = sl_framer_pending(c->framer);
                    GByteArray *junk = g_byte_array_new();
                    g_byte_array_append(junk, c->framer->buf + c->framer->start, (guint)held);
                    g_byte_array_append(junk, buf + off, (guint)((size_t)n - off));
                    deliver(c, junk->data, junk->len, RPT_PKT_OTHER);
                    g_byte_array_unref(junk);
                    break;
                }
            }
        }
        if (c->state != CHK_CONN_OPEN)
            return;
        if (over_budget(c)) {
            flooded(c);
            return;
        }
    }
}

static gboolean on_readable(GSocket *sock, GIOCondition cond, gpointer ud)
{
    (void)sock;
    (void)cond;
    struct chk_conn *c = ud;
    if (c->state != CHK_CONN_OPEN)
        return G_SOURCE_CONTINUE;
    if (c->tp == RPT_UDP || c->tp == RPT_DTLS)
        read_udp(c);
    else
        read_tcp(c);
    return c->src ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

struct connect_wait {
    GSocket *sock;
    gboolean ready;
};

static gboolean on_connected(GSocket *sock, GIOCondition cond, gpointer ud)
{
    (void)sock;
    (void)cond;
    ((struct connect_wait *)ud)->ready = TRUE;
    return G_SOURCE_REMOVE;
}

static gboolean connect_done(void *ud)
{
    return ((struct connect_wait *)ud)->ready;
}

static void watch(struct chk_conn *c)
{
    c->src = g_socket_create_source(c->sock, G_IO_IN | G_IO_ERR | G_IO_HUP, NULL);
    g_source_set_callback(c->src, G_SOURCE_FUNC(on_readable), c, NULL);
    g_source_attach(c->src, c->ctx->mc);
}

/* ---- through a proxy (--proxy): GLib's GSocketClient speaks HTTP CONNECT or SOCKS5 ---- */

/* "HTTP proxy 10.0.0.1:3128": how the evidence names the proxy, never with its credentials. */
static char *proxy_name(const char *url)
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
    char *name = g_strdup_printf("%s proxy %s%s%s%s", scheme, v6 ? "[" : "", host, v6 ? "]" : "",
                                 port);
    g_free(scheme);
    g_uri_unref(u);
    return name;
}

struct proxy_wait {
    GSocketConnection *conn;
    GError *err;
    gboolean done;
    gboolean reached; /* the TCP connection to the proxy itself was made */
};

static void on_proxy_event(GSocketClient *cl, GSocketClientEvent ev, GSocketConnectable *to,
                           GIOStream *io, gpointer ud)
{
    (void)cl;
    (void)to;
    (void)io;
    if (ev == G_SOCKET_CLIENT_CONNECTED)
        ((struct proxy_wait *)ud)->reached = TRUE;
}

static void on_proxy_connected(GObject *src, GAsyncResult *res, gpointer ud)
{
    struct proxy_wait *w = ud;
    w->conn = g_socket_client_connect_finish(G_SOCKET_CLIENT(src), res, &w->err);
    w->done = TRUE;
}

static gboolean proxy_done(void *ud)
{
    return ((struct proxy_wait *)ud)->done;
}

/* The HTTP status GLib puts at the end of "HTTP proxy connection failed: 502"; 0 if none. */
static int http_status_of(const char *msg)
{
    const char *end = msg + strlen(msg), *p = end;
    while (p > msg && g_ascii_isdigit(p[-1]))
        p--;
    guint64 v = 0;
    if (p == end || !g_ascii_string_to_unsigned(p, 10, 100, 599, &v, NULL))
        return 0;
    return (int)v;
}

/* Why the tunnel did not open, as a diagnosis: the proxy is not there, wants credentials,
 * refuses this destination, or could not reach the server itself. */
static void proxy_judge(struct chk_conn *c, const struct proxy_wait *w, const char *name,
                        const char *dst, gboolean socks, gboolean creds)
{
    const GError *e = w->err;
    const char *msg = e ? e->message : "no answer before the deadline";
    int code = e && g_error_matches(e, G_IO_ERROR, G_IO_ERROR_PROXY_FAILED) && !socks
                   ? http_status_of(e->message)
                   : 0;
    if (e && g_error_matches(e, G_IO_ERROR, G_IO_ERROR_PROXY_NOT_ALLOWED))
        code = socks ? 2 : 403; /* SOCKS5 reply 2: not allowed by ruleset */
    if (!w->reached) {
        c->fail_diag = "proxy-unreachable";
        c->fail_why = g_strdup_printf("cannot connect to the %s: %s", name, msg);
    } else if (!e) {
        c->fail_diag = "proxy-connect-failed";
        c->fail_why = g_strdup_printf("the %s took the connection but did not open the tunnel to "
                                      "%s before the deadline: the server does not answer it",
                                      name, dst);
    } else if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_PROXY_NEED_AUTH) ||
               ((code == 401 || code == 407) && !creds)) {
        c->fail_diag = "proxy-auth-required";
        char how[32] = "SOCKS5";
        if (!socks)
            g_snprintf(how, sizeof(how), "HTTP %d", code ? code : 407);
        c->fail_why = g_strdup_printf("the %s wants a username and password (%s) and --proxy "
                                      "gives none", name, how);
    } else if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_PROXY_AUTH_FAILED) || code == 401 ||
               code == 407) {
        /* tinyproxy answers 401, not 407, to a wrong password. */
        c->fail_diag = "proxy-auth-required";
        char how[32] = "SOCKS5 authentication";
        if (!socks)
            g_snprintf(how, sizeof(how), "HTTP %d", code ? code : 407);
        c->fail_why = g_strdup_printf("the %s refused the username and password of --proxy (%s)",
                                      name, how);
    } else if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_PROXY_NOT_ALLOWED) ||
               (code >= 400 && code < 500)) {
        c->fail_diag = "proxy-refused";
        c->fail_why = g_strdup_printf("the %s refuses to connect to %s (%s%d): its policy does "
                                      "not allow this destination or port", name, dst,
                                      socks ? "SOCKS5 reply " : "HTTP ", code);
    } else if (code >= 500 || socks || !g_error_matches(e, G_IO_ERROR, G_IO_ERROR_PROXY_FAILED)) {
        c->fail_diag = "proxy-connect-failed";
        c->fail_why = code ? g_strdup_printf("the %s could not connect to %s (HTTP %d)", name,
                                             dst, code)
                           : g_strdup_printf("the %s could not connect to %s: %s", name, dst,
                                             msg);
    } else {
        c->fail_diag = "proxy-unreachable";
        c->fail_why = g_strdup_printf("the %s does not answer as an HTTP proxy: %s", name, msg);
    }
}

/* Connects through the proxy; on success the connection's socket is a plain tunnel to the
 * server, which becomes c->sock: TLS, framing and recording then work as if it were direct. */
static int proxy_open(struct chk_conn *c, GSocketAddress *sa)
{
    struct chk_ctx *ctx = c->ctx;
    const char *url = ctx->cfg->proxy;
    char *name = proxy_name(url);
    char *dst = chk_addr_str(&c->remote);
    gboolean socks = g_ascii_strncasecmp(url, "socks", 5) == 0;
    GProxyResolver *res = g_simple_proxy_resolver_new(url, NULL);
    GSocketClient *cl = g_socket_client_new();
    g_socket_client_set_proxy_resolver(cl, res);
    struct proxy_wait w = {0};
    gulong h = g_signal_connect(cl, "event", G_CALLBACK(on_proxy_event), &w);
    GCancellable *cancel = g_cancellable_new();

    c->framer = g_new(struct sl_framer, 1);
    sl_framer_init(c->framer, 0);
    struct rpt_packet *syn = chk_conn_record(c, RPT_PKT_TCP_SYN, RPT_OUT, NULL, 0);
    char *note = g_strdup_printf("via %s (%s to %s); this capture shows the tunnel as if it were "
                                 "a direct connection to the server", name,
                                 socks ? "SOCKS5 CONNECT" : "HTTP CONNECT", dst);
    rpt_packet_annotate(syn, NULL, NULL, note);
    g_free(note);
    g_socket_client_connect_async(cl, G_SOCKET_CONNECTABLE(sa), cancel, on_proxy_connected, &w);
    chk_wait(ctx, proxy_done, &w, G_MAXINT64);
    if (!w.done) {
        /* The deadline or Ctrl-C: cancel, and let the callback run before w goes away. */
        g_cancellable_cancel(cancel);
        while (!w.done)
            g_main_context_iteration(ctx->mc, TRUE);
        g_clear_error(&w.err);
        g_clear_object(&w.conn);
    }
    g_signal_handler_disconnect(cl, h);
    g_object_unref(cancel);
    g_object_unref(cl);
    g_object_unref(res);

    int rc = 0;
    if (!w.conn) {
        GUri *u = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
        proxy_judge(c, &w, name, dst, socks, u && g_uri_get_userinfo(u));
        if (u)
            g_uri_unref(u);
        struct rpt_packet *pk = chk_conn_record(c, RPT_PKT_TCP_RST, RPT_IN, NULL, 0);
        rpt_packet_annotate(pk, NULL, c->fail_diag, c->fail_why);
        c->error = w.reached ? ECONNREFUSED : EHOSTUNREACH;
        c->state = CHK_CONN_FAILED;
        rc = c->error;
    } else {
        c->proxy_conn = w.conn;
        c->sock = g_object_ref(g_socket_connection_get_socket(w.conn));
        g_socket_set_blocking(c->sock, FALSE);
        g_socket_set_option(c->sock, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
        GSocketAddress *la = g_socket_get_local_address(c->sock, NULL);
        if (la) {
            struct sockaddr_storage lss;
            if (g_socket_address_to_native(la, &lss, sizeof(lss), NULL))
                sl_addr_from_sockaddr(&c->local, (struct sockaddr *)&lss, sizeof(lss));
            g_object_unref(la);
        }
        /* The recorded handshake now carries the local address the proxy sees. */
        syn->src = c->local;
        struct rpt_packet *pk = chk_conn_record(c, RPT_PKT_TCP_SYNACK, RPT_IN, NULL, 0);
        note = g_strdup_printf("the %s opened the tunnel to %s", name, dst);
        rpt_packet_annotate(pk, NULL, NULL, note);
        g_free(note);
        chk_conn_record(c, RPT_PKT_TCP_ACK, RPT_OUT, NULL, 0);
    }
    g_clear_error(&w.err);
    g_free(dst);
    g_free(name);
    return rc;
}

int chk_conn_open(struct chk_ctx *ctx, const char *endpoint, enum rpt_transport tp,
                  const struct sl_addr *server, struct chk_conn **out)
{
    struct chk_conn *c = g_new0(struct chk_conn, 1);
    c->ctx = ctx;
    c->endpoint = g_strdup(endpoint);
    c->tp = tp;
    c->remote = *server;
    c->state = CHK_CONN_CONNECTING;
    *out = c;

    struct sockaddr_storage ss;
    size_t sslen = sl_addr_to_sockaddr(server, &ss);
    GSocketAddress *sa = g_socket_address_new_from_native(&ss, sslen);
    GError *err = NULL;
    GSocketFamily fam = server->family == SL_AF_IPV6 ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4;
    gboolean stream = tp == RPT_TCP || tp == RPT_TLS;
    if (ctx->cfg->proxy) {
        int prc = EPROTONOSUPPORT;
        if (!stream) {
            char *name = proxy_name(ctx->cfg->proxy);
            c->fail_diag = "proxy-udp-unsupported";
            c->fail_why = g_strdup_printf("%s cannot go through the %s: HTTP CONNECT and SOCKS5 "
                                          "CONNECT carry TCP only", rpt_transport_name(tp), name);
            c->state = CHK_CONN_FAILED;
            c->error = prc;
            g_free(name);
        } else {
            prc = proxy_open(c, sa);
        }
        g_object_unref(sa);
        if (prc != 0)
            return prc;
        goto opened;
    }
    c->sock = g_socket_new(fam, stream ? G_SOCKET_TYPE_STREAM : G_SOCKET_TYPE_DATAGRAM,
                           stream ? G_SOCKET_PROTOCOL_TCP : G_SOCKET_PROTOCOL_UDP, &err);
    if (!c->sock)
        goto fail;
    g_socket_set_blocking(c->sock, FALSE);
    /* Requests are small and often back to back: Nagle would hold the second until the
     * server's delayed ACK, 40 ms that are not the server's. */
    if (stream)
        g_socket_set_option(c->sock, IPPROTO_TCP, TCP_NODELAY, 1, NULL);

    gboolean ok = g_socket_connect(c->sock, sa, NULL, &err);
    if (!ok && !(stream && g_error_matches(err, G_IO_ERROR, G_IO_ERROR_PENDING)))
        goto fail;
    g_clear_error(&err);
    GSocketAddress *la = g_socket_get_local_address(c->sock, NULL);
    if (la) {
        struct sockaddr_storage lss;
        if (g_socket_address_to_native(la, &lss, sizeof(lss), NULL))
            sl_addr_from_sockaddr(&c->local, (struct sockaddr *)&lss, sizeof(lss));
        g_object_unref(la);
    }
    if (stream) {
        c->framer = g_new(struct sl_framer, 1);
        sl_framer_init(c->framer, 0);
        chk_conn_record(c, RPT_PKT_TCP_SYN, RPT_OUT, NULL, 0);
        if (!ok) {
            struct connect_wait cw = {c->sock, FALSE};
            GSource *src = g_socket_create_source(c->sock, G_IO_OUT | G_IO_ERR | G_IO_HUP, NULL);
            g_source_set_callback(src, G_SOURCE_FUNC(on_connected), &cw, NULL);
            g_source_attach(src, ctx->mc);
            chk_wait(ctx, connect_done, &cw, G_MAXINT64);
            g_source_destroy(src);
            g_source_unref(src);
            if (!cw.ready) {
                c->timed_out = TRUE;
                c->error = ETIMEDOUT;
                c->state = CHK_CONN_FAILED;
                g_object_unref(sa);
                return ETIMEDOUT;
            }
            if (!g_socket_check_connect_result(c->sock, &err)) {
                if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)) {
                    chk_conn_record(c, RPT_PKT_TCP_RST, RPT_IN, NULL, 0);
                    c->refused = TRUE;
                    c->error = ECONNREFUSED;
                } else {
                    c->error = errno_of(err);
                }
                c->state = CHK_CONN_FAILED;
                g_error_free(err);
                g_object_unref(sa);
                return c->error ? c->error : EIO;
            }
        }
        chk_conn_record(c, RPT_PKT_TCP_SYNACK, RPT_IN, NULL, 0);
        chk_conn_record(c, RPT_PKT_TCP_ACK, RPT_OUT, NULL, 0);
    }
    g_object_unref(sa);
opened:
    c->state = CHK_CONN_OPEN;
    if (tp == RPT_TLS || tp == RPT_DTLS) {
        int trc = chk_tls_handshake(c, strcmp(endpoint, "client") == 0);
        if (trc != 0) {
            c->state = CHK_CONN_FAILED;
            c->error = trc;
            return trc;
        }
    }
    watch(c);
    return 0;

fail:
    c->error = errno_of(err);
    c->state = CHK_CONN_FAILED;
    g_clear_error(&err);
    g_object_unref(sa);
    return EIO;
}

guint chk_conn_send(struct chk_conn *c, const uint8_t *p, size_t len, enum rpt_kind kind)
{
    if (c->state != CHK_CONN_OPEN)
        return 0;
    GError *err = NULL;
    gssize n;
    GBytes *wire = NULL;
    const uint8_t *plain = p;
    size_t plain_len = len;
    if (c->tls) {
        wire = chk_tls_encrypt(c, p, len);
        if (!wire) {
            c->error = EPROTO;
            return 0;
        }
        gsize wl = 0;
        p = g_bytes_get_data(wire, &wl);
        len = wl;
    }
    if (c->tp == RPT_UDP || c->tp == RPT_DTLS) {
        n = g_socket_send(c->sock, (const gchar *)p, len, NULL, &err);
        if (n < 0 && g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)) {
            /* A pending ICMP error surfaced on send; the datagram itself may not have left. */
            g_clear_error(&err);
            c->refused = TRUE;
            n = g_socket_send(c->sock, (const gchar *)p, len, NULL, &err);
        }
    } else {
        /* Small records: the kernel takes them whole; a bounded blocking send otherwise. */
        g_socket_set_timeout(c->sock, 5);
        n = g_socket_send_with_blocking(c->sock, (const gchar *)p, len, TRUE, NULL, &err);
        g_socket_set_timeout(c->sock, 0);
    }
    if (n < 0 || (size_t)n != len) {
        c->error = errno_of(err);
        g_clear_error(&err);
        if (wire)
            g_bytes_unref(wire);
        return 0;
    }
    struct rpt_packet *pk = chk_conn_record(c, kind, RPT_OUT, plain, plain_len);
    pk->wire = wire;
    c->last_sent = pk->n;
    return pk->n;
}

void chk_conn_close(struct chk_conn *c)
{
    if (!c)
        return;
    if (c->src) {
        g_source_destroy(c->src);
        g_source_unref(c->src);
    }
    chk_tls_free(c->tls);
    if (c->sock) {
        if ((c->tp == RPT_TCP || c->tp == RPT_TLS) && c->state == CHK_CONN_OPEN)
            chk_conn_record(c, RPT_PKT_TCP_FIN, RPT_OUT, NULL, 0);
        g_socket_close(c->sock, NULL);
        g_object_unref(c->sock);
    }
    if (c->proxy_conn)
        g_object_unref(c->proxy_conn);
    g_free(c->fail_why);
    g_free(c->framer);
    g_free(c->endpoint);
    g_free(c);
}

static gboolean wake(gpointer ud)
{
    (void)ud;
    return G_SOURCE_REMOVE;
}

gboolean chk_wait(struct chk_ctx *ctx, gboolean (*done)(void *ud), void *ud, gint64 until)
{
    for (;;) {
        if (done(ud))
            return TRUE;
        gint64 now = g_get_monotonic_time();
        gint64 limit = until < ctx->deadline ? until : ctx->deadline;
        if (stopped(ctx) || now >= limit)
            return done(ud);
        guint ms = (guint)MIN((limit - now + 999) / 1000, 60000);
        GSource *t = g_timeout_source_new(ms);
        g_source_set_callback(t, wake, NULL, NULL);
        g_source_attach(t, ctx->mc);
        g_main_context_iteration(ctx->mc, TRUE);
        g_source_destroy(t);
        g_source_unref(t);
    }
}
