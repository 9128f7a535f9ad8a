/* Unit tests of TURN ChannelData encoding and decoding, over UDP and over streams. */
#include <glib.h>
#include <string.h>

#include "sl_chan.h"
#include "sl_err.h"
#include "sl_rd.h"
#include "tp_testutil.h"

#define assert_err(got, want) g_assert_cmpstr(sl_strerror(got), ==, sl_strerror(want))

static void test_valid_range(void)
{
    g_assert_false(sl_chan_valid(0x0000));
    g_assert_false(sl_chan_valid(0x3FFF));
    g_assert_true(sl_chan_valid(0x4000));
    g_assert_true(sl_chan_valid(0x4FFF));
    g_assert_false(sl_chan_valid(0x5000)); /* reserved by RFC 8656 */
    g_assert_false(sl_chan_valid(0x7FFF));
    g_assert_false(sl_chan_valid(0xFFFF));
}

static void roundtrip(size_t n, bool stream)
{
    uint8_t *data = g_malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)(i * 7 + 1);
    size_t cap = 4 + n + 3, len = 0;
    uint8_t *buf = g_malloc(cap);
    uint16_t ch = (uint16_t)(0x4000 + (n & 0xFFF));
    assert_err(sl_chan_encode(buf, cap, ch, data, n, stream, &len), SL_OK);
    g_assert_cmpuint(len, ==, stream ? 4 + n + SL_PAD4(n) : 4 + n);
    g_assert_cmphex(buf[0] << 8 | buf[1], ==, ch);
    g_assert_cmpuint((size_t)(buf[2] << 8 | buf[3]), ==, n);
    for (size_t i = 4 + n; i < len; i++)
        g_assert_cmphex(buf[i], ==, 0); /* stream padding is zeros */

    uint8_t *exact = tp_dup(buf, len);
    struct sl_chan c;
    assert_err(sl_chan_decode(&c, exact, len, stream), SL_OK);
    g_assert_cmphex(c.channel, ==, ch);
    g_assert_cmpuint(c.len, ==, n);
    g_assert_true(c.data == exact + 4);
    g_assert_cmpmem(c.data, c.len, data, n);
    g_assert_cmpuint(c.total, ==, len);

    /* One byte short is truncation, on either transport, except that over UDP the padding is
     * optional and dropping a padding byte is fine. */
    uint8_t *shorter = tp_dup(buf, len - 1);
    int rc = sl_chan_decode(&c, shorter, len - 1, stream);
    assert_err(rc, (!stream && len - 1 >= 4 + n) ? SL_OK : SL_ETRUNC);
    g_free(shorter);
    g_free(exact);
    g_free(buf);
    g_free(data);
}

static void test_roundtrip(void)
{
    for (size_t n = 0; n <= 9; n++) {
        roundtrip(n, false);
        roundtrip(n, true);
    }
    roundtrip(1500, true);
    roundtrip(65535, false);
    roundtrip(65535, true);
}

static void test_encode_errors(void)
{
    uint8_t buf[16], data[16] = {0};
    size_t len = 99;
    assert_err(sl_chan_encode(buf, sizeof(buf), 0x3FFF, data, 1, false, &len), SL_EINVAL);
    assert_err(sl_chan_encode(buf, sizeof(buf), 0x5000, data, 1, false, &len), SL_EINVAL);
    assert_err(sl_chan_encode(buf, sizeof(buf), 0x4000, data, 65536, false, &len), SL_EINVAL);
    /* 4 + 5 + 3 padding = 12 fits in 12; 11 is one short. */
    assert_err(sl_chan_encode(buf, 11, 0x4000, data, 5, true, &len), SL_ENOSPACE);
    g_assert_cmpuint(len, ==, 99);
    assert_err(sl_chan_encode(buf, 12, 0x4000, data, 5, true, &len), SL_OK);
    g_assert_cmpuint(len, ==, 12);
    assert_err(sl_chan_encode(buf, 9, 0x4000, data, 5, false, &len), SL_OK);
    g_assert_cmpuint(len, ==, 9);
}

/* On a stream a record is followed by the next; total says where that one starts. */
static void test_stream_followed(void)
{
    GByteArray *b = tp_hex("4001 0003 aabbcc 00  4002 0000  0001");
    struct sl_chan c;
    assert_err(sl_chan_decode(&c, b->data, b->len, true), SL_OK);
    g_assert_cmpuint(c.total, ==, 8);
    assert_err(sl_chan_decode(&c, b->data + 8, b->len - 8, true), SL_OK);
    g_assert_cmphex(c.channel, ==, 0x4002);
    g_assert_cmpuint(c.len, ==, 0);
    g_assert_cmpuint(c.total, ==, 4);
    /* The same bytes as one UDP datagram hold too much after the first record. */
    assert_err(sl_chan_decode(&c, b->data, b->len, false), SL_EBADLEN);
    g_byte_array_unref(b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sl_chan/valid-range", test_valid_range);
    g_test_add_func("/sl_chan/roundtrip", test_roundtrip);
    g_test_add_func("/sl_chan/encode-errors", test_encode_errors);
    g_test_add_func("/sl_chan/stream-followed", test_stream_followed);
    return g_test_run();
}
