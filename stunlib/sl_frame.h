/* Splits a TCP/TLS byte stream into STUN messages and ChannelData records (RFC 8656 §12.5). */
#ifndef SL_FRAME_H
#define SL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define SL_FRAME_CAP (20 + 65532) /* the largest STUN message; ChannelData tops at 65540 */

enum sl_frame_kind { SL_FRAME_STUN = 1, SL_FRAME_CHANNEL = 2 };

struct sl_frame {
    enum sl_frame_kind kind;
    const uint8_t *p; /* valid until the next sl_framer_feed */
    size_t len;       /* the record without stream padding */
    size_t wire_len;  /* with padding */
};

struct sl_framer {
    uint8_t buf[SL_FRAME_CAP];
    size_t start, end;
    size_t max_stun; /* refuse STUN messages longer than this (header included) */
    int err;         /* sticky: once the stream desynchronises it stays so */
    uint64_t consumed; /* stream offset of buf[start] */
};

/* max_stun 0 means the protocol's own limit (20 + 65532). */
void sl_framer_init(struct sl_framer *f, size_t max_stun);
/* Copies in as many bytes as fit; returns how many. Call sl_framer_next until SL_EAGAIN, then
 * feed the rest. */
size_t sl_framer_feed(struct sl_framer *f, const uint8_t *p, size_t n);
/* SL_OK with the next record, SL_EAGAIN when more bytes are needed, SL_EFRAME when the bytes at
 * the head are neither STUN nor ChannelData (sticky). */
int sl_framer_next(struct sl_framer *f, struct sl_frame *out);
/* Bytes buffered and not yet returned. */
size_t sl_framer_pending(const struct sl_framer *f);

#endif
