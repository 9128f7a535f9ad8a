/* Unit tests of stunlib against real traffic: browser messages from pion, and the shared
 * pcap/pcapng captures (UDP datagrams classified, TCP streams framed). */
#include <glib.h>
#include <pcap/pcap.h>
#include <string.h>

#include "sl_auth.h"
#include "sl_classify.h"
#include "sl_frame.h"
#include "sl_msg.h"
#include "sl_rd.h"
#include "tp_testutil.h"

#define assert_err(got, want) g_assert_cmpstr(sl_strerror(got), ==, sl_strerror(want))

/* ---- pion/stun's browser messages ---- */

static void test_ex1_chrome(void)
{
    GBytes *b = tp_read_file(TP_CAPTURES_DIR "/pion-stun/ex1_chrome.stun");
    gsize len = 0;
    const uint8_t *p = g_bytes_get_data(b, &len);
    struct sl_msg m;
    g_assert_cmpuint(len, ==, 48);
    assert_err(sl_msg_decode(&m, p, len, 0), SL_OK);
    g_assert_cmpuint(m.method, ==, SL_BINDING);
    g_assert_cmpint(m.cls, ==, SL_REQUEST);
    g_assert_cmpuint(m.nattrs, ==, 1);
    /* 0x802F is Chrome's ORIGIN (comprehension-optional, unknown to stunlib). */
    g_assert_cmphex(m.attrs[0].type, ==, 0x802f);
    g_assert_cmpuint(m.n_unknown_required, ==, 0);
    const uint8_t *v;
    size_t vlen;
    assert_err(sl_msg_get_bytes(&m, 0x802f, &v, &vlen), SL_OK);
    g_assert_cmpmem(v, vlen, "http://localhost:3000/", 22);
    assert_err(sl_auth_check_fingerprint(&m), SL_ENOTFOUND);
    g_assert_cmpint(sl_classify(p, len), ==, SL_KIND_STUN);
    g_bytes_unref(b);
}

/* Go's hash/crc64 with the ISO table, which pion used for the file's crc column: reflected
 * polynomial 0xD800000000000000, all ones in and out. */
static uint64_t crc64_iso(const uint8_t *p, size_t n)
{
    uint64_t c = ~G_GUINT64_CONSTANT(0);
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (G_GUINT64_CONSTANT(0xD800000000000000) & (0 - (c & 1)));
    }
    return ~c;
}

static int column(gchar **header, const char *name)
{
    for (int i = 0; header[i]; i++)
        if (strcmp(g_strstrip(header[i]), name) == 0)
            return i;
    g_error("frombrowsers.csv has no column %s", name);
    return -1;
}

static void test_from_browsers(void)
{
    GBytes *b = tp_read_file(TP_CAPTURES_DIR "/pion-stun/frombrowsers.csv");
    gchar *text = g_strndup(g_bytes_get_data(b, NULL), g_bytes_get_size(b));
    gchar **lines = g_strsplit(text, "\n", -1);
    gchar **header = NULL;
    int c_msg = -1, c_crc = -1, c_browser = -1;
    size_t rows = 0, with_fp = 0;
    for (gchar **l = lines; *l; l++) {
        gchar *line = g_strstrip(*l);
        if (*line == '\0' || *line == '#')
            continue;
        gchar **f = g_strsplit(line, ",", -1);
        if (!header) {
            header = f;
            c_msg = column(header, "message");
            c_crc = column(header, "crc");
            c_browser = column(header, "browser");
            continue;
        }
        g_assert_cmpuint(g_strv_length(f), ==, g_strv_length(header));
        gsize len = 0;
        guchar *raw = g_base64_decode(f[c_msg], &len);
        guint64 crc = 0;
        GError *err = NULL;
        if (!g_ascii_string_to_unsigned(f[c_crc], 10, 0, G_MAXUINT64, &crc, &err))
            g_error("crc column \"%s\": %s", f[c_crc], err->message);
        g_assert_cmpuint(crc64_iso(raw, len), ==, crc);

        uint8_t *p = tp_dup(raw, len);
        struct sl_msg m;
        assert_err(sl_msg_decode(&m, p, len, 0), SL_OK);
        g_assert_cmpuint(m.method, ==, SL_BINDING);
        g_assert_cmpint(m.cls, ==, SL_REQUEST);
        g_assert_cmpuint(m.n_unknown_required, ==, 0);
        /* Firefox adds FINGERPRINT, Chrome (55) did not. */
        bool firefox = strcmp(f[c_browser], "Firefox") == 0;
        g_assert_cmpint(m.idx_fp >= 0, ==, firefox);
        if (m.idx_fp >= 0) {
            assert_err(sl_auth_check_fingerprint(&m), SL_OK);
            with_fp++;
            /* A damaged FINGERPRINT is caught, and then the message is no longer STUN. */
            p[len - 1] ^= 0x01;
            assert_err(sl_auth_check_fingerprint(&m), SL_EFINGERPRINT);
            g_assert_cmpint(sl_classify(p, len), ==, SL_KIND_OTHER);
            p[len - 1] ^= 0x01;
        }
        g_assert_cmpint(sl_classify(p, len), ==, SL_KIND_STUN);
        rows++;
        g_free(p);
        g_free(raw);
        g_strfreev(f);
    }
    g_assert_cmpuint(rows, ==, 14);
    g_assert_cmpuint(with_fp, ==, 5);
    g_strfreev(header);
    g_strfreev(lines);
    g_free(text);
    g_bytes_unref(b);
}

/* ---- the pcap and pcapng captures ---- */

struct l4 {
    bool udp; /* else TCP */
    char flow[128];
    uint32_t seq;
    bool syn;
    const uint8_t *payload;
    size_t len;
};

/* Ethernet (with VLAN tags), IPv4 or IPv6, then UDP or TCP; every read bounds-checked. The
 * IP length, not the frame, bounds the payload: short frames carry Ethernet padding. */
static bool parse_frame(const uint8_t *p, size_t caplen, struct l4 *out)
{
    struct sl_rd rd;
    sl_rd_init(&rd, p, caplen);
    sl_rd_skip(&rd, 12);
    uint16_t ethertype = sl_rd_u16(&rd);
    while (ethertype == 0x8100 || ethertype == 0x88a8) {
        sl_rd_skip(&rd, 2);
        ethertype = sl_rd_u16(&rd);
    }
    uint8_t proto = 0;
    char src[48] = "", dst[48] = "";
    size_t l4len = 0;
    const uint8_t *ip;
    if (ethertype == 0x0800) {
        ip = sl_rd_bytes(&rd, 20);
        if (!ip || (ip[0] >> 4) != 4)
            return false;
        size_t ihl = (size_t)(ip[0] & 0x0f) * 4, total = sl_get_u16(ip + 2);
        /* Fragments other than the first carry no transport header. */
        if ((sl_get_u16(ip + 6) & 0x3fff) != 0 || ihl < 20 || total < ihl)
            return false;
        sl_rd_skip(&rd, ihl - 20);
        proto = ip[9];
        l4len = total - ihl;
        g_snprintf(src, sizeof(src), "%u.%u.%u.%u", ip[12], ip[13], ip[14], ip[15]);
        g_snprintf(dst, sizeof(dst), "%u.%u.%u.%u", ip[16], ip[17], ip[18], ip[19]);
    } else if (ethertype == 0x86dd) {
        ip = sl_rd_bytes(&rd, 40);
        if (!ip)
            return false;
        proto = ip[6];
        l4len = sl_get_u16(ip + 4);
        /* Hop-by-hop, routing and destination options; a fragment header ends the search. */
        while (proto == 0 || proto == 43 || proto == 60) {
            const uint8_t *ext = sl_rd_bytes(&rd, 2);
            if (!ext)
                return false;
            size_t extlen = 8 * ((size_t)ext[1] + 1);
            if (extlen > l4len)
                return false;
            sl_rd_skip(&rd, extlen - 2);
            l4len -= extlen;
            proto = ext[0];
        }
        for (int i = 0; i < 16; i += 2)
            g_snprintf(src + strlen(src), sizeof(src) - strlen(src), "%s%x", i ? ":" : "",
                       sl_get_u16(ip + 8 + i));
        for (int i = 0; i < 16; i += 2)
            g_snprintf(dst + strlen(dst), sizeof(dst) - strlen(dst), "%s%x", i ? ":" : "",
                       sl_get_u16(ip + 24 + i));
    } else {
        return false;
    }
    if (rd.err || l4len > sl_rd_left(&rd))
        return false;
    struct sl_rd l4;
    sl_rd_init(&l4, rd.p + rd.off, l4len);
    uint16_t sport = sl_rd_u16(&l4), dport = sl_rd_u16(&l4);
    if (proto == 17) {
        uint16_t ulen = sl_rd_u16(&l4);
        sl_rd_skip(&l4, 2);
        if (l4.err || ulen < 8 || ulen > l4len)
            return false;
        out->udp = true;
        out->len = ulen - 8u;
    } else if (proto == 6) {
        out->seq = sl_rd_u32(&l4);
        sl_rd_skip(&l4, 4);
        uint8_t off = sl_rd_u8(&l4), flags = sl_rd_u8(&l4);
        size_t hlen = (size_t)(off >> 4) * 4;
        if (l4.err || hlen < 20 || hlen > l4len)
            return false;
        sl_rd_skip(&l4, hlen - 14);
        out->udp = false;
        out->syn = (flags & 0x02) != 0;
        out->len = l4len - hlen;
    } else {
        return false;
    }
    out->payload = sl_rd_bytes(&l4, out->len);
    if (!out->payload && out->len)
        return false;
    g_snprintf(out->flow, sizeof(out->flow), "%s.%u>%s.%u", src, sport, dst, dport);
    return true;
}

struct tcp_flow {
    struct sl_framer framer;
    bool started, gap, desync;
    uint32_t next_seq;
};

struct counts {
    size_t packets, udp, kinds[SL_KIND_ZRTP + 1];
    size_t tcp_flows, tcp_stun, tcp_chan, tcp_desync, tcp_gaps;
};

static void check_stun(const uint8_t *p, size_t len, const char *where)
{
    struct sl_msg m;
    uint8_t *copy = tp_dup(p, len);
    int rc = sl_msg_decode(&m, copy, len, SL_DEC_LENIENT);
    if (rc != SL_OK)
        g_error("%s: %s", where, sl_strerror(rc));
    if (m.idx_fp >= 0)
        assert_err(sl_auth_check_fingerprint(&m), SL_OK);
    g_free(copy);
}

static void tcp_data(struct counts *c, GHashTable *flows, const struct l4 *pk)
{
    struct tcp_flow *f = g_hash_table_lookup(flows, pk->flow);
    if (!f) {
        f = g_new0(struct tcp_flow, 1);
        sl_framer_init(&f->framer, 0);
        g_hash_table_insert(flows, g_strdup(pk->flow), f);
    }
    if (pk->syn) {
        f->started = true;
        f->next_seq = pk->seq + 1;
        return;
    }
    if (pk->len == 0 || f->gap || f->desync)
        return;
    const uint8_t *p = pk->payload;
    size_t len = pk->len;
    if (f->started) {
        uint32_t ahead = pk->seq - f->next_seq; /* modulo 2^32 */
        uint32_t behind = f->next_seq - pk->seq;
        if (ahead != 0 && ahead < 0x80000000u) {
            f->gap = true; /* a lost segment: stop rather than frame garbage */
            c->tcp_gaps++;
            return;
        }
        if (behind != 0 && behind < 0x80000000u) {
            if (behind >= len)
                return; /* a retransmission */
            p += behind;
            len -= behind;
        }
    }
    f->started = true;
    f->next_seq = pk->seq + (uint32_t)pk->len;
    while (len > 0) {
        size_t took = sl_framer_feed(&f->framer, p, len);
        p += took;
        len -= took;
        struct sl_frame fr;
        int rc;
        while ((rc = sl_framer_next(&f->framer, &fr)) == SL_OK) {
            if (fr.kind == SL_FRAME_STUN) {
                check_stun(fr.p, fr.len, pk->flow);
                c->tcp_stun++;
            } else {
                c->tcp_chan++;
            }
        }
        if (rc == SL_EFRAME) {
            f->desync = true;
            c->tcp_desync++;
            return;
        }
        if (took == 0)
            g_error("%s: framer stuck", pk->flow);
    }
}

static void read_capture(const char *path, struct counts *c)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, errbuf);
    if (!pc)
        g_error("%s: %s", path, errbuf);
    g_assert_cmpint(pcap_datalink(pc), ==, DLT_EN10MB);
    GHashTable *flows = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc;
    while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
        struct l4 pk;
        c->packets++;
        if (!parse_frame(data, h->caplen, &pk))
            continue;
        if (!pk.udp) {
            tcp_data(c, flows, &pk);
            continue;
        }
        c->udp++;
        uint8_t *p = tp_dup(pk.payload, pk.len);
        enum sl_kind k = sl_classify(p, pk.len);
        c->kinds[k]++;
        if (k == SL_KIND_STUN) {
            gchar *where = g_strdup_printf("%s packet %zu", path, c->packets);
            check_stun(p, pk.len, where);
            g_free(where);
        }
        g_free(p);
    }
    g_assert_cmpint(rc, ==, PCAP_ERROR_BREAK);
    GHashTableIter it;
    gpointer key, val;
    g_hash_table_iter_init(&it, flows);
    while (g_hash_table_iter_next(&it, &key, &val))
        if (((struct tcp_flow *)val)->framer.consumed > 0 || ((struct tcp_flow *)val)->desync)
            c->tcp_flows++;
    g_hash_table_unref(flows);
    pcap_close(pc);
}

struct capture_case {
    const char *file;
    size_t packets, udp, stun, classic, chan, other;
    size_t tcp_flows, tcp_stun, tcp_chan, tcp_desync;
};

/* Expected counts, checked against tshark 4.0 (`tshark -r FILE -Y "stun && udp"` and
 * `-Y "stun && tcp"`):
 * - arkime: tshark's one STUN packet is the MS-TURN Allocate whose length (113) is not a
 *   multiple of 4, which we refuse; the two classic Binding requests tshark leaves undissected;
 *   the TCP flow is "RSP/1.0" text, a desync.
 * - lru_ipv6_caches: 29 as tshark; its TCP flows are TLS on 443, a desync each.
 * - ndpi/stun.pcap: tshark's 141 UDP are our 120 STUN + 19 ChannelData, plus frame 24 (a STUN
 *   message quoted inside an ICMP port unreachable, not a UDP payload) and frame 195 (a Binding
 *   request whose FINGERPRINT is wrong; tshark flags it "Bad Fingerprint"). Of its TCP, the
 *   41588<->42000 flow uses RFC 4571 framing (a 2-byte length before each message, ICE-TCP), not
 *   TURN's, so both directions desync; the 3478 flow gives 21 messages in tshark's 19 segments.
 * - stun_dtls_rtp: 4 UDP and 39 TCP messages, as tshark.
 * - stun_tcp_multiple_msgs_same_pkt: 6 messages in 4 segments, as tshark.
 * - attribute-length-ffff and malformed-error: tshark shows both packets, one of each is
 *   malformed and refused.
 * - stun-ice-testcall: 108 as tshark. */
/* clang-format off */
static const struct capture_case capture_cases[] = {
    /* file, packets, then UDP: datagrams, STUN, classic, ChannelData, other;
     * then TCP: flows, STUN records, ChannelData records, desynchronised flows */
    {"arkime/stun.pcap",                                 8,   5,   0,  2,  0,   3,  1,  0, 0, 1},
    {"ndpi/lru_ipv6_caches.pcapng",                     88,  79,  29,  0,  0,  50,  3,  0, 0, 3},
    {"ndpi/stun.pcap",                                 201, 165, 120,  0, 19,  26,  4, 21, 0, 2},
    {"ndpi/stun_classic.pcap",                          22,  22,   0,  2,  0,  20,  0,  0, 0, 0},
    {"ndpi/stun_dtls_rtp.pcapng",                      102,  39,   4,  0,  0,  35,  2, 39, 0, 0},
    {"ndpi/stun_tcp_multiple_msgs_same_pkt.pcap",        5,   0,   0,  0,  0,   0,  1,  6, 0, 0},
    {"zeek-spicy-stun/stun-attribute-length-ffff.pcap",  2,   2,   1,  0,  0,   1,  0,  0, 0, 0},
    {"zeek-spicy-stun/stun-ice-testcall.pcap",         108, 108, 108,  0,  0,   0,  0,  0, 0, 0},
    {"zeek-spicy-stun/stun-malformed-error.pcap",        2,   2,   1,  0,  0,   1,  0,  0, 0, 0},
};

static void test_capture(gconstpointer data)
{
    const struct capture_case *cc = data;
    gchar *path = g_build_filename(TP_CAPTURES_DIR, cc->file, NULL);
    struct counts c = {0};
    read_capture(path, &c);
    size_t other = c.udp - c.kinds[SL_KIND_STUN] - c.kinds[SL_KIND_STUN_CLASSIC] -
                   c.kinds[SL_KIND_CHANNELDATA];
    g_test_message("%s: packets %zu udp %zu stun %zu classic %zu chan %zu other %zu (dtls %zu "
                   "tls %zu rtp %zu rtcp %zu) | tcp flows %zu stun %zu chan %zu desync %zu "
                   "gaps %zu",
                   cc->file, c.packets, c.udp, c.kinds[SL_KIND_STUN],
                   c.kinds[SL_KIND_STUN_CLASSIC], c.kinds[SL_KIND_CHANNELDATA], other,
                   c.kinds[SL_KIND_DTLS], c.kinds[SL_KIND_TLS], c.kinds[SL_KIND_RTP],
                   c.kinds[SL_KIND_RTCP], c.tcp_flows, c.tcp_stun, c.tcp_chan, c.tcp_desync,
                   c.tcp_gaps);
    g_assert_cmpuint(c.packets, ==, cc->packets);
    g_assert_cmpuint(c.udp, ==, cc->udp);
    g_assert_cmpuint(c.kinds[SL_KIND_STUN], ==, cc->stun);
    g_assert_cmpuint(c.kinds[SL_KIND_STUN_CLASSIC], ==, cc->classic);
    g_assert_cmpuint(c.kinds[SL_KIND_CHANNELDATA], ==, cc->chan);
    g_assert_cmpuint(other, ==, cc->other);
    g_assert_cmpuint(c.tcp_flows, ==, cc->tcp_flows);
    g_assert_cmpuint(c.tcp_stun, ==, cc->tcp_stun);
    g_assert_cmpuint(c.tcp_chan, ==, cc->tcp_chan);
    g_assert_cmpuint(c.tcp_desync, ==, cc->tcp_desync);
    g_assert_cmpuint(c.tcp_gaps, ==, 0);
    g_free(path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sl_captures/pion/ex1_chrome", test_ex1_chrome);
    g_test_add_func("/sl_captures/pion/frombrowsers", test_from_browsers);
    for (size_t i = 0; i < G_N_ELEMENTS(capture_cases); i++) {
        gchar *p = g_strdup_printf("/sl_captures/pcap/%s", capture_cases[i].file);
        g_test_add_data_func(p, &capture_cases[i], test_capture);
        g_free(p);
    }
    return g_test_run();
}
