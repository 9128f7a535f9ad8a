/* Bounds-checked big-endian cursors over caller buffers: every wire read and write goes through one. */
#ifndef SL_RD_H
#define SL_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SL_PAD4(n) ((4u - ((size_t)(n) & 3u)) & 3u)

/* A reader whose error flag is sticky: after an overrun every read returns 0 and err stays set. */
struct sl_rd {
    const uint8_t *p;
    size_t len, off;
    bool err;
};

static inline void sl_rd_init(struct sl_rd *rd, const uint8_t *p, size_t len)
{
    rd->p = p;
    rd->len = len;
    rd->off = 0;
    rd->err = false;
}

static inline size_t sl_rd_left(const struct sl_rd *rd)
{
    return rd->err ? 0 : rd->len - rd->off;
}

static inline const uint8_t *sl_rd_bytes(struct sl_rd *rd, size_t n)
{
    if (rd->err || n > rd->len - rd->off) {
        rd->err = true;
        return NULL;
    }
    const uint8_t *q = rd->p + rd->off;
    rd->off += n;
    return q;
}

static inline void sl_rd_skip(struct sl_rd *rd, size_t n)
{
    (void)sl_rd_bytes(rd, n);
}

static inline uint8_t sl_rd_u8(struct sl_rd *rd)
{
    const uint8_t *q = sl_rd_bytes(rd, 1);
    return q ? q[0] : 0;
}

static inline uint16_t sl_rd_u16(struct sl_rd *rd)
{
    const uint8_t *q = sl_rd_bytes(rd, 2);
    return q ? (uint16_t)((q[0] << 8) | q[1]) : 0;
}

static inline uint32_t sl_rd_u32(struct sl_rd *rd)
{
    const uint8_t *q = sl_rd_bytes(rd, 4);
    return q ? ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) | ((uint32_t)q[2] << 8) | q[3] : 0;
}

static inline uint64_t sl_rd_u64(struct sl_rd *rd)
{
    uint64_t hi = sl_rd_u32(rd);
    return (hi << 32) | sl_rd_u32(rd);
}

/* Big-endian loads from a pointer the caller has already bounds-checked. */
static inline uint16_t sl_get_u16(const uint8_t *q)
{
    return (uint16_t)((q[0] << 8) | q[1]);
}

static inline uint32_t sl_get_u32(const uint8_t *q)
{
    return ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) | ((uint32_t)q[2] << 8) | q[3];
}

static inline void sl_put_u16(uint8_t *q, uint16_t v)
{
    q[0] = (uint8_t)(v >> 8);
    q[1] = (uint8_t)v;
}

static inline void sl_put_u32(uint8_t *q, uint32_t v)
{
    q[0] = (uint8_t)(v >> 24);
    q[1] = (uint8_t)(v >> 16);
    q[2] = (uint8_t)(v >> 8);
    q[3] = (uint8_t)v;
}

/* A writer with a sticky overflow flag: the caller checks err once, at the end. */
struct sl_wr {
    uint8_t *p;
    size_t cap, len;
    bool err;
};

static inline void sl_wr_init(struct sl_wr *w, uint8_t *p, size_t cap)
{
    w->p = p;
    w->cap = cap;
    w->len = 0;
    w->err = false;
}

static inline uint8_t *sl_wr_reserve(struct sl_wr *w, size_t n)
{
    if (w->err || n > w->cap - w->len) {
        w->err = true;
        return NULL;
    }
    uint8_t *q = w->p + w->len;
    w->len += n;
    return q;
}

static inline void sl_wr_bytes(struct sl_wr *w, const void *src, size_t n)
{
    uint8_t *q = sl_wr_reserve(w, n);
    if (q && n)
        memcpy(q, src, n);
}

static inline void sl_wr_fill(struct sl_wr *w, uint8_t byte, size_t n)
{
    uint8_t *q = sl_wr_reserve(w, n);
    if (q && n)
        memset(q, byte, n);
}

static inline void sl_wr_u8(struct sl_wr *w, uint8_t v)
{
    sl_wr_bytes(w, &v, 1);
}

static inline void sl_wr_u16(struct sl_wr *w, uint16_t v)
{
    uint8_t *q = sl_wr_reserve(w, 2);
    if (q)
        sl_put_u16(q, v);
}

static inline void sl_wr_u32(struct sl_wr *w, uint32_t v)
{
    uint8_t *q = sl_wr_reserve(w, 4);
    if (q)
        sl_put_u32(q, v);
}

static inline void sl_wr_u64(struct sl_wr *w, uint64_t v)
{
    sl_wr_u32(w, (uint32_t)(v >> 32));
    sl_wr_u32(w, (uint32_t)v);
}

#endif
