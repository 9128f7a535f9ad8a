/* Fuzz target: analyze's capture reader and session builder. An input that starts with a pcap or
 * pcapng magic number is read as a capture file through libpcap; any other input is a list of
 * link-layer frames fed directly (byte 0 picks the link type, then each frame is a 16-bit
 * big-endian length and its bytes), so that mutations reach IP, UDP, TCP and STUN without first
 * having to keep a file format valid. Every record then goes through the sessions and the
 * judges, as `turnprobe analyze` does. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpt_model.h"
#include "tp_capread.h"
#include "tp_sessions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static const int linktypes[] = {1, 113, 276, 101, 12, 0, 108, 228, 229};

/* Records must point inside something readable and say what they claim. */
static void check_rec(const struct tp_rec *rec, void *ud)
{
    CHECK(rec->kind >= TP_REC_MSG && rec->kind <= TP_REC_GAP);
    CHECK(rec->frame >= 1);
    if (rec->p && rec->len) {
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < rec->len; i++)
            sum ^= rec->p[i];
        (void)sum;
    }
    CHECK(rec->kind != TP_REC_MSG || rec->p || rec->len == 0);
    tp_sessions_record(rec, ud);
}

static gboolean is_capture(const uint8_t *d, size_t n)
{
    static const uint8_t magics[][4] = {{0x0a, 0x0d, 0x0d, 0x0a}, {0xd4, 0xc3, 0xb2, 0xa1},
                                        {0xa1, 0xb2, 0xc3, 0xd4}, {0x4d, 0x3c, 0xb2, 0xa1},
                                        {0xa1, 0xb2, 0x3c, 0x4d}};
    for (size_t i = 0; n >= 4 && i < sizeof(magics) / sizeof(magics[0]); i++)
        if (memcmp(d, magics[i], 4) == 0)
            return TRUE;
    return FALSE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tp_sessions *ss = tp_sessions_new("fuzz");
    struct tp_capread *c = tp_capread_new(check_rec, ss);
    guint frames = 0;
    if (is_capture(data, size)) {
        if (tp_capread_open_mem(c, data, size, NULL)) {
            /* A damaged file stops the reading, as in analyze; the frames before still count. */
            while (tp_capread_next(c, NULL) == 1)
                frames++;
        }
    } else if (size > 0) {
        int lt = linktypes[data[0] % (sizeof(linktypes) / sizeof(linktypes[0]))];
        size_t off = 1;
        gint64 t = 1700000000LL * G_USEC_PER_SEC;
        while (off + 2 <= size) {
            size_t len = (size_t)data[off] << 8 | data[off + 1];
            off += 2;
            if (len > size - off)
                len = size - off;
            /* Each frame in its own allocation: a read past it is a read past the heap block. */
            uint8_t *frame = malloc(len ? len : 1);
            CHECK(frame);
            memcpy(frame, data + off, len);
            tp_capread_feed(c, lt, t, frame, len);
            free(frame);
            off += len;
            t += 20000; /* 20 ms apart: transactions can complete and time out */
            frames++;
        }
    }
    tp_capread_flush(c);
    CHECK(tp_capread_frame_number(c) == frames);
    struct rpt_result *r = rpt_result_new("analyze", "fuzz");
    tp_sessions_finish(ss, r, 1700000000LL * G_USEC_PER_SEC + (gint64)frames * 20000 + 1);
    /* The model the writers read: packets in frame order, numbered by frame, in a session. */
    guint last = 0;
    for (guint i = 0; i < r->packets->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        CHECK(p->n >= last && p->n >= 1 && p->n <= frames);
        CHECK(p->session < r->sessions->len);
        last = p->n;
    }
    for (guint i = 0; i < r->sessions->len; i++) {
        const struct rpt_session *s = g_ptr_array_index(r->sessions, i);
        for (guint k = 0; k < s->txns->len; k++) {
            const struct rpt_txn *t = g_ptr_array_index(s->txns, k);
            CHECK(t->req_pkts->len >= 1);
            CHECK(t->step != NULL);
        }
    }
    rpt_result_free(r);
    tp_capread_free(c);
    tp_sessions_free(ss);
    return 0;
}
