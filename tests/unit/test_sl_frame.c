/* Unit tests of the TCP/TLS stream framer: records in order under any split, and desync. */
#include <glib.h>
#include <string.h>

#include "sl_chan.h"
#include "sl_frame.h"
#include "sl_msg.h"
#include "sl_rd.h"
#include "tp_testutil.h"

#define assert_err(got, want) g_assert_cmpstr(sl_strerror(got), ==, sl_strerror(want))

/* A fixed seed: a failure must reproduce whatever seed GLib's test runner picked. */
#define SPLIT_SEED 0x5354554eu

struct record {
    enum sl_frame_kind kind;
    GByteArray *bytes; /* without stream padding */
    size_t wire_len;
};

struct stream {
    GArray *records; /* struct record */
    GByteArray *wire;
};

static void stream_add(struct stream *s, enum sl_frame_kind kind, const uint8_t *p, size_t len,
                       size_t wire_len)
{
    struct record r = {kind, g_byte_array_new(), wire_len};
    g_byte_array_append(r.bytes, p, (guint)len);
    g_array_append_val(s->records, r);
    g_byte_array_append(s->wire, p, (guint)wire_len);
}

static void stream_add_chan(struct stream *s, uint16_t ch, size_t n)
{
    uint8_t *data = g_malloc(n + 1), *buf = g_malloc(n + 8);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)(0xC0 ^ i);
    assert_err(sl_chan_encode(buf, n + 8, ch, data, n, true, &len), SL_OK);
    g_assert_cmpuint(len % 4, ==, 0);
    stream_add(s, SL_FRAME_CHANNEL, buf, 4 + n, len);
    g_free(data);
    g_free(buf);
}

/* Every valid vector, with ChannelData records of every padding between them, and optionally
 * the largest STUN message and the largest ChannelData record. */
static struct stream *stream_new(bool huge)
{
    struct stream *s = g_new0(struct stream, 1);
    s->records = g_array_new(FALSE, FALSE, sizeof(struct record));
    s->wire = g_byte_array_new();
    GPtrArray *vs = tp_vectors_load();
    size_t k = 0;
    for (guint i = 0; i < vs->len; i++) {
        const struct tp_vector *v = g_ptr_array_index(vs, i);
        if (!tp_vector_valid(v))
            continue;
        stream_add(s, SL_FRAME_STUN, v->bytes->data, v->bytes->len, v->bytes->len);
        stream_add_chan(s, (uint16_t)(0x4000 + k), k);
        stream_add_chan(s, (uint16_t)(0x4FFF - k), 17 * k + 1);
        k++;
    }
    g_ptr_array_unref(vs);
    stream_add_chan(s, 0x4123, 0);
    if (huge) {
        size_t cap = SL_HDR_LEN + 65532, len = 0;
        uint8_t *buf = g_malloc0(cap), *payload = g_malloc0(65528);
        static const uint8_t tid[SL_TID_LEN] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
        struct sl_enc e;
        sl_enc_init(&e, buf, cap, SL_SEND, SL_INDICATION, tid);
        sl_enc_attr(&e, SL_ATTR_DATA, payload, 65528);
        assert_err(sl_enc_finish(&e, &len), SL_OK);
        g_assert_cmpuint(len, ==, cap);
        stream_add(s, SL_FRAME_STUN, buf, len, len);
        stream_add_chan(s, 0x4fff, 65535);
        stream_add_chan(s, 0x4000, 3);
        stream_add(s, SL_FRAME_STUN, buf, len, len);
        g_free(payload);
        g_free(buf);
    }
    return s;
}

static void stream_free(struct stream *s)
{
    for (guint i = 0; i < s->records->len; i++)
        g_byte_array_unref(g_array_index(s->records, struct record, i).bytes);
    g_array_unref(s->records);
    g_byte_array_unref(s->wire);
    g_free(s);
}

/* Checks each record the framer gives against the expected list. */
struct checker {
    const struct stream *s;
    guint next;
};

static void check_record(struct checker *c, const struct sl_frame *fr)
{
    if (c->next >= c->s->records->len)
        g_error("the framer returned a record past the %u expected", c->s->records->len);
    const struct record *r = &g_array_index(c->s->records, struct record, c->next);
    if (fr->kind != r->kind || fr->len != r->bytes->len || fr->wire_len != r->wire_len)
        g_error("record %u: kind %d len %zu wire %zu, want kind %d len %u wire %zu", c->next,
                fr->kind, fr->len, fr->wire_len, r->kind, r->bytes->len, r->wire_len);
    g_assert_cmpmem(fr->p, fr->len, r->bytes->data, r->bytes->len);
    c->next++;
}

static size_t drain(struct sl_framer *f, struct checker *c)
{
    struct sl_frame fr;
    size_t n = 0;
    int rc;
    while ((rc = sl_framer_next(f, &fr)) == SL_OK) {
        check_record(c, &fr);
        n++;
    }
    assert_err(rc, SL_EAGAIN);
    g_assert_cmpuint(sl_framer_pending(f), <=, SL_FRAME_CAP);
    return n;
}

/* Feeds the stream in chunks whose sizes chunk() picks; returns the records seen. */
static void run_stream(const struct stream *s, size_t (*chunk)(GRand *r, size_t left), GRand *r)
{
    static struct sl_framer f;
    struct checker c = {s, 0};
    sl_framer_init(&f, 0);
    size_t pos = 0;
    while (pos < s->wire->len) {
        size_t n = chunk(r, s->wire->len - pos);
        size_t took = sl_framer_feed(&f, s->wire->data + pos, n);
        g_assert_cmpuint(took, <=, n);
        pos += took;
        size_t got = drain(&f, &c);
        /* No progress at all would mean the framer holds a full buffer without a record. */
        if (took == 0 && got == 0)
            g_error("stuck at stream offset %zu with %zu pending", pos, sl_framer_pending(&f));
    }
    drain(&f, &c);
    g_assert_cmpuint(c.next, ==, s->records->len);
    g_assert_cmpuint(sl_framer_pending(&f), ==, 0);
    g_assert_cmpuint(f.consumed, ==, s->wire->len);
}

static size_t chunk_one(GRand *r, size_t left)
{
    (void)r;
    (void)left;
    return 1;
}

static size_t chunk_small(GRand *r, size_t left)
{
    size_t n = (size_t)g_rand_int_range(r, 1, 64);
    return n < left ? n : left;
}

static size_t chunk_any(GRand *r, size_t left)
{
    /* Mostly small, sometimes everything that is left. */
    size_t n = g_rand_int_range(r, 0, 8) == 0 ? left : (size_t)g_rand_int_range(r, 1, 4000);
    return n < left ? n : left;
}

static void test_byte_by_byte(void)
{
    struct stream *s = stream_new(false);
    g_assert_cmpuint(s->records->len, >=, 16);
    run_stream(s, chunk_one, NULL);
    stream_free(s);
}

static void test_random_splits(void)
{
    struct stream *s = stream_new(false);
    GRand *r = g_rand_new_with_seed(SPLIT_SEED);
    for (int i = 0; i < 500; i++)
        run_stream(s, i % 2 ? chunk_small : chunk_any, r);
    g_rand_free(r);
    stream_free(s);
}

static void test_huge_records(void)
{
    struct stream *s = stream_new(true);
    GRand *r = g_rand_new_with_seed(SPLIT_SEED + 1);
    /* One byte at a time fills the buffer to its very end before it must compact. */
    run_stream(s, chunk_one, NULL);
    for (int i = 0; i < 40; i++)
        run_stream(s, i % 2 ? chunk_small : chunk_any, r);
    g_rand_free(r);
    stream_free(s);
}

/* Everything at once, several records per feed, as a TCP segment may carry them. */
static void test_one_feed(void)
{
    struct stream *s = stream_new(false);
    static struct sl_framer f;
    struct checker c = {s, 0};
    sl_framer_init(&f, 0);
    g_assert_cmpuint(s->wire->len, <, SL_FRAME_CAP);
    g_assert_cmpuint(sl_framer_feed(&f, s->wire->data, s->wire->len), ==, s->wire->len);
    g_assert_cmpuint(drain(&f, &c), ==, s->records->len);
    stream_free(s);
}

/* ---- desynchronised streams ---- */

struct desync_case {
    const char *name;
    const char *text; /* bytes as text, or NULL */
    const char *hex;  /* bytes as hex, or NULL */
    size_t need;      /* bytes by which the framer must have noticed */
};

static const struct desync_case desync_cases[] = {
    {"TLS ClientHello", NULL,
     "16030100f8 010000f4 0303 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
     8},
    {"TLS alert", NULL, "15030300020228", 7},
    {"HTTP request", "GET / HTTP/1.1\r\nHost: turn.example.org\r\n\r\n", NULL, 4},
    {"HTTP HEAD request", "HEAD / HTTP/1.1\r\n\r\n", NULL, 4},
    {"HTTP response", "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", NULL, 4},
    {"HTTP POST", "POST /turn HTTP/1.1\r\n\r\n", NULL, 4},
    {"STUN header with a wrong cookie", NULL, "0001 0000 2112a443 000000000000000000000000", 8},
    {"STUN length not a multiple of 4", NULL, "0001 0006 2112a442 000000000000000000000000", 4},
    {"ChannelData channel 0x5000", NULL, "5000 0004 01020304", 4},
    {"ChannelData channel 0x7fff", NULL, "7fff 0000", 4},
    {"SSH banner", "SSH-2.0-OpenSSH_9.2\r\n", NULL, 4},
    {"high bits set", NULL, "ffffffffffffffff", 4},
};

static void test_desync(gconstpointer data)
{
    const struct desync_case *d = data;
    GByteArray *bad = d->text ? g_byte_array_append(g_byte_array_new(), (const guint8 *)d->text,
                                                    (guint)strlen(d->text))
                              : tp_hex(d->hex);
    GPtrArray *vs = tp_vectors_load();
    const struct tp_vector *good = tp_vector_find(vs, "RFC5769_2.2");
    static struct sl_framer f;
    struct sl_frame fr;

    /* A good record first, then the bad bytes one at a time. */
    sl_framer_init(&f, 0);
    g_assert_cmpuint(sl_framer_feed(&f, good->bytes->data, good->bytes->len), ==, good->bytes->len);
    assert_err(sl_framer_next(&f, &fr), SL_OK);
    g_assert_cmpuint(fr.len, ==, good->bytes->len);
    int rc = SL_EAGAIN;
    size_t fed = 0;
    while (fed < bad->len && rc == SL_EAGAIN) {
        g_assert_cmpuint(sl_framer_feed(&f, bad->data + fed, 1), ==, 1);
        fed++;
        rc = sl_framer_next(&f, &fr);
    }
    if (rc != SL_EFRAME) {
        g_test_fail_printf("%s: %s after all %zu bytes", d->name, sl_strerror(rc), fed);
        goto out;
    }
    g_assert_cmpuint(fed, <=, d->need);
    g_assert_cmpuint(f.consumed, ==, good->bytes->len);

    /* Sticky: more bytes, even a good record, change nothing. */
    g_assert_cmpuint(sl_framer_feed(&f, good->bytes->data, good->bytes->len), ==, 0);
    assert_err(sl_framer_next(&f, &fr), SL_EFRAME);
    assert_err(sl_framer_next(&f, &fr), SL_EFRAME);
    g_assert_cmpuint(f.consumed, ==, good->bytes->len);

    /* All at once gives the same verdict. */
    sl_framer_init(&f, 0);
    g_assert_cmpuint(sl_framer_feed(&f, bad->data, bad->len), ==, bad->len);
    assert_err(sl_framer_next(&f, &fr), SL_EFRAME);
out:
    g_ptr_array_unref(vs);
    g_byte_array_unref(bad);
}

/* A peer that announces the largest STUN message and then trickles bytes forever: the framer
 * never holds more than its buffer, gives nothing before the whole message is there, and with
 * a tighter limit refuses at once instead of waiting for 64 KiB. */
static void test_endless_huge_header(void)
{
    static struct sl_framer f;
    static const uint8_t hdr[SL_HDR_LEN] = {0x00, 0x01, 0xff, 0xfc, 0x21, 0x12, 0xa4,
                                            0x42, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
                                            0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c};
    uint8_t chunk[4096];
    struct sl_frame fr;
    memset(chunk, 0, sizeof(chunk));

    sl_framer_init(&f, 1500);
    g_assert_cmpuint(sl_framer_feed(&f, hdr, 4), ==, 4);
    assert_err(sl_framer_next(&f, &fr), SL_EFRAME);
    for (int i = 0; i < 1000; i++)
        g_assert_cmpuint(sl_framer_feed(&f, chunk, sizeof(chunk)), ==, 0);
    g_assert_cmpuint(sl_framer_pending(&f), ==, 4);
    assert_err(sl_framer_next(&f, &fr), SL_EFRAME);

    /* The protocol's own limit: the header plus 65531 bytes is still not a message. */
    sl_framer_init(&f, 0);
    g_assert_cmpuint(sl_framer_feed(&f, hdr, sizeof(hdr)), ==, sizeof(hdr));
    size_t body = 0;
    while (body < 65531) {
        size_t n = 65531 - body < sizeof(chunk) ? 65531 - body : sizeof(chunk);
        g_assert_cmpuint(sl_framer_feed(&f, chunk, n), ==, n);
        body += n;
        assert_err(sl_framer_next(&f, &fr), SL_EAGAIN);
    }
    g_assert_cmpuint(sl_framer_pending(&f), ==, SL_FRAME_CAP - 1);
    /* The buffer takes exactly one more byte, and then the message is complete. */
    g_assert_cmpuint(sl_framer_feed(&f, chunk, sizeof(chunk)), ==, 1);
    assert_err(sl_framer_next(&f, &fr), SL_OK);
    g_assert_cmpuint(fr.len, ==, SL_FRAME_CAP);
    g_assert_cmpint(fr.kind, ==, SL_FRAME_STUN);

    /* Then the same header again and again, 8 MiB of it: whatever comes out, the buffer never
     * overflows and no record is longer than a STUN message. */
    size_t total = 0, records = 0;
    int rc = SL_EAGAIN;
    uint8_t pattern[20 * 200];
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = hdr[i % SL_HDR_LEN];
    while (total < (8u << 20) && rc != SL_EFRAME) {
        size_t took = sl_framer_feed(&f, pattern, sizeof(pattern));
        total += took;
        g_assert_cmpuint(sl_framer_pending(&f), <=, SL_FRAME_CAP);
        while ((rc = sl_framer_next(&f, &fr)) == SL_OK) {
            g_assert_cmpuint(fr.len, <=, SL_FRAME_CAP);
            records++;
        }
        if (took == 0 && rc == SL_EAGAIN)
            g_error("stuck with %zu bytes pending", sl_framer_pending(&f));
    }
    g_test_message("%zu bytes fed, %zu records, ends with %s", total, records, sl_strerror(rc));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sl_frame/byte-by-byte", test_byte_by_byte);
    g_test_add_func("/sl_frame/random-splits", test_random_splits);
    g_test_add_func("/sl_frame/huge-records", test_huge_records);
    g_test_add_func("/sl_frame/one-feed", test_one_feed);
    for (size_t i = 0; i < G_N_ELEMENTS(desync_cases); i++) {
        gchar *path = g_strdup_printf("/sl_frame/desync/%s", desync_cases[i].name);
        g_test_add_data_func(path, &desync_cases[i], test_desync);
        g_free(path);
    }
    g_test_add_func("/sl_frame/endless-huge-header", test_endless_huge_header);
    return g_test_run();
}
