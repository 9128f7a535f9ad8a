/* stunlib result codes: every stunlib call returns one, SL_OK (0) meaning success. */
#ifndef SL_ERR_H
#define SL_ERR_H

enum sl_err {
    SL_OK = 0,
    SL_ENOTSTUN,    /* too short for a header, or the first two bits are not zero */
    SL_EBADLEN,     /* header length not a multiple of 4, or not the datagram's length */
    SL_EBADCOOKIE,  /* magic cookie is not 0x2112A442 */
    SL_ETRUNC,      /* fewer bytes than the header (or a length field) promises */
    SL_EATTRTRUNC,  /* an attribute runs past the end of the message */
    SL_EBADATTR,    /* a known attribute whose value has the wrong size or content */
    SL_EBADADDR,    /* an address attribute with a bad family or length */
    SL_ETOOLONG,    /* USERNAME, REALM, NONCE, SOFTWARE or a reason phrase over its limit */
    SL_EORDER,      /* an attribute after MESSAGE-INTEGRITY or FINGERPRINT where none may be */
    SL_ETOOMANY,    /* more attributes than a decoded message can hold */
    SL_ENOSPACE,    /* the encoder's buffer is too small */
    SL_ENOTFOUND,   /* the attribute asked for is not in the message */
    SL_EINTEGRITY,  /* MESSAGE-INTEGRITY(-SHA256) does not verify with the key */
    SL_EFINGERPRINT, /* FINGERPRINT does not match the message */
    SL_EBADCHAN,    /* ChannelData channel number outside 0x4000-0x4FFF */
    SL_EAGAIN,      /* the stream framer needs more bytes */
    SL_EFRAME,      /* the byte stream holds neither STUN nor ChannelData here */
    SL_EINVAL,      /* a bad argument from the caller */
    SL_ECRYPTO,     /* OpenSSL failed */
    SL_ERR_COUNT
};

/* The stable identifier of an error ("truncated", "bad-attribute", ...). */
const char *sl_strerror(int err);

#endif
