/* The annotated pcapng writer: a streaming block writer, and the model's packets as a capture. */
#ifndef RPT_PCAPNG_H
#define RPT_PCAPNG_H

#include <glib.h>

#include "rpt_model.h"

/* Link types (tcpdump.org LINKTYPE_*) the callers use. RAW carries IPv4 and IPv6 alike. */
#define RPT_LINKTYPE_ETHERNET 1
#define RPT_LINKTYPE_RAW      101

/* The pcapng Decryption Secrets Block's type for an NSS key log ("TLSK"). */
#define RPT_PCAPNG_SECRETS_TLS_KEYLOG 0x544c534bu

/* The frame rpt_pcapng_write builds never exceed one IP packet's maximum. */
#define RPT_PCAPNG_SNAPLEN 65535u

/* epb_flags direction bits (pcapng "Enhanced Packet Block Flags Word", bits 0-1). */
enum rpt_pcapng_dir { RPT_PCAPNG_DIR_UNKNOWN = 0, RPT_PCAPNG_DIR_IN = 1, RPT_PCAPNG_DIR_OUT = 2 };

/* The comment of one packet, built only from the model's strings (never by formatting an
 * address), so that redaction applied to the model carries through:
 *
 *   [<step> ]#<n> <arrow> <summary>[: <note>][ [<verdict>]]
 *
 * arrow is "->" for a packet we sent and "<-" for one we received; summary falls back to the
 * kind's name ("tcp-syn"); the verdict is shown unless it is absent or "ok", so only packets
 * that prove a problem carry a bracket. Control characters become spaces (one line per packet)
 * and invalid UTF-8 is repaired. Free with g_free. */
char *rpt_pcapng_comment(const struct rpt_result *r, const struct rpt_packet *p);

/* The Section Header Block comment that summarises a run: the command, each session's target
 * and verdict, and its findings. Free with g_free. */
char *rpt_pcapng_run_comment(const struct rpt_result *r);

/* Writes r->packets as an annotated pcapng (LINKTYPE_RAW frames rebuilt from the model: real
 * 5-tuples, timestamps, valid checksums, consistent TCP sequence numbers, ICMP errors quoting
 * the packet they are about), with r->keylog as a Decryption Secrets Block before the packets.
 * Atomic: a temporary file in the same directory, fsync, rename. FALSE with *err on failure;
 * the destination is then untouched. */
gboolean rpt_pcapng_write(const struct rpt_result *r, const char *path, GError **err);

/* The streaming writer (analyze copies a customer's frames through it, live capture writes the
 * frames libpcap gave). Errors are sticky: after the first failure every call returns FALSE
 * (or -1) and does nothing, and rpt_pcapng_close reports that first error. */
struct rpt_pcapng;

/* Creates the temporary file beside path and writes the Section Header Block (shb_userappl
 * "turnprobe", shb_os from uname, shb_comment when not NULL). NULL with *err on failure. */
struct rpt_pcapng *rpt_pcapng_open(const char *path, const char *shb_comment, GError **err);
/* The same with the shb_userappl string given ("turnprobe 0.1.0"). */
struct rpt_pcapng *rpt_pcapng_open_full(const char *path, const char *shb_comment,
                                        const char *userappl, GError **err);
/* An Interface Description Block; returns its interface id (0, 1, ...) or -1. snaplen 0 means
 * no limit. name may be NULL. Timestamps are in microseconds (the default if_tsresol).
 * Wireshark reads interfaces of different link types or snaplens in one file; libpcap
 * (tcpdump) does not. */
int rpt_pcapng_add_interface(struct rpt_pcapng *w, int linktype, guint32 snaplen, const char *name);
/* A Decryption Secrets Block with an NSS key log; it must come before the packets it decrypts.
 * The file is made private to its owner (mode 0600) since it now holds TLS secrets. NULL or ""
 * writes nothing and returns TRUE. */
gboolean rpt_pcapng_add_secrets(struct rpt_pcapng *w, const char *nss_keylog);
/* An Enhanced Packet Block; comment may be NULL. caplen is clamped to the interface's snaplen
 * (origlen keeps the length on the wire). */
gboolean rpt_pcapng_add_packet(struct rpt_pcapng *w, int iface, gint64 t_us, const guint8 *frame,
                               guint32 caplen, guint32 origlen, const char *comment);
/* The same with the direction flags (epb_flags) set. */
gboolean rpt_pcapng_add_packet_dir(struct rpt_pcapng *w, int iface, gint64 t_us,
                                   const guint8 *frame, guint32 caplen, guint32 origlen,
                                   const char *comment, enum rpt_pcapng_dir dir);
/* Flushes, fsyncs and renames the file into place, then frees w (also on failure, after
 * deleting the temporary file). */
gboolean rpt_pcapng_close(struct rpt_pcapng *w, GError **err);
/* Deletes the temporary file and frees w. NULL-safe. */
void rpt_pcapng_abort(struct rpt_pcapng *w);

/* Frame building blocks the live capture shares: the ones' complement sum of RFC 1071 over
 * big-endian 16-bit words, its folding into a checksum, and an address as the 16 bytes of an
 * IPv6 header (IPv4 as ::ffff:a.b.c.d, as a dual-stack socket sees it). */
guint64 rpt_csum_add(guint64 sum, const guint8 *p, size_t n);
guint16 rpt_csum_fold(guint64 sum);
void rpt_ip6_bytes(const struct sl_addr *a, guint8 out[16]);
/* Writes an IPv4 (20-byte) or IPv6 (40-byte) header for l4len bytes of transport above it,
 * and returns the pseudo-header sum the transport checksum starts from. ident and frag are
 * IPv4's identification and flags/fragment-offset fields. */
guint64 rpt_ip_header(guint8 *buf, gboolean v4, const struct sl_addr *src,
                      const struct sl_addr *dst, guint8 proto, size_t l4len, guint16 ident,
                      guint16 frag);

#endif
