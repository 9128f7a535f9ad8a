/* Fuzz target: a TCP/TLS byte stream through sl_framer in chunks whose sizes the input picks;
 * the records must not depend on how the stream was cut, and must be what they claim. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_auth.h"
#include "sl_chan.h"
#include "sl_frame.h"
#include "sl_msg.h"
#include "sl_rd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

/* Input layout: byte 0 picks the STUN size limit, bytes 1-8 are chunk sizes used in turn
 * (0 means 1, and 255 means "everything left"), the rest is the stream. */
#define HDR 9

struct summary {
    size_t records;
    uint32_t crc; /* over every record's kind, length and bytes, in order */
    int end;      /* SL_EAGAIN or SL_EFRAME */
    uint64_t consumed;
};

static void check_record(const struct sl_framer *f, const struct sl_frame *fr, size_t max_stun)
{
    CHECK(fr->p >= f->buf && fr->p + fr->wire_len <= f->buf + SL_FRAME_CAP);
    CHECK(fr->len <= fr->wire_len && fr->wire_len - fr->len < 4);
    if (fr->kind == SL_FRAME_STUN) {
        /* The framer checked the header's length and cookie; the decoder agrees with it. */
        CHECK(fr->len == fr->wire_len && fr->len >= SL_HDR_LEN && fr->len <= max_stun);
        CHECK(SL_HDR_LEN + (size_t)sl_get_u16(fr->p + 2) == fr->len);
        CHECK(sl_get_u32(fr->p + 4) == SL_MAGIC_COOKIE);
        struct sl_msg m;
        int rc = sl_msg_decode(&m, fr->p, fr->len, SL_DEC_LENIENT);
        CHECK(rc != SL_ETRUNC && rc != SL_EBADLEN && rc != SL_EBADCOOKIE && rc != SL_ENOTSTUN);
        if (rc == SL_OK && m.idx_fp >= 0)
            (void)sl_auth_check_fingerprint(&m);
    } else {
        CHECK(fr->kind == SL_FRAME_CHANNEL);
        CHECK(fr->wire_len % 4 == 0);
        struct sl_chan c;
        CHECK(sl_chan_decode(&c, fr->p, fr->wire_len, true) == SL_OK);
        CHECK(c.total == fr->wire_len && 4u + c.len == fr->len);
    }
}

static void run(const uint8_t *stream, size_t n, const uint8_t *sizes, size_t max_stun,
                struct summary *out)
{
    static struct sl_framer f;
    struct sl_frame fr;
    size_t pos = 0, turn = 0, limit = max_stun ? max_stun : SL_HDR_LEN + 65532;
    uint64_t wire = 0;
    int rc = SL_EAGAIN;
    sl_framer_init(&f, max_stun);
    memset(out, 0, sizeof(*out));
    out->crc = 0xFFFFFFFFu;
    while (rc != SL_EFRAME) {
        size_t want = sizes ? sizes[turn++ % 8] : n - pos;
        want = (want == 255 || !sizes) ? n - pos : want == 0 ? 1 : want;
        if (want > n - pos)
            want = n - pos;
        size_t took = sl_framer_feed(&f, stream + pos, want);
        CHECK(took <= want);
        pos += took;
        size_t got = 0;
        while ((rc = sl_framer_next(&f, &fr)) == SL_OK) {
            check_record(&f, &fr, limit);
            uint8_t meta[5] = {(uint8_t)fr.kind, (uint8_t)(fr.len >> 24), (uint8_t)(fr.len >> 16),
                               (uint8_t)(fr.len >> 8), (uint8_t)fr.len};
            out->crc ^= sl_crc32(meta, sizeof(meta)) + 0x9e3779b9u * (uint32_t)out->records;
            out->crc ^= sl_crc32(fr.p, fr.len);
            out->records++;
            wire += fr.wire_len;
            got++;
        }
        CHECK(rc == SL_EAGAIN || rc == SL_EFRAME);
        CHECK(sl_framer_pending(&f) <= SL_FRAME_CAP);
        CHECK(f.consumed == wire);
        if (pos == n)
            break;
        /* Neither room for more bytes nor a record: the framer would hang a connection. */
        CHECK(took > 0 || got > 0 || rc == SL_EFRAME);
    }
    if (rc == SL_EFRAME) {
        /* Sticky. */
        CHECK(sl_framer_next(&f, &fr) == SL_EFRAME);
        CHECK(sl_framer_feed(&f, stream, n) == 0);
    }
    out->end = rc;
    out->consumed = f.consumed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HDR)
        return 0;
    /* 0: the protocol's limit; otherwise a limit from 20 bytes to about 64 KiB. */
    size_t max_stun = data[0] == 0 ? 0 : (size_t)data[0] * 257u;
    const uint8_t *stream = data + HDR;
    size_t n = size - HDR;
    struct summary cut, whole, bytewise;
    static const uint8_t ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};

    run(stream, n, data + 1, max_stun, &cut);
    run(stream, n, NULL, max_stun, &whole);
    /* How the stream was cut changes nothing about what comes out. */
    CHECK(cut.records == whole.records && cut.crc == whole.crc && cut.end == whole.end);
    CHECK(cut.consumed == whole.consumed);
    if (n <= 4096) {
        run(stream, n, ones, max_stun, &bytewise);
        CHECK(bytewise.records == whole.records && bytewise.crc == whole.crc);
        CHECK(bytewise.end == whole.end);
    }
    return 0;
}
