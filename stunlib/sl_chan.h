/* TURN ChannelData messages (RFC 8656 §12.4): a 4-byte header and application data. */
#ifndef SL_CHAN_H
#define SL_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_CHAN_MIN 0x4000
#define SL_CHAN_MAX 0x4FFF

struct sl_chan {
    uint16_t channel;
    uint16_t len;        /* application data length */
    const uint8_t *data; /* a view into the caller's buffer */
    size_t total;        /* bytes the record occupies, padding included on streams */
};

static inline bool sl_chan_valid(uint16_t ch)
{
    return ch >= SL_CHAN_MIN && ch <= SL_CHAN_MAX;
}

/* stream: over TCP/TLS the record is padded to a multiple of 4 and buf may hold more after it;
 * over UDP the datagram holds exactly one record (padding allowed, not required). */
int sl_chan_decode(struct sl_chan *c, const uint8_t *buf, size_t len, bool stream);
int sl_chan_encode(uint8_t *buf, size_t cap, uint16_t channel, const uint8_t *data, size_t len,
                   bool stream, size_t *out_len);

#endif
