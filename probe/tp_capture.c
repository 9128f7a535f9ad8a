/* Live capture for `turnprobe check --pcap` (see tp_capture.h): libpcap, matching, the file. */
#include "tp_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chk.h"
#include "rpt_pcapng.h"
#include "sl_addr.h"
#include "sl_chan.h"
#include "sl_classify.h"
#include "sl_rd.h"
#include "tp_version.h"

#define PROTO_ICMP   1
#define PROTO_TCP    6
#define PROTO_UDP    17
#define PROTO_ICMPV6 58

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* Linux "cooked" headers (the "any" device): the packet type says which way a frame went. */
#define SLL_OUTGOING    4
#define PKTTYPE_UNKNOWN 0xFF

/* The kernel's buffer for frames libpcap has not read yet. */
#define CAPTURE_BUFFER (8 << 20)
/* How long the kernel may hold a partly filled block of frames: the frames are read only when
 * the check has ended, so latency does not matter, but the last block must come out within
 * the grace period. (Immediate mode would give each frame a slot of the snap length: a few
 * dozen frames in the buffer.) */
#define CAPTURE_BLOCK_TIMEOUT_MS 40

/* A frame as libpcap gave it. */
struct raw_frame {
    gint64 t_us;
    guint32 caplen, origlen;
    guint8 data[];
};

/* A frame decoded far enough to match it: IP, the transport header, an ICMP error's quote. */
struct pframe {
    const struct raw_frame *raw;
    int ipver; /* 0: not IP, or its header is cut */
    guint8 proto;
    struct sl_addr src, dst; /* with the ports for UDP and TCP */
    guint32 ipid;
    guint32 frag_off;  /* bytes */
    gboolean fragment; /* offset or more-fragments set */
    gboolean has_l4;   /* the transport header is in this frame (not a later fragment) */
    const guint8 *l3;  /* the IP packet as captured, for an ICMP error to quote */
    size_t l3len;
    const guint8 *pl; /* transport payload as captured ... */
    size_t pllen;
    size_t pl_wire; /* ... and as long as the headers say */
    guint32 seq;
    guint8 tcp_flags;
    guint8 icmp_type, icmp_code;
    gboolean q_ok; /* ICMP: the quoted packet's addresses are known */
    guint8 q_proto;
    struct sl_addr q_src, q_dst;
    const guint8 *q_pl; /* the quoted UDP payload, as far as the quote goes */
    size_t q_pllen;
    guint8 pkttype;

    /* Matching. */
    int flow; /* index into the flows, -1 when not one of our sockets' */
    enum rpt_dir dir;
    guint32 rel; /* TCP: stream offset of the payload's first byte */
    gboolean rel_ok;
    GPtrArray *recs;               /* model packets it carries, log order */
    GPtrArray *after;              /* logged packets the capture missed, to write after it */
    int ref;                       /* ICMP error, later fragment: the frame it is about; -1 */
    const struct rpt_packet *cont; /* TCP: holds the start of this record, which ends later */
    struct rpt_packet *pkt;        /* its packet once adopted */
    gboolean quiet;                /* no comment: a pure ACK says nothing a reader needs */
};

/* One socket of the probe: a 5-tuple the log has. */
struct flow {
    guint8 proto;
    struct sl_addr local, remote;
    const char *endpoint;
    guint session;
    enum rpt_transport tp;
    GArray *frames; /* guint frame indexes, capture order */
    gboolean isn_ok[2];
    guint32 isn[2];    /* indexed by enum rpt_dir */
    guint32 logged[2]; /* stream bytes the log holds, per direction */
};

/* A model packet during matching. */
struct mrec {
    struct rpt_packet *p;
    int flow;
    guint32 off; /* TCP: stream offset of its first byte */
    int frame;   /* the frame that carries it, -1 */
};

/* One frame of the file: captured, or rebuilt from the log. */
struct out_item {
    struct pframe *f;     /* NULL: rebuilt */
    struct rpt_packet *p; /* rebuilt: the logged packet */
    int flow;             /* rebuilt: its socket, for TCP sequence numbers; -1 */
    guint32 off;
};

struct tp_capture {
    pcap_t *pc;
    char *device;
    char *filter;
    int dlt;      /* libpcap's DLT_ */
    int linktype; /* the LINKTYPE_ written in the file */
    GThread *thread;
    int wake[2];
    gint stopping;  /* atomic */
    gint64 stop_at; /* monotonic; written before stopping is set */
    gboolean stopped, adopted;
    gboolean from_file; /* tp_capture_load */
    GPtrArray *raw;     /* struct raw_frame*, capture order; the thread's until it is joined */
    guint64 raw_bytes, over_limit, kernel_drops;
    gboolean stats_ok;

    struct pframe *frames;
    guint nframes;
    GArray *flows;  /* struct flow */
    GPtrArray *out; /* struct out_item*, file order */
    guint n_own, n_other, n_rebuilt, n_matched;
};

gboolean tp_capture_mode_parse(const char *s, enum tp_capture_mode *out)
{
    static const struct {
        const char *name;
        enum tp_capture_mode mode;
    } modes[] = {{"auto", TP_CAPTURE_AUTO},
                 {"live", TP_CAPTURE_LIVE},
                 {"self", TP_CAPTURE_SELF},
                 {"off", TP_CAPTURE_OFF}};
    if (!s) {
        *out = TP_CAPTURE_AUTO;
        return TRUE;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
        if (strcmp(s, modes[i].name) == 0) {
            *out = modes[i].mode;
            return TRUE;
        }
    }
    return FALSE;
}

/* ---- where to listen ----------------------------------------------------------------------- */

static gboolean ip_equal(const struct sl_addr *a, const struct sl_addr *b)
{
    size_t n = a->family == SL_AF_IPV4 ? 4 : 16;
    return a->family != SL_AF_NONE && a->family == b->family && memcmp(a->ip, b->ip, n) == 0;
}

/* The local address the kernel picks towards server: connect() on a UDP socket chooses the
 * route and sends nothing. */
static gboolean route_local(const struct sl_addr *server, struct sl_addr *local)
{
    struct sockaddr_storage ss;
    size_t len = sl_addr_to_sockaddr(server, &ss);
    if (!len)
        return FALSE;
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return FALSE;
    struct sockaddr_storage ls;
    socklen_t llen = sizeof(ls);
    gboolean ok = connect(fd, (struct sockaddr *)&ss, (socklen_t)len) == 0 &&
                  getsockname(fd, (struct sockaddr *)&ls, &llen) == 0 &&
                  sl_addr_from_sockaddr(local, (struct sockaddr *)&ls, llen) == SL_OK;
    close(fd);
    return ok;
}

/* The capture device that holds a local address ("lo" for 127.0.0.1). */
static char *device_of(const struct sl_addr *local)
{
    pcap_if_t *all = NULL;
    char errbuf[PCAP_ERRBUF_SIZE];
    if (pcap_findalldevs(&all, errbuf) != 0)
        return NULL;
    char *found = NULL;
    for (pcap_if_t *d = all; d && !found; d = d->next) {
        for (pcap_addr_t *a = d->addresses; a && !found; a = a->next) {
            struct sl_addr x;
            if (!a->addr)
                continue;
            size_t salen = a->addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                          : sizeof(struct sockaddr_in);
            if (sl_addr_from_sockaddr(&x, a->addr, salen) == SL_OK && ip_equal(&x, local))
                found = g_strdup(d->name);
        }
    }
    pcap_freealldevs(all);
    return found;
}

/* One interface when every server is reached through the same one; else "any", which Linux
 * offers for all of them at once (cooked headers, LINKTYPE_LINUX_SLL). A host name is resolved
 * only later, by the check: its route is not known yet. */
static char *choose_device(const struct sl_uri *uris, guint n)
{
    char *dev = NULL;
    gboolean any = n == 0;
    for (guint i = 0; i < n && !any; i++) {
        struct sl_addr server, local;
        char *d = NULL;
        if (uris[i].host_is_ip && sl_addr_parse(&server, uris[i].host, uris[i].port) == SL_OK &&
            route_local(&server, &local))
            d = device_of(&local);
        if (!d || (dev && strcmp(dev, d) != 0))
            any = TRUE;
        if (!dev) {
            dev = d;
            d = NULL;
        }
        g_free(d);
    }
    if (any) {
        g_free(dev);
        dev = g_strdup("any");
    }
    return dev;
}

/* The BPF filter: each server's address and port (both transports: a turn: URI's transport may
 * be either), the later fragments of its datagrams (no ports there), and the ICMP errors whose
 * quoted packet went to that address and port (quoted destination address at ICMP offset 24,
 * port at 30, assuming a quoted header without options as ours have; IPv6 at 32 and 50). Every
 * ICMP error on loopback goes to 127.0.0.1: without the port, other programs' errors would fill
 * the kernel's buffer. */
static char *build_filter(const struct sl_uri *uris, guint n)
{
    GString *f = g_string_new(NULL);
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < n; i++) {
        const struct sl_uri *u = &uris[i];
        struct sl_addr a;
        GString *one = g_string_new(NULL);
        if (u->host_is_ip && sl_addr_parse(&a, u->host, u->port) == SL_OK) {
            char ip[SL_ADDR_STRLEN];
            sl_addr_format(&a, ip, sizeof(ip), false);
            if (a.family == SL_AF_IPV4) {
                g_string_append_printf(one,
                                       "(host %s and (port %u or ip[6:2] & 0x1fff != 0)) or "
                                       "(icmp and (icmp[0] == 3 or icmp[0] == 11 or "
                                       "icmp[0] == 12) and icmp[24:4] == 0x%08x and "
                                       "icmp[30:2] == %u)",
                                       ip, u->port, sl_get_u32(a.ip), u->port);
            } else {
                g_string_append_printf(one,
                                       "(host %s and (port %u or ip6[6] == 44)) or (icmp6 and "
                                       "ip6[40] >= 1 and ip6[40] <= 4 and ip6[90:2] == %u",
                                       ip, u->port, u->port);
                for (int k = 0; k < 4; k++)
                    g_string_append_printf(one, " and ip6[%d:4] == 0x%08x", 72 + 4 * k,
                                           sl_get_u32(a.ip + 4 * k));
                g_string_append_c(one, ')');
            }
        } else {
            g_string_append_printf(one,
                                   "port %u or (icmp and (icmp[0] == 3 or icmp[0] == 11 or "
                                   "icmp[0] == 12) and icmp[30:2] == %u) or (icmp6 and "
                                   "ip6[40] >= 1 and ip6[40] <= 4 and ip6[90:2] == %u)",
                                   u->port, u->port, u->port);
        }
        if (!g_hash_table_contains(seen, one->str)) {
            g_string_append_printf(f, "%s(%s)", f->len ? " or " : "", one->str);
            g_hash_table_add(seen, g_strdup(one->str));
        }
        g_string_free(one, TRUE);
    }
    g_hash_table_unref(seen);
    return g_string_free(f, FALSE);
}

/* pcapng wants LINKTYPE_ values; libpcap's DLT_ equal them except the raw-IP ones. */
static int linktype_of(int dlt)
{
    switch (dlt) {
    case DLT_NULL:
        return 0;
    case DLT_EN10MB:
        return 1;
    case DLT_RAW:
        return RPT_LINKTYPE_RAW;
    case DLT_LOOP:
        return 108;
    case DLT_LINUX_SLL:
        return 113;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        return 276;
#endif
#ifdef DLT_IPV4
    case DLT_IPV4:
        return 228;
    case DLT_IPV6:
        return 229;
#endif
    default:
        return -1;
    }
}

/* ---- the capture thread -------------------------------------------------------------------- */

static void on_frame(u_char *ud, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct tp_capture *c = (struct tp_capture *)ud;
    if (c->raw->len >= TP_CAPTURE_MAX_FRAMES || c->raw_bytes + h->caplen > TP_CAPTURE_MAX_BYTES) {
        c->over_limit++;
        return;
    }
    struct raw_frame *f = g_malloc(sizeof(*f) + h->caplen);
    f->t_us = (gint64)h->ts.tv_sec * G_USEC_PER_SEC + h->ts.tv_usec;
    f->caplen = h->caplen;
    f->origlen = h->len;
    memcpy(f->data, bytes, h->caplen);
    g_ptr_array_add(c->raw, f);
    c->raw_bytes += h->caplen;
}

static void drain(struct tp_capture *c)
{
    /* Non-blocking: 0 when nothing is waiting, -1 on an error (then there is nothing more). */
    while (pcap_dispatch(c->pc, -1, on_frame, (u_char *)c) > 0) {
    }
}

/* Reads on its own thread, so that frames leave the kernel's buffer whatever the check is doing
 * (a blocking send, a long libnice wait); only this thread touches c->raw until it is joined. */
static gpointer capture_thread(gpointer ud)
{
    struct tp_capture *c = ud;
    int fd = pcap_get_selectable_fd(c->pc);
    for (;;) {
        int timeout = 1000;
        if (g_atomic_int_get(&c->stopping)) {
            gint64 left = c->stop_at - g_get_monotonic_time();
            if (left <= 0)
                break;
            timeout = (int)MAX(1, left / 1000);
        }
        struct pollfd pfd[2] = {{fd, POLLIN, 0}, {c->wake[0], POLLIN, 0}};
        if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
            break;
        if (pfd[1].revents & POLLIN) {
            char buf[16];
            while (read(c->wake[0], buf, sizeof(buf)) > 0) {
            }
        }
        drain(c);
    }
    drain(c);
    return NULL;
}

struct tp_capture *tp_capture_start(const struct sl_uri *uris, guint n, GError **err)
{
    if (n == 0) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "no server address or port to capture");
        return NULL;
    }
    struct tp_capture *c = g_new0(struct tp_capture, 1);
    c->wake[0] = c->wake[1] = -1;
    c->raw = g_ptr_array_new_with_free_func(g_free);
    c->device = choose_device(uris, n);
    c->filter = build_filter(uris, n);
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    c->pc = pcap_create(c->device, errbuf);
    if (!c->pc) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot capture on %s: %s", c->device,
                    errbuf);
        goto fail;
    }
    pcap_set_snaplen(c->pc, TP_CAPTURE_SNAPLEN);
    pcap_set_promisc(c->pc, 0); /* our own packets only: never the segment's */
    pcap_set_timeout(c->pc, CAPTURE_BLOCK_TIMEOUT_MS);
    pcap_set_buffer_size(c->pc, CAPTURE_BUFFER);
    int rc = pcap_activate(c->pc);
    if (rc < 0) {
        const char *why = rc == PCAP_ERROR ? pcap_geterr(c->pc) : pcap_statustostr(rc);
        int code = rc == PCAP_ERROR_PERM_DENIED      ? G_IO_ERROR_PERMISSION_DENIED
                   : rc == PCAP_ERROR_NO_SUCH_DEVICE ? G_IO_ERROR_NOT_FOUND
                                                     : G_IO_ERROR_FAILED;
        g_set_error(err, G_IO_ERROR, code, "cannot capture on %s: %s%s", c->device, why,
                    rc == PCAP_ERROR_PERM_DENIED
                        ? " (capturing needs root or CAP_NET_RAW: setcap cap_net_raw+ep on "
                          "the turnprobe binary)"
                        : "");
        goto fail;
    }
    c->dlt = pcap_datalink(c->pc);
    c->linktype = linktype_of(c->dlt);
    if (c->linktype < 0) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "cannot capture on %s: its link type %s is not supported", c->device,
                    pcap_datalink_val_to_name(c->dlt) ? pcap_datalink_val_to_name(c->dlt) : "?");
        goto fail;
    }
    struct bpf_program prog;
    if (pcap_compile(c->pc, &prog, c->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED, "capture filter \"%s\": %s", c->filter,
                    pcap_geterr(c->pc));
        goto fail;
    }
    rc = pcap_setfilter(c->pc, &prog);
    pcap_freecode(&prog);
    if (rc != 0 || pcap_setnonblock(c->pc, 1, errbuf) != 0 || pcap_get_selectable_fd(c->pc) < 0) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot capture on %s: %s", c->device,
                    rc != 0     ? pcap_geterr(c->pc)
                    : errbuf[0] ? errbuf
                                : "no selectable descriptor");
        goto fail;
    }
    if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno), "cannot capture: pipe: %s",
                    g_strerror(errno));
        goto fail;
    }
    c->thread = g_thread_new("tp-capture", capture_thread, c);
    return c;
fail:
    c->stopped = TRUE;
    tp_capture_free(c);
    return NULL;
}

void tp_capture_stop(struct tp_capture *c)
{
    if (!c || c->stopped)
        return;
    c->stop_at = g_get_monotonic_time() + TP_CAPTURE_GRACE_US;
    g_atomic_int_set(&c->stopping, 1);
    if (write(c->wake[1], "x", 1) < 0) {
        /* The thread still wakes within its poll timeout. */
    }
    g_thread_join(c->thread);
    c->thread = NULL;
    struct pcap_stat st;
    if (pcap_stats(c->pc, &st) == 0) {
        c->kernel_drops = (guint64)st.ps_drop + st.ps_ifdrop;
        c->stats_ok = TRUE;
    }
    pcap_close(c->pc);
    c->pc = NULL;
    c->stopped = TRUE;
}

struct tp_capture *tp_capture_load(const char *path, GError **err)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pc = pcap_open_offline(path, errbuf);
    if (!pc) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot read %s: %s", path, errbuf);
        return NULL;
    }
    struct tp_capture *c = g_new0(struct tp_capture, 1);
    c->wake[0] = c->wake[1] = -1;
    c->raw = g_ptr_array_new_with_free_func(g_free);
    c->stopped = TRUE;
    c->from_file = TRUE;
    c->device = g_path_get_basename(path);
    c->filter = g_strdup("none");
    c->dlt = pcap_datalink(pc);
    c->linktype = linktype_of(c->dlt);
    if (c->linktype < 0) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "%s: link type %d not supported",
                    path, c->dlt);
        pcap_close(pc);
        tp_capture_free(c);
        return NULL;
    }
    c->pc = pc;
    drain(c);
    pcap_close(c->pc);
    c->pc = NULL;
    return c;
}

/* ---- decoding frames ----------------------------------------------------------------------- */

static void addr_set(struct sl_addr *a, int ipver, const guint8 *ip, guint16 port)
{
    memset(a, 0, sizeof(*a));
    a->family = ipver == 4 ? SL_AF_IPV4 : SL_AF_IPV6;
    memcpy(a->ip, ip, ipver == 4 ? 4 : 16);
    a->port = port;
}

/* The addresses, protocol and ports of the packet an ICMP error quotes. */
static void parse_quote(struct pframe *f, const guint8 *p, size_t len)
{
    struct sl_rd rd;
    sl_rd_init(&rd, p, len);
    guint8 vihl = sl_rd_u8(&rd);
    int v = vihl >> 4;
    const guint8 *s = NULL, *d = NULL;
    size_t hl = 0;
    if (v == 4) {
        sl_rd_skip(&rd, 8);
        f->q_proto = sl_rd_u8(&rd);
        sl_rd_skip(&rd, 2);
        s = sl_rd_bytes(&rd, 4);
        d = sl_rd_bytes(&rd, 4);
        hl = (size_t)(vihl & 0x0F) * 4;
    } else if (v == 6) {
        sl_rd_skip(&rd, 5);
        f->q_proto = sl_rd_u8(&rd);
        sl_rd_skip(&rd, 1);
        s = sl_rd_bytes(&rd, 16);
        d = sl_rd_bytes(&rd, 16);
        hl = 40;
    }
    if (rd.err || !s || hl < 20 || hl > len)
        return;
    guint16 sp = 0, dp = 0;
    if (len >= hl + 4) {
        sp = sl_get_u16(p + hl);
        dp = sl_get_u16(p + hl + 2);
    }
    addr_set(&f->q_src, v, s, sp);
    addr_set(&f->q_dst, v, d, dp);
    f->q_ok = TRUE;
    if (f->q_proto == PROTO_UDP && len >= hl + 8) {
        f->q_pl = p + hl + 8;
        f->q_pllen = len - hl - 8;
    }
}

/* The transport header: avail bytes captured, wire bytes the IP header declares. */
static void parse_l4(struct pframe *f, const guint8 *p, size_t avail, size_t wire)
{
    struct sl_rd rd;
    sl_rd_init(&rd, p, avail);
    if (f->proto == PROTO_UDP) {
        guint16 sp = sl_rd_u16(&rd), dp = sl_rd_u16(&rd), ulen = sl_rd_u16(&rd);
        sl_rd_skip(&rd, 2);
        if (rd.err)
            return;
        f->src.port = sp;
        f->dst.port = dp;
        /* A first fragment's UDP length covers the whole datagram, not this frame. */
        f->pl_wire = ulen >= 8 ? ulen - 8u : 0;
        f->pl = p + 8;
        f->pllen = MIN(f->pl_wire, avail - 8);
        f->has_l4 = TRUE;
    } else if (f->proto == PROTO_TCP) {
        guint16 sp = sl_rd_u16(&rd), dp = sl_rd_u16(&rd);
        guint32 seq = sl_rd_u32(&rd);
        sl_rd_skip(&rd, 4);
        guint8 doff = sl_rd_u8(&rd), flags = sl_rd_u8(&rd);
        size_t hl = (size_t)(doff >> 4) * 4;
        if (rd.err || hl < 20 || hl > avail || hl > wire)
            return;
        f->src.port = sp;
        f->dst.port = dp;
        f->seq = seq;
        f->tcp_flags = flags;
        f->pl = p + hl;
        f->pl_wire = wire - hl;
        f->pllen = MIN(f->pl_wire, avail - hl);
        f->has_l4 = TRUE;
    } else if (f->proto == PROTO_ICMP || f->proto == PROTO_ICMPV6) {
        f->icmp_type = sl_rd_u8(&rd);
        f->icmp_code = sl_rd_u8(&rd);
        if (rd.err)
            return;
        f->has_l4 = TRUE;
        gboolean error = f->proto == PROTO_ICMP
                             ? f->icmp_type == 3 || f->icmp_type == 11 || f->icmp_type == 12
                             : f->icmp_type >= 1 && f->icmp_type <= 4;
        if (error && avail > 8)
            parse_quote(f, p + 8, avail - 8);
    }
}

static void parse_ip(struct pframe *f, const guint8 *p, size_t len)
{
    struct sl_rd rd;
    sl_rd_init(&rd, p, len);
    guint8 vihl = sl_rd_u8(&rd);
    if (rd.err)
        return;
    if (vihl >> 4 == 4) {
        sl_rd_skip(&rd, 1);
        size_t total = sl_rd_u16(&rd);
        guint16 id = sl_rd_u16(&rd), fo = sl_rd_u16(&rd);
        sl_rd_skip(&rd, 1);
        guint8 proto = sl_rd_u8(&rd);
        sl_rd_skip(&rd, 2);
        const guint8 *s = sl_rd_bytes(&rd, 4), *d = sl_rd_bytes(&rd, 4);
        size_t ihl = (size_t)(vihl & 0x0F) * 4;
        /* Ethernet pads short frames: the IP length, not the frame, says where the packet ends. */
        size_t end = MIN(len, total);
        if (rd.err || ihl < 20 || total < ihl || end < ihl)
            return;
        f->ipver = 4;
        f->proto = proto;
        f->ipid = id;
        f->frag_off = (guint32)(fo & 0x1FFF) * 8;
        f->fragment = (fo & 0x3FFF) != 0; /* an offset, or more fragments to come */
        addr_set(&f->src, 4, s, 0);
        addr_set(&f->dst, 4, d, 0);
        f->l3 = p;
        f->l3len = end;
        if (f->frag_off == 0)
            parse_l4(f, p + ihl, end - ihl, total - ihl);
        return;
    }
    if (vihl >> 4 != 6)
        return;
    sl_rd_skip(&rd, 3);
    size_t plen = sl_rd_u16(&rd);
    guint8 next = sl_rd_u8(&rd);
    sl_rd_skip(&rd, 1);
    const guint8 *s = sl_rd_bytes(&rd, 16), *d = sl_rd_bytes(&rd, 16);
    if (rd.err)
        return;
    size_t end = MIN(len, 40 + plen);
    size_t off = 40;
    /* Extension headers: hop-by-hop, routing, destination options, and the fragment header. */
    for (int k = 0; k < 8; k++) {
        if (next == 0 || next == 43 || next == 60) {
            if (off + 2 > end)
                return;
            guint8 nx = p[off];
            off += ((size_t)p[off + 1] + 1) * 8;
            next = nx;
        } else if (next == 44) {
            if (off + 8 > end)
                return;
            guint16 fo = sl_get_u16(p + off + 2);
            f->frag_off = (guint32)(fo & 0xFFF8);
            f->fragment = TRUE;
            f->ipid = sl_get_u32(p + off + 4);
            next = p[off];
            off += 8;
        } else {
            break;
        }
    }
    if (off > end)
        return;
    f->ipver = 6;
    f->proto = next;
    addr_set(&f->src, 6, s, 0);
    addr_set(&f->dst, 6, d, 0);
    f->l3 = p;
    f->l3len = end;
    if (f->frag_off == 0)
        parse_l4(f, p + off, end - off, 40 + plen - off);
}

/* Strips the link layer; FALSE when the frame is not IP. */
static gboolean parse_link(struct pframe *f, int dlt, const guint8 *p, size_t len)
{
    struct sl_rd rd;
    sl_rd_init(&rd, p, len);
    guint16 ethertype = 0;
    f->pkttype = PKTTYPE_UNKNOWN;
    switch (dlt) {
    case DLT_EN10MB:
        sl_rd_skip(&rd, 12);
        ethertype = sl_rd_u16(&rd);
        while (!rd.err && (ethertype == 0x8100 || ethertype == 0x88A8)) {
            sl_rd_skip(&rd, 2); /* VLAN tags */
            ethertype = sl_rd_u16(&rd);
        }
        break;
    case DLT_LINUX_SLL:
        f->pkttype = (guint8)sl_rd_u16(&rd);
        sl_rd_skip(&rd, 12);
        ethertype = sl_rd_u16(&rd);
        break;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        ethertype = sl_rd_u16(&rd);
        sl_rd_skip(&rd, 8);
        f->pkttype = sl_rd_u8(&rd);
        sl_rd_skip(&rd, 9);
        break;
#endif
    case DLT_NULL:
    case DLT_LOOP:
        sl_rd_skip(&rd, 4); /* an address family, in an order that varies: the IP says */
        break;
    default:
        break;
    }
    if (rd.err || (ethertype && ethertype != 0x0800 && ethertype != 0x86DD))
        return FALSE;
    parse_ip(f, p + rd.off, len - rd.off);
    return f->ipver != 0;
}

/* ---- matching ------------------------------------------------------------------------------ */

static gboolean is_data(const struct rpt_packet *p)
{
    return p->kind == RPT_PKT_STUN || p->kind == RPT_PKT_CHANNELDATA || p->kind == RPT_PKT_TLS ||
           p->kind == RPT_PKT_OTHER;
}

/* The bytes a packet put on the wire: over TLS/DTLS the records, else the payload itself. */
static const guint8 *wire_of(const struct rpt_packet *p, gsize *n)
{
    GBytes *b = p->wire ? p->wire : p->payload;
    *n = 0;
    return b ? g_bytes_get_data(b, n) : NULL;
}

static guint8 proto_of(enum rpt_transport tp)
{
    return tp == RPT_TCP || tp == RPT_TLS ? PROTO_TCP : PROTO_UDP;
}

static int flow_find(GArray *flows, guint8 proto, const struct sl_addr *a, const struct sl_addr *b,
                     enum rpt_dir *dir)
{
    for (guint i = 0; i < flows->len; i++) {
        const struct flow *fl = &g_array_index(flows, struct flow, i);
        if (fl->proto != proto)
            continue;
        if (sl_addr_equal(&fl->local, a) && sl_addr_equal(&fl->remote, b)) {
            *dir = RPT_OUT;
            return (int)i;
        }
        if (sl_addr_equal(&fl->remote, a) && sl_addr_equal(&fl->local, b)) {
            *dir = RPT_IN;
            return (int)i;
        }
    }
    return -1;
}

/* The sockets the log talks about, one flow per 5-tuple. */
static void flows_from_log(struct tp_capture *c, struct rpt_result *r, struct mrec *m)
{
    for (guint i = 0; i < r->packets->len; i++) {
        struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        const struct sl_addr *local = p->dir == RPT_OUT ? &p->src : &p->dst;
        const struct sl_addr *remote = p->dir == RPT_OUT ? &p->dst : &p->src;
        guint8 proto = proto_of(p->transport);
        enum rpt_dir d;
        int k = flow_find(c->flows, proto, local, remote, &d);
        if (k < 0 && local->family != SL_AF_NONE) {
            struct flow fl;
            memset(&fl, 0, sizeof(fl));
            fl.proto = proto;
            fl.local = *local;
            fl.remote = *remote;
            fl.endpoint = p->endpoint;
            fl.session = p->session;
            fl.tp = p->transport;
            fl.frames = g_array_new(FALSE, FALSE, sizeof(guint));
            g_array_append_val(c->flows, fl);
            k = (int)c->flows->len - 1;
        }
        m[i].p = p;
        m[i].flow = k;
        m[i].frame = -1;
    }
}

/* Puts each frame in its flow, or leaves it out: frames of other sockets say nothing about
 * this check, and may be other people's traffic. */
static void frames_to_flows(struct tp_capture *c)
{
    for (guint i = 0; i < c->nframes; i++) {
        struct pframe *f = &c->frames[i];
        f->flow = -1;
        f->ref = -1;
        if (!f->ipver)
            continue;
        if (f->has_l4 && (f->proto == PROTO_UDP || f->proto == PROTO_TCP)) {
            f->flow = flow_find(c->flows, f->proto, &f->src, &f->dst, &f->dir);
        } else if (f->has_l4 && f->q_ok) {
            enum rpt_dir d;
            f->flow = flow_find(c->flows, f->q_proto, &f->q_src, &f->q_dst, &d);
            f->dir = RPT_IN; /* an error about a packet we sent: addressed to us */
            if (f->flow >= 0 && d != RPT_OUT)
                f->flow = -1;
        } else if (f->fragment && f->frag_off > 0) {
            /* A later fragment has no ports: it goes with its first fragment. */
            for (guint k = i; k-- > 0;) {
                const struct pframe *g = &c->frames[k];
                if (g->flow >= 0 && g->fragment && g->frag_off == 0 && g->ipid == f->ipid &&
                    g->proto == f->proto && ip_equal(&g->src, &f->src) &&
                    ip_equal(&g->dst, &f->dst)) {
                    f->flow = g->flow;
                    f->dir = g->dir;
                    f->ref = (int)k;
                    break;
                }
            }
        }
        if (f->flow >= 0) {
            struct flow *fl = &g_array_index(c->flows, struct flow, f->flow);
            g_array_append_val(fl->frames, i);
            c->n_own++;
        } else {
            c->n_other++;
        }
    }
}

static void attach(struct tp_capture *c, struct mrec *m, guint fi)
{
    struct pframe *f = &c->frames[fi];
    if (!f->recs)
        f->recs = g_ptr_array_new();
    g_ptr_array_add(f->recs, m->p);
    m->frame = (int)fi;
    c->n_matched++;
}

static gboolean payload_matches(const struct pframe *f, const struct rpt_packet *p)
{
    gsize n = 0;
    const guint8 *d = wire_of(p, &n);
    /* Captured bytes may stop short (a first fragment, the snap length): they must agree as far
     * as they go, and the headers must declare the whole record. */
    return f->pl_wire == n && f->pllen <= n && (f->pllen == 0 || memcmp(f->pl, d, f->pllen) == 0);
}

/* Next frame of the flow from *cursor on that satisfies ok(); advances the cursor past it. */
static int next_frame(struct tp_capture *c, const struct flow *fl, guint *cursor,
                      gboolean (*ok)(const struct pframe *f, const void *ud), const void *ud)
{
    for (guint k = *cursor; k < fl->frames->len; k++) {
        guint fi = g_array_index(fl->frames, guint, k);
        if (ok(&c->frames[fi], ud)) {
            *cursor = k + 1;
            return (int)fi;
        }
    }
    return -1;
}

struct want {
    enum rpt_dir dir;
    const struct rpt_packet *p;
    guint8 set, clear; /* TCP flags that must be set, and clear */
};

static gboolean ok_datagram(const struct pframe *f, const void *ud)
{
    const struct want *w = ud;
    return f->proto == PROTO_UDP && f->has_l4 && f->dir == w->dir && !f->recs &&
           payload_matches(f, w->p);
}

static gboolean ok_icmp(const struct pframe *f, const void *ud)
{
    (void)ud;
    return (f->proto == PROTO_ICMP || f->proto == PROTO_ICMPV6) && f->q_ok && !f->recs;
}

static gboolean ok_tcp_flags(const struct pframe *f, const void *ud)
{
    const struct want *w = ud;
    return f->proto == PROTO_TCP && f->has_l4 && f->dir == w->dir &&
           (f->tcp_flags & w->set) == w->set && !(f->tcp_flags & w->clear);
}

static void match_udp(struct tp_capture *c, struct mrec *m, guint nm, int fi_flow)
{
    const struct flow *fl = &g_array_index(c->flows, struct flow, fi_flow);
    guint cursor[2] = {0, 0}, icmp = 0;
    for (guint i = 0; i < nm; i++) {
        if (m[i].flow != fi_flow)
            continue;
        const struct rpt_packet *p = m[i].p;
        int fi = -1;
        if (p->kind == RPT_PKT_ICMP_UNREACH) {
            fi = next_frame(c, fl, &icmp, ok_icmp, NULL);
        } else if (is_data(p)) {
            /* A datagram lost before the capture saw it must not hold the others back: search
             * on, and move the cursor only past a match. */
            struct want w = {p->dir, p, 0, 0};
            fi = next_frame(c, fl, &cursor[p->dir], ok_datagram, &w);
        }
        if (fi >= 0)
            attach(c, &m[i], (guint)fi);
    }
}

/* Each direction's initial sequence number from its SYN, so that a segment's payload has a
 * stream offset to compare with the log's records. */
static void tcp_isns(struct tp_capture *c, struct flow *fl)
{
    for (guint k = 0; k < fl->frames->len; k++) {
        struct pframe *f = &c->frames[g_array_index(fl->frames, guint, k)];
        if (f->proto != PROTO_TCP || !f->has_l4)
            continue;
        if ((f->tcp_flags & TCP_SYN) && !fl->isn_ok[f->dir]) {
            fl->isn[f->dir] = f->seq;
            fl->isn_ok[f->dir] = TRUE;
        }
    }
    for (guint k = 0; k < fl->frames->len; k++) {
        struct pframe *f = &c->frames[g_array_index(fl->frames, guint, k)];
        if (f->proto != PROTO_TCP || !f->has_l4 || (f->tcp_flags & TCP_SYN))
            continue;
        if (!fl->isn_ok[f->dir] && f->pl_wire) {
            /* Mid-stream (the SYN went by before the capture): the first data is offset 0. */
            fl->isn[f->dir] = f->seq - 1;
            fl->isn_ok[f->dir] = TRUE;
        }
        f->rel = f->seq - fl->isn[f->dir] - 1;
        f->rel_ok = fl->isn_ok[f->dir];
    }
}

static void match_tcp(struct tp_capture *c, struct mrec *m, guint nm, int fi_flow)
{
    struct flow *fl = &g_array_index(c->flows, struct flow, fi_flow);
    tcp_isns(c, fl);
    guint cur_syn = 0, cur_synack = 0, cur_fin[2] = {0, 0}, cur_rst[2] = {0, 0}, cur_ack = 0;
    guint32 off[2] = {0, 0};
    for (guint i = 0; i < nm; i++) {
        if (m[i].flow != fi_flow)
            continue;
        const struct rpt_packet *p = m[i].p;
        const enum rpt_dir d = p->dir;
        int fi = -1;
        struct want w = {d, p, 0, 0};
        switch (p->kind) {
        case RPT_PKT_TCP_SYN:
            w.set = TCP_SYN;
            w.clear = TCP_ACK;
            fi = next_frame(c, fl, &cur_syn, ok_tcp_flags, &w);
            break;
        case RPT_PKT_TCP_SYNACK:
            w.set = TCP_SYN | TCP_ACK;
            fi = next_frame(c, fl, &cur_synack, ok_tcp_flags, &w);
            if (fi >= 0 && cur_ack < cur_synack)
                cur_ack = cur_synack;
            break;
        case RPT_PKT_TCP_ACK:
            /* The handshake's last ACK: the first segment we send after the SYN-ACK, a pure
             * ACK or one that already carries data. */
            w.set = TCP_ACK;
            w.clear = TCP_SYN | TCP_FIN | TCP_RST;
            if (cur_ack < cur_synack)
                cur_ack = cur_synack;
            fi = next_frame(c, fl, &cur_ack, ok_tcp_flags, &w);
            break;
        case RPT_PKT_TCP_FIN:
            w.set = TCP_FIN;
            fi = next_frame(c, fl, &cur_fin[d], ok_tcp_flags, &w);
            break;
        case RPT_PKT_TCP_RST:
            w.set = TCP_RST;
            fi = next_frame(c, fl, &cur_rst[d], ok_tcp_flags, &w);
            break;
        case RPT_PKT_ICMP_UNREACH:
            break;
        default: {
            gsize n = 0;
            const guint8 *b = wire_of(p, &n);
            m[i].off = off[d];
            if (!n)
                break;
            const guint64 a = off[d], e = off[d] + n;
            off[d] += (guint32)n;
            /* The record belongs to the segment holding its last byte: Wireshark shows a
             * message there, once reassembled. Every byte the segments share must agree. */
            for (guint k = 0; k < fl->frames->len && fi < 0; k++) {
                guint ci = g_array_index(fl->frames, guint, k);
                struct pframe *f = &c->frames[ci];
                if (f->proto != PROTO_TCP || f->dir != d || !f->pl_wire || !f->rel_ok)
                    continue;
                const guint64 s = f->rel, t = s + f->pllen, tw = s + f->pl_wire;
                if (tw <= a || s >= e)
                    continue;
                const guint64 lo = MAX(a, s), hi = MIN(e, t);
                if (hi > lo && memcmp(f->pl + (lo - s), b + (lo - a), (size_t)(hi - lo)) != 0)
                    continue;
                if (e - 1 < tw)
                    fi = (int)ci;
                else if (!f->cont)
                    f->cont = p;
            }
            break;
        }
        }
        if (fi >= 0)
            attach(c, &m[i], (guint)fi);
    }
    fl->logged[RPT_OUT] = off[RPT_OUT];
    fl->logged[RPT_IN] = off[RPT_IN];
    /* ICMP errors about a TCP socket, in order like the others. */
    guint icmp = 0;
    for (guint i = 0; i < nm; i++) {
        if (m[i].flow == fi_flow && m[i].p->kind == RPT_PKT_ICMP_UNREACH) {
            int fi = next_frame(c, fl, &icmp, ok_icmp, NULL);
            if (fi >= 0)
                attach(c, &m[i], (guint)fi);
        }
    }
}

/* ---- the model rewritten ------------------------------------------------------------------- */

static const char *icmp_name(const struct pframe *f)
{
    if (f->proto == PROTO_ICMP) {
        if (f->icmp_type == 3) {
            switch (f->icmp_code) {
            case 0:
                return "ICMP network unreachable";
            case 1:
                return "ICMP host unreachable";
            case 2:
                return "ICMP protocol unreachable";
            case 3:
                return "ICMP port unreachable";
            case 4:
                return "ICMP fragmentation needed";
            case 9:
            case 10:
            case 13:
                return "ICMP communication administratively prohibited";
            default:
                return "ICMP destination unreachable";
            }
        }
        return f->icmp_type == 11 ? "ICMP time exceeded" : "ICMP parameter problem";
    }
    switch (f->icmp_type) {
    case 1:
        switch (f->icmp_code) {
        case 0:
            return "ICMPv6 no route to destination";
        case 1:
            return "ICMPv6 communication administratively prohibited";
        case 3:
            return "ICMPv6 address unreachable";
        case 4:
            return "ICMP port unreachable"; /* as the log calls it, whatever the family */
        default:
            return "ICMPv6 destination unreachable";
        }
    case 2:
        return "ICMPv6 packet too big";
    case 3:
        return "ICMPv6 time exceeded";
    default:
        return "ICMPv6 parameter problem";
    }
}

static gboolean is_port_unreachable(const struct pframe *f)
{
    return (f->proto == PROTO_ICMP && f->icmp_type == 3 && f->icmp_code == 3) ||
           (f->proto == PROTO_ICMPV6 && f->icmp_type == 1 && f->icmp_code == 4);
}

/* What a port unreachable means, said once for the logged ICMP and for the ones the log lacks
 * (the socket reports one error however many ICMP messages came). */
static void explain_icmp(struct rpt_packet *p, const struct pframe *f)
{
    if (!is_port_unreachable(f) || !f->q_ok)
        return;
    if (!p->note || !*p->note) {
        g_free(p->note);
        p->note = g_strdup_printf("nothing listens on %s port %u of the server",
                                  f->q_proto == PROTO_TCP ? "TCP" : "UDP", f->q_dst.port);
    }
    if (!p->verdict) {
        g_free(p->verdict);
        p->verdict = g_strdup("port-unreachable");
    }
}

static char *stream_summary(const guint8 *p, size_t len, enum rpt_kind *kind, gboolean stream)
{
    struct sl_chan ch;
    switch (sl_classify(p, len)) {
    case SL_KIND_STUN:
    case SL_KIND_STUN_CLASSIC:
        *kind = RPT_PKT_STUN;
        return chk_msg_summary(p, len);
    case SL_KIND_CHANNELDATA:
        if (sl_chan_decode(&ch, p, len, stream) == SL_OK) {
            *kind = RPT_PKT_CHANNELDATA;
            return g_strdup_printf("ChannelData 0x%04x, %u bytes", ch.channel, ch.len);
        }
        break;
    default:
        break;
    }
    *kind = RPT_PKT_OTHER;
    return g_strdup_printf("%zu bytes of data", len);
}

/* A packet for a frame of our sockets that the log lacks. */
static struct rpt_packet *import_frame(struct tp_capture *c, struct rpt_result *r, struct pframe *f)
{
    const struct flow *fl = &g_array_index(c->flows, struct flow, f->flow);
    enum rpt_kind kind = RPT_PKT_OTHER;
    char *summary = NULL, *note = NULL;
    const guint8 *payload = NULL;
    size_t plen = 0;
    if (f->proto == PROTO_ICMP || f->proto == PROTO_ICMPV6) {
        gboolean unreach = (f->proto == PROTO_ICMP && f->icmp_type == 3) ||
                           (f->proto == PROTO_ICMPV6 && f->icmp_type == 1);
        kind = unreach ? RPT_PKT_ICMP_UNREACH : RPT_PKT_OTHER;
        summary = g_strdup(icmp_name(f));
    } else if (!f->has_l4) {
        summary = g_strdup_printf("IP fragment at offset %u", f->frag_off);
    } else if (f->proto == PROTO_TCP) {
        guint8 flags = f->tcp_flags;
        if (flags & TCP_RST) {
            kind = RPT_PKT_TCP_RST;
            summary = g_strdup("TCP RST");
        } else if ((flags & TCP_SYN) && (flags & TCP_ACK)) {
            kind = RPT_PKT_TCP_SYNACK;
            summary = g_strdup("TCP SYN, ACK (again)");
        } else if (flags & TCP_SYN) {
            kind = RPT_PKT_TCP_SYN;
            summary = g_strdup("TCP SYN (retransmission)");
        } else if (flags & TCP_FIN) {
            kind = RPT_PKT_TCP_FIN;
            summary = g_strdup("TCP FIN");
        } else if (!f->pl_wire) {
            kind = RPT_PKT_TCP_ACK;
            summary = g_strdup("TCP ACK");
            f->quiet = TRUE;
        }
        if (f->pl_wire && !summary) {
            payload = f->pl;
            plen = f->pllen;
            if (f->cont) {
                summary = g_strdup_printf("TCP segment, %zu bytes", f->pl_wire);
                note = g_strdup_printf("the first bytes of \"%s\", which ends in a later segment",
                                       f->cont->summary ? f->cont->summary : "a record");
            } else if (f->rel_ok && f->rel + f->pl_wire <= fl->logged[f->dir]) {
                summary = g_strdup_printf("TCP segment, %zu bytes", f->pl_wire);
                note = g_strdup("a retransmission of bytes already sent");
            } else {
                summary = stream_summary(f->pl, f->pllen, &kind, TRUE);
                note = g_strdup(f->dir == RPT_IN ? "turnprobe had closed the connection and "
                                                   "did not read it"
                                                 : "not in turnprobe's log");
            }
        }
    } else {
        payload = f->pl;
        plen = f->pllen;
        summary = stream_summary(f->pl, f->pllen, &kind, FALSE);
        note = g_strdup(f->dir == RPT_IN ? "turnprobe did not read it (its socket had closed)"
                                         : "not in turnprobe's log");
    }
    /* An ICMP error shows as the log shows one: from the server's port to ours. */
    struct sl_addr src = f->src, dst = f->dst;
    if (f->q_ok) {
        src.port = f->q_dst.port;
        dst.port = f->q_src.port;
    }
    struct rpt_packet *p =
        rpt_packet_add(r, kind, f->dir, fl->tp, &src, &dst, f->raw->t_us, payload, plen);
    if (kind == RPT_PKT_ICMP_UNREACH || f->proto == PROTO_ICMP || f->proto == PROTO_ICMPV6) {
        p->icmp_type = f->icmp_type;
        p->icmp_code = f->icmp_code;
        explain_icmp(p, f);
    }
    p->endpoint = g_strdup(fl->endpoint);
    p->session = fl->session;
    p->summary = summary;
    if (note) {
        g_free(p->note);
        p->note = note;
    }
    return p;
}

static void append_joined(char **dst, const char *sep, const char *add)
{
    if (!add || !*add)
        return;
    char *s = *dst && **dst ? g_strconcat(*dst, sep, add, NULL) : g_strdup(add);
    g_free(*dst);
    *dst = s;
}

/* Records that share one segment become one packet: the frame is what Wireshark shows, and the
 * report names frames. The first data record leads (a handshake ACK folded into a segment that
 * carries data is not worth a word). Returns the packets that are no longer needed. */
static struct rpt_packet *merge_recs(GPtrArray *recs, GPtrArray *gone)
{
    struct rpt_packet *lead = g_ptr_array_index(recs, 0);
    for (guint k = 0; k < recs->len; k++) {
        struct rpt_packet *q = g_ptr_array_index(recs, k);
        if (is_data(q)) {
            lead = q;
            break;
        }
    }
    GByteArray *data = NULL, *wire = NULL;
    guint ndata = 0;
    for (guint k = 0; k < recs->len; k++) {
        struct rpt_packet *q = g_ptr_array_index(recs, k);
        if (is_data(q) && q->payload) {
            if (!data) {
                data = g_byte_array_new();
                wire = g_byte_array_new();
            }
            gsize n = 0;
            const guint8 *b = g_bytes_get_data(q->payload, &n);
            g_byte_array_append(data, b, (guint)n);
            b = wire_of(q, &n);
            g_byte_array_append(wire, b, (guint)n);
            ndata++;
        }
        if (q == lead)
            continue;
        if (!(q->kind == RPT_PKT_TCP_ACK && is_data(lead))) {
            /* A record of another step says so: the comment names the lead's step only. */
            char *sum = q->step && lead->step && strcmp(q->step, lead->step) != 0
                            ? g_strdup_printf("%s (%s)", q->summary ? q->summary : "", q->step)
                            : g_strdup(q->summary);
            append_joined(&lead->summary, " + ", sum);
            append_joined(&lead->note, "; ", q->note);
            g_free(sum);
        }
        if (!lead->step && q->step)
            lead->step = g_strdup(q->step);
        if ((!lead->verdict || strcmp(lead->verdict, "ok") == 0) && q->verdict &&
            strcmp(q->verdict, "ok") != 0) {
            g_free(lead->verdict);
            lead->verdict = g_strdup(q->verdict);
        }
        g_ptr_array_add(gone, q);
    }
    if (data && ndata > 1) {
        gboolean tls = lead->wire != NULL;
        g_bytes_unref(lead->payload);
        lead->payload = g_byte_array_free_to_bytes(data);
        if (lead->wire)
            g_bytes_unref(lead->wire);
        lead->wire = tls ? g_byte_array_free_to_bytes(wire) : NULL;
        if (!tls)
            g_byte_array_unref(wire);
    } else if (data) {
        g_byte_array_unref(data);
        g_byte_array_unref(wire);
    }
    return lead;
}

/* Frame numbers held outside the packets: transactions, steps, ICMP references. map[old] is
 * the new number of the packet that was number old (1..n_old). */
static guint map_n(const guint *map, guint n_old, guint old)
{
    return old >= 1 && old <= n_old ? map[old] : 0;
}

static gint cmp_guint(gconstpointer a, gconstpointer b)
{
    guint x = *(const guint *)a, y = *(const guint *)b;
    return x < y ? -1 : x > y;
}

static void renumber_refs(struct rpt_result *r, const guint *map, guint n_old)
{
    for (guint i = 0; i < r->sessions->len; i++) {
        struct rpt_session *s = g_ptr_array_index(r->sessions, i);
        for (guint k = 0; k < s->txns->len; k++) {
            struct rpt_txn *t = g_ptr_array_index(s->txns, k);
            for (guint j = 0; j < t->req_pkts->len; j++) {
                guint *n = &g_array_index(t->req_pkts, guint, j);
                *n = map_n(map, n_old, *n);
            }
            t->resp_pkt = map_n(map, n_old, t->resp_pkt);
        }
        for (guint k = 0; k < s->steps->len; k++) {
            struct rpt_step *st = g_ptr_array_index(s->steps, k);
            GArray *np = g_array_new(FALSE, FALSE, sizeof(guint));
            for (guint j = 0; j < st->packets->len; j++) {
                guint n = map_n(map, n_old, g_array_index(st->packets, guint, j));
                gboolean dup = n == 0;
                for (guint q = 0; q < np->len && !dup; q++)
                    dup = g_array_index(np, guint, q) == n;
                if (!dup)
                    g_array_append_val(np, n);
            }
            g_array_sort(np, cmp_guint);
            g_array_unref(st->packets);
            st->packets = np;
        }
    }
}

/* The frame number of the packet an ICMP error quotes: the latest one we sent on that socket
 * before it whose payload starts as the quote does; 0 when none of the captured ones does (it
 * went by unseen, and the log's reference stands). A quote without payload (RFC 792 asks for 8
 * bytes past the IP header only) cannot tell: with guess, the latest one sent is taken (an
 * imported error has nothing better), else 0. Call once every frame has its packet. */
static guint icmp_quoted(const struct tp_capture *c, const struct pframe *f, gboolean guess)
{
    const struct flow *fl = &g_array_index(c->flows, struct flow, f->flow);
    const gboolean comparable = f->q_pl && f->q_pllen > 0;
    guint best = 0;
    if (!comparable && !guess)
        return 0;
    for (guint j = 0; j < fl->frames->len; j++) {
        const struct pframe *g = &c->frames[g_array_index(fl->frames, guint, j)];
        if (g >= f)
            break;
        if (g->dir != RPT_OUT || !g->has_l4 || !g->pkt ||
            (g->proto != PROTO_UDP && g->proto != PROTO_TCP))
            continue;
        size_t n = MIN(f->q_pllen, g->pllen);
        if (!comparable || (n > 0 && memcmp(f->q_pl, g->pl, n) == 0))
            best = g->pkt->n;
    }
    return best;
}

static void step_add_packet(struct rpt_step *st, guint n)
{
    for (guint j = 0; j < st->packets->len; j++)
        if (g_array_index(st->packets, guint, j) == n)
            return;
    g_array_append_val(st->packets, n);
    g_array_sort(st->packets, cmp_guint);
}

/* The socket reports one error however many ICMP messages came, so the log ties every
 * unreachable request to that one; the capture has an error per request. Each transaction that
 * ended unreachable gets the error that quotes its own request, and the steps list their
 * errors as evidence. */
static void icmp_evidence(struct rpt_result *r)
{
    for (guint k = 0; k < r->packets->len; k++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, k);
        if (p->kind != RPT_PKT_ICMP_UNREACH || !p->ref || p->session >= r->sessions->len)
            continue;
        struct rpt_session *s = g_ptr_array_index(r->sessions, p->session);
        for (guint i = 0; i < s->txns->len; i++) {
            struct rpt_txn *t = g_ptr_array_index(s->txns, i);
            for (guint j = 0; t->outcome == RPT_TXN_UNREACH && j < t->req_pkts->len; j++)
                if (g_array_index(t->req_pkts, guint, j) == p->ref)
                    t->resp_pkt = p->n;
        }
        struct rpt_step *st = p->step ? rpt_step_find(s, p->step) : NULL;
        if (st)
            step_add_packet(st, p->n);
    }
}

/* Logged packets the capture missed: written as rebuilt frames, and said so. */
static void emit_rebuilt(struct tp_capture *c, GPtrArray *list, guint *map, GPtrArray *order)
{
    for (guint k = 0; list && k < list->len; k++) {
        struct mrec *x = g_ptr_array_index(list, k);
        struct out_item *it = g_new0(struct out_item, 1);
        it->p = x->p;
        it->flow = x->flow;
        it->off = x->off;
        append_joined(&x->p->note, "; ",
                      "the live capture did not see it: rebuilt from turnprobe's log");
        map[x->p->n] = order->len + 1;
        g_ptr_array_add(c->out, it);
        g_ptr_array_add(order, x->p);
        c->n_rebuilt++;
    }
}

gboolean tp_capture_adopt(struct tp_capture *c, struct rpt_result *r, GError **err)
{
    g_return_val_if_fail(c && c->stopped && !c->adopted, FALSE);
    const guint n_old = r->packets->len;
    c->nframes = c->raw->len;
    c->frames = g_new0(struct pframe, MAX(c->nframes, 1));
    for (guint i = 0; i < c->nframes; i++) {
        struct pframe *f = &c->frames[i];
        f->raw = g_ptr_array_index(c->raw, i);
        parse_link(f, c->dlt, f->raw->data, f->raw->caplen);
    }
    c->flows = g_array_new(FALSE, TRUE, sizeof(struct flow));
    struct mrec *m = g_new0(struct mrec, MAX(n_old, 1));
    flows_from_log(c, r, m);
    frames_to_flows(c);
    for (guint k = 0; k < c->flows->len; k++) {
        if (g_array_index(c->flows, struct flow, k).proto == PROTO_TCP)
            match_tcp(c, m, n_old, (int)k);
        else
            match_udp(c, m, n_old, (int)k);
    }
    if (n_old > 0 && c->n_matched == 0) {
        /* Another route, a port the filter did not name (SRV): a file of rebuilt frames only
         * would be the self capture, less well made. */
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "the live capture on %s saw none of the check's %u packets", c->device, n_old);
        g_free(m);
        return FALSE;
    }
    c->adopted = TRUE;

    /* File order: the captured frames of our sockets as they came; a logged packet the capture
     * missed right after the frame of the last logged packet before it. */
    GPtrArray *before = g_ptr_array_new();
    int anchor = -1;
    for (guint i = 0; i < n_old; i++) {
        if (m[i].frame >= 0) {
            anchor = MAX(anchor, m[i].frame);
            continue;
        }
        GPtrArray **list = anchor < 0 ? &before : &c->frames[anchor].after;
        if (!*list)
            *list = g_ptr_array_new();
        g_ptr_array_add(*list, &m[i]);
    }
    c->out = g_ptr_array_new_with_free_func(g_free);
    guint *map = g_new0(guint, n_old + 1);
    GPtrArray *order = g_ptr_array_new();
    GPtrArray *gone = g_ptr_array_new();
    emit_rebuilt(c, before, map, order);
    for (guint i = 0; i < c->nframes; i++) {
        struct pframe *f = &c->frames[i];
        if (f->flow < 0)
            continue;
        if (f->recs) {
            for (guint k = 0; k < f->recs->len; k++)
                map[((struct rpt_packet *)g_ptr_array_index(f->recs, k))->n] = order->len + 1;
            f->pkt = merge_recs(f->recs, gone);
            f->pkt->t_us = f->raw->t_us; /* the wire's time, as Wireshark shows it */
            if (f->pkt->kind == RPT_PKT_ICMP_UNREACH)
                explain_icmp(f->pkt, f);
        } else {
            f->pkt = import_frame(c, r, f);
        }
        struct out_item *it = g_new0(struct out_item, 1);
        it->f = f;
        it->p = f->pkt;
        g_ptr_array_add(c->out, it);
        g_ptr_array_add(order, f->pkt);
        emit_rebuilt(c, f->after, map, order);
    }
    for (guint k = 0; k < gone->len; k++)
        g_ptr_array_remove_fast(r->packets, g_ptr_array_index(gone, k));
    g_assert(r->packets->len == order->len);
    for (guint k = 0; k < order->len; k++) {
        struct rpt_packet *p = g_ptr_array_index(order, k);
        r->packets->pdata[k] = p;
        p->n = k + 1;
    }
    /* References into the old numbering: logged ICMP errors name the packet they answer. The
     * log can only guess which (the socket's last datagram when the error was read); the
     * captured error quotes it. */
    for (guint k = 0; k < order->len; k++) {
        struct rpt_packet *p = g_ptr_array_index(order, k);
        const struct out_item *it = g_ptr_array_index(c->out, k);
        if (it->f && !it->f->recs)
            continue; /* imported: its references come below */
        guint quoted = it->f && it->f->q_ok ? icmp_quoted(c, it->f, FALSE) : 0;
        p->ref = quoted ? quoted : map_n(map, n_old, p->ref);
    }
    renumber_refs(r, map, n_old);
    /* An ICMP error belongs to the step of the packet it answers. */
    for (guint k = 0; k < order->len; k++) {
        struct rpt_packet *p = g_ptr_array_index(order, k);
        const struct rpt_packet *q = p->ref ? rpt_packet_get(r, p->ref) : NULL;
        if (p->kind == RPT_PKT_ICMP_UNREACH && !p->step && q && q->step)
            p->step = g_strdup(q->step);
    }
    /* Imported ICMP errors and later fragments name the frame they are about. */
    for (guint k = 0; k < c->out->len; k++) {
        const struct out_item *it = g_ptr_array_index(c->out, k);
        struct pframe *f = it->f;
        if (!f || f->recs)
            continue;
        if (f->q_ok && (f->proto == PROTO_ICMP || f->proto == PROTO_ICMPV6)) {
            f->pkt->ref = icmp_quoted(c, f, TRUE);
            const struct rpt_packet *q = f->pkt->ref ? rpt_packet_get(r, f->pkt->ref) : NULL;
            if (q && q->step && !f->pkt->step)
                f->pkt->step = g_strdup(q->step);
        } else if (f->ref >= 0 && c->frames[f->ref].pkt) {
            const struct rpt_packet *q = c->frames[f->ref].pkt;
            char *note = g_strdup_printf("the rest of #%u", q->n);
            append_joined(&f->pkt->note, "; ", note);
            g_free(note);
            if (q->step && !f->pkt->step)
                f->pkt->step = g_strdup(q->step);
        }
    }
    icmp_evidence(r);
    g_ptr_array_unref(order);
    g_ptr_array_unref(gone);
    g_ptr_array_unref(before);
    g_free(map);
    g_free(m);
    return TRUE;
}

/* ---- the file ------------------------------------------------------------------------------ */

/* Where each TCP stream of the file stands, so that a rebuilt segment continues it: the
 * captured ISNs (fixed ones when the capture saw none of the connection), and the stream bytes
 * and FINs gone by so far in file order. Indexed by direction. */
struct tcp_track {
    guint32 isn[2];
    guint64 end[2];
    guint32 fin[2];
};

static void tcp_track_init(struct tcp_track *t, const struct flow *fl)
{
    memset(t, 0, sizeof(*t));
    t->isn[RPT_OUT] = fl->isn_ok[RPT_OUT] ? fl->isn[RPT_OUT] : 0x10000000u;
    t->isn[RPT_IN] = fl->isn_ok[RPT_IN] ? fl->isn[RPT_IN] : 0x20000000u;
}

/* A captured segment moves the stream on. */
static void tcp_track_frame(struct tcp_track *t, const struct pframe *f)
{
    if (f->rel_ok && f->pl_wire)
        t->end[f->dir] = MAX(t->end[f->dir], (guint64)f->rel + f->pl_wire);
    if (f->tcp_flags & TCP_FIN)
        t->fin[f->dir] = 1;
}

/* Sequence, acknowledgement and flags of a rebuilt segment; moves the stream on. */
static void tcp_track_next(struct tcp_track *t, const struct rpt_packet *p, guint32 off,
                           guint32 *seq, guint32 *ack, guint8 *flags)
{
    const int d = p->dir, o = 1 - p->dir;
    gsize n = 0;
    *seq = t->isn[d] + 1 + (guint32)t->end[d] + t->fin[d];
    *ack = t->isn[o] + 1 + (guint32)t->end[o] + t->fin[o];
    *flags = TCP_ACK;
    switch (p->kind) {
    case RPT_PKT_TCP_SYN:
        *seq = t->isn[d];
        *ack = 0;
        *flags = TCP_SYN;
        break;
    case RPT_PKT_TCP_SYNACK:
        *seq = t->isn[d];
        *flags = TCP_SYN | TCP_ACK;
        break;
    case RPT_PKT_TCP_FIN:
        *flags = TCP_FIN | TCP_ACK;
        t->fin[d] = 1;
        break;
    case RPT_PKT_TCP_RST:
        *flags = TCP_RST | TCP_ACK;
        break;
    case RPT_PKT_TCP_ACK:
        break;
    default:
        wire_of(p, &n);
        *seq = t->isn[d] + 1 + off;
        *flags = TCP_PSH | TCP_ACK;
        t->end[d] = MAX(t->end[d], (guint64)off + n);
        break;
    }
}

/* The IP packet (LINKTYPE_RAW) of a logged packet the capture missed, with valid checksums and,
 * on TCP, the sequence numbers of the captured stream it belongs to. buf holds
 * RPT_PCAPNG_SNAPLEN bytes. */
static size_t build_rebuilt(const struct tp_capture *c, const struct out_item *it,
                            struct tcp_track *track, guint8 *buf)
{
    const struct rpt_packet *p = it->p;
    const gboolean v4 = p->src.family != SL_AF_IPV6 && p->dst.family != SL_AF_IPV6;
    const size_t iplen = v4 ? 20 : 40;
    const gboolean icmp = p->kind == RPT_PKT_ICMP_UNREACH;
    const gboolean tcp = !icmp && proto_of(p->transport) == PROTO_TCP;
    const guint8 proto = icmp ? (v4 ? PROTO_ICMP : PROTO_ICMPV6) : tcp ? PROTO_TCP : PROTO_UDP;
    const size_t l4hdr = tcp ? 20 : 8;
    const guint8 *data = NULL;
    size_t dlen = 0;
    if (icmp) {
        /* Quote the packet it answers when that one was captured. */
        for (guint k = 0; k < c->out->len; k++) {
            const struct out_item *q = g_ptr_array_index(c->out, k);
            if (q->p->n == p->ref && q->f && q->f->l3 && (q->f->ipver == 4) == v4) {
                data = q->f->l3;
                dlen = v4 ? MIN(q->f->l3len, (size_t)(data[0] & 0x0F) * 4 + 8)
                          : MIN(q->f->l3len, 1232);
            }
        }
    } else if (is_data(p)) {
        gsize n = 0;
        data = wire_of(p, &n);
        dlen = n;
    }
    dlen = MIN(dlen, RPT_PCAPNG_SNAPLEN - iplen - l4hdr);
    const size_t l4len = l4hdr + dlen, total = iplen + l4len;
    guint64 pseudo = rpt_ip_header(buf, v4, &p->src, &p->dst, proto, l4len, 0, 0);
    guint8 *l4 = buf + iplen;
    if (dlen)
        memcpy(l4 + l4hdr, data, dlen);
    if (icmp) {
        l4[0] = p->icmp_type ? p->icmp_type : (v4 ? 3 : 1);
        l4[1] = p->icmp_type ? p->icmp_code : (v4 ? 3 : 4);
        sl_put_u16(l4 + 2, 0);
        sl_put_u32(l4 + 4, 0);
        sl_put_u16(l4 + 2, rpt_csum_fold(rpt_csum_add(v4 ? 0 : pseudo, l4, l4len)));
    } else if (tcp) {
        guint32 seq = 0, ack = 0;
        guint8 flags = 0;
        tcp_track_next(track, p, it->off, &seq, &ack, &flags);
        sl_put_u16(l4, p->src.port);
        sl_put_u16(l4 + 2, p->dst.port);
        sl_put_u32(l4 + 4, seq);
        sl_put_u32(l4 + 8, flags & TCP_ACK ? ack : 0);
        l4[12] = 5 << 4;
        l4[13] = flags;
        sl_put_u16(l4 + 14, 65535);
        sl_put_u32(l4 + 16, 0);
        sl_put_u16(l4 + 16, rpt_csum_fold(rpt_csum_add(pseudo, l4, l4len)));
    } else {
        sl_put_u16(l4, p->src.port);
        sl_put_u16(l4 + 2, p->dst.port);
        sl_put_u16(l4 + 4, (guint16)l4len);
        sl_put_u16(l4 + 6, 0);
        guint16 ck = rpt_csum_fold(rpt_csum_add(pseudo, l4, l4len));
        sl_put_u16(l4 + 6, ck ? ck : 0xFFFF); /* RFC 768: zero means "no checksum" */
    }
    return total;
}

#define LINK_HEADER_MAX 20

/* The link-layer header that puts a rebuilt IP packet in the capture's link type (zero MAC
 * addresses, as loopback has); -1 when that link type cannot carry it. */
static int link_header(int linktype, gboolean v4, enum rpt_dir dir, guint8 *h)
{
    const guint16 ethertype = v4 ? 0x0800 : 0x86DD;
    const guint32 af = v4 ? AF_INET : AF_INET6;
    switch (linktype) {
    case RPT_LINKTYPE_RAW:
        return 0;
    case 228: /* LINKTYPE_IPV4 */
        return v4 ? 0 : -1;
    case 229: /* LINKTYPE_IPV6 */
        return v4 ? -1 : 0;
    case RPT_LINKTYPE_ETHERNET:
        memset(h, 0, 12);
        sl_put_u16(h + 12, ethertype);
        return 14;
    case 113: /* LINUX_SLL: packet type, ARPHRD_LOOPBACK, no address, protocol */
        memset(h, 0, 16);
        sl_put_u16(h, dir == RPT_OUT ? SLL_OUTGOING : 0);
        sl_put_u16(h + 2, 772);
        sl_put_u16(h + 14, ethertype);
        return 16;
    case 276: /* LINUX_SLL2: protocol, reserved, interface index, ARPHRD, packet type, ... */
        memset(h, 0, 20);
        sl_put_u16(h, ethertype);
        sl_put_u16(h + 8, 772);
        h[10] = dir == RPT_OUT ? SLL_OUTGOING : 0;
        return 20;
    case 0: /* NULL: the address family in the writer's byte order */
        memcpy(h, &af, 4);
        return 4;
    case 108: /* LOOP: the same in network order */
        sl_put_u32(h, af);
        return 4;
    default:
        return -1;
    }
}

char *tp_capture_howto(const struct rpt_result *r, const char *path)
{
    GString *o = g_string_new(NULL);
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    char *file = g_shell_quote(path);
    for (guint i = 0; i < r->sessions->len; i++) {
        const struct rpt_session *s = g_ptr_array_index(r->sessions, i);
        const struct rpt_target *t = &s->target;
        if (!t->port && !t->address)
            continue;
        const char *tp = t->transport ? t->transport : "udp";
        const gboolean tls = strcmp(tp, "tls") == 0, dtls = strcmp(tp, "dtls") == 0;
        const char *l4 = strcmp(tp, "tcp") == 0 || tls ? "tcp" : "udp";
        struct sl_addr a;
        gboolean have_ip = (t->address && sl_addr_parse(&a, t->address, t->port) == SL_OK) ||
                           (t->host && sl_addr_parse(&a, t->host, t->port) == SL_OK);
        guint port = have_ip && a.port ? a.port : t->port;
        GString *f = g_string_new(tls    ? "(tls || stun || turnchannel)"
                                  : dtls ? "(dtls || stun || turnchannel)"
                                         : "(stun || turnchannel)");
        if (have_ip) {
            char ip[SL_ADDR_STRLEN];
            sl_addr_format(&a, ip, sizeof(ip), false);
            g_string_append_printf(f, " && %s == %s",
                                   a.family == SL_AF_IPV6 ? "ipv6.addr" : "ip.addr", ip);
        }
        if (port)
            g_string_append_printf(f, " && %s.port == %u", l4, port);
        /* Wireshark finds STUN by heuristics anywhere, but ChannelData only on a port it
         * decodes as STUN: 3478 by itself, any other when told. */
        char *decode = port && (tls || dtls || port != 3478)
                           ? g_strdup_printf("-d %s.port==%u,stun ",
                                             tls    ? "tls"
                                             : dtls ? "dtls"
                                                    : l4,
                                             port)
                           : g_strdup("");
        char *line = g_strdup_printf("tshark -r %s %s-Y '%s'", file, decode, f->str);
        if (!g_hash_table_contains(seen, line)) {
            g_string_append_printf(o, "%s%s", o->len ? "\n" : "", line);
            g_hash_table_add(seen, line);
        } else {
            g_free(line);
        }
        g_free(decode);
        g_string_free(f, TRUE);
    }
    g_free(file);
    g_hash_table_unref(seen);
    return g_string_free(o, FALSE);
}

static char *shb_comment(const struct tp_capture *c, const struct rpt_result *r, const char *path,
                         gboolean interrupted)
{
    char *run = rpt_pcapng_run_comment(r);
    GString *s = g_string_new(run);
    g_free(run);
    if (interrupted)
        g_string_append(s, "\ninterrupted (Ctrl-C) before the checklist finished: this file "
                           "holds the packets up to then");
    if (c->from_file)
        g_string_append_printf(s, "\nframes read from %s", c->device);
    else
        g_string_append_printf(s, "\ncaptured live on %s by libpcap (filter: %s)", c->device,
                               c->filter);
    g_string_append_printf(s,
                           ": %u frames of this check's sockets, each commented with the step "
                           "it belongs to",
                           c->n_own);
    if (c->n_rebuilt)
        g_string_append_printf(s,
                               "; %u packets turnprobe logged but the capture missed are "
                               "rebuilt from its log, on interface \"turnprobe\"",
                               c->n_rebuilt);
    if (c->n_other)
        g_string_append_printf(s,
                               "; %u frames of other sockets (other clients of the server, "
                               "libnice's agents) are left out",
                               c->n_other);
    if (c->kernel_drops)
        g_string_append_printf(s, "; the kernel dropped %" G_GUINT64_FORMAT " frames",
                               c->kernel_drops);
    if (c->over_limit)
        g_string_append_printf(s,
                               "; %" G_GUINT64_FORMAT " frames past turnprobe's memory bound "
                               "are missing",
                               c->over_limit);
    g_string_append(s, "\nchecksums of the packets this host sent are left to the network card "
                       "(on loopback nobody fills them in): Wireshark does not check them by "
                       "default, and a bad one here is no fault");
    char *base = g_path_get_basename(path);
    char *how = tp_capture_howto(r, base);
    if (*how)
        g_string_append_printf(s,
                               "\nto look at it (in Wireshark, the same display filter, and "
                               "Analyze > Decode As for a port other than 3478):\n%s",
                               how);
    g_free(how);
    g_free(base);
    return g_string_free(s, FALSE);
}

gboolean tp_capture_write(const struct tp_capture *c, const struct rpt_result *r, const char *path,
                          gboolean interrupted, GError **err)
{
    g_return_val_if_fail(c && c->adopted, FALSE);
    if (r->packets->len != c->out->len) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the report's packets (%u) are no longer the captured frames (%u)",
                    r->packets->len, c->out->len);
        return FALSE;
    }
    char *comment = shb_comment(c, r, path, interrupted);
    char *appl = g_strdup_printf("turnprobe %s", TP_VERSION);
    struct rpt_pcapng *w = rpt_pcapng_open_full(path, comment, appl, err);
    g_free(comment);
    g_free(appl);
    if (!w)
        return FALSE;
    /* Interface first, then the secrets before any packet: editcap refuses the other order. */
    int live = rpt_pcapng_add_interface(w, c->linktype, TP_CAPTURE_SNAPLEN, c->device);
    rpt_pcapng_add_secrets(w, r->keylog);
    int rebuilt = -1, rebuilt_raw = -1;
    struct tcp_track *track = g_new0(struct tcp_track, MAX(c->flows->len, 1));
    for (guint k = 0; k < c->flows->len; k++)
        tcp_track_init(&track[k], &g_array_index(c->flows, struct flow, k));
    guint8 *buf = g_malloc(RPT_PCAPNG_SNAPLEN + LINK_HEADER_MAX);
    gint64 last_t = 0;
    for (guint i = 0; i < c->out->len; i++) {
        const struct out_item *it = g_ptr_array_index(c->out, i);
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        char *text = it->f && it->f->quiet ? NULL : rpt_pcapng_comment(r, p);
        enum rpt_pcapng_dir dir = p->dir == RPT_IN ? RPT_PCAPNG_DIR_IN : RPT_PCAPNG_DIR_OUT;
        gboolean ok;
        if (it->f) {
            if (it->f->flow >= 0 && it->f->proto == PROTO_TCP)
                tcp_track_frame(&track[it->f->flow], it->f);
            last_t = it->f->raw->t_us;
            ok = rpt_pcapng_add_packet_dir(w, live, last_t, it->f->raw->data, it->f->raw->caplen,
                                           it->f->raw->origlen, text, dir);
        } else {
            /* On an interface of its own, "turnprobe", but of the capture's link type and snap
             * length when that can carry it: libpcap (tcpdump) reads a file only when every
             * interface agrees on both. */
            const gboolean v4 = p->src.family != SL_AF_IPV6 && p->dst.family != SL_AF_IPV6;
            int hl = link_header(c->linktype, v4, p->dir, buf);
            int *iface = hl >= 0 ? &rebuilt : &rebuilt_raw;
            if (*iface < 0)
                *iface = hl >= 0 ? rpt_pcapng_add_interface(w, c->linktype, TP_CAPTURE_SNAPLEN,
                                                            "turnprobe")
                                 : rpt_pcapng_add_interface(w, RPT_LINKTYPE_RAW, RPT_PCAPNG_SNAPLEN,
                                                            "turnprobe");
            hl = MAX(hl, 0);
            struct tcp_track none;
            memset(&none, 0, sizeof(none));
            size_t len = (size_t)hl +
                         build_rebuilt(c, it, it->flow >= 0 ? &track[it->flow] : &none, buf + hl);
            /* In file order: its logged time may be a little before the frame it follows. */
            last_t = MAX(last_t, p->t_us);
            ok = rpt_pcapng_add_packet_dir(w, *iface, last_t, buf, (guint32)len, (guint32)len, text,
                                           dir);
        }
        g_free(text);
        if (!ok)
            break;
    }
    g_free(buf);
    g_free(track);
    return rpt_pcapng_close(w, err);
}

char *tp_capture_describe(const struct tp_capture *c)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, c->from_file ? "read from %s" : "captured live on %s", c->device);
    if (c->adopted) {
        g_string_append_printf(s, ", %u frames", c->out->len);
        if (c->n_rebuilt)
            g_string_append_printf(s,
                                   " (%u rebuilt from turnprobe's log: the capture missed "
                                   "them)",
                                   c->n_rebuilt);
    }
    return g_string_free(s, FALSE);
}

void tp_capture_print_hint(FILE *out, const struct tp_capture *c, const struct rpt_result *r,
                           const char *path)
{
    char *src = c ? tp_capture_describe(c) : g_strdup("rebuilt from turnprobe's packet log");
    char *how = tp_capture_howto(r, path);
    fprintf(out, "\nCapture: %s (%s)\n", path, src);
    if (*how) {
        char **lines = g_strsplit(how, "\n", -1);
        fputs("  to look at it:\n", out);
        for (char **l = lines; *l; l++)
            fprintf(out, "    %s\n", *l);
        g_strfreev(lines);
    }
    g_free(how);
    g_free(src);
}

void tp_capture_free(struct tp_capture *c)
{
    if (!c)
        return;
    tp_capture_stop(c);
    if (c->pc)
        pcap_close(c->pc);
    for (int k = 0; k < 2; k++)
        if (c->wake[k] >= 0)
            close(c->wake[k]);
    for (guint i = 0; i < c->nframes; i++) {
        if (c->frames[i].recs)
            g_ptr_array_unref(c->frames[i].recs);
        if (c->frames[i].after)
            g_ptr_array_unref(c->frames[i].after);
    }
    g_free(c->frames);
    if (c->flows) {
        for (guint k = 0; k < c->flows->len; k++)
            g_array_unref(g_array_index(c->flows, struct flow, k).frames);
        g_array_unref(c->flows);
    }
    if (c->out)
        g_ptr_array_unref(c->out);
    g_ptr_array_unref(c->raw);
    g_free(c->device);
    g_free(c->filter);
    g_free(c);
}
