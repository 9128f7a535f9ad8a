/* Tests of live capture's matching and renumbering (tp_capture_adopt), over frames written to a
 * pcap file and loaded as if captured: coalesced and split TCP records, a datagram the capture
 * missed, an ICMP error, frames of another socket. */
#include <glib.h>
#include <glib/gstdio.h>
#include <pcap/pcap.h>
#include <string.h>

#include "rpt_model.h"
#include "sl_rd.h"
#include "tp_capture.h"

#define CLIENT_UDP 40000
#define CLIENT_TCP 40001
#define OTHER_UDP  40009
#define SERVER     3478
#define ISN_C      1000u
#define ISN_S      5000u

#define F_FIN 0x01
#define F_SYN 0x02
#define F_PSH 0x08
#define F_ACK 0x10

static const guint8 LOOP[4] = {127, 0, 0, 1};

static struct sl_addr addr(guint16 port)
{
    struct sl_addr a;
    memset(&a, 0, sizeof(a));
    a.family = SL_AF_IPV4;
    memcpy(a.ip, LOOP, 4);
    a.port = port;
    return a;
}

/* Frames as loopback gives them (Ethernet, zero addresses): an IPv4 header for proto and l4len
 * bytes after it (checksums are not the matcher's business). Returns where the IP header ends;
 * b points at the IP header, ETH bytes after the frame's start. */
#define ETH 14
static size_t ip4(guint8 *b, guint8 proto, size_t l4len)
{
    memset(b - ETH, 0, 12);
    sl_put_u16(b - 2, 0x0800);
    memset(b, 0, 20);
    b[0] = 0x45;
    sl_put_u16(b + 2, (guint16)(20 + l4len));
    b[8] = 64;
    b[9] = proto;
    memcpy(b + 12, LOOP, 4);
    memcpy(b + 16, LOOP, 4);
    return 20;
}

static size_t udp(guint8 *b, guint16 sp, guint16 dp, const char *data)
{
    size_t n = strlen(data);
    size_t o = ip4(b, 17, 8 + n);
    sl_put_u16(b + o, sp);
    sl_put_u16(b + o + 2, dp);
    sl_put_u16(b + o + 4, (guint16)(8 + n));
    sl_put_u16(b + o + 6, 0);
    memcpy(b + o + 8, data, n);
    return o + 8 + n;
}

static size_t tcp(guint8 *b, guint16 sp, guint16 dp, guint32 seq, guint32 ack, guint8 flags,
                  const char *data)
{
    size_t n = data ? strlen(data) : 0;
    size_t o = ip4(b, 6, 20 + n);
    memset(b + o, 0, 20);
    sl_put_u16(b + o, sp);
    sl_put_u16(b + o + 2, dp);
    sl_put_u32(b + o + 4, seq);
    sl_put_u32(b + o + 8, ack);
    b[o + 12] = 5 << 4;
    b[o + 13] = flags;
    sl_put_u16(b + o + 14, 65535);
    if (n)
        memcpy(b + o + 20, data, n);
    return o + 20 + n;
}

/* ICMP port unreachable quoting the UDP datagram q whole, as Linux does. */
static size_t icmp_unreach(guint8 *b, const guint8 *q, size_t qlen)
{
    size_t quote = qlen;
    size_t o = ip4(b, 1, 8 + quote);
    memset(b + o, 0, 8);
    b[o] = 3;
    b[o + 1] = 3;
    memcpy(b + o + 8, q, quote);
    return o + 8 + quote;
}

struct frames {
    pcap_t *dead;
    pcap_dumper_t *d;
    gint64 t;
};

/* b: the IP packet, with ETH bytes of room before it; len: its length. */
static void put(struct frames *f, const guint8 *b, size_t len)
{
    b -= ETH;
    len += ETH;
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof(h));
    f->t += 1000;
    h.ts.tv_sec = (time_t)(f->t / G_USEC_PER_SEC);
    h.ts.tv_usec = (suseconds_t)(f->t % G_USEC_PER_SEC);
    h.caplen = h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)f->d, &h, b);
}

static struct rpt_packet *logged(struct rpt_result *r, enum rpt_kind kind, enum rpt_dir dir,
                                 enum rpt_transport tp, guint16 local, const char *data,
                                 const char *step, const char *summary)
{
    struct sl_addr l = addr(local), s = addr(SERVER);
    struct rpt_packet *p =
        rpt_packet_add(r, kind, dir, tp, dir == RPT_OUT ? &l : &s, dir == RPT_OUT ? &s : &l,
                       1700000000000000 + r->packets->len, data, data ? strlen(data) : 0);
    p->endpoint = g_strdup("client");
    p->step = g_strdup(step);
    p->summary = g_strdup(summary);
    return p;
}

static void test_adopt(void)
{
    char *dir = g_dir_make_tmp("tp_capture.XXXXXX", NULL);
    char *in = g_build_filename(dir, "in.pcap", NULL);
    char *out = g_build_filename(dir, "out.pcapng", NULL);

    /* The probe's log. */
    struct rpt_result *r = rpt_result_new("check", "test");
    struct rpt_session *s = rpt_session_add(r, "turn:127.0.0.1:3478");
    struct rpt_step *bind = rpt_step_add(s, "binding");
    struct rpt_step *alloc = rpt_step_add(s, "allocate");
    const char *A = "udp-request-A", *B = "udp-answer-B", *C = "udp-request-C";
    const char *R1 = "record-one", *R2 = "record-two", *R3 = "a-record-split-in-two";
    guint p1 = logged(r, RPT_PKT_STUN, RPT_OUT, RPT_UDP, CLIENT_UDP, A, "binding", "A")->n;
    guint p2 = logged(r, RPT_PKT_STUN, RPT_IN, RPT_UDP, CLIENT_UDP, B, "binding", "B")->n;
    guint p3 = logged(r, RPT_PKT_STUN, RPT_OUT, RPT_UDP, CLIENT_UDP, C, "binding", "C")->n;
    struct rpt_packet *icmp = logged(r, RPT_PKT_ICMP_UNREACH, RPT_IN, RPT_UDP, CLIENT_UDP, NULL,
                                     NULL, "ICMP port unreachable");
    icmp->ref = p3;
    guint p4 = icmp->n;
    /* A datagram the network fragmented: 24 bytes (UDP header and 16 of data), then the rest. */
    const char *D = "a-datagram-in-two-IP-fragments-40-bytes!";
    guint p5 = logged(r, RPT_PKT_STUN, RPT_OUT, RPT_UDP, CLIENT_UDP, D, "binding", "D")->n;
    logged(r, RPT_PKT_TCP_SYN, RPT_OUT, RPT_TCP, CLIENT_TCP, NULL, NULL, "SYN");
    logged(r, RPT_PKT_TCP_SYNACK, RPT_IN, RPT_TCP, CLIENT_TCP, NULL, NULL, "SYNACK");
    logged(r, RPT_PKT_TCP_ACK, RPT_OUT, RPT_TCP, CLIENT_TCP, NULL, NULL, "ACK");
    guint r1 = logged(r, RPT_PKT_STUN, RPT_OUT, RPT_TCP, CLIENT_TCP, R1, "allocate", "R1")->n;
    guint r2 = logged(r, RPT_PKT_STUN, RPT_OUT, RPT_TCP, CLIENT_TCP, R2, "allocate", "R2")->n;
    guint r3 = logged(r, RPT_PKT_STUN, RPT_IN, RPT_TCP, CLIENT_TCP, R3, "allocate", "R3")->n;
    /* A record the capture missed: rebuilt where the captured stream stands. */
    logged(r, RPT_PKT_STUN, RPT_IN, RPT_TCP, CLIENT_TCP, "late", "allocate", "R4");
    static const guint8 tid[12] = {0};
    struct rpt_txn *t1 = rpt_txn_add(s, "binding", "client", 1, tid);
    g_array_append_val(t1->req_pkts, p1);
    t1->resp_pkt = p2;
    t1->outcome = RPT_TXN_SUCCESS;
    struct rpt_txn *t2 = rpt_txn_add(s, "binding", "client", 1, tid);
    g_array_append_val(t2->req_pkts, p3);
    t2->resp_pkt = p4;
    t2->outcome = RPT_TXN_UNREACH;
    guint bp[] = {p1, p2, p3, p5}, ap[] = {r1, r2, r3};
    g_array_append_vals(bind->packets, bp, 4);
    g_array_append_vals(alloc->packets, ap, 3);

    /* What the wire saw. */
    struct frames f = {pcap_open_dead(DLT_EN10MB, 65535), NULL, 1700000000000000};
    f.d = pcap_dump_open(f.dead, in);
    g_assert_nonnull(f.d);
    guint8 frame[256], qframe[256];
    guint8 *b = frame + ETH, *qc = qframe + ETH;
    size_t qlen = udp(qc, CLIENT_UDP, SERVER, C);
    put(&f, b, udp(b, CLIENT_UDP, SERVER, A)); /* 1: A */
    put(&f, b, udp(b, SERVER, CLIENT_UDP, B)); /* 2: B */
    /* C left before the capture saw it: 3 is rebuilt */
    put(&f, b, icmp_unreach(b, qc, qlen)); /* 4: about C */
    size_t dl = udp(b, CLIENT_UDP, SERVER, D);
    g_assert_cmpuint(dl, ==, 68);
    guint8 rest[64];
    memcpy(rest, b + 20 + 24, dl - 44);
    sl_put_u16(b + 2, 20 + 24);
    sl_put_u16(b + 4, 77);     /* identification */
    sl_put_u16(b + 6, 0x2000); /* more fragments */
    put(&f, b, 44);            /* 5: D's first fragment */
    ip4(b, 17, dl - 44);
    sl_put_u16(b + 4, 77);
    sl_put_u16(b + 6, 24 / 8); /* offset 24 */
    memcpy(b + 20, rest, dl - 44);
    put(&f, b, 20 + dl - 44);                                                      /* 6: the rest */
    put(&f, b, udp(b, OTHER_UDP, SERVER, "someone else's"));                       /* left out */
    put(&f, b, tcp(b, CLIENT_TCP, SERVER, ISN_C, 0, F_SYN, NULL));                 /* 5 */
    put(&f, b, tcp(b, SERVER, CLIENT_TCP, ISN_S, ISN_C + 1, F_SYN | F_ACK, NULL)); /* 6 */
    put(&f, b, tcp(b, CLIENT_TCP, SERVER, ISN_C + 1, ISN_S + 1, F_ACK, NULL));     /* 7 */
    char both[64];
    g_snprintf(both, sizeof(both), "%s%s", R1, R2);
    put(&f, b, tcp(b, CLIENT_TCP, SERVER, ISN_C + 1, ISN_S + 1, F_ACK | F_PSH, both)); /* 8 */
    char half1[32], half2[32];
    g_strlcpy(half1, R3, 9);
    g_strlcpy(half2, R3 + 8, sizeof(half2));
    put(&f, b, tcp(b, SERVER, CLIENT_TCP, ISN_S + 1, ISN_C + 21, F_ACK, half1)); /* 9 */
    put(&f, b, tcp(b, SERVER, CLIENT_TCP, ISN_S + 9, ISN_C + 21, F_ACK, half2)); /* 10 */
    put(&f, b, tcp(b, CLIENT_TCP, SERVER, ISN_C + 21, ISN_S + 22, F_ACK, NULL)); /* 11 */
    pcap_dump_close(f.d);
    pcap_close(f.dead);

    GError *err = NULL;
    struct tp_capture *c = tp_capture_load(in, &err);
    g_assert_no_error(err);
    g_assert_true(tp_capture_adopt(c, r, &err));
    g_assert_no_error(err);

    static const char *const want[] = {"A",
                                       "B",
                                       "C",
                                       "ICMP port unreachable",
                                       "D",
                                       "IP fragment at offset 24",
                                       "SYN",
                                       "SYNACK",
                                       "ACK",
                                       "R1 + R2",
                                       "TCP segment, 8 bytes",
                                       "R3",
                                       "R4",
                                       "TCP ACK"};
    g_assert_cmpuint(r->packets->len, ==, G_N_ELEMENTS(want));
    for (guint i = 0; i < r->packets->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        g_assert_cmpuint(p->n, ==, i + 1);
        g_assert_cmpstr(p->summary, ==, want[i]);
    }
    /* The rebuilt datagram says so; the ICMP error is explained and names the request it
     * quotes (the one the capture missed), and its transaction ends there. */
    g_assert_nonnull(strstr(rpt_packet_get(r, 3)->note, "rebuilt from turnprobe's log"));
    const struct rpt_packet *e = rpt_packet_get(r, 4);
    g_assert_cmpint(e->kind, ==, RPT_PKT_ICMP_UNREACH);
    g_assert_cmpuint(e->ref, ==, 3);
    g_assert_cmpstr(e->note, ==, "nothing listens on UDP port 3478 of the server");
    g_assert_cmpstr(e->verdict, ==, "port-unreachable");
    g_assert_cmpstr(e->step, ==, "binding");
    g_assert_cmpuint(g_array_index(t1->req_pkts, guint, 0), ==, 1);
    g_assert_cmpuint(t1->resp_pkt, ==, 2);
    g_assert_cmpuint(g_array_index(t2->req_pkts, guint, 0), ==, 3);
    g_assert_cmpuint(t2->resp_pkt, ==, 4);
    /* Steps: renumbered, the ICMP error added as evidence, the merged records once. */
    guint wb[] = {1, 2, 3, 4, 5}, wa[] = {10, 12};
    g_assert_cmpmem(bind->packets->data, bind->packets->len * sizeof(guint), wb, sizeof(wb));
    g_assert_cmpmem(alloc->packets->data, alloc->packets->len * sizeof(guint), wa, sizeof(wa));
    /* Two records in one segment: one packet with both payloads. */
    gsize n = 0;
    const guint8 *d = g_bytes_get_data(rpt_packet_get(r, 10)->payload, &n);
    g_assert_cmpmem(d, n, both, strlen(both));
    g_assert_nonnull(strstr(rpt_packet_get(r, 11)->note, "first bytes of \"R3\""));
    g_assert_cmpint(rpt_packet_get(r, 14)->kind, ==, RPT_PKT_TCP_ACK);
    /* The later fragment goes with its datagram. */
    const struct rpt_packet *frag = rpt_packet_get(r, 6);
    g_assert_cmpstr(frag->note, ==, "the rest of #5");
    g_assert_cmpstr(frag->step, ==, "binding");

    g_assert_true(tp_capture_write(c, r, out, FALSE, &err));
    g_assert_no_error(err);
    tp_capture_free(c);

    /* libpcap reads it back (one link type: the rebuilt frame is on Ethernet like the others),
     * the rebuilt datagram with valid checksums. */
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(out, errbuf);
    g_assert_nonnull(pc);
    struct pcap_pkthdr *h;
    const u_char *data;
    guint count = 0;
    int rc = pcap_next_ex(pc, &h, &data);
    for (; rc == 1; rc = pcap_next_ex(pc, &h, &data)) {
        count++;
        if (count == 13) {
            /* R4 continues the server's stream after R3 and acknowledges R1 and R2. */
            const guint8 *tcph = data + ETH + 20;
            g_assert_cmpuint(sl_get_u16(tcph), ==, SERVER);
            g_assert_cmpuint(sl_get_u32(tcph + 4), ==, ISN_S + 1 + strlen(R3));
            g_assert_cmpuint(sl_get_u32(tcph + 8), ==, ISN_C + 1 + strlen(R1) + strlen(R2));
            g_assert_cmphex(tcph[13], ==, F_PSH | F_ACK);
            g_assert_cmpmem(tcph + 20, h->caplen - ETH - 40, "late", 4);
        }
        if (count != 3)
            continue;
        g_assert_cmphex(sl_get_u16(data + 12), ==, 0x0800);
        const guint8 *ip = data + ETH;
        const size_t len = h->caplen - ETH;
        g_assert_cmpuint(len, ==, 28 + strlen(C));
        g_assert_cmpmem(ip + 28, strlen(C), C, strlen(C));
        /* Ones' complement sums that verify: the IP header, then UDP with its pseudo-header. */
        guint64 sum = 0;
        for (int i = 0; i < 20; i += 2)
            sum += sl_get_u16(ip + i);
        while (sum >> 16)
            sum = (sum & 0xFFFF) + (sum >> 16);
        g_assert_cmphex(sum, ==, 0xFFFF);
        sum = 17 + len - 20;
        for (int i = 12; i < 20; i += 2)
            sum += sl_get_u16(ip + i);
        for (size_t i = 20; i < len; i += 2)
            sum += i + 1 < len ? sl_get_u16(ip + i) : (guint)(ip[i] << 8);
        while (sum >> 16)
            sum = (sum & 0xFFFF) + (sum >> 16);
        g_assert_cmphex(sum, ==, 0xFFFF);
    }
    if (rc != PCAP_ERROR_BREAK)
        g_error("libpcap stops at frame %u: %s", count + 1, pcap_geterr(pc));
    g_assert_cmpuint(count, ==, G_N_ELEMENTS(want));
    pcap_close(pc);

    rpt_result_free(r);
    g_unlink(in);
    g_unlink(out);
    g_rmdir(dir);
    g_free(in);
    g_free(out);
    g_free(dir);
}

static void test_mode_parse(void)
{
    enum tp_capture_mode m = TP_CAPTURE_OFF;
    g_assert_true(tp_capture_mode_parse(NULL, &m));
    g_assert_cmpint(m, ==, TP_CAPTURE_AUTO);
    g_assert_true(tp_capture_mode_parse("live", &m));
    g_assert_cmpint(m, ==, TP_CAPTURE_LIVE);
    g_assert_true(tp_capture_mode_parse("self", &m));
    g_assert_cmpint(m, ==, TP_CAPTURE_SELF);
    g_assert_false(tp_capture_mode_parse("Live", &m));
    g_assert_false(tp_capture_mode_parse("", &m));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tp_capture/adopt", test_adopt);
    g_test_add_func("/tp_capture/mode", test_mode_parse);
    return g_test_run();
}
