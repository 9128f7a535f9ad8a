/* Unit tests of datagram classification: STUN, classic STUN, ChannelData, DTLS, TLS, RTP, ... */
#include <glib.h>
#include <string.h>

#include "sl_classify.h"
#include "tp_testutil.h"

struct kind_case {
    const char *name;
    const char *hex;
    enum sl_kind kind;
};

static const struct kind_case kind_cases[] = {
    /* RFC 5769 §2.2, with FINGERPRINT. */
    {"STUN Binding response",
     "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f"
     "7220002000080001a147e112a643000800142b91f599fd9e90c38c7489f92af9ba53"
     "f06be7d780280004c07d4c96",
     SL_KIND_STUN},
    {"STUN Binding request, header only", "000100002112a442 000102030405060708090a0b",
     SL_KIND_STUN},
    {"STUN with a wrong FINGERPRINT",
     "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b74657374"
     "20766563746f7220002000080001a147e112a6430008001400000000"
     "0000000000000000000000000000000080280004c07d4c97",
     SL_KIND_OTHER},
    {"STUN with an attribute after MESSAGE-INTEGRITY",
     "000100202112a442 000102030405060708090a0b "
     "0008 0014 0000000000000000000000000000000000000000 8022 0004 74657374",
     SL_KIND_STUN},
    {"STUN followed by a byte", "000100002112a442 000102030405060708090a0b 00", SL_KIND_OTHER},
    {"STUN with a truncated attribute", "000100042112a442 000102030405060708090a0b 80220008",
     SL_KIND_OTHER},
    /* nDPI's stun_classic.pcap, packets 1 and 2. */
    {"classic Binding request", "000100089429ef88294dd52632c72931cb8dbb4c0003000400000000",
     SL_KIND_STUN_CLASSIC},
    {"classic Binding response", "0101000c9429ef88294dd52632c72931cb8dbb4c000100080001d70aac103fe0",
     SL_KIND_STUN_CLASSIC},
    {"classic Binding error", "01110000 9429ef88294dd52632c72931cb8dbb4c", SL_KIND_STUN_CLASSIC},
    {"no cookie, Allocate", "00030000 9429ef88294dd52632c72931cb8dbb4c", SL_KIND_OTHER},
    {"no cookie, attribute 0x0101", "000100089429ef88294dd52632c72931cb8dbb4c0101000400000000",
     SL_KIND_OTHER},
    {"no cookie, attribute of 3 bytes", "000100089429ef88294dd52632c72931cb8dbb4c0006000361626300",
     SL_KIND_OTHER},
    {"twenty zero bytes", "0000000000000000000000000000000000000000", SL_KIND_OTHER},
    {"ChannelData", "4000 0004 deadbeef", SL_KIND_CHANNELDATA},
    {"ChannelData, padded", "4fff 0001 aa 000000", SL_KIND_CHANNELDATA},
    {"ChannelData, empty", "4123 0000", SL_KIND_CHANNELDATA},
    {"ChannelData, truncated", "4000 0008 deadbeef", SL_KIND_OTHER},
    {"ChannelData, 4 bytes too many", "4000 0000 00000000", SL_KIND_OTHER},
    {"channel 0x5000", "5000 0004 deadbeef", SL_KIND_OTHER},
    {"DTLS 1.2 handshake", "16 fefd 0000 000000000000 0004 01000000", SL_KIND_DTLS},
    {"DTLS 1.0 application data", "17 feff 0001 000000000007 0002 abcd", SL_KIND_DTLS},
    {"DTLS record longer than the datagram", "16 fefd 0000 000000000000 0010 01000000",
     SL_KIND_OTHER},
    {"TLS ClientHello", "16 0301 0005 0100000100", SL_KIND_TLS},
    {"TLS 1.2 application data", "17 0303 0002 aabb", SL_KIND_TLS},
    {"TLS record longer than the datagram", "16 0303 0100 01", SL_KIND_OTHER},
    {"RTP, payload type 0", "8000 0001 00000010 12345678", SL_KIND_RTP},
    {"RTP, payload type 111 with marker", "80ef 1234 00000010 12345678 deadbeef", SL_KIND_RTP},
    /* nDPI's stun_classic.pcap, packet 3. */
    {"RTP from a capture", "8092ae1504e9f9983aa6d92292d8852000fad4afbd2c19c8c2835fb215692dd6",
     SL_KIND_RTP},
    {"RTP shorter than its header", "8000 0001 00000010 123456", SL_KIND_OTHER},
    {"RTCP sender report", "80c8 0006 12345678 0000000000000000 00000000 00000000 00000000",
     SL_KIND_RTCP},
    {"RTCP receiver report", "81c9 0007 12345678", SL_KIND_RTCP},
    {"RTCP packet type 192, the first", "80c0 0001 12345678", SL_KIND_RTCP},
    {"RTCP packet type 223, the last", "80df 0001 12345678", SL_KIND_RTCP},
    {"RTP payload type 63 with marker", "80bf 0001 00000010 12345678", SL_KIND_RTP},
    {"RTP payload type 96 with marker", "80e0 0001 00000010 12345678", SL_KIND_RTP},
    {"ZRTP", "1000 0001 5a525450 01020304", SL_KIND_ZRTP},
    {"ZRTP-like without its magic", "1000 0001 00000000 01020304", SL_KIND_OTHER},
    {"text", "68656c6c6f20776f726c64", SL_KIND_OTHER},
    {"a single zero byte", "00", SL_KIND_OTHER},
    {"nothing", "", SL_KIND_OTHER},
    {"all ones", "ffffffffffffffffffffffffffffffffffffffff", SL_KIND_OTHER},
    /* arkime stun.pcap: an MS-TURN Allocate with length 113 and plain text on port 3478. */
    {"length not a multiple of 4", "000300712112a442d428f6f5e77f3136a7a9306f000f000472c64bc6",
     SL_KIND_OTHER},
    {"RSP text", "5253502f322e30205354554e0d0a746f6b656e3a3536373830343430350d0a0d0a",
     SL_KIND_OTHER},
};

static void test_kinds(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(kind_cases); i++) {
        const struct kind_case *c = &kind_cases[i];
        GByteArray *b = tp_hex(c->hex);
        uint8_t *p = tp_dup(b->data, b->len);
        enum sl_kind k = sl_classify(p, b->len);
        if (k != c->kind)
            g_error("%s: %s, want %s", c->name, sl_kind_name(k), sl_kind_name(c->kind));
        g_free(p);
        g_byte_array_unref(b);
    }
}

/* Every prefix of every case is classified without reading past it (ASan, valgrind). */
static void test_prefixes(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(kind_cases); i++) {
        GByteArray *b = tp_hex(kind_cases[i].hex);
        for (size_t n = 0; n < b->len; n++) {
            uint8_t *p = tp_dup(b->data, n);
            enum sl_kind k = sl_classify(p, n);
            /* A STUN or ChannelData verdict needs the whole datagram. */
            if (kind_cases[i].kind == SL_KIND_STUN || kind_cases[i].kind == SL_KIND_STUN_CLASSIC)
                g_assert_cmpint(k, ==, SL_KIND_OTHER);
            g_free(p);
        }
        g_byte_array_unref(b);
    }
}

static void test_names(void)
{
    g_assert_cmpstr(sl_kind_name(SL_KIND_STUN), ==, "STUN");
    g_assert_cmpstr(sl_kind_name(SL_KIND_STUN_CLASSIC), ==, "classic STUN (RFC 3489)");
    g_assert_cmpstr(sl_kind_name(SL_KIND_CHANNELDATA), ==, "ChannelData");
    g_assert_cmpstr(sl_kind_name(SL_KIND_DTLS), ==, "DTLS");
    g_assert_cmpstr(sl_kind_name(SL_KIND_TLS), ==, "TLS");
    g_assert_cmpstr(sl_kind_name(SL_KIND_RTP), ==, "RTP");
    g_assert_cmpstr(sl_kind_name(SL_KIND_RTCP), ==, "RTCP");
    g_assert_cmpstr(sl_kind_name(SL_KIND_ZRTP), ==, "ZRTP");
    g_assert_cmpstr(sl_kind_name(SL_KIND_OTHER), ==, "other");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sl_classify/kinds", test_kinds);
    g_test_add_func("/sl_classify/prefixes", test_prefixes);
    g_test_add_func("/sl_classify/names", test_names);
    return g_test_run();
}
