/* Content-based classification of a UDP payload, strict enough to find STUN on any port. */
#include "sl_classify.h"

#include "sl_auth.h"
#include "sl_chan.h"
#include "sl_msg.h"
#include "sl_rd.h"

/* RFC 3489 message types: Binding and Shared Secret requests and responses. */
static bool classic_type(uint16_t t)
{
    return t == 0x0001 || t == 0x0101 || t == 0x0111 || t == 0x0002 || t == 0x0102 || t == 0x0112;
}

/* Classic STUN has no cookie, so demand a well-formed RFC 3489 attribute list. */
static bool classic_attrs_ok(const uint8_t *p, size_t len)
{
    struct sl_rd rd;
    sl_rd_init(&rd, p + SL_HDR_LEN, len - SL_HDR_LEN);
    while (sl_rd_left(&rd) > 0) {
        uint16_t type = sl_rd_u16(&rd);
        uint16_t alen = sl_rd_u16(&rd);
        if (rd.err || alen % 4 != 0)
            return false;
        if (type > 0x000B && type < 0x8000)
            return false;
        sl_rd_skip(&rd, alen);
        if (rd.err)
            return false;
    }
    return true;
}

enum sl_kind sl_classify(const uint8_t *p, size_t len)
{
    if (len == 0)
        return SL_KIND_OTHER;
    uint8_t b = p[0];
    /* RFC 7983 §7: 0-3 STUN, 16-19 ZRTP, 20-63 DTLS, 64-79 TURN channel, 128-191 RTP/RTCP. */
    if (b <= 3) {
        if (len < SL_HDR_LEN || sl_get_u16(p + 2) % 4 != 0 ||
            (size_t)sl_get_u16(p + 2) + SL_HDR_LEN != len)
            return SL_KIND_OTHER;
        if (sl_get_u32(p + 4) == SL_MAGIC_COOKIE) {
            struct sl_msg m;
            if (sl_msg_decode(&m, p, len, SL_DEC_LENIENT) != SL_OK)
                return SL_KIND_OTHER;
            if (m.idx_fp >= 0 && sl_auth_check_fingerprint(&m) != SL_OK)
                return SL_KIND_OTHER;
            return SL_KIND_STUN;
        }
        if (classic_type(sl_get_u16(p)) && classic_attrs_ok(p, len))
            return SL_KIND_STUN_CLASSIC;
        return SL_KIND_OTHER;
    }
    if (b >= 16 && b <= 19)
        return len >= 12 && sl_get_u32(p + 4) == 0x5a525450u ? SL_KIND_ZRTP : SL_KIND_OTHER;
    if (b >= 20 && b <= 63) {
        /* DTLS: content type 20-25, version 0xFEFF (1.0) or 0xFEFD (1.2), epoch, seq, length. */
        if (len >= 13 && b <= 25 && p[1] == 0xFE && (p[2] == 0xFF || p[2] == 0xFD) &&
            13u + sl_get_u16(p + 11) <= len)
            return SL_KIND_DTLS;
        /* TLS: content type 20-23, version 3.x, then a length that fits. */
        if (len >= 5 && b <= 23 && p[1] == 3 && p[2] <= 4 && 5u + sl_get_u16(p + 3) <= len)
            return SL_KIND_TLS;
        return SL_KIND_OTHER;
    }
    if (b >= 64 && b <= 79) {
        struct sl_chan c;
        return sl_chan_decode(&c, p, len, false) == SL_OK ? SL_KIND_CHANNELDATA : SL_KIND_OTHER;
    }
    if (b >= 128 && b <= 191 && len >= 8) {
        uint8_t pt = p[1];
        /* RFC 5761 §4: RTCP packet types 192-223 sit where RTP payload types 64-95 would. */
        if (pt >= 192 && pt <= 223)
            return SL_KIND_RTCP;
        return len >= 12 ? SL_KIND_RTP : SL_KIND_OTHER;
    }
    return SL_KIND_OTHER;
}

const char *sl_kind_name(enum sl_kind k)
{
    switch (k) {
    case SL_KIND_STUN: return "STUN";
    case SL_KIND_STUN_CLASSIC: return "classic STUN (RFC 3489)";
    case SL_KIND_CHANNELDATA: return "ChannelData";
    case SL_KIND_DTLS: return "DTLS";
    case SL_KIND_TLS: return "TLS";
    case SL_KIND_RTP: return "RTP";
    case SL_KIND_RTCP: return "RTCP";
    case SL_KIND_ZRTP: return "ZRTP";
    case SL_KIND_OTHER: break;
    }
    return "other";
}
