/* Unit tests of the I/O-free STUN client transaction, driven by a fake clock. */
#include <glib.h>

#include "sl_txn.h"

#define MS 1000u

/* Runs a transaction from start_us to its end, answering each question at the time it asks
 * for; returns the send times and the end (relative to the start, in microseconds). */
static enum sl_txn_action run(const struct sl_txn_cfg *cfg, uint64_t start_us,
                              uint64_t complete_at_us, GArray *sends, uint64_t *end_us)
{
    struct sl_txn t;
    uint64_t now = start_us, wake = 0;
    sl_txn_start(&t, cfg, start_us);
    for (int steps = 0; steps < 1000; steps++) {
        if (now - start_us >= complete_at_us)
            sl_txn_complete(&t);
        enum sl_txn_action a = sl_txn_next(&t, now, &wake);
        switch (a) {
        case SL_TXN_SEND: {
            uint64_t rel = now - start_us;
            g_array_append_val(sends, rel);
            g_assert_cmpuint(wake, >, now);
            /* Asked again at once, it says to wait for the same moment. */
            uint64_t wake2 = 0;
            g_assert_cmpint(sl_txn_next(&t, now, &wake2), ==, SL_TXN_WAIT);
            g_assert_cmpuint(wake2, ==, wake);
            /* Half-way there it still waits. */
            g_assert_cmpint(sl_txn_next(&t, now + (wake - now) / 2, &wake2), ==, SL_TXN_WAIT);
            g_assert_cmpuint(wake2, ==, wake);
            break;
        }
        case SL_TXN_WAIT:
            g_assert_cmpuint(wake, >, now);
            now = complete_at_us != G_MAXUINT64 && wake - start_us > complete_at_us
                      ? start_us + complete_at_us
                      : wake;
            break;
        case SL_TXN_TIMEOUT:
        case SL_TXN_DONE:
            *end_us = now - start_us;
            /* The outcome does not change however often or late one asks. */
            g_assert_cmpint(sl_txn_next(&t, now + 3600000000u, &wake), ==, a);
            return a;
        }
    }
    g_error("the transaction never ended");
    return SL_TXN_TIMEOUT;
}

static void assert_sends(GArray *sends, const uint64_t *want_ms, size_t n)
{
    g_assert_cmpuint(sends->len, ==, n);
    for (size_t i = 0; i < n; i++)
        g_assert_cmpuint(g_array_index(sends, uint64_t, i), ==, want_ms[i] * MS);
}

static void test_udp_defaults(void)
{
    struct sl_txn_cfg cfg;
    sl_txn_cfg_default(&cfg, false);
    g_assert_cmpuint(cfg.rto_ms, ==, 500);
    g_assert_cmpuint(cfg.rc, ==, 7);
    g_assert_cmpuint(cfg.rm, ==, 16);
    g_assert_false(cfg.reliable);
    /* RFC 8489 §6.2.1: "a request sent at time 0 is retransmitted at 500 ms, 1500 ms, 3500 ms,
     * 7500 ms, 15500 ms, and 31500 ms. If the client has not received a response after
     * 39500 ms, the client will consider the transaction to have timed out." */
    static const uint64_t want[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
    for (int k = 0; k < 2; k++) {
        uint64_t start = k ? G_GUINT64_CONSTANT(1700000000000000) : 0, end = 0;
        GArray *sends = g_array_new(FALSE, FALSE, sizeof(uint64_t));
        g_assert_cmpint(run(&cfg, start, G_MAXUINT64, sends, &end), ==, SL_TXN_TIMEOUT);
        assert_sends(sends, want, G_N_ELEMENTS(want));
        g_assert_cmpuint(end, ==, 39500 * MS);
        g_array_unref(sends);
    }
    g_assert_cmpuint(sl_txn_total_us(&cfg), ==, 39500 * MS);
}

static void test_reliable_defaults(void)
{
    struct sl_txn_cfg cfg;
    uint64_t end = 0;
    sl_txn_cfg_default(&cfg, true);
    g_assert_true(cfg.reliable);
    g_assert_cmpuint(cfg.ti_ms, ==, 39500);
    GArray *sends = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    static const uint64_t want[] = {0};
    g_assert_cmpint(run(&cfg, 5, G_MAXUINT64, sends, &end), ==, SL_TXN_TIMEOUT);
    assert_sends(sends, want, 1);
    g_assert_cmpuint(end, ==, 39500 * MS);
    g_assert_cmpuint(sl_txn_total_us(&cfg), ==, 39500 * MS);
    g_array_unref(sends);
}

static void test_completion(void)
{
    struct sl_txn_cfg cfg;
    uint64_t end = 0;
    sl_txn_cfg_default(&cfg, false);
    /* A response 2 s in: three transmissions (0, 0.5, 1.5 s), then DONE at 2 s. */
    GArray *sends = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    static const uint64_t want[] = {0, 500, 1500};
    g_assert_cmpint(run(&cfg, 0, 2000 * MS, sends, &end), ==, SL_TXN_DONE);
    assert_sends(sends, want, G_N_ELEMENTS(want));
    g_assert_cmpuint(end, ==, 2000 * MS);
    g_array_unref(sends);

    /* Completion at the very start, and after the deadline has passed but before anyone asked:
     * the response counts, it is not turned into a timeout. */
    struct sl_txn t;
    uint64_t wake = 0;
    sl_txn_start(&t, &cfg, 0);
    sl_txn_complete(&t);
    g_assert_cmpint(sl_txn_next(&t, 0, &wake), ==, SL_TXN_DONE);
    sl_txn_start(&t, &cfg, 0);
    g_assert_cmpint(sl_txn_next(&t, 0, &wake), ==, SL_TXN_SEND);
    sl_txn_complete(&t);
    g_assert_cmpint(sl_txn_next(&t, 100000 * MS, &wake), ==, SL_TXN_DONE);

    sl_txn_cfg_default(&cfg, true);
    sl_txn_start(&t, &cfg, 0);
    g_assert_cmpint(sl_txn_next(&t, 0, &wake), ==, SL_TXN_SEND);
    g_assert_cmpuint(wake, ==, 39500 * MS);
    sl_txn_complete(&t);
    g_assert_cmpint(sl_txn_next(&t, 39500 * MS, &wake), ==, SL_TXN_DONE);
}

static void test_custom(void)
{
    struct sl_txn_cfg cfg = {.rto_ms = 100, .rc = 3, .rm = 4, .ti_ms = 5000, .reliable = false};
    uint64_t end = 0;
    GArray *sends = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    /* 0, RTO, 3 RTO; then Rm * RTO after the last: 300 + 400. */
    static const uint64_t want[] = {0, 100, 300};
    g_assert_cmpint(run(&cfg, 42, G_MAXUINT64, sends, &end), ==, SL_TXN_TIMEOUT);
    assert_sends(sends, want, G_N_ELEMENTS(want));
    g_assert_cmpuint(end, ==, 700 * MS);
    g_assert_cmpuint(sl_txn_total_us(&cfg), ==, 700 * MS);
    g_array_unref(sends);

    /* A single transmission waits Rm * RTO. */
    cfg = (struct sl_txn_cfg){.rto_ms = 250, .rc = 1, .rm = 8, .ti_ms = 0, .reliable = false};
    sends = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    static const uint64_t once[] = {0};
    g_assert_cmpint(run(&cfg, 0, G_MAXUINT64, sends, &end), ==, SL_TXN_TIMEOUT);
    assert_sends(sends, once, 1);
    g_assert_cmpuint(end, ==, 2000 * MS);
    g_assert_cmpuint(sl_txn_total_us(&cfg), ==, 2000 * MS);
    g_array_unref(sends);

    /* Reliable with its own Ti. */
    cfg = (struct sl_txn_cfg){.rto_ms = 500, .rc = 7, .rm = 16, .ti_ms = 5000, .reliable = true};
    sends = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    g_assert_cmpint(run(&cfg, 0, G_MAXUINT64, sends, &end), ==, SL_TXN_TIMEOUT);
    assert_sends(sends, once, 1);
    g_assert_cmpuint(end, ==, 5000 * MS);
    g_assert_cmpuint(sl_txn_total_us(&cfg), ==, 5000 * MS);
    g_array_unref(sends);

    /* RTO 1 s, Rc 9: 0,1,3,7,15,31,63,127,255 s, then 16 s: a schedule that does not fit the
     * 32-bit millisecond RTO after doubling would show here. */
    cfg = (struct sl_txn_cfg){.rto_ms = 1000, .rc = 9, .rm = 16, .ti_ms = 0, .reliable = false};
    sends = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    static const uint64_t nine[] = {0, 1000, 3000, 7000, 15000, 31000, 63000, 127000, 255000};
    g_assert_cmpint(run(&cfg, 0, G_MAXUINT64, sends, &end), ==, SL_TXN_TIMEOUT);
    assert_sends(sends, nine, G_N_ELEMENTS(nine));
    g_assert_cmpuint(end, ==, 271000 * MS);
    g_assert_cmpuint(sl_txn_total_us(&cfg), ==, 271000 * MS);
    g_array_unref(sends);
}

/* A caller who wakes late sends late but keeps the schedule: deadlines are not pushed back. */
static void test_late_caller(void)
{
    struct sl_txn_cfg cfg;
    struct sl_txn t;
    uint64_t wake = 0;
    sl_txn_cfg_default(&cfg, false);
    sl_txn_start(&t, &cfg, 0);
    g_assert_cmpint(sl_txn_next(&t, 0, &wake), ==, SL_TXN_SEND);
    g_assert_cmpuint(wake, ==, 500 * MS);
    g_assert_cmpint(sl_txn_next(&t, 900 * MS, &wake), ==, SL_TXN_SEND);
    g_assert_cmpuint(wake, ==, 1500 * MS);
    g_assert_cmpint(sl_txn_next(&t, 1500 * MS, &wake), ==, SL_TXN_SEND);
    g_assert_cmpuint(wake, ==, 3500 * MS);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sl_txn/udp-defaults", test_udp_defaults);
    g_test_add_func("/sl_txn/reliable-defaults", test_reliable_defaults);
    g_test_add_func("/sl_txn/completion", test_completion);
    g_test_add_func("/sl_txn/custom", test_custom);
    g_test_add_func("/sl_txn/late-caller", test_late_caller);
    return g_test_run();
}
