/* TURN REST API credentials: mint, decode and describe "EXPIRY:user" usernames. */
#include "sl_rest.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sl_auth.h"

static bool all_digits(const char *p, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* A digit would make "EXPIRY<sep>user" ambiguous; a control character cannot be typed into a
 * server's rest-api-separator setting. */
static bool separator_ok(char sep)
{
    return sep > 0x20 && sep < 0x7f && !(sep >= '0' && sep <= '9');
}

int sl_rest_mint(const char *secret, const char *user, int64_t now, int64_t ttl, char sep,
                 char *username, size_t ulen, char *password, size_t plen)
{
    if (!secret || !secret[0] || !user || !user[0] || !username || !password)
        return SL_EINVAL;
    if (!separator_ok(sep))
        return SL_EINVAL;
    for (const char *p = user; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return SL_EINVAL;
    if ((ttl > 0 && now > INT64_MAX - ttl) || (ttl < 0 && now < INT64_MIN - ttl))
        return SL_EINVAL;
    int64_t expiry = now + ttl;
    if (expiry < 0)
        return SL_EINVAL;
    if (plen < SL_REST_PASSWORD_SIZE)
        return SL_ENOSPACE;
    int n = snprintf(username, ulen, "%" PRId64 "%c%s", expiry, sep, user);
    if (n < 0 || (size_t)n >= ulen)
        return SL_ENOSPACE;
    if ((size_t)n > SL_REST_USERNAME_MAX)
        return SL_ETOOLONG;

    /* coturn (userdb.c get_user_key): HMAC over the username exactly as sent, keyed with the
     * secret's bytes, then base64; that string is the long-term password. */
    uint8_t mac[20];
    const uint8_t *parts[1] = {(const uint8_t *)username};
    size_t lens[1] = {(size_t)n};
    int rc = sl_auth_hmac_sha1((const uint8_t *)secret, strlen(secret), parts, lens, 1, mac);
    if (rc == SL_OK)
        EVP_EncodeBlock((unsigned char *)password, mac, (int)sizeof(mac));
    OPENSSL_cleanse(mac, sizeof(mac));
    return rc;
}

int sl_rest_decode(const char *username, char sep, int64_t *expiry, char *user, size_t ulen)
{
    if (!username || !expiry || sep == '\0')
        return SL_EINVAL;
    const char *col = strchr(username, sep);
    const char *ts, *u;
    size_t tslen, un;
    if (!col) {
        ts = username, tslen = strlen(username);
        u = "", un = 0;
    } else if (all_digits(username, (size_t)(col - username))) {
        ts = username, tslen = (size_t)(col - username);
        u = col + 1, un = strlen(u);
    } else {
        ts = col + 1, tslen = strlen(ts);
        u = username, un = (size_t)(col - username);
    }
    /* 9 to 11 digits: 1973 to 5138; anything else is a user name that happens to hold digits. */
    if (tslen < 9 || tslen > 11 || !all_digits(ts, tslen))
        return SL_ENOTFOUND;
    int64_t v = 0;
    for (size_t i = 0; i < tslen; i++)
        v = v * 10 + (ts[i] - '0');
    *expiry = v;
    if (ulen == 0)
        return user ? SL_ENOSPACE : SL_OK;
    if (!user)
        return SL_EINVAL;
    if (un >= ulen) {
        user[0] = '\0';
        return SL_ENOSPACE;
    }
    memcpy(user, u, un);
    user[un] = '\0';
    return SL_OK;
}

/* Two units at most, the way a person says it: "40 s", "12 min 5 s", "3 h 12 min", "2 d 3 h". */
static void duration(int64_t d, char *buf, size_t n)
{
    static const int64_t MIN = 60, HOUR = 3600, DAY = 86400;
    if (d < MIN) {
        snprintf(buf, n, "%" PRId64 " s", d);
    } else if (d < HOUR) {
        if (d % MIN)
            snprintf(buf, n, "%" PRId64 " min %" PRId64 " s", d / MIN, d % MIN);
        else
            snprintf(buf, n, "%" PRId64 " min", d / MIN);
    } else if (d < DAY) {
        if (d % HOUR / MIN)
            snprintf(buf, n, "%" PRId64 " h %" PRId64 " min", d / HOUR, d % HOUR / MIN);
        else
            snprintf(buf, n, "%" PRId64 " h", d / HOUR);
    } else if (d < 365 * DAY) {
        if (d % DAY / HOUR)
            snprintf(buf, n, "%" PRId64 " d %" PRId64 " h", d / DAY, d % DAY / HOUR);
        else
            snprintf(buf, n, "%" PRId64 " d", d / DAY);
    } else {
        /* 365.2425 days, the Gregorian mean: close enough for "about". */
        int64_t y = d / 31556952;
        snprintf(buf, n, "about %" PRId64 " year%s", y, y == 1 ? "" : "s");
    }
}

const char *sl_rest_describe(int64_t expiry, int64_t now, char *buf, size_t n)
{
    if (!buf || n == 0)
        return buf;
    char date[48] = "date out of range";
    struct tm tm;
    time_t t = (time_t)expiry;
    if ((int64_t)t == expiry && gmtime_r(&t, &tm))
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", &tm);
    /* Saturate rather than overflow on absurd inputs. */
    int64_t delta;
    if (now < 0 && expiry > INT64_MAX + now)
        delta = INT64_MAX;
    else if (now > 0 && expiry < INT64_MIN + now)
        delta = INT64_MIN + 1;
    else
        delta = expiry - now;
    char d[48];
    if (delta > 0) {
        duration(delta, d, sizeof(d));
        snprintf(buf, n, "expires in %s (%s)", d, date);
    } else if (delta == 0) {
        snprintf(buf, n, "expires now (%s)", date);
    } else {
        duration(-delta, d, sizeof(d));
        snprintf(buf, n, "expired %s ago (%s)", d, date);
    }
    return buf;
}
