/* The annotated pcapng writer (see rpt_pcapng.h); libpcap reads pcapng but cannot write it. */
#include "rpt_pcapng.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "sl_rd.h"

/* Block types (draft-ietf-opsawg-pcapng §4, §11). */
#define BT_SHB           0x0A0D0D0Au
#define BT_IDB           0x00000001u
#define BT_EPB           0x00000006u
#define BT_DSB           0x0000000Au
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du

/* Option codes: opt_endofopt and opt_comment are common to all blocks (§3.5). */
#define OPT_ENDOFOPT     0
#define OPT_COMMENT      1
#define OPT_SHB_OS       3
#define OPT_SHB_USERAPPL 4
#define OPT_IF_NAME      2
#define OPT_IF_DESC      3
#define OPT_EPB_FLAGS    2

/* "The length of the Option Value ... MUST NOT exceed 65535 octets" (an option length is 16
 * bits). */
#define OPT_MAX_LEN 65535u
/* Wireshark refuses packets longer than this (WTAP_MAX_PACKET_SIZE_STANDARD); a larger caplen
 * would make the whole file unreadable there, so it is clamped like a snaplen. */
#define MAX_CAPLEN 262144u
/* Wireshark refuses blocks beyond 16 MiB; a key log that large is a caller's bug. */
#define MAX_SECRETS (16u * 1024 * 1024 - 64)

struct rpt_pcapng {
    char *path; /* destination */
    char *tmp;  /* the temporary file beside it */
    FILE *fp;
    GArray *snaplens; /* guint32 per interface id */
    GError *error;    /* the first failure: sticky */
    GByteArray *blk;  /* block being built, reused */
};

/* ---- little-endian block encoding ---------------------------------------------------------- */

/* Blocks are written little-endian whatever the host: the SHB's byte-order magic tells readers,
 * and a fixed order makes the files byte-for-byte reproducible across machines. */
static void le16(GByteArray *b, guint16 v)
{
    guint8 q[2] = {(guint8)v, (guint8)(v >> 8)};
    g_byte_array_append(b, q, 2);
}

static void put_le32(guint8 *q, guint32 v)
{
    q[0] = (guint8)v;
    q[1] = (guint8)(v >> 8);
    q[2] = (guint8)(v >> 16);
    q[3] = (guint8)(v >> 24);
}

static void le32(GByteArray *b, guint32 v)
{
    guint8 q[4];
    put_le32(q, v);
    g_byte_array_append(b, q, 4);
}

static void pad32(GByteArray *b)
{
    static const guint8 zero[3] = {0, 0, 0};
    g_byte_array_append(b, zero, SL_PAD4(b->len));
}

static void opt_bytes(GByteArray *b, guint16 code, const void *val, guint16 len)
{
    le16(b, code);
    le16(b, len);
    if (len)
        g_byte_array_append(b, val, len);
    pad32(b);
}

/* The longest prefix of s, at most max bytes, that ends on a UTF-8 character boundary, so that a
 * cut string stays valid UTF-8 as the spec requires of string options. */
static size_t utf8_prefix(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((guint8)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* A string option, repaired to valid UTF-8 and cut to the option size limit. */
static void opt_str(GByteArray *b, guint16 code, const char *s)
{
    if (!s || !*s)
        return;
    char *valid = g_utf8_make_valid(s, -1);
    size_t len = utf8_prefix(valid, strlen(valid), OPT_MAX_LEN);
    opt_bytes(b, code, valid, (guint16)len);
    g_free(valid);
}

static void opt_end(GByteArray *b)
{
    le16(b, OPT_ENDOFOPT);
    le16(b, 0);
}

/* ---- the file and its sticky error --------------------------------------------------------- */

static void fail(struct rpt_pcapng *w, int code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void fail(struct rpt_pcapng *w, int code, const char *fmt, ...)
{
    if (w->error)
        return; /* the first failure is the one worth reporting */
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    w->error = g_error_new_literal(G_FILE_ERROR, code, msg);
    g_free(msg);
}

static void fail_errno(struct rpt_pcapng *w, int errsv, const char *what)
{
    fail(w, g_file_error_from_errno(errsv), "%s %s: %s", what, w->tmp, g_strerror(errsv));
}

/* Frames the block held in w->blk (body only, already padded) and writes it. */
static gboolean block_write(struct rpt_pcapng *w, guint32 type)
{
    if (w->error)
        return FALSE;
    guint64 total = 12 + (guint64)w->blk->len;
    if (total > G_MAXUINT32 || w->blk->len % 4) {
        fail(w, G_FILE_ERROR_INVAL, "pcapng block too large (%" G_GUINT64_FORMAT " bytes)", total);
        return FALSE;
    }
    guint8 head[8], tail[4];
    put_le32(head, type);
    put_le32(head + 4, (guint32)total);
    put_le32(tail, (guint32)total); /* repeated so readers can walk backwards */
    errno = 0;
    gboolean ok = fwrite(head, 1, 8, w->fp) == 8 &&
                  fwrite(w->blk->data, 1, w->blk->len, w->fp) == w->blk->len &&
                  fwrite(tail, 1, 4, w->fp) == 4;
    if (!ok)
        fail_errno(w, errno ? errno : EIO, "cannot write");
    return ok;
}

static char *os_name(void)
{
    struct utsname u;
    if (uname(&u) != 0)
        return g_strdup("unknown");
    return g_strdup_printf("%s %s %s", u.sysname, u.release, u.machine);
}

static void pcapng_free(struct rpt_pcapng *w)
{
    if (w->fp)
        fclose(w->fp);
    g_free(w->path);
    g_free(w->tmp);
    g_array_unref(w->snaplens);
    g_clear_error(&w->error);
    g_byte_array_unref(w->blk);
    g_free(w);
}

struct rpt_pcapng *rpt_pcapng_open_full(const char *path, const char *shb_comment,
                                        const char *userappl, GError **err)
{
    struct rpt_pcapng *w = g_new0(struct rpt_pcapng, 1);
    w->path = g_strdup(path);
    w->snaplens = g_array_new(FALSE, FALSE, sizeof(guint32));
    w->blk = g_byte_array_new();
    /* Beside the destination so that rename() is atomic (same file system); hidden so that a
     * glob over the directory does not pick up a half-written capture. */
    char *dir = g_path_get_dirname(path);
    char *base = g_path_get_basename(path);
    char *name = g_strdup_printf(".%s.XXXXXX.tmp", base);
    w->tmp = g_build_filename(dir, name, NULL);
    g_free(dir);
    g_free(base);
    g_free(name);
    /* 0666 and the umask, like any file the user creates; add_secrets tightens it. */
    int fd = g_mkstemp_full(w->tmp, O_RDWR | O_CLOEXEC, 0666);
    if (fd < 0) {
        int errsv = errno;
        g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errsv),
                    "cannot create a temporary file for %s: %s", path, g_strerror(errsv));
        pcapng_free(w);
        return NULL;
    }
    w->fp = fdopen(fd, "wb");
    if (!w->fp) {
        int errsv = errno;
        close(fd);
        g_unlink(w->tmp);
        g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errsv), "cannot open %s: %s", w->tmp,
                    g_strerror(errsv));
        pcapng_free(w);
        return NULL;
    }

    /* Section Header Block (§4.1): byte-order magic, version 1.0, section length unknown. */
    g_byte_array_set_size(w->blk, 0);
    le32(w->blk, BYTE_ORDER_MAGIC);
    le16(w->blk, 1);
    le16(w->blk, 0);
    le32(w->blk, 0xFFFFFFFFu);
    le32(w->blk, 0xFFFFFFFFu);
    char *os = os_name();
    opt_str(w->blk, OPT_COMMENT, shb_comment);
    opt_str(w->blk, OPT_SHB_OS, os);
    opt_str(w->blk, OPT_SHB_USERAPPL, userappl ? userappl : "turnprobe");
    opt_end(w->blk);
    g_free(os);
    if (!block_write(w, BT_SHB)) {
        g_propagate_error(err, w->error);
        w->error = NULL;
        rpt_pcapng_abort(w);
        return NULL;
    }
    return w;
}

struct rpt_pcapng *rpt_pcapng_open(const char *path, const char *shb_comment, GError **err)
{
    return rpt_pcapng_open_full(path, shb_comment, "turnprobe", err);
}

static int iface_add(struct rpt_pcapng *w, int linktype, guint32 snaplen, const char *name,
                     const char *desc)
{
    if (w->error)
        return -1;
    if (linktype < 0 || linktype > 0xFFFF) {
        fail(w, G_FILE_ERROR_INVAL, "link type %d out of range", linktype);
        return -1;
    }
    /* Interface Description Block (§4.2). No if_tsresol: the default is microseconds. */
    g_byte_array_set_size(w->blk, 0);
    le16(w->blk, (guint16)linktype);
    le16(w->blk, 0);
    le32(w->blk, snaplen);
    if ((name && *name) || (desc && *desc)) {
        opt_str(w->blk, OPT_IF_NAME, name);
        opt_str(w->blk, OPT_IF_DESC, desc);
        opt_end(w->blk);
    }
    if (!block_write(w, BT_IDB))
        return -1;
    g_array_append_val(w->snaplens, snaplen);
    return (int)w->snaplens->len - 1;
}

int rpt_pcapng_add_interface(struct rpt_pcapng *w, int linktype, guint32 snaplen, const char *name)
{
    return iface_add(w, linktype, snaplen, name, NULL);
}

gboolean rpt_pcapng_add_secrets(struct rpt_pcapng *w, const char *nss_keylog)
{
    if (w->error)
        return FALSE;
    if (!nss_keylog || !*nss_keylog)
        return TRUE;
    size_t len = strlen(nss_keylog);
    if (len > MAX_SECRETS) {
        fail(w, G_FILE_ERROR_INVAL, "TLS key log too large for a pcapng block (%zu bytes)", len);
        return FALSE;
    }
    /* Whoever holds the file can decrypt the TLS it carries: keep it to its owner. */
    if (fchmod(fileno(w->fp), 0600) != 0) {
        fail_errno(w, errno, "cannot restrict the mode of");
        return FALSE;
    }
    /* Decryption Secrets Block: secrets type, length without padding, data, padding. */
    g_byte_array_set_size(w->blk, 0);
    le32(w->blk, RPT_PCAPNG_SECRETS_TLS_KEYLOG);
    le32(w->blk, (guint32)len);
    g_byte_array_append(w->blk, (const guint8 *)nss_keylog, (guint)len);
    pad32(w->blk);
    gboolean ok = block_write(w, BT_DSB);
    /* The block buffer is reused for packets: do not leave the secrets lying in the heap. */
    memset(w->blk->data, 0, w->blk->len);
    return ok;
}

gboolean rpt_pcapng_add_packet_dir(struct rpt_pcapng *w, int iface, gint64 t_us,
                                   const guint8 *frame, guint32 caplen, guint32 origlen,
                                   const char *comment, enum rpt_pcapng_dir dir)
{
    if (w->error)
        return FALSE;
    if (iface < 0 || (guint)iface >= w->snaplens->len) {
        fail(w, G_FILE_ERROR_INVAL, "packet for interface %d, which was not described", iface);
        return FALSE;
    }
    if (!frame && caplen) {
        fail(w, G_FILE_ERROR_INVAL, "packet of %u bytes without data", caplen);
        return FALSE;
    }
    guint32 snaplen = g_array_index(w->snaplens, guint32, iface);
    if (snaplen == 0 || snaplen > MAX_CAPLEN)
        snaplen = MAX_CAPLEN;
    if (origlen < caplen)
        origlen = caplen;
    if (caplen > snaplen)
        caplen = snaplen;
    /* Before the epoch cannot be written (timestamps are unsigned); such a clock is wrong. */
    guint64 ts = t_us > 0 ? (guint64)t_us : 0;

    /* Enhanced Packet Block (§4.3). */
    g_byte_array_set_size(w->blk, 0);
    le32(w->blk, (guint32)iface);
    le32(w->blk, (guint32)(ts >> 32));
    le32(w->blk, (guint32)ts);
    le32(w->blk, caplen);
    le32(w->blk, origlen);
    if (caplen)
        g_byte_array_append(w->blk, frame, caplen);
    pad32(w->blk);
    gboolean opts = FALSE;
    if (comment && *comment) {
        opt_str(w->blk, OPT_COMMENT, comment);
        opts = TRUE;
    }
    if (dir == RPT_PCAPNG_DIR_IN || dir == RPT_PCAPNG_DIR_OUT) {
        guint8 flags[4] = {(guint8)dir, 0, 0, 0}; /* a 32-bit LE word: bits 0-1 direction */
        opt_bytes(w->blk, OPT_EPB_FLAGS, flags, 4);
        opts = TRUE;
    }
    if (opts)
        opt_end(w->blk);
    return block_write(w, BT_EPB);
}

gboolean rpt_pcapng_add_packet(struct rpt_pcapng *w, int iface, gint64 t_us, const guint8 *frame,
                               guint32 caplen, guint32 origlen, const char *comment)
{
    return rpt_pcapng_add_packet_dir(w, iface, t_us, frame, caplen, origlen, comment,
                                     RPT_PCAPNG_DIR_UNKNOWN);
}

void rpt_pcapng_abort(struct rpt_pcapng *w)
{
    if (!w)
        return;
    if (w->fp) {
        fclose(w->fp);
        w->fp = NULL;
    }
    g_unlink(w->tmp);
    pcapng_free(w);
}

/* After rename() the new name lives in the directory: sync it too, or a crash may forget it. */
static void sync_dir(const char *path)
{
    char *dir = g_path_get_dirname(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd); /* best effort: some file systems refuse fsync on a directory */
        close(fd);
    }
    g_free(dir);
}

gboolean rpt_pcapng_close(struct rpt_pcapng *w, GError **err)
{
    g_return_val_if_fail(w != NULL, FALSE);
    if (!w->error && fflush(w->fp) != 0)
        fail_errno(w, errno, "cannot write");
    if (!w->error && fsync(fileno(w->fp)) != 0)
        fail_errno(w, errno, "cannot sync");
    if (!w->error) {
        int rc = fclose(w->fp);
        w->fp = NULL;
        if (rc != 0)
            fail_errno(w, errno, "cannot close");
    }
    if (!w->error && g_rename(w->tmp, w->path) != 0) {
        int errsv = errno;
        fail(w, g_file_error_from_errno(errsv), "cannot rename %s to %s: %s", w->tmp, w->path,
             g_strerror(errsv));
    }
    if (w->error) {
        g_propagate_error(err, w->error);
        w->error = NULL;
        rpt_pcapng_abort(w);
        return FALSE;
    }
    sync_dir(w->path);
    pcapng_free(w);
    return TRUE;
}

/* ---- comments ------------------------------------------------------------------------------ */

/* Control characters become spaces: a comment is one line, and line-oriented readers (tshark
 * -T fields, the checker script) must not see a packet split in two. */
static void append_clean(GString *s, const char *text)
{
    for (const char *c = text; *c; c++)
        g_string_append_c(s, ((guint8)*c < 0x20 || *c == 0x7F) ? ' ' : *c);
}

char *rpt_pcapng_comment(const struct rpt_result *r, const struct rpt_packet *p)
{
    (void)r; /* the packet holds all a comment may say; r is there for future fields */
    GString *s = g_string_new(NULL);
    if (p->step && *p->step) {
        append_clean(s, p->step);
        g_string_append_c(s, ' ');
    }
    g_string_append_printf(s, "#%u %s ", p->n, p->dir == RPT_IN ? "<-" : "->");
    append_clean(s, p->summary && *p->summary ? p->summary : rpt_kind_name(p->kind));
    if (p->note && *p->note) {
        g_string_append(s, ": ");
        append_clean(s, p->note);
    }
    if (p->verdict && *p->verdict && strcmp(p->verdict, "ok") != 0) {
        g_string_append(s, " [");
        append_clean(s, p->verdict);
        g_string_append_c(s, ']');
    }
    char *out = g_utf8_make_valid(s->str, (gssize)s->len);
    g_string_free(s, TRUE);
    return out;
}

char *rpt_pcapng_run_comment(const struct rpt_result *r)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "turnprobe %s: %s", r->command ? r->command : "run",
                           rpt_status_name(rpt_result_verdict(r)));
    if (r->inputs && r->inputs->len) {
        g_string_append(s, "\ninputs:");
        for (guint i = 0; i < r->inputs->len; i++) {
            g_string_append_c(s, ' ');
            g_string_append(s, g_ptr_array_index(r->inputs, i));
        }
    }
    for (guint i = 0; i < r->sessions->len; i++) {
        const struct rpt_session *ss = g_ptr_array_index(r->sessions, i);
        const char *name = ss->target.uri ? ss->target.uri : ss->name;
        g_string_append_printf(s, "\n%s: %s", name ? name : "session",
                               rpt_status_name(rpt_session_verdict(ss)));
        for (guint j = 0; j < ss->findings->len; j++) {
            const struct rpt_finding *f = g_ptr_array_index(ss->findings, j);
            g_string_append_printf(s, "\n  %s %s", rpt_severity_name(f->severity),
                                   f->diagnosis ? f->diagnosis : "?");
            if (f->step)
                g_string_append_printf(s, " (%s)", f->step);
            if (f->message)
                g_string_append_printf(s, ": %s", f->message);
        }
    }
    if (r->capture_note && *r->capture_note)
        g_string_append_printf(s, "\n%s", r->capture_note);
    return g_string_free(s, FALSE);
}

guint64 rpt_ip_header(guint8 *buf, gboolean v4, const struct sl_addr *src,
                      const struct sl_addr *dst, guint8 proto, size_t l4len, guint16 ident,
                      guint16 frag)
{
    if (v4) {
        static const guint8 any4[4] = {0, 0, 0, 0}; /* a side without an address */
        buf[0] = 0x45;
        buf[1] = 0;
        sl_put_u16(buf + 2, (guint16)(20 + l4len));
        sl_put_u16(buf + 4, ident);
        sl_put_u16(buf + 6, frag);
        buf[8] = 64;
        buf[9] = proto;
        sl_put_u16(buf + 10, 0);
        memcpy(buf + 12, src->family == SL_AF_IPV4 ? src->ip : any4, 4);
        memcpy(buf + 16, dst->family == SL_AF_IPV4 ? dst->ip : any4, 4);
        sl_put_u16(buf + 10, rpt_csum_fold(rpt_csum_add(0, buf, 20)));
        guint8 ph[12];
        memcpy(ph, buf + 12, 8);
        ph[8] = 0;
        ph[9] = proto;
        sl_put_u16(ph + 10, (guint16)l4len);
        return rpt_csum_add(0, ph, sizeof(ph));
    }
    sl_put_u32(buf, 0x60000000u);
    sl_put_u16(buf + 4, (guint16)l4len);
    buf[6] = proto;
    buf[7] = 64;
    rpt_ip6_bytes(src, buf + 8);
    rpt_ip6_bytes(dst, buf + 24);
    /* RFC 8200 §8.1 pseudo-header: addresses, upper-layer length, next header. */
    guint8 ph[40];
    memcpy(ph, buf + 8, 32);
    sl_put_u32(ph + 32, (guint32)l4len);
    ph[36] = ph[37] = ph[38] = 0;
    ph[39] = proto;
    return rpt_csum_add(0, ph, sizeof(ph));
}

/* ---- frames rebuilt from the model --------------------------------------------------------- */

#define IPPROTO_ICMP_   1
#define IPPROTO_TCP_    6
#define IPPROTO_UDP_    17
#define IPPROTO_ICMPV6_ 58

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* Fixed initial sequence numbers: ours and the server's, so the files are reproducible; a new
 * incarnation of the same 4-tuple moves on by GEN_STEP so Wireshark sees a new connection. */
#define ISN_LOCAL  0x10000000u
#define ISN_REMOTE 0x20000000u
#define GEN_STEP   0x01000000u

/* RFC 4443 §3.1: an ICMPv6 error carries "as much of invoking packet as possible without the
 * ICMPv6 packet exceeding the minimum IPv6 MTU" (1280 - 40 - 8). */
#define ICMP6_QUOTE_MAX 1232u
/* RFC 792: "Internet Header + 64 bits of Original Data Datagram". */
#define ICMP4_QUOTE_DATA 8u

struct tcp_conn {
    struct sl_addr a, b; /* side 0 sends a -> b */
    guint32 isn[2], next[2];
    gboolean synced[2]; /* that side's ISN is known to the other (SYN seen, or mid-stream) */
    gboolean closed;    /* an RST ended it: the next SYN starts a new incarnation */
    guint gen;
};

struct synth {
    GArray *conns;    /* struct tcp_conn */
    GPtrArray *quote; /* GBytes per frame (index n-1): its first bytes, for ICMP errors */
};

guint64 rpt_csum_add(guint64 sum, const guint8 *p, size_t n)
{
    size_t i = 0;
    for (; i + 1 < n; i += 2)
        sum += (guint64)((p[i] << 8) | p[i + 1]);
    if (i < n)
        sum += (guint64)(p[i] << 8);
    return sum;
}

guint16 rpt_csum_fold(guint64 sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (guint16)~sum;
}

void rpt_ip6_bytes(const struct sl_addr *a, guint8 out[16])
{
    memset(out, 0, 16);
    if (a->family == SL_AF_IPV6) {
        memcpy(out, a->ip, 16);
    } else if (a->family == SL_AF_IPV4) {
        out[10] = out[11] = 0xFF;
        memcpy(out + 12, a->ip, 4);
    }
}

/* IPv4 only when both ends are IPv4 (or one has no address at all); a mixed pair can only be
 * written as IPv6. */
static gboolean use_ipv4(const struct rpt_packet *p)
{
    gboolean s4 = p->src.family == SL_AF_IPV4 || p->src.family == SL_AF_NONE;
    gboolean d4 = p->dst.family == SL_AF_IPV4 || p->dst.family == SL_AF_NONE;
    return s4 && d4;
}

static struct tcp_conn *conn_find(struct synth *s, const struct rpt_packet *p, int *side)
{
    for (guint i = 0; i < s->conns->len; i++) {
        struct tcp_conn *c = &g_array_index(s->conns, struct tcp_conn, i);
        if (sl_addr_equal(&c->a, &p->src) && sl_addr_equal(&c->b, &p->dst)) {
            *side = 0;
            return c;
        }
        if (sl_addr_equal(&c->a, &p->dst) && sl_addr_equal(&c->b, &p->src)) {
            *side = 1;
            return c;
        }
    }
    struct tcp_conn c;
    memset(&c, 0, sizeof(c));
    c.a = p->src;
    c.b = p->dst;
    /* Side 0 is the packet's sender: ours when we sent it. */
    c.isn[0] = p->dir == RPT_OUT ? ISN_LOCAL : ISN_REMOTE;
    c.isn[1] = p->dir == RPT_OUT ? ISN_REMOTE : ISN_LOCAL;
    /* A connection first seen mid-stream: both sides as if their SYNs had gone by. */
    for (int k = 0; k < 2; k++) {
        c.next[k] = c.isn[k] + 1;
        c.synced[k] = TRUE;
    }
    g_array_append_val(s->conns, c);
    *side = 0;
    return &g_array_index(s->conns, struct tcp_conn, s->conns->len - 1);
}

/* Sequence, acknowledgement and flags of one segment; advances the connection. */
static void tcp_next(struct synth *s, const struct rpt_packet *p, guint32 len, guint32 *seq,
                     guint32 *ack, guint8 *flags)
{
    int side = 0;
    guint before = s->conns->len;
    struct tcp_conn *c = conn_find(s, p, &side);
    const gboolean fresh = s->conns->len != before;
    int other = 1 - side;
    guint32 base_side = c->isn[side] - c->gen * GEN_STEP;
    guint32 base_other = c->isn[other] - c->gen * GEN_STEP;

    switch (p->kind) {
    case RPT_PKT_TCP_SYN: {
        /* A retransmitted SYN (nothing else happened since) keeps its ISN; any other SYN on a
         * known 4-tuple opens a new incarnation. */
        gboolean retrans = !fresh && !c->closed && c->synced[side] && !c->synced[other] &&
                           c->next[side] == c->isn[side] + 1;
        if (!fresh && !retrans)
            c->gen++;
        c->isn[side] = base_side + c->gen * GEN_STEP;
        c->isn[other] = base_other + c->gen * GEN_STEP;
        c->next[side] = c->isn[side] + 1;
        c->synced[side] = TRUE;
        c->synced[other] = FALSE;
        c->closed = FALSE;
        *seq = c->isn[side];
        *ack = 0;
        *flags = TCP_SYN;
        return;
    }
    case RPT_PKT_TCP_SYNACK:
        c->next[side] = c->isn[side] + 1;
        c->synced[side] = TRUE;
        *seq = c->isn[side];
        *ack = c->next[other];
        *flags = TCP_SYN | TCP_ACK;
        return;
    case RPT_PKT_TCP_RST:
        if (!c->synced[side]) {
            /* Refusing a SYN (RFC 9293 §3.10.7.1): seq 0, acknowledging the SYN. */
            *seq = 0;
        } else {
            *seq = c->next[side];
        }
        *ack = c->synced[other] ? c->next[other] : 0;
        *flags = c->synced[other] ? TCP_RST | TCP_ACK : TCP_RST;
        c->closed = TRUE;
        return;
    default:
        break;
    }
    if (!c->synced[side]) {
        /* Data from a side whose SYN-ACK the model lacks: start after its ISN. */
        c->next[side] = c->isn[side] + 1;
        c->synced[side] = TRUE;
    }
    *seq = c->next[side];
    *ack = c->synced[other] ? c->next[other] : 0;
    *flags = c->synced[other] ? TCP_ACK : 0;
    if (p->kind == RPT_PKT_TCP_FIN) {
        *flags |= TCP_FIN;
        c->next[side] += 1; /* a FIN takes one sequence number */
    } else if (p->kind != RPT_PKT_TCP_ACK && len > 0) {
        *flags |= TCP_PSH;
        c->next[side] += len;
    }
}

static gboolean is_tcp(const struct rpt_packet *p)
{
    switch (p->kind) {
    case RPT_PKT_TCP_SYN:
    case RPT_PKT_TCP_SYNACK:
    case RPT_PKT_TCP_ACK:
    case RPT_PKT_TCP_FIN:
    case RPT_PKT_TCP_RST:
        return TRUE;
    case RPT_PKT_ICMP_UNREACH:
        return FALSE;
    default:
        return p->transport == RPT_TCP || p->transport == RPT_TLS;
    }
}

/* Builds the IP packet for p into buf (RPT_PCAPNG_SNAPLEN bytes); returns its length. *cut is
 * set when the payload did not fit in one IP packet and was shortened. */
static size_t frame_build(struct synth *s, const struct rpt_packet *p, guint8 *buf, gboolean *cut)
{
    const gboolean v4 = use_ipv4(p);
    const size_t iplen = v4 ? 20 : 40;
    const gboolean icmp = p->kind == RPT_PKT_ICMP_UNREACH;
    const gboolean tcp = !icmp && is_tcp(p);
    const guint8 proto =
        icmp ? (v4 ? IPPROTO_ICMP_ : IPPROTO_ICMPV6_) : (tcp ? IPPROTO_TCP_ : IPPROTO_UDP_);
    const size_t l4hdr = tcp ? 20 : 8;

    /* The payload: the model's bytes, or for ICMP the start of the packet it is about. */
    const guint8 *data = NULL;
    size_t dlen = 0;
    if (icmp) {
        GBytes *q = p->ref >= 1 && p->ref < p->n && p->ref <= s->quote->len
                        ? g_ptr_array_index(s->quote, p->ref - 1)
                        : NULL;
        if (q) {
            gsize qlen = 0;
            const guint8 *qd = g_bytes_get_data(q, &qlen);
            /* Quote only a packet of the same IP version: anything else is not an answer. */
            if (qlen > 0 && (qd[0] >> 4) == (v4 ? 4 : 6)) {
                data = qd;
                dlen = v4 ? MIN(qlen, (size_t)(qd[0] & 0x0F) * 4 + ICMP4_QUOTE_DATA)
                          : MIN(qlen, ICMP6_QUOTE_MAX);
            }
        }
    } else if (!(p->kind >= RPT_PKT_TCP_SYN && p->kind <= RPT_PKT_TCP_RST) &&
               (p->wire || p->payload)) {
        /* Over TLS/DTLS the frame carries the encrypted records, not the message. */
        gsize n = 0;
        data = g_bytes_get_data(p->wire ? p->wire : p->payload, &n);
        dlen = n;
    }
    *cut = FALSE;
    if (iplen + l4hdr + dlen > RPT_PCAPNG_SNAPLEN) {
        dlen = RPT_PCAPNG_SNAPLEN - iplen - l4hdr;
        *cut = TRUE;
    }
    const size_t l4len = l4hdr + dlen;
    const size_t total = iplen + l4len;

    /* identification: the frame number, deterministic; DF as Linux sets on its sockets. */
    guint64 pseudo = rpt_ip_header(buf, v4, &p->src, &p->dst, proto, l4len, (guint16)p->n,
                                   icmp ? 0 : 0x4000);

    guint8 *l4 = buf + iplen;
    if (dlen)
        memcpy(l4 + l4hdr, data, dlen);
    if (icmp) {
        guint8 type = p->icmp_type, code = p->icmp_code;
        if (type == 0) { /* not set: port unreachable, what a closed UDP port answers */
            type = v4 ? 3 : 1;
            code = v4 ? 3 : 4;
        }
        l4[0] = type;
        l4[1] = code;
        sl_put_u16(l4 + 2, 0);
        sl_put_u32(l4 + 4, 0); /* unused */
        /* ICMPv4 sums the message alone; ICMPv6 includes the pseudo-header (RFC 4443 §2.3). */
        sl_put_u16(l4 + 2, rpt_csum_fold(rpt_csum_add(v4 ? 0 : pseudo, l4, l4len)));
    } else if (tcp) {
        guint32 seq = 0, ack = 0;
        guint8 flags = 0;
        tcp_next(s, p, (guint32)dlen, &seq, &ack, &flags);
        sl_put_u16(l4, p->src.port);
        sl_put_u16(l4 + 2, p->dst.port);
        sl_put_u32(l4 + 4, seq);
        sl_put_u32(l4 + 8, ack);
        l4[12] = 5 << 4; /* data offset: 20 bytes, no options */
        l4[13] = flags;
        sl_put_u16(l4 + 14, 65535); /* window */
        sl_put_u16(l4 + 16, 0);
        sl_put_u16(l4 + 18, 0);
        sl_put_u16(l4 + 16, rpt_csum_fold(rpt_csum_add(pseudo, l4, l4len)));
    } else {
        sl_put_u16(l4, p->src.port);
        sl_put_u16(l4 + 2, p->dst.port);
        sl_put_u16(l4 + 4, (guint16)l4len);
        sl_put_u16(l4 + 6, 0);
        guint16 ck = rpt_csum_fold(rpt_csum_add(pseudo, l4, l4len));
        /* RFC 768: a computed zero is sent as all ones (zero means "no checksum"). */
        sl_put_u16(l4 + 6, ck ? ck : 0xFFFF);
    }
    return total;
}

gboolean rpt_pcapng_write(const struct rpt_result *r, const char *path, GError **err)
{
    char *comment = rpt_pcapng_run_comment(r);
    char *appl = g_strdup_printf("turnprobe %s", r->version ? r->version : "");
    struct rpt_pcapng *w = rpt_pcapng_open_full(path, comment, g_strstrip(appl), err);
    g_free(comment);
    g_free(appl);
    if (!w)
        return FALSE;
    /* Say what these frames are: a reader must not take them for a capture off the wire. */
    int iface = iface_add(w, RPT_LINKTYPE_RAW, RPT_PCAPNG_SNAPLEN, "turnprobe",
                          "frames rebuilt from turnprobe's own packet log, not captured");
    /* The secrets before any packet (Wireshark applies a DSB to the packets that follow it),
     * but after the interface: editcap refuses a DSB that comes first, as Wireshark's own
     * writer never puts it there. */
    rpt_pcapng_add_secrets(w, r->keylog);

    struct synth s;
    s.conns = g_array_new(FALSE, FALSE, sizeof(struct tcp_conn));
    s.quote = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    guint8 *buf = g_malloc(RPT_PCAPNG_SNAPLEN);
    for (guint i = 0; i < r->packets->len && iface >= 0; i++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        gboolean cut = FALSE;
        size_t len = frame_build(&s, p, buf, &cut);
        g_ptr_array_add(s.quote, g_bytes_new(buf, MIN(len, ICMP6_QUOTE_MAX)));
        char *c = rpt_pcapng_comment(r, p);
        if (cut) {
            /* Not an address, so redaction is unaffected; the reader must know bytes are gone. */
            char *c2 = g_strconcat(c, " (payload cut to fit one IP packet)", NULL);
            g_free(c);
            c = c2;
        }
        gboolean ok =
            rpt_pcapng_add_packet_dir(w, iface, p->t_us, buf, (guint32)len, (guint32)len, c,
                                      p->dir == RPT_IN ? RPT_PCAPNG_DIR_IN : RPT_PCAPNG_DIR_OUT);
        g_free(c);
        if (!ok)
            break;
    }
    g_free(buf);
    g_array_unref(s.conns);
    g_ptr_array_unref(s.quote);
    return rpt_pcapng_close(w, err);
}
