/* A fixed, deterministic result model for the writers' golden and rendering tests. */
#ifndef RPT_FIXTURE_H
#define RPT_FIXTURE_H

#include "rpt_model.h"

/* A UDP check of turn:127.0.0.1:3478 that allocates, gets permission-forbidden, and skips the
 * steps after it; times start at 2026-11-21 12:00:00 UTC. */
struct rpt_result *rpt_fixture_failing_check(void);
/* The same server with every step passing, over TCP (with the TCP handshake packets). */
struct rpt_result *rpt_fixture_passing_tcp_check(void);

#endif
