/* The HTML report: one self-contained page (verdict, checklist, ladder, waterfall, packets). */
#include "rpt_html.h"

#include <stdio.h>
#include <string.h>

#include "rpt_redact.h"
#include "sl_chan.h"
#include "sl_msg.h"
#include "sl_names.h"

/* ---- Escaping -------------------------------------------------------------------------------
 * Every string of the model may come from a server or a capture (REALM, SOFTWARE, reason
 * phrases, notes quoting them, capture file names): it is made valid UTF-8 and escaped for text
 * and attribute values alike. Control characters and bidirectional overrides are shown as
 * escapes, so they can neither break the markup nor reorder what the reader sees. */
static void esc_len(GString *o, const char *s, gssize len)
{
    if (!s)
        return;
    char *v = g_utf8_make_valid(s, len);
    for (const char *p = v; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        switch (c) {
        case '&':
            g_string_append(o, "&amp;");
            break;
        case '<':
            g_string_append(o, "&lt;");
            break;
        case '>':
            g_string_append(o, "&gt;");
            break;
        case '"':
            g_string_append(o, "&quot;");
            break;
        case '\'':
            g_string_append(o, "&#39;");
            break;
        case '\t':
        case '\n':
            g_string_append_c(o, (char)c);
            break;
        default:
            if (c < 0x20 || (c >= 0x7f && c < 0xa0))
                g_string_append_printf(o, "\\x%02x", (unsigned)c);
            else if ((c >= 0x200e && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
                     (c >= 0x2066 && c <= 0x2069) || c == 0xfeff || c == 0xfffe || c == 0xffff)
                g_string_append_printf(o, "\\u%04x", (unsigned)c);
            else
                g_string_append_len(o, p, g_utf8_next_char(p) - p);
        }
    }
    g_free(v);
}

static void esc(GString *o, const char *s)
{
    esc_len(o, s, -1);
}

/* Step ids also name anchors: anything but [A-Za-z0-9_-] becomes '_' so that no model string
 * reaches an id or href unescaped. */
static void ident(GString *o, const char *s)
{
    if (!s || !*s) {
        g_string_append(o, "none");
        return;
    }
    for (const char *p = s; *p; p++)
        g_string_append_c(o, g_ascii_isalnum(*p) || *p == '-' || *p == '_' ? *p : '_');
}

/* At most max characters, with an ellipsis when cut: the ladder has fixed columns, the full
 * text is in the tooltip and the packet table. */
static char *ellipsize(const char *s, glong max)
{
    char *v = g_utf8_make_valid(s ? s : "", -1);
    if (g_utf8_strlen(v, -1) <= max)
        return v;
    char *cut = g_utf8_substring(v, 0, max - 1);
    char *out = g_strconcat(cut, "\xe2\x80\xa6", NULL);
    g_free(cut);
    g_free(v);
    return out;
}

/* ---- Numbers: g_ascii_formatd, because a locale's decimal comma would break the SVG. ------ */
static void append_ms(GString *o, double ms)
{
    char b[G_ASCII_DTOSTR_BUF_SIZE];
    if (!(ms > 0)) {
        g_string_append(o, "0 ms");
    } else if (ms < 1) {
        g_string_append_printf(o, "%s ms", g_ascii_formatd(b, sizeof(b), "%.2f", ms));
    } else if (ms < 100) {
        g_string_append_printf(o, "%s ms", g_ascii_formatd(b, sizeof(b), "%.1f", ms));
    } else if (ms < 1000) {
        g_string_append_printf(o, "%s ms", g_ascii_formatd(b, sizeof(b), "%.0f", ms));
    } else {
        g_string_append_printf(o, "%s s", g_ascii_formatd(b, sizeof(b), "%.2f", ms / 1000));
    }
}

static void append_secs(GString *o, double s)
{
    char b[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append(o, g_ascii_formatd(b, sizeof(b), "%.4f", s));
}

static void append_utc(GString *o, gint64 us)
{
    GDateTime *dt = us > 0 ? g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC) : NULL;
    if (!dt) {
        g_string_append(o, "unknown");
        return;
    }
    char *s = g_date_time_format(dt, "%Y-%m-%d %H:%M:%S");
    g_string_append_printf(o, "%s.%03d UTC", s, (int)(us % G_USEC_PER_SEC / 1000));
    g_free(s);
    g_date_time_unref(dt);
}

/* ---- Colours ----------------------------------------------------------------------------- */
#define C_PASS "#15803d"
#define C_WARN "#b45309"
#define C_FAIL "#dc2626"
#define C_SKIP "#6b7280"

/* One hue per checklist step so the ladder's groups read apart; red and amber are kept for
 * verdicts. */
static const struct {
    const char *id;
    const char *colour;
} step_colours[] = {
    {"settings", "#475569"},  {"dns", "#0e7490"},      {"tls", "#6d28d9"},
    {"binding", "#1d4ed8"},   {"allocate", "#0f766e"}, {"permission", "#a21caf"},
    {"send-data", "#4338ca"}, {"channel", "#0369a1"},  {"ice", "#4d7c0f"},
    {"refresh", "#7c5a10"},   {"policy", "#57534e"},
};

static const char *step_colour(const char *id)
{
    for (size_t i = 0; id && i < G_N_ELEMENTS(step_colours); i++)
        if (strcmp(step_colours[i].id, id) == 0)
            return step_colours[i].colour;
    return "#64748b";
}

static const char *status_colour(enum rpt_status s)
{
    switch (s) {
    case RPT_PASS:
        return C_PASS;
    case RPT_WARN:
        return C_WARN;
    case RPT_FAIL:
        return C_FAIL;
    default:
        return C_SKIP;
    }
}

static enum rpt_status severity_status(enum rpt_severity sev)
{
    return sev == RPT_SEV_FAIL ? RPT_FAIL : sev == RPT_SEV_WARN ? RPT_WARN : RPT_PASS;
}

/* A packet's verdict as a status: none or "ok" is fine; a diagnosis id weighs as the table
 * says, and an id the table does not know is flagged rather than hidden. */
static enum rpt_status packet_status(const struct rpt_packet *p)
{
    if (!p->verdict || strcmp(p->verdict, "ok") == 0)
        return RPT_PASS;
    const struct rpt_diag *d = rpt_diag_find(p->verdict);
    return d ? severity_status(d->severity) : RPT_WARN;
}

static const char *packet_colour(const struct rpt_packet *p)
{
    enum rpt_status st = packet_status(p);
    return st == RPT_PASS ? step_colour(p->step) : status_colour(st);
}

/* A status icon drawn in SVG rather than a glyph: it looks the same whatever fonts the reader
 * has. */
static void status_icon(GString *o, enum rpt_status s)
{
    g_string_append_printf(o,
                           "<svg class=\"icon\" width=\"20\" height=\"20\" viewBox=\"0 0 20 20\" "
                           "role=\"img\" aria-label=\"%s\"><title>%s</title>",
                           rpt_status_name(s), rpt_status_name(s));
    switch (s) {
    case RPT_PASS:
        g_string_append(o, "<circle cx=\"10\" cy=\"10\" r=\"9\" fill=\"" C_PASS "\"/>"
                           "<path d=\"M5.5 10.5l3 3 6-6.5\" fill=\"none\" stroke=\"#fff\" "
                           "stroke-width=\"2.2\" stroke-linecap=\"round\" "
                           "stroke-linejoin=\"round\"/>");
        break;
    case RPT_WARN:
        g_string_append(o, "<path d=\"M10 1.5l8.8 16H1.2z\" fill=\"" C_WARN "\"/>"
                           "<path d=\"M10 7v5\" stroke=\"#fff\" stroke-width=\"2.2\" "
                           "stroke-linecap=\"round\"/><circle cx=\"10\" cy=\"14.8\" r=\"1.3\" "
                           "fill=\"#fff\"/>");
        break;
    case RPT_FAIL:
        g_string_append(o, "<circle cx=\"10\" cy=\"10\" r=\"9\" fill=\"" C_FAIL "\"/>"
                           "<path d=\"M6.5 6.5l7 7M13.5 6.5l-7 7\" stroke=\"#fff\" "
                           "stroke-width=\"2.2\" stroke-linecap=\"round\"/>");
        break;
    default:
        g_string_append(o, "<circle cx=\"10\" cy=\"10\" r=\"8\" fill=\"none\" stroke=\"" C_SKIP
                           "\" stroke-width=\"1.6\"/><path d=\"M6.5 10h7\" stroke=\"" C_SKIP
                           "\" stroke-width=\"2\" stroke-linecap=\"round\"/>");
    }
    g_string_append(o, "</svg>");
}

static void badge(GString *o, enum rpt_status s)
{
    g_string_append_printf(o, "<span class=\"badge b-%s\">%s</span>", rpt_status_name(s),
                           rpt_status_name(s));
}

/* ---- Packet labels ----------------------------------------------------------------------- */
static const guint8 *payload_data(const struct rpt_packet *p, gsize *len)
{
    *len = 0;
    return p->payload ? g_bytes_get_data(p->payload, len) : NULL;
}

/* Whether a STUN payload is a Send or Data indication, from its type field alone. */
static gboolean stun_is_data_indication(const struct rpt_packet *p)
{
    gsize len;
    const guint8 *d = payload_data(p, &len);
    if (p->kind != RPT_PKT_STUN || !d || len < 2)
        return FALSE;
    uint16_t type = (uint16_t)(d[0] << 8 | d[1]);
    uint16_t m = sl_type_method(type);
    return sl_type_class(type) == SL_INDICATION && (m == SL_SEND || m == SL_DATA);
}

static const char *icmp_label(const struct rpt_packet *p)
{
    if (p->src.family == SL_AF_IPV6) {
        if (p->icmp_type != 1)
            return "ICMPv6 error";
        switch (p->icmp_code) {
        case 0:
            return "ICMPv6 no route";
        case 1:
            return "ICMPv6 admin. prohibited";
        case 3:
            return "ICMPv6 address unreachable";
        case 4:
            return "ICMPv6 port unreachable";
        default:
            return "ICMPv6 unreachable";
        }
    }
    if (p->icmp_type != 3)
        return "ICMP error";
    switch (p->icmp_code) {
    case 0:
        return "ICMP net unreachable";
    case 1:
        return "ICMP host unreachable";
    case 3:
        return "ICMP port unreachable";
    case 9:
    case 10:
    case 13:
        return "ICMP admin. prohibited";
    default:
        return "ICMP unreachable";
    }
}

/* TLS and DTLS: the record's content type, and for the two handshake messages that travel in
 * the clear, their name; everything later is encrypted and only its size says anything. */
static gboolean tls_label(const struct rpt_packet *p, char *buf, size_t n)
{
    gsize len;
    const guint8 *d = payload_data(p, &len);
    gboolean dtls = p->transport == RPT_DTLS || p->transport == RPT_UDP;
    size_t hdr = dtls ? 13 : 5;
    const char *proto = dtls ? "DTLS" : "TLS";
    if (!d || len < hdr)
        return FALSE;
    switch (d[0]) {
    case 20:
        g_snprintf(buf, n, "%s ChangeCipherSpec", proto);
        return TRUE;
    case 21:
        g_snprintf(buf, n, "%s alert", proto);
        return TRUE;
    case 22:
        if (len > hdr && (d[hdr] == 1 || d[hdr] == 2 || d[hdr] == 3))
            g_snprintf(buf, n, "%s %s", proto,
                       d[hdr] == 1   ? "ClientHello"
                       : d[hdr] == 2 ? "ServerHello"
                                     : "HelloVerifyRequest");
        else
            g_snprintf(buf, n, "%s handshake", proto);
        return TRUE;
    case 23:
        g_snprintf(buf, n, "%s data (%" G_GSIZE_FORMAT " B)", proto, len);
        return TRUE;
    default:
        return FALSE;
    }
}

/* A short arrow label read from the packet's own bytes, so it says what was on the wire:
 * "Allocate 401", "Binding request", "ChannelData 0x4000", "TCP SYN". */
static char *packet_label(const struct rpt_packet *p)
{
    char buf[96];
    gsize len;
    const guint8 *d = payload_data(p, &len);
    switch (p->kind) {
    case RPT_PKT_STUN: {
        struct sl_msg m;
        if (d &&
            sl_msg_decode(&m, d, len, SL_DEC_PREFIX | SL_DEC_LENIENT | SL_DEC_CLASSIC) == SL_OK) {
            static const char *const cls[] = {"request", "indication", "success", "error"};
            char mb[16];
            const char *mn = sl_method_name(m.method);
            if (!mn) {
                g_snprintf(mb, sizeof(mb), "0x%03x", m.method);
                mn = mb;
            }
            int code = 0;
            const char *reason = NULL;
            size_t rlen = 0;
            if (m.cls == SL_ERROR && sl_msg_get_error(&m, &code, &reason, &rlen) == SL_OK)
                return g_strdup_printf("%s %d", mn, code);
            return g_strdup_printf("%s %s", mn, cls[m.cls & 3]);
        }
        break;
    }
    case RPT_PKT_CHANNELDATA: {
        struct sl_chan c;
        gboolean stream = p->transport == RPT_TCP || p->transport == RPT_TLS;
        if (d && sl_chan_decode(&c, d, len, stream) == SL_OK)
            return g_strdup_printf("ChannelData 0x%04x", c.channel);
        break;
    }
    case RPT_PKT_TCP_SYN:
        return g_strdup("TCP SYN");
    case RPT_PKT_TCP_SYNACK:
        return g_strdup("TCP SYN-ACK");
    case RPT_PKT_TCP_ACK:
        return g_strdup("TCP ACK");
    case RPT_PKT_TCP_FIN:
        return g_strdup("TCP FIN");
    case RPT_PKT_TCP_RST:
        return g_strdup("TCP RST");
    case RPT_PKT_ICMP_UNREACH:
        return g_strdup(icmp_label(p));
    case RPT_PKT_TLS:
        if (p->summary)
            return ellipsize(p->summary, 34);
        if (tls_label(p, buf, sizeof(buf)))
            return g_strdup(buf);
        break;
    case RPT_PKT_OTHER:
        break;
    }
    if (p->summary)
        return ellipsize(p->summary, 34);
    return g_strdup_printf("%s (%" G_GSIZE_FORMAT " B)", rpt_kind_name(p->kind), len);
}

static gboolean is_control(const struct rpt_packet *p)
{
    return p->kind >= RPT_PKT_TCP_SYN;
}

/* Relayed data repeats: runs of it are collapsed in the ladder (the packet table keeps all). */
static gboolean is_bulk(const struct rpt_packet *p)
{
    if (packet_status(p) != RPT_PASS)
        return FALSE;
    return p->kind == RPT_PKT_CHANNELDATA || stun_is_data_indication(p) ||
           (p->kind == RPT_PKT_TLS && p->payload && g_bytes_get_size(p->payload) > 0 &&
            ((const guint8 *)g_bytes_get_data(p->payload, NULL))[0] == 23);
}

static gboolean is_peer(const struct rpt_packet *p)
{
    return p->endpoint && strcmp(p->endpoint, "peer") == 0;
}

/* ---- Per-session context ----------------------------------------------------------------- */
struct sess_ctx {
    const struct rpt_result *r;
    const struct rpt_session *s;
    guint si;
    GPtrArray *pkts;        /* struct rpt_packet* of this session, frame order */
    GHashTable *retrans;    /* frame -> retransmission number (1, 2, ...) */
    GHashTable *unanswered; /* frame -> outcome + 1, for a transaction's last request */
    GHashTable *in_ladder;  /* frames drawn as an arrow (collapsed ones are not) */
};

static void ctx_init(struct sess_ctx *c, const struct rpt_result *r, guint si)
{
    c->r = r;
    c->s = g_ptr_array_index(r->sessions, si);
    c->si = si;
    c->pkts = g_ptr_array_new();
    for (guint i = 0; i < r->packets->len; i++) {
        struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        /* Packets naming no existing session go to the first, so every frame is shown. */
        guint ps = p->session < r->sessions->len ? p->session : 0;
        if (ps == si)
            g_ptr_array_add(c->pkts, p);
    }
    c->retrans = g_hash_table_new(g_direct_hash, g_direct_equal);
    c->unanswered = g_hash_table_new(g_direct_hash, g_direct_equal);
    c->in_ladder = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 0; i < c->s->txns->len; i++) {
        const struct rpt_txn *t = g_ptr_array_index(c->s->txns, i);
        for (guint k = 1; k < t->req_pkts->len; k++)
            g_hash_table_insert(c->retrans, GUINT_TO_POINTER(g_array_index(t->req_pkts, guint, k)),
                                GUINT_TO_POINTER(k));
        if (t->req_pkts->len && !t->resp_pkt && t->outcome != RPT_TXN_SUCCESS &&
            t->outcome != RPT_TXN_ERROR)
            g_hash_table_insert(
                c->unanswered,
                GUINT_TO_POINTER(g_array_index(t->req_pkts, guint, t->req_pkts->len - 1)),
                GUINT_TO_POINTER((guint)t->outcome + 1));
    }
}

static void ctx_clear(struct sess_ctx *c)
{
    g_ptr_array_unref(c->pkts);
    g_hash_table_unref(c->retrans);
    g_hash_table_unref(c->unanswered);
    g_hash_table_unref(c->in_ladder);
}

/* Anchor ids: "s0-allocate" for a step, "p7" for a packet row, "l7" for its ladder arrow. */
static void step_anchor(GString *o, guint si, const char *id)
{
    g_string_append_printf(o, "s%u-", si);
    ident(o, id);
}

static void step_link(GString *o, guint si, const char *id)
{
    g_string_append(o, "<a href=\"#");
    step_anchor(o, si, id);
    g_string_append(o, "\">");
    esc(o, rpt_step_title(id ? id : "(none)"));
    g_string_append(o, "</a>");
}

/* Frame numbers as links, consecutive ones as ranges: "#3–#6, #9". */
static void frame_links(GString *o, const GArray *frames, guint max_ranges)
{
    guint ranges = 0;
    for (guint i = 0; i < frames->len;) {
        guint a = g_array_index(frames, guint, i), b = a;
        guint j = i + 1;
        while (j < frames->len && g_array_index(frames, guint, j) == b + 1) {
            b++;
            j++;
        }
        if (ranges == max_ranges) {
            g_string_append_printf(o, ", \xe2\x80\xa6 (%u frames)", frames->len);
            return;
        }
        if (ranges)
            g_string_append(o, ", ");
        g_string_append_printf(o, "<a href=\"#p%u\">#%u</a>", a, a);
        if (b != a)
            g_string_append_printf(o, "\xe2\x80\x93<a href=\"#p%u\">#%u</a>", b, b);
        ranges++;
        i = j;
    }
}

/* ---- Generic JSON values (step details, session facts) ----------------------------------- */
static void json_value(GString *o, JsonNode *n, int depth);

static void json_table(GString *o, JsonObject *obj, int depth)
{
    g_string_append(o, "<table class=\"kv\">");
    GList *members = json_object_get_members(obj);
    for (GList *l = members; l; l = l->next) {
        g_string_append(o, "<tr><th>");
        esc(o, l->data);
        g_string_append(o, "</th><td>");
        json_value(o, json_object_get_member(obj, l->data), depth + 1);
        g_string_append(o, "</td></tr>");
    }
    g_list_free(members);
    g_string_append(o, "</table>");
}

static void json_value(GString *o, JsonNode *n, int depth)
{
    if (!n || JSON_NODE_HOLDS_NULL(n)) {
        g_string_append(o, "<span class=\"muted\">null</span>");
        return;
    }
    if (depth > 6) {
        g_string_append(o, "\xe2\x80\xa6");
        return;
    }
    if (JSON_NODE_HOLDS_OBJECT(n)) {
        json_table(o, json_node_get_object(n), depth);
        return;
    }
    if (JSON_NODE_HOLDS_ARRAY(n)) {
        JsonArray *a = json_node_get_array(n);
        guint len = json_array_get_length(a);
        if (len == 0) {
            g_string_append(o, "<span class=\"muted\">(none)</span>");
            return;
        }
        g_string_append(o, "<ul class=\"vl\">");
        for (guint i = 0; i < len; i++) {
            g_string_append(o, "<li>");
            json_value(o, json_array_get_element(a, i), depth + 1);
            g_string_append(o, "</li>");
        }
        g_string_append(o, "</ul>");
        return;
    }
    char b[G_ASCII_DTOSTR_BUF_SIZE];
    GType t = json_node_get_value_type(n);
    if (t == G_TYPE_INT64)
        g_string_append_printf(o, "%" G_GINT64_FORMAT, json_node_get_int(n));
    else if (t == G_TYPE_DOUBLE)
        g_string_append(o, g_ascii_formatd(b, sizeof(b), "%.6g", json_node_get_double(n)));
    else if (t == G_TYPE_BOOLEAN)
        g_string_append(o, json_node_get_boolean(n) ? "yes" : "no");
    else
        esc(o, json_node_get_string(n));
}

/* ---- Page parts -------------------------------------------------------------------------- */
static const char css[] =
    ":root{--pass:" C_PASS ";--warn:" C_WARN ";--fail:" C_FAIL ";--skip:" C_SKIP ";"
    "--ink:#111827;--muted:#6b7280;--line:#e5e7eb}"
    "*{box-sizing:border-box}"
    "html{background:#eef2f6}"
    "body{margin:0;color:var(--ink);font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
    "'DejaVu Sans','Liberation Sans',Arial,sans-serif}"
    "main{max-width:1200px;margin:0 auto;padding:16px 20px 40px}"
    "code,.mono,kbd{font-family:ui-monospace,'DejaVu Sans Mono','Liberation Mono',Menlo,"
    "Consolas,monospace;font-size:12.5px}"
    "code{background:#f1f5f9;border-radius:4px;padding:0 4px}"
    "a{color:#1d4ed8;text-decoration:none}a:hover{text-decoration:underline}"
    "h1{font-size:22px;margin:2px 0 6px;line-height:1.25}"
    "h2{font-size:19px;margin:0 0 10px}"
    "h3{font-size:16px;margin:0 0 10px}"
    "h4{font-size:14px;margin:12px 0 6px}"
    ".muted{color:var(--muted)}"
    ".card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:16px 18px;"
    "margin:14px 0;box-shadow:0 1px 2px rgba(0,0,0,.04)}"
    ".banner{display:flex;border-radius:12px;overflow:hidden;margin:6px 0 14px;"
    "border:1px solid var(--line);background:#fff;box-shadow:0 1px 3px rgba(0,0,0,.08)}"
    ".banner .v{min-width:150px;display:flex;align-items:center;justify-content:center;"
    "color:#fff;font-size:34px;font-weight:800;letter-spacing:2px}"
    ".banner .hl{padding:14px 20px;flex:1}"
    ".banner.v-pass .v{background:var(--pass)}.banner.v-warn .v{background:var(--warn)}"
    ".banner.v-fail .v{background:var(--fail)}.banner.v-skip .v{background:var(--skip)}"
    ".banner.v-pass{background:#f0fdf4}.banner.v-warn{background:#fffbeb}"
    ".banner.v-fail{background:#fef2f2}"
    ".kicker{color:var(--muted);font-size:13px}"
    ".hint{color:#374151}.hint b{color:var(--ink)}"
    ".counts span{margin-right:14px}"
    "nav.toc{font-size:13px;margin:4px 0 0}nav.toc a{margin-right:12px}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:4px 28px}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid "
    "var(--line)}"
    "th{font-size:12px;text-transform:uppercase;letter-spacing:.4px;color:var(--muted);"
    "font-weight:600}"
    "table.kv th{text-transform:none;letter-spacing:0;font-size:13px;color:#374151;"
    "width:34%;white-space:nowrap}"
    "table.kv table.kv{margin:0}table.kv td{word-break:break-word}"
    "ul.vl{margin:0;padding-left:18px}"
    ".checklist td.ic{width:30px;padding-top:8px}"
    ".checklist .stt{font-weight:600}.checklist td.stc{min-width:270px}"
    ".checklist code.sid{font-size:11.5px;color:var(--muted)}"
    ".checklist tr.st-fail{background:#fef2f2;box-shadow:inset 5px 0 0 var(--fail)}"
    ".checklist tr.st-warn{background:#fffbeb;box-shadow:inset 5px 0 0 var(--warn)}"
    ".checklist tr.st-skip td{color:var(--muted)}"
    ".checklist tr.st-fail .stt{color:#991b1b}"
    ".checklist .hint{font-size:13px;margin-top:3px}"
    ".num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}"
    ".badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;"
    "font-weight:700;color:#fff;text-transform:uppercase;letter-spacing:.5px}"
    ".b-pass{background:var(--pass)}.b-warn{background:var(--warn)}"
    ".b-fail{background:var(--fail)}.b-skip,.b-info{background:var(--skip)}"
    ".finding{border-left:5px solid var(--skip);padding:8px 12px;margin:8px 0;"
    "background:#f8fafc;border-radius:0 8px 8px 0}"
    ".finding.f-fail{border-color:var(--fail);background:#fef2f2}"
    ".finding.f-warn{border-color:var(--warn);background:#fffbeb}"
    ".finding p{margin:4px 0}"
    ".svgwrap{overflow-x:auto}"
    "svg.ladder,svg.wf{display:block;max-width:none}"
    "svg text{font-family:system-ui,-apple-system,'Segoe UI','DejaVu Sans','Liberation Sans',"
    "Arial,sans-serif}"
    "svg .fn{font:600 12px ui-monospace,'DejaVu Sans Mono',monospace;fill:#1d4ed8}"
    "svg .tm{font:11px ui-monospace,'DejaVu Sans Mono',monospace;fill:#6b7280}"
    "svg .lb{font-size:12px;font-weight:600}"
    "svg .nt{font-size:11px;fill:#4b5563}"
    "svg .gh{font-size:12px;font-weight:700}"
    "svg .ch{font-size:13px;font-weight:700;fill:#111827}"
    "svg .cs{font:10.5px ui-monospace,'DejaVu Sans Mono',monospace;fill:#4b5563}"
    "svg a:hover text{text-decoration:underline}"
    ".pk td{font-size:12.5px;padding:3px 6px}"
    ".pk td.ad{white-space:nowrap;font-family:ui-monospace,'DejaVu Sans Mono','Liberation Mono',"
    "Menlo,Consolas,monospace;font-size:11.5px;color:#374151}"
    ".pk tr:target{background:#fef9c3}"
    ".pk tr.pv-fail{background:#fef2f2}.pk tr.pv-warn{background:#fffbeb}"
    ".pk .chip{display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:5px}"
    ".pk td.fr,.pk td.nw{white-space:nowrap;font-weight:600}.pk td.nw{font-weight:400}"
    ".vchip{display:inline-block;border-radius:4px;padding:0 5px;color:#fff;font-weight:600;"
    "font-size:12px}.vchip.b-warn{background:var(--warn)}.vchip.b-fail{background:var(--fail)}"
    ".legend span{margin-right:14px;font-size:12.5px;white-space:nowrap}"
    ".legend i{display:inline-block;width:18px;height:3px;vertical-align:middle;"
    "margin-right:5px}"
    ".ws pre{background:#0f172a;color:#e2e8f0;padding:10px 12px;border-radius:8px;"
    "white-space:pre-wrap;word-break:break-all;margin:6px 0}"
    ".ws{border-left:5px solid #1d4ed8}"
    "footer{color:var(--muted);font-size:12px;text-align:center;margin-top:20px}"
    "@media print{html{background:#fff}.card{box-shadow:none;break-inside:avoid-page}"
    ".pk tr{break-inside:avoid}}";

static void render_counts(GString *o, const struct rpt_result *r)
{
    guint n[4] = {0};
    for (guint i = 0; i < r->sessions->len; i++) {
        const struct rpt_session *s = g_ptr_array_index(r->sessions, i);
        for (guint k = 0; k < s->steps->len; k++) {
            const struct rpt_step *st = g_ptr_array_index(s->steps, k);
            if ((unsigned)st->status < 4)
                n[st->status]++;
        }
    }
    g_string_append_printf(o,
                           "<p class=\"counts\"><span><b>%u</b> passed</span><span><b>%u</b> "
                           "warning%s</span><span><b>%u</b> failed</span><span><b>%u</b> "
                           "skipped</span><span>%u packet%s</span>",
                           n[RPT_PASS], n[RPT_WARN], n[RPT_WARN] == 1 ? "" : "s", n[RPT_FAIL],
                           n[RPT_SKIP], r->packets->len, r->packets->len == 1 ? "" : "s");
    if (r->sessions->len > 1) {
        guint failed = 0;
        for (guint i = 0; i < r->sessions->len; i++)
            failed += rpt_session_verdict(g_ptr_array_index(r->sessions, i)) == RPT_FAIL;
        g_string_append_printf(o, "<span><b>%u</b> of %u targets failed</span>", failed,
                               r->sessions->len);
    }
    if (r->duration_ms > 0) {
        g_string_append(o, "<span>run took ");
        append_ms(o, r->duration_ms);
        g_string_append(o, "</span>");
    }
    g_string_append(o, "</p>");
}

/* The headline: the first failure (a finding, else a step), else the first warning. */
struct headline {
    enum rpt_status v;
    guint si;
    const struct rpt_step *step;
    const struct rpt_finding *f;
};

static gboolean find_headline(const struct rpt_result *r, enum rpt_status want, struct headline *h)
{
    for (guint i = 0; i < r->sessions->len; i++) {
        const struct rpt_session *s = g_ptr_array_index(r->sessions, i);
        for (guint k = 0; k < s->findings->len; k++) {
            const struct rpt_finding *f = g_ptr_array_index(s->findings, k);
            if (severity_status(f->severity) == want) {
                *h = (struct headline){want, i, f->step ? rpt_step_find(s, f->step) : NULL, f};
                return TRUE;
            }
        }
        for (guint k = 0; k < s->steps->len; k++) {
            const struct rpt_step *st = g_ptr_array_index(s->steps, k);
            if (st->status == want) {
                *h = (struct headline){want, i, st, NULL};
                return TRUE;
            }
        }
    }
    return FALSE;
}

static const char *target_name(const struct rpt_session *s)
{
    return s->target.uri ? s->target.uri : s->name ? s->name : "(unnamed)";
}

static void render_banner(GString *o, const struct rpt_result *r)
{
    enum rpt_status v = rpt_result_verdict(r);
    struct headline h = {0};
    gboolean have = (v == RPT_FAIL || v == RPT_WARN) && find_headline(r, v, &h);
    if (r->sessions->len == 0)
        v = RPT_SKIP;
    g_string_append_printf(o, "<header class=\"banner v-%s\" id=\"top\"><div class=\"v\">",
                           rpt_status_name(v));
    g_string_append(o, v == RPT_SKIP   ? "NONE"
                       : v == RPT_PASS ? "PASS"
                       : v == RPT_WARN ? "WARN"
                                       : "FAIL");
    g_string_append(o, "</div><div class=\"hl\"><div class=\"kicker\">turnprobe ");
    esc(o, r->command);
    g_string_append(o, " \xc2\xb7 ");
    if (r->sessions->len == 1)
        esc(o, target_name(g_ptr_array_index(r->sessions, 0)));
    else
        g_string_append_printf(o, "%u targets", r->sessions->len);
    g_string_append(o, " \xc2\xb7 ");
    append_utc(o, r->start_us);
    g_string_append(o, "</div><h1>");
    if (!have) {
        if (r->sessions->len == 0)
            g_string_append(o, "Nothing was tested.");
        else if (v == RPT_PASS)
            g_string_append(o, "Every step passed: this TURN server works for the checks run.");
        else
            g_string_append(o, "See the checklist below.");
        g_string_append(o, "</h1>");
    } else {
        const char *diag = h.f ? h.f->diagnosis : h.step->diagnosis;
        const struct rpt_diag *d = diag ? rpt_diag_find(diag) : NULL;
        const char *msg = h.f ? h.f->message : h.step->summary;
        esc(o, msg ? msg : d ? d->meaning : diag);
        g_string_append(o, "</h1><p class=\"kicker\">");
        g_string_append(o, v == RPT_FAIL ? "Failed step: " : "Warning in step: ");
        const char *sid = h.step ? h.step->id : h.f ? h.f->step : NULL;
        step_link(o, h.si, sid);
        g_string_append(o, " \xc2\xb7 diagnosis <code>");
        esc(o, diag);
        g_string_append(o, "</code>");
        if (d) {
            g_string_append(o, " \xe2\x80\x94 ");
            esc(o, d->meaning);
        }
        if (r->sessions->len > 1) {
            g_string_append(o, " \xc2\xb7 target ");
            esc(o, target_name(g_ptr_array_index(r->sessions, h.si)));
        }
        g_string_append(o, "</p>");
        const char *hint = h.f && h.f->hint && *h.f->hint            ? h.f->hint
                           : h.step && h.step->hint && *h.step->hint ? h.step->hint
                           : d                                       ? d->hint
                                                                     : NULL;
        if (hint && *hint) {
            g_string_append(o, "<p class=\"hint\"><b>What to check:</b> ");
            esc(o, hint);
            g_string_append(o, "</p>");
        }
    }
    render_counts(o, r);
    g_string_append(o, "</div></header>");
}

static void kv_row(GString *o, const char *key, const char *value, gboolean mono)
{
    if (!value)
        return;
    g_string_append(o, "<tr><th>");
    esc(o, key);
    g_string_append(o, mono ? "</th><td><code>" : "</th><td>");
    esc(o, value);
    g_string_append(o, mono ? "</code></td></tr>" : "</td></tr>");
}

/* What was tested and what the server told us about ourselves: the facts the checks recorded
 * (local, mapped, relayed addresses, server software), the well-known ones first. */
static void render_target(GString *o, const struct rpt_session *s)
{
    static const struct {
        const char *key, *label;
    } known[] = {
        {"local", "Local address (our socket)"},
        {"mapped", "Mapped address (as the server sees us)"},
        {"relayed", "Relayed address (allocated on the server)"},
        {"software", "Server software (SOFTWARE)"},
    };
    const struct rpt_target *t = &s->target;
    g_string_append(o, "<table class=\"kv\">");
    kv_row(o, "Target", target_name(s), TRUE);
    kv_row(o, "Host", t->host, TRUE);
    if (t->port) {
        char port[8];
        g_snprintf(port, sizeof(port), "%u", t->port);
        kv_row(o, "Port", port, TRUE);
    }
    kv_row(o, "Transport", t->transport, FALSE);
    kv_row(o, "Server address", t->address, TRUE);
    kv_row(o, "Username", t->username, TRUE);
    kv_row(o, "Password", t->password_info, FALSE);
    for (size_t i = 0; i < G_N_ELEMENTS(known); i++) {
        if (!json_object_has_member(s->facts, known[i].key))
            continue;
        g_string_append(o, "<tr><th>");
        esc(o, known[i].label);
        g_string_append(o, "</th><td><code>");
        json_value(o, json_object_get_member(s->facts, known[i].key), 1);
        g_string_append(o, "</code></td></tr>");
    }
    GList *members = json_object_get_members(s->facts);
    for (GList *l = members; l; l = l->next) {
        gboolean done = FALSE;
        for (size_t i = 0; i < G_N_ELEMENTS(known); i++)
            done = done || strcmp(known[i].key, l->data) == 0;
        if (done)
            continue;
        g_string_append(o, "<tr><th>");
        esc(o, l->data);
        g_string_append(o, "</th><td>");
        json_value(o, json_object_get_member(s->facts, l->data), 1);
        g_string_append(o, "</td></tr>");
    }
    g_list_free(members);
    g_string_append(o, "</table>");
}

static void render_environment(GString *o, const struct rpt_result *r)
{
    g_string_append(o, "<section class=\"card\" id=\"environment\"><h2>Target and "
                       "environment</h2><div class=\"grid\"><div><table class=\"kv\">");
    kv_row(o, "turnprobe version", r->version, TRUE);
    g_string_append(o, "<tr><th>Run started</th><td>");
    append_utc(o, r->start_us);
    g_string_append(o, "</td></tr><tr><th>Duration</th><td>");
    append_ms(o, r->duration_ms);
    g_string_append(o, "</td></tr><tr><th>Command</th><td><code>turnprobe ");
    esc(o, r->command);
    g_string_append(o, "</code></td></tr>");
    if (r->inputs->len) {
        g_string_append(o, "<tr><th>Capture files</th><td><ul class=\"vl\">");
        for (guint i = 0; i < r->inputs->len; i++) {
            g_string_append(o, "<li><code>");
            esc(o, g_ptr_array_index(r->inputs, i));
            g_string_append(o, "</code></li>");
        }
        g_string_append(o, "</ul></td></tr>");
    }
    if (r->sessions->len > 1) {
        g_string_append_printf(o,
                               "<tr><th>Targets</th><td>%u sessions, see the summary "
                               "below</td></tr>",
                               r->sessions->len);
    }
    g_string_append(o, "</table></div>");
    if (r->sessions->len == 1) {
        g_string_append(o, "<div>");
        render_target(o, g_ptr_array_index(r->sessions, 0));
        g_string_append(o, "</div>");
    }
    g_string_append(o, "</div></section>");
}

static void render_summary(GString *o, const struct rpt_result *r)
{
    g_string_append(o, "<section class=\"card\" id=\"summary\"><h2>Sessions</h2><table>"
                       "<tr><th>#</th><th>Target</th><th>Verdict</th><th>First problem</th>"
                       "<th class=\"num\">Packets</th></tr>");
    for (guint i = 0; i < r->sessions->len; i++) {
        const struct rpt_session *s = g_ptr_array_index(r->sessions, i);
        enum rpt_status v = rpt_session_verdict(s);
        guint npk = 0;
        for (guint k = 0; k < r->packets->len; k++) {
            const struct rpt_packet *p = g_ptr_array_index(r->packets, k);
            npk += (p->session < r->sessions->len ? p->session : 0) == i;
        }
        g_string_append_printf(o, "<tr class=\"st-%s\"><td>%u</td><td><a href=\"#session-%u\">",
                               rpt_status_name(v), i + 1, i);
        esc(o, s->name ? s->name : target_name(s));
        g_string_append(o, "</a></td><td>");
        badge(o, v);
        g_string_append(o, "</td><td>");
        const struct rpt_step *worst = NULL;
        for (guint k = 0; k < s->steps->len; k++) {
            const struct rpt_step *st = g_ptr_array_index(s->steps, k);
            if (st->status == RPT_FAIL && (!worst || worst->status != RPT_FAIL))
                worst = st;
            else if (st->status == RPT_WARN && !worst)
                worst = st;
        }
        if (worst) {
            step_link(o, i, worst->id);
            g_string_append(o, ": <code>");
            esc(o, worst->diagnosis);
            g_string_append(o, "</code> ");
            esc(o, worst->summary);
        } else {
            g_string_append(o, "<span class=\"muted\">none</span>");
        }
        g_string_append_printf(o, "</td><td class=\"num\">%u</td></tr>", npk);
    }
    g_string_append(o, "</table></section>");
}

static void render_checklist(GString *o, const struct sess_ctx *c)
{
    const struct rpt_session *s = c->s;
    g_string_append_printf(o, "<section class=\"card\" id=\"checklist-%u\"><h3>Checklist</h3>",
                           c->si);
    if (s->steps->len == 0) {
        g_string_append(o, "<p class=\"muted\">No step ran.</p></section>");
        return;
    }
    g_string_append(o, "<table class=\"checklist\"><tr><th></th><th>Step</th><th>Diagnosis"
                       "</th><th>What happened</th><th class=\"num\">Time</th><th>Frames</th>"
                       "</tr>");
    for (guint k = 0; k < s->steps->len; k++) {
        const struct rpt_step *st = g_ptr_array_index(s->steps, k);
        g_string_append_printf(o, "<tr class=\"st-%s\" id=\"", rpt_status_name(st->status));
        step_anchor(o, c->si, st->id);
        g_string_append(o, "\"><td class=\"ic\">");
        status_icon(o, st->status);
        g_string_append(o, "</td><td class=\"stc\"><span class=\"stt\">");
        esc(o, rpt_step_title(st->id));
        g_string_append(o, "</span> <code class=\"sid\">");
        esc(o, st->id);
        g_string_append(o, "</code></td><td>");
        const struct rpt_diag *d = st->diagnosis ? rpt_diag_find(st->diagnosis) : NULL;
        if (!st->diagnosis || strcmp(st->diagnosis, "ok") == 0) {
            g_string_append(o, "<span class=\"muted\">ok</span>");
        } else {
            g_string_append(o, "<code>");
            esc(o, st->diagnosis);
            g_string_append(o, "</code>");
            if (d) {
                g_string_append(o, "<div class=\"muted\">");
                esc(o, d->meaning);
                g_string_append(o, "</div>");
            }
        }
        g_string_append(o, "</td><td>");
        esc(o, st->summary);
        const char *hint = st->hint && *st->hint ? st->hint : NULL;
        if (!hint && d && (st->status == RPT_FAIL || st->status == RPT_WARN))
            hint = d->hint;
        if (hint && *hint) {
            g_string_append(o, "<div class=\"hint\"><b>Hint:</b> ");
            esc(o, hint);
            g_string_append(o, "</div>");
        }
        g_string_append(o, "</td><td class=\"num\">");
        if (st->status == RPT_SKIP && st->duration_ms <= 0)
            g_string_append(o, "\xe2\x80\x94");
        else
            append_ms(o, st->duration_ms);
        g_string_append(o, "</td><td class=\"mono\">");
        frame_links(o, st->packets, 6);
        g_string_append(o, "</td></tr>");
    }
    g_string_append(o, "</table></section>");
}

static void render_findings(GString *o, const struct sess_ctx *c)
{
    const struct rpt_session *s = c->s;
    if (s->findings->len == 0)
        return;
    g_string_append_printf(o, "<section class=\"card\" id=\"findings-%u\"><h3>Findings</h3>",
                           c->si);
    for (guint k = 0; k < s->findings->len; k++) {
        const struct rpt_finding *f = g_ptr_array_index(s->findings, k);
        const struct rpt_diag *d = f->diagnosis ? rpt_diag_find(f->diagnosis) : NULL;
        g_string_append_printf(o, "<div class=\"finding f-%s\">", rpt_severity_name(f->severity));
        g_string_append_printf(o, "<span class=\"badge b-%s\">%s</span> <code>",
                               rpt_severity_name(f->severity), rpt_severity_name(f->severity));
        esc(o, f->diagnosis);
        g_string_append(o, "</code>");
        if (d) {
            g_string_append(o, " \xe2\x80\x94 ");
            esc(o, d->meaning);
        }
        if (f->step) {
            g_string_append(o, " <span class=\"muted\">(step ");
            step_link(o, c->si, f->step);
            g_string_append(o, ")</span>");
        }
        g_string_append(o, "<p>");
        esc(o, f->message);
        g_string_append(o, "</p>");
        const char *hint = f->hint && *f->hint ? f->hint : d ? d->hint : NULL;
        if (hint && *hint) {
            g_string_append(o, "<p class=\"hint\"><b>What to check:</b> ");
            esc(o, hint);
            g_string_append(o, "</p>");
        }
        g_string_append(o, "</div>");
    }
    g_string_append(o, "</section>");
}

/* ---- Waterfall --------------------------------------------------------------------------- */
#define WF_W     1120
#define WF_LABEL 280
#define WF_BAR0  290
#define WF_BAR1  1020
#define WF_ROW   24
#define WF_TOP   26

/* 1, 2 or 5 times a power of ten: axis ticks people can read. */
static double nice_step(double span)
{
    double raw = span / 6, p = 1;
    while (p * 10 <= raw)
        p *= 10;
    while (p > raw && p > 1e-6)
        p /= 10;
    return raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
}

static int wf_x(double ms, double total)
{
    double x = WF_BAR0 + ms / total * (WF_BAR1 - WF_BAR0);
    return (int)(x < WF_BAR0 ? WF_BAR0 : x > WF_BAR1 ? WF_BAR1 : x);
}

static void render_waterfall(GString *o, const struct sess_ctx *c)
{
    const struct rpt_session *s = c->s;
    const struct rpt_result *r = c->r;
    guint n = s->steps->len;
    if (n == 0)
        return;
    /* A step starts at its first packet; one without packets follows the previous step. */
    double *start = g_new0(double, n);
    double cursor = 0, total = r->duration_ms > 0 ? r->duration_ms : 0;
    /* The steps before the first packet end where it starts (in a run of several sessions,
     * a later session's settings step is not at zero). */
    double lead = 0;
    for (guint k = 0; k < n; k++) {
        const struct rpt_step *st = g_ptr_array_index(s->steps, k);
        const struct rpt_packet *p =
            st->packets->len ? rpt_packet_get(r, g_array_index(st->packets, guint, 0)) : NULL;
        if (p) {
            cursor = MAX(0, rpt_packet_time(r, p) * 1000 - lead);
            break;
        }
        lead += st->duration_ms > 0 ? st->duration_ms : 0;
    }
    for (guint k = 0; k < n; k++) {
        const struct rpt_step *st = g_ptr_array_index(s->steps, k);
        double first = -1;
        for (guint i = 0; i < st->packets->len; i++) {
            const struct rpt_packet *p = rpt_packet_get(r, g_array_index(st->packets, guint, i));
            double t = p ? rpt_packet_time(r, p) * 1000 : -1;
            if (t >= 0 && (first < 0 || t < first))
                first = t;
        }
        start[k] = first >= 0 ? first : cursor;
        double end = start[k] + (st->duration_ms > 0 ? st->duration_ms : 0);
        cursor = MAX(cursor, end);
        total = MAX(total, end);
    }
    if (total <= 0)
        total = 1;
    int h = WF_TOP + (int)n * WF_ROW + 8;
    g_string_append_printf(o,
                           "<section class=\"card\" id=\"timing-%u\"><h3>Timing</h3>"
                           "<div class=\"svgwrap\"><svg class=\"wf\" width=\"%d\" height=\"%d\" "
                           "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"step timings\">",
                           c->si, WF_W, h, WF_W, h);
    double tick = nice_step(total);
    for (int i = 0; i * tick <= total * 1.0001 && i < 40; i++) {
        int x = wf_x(i * tick, total);
        g_string_append_printf(o,
                               "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#e5e7eb\"/>"
                               "<text x=\"%d\" y=\"14\" text-anchor=\"middle\" class=\"tm\">",
                               x, WF_TOP - 6, x, h - 4, x);
        append_ms(o, i * tick);
        g_string_append(o, "</text>");
    }
    for (guint k = 0; k < n; k++) {
        const struct rpt_step *st = g_ptr_array_index(s->steps, k);
        int y = WF_TOP + (int)k * WF_ROW;
        char *title = ellipsize(rpt_step_title(st->id), 44);
        g_string_append(o, "<a href=\"#");
        step_anchor(o, c->si, st->id);
        g_string_append_printf(o,
                               "\"><text x=\"%d\" y=\"%d\" text-anchor=\"end\" "
                               "font-size=\"12.5\" fill=\"%s\"%s>",
                               WF_LABEL, y + 16, st->status == RPT_SKIP ? C_SKIP : "#111827",
                               st->status == RPT_FAIL ? " font-weight=\"700\"" : "");
        esc(o, title);
        g_string_append(o, "</text></a>");
        g_free(title);
        int x = wf_x(start[k], total);
        if (st->status == RPT_SKIP && st->duration_ms <= 0) {
            g_string_append_printf(o, "<text x=\"%d\" y=\"%d\" class=\"nt\">skipped</text>", x + 4,
                                   y + 16);
            continue;
        }
        int w = wf_x(start[k] + st->duration_ms, total) - x;
        if (w < 3)
            w = 3;
        g_string_append_printf(o,
                               "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"15\" rx=\"3\" "
                               "fill=\"%s\"><title>",
                               x, y + 5, w, status_colour(st->status));
        esc(o, rpt_step_title(st->id));
        g_string_append(o, ": ");
        append_ms(o, st->duration_ms);
        g_string_append(o, "</title></rect>");
        /* Each packet of the step as a tick: where in the step the time went. */
        for (guint i = 0; i < st->packets->len; i++) {
            const struct rpt_packet *p = rpt_packet_get(r, g_array_index(st->packets, guint, i));
            if (!p)
                continue;
            int px = wf_x(rpt_packet_time(r, p) * 1000, total);
            g_string_append_printf(o,
                                   "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                                   "stroke=\"#111827\" stroke-opacity=\".55\"/>",
                                   px, y + 3, px, y + 22);
        }
        int tx = x + w + 6;
        gboolean inside = tx > WF_BAR1 - 40;
        g_string_append_printf(o, "<text x=\"%d\" y=\"%d\" class=\"tm\"%s>",
                               inside ? x + w - 4 : tx, y + 16,
                               inside ? " text-anchor=\"end\" style=\"fill:#fff\"" : "");
        append_ms(o, st->duration_ms);
        g_string_append(o, "</text>");
    }
    g_string_append(o, "</svg></div><p class=\"muted\">Bars: each step's duration from its "
                       "first packet, coloured by verdict; ticks: its packets.</p></section>");
    g_free(start);
}

/* ---- Ladder ------------------------------------------------------------------------------ */
#define LAD_W         1120
#define LAD_HEAD      66
#define LAD_ROW       26
#define LAD_GROUP     24
#define LAD_GAP       42
#define COLLAPSE_MIN  12 /* a run of relayed data this long is collapsed ... */
#define COLLAPSE_KEEP 3  /* ... to its first and last packets */
#define LAD_SILENCE   20
#define SILENCE_US    1000000 /* a pause this long is marked: the rows are not to scale */

enum row_kind { ROW_GROUP, ROW_PACKET, ROW_COLLAPSED, ROW_SILENCE };

struct row {
    enum row_kind kind;
    guint a, b; /* indexes into the session's packets: one packet, or a collapsed range */
    int y;
};

struct cols {
    int client, server, peer, note; /* x of the lifelines; peer 0 when absent */
};

/* The distinct addresses of one side, "first (+N more)", and all of them for the tooltip. */
static void side_addresses(const struct sess_ctx *c, int side, GString *first, GString *all)
{
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    guint n = 0;
    for (guint i = 0; i < c->pkts->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(c->pkts, i);
        const struct sl_addr *a;
        if (side == 1)
            a = p->dir == RPT_OUT ? &p->dst : &p->src;
        else if ((side == 2) != is_peer(p))
            continue;
        else
            a = p->dir == RPT_OUT ? &p->src : &p->dst;
        char buf[SL_ADDR_STRLEN];
        if (!a->family)
            continue;
        rpt_redact_addr_format(a, buf, sizeof(buf), true);
        if (g_hash_table_contains(seen, buf))
            continue;
        g_hash_table_add(seen, g_strdup(buf));
        if (n++ == 0)
            g_string_append(first, buf);
        if (all->len)
            g_string_append(all, ", ");
        g_string_append(all, buf);
    }
    if (n > 1)
        g_string_append_printf(first, " +%u more", n - 1);
    g_hash_table_unref(seen);
}

static void column_head(GString *o, const struct sess_ctx *c, int x, int side, const char *title,
                        const char *sub)
{
    GString *first = g_string_new(NULL), *all = g_string_new(NULL);
    side_addresses(c, side, first, all);
    g_string_append_printf(o, "<g><title>%s: ", title);
    esc(o, all->len ? all->str : "no address");
    g_string_append_printf(o,
                           "</title><rect x=\"%d\" y=\"4\" width=\"200\" height=\"52\" rx=\"8\" "
                           "fill=\"%s\" stroke=\"#94a3b8\"/>"
                           "<text x=\"%d\" y=\"21\" text-anchor=\"middle\" class=\"ch\">%s</text>"
                           "<text x=\"%d\" y=\"35\" text-anchor=\"middle\" class=\"cs\">%s</text>"
                           "<text x=\"%d\" y=\"49\" text-anchor=\"middle\" class=\"cs\">",
                           x - 100, side == 1 ? "#e0e7ff" : "#f8fafc", x, title, x, sub, x);
    char *addr = ellipsize(first->len ? first->str : "", 30);
    esc(o, addr);
    g_free(addr);
    g_string_append(o, "</text></g>");
    g_string_free(first, TRUE);
    g_string_free(all, TRUE);
}

static guint plan_rows(const struct sess_ctx *c, GArray *rows, int *height)
{
    int y = LAD_HEAD;
    const char *prev_step = NULL;
    gboolean first = TRUE;
    for (guint i = 0; i < c->pkts->len;) {
        const struct rpt_packet *p = g_ptr_array_index(c->pkts, i);
        const struct rpt_packet *before = i ? g_ptr_array_index(c->pkts, i - 1) : NULL;
        if (before && p->t_us - before->t_us >= SILENCE_US) {
            struct row sr = {ROW_SILENCE, i - 1, i, y};
            g_array_append_val(rows, sr);
            y += LAD_SILENCE;
        }
        if (first || g_strcmp0(p->step, prev_step) != 0) {
            struct row g = {ROW_GROUP, i, i, y};
            g_array_append_val(rows, g);
            y += LAD_GROUP;
            prev_step = p->step;
            first = FALSE;
        }
        guint j = i;
        while (j < c->pkts->len) {
            const struct rpt_packet *q = g_ptr_array_index(c->pkts, j);
            if (!is_bulk(q) || g_strcmp0(q->step, p->step) != 0)
                break;
            j++;
        }
        if (j - i >= COLLAPSE_MIN) {
            for (guint k = i; k < j; k++) {
                gboolean keep = k < i + COLLAPSE_KEEP || k >= j - COLLAPSE_KEEP;
                if (keep) {
                    struct row pr = {ROW_PACKET, k, k, y};
                    g_array_append_val(rows, pr);
                    y += LAD_ROW;
                } else if (k == i + COLLAPSE_KEEP) {
                    struct row cr = {ROW_COLLAPSED, k, j - COLLAPSE_KEEP - 1, y};
                    g_array_append_val(rows, cr);
                    y += LAD_GAP;
                }
            }
            i = j;
            continue;
        }
        struct row pr = {ROW_PACKET, i, i, y};
        g_array_append_val(rows, pr);
        y += LAD_ROW;
        i++;
    }
    *height = y + 14;
    return rows->len;
}

static void ladder_silence(GString *o, const struct sess_ctx *c, guint a, guint b, int y)
{
    const struct rpt_packet *pa = g_ptr_array_index(c->pkts, a);
    const struct rpt_packet *pb = g_ptr_array_index(c->pkts, b);
    g_string_append_printf(o,
                           "<text x=\"62\" y=\"%d\" class=\"tm\" "
                           "style=\"font-style:italic\">\xe2\x8b\xae ",
                           y + 14);
    append_ms(o, (double)(pb->t_us - pa->t_us) / 1000);
    g_string_append(o, " without a packet</text>");
}

static int side_x(const struct cols *x, const struct rpt_packet *p)
{
    return is_peer(p) && x->peer ? x->peer : x->client;
}

static void ladder_group(GString *o, const struct sess_ctx *c, const struct rpt_packet *p, int y,
                         gboolean bg)
{
    const struct rpt_step *st = p->step ? rpt_step_find(c->s, p->step) : NULL;
    enum rpt_status status = st ? st->status : RPT_SKIP;
    const char *colour = status == RPT_FAIL   ? C_FAIL
                         : status == RPT_WARN ? C_WARN
                                              : step_colour(p->step);
    if (bg) {
        g_string_append_printf(o,
                               "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" "
                               "fill=\"%s\" fill-opacity=\"%s\"/><rect x=\"0\" y=\"%d\" "
                               "width=\"4\" height=\"%d\" fill=\"%s\"/>",
                               y + 2, LAD_W, LAD_GROUP - 4, colour,
                               status == RPT_FAIL ? ".16" : ".09", y + 2, LAD_GROUP - 4, colour);
        return;
    }
    g_string_append_printf(o, "<text x=\"10\" y=\"%d\" class=\"gh\" fill=\"%s\">", y + 17, colour);
    if (p->step) {
        esc(o, rpt_step_title(p->step));
        g_string_append(o, " (");
        esc(o, p->step);
        g_string_append_printf(o, ") \xe2\x80\x94 %s",
                               st ? rpt_status_name(st->status) : "not in the checklist");
        if (st && st->status != RPT_PASS && st->diagnosis && strcmp(st->diagnosis, "ok") != 0) {
            g_string_append(o, ": ");
            esc(o, st->diagnosis);
        }
    } else {
        g_string_append(o, "Packets outside the checklist");
    }
    g_string_append(o, "</text>");
}

static void arrow(GString *o, int x1, int x2, int y, const char *colour, double width,
                  gboolean dashed)
{
    int dir = x2 > x1 ? 1 : -1;
    int tip = x2 - dir * 2;
    g_string_append_printf(o,
                           "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
                           "stroke-width=\"%s\"%s/>"
                           "<polygon points=\"%d,%d %d,%d %d,%d\" fill=\"%s\"/>",
                           x1 + dir * 2, y, tip - dir * 8, y, colour, width > 2 ? "2.6" : "1.6",
                           dashed ? " stroke-dasharray=\"5 3\"" : "", tip, y, tip - dir * 10, y - 5,
                           tip - dir * 10, y + 5, colour);
}

/* A row's tint goes under the lifelines: failing and warning packets, and every other row. */
static void ladder_packet_bg(GString *o, const struct rpt_packet *p, int y, gboolean zebra)
{
    enum rpt_status st = packet_status(p);
    if (st == RPT_FAIL || st == RPT_WARN)
        g_string_append_printf(o,
                               "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
                               "fill-opacity=\".10\"/>",
                               y, LAD_W, LAD_ROW, status_colour(st));
    else if (zebra)
        g_string_append_printf(o,
                               "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" "
                               "fill=\"#f8fafc\"/>",
                               y, LAD_W, LAD_ROW);
}

static void ladder_packet(GString *o, struct sess_ctx *c, const struct cols *x,
                          const struct rpt_packet *p, int y)
{
    enum rpt_status st = packet_status(p);
    const char *colour = packet_colour(p);
    int ay = y + 18;
    int side = side_x(x, p);
    int x1 = p->dir == RPT_OUT ? side : x->server;
    int x2 = p->dir == RPT_OUT ? x->server : side;
    char *label = packet_label(p);
    guint rtx = GPOINTER_TO_UINT(g_hash_table_lookup(c->retrans, GUINT_TO_POINTER(p->n)));
    guint unans = GPOINTER_TO_UINT(g_hash_table_lookup(c->unanswered, GUINT_TO_POINTER(p->n)));
    g_hash_table_add(c->in_ladder, GUINT_TO_POINTER(p->n));

    g_string_append_printf(o, "<g id=\"l%u\">", p->n);
    g_string_append_printf(o, "<title>frame %u: ", p->n);
    esc(o, p->summary ? p->summary : label);
    if (p->note) {
        g_string_append(o, " \xe2\x80\x94 ");
        esc(o, p->note);
    }
    g_string_append_printf(o,
                           "</title><a href=\"#p%u\"><text x=\"10\" y=\"%d\" class=\"fn\">#%u"
                           "</text></a><text x=\"62\" y=\"%d\" class=\"tm\">",
                           p->n, ay + 4, p->n, ay + 4);
    append_secs(o, rpt_packet_time(c->r, p));
    g_string_append(o, "</text>");
    arrow(o, x1, x2, ay, colour, st == RPT_FAIL ? 3 : 1.6,
          is_control(p) || p->kind == RPT_PKT_ICMP_UNREACH);
    g_string_append_printf(o,
                           "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"lb\" "
                           "fill=\"%s\">",
                           (x1 + x2) / 2, ay - 5, colour);
    esc(o, label);
    if (rtx)
        g_string_append_printf(o, " (retransmission %u)", rtx);
    g_string_append(o, "</text>");

    /* The note column: a verdict that is not "ok" first, then what the packet proves. */
    GString *note = g_string_new(NULL);
    if (unans)
        g_string_append_printf(note, "no answer (%s)%s",
                               rpt_txn_outcome_name((enum rpt_txn_outcome)(unans - 1)),
                               p->note ? ": " : "");
    if (st != RPT_PASS && p->verdict)
        g_string_append_printf(note, "%s: ", p->verdict);
    if (p->note)
        g_string_append(note, p->note);
    if (note->len) {
        glong room = (LAD_W - x->note - 8) / 6;
        char *cut = ellipsize(note->str, room);
        /* style, not fill=: the class's CSS fill would win over a presentation attribute. */
        if (st != RPT_PASS || unans)
            g_string_append_printf(o,
                                   "<text x=\"%d\" y=\"%d\" class=\"nt\" "
                                   "style=\"fill:%s;font-weight:600\">",
                                   x->note, ay + 4, status_colour(unans ? RPT_FAIL : st));
        else
            g_string_append_printf(o, "<text x=\"%d\" y=\"%d\" class=\"nt\">", x->note, ay + 4);
        esc(o, cut);
        g_string_append(o, "</text>");
        g_free(cut);
    }
    g_string_free(note, TRUE);
    g_string_append(o, "</g>");
    g_free(label);
}

/* One span (client-server or server-peer) of a collapsed run: how many went each way, and
 * under which label ("ChannelData 0x4000", or "relayed data" when the run mixes kinds). */
struct span_count {
    guint out, in;
    char *label;
    gboolean mixed;
};

static void span_add(struct span_count *sc, const struct rpt_packet *p)
{
    char *l = packet_label(p);
    if (p->dir == RPT_OUT)
        sc->out++;
    else
        sc->in++;
    if (!sc->label)
        sc->label = l;
    else {
        sc->mixed = sc->mixed || strcmp(sc->label, l) != 0;
        g_free(l);
    }
}

static void span_draw(GString *o, const struct span_count *sc, int xa, int xb, int y)
{
    if (!sc->out && !sc->in)
        return;
    int mid = (xa + xb) / 2;
    g_string_append_printf(o,
                           "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\" "
                           "fill=\"#f1f5f9\" stroke=\"#94a3b8\" stroke-dasharray=\"4 3\"/>"
                           "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"lb\" "
                           "fill=\"#334155\">",
                           xa + 6, y + 4, xb - xa - 12, LAD_GAP - 8, mid, y + 19);
    esc(o, sc->mixed ? "relayed data" : sc->label);
    g_string_append_printf(o,
                           "</text><text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
                           "class=\"nt\">%u \xe2\x86\x92 server, %u \xe2\x86\x90 server</text>",
                           mid, y + 33, sc->out, sc->in);
}

/* A long run of relayed data drawn as one bundle per span, with its frame range: the ladder
 * stays readable and the packet table still lists every frame. */
static void ladder_collapsed(GString *o, const struct sess_ctx *c, const struct cols *x, guint a,
                             guint b, int y)
{
    const struct rpt_packet *pa = g_ptr_array_index(c->pkts, a);
    const struct rpt_packet *pb = g_ptr_array_index(c->pkts, b);
    struct span_count client = {0}, peer = {0};
    for (guint k = a; k <= b; k++) {
        const struct rpt_packet *p = g_ptr_array_index(c->pkts, k);
        span_add(is_peer(p) && x->peer ? &peer : &client, p);
    }
    g_string_append_printf(o,
                           "<g><title>frames %u to %u: %u packets of relayed data, not drawn "
                           "one by one; every one is in the packet table</title>"
                           "<a href=\"#p%u\"><text x=\"10\" y=\"%d\" class=\"fn\">#%u\xe2\x80\x93"
                           "#%u</text></a><text x=\"10\" y=\"%d\" class=\"tm\">%u packets</text>",
                           pa->n, pb->n, b - a + 1, pa->n, y + 19, pa->n, pb->n, y + 33, b - a + 1);
    span_draw(o, &client, x->client, x->server, y);
    if (x->peer)
        span_draw(o, &peer, x->server, x->peer, y);
    g_string_append_printf(o,
                           "<text x=\"%d\" y=\"%d\" class=\"nt\">collapsed: all in the packet "
                           "table</text></g>",
                           x->note, y + 26);
    g_free(client.label);
    g_free(peer.label);
}

static void render_ladder(GString *o, struct sess_ctx *c)
{
    g_string_append_printf(o, "<section class=\"card\" id=\"ladder-%u\"><h3>Ladder diagram</h3>",
                           c->si);
    if (c->pkts->len == 0) {
        g_string_append(o, "<p class=\"muted\">No packet was sent or received in this session "
                           "(the steps that send packets failed earlier or were skipped).</p>"
                           "</section>");
        return;
    }
    gboolean has_peer = FALSE;
    for (guint i = 0; i < c->pkts->len; i++)
        has_peer = has_peer || is_peer(g_ptr_array_index(c->pkts, i));
    /* With a peer, it sits right of the server so relayed data visibly crosses the server. */
    struct cols x = has_peer ? (struct cols){250, 530, 810, 920} : (struct cols){250, 600, 0, 720};
    GArray *rows = g_array_new(FALSE, FALSE, sizeof(struct row));
    int height = 0;
    plan_rows(c, rows, &height);

    g_string_append(o, "<div class=\"legend\"><span><i style=\"background:" C_FAIL
                       "\"></i>failing packet</span><span><i style=\"background:" C_WARN
                       "\"></i>warning</span><span><i style=\"background:#64748b;height:1px;"
                       "border-top:2px dashed #64748b\"></i>TCP control / ICMP</span><span>"
                       "other colours: the step; <b>#N</b> is frame N of the pcapng, linked to "
                       "the packet table</span></div>");
    g_string_append_printf(o,
                           "<div class=\"svgwrap\"><svg class=\"ladder\" width=\"%d\" "
                           "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
                           "aria-label=\"ladder diagram of every packet\">",
                           LAD_W, height, LAD_W, height);
    /* Row tints, then lifelines, then arrows and text over them. */
    guint zebra = 0;
    for (guint i = 0; i < rows->len; i++) {
        const struct row *rw = &g_array_index(rows, struct row, i);
        if (rw->kind == ROW_GROUP) {
            ladder_group(o, c, g_ptr_array_index(c->pkts, rw->a), rw->y, TRUE);
            zebra = 0;
        } else if (rw->kind == ROW_PACKET) {
            ladder_packet_bg(o, g_ptr_array_index(c->pkts, rw->a), rw->y, zebra++ & 1);
        }
    }
    int lifelines[3] = {x.client, x.server, x.peer};
    for (int i = 0; i < 3; i++)
        if (lifelines[i])
            g_string_append_printf(o,
                                   "<line x1=\"%d\" y1=\"56\" x2=\"%d\" y2=\"%d\" "
                                   "stroke=\"%s\" stroke-width=\"%s\"/>",
                                   lifelines[i], lifelines[i], height - 4,
                                   i == 1 ? "#475569" : "#94a3b8", i == 1 ? "3" : "1.5");
    /* A pause breaks the lifelines, as in a sequence diagram: the rows are not to scale. */
    for (guint i = 0; i < rows->len; i++) {
        const struct row *rw = &g_array_index(rows, struct row, i);
        if (rw->kind == ROW_SILENCE)
            g_string_append_printf(o,
                                   "<rect x=\"160\" y=\"%d\" width=\"%d\" height=\"%d\" "
                                   "fill=\"#fff\"/>",
                                   rw->y + 5, LAD_W - 160, LAD_SILENCE - 10);
    }
    g_string_append(o, "<text x=\"10\" y=\"30\" class=\"cs\">frame</text>"
                       "<text x=\"62\" y=\"30\" class=\"cs\">time (s)</text>");
    /* In a capture the sockets are the customer's, not ours. */
    gboolean captured = g_strcmp0(c->r->command, "analyze") == 0;
    column_head(o, c, x.client, 0, "client", captured ? "as captured" : "our socket(s)");
    column_head(o, c, x.server, 1, "TURN server", "relays between the two");
    if (x.peer)
        column_head(o, c, x.peer, 2, "peer", captured ? "as captured" : "our second allocation");
    g_string_append_printf(o, "<text x=\"%d\" y=\"30\" class=\"cs\">note</text>", x.note);
    for (guint i = 0; i < rows->len; i++) {
        const struct row *rw = &g_array_index(rows, struct row, i);
        switch (rw->kind) {
        case ROW_GROUP:
            ladder_group(o, c, g_ptr_array_index(c->pkts, rw->a), rw->y, FALSE);
            break;
        case ROW_PACKET:
            ladder_packet(o, c, &x, g_ptr_array_index(c->pkts, rw->a), rw->y);
            break;
        case ROW_COLLAPSED:
            ladder_collapsed(o, c, &x, rw->a, rw->b, rw->y);
            break;
        case ROW_SILENCE:
            ladder_silence(o, c, rw->a, rw->b, rw->y);
            break;
        }
    }
    g_string_append(o, "</svg></div></section>");
    g_array_unref(rows);
}

/* ---- Step details ------------------------------------------------------------------------ */
static void render_details(GString *o, const struct sess_ctx *c)
{
    guint with = 0;
    for (guint k = 0; k < c->s->steps->len; k++) {
        const struct rpt_step *st = g_ptr_array_index(c->s->steps, k);
        with += st->details && json_object_get_size(st->details) > 0;
    }
    if (!with)
        return;
    g_string_append_printf(o,
                           "<section class=\"card\" id=\"details-%u\"><h3>Step details</h3>"
                           "<div class=\"grid\">",
                           c->si);
    for (guint k = 0; k < c->s->steps->len; k++) {
        const struct rpt_step *st = g_ptr_array_index(c->s->steps, k);
        if (!st->details || json_object_get_size(st->details) == 0)
            continue;
        g_string_append(o, "<div><h4>");
        if (strcmp(st->id, "tls") == 0)
            g_string_append(o, "TLS certificate and handshake");
        else
            esc(o, rpt_step_title(st->id));
        g_string_append(o, " <code>");
        esc(o, st->id);
        g_string_append(o, "</code></h4>");
        json_table(o, st->details, 0);
        g_string_append(o, "</div>");
    }
    g_string_append(o, "</div></section>");
}

/* ---- Packet table ------------------------------------------------------------------------ */
static void side_name(GString *o, const struct rpt_packet *p, gboolean from)
{
    gboolean ours = (p->dir == RPT_OUT) == from;
    if (ours)
        esc(o, p->endpoint ? p->endpoint : "client");
    else
        g_string_append(o, p->kind == RPT_PKT_ICMP_UNREACH ? "network" : "server");
}

static void packet_rows(GString *o, const struct sess_ctx *c, const GPtrArray *pkts)
{
    for (guint i = 0; i < pkts->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(pkts, i);
        enum rpt_status st = packet_status(p);
        char a[SL_ADDR_STRLEN], b[SL_ADDR_STRLEN];
        g_string_append_printf(o, "<tr id=\"p%u\" class=\"pv-%s\"><td class=\"fr\">", p->n,
                               rpt_status_name(st));
        if (c && g_hash_table_contains(c->in_ladder, GUINT_TO_POINTER(p->n)))
            g_string_append_printf(o,
                                   "<a href=\"#l%u\" title=\"frame %u of the pcapng; show it "
                                   "in the ladder\">#%u</a>",
                                   p->n, p->n, p->n);
        else
            g_string_append_printf(o, "<span title=\"frame %u of the pcapng\">#%u</span>", p->n,
                                   p->n);
        g_string_append(o, "</td><td class=\"num\">");
        append_secs(o, c ? rpt_packet_time(c->r, p) : 0);
        g_string_append_printf(o,
                               "</td><td class=\"nw\"><span class=\"chip\" "
                               "style=\"background:%s\"></span>",
                               step_colour(p->step));
        esc(o, p->step ? p->step : "\xe2\x80\x94");
        g_string_append(o, "</td><td class=\"nw\">");
        side_name(o, p, TRUE);
        g_string_append(o, " \xe2\x86\x92 ");
        side_name(o, p, FALSE);
        g_string_append_printf(o, "</td><td class=\"ad\">%s ", rpt_transport_name(p->transport));
        esc(o, rpt_redact_addr_format(&p->src, a, sizeof(a), true));
        g_string_append(o, " \xe2\x86\x92 ");
        esc(o, rpt_redact_addr_format(&p->dst, b, sizeof(b), true));
        g_string_append(o, "</td><td>");
        if (p->summary) {
            esc(o, p->summary);
        } else {
            char *l = packet_label(p);
            esc(o, l);
            g_free(l);
        }
        if (p->payload)
            g_string_append_printf(o, " <span class=\"muted\">(%" G_GSIZE_FORMAT " B)</span>",
                                   g_bytes_get_size(p->payload));
        g_string_append(o, "</td><td>");
        if (st != RPT_PASS) {
            g_string_append_printf(o, "<span class=\"vchip b-%s\">", rpt_status_name(st));
            esc(o, p->verdict);
            g_string_append(o, "</span> ");
        }
        esc(o, p->note);
        g_string_append(o, "</td></tr>");
    }
}

static const char packet_head[] =
    "<table class=\"pk\"><tr><th>Frame</th><th class=\"num\">Time (s)</th><th>Step</th>"
    "<th>Direction</th><th>Addresses</th><th>Summary</th>"
    "<th>Note / verdict</th></tr>";

static void render_packets(GString *o, const struct sess_ctx *c)
{
    if (c->pkts->len == 0)
        return;
    g_string_append_printf(o,
                           "<section class=\"card\" id=\"packets-%u\"><h3>Packets</h3><p "
                           "class=\"muted\">Frame #N is frame N of the annotated pcapng "
                           "(<code>--pcap</code>), where each packet's comment repeats its step "
                           "and verdict; Wireshark's Go to Packet (Ctrl+G) finds it.</p>",
                           c->si);
    g_string_append(o, packet_head);
    packet_rows(o, c, c->pkts);
    g_string_append(o, "</table></section>");
}

/* ---- Wireshark --------------------------------------------------------------------------- */
static void render_wireshark(GString *o, const struct sess_ctx *c)
{
    const struct rpt_session *s = c->s;
    const char *tp = s->target.transport ? s->target.transport : "udp";
    gboolean tls = strcmp(tp, "tls") == 0, dtls = strcmp(tp, "dtls") == 0;
    gboolean stream = tls || strcmp(tp, "tcp") == 0;
    const char *l4 = stream ? "tcp" : "udp";
    struct sl_addr a;
    gboolean have = FALSE;
    if (s->target.address && sl_addr_parse(&a, s->target.address, -1) == SL_OK)
        have = TRUE;
    else if (s->target.host && sl_addr_parse(&a, s->target.host, s->target.port) == SL_OK)
        have = TRUE;
    guint port = have && a.port ? a.port : s->target.port;

    GString *filter = g_string_new(tls    ? "(stun || turnchannel || tls)"
                                   : dtls ? "(stun || turnchannel || dtls)"
                                          : "(stun || turnchannel)");
    char ip[SL_ADDR_STRLEN], shown[SL_ADDR_STRLEN];
    /* A redacted address shows as a label, which is no filter: leave the address out. */
    if (have && strcmp(sl_addr_format(&a, ip, sizeof(ip), false),
                       rpt_redact_addr_format(&a, shown, sizeof(shown), false)) == 0) {
        g_string_append_printf(filter, " && %s==%s",
                               a.family == SL_AF_IPV6 ? "ipv6.addr" : "ip.addr", ip);
    }
    if (port)
        g_string_append_printf(filter, " && %s.port==%u", l4, port);
    GString *decode = g_string_new(NULL);
    /* Wireshark dissects STUN on 3478 and 5349 by itself; any other port needs Decode As. */
    if (port && port != 3478 && port != 5349)
        g_string_append_printf(decode, "-d %s.port==%u,%s", tls ? "tls" : l4, port,
                               dtls ? "dtls" : "stun");

    g_string_append_printf(o,
                           "<section class=\"card ws\" id=\"wireshark-%u\"><h3>See it in "
                           "Wireshark</h3><p>Display filter for this session:</p><pre>",
                           c->si);
    esc(o, filter->str);
    g_string_append(o, "</pre>");
    if (decode->len) {
        g_string_append_printf(o,
                               "<p>Port %u is not a STUN port Wireshark knows, so tell it "
                               "(Analyze \xe2\x80\xba Decode As\xe2\x80\xa6, or on the "
                               "command line):</p><pre>tshark -r turnprobe.pcapng ",
                               port);
        esc(o, decode->str);
        g_string_append(o, " -Y '");
        esc(o, filter->str);
        g_string_append(o, "'</pre>");
    } else {
        g_string_append(o, "<pre>tshark -r turnprobe.pcapng -Y '");
        esc(o, filter->str);
        g_string_append(o, "'</pre>");
    }
    g_string_append(o, "<p>ChannelData records show as <b>TURN ChannelData</b> (filter "
                       "<code>turnchannel</code>), the relayed bytes inside them as data. Frame "
                       "numbers in this report are the frame numbers of the pcapng written "
                       "with <code>--pcap</code>.");
    if (tls || dtls) {
        if (c->r->keylog)
            g_string_append(o, " The pcapng embeds this run's TLS secrets, so Wireshark "
                               "decrypts the STUN inside TLS by itself.");
        else
            g_string_append(o, " Without TLS secrets Wireshark sees only TLS records: run "
                               "again with <code>--keylog FILE</code> and give the file to "
                               "Wireshark (TLS preferences, (Pre)-Master-Secret log).");
    }
    g_string_append(o, "</p></section>");
    g_string_free(filter, TRUE);
    g_string_free(decode, TRUE);
}

/* ---- The document ------------------------------------------------------------------------ */
static void render_session(GString *o, const struct rpt_result *r, guint si, gboolean several)
{
    struct sess_ctx c;
    ctx_init(&c, r, si);
    if (several) {
        enum rpt_status v = rpt_session_verdict(c.s);
        g_string_append_printf(o, "<section class=\"card\" id=\"session-%u\"><h2>Session %u: ", si,
                               si + 1);
        esc(o, c.s->name ? c.s->name : target_name(c.s));
        g_string_append(o, " ");
        badge(o, v);
        g_string_append(o, "</h2>");
        render_target(o, c.s);
        g_string_append(o, "</section>");
    }
    g_string_append_printf(o, "<nav class=\"toc\"><a href=\"#checklist-%u\">Checklist</a>", si);
    if (c.s->findings->len)
        g_string_append_printf(o, "<a href=\"#findings-%u\">Findings</a>", si);
    g_string_append_printf(o, "<a href=\"#ladder-%u\">Ladder</a>", si);
    if (c.s->steps->len)
        g_string_append_printf(o, "<a href=\"#timing-%u\">Timing</a>", si);
    if (c.pkts->len)
        g_string_append_printf(o, "<a href=\"#packets-%u\">Packets</a>", si);
    g_string_append_printf(o, "<a href=\"#wireshark-%u\">Wireshark</a></nav>", si);
    render_checklist(o, &c);
    render_findings(o, &c);
    render_ladder(o, &c);
    render_waterfall(o, &c);
    render_details(o, &c);
    render_packets(o, &c);
    render_wireshark(o, &c);
    ctx_clear(&c);
}

char *rpt_html_to_string(const struct rpt_result *r)
{
    GString *o = g_string_sized_new(64 * 1024 + r->packets->len * 2048);
    enum rpt_status v = rpt_result_verdict(r);
    /* XHTML-compatible HTML5: every element closed and only XML's entities, so the same file
     * is both what a browser renders and what a strict XML parser accepts. */
    g_string_append(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
                       "<meta name=\"viewport\" content=\"width=device-width, "
                       "initial-scale=1\"/><meta name=\"generator\" content=\"turnprobe ");
    esc(o, r->version);
    g_string_append_printf(o, "\"/><title>turnprobe %s \xe2\x80\x94 ",
                           r->sessions->len ? rpt_status_name(v) : "empty");
    if (r->sessions->len == 1)
        esc(o, target_name(g_ptr_array_index(r->sessions, 0)));
    else
        g_string_append_printf(o, "%u targets", r->sessions->len);
    g_string_append(o, "</title><style>");
    g_string_append(o, css);
    g_string_append(o, "</style></head><body><main>");
    render_banner(o, r);
    render_environment(o, r);
    gboolean several = r->sessions->len > 1;
    if (several)
        render_summary(o, r);
    for (guint i = 0; i < r->sessions->len; i++)
        render_session(o, r, i, several);
    if (r->sessions->len == 0 && r->packets->len) {
        g_string_append(o, "<section class=\"card\"><h3>Packets</h3>");
        g_string_append(o, packet_head);
        packet_rows(o, NULL, r->packets);
        g_string_append(o, "</table></section>");
    }
    g_string_append(o, "<footer>turnprobe ");
    esc(o, r->version);
    g_string_append(o, " \xc2\xb7 a self-contained report: no script, no external resource. "
                       "Frame numbers match the annotated pcapng.</footer></main></body>"
                       "</html>\n");
    return g_string_free(o, FALSE);
}

gboolean rpt_html_write(const struct rpt_result *r, const char *path, GError **err)
{
    char *html = rpt_html_to_string(r);
    size_t len = strlen(html);
    gboolean ok;
    if (strcmp(path, "-") == 0) {
        ok = fwrite(html, 1, len, stdout) == len && fflush(stdout) == 0;
        if (!ok)
            g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_IO, "standard output: write failed");
    } else {
        /* CONSISTENT: a temporary file, fsync, rename; a crash leaves the old file or the
         * new one, never half a report. */
        ok = g_file_set_contents_full(path, html, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                      err);
    }
    g_free(html);
    return ok;
}
