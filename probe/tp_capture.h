/* Live capture for `turnprobe check --pcap`: libpcap on the route to the server while the check
 * runs, the probe's own packet log matched to the frames, and those frames written as the
 * annotated pcapng. */
#ifndef TP_CAPTURE_H
#define TP_CAPTURE_H

#include <glib.h>
#include <stdio.h>

#include "rpt_model.h"
#include "sl_uri.h"

/* Where --pcap's frames come from. AUTO: LIVE where libpcap may capture (root or CAP_NET_RAW),
 * else SELF. SELF: rebuilt from the packet log (rpt_pcapng_write). OFF: no file. */
enum tp_capture_mode { TP_CAPTURE_AUTO = 0, TP_CAPTURE_LIVE, TP_CAPTURE_SELF, TP_CAPTURE_OFF };

/* Bounds: the capture filter keeps to the servers' ports, but a busy server on the same host
 * could still fill memory; frames past these limits are counted, not kept. */
#define TP_CAPTURE_MAX_FRAMES 200000u
#define TP_CAPTURE_MAX_BYTES  (64u * 1024 * 1024)
#define TP_CAPTURE_SNAPLEN    262144
/* After the check, how long the last packets (the server's FIN, a late ICMP) may take. */
#define TP_CAPTURE_GRACE_US (200 * 1000)

/* "auto", "live", "self", "off"; NULL means auto. FALSE for anything else. */
gboolean tp_capture_mode_parse(const char *s, enum tp_capture_mode *out);

struct tp_capture;

/* Opens libpcap on the interface of the route to the servers the URIs name ("lo" for
 * loopback; "any" when they differ or a host name is still to be resolved), filtered to the
 * servers' addresses and ports, IP fragments and the ICMP errors that quote them, and reads it
 * on a thread of its own until tp_capture_stop. Returns once capturing has begun, so that
 * nothing the check sends afterwards is missed. NULL with *err (G_IO_ERROR_PERMISSION_DENIED
 * when the process may not capture) on failure. */
struct tp_capture *tp_capture_start(const struct sl_uri *uris, guint n, GError **err);

/* The frames of a capture file (pcap or pcapng, one link type) instead of a live interface,
 * ready for tp_capture_adopt: for tests, and for frames captured elsewhere while the check ran.
 * NULL with *err when libpcap cannot read it. */
struct tp_capture *tp_capture_load(const char *path, GError **err);

/* Lets the last packets arrive (TP_CAPTURE_GRACE_US), stops reading and closes libpcap.
 * Idempotent. */
void tp_capture_stop(struct tp_capture *c);

/* Matches the packets of r (the probe's own log) to the captured frames: UDP by 5-tuple,
 * direction and payload; TCP by stream offset (a segment may carry several records, a record
 * may end in a later segment: it belongs to the frame holding its last byte, where Wireshark
 * shows it); control segments and ICMP errors by kind, in order. Then rewrites r so that its
 * packets are the frames tp_capture_write will write, in that order, numbered as there
 * (transactions, steps and ICMP references follow): frames of our sockets that the log lacks
 * (pure ACKs, retransmissions, ICMP errors, fragments, what came after a socket closed) become
 * packets of their own, records that share a segment become one packet, and logged packets the
 * capture missed stay, to be written as rebuilt frames. Frames of other sockets (other clients
 * of a server on this host, libnice's agents) are left out. Call after tp_capture_stop and
 * before any report is written; call once. FALSE with *err, r untouched, when the capture saw
 * none of r's packets (another route, a port from SRV that the filter did not name): the self
 * capture is the better file then. */
gboolean tp_capture_adopt(struct tp_capture *c, struct rpt_result *r, GError **err);

/* Writes the pcapng: the captured frames as libpcap gave them (link type, checksums left to
 * the NIC, fragments), each commented from r's packet; the rebuilt ones on a second interface
 * "turnprobe"; the Section Header Block says what was tested, how the frames were captured,
 * whether the run was interrupted, and the Wireshark display filter. Atomic like
 * rpt_pcapng_write. */
gboolean tp_capture_write(const struct tp_capture *c, const struct rpt_result *r, const char *path,
                          gboolean interrupted, GError **err);

/* One line for people: "live on lo, 64 frames" (after tp_capture_adopt). */
char *tp_capture_describe(const struct tp_capture *c);

/* How to look at the file of r in Wireshark: one line per session, "tshark -r PATH [-d
 * udp.port==N,stun] -Y 'FILTER'" (decode-as when the port is not STUN's 3478), the filter
 * keeping to the session's server address and port. Free with g_free. */
char *tp_capture_howto(const struct rpt_result *r, const char *path);

/* For the text report: "Capture: PATH (how it was made)" and the tshark lines of
 * tp_capture_howto. c NULL: the file was rebuilt from the log (--capture self). */
void tp_capture_print_hint(FILE *out, const struct tp_capture *c, const struct rpt_result *r,
                           const char *path);

/* Stops if needed and frees. NULL-safe. */
void tp_capture_free(struct tp_capture *c);

#endif
