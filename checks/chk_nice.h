/* A real ICE stack through the server: libnice agents, for the second half of step "ice" and
 * for the gathering view of an iceServers entry. */
#ifndef CHK_NICE_H
#define CHK_NICE_H

#include <json-glib/json-glib.h>

#include "chk.h"

struct chk_run;

/* The most the libnice half of "ice" may take (capped by the run's deadline), and the most
 * chk_nice_gather waits for gathering to end. */
#define CHK_NICE_BUDGET_S 10

/* The libnice half of step "ice": two libnice agents (controlling and controlled, RFC 5245,
 * relay-only, on the local address our client used) each allocate on the server under test
 * over the URI's transport (UDP, TCP or TLS; libnice has no DTLS, and then says so without
 * running), exchange credentials and trickle their relay candidates to each other in-process,
 * run their connectivity checks, then echo datagrams both ways over the selected pair. What
 * the agents report goes to the ice step's details.libnice: per agent the candidates (type,
 * address, transport, ms), every component state with its time, the selected pair, the data
 * (sent, received, echoes, RTT) and the server's answers to its Allocate and CreatePermission
 * as libnice's log tells ("turn_answers"; the log is the only place libnice says them, and
 * nothing else is kept from it: it holds passwords). libnice's packets are not in the
 * evidence. Bounded by min(the run's remaining time, CHK_NICE_BUDGET_S); both agents are always
 * closed (nice_agent_close_async: up to two more seconds for their TURN deallocations). Runs
 * once per session: a second call, or one when the step is not selected or --peer is given,
 * does nothing; after the deadline or Ctrl-C it records why it did not run. Safe to run in
 * several threads at once, each with its own thread-default main context. */
void chk_nice_run(struct chk_run *run);

/* Folds details.libnice into the ice step's verdict: it fails when either half failed. A
 * failure is explained by the earlier step that causes it when the evidence points there (no
 * relay candidate and allocate auth-rejected: the credentials; checks failing and permission
 * permission-forbidden: 403 to CreatePermission). When the probe's own half was blocked by an
 * earlier failure and libnice could not even gather a relay candidate, the step stays skipped
 * (the cause is that earlier step's finding) and the libnice diagnosis is in details.libnice.
 * Reads only the session; does nothing when there is no details.libnice. */
void chk_nice_judge(const struct rpt_result *r, struct rpt_session *s);

/* The gathering view of one STUN or TURN server (an iceServers URL): one libnice agent
 * gathers from cfg->server (a resolved address of cfg->uri) with cfg->username/password for
 * turn: URIs, on the local address that routes to the server. Returns a new object:
 *   {"url", "server", "local_address", "relay_transport" (turn: only), "gathering_done",
 *    "gathering_ms", "candidates": [{"type", "address", "transport", "ms"}],
 *    "obtained": {"host"|"srflx"|"relay": {"count", "first_ms"}},
 *    "failed": [{"type": "host"|"srflx"|"relay"|"all", "why"}],
 *    "turn_answers": [{"ms", "agent", "request", "answer"}], "capture"}
 * srflx is expected from stun: and turn: URIs (libnice takes it from the Allocate response;
 * it drops one equal to the host address, so on a path without NAT "failed" says so), relay
 * from turn: URIs; "why" tells a refusal from silence by libnice's log. Waits at most
 * min(cfg's deadline, CHK_NICE_BUDGET_S); stops early when *interrupted becomes TRUE (may be
 * NULL). Runs on the thread-default main context. */
JsonObject *chk_nice_gather(const struct chk_config *cfg, volatile gboolean *interrupted);

#endif
