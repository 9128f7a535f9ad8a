/* Human-readable attribute values, shared by decode, reports and capture comments. */
#ifndef SL_FMT_H
#define SL_FMT_H

#include <stddef.h>

#include "sl_msg.h"

/* Formats one attribute's value: addresses un-XORed, error codes with their reason, strings
 * quoted with unprintable bytes escaped, numbers with units. Never fails; truncates to n. */
const char *sl_attr_format(const struct sl_msg *m, const struct sl_attr *a, char *buf, size_t n);

/* Quotes bytes as a C-like string ("..."), escaping what is not printable UTF-8. */
const char *sl_fmt_quoted(const uint8_t *p, size_t len, char *buf, size_t n);

/* Lower-case hex of up to max bytes, with "..." when cut. */
const char *sl_fmt_hex(const uint8_t *p, size_t len, size_t max, char *buf, size_t n);

#endif
