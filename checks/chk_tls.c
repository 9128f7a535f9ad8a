/* Step "tls": TLS (over TCP) and DTLS (over UDP) with OpenSSL over memory BIOs, so every record
 * on the wire is in the evidence; certificate diagnosis; key log for the capture. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "chk_run.h"
#include "sl_chan.h"
#include "sl_rd.h"

#define TLS_MAX_ERRORS 8

struct chk_tls {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio, *wbio; /* network side: what we received, what OpenSSL wants sent */
    gboolean dtls;
    GByteArray *rx;   /* TCP: bytes received, not yet a whole record */
    int verify_errors[TLS_MAX_ERRORS];
    int nverify;
    char alert[96];   /* the last alert the server sent */
    struct chk_ctx *cctx;
};

/* ---- what records hold, for summaries and capture comments ---- */

static const char *handshake_name(uint8_t t)
{
    switch (t) {
    case 1: return "ClientHello";
    case 2: return "ServerHello";
    case 3: return "HelloVerifyRequest";
    case 4: return "NewSessionTicket";
    case 8: return "EncryptedExtensions";
    case 11: return "Certificate";
    case 12: return "ServerKeyExchange";
    case 13: return "CertificateRequest";
    case 14: return "ServerHelloDone";
    case 15: return "CertificateVerify";
    case 16: return "ClientKeyExchange";
    case 20: return "Finished";
    default: return "handshake";
    }
}

char *chk_tls_describe(const uint8_t *p, size_t len, gboolean dtls)
{
    GString *s = g_string_new(dtls ? "DTLS " : "TLS ");
    struct sl_rd rd;
    sl_rd_init(&rd, p, len);
    size_t hdr = dtls ? 13 : 5;
    int n = 0;
    gboolean encrypted_hs = FALSE;
    while (sl_rd_left(&rd) >= hdr) {
        uint8_t type = sl_rd_u8(&rd);
        sl_rd_skip(&rd, dtls ? 10 : 2);
        uint16_t rlen = sl_rd_u16(&rd);
        const uint8_t *body = sl_rd_bytes(&rd, rlen);
        if (rd.err)
            break;
        const char *what = NULL;
        char buf[96];
        if (type == 22 && rlen >= 1) {
            /* A handshake message is readable until ChangeCipherSpec; after it, it is the
             * encrypted Finished. */
            what = encrypted_hs ? "encrypted handshake" : handshake_name(body[0]);
        } else if (type == 20) {
            what = "ChangeCipherSpec";
            encrypted_hs = TRUE;
        } else if (type == 21 && rlen == 2 && !encrypted_hs) {
            g_snprintf(buf, sizeof(buf), "alert: %s (%s)",
                       SSL_alert_desc_string_long(body[1]),
                       body[0] == 2 ? "fatal" : "warning");
            what = buf;
        } else if (type == 21) {
            what = "encrypted alert";
        } else if (type == 23) {
            what = "application data";
        } else {
            what = "unknown record";
        }
        g_string_append_printf(s, "%s%s", n++ ? ", " : "", what);
    }
    if (n == 0)
        g_string_append_printf(s, "partial record (%zu bytes)", len);
    return g_string_free(s, FALSE);
}

/* ---- key log and verification callbacks ---- */

static int tls_index = -1;

static void keylog_cb(const SSL *ssl, const char *line)
{
    struct chk_tls *t = SSL_get_ex_data(ssl, tls_index);
    struct rpt_result *r = t->cctx->r;
    /* NSS key log format, one line per secret, for the capture's Decryption Secrets Block. */
    char *prev = r->keylog;
    r->keylog = g_strconcat(prev ? prev : "", line, "\n", NULL);
    if (prev) {
        memset(prev, 0, strlen(prev));
        g_free(prev);
    }
}

static int verify_cb(int ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct chk_tls *t = SSL_get_ex_data(ssl, tls_index);
    if (!ok && t->nverify < TLS_MAX_ERRORS) {
        int e = X509_STORE_CTX_get_error(store);
        gboolean seen = FALSE;
        for (int i = 0; i < t->nverify; i++)
            seen |= t->verify_errors[i] == e;
        if (!seen)
            t->verify_errors[t->nverify++] = e;
    }
    /* Go on: the diagnosis wants every problem, and --insecure may continue. */
    return 1;
}

static void info_cb(const SSL *ssl, int where, int ret)
{
    if ((where & SSL_CB_ALERT) && (where & SSL_CB_READ)) {
        struct chk_tls *t = SSL_get_ex_data(ssl, tls_index);
        g_snprintf(t->alert, sizeof(t->alert), "%s", SSL_alert_desc_string_long(ret));
    }
}

/* ---- the handshake ---- */

/* Sends what OpenSSL has queued, as one packet (a flight, or one record). */
static GBytes *take_output(struct chk_tls *t)
{
    int pending = (int)BIO_ctrl_pending(t->wbio);
    if (pending <= 0)
        return NULL;
    guint8 *buf = g_malloc((gsize)pending);
    int n = BIO_read(t->wbio, buf, pending);
    if (n <= 0) {
        g_free(buf);
        return NULL;
    }
    return g_bytes_new_take(buf, (gsize)n);
}

static gboolean flush_handshake(struct chk_conn *c)
{
    GBytes *out = take_output(c->tls);
    if (!out)
        return TRUE;
    gsize n;
    const uint8_t *p = g_bytes_get_data(out, &n);
    GError *err = NULL;
    gssize w = chk_is_stream(c->tp)
                   ? g_socket_send_with_blocking(c->sock, (const gchar *)p, n, TRUE, NULL, &err)
                   : g_socket_send(c->sock, (const gchar *)p, n, NULL, &err);
    gboolean ok = w == (gssize)n;
    if (ok) {
        struct rpt_packet *pk = chk_conn_record(c, RPT_PKT_TLS, RPT_OUT, p, n);
        rpt_packet_annotate(pk, "tls", NULL, NULL);
        c->last_sent = pk->n;
    } else {
        c->error = err ? err->code : EIO;
    }
    g_clear_error(&err);
    g_bytes_unref(out);
    return ok;
}

struct hs_wait {
    gboolean readable;
};

static gboolean on_hs_readable(GSocket *s, GIOCondition cond, gpointer ud)
{
    (void)s;
    (void)cond;
    ((struct hs_wait *)ud)->readable = TRUE;
    return G_SOURCE_CONTINUE;
}

static gboolean hs_ready(void *ud)
{
    return ((struct hs_wait *)ud)->readable;
}

/* Reads what the server sent during the handshake; FALSE on EOF or an error. */
static gboolean read_handshake(struct chk_conn *c, gboolean *eof, gboolean *plain_stun)
{
    uint8_t buf[16384];
    for (;;) {
        GError *err = NULL;
        gssize n = g_socket_receive(c->sock, (gchar *)buf, sizeof(buf), NULL, &err);
        if (n < 0) {
            gboolean again = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
            if (!again) {
                if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)) {
                    struct rpt_packet *pk = chk_conn_record(c, RPT_PKT_ICMP_UNREACH, RPT_IN, NULL, 0);
                    pk->ref = c->last_sent;
                    pk->icmp_type = c->remote.family == SL_AF_IPV6 ? 1 : 3;
                    pk->icmp_code = c->remote.family == SL_AF_IPV6 ? 4 : 3;
                    rpt_packet_annotate(pk, "tls", "port-unreachable", NULL);
                    c->refused = TRUE;
                } else {
                    chk_conn_record(c, RPT_PKT_TCP_RST, RPT_IN, NULL, 0);
                    c->reset = TRUE;
                }
                c->error = err->code;
            }
            g_error_free(err);
            return again;
        }
        if (n == 0) {
            chk_conn_record(c, RPT_PKT_TCP_FIN, RPT_IN, NULL, 0);
            *eof = TRUE;
            return FALSE;
        }
        /* A plain STUN message where TLS was expected: the port speaks plain TURN. */
        if (n >= 20 && (buf[0] & 0xC0) == 0 && sl_get_u32(buf + 4) == SL_MAGIC_COOKIE) {
            struct rpt_packet *pk = chk_conn_record(c, RPT_PKT_STUN, RPT_IN, buf, (size_t)n);
            rpt_packet_annotate(pk, "tls", "tls-handshake-failed",
                                "plain STUN where TLS was expected");
            *plain_stun = TRUE;
            return FALSE;
        }
        struct rpt_packet *pk = chk_conn_record(c, RPT_PKT_TLS, RPT_IN, buf, (size_t)n);
        rpt_packet_annotate(pk, "tls", NULL, NULL);
        BIO_write(c->tls->rbio, buf, (int)n);
        if (!chk_is_stream(c->tp))
            return TRUE; /* one datagram at a time: DTLS reads it whole */
    }
}

static char *x509_name(const X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(b, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *out = g_strndup(data, (gsize)MAX(n, 0));
    BIO_free(b);
    char *valid = g_utf8_make_valid(out, -1);
    g_free(out);
    return valid;
}

static char *asn1_time(const ASN1_TIME *t, int *days_left)
{
    struct tm tm;
    if (!ASN1_TIME_to_tm(t, &tm))
        return g_strdup("?");
    int day = 0, sec = 0;
    if (days_left && ASN1_TIME_diff(&day, &sec, NULL, t))
        *days_left = day;
    char buf[64];
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
    return g_strdup(buf);
}

static JsonArray *sans_of(X509 *x)
{
    JsonArray *arr = json_array_new();
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type == GEN_DNS) {
            const unsigned char *d = ASN1_STRING_get0_data(gn->d.dNSName);
            char *v = g_strndup((const char *)d, (gsize)ASN1_STRING_length(gn->d.dNSName));
            char *dn = g_strdup_printf("DNS:%s", v);
            json_array_add_string_element(arr, dn);
            g_free(dn);
            g_free(v);
        } else if (gn->type == GEN_IPADD) {
            const unsigned char *d = ASN1_STRING_get0_data(gn->d.iPAddress);
            int l = ASN1_STRING_length(gn->d.iPAddress);
            struct sl_addr a = {0};
            if (l == 4 || l == 16) {
                a.family = l == 4 ? SL_AF_IPV4 : SL_AF_IPV6;
                memcpy(a.ip, d, (size_t)l);
                char buf[SL_ADDR_STRLEN], dn[SL_ADDR_STRLEN + 4];
                g_snprintf(dn, sizeof(dn), "IP:%s", sl_addr_format(&a, buf, sizeof(buf), FALSE));
                json_array_add_string_element(arr, dn);
            }
        }
    }
    GENERAL_NAMES_free(names);
    return arr;
}

static JsonObject *cert_details(X509 *x, int *days_left)
{
    JsonObject *o = json_object_new();
    char *v = x509_name(X509_get_subject_name(x));
    json_object_set_string_member(o, "subject", v);
    g_free(v);
    v = x509_name(X509_get_issuer_name(x));
    json_object_set_string_member(o, "issuer", v);
    g_free(v);
    json_object_set_array_member(o, "san", sans_of(x));
    v = asn1_time(X509_get0_notBefore(x), NULL);
    json_object_set_string_member(o, "not_before", v);
    g_free(v);
    int days = 0;
    v = asn1_time(X509_get0_notAfter(x), &days);
    json_object_set_string_member(o, "not_after", v);
    json_object_set_int_member(o, "days_left", days);
    if (days_left)
        *days_left = days;
    g_free(v);
    EVP_PKEY *pk = X509_get0_pubkey(x);
    if (pk) {
        char *kt = g_strdup_printf("%s %d bits", OBJ_nid2sn(EVP_PKEY_get_base_id(pk)),
                                   EVP_PKEY_get_bits(pk));
        json_object_set_string_member(o, "key", kt);
        g_free(kt);
    }
    json_object_set_string_member(o, "signature", OBJ_nid2ln(X509_get_signature_nid(x)));
    return o;
}

static gboolean has_error(const struct chk_tls *t, int e)
{
    for (int i = 0; i < t->nverify; i++)
        if (t->verify_errors[i] == e)
            return TRUE;
    return FALSE;
}

/* Judges the certificate: the first problem found decides the diagnosis, all are listed. */
static void judge_certificate(struct chk_conn *c, struct rpt_step *st, const char *host,
                              X509 *leaf, int days_left, const char **diag, GString *sum)
{
    struct chk_tls *t = c->tls;
    JsonArray *errs = json_array_new();
    for (int i = 0; i < t->nverify; i++)
        json_array_add_string_element(errs, X509_verify_cert_error_string(t->verify_errors[i]));
    json_object_set_array_member(st->details, "verify_errors", errs);
    char *names = NULL;
    if (leaf) {
        JsonArray *san = sans_of(leaf);
        GString *g = g_string_new(NULL);
        for (guint i = 0; i < json_array_get_length(san); i++)
            g_string_append_printf(g, "%s%s", i ? ", " : "", json_array_get_string_element(san, i));
        json_array_unref(san);
        names = g_string_free(g, FALSE);
    }
    *diag = "ok";
    if (!leaf) {
        *diag = "tls-handshake-failed";
        g_string_append(sum, "the server sent no certificate");
    } else if (has_error(t, X509_V_ERR_CERT_HAS_EXPIRED)) {
        *diag = "tls-cert-expired";
        char *na = asn1_time(X509_get0_notAfter(leaf), NULL);
        g_string_append_printf(sum, "the certificate expired on %s (%d days ago)", na, -days_left);
        g_free(na);
    } else if (has_error(t, X509_V_ERR_CERT_NOT_YET_VALID)) {
        *diag = "tls-cert-not-yet-valid";
        char *nb = asn1_time(X509_get0_notBefore(leaf), NULL);
        g_string_append_printf(sum, "the certificate is not valid before %s", nb);
        g_free(nb);
    } else if (has_error(t, X509_V_ERR_HOSTNAME_MISMATCH) || has_error(t, X509_V_ERR_IP_ADDRESS_MISMATCH)) {
        *diag = "tls-hostname-mismatch";
        g_string_append_printf(sum, "the certificate does not cover \"%s\"; it covers %s", host,
                               names && *names ? names : "no subjectAltName at all");
    } else if (has_error(t, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT)) {
        *diag = "tls-untrusted";
        g_string_append(sum, "the certificate is self-signed and not trusted (give its CA with "
                             "--ca, or use a certificate from a public CA)");
    } else if (has_error(t, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)) {
        *diag = "tls-untrusted";
        g_string_append(sum, "the chain ends in a self-signed root that is not trusted");
    } else if (has_error(t, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY) ||
               has_error(t, X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE)) {
        *diag = "tls-untrusted";
        g_string_append(sum, "the issuer is unknown: an untrusted CA, or an incomplete chain "
                             "(the server must send its intermediate certificates)");
    } else if (t->nverify > 0) {
        *diag = "tls-untrusted";
        g_string_append_printf(sum, "the certificate does not verify: %s",
                               X509_verify_cert_error_string(t->verify_errors[0]));
    } else if (days_left < 30) {
        *diag = "tls-cert-expiring-soon";
        g_string_append_printf(sum, "the certificate expires in %d days", days_left);
    }
    g_free(names);
}

/* The same server without TLS, for a port that speaks plain TURN: "turn:[2001:db8::1]:3478". */
static char *plain_uri(const struct chk_config *cfg, gboolean dtls)
{
    gboolean v6 = cfg->uri.host_is_ipv6;
    return g_strdup_printf("%s:%s%s%s:%u%s", cfg->uri.turn ? "turn" : "stun", v6 ? "[" : "",
                           cfg->uri.host, v6 ? "]" : "", cfg->uri.port,
                           dtls ? "" : "?transport=tcp");
}

int chk_tls_handshake(struct chk_conn *c, gboolean report)
{
    struct chk_ctx *ctx = c->ctx;
    const struct chk_config *cfg = ctx->cfg;
    gboolean dtls = c->tp == RPT_DTLS;
    struct chk_tls *t = g_new0(struct chk_tls, 1);
    c->tls = t;
    t->dtls = dtls;
    t->cctx = ctx;
    t->rx = g_byte_array_new();
    /* Matrix cells handshake in parallel threads: two first callers must not get two
     * indexes (one thread would then find no chk_tls in its callbacks). */
    static gsize tls_index_once;
    if (g_once_init_enter(&tls_index_once)) {
        tls_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
        g_once_init_leave(&tls_index_once, 1);
    }

    t->ctx = SSL_CTX_new(dtls ? DTLS_client_method() : TLS_client_method());
    SSL_CTX_set_min_proto_version(t->ctx, dtls ? DTLS1_2_VERSION : TLS1_2_VERSION);
    SSL_CTX_set_default_verify_paths(t->ctx);
    if (cfg->ca_file)
        SSL_CTX_load_verify_locations(t->ctx, cfg->ca_file, NULL);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, verify_cb);
    /* OpenSSL 3 ignores SSLKEYLOGFILE; the callback is the way to the key log. */
    SSL_CTX_set_keylog_callback(t->ctx, keylog_cb);
    SSL_CTX_set_info_callback(t->ctx, info_cb);
    t->ssl = SSL_new(t->ctx);
    SSL_set_ex_data(t->ssl, tls_index, t);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(t->rbio, -1);
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    if (dtls) {
        SSL_set_options(t->ssl, SSL_OP_NO_QUERY_MTU);
        DTLS_set_link_mtu(t->ssl, 1400);
    }
    const char *host = cfg->uri.host;
    /* RFC 6066: no SNI for address literals. */
    if (!cfg->uri.host_is_ip)
        SSL_set_tlsext_host_name(t->ssl, host);
    X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
    if (cfg->uri.host_is_ip)
        X509_VERIFY_PARAM_set1_ip_asc(vp, host);
    else
        X509_VERIFY_PARAM_set1_host(vp, host, 0);
    /* RFC 7443: ALPN "stun.turn" for TURN, "stun.nat-discovery" for STUN. */
    static const unsigned char alpn_turn[] = "\x09stun.turn";
    static const unsigned char alpn_stun[] = "\x12stun.nat-discovery";
    if (cfg->uri.turn)
        SSL_set_alpn_protos(t->ssl, alpn_turn, sizeof(alpn_turn) - 1);
    else
        SSL_set_alpn_protos(t->ssl, alpn_stun, sizeof(alpn_stun) - 1);
    SSL_set_connect_state(t->ssl);

    gint64 t0 = g_get_monotonic_time();
    struct hs_wait w = {FALSE};
    GSource *src = g_socket_create_source(c->sock, G_IO_IN | G_IO_ERR | G_IO_HUP, NULL);
    g_source_set_callback(src, G_SOURCE_FUNC(on_hs_readable), &w, NULL);
    g_source_attach(src, ctx->mc);
    gboolean eof = FALSE, plain = FALSE, done = FALSE, timeout = FALSE;
    unsigned long ssl_err = 0;
    for (;;) {
        ERR_clear_error();
        int rc = SSL_do_handshake(t->ssl);
        if (!flush_handshake(c))
            break;
        if (rc == 1) {
            done = TRUE;
            break;
        }
        int e = SSL_get_error(t->ssl, rc);
        if (e != SSL_ERROR_WANT_READ) {
            ssl_err = ERR_peek_error();
            break;
        }
        /* Wait for the server, with DTLS's own retransmission timer inside the deadline. */
        gint64 until = G_MAXINT64;
        struct timeval tv;
        if (dtls && DTLSv1_get_timeout(t->ssl, &tv))
            until = g_get_monotonic_time() + tv.tv_sec * G_USEC_PER_SEC + tv.tv_usec;
        w.readable = FALSE;
        if (!chk_wait(ctx, hs_ready, &w, until)) {
            if (chk_expired(ctx)) {
                timeout = TRUE;
                break;
            }
            if (dtls && DTLSv1_handle_timeout(t->ssl) > 0 && !flush_handshake(c))
                break;
            continue;
        }
        if (!read_handshake(c, &eof, &plain))
            break;
    }
    g_source_destroy(src);
    g_source_unref(src);
    double ms = (double)(g_get_monotonic_time() - t0) / 1000.0;

    struct rpt_session *s = ctx->s;
    struct rpt_step *st = report ? rpt_step_find(s, "tls") : NULL;
    if (report && !st)
        st = rpt_step_add(s, "tls");
    if (!done) {
        if (st) {
            GString *sum = g_string_new(NULL);
            const char *diag = "tls-handshake-failed";
            if (plain) {
                char *u = plain_uri(cfg, dtls);
                g_string_append_printf(sum,
                                       "the server answered plain STUN: turns: was given for "
                                       "a port that speaks plain TURN (use %s)",
                                       u);
                g_free(u);
            } else if (t->alert[0]) {
                g_string_append_printf(sum, "the server refused the handshake with the alert "
                                            "\"%s\"", t->alert);
            } else if (eof || c->reset) {
                g_string_append(sum, "the server closed the connection after our ClientHello: it "
                                     "does not speak TLS on this port, or refuses our TLS "
                                     "versions and ciphers");
            } else if (c->refused) {
                diag = "port-unreachable";
                g_string_append(sum, "nothing listens on this UDP port (ICMP port unreachable)");
            } else if (timeout) {
                /* Silence does not tell a firewall from a plain TURN port: coturn without TLS
                 * takes a ClientHello for the start of a STUN message and waits for the rest,
                 * and ignores a DTLS one. Name both, or the hint sends everyone to the
                 * firewall. */
                char *u = plain_uri(cfg, dtls);
                diag = dtls ? "no-response" : "tls-handshake-failed";
                g_string_append_printf(sum,
                                       "no answer to our ClientHello before the deadline: "
                                       "something drops it, or the port speaks plain TURN, "
                                       "not %s (then the URI is %s)",
                                       dtls ? "DTLS" : "TLS", u);
                g_free(u);
            } else {
                char eb[256] = "";
                if (ssl_err)
                    ERR_error_string_n(ssl_err, eb, sizeof(eb));
                g_string_append_printf(sum, "the handshake failed: %s", eb[0] ? eb : "unknown");
            }
            st->duration_ms = ms;
            chk_step_packets(ctx->r, st);
            chk_verdict(s, st, RPT_FAIL, diag, sum->str, NULL);
            g_string_free(sum, TRUE);
        }
        return c->refused ? ECONNREFUSED : EPROTO;
    }

    /* The handshake completed: what was negotiated, and what the certificate says. */
    if (st) {
        st->duration_ms = ms;
        json_object_set_string_member(st->details, "version", SSL_get_version(t->ssl));
        json_object_set_string_member(st->details, "cipher", SSL_get_cipher_name(t->ssl));
        const unsigned char *alpn = NULL;
        unsigned int alen = 0;
        SSL_get0_alpn_selected(t->ssl, &alpn, &alen);
        char *a = alen ? g_strndup((const char *)alpn, alen) : g_strdup("none (not negotiated)");
        json_object_set_string_member(st->details, "alpn", a);
        g_free(a);
        json_object_set_string_member(st->details, "sni",
                                      cfg->uri.host_is_ip ? "(none: address literal)" : host);
        json_object_set_double_member(st->details, "handshake_ms", ms);
        X509 *leaf = SSL_get1_peer_certificate(t->ssl);
        STACK_OF(X509) *chain = SSL_get_peer_cert_chain(t->ssl);
        JsonArray *certs = json_array_new();
        int days_left = 0;
        for (int i = 0; chain && i < sk_X509_num(chain); i++)
            json_array_add_object_element(certs, cert_details(sk_X509_value(chain, i),
                                                              i == 0 ? &days_left : NULL));
        json_object_set_array_member(st->details, "chain", certs);
        const char *diag;
        GString *sum = g_string_new(NULL);
        judge_certificate(c, st, host, leaf, days_left, &diag, sum);
        chk_step_packets(ctx->r, st);
        char *head = g_strdup_printf("%s, %s, ALPN %s, %.1f ms", SSL_get_version(t->ssl),
                                     SSL_get_cipher_name(t->ssl),
                                     alen ? "stun.turn" : "not negotiated", ms);
        if (strcmp(diag, "ok") == 0) {
            char *full = g_strdup_printf("%s; certificate valid for %d more days", head, days_left);
            chk_verdict(s, st, RPT_PASS, "ok", full, NULL);
            g_free(full);
        } else {
            gboolean warn_only = strcmp(diag, "tls-cert-expiring-soon") == 0;
            char *full = g_strdup_printf("%s%s", sum->str,
                                         !warn_only && cfg->insecure
                                             ? " (--insecure: going on anyway)" : "");
            chk_verdict(s, st, warn_only ? RPT_WARN : RPT_FAIL, diag, full, NULL);
            g_free(full);
        }
        g_free(head);
        g_string_free(sum, TRUE);
        X509_free(leaf);
        if (strcmp(diag, "ok") != 0 && strcmp(diag, "tls-cert-expiring-soon") != 0 &&
            !cfg->insecure)
            return EPERM; /* no credentials over a tunnel we cannot trust */
    } else if (t->nverify > 0 && !cfg->insecure) {
        return EPERM;
    }
    return 0;
}

GBytes *chk_tls_encrypt(struct chk_conn *c, const uint8_t *p, size_t len)
{
    struct chk_tls *t = c->tls;
    if (SSL_write(t->ssl, p, (int)len) != (int)len)
        return NULL;
    return take_output(t);
}

/* Plaintext from one record (or datagram): the messages it held, recorded as one packet. */
static void deliver_plain(struct chk_conn *c, const uint8_t *wire, size_t wlen)
{
    struct chk_tls *t = c->tls;
    uint8_t plain[16384 + 64];
    GByteArray *msgs = g_byte_array_new();
    int n;
    while ((n = SSL_read(t->ssl, plain, sizeof(plain))) > 0)
        g_byte_array_append(msgs, plain, (guint)n);
    /* Handshake bytes the server sends after the handshake (TLS 1.3 tickets) need no answer,
     * but anything OpenSSL queued must still go out. */
    if (BIO_ctrl_pending(t->wbio) > 0)
        flush_handshake(c);
    if (msgs->len == 0) {
        struct rpt_packet *pk = chk_conn_record(c, RPT_PKT_TLS, RPT_IN, wire, wlen);
        if (t->alert[0]) {
            char *note = g_strdup_printf("the server sent the alert \"%s\"", t->alert);
            rpt_packet_annotate(pk, NULL, NULL, note);
            g_free(note);
        }
        g_byte_array_unref(msgs);
        return;
    }
    /* One record usually carries one message: then the packet is that message, with the
     * record as what the wire saw. Otherwise the packet is the record, and each message
     * inside is delivered with its number. */
    if (chk_is_stream(c->tp)) {
        sl_framer_feed(c->framer, msgs->data, msgs->len);
        struct sl_frame fr;
        GPtrArray *frames = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
        int rc;
        while ((rc = sl_framer_next(c->framer, &fr)) == SL_OK)
            g_ptr_array_add(frames, g_bytes_new(fr.p, fr.wire_len));
        if (frames->len == 0) {
            /* Part of a message that continues in the next record. */
            struct rpt_packet *pk = chk_conn_record(c, RPT_PKT_TLS, RPT_IN, wire, wlen);
            (void)pk;
        }
        /* One packet per message, so judges and reports see each one. A record holding
         * several messages is cut into as many TCP segments (the capture's segmentation is
         * ours to choose; Wireshark reassembles the record and decrypts it whole). */
        size_t total = 0, off = 0;
        for (guint i = 0; i < frames->len; i++)
            total += g_bytes_get_size(g_ptr_array_index(frames, i));
        for (guint i = 0; i < frames->len; i++) {
            gsize fl;
            const uint8_t *fp = g_bytes_get_data(g_ptr_array_index(frames, i), &fl);
            size_t chunk = i + 1 == frames->len ? wlen - off : wlen * fl / MAX(total, 1);
            enum rpt_kind k = (fp[0] & 0xC0) == 0x40 ? RPT_PKT_CHANNELDATA : RPT_PKT_STUN;
            struct rpt_packet *pk = chk_conn_record(c, k, RPT_IN, fp, fl);
            pk->wire = g_bytes_new(wire + off, chunk);
            off += chunk;
            chk_conn_notify(c, fp, fl, pk->n);
            if (c->state != CHK_CONN_OPEN)
                break;
        }
        if (rc == SL_EFRAME)
            c->garbage = TRUE;
        g_ptr_array_unref(frames);
    } else {
        enum rpt_kind k = (msgs->data[0] & 0xC0) == 0x40 ? RPT_PKT_CHANNELDATA : RPT_PKT_STUN;
        struct rpt_packet *pk = chk_conn_record(c, k, RPT_IN, msgs->data, msgs->len);
        pk->wire = g_bytes_new(wire, wlen);
        chk_conn_notify(c, msgs->data, msgs->len, pk->n);
    }
    g_byte_array_unref(msgs);
}

void chk_tls_receive(struct chk_conn *c, const uint8_t *p, size_t len)
{
    struct chk_tls *t = c->tls;
    if (!chk_is_stream(c->tp)) {
        BIO_write(t->rbio, p, (int)len);
        deliver_plain(c, p, len);
        return;
    }
    /* TLS over TCP: cut the byte stream into whole records first. */
    g_byte_array_append(t->rx, p, (guint)len);
    while (t->rx->len >= 5) {
        size_t rlen = 5 + ((size_t)t->rx->data[3] << 8 | t->rx->data[4]);
        if (t->rx->len < rlen)
            break;
        BIO_write(t->rbio, t->rx->data, (int)rlen);
        deliver_plain(c, t->rx->data, rlen);
        g_byte_array_remove_range(t->rx, 0, (guint)rlen);
        if (c->state != CHK_CONN_OPEN)
            return;
    }
    if (t->rx->len > 20000)
        g_byte_array_set_size(t->rx, 0); /* no TLS record is this long: out of step */
}

void chk_tls_free(struct chk_tls *t)
{
    if (!t)
        return;
    SSL_free(t->ssl); /* frees the BIOs */
    SSL_CTX_free(t->ctx);
    g_byte_array_unref(t->rx);
    g_free(t);
}
