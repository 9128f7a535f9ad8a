/* TURN ChannelData encoding and decoding (RFC 8656 §12.4, §12.5). */
#include "sl_chan.h"

#include <string.h>

#include "sl_err.h"
#include "sl_rd.h"

int sl_chan_decode(struct sl_chan *c, const uint8_t *buf, size_t len, bool stream)
{
    struct sl_rd rd;
    sl_rd_init(&rd, buf, len);
    c->channel = sl_rd_u16(&rd);
    c->len = sl_rd_u16(&rd);
    if (rd.err)
        return SL_ETRUNC;
    /* RFC 8656 §12: channel numbers 0x4000 through 0x4FFF; 0x5000-0x7FFF are reserved. */
    if (!sl_chan_valid(c->channel))
        return SL_EBADCHAN;
    c->data = sl_rd_bytes(&rd, c->len);
    if (rd.err)
        return SL_ETRUNC;
    if (stream) {
        /* §12.5: "Over TCP and TLS-over-TCP, the ChannelData message MUST be padded to a
         * multiple of four bytes". */
        size_t pad = SL_PAD4(c->len);
        sl_rd_skip(&rd, pad);
        if (rd.err)
            return SL_ETRUNC;
        c->total = 4 + (size_t)c->len + pad;
        return SL_OK;
    }
    /* Over UDP the padding is optional and nothing else may follow. */
    if (sl_rd_left(&rd) > 3)
        return SL_EBADLEN;
    c->total = len;
    return SL_OK;
}

int sl_chan_encode(uint8_t *buf, size_t cap, uint16_t channel, const uint8_t *data, size_t len,
                   bool stream, size_t *out_len)
{
    if (!sl_chan_valid(channel) || len > 0xFFFF)
        return SL_EINVAL;
    struct sl_wr w;
    sl_wr_init(&w, buf, cap);
    sl_wr_u16(&w, channel);
    sl_wr_u16(&w, (uint16_t)len);
    sl_wr_bytes(&w, data, len);
    if (stream)
        sl_wr_fill(&w, 0, SL_PAD4(len));
    if (w.err)
        return SL_ENOSPACE;
    *out_len = w.len;
    return SL_OK;
}
