/* Redaction: names, credentials and public addresses in a result replaced by stable labels. */
#ifndef RPT_REDACT_H
#define RPT_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#include "rpt_model.h"

/* Replaces, consistently in the whole model, what identifies a customer by stable labels:
 * usernames "user-1" (a TURN REST username's user part too), realms "realm-1", nonces "nonce-1",
 * host names "host-1" (and other names in the same domain), public addresses "client-public-1",
 * "server-public-1", "peer-public-1" ("other-public-1" when only free text shows them; the
 * documentation ranges count as public). Private, loopback, link-local and CGNAT addresses and
 * the server's SOFTWARE are kept: they say nothing about who the customer is and they help.
 * Every string is rewritten (target, session names, facts, step summaries, hints and details,
 * findings, packet summaries and notes, transaction reasons, capture names); packet addresses
 * become placeholders that rpt_redact_addr_format() shows as labels; STUN payloads are rebuilt
 * with the labels and placeholders (FINGERPRINT recomputed; MESSAGE-INTEGRITY no longer
 * verifies), inner STUN of Send/Data indications and ChannelData too; names in other payloads
 * (TLS SNI, certificates) are overwritten in place; the TLS key log is dropped. Running it twice
 * changes nothing more. Returns how many distinct values were replaced. */
int rpt_redact(struct rpt_result *r);

/* Formats an address as every writer should show it: an address that rpt_redact() put in place
 * of a public one shows as its label ("server-public-1:3478", "[client-public-2]:61000"), any
 * other as sl_addr_format() does. */
const char *rpt_redact_addr_format(const struct sl_addr *a, char *buf, size_t n, bool with_port);

#endif
