/* Stable names for stunlib's result codes. */
#include "sl_err.h"

static const char *const names[SL_ERR_COUNT] = {
    [SL_OK] = "ok",
    [SL_ENOTSTUN] = "not-stun",
    [SL_EBADLEN] = "bad-length",
    [SL_EBADCOOKIE] = "bad-cookie",
    [SL_ETRUNC] = "truncated",
    [SL_EATTRTRUNC] = "attribute-truncated",
    [SL_EBADATTR] = "bad-attribute",
    [SL_EBADADDR] = "bad-address",
    [SL_ETOOLONG] = "too-long",
    [SL_EORDER] = "attribute-order",
    [SL_ETOOMANY] = "too-many-attributes",
    [SL_ENOSPACE] = "no-space",
    [SL_ENOTFOUND] = "not-found",
    [SL_EINTEGRITY] = "integrity-mismatch",
    [SL_EFINGERPRINT] = "fingerprint-mismatch",
    [SL_EBADCHAN] = "bad-channel",
    [SL_EAGAIN] = "need-more",
    [SL_EFRAME] = "stream-desync",
    [SL_EINVAL] = "invalid-argument",
    [SL_ECRYPTO] = "crypto-failure",
};

const char *sl_strerror(int err)
{
    if (err < 0 || err >= SL_ERR_COUNT)
        return "unknown-error";
    return names[err];
}
