/* The HTML writer: well-formed, every step and frame anchored, self-contained, escaped. */
#include <glib/gstdio.h>
#include <string.h>

#include "rpt_fixture.h"
#include "rpt_html.h"
#include "sl_auth.h"
#include "sl_chan.h"
#include "sl_msg.h"
#include "sl_names.h"

#define HOSTILE         "<script>alert(1)</script>"
#define HOSTILE_ESCAPED "&lt;script&gt;alert(1)&lt;/script&gt;"
#define T0              1795262400000000LL /* 2026-11-21 12:00:00 UTC, as the fixtures */

/* ---- A busy model: three sessions, a peer column, 300+ packets, TLS details --------------- */
struct bz {
    struct rpt_result *r;
    struct rpt_session *s;
    guint si;
    gint64 t;
    enum rpt_transport tp;
    struct sl_addr client, peer, policy, server;
    guint8 seed;
};

static struct rpt_packet *bz_packet(struct bz *b, enum rpt_kind kind, enum rpt_dir dir,
                                    const char *endpoint, const void *payload, size_t len,
                                    const char *step, const char *verdict, const char *note)
{
    const struct sl_addr *ours = g_strcmp0(endpoint, "peer") == 0     ? &b->peer
                                 : g_strcmp0(endpoint, "policy") == 0 ? &b->policy
                                                                      : &b->client;
    struct rpt_packet *p =
        rpt_packet_add(b->r, kind, dir, b->tp, dir == RPT_OUT ? ours : &b->server,
                       dir == RPT_OUT ? &b->server : ours, b->t, payload, len);
    p->session = b->si;
    p->endpoint = g_strdup(endpoint);
    rpt_packet_annotate(p, step, verdict, note);
    b->t += kind == RPT_PKT_CHANNELDATA ? 150 : 450;
    struct rpt_step *st = rpt_step_find(b->s, step);
    if (st)
        g_array_append_val(st->packets, p->n);
    return p;
}

/* One STUN message: a request, indication or response, an error code, an optional peer
 * address; its summary as the probe writes it. */
static guint bz_stun(struct bz *b, const char *endpoint, enum rpt_dir dir, uint16_t method,
                     enum sl_class cls, int code, const struct sl_addr *peer, const char *step,
                     const char *verdict, const char *note)
{
    uint8_t buf[256], tid[12];
    for (int i = 0; i < 12; i++)
        tid[i] = (uint8_t)(b->seed * 31 + i);
    if (cls == SL_REQUEST || cls == SL_INDICATION)
        b->seed++;
    struct sl_enc e;
    sl_enc_init(&e, buf, sizeof(buf), method, cls, tid);
    if (peer)
        sl_enc_addr(&e, SL_ATTR_XOR_PEER_ADDRESS, peer);
    if (method == SL_SEND || method == SL_DATA)
        sl_enc_attr(&e, SL_ATTR_DATA, "hello", 5);
    if (code)
        sl_enc_error(&e, code, sl_error_info(code) ? sl_error_info(code)->reason : "Error");
    sl_enc_fingerprint(&e);
    size_t len = 0;
    g_assert_cmpint(sl_enc_finish(&e, &len), ==, SL_OK);
    struct rpt_packet *p = bz_packet(b, RPT_PKT_STUN, dir, endpoint, buf, len, step, verdict, note);
    char desc[96];
    sl_type_describe(sl_msg_type(method, cls), desc, sizeof(desc));
    p->summary = code ? g_strdup_printf("%s %d", desc, code) : g_strdup(desc);
    return p->n;
}

static guint bz_chan(struct bz *b, const char *endpoint, enum rpt_dir dir, uint16_t channel)
{
    uint8_t buf[64];
    size_t len = 0;
    g_assert_cmpint(sl_chan_encode(buf, sizeof(buf), channel, (const uint8_t *)"ping-pong", 9,
                                   b->tp != RPT_UDP, &len),
                    ==, SL_OK);
    struct rpt_packet *p = bz_packet(b, RPT_PKT_CHANNELDATA, dir, endpoint, buf, len, "channel",
                                     "ok", "relayed payload");
    p->summary = g_strdup_printf("ChannelData 0x%04x, 9 bytes", channel);
    return p->n;
}

static struct rpt_step *bz_step(struct bz *b, const char *id, enum rpt_status st, const char *diag,
                                const char *summary, double ms)
{
    struct rpt_step *s = rpt_step_add(b->s, id);
    rpt_step_set(s, st, diag, summary, NULL);
    s->duration_ms = ms;
    return s;
}

static void bz_session(struct bz *b, const char *uri, const char *host, guint16 port,
                       enum rpt_transport tp)
{
    b->s = rpt_session_add(b->r, uri);
    b->si = b->r->sessions->len - 1;
    b->tp = tp;
    b->s->target.uri = g_strdup(uri);
    b->s->target.host = g_strdup(host);
    b->s->target.port = port;
    b->s->target.transport = g_strdup(rpt_transport_name(tp));
    b->s->target.username = g_strdup("1795348800:alice");
    b->s->target.password_info = g_strdup("TURN REST, from --secret-file");
    char addr[64];
    g_snprintf(addr, sizeof(addr), "%s:%u", host, port);
    b->s->target.address = g_strdup(addr);
    sl_addr_parse(&b->server, addr, -1);
}

/* Session 1 passes over UDP with a peer (our second allocation): relayed data crosses the
 * server both ways, 300 ChannelData records, and a permissive policy (a warning). */
static void bz_relay_session(struct bz *b)
{
    struct sl_addr relay, peer_relay, meta;
    bz_session(b, "turn:203.0.113.10:3478", "203.0.113.10", 3478, RPT_UDP);
    sl_addr_parse(&b->client, "192.0.2.50:50000", -1);
    sl_addr_parse(&b->peer, "192.0.2.50:50002", -1);
    sl_addr_parse(&b->policy, "192.0.2.50:50004", -1);
    sl_addr_parse(&relay, "203.0.113.10:49160", -1);
    sl_addr_parse(&peer_relay, "203.0.113.10:49161", -1);
    sl_addr_parse(&meta, "169.254.169.254:80", -1);
    json_object_set_string_member(b->s->facts, "local", "192.0.2.50:50000");
    json_object_set_string_member(b->s->facts, "mapped", "198.51.100.20:61000");
    json_object_set_string_member(b->s->facts, "relayed", "203.0.113.10:49160");
    json_object_set_string_member(b->s->facts, "software", "Coturn-4.6.2 'Gorst'");
    json_object_set_string_member(b->s->facts, "peer_relayed", "203.0.113.10:49161");

    bz_step(b, "settings", RPT_PASS, "ok", "turn:203.0.113.10:3478, REST user", 0.1);
    bz_step(b, "dns", RPT_PASS, "ok", "203.0.113.10 is an address literal", 0);
    bz_step(b, "tls", RPT_SKIP, "ok", "not a turns: URI", 0);
    bz_step(b, "binding", RPT_PASS, "ok", "mapped 198.51.100.20:61000", 0.9);
    bz_stun(b, "client", RPT_OUT, SL_BINDING, SL_REQUEST, 0, NULL, "binding", "ok", NULL);
    bz_stun(b, "client", RPT_IN, SL_BINDING, SL_SUCCESS, 0, NULL, "binding", "ok",
            "mapped address 198.51.100.20:61000 (behind NAT)");
    struct rpt_step *st =
        bz_step(b, "allocate", RPT_PASS, "ok", "relayed 203.0.113.10:49160 and :49161", 3.2);
    json_object_set_string_member(st->details, "relayed", "203.0.113.10:49160");
    json_object_set_int_member(st->details, "lifetime", 600);
    json_object_set_string_member(st->details, "realm", "example.org");
    const char *eps[] = {"client", "peer"};
    for (int i = 0; i < 2; i++) {
        bz_stun(b, eps[i], RPT_OUT, SL_ALLOCATE, SL_REQUEST, 0, NULL, "allocate", "ok",
                "without credentials");
        bz_stun(b, eps[i], RPT_IN, SL_ALLOCATE, SL_ERROR, 401, NULL, "allocate", "ok",
                "expected challenge (realm \"example.org\")");
        bz_stun(b, eps[i], RPT_OUT, SL_ALLOCATE, SL_REQUEST, 0, NULL, "allocate", "ok",
                "with MESSAGE-INTEGRITY");
        bz_stun(b, eps[i], RPT_IN, SL_ALLOCATE, SL_SUCCESS, 0, NULL, "allocate", "ok",
                i ? "peer relay 203.0.113.10:49161" : "relay 203.0.113.10:49160");
    }
    bz_step(b, "permission", RPT_PASS, "ok", "both sides permit each other", 1.1);
    bz_stun(b, "client", RPT_OUT, SL_CREATE_PERMISSION, SL_REQUEST, 0, &peer_relay, "permission",
            "ok", "for the peer's relay");
    bz_stun(b, "client", RPT_IN, SL_CREATE_PERMISSION, SL_SUCCESS, 0, NULL, "permission", "ok",
            NULL);
    bz_stun(b, "peer", RPT_OUT, SL_CREATE_PERMISSION, SL_REQUEST, 0, &relay, "permission", "ok",
            "for our relay");
    bz_stun(b, "peer", RPT_IN, SL_CREATE_PERMISSION, SL_SUCCESS, 0, NULL, "permission", "ok", NULL);
    bz_step(b, "send-data", RPT_PASS, "ok", "payload round-tripped both ways", 1.9);
    bz_stun(b, "client", RPT_OUT, SL_SEND, SL_INDICATION, 0, &peer_relay, "send-data", "ok",
            "to the peer through the relay");
    bz_stun(b, "peer", RPT_IN, SL_DATA, SL_INDICATION, 0, &relay, "send-data", "ok",
            "arrived at the peer: the relay forwards");
    bz_stun(b, "peer", RPT_OUT, SL_SEND, SL_INDICATION, 0, &relay, "send-data", "ok", "echo");
    bz_stun(b, "client", RPT_IN, SL_DATA, SL_INDICATION, 0, &peer_relay, "send-data", "ok",
            "echo came back");
    bz_step(b, "channel", RPT_PASS, "ok", "ChannelData round-trips (300 records)", 46.0);
    bz_stun(b, "client", RPT_OUT, SL_CHANNEL_BIND, SL_REQUEST, 0, &peer_relay, "channel", "ok",
            "channel 0x4000");
    bz_stun(b, "client", RPT_IN, SL_CHANNEL_BIND, SL_SUCCESS, 0, NULL, "channel", "ok", NULL);
    for (int i = 0; i < 75; i++) {
        bz_chan(b, "client", RPT_OUT, 0x4000);
        bz_chan(b, "peer", RPT_IN, 0x4001);
        bz_chan(b, "peer", RPT_OUT, 0x4001);
        bz_chan(b, "client", RPT_IN, 0x4000);
    }
    bz_step(b, "ice", RPT_SKIP, "ok", "skipped (--skip ice)", 0);
    bz_step(b, "refresh", RPT_PASS, "ok", "refreshed (600 s) and deallocated", 0.8);
    bz_stun(b, "client", RPT_OUT, SL_REFRESH, SL_REQUEST, 0, NULL, "refresh", "ok", "lifetime 0");
    bz_stun(b, "client", RPT_IN, SL_REFRESH, SL_SUCCESS, 0, NULL, "refresh", "ok", NULL);
    st = bz_step(b, "policy", RPT_WARN, "peer-policy-permissive",
                 "169.254.169.254 (cloud metadata) was permitted", 2.4);
    const char *peers[] = {"127.0.0.1:80", "10.0.0.1:80", "192.168.1.1:80"};
    for (size_t i = 0; i < G_N_ELEMENTS(peers); i++) {
        struct sl_addr pa;
        sl_addr_parse(&pa, peers[i], -1);
        bz_stun(b, "policy", RPT_OUT, SL_CREATE_PERMISSION, SL_REQUEST, 0, &pa, "policy", "ok",
                peers[i]);
        bz_stun(b, "policy", RPT_IN, SL_CREATE_PERMISSION, SL_ERROR, 403, NULL, "policy", "ok",
                "refused, as it should be");
    }
    bz_stun(b, "policy", RPT_OUT, SL_CREATE_PERMISSION, SL_REQUEST, 0, &meta, "policy", "ok",
            "169.254.169.254:80 (cloud metadata)");
    bz_stun(b, "policy", RPT_IN, SL_CREATE_PERMISSION, SL_SUCCESS, 0, NULL, "policy",
            "peer-policy-permissive", "permitted: the relay reaches the metadata service");
    rpt_finding_add(b->s, "peer-policy-permissive", RPT_SEV_WARN, "policy",
                    "CreatePermission to 169.254.169.254 succeeded.",
                    rpt_diag_find("peer-policy-permissive")->hint);
}

/* Session 2 fails over TLS on 443: the certificate is shown, then Allocate gets no answer. */
static void bz_tls_session(struct bz *b)
{
    bz_session(b, "turns:turn.example.com:443?transport=tcp", "198.51.100.7", 443, RPT_TLS);
    g_free(b->s->target.host);
    b->s->target.host = g_strdup("turn.example.com");
    sl_addr_parse(&b->client, "192.0.2.50:50010", -1);
    json_object_set_string_member(b->s->facts, "local", "192.0.2.50:50010");
    bz_step(b, "settings", RPT_PASS, "ok", "turns:turn.example.com:443", 0.1);
    bz_step(b, "dns", RPT_PASS, "ok", "turn.example.com has 1 address: 198.51.100.7", 4.2);
    struct rpt_step *st =
        bz_step(b, "tls", RPT_PASS, "ok", "TLSv1.3, certificate valid for turn.example.com", 6.5);
    JsonObject *d = st->details;
    json_object_set_string_member(d, "version", "TLSv1.3");
    json_object_set_string_member(d, "cipher", "TLS_AES_256_GCM_SHA384");
    json_object_set_string_member(d, "alpn", "stun.turn");
    json_object_set_string_member(d, "subject", "CN=turn.example.com");
    json_object_set_string_member(d, "issuer", "CN=R11, O=Let's Encrypt, C=US");
    JsonArray *sans = json_array_new();
    json_array_add_string_element(sans, "turn.example.com");
    json_array_add_string_element(sans, "turn2.example.com");
    json_object_set_array_member(d, "san", sans);
    json_object_set_string_member(d, "not_before", "2026-10-01T00:00:00Z");
    json_object_set_string_member(d, "not_after", "2026-12-30T00:00:00Z");
    json_object_set_int_member(d, "days_left", 39);
    json_object_set_boolean_member(d, "verified", TRUE);
    const enum rpt_kind hs[] = {RPT_PKT_TCP_SYN, RPT_PKT_TCP_SYNACK, RPT_PKT_TCP_ACK};
    for (int i = 0; i < 3; i++)
        bz_packet(b, hs[i], i == 1 ? RPT_IN : RPT_OUT, "client", NULL, 0, "tls", "ok",
                  i == 0 ? "TCP connection to 198.51.100.7:443" : NULL);
    static const uint8_t hello[] = {22, 3, 1, 0, 8, 1, 0, 0, 4, 3, 3, 0, 0};
    static const uint8_t shello[] = {22, 3, 3, 0, 8, 2, 0, 0, 4, 3, 3, 0, 0};
    static const uint8_t appdata[] = {23, 3, 3, 0, 4, 0xde, 0xad, 0xbe, 0xef};
    bz_packet(b, RPT_PKT_TLS, RPT_OUT, "client", hello, sizeof(hello), "tls", "ok",
              "SNI turn.example.com, ALPN stun.turn");
    bz_packet(b, RPT_PKT_TLS, RPT_IN, "client", shello, sizeof(shello), "tls", "ok", NULL);
    bz_packet(b, RPT_PKT_TLS, RPT_OUT, "client", appdata, sizeof(appdata), "tls", "ok",
              "handshake finished");
    bz_step(b, "binding", RPT_PASS, "ok", "mapped 198.51.100.20:61010", 1.4);
    struct rpt_packet *p = bz_packet(b, RPT_PKT_TLS, RPT_OUT, "client", appdata, sizeof(appdata),
                                     "binding", "ok", NULL);
    p->summary = g_strdup("TLS data: Binding request");
    p = bz_packet(b, RPT_PKT_TLS, RPT_IN, "client", appdata, sizeof(appdata), "binding", "ok",
                  NULL);
    p->summary = g_strdup("TLS data: Binding success response");
    bz_step(b, "allocate", RPT_FAIL, "no-response", "Allocate got no answer within 5 s", 5000);
    p = bz_packet(b, RPT_PKT_TLS, RPT_OUT, "client", appdata, sizeof(appdata), "allocate", NULL,
                  "without credentials");
    p->summary = g_strdup("TLS data: Allocate request");
    uint8_t tid[12] = {9};
    struct rpt_txn *t = rpt_txn_add(b->s, "allocate", "client", SL_ALLOCATE, tid);
    g_array_append_val(t->req_pkts, p->n);
    t->outcome = RPT_TXN_TIMEOUT;
    b->t += 5000000;
    bz_packet(b, RPT_PKT_TCP_RST, RPT_IN, "client", NULL, 0, "allocate", "no-response",
              "the server reset the connection after 5 s of silence");
    rpt_finding_add(b->s, "no-response", RPT_SEV_FAIL, "allocate",
                    "The server accepted TLS and answered Binding, but never answered Allocate.",
                    NULL);
    const char *rest[] = {"permission", "send-data", "channel", "ice", "refresh", "policy"};
    for (size_t i = 0; i < G_N_ELEMENTS(rest); i++)
        bz_step(b, rest[i], RPT_SKIP, "ok", "skipped: needs an allocation", 0);
}

/* Session 3 fails on UDP 3479: three retransmissions, then ICMP port unreachable. */
static void bz_icmp_session(struct bz *b)
{
    bz_session(b, "turn:198.51.100.7:3479", "198.51.100.7", 3479, RPT_UDP);
    sl_addr_parse(&b->client, "192.0.2.50:50020", -1);
    bz_step(b, "settings", RPT_PASS, "ok", "turn:198.51.100.7:3479", 0.1);
    bz_step(b, "binding", RPT_FAIL, "port-unreachable", "ICMP port unreachable from the server",
            1500);
    uint8_t tid[12] = {7};
    struct rpt_txn *t = rpt_txn_add(b->s, "binding", "client", SL_BINDING, tid);
    for (int i = 0; i < 4; i++) {
        b->seed = 200; /* the same transaction id: these are retransmissions */
        guint n =
            bz_stun(b, "client", RPT_OUT, SL_BINDING, SL_REQUEST, 0, NULL, "binding", NULL, NULL);
        g_array_append_val(t->req_pkts, n);
        b->t += 100000 << i;
    }
    t->outcome = RPT_TXN_UNREACH;
    struct rpt_packet *p = bz_packet(b, RPT_PKT_ICMP_UNREACH, RPT_IN, "client", NULL, 0, "binding",
                                     "port-unreachable", "nothing listens on 3479");
    p->icmp_type = 3;
    p->icmp_code = 3;
    p->ref = g_array_index(t->req_pkts, guint, 3);
    p->summary = g_strdup("ICMP destination unreachable (port unreachable)");
    rpt_finding_add(b->s, "port-unreachable", RPT_SEV_FAIL, "binding",
                    "198.51.100.7 answered ICMP port unreachable: no TURN server on UDP 3479.",
                    NULL);
}

static struct rpt_result *busy_model(void)
{
    struct bz b = {0};
    b.r = rpt_result_new("check", "0.1.0");
    b.r->start_us = T0;
    b.t = T0 + 1000;
    bz_relay_session(&b);
    bz_tls_session(&b);
    bz_icmp_session(&b);
    b.r->duration_ms = (double)(b.t - T0) / 1000;
    return b.r;
}

/* The failing fixture with every string a server or a capture could supply made hostile. */
static struct rpt_result *hostile_model(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    struct rpt_session *s = g_ptr_array_index(r->sessions, 0);
    const char *attr_breaker = "\" onmouseover=\"alert(2)\" x='<img src=x onerror=alert(3)>";
    json_object_set_string_member(s->facts, "software",
                                  HOSTILE "\xe2\x80\xae"
                                          "evil\x01\xff");
    json_object_set_string_member(s->facts, HOSTILE, attr_breaker);
    struct rpt_step *st = rpt_step_find(s, "allocate");
    json_object_set_string_member(st->details, "realm", HOSTILE);
    g_free(st->summary);
    st->summary = g_strdup("realm \"" HOSTILE "\"");
    g_free(s->target.username);
    s->target.username = g_strdup(attr_breaker);
    g_free(s->name);
    s->name = g_strdup(HOSTILE);
    struct rpt_finding *f = g_ptr_array_index(s->findings, 0);
    g_free(f->message);
    f->message = g_strdup("The realm is " HOSTILE);
    st = rpt_step_add(s, HOSTILE);
    rpt_step_set(st, RPT_FAIL, HOSTILE, HOSTILE, attr_breaker);
    for (guint i = 0; i < r->packets->len; i++) {
        struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        rpt_packet_annotate(p, NULL, NULL, "REALM " HOSTILE);
    }
    struct rpt_packet *p = g_ptr_array_index(r->packets, 0);
    g_free(p->summary);
    p->summary = g_strdup(HOSTILE);
    g_free(p->endpoint);
    p->endpoint = g_strdup(attr_breaker);
    rpt_packet_annotate(p, HOSTILE, HOSTILE, NULL);
    g_ptr_array_add(r->inputs, g_strdup("capture-" HOSTILE ".pcapng"));
    g_free(r->version);
    r->version = g_strdup(HOSTILE);
    return r;
}

/* ---- A real parse of the document with GMarkup ------------------------------------------- */
struct doc {
    GHashTable *ids;      /* id -> 1 */
    GPtrArray *hrefs;     /* char* of every href */
    GHashTable *elements; /* element name -> count */
    GString *text;        /* all character data, unescaped */
    GString *style;       /* the text of <style> elements and style attributes */
    GPtrArray *problems;  /* what the document must not do */
};

static void on_start(GMarkupParseContext *ctx, const char *name, const char **an, const char **av,
                     gpointer data, GError **err)
{
    (void)ctx;
    (void)err;
    struct doc *d = data;
    g_hash_table_replace(
        d->elements, g_strdup(name),
        GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(d->elements, name)) + 1));
    for (int i = 0; an[i]; i++) {
        if (strcmp(an[i], "id") == 0) {
            if (g_hash_table_contains(d->ids, av[i]))
                g_ptr_array_add(d->problems, g_strdup_printf("duplicate id %s", av[i]));
            g_hash_table_add(d->ids, g_strdup(av[i]));
        }
        if (g_ascii_strncasecmp(an[i], "on", 2) == 0)
            g_ptr_array_add(d->problems, g_strdup_printf("event handler %s", an[i]));
        if (strcmp(an[i], "style") == 0) {
            g_string_append(d->style, av[i]);
            g_string_append_c(d->style, '\n');
        }
        static const char *const url_attrs[] = {
            "href", "xlink:href", "src",  "srcset",   "action", "formaction", "poster",
            "data", "background", "cite", "longdesc", "ping",   "manifest"};
        for (size_t k = 0; k < G_N_ELEMENTS(url_attrs); k++) {
            if (g_ascii_strcasecmp(an[i], url_attrs[k]) != 0)
                continue;
            if (strcmp(an[i], "href") == 0)
                g_ptr_array_add(d->hrefs, g_strdup(av[i]));
            /* Only fragment links: anything else would fetch or leave the file. */
            if (av[i][0] != '#')
                g_ptr_array_add(d->problems, g_strdup_printf("%s=\"%s\"", an[i], av[i]));
        }
    }
    static const char *const banned[] = {"script", "iframe", "object", "embed",       "link",
                                         "img",    "base",   "form",   "meta-refresh"};
    for (size_t k = 0; k < G_N_ELEMENTS(banned); k++)
        if (g_ascii_strcasecmp(name, banned[k]) == 0)
            g_ptr_array_add(d->problems, g_strdup_printf("element <%s>", name));
}

static void on_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer data,
                    GError **err)
{
    (void)err;
    struct doc *d = data;
    g_string_append_len(d->text, text, (gssize)len);
    g_string_append_c(d->text, '\n');
    const char *el = g_markup_parse_context_get_element(ctx);
    if (el && strcmp(el, "style") == 0)
        g_string_append_len(d->style, text, (gssize)len);
}

static void doc_parse(struct doc *d, const char *html)
{
    static const GMarkupParser parser = {on_start, NULL, on_text, NULL, NULL};
    d->ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    d->hrefs = g_ptr_array_new_with_free_func(g_free);
    d->elements = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    d->text = g_string_new(NULL);
    d->style = g_string_new(NULL);
    d->problems = g_ptr_array_new_with_free_func(g_free);
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, d, NULL);
    GError *err = NULL;
    gboolean ok = g_markup_parse_context_parse(ctx, html, -1, &err) &&
                  g_markup_parse_context_end_parse(ctx, &err);
    if (!ok) {
        gint line = 0, col = 0;
        g_markup_parse_context_get_position(ctx, &line, &col);
        gchar **lines = g_strsplit(html, "\n", -1);
        guint nl = g_strv_length(lines);
        g_printerr("parse error at %d:%d: %s\n%s\n", line, col, err->message,
                   line > 0 && (guint)line <= nl ? lines[line - 1] : "");
        g_strfreev(lines);
    }
    g_assert_no_error(err);
    g_assert_true(ok);
    g_markup_parse_context_free(ctx);
    /* The one root, and the document's own structure. */
    g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(d->elements, "html")), ==, 1);
    g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(d->elements, "body")), ==, 1);
    g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(d->elements, "style")), ==, 1);
}

static void doc_clear(struct doc *d)
{
    g_hash_table_unref(d->ids);
    g_ptr_array_unref(d->hrefs);
    g_hash_table_unref(d->elements);
    g_string_free(d->text, TRUE);
    g_string_free(d->style, TRUE);
    g_ptr_array_unref(d->problems);
}

/* Nothing fetched from anywhere, every link lands on an element of the page. */
static void assert_self_contained(const struct doc *d, const char *html)
{
    for (guint i = 0; i < d->problems->len; i++)
        g_printerr("problem: %s\n", (char *)g_ptr_array_index(d->problems, i));
    g_assert_cmpuint(d->problems->len, ==, 0);
    for (guint i = 0; i < d->hrefs->len; i++) {
        const char *h = g_ptr_array_index(d->hrefs, i);
        if (!g_hash_table_contains(d->ids, h + 1))
            g_error("href=\"%s\" names no element", h);
    }
    g_assert_null(strstr(html, "http://"));
    g_assert_null(strstr(html, "https://"));
    g_assert_null(strstr(d->style->str, "@import"));
    for (const char *u = strstr(d->style->str, "url("); u; u = strstr(u + 4, "url("))
        g_assert_true(g_str_has_prefix(u, "url(data:"));
    g_assert_null(strstr(d->style->str, "@font-face"));
}

static void assert_has_id(const struct doc *d, const char *id)
{
    if (!g_hash_table_contains(d->ids, id))
        g_error("no element with id \"%s\"", id);
}

static gboolean has_href(const struct doc *d, const char *target)
{
    for (guint i = 0; i < d->hrefs->len; i++)
        if (strcmp(g_ptr_array_index(d->hrefs, i), target) == 0)
            return TRUE;
    return FALSE;
}

/* Every step of every session has its anchor and its id in the text; every frame has its row
 * in a packet table, and (unless collapsed) its ladder arrow linking to that row. */
static guint assert_model_anchored(const struct doc *d, const struct rpt_result *r)
{
    for (guint i = 0; i < r->sessions->len; i++) {
        const struct rpt_session *s = g_ptr_array_index(r->sessions, i);
        for (guint k = 0; k < s->steps->len; k++) {
            const struct rpt_step *st = g_ptr_array_index(s->steps, k);
            char *id = g_strdup_printf("s%u-%s", i, st->id);
            assert_has_id(d, id);
            g_free(id);
            g_assert_nonnull(strstr(d->text->str, st->id));
        }
    }
    guint arrows = 0;
    for (guint n = 1; n <= r->packets->len; n++) {
        char id[32], href[32], lid[32];
        g_snprintf(id, sizeof(id), "p%u", n);
        g_snprintf(href, sizeof(href), "#p%u", n);
        g_snprintf(lid, sizeof(lid), "l%u", n);
        assert_has_id(d, id);
        if (g_hash_table_contains(d->ids, lid)) {
            g_assert_true(has_href(d, href));
            arrows++;
        }
    }
    return arrows;
}

static char *render_checked(const struct rpt_result *r, struct doc *d)
{
    char *html = rpt_html_to_string(r);
    g_assert_true(g_str_has_prefix(html, "<!DOCTYPE html>"));
    doc_parse(d, html);
    assert_self_contained(d, html);
    /* The same model renders the same bytes: no clock, no pointers, no hash order. */
    char *again = rpt_html_to_string(r);
    g_assert_cmpstr(html, ==, again);
    g_free(again);
    return html;
}

static void test_failing(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    struct doc d;
    char *html = render_checked(r, &d);
    g_assert_cmpuint(assert_model_anchored(&d, r), ==, r->packets->len);
    /* The verdict, the headline finding and the failing step, impossible to miss. */
    g_assert_nonnull(strstr(html, "<header class=\"banner v-fail\""));
    g_assert_nonnull(
        strstr(d.text->str, "The server refused CreatePermission for peer 127.0.0.1:49161 (403)."));
    g_assert_nonnull(strstr(html, "<tr class=\"st-fail\" id=\"s0-permission\">"));
    g_assert_nonnull(strstr(html, "<tr class=\"st-warn\" id=\"s0-allocate\">"));
    /* Arrows labelled from the wire bytes; the failing one red and thick. */
    g_assert_nonnull(strstr(d.text->str, "Allocate 401"));
    g_assert_nonnull(strstr(d.text->str, "Binding request"));
    g_assert_nonnull(strstr(html, "class=\"lb\" fill=\"#dc2626\">CreatePermission 403</text>"));
    g_assert_nonnull(strstr(html, "stroke=\"#dc2626\" stroke-width=\"2.6\""));
    /* Environment: version, UTC time, facts. */
    g_assert_nonnull(strstr(d.text->str, "2026-11-21 12:00:00.000 UTC"));
    g_assert_nonnull(strstr(d.text->str, "Coturn-4.6.1 'Gorst'"));
    g_assert_nonnull(strstr(d.text->str, "127.0.0.1:49160"));
    /* No peer packets: no peer column. */
    g_assert_null(strstr(d.text->str, "our second allocation"));
    /* Wireshark: the filter, and no Decode As on 3478. */
    g_assert_nonnull(
        strstr(d.text->str, "(stun || turnchannel) && ip.addr==127.0.0.1 && udp.port==3478"));
    g_assert_null(strstr(d.text->str, "-d udp.port"));
    g_assert_nonnull(strstr(d.text->str, "TURN ChannelData"));
    doc_clear(&d);
    g_free(html);
    rpt_result_free(r);
}

static void test_passing_tcp(void)
{
    struct rpt_result *r = rpt_fixture_passing_tcp_check();
    struct doc d;
    char *html = render_checked(r, &d);
    g_assert_cmpuint(assert_model_anchored(&d, r), ==, r->packets->len);
    /* Every step passed but the loopback relay is a warning, and the banner says so. */
    g_assert_cmpint(rpt_result_verdict(r), ==, RPT_WARN);
    g_assert_nonnull(strstr(html, "<header class=\"banner v-warn\""));
    g_assert_nonnull(strstr(d.text->str, "The relayed address 127.0.0.1:49160 is loopback."));
    g_assert_null(strstr(html, "class=\"st-fail\""));
    g_assert_nonnull(strstr(d.text->str, "TCP SYN"));
    g_assert_nonnull(strstr(d.text->str, "TCP SYN-ACK"));
    g_assert_nonnull(strstr(d.text->str, "TCP FIN"));
    g_assert_nonnull(strstr(d.text->str, "tcp.port==3478"));
    doc_clear(&d);
    g_free(html);
    rpt_result_free(r);
}

static void test_busy(void)
{
    struct rpt_result *r = busy_model();
    g_assert_cmpuint(r->packets->len, >, 300);
    struct doc d;
    char *html = render_checked(r, &d);
    guint arrows = assert_model_anchored(&d, r);
    /* The ChannelData run is collapsed to its ends; everything else is drawn. */
    g_assert_cmpuint(arrows, <, 100);
    g_assert_cmpuint(arrows, >, 40);
    g_assert_nonnull(strstr(d.text->str, "294 packets"));
    g_assert_nonnull(strstr(d.text->str, "#24\xe2\x80\x93#317"));
    /* Several sessions: the summary at the top and one section each. */
    assert_has_id(&d, "summary");
    g_assert_nonnull(strstr(html, "<b>2</b> of 3 targets failed"));
    for (int i = 0; i < 3; i++) {
        char id[32];
        g_snprintf(id, sizeof(id), "session-%d", i);
        assert_has_id(&d, id);
        g_snprintf(id, sizeof(id), "ladder-%d", i);
        assert_has_id(&d, id);
    }
    /* The peer column, and data relayed to it. */
    g_assert_nonnull(strstr(d.text->str, "our second allocation"));
    g_assert_nonnull(strstr(d.text->str, "Data indication"));
    g_assert_nonnull(strstr(d.text->str, "ChannelData 0x4001"));
    /* TLS details rendered generically, arrays included. */
    g_assert_nonnull(strstr(d.text->str, "TLS certificate and handshake"));
    g_assert_nonnull(strstr(d.text->str, "CN=R11, O=Let's Encrypt, C=US"));
    g_assert_nonnull(strstr(d.text->str, "turn2.example.com"));
    g_assert_nonnull(strstr(d.text->str, "days_left"));
    g_assert_nonnull(strstr(d.text->str, "TLS ClientHello"));
    /* Retransmissions and the unanswered request are said as such. */
    g_assert_nonnull(strstr(d.text->str, "Binding request (retransmission 3)"));
    g_assert_nonnull(strstr(d.text->str, "no answer (unreachable)"));
    g_assert_nonnull(strstr(d.text->str, "no answer (timeout)"));
    g_assert_nonnull(strstr(d.text->str, "ICMP port unreachable"));
    /* Decode As for the ports Wireshark does not know. */
    g_assert_nonnull(strstr(d.text->str, "-d udp.port==3479,stun"));
    g_assert_nonnull(strstr(d.text->str, "-d tls.port==443,stun"));
    g_assert_nonnull(strstr(d.text->str, "--keylog FILE"));
    doc_clear(&d);
    g_free(html);
    rpt_result_free(r);
}

static void test_hostile(void)
{
    struct rpt_result *r = hostile_model();
    struct doc d;
    char *html = render_checked(r, &d);
    /* Shown, as text: the parsed text holds the string, the markup only its escaped form. */
    g_assert_nonnull(strstr(d.text->str, HOSTILE));
    g_assert_nonnull(strstr(html, HOSTILE_ESCAPED));
    char *lower = g_ascii_strdown(html, -1);
    g_assert_null(strstr(lower, "<script"));
    g_assert_null(strstr(lower, "<img"));
    g_free(lower);
    g_assert_null(g_hash_table_lookup(d.elements, "script"));
    /* Control bytes and a right-to-left override are shown, not obeyed. */
    g_assert_null(strstr(html, "\xe2\x80\xae"));
    g_assert_null(strstr(html, "\x01"));
    g_assert_nonnull(strstr(html, "\\u202eevil\\x01\xef\xbf\xbd"));
    g_assert_true(g_utf8_validate(html, -1, NULL));
    /* A hostile step id reaches anchors only sanitised. */
    assert_has_id(&d, "s0-_script_alert_1___script_");
    doc_clear(&d);
    g_free(html);
    rpt_result_free(r);
}

static void test_write(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    char *dir = g_dir_make_tmp("rpt_html_XXXXXX", NULL);
    g_assert_nonnull(dir);
    char *path = g_build_filename(dir, "report.html", NULL);
    GError *err = NULL;
    g_assert_true(g_file_set_contents(path, "old", -1, NULL));
    g_assert_true(rpt_html_write(r, path, &err));
    g_assert_no_error(err);
    char *got = NULL, *want = rpt_html_to_string(r);
    g_assert_true(g_file_get_contents(path, &got, NULL, NULL));
    g_assert_cmpstr(got, ==, want);
    /* Atomic: the temporary file was renamed over the old one, nothing else is left. */
    GDir *gd = g_dir_open(dir, 0, NULL);
    guint files = 0;
    while (g_dir_read_name(gd))
        files++;
    g_dir_close(gd);
    g_assert_cmpuint(files, ==, 1);
    /* A path that cannot be written fails with an error naming it. */
    char *bad = g_build_filename(dir, "missing", "report.html", NULL);
    g_assert_false(rpt_html_write(r, bad, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "missing"));
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

static void test_empty(void)
{
    struct rpt_result *r = rpt_result_new("analyze", "0.1.0");
    r->start_us = T0;
    struct doc d;
    char *html = render_checked(r, &d);
    g_assert_nonnull(strstr(d.text->str, "Nothing was tested."));
    doc_clear(&d);
    g_free(html);
    rpt_result_free(r);
}

/* `test_rpt_html --render DIR` writes the models' reports for the rendering test
 * (tests/integration/html_render.sh) instead of running the tests. */
static int render_to(const char *dir)
{
    struct {
        const char *name;
        struct rpt_result *(*make)(void);
    } models[] = {
        {"failing", rpt_fixture_failing_check},
        {"passing", rpt_fixture_passing_tcp_check},
        {"busy", busy_model},
        {"hostile", hostile_model},
    };
    g_mkdir_with_parents(dir, 0755);
    for (size_t i = 0; i < G_N_ELEMENTS(models); i++) {
        struct rpt_result *r = models[i].make();
        char *file = g_strdup_printf("report-%s.html", models[i].name);
        char *path = g_build_filename(dir, file, NULL);
        GError *err = NULL;
        if (!rpt_html_write(r, path, &err)) {
            g_printerr("%s\n", err->message);
            return 1;
        }
        g_print("%s\n", path);
        g_free(path);
        g_free(file);
        rpt_result_free(r);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--render") == 0)
        return render_to(argv[2]);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rpt_html/failing", test_failing);
    g_test_add_func("/rpt_html/passing-tcp", test_passing_tcp);
    g_test_add_func("/rpt_html/busy", test_busy);
    g_test_add_func("/rpt_html/hostile", test_hostile);
    g_test_add_func("/rpt_html/write", test_write);
    g_test_add_func("/rpt_html/empty", test_empty);
    return g_test_run();
}
