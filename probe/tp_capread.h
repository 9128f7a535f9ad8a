/* Reading captures for analyze: pcap and pcapng files through libpcap, link layers, IPv4/IPv6
 * (fragments reassembled), UDP payloads, TCP streams reassembled per direction and split into
 * STUN messages, ChannelData records (RFC 8656 §12.5), RFC 4571 frames and TLS records. */
#ifndef TP_CAPREAD_H
#define TP_CAPREAD_H

#include <glib.h>
#include <stdint.h>

#include "sl_addr.h"

/* Bounds: memory follows the number of live flows, never the size of the file. */
#define TP_CAP_MAX_FRAGS        256         /* IP datagrams being reassembled at once */
#define TP_CAP_FRAG_TIMEOUT_US  (30 * G_USEC_PER_SEC)
#define TP_CAP_MAX_OOO_SEGS     128         /* out-of-order TCP segments kept per direction */
#define TP_CAP_MAX_OOO_BYTES    (512 * 1024)
#define TP_CAP_TCP_IDLE_US      (600 * G_USEC_PER_SEC)
#define TP_CAP_RESYNC_MAX       (1024 * 1024) /* bytes searched for a STUN header after a gap */
#define TP_CAP_IPV6_MAX_EXT     8           /* IPv6 extension headers followed */

enum tp_rec_kind {
    TP_REC_MSG = 1,    /* a UDP payload, an RFC 4571 frame, or a STUN/ChannelData stream record */
    TP_REC_TLS,        /* one TLS record from a TCP stream (application data: p is NULL) */
    TP_REC_TCP_CTRL,   /* a segment with SYN, FIN or RST (tcp_flags) */
    TP_REC_ICMP,       /* ICMP(v6) destination unreachable; src/dst/ports: the quoted packet's */
    TP_REC_GAP,        /* bytes of a TCP stream are missing (len: how many); framing resumed */
};

#define TP_TCP_FIN 0x01
#define TP_TCP_SYN 0x02
#define TP_TCP_RST 0x04
#define TP_TCP_ACK 0x10

struct tp_rec {
    enum tp_rec_kind kind;
    guint frame;       /* 1-based over all inputs: the frame that completed the record */
    gint64 t_us;
    guint8 proto;      /* 17 UDP, 6 TCP */
    struct sl_addr src, dst;
    const uint8_t *p;  /* valid during the callback only */
    size_t len;
    gboolean stream;   /* a record of a STUN/ChannelData byte stream (ChannelData is padded) */
    gboolean rfc4571;  /* a frame of an RFC 4571 stream (ICE-TCP): datagram semantics */
    gboolean midstream; /* the stream's start (SYN) was not captured */
    guint8 tcp_flags;
    guint8 icmp_type, icmp_code;
};

typedef void (*tp_rec_fn)(const struct tp_rec *rec, void *ud);

struct tp_capstats {
    guint64 frames, bytes;
    guint64 non_ip;          /* frames that are not IPv4/IPv6 (ARP, LLDP, ...) */
    guint64 cut;             /* frames shorter than their IP length (snap length) */
    guint64 bad;             /* IP/UDP/TCP headers that do not parse */
    guint64 fragments, reassembled, frag_dropped;
    guint64 tcp_segments, tcp_retrans, tcp_ooo, tcp_gaps, tcp_gap_bytes;
    guint64 udp, tcp, icmp;
};

struct tp_capread;

/* The callback receives every record; it may be NULL for a raw reader (pass 2 of --pcap). */
struct tp_capread *tp_capread_new(tp_rec_fn fn, void *ud);
void tp_capread_free(struct tp_capread *c);

/* Opens a capture, closing the previous one; flows continue across files (a capture split by
 * size). The format is found by the magic number, never by the name. FALSE with *err (a
 * one-line message naming the file) when the file is not a capture libpcap can read or its link
 * type is not supported. */
gboolean tp_capread_open(struct tp_capread *c, const char *path, GError **err);
/* The same over a memory buffer (tests, fuzzing). The buffer must outlive the reader's use. */
gboolean tp_capread_open_mem(struct tp_capread *c, const void *data, size_t len, GError **err);

/* Reads and decodes the next frame. 1: a frame was read; 0: the end of the file; -1: the file
 * is damaged here (truncated, corrupt block): *err says how; the frames before were read. */
int tp_capread_next(struct tp_capread *c, GError **err);

/* The frame just read, for copying it out. */
void tp_capread_frame(const struct tp_capread *c, gint64 *t_us, const guint8 **data,
                      guint32 *caplen, guint32 *origlen);
int tp_capread_linktype(const struct tp_capread *c); /* LINKTYPE_* of the open file */
guint32 tp_capread_snaplen(const struct tp_capread *c);
guint tp_capread_frame_number(const struct tp_capread *c);
/* Bytes of the open file read so far, and its size (0 when unknown), for progress. */
void tp_capread_progress(const struct tp_capread *c, guint64 *done, guint64 *total);

/* Decodes one link-layer frame as if read from a file of that link type (tests, fuzzing). */
void tp_capread_feed(struct tp_capread *c, int linktype, gint64 t_us, const guint8 *data,
                     size_t caplen);

/* Ends every stream: records still incomplete are dropped, gaps reported. Call at the end. */
void tp_capread_flush(struct tp_capread *c);

const struct tp_capstats *tp_capread_stats(const struct tp_capread *c);
/* "Ethernet", "Linux cooked v2", ...; NULL for link types the reader does not support. */
const char *tp_capread_linktype_name(int linktype);

#endif
