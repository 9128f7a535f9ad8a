/* Stream framing for TURN over TCP/TLS: STUN messages and ChannelData records, back to back. */
#include "sl_frame.h"

#include <string.h>

#include "sl_chan.h"
#include "sl_err.h"
#include "sl_msg.h"
#include "sl_rd.h"

void sl_framer_init(struct sl_framer *f, size_t max_stun)
{
    f->start = f->end = 0;
    f->max_stun = (max_stun == 0 || max_stun > SL_HDR_LEN + 65532) ? SL_HDR_LEN + 65532 : max_stun;
    f->err = SL_OK;
    f->consumed = 0;
}

size_t sl_framer_pending(const struct sl_framer *f)
{
    return f->end - f->start;
}

size_t sl_framer_feed(struct sl_framer *f, const uint8_t *p, size_t n)
{
    if (f->err)
        return 0;
    /* Compact only when the tail has no room: records are usually consumed whole. */
    if (f->start > 0 && (f->end == f->start || SL_FRAME_CAP - f->end < n)) {
        memmove(f->buf, f->buf + f->start, f->end - f->start);
        f->end -= f->start;
        f->start = 0;
    }
    size_t room = SL_FRAME_CAP - f->end;
    size_t take = n < room ? n : room;
    if (take)
        memcpy(f->buf + f->end, p, take);
    f->end += take;
    return take;
}

/* HTTP where TURN was expected (a web server or proxy on 443, a GET from a scanner): "GET ",
 * "HEAD", "HTTP/1.1" and the like read as ChannelData on a valid channel (0x4745 for "GE")
 * with a length of 16-21 KB, and the framer would wait for it instead of giving up. A real
 * ChannelData record would need both that channel and exactly that length. */
static bool looks_like_http(const uint8_t *p)
{
    static const char *const tokens[] = {"GET ", "HEAD", "HTTP", "OPTI", "CONN", "DELE"};
    for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
        if (memcmp(p, tokens[i], 4) == 0)
            return true;
    return false;
}

int sl_framer_next(struct sl_framer *f, struct sl_frame *out)
{
    if (f->err)
        return f->err;
    size_t avail = f->end - f->start;
    const uint8_t *p = f->buf + f->start;
    if (avail < 4)
        return SL_EAGAIN;

    size_t len, wire;
    uint8_t top = p[0] >> 6;
    if (top == 0) {
        /* STUN: the length is known after 4 bytes, but a wrong cookie should desynchronise
         * before we wait for a huge body, so look at it as soon as it is there. */
        uint16_t body = sl_get_u16(p + 2);
        if (body % 4 != 0 || SL_HDR_LEN + (size_t)body > f->max_stun) {
            f->err = SL_EFRAME;
            return f->err;
        }
        /* Compare as much of the cookie as has arrived: a 7-byte TLS alert (15 03 03 00 02 ..)
         * must desynchronise too, not wait for an eighth byte that never comes. */
        static const uint8_t cookie[4] = {0x21, 0x12, 0xA4, 0x42};
        size_t have = avail - 4 < 4 ? avail - 4 : 4;
        if (memcmp(p + 4, cookie, have) != 0) {
            f->err = SL_EFRAME;
            return f->err;
        }
        len = wire = SL_HDR_LEN + body;
        out->kind = SL_FRAME_STUN;
    } else if (top == 1) {
        uint16_t ch = sl_get_u16(p);
        if (!sl_chan_valid(ch) || looks_like_http(p)) {
            f->err = SL_EFRAME;
            return f->err;
        }
        len = 4 + (size_t)sl_get_u16(p + 2);
        wire = len + SL_PAD4(len);
        out->kind = SL_FRAME_CHANNEL;
    } else {
        /* TLS, HTTP or anything else where TURN was expected. */
        f->err = SL_EFRAME;
        return f->err;
    }
    if (avail < wire)
        return SL_EAGAIN;
    out->p = p;
    out->len = len;
    out->wire_len = wire;
    f->start += wire;
    f->consumed += wire;
    return SL_OK;
}
