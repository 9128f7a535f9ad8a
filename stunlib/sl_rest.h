/* TURN REST API (time-limited) credentials, as coturn's use-auth-secret checks them. */
#ifndef SL_REST_H
#define SL_REST_H

#include <stddef.h>
#include <stdint.h>

#include "sl_err.h"

/* base64 of a 20-byte HMAC-SHA1 is 28 characters, plus the terminating NUL. */
#define SL_REST_PASSWORD_SIZE 29
/* RFC 8489 §14.3: USERNAME is less than 513 bytes. */
#define SL_REST_USERNAME_MAX 512

/* Mint: username = "<now+ttl><sep><user>" and the password; sep is usually ':'.
 * password = base64(HMAC-SHA1(secret, username)), which plen must hold (SL_REST_PASSWORD_SIZE).
 * SL_EINVAL for an empty secret or user, a user with control characters, a separator that is
 * a digit or not printable ASCII, or an expiry before 1970; SL_ENOSPACE when a buffer is too
 * small; SL_ETOOLONG when the username would exceed SL_REST_USERNAME_MAX. */
int sl_rest_mint(const char *secret, const char *user, int64_t now, int64_t ttl, char sep,
                 char *username, size_t ulen, char *password, size_t plen);

/* Decode a username's timestamp: accepts "EXPIRY:user" and, with the separator, "user:EXPIRY"
 * (the timestamp is whichever side is all digits; 9 to 11 digits); returns SL_OK with *expiry
 * and the user part, SL_ENOTFOUND when the username is not time-limited.
 * Like coturn (get_rest_api_timestamp), only the first separator counts, the left side wins
 * when it is all digits, and a bare timestamp without separator is one with an empty user.
 * user may be NULL when ulen is 0; SL_ENOSPACE (with *expiry set) when it is too small. */
int sl_rest_decode(const char *username, char sep, int64_t *expiry, char *user, size_t ulen);

/* "expired 3 h 12 min ago (2026-11-21 13:05 UTC)", "expires in 40 s (…)",
 * "expires in 23 h 59 min (…)", "expires in about 3115 years (…)". coturn accepts the username
 * up to and including the second of its expiry ("expires now"). Truncates to n; returns buf. */
const char *sl_rest_describe(int64_t expiry, int64_t now, char *buf, size_t n);

#endif
