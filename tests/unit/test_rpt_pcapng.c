/* Tests of the annotated pcapng writer: read back with libpcap and with our own block parser. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <pcap/pcap.h>
#include <string.h>
#include <sys/stat.h>

#include "rpt_fixture.h"
#include "rpt_pcapng.h"
#include "sl_msg.h"
#include "sl_rd.h"

/* ---- a pcapng block parser of our own (libpcap hides comments and secrets blocks) ---------- */

struct blk {
    guint32 type;
    const guint8 *body; /* between the two length fields */
    size_t len;
};

static guint32 rd_le32(const guint8 *p)
{
    return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

static guint16 rd_le16(const guint8 *p)
{
    return (guint16)(p[0] | p[1] << 8);
}

/* Splits a file into blocks, asserting the framing rules: lengths a multiple of 4, repeated at
 * the end, the file made of whole blocks, an SHB first with the byte-order magic. */
static GArray *blocks_parse(const guint8 *data, size_t len)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(struct blk));
    size_t off = 0;
    while (off < len) {
        g_assert_cmpuint(len - off, >=, 12);
        struct blk b;
        b.type = rd_le32(data + off);
        guint32 total = rd_le32(data + off + 4);
        g_assert_cmpuint(total % 4, ==, 0);
        g_assert_cmpuint(total, >=, 12);
        g_assert_cmpuint(total, <=, len - off);
        g_assert_cmpuint(rd_le32(data + off + total - 4), ==, total);
        b.body = data + off + 8;
        b.len = total - 12;
        g_array_append_val(out, b);
        off += total;
    }
    g_assert_cmpuint(out->len, >=, 1);
    const struct blk *shb = &g_array_index(out, struct blk, 0);
    g_assert_cmphex(shb->type, ==, 0x0A0D0D0A);
    g_assert_cmpuint(shb->len, >=, 16);
    g_assert_cmphex(rd_le32(shb->body), ==, 0x1A2B3C4D);
    g_assert_cmpuint(rd_le16(shb->body + 4), ==, 1);
    g_assert_cmpuint(rd_le16(shb->body + 6), ==, 0);
    return out;
}

/* The value of option code in an options area, as a new string (NULL when absent); asserts the
 * options are well formed: padded, ending with opt_endofopt exactly at the end. */
static char *opt_get(const guint8 *p, size_t len, guint16 code, guint *count)
{
    char *found = NULL;
    size_t off = 0;
    gboolean ended = len == 0;
    if (count)
        *count = 0;
    while (off < len) {
        g_assert_cmpuint(len - off, >=, 4);
        guint16 c = rd_le16(p + off), l = rd_le16(p + off + 2);
        off += 4;
        if (c == 0) {
            g_assert_cmpuint(l, ==, 0);
            g_assert_cmpuint(off, ==, len);
            ended = TRUE;
            break;
        }
        g_assert_cmpuint(l + SL_PAD4(l), <=, len - off);
        for (size_t i = l; i < l + SL_PAD4(l); i++)
            g_assert_cmpuint(p[off + i], ==, 0);
        if (c == code) {
            if (!found)
                found = g_strndup((const char *)p + off, l);
            if (count)
                (*count)++;
        }
        off += l + SL_PAD4(l);
    }
    g_assert_true(ended);
    return found;
}

struct epb {
    guint32 iface, caplen, origlen;
    guint64 ts;
    const guint8 *data;
    char *comment;
    guint32 flags; /* epb_flags, 0 when absent */
};

static void epb_parse(const struct blk *b, struct epb *e)
{
    g_assert_cmphex(b->type, ==, 6);
    g_assert_cmpuint(b->len, >=, 20);
    e->iface = rd_le32(b->body);
    e->ts = (guint64)rd_le32(b->body + 4) << 32 | rd_le32(b->body + 8);
    e->caplen = rd_le32(b->body + 12);
    e->origlen = rd_le32(b->body + 16);
    size_t padded = e->caplen + SL_PAD4(e->caplen);
    g_assert_cmpuint(padded, <=, b->len - 20);
    e->data = b->body + 20;
    const guint8 *opts = b->body + 20 + padded;
    size_t olen = b->len - 20 - padded;
    guint n = 0;
    e->comment = opt_get(opts, olen, 1, &n);
    g_assert_cmpuint(n, <=, 1);
    char *flags = opt_get(opts, olen, 2, NULL);
    e->flags = flags ? rd_le32((const guint8 *)flags) : 0;
    g_free(flags);
}

static GBytes *file_read(const char *path)
{
    gchar *data = NULL;
    gsize len = 0;
    GError *err = NULL;
    g_assert_true(g_file_get_contents(path, &data, &len, &err));
    g_assert_no_error(err);
    return g_bytes_new_take(data, len);
}

/* ---- checksums and frames, computed here independently of the writer ----------------------- */

static guint16 sum16(const guint8 *p, size_t n, guint32 init)
{
    guint32 s = init;
    for (size_t i = 0; i < n; i++)
        s += (i & 1) ? p[i] : (guint32)p[i] << 8;
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (guint16)s;
}

/* Over data whose checksum field is in place, a valid ones' complement sum is 0xFFFF. */
static guint32 pseudo_sum(const guint8 *ip, guint8 proto, size_t l4len)
{
    guint8 ph[40];
    size_t n;
    if ((ip[0] >> 4) == 4) {
        memcpy(ph, ip + 12, 8);
        ph[8] = 0;
        ph[9] = proto;
        sl_put_u16(ph + 10, (guint16)l4len);
        n = 12;
    } else {
        memcpy(ph, ip + 8, 32);
        sl_put_u32(ph + 32, (guint32)l4len);
        ph[36] = ph[37] = ph[38] = 0;
        ph[39] = proto;
        n = 40;
    }
    return sum16(ph, n, 0);
}

struct frame {
    int version;
    guint8 proto;
    const guint8 *ip, *l4, *payload;
    size_t iplen, l4len, plen;
    struct sl_addr src, dst;
    guint32 seq, ack;
    guint8 tcp_flags;
};

/* Parses and checks one LINKTYPE_RAW frame: lengths consistent, every checksum valid. */
static void frame_check(const guint8 *d, size_t len, struct frame *f)
{
    memset(f, 0, sizeof(*f));
    g_assert_cmpuint(len, >=, 20);
    f->ip = d;
    f->version = d[0] >> 4;
    if (f->version == 4) {
        g_assert_cmpuint(d[0] & 0x0F, ==, 5);
        g_assert_cmpuint(sl_get_u16(d + 2), ==, len);
        g_assert_cmphex(sum16(d, 20, 0), ==, 0xFFFF); /* IPv4 header checksum */
        f->proto = d[9];
        f->iplen = 20;
        f->src.family = f->dst.family = SL_AF_IPV4;
        memcpy(f->src.ip, d + 12, 4);
        memcpy(f->dst.ip, d + 16, 4);
    } else {
        g_assert_cmpint(f->version, ==, 6);
        g_assert_cmpuint(len, >=, 40);
        g_assert_cmpuint(sl_get_u16(d + 4) + 40u, ==, len);
        f->proto = d[6];
        f->iplen = 40;
        f->src.family = f->dst.family = SL_AF_IPV6;
        memcpy(f->src.ip, d + 8, 16);
        memcpy(f->dst.ip, d + 24, 16);
    }
    f->l4 = d + f->iplen;
    f->l4len = len - f->iplen;
    switch (f->proto) {
    case 17:
        g_assert_cmpuint(f->l4len, >=, 8);
        g_assert_cmpuint(sl_get_u16(f->l4 + 4), ==, f->l4len);
        g_assert_cmpuint(sl_get_u16(f->l4 + 6), !=, 0); /* we always fill it in */
        g_assert_cmphex(sum16(f->l4, f->l4len, pseudo_sum(d, 17, f->l4len)), ==, 0xFFFF);
        f->src.port = sl_get_u16(f->l4);
        f->dst.port = sl_get_u16(f->l4 + 2);
        f->payload = f->l4 + 8;
        f->plen = f->l4len - 8;
        break;
    case 6:
        g_assert_cmpuint(f->l4len, >=, 20);
        g_assert_cmpuint(f->l4[12] >> 4, ==, 5);
        g_assert_cmphex(sum16(f->l4, f->l4len, pseudo_sum(d, 6, f->l4len)), ==, 0xFFFF);
        f->src.port = sl_get_u16(f->l4);
        f->dst.port = sl_get_u16(f->l4 + 2);
        f->seq = sl_get_u32(f->l4 + 4);
        f->ack = sl_get_u32(f->l4 + 8);
        f->tcp_flags = f->l4[13];
        f->payload = f->l4 + 20;
        f->plen = f->l4len - 20;
        break;
    case 1:
        g_assert_cmpint(f->version, ==, 4);
        g_assert_cmpuint(f->l4len, >=, 8);
        g_assert_cmphex(sum16(f->l4, f->l4len, 0), ==, 0xFFFF);
        f->payload = f->l4 + 8;
        f->plen = f->l4len - 8;
        break;
    case 58:
        g_assert_cmpint(f->version, ==, 6);
        g_assert_cmpuint(f->l4len, >=, 8);
        g_assert_cmphex(sum16(f->l4, f->l4len, pseudo_sum(d, 58, f->l4len)), ==, 0xFFFF);
        f->payload = f->l4 + 8;
        f->plen = f->l4len - 8;
        break;
    default:
        g_assert_not_reached();
    }
}

/* Addresses as the writer must put them in the frame (IPv4 in an IPv6 frame is v4-mapped). */
static void addr_assert(const struct sl_addr *got, const struct sl_addr *want)
{
    if (got->family == SL_AF_IPV4 || want->family == SL_AF_IPV6) {
        g_assert_cmpint(got->family, ==, want->family);
        g_assert_cmpmem(got->ip, got->family == SL_AF_IPV4 ? 4 : 16, want->ip,
                        want->family == SL_AF_IPV4 ? 4 : 16);
    } else {
        static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
        g_assert_cmpmem(got->ip, 12, mapped, 12);
        g_assert_cmpmem(got->ip + 12, 4, want->ip, 4);
    }
}

/* TCP sequence bookkeeping per direction, as a receiver would check it. */
struct tcp_dir {
    char key[128];
    guint32 next;
};

static struct tcp_dir *tcp_dir_get(GArray *dirs, const struct frame *f, gboolean reverse)
{
    char src[SL_ADDR_STRLEN], dst[SL_ADDR_STRLEN], key[128];
    struct sl_addr a = f->src, b = f->dst;
    sl_addr_format(reverse ? &b : &a, src, sizeof(src), true);
    sl_addr_format(reverse ? &a : &b, dst, sizeof(dst), true);
    g_snprintf(key, sizeof(key), "%s>%s", src, dst);
    for (guint i = 0; i < dirs->len; i++) {
        struct tcp_dir *d = &g_array_index(dirs, struct tcp_dir, i);
        if (strcmp(d->key, key) == 0)
            return d;
    }
    return NULL;
}

/* Every segment starts where the previous one of its direction ended and acknowledges all the
 * other direction sent; a SYN starts a direction, an RST refusing a SYN has seq 0. Returns how
 * many segments were checked against an earlier one. */
static struct tcp_dir *tcp_dir_add(GArray *dirs, const struct frame *f, gboolean reverse,
                                   guint32 next)
{
    struct tcp_dir nd;
    memset(&nd, 0, sizeof(nd));
    char src[SL_ADDR_STRLEN], dst[SL_ADDR_STRLEN];
    sl_addr_format(reverse ? &f->dst : &f->src, src, sizeof(src), true);
    sl_addr_format(reverse ? &f->src : &f->dst, dst, sizeof(dst), true);
    g_snprintf(nd.key, sizeof(nd.key), "%s>%s", src, dst);
    nd.next = next;
    g_array_append_val(dirs, nd);
    return &g_array_index(dirs, struct tcp_dir, dirs->len - 1);
}

static guint tcp_check(GArray *dirs, const struct frame *f)
{
    guint checked = 0;
    struct tcp_dir *d = tcp_dir_get(dirs, f, FALSE);
    if (f->tcp_flags & 0x02) { /* SYN */
        if (!d)
            d = tcp_dir_add(dirs, f, FALSE, 0);
        d->next = f->seq + 1;
    } else if ((f->tcp_flags & 0x04) && f->seq == 0) {
        g_assert_null(d); /* only a side that never spoke refuses with seq 0 */
    } else {
        if (!d) /* a connection seen mid-stream: its first segment sets the expectation */
            d = tcp_dir_add(dirs, f, FALSE, f->seq);
        else
            checked++;
        g_assert_cmphex(f->seq, ==, d->next);
        d->next += (guint32)f->plen + ((f->tcp_flags & 0x01) ? 1 : 0);
    }
    if (f->tcp_flags & 0x10) { /* ACK */
        struct tcp_dir *r = tcp_dir_get(dirs, f, TRUE);
        if (!r) /* mid-stream: the other side must go on from what this one acknowledges */
            r = tcp_dir_add(dirs, f, TRUE, f->ack);
        g_assert_cmphex(f->ack, ==, r->next);
    } else {
        g_assert_cmphex(f->ack, ==, 0);
    }
    return checked;
}

/* ---- checking a written file against its model --------------------------------------------- */

/* Reads path with libpcap and with the block parser and checks every frame against r. Returns
 * how many TCP segments were checked to follow an earlier one of their direction. */
static guint file_check(const struct rpt_result *r, const char *path)
{
    /* libpcap: the frames, their timestamps and lengths. */
    char ebuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, ebuf);
    g_assert_nonnull(pc);
    g_assert_cmpint(pcap_datalink(pc), ==, DLT_RAW);
    GArray *dirs = g_array_new(FALSE, FALSE, sizeof(struct tcp_dir));
    struct pcap_pkthdr *h;
    const u_char *d;
    guint count = 0, tcp_checked = 0;
    while (pcap_next_ex(pc, &h, &d) == 1) {
        g_assert_cmpuint(count, <, r->packets->len);
        const struct rpt_packet *p = g_ptr_array_index(r->packets, count);
        count++;
        g_assert_cmpuint(p->n, ==, count);
        g_assert_cmpint((gint64)h->ts.tv_sec * 1000000 + h->ts.tv_usec, ==, p->t_us);
        g_assert_cmpuint(h->caplen, ==, h->len);
        struct frame f;
        frame_check(d, h->caplen, &f);
        addr_assert(&f.src, &p->src);
        addr_assert(&f.dst, &p->dst);
        if (p->kind == RPT_PKT_ICMP_UNREACH) {
            g_assert_cmpuint(f.proto, ==, f.version == 4 ? 1 : 58);
            continue;
        }
        g_assert_cmpuint(f.src.port, ==, p->src.port);
        g_assert_cmpuint(f.dst.port, ==, p->dst.port);
        gsize plen = 0;
        const guint8 *pd = p->payload ? g_bytes_get_data(p->payload, &plen) : NULL;
        if (p->kind >= RPT_PKT_TCP_SYN && p->kind <= RPT_PKT_TCP_RST)
            plen = 0;
        g_assert_cmpmem(f.payload, f.plen, pd, plen);
        gboolean tcp = (p->kind >= RPT_PKT_TCP_SYN && p->kind <= RPT_PKT_TCP_RST) ||
                       p->transport == RPT_TCP || p->transport == RPT_TLS;
        g_assert_cmpuint(f.proto, ==, tcp ? 6 : 17);
        if (tcp) {
            static const guint8 want[] = {[RPT_PKT_TCP_SYN] = 0x02,
                                          [RPT_PKT_TCP_SYNACK] = 0x12,
                                          [RPT_PKT_TCP_ACK] = 0x10,
                                          [RPT_PKT_TCP_FIN] = 0x11,
                                          [RPT_PKT_TCP_RST] = 0x14};
            if (p->kind >= RPT_PKT_TCP_SYN && p->kind <= RPT_PKT_TCP_RST)
                g_assert_cmphex(f.tcp_flags & ~0x10, ==, want[p->kind] & ~0x10);
            else
                g_assert_cmphex(f.tcp_flags, ==, 0x18); /* PSH|ACK */
            tcp_checked += tcp_check(dirs, &f);
        }
    }
    g_assert_cmpuint(count, ==, r->packets->len);
    pcap_close(pc);
    g_array_unref(dirs);

    /* Our parser: the SHB options, one interface, and a comment on every packet. */
    GBytes *file = file_read(path);
    gsize flen = 0;
    const guint8 *fd = g_bytes_get_data(file, &flen);
    GArray *bl = blocks_parse(fd, flen);
    const struct blk *shb = &g_array_index(bl, struct blk, 0);
    char *appl = opt_get(shb->body + 16, shb->len - 16, 4, NULL);
    char *want_appl = g_strdup_printf("turnprobe %s", r->version);
    g_assert_cmpstr(appl, ==, want_appl);
    char *os = opt_get(shb->body + 16, shb->len - 16, 3, NULL);
    g_assert_nonnull(os);
    g_assert_cmpuint(strlen(os), >, 0);
    char *shb_comment = opt_get(shb->body + 16, shb->len - 16, 1, NULL);
    char *want_shb = rpt_pcapng_run_comment(r);
    g_assert_cmpstr(shb_comment, ==, want_shb);
    guint idbs = 0, epbs = 0;
    for (guint i = 1; i < bl->len; i++) {
        const struct blk *b = &g_array_index(bl, struct blk, i);
        if (b->type == 1) {
            g_assert_cmpuint(epbs, ==, 0); /* the interface before its packets */
            g_assert_cmpuint(rd_le16(b->body), ==, 101);
            g_assert_cmpuint(rd_le32(b->body + 4), ==, 65535);
            char *ifname = opt_get(b->body + 8, b->len - 8, 2, NULL);
            char *ifdesc = opt_get(b->body + 8, b->len - 8, 3, NULL);
            g_assert_cmpstr(ifname, ==, "turnprobe");
            g_assert_cmpstr(ifdesc, ==,
                            "frames rebuilt from turnprobe's own packet log, not captured");
            g_free(ifname);
            g_free(ifdesc);
            idbs++;
        } else if (b->type == 6) {
            struct epb e;
            epb_parse(b, &e);
            const struct rpt_packet *p = g_ptr_array_index(r->packets, epbs);
            epbs++;
            g_assert_cmpuint(e.iface, ==, 0);
            g_assert_cmpuint(e.ts, ==, (guint64)p->t_us);
            char *want = rpt_pcapng_comment(r, p);
            g_assert_cmpstr(e.comment, ==, want);
            g_assert_cmpuint(e.flags, ==, p->dir == RPT_IN ? 1 : 2);
            g_free(want);
            g_free(e.comment);
        }
    }
    g_assert_cmpuint(idbs, ==, 1);
    g_assert_cmpuint(epbs, ==, r->packets->len);
    g_free(appl);
    g_free(want_appl);
    g_free(os);
    g_free(shb_comment);
    g_free(want_shb);
    g_array_unref(bl);
    g_bytes_unref(file);
    return tcp_checked;
}

static gint name_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted, joined by spaces: a leftover temporary file shows. */
static char *dir_list(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    GPtrArray *names = g_ptr_array_new();
    const char *n;
    while ((n = g_dir_read_name(d)) != NULL)
        g_ptr_array_add(names, (gpointer)g_strdup(n));
    g_dir_close(d);
    g_ptr_array_sort(names, name_cmp);
    g_ptr_array_add(names, NULL);
    char *out = g_strjoinv(" ", (char **)names->pdata);
    for (guint i = 0; names->pdata[i]; i++)
        g_free(names->pdata[i]);
    g_ptr_array_free(names, TRUE);
    return out;
}

static void dir_remove(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (d) {
        const char *n;
        while ((n = g_dir_read_name(d)) != NULL) {
            char *p = g_build_filename(dir, n, NULL);
            g_unlink(p);
            g_free(p);
        }
        g_dir_close(d);
    }
    g_rmdir(dir);
}

static char *tmpdir_new(void)
{
    GError *err = NULL;
    char *dir = g_dir_make_tmp("test_rpt_pcapng-XXXXXX", &err);
    g_assert_no_error(err);
    return dir;
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_comment(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    struct {
        guint n;
        const char *want;
    } cases[] = {
        {1, "binding #1 -> Binding request: reachability check"},
        {4, "allocate #4 <- Allocate error response 401 Unauthorized: expected challenge "
            "(realm \"example.org\")"},
        {7, "permission #7 -> CreatePermission request: for peer 127.0.0.1:49161"},
        {8, "permission #8 <- CreatePermission error response 403 Forbidden IP: the server "
            "refuses this peer [permission-forbidden]"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *c = rpt_pcapng_comment(r, rpt_packet_get(r, cases[i].n));
        g_assert_cmpstr(c, ==, cases[i].want);
        g_free(c);
    }
    rpt_result_free(r);

    r = rpt_fixture_passing_tcp_check();
    char *c = rpt_pcapng_comment(r, rpt_packet_get(r, 1));
    g_assert_cmpstr(c, ==, "binding #1 -> tcp-syn: TCP connection to the server");
    g_free(c);
    c = rpt_pcapng_comment(r, rpt_packet_get(r, 2));
    g_assert_cmpstr(c, ==, "binding #2 <- tcp-synack: TCP connection to the server");
    g_free(c);

    /* No step, no summary (the kind's name stands in), a note with a newline and a tab, bytes
     * that are not UTF-8, a verdict. */
    struct sl_addr a, b;
    sl_addr_parse(&a, "192.0.2.1:1", -1);
    sl_addr_parse(&b, "192.0.2.2:2", -1);
    struct rpt_packet *p = rpt_packet_add(r, RPT_PKT_OTHER, RPT_IN, RPT_UDP, &a, &b, 1, "x", 1);
    p->note = g_strdup("two\nlines\tand \xff bad");
    p->verdict = g_strdup("not-stun");
    c = rpt_pcapng_comment(r, p);
    g_assert_cmpstr(c, ==, "#11 <- other: two lines and \xef\xbf\xbd bad [not-stun]");
    g_assert_true(g_utf8_validate(c, -1, NULL));
    g_free(c);
    rpt_result_free(r);
}

static void test_run_comment(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    char *c = rpt_pcapng_run_comment(r);
    g_assert_cmpstr(c, ==,
                    "turnprobe check: fail\n"
                    "turn:127.0.0.1:3478: fail\n"
                    "  warn relay-address-private (allocate): The relayed address "
                    "127.0.0.1:49160 is loopback.\n"
                    "  fail permission-forbidden (permission): The server refused "
                    "CreatePermission for peer 127.0.0.1:49161 (403).");
    g_free(c);
    rpt_result_free(r);
}

static guint write_and_check(struct rpt_result *r)
{
    char *dir = tmpdir_new();
    char *path = g_build_filename(dir, "out.pcapng", NULL);
    GError *err = NULL;
    g_assert_true(rpt_pcapng_write(r, path, &err));
    g_assert_no_error(err);
    guint tcp = file_check(r, path);
    char *names = dir_list(dir);
    g_assert_cmpstr(names, ==, "out.pcapng"); /* the temporary file is gone */
    g_free(names);
    dir_remove(dir);
    g_free(path);
    g_free(dir);
    return tcp;
}

static void test_failing_udp(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    g_assert_cmpuint(write_and_check(r), ==, 0);
    rpt_result_free(r);
}

static void test_passing_tcp(void)
{
    struct rpt_result *r = rpt_fixture_passing_tcp_check();
    /* Every segment after the SYN and SYN-ACK: the ACK, six STUN messages, the FIN. */
    g_assert_cmpuint(write_and_check(r), ==, 8);
    rpt_result_free(r);
}

static struct rpt_packet *add(struct rpt_result *r, enum rpt_kind k, enum rpt_dir dir,
                              enum rpt_transport tp, const char *src, const char *dst,
                              const void *payload, size_t len)
{
    struct sl_addr s, d;
    g_assert_cmpint(sl_addr_parse(&s, src, -1), ==, 0);
    g_assert_cmpint(sl_addr_parse(&d, dst, -1), ==, 0);
    gint64 t = 1795262400000000LL + (gint64)r->packets->len * 1500;
    struct rpt_packet *p = rpt_packet_add(r, k, dir, tp, &s, &d, t, payload, len);
    p->step = g_strdup("binding");
    p->summary = g_strdup(rpt_kind_name(k));
    return p;
}

/* ICMP errors about earlier packets; IPv6 and IPv4-mapped frames; a retransmitted SYN; TCP
 * connections without their SYN, and refused with an RST. */
static struct rpt_result *mixed_model(void)
{
    struct rpt_result *r = rpt_result_new("check", "9.9");
    static const guint8 req[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1,  2,
                                   3,    4,    5,    6,    7,    8,    9,    10,   11, 12};
    const char *c4 = "192.0.2.10:50000", *s4 = "198.51.100.7:3478";
    /* Not the STUN port: the tshark checker must find it by itself. */
    const char *c6 = "[2001:db8::10]:50001", *s6 = "[2001:db8::7]:40000";
    add(r, RPT_PKT_STUN, RPT_OUT, RPT_UDP, c4, s4, req, sizeof(req)); /* 1 */
    struct rpt_packet *i4 = add(r, RPT_PKT_ICMP_UNREACH, RPT_IN, RPT_UDP, "198.51.100.7:0",
                                "192.0.2.10:0", NULL, 0); /* 2 */
    i4->ref = 1;
    add(r, RPT_PKT_STUN, RPT_OUT, RPT_UDP, c6, s6, req, sizeof(req)); /* 3 */
    struct rpt_packet *i6 = add(r, RPT_PKT_ICMP_UNREACH, RPT_IN, RPT_UDP, "[2001:db8::7]:0",
                                "[2001:db8::10]:0", NULL, 0); /* 4 */
    i6->ref = 3;
    /* An IPv6 TCP connection from its SYN to an RST. */
    add(r, RPT_PKT_TCP_SYN, RPT_OUT, RPT_TCP, c6, s6, NULL, 0);                /* 5 */
    add(r, RPT_PKT_TCP_SYN, RPT_OUT, RPT_TCP, c6, s6, NULL, 0);                /* 6: again */
    add(r, RPT_PKT_TCP_SYNACK, RPT_IN, RPT_TCP, s6, c6, NULL, 0);              /* 7 */
    add(r, RPT_PKT_TCP_ACK, RPT_OUT, RPT_TCP, c6, s6, NULL, 0);                /* 8 */
    add(r, RPT_PKT_STUN, RPT_OUT, RPT_TCP, c6, s6, req, sizeof(req));          /* 9 */
    add(r, RPT_PKT_STUN, RPT_IN, RPT_TCP, s6, c6, req, sizeof(req));           /* 10 */
    add(r, RPT_PKT_TLS, RPT_OUT, RPT_TLS, c6, s6, "\x17\x03\x03\x00\x01Z", 6); /* 11 */
    add(r, RPT_PKT_TCP_FIN, RPT_OUT, RPT_TCP, c6, s6, NULL, 0);                /* 12 */
    add(r, RPT_PKT_TCP_FIN, RPT_IN, RPT_TCP, s6, c6, NULL, 0);                 /* 13 */
    add(r, RPT_PKT_TCP_ACK, RPT_OUT, RPT_TCP, c6, s6, NULL, 0);                /* 14 */
    /* A refused connection: SYN, then RST|ACK with seq 0. */
    add(r, RPT_PKT_TCP_SYN, RPT_OUT, RPT_TCP, c4, s4, NULL, 0); /* 15 */
    add(r, RPT_PKT_TCP_RST, RPT_IN, RPT_TCP, s4, c4, NULL, 0);  /* 16 */
    /* A connection whose start the model lacks, the server speaking first. */
    add(r, RPT_PKT_STUN, RPT_IN, RPT_TCP, s4, "192.0.2.10:50002", req, sizeof(req));  /* 17 */
    add(r, RPT_PKT_STUN, RPT_OUT, RPT_TCP, "192.0.2.10:50002", s4, req, sizeof(req)); /* 18 */
    /* IPv4 client, IPv6 server: only expressible as IPv6 with a v4-mapped address. */
    add(r, RPT_PKT_STUN, RPT_OUT, RPT_UDP, c4, s6, req, sizeof(req)); /* 19 */
    return r;
}

/* ICMP errors quote the packet they are about; the TCP numbers follow every case. */
static void test_icmp_ipv6_tcp(void)
{
    struct rpt_result *r = mixed_model();
    char *dir = tmpdir_new();
    char *path = g_build_filename(dir, "x.pcapng", NULL);
    GError *err = NULL;
    g_assert_true(rpt_pcapng_write(r, path, &err));
    g_assert_no_error(err);
    /* 6-14 after the first SYN and SYN-ACK, and 18 after 17 (mid-stream) */
    g_assert_cmpuint(file_check(r, path), ==, 8);

    /* The ICMP payloads: type, code, and the quoted start of the packet they are about. */
    char ebuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, ebuf);
    g_assert_nonnull(pc);
    struct pcap_pkthdr *h;
    const u_char *d;
    GPtrArray *frames = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    while (pcap_next_ex(pc, &h, &d) == 1)
        g_ptr_array_add(frames, g_bytes_new(d, h->caplen));
    pcap_close(pc);
    gsize l1, l2, l3, l4;
    const guint8 *f1 = g_bytes_get_data(g_ptr_array_index(frames, 0), &l1);
    const guint8 *f2 = g_bytes_get_data(g_ptr_array_index(frames, 1), &l2);
    const guint8 *f3 = g_bytes_get_data(g_ptr_array_index(frames, 2), &l3);
    const guint8 *f4 = g_bytes_get_data(g_ptr_array_index(frames, 3), &l4);
    g_assert_cmpuint(l2, ==, 20 + 8 + 20 + 8); /* IPv4 header + 64 bits of the datagram */
    g_assert_cmpuint(f2[20], ==, 3);
    g_assert_cmpuint(f2[21], ==, 3);
    g_assert_cmpmem(f2 + 28, 28, f1, 28);
    g_assert_cmpuint(l4, ==, 40 + 8 + l3); /* the whole (small) IPv6 packet */
    g_assert_cmpuint(f4[40], ==, 1);
    g_assert_cmpuint(f4[41], ==, 4);
    g_assert_cmpmem(f4 + 48, l3, f3, l3);
    /* The retransmitted SYN keeps its ISN; the refusing RST has seq 0 and acks the SYN. */
    gsize l5, l6, l15, l16;
    const guint8 *f5 = g_bytes_get_data(g_ptr_array_index(frames, 4), &l5);
    const guint8 *f6 = g_bytes_get_data(g_ptr_array_index(frames, 5), &l6);
    const guint8 *f15 = g_bytes_get_data(g_ptr_array_index(frames, 14), &l15);
    const guint8 *f16 = g_bytes_get_data(g_ptr_array_index(frames, 15), &l16);
    g_assert_cmphex(sl_get_u32(f5 + 44), ==, sl_get_u32(f6 + 44));
    g_assert_cmphex(sl_get_u32(f16 + 24), ==, 0);
    g_assert_cmphex(sl_get_u32(f16 + 28), ==, sl_get_u32(f15 + 24) + 1);
    g_ptr_array_unref(frames);
    dir_remove(dir);
    g_free(path);
    g_free(dir);
    rpt_result_free(r);
}

/* A payload too large for one IP packet is cut, the frame stays valid, and the comment says so. */
static void test_oversize(void)
{
    struct rpt_result *r = rpt_result_new("check", "9.9");
    guint8 *big = g_malloc0(65540);
    big[0] = 0x40; /* a ChannelData record of the largest size */
    struct rpt_packet *p =
        add(r, RPT_PKT_CHANNELDATA, RPT_OUT, RPT_UDP, "10.0.0.1:1", "10.0.0.2:3478", big, 65540);
    g_free(big);
    char *dir = tmpdir_new();
    char *path = g_build_filename(dir, "big.pcapng", NULL);
    GError *err = NULL;
    g_assert_true(rpt_pcapng_write(r, path, &err));
    g_assert_no_error(err);
    char ebuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, ebuf);
    g_assert_nonnull(pc);
    struct pcap_pkthdr *h;
    const u_char *d;
    g_assert_cmpint(pcap_next_ex(pc, &h, &d), ==, 1);
    g_assert_cmpuint(h->caplen, ==, 65535);
    struct frame f;
    frame_check(d, h->caplen, &f);
    g_assert_cmpuint(f.plen, ==, 65535 - 28);
    pcap_close(pc);
    GBytes *file = file_read(path);
    gsize flen;
    const guint8 *fd = g_bytes_get_data(file, &flen);
    GArray *bl = blocks_parse(fd, flen);
    struct epb e;
    epb_parse(&g_array_index(bl, struct blk, 2), &e);
    char *want = rpt_pcapng_comment(r, p);
    g_assert_true(g_str_has_prefix(e.comment, want));
    g_assert_cmpstr(e.comment + strlen(want), ==, " (payload cut to fit one IP packet)");
    g_free(want);
    g_free(e.comment);
    g_array_unref(bl);
    g_bytes_unref(file);
    dir_remove(dir);
    g_free(path);
    g_free(dir);
    rpt_result_free(r);
}

/* With a key log, a Decryption Secrets Block holds it, before any packet, and the file is
 * private to its owner. */
static void test_keylog(void)
{
    struct rpt_result *r = rpt_fixture_passing_tcp_check();
    const char *kl = "# tp\n"
                     "CLIENT_RANDOM 0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
                     "abcdef 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00"
                     "112233445566778899aabbccddeeff\n"; /* 181 bytes: needs padding */
    r->keylog = g_strdup(kl);
    g_assert_cmpuint(strlen(kl) % 4, !=, 0);
    char *dir = tmpdir_new();
    char *path = g_build_filename(dir, "k.pcapng", NULL);
    GError *err = NULL;
    g_assert_true(rpt_pcapng_write(r, path, &err));
    g_assert_no_error(err);
    file_check(r, path);
    GBytes *file = file_read(path);
    gsize flen;
    const guint8 *fd = g_bytes_get_data(file, &flen);
    GArray *bl = blocks_parse(fd, flen);
    guint dsb = 0, first_epb = 0;
    for (guint i = 0; i < bl->len; i++) {
        const struct blk *b = &g_array_index(bl, struct blk, i);
        if (b->type == 6 && !first_epb)
            first_epb = i;
        if (b->type != 0x0000000A)
            continue;
        g_assert_cmpuint(dsb, ==, 0);
        dsb = i;
        g_assert_cmphex(rd_le32(b->body), ==, 0x544c534b);
        guint32 slen = rd_le32(b->body + 4);
        g_assert_cmpuint(slen, ==, strlen(kl));
        g_assert_cmpuint(b->len, ==, 8 + slen + SL_PAD4(slen)); /* no options */
        g_assert_cmpmem(b->body + 8, slen, kl, strlen(kl));
        for (size_t k = 8 + slen; k < b->len; k++)
            g_assert_cmpuint(b->body[k], ==, 0);
    }
    g_assert_cmpuint(dsb, >, 0);
    g_assert_cmpuint(first_epb, >, dsb);
    GStatBuf st;
    g_assert_cmpint(g_stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    g_array_unref(bl);
    g_bytes_unref(file);
    dir_remove(dir);
    g_free(path);
    g_free(dir);
    rpt_result_free(r);
}

/* A directory that does not exist: an error, and nothing written. A second write replaces the
 * first file whole. */
static void test_atomic(void)
{
    struct rpt_result *r = rpt_fixture_failing_check();
    GError *err = NULL;
    g_assert_false(rpt_pcapng_write(r, "/nonexistent-turnprobe-dir/x.pcapng", &err));
    g_assert_error(err, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    g_assert_nonnull(strstr(err->message, "/nonexistent-turnprobe-dir/x.pcapng"));
    g_clear_error(&err);

    char *dir = tmpdir_new();
    char *path = g_build_filename(dir, "same.pcapng", NULL);
    g_assert_true(rpt_pcapng_write(r, path, &err));
    g_assert_no_error(err);
    struct rpt_result *r2 = rpt_fixture_passing_tcp_check();
    g_assert_true(rpt_pcapng_write(r2, path, &err));
    g_assert_no_error(err);
    file_check(r2, path);
    char *names = dir_list(dir);
    g_assert_cmpstr(names, ==, "same.pcapng");
    g_free(names);

    /* Aborting leaves nothing behind, and the earlier file as it was. */
    GBytes *before = file_read(path);
    struct rpt_pcapng *w = rpt_pcapng_open(path, "x", &err);
    g_assert_no_error(err);
    g_assert_cmpint(rpt_pcapng_add_interface(w, RPT_LINKTYPE_RAW, 0, NULL), ==, 0);
    rpt_pcapng_abort(w);
    names = dir_list(dir);
    g_assert_cmpstr(names, ==, "same.pcapng");
    g_free(names);
    GBytes *after = file_read(path);
    g_assert_true(g_bytes_equal(before, after));
    g_bytes_unref(before);
    g_bytes_unref(after);
    dir_remove(dir);
    g_free(path);
    g_free(dir);
    rpt_result_free(r);
    rpt_result_free(r2);
}

/* The streaming writer as analyze and live capture use it: Ethernet frames, a snaplen, a
 * comment; and a misuse that makes close fail and write nothing. */
static void test_stream(void)
{
    char *dir = tmpdir_new();
    char *path = g_build_filename(dir, "s.pcapng", NULL);
    GError *err = NULL;
    struct rpt_pcapng *w = rpt_pcapng_open(path, "copied from a.pcap", &err);
    g_assert_no_error(err);
    g_assert_cmpint(rpt_pcapng_add_interface(w, RPT_LINKTYPE_ETHERNET, 100, "eth0"), ==, 0);
    /* libpcap refuses a file whose interfaces differ in link type or snaplen. */
    g_assert_cmpint(rpt_pcapng_add_interface(w, RPT_LINKTYPE_ETHERNET, 100, NULL), ==, 1);
    guint8 frame[150];
    for (size_t i = 0; i < sizeof(frame); i++)
        frame[i] = (guint8)i;
    g_assert_true(rpt_pcapng_add_packet(w, 0, 1000001, frame, 150, 1514, "first"));
    g_assert_true(rpt_pcapng_add_packet(w, 1, 4294967296000001LL, frame, 3, 3, NULL));
    g_assert_true(rpt_pcapng_close(w, &err));
    g_assert_no_error(err);

    GBytes *file = file_read(path);
    gsize flen;
    const guint8 *fd = g_bytes_get_data(file, &flen);
    GArray *bl = blocks_parse(fd, flen);
    g_assert_cmpuint(bl->len, ==, 5); /* SHB, 2 IDB, 2 EPB */
    const struct blk *shb = &g_array_index(bl, struct blk, 0);
    char *appl = opt_get(shb->body + 16, shb->len - 16, 4, NULL);
    g_assert_cmpstr(appl, ==, "turnprobe");
    g_free(appl);
    const struct blk *idb = &g_array_index(bl, struct blk, 1);
    g_assert_cmpuint(rd_le16(idb->body), ==, 1);
    g_assert_cmpuint(rd_le32(idb->body + 4), ==, 100);
    char *name = opt_get(idb->body + 8, idb->len - 8, 2, NULL);
    g_assert_cmpstr(name, ==, "eth0");
    g_free(name);
    struct epb e;
    epb_parse(&g_array_index(bl, struct blk, 3), &e);
    g_assert_cmpuint(e.caplen, ==, 100); /* clamped to the snaplen */
    g_assert_cmpuint(e.origlen, ==, 1514);
    g_assert_cmpuint(e.ts, ==, 1000001);
    g_assert_cmpmem(e.data, 100, frame, 100);
    g_assert_cmpstr(e.comment, ==, "first");
    g_assert_cmpuint(e.flags, ==, 0);
    g_free(e.comment);
    epb_parse(&g_array_index(bl, struct blk, 4), &e);
    g_assert_cmpuint(e.iface, ==, 1);
    g_assert_cmpuint(e.ts, ==, 4294967296000001ULL); /* both timestamp words */
    g_assert_null(e.comment);
    g_array_unref(bl);
    g_bytes_unref(file);

    /* libpcap reads both interfaces' packets. */
    char ebuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, ebuf);
    g_assert_nonnull(pc);
    struct pcap_pkthdr *h;
    const u_char *d;
    g_assert_cmpint(pcap_next_ex(pc, &h, &d), ==, 1);
    g_assert_cmpuint(h->caplen, ==, 100);
    g_assert_cmpuint(h->len, ==, 1514);
    g_assert_cmpint(h->ts.tv_sec, ==, 1);
    g_assert_cmpint(h->ts.tv_usec, ==, 1);
    g_assert_cmpint(pcap_next_ex(pc, &h, &d), ==, 1);
    g_assert_cmpuint(h->caplen, ==, 3);
    g_assert_cmpint(h->ts.tv_sec, ==, 4294967296);
    g_assert_cmpint(pcap_next_ex(pc, &h, &d), ==, PCAP_ERROR_BREAK); /* and no more */
    pcap_close(pc);

    /* A packet for an interface never described: sticky failure, close reports it. */
    g_unlink(path);
    w = rpt_pcapng_open(path, NULL, &err);
    g_assert_no_error(err);
    g_assert_false(rpt_pcapng_add_packet(w, 0, 1, frame, 10, 10, NULL));
    g_assert_cmpint(rpt_pcapng_add_interface(w, RPT_LINKTYPE_RAW, 0, NULL), ==, -1);
    g_assert_false(rpt_pcapng_close(w, &err));
    g_assert_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL);
    g_assert_nonnull(strstr(err->message, "interface 0"));
    g_clear_error(&err);
    char *names = dir_list(dir);
    g_assert_cmpstr(names, ==, "");
    g_free(names);
    dir_remove(dir);
    g_free(path);
    g_free(dir);
}

/* ---- write-fixtures: files for the tshark checker (tests/integration/pcapng_check.sh) ------ */

/* How a report may disagree with its capture, for the checker's negative tests. */
enum json_fault { JSON_TRUE = 0, JSON_DROP_STUN, JSON_OTHER_SUMMARY };

/* A minimal report in the shape of the JSON writer's: packets with n, kind, summary, step. The
 * fault, if any, concerns the last STUN packet: left out, or given another summary. */
static void json_write(const struct rpt_result *r, const char *path, enum json_fault fault)
{
    guint last_stun = 0;
    for (guint i = 0; i < r->packets->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        if (p->kind == RPT_PKT_STUN)
            last_stun = p->n;
    }
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "command");
    json_builder_add_string_value(b, r->command);
    json_builder_set_member_name(b, "packets");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->packets->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        gboolean faulty = p->n == last_stun;
        if (faulty && fault == JSON_DROP_STUN)
            continue;
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "n");
        json_builder_add_int_value(b, p->n);
        json_builder_set_member_name(b, "kind");
        json_builder_add_string_value(b, rpt_kind_name(p->kind));
        json_builder_set_member_name(b, "summary");
        if (faulty && fault == JSON_OTHER_SUMMARY)
            json_builder_add_string_value(b, "Refresh request");
        else
            json_builder_add_string_value(b, p->summary ? p->summary : rpt_kind_name(p->kind));
        json_builder_set_member_name(b, "step");
        json_builder_add_string_value(b, p->step);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    JsonGenerator *g = json_generator_new();
    JsonNode *root = json_builder_get_root(b);
    json_generator_set_root(g, root);
    json_generator_set_pretty(g, TRUE);
    GError *err = NULL;
    if (!json_generator_to_file(g, path, &err))
        g_error("%s: %s", path, err->message);
    json_node_unref(root);
    g_object_unref(g);
    g_object_unref(b);
}

/* "n:0xTTTT" per STUN packet, as tshark -e frame.number -e stun.type -E separator=: prints. */
static void types_write(const struct rpt_result *r, const char *path)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < r->packets->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        if (p->kind != RPT_PKT_STUN)
            continue;
        gsize len = 0;
        const guint8 *d = g_bytes_get_data(p->payload, &len);
        struct sl_msg m;
        if (sl_msg_decode(&m, d, len, 0) != SL_OK)
            g_error("packet %u does not decode", p->n);
        g_string_append_printf(s, "%u:0x%04x\n", p->n, m.type);
    }
    GError *err = NULL;
    if (!g_file_set_contents(path, s->str, (gssize)s->len, &err))
        g_error("%s: %s", path, err->message);
    g_string_free(s, TRUE);
}

static void fixture_write(struct rpt_result *r, const char *dir, const char *name)
{
    char *base = g_build_filename(dir, name, NULL);
    char *pcap = g_strconcat(base, ".pcapng", NULL);
    char *json = g_strconcat(base, ".json", NULL);
    char *missing = g_strconcat(base, "-missing.json", NULL);
    char *other = g_strconcat(base, "-other-summary.json", NULL);
    char *types = g_strconcat(base, ".types", NULL);
    GError *err = NULL;
    if (!rpt_pcapng_write(r, pcap, &err))
        g_error("%s", err->message);
    json_write(r, json, JSON_TRUE);
    json_write(r, missing, JSON_DROP_STUN);
    json_write(r, other, JSON_OTHER_SUMMARY);
    types_write(r, types);
    g_free(base);
    g_free(pcap);
    g_free(json);
    g_free(missing);
    g_free(other);
    g_free(types);
}

/* Writes the failing UDP, passing TCP and mixed fixtures, and three files the checker must
 * reject: a frame with a wrong UDP checksum, a STUN frame without a comment, a comment naming
 * another frame. */
static int write_fixtures(const char *dir)
{
    if (g_mkdir_with_parents(dir, 0755) != 0)
        g_error("%s: %s", dir, g_strerror(errno));
    struct rpt_result *r = rpt_fixture_failing_check();
    fixture_write(r, dir, "failing");
    rpt_result_free(r);
    r = rpt_fixture_passing_tcp_check();
    fixture_write(r, dir, "passing-tcp");
    rpt_result_free(r);
    r = mixed_model();
    fixture_write(r, dir, "mixed");
    rpt_result_free(r);

    /* Copy the failing fixture's frames through the streaming writer, spoiling one. */
    const char *cases[] = {"bad-checksum", "no-comment", "misnumbered"};
    for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
        char *src = g_build_filename(dir, "failing.pcapng", NULL);
        char *dst = g_strdup_printf("%s/%s.pcapng", dir, cases[c]);
        char ebuf[PCAP_ERRBUF_SIZE];
        pcap_t *pc = pcap_open_offline(src, ebuf);
        if (!pc)
            g_error("%s", ebuf);
        GError *err = NULL;
        struct rpt_pcapng *w = rpt_pcapng_open(dst, cases[c], &err);
        if (!w)
            g_error("%s", err->message);
        int iface = rpt_pcapng_add_interface(w, RPT_LINKTYPE_RAW, 65535, NULL);
        struct pcap_pkthdr *h;
        const u_char *d;
        guint n = 0;
        while (pcap_next_ex(pc, &h, &d) == 1) {
            n++;
            guint8 *copy = g_memdup2(d, h->caplen);
            if (c == 0 && n == 3)
                copy[27] ^= 0x01; /* the low byte of the UDP checksum (IPv4, no options) */
            guint named = c == 2 && n == 5 ? 6 : n;
            char *comment = c == 1 && n == 4 ? NULL : g_strdup_printf("copy #%u -> frame", named);
            rpt_pcapng_add_packet(w, iface, (gint64)h->ts.tv_sec * 1000000 + h->ts.tv_usec, copy,
                                  h->caplen, h->len, comment);
            g_free(comment);
            g_free(copy);
        }
        pcap_close(pc);
        if (!rpt_pcapng_close(w, &err))
            g_error("%s", err->message);
        g_free(src);
        g_free(dst);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "write-fixtures") == 0)
        return write_fixtures(argv[2]);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pcapng/comment", test_comment);
    g_test_add_func("/pcapng/run-comment", test_run_comment);
    g_test_add_func("/pcapng/failing-udp", test_failing_udp);
    g_test_add_func("/pcapng/passing-tcp", test_passing_tcp);
    g_test_add_func("/pcapng/icmp-ipv6-tcp", test_icmp_ipv6_tcp);
    g_test_add_func("/pcapng/oversize", test_oversize);
    g_test_add_func("/pcapng/keylog", test_keylog);
    g_test_add_func("/pcapng/atomic", test_atomic);
    g_test_add_func("/pcapng/stream", test_stream);
    return g_test_run();
}
