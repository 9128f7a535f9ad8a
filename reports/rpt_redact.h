/* Redaction: names, credentials and public addresses in a result replaced by stable labels. */
#ifndef RPT_REDACT_H
#define RPT_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#include "rpt_model.h"

/* Formats an address as every writer should show it: an address that rpt_redact() put in place
 * of a public one shows as its label ("server-public-1:3478", "[client-public-2]:61000"), any
 * other as sl_addr_format() does. */
const char *rpt_redact_addr_format(const struct sl_addr *a, char *buf, size_t n, bool with_port);

#endif
