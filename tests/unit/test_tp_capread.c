/* Unit tests of the capture reader (probe/tp_capread.c): hand-built pcap and pcapng files of
 * every supported link type, IPv4 and IPv6 fragments out of order, TCP streams out of order,
 * retransmitted, packed and split, RFC 4571 and TLS streams, ICMP errors, damaged files. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "sl_msg.h"
#include "sl_rd.h"
#include "tp_capread.h"

/* ---- what the reader hands out ------------------------------------------------------------- */

struct rec_copy {
    struct tp_rec r;
    GBytes *data;
};

static void rec_copy_free(gpointer p)
{
    struct rec_copy *c = p;
    if (c->data)
        g_bytes_unref(c->data);
    g_free(c);
}

static void collect(const struct tp_rec *rec, void *ud)
{
    struct rec_copy *c = g_new0(struct rec_copy, 1);
    c->r = *rec;
    c->r.p = NULL;
    if (rec->p)
        c->data = g_bytes_new(rec->p, rec->len);
    g_ptr_array_add(ud, c);
}

static const struct rec_copy *rec_at(GPtrArray *recs, guint i)
{
    g_assert_cmpuint(i, <, recs->len);
    return g_ptr_array_index(recs, i);
}

/* Records of one kind only. */
static GPtrArray *only(GPtrArray *recs, enum tp_rec_kind kind)
{
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; i < recs->len; i++)
        if (((struct rec_copy *)g_ptr_array_index(recs, i))->r.kind == kind)
            g_ptr_array_add(out, g_ptr_array_index(recs, i));
    return out;
}

/* ---- packets -------------------------------------------------------------------------------- */

static const guint8 CLIENT4[4] = {192, 0, 2, 10}, SERVER4[4] = {198, 51, 100, 7};
static const guint8 CLIENT6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
static const guint8 SERVER6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07};

/* A STUN message of a given size (SOFTWARE pads it), its id's first byte set to tag. */
static GByteArray *stun_msg(uint16_t method, enum sl_class cls, guint8 tag, size_t software)
{
    guint8 tid[SL_TID_LEN];
    memset(tid, 0x5A, sizeof(tid));
    tid[0] = tag;
    guint8 buf[2048];
    struct sl_enc e;
    sl_enc_init(&e, buf, sizeof(buf), method, cls, tid);
    if (software) {
        char sw[1024];
        memset(sw, 'x', software);
        sw[software] = '\0';
        sl_enc_str(&e, SL_ATTR_SOFTWARE, sw);
    }
    sl_enc_fingerprint(&e);
    size_t len = 0;
    g_assert_cmpint(sl_enc_finish(&e, &len), ==, SL_OK);
    GByteArray *b = g_byte_array_new();
    g_byte_array_append(b, buf, (guint)len);
    return b;
}

static void put16(GByteArray *b, guint16 v)
{
    guint8 x[2] = {(guint8)(v >> 8), (guint8)v};
    g_byte_array_append(b, x, 2);
}

static void put32(GByteArray *b, guint32 v)
{
    guint8 x[4] = {(guint8)(v >> 24), (guint8)(v >> 16), (guint8)(v >> 8), (guint8)v};
    g_byte_array_append(b, x, 4);
}

static void put32le(GByteArray *b, guint32 v)
{
    guint8 x[4] = {(guint8)v, (guint8)(v >> 8), (guint8)(v >> 16), (guint8)(v >> 24)};
    g_byte_array_append(b, x, 4);
}

static void put16le(GByteArray *b, guint16 v)
{
    guint8 x[2] = {(guint8)v, (guint8)(v >> 8)};
    g_byte_array_append(b, x, 2);
}

static GByteArray *udp(const guint8 *payload, size_t len, guint16 sport, guint16 dport)
{
    GByteArray *b = g_byte_array_new();
    put16(b, sport);
    put16(b, dport);
    put16(b, (guint16)(8 + len));
    put16(b, 0);
    g_byte_array_append(b, payload, (guint)len);
    return b;
}

static GByteArray *tcp(guint32 seq, guint8 flags, const guint8 *data, size_t len, guint16 sport,
                       guint16 dport)
{
    GByteArray *b = g_byte_array_new();
    put16(b, sport);
    put16(b, dport);
    put32(b, seq);
    put32(b, 0);
    guint8 off_flags[2] = {5 << 4, flags};
    g_byte_array_append(b, off_flags, 2);
    put16(b, 65535);
    put32(b, 0);
    if (len)
        g_byte_array_append(b, data, (guint)len);
    return b;
}

/* An IPv4 packet; frag is the flags/offset field (offset in 8-byte units). */
static GByteArray *ipv4(const guint8 *src, const guint8 *dst, guint8 proto, const guint8 *l4,
                        size_t len, guint16 id, guint16 frag)
{
    GByteArray *b = g_byte_array_new();
    guint8 h[2] = {0x45, 0};
    g_byte_array_append(b, h, 2);
    put16(b, (guint16)(20 + len));
    put16(b, id);
    put16(b, frag);
    guint8 ttl_proto[2] = {64, proto};
    g_byte_array_append(b, ttl_proto, 2);
    put16(b, 0);
    g_byte_array_append(b, src, 4);
    g_byte_array_append(b, dst, 4);
    g_byte_array_append(b, l4, (guint)len);
    return b;
}

/* An IPv6 packet with a hop-by-hop and a destination options header before ext (a fragment
 * header when frag_id is not 0). */
static GByteArray *ipv6(const guint8 *src, const guint8 *dst, guint8 proto, const guint8 *l4,
                        size_t len, gboolean ext, guint32 frag_id, guint16 frag_off, gboolean more)
{
    GByteArray *extb = g_byte_array_new();
    guint8 first = proto;
    if (frag_id) {
        /* Fragment header: next, reserved, offset<<3 | M, id. */
        GByteArray *f = g_byte_array_new();
        guint8 nr[2] = {first, 0};
        g_byte_array_append(f, nr, 2);
        put16(f, (guint16)((frag_off << 3) | (more ? 1 : 0)));
        put32(f, frag_id);
        g_byte_array_prepend(extb, f->data, f->len);
        g_byte_array_unref(f);
        first = 44;
    }
    if (ext) {
        guint8 dest[8] = {first, 0, 1, 4, 0, 0, 0, 0}; /* PadN */
        g_byte_array_prepend(extb, dest, 8);
        guint8 hbh[8] = {60, 0, 1, 4, 0, 0, 0, 0};
        g_byte_array_prepend(extb, hbh, 8);
        first = 0;
    }
    GByteArray *b = g_byte_array_new();
    put32(b, 0x60000000u);
    put16(b, (guint16)(extb->len + len));
    guint8 nh[2] = {first, 64};
    g_byte_array_append(b, nh, 2);
    g_byte_array_append(b, src, 16);
    g_byte_array_append(b, dst, 16);
    g_byte_array_append(b, extb->data, extb->len);
    g_byte_array_append(b, l4, (guint)len);
    g_byte_array_unref(extb);
    return b;
}

static GByteArray *ether(const GByteArray *ip, guint16 type, int vlans)
{
    GByteArray *b = g_byte_array_new();
    guint8 macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
    g_byte_array_append(b, macs, 12);
    for (int i = 0; i < vlans; i++) {
        put16(b, i == 0 && vlans > 1 ? 0x88A8 : 0x8100);
        put16(b, (guint16)(100 + i));
    }
    put16(b, type);
    g_byte_array_append(b, ip->data, ip->len);
    return b;
}

static GByteArray *sll(const GByteArray *ip, guint16 type)
{
    GByteArray *b = g_byte_array_new();
    guint8 h[14] = {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0};
    g_byte_array_append(b, h, 14);
    put16(b, type);
    g_byte_array_append(b, ip->data, ip->len);
    return b;
}

static GByteArray *sll2(const GByteArray *ip, guint16 type)
{
    GByteArray *b = g_byte_array_new();
    put16(b, type);
    put16(b, 0);
    put32(b, 2); /* interface index */
    guint8 rest[12] = {0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0};
    g_byte_array_append(b, rest, 12);
    g_byte_array_append(b, ip->data, ip->len);
    return b;
}

static GByteArray *null_le(const GByteArray *ip, guint32 af)
{
    GByteArray *b = g_byte_array_new();
    put32le(b, af);
    g_byte_array_append(b, ip->data, ip->len);
    return b;
}

static GByteArray *copy(const GByteArray *ip)
{
    GByteArray *b = g_byte_array_new();
    g_byte_array_append(b, ip->data, ip->len);
    return b;
}

/* A UDP STUN datagram over IPv4 from the client to the server. */
static GByteArray *udp4_stun(guint8 tag)
{
    GByteArray *m = stun_msg(SL_BINDING, SL_REQUEST, tag, 0);
    GByteArray *u = udp(m->data, m->len, 50000, 3478);
    GByteArray *ip = ipv4(CLIENT4, SERVER4, 17, u->data, u->len, 1, 0);
    g_byte_array_unref(m);
    g_byte_array_unref(u);
    return ip;
}

/* ---- files ---------------------------------------------------------------------------------- */

static GByteArray *pcap_file(guint32 linktype, GPtrArray *frames)
{
    GByteArray *b = g_byte_array_new();
    put32le(b, 0xa1b2c3d4u);
    put16le(b, 2);
    put16le(b, 4);
    put32le(b, 0);
    put32le(b, 0);
    put32le(b, 262144);
    put32le(b, linktype);
    for (guint i = 0; i < frames->len; i++) {
        GByteArray *f = g_ptr_array_index(frames, i);
        put32le(b, 1700000000u + i);
        put32le(b, 1000 * i);
        put32le(b, f->len);
        put32le(b, f->len);
        g_byte_array_append(b, f->data, f->len);
    }
    return b;
}

static GByteArray *pcapng_file(guint16 linktype, GPtrArray *frames)
{
    GByteArray *b = g_byte_array_new();
    put32le(b, 0x0A0D0D0Au);
    put32le(b, 28);
    put32le(b, 0x1A2B3C4Du);
    put16le(b, 1);
    put16le(b, 0);
    put32le(b, 0xFFFFFFFFu);
    put32le(b, 0xFFFFFFFFu);
    put32le(b, 28);
    put32le(b, 1);
    put32le(b, 20);
    put16le(b, linktype);
    put16le(b, 0);
    put32le(b, 0);
    put32le(b, 20);
    for (guint i = 0; i < frames->len; i++) {
        GByteArray *f = g_ptr_array_index(frames, i);
        guint32 pad = (4 - f->len % 4) % 4;
        guint64 ts = (guint64)(1700000000u + i) * 1000000u + 1000 * i;
        put32le(b, 6);
        put32le(b, 32 + f->len + pad);
        put32le(b, 0);
        put32le(b, (guint32)(ts >> 32));
        put32le(b, (guint32)ts);
        put32le(b, f->len);
        put32le(b, f->len);
        g_byte_array_append(b, f->data, f->len);
        guint8 zero[4] = {0};
        g_byte_array_append(b, zero, pad);
        put32le(b, 32 + f->len + pad);
    }
    return b;
}

static char *write_tmp(const GByteArray *b, const char *suffix)
{
    char *tmpl = g_strdup_printf("tp-capread-XXXXXX%s", suffix);
    char *path = NULL;
    GError *err = NULL;
    int fd = g_file_open_tmp(tmpl, &path, &err);
    g_assert_no_error(err);
    g_free(tmpl);
    close(fd);
    g_assert_true(g_file_set_contents(path, (const char *)b->data, b->len, &err));
    g_assert_no_error(err);
    return path;
}

/* Reads a file made of these frames; returns every record. *rc: the last tp_capread_next. */
static GPtrArray *read_bytes(const GByteArray *file, GError **err, int *rc, guint *frames)
{
    GPtrArray *recs = g_ptr_array_new_with_free_func(rec_copy_free);
    char *path = write_tmp(file, ".cap");
    struct tp_capread *c = tp_capread_new(collect, recs);
    int last = 0;
    if (tp_capread_open(c, path, err)) {
        for (last = tp_capread_next(c, err); last == 1; last = tp_capread_next(c, err))
            ;
        tp_capread_flush(c);
    } else {
        last = -2;
    }
    if (rc)
        *rc = last;
    if (frames)
        *frames = tp_capread_frame_number(c);
    tp_capread_free(c);
    g_unlink(path);
    g_free(path);
    return recs;
}

static GPtrArray *frames_of(GByteArray *first, ...)
{
    GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    va_list ap;
    va_start(ap, first);
    for (GByteArray *f = first; f; f = va_arg(ap, GByteArray *))
        g_ptr_array_add(a, f);
    va_end(ap);
    return a;
}

static void assert_stun_rec(const struct rec_copy *c, guint8 tag, guint16 sport, guint16 dport)
{
    g_assert_cmpint(c->r.kind, ==, TP_REC_MSG);
    gsize len;
    const guint8 *p = g_bytes_get_data(c->data, &len);
    g_assert_cmpuint(len, >=, 20);
    g_assert_cmpuint(sl_get_u32(p + 4), ==, SL_MAGIC_COOKIE);
    g_assert_cmpuint(p[8], ==, tag);
    g_assert_cmpuint(c->r.src.port, ==, sport);
    g_assert_cmpuint(c->r.dst.port, ==, dport);
}

/* ---- link types ----------------------------------------------------------------------------- */

static void check_one_udp(guint32 linktype, GByteArray *frame, gboolean ng)
{
    GPtrArray *frames = frames_of(frame, NULL);
    GByteArray *file = ng ? pcapng_file((guint16)linktype, frames) : pcap_file(linktype, frames);
    GError *err = NULL;
    int rc;
    GPtrArray *recs = read_bytes(file, &err, &rc, NULL);
    g_assert_no_error(err);
    g_assert_cmpint(rc, ==, 0);
    g_assert_cmpuint(recs->len, ==, 1);
    const struct rec_copy *c = rec_at(recs, 0);
    assert_stun_rec(c, 0x11, 50000, 3478);
    g_assert_cmpuint(c->r.frame, ==, 1);
    g_assert_cmpuint(c->r.proto, ==, 17);
    g_assert_cmpint(c->r.t_us, ==, (gint64)1700000000 * G_USEC_PER_SEC);
    g_assert_cmpmem(c->r.src.ip, 4, CLIENT4, 4);
    g_assert_cmpmem(c->r.dst.ip, 4, SERVER4, 4);
    g_ptr_array_unref(recs);
    g_byte_array_unref(file);
    g_ptr_array_unref(frames);
}

static void test_link_types(void)
{
    struct {
        guint32 lt;
        GByteArray *(*wrap)(const GByteArray *ip);
    } plain[] = {{101, copy}, {228, copy}};
    for (size_t i = 0; i < G_N_ELEMENTS(plain); i++)
        for (int ng = 0; ng < 2; ng++) {
            GByteArray *ip = udp4_stun(0x11);
            check_one_udp(plain[i].lt, plain[i].wrap(ip), ng);
            g_byte_array_unref(ip);
        }
    for (int ng = 0; ng < 2; ng++) {
        for (int vlans = 0; vlans <= 2; vlans++) {
            GByteArray *ip = udp4_stun(0x11);
            check_one_udp(1, ether(ip, 0x0800, vlans), ng);
            g_byte_array_unref(ip);
        }
        GByteArray *ip = udp4_stun(0x11);
        check_one_udp(113, sll(ip, 0x0800), ng);
        check_one_udp(276, sll2(ip, 0x0800), ng);
        check_one_udp(0, null_le(ip, 2), ng);
        g_byte_array_unref(ip);
    }
}

static void test_ipv6_ext_headers(void)
{
    GByteArray *m = stun_msg(SL_BINDING, SL_REQUEST, 0x22, 40);
    GByteArray *u = udp(m->data, m->len, 50000, 3478);
    GByteArray *ip = ipv6(CLIENT6, SERVER6, 17, u->data, u->len, TRUE, 0, 0, FALSE);
    /* BSD loopback's IPv6 family differs between systems: 24, 28 or 30. */
    GPtrArray *frames = frames_of(ether(ip, 0x86DD, 1), null_le(ip, 30), copy(ip), NULL);
    for (guint i = 0; i < frames->len; i++) {
        static const guint32 lts[] = {1, 0, 229};
        GPtrArray *one = frames_of(g_byte_array_ref(g_ptr_array_index(frames, i)), NULL);
        GByteArray *f = pcap_file(lts[i], one);
        GError *err = NULL;
        GPtrArray *recs = read_bytes(f, &err, NULL, NULL);
        g_assert_no_error(err);
        g_assert_cmpuint(recs->len, ==, 1);
        const struct rec_copy *c = rec_at(recs, 0);
        assert_stun_rec(c, 0x22, 50000, 3478);
        g_assert_cmpuint(c->r.src.family, ==, SL_AF_IPV6);
        g_assert_cmpmem(c->r.dst.ip, 16, SERVER6, 16);
        g_assert_cmpuint(g_bytes_get_size(c->data), ==, m->len);
        g_ptr_array_unref(recs);
        g_byte_array_unref(f);
        g_ptr_array_unref(one);
    }
    g_ptr_array_unref(frames);
    g_byte_array_unref(ip);
    g_byte_array_unref(u);
    g_byte_array_unref(m);
}

/* ---- fragments ------------------------------------------------------------------------------ */

static void test_ipv4_fragments_out_of_order(void)
{
    /* A 1000-byte STUN message in a UDP datagram cut in three, sent last fragment first. */
    GByteArray *m = stun_msg(SL_BINDING, SL_REQUEST, 0x33, 960);
    GByteArray *u = udp(m->data, m->len, 50000, 3478);
    g_assert_cmpuint(u->len, >, 800);
    GByteArray *f1 = ipv4(CLIENT4, SERVER4, 17, u->data, 400, 77, 0x2000 | 0);
    GByteArray *f2 = ipv4(CLIENT4, SERVER4, 17, u->data + 400, 400, 77, 0x2000 | (400 / 8));
    GByteArray *f3 = ipv4(CLIENT4, SERVER4, 17, u->data + 800, u->len - 800, 77, 800 / 8);
    /* Another datagram between them, and a duplicate fragment: neither may disturb it. */
    GByteArray *other = udp4_stun(0x44);
    GPtrArray *frames = frames_of(ether(f3, 0x0800, 0), ether(other, 0x0800, 0),
                                  ether(f1, 0x0800, 0), ether(f1, 0x0800, 0),
                                  ether(f2, 0x0800, 0), NULL);
    GByteArray *file = pcap_file(1, frames);
    GError *err = NULL;
    GPtrArray *recs = read_bytes(file, &err, NULL, NULL);
    g_assert_no_error(err);
    g_assert_cmpuint(recs->len, ==, 2);
    assert_stun_rec(rec_at(recs, 0), 0x44, 50000, 3478);
    const struct rec_copy *c = rec_at(recs, 1);
    assert_stun_rec(c, 0x33, 50000, 3478);
    g_assert_cmpuint(c->r.frame, ==, 5); /* the fragment that completed it */
    gsize len;
    const guint8 *p = g_bytes_get_data(c->data, &len);
    g_assert_cmpmem(p, len, m->data, m->len);
    g_ptr_array_unref(recs);
    g_byte_array_unref(file);
    g_ptr_array_unref(frames);

    /* A fragment missing: nothing comes out, and nothing is left behind. */
    frames = frames_of(ether(f1, 0x0800, 0), ether(f3, 0x0800, 0), NULL);
    file = pcap_file(1, frames);
    recs = read_bytes(file, &err, NULL, NULL);
    g_assert_cmpuint(recs->len, ==, 0);
    g_ptr_array_unref(recs);
    g_byte_array_unref(file);
    g_ptr_array_unref(frames);
    for (GByteArray **b = (GByteArray *[]){f1, f2, f3, other, u, m, NULL}; *b; b++)
        g_byte_array_unref(*b);
}

static void test_ipv6_fragments(void)
{
    GByteArray *m = stun_msg(SL_ALLOCATE, SL_REQUEST, 0x55, 600);
    GByteArray *u = udp(m->data, m->len, 50000, 3478);
    GByteArray *a = ipv6(CLIENT6, SERVER6, 17, u->data, 320, TRUE, 0xABCD, 0, TRUE);
    GByteArray *b = ipv6(CLIENT6, SERVER6, 17, u->data + 320, u->len - 320, FALSE, 0xABCD, 40,
                         FALSE);
    GPtrArray *frames = frames_of(ether(b, 0x86DD, 0), ether(a, 0x86DD, 0), NULL);
    GByteArray *file = pcapng_file(1, frames);
    GError *err = NULL;
    GPtrArray *recs = read_bytes(file, &err, NULL, NULL);
    g_assert_no_error(err);
    g_assert_cmpuint(recs->len, ==, 1);
    const struct rec_copy *c = rec_at(recs, 0);
    assert_stun_rec(c, 0x55, 50000, 3478);
    g_assert_cmpuint(c->r.frame, ==, 2);
    g_assert_cmpuint(g_bytes_get_size(c->data), ==, m->len);
    g_ptr_array_unref(recs);
    g_byte_array_unref(file);
    g_ptr_array_unref(frames);
    for (GByteArray **x = (GByteArray *[]){a, b, u, m, NULL}; *x; x++)
        g_byte_array_unref(*x);
}

/* ---- TCP streams ---------------------------------------------------------------------------- */

static GByteArray *tcp4(guint32 seq, guint8 flags, const guint8 *d, size_t n, gboolean to_server)
{
    GByteArray *t = tcp(seq, flags, d, n, to_server ? 50001 : 3478, to_server ? 3478 : 50001);
    GByteArray *ip = to_server ? ipv4(CLIENT4, SERVER4, 6, t->data, t->len, 9, 0)
                               : ipv4(SERVER4, CLIENT4, 6, t->data, t->len, 9, 0);
    GByteArray *e = ether(ip, 0x0800, 0);
    g_byte_array_unref(t);
    g_byte_array_unref(ip);
    return e;
}

static void test_tcp_stream(void)
{
    /* Client stream: A (one segment), B+C (one segment), D (split over three segments), sent
     * with the second segment before the first, a retransmission, and an overlap. */
    GByteArray *A = stun_msg(SL_ALLOCATE, SL_REQUEST, 0xA0, 8);
    GByteArray *B = stun_msg(SL_REFRESH, SL_REQUEST, 0xB0, 0);
    GByteArray *C = stun_msg(SL_CREATE_PERMISSION, SL_REQUEST, 0xC0, 12);
    GByteArray *D = stun_msg(SL_CHANNEL_BIND, SL_REQUEST, 0xD0, 300);
    GByteArray *s = g_byte_array_new();
    g_byte_array_append(s, A->data, A->len);
    g_byte_array_append(s, B->data, B->len);
    g_byte_array_append(s, C->data, C->len);
    g_byte_array_append(s, D->data, D->len);
    guint32 isn = 1000, base = isn + 1;
    guint32 a = A->len, bc = B->len + C->len, d1 = 100, d2 = 150;
    guint32 dlen = D->len;
    GPtrArray *frames = frames_of(
        tcp4(isn, 0x02, NULL, 0, TRUE),                                   /* 1 SYN */
        tcp4(5000, 0x12, NULL, 0, FALSE),                                 /* 2 SYN-ACK */
        tcp4(base + a, 0x18, s->data + a, bc, TRUE),                      /* 3 B+C early */
        tcp4(base, 0x18, s->data, a, TRUE),                               /* 4 A: fills the hole */
        tcp4(base, 0x18, s->data, a, TRUE),                               /* 5 A again */
        tcp4(base + a + bc, 0x18, s->data + a + bc, d1, TRUE),            /* 6 D, part 1 */
        tcp4(base + a + bc + d1 - 20, 0x18, s->data + a + bc + d1 - 20, d2 + 20, TRUE), /* 7 */
        tcp4(base + a + bc + d1 + d2, 0x18, s->data + a + bc + d1 + d2, dlen - d1 - d2,
             TRUE),                                                       /* 8 D, end */
        tcp4(base + s->len, 0x11, NULL, 0, TRUE),                         /* 9 FIN */
        NULL);
    GByteArray *file = pcap_file(1, frames);
    GError *err = NULL;
    GPtrArray *all = read_bytes(file, &err, NULL, NULL);
    g_assert_no_error(err);
    GPtrArray *msgs = only(all, TP_REC_MSG);
    g_assert_cmpuint(msgs->len, ==, 4);
    const guint8 tags[] = {0xA0, 0xB0, 0xC0, 0xD0};
    const guint frame_of[] = {4, 4, 4, 8};
    for (guint i = 0; i < 4; i++) {
        const struct rec_copy *c = g_ptr_array_index(msgs, i);
        assert_stun_rec(c, tags[i], 50001, 3478);
        g_assert_cmpuint(c->r.frame, ==, frame_of[i]);
        g_assert_true(c->r.stream);
        g_assert_false(c->r.midstream);
    }
    const struct rec_copy *d = g_ptr_array_index(msgs, 3);
    g_assert_cmpmem(g_bytes_get_data(d->data, NULL), g_bytes_get_size(d->data), D->data, D->len);
    GPtrArray *ctrl = only(all, TP_REC_TCP_CTRL);
    g_assert_cmpuint(ctrl->len, ==, 3); /* SYN, SYN-ACK, FIN */
    g_assert_cmpuint(((struct rec_copy *)g_ptr_array_index(ctrl, 2))->r.tcp_flags & TP_TCP_FIN,
                     !=, 0);
    g_ptr_array_unref(ctrl);
    g_ptr_array_unref(msgs);
    g_ptr_array_unref(all);
    g_byte_array_unref(file);
    g_ptr_array_unref(frames);
    for (GByteArray **x = (GByteArray *[]){A, B, C, D, s, NULL}; *x; x++)
        g_byte_array_unref(*x);
}

/* A segment lost for good: a gap is reported and framing resumes at the next STUN header. */
static void test_tcp_gap_resync(void)
{
    GByteArray *A = stun_msg(SL_ALLOCATE, SL_REQUEST, 0xA1, 0);
    GByteArray *B = stun_msg(SL_REFRESH, SL_REQUEST, 0xB1, 0);
    GByteArray *C = stun_msg(SL_REFRESH, SL_REQUEST, 0xC1, 0);
    guint32 base = 101;
    GPtrArray *frames = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    g_ptr_array_add(frames, tcp4(100, 0x02, NULL, 0, TRUE));
    g_ptr_array_add(frames, tcp4(base, 0x18, A->data, A->len, TRUE));
    /* B is never captured; C and then many segments after it wait for the hole. */
    guint32 seq = base + A->len + B->len;
    g_ptr_array_add(frames, tcp4(seq, 0x18, C->data, C->len, TRUE));
    seq += C->len;
    for (int i = 0; i < TP_CAP_MAX_OOO_SEGS + 1; i++) {
        g_ptr_array_add(frames, tcp4(seq, 0x18, C->data, C->len, TRUE));
        seq += C->len;
    }
    GByteArray *file = pcap_file(1, frames);
    GError *err = NULL;
    GPtrArray *all = read_bytes(file, &err, NULL, NULL);
    g_assert_no_error(err);
    GPtrArray *gaps = only(all, TP_REC_GAP);
    GPtrArray *msgs = only(all, TP_REC_MSG);
    g_assert_cmpuint(gaps->len, ==, 1);
    g_assert_cmpuint(((struct rec_copy *)g_ptr_array_index(gaps, 0))->r.len, ==, B->len);
    g_assert_cmpuint(msgs->len, ==, 1 + 1 + TP_CAP_MAX_OOO_SEGS + 1);
    assert_stun_rec(g_ptr_array_index(msgs, 0), 0xA1, 50001, 3478);
    assert_stun_rec(g_ptr_array_index(msgs, 1), 0xC1, 50001, 3478);
    g_ptr_array_unref(gaps);
    g_ptr_array_unref(msgs);
    g_ptr_array_unref(all);
    g_byte_array_unref(file);
    g_ptr_array_unref(frames);
    for (GByteArray **x = (GByteArray *[]){A, B, C, NULL}; *x; x++)
        g_byte_array_unref(*x);
}

/* ICE-TCP (RFC 6544) frames each packet with a 16-bit length (RFC 4571); a stream captured
 * without its SYN starts mid-way and is searched for a STUN header. */
static void test_tcp_4571_and_midstream(void)
{
    GByteArray *A = stun_msg(SL_BINDING, SL_REQUEST, 0xE1, 0);
    GByteArray *B = stun_msg(SL_BINDING, SL_REQUEST, 0xE2, 4);
    GByteArray *s = g_byte_array_new();
    put16(s, (guint16)A->len);
    g_byte_array_append(s, A->data, A->len);
    put16(s, (guint16)B->len);
    g_byte_array_append(s, B->data, B->len);
    GPtrArray *frames = frames_of(tcp4(7, 0x02, NULL, 0, TRUE),
                                  tcp4(8, 0x18, s->data, 5, TRUE),
                                  tcp4(13, 0x18, s->data + 5, s->len - 5, TRUE), NULL);
    GByteArray *file = pcap_file(1, frames);
    GError *err = NULL;
    GPtrArray *all = read_bytes(file, &err, NULL, NULL);
    GPtrArray *msgs = only(all, TP_REC_MSG);
    g_assert_cmpuint(msgs->len, ==, 2);
    for (guint i = 0; i < 2; i++) {
        const struct rec_copy *c = g_ptr_array_index(msgs, i);
        assert_stun_rec(c, i ? 0xE2 : 0xE1, 50001, 3478);
        g_assert_true(c->r.rfc4571);
        g_assert_cmpuint(c->r.frame, ==, 3);
    }
    g_ptr_array_unref(msgs);
    g_ptr_array_unref(all);
    g_byte_array_unref(file);
    g_ptr_array_unref(frames);

    /* Mid-stream: garbage (the end of an earlier record), then a STUN message. */
    GByteArray *m = g_byte_array_new();
    guint8 junk[7] = {0x41, 0x42, 0x43, 0x00, 0x01, 0x02, 0x03};
    g_byte_array_append(m, junk, sizeof(junk));
    g_byte_array_append(m, A->data, A->len);
    frames = frames_of(tcp4(90000, 0x18, m->data, m->len, TRUE), NULL);
    file = pcap_file(1, frames);
    all = read_bytes(file, &err, NULL, NULL);
    msgs = only(all, TP_REC_MSG);
    g_assert_cmpuint(msgs->len, ==, 1);
    assert_stun_rec(g_ptr_array_index(msgs, 0), 0xE1, 50001, 3478);
    g_assert_true(((struct rec_copy *)g_ptr_array_index(msgs, 0))->r.midstream);
    g_ptr_array_unref(msgs);
    g_ptr_array_unref(all);
    g_byte_array_unref(file);
    g_ptr_array_unref(frames);
    for (GByteArray **x = (GByteArray *[]){A, B, s, m, NULL}; *x; x++)
        g_byte_array_unref(*x);
}

/* A TLS stream: handshake records whole (even split over segments), application data only
 * counted. */
static void test_tls_records(void)
{
    GByteArray *s = g_byte_array_new();
    guint8 hs_hdr[5] = {22, 3, 1, 0, 60};
    g_byte_array_append(s, hs_hdr, 5);
    for (int i = 0; i < 60; i++) {
        guint8 b = (guint8)i;
        g_byte_array_append(s, &b, 1);
    }
    guint8 ad_hdr[5] = {23, 3, 3, 0x03, 0xE8}; /* 1000 bytes */
    g_byte_array_append(s, ad_hdr, 5);
    for (int i = 0; i < 1000; i++) {
        guint8 b = 0xEE;
        g_byte_array_append(s, &b, 1);
    }
    guint8 alert[7] = {21, 3, 3, 0, 2, 2, 40};
    g_byte_array_append(s, alert, 7);
    GPtrArray *frames = frames_of(tcp4(1, 0x02, NULL, 0, TRUE), tcp4(2, 0x18, s->data, 30, TRUE),
                                  tcp4(32, 0x18, s->data + 30, 500, TRUE),
                                  tcp4(532, 0x18, s->data + 530, s->len - 530, TRUE), NULL);
    GByteArray *file = pcap_file(1, frames);
    GError *err = NULL;
    GPtrArray *all = read_bytes(file, &err, NULL, NULL);
    GPtrArray *tls = only(all, TP_REC_TLS);
    g_assert_cmpuint(tls->len, ==, 3);
    const struct rec_copy *h = g_ptr_array_index(tls, 0), *ad = g_ptr_array_index(tls, 1),
                          *al = g_ptr_array_index(tls, 2);
    g_assert_cmpuint(g_bytes_get_size(h->data), ==, 65);
    g_assert_cmpuint(h->r.frame, ==, 3);
    g_assert_null(ad->data);
    g_assert_cmpuint(ad->r.len, ==, 1000);
    g_assert_cmpuint(g_bytes_get_size(al->data), ==, 7);
    g_assert_cmpuint(al->r.frame, ==, 4);
    g_ptr_array_unref(tls);
    g_ptr_array_unref(all);
    g_byte_array_unref(file);
    g_ptr_array_unref(frames);
    g_byte_array_unref(s);
}

/* Plain text on a TURN port: no record at all. */
static void test_tcp_other(void)
{
    const char *txt = "RSP/1.0 CLI_STUN_FIREWALLCHECK\r\nGUID: 1234\r\n\r\n";
    GPtrArray *frames = frames_of(tcp4(1, 0x02, NULL, 0, TRUE),
                                  tcp4(2, 0x18, (const guint8 *)txt, strlen(txt), TRUE), NULL);
    GByteArray *file = pcap_file(1, frames);
    GError *err = NULL;
    GPtrArray *all = read_bytes(file, &err, NULL, NULL);
    GPtrArray *msgs = only(all, TP_REC_MSG);
    g_assert_cmpuint(msgs->len, ==, 0);
    g_ptr_array_unref(msgs);
    g_ptr_array_unref(all);
    g_byte_array_unref(file);
    g_ptr_array_unref(frames);
}

static void test_icmp_unreachable(void)
{
    GByteArray *ip = udp4_stun(0x66);
    /* ICMP type 3 code 3 from the server, quoting our datagram's IP header and 8 bytes. */
    GByteArray *icmp = g_byte_array_new();
    guint8 h[8] = {3, 3, 0, 0, 0, 0, 0, 0};
    g_byte_array_append(icmp, h, 8);
    g_byte_array_append(icmp, ip->data, 28);
    GByteArray *outer = ipv4(SERVER4, CLIENT4, 1, icmp->data, icmp->len, 5, 0);
    GPtrArray *frames = frames_of(ether(ip, 0x0800, 0), ether(outer, 0x0800, 0), NULL);
    GByteArray *file = pcap_file(1, frames);
    GError *err = NULL;
    GPtrArray *all = read_bytes(file, &err, NULL, NULL);
    g_assert_cmpuint(all->len, ==, 2);
    const struct rec_copy *c = rec_at(all, 1);
    g_assert_cmpint(c->r.kind, ==, TP_REC_ICMP);
    g_assert_cmpuint(c->r.icmp_type, ==, 3);
    g_assert_cmpuint(c->r.icmp_code, ==, 3);
    g_assert_cmpuint(c->r.src.port, ==, 50000);
    g_assert_cmpuint(c->r.dst.port, ==, 3478);
    g_assert_cmpmem(c->r.src.ip, 4, CLIENT4, 4);
    g_ptr_array_unref(all);
    g_byte_array_unref(file);
    g_ptr_array_unref(frames);
    for (GByteArray **x = (GByteArray *[]){ip, icmp, outer, NULL}; *x; x++)
        g_byte_array_unref(*x);
}

/* ---- files that are not (whole) captures ---------------------------------------------------- */

static void test_truncated(void)
{
    GPtrArray *frames = frames_of(ether(udp4_stun(1), 0x0800, 0), ether(udp4_stun(2), 0x0800, 0),
                                  ether(udp4_stun(3), 0x0800, 0), NULL);
    for (int ng = 0; ng < 2; ng++) {
        GByteArray *file = ng ? pcapng_file(1, frames) : pcap_file(1, frames);
        /* Cut in the middle of the third frame. */
        g_byte_array_set_size(file, file->len - 30);
        GError *err = NULL;
        int rc;
        guint n;
        GPtrArray *recs = read_bytes(file, &err, &rc, &n);
        g_assert_cmpint(rc, ==, -1);
        g_assert_nonnull(err);
        g_assert_nonnull(strstr(err->message, "damaged after frame 2"));
        g_assert_cmpuint(n, ==, 2);
        g_assert_cmpuint(recs->len, ==, 2);
        g_clear_error(&err);
        g_ptr_array_unref(recs);
        g_byte_array_unref(file);
    }
    g_ptr_array_unref(frames);
}

static void expect_refused(const GByteArray *file, const char *words)
{
    GError *err = NULL;
    int rc;
    GPtrArray *recs = read_bytes(file, &err, &rc, NULL);
    g_assert_cmpint(rc, ==, -2);
    g_assert_nonnull(err);
    if (!strstr(err->message, words))
        g_error("\"%s\" does not say \"%s\"", err->message, words);
    g_assert_null(strchr(err->message, '\n'));
    g_error_free(err);
    g_ptr_array_unref(recs);
}

static void test_not_captures(void)
{
    GByteArray *m = stun_msg(SL_BINDING, SL_REQUEST, 1, 0);
    expect_refused(m, "raw STUN message");
    g_byte_array_unref(m);
    GByteArray *t = g_byte_array_new();
    g_byte_array_append(t, (const guint8 *)"# base64,crc\nAAEAAA==,1\n", 24);
    expect_refused(t, "not a pcap or pcapng capture");
    g_byte_array_set_size(t, 0);
    expect_refused(t, "empty");
    g_byte_array_unref(t);
    /* A capture of a link type analyze does not read (802.11 radiotap). */
    GPtrArray *frames = frames_of(ether(udp4_stun(1), 0x0800, 0), NULL);
    GByteArray *f = pcap_file(127, frames);
    expect_refused(f, "link type 127");
    g_byte_array_unref(f);
    g_ptr_array_unref(frames);
}

/* The format comes from the magic number: a pcapng named .pcap and the reverse read alike. */
static void test_magic_not_name(void)
{
    GPtrArray *frames = frames_of(ether(udp4_stun(7), 0x0800, 0), NULL);
    GByteArray *ng = pcapng_file(1, frames);
    char *path = write_tmp(ng, ".pcap");
    GPtrArray *recs = g_ptr_array_new_with_free_func(rec_copy_free);
    struct tp_capread *c = tp_capread_new(collect, recs);
    GError *err = NULL;
    g_assert_true(tp_capread_open(c, path, &err));
    g_assert_cmpint(tp_capread_next(c, &err), ==, 1);
    g_assert_cmpint(tp_capread_next(c, &err), ==, 0);
    g_assert_cmpint(tp_capread_linktype(c), ==, 1);
    g_assert_cmpuint(recs->len, ==, 1);
    tp_capread_free(c);
    g_unlink(path);
    g_free(path);
    g_ptr_array_unref(recs);
    g_byte_array_unref(ng);
    g_ptr_array_unref(frames);
}

/* Frames are numbered across files, and a TCP stream continues from one file to the next. */
static void test_several_files(void)
{
    GByteArray *A = stun_msg(SL_ALLOCATE, SL_REQUEST, 0xF1, 100);
    GPtrArray *f1 = frames_of(tcp4(1, 0x02, NULL, 0, TRUE), tcp4(2, 0x18, A->data, 50, TRUE),
                              NULL);
    GPtrArray *f2 = frames_of(tcp4(52, 0x18, A->data + 50, A->len - 50, TRUE), NULL);
    GByteArray *b1 = pcap_file(1, f1), *b2 = pcapng_file(1, f2);
    char *p1 = write_tmp(b1, ".pcap"), *p2 = write_tmp(b2, ".pcapng");
    GPtrArray *recs = g_ptr_array_new_with_free_func(rec_copy_free);
    struct tp_capread *c = tp_capread_new(collect, recs);
    for (int i = 0; i < 2; i++) {
        g_assert_true(tp_capread_open(c, i ? p2 : p1, NULL));
        while (tp_capread_next(c, NULL) == 1)
            ;
    }
    tp_capread_flush(c);
    GPtrArray *msgs = only(recs, TP_REC_MSG);
    g_assert_cmpuint(msgs->len, ==, 1);
    g_assert_cmpuint(((struct rec_copy *)g_ptr_array_index(msgs, 0))->r.frame, ==, 3);
    g_assert_cmpuint(tp_capread_frame_number(c), ==, 3);
    tp_capread_free(c);
    g_ptr_array_unref(msgs);
    g_ptr_array_unref(recs);
    g_unlink(p1);
    g_unlink(p2);
    g_free(p1);
    g_free(p2);
    g_byte_array_unref(b1);
    g_byte_array_unref(b2);
    g_ptr_array_unref(f1);
    g_ptr_array_unref(f2);
    g_byte_array_unref(A);
}

/* Garbage headers at every layer must be refused without reading past the frame. */
static void test_feed_truncations(void)
{
    GByteArray *ip = udp4_stun(9);
    GByteArray *e = ether(ip, 0x0800, 2);
    GPtrArray *recs = g_ptr_array_new_with_free_func(rec_copy_free);
    struct tp_capread *c = tp_capread_new(collect, recs);
    static const int lts[] = {0, 1, 12, 101, 113, 228, 229, 276};
    for (size_t l = 0; l < G_N_ELEMENTS(lts); l++)
        for (guint n = 0; n < e->len; n++) {
            guint8 *dup = g_memdup2(e->data, n ? n : 1);
            tp_capread_feed(c, lts[l], 1, dup, n);
            g_free(dup);
        }
    /* A frame cut short gives at most the captured part of its payload, never more. */
    g_assert_cmpuint(recs->len, >, 0);
    for (guint i = 0; i < recs->len; i++) {
        gsize len;
        const guint8 *p = g_bytes_get_data(rec_at(recs, i)->data, &len);
        g_assert_cmpuint(len, <=, ip->len - 28);
        g_assert_cmpmem(p, len, ip->data + 28, len);
    }
    tp_capread_free(c);
    g_ptr_array_unref(recs);
    g_byte_array_unref(e);
    g_byte_array_unref(ip);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/capread/link-types", test_link_types);
    g_test_add_func("/capread/ipv6-extension-headers", test_ipv6_ext_headers);
    g_test_add_func("/capread/ipv4-fragments-out-of-order", test_ipv4_fragments_out_of_order);
    g_test_add_func("/capread/ipv6-fragments", test_ipv6_fragments);
    g_test_add_func("/capread/tcp-out-of-order-retransmitted-packed-split", test_tcp_stream);
    g_test_add_func("/capread/tcp-gap-resync", test_tcp_gap_resync);
    g_test_add_func("/capread/tcp-rfc4571-and-midstream", test_tcp_4571_and_midstream);
    g_test_add_func("/capread/tls-records", test_tls_records);
    g_test_add_func("/capread/tcp-text-is-nothing", test_tcp_other);
    g_test_add_func("/capread/icmp-unreachable", test_icmp_unreachable);
    g_test_add_func("/capread/truncated", test_truncated);
    g_test_add_func("/capread/not-captures", test_not_captures);
    g_test_add_func("/capread/magic-not-name", test_magic_not_name);
    g_test_add_func("/capread/several-files", test_several_files);
    g_test_add_func("/capread/feed-truncations", test_feed_truncations);
    return g_test_run();
}
