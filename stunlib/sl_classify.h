/* What a datagram or stream record holds: STUN, classic STUN, ChannelData, or something else
 * (RFC 7983 demultiplexing, made stricter so captures on any port can be searched). */
#ifndef SL_CLASSIFY_H
#define SL_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

enum sl_kind {
    SL_KIND_OTHER = 0,
    SL_KIND_STUN,
    SL_KIND_STUN_CLASSIC,
    SL_KIND_CHANNELDATA,
    SL_KIND_DTLS,
    SL_KIND_TLS,
    SL_KIND_RTP,
    SL_KIND_RTCP,
    SL_KIND_ZRTP,
};

/* Classifies one UDP payload. A STUN verdict means the header, the attribute layout and a
 * FINGERPRINT (when present) all check out. */
enum sl_kind sl_classify(const uint8_t *p, size_t len);
const char *sl_kind_name(enum sl_kind k);

#endif
