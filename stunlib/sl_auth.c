/* STUN credentials and message checks: keys, HMACs, USERHASH, FINGERPRINT, OpaqueString. */
#include "sl_auth.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "sl_rd.h"

static const uint32_t crc_table[256] = {
    0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu,
    0xe963a535u, 0x9e6495a3u, 0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u,
    0x09b64c2bu, 0x7eb17cbdu, 0xe7b82d07u, 0x90bf1d91u, 0x1db71064u, 0x6ab020f2u,
    0xf3b97148u, 0x84be41deu, 0x1adad47du, 0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u,
    0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu, 0x14015c4fu, 0x63066cd9u,
    0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u, 0xa2677172u,
    0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu, 0x35b5a8fau, 0x42b2986cu,
    0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u,
    0x26d930acu, 0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u,
    0xcfba9599u, 0xb8bda50fu, 0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u,
    0x2f6f7c87u, 0x58684c11u, 0xc1611dabu, 0xb6662d3du, 0x76dc4190u, 0x01db7106u,
    0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu, 0x9fbfe4a5u, 0xe8b8d433u,
    0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu, 0x086d3d2du,
    0x91646c97u, 0xe6635c01u, 0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
    0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u,
    0x8bbeb8eau, 0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u,
    0x4db26158u, 0x3ab551ceu, 0xa3bc0074u, 0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u,
    0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au, 0x346ed9fcu, 0xad678846u, 0xda60b8d0u,
    0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u, 0x5005713cu, 0x270241aau,
    0xbe0b1010u, 0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u, 0xce61e49fu,
    0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u,
    0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au,
    0xead54739u, 0x9dd277afu, 0x04db2615u, 0x73dc1683u, 0xe3630b12u, 0x94643b84u,
    0x0d6d6a3eu, 0x7a6a5aa8u, 0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u,
    0xf00f9344u, 0x8708a3d2u, 0x1e01f268u, 0x6906c2feu, 0xf762575du, 0x806567cbu,
    0x196c3671u, 0x6e6b06e7u, 0xfed41b76u, 0x89d32be0u, 0x10da7a5au, 0x67dd4accu,
    0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u, 0xd6d6a3e8u, 0xa1d1937eu,
    0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
    0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u,
    0x316e8eefu, 0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u,
    0xcc0c7795u, 0xbb0b4703u, 0x220216b9u, 0x5505262fu, 0xc5ba3bbeu, 0xb2bd0b28u,
    0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u, 0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du,
    0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au, 0x9c0906a9u, 0xeb0e363fu,
    0x72076785u, 0x05005713u, 0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu, 0x0cb61b38u,
    0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u,
    0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u,
    0x88085ae6u, 0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u,
    0x616bffd3u, 0x166ccf45u, 0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u,
    0xa7672661u, 0xd06016f7u, 0x4969474du, 0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu,
    0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u, 0x47b2cf7fu, 0x30b5ffe9u,
    0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u, 0xcdd70693u,
    0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
    0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du,
};

uint32_t sl_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* One HMAC context per digest is prepared once and duplicated per message, so the digest is not
 * fetched again for every packet. */
static CRYPTO_ONCE mac_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_MAC_CTX *mac_sha1, *mac_sha256;

static EVP_MAC_CTX *mac_template(EVP_MAC *mac, const char *digest)
{
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    OSSL_PARAM params[2] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (ctx && !EVP_MAC_CTX_set_params(ctx, params)) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

static void mac_init(void)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac)
        return;
    mac_sha1 = mac_template(mac, "SHA1");
    mac_sha256 = mac_template(mac, "SHA256");
    EVP_MAC_free(mac); /* the contexts keep their own reference */
}

static int hmac(EVP_MAC_CTX *tmpl, const uint8_t *key, size_t keylen, const uint8_t *const *parts,
                const size_t *lens, size_t nparts, uint8_t *out, size_t outcap)
{
    int rc = SL_ECRYPTO;
    size_t outlen = 0;
    if (!tmpl)
        return SL_ECRYPTO;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(tmpl);
    if (!ctx)
        return SL_ECRYPTO;
    /* HMAC accepts an empty key, but OpenSSL wants a non-NULL pointer for it. */
    static const uint8_t nokey[1];
    if (!EVP_MAC_init(ctx, keylen ? key : nokey, keylen, NULL))
        goto out;
    for (size_t i = 0; i < nparts; i++)
        if (lens[i] && !EVP_MAC_update(ctx, parts[i], lens[i]))
            goto out;
    if (!EVP_MAC_final(ctx, out, &outlen, outcap) || outlen != outcap)
        goto out;
    rc = SL_OK;
out:
    EVP_MAC_CTX_free(ctx);
    return rc;
}

int sl_auth_hmac_sha1(const uint8_t *key, size_t keylen, const uint8_t *const *parts,
                      const size_t *lens, size_t nparts, uint8_t out[20])
{
    if (!CRYPTO_THREAD_run_once(&mac_once, mac_init))
        return SL_ECRYPTO;
    return hmac(mac_sha1, key, keylen, parts, lens, nparts, out, 20);
}

int sl_auth_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *const *parts,
                        const size_t *lens, size_t nparts, uint8_t out[32])
{
    if (!CRYPTO_THREAD_run_once(&mac_once, mac_init))
        return SL_ECRYPTO;
    return hmac(mac_sha256, key, keylen, parts, lens, nparts, out, 32);
}

/* ---- OpaqueString (RFC 8265 §4.2) ---- */

static int utf8_next(const uint8_t *s, size_t n, size_t *i, uint32_t *cp)
{
    uint8_t c = s[*i];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        (*i)++;
        return SL_OK;
    }
    if ((c & 0xE0) == 0xC0) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return SL_EINVAL;
    }
    if (len > n - *i)
        return SL_EINVAL;
    for (size_t k = 1; k < len; k++) {
        uint8_t cc = s[*i + k];
        if ((cc & 0xC0) != 0x80)
            return SL_EINVAL;
        v = (v << 6) | (cc & 0x3F);
    }
    /* Overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8. */
    if (v < min || (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF)
        return SL_EINVAL;
    *cp = v;
    *i += len;
    return SL_OK;
}

static size_t utf8_put(uint8_t *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | (cp >> 6));
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (cp >> 12));
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | (cp >> 18));
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* Unicode general category Zs other than U+0020. */
static bool is_non_ascii_space(uint32_t cp)
{
    return cp == 0x00A0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

/* The FreeformClass's disallowed code points that can be told without Unicode tables:
 * controls, default-ignorable code points, old Hangul jamo and noncharacters. */
static bool is_disallowed(uint32_t cp)
{
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
        return true;
    if (cp == 0x00AD || cp == 0x034F || cp == 0x061C || (cp >= 0x115F && cp <= 0x1160) ||
        (cp >= 0x17B4 && cp <= 0x17B5) || (cp >= 0x180B && cp <= 0x180F) ||
        (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
        (cp >= 0x2060 && cp <= 0x206F) || cp == 0x3164 || (cp >= 0xFE00 && cp <= 0xFE0F) ||
        cp == 0xFEFF || cp == 0xFFA0 || (cp >= 0xFFF0 && cp <= 0xFFF8) ||
        (cp >= 0x1BCA0 && cp <= 0x1BCA3) || (cp >= 0x1D173 && cp <= 0x1D17A) ||
        (cp >= 0xE0000 && cp <= 0xE0FFF))
        return true;
    if ((cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0xA960 && cp <= 0xA97F) ||
        (cp >= 0xD7B0 && cp <= 0xD7FF))
        return true;
    if ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE)
        return true;
    return false;
}

int sl_auth_opaque_string(const char *in, char *out, size_t outcap)
{
    const uint8_t *s = (const uint8_t *)in;
    size_t n = strlen(in), i = 0, o = 0;
    /* "the empty string is disallowed" (RFC 8265 §4.2.2 step 6 and §4.2.3). */
    if (n == 0)
        return SL_EINVAL;
    while (i < n) {
        uint32_t cp;
        if (utf8_next(s, n, &i, &cp) != SL_OK)
            return SL_EINVAL;
        if (is_non_ascii_space(cp))
            cp = 0x20;
        if (is_disallowed(cp))
            return SL_EINVAL;
        if (outcap - o < 5)
            return SL_ENOSPACE;
        o += utf8_put((uint8_t *)out + o, cp);
    }
    out[o] = '\0';
    return SL_OK;
}

int sl_auth_short_term_key(const char *password, uint8_t *key, size_t *keylen)
{
    char prepared[SL_KEY_MAX * 4];
    int rc = sl_auth_opaque_string(password, prepared, sizeof(prepared));
    if (rc != SL_OK)
        return rc;
    size_t n = strlen(prepared);
    if (n > SL_KEY_MAX) {
        OPENSSL_cleanse(prepared, sizeof(prepared));
        return SL_ENOSPACE;
    }
    /* The short-term key is the prepared password itself; key has room for SL_KEY_MAX bytes. */
    memcpy(key, prepared, n);
    *keylen = n;
    OPENSSL_cleanse(prepared, sizeof(prepared));
    return SL_OK;
}

static int digest3(const EVP_MD *md, const char *a, const char *b, const char *c, uint8_t *out,
                   size_t *outlen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    int rc = SL_ECRYPTO;
    if (!ctx)
        return SL_ECRYPTO;
    if (!EVP_DigestInit_ex(ctx, md, NULL) || !EVP_DigestUpdate(ctx, a, strlen(a)) ||
        !EVP_DigestUpdate(ctx, ":", 1) || !EVP_DigestUpdate(ctx, b, strlen(b)))
        goto out;
    if (c && (!EVP_DigestUpdate(ctx, ":", 1) || !EVP_DigestUpdate(ctx, c, strlen(c))))
        goto out;
    if (!EVP_DigestFinal_ex(ctx, out, &len))
        goto out;
    *outlen = len;
    rc = SL_OK;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* OpaqueString(s) when s is a valid one; else s as it is (an empty realm, or one with control
 * characters, still makes the key its server computes from the raw bytes, as RFC 5389 servers
 * such as coturn do). For ASCII without controls both are the same. */
static const char *prepared_or(const char *s, char *buf, size_t n)
{
    return sl_auth_opaque_string(s, buf, n) == SL_OK ? buf : s;
}

int sl_auth_long_term_key(const char *username, const char *realm, const char *password,
                          enum sl_pwalg alg, uint8_t *key, size_t *keylen)
{
    char prepared[1024];
    char prep_realm[SL_MAX_TEXT * 2 + 8];
    const EVP_MD *md = alg == SL_PWALG_SHA256 ? EVP_sha256() : alg == SL_PWALG_MD5 ? EVP_md5() : NULL;
    if (!md)
        return SL_EINVAL;
    int rc = sl_auth_opaque_string(password, prepared, sizeof(prepared));
    if (rc != SL_OK)
        return rc;
    /* RFC 8489 §9.2.2: key = MD5(username ":" OpaqueString(realm) ":" OpaqueString(password)),
     * or SHA-256 of the same with PASSWORD-ALGORITHM SHA-256. The username is used as it is:
     * it was prepared (UsernameCasePreserved) when the credential was made. */
    rc = digest3(md, username, prepared_or(realm, prep_realm, sizeof(prep_realm)), prepared, key,
                 keylen);
    OPENSSL_cleanse(prepared, sizeof(prepared));
    return rc;
}

int sl_auth_userhash(const char *username, const char *realm, uint8_t out[32])
{
    /* RFC 8489 §14.4: USERHASH = SHA-256(OpaqueString(username) ":" OpaqueString(realm)). */
    char pu[SL_MAX_USERNAME * 2 + 8], pr[SL_MAX_TEXT * 2 + 8];
    size_t len = 0;
    return digest3(EVP_sha256(), prepared_or(username, pu, sizeof(pu)),
                   prepared_or(realm, pr, sizeof(pr)), NULL, out, &len);
}

/* The header with its length field replaced, as the integrity and fingerprint rules demand. */
static void header_with_length(const struct sl_msg *m, size_t length, uint8_t hdr[SL_HDR_LEN])
{
    memcpy(hdr, m->buf, SL_HDR_LEN);
    sl_put_u16(hdr + 2, (uint16_t)length);
}

int sl_auth_check_integrity(const struct sl_msg *m, const uint8_t *key, size_t keylen)
{
    if (m->idx_mi < 0)
        return SL_ENOTFOUND;
    const struct sl_attr *a = &m->attrs[m->idx_mi];
    uint8_t hdr[SL_HDR_LEN], mac[20];
    /* RFC 8489 §14.5: the length used for the HMAC "MUST contain the length up to and including
     * the MESSAGE-INTEGRITY attribute itself, but excluding any attributes after it". */
    header_with_length(m, a->off + 24u - SL_HDR_LEN, hdr);
    const uint8_t *parts[2] = {hdr, m->buf + SL_HDR_LEN};
    size_t lens[2] = {SL_HDR_LEN, a->off - SL_HDR_LEN};
    int rc = sl_auth_hmac_sha1(key, keylen, parts, lens, 2, mac);
    if (rc != SL_OK)
        return rc;
    return CRYPTO_memcmp(mac, sl_attr_value(m, a), 20) == 0 ? SL_OK : SL_EINTEGRITY;
}

int sl_auth_check_integrity_sha256(const struct sl_msg *m, const uint8_t *key, size_t keylen)
{
    if (m->idx_mi256 < 0)
        return SL_ENOTFOUND;
    const struct sl_attr *a = &m->attrs[m->idx_mi256];
    uint8_t hdr[SL_HDR_LEN], mac[32];
    header_with_length(m, a->off + 4u + a->len - SL_HDR_LEN, hdr);
    const uint8_t *parts[2] = {hdr, m->buf + SL_HDR_LEN};
    size_t lens[2] = {SL_HDR_LEN, a->off - SL_HDR_LEN};
    int rc = sl_auth_hmac_sha256(key, keylen, parts, lens, 2, mac);
    if (rc != SL_OK)
        return rc;
    /* §14.6: the value may be truncated to 16..32 bytes; compare that many. */
    return CRYPTO_memcmp(mac, sl_attr_value(m, a), a->len) == 0 ? SL_OK : SL_EINTEGRITY;
}

int sl_auth_check_fingerprint(const struct sl_msg *m)
{
    if (m->idx_fp < 0)
        return SL_ENOTFOUND;
    const struct sl_attr *a = &m->attrs[m->idx_fp];
    uint8_t hdr[SL_HDR_LEN];
    /* §14.7: "the CRC-32 of the STUN message up to (but excluding) the FINGERPRINT attribute
     * itself, XOR'ed with the 32-bit value 0x5354554e". */
    header_with_length(m, a->off + 8u - SL_HDR_LEN, hdr);
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < SL_HDR_LEN; i++)
        c = crc_table[(c ^ hdr[i]) & 0xFF] ^ (c >> 8);
    for (size_t i = SL_HDR_LEN; i < a->off; i++)
        c = crc_table[(c ^ m->buf[i]) & 0xFF] ^ (c >> 8);
    c ^= 0xFFFFFFFFu;
    return (c ^ SL_FP_XOR) == sl_get_u32(sl_attr_value(m, a)) ? SL_OK : SL_EFINGERPRINT;
}
