/* STUN credentials: keys, MESSAGE-INTEGRITY(-SHA256), USERHASH and FINGERPRINT (RFC 8489 §9, §14). */
#ifndef SL_AUTH_H
#define SL_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "sl_msg.h"

#define SL_KEY_MAX 256 /* short-term keys are the prepared password itself */

/* RFC 8265 OpaqueString without its NFC step (stunlib has no Unicode tables; the caller
 * normalises first): checks UTF-8, maps non-ASCII spaces to U+0020, refuses control and other
 * disallowed code points and the empty string. */
int sl_auth_opaque_string(const char *in, char *out, size_t outcap);

/* Short-term key: OpaqueString(password) (RFC 8489 §9.1.1). */
int sl_auth_short_term_key(const char *password, uint8_t *key, size_t *keylen);

/* Long-term key (RFC 8489 §9.2.2): MD5 or SHA-256 of username ":" realm ":" OpaqueString(pw). */
int sl_auth_long_term_key(const char *username, const char *realm, const char *password,
                          enum sl_pwalg alg, uint8_t *key, size_t *keylen);

/* USERHASH = SHA-256(username ":" realm) (RFC 8489 §14.4). */
int sl_auth_userhash(const char *username, const char *realm, uint8_t out[32]);

/* Verify the message's MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256: SL_OK, SL_ENOTFOUND,
 * SL_EINTEGRITY. */
int sl_auth_check_integrity(const struct sl_msg *m, const uint8_t *key, size_t keylen);
int sl_auth_check_integrity_sha256(const struct sl_msg *m, const uint8_t *key, size_t keylen);
/* SL_OK, SL_ENOTFOUND, SL_EFINGERPRINT. */
int sl_auth_check_fingerprint(const struct sl_msg *m);

uint32_t sl_crc32(const uint8_t *p, size_t n);

/* HMAC over several pieces, as the integrity attributes need (header with adjusted length,
 * then the body). */
int sl_auth_hmac_sha1(const uint8_t *key, size_t keylen, const uint8_t *const *parts,
                      const size_t *lens, size_t nparts, uint8_t out[20]);
int sl_auth_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *const *parts,
                        const size_t *lens, size_t nparts, uint8_t out[32]);

#endif
