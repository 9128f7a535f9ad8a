/* STUN/TURN messages: decoding into a view of the caller's buffer and encoding into another. */
#ifndef SL_MSG_H
#define SL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_addr.h"
#include "sl_err.h"

#define SL_MAGIC_COOKIE 0x2112A442u
#define SL_FP_XOR       0x5354554eu
#define SL_HDR_LEN      20
#define SL_TID_LEN      12
#define SL_MAX_ATTRS    128 /* a message with more is refused (SL_ETOOMANY) */

/* RFC 8489 §14 and RFC 8656 §18: limits on variable-length attributes, in bytes. */
#define SL_MAX_USERNAME 512 /* "less than 513 bytes" */
#define SL_MAX_TEXT     763 /* REALM, NONCE, SOFTWARE, reason: < 128 characters, <= 763 bytes */
#define SL_MAX_DOMAIN   255 /* ALTERNATE-DOMAIN */

enum sl_class { SL_REQUEST = 0, SL_INDICATION = 1, SL_SUCCESS = 2, SL_ERROR = 3 };

enum sl_method {
    SL_BINDING = 0x001,
    SL_SHARED_SECRET = 0x002, /* RFC 3489 only */
    SL_ALLOCATE = 0x003,
    SL_REFRESH = 0x004,
    SL_SEND = 0x006,
    SL_DATA = 0x007,
    SL_CREATE_PERMISSION = 0x008,
    SL_CHANNEL_BIND = 0x009,
    SL_CONNECT = 0x00A,           /* RFC 6062 */
    SL_CONNECTION_BIND = 0x00B,   /* RFC 6062 */
    SL_CONNECTION_ATTEMPT = 0x00C, /* RFC 6062 */
    SL_GOOG_PING = 0x080,
};

enum sl_attr_type {
    SL_ATTR_MAPPED_ADDRESS = 0x0001,
    SL_ATTR_RESPONSE_ADDRESS = 0x0002, /* RFC 3489 */
    SL_ATTR_CHANGE_REQUEST = 0x0003,   /* RFC 5780 */
    SL_ATTR_SOURCE_ADDRESS = 0x0004,   /* RFC 3489 */
    SL_ATTR_CHANGED_ADDRESS = 0x0005,  /* RFC 3489 */
    SL_ATTR_USERNAME = 0x0006,
    SL_ATTR_PASSWORD = 0x0007,         /* RFC 3489 */
    SL_ATTR_MESSAGE_INTEGRITY = 0x0008,
    SL_ATTR_ERROR_CODE = 0x0009,
    SL_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
    SL_ATTR_REFLECTED_FROM = 0x000B,   /* RFC 3489 */
    SL_ATTR_CHANNEL_NUMBER = 0x000C,
    SL_ATTR_LIFETIME = 0x000D,
    SL_ATTR_XOR_PEER_ADDRESS = 0x0012,
    SL_ATTR_DATA = 0x0013,
    SL_ATTR_REALM = 0x0014,
    SL_ATTR_NONCE = 0x0015,
    SL_ATTR_XOR_RELAYED_ADDRESS = 0x0016,
    SL_ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017,
    SL_ATTR_EVEN_PORT = 0x0018,
    SL_ATTR_REQUESTED_TRANSPORT = 0x0019,
    SL_ATTR_DONT_FRAGMENT = 0x001A,
    SL_ATTR_ACCESS_TOKEN = 0x001B,
    SL_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
    SL_ATTR_PASSWORD_ALGORITHM = 0x001D,
    SL_ATTR_USERHASH = 0x001E,
    SL_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
    SL_ATTR_RESERVATION_TOKEN = 0x0022,
    SL_ATTR_PRIORITY = 0x0024,
    SL_ATTR_USE_CANDIDATE = 0x0025,
    SL_ATTR_PADDING = 0x0026,
    SL_ATTR_RESPONSE_PORT = 0x0027,
    SL_ATTR_CONNECTION_ID = 0x002A,
    SL_ATTR_ADDITIONAL_ADDRESS_FAMILY = 0x8000,
    SL_ATTR_ADDRESS_ERROR_CODE = 0x8001,
    SL_ATTR_PASSWORD_ALGORITHMS = 0x8002,
    SL_ATTR_ALTERNATE_DOMAIN = 0x8003,
    SL_ATTR_ICMP = 0x8004,
    SL_ATTR_SOFTWARE = 0x8022,
    SL_ATTR_ALTERNATE_SERVER = 0x8023,
    SL_ATTR_TRANSACTION_TRANSMIT_COUNTER = 0x8025,
    SL_ATTR_CACHE_TIMEOUT = 0x8027,
    SL_ATTR_FINGERPRINT = 0x8028,
    SL_ATTR_ICE_CONTROLLED = 0x8029,
    SL_ATTR_ICE_CONTROLLING = 0x802A,
    SL_ATTR_RESPONSE_ORIGIN = 0x802B,
    SL_ATTR_OTHER_ADDRESS = 0x802C,
    SL_ATTR_ECN_CHECK = 0x802D,
    SL_ATTR_THIRD_PARTY_AUTHORIZATION = 0x802E,
    SL_ATTR_MOBILITY_TICKET = 0x8030,
};

enum sl_pwalg { SL_PWALG_MD5 = 0x0001, SL_PWALG_SHA256 = 0x0002 };

/* IANA protocol numbers for REQUESTED-TRANSPORT. */
enum { SL_TRANSPORT_UDP = 17, SL_TRANSPORT_TCP = 6 };

static inline uint16_t sl_msg_type(uint16_t method, enum sl_class cls)
{
    return (uint16_t)((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
                      ((cls & 1) << 4) | ((cls & 2) << 7));
}

static inline uint16_t sl_type_method(uint16_t type)
{
    return (uint16_t)((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
}

static inline enum sl_class sl_type_class(uint16_t type)
{
    return (enum sl_class)(((type >> 4) & 1) | ((type >> 7) & 2));
}

/* Comprehension-required attributes are 0x0000-0x7FFF (RFC 8489 §14). */
static inline bool sl_attr_required(uint16_t type)
{
    return type < 0x8000;
}

/* One attribute as found in the message; its value is at msg->buf + off + 4. */
struct sl_attr {
    uint16_t type;
    uint16_t len;
    uint32_t off; /* a message may be 20 + 65532 bytes: offsets go past 16 bits */
    bool ignored; /* after MESSAGE-INTEGRITY in lenient decoding: not to be acted upon */
};

/* Where decoding stopped, for messages such as "attribute 0x0006 at offset 28 claims 9 bytes,
 * 4 left". */
struct sl_where {
    uint16_t attr;
    size_t off;
    size_t claimed;
    size_t left;
};

struct sl_msg {
    const uint8_t *buf; /* the message: a view into the caller's buffer */
    size_t len;         /* header + body */
    uint16_t type, method;
    enum sl_class cls;
    uint32_t cookie;
    uint8_t tid[SL_TID_LEN];
    bool classic; /* RFC 3489: no magic cookie, 128-bit transaction id = cookie + tid */
    size_t nattrs;
    struct sl_attr attrs[SL_MAX_ATTRS];
    int idx_mi, idx_mi256, idx_fp; /* index into attrs, -1 when absent */
    size_t n_unknown_required;     /* comprehension-required attributes we do not know */
    uint16_t unknown_required[16];
    struct sl_where where; /* set when decoding fails */
};

enum sl_dec_flags {
    SL_DEC_PREFIX = 1 << 0,  /* buf may hold more after the message (streams, captures) */
    SL_DEC_CLASSIC = 1 << 1, /* accept RFC 3489 messages without the magic cookie */
    SL_DEC_LENIENT = 1 << 2, /* attributes after MESSAGE-INTEGRITY are marked ignored, not refused */
};

/* Decodes a message and checks the syntax of every attribute it knows. Integrity and
 * FINGERPRINT are checked separately (sl_auth.h). */
int sl_msg_decode(struct sl_msg *m, const uint8_t *buf, size_t len, unsigned flags);

/* Explains a decode error with its place: "attribute 0x0006 at offset 28 claims 9 bytes, 4 left". */
const char *sl_msg_explain(const struct sl_msg *m, int err, char *buf, size_t n);

/* Whether stunlib knows the attribute type (has a name and checks its syntax). */
bool sl_attr_known(uint16_t type);

/* The first usable occurrence of an attribute (RFC 8489 §14: later duplicates are ignored). */
const struct sl_attr *sl_msg_find(const struct sl_msg *m, uint16_t type);
static inline const uint8_t *sl_attr_value(const struct sl_msg *m, const struct sl_attr *a)
{
    return m->buf + a->off + 4;
}

/* Typed getters. Each returns SL_ENOTFOUND when the attribute is absent. */
int sl_msg_get_bytes(const struct sl_msg *m, uint16_t type, const uint8_t **val, size_t *len);
int sl_msg_get_u32(const struct sl_msg *m, uint16_t type, uint32_t *v);
int sl_msg_get_u64(const struct sl_msg *m, uint16_t type, uint64_t *v);
/* Any address attribute; XOR-* types are un-XORed with the cookie and transaction id. */
int sl_msg_get_addr(const struct sl_msg *m, uint16_t type, struct sl_addr *out);
int sl_attr_get_addr(const struct sl_msg *m, const struct sl_attr *a, struct sl_addr *out);
/* ERROR-CODE (or ADDRESS-ERROR-CODE): code 300-699; reason is not NUL-terminated. */
int sl_msg_get_error(const struct sl_msg *m, int *code, const char **reason, size_t *reason_len);
int sl_msg_get_address_error(const struct sl_msg *m, uint8_t *family, int *code,
                             const char **reason, size_t *reason_len);
int sl_msg_get_unknown(const struct sl_msg *m, uint16_t *types, size_t max, size_t *n);
int sl_msg_get_channel(const struct sl_msg *m, uint16_t *channel);
/* REQUESTED-TRANSPORT's protocol, REQUESTED-/ADDITIONAL-ADDRESS-FAMILY's family. */
int sl_msg_get_u8_head(const struct sl_msg *m, uint16_t type, uint8_t *v);
/* ICMP attribute (RFC 8656 §18.13). */
int sl_msg_get_icmp(const struct sl_msg *m, uint8_t *type, uint8_t *code, uint32_t *data);
/* The algorithm of PASSWORD-ALGORITHM, or the i-th of PASSWORD-ALGORITHMS. */
int sl_msg_get_pwalg(const struct sl_msg *m, uint16_t type, size_t i, uint16_t *alg);

/* The encoder writes a message into a caller's buffer; the header length is kept current, so
 * integrity and fingerprint can be added at any point. Errors are sticky: check sl_enc_finish. */
struct sl_enc {
    uint8_t *buf;
    size_t cap, len;
    int err;
};

void sl_enc_init(struct sl_enc *e, uint8_t *buf, size_t cap, uint16_t method, enum sl_class cls,
                 const uint8_t tid[SL_TID_LEN]);
/* An attribute padded with zeros, or with pad_byte (RFC 5769 §2.1 pads USERNAME with 0x20). */
void sl_enc_attr(struct sl_enc *e, uint16_t type, const void *val, size_t len);
void sl_enc_attr_padded(struct sl_enc *e, uint16_t type, const void *val, size_t len,
                        uint8_t pad_byte);
void sl_enc_str(struct sl_enc *e, uint16_t type, const char *s);
void sl_enc_u32(struct sl_enc *e, uint16_t type, uint32_t v);
void sl_enc_u64(struct sl_enc *e, uint16_t type, uint64_t v);
void sl_enc_empty(struct sl_enc *e, uint16_t type);
/* A one-byte value followed by three zero bytes (REQUESTED-TRANSPORT, *-ADDRESS-FAMILY). */
void sl_enc_u8_head(struct sl_enc *e, uint16_t type, uint8_t v);
void sl_enc_addr(struct sl_enc *e, uint16_t type, const struct sl_addr *a);
void sl_enc_error(struct sl_enc *e, int code, const char *reason);
void sl_enc_channel(struct sl_enc *e, uint16_t channel);
void sl_enc_unknown(struct sl_enc *e, const uint16_t *types, size_t n);
void sl_enc_pwalg(struct sl_enc *e, uint16_t alg);
/* MESSAGE-INTEGRITY (HMAC-SHA1) and MESSAGE-INTEGRITY-SHA256 (truncated to trunc bytes, 16-32,
 * a multiple of 4) over everything so far; FINGERPRINT last. */
void sl_enc_integrity(struct sl_enc *e, const uint8_t *key, size_t keylen);
void sl_enc_integrity_sha256(struct sl_enc *e, const uint8_t *key, size_t keylen, size_t trunc);
void sl_enc_fingerprint(struct sl_enc *e);
/* SL_OK and the message length, or the first error. */
int sl_enc_finish(struct sl_enc *e, size_t *len);

#endif
