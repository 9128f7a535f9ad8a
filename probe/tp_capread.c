/* Capture reading for analyze: libpcap files, link layers, IP reassembly, UDP, TCP streams. */
#include "tp_capread.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_err.h"
#include "sl_frame.h"
#include "sl_msg.h"
#include "sl_rd.h"

/* tcpdump.org LINKTYPE_* values; libpcap reports some as platform DLT_* values (DLT_RAW is 12
 * on Linux, 14 on OpenBSD), so both spellings are accepted. */
enum {
    LT_NULL = 0,
    LT_ETHERNET = 1,
    LT_RAW_12 = 12,
    LT_RAW_14 = 14,
    LT_RAW = 101,
    LT_LOOP = 108,
    LT_LINUX_SLL = 113,
    LT_IPV4 = 228,
    LT_IPV6 = 229,
    LT_LINUX_SLL2 = 276,
};

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86DD
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88A8
#define ETH_QINQ_OLD 0x9100
#define ETH_PPPOE 0x8864
#define MAX_VLAN_TAGS 4

/* ---- keys ---------------------------------------------------------------------------------- */

/* A TCP connection, canonical: side 0 is the lower (address, port). */
struct flow_key {
    guint8 family;
    guint8 pad[3];
    guint16 port[2];
    guint8 addr[2][16];
};

struct frag_key {
    guint8 family, proto;
    guint8 pad[2];
    guint32 id;
    guint8 src[16], dst[16];
};

static guint bytes_hash(const void *p, size_t n)
{
    const guint8 *b = p;
    guint32 h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static guint flow_hash(gconstpointer k)
{
    return bytes_hash(k, sizeof(struct flow_key));
}

static gboolean flow_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(struct flow_key)) == 0;
}

static guint frag_hash(gconstpointer k)
{
    return bytes_hash(k, sizeof(struct frag_key));
}

static gboolean frag_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(struct frag_key)) == 0;
}

/* ---- IP fragments -------------------------------------------------------------------------- */

#define FRAG_MAX_PAYLOAD 65535u
#define FRAG_BLOCKS      (FRAG_MAX_PAYLOAD / 8 + 1)

struct frag {
    struct frag_key k;
    gint64 first_us;
    guint8 *buf;      /* the transport payload being rebuilt */
    guint32 cap;
    guint32 total;    /* known once the last fragment arrived, else 0 */
    guint8 have[FRAG_BLOCKS / 8 + 1]; /* one bit per 8-byte block received */
    struct sl_addr src, dst;
};

static void frag_free(gpointer p)
{
    struct frag *f = p;
    g_free(f->buf);
    g_free(f);
}

/* ---- TCP streams --------------------------------------------------------------------------- */

enum stream_mode {
    MODE_UNKNOWN = 0, /* waiting for the first bytes */
    MODE_FRAMER,      /* STUN and ChannelData back to back (RFC 8656 §12.5) */
    MODE_4571,        /* 16-bit length, then a packet (RFC 4571, ICE-TCP RFC 6544) */
    MODE_TLS,         /* TLS records */
    MODE_RESYNC,      /* looking for a STUN header after a gap or mid-stream */
    MODE_OTHER,       /* not ours: bytes are dropped */
};

struct seg {
    guint32 seq;
    guint32 len;
    guint8 data[];
};

struct tcp_dir {
    gboolean have_next, syn, fin, midstream;
    guint32 next;
    enum stream_mode mode;
    GByteArray *pend;   /* bytes not yet consumed: an incomplete record */
    guint32 tls_skip;   /* application data still to pass over */
    guint64 scanned;    /* bytes searched while resynchronising */
    GSList *ooo;        /* struct seg*, by sequence number */
    guint ooo_n;
    gsize ooo_bytes;
};

struct tcp_flow {
    struct flow_key k;
    struct sl_addr addr[2];
    struct tcp_dir d[2];
    gint64 last_us;
};

static void dir_clear(struct tcp_dir *d)
{
    if (d->pend)
        g_byte_array_unref(d->pend);
    d->pend = NULL;
    g_slist_free_full(d->ooo, g_free);
    d->ooo = NULL;
    d->ooo_n = 0;
    d->ooo_bytes = 0;
}

static void tcp_flow_free(gpointer p)
{
    struct tcp_flow *f = p;
    dir_clear(&f->d[0]);
    dir_clear(&f->d[1]);
    g_free(f);
}

/* ---- the reader ---------------------------------------------------------------------------- */

struct tp_capread {
    tp_rec_fn fn;
    void *ud;
    pcap_t *pc;
    FILE *fp;
    char *name;
    guint64 size;
    int linktype; /* LINKTYPE_* */
    guint32 snaplen;
    guint frame;
    gint64 t_us;
    const guint8 *data;
    guint32 caplen, origlen;
    GHashTable *frags;   /* struct frag_key -> struct frag */
    GHashTable *flows;   /* struct flow_key -> struct tcp_flow */
    gint64 last_sweep_us;
    struct sl_framer *framer; /* scratch, shared by every stream */
    struct tp_capstats st;
};

struct tp_capread *tp_capread_new(tp_rec_fn fn, void *ud)
{
    struct tp_capread *c = g_new0(struct tp_capread, 1);
    c->fn = fn;
    c->ud = ud;
    c->frags = g_hash_table_new_full(frag_hash, frag_equal, NULL, frag_free);
    c->flows = g_hash_table_new_full(flow_hash, flow_equal, NULL, tcp_flow_free);
    c->framer = g_new(struct sl_framer, 1);
    sl_framer_init(c->framer, 0);
    return c;
}

static void close_file(struct tp_capread *c)
{
    if (c->pc)
        pcap_close(c->pc); /* closes fp as well */
    else if (c->fp)
        fclose(c->fp);
    c->pc = NULL;
    c->fp = NULL;
    g_free(c->name);
    c->name = NULL;
    c->data = NULL;
}

void tp_capread_free(struct tp_capread *c)
{
    if (!c)
        return;
    close_file(c);
    g_hash_table_unref(c->frags);
    g_hash_table_unref(c->flows);
    g_free(c->framer);
    g_free(c);
}

const char *tp_capread_linktype_name(int lt)
{
    switch (lt) {
    case LT_NULL: return "BSD loopback";
    case LT_ETHERNET: return "Ethernet";
    case LT_RAW_12:
    case LT_RAW_14:
    case LT_RAW: return "raw IP";
    case LT_LOOP: return "OpenBSD loopback";
    case LT_LINUX_SLL: return "Linux cooked v1";
    case LT_IPV4: return "raw IPv4";
    case LT_IPV6: return "raw IPv6";
    case LT_LINUX_SLL2: return "Linux cooked v2";
    default: return NULL;
    }
}

/* libpcap's DLT_* to the file format's LINKTYPE_* (they differ for raw IP). */
static int linktype_of(int dlt)
{
    return dlt == LT_RAW_12 || dlt == LT_RAW_14 ? LT_RAW : dlt;
}

/* What the first bytes of a file say it is. */
static const char *magic_kind(const guint8 *m, size_t n)
{
    static const guint8 pcapng[4] = {0x0a, 0x0d, 0x0d, 0x0a};
    static const guint32 pcap_magics[] = {0xa1b2c3d4u, 0xa1b23c4du, 0xa1b2cd34u};
    if (n < 4)
        return NULL;
    if (memcmp(m, pcapng, 4) == 0)
        return "pcapng";
    guint32 be = sl_get_u32(m), le = GUINT32_SWAP_LE_BE(be);
    for (size_t i = 0; i < G_N_ELEMENTS(pcap_magics); i++)
        if (be == pcap_magics[i] || le == pcap_magics[i])
            return "pcap";
    return NULL;
}

/* Why a file that is not a capture was refused, in words a user can act on. */
static char *not_capture_reason(const guint8 *m, size_t n)
{
    if (n == 0)
        return g_strdup("the file is empty");
    if (n >= 20 && (m[0] & 0xC0) == 0 && sl_get_u32(m + 4) == SL_MAGIC_COOKIE)
        return g_strdup("it is a raw STUN message, not a capture (turnprobe decode reads those)");
    if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
        return g_strdup("it is gzip-compressed: decompress it first");
    gboolean text = TRUE;
    for (size_t i = 0; i < n && i < 64; i++)
        if (m[i] < 0x09 || (m[i] > 0x0d && m[i] < 0x20))
            text = FALSE;
    GString *hex = g_string_new(NULL);
    for (size_t i = 0; i < n && i < 4; i++)
        g_string_append_printf(hex, "%s%02x", i ? " " : "", m[i]);
    char *msg = g_strdup_printf("not a pcap or pcapng capture (it starts with %s%s)", hex->str,
                                text ? ": text" : "");
    g_string_free(hex, TRUE);
    return msg;
}

static gboolean open_fp(struct tp_capread *c, FILE *fp, const char *name, guint64 size,
                        GError **err)
{
    guint8 magic[64];
    size_t n = fread(magic, 1, sizeof(magic), fp);
    if (!magic_kind(magic, n)) {
        char *why = not_capture_reason(magic, n);
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: %s", name, why);
        g_free(why);
        fclose(fp);
        return FALSE;
    }
    rewind(fp);
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pc = pcap_fopen_offline(fp, errbuf);
    if (!pc) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: %s capture libpcap cannot read: %s",
                    name, magic_kind(magic, n), errbuf);
        fclose(fp);
        return FALSE;
    }
    int lt = linktype_of(pcap_datalink(pc));
    if (!tp_capread_linktype_name(lt)) {
        const char *dn = pcap_datalink_val_to_name(pcap_datalink(pc));
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s: link type %d (%s) is not supported (Ethernet, Linux cooked v1/v2, raw "
                    "IP and BSD loopback are)",
                    name, lt, dn ? dn : "unknown");
        pcap_close(pc);
        return FALSE;
    }
    close_file(c);
    c->pc = pc;
    c->fp = fp;
    c->name = g_strdup(name);
    c->size = size;
    c->linktype = lt;
    int sl = pcap_snapshot(pc);
    c->snaplen = sl > 0 ? (guint32)sl : 0;
    return TRUE;
}

/* A regular file read through a sliding window of mmap: stdio (and so libpcap) gets its bytes
 * with a memcpy from the page cache instead of a read() that copies them in the kernel, and
 * only one window is mapped at a time, so the process does not grow with the file. */
#define WINDOW (8u << 20)

struct mapped {
    int fd;
    guint64 size, off; /* the file's size; the offset of the next byte to give out */
    guint8 *win;
    guint64 win_off;
    size_t win_len;
};

static ssize_t mapped_read(void *cookie, char *buf, size_t n)
{
    struct mapped *m = cookie;
    size_t done = 0;
    while (done < n && m->off < m->size) {
        if (!m->win || m->off >= m->win_off + m->win_len) {
            if (m->win)
                munmap(m->win, m->win_len);
            m->win_off = m->off & ~(guint64)(WINDOW - 1);
            m->win_len = (size_t)MIN((guint64)WINDOW, m->size - m->win_off);
            void *p = mmap(NULL, m->win_len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, m->fd,
                           (off_t)m->win_off);
            if (p == MAP_FAILED) {
                m->win = NULL;
                return done ? (ssize_t)done : -1;
            }
            m->win = p;
        }
        size_t at = (size_t)(m->off - m->win_off);
        size_t k = MIN(n - done, m->win_len - at);
        memcpy(buf + done, m->win + at, k);
        done += k;
        m->off += k;
    }
    return (ssize_t)done;
}

static int mapped_seek(void *cookie, off64_t *pos, int whence)
{
    struct mapped *m = cookie;
    gint64 base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (gint64)m->off : (gint64)m->size;
    gint64 to = base + *pos;
    if (to < 0 || (guint64)to > m->size)
        return -1;
    m->off = (guint64)to;
    *pos = to;
    return 0;
}

static int mapped_close(void *cookie)
{
    struct mapped *m = cookie;
    if (m->win)
        munmap(m->win, m->win_len);
    close(m->fd);
    g_free(m);
    return 0;
}

/* The mapped stream of a regular file, or NULL (then plain stdio is used). */
static FILE *mapped_open(FILE *fp)
{
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0)
        return NULL;
    int fd = dup(fileno(fp));
    if (fd < 0)
        return NULL;
    struct mapped *m = g_new0(struct mapped, 1);
    m->fd = fd;
    m->size = (guint64)st.st_size;
    cookie_io_functions_t io = {mapped_read, NULL, mapped_seek, mapped_close};
    FILE *mf = fopencookie(m, "rb", io);
    if (!mf) {
        close(fd);
        g_free(m);
        return NULL;
    }
    setvbuf(mf, NULL, _IOFBF, 1 << 20);
    return mf;
}

gboolean tp_capread_open(struct tp_capread *c, const char *path, GError **err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno;
        g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(e), "%s: %s", path, g_strerror(e));
        return FALSE;
    }
    FILE *mf = mapped_open(fp);
    if (mf) {
        fclose(fp);
        fp = mf;
    } else {
        /* libpcap reads through stdio: a large buffer turns a syscall per 4 KiB into one per
         * MiB (set before any other operation on the stream, as setvbuf requires). */
        setvbuf(fp, NULL, _IOFBF, 1 << 20);
    }
    struct stat sb;
    guint64 size = fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode) ? (guint64)sb.st_size : 0;
    if (fstat(fileno(fp), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fclose(fp);
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_ISDIR, "%s: is a directory", path);
        return FALSE;
    }
    return open_fp(c, fp, path, size, err);
}

gboolean tp_capread_open_mem(struct tp_capread *c, const void *data, size_t len, GError **err)
{
    if (len == 0) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL, "(memory): the file is empty");
        return FALSE;
    }
    FILE *fp = fmemopen((void *)data, len, "rb");
    if (!fp) {
        int e = errno;
        g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(e), "(memory): %s", g_strerror(e));
        return FALSE;
    }
    return open_fp(c, fp, "(memory)", len, err);
}

void tp_capread_frame(const struct tp_capread *c, gint64 *t_us, const guint8 **data,
                      guint32 *caplen, guint32 *origlen)
{
    *t_us = c->t_us;
    *data = c->data;
    *caplen = c->caplen;
    *origlen = c->origlen;
}

int tp_capread_linktype(const struct tp_capread *c)
{
    return c->linktype;
}

guint32 tp_capread_snaplen(const struct tp_capread *c)
{
    return c->snaplen;
}

guint tp_capread_frame_number(const struct tp_capread *c)
{
    return c->frame;
}

void tp_capread_progress(const struct tp_capread *c, guint64 *done, guint64 *total)
{
    long pos = c->fp ? ftell(c->fp) : -1;
    *done = pos > 0 ? (guint64)pos : 0;
    *total = c->size;
}

const struct tp_capstats *tp_capread_stats(const struct tp_capread *c)
{
    return &c->st;
}

/* ---- records ------------------------------------------------------------------------------- */

static void emit(struct tp_capread *c, struct tp_rec *rec)
{
    rec->frame = c->frame;
    rec->t_us = c->t_us;
    if (c->fn)
        c->fn(rec, c->ud);
}

static void addr_set(struct sl_addr *a, guint8 family, const guint8 *ip, guint16 port)
{
    memset(a, 0, sizeof(*a));
    a->family = family;
    a->port = port;
    memcpy(a->ip, ip, family == SL_AF_IPV4 ? 4 : 16);
}

/* ---- TCP stream consumers ------------------------------------------------------------------ */

static void stream_rec(struct tp_capread *c, struct tcp_flow *f, int side, enum tp_rec_kind kind,
                       const guint8 *p, size_t len)
{
    struct tp_rec rec = {0};
    rec.kind = kind;
    rec.proto = 6;
    rec.src = f->addr[side];
    rec.dst = f->addr[!side];
    rec.p = p;
    rec.len = len;
    rec.midstream = f->d[side].midstream;
    rec.stream = f->d[side].mode == MODE_FRAMER;
    rec.rfc4571 = f->d[side].mode == MODE_4571;
    emit(c, &rec);
}

static gboolean capread_stun_header_at(const guint8 *p, size_t avail)
{
    return avail >= 8 && (p[0] & 0xC0) == 0 && sl_get_u16(p + 2) % 4 == 0 &&
           sl_get_u32(p + 4) == SL_MAGIC_COOKIE;
}

/* The stream's first bytes decide how to read it. FALSE: not enough bytes yet. A TLS record
 * header is enough on its own (a server's lone 7-byte alert must be read); STUN needs its cookie,
 * RFC 4571 the cookie after the length. */
static gboolean decide_mode(struct tcp_dir *d, const guint8 *p, size_t n)
{
    if (n >= 5 && p[0] >= 20 && p[0] <= 23 && p[1] == 3 && p[2] <= 4 &&
        sl_get_u16(p + 3) <= 18432) {
        d->mode = MODE_TLS;
        return TRUE;
    }
    if (n < 10)
        return FALSE;
    if (capread_stun_header_at(p, n)) {
        d->mode = MODE_FRAMER;
    } else if (capread_stun_header_at(p + 2, n - 2) &&
               (size_t)sl_get_u16(p) == SL_HDR_LEN + (size_t)sl_get_u16(p + 4)) {
        d->mode = MODE_4571;
    } else {
        d->mode = d->midstream ? MODE_RESYNC : MODE_OTHER;
    }
    return TRUE;
}

static void pend_set(struct tcp_dir *d, const guint8 *p, size_t n)
{
    if (!d->pend)
        d->pend = g_byte_array_new();
    g_byte_array_set_size(d->pend, 0);
    if (n)
        g_byte_array_append(d->pend, p, (guint)n);
}

static void pend_drop(struct tcp_dir *d)
{
    if (d->pend) {
        g_byte_array_unref(d->pend);
        d->pend = NULL;
    }
}

static void consume(struct tp_capread *c, struct tcp_flow *f, int side, const guint8 *p,
                    size_t n);

/* Searches buffered + new bytes for a STUN header to start framing again. */
static void resync(struct tp_capread *c, struct tcp_flow *f, int side, const guint8 *p, size_t n)
{
    struct tcp_dir *d = &f->d[side];
    GByteArray *b = g_byte_array_new();
    if (d->pend)
        g_byte_array_append(b, d->pend->data, d->pend->len);
    g_byte_array_append(b, p, (guint)n);
    pend_drop(d);
    for (size_t i = 0; i + 8 <= b->len; i++) {
        const guint8 *q = b->data + i;
        /* A plausible STUN message: cookie, a padded length, a known class and a method in the
         * TURN range; what follows is left to the framer to confirm. */
        if (capread_stun_header_at(q, b->len - i) && sl_get_u16(q + 2) <= 4096 &&
            sl_type_method(sl_get_u16(q)) <= 0x00C) {
            d->mode = MODE_FRAMER;
            d->scanned = 0;
            consume(c, f, side, q, b->len - i);
            g_byte_array_unref(b);
            return;
        }
    }
    d->scanned += n;
    if (d->scanned > TP_CAP_RESYNC_MAX) {
        d->mode = MODE_OTHER;
    } else {
        size_t keep = MIN(b->len, 7u);
        pend_set(d, b->data + b->len - keep, keep);
    }
    g_byte_array_unref(b);
}

static void consume_framer(struct tp_capread *c, struct tcp_flow *f, int side, const guint8 *p,
                           size_t n)
{
    struct tcp_dir *d = &f->d[side];
    struct sl_framer *fr = c->framer;
    sl_framer_init(fr, 0);
    if (d->pend && d->pend->len)
        sl_framer_feed(fr, d->pend->data, d->pend->len);
    size_t off = 0;
    for (;;) {
        off += sl_framer_feed(fr, p + off, n - off);
        struct sl_frame fm;
        int rc = sl_framer_next(fr, &fm);
        while (rc == SL_OK) {
            stream_rec(c, f, side, TP_REC_MSG, fm.p, fm.len);
            rc = sl_framer_next(fr, &fm);
        }
        if (rc != SL_EAGAIN) {
            /* Desynchronised: what is left is searched for the next STUN header. */
            size_t left = sl_framer_pending(fr);
            GByteArray *rest = g_byte_array_sized_new((guint)(left + n - off));
            g_byte_array_append(rest, fr->buf + fr->start, (guint)left);
            g_byte_array_append(rest, p + off, (guint)(n - off));
            pend_drop(d);
            d->mode = MODE_RESYNC;
            /* Skip the byte the framer refused, so the search cannot find it again. */
            if (rest->len > 1)
                resync(c, f, side, rest->data + 1, rest->len - 1);
            g_byte_array_unref(rest);
            return;
        }
        if (off >= n)
            break;
    }
    size_t left = sl_framer_pending(fr);
    if (left)
        pend_set(d, fr->buf + fr->start, left);
    else
        pend_drop(d);
}

static void consume_4571(struct tp_capread *c, struct tcp_flow *f, int side, const guint8 *p,
                         size_t n)
{
    struct tcp_dir *d = &f->d[side];
    GByteArray *b = d->pend;
    const guint8 *q = p;
    size_t avail = n;
    if (b && b->len) {
        g_byte_array_append(b, p, (guint)n);
        q = b->data;
        avail = b->len;
    }
    size_t off = 0;
    while (avail - off >= 2) {
        size_t flen = sl_get_u16(q + off);
        if (avail - off < 2 + flen)
            break;
        stream_rec(c, f, side, TP_REC_MSG, q + off + 2, flen);
        off += 2 + flen;
    }
    if (b && b->len) {
        g_byte_array_remove_range(b, 0, (guint)off);
        if (b->len == 0)
            pend_drop(d);
    } else if (off < n) {
        pend_set(d, p + off, n - off);
    }
}

static void consume_tls(struct tp_capread *c, struct tcp_flow *f, int side, const guint8 *p,
                        size_t n)
{
    struct tcp_dir *d = &f->d[side];
    size_t off = 0;
    while (off < n) {
        if (d->tls_skip) {
            size_t k = MIN((size_t)d->tls_skip, n - off);
            d->tls_skip -= (guint32)k;
            off += k;
            continue;
        }
        if (!d->pend)
            d->pend = g_byte_array_new();
        GByteArray *b = d->pend;
        /* The header first, then the body of records we read; application data is skipped. */
        size_t need = b->len < 5 ? 5 - b->len : 0;
        if (need) {
            size_t k = MIN(need, n - off);
            g_byte_array_append(b, p + off, (guint)k);
            off += k;
            if (b->len < 5)
                break;
        }
        guint8 type = b->data[0];
        size_t rlen = sl_get_u16(b->data + 3);
        if (type < 20 || type > 24 || b->data[1] != 3 || rlen > 18432) {
            d->mode = MODE_OTHER;
            pend_drop(d);
            return;
        }
        if (type == 23) {
            stream_rec(c, f, side, TP_REC_TLS, NULL, rlen);
            d->tls_skip = (guint32)rlen;
            g_byte_array_set_size(b, 0);
            continue;
        }
        size_t have = b->len - 5;
        size_t k = MIN(rlen - have, n - off);
        g_byte_array_append(b, p + off, (guint)k);
        off += k;
        if (b->len - 5 < rlen)
            break;
        stream_rec(c, f, side, TP_REC_TLS, b->data, b->len);
        g_byte_array_set_size(b, 0);
    }
    if (d->pend && d->pend->len == 0)
        pend_drop(d);
}

/* In-order bytes of one direction. */
static void consume(struct tp_capread *c, struct tcp_flow *f, int side, const guint8 *p, size_t n)
{
    struct tcp_dir *d = &f->d[side];
    if (n == 0)
        return;
    if (d->mode == MODE_UNKNOWN) {
        const guint8 *q = p;
        size_t avail = n;
        if (d->pend && d->pend->len) {
            g_byte_array_append(d->pend, p, (guint)n);
            q = d->pend->data;
            avail = d->pend->len;
        }
        if (!decide_mode(d, q, avail)) {
            if (q == p)
                pend_set(d, p, n);
            return;
        }
        if (q != p) {
            /* Replay what was buffered through the chosen reader. */
            GByteArray *b = d->pend;
            d->pend = NULL;
            consume(c, f, side, b->data, b->len);
            g_byte_array_unref(b);
            return;
        }
    }
    switch (d->mode) {
    case MODE_FRAMER: consume_framer(c, f, side, p, n); break;
    case MODE_4571: consume_4571(c, f, side, p, n); break;
    case MODE_TLS: consume_tls(c, f, side, p, n); break;
    case MODE_RESYNC: resync(c, f, side, p, n); break;
    case MODE_OTHER:
    case MODE_UNKNOWN: break;
    }
}

static gint32 seq_diff(guint32 a, guint32 b)
{
    return (gint32)(a - b);
}

/* Bytes are missing before the first queued segment: say so and read on from there. */
static void stream_gap(struct tp_capread *c, struct tcp_flow *f, int side, guint32 to)
{
    struct tcp_dir *d = &f->d[side];
    guint32 lost = to - d->next;
    c->st.tcp_gaps++;
    c->st.tcp_gap_bytes += lost;
    struct tp_rec rec = {0};
    rec.kind = TP_REC_GAP;
    rec.proto = 6;
    rec.src = f->addr[side];
    rec.dst = f->addr[!side];
    rec.len = lost;
    emit(c, &rec);
    d->next = to;
    pend_drop(d);
    d->tls_skip = 0;
    if (d->mode == MODE_FRAMER || d->mode == MODE_4571 || d->mode == MODE_UNKNOWN) {
        d->mode = MODE_RESYNC;
        d->scanned = 0;
    } else if (d->mode == MODE_TLS) {
        d->mode = MODE_OTHER; /* record boundaries are lost; the handshake is long over */
    }
}

/* Delivers queued segments that are now in order. */
static void drain_ooo(struct tp_capread *c, struct tcp_flow *f, int side)
{
    struct tcp_dir *d = &f->d[side];
    while (d->ooo) {
        struct seg *s = d->ooo->data;
        gint32 off = seq_diff(s->seq, d->next);
        if (off > 0)
            break;
        d->ooo = g_slist_delete_link(d->ooo, d->ooo);
        d->ooo_n--;
        d->ooo_bytes -= s->len;
        if ((gint64)s->len > -(gint64)off) {
            guint32 skip = (guint32)(-off);
            d->next += s->len - skip;
            consume(c, f, side, s->data + skip, s->len - skip);
        }
        g_free(s);
    }
}

static gint seg_cmp(gconstpointer a, gconstpointer b)
{
    const struct seg *x = a, *y = b;
    gint32 d = seq_diff(x->seq, y->seq);
    return d < 0 ? -1 : d > 0;
}

static void queue_seg(struct tp_capread *c, struct tcp_flow *f, int side, guint32 seq,
                      const guint8 *p, size_t n)
{
    struct tcp_dir *d = &f->d[side];
    for (GSList *l = d->ooo; l; l = l->next) {
        struct seg *s = l->data;
        if (s->seq == seq && s->len >= n) {
            c->st.tcp_retrans++;
            return;
        }
    }
    if (d->ooo_n >= TP_CAP_MAX_OOO_SEGS || d->ooo_bytes + n > TP_CAP_MAX_OOO_BYTES) {
        /* The hole is not going to be filled: give up on it. */
        struct seg *first = d->ooo->data;
        stream_gap(c, f, side, first->seq);
        drain_ooo(c, f, side);
        if (seq_diff(seq, d->next) <= 0) {
            gint32 off = seq_diff(seq, d->next);
            if ((gint64)n > -(gint64)off) {
                d->next += (guint32)n - (guint32)(-off);
                consume(c, f, side, p + (-off), n - (size_t)(-off));
                drain_ooo(c, f, side);
            }
            return;
        }
    }
    struct seg *s = g_malloc(sizeof(struct seg) + n);
    s->seq = seq;
    s->len = (guint32)n;
    memcpy(s->data, p, n);
    d->ooo = g_slist_insert_sorted(d->ooo, s, seg_cmp);
    d->ooo_n++;
    d->ooo_bytes += n;
    c->st.tcp_ooo++;
}

static void flow_flush(struct tp_capread *c, struct tcp_flow *f)
{
    for (int side = 0; side < 2; side++) {
        struct tcp_dir *d = &f->d[side];
        while (d->ooo) {
            struct seg *s = d->ooo->data;
            stream_gap(c, f, side, s->seq);
            drain_ooo(c, f, side);
        }
    }
}

static void ctrl_rec(struct tp_capread *c, const struct sl_addr *src, const struct sl_addr *dst,
                     guint8 flags)
{
    struct tp_rec rec = {0};
    rec.kind = TP_REC_TCP_CTRL;
    rec.proto = 6;
    rec.src = *src;
    rec.dst = *dst;
    rec.tcp_flags = flags;
    emit(c, &rec);
}

static void sweep(struct tp_capread *c)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, c->flows);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct tcp_flow *f = v;
        if (c->t_us - f->last_us > TP_CAP_TCP_IDLE_US) {
            flow_flush(c, f);
            g_hash_table_iter_remove(&it);
        }
    }
    g_hash_table_iter_init(&it, c->frags);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct frag *fr = v;
        if (c->t_us - fr->first_us > TP_CAP_FRAG_TIMEOUT_US) {
            c->st.frag_dropped++;
            g_hash_table_iter_remove(&it);
        }
    }
    c->last_sweep_us = c->t_us;
}

/* seg holds len captured bytes of a segment that had wire bytes on the wire (a snap length
 * may cut it): the bytes not captured are a gap in the stream. */
static void tcp_segment(struct tp_capread *c, const struct sl_addr *src, const struct sl_addr *dst,
                        const guint8 *seg, size_t len, size_t wire)
{
    struct sl_rd rd;
    sl_rd_init(&rd, seg, len);
    sl_rd_skip(&rd, 4);
    guint32 seq = sl_rd_u32(&rd);
    sl_rd_skip(&rd, 4);
    guint8 doff = sl_rd_u8(&rd) >> 4;
    guint8 flags = sl_rd_u8(&rd);
    if (rd.err || doff < 5 || (size_t)doff * 4 > len) {
        c->st.bad++;
        return;
    }
    c->st.tcp++;
    const guint8 *p = seg + doff * 4;
    size_t n = len - (size_t)doff * 4;

    struct flow_key k;
    memset(&k, 0, sizeof(k));
    k.family = src->family;
    int cmp = memcmp(src->ip, dst->ip, 16);
    int side = cmp < 0 || (cmp == 0 && src->port <= dst->port) ? 0 : 1;
    const struct sl_addr *lo = side == 0 ? src : dst, *hi = side == 0 ? dst : src;
    memcpy(k.addr[0], lo->ip, 16);
    memcpy(k.addr[1], hi->ip, 16);
    k.port[0] = lo->port;
    k.port[1] = hi->port;

    /* SYN before the data it may carry; FIN and RST after it, so that a response in the last
     * segment is read before the connection is said to close. */
    guint8 rflags = flags & (TP_TCP_SYN | TP_TCP_FIN | TP_TCP_RST | TP_TCP_ACK);
    if (flags & TP_TCP_SYN)
        ctrl_rec(c, src, dst, rflags);

    struct tcp_flow *f = g_hash_table_lookup(c->flows, &k);
    if (!f) {
        /* Only segments that carry something open a flow: a stray ACK costs nothing. */
        if ((n == 0 && !(flags & TP_TCP_SYN)) || (flags & TP_TCP_RST)) {
            if (flags & (TP_TCP_FIN | TP_TCP_RST))
                ctrl_rec(c, src, dst, rflags);
            return;
        }
        f = g_new0(struct tcp_flow, 1);
        f->k = k;
        f->addr[0] = *lo;
        f->addr[1] = *hi;
        g_hash_table_insert(c->flows, &f->k, f);
    }
    f->last_us = c->t_us;
    struct tcp_dir *d = &f->d[side];
    if (flags & TP_TCP_SYN) {
        if (!d->have_next || !d->syn) {
            d->syn = TRUE;
            d->have_next = TRUE;
            d->next = seq + 1;
            d->midstream = FALSE;
        }
        seq++;
    }
    if (n > 0) {
        c->st.tcp_segments++;
        if (!d->have_next) {
            d->have_next = TRUE;
            d->next = seq;
            d->midstream = TRUE;
        }
        gint32 off = seq_diff(seq, d->next);
        if (off > 0) {
            queue_seg(c, f, side, seq, p, n);
        } else if ((gint64)n <= -(gint64)off) {
            c->st.tcp_retrans++;
        } else {
            size_t skip = (size_t)(-off);
            if (skip)
                c->st.tcp_retrans++;
            d->next += (guint32)(n - skip);
            consume(c, f, side, p + skip, n - skip);
            if (wire > len && g_hash_table_lookup(c->flows, &k) == f)
                stream_gap(c, f, side, d->next + (guint32)(wire - len));
            drain_ooo(c, f, side);
        }
    }
    if (flags & TP_TCP_FIN)
        d->fin = TRUE;
    gboolean over = (flags & TP_TCP_RST) || (f->d[0].fin && f->d[1].fin);
    if (over)
        flow_flush(c, f);
    if (flags & (TP_TCP_FIN | TP_TCP_RST))
        ctrl_rec(c, src, dst, rflags);
    if (over)
        g_hash_table_remove(c->flows, &k);
}

/* ---- UDP, ICMP ----------------------------------------------------------------------------- */

static void udp_datagram(struct tp_capread *c, struct sl_addr *src, struct sl_addr *dst,
                         const guint8 *p, size_t len)
{
    struct sl_rd rd;
    sl_rd_init(&rd, p, len);
    src->port = sl_rd_u16(&rd);
    dst->port = sl_rd_u16(&rd);
    guint16 ulen = sl_rd_u16(&rd);
    sl_rd_skip(&rd, 2);
    if (rd.err || ulen < 8) {
        c->st.bad++;
        return;
    }
    c->st.udp++;
    size_t n = MIN((size_t)ulen - 8, len - 8);
    if ((size_t)ulen - 8 > len - 8)
        c->st.cut++;
    struct tp_rec rec = {0};
    rec.kind = TP_REC_MSG;
    rec.proto = 17;
    rec.src = *src;
    rec.dst = *dst;
    rec.p = p + 8;
    rec.len = n;
    emit(c, &rec);
}

/* The quoted packet of an ICMP error: its IP header and the first 8 bytes of its payload. */
static void icmp_error(struct tp_capread *c, guint8 type, guint8 code, const guint8 *q, size_t n,
                       gboolean v6)
{
    struct sl_rd rd;
    sl_rd_init(&rd, q, n);
    struct tp_rec rec = {0};
    rec.kind = TP_REC_ICMP;
    rec.icmp_type = type;
    rec.icmp_code = code;
    guint8 proto;
    if (!v6) {
        guint8 vihl = sl_rd_u8(&rd);
        if ((vihl >> 4) != 4 || (vihl & 15) < 5)
            return;
        sl_rd_skip(&rd, 8);
        proto = sl_rd_u8(&rd);
        sl_rd_skip(&rd, 2);
        const guint8 *s = sl_rd_bytes(&rd, 4), *d = sl_rd_bytes(&rd, 4);
        sl_rd_skip(&rd, (size_t)((vihl & 15) - 5) * 4);
        if (rd.err)
            return;
        addr_set(&rec.src, SL_AF_IPV4, s, 0);
        addr_set(&rec.dst, SL_AF_IPV4, d, 0);
    } else {
        if ((sl_rd_u8(&rd) >> 4) != 6)
            return;
        sl_rd_skip(&rd, 5);
        proto = sl_rd_u8(&rd);
        sl_rd_skip(&rd, 1);
        const guint8 *s = sl_rd_bytes(&rd, 16), *d = sl_rd_bytes(&rd, 16);
        if (rd.err)
            return;
        addr_set(&rec.src, SL_AF_IPV6, s, 0);
        addr_set(&rec.dst, SL_AF_IPV6, d, 0);
    }
    if (proto != 17 && proto != 6)
        return;
    rec.src.port = sl_rd_u16(&rd);
    rec.dst.port = sl_rd_u16(&rd);
    if (rd.err)
        return;
    rec.proto = proto;
    c->st.icmp++;
    emit(c, &rec);
}

static void transport(struct tp_capread *c, guint8 proto, struct sl_addr *src, struct sl_addr *dst,
                      const guint8 *p, size_t len, size_t wire, gboolean v6)
{
    switch (proto) {
    case 17: udp_datagram(c, src, dst, p, len); break;
    case 6: {
        struct sl_rd rd;
        sl_rd_init(&rd, p, len);
        src->port = sl_rd_u16(&rd);
        dst->port = sl_rd_u16(&rd);
        if (rd.err) {
            c->st.bad++;
            return;
        }
        tcp_segment(c, src, dst, p, len, MAX(wire, len));
        break;
    }
    case 1:
    case 58:
        if (len >= 8 && ((!v6 && proto == 1 && p[0] == 3) || (v6 && proto == 58 && p[0] == 1)))
            icmp_error(c, p[0], p[1], p + 8, len - 8, v6);
        break;
    default: break;
    }
}

/* ---- IP ------------------------------------------------------------------------------------ */

static gboolean frag_complete(const struct frag *f)
{
    if (!f->total)
        return FALSE;
    guint32 blocks = (f->total + 7) / 8;
    for (guint32 b = 0; b < blocks; b++)
        if (!(f->have[b / 8] & (1u << (b % 8))))
            return FALSE;
    return TRUE;
}

/* Adds one fragment; when the datagram is whole, passes it on and forgets it. */
static void fragment(struct tp_capread *c, const struct frag_key *k, const struct sl_addr *src,
                     const struct sl_addr *dst, guint32 offset, gboolean more, const guint8 *p,
                     size_t n, gboolean v6)
{
    c->st.fragments++;
    if ((more && n % 8 != 0) || offset + n > FRAG_MAX_PAYLOAD || n == 0) {
        c->st.frag_dropped++;
        return;
    }
    struct frag *f = g_hash_table_lookup(c->frags, k);
    if (!f) {
        if (g_hash_table_size(c->frags) >= TP_CAP_MAX_FRAGS) {
            sweep(c);
            if (g_hash_table_size(c->frags) >= TP_CAP_MAX_FRAGS) {
                c->st.frag_dropped++;
                return;
            }
        }
        f = g_new0(struct frag, 1);
        f->k = *k;
        f->first_us = c->t_us;
        f->src = *src;
        f->dst = *dst;
        g_hash_table_insert(c->frags, &f->k, f);
    }
    guint32 end = offset + (guint32)n;
    if (end > f->cap) {
        guint32 cap = MAX(end, MIN(f->cap * 2, FRAG_MAX_PAYLOAD));
        f->buf = g_realloc(f->buf, cap);
        f->cap = cap;
    }
    memcpy(f->buf + offset, p, n);
    for (guint32 b = offset / 8; b < (end + 7) / 8; b++)
        f->have[b / 8] |= (guint8)(1u << (b % 8));
    if (!more)
        f->total = end;
    if (!frag_complete(f))
        return;
    c->st.reassembled++;
    struct sl_addr s = f->src, d = f->dst;
    guint8 *buf = f->buf;
    guint32 total = f->total;
    guint8 proto = f->k.proto;
    f->buf = NULL;
    g_hash_table_remove(c->frags, k);
    transport(c, proto, &s, &d, buf, total, total, v6);
    g_free(buf);
}

static void ipv4(struct tp_capread *c, const guint8 *p, size_t len)
{
    struct sl_rd rd;
    sl_rd_init(&rd, p, len);
    guint8 vihl = sl_rd_u8(&rd);
    sl_rd_skip(&rd, 1);
    guint16 tot = sl_rd_u16(&rd);
    guint16 id = sl_rd_u16(&rd);
    guint16 fo = sl_rd_u16(&rd);
    sl_rd_skip(&rd, 1);
    guint8 proto = sl_rd_u8(&rd);
    sl_rd_skip(&rd, 2);
    const guint8 *s = sl_rd_bytes(&rd, 4), *d = sl_rd_bytes(&rd, 4);
    size_t ihl = (size_t)(vihl & 15) * 4;
    if (rd.err || (vihl >> 4) != 4 || ihl < 20 || tot < ihl || ihl > len) {
        c->st.bad++;
        return;
    }
    size_t wire = tot;
    if (tot > len) {
        c->st.cut++;
        tot = (guint16)len;
    }
    struct sl_addr src, dst;
    addr_set(&src, SL_AF_IPV4, s, 0);
    addr_set(&dst, SL_AF_IPV4, d, 0);
    guint32 offset = (guint32)(fo & 0x1FFF) * 8;
    gboolean more = (fo & 0x2000) != 0;
    if (offset || more) {
        struct frag_key k;
        memset(&k, 0, sizeof(k));
        k.family = SL_AF_IPV4;
        k.proto = proto;
        k.id = id;
        memcpy(k.src, s, 4);
        memcpy(k.dst, d, 4);
        fragment(c, &k, &src, &dst, offset, more, p + ihl, tot - ihl, FALSE);
        return;
    }
    transport(c, proto, &src, &dst, p + ihl, tot - ihl, wire - ihl, FALSE);
}

static void ipv6(struct tp_capread *c, const guint8 *p, size_t len)
{
    struct sl_rd rd;
    sl_rd_init(&rd, p, len);
    guint8 v = sl_rd_u8(&rd) >> 4;
    sl_rd_skip(&rd, 3);
    guint16 plen = sl_rd_u16(&rd);
    guint8 nh = sl_rd_u8(&rd);
    sl_rd_skip(&rd, 1);
    const guint8 *s = sl_rd_bytes(&rd, 16), *d = sl_rd_bytes(&rd, 16);
    if (rd.err || v != 6) {
        c->st.bad++;
        return;
    }
    size_t avail = len - 40, wire = plen;
    if (plen > avail)
        c->st.cut++;
    else
        avail = plen; /* a jumbogram (plen 0) is not expected in these captures */
    struct sl_addr src, dst;
    addr_set(&src, SL_AF_IPV6, s, 0);
    addr_set(&dst, SL_AF_IPV6, d, 0);
    sl_rd_init(&rd, p + 40, avail);
    gboolean frag = FALSE, more = FALSE;
    guint32 offset = 0, id = 0;
    for (int i = 0; i < TP_CAP_IPV6_MAX_EXT; i++) {
        if (nh == 0 || nh == 43 || nh == 60 || nh == 135 || nh == 139 || nh == 140) {
            guint8 next = sl_rd_u8(&rd);
            guint8 hlen = sl_rd_u8(&rd);
            sl_rd_skip(&rd, (size_t)hlen * 8 + 6);
            nh = next;
        } else if (nh == 51) { /* AH: length in 4-byte units, minus 2 */
            guint8 next = sl_rd_u8(&rd);
            guint8 hlen = sl_rd_u8(&rd);
            sl_rd_skip(&rd, (size_t)(hlen + 2) * 4 - 2);
            nh = next;
        } else if (nh == 44) {
            guint8 next = sl_rd_u8(&rd);
            sl_rd_skip(&rd, 1);
            guint16 fo = sl_rd_u16(&rd);
            id = sl_rd_u32(&rd);
            frag = TRUE;
            offset = (guint32)(fo >> 3) * 8;
            more = (fo & 1) != 0;
            nh = next;
        } else {
            break;
        }
        if (rd.err) {
            c->st.bad++;
            return;
        }
    }
    const guint8 *q = p + 40 + rd.off;
    size_t n = avail - rd.off;
    if (frag && (offset || more)) {
        struct frag_key k;
        memset(&k, 0, sizeof(k));
        k.family = SL_AF_IPV6;
        k.proto = nh;
        k.id = id;
        memcpy(k.src, s, 16);
        memcpy(k.dst, d, 16);
        fragment(c, &k, &src, &dst, offset, more, q, n, TRUE);
        return;
    }
    transport(c, nh, &src, &dst, q, n, wire > rd.off ? wire - rd.off : n, TRUE);
}

static void ip_any(struct tp_capread *c, const guint8 *p, size_t len)
{
    if (len < 1) {
        c->st.bad++;
        return;
    }
    switch (p[0] >> 4) {
    case 4: ipv4(c, p, len); break;
    case 6: ipv6(c, p, len); break;
    default: c->st.non_ip++; break;
    }
}

static void ethertype(struct tp_capread *c, guint16 type, const guint8 *p, size_t len)
{
    switch (type) {
    case ETH_IPV4: ipv4(c, p, len); break;
    case ETH_IPV6: ipv6(c, p, len); break;
    default: c->st.non_ip++; break;
    }
}

static void ethernet(struct tp_capread *c, const guint8 *p, size_t len)
{
    struct sl_rd rd;
    sl_rd_init(&rd, p, len);
    sl_rd_skip(&rd, 12);
    guint16 type = sl_rd_u16(&rd);
    for (int i = 0; i < MAX_VLAN_TAGS && (type == ETH_VLAN || type == ETH_QINQ ||
                                          type == ETH_QINQ_OLD);
         i++) {
        sl_rd_skip(&rd, 2);
        type = sl_rd_u16(&rd);
    }
    if (type == ETH_PPPOE) {
        /* PPPoE session: 6-byte header, then the PPP protocol (0x0021 IPv4, 0x0057 IPv6). */
        sl_rd_skip(&rd, 6);
        guint16 ppp = sl_rd_u16(&rd);
        type = ppp == 0x0021 ? ETH_IPV4 : ppp == 0x0057 ? ETH_IPV6 : 0;
    }
    if (rd.err) {
        c->st.bad++;
        return;
    }
    ethertype(c, type, p + rd.off, len - rd.off);
}

/* BSD loopback: the address family in the capturing host's byte order. */
static void null_loop(struct tp_capread *c, const guint8 *p, size_t len, gboolean network_order)
{
    if (len < 4) {
        c->st.bad++;
        return;
    }
    guint32 be = sl_get_u32(p), le = GUINT32_SWAP_LE_BE(be);
    guint32 af = network_order ? be : (be < 0x10000 ? be : le);
    if (af == 2)
        ipv4(c, p + 4, len - 4);
    else if (af == 24 || af == 28 || af == 30 || af == 10)
        ipv6(c, p + 4, len - 4);
    else
        c->st.non_ip++;
}

static void decode(struct tp_capread *c, int lt, const guint8 *p, size_t len)
{
    switch (lt) {
    case LT_ETHERNET: ethernet(c, p, len); break;
    case LT_LINUX_SLL:
        if (len < 16) {
            c->st.bad++;
            return;
        }
        ethertype(c, sl_get_u16(p + 14), p + 16, len - 16);
        break;
    case LT_LINUX_SLL2:
        if (len < 20) {
            c->st.bad++;
            return;
        }
        ethertype(c, sl_get_u16(p), p + 20, len - 20);
        break;
    case LT_RAW:
    case LT_RAW_12:
    case LT_RAW_14: ip_any(c, p, len); break;
    case LT_IPV4: ipv4(c, p, len); break;
    case LT_IPV6: ipv6(c, p, len); break;
    case LT_NULL: null_loop(c, p, len, FALSE); break;
    case LT_LOOP: null_loop(c, p, len, TRUE); break;
    default: c->st.non_ip++; break;
    }
}

void tp_capread_feed(struct tp_capread *c, int linktype, gint64 t_us, const guint8 *data,
                     size_t caplen)
{
    c->frame++;
    c->t_us = t_us;
    c->data = data;
    c->caplen = c->origlen = (guint32)caplen;
    c->st.frames++;
    c->st.bytes += caplen;
    if (c->fn)
        decode(c, linktype, data, caplen);
    if (c->t_us - c->last_sweep_us > 60 * G_USEC_PER_SEC || c->t_us < c->last_sweep_us)
        sweep(c);
}

int tp_capread_next(struct tp_capread *c, GError **err)
{
    if (!c->pc)
        return 0;
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc = pcap_next_ex(c->pc, &h, &data);
    if (rc == PCAP_ERROR_BREAK)
        return 0;
    if (rc != 1) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: damaged after frame %u: %s",
                    c->name, c->frame, pcap_geterr(c->pc));
        return -1;
    }
    c->frame++;
    /* A corrupt pcapng timestamp can be any 64-bit value: keep the product representable. */
    gint64 sec = CLAMP((gint64)h->ts.tv_sec, -((gint64)1 << 40), (gint64)1 << 40);
    c->t_us = sec * G_USEC_PER_SEC + CLAMP((gint64)h->ts.tv_usec, 0, G_USEC_PER_SEC - 1);
    c->data = data;
    c->caplen = h->caplen;
    c->origlen = h->len;
    c->st.frames++;
    c->st.bytes += h->caplen;
    if (!c->fn)
        return 1;
    if (h->caplen < h->len)
        c->st.cut++;
    decode(c, c->linktype, data, h->caplen);
    if (c->t_us - c->last_sweep_us > 60 * G_USEC_PER_SEC || c->t_us < c->last_sweep_us)
        sweep(c);
    return 1;
}

void tp_capread_flush(struct tp_capread *c)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, c->flows);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        flow_flush(c, v);
        g_hash_table_iter_remove(&it);
    }
    c->st.frag_dropped += g_hash_table_size(c->frags);
    g_hash_table_remove_all(c->frags);
}
