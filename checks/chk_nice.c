/* A real ICE stack through the server: two libnice agents connect through their own relays
 * (the second half of step "ice"), and the gathering view of one iceServers URL. libnice owns
 * its sockets, so its packets are not in the evidence: what its agents report is recorded
 * instead (candidates, component states, selected pair, data), each with its time. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nice/agent.h>
#include <nice/debug.h>
#include <stun/usages/bind.h>
#include <stun/usages/turn.h>

#include "chk_nice.h"
#include "chk_run.h"

#define NICE_PINGS      3                    /* datagrams each agent sends, each echoed */
#define NICE_DATA_US    (2 * G_USEC_PER_SEC) /* the most the data exchange may take */
#define NICE_CLOSE_US   (2 * G_USEC_PER_SEC) /* the most closing (TURN deallocation) may take */
#define NICE_LOG_EVENTS 32                   /* events read from libnice's log, at most */

static const char NICE_CAPTURE_NOTE[] =
    "libnice's own packets are not in the capture: libnice owns its sockets, so this is what "
    "its agents reported";

enum { NICE_CONTROLLING = 0, NICE_CONTROLLED = 1 };
static const char *const nice_roles[2] = {"controlling", "controlled"};

struct nice_run;

/* One agent and what it reported. Heap-allocated on its own: if closing outlives our wait,
 * the close callback still has somewhere to land and frees it. */
struct nice_side {
    struct nice_run *nr;
    int role;
    NiceAgent *agent;
    guint stream;
    JsonObject *obj; /* this agent's part of the details */
    JsonArray *cands, *states;
    guint state;
    gboolean gathered, ready, failed, have_pair;
    guint n_cands[4]; /* per NiceCandidateType */
    guint n_remote;   /* candidates given to the other agent */
    /* [success, error response] to its Allocate, CreatePermission and Binding (STUN server)
     * requests, from libnice's log */
    guint alloc_answers[2], perm_answers[2], bind_answers[2];
    guint pings_sent, pings_got, replies_got;
    gint64 sent_at[NICE_PINGS];
    double rtt_min, rtt_max, rtt_sum;
    gboolean closing, closed, abandoned;
};

struct nice_run {
    struct chk_ctx *ctx;
    struct nice_side *side[2];
    int n_sides;
    gint64 t0;
    gboolean trickle; /* pass each agent's relay candidates to the other */
    const uint8_t *token;
    JsonArray *log; /* events read from libnice's log; NULL when not read */
};

static double ms_since(gint64 t0)
{
    double ms = (double)(g_get_monotonic_time() - t0) / 1000.0;
    return (double)(gint64)(ms * 10.0 + 0.5) / 10.0; /* 0.1 ms is plenty */
}

static const char *cand_type_name(NiceCandidateType t)
{
    switch (t) {
    case NICE_CANDIDATE_TYPE_HOST:
        return "host";
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
        return "srflx";
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
        return "prflx";
    case NICE_CANDIDATE_TYPE_RELAYED:
        return "relay";
    }
    return "?";
}

static const char *cand_transport_name(NiceCandidateTransport t)
{
    switch (t) {
    case NICE_CANDIDATE_TRANSPORT_UDP:
        return "udp";
    case NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE:
        return "tcp-active";
    case NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE:
        return "tcp-passive";
    case NICE_CANDIDATE_TRANSPORT_TCP_SO:
        return "tcp-so";
    }
    return "?";
}

static const char *state_name(guint s)
{
    switch (s) {
    case NICE_COMPONENT_STATE_DISCONNECTED:
        return "disconnected";
    case NICE_COMPONENT_STATE_GATHERING:
        return "gathering";
    case NICE_COMPONENT_STATE_CONNECTING:
        return "connecting";
    case NICE_COMPONENT_STATE_CONNECTED:
        return "connected";
    case NICE_COMPONENT_STATE_READY:
        return "ready";
    case NICE_COMPONENT_STATE_FAILED:
        return "failed";
    default:
        return "?";
    }
}

/* "192.0.2.1:3478" / "[2001:db8::1]:3478", as everywhere else in the report. */
static char *nice_addr_str(const NiceAddress *a)
{
    struct sockaddr_storage ss;
    struct sl_addr sa;
    memset(&ss, 0, sizeof(ss));
    nice_address_copy_to_sockaddr(a, (struct sockaddr *)&ss);
    if (sl_addr_from_sockaddr(&sa, (struct sockaddr *)&ss, sizeof(ss)) != SL_OK)
        return g_strdup("?");
    return chk_addr_str(&sa);
}

static JsonObject *cand_json(const NiceCandidate *c)
{
    JsonObject *o = json_object_new();
    char *a = nice_addr_str(&c->addr);
    json_object_set_string_member(o, "type", cand_type_name(c->type));
    json_object_set_string_member(o, "address", a);
    json_object_set_string_member(o, "transport", cand_transport_name(c->transport));
    g_free(a);
    return o;
}

/* The local address that routes to the server: what the kernel picks for a UDP socket
 * connected there (nothing is sent). */
static gboolean route_local(const struct sl_addr *server, struct sl_addr *out)
{
    struct sockaddr_storage ss;
    size_t len = sl_addr_to_sockaddr(server, &ss);
    if (len == 0)
        return FALSE;
    GSocketFamily fam = server->family == SL_AF_IPV6 ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4;
    GSocket *s = g_socket_new(fam, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
    if (!s)
        return FALSE;
    GSocketAddress *sa = g_socket_address_new_from_native(&ss, len);
    gboolean ok = g_socket_connect(s, sa, NULL, NULL);
    g_object_unref(sa);
    if (ok) {
        GSocketAddress *la = g_socket_get_local_address(s, NULL);
        struct sockaddr_storage lss;
        ok = la && g_socket_address_to_native(la, &lss, sizeof(lss), NULL) &&
             sl_addr_from_sockaddr(out, (struct sockaddr *)&lss, sizeof(lss)) == SL_OK;
        if (la)
            g_object_unref(la);
    }
    g_socket_close(s, NULL);
    g_object_unref(s);
    return ok;
}

/* ---- libnice's log: the one place where it says how the server answered its requests ---- */

/* libnice has no API for the TURN answers it gets; its debug log is the only window. Two kinds
 * of line are read and turned into events; every other line is dropped unread (libnice logs
 * ICE and TURN passwords). The events say whether the server answered, not the error code:
 * libnice does not log it. */
static const char *turn_answer_name(long res)
{
    switch (res) {
    case STUN_USAGE_TURN_RETURN_RELAY_SUCCESS:
    case STUN_USAGE_TURN_RETURN_MAPPED_SUCCESS:
        return "success";
    case STUN_USAGE_TURN_RETURN_ERROR:
        return "error response";
    case STUN_USAGE_TURN_RETURN_INVALID:
        return "invalid";
    case STUN_USAGE_TURN_RETURN_ALTERNATE_SERVER:
        return "alternate server";
    default:
        return "?";
    }
}

static const char *bind_answer_name(long res)
{
    switch (res) {
    case STUN_USAGE_BIND_RETURN_SUCCESS:
        return "success";
    case STUN_USAGE_BIND_RETURN_ERROR:
        return "error response";
    case STUN_USAGE_BIND_RETURN_INVALID:
        return "invalid";
    case STUN_USAGE_BIND_RETURN_ALTERNATE_SERVER:
        return "alternate server";
    case STUN_USAGE_BIND_RETURN_TIMEOUT:
        return "timeout";
    default:
        return "?";
    }
}

static void log_event(struct nice_run *nr, const char *agent, const char *request, const char *peer,
                      const char *answer)
{
    if (json_array_get_length(nr->log) >= NICE_LOG_EVENTS)
        return;
    JsonObject *o = json_object_new();
    json_object_set_double_member(o, "ms", ms_since(nr->t0));
    if (agent)
        json_object_set_string_member(o, "agent", agent);
    json_object_set_string_member(o, "request", request);
    if (peer)
        json_object_set_string_member(o, "peer", peer);
    json_object_set_string_member(o, "answer", answer);
    json_array_add_object_element(nr->log, o);
}

/* The agent a "%p" in a log line names. */
static struct nice_side *side_of_pointer(struct nice_run *nr, const char *p)
{
    for (int i = 0; i < nr->n_sides; i++) {
        char me[32];
        g_snprintf(me, sizeof(me), "%p", (void *)nr->side[i]->agent);
        if (g_str_has_prefix(p, me) && !g_ascii_isxdigit(p[strlen(me)]))
            return nr->side[i];
    }
    return NULL;
}

/* The agent that has this relay candidate: the other one asked for the permission. */
static struct nice_side *side_of_relay(struct nice_run *nr, const char *addr)
{
    for (int i = 0; i < nr->n_sides; i++) {
        JsonArray *c = nr->side[i]->cands;
        for (guint k = 0; k < json_array_get_length(c); k++) {
            JsonObject *o = json_array_get_object_element(c, k);
            if (g_strcmp0(json_object_get_string_member(o, "address"), addr) == 0)
                return nr->side[i];
        }
    }
    return NULL;
}

/* libnice's debug switch and GLib's log handlers are process-wide, while checks may run in
 * several threads at once (the matrix): the first capture turns them on, the last one off, and
 * each line goes to the run of the thread that logged it (libnice logs from the thread that
 * iterates the agent's main context, which is the check's). */
static GMutex log_lock;
static guint log_users;
static guint log_ids[2];
static GPrivate log_current; /* this thread's struct nice_run, while it reads the log */

static void on_nice_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer ud)
{
    (void)domain;
    (void)level;
    (void)ud;
    struct nice_run *nr = g_private_get(&log_current);
    if (!nr || !nr->log || !msg)
        return;
    /* "Agent 0x55d0 : stun_turn_process/disc for 0x55e0 res 2." and the same with
     * stun_bind_process (discovery.c): res is a StunUsageTurnReturn / StunUsageBindReturn. */
    const char *pa = strstr(msg, " : stun_turn_process/disc for ");
    const char *pb = pa ? NULL : strstr(msg, " : stun_bind_process/disc for ");
    const char *res = pa ? strstr(pa, " res ") : pb ? strstr(pb, " res ") : NULL;
    if (res && g_str_has_prefix(msg, "Agent ")) {
        struct nice_side *sd = side_of_pointer(nr, msg + 6);
        long v = strtol(res + 5, NULL, 10);
        const char *answer = pa ? turn_answer_name(v) : bind_answer_name(v);
        if (sd) {
            guint *n = pa ? sd->alloc_answers : sd->bind_answers;
            if (strcmp(answer, "success") == 0)
                n[0]++;
            else if (strcmp(answer, "error response") == 0)
                n[1]++;
        }
        log_event(nr, sd ? nice_roles[sd->role] : NULL, pa ? "Allocate" : "Binding", NULL, answer);
        return;
    }
    /* "TURN: got response for CreatePermission with XOR_PEER_ADDRESS=[127.0.0.1]:50010 :
     * unauthorized" (udp-turn.c): "unauthorized" is its word for any error response. */
    static const char perm[] = "got response for CreatePermission with XOR_PEER_ADDRESS=[";
    const char *p = strstr(msg, perm);
    const char *close = p ? strstr(p + sizeof(perm) - 1, "]:") : NULL;
    if (!close)
        return;
    p += sizeof(perm) - 1;
    char *ip = g_strndup(p, (gsize)(close - p));
    guint64 port = g_ascii_strtoull(close + 2, NULL, 10);
    struct sl_addr a;
    char *peer = NULL;
    if (port <= 65535 && sl_addr_parse(&a, ip, (int)port) == SL_OK)
        peer = chk_addr_str(&a);
    struct nice_side *owner = peer ? side_of_relay(nr, peer) : NULL;
    struct nice_side *asker = owner && nr->n_sides == 2 ? nr->side[1 - owner->role] : NULL;
    gboolean ok = g_str_has_suffix(msg, ": ok");
    if (asker)
        asker->perm_answers[ok ? 0 : 1]++;
    log_event(nr, asker ? nice_roles[asker->role] : NULL, "CreatePermission", peer,
              ok ? "success" : "error response");
    g_free(peer);
    g_free(ip);
}

static void log_start(struct nice_run *nr)
{
    /* A user who set NICE_DEBUG wants libnice's log on the terminal: leave it alone. */
    if (g_getenv("NICE_DEBUG"))
        return;
    nr->log = json_array_new();
    g_private_set(&log_current, nr);
    g_mutex_lock(&log_lock);
    if (log_users++ == 0) {
        log_ids[0] = g_log_set_handler("libnice-socket", G_LOG_LEVEL_DEBUG, on_nice_log, NULL);
        log_ids[1] = g_log_set_handler("libnice", G_LOG_LEVEL_DEBUG, on_nice_log, NULL);
        nice_debug_enable(FALSE);
    }
    g_mutex_unlock(&log_lock);
}

/* Returns the events (or NULL when the log was not read). */
static JsonArray *log_stop(struct nice_run *nr)
{
    if (!nr->log)
        return NULL;
    g_private_set(&log_current, NULL);
    g_mutex_lock(&log_lock);
    if (--log_users == 0) {
        nice_debug_disable(FALSE);
        g_log_remove_handler("libnice-socket", log_ids[0]);
        g_log_remove_handler("libnice", log_ids[1]);
    }
    g_mutex_unlock(&log_lock);
    JsonArray *a = nr->log;
    nr->log = NULL;
    return a;
}

/* ---- agent signals ---- */

static void on_candidate(NiceAgent *agent, NiceCandidate *c, gpointer ud)
{
    (void)agent;
    struct nice_side *sd = ud;
    struct nice_run *nr = sd->nr;
    JsonObject *o = cand_json(c);
    json_object_set_double_member(o, "ms", ms_since(nr->t0));
    json_array_add_object_element(sd->cands, o);
    if ((guint)c->type < G_N_ELEMENTS(sd->n_cands))
        sd->n_cands[c->type]++;
    /* Trickle: a relay-only agent signals its relay candidates, as a browser with
     * iceTransportPolicy "relay" does; the other agent pairs them as they come. */
    struct nice_side *other = nr->n_sides == 2 ? nr->side[1 - sd->role] : NULL;
    if (nr->trickle && other && c->type == NICE_CANDIDATE_TYPE_RELAYED) {
        GSList one = {c, NULL};
        if (nice_agent_set_remote_candidates(other->agent, other->stream, 1, &one) > 0)
            other->n_remote++;
    }
}

static void on_gathering_done(NiceAgent *agent, guint stream, gpointer ud)
{
    (void)agent;
    (void)stream;
    struct nice_side *sd = ud;
    if (sd->gathered)
        return;
    sd->gathered = TRUE;
    json_object_set_double_member(sd->obj, "gathering_ms", ms_since(sd->nr->t0));
}

static void on_state(NiceAgent *agent, guint stream, guint component, guint state, gpointer ud)
{
    (void)agent;
    (void)stream;
    (void)component;
    struct nice_side *sd = ud;
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "state", state_name(state));
    json_object_set_double_member(o, "ms", ms_since(sd->nr->t0));
    json_array_add_object_element(sd->states, o);
    sd->state = state;
    if (state == NICE_COMPONENT_STATE_READY)
        sd->ready = TRUE;
    if (state == NICE_COMPONENT_STATE_FAILED)
        sd->failed = TRUE;
}

static void on_selected_pair(NiceAgent *agent, guint stream, guint component, NiceCandidate *l,
                             NiceCandidate *rc, gpointer ud)
{
    (void)agent;
    (void)stream;
    (void)component;
    struct nice_side *sd = ud;
    JsonObject *o = json_object_new();
    json_object_set_object_member(o, "local", cand_json(l));
    json_object_set_object_member(o, "remote", cand_json(rc));
    json_object_set_double_member(o, "ms", ms_since(sd->nr->t0));
    json_object_set_object_member(sd->obj, "selected_pair", o); /* the latest one wins */
    sd->have_pair = TRUE;
}

/* Our datagrams: chk_payload_make with path 'N' (a ping) or 'R' (its echo); direction 'c' from
 * the controlling agent, 'p' from the controlled one. */
static void on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
                    gpointer ud)
{
    struct nice_side *sd = ud;
    struct nice_run *nr = sd->nr;
    char dir, path;
    uint32_t seq;
    if (sd->closing)
        return; /* nr is gone */
    if (chk_payload_parse((const uint8_t *)buf, len, nr->token, &dir, &path, &seq) != SL_OK)
        return;
    char mine = sd->role == NICE_CONTROLLING ? 'c' : 'p';
    if (path == 'N' && dir != mine) {
        sd->pings_got++;
        uint8_t out[CHK_PAYLOAD_LEN];
        chk_payload_make(nr->ctx, out, mine, 'R', seq);
        nice_agent_send(agent, stream, component, sizeof(out), (const gchar *)out);
    } else if (path == 'R' && dir != mine && seq < NICE_PINGS && sd->sent_at[seq]) {
        double rtt = (double)(g_get_monotonic_time() - sd->sent_at[seq]) / 1000.0;
        sd->sent_at[seq] = 0; /* a duplicate does not count twice */
        sd->replies_got++;
        sd->rtt_sum += rtt;
        sd->rtt_min = sd->replies_got == 1 ? rtt : MIN(sd->rtt_min, rtt);
        sd->rtt_max = MAX(sd->rtt_max, rtt);
    }
}

/* ---- agents: create, close ---- */

static NiceRelayType relay_type(const struct sl_uri *u)
{
    if (u->transport == SL_URI_TCP)
        return u->secure ? NICE_RELAY_TYPE_TURN_TLS : NICE_RELAY_TYPE_TURN_TCP;
    return NICE_RELAY_TYPE_TURN_UDP;
}

static const char *relay_type_name(NiceRelayType t)
{
    switch (t) {
    case NICE_RELAY_TYPE_TURN_UDP:
        return "udp";
    case NICE_RELAY_TYPE_TURN_TCP:
        return "tcp";
    case NICE_RELAY_TYPE_TURN_TLS:
        return "tls";
    }
    return "?";
}

/* Creates an agent on the local address; NULL with *why set when libnice refuses a setting. */
static struct nice_side *side_new(struct nice_run *nr, int role, const struct sl_addr *local,
                                  gboolean relay_only, const char **why)
{
    struct nice_side *sd = g_new0(struct nice_side, 1);
    sd->nr = nr;
    sd->role = role;
    sd->obj = json_object_new();
    sd->cands = json_array_new();
    sd->states = json_array_new();
    json_object_set_array_member(sd->obj, "candidates", sd->cands);
    json_object_set_array_member(sd->obj, "states", sd->states);
    sd->agent =
        nice_agent_new_full(nr->ctx->mc, NICE_COMPATIBILITY_RFC5245, NICE_AGENT_OPTION_NONE);
    /* No UPnP (its discovery delays gathering), no ICE-TCP host candidates, no STUN server:
     * only what the TURN server gives. */
    g_object_set(sd->agent, "controlling-mode", role == NICE_CONTROLLING, "force-relay", relay_only,
                 "upnp", FALSE, "ice-tcp", FALSE, NULL);
    NiceAddress la;
    char ip[SL_ADDR_STRLEN];
    nice_address_init(&la);
    /* libnice skips loopback unless told: add the one address we mean, whatever it is. */
    if (!nice_address_set_from_string(&la, sl_addr_format(local, ip, sizeof(ip), FALSE)) ||
        !nice_agent_add_local_address(sd->agent, &la)) {
        *why = "libnice does not accept the local address";
        return sd;
    }
    json_object_set_string_member(sd->obj, "local_address", ip);
    sd->stream = nice_agent_add_stream(sd->agent, 1);
    if (sd->stream == 0) {
        *why = "libnice could not add a stream";
        return sd;
    }
    g_signal_connect(sd->agent, "new-candidate-full", G_CALLBACK(on_candidate), sd);
    g_signal_connect(sd->agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done), sd);
    g_signal_connect(sd->agent, "component-state-changed", G_CALLBACK(on_state), sd);
    g_signal_connect(sd->agent, "new-selected-pair-full", G_CALLBACK(on_selected_pair), sd);
    nice_agent_attach_recv(sd->agent, sd->stream, 1, nr->ctx->mc, on_recv, sd);
    return sd;
}

static void on_closed(GObject *src, GAsyncResult *res, gpointer ud)
{
    (void)src;
    (void)res;
    struct nice_side *sd = ud;
    sd->closed = TRUE;
    if (sd->abandoned) {
        g_object_unref(sd->agent);
        g_free(sd);
    }
}

static gboolean wake(gpointer ud)
{
    (void)ud;
    return G_SOURCE_REMOVE;
}

/* Closes every agent: its TURN allocations are released (Refresh with lifetime 0) before it is
 * freed. This runs even after the deadline or Ctrl-C, bounded by its own NICE_CLOSE_US. */
static double close_all(struct nice_run *nr, gboolean *all_closed)
{
    gint64 t = g_get_monotonic_time();
    int pending = 0;
    for (int i = 0; i < nr->n_sides; i++) {
        struct nice_side *sd = nr->side[i];
        /* The receive callback stays attached: detaching it stops libnice reading the socket,
         * and then the answers to its deallocations never arrive. on_recv ignores data now. */
        g_signal_handlers_disconnect_by_data(sd->agent, sd);
        sd->closing = TRUE;
        nice_agent_close_async(sd->agent, on_closed, sd);
        pending++;
    }
    gint64 until = t + NICE_CLOSE_US;
    while (pending > 0) {
        pending = 0;
        for (int i = 0; i < nr->n_sides; i++)
            pending += !nr->side[i]->closed;
        gint64 now = g_get_monotonic_time();
        if (pending == 0 || now >= until)
            break;
        GSource *w = g_timeout_source_new((guint)MAX(1, (until - now) / 1000));
        g_source_set_callback(w, wake, NULL, NULL);
        g_source_attach(w, nr->ctx->mc);
        g_main_context_iteration(nr->ctx->mc, TRUE);
        g_source_destroy(w);
        g_source_unref(w);
    }
    double ms = ms_since(t);
    if (all_closed)
        *all_closed = pending == 0;
    for (int i = 0; i < nr->n_sides; i++) {
        struct nice_side *sd = nr->side[i];
        nr->side[i] = NULL;
        if (!sd->closed) {
            /* The callback frees it whenever libnice gets there. */
            sd->abandoned = TRUE;
            continue;
        }
        g_object_unref(sd->agent);
        g_free(sd);
    }
    /* libnice releases its sockets and timers from idle callbacks after the last unref. */
    for (int i = 0; i < 16 && g_main_context_iteration(nr->ctx->mc, FALSE); i++)
        ;
    return ms;
}

/* ---- the ice step's libnice half ---- */

static gboolean connect_done(void *ud)
{
    struct nice_run *nr = ud;
    struct nice_side *a = nr->side[0], *b = nr->side[1];
    if (a->ready && b->ready)
        return TRUE;
    if (a->failed || b->failed)
        return TRUE;
    /* Relay-only: an agent that finished gathering without a relay candidate can never
     * connect. */
    for (int i = 0; i < 2; i++)
        if (nr->side[i]->gathered && nr->side[i]->n_cands[NICE_CANDIDATE_TYPE_RELAYED] == 0)
            return TRUE;
    return FALSE;
}

static gboolean data_done(void *ud)
{
    struct nice_run *nr = ud;
    return nr->side[0]->replies_got == NICE_PINGS && nr->side[1]->replies_got == NICE_PINGS &&
           nr->side[0]->pings_got >= NICE_PINGS && nr->side[1]->pings_got >= NICE_PINGS;
}

static void send_pings(struct nice_side *sd)
{
    char mine = sd->role == NICE_CONTROLLING ? 'c' : 'p';
    for (uint32_t i = 0; i < NICE_PINGS; i++) {
        uint8_t out[CHK_PAYLOAD_LEN];
        chk_payload_make(sd->nr->ctx, out, mine, 'N', i);
        sd->sent_at[i] = g_get_monotonic_time();
        if (nice_agent_send(sd->agent, sd->stream, 1, sizeof(out), (const gchar *)out) ==
            (gint)sizeof(out))
            sd->pings_sent++;
        else
            sd->sent_at[i] = 0;
    }
}

static void side_finish(struct nice_side *sd)
{
    json_object_set_boolean_member(sd->obj, "gathering_done", sd->gathered);
    json_object_set_int_member(sd->obj, "relay_candidates",
                               sd->n_cands[NICE_CANDIDATE_TYPE_RELAYED]);
    json_object_set_int_member(sd->obj, "remote_candidates", sd->n_remote);
    json_object_set_string_member(sd->obj, "final_state", state_name(sd->state));
    if (sd->nr->log) {
        /* How the server answered this agent's requests, as libnice's log tells. */
        static const char *const req[2] = {"allocate_answers", "permission_answers"};
        for (int k = 0; k < 2; k++) {
            const guint *n = k == 0 ? sd->alloc_answers : sd->perm_answers;
            JsonObject *o = json_object_new();
            json_object_set_int_member(o, "success", n[0]);
            json_object_set_int_member(o, "error", n[1]);
            json_object_set_object_member(sd->obj, req[k], o);
        }
    }
    if (sd->ready) {
        JsonObject *d = json_object_new();
        json_object_set_int_member(d, "sent", sd->pings_sent);
        json_object_set_int_member(d, "received", sd->pings_got);
        json_object_set_int_member(d, "replies", sd->replies_got);
        if (sd->replies_got) {
            JsonObject *rtt = json_object_new();
            json_object_set_double_member(rtt, "min", (double)(gint64)(sd->rtt_min * 1000) / 1000);
            json_object_set_double_member(
                rtt, "avg", (double)(gint64)(sd->rtt_sum / sd->replies_got * 1000) / 1000);
            json_object_set_double_member(rtt, "max", (double)(gint64)(sd->rtt_max * 1000) / 1000);
            json_object_set_object_member(d, "rtt_ms", rtt);
        }
        json_object_set_object_member(sd->obj, "data", d);
    }
}

static gboolean nice_stopped(const struct chk_ctx *ctx)
{
    return ctx->interrupted || (ctx->stop && *ctx->stop);
}

static gboolean binding_failed(const struct rpt_session *s)
{
    const struct rpt_step *b = rpt_step_find(s, "binding");
    return b && b->status == RPT_FAIL;
}

void chk_nice_run(struct chk_run *run)
{
    struct chk_ctx *ctx = &run->ctx;
    const struct chk_config *cfg = ctx->cfg;
    struct rpt_step *st = rpt_step_find(ctx->s, "ice");
    if (!st || json_object_has_member(st->details, "libnice") || !chk_step_enabled(cfg, "ice") ||
        run->external_peer)
        return;
    JsonObject *L = json_object_new();
    json_object_set_object_member(st->details, "libnice", L);
    char *server = chk_addr_str(&ctx->server);
    NiceRelayType rt = relay_type(&cfg->uri);
    json_object_set_string_member(L, "server", server);
    json_object_set_string_member(L, "relay_transport", relay_type_name(rt));
    json_object_set_string_member(L, "capture", NICE_CAPTURE_NOTE);
    if (rt == NICE_RELAY_TYPE_TURN_TLS)
        json_object_set_string_member(L, "tls",
                                      "libnice does not verify the server's "
                                      "certificate; the tls step does");

    gint64 now = g_get_monotonic_time();
    const char *not_run = NULL;
    struct sl_addr local = {0};
    if (!cfg->username || !cfg->password)
        not_run = "no TURN credentials";
    else if (cfg->uri.secure && cfg->uri.transport == SL_URI_UDP)
        not_run = "libnice has no TURN over DTLS (only UDP, TCP and TLS)";
    else if (cfg->uri.secure)
        /* libnice 0.1.21 wraps a TURN-TLS relay in TLS only in its Google and MS-OC modes; in
         * RFC 5245 mode it speaks plain TCP to the TLS port, credentials in clear. A server
         * that tells TLS from plain per connection (coturn) then answers, which proves nothing
         * about TLS, and a TLS-only server fails it. */
        not_run = "libnice (0.1.21) speaks plain TCP where TURN over TLS is asked in RFC 5245 "
                  "mode, which would send the credentials in clear to the TLS port: the tls step "
                  "and turnprobe's own checks cover turns:";
    else if (nice_stopped(ctx))
        not_run = "interrupted";
    else if (now >= ctx->deadline)
        not_run = "the run's deadline (--timeout) had passed";
    else if (binding_failed(ctx->s))
        /* Nothing answered turnprobe's own Binding: libnice would spend its budget meeting the
         * same silence or refusal, and report nothing new. */
        not_run = "the server did not answer turnprobe's own Binding (see binding): libnice "
                  "would meet the same";
    else if (run->client && run->client->conn && run->client->conn->local.family)
        local = run->client->conn->local; /* the address our own client used */
    else if (!route_local(&ctx->server, &local))
        not_run = "no local address routes to the server";
    if (not_run) {
        json_object_set_boolean_member(L, "ran", FALSE);
        json_object_set_string_member(L, "why", not_run);
        g_free(server);
        return;
    }
    local.port = 0;
    gint64 until = MIN(ctx->deadline, now + (gint64)CHK_NICE_BUDGET_S * G_USEC_PER_SEC);
    json_object_set_boolean_member(L, "ran", TRUE);
    json_object_set_double_member(L, "budget_ms", (double)((until - now) / 1000));

    struct nice_run nr = {.ctx = ctx, .t0 = now, .trickle = TRUE, .token = ctx->token};
    log_start(&nr);
    const char *why = NULL;
    for (int i = 0; i < 2 && !why; i++) {
        nr.side[i] = side_new(&nr, i, &local, TRUE, &why);
        nr.n_sides = i + 1;
        json_object_set_object_member(L, nice_roles[i], nr.side[i]->obj);
    }
    char sport[8];
    g_snprintf(sport, sizeof(sport), "%u", ctx->server.port);
    char ip[SL_ADDR_STRLEN];
    sl_addr_format(&ctx->server, ip, sizeof(ip), FALSE);
    for (int i = 0; i < 2 && !why; i++) {
        struct nice_side *sd = nr.side[i];
        if (!nice_agent_set_relay_info(sd->agent, sd->stream, 1, ip, ctx->server.port,
                                       cfg->username, cfg->password, rt))
            why = "libnice does not accept the TURN server's address";
    }
    if (!why) {
        /* Credentials first (RFC 8445 §5.3: they travel with the candidates), then gathering:
         * candidates trickle to the other agent as they come. */
        for (int i = 0; i < 2; i++) {
            struct nice_side *sd = nr.side[i], *other = nr.side[1 - i];
            gchar *ufrag = NULL, *pwd = NULL;
            nice_agent_get_local_credentials(sd->agent, sd->stream, &ufrag, &pwd);
            nice_agent_set_remote_credentials(other->agent, other->stream, ufrag, pwd);
            g_free(ufrag);
            if (pwd)
                memset(pwd, 0, strlen(pwd));
            g_free(pwd);
        }
        for (int i = 0; i < 2 && !why; i++)
            if (!nice_agent_gather_candidates(nr.side[i]->agent, nr.side[i]->stream))
                why = "libnice could not open a socket on the local address";
    }
    const char *ended;
    if (why) {
        ended = "setup-failed";
        json_object_set_string_member(L, "why", why);
    } else {
        gboolean done = chk_wait(ctx, connect_done, &nr, until);
        struct nice_side *a = nr.side[0], *b = nr.side[1];
        if (a->ready && b->ready) {
            ended = "ready";
            json_object_set_double_member(L, "ready_ms", ms_since(nr.t0));
            send_pings(a);
            send_pings(b);
            chk_wait(ctx, data_done, &nr, MIN(until, g_get_monotonic_time() + NICE_DATA_US));
        } else if (a->failed || b->failed) {
            ended = "failed";
        } else if (done) {
            ended = "no-relay";
        } else {
            ended = nice_stopped(ctx) ? "interrupted" : "deadline";
        }
    }
    json_object_set_string_member(L, "ended", ended);
    for (int i = 0; i < nr.n_sides; i++)
        side_finish(nr.side[i]);
    json_object_set_double_member(L, "duration_ms", ms_since(nr.t0));
    JsonArray *events = log_stop(&nr);
    if (events)
        json_object_set_array_member(L, "turn_answers", events);
    gboolean closed = FALSE;
    json_object_set_double_member(L, "close_ms", close_all(&nr, &closed));
    /* FALSE: libnice had not released its allocations within NICE_CLOSE_US. */
    json_object_set_boolean_member(L, "closed", closed);
    g_free(server);
}

/* ---- the judge ---- */

static JsonObject *obj_member(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static gint64 int_member(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_int(n) : 0;
}

static const char *str_member(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_string(n) : NULL;
}

static gboolean bool_member(JsonObject *o, const char *name)
{
    return o && json_object_get_boolean_member_with_default(o, name, FALSE);
}

static double num_member(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_double(n) : 0;
}

static const char *step_diag(const struct rpt_session *s, const char *id, enum rpt_status *status)
{
    const struct rpt_step *st = rpt_step_find(s, id);
    if (status)
        *status = st ? st->status : RPT_SKIP;
    return st ? st->diagnosis : NULL;
}

/* How many answers of a kind libnice logged for an agent; -1 when its log was not read. */
static gint64 answers(JsonObject *side, const char *request, const char *kind)
{
    JsonObject *o = obj_member(side, request);
    return o ? int_member(o, kind) : -1;
}

struct nice_verdict {
    enum rpt_status status;
    const char *diag;
    char *summary;
    const char *hint;
    gboolean earlier_cause; /* no relay candidate because of a step that already failed */
};

static void judge_libnice(const struct rpt_session *s, JsonObject *L, struct nice_verdict *v)
{
    JsonObject *a = obj_member(L, "controlling"), *b = obj_member(L, "controlled");
    const char *ended = str_member(L, "ended");
    const char *server = str_member(L, "server");
    const char *tp = str_member(L, "relay_transport");
    gint64 relays_a = int_member(a, "relay_candidates"),
           relays_b = int_member(b, "relay_candidates");
    enum rpt_status alloc_status, perm_status, bind_status;
    const char *alloc = step_diag(s, "allocate", &alloc_status);
    const char *perm = step_diag(s, "permission", &perm_status);
    const char *bind = step_diag(s, "binding", &bind_status);
    v->status = RPT_FAIL;
    v->hint = NULL;
    v->earlier_cause = FALSE;

    if (g_strcmp0(ended, "ready") == 0) {
        JsonObject *pa = obj_member(a, "selected_pair");
        const char *lt = str_member(obj_member(pa, "local"), "type");
        const char *rt = str_member(obj_member(pa, "remote"), "type");
        JsonObject *da = obj_member(a, "data"), *db = obj_member(b, "data");
        gint64 ab = int_member(db, "received"), ba = int_member(da, "received");
        gint64 sent_a = int_member(da, "sent"), sent_b = int_member(db, "sent");
        double rtt = num_member(obj_member(da, "rtt_ms"), "avg");
        if (g_strcmp0(lt, "relay") != 0 || g_strcmp0(rt, "relay") != 0) {
            v->diag = "ice-check-failed";
            v->summary = g_strdup_printf("libnice selected a %s/%s pair, not relay/relay: "
                                         "the relay was not the path tested",
                                         lt ? lt : "?", rt ? rt : "?");
        } else if (ab == 0 && ba == 0) {
            v->diag = "relay-no-data";
            v->summary = g_strdup_printf("libnice's agents reached READY through the relay but "
                                         "none of their %" G_GINT64_FORMAT " datagrams arrived",
                                         sent_a + sent_b);
        } else if (ab == 0 || ba == 0) {
            v->diag = "relay-one-way";
            v->summary = g_strdup_printf(
                "libnice's agents reached READY, but data went only from the %s to the %s agent",
                ab ? "controlling" : "controlled", ab ? "controlled" : "controlling");
        } else {
            v->status = RPT_PASS;
            v->diag = "ok";
            v->summary = g_strdup_printf(
                "libnice: both agents READY in %.0f ms over relay/relay (TURN over %s), "
                "%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " datagrams each way, RTT %.1f ms",
                num_member(L, "ready_ms"), tp ? tp : "?", ab, sent_a, rtt);
        }
        return;
    }
    if (g_strcmp0(ended, "setup-failed") == 0) {
        v->diag = "unexpected-error";
        v->summary = g_strdup_printf("libnice could not be set up: %s", str_member(L, "why"));
        return;
    }
    if (relays_a == 0 || relays_b == 0) {
        /* No relay candidate. libnice's log says whether the server answered its Allocate; our
         * own Allocate and Binding say why it would refuse or be unreachable. */
        JsonObject *lone = relays_a == 0 ? a : b; /* an agent without one */
        gboolean done = bool_member(lone, "gathering_done");
        gint64 errors = answers(lone, "allocate_answers", "error");
        gint64 successes = answers(lone, "allocate_answers", "success");
        double gave_up = num_member(lone, "gathering_ms");
        const char *which = relays_a == 0 && relays_b == 0 ? "no relay candidate"
                            : relays_a == 0 ? "the controlling agent got no relay candidate"
                                            : "the controlled agent got no relay candidate";
        if (alloc_status == RPT_FAIL && (g_strcmp0(alloc, "auth-rejected") == 0 ||
                                         g_strcmp0(alloc, "auth-wrong-credentials") == 0)) {
            v->diag = alloc;
            v->summary = g_strdup_printf(
                "libnice: %s: the server refused the credentials (see allocate)%s", which,
                errors > 0 ? "; libnice's own Allocate got error responses too" : "");
            v->earlier_cause = TRUE;
        } else if (bind_status == RPT_FAIL && (g_strcmp0(bind, "no-response") == 0 ||
                                               g_strcmp0(bind, "port-unreachable") == 0 ||
                                               g_strcmp0(bind, "tcp-connect-timeout") == 0)) {
            v->diag = bind;
            v->summary = g_strdup_printf(
                "libnice: %s: the server %s over %s is not reachable (see binding: %s)", which,
                server ? server : "?", tp ? tp : "?", bind);
            v->earlier_cause = TRUE;
        } else if (alloc_status == RPT_FAIL && alloc) {
            v->diag = alloc;
            v->summary = g_strdup_printf("libnice: %s: the server refused the allocation "
                                         "(see allocate: %s)",
                                         which, alloc);
            v->earlier_cause = TRUE;
        } else if (errors > 0) {
            v->diag = "ice-check-failed";
            v->summary = g_strdup_printf(
                "libnice: %s: the server answered libnice's Allocate with an error response "
                "although turnprobe's own Allocate succeeded (a quota such as user-quota counts "
                "libnice's two allocations on top of turnprobe's two; libnice does not log the "
                "code)",
                which);
        } else if (errors == 0 && successes == 0) {
            /* Our own flows got answers; libnice's, from other ports, got none. */
            v->diag = "no-response";
            v->summary = g_strdup_printf(
                "libnice: %s: the server %s over %s never answered libnice's Allocate (%s "
                "%.0f ms), although it answers turnprobe's own requests from other ports: "
                "something on the path drops some flows (a firewall, a rate limit)",
                which, server ? server : "?", tp ? tp : "?",
                done ? "libnice gave up after" : "waited",
                done ? gave_up : num_member(L, "duration_ms"));
        } else if (!done) {
            v->diag = "no-response";
            v->summary = g_strdup_printf(
                "libnice: %s: no relay candidate from %s over %s within %.0f ms", which,
                server ? server : "?", tp ? tp : "?", num_member(L, "duration_ms"));
        } else {
            v->diag = "ice-check-failed";
            v->summary = g_strdup_printf(
                "libnice: %s after %.0f ms although turnprobe's own Allocate succeeded: the "
                "server refused libnice's Allocate or did not answer it (libnice's log was not "
                "read: NICE_DEBUG is set)",
                which, gave_up);
        }
        return;
    }
    /* Both agents have relay candidates: the connectivity checks did not succeed. */
    gboolean perm403 = perm_status == RPT_FAIL && g_strcmp0(perm, "permission-forbidden") == 0;
    gboolean nice_perm = answers(a, "permission_answers", "error") > 0 ||
                         answers(b, "permission_answers", "error") > 0;
    const char *how = g_strcmp0(ended, "failed") == 0 ? "failed" : "did not finish";
    v->diag = g_strcmp0(ended, "failed") == 0 ? "ice-check-failed" : "ice-timeout";
    if (perm403 || nice_perm) {
        v->summary = g_strdup_printf(
            "libnice's connectivity checks %s: the server answers 403 Forbidden to "
            "CreatePermission for the peer's relay address%s, so no check reaches the other "
            "agent%s",
            how, perm403 ? " (see permission: permission-forbidden)" : "",
            nice_perm ? "; libnice's log shows the error responses to its own CreatePermission"
                      : "");
        v->hint = "The server's peer policy refuses the relay addresses of the two agents: "
                  "every ICE check between relay candidates needs a permission. On a lab server "
                  "whose relay addresses are loopback or private, coturn needs "
                  "allow-loopback-peers or allowed-peer-ip; otherwise check denied-peer-ip.";
    } else if (g_strcmp0(ended, "failed") == 0) {
        v->summary = g_strdup_printf(
            "libnice's connectivity checks failed between relay candidates (controlling agent "
            "%s, controlled agent %s)",
            str_member(a, "final_state"), str_member(b, "final_state"));
    } else {
        v->summary = g_strdup_printf(
            "libnice's agents did not connect within %.0f ms (controlling agent %s, controlled "
            "agent %s)",
            num_member(L, "duration_ms"), str_member(a, "final_state"),
            str_member(b, "final_state"));
    }
}

/* The first earlier step that failed: why the probe's own ICE checks did not run. */
static const struct rpt_step *blocking_step(const struct rpt_session *s)
{
    static const char *const ids[] = {"binding", "allocate", "permission", "channel"};
    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
        const struct rpt_step *st = rpt_step_find(s, ids[i]);
        if (st && st->status == RPT_FAIL)
            return st;
    }
    return NULL;
}

void chk_nice_judge(const struct rpt_result *r, struct rpt_session *s)
{
    (void)r;
    struct rpt_step *st = rpt_step_find(s, "ice");
    JsonObject *L = st ? obj_member(st->details, "libnice") : NULL;
    if (!L || json_object_has_member(L, "status"))
        return;
    gboolean interrupted = g_strcmp0(str_member(L, "ended"), "interrupted") == 0;
    if (!bool_member(L, "ran") || interrupted) {
        /* Nothing to judge; when our own checks ran, say why libnice did not (finish). */
        const char *why = interrupted ? "interrupted (Ctrl-C)" : str_member(L, "why");
        if (st->status != RPT_SKIP && why && st->summary && !strstr(st->summary, "libnice")) {
            char *sum = g_strdup_printf("%s; libnice did not run: %s", st->summary, why);
            char *diag = g_strdup(st->diagnosis), *hint = g_strdup(st->hint);
            rpt_step_set(st, st->status, diag, sum, hint); /* it frees the old strings first */
            g_free(diag);
            g_free(hint);
            g_free(sum);
        }
        return;
    }
    struct nice_verdict v;
    judge_libnice(s, L, &v);
    /* The step's time includes the agents' (our own checks take a round trip or two). */
    double ms = st->duration_ms + num_member(L, "duration_ms") + num_member(L, "close_ms");
    st->duration_ms = (double)(gint64)(ms * 10.0 + 0.5) / 10.0;
    json_object_set_string_member(L, "status", rpt_status_name(v.status));
    json_object_set_string_member(L, "diagnosis", v.diag);
    json_object_set_string_member(L, "summary", v.summary);

    gboolean probe_ran = st->status != RPT_SKIP;
    if (probe_ran && st->status == RPT_FAIL) {
        /* The probe's own checks failed: that diagnosis stands; add what libnice saw. */
        char *sum = g_strdup_printf("%s; %s", st->summary ? st->summary : "", v.summary);
        char *hint = g_strdup(st->hint);
        char *diag = g_strdup(st->diagnosis);
        rpt_step_set(st, RPT_FAIL, diag, sum, hint);
        g_free(diag);
        g_free(hint);
        g_free(sum);
    } else if (probe_ran) {
        if (v.status == RPT_PASS) {
            char *sum = g_strdup_printf("%s; %s", st->summary ? st->summary : "", v.summary);
            char *diag = g_strdup(st->diagnosis), *hint = g_strdup(st->hint);
            rpt_step_set(st, st->status, diag, sum, hint); /* it frees the old strings first */
            g_free(diag);
            g_free(hint);
            g_free(sum);
        } else {
            char *sum = g_strdup_printf("turnprobe's ICE checks passed, but %s", v.summary);
            chk_verdict(s, st, RPT_FAIL, v.diag, sum, v.hint);
            g_free(sum);
        }
    } else {
        const struct rpt_step *blk = blocking_step(s);
        char *before = blk ? g_strdup_printf("turnprobe's own ICE checks did not run (needs %s; "
                                             "%s failed: %s)",
                                             blk->id, blk->id, blk->diagnosis)
                           : g_strdup("turnprobe's own ICE checks did not run");
        if (v.status == RPT_FAIL && v.earlier_cause) {
            /* Same cause as an earlier failure, already a finding: say it, do not count it
             * twice. */
            char *sum = g_strdup_printf("skipped: %s. %s", before, v.summary);
            rpt_step_set(st, RPT_SKIP, "ok", sum, NULL);
            g_free(sum);
        } else {
            char *sum = g_strdup_printf("%s. %s", v.summary, before);
            chk_verdict(s, st, v.status, v.diag, sum, v.hint);
            g_free(sum);
        }
        g_free(before);
    }
    g_free(v.summary);
}

/* ---- the gathering view of one iceServers URL ---- */

static gboolean gather_done(void *ud)
{
    return ((struct nice_run *)ud)->side[0]->gathered;
}

static void add_failed(JsonArray *failed, const char *type, const char *why)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "type", type);
    json_object_set_string_member(o, "why", why);
    json_array_add_object_element(failed, o);
}

JsonObject *chk_nice_gather(const struct chk_config *cfg, volatile gboolean *interrupted)
{
    JsonObject *out = json_object_new();
    JsonArray *failed = json_array_new();
    char url[300];
    sl_uri_format(&cfg->uri, url, sizeof(url));
    json_object_set_string_member(out, "url", url);
    json_object_set_string_member(out, "capture", NICE_CAPTURE_NOTE);
    json_object_set_array_member(out, "failed", failed);

    struct chk_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.cfg = cfg;
    ctx.stop = interrupted;
    gint64 now = g_get_monotonic_time();
    ctx.deadline =
        cfg->deadline_us ? cfg->deadline_us : now + (gint64)(cfg->timeout_s * G_USEC_PER_SEC);
    ctx.deadline = MIN(ctx.deadline, now + (gint64)CHK_NICE_BUDGET_S * G_USEC_PER_SEC);

    struct sl_addr local;
    char *server = cfg->server ? chk_addr_str(cfg->server) : NULL;
    const char *why = NULL;
    if (!cfg->server)
        why = "no server address";
    else if (cfg->uri.turn && (!cfg->username || !cfg->password))
        why = "a turn: URL needs a username and a credential";
    else if (cfg->uri.secure && cfg->uri.transport == SL_URI_UDP)
        why = "libnice cannot use TURN or STUN over DTLS";
    else if (cfg->uri.secure)
        why = "libnice (0.1.21) speaks plain TCP where TLS is asked in RFC 5245 mode (it would "
              "send the credentials in clear), so no browser-like gathering from turns:/stuns:";
    else if (now >= ctx.deadline || (interrupted && *interrupted))
        why = "the run's deadline (--timeout) had passed";
    else if (!route_local(cfg->server, &local))
        why = "no local address routes to the server";
    if (server)
        json_object_set_string_member(out, "server", server);
    if (why) {
        json_object_set_boolean_member(out, "gathering_done", FALSE);
        add_failed(failed, "all", why);
        g_free(server);
        return out;
    }
    local.port = 0;
    char ip[SL_ADDR_STRLEN];
    json_object_set_string_member(out, "local_address",
                                  sl_addr_format(&local, ip, sizeof(ip), FALSE));

    ctx.mc = g_main_context_ref_thread_default(); /* as chk_check_run: the thread's own */
    struct nice_run nr = {.ctx = &ctx, .t0 = now};
    log_start(&nr);
    nr.side[0] = side_new(&nr, NICE_CONTROLLING, &local, FALSE, &why);
    nr.n_sides = 1;
    struct nice_side *sd = nr.side[0];
    sl_addr_format(cfg->server, ip, sizeof(ip), FALSE);
    NiceRelayType rt = relay_type(&cfg->uri);
    const char *tp = cfg->uri.turn ? relay_type_name(rt) : "udp";
    if (!why && cfg->uri.turn) {
        json_object_set_string_member(out, "relay_transport", tp);
        if (!nice_agent_set_relay_info(sd->agent, sd->stream, 1, ip, cfg->server->port,
                                       cfg->username, cfg->password, rt))
            why = "libnice does not accept the TURN server's address";
    } else if (!why) {
        g_object_set(sd->agent, "stun-server", ip, "stun-server-port", (guint)cfg->server->port,
                     NULL);
    }
    if (!why && !nice_agent_gather_candidates(sd->agent, sd->stream))
        why = "libnice could not open a socket on the local address";
    gboolean done = FALSE;
    if (!why)
        done = chk_wait(&ctx, gather_done, &nr, ctx.deadline);
    double ms = ms_since(now);
    JsonArray *events = log_stop(&nr);
    json_object_set_boolean_member(out, "gathering_done", done);
    if (done)
        json_object_set_double_member(out, "gathering_ms", num_member(sd->obj, "gathering_ms"));
    json_object_set_array_member(out, "candidates", json_array_ref(sd->cands));
    if (events)
        json_object_set_array_member(out, "turn_answers", events);

    JsonObject *obtained = json_object_new();
    static const struct {
        NiceCandidateType t;
        const char *name;
    } kinds[] = {{NICE_CANDIDATE_TYPE_HOST, "host"},
                 {NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE, "srflx"},
                 {NICE_CANDIDATE_TYPE_RELAYED, "relay"}};
    for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++) {
        if (!sd->n_cands[kinds[k].t])
            continue;
        JsonObject *o = json_object_new();
        json_object_set_int_member(o, "count", sd->n_cands[kinds[k].t]);
        for (guint i = 0; i < json_array_get_length(sd->cands); i++) {
            JsonObject *c = json_array_get_object_element(sd->cands, i);
            if (g_strcmp0(str_member(c, "type"), kinds[k].name) == 0) {
                json_object_set_double_member(o, "first_ms", num_member(c, "ms"));
                break;
            }
        }
        json_object_set_object_member(obtained, kinds[k].name, o);
    }
    json_object_set_object_member(out, "obtained", obtained);

    if (why) {
        add_failed(failed, "all", why);
    } else {
        /* What failed and why: the server's answers as libnice's log tells (when it was
         * read), else only what the timing allows. */
        const char *req = cfg->uri.turn ? "Allocate" : "Binding request";
        const guint *ans = cfg->uri.turn ? sd->alloc_answers : sd->bind_answers;
        gboolean logged = events != NULL;
        char *silence = !done ? g_strdup_printf("no answer to libnice's %s from %s over %s "
                                                "within %.0f ms (the deadline)",
                                                req, server, tp, ms)
                              : g_strdup_printf("no answer to libnice's %s from %s over %s: "
                                                "libnice gave up after %.0f ms",
                                                req, server, tp, ms);
        char *w = NULL;
        if (!sd->n_cands[NICE_CANDIDATE_TYPE_HOST])
            add_failed(failed, "host", "libnice found no usable local address");
        if (cfg->uri.turn && !sd->n_cands[NICE_CANDIDATE_TYPE_RELAYED]) {
            if (logged && ans[0] == 0 && ans[1] == 0)
                w = g_strdup_printf("no relay candidate: %s", silence);
            else if (logged || done)
                w = g_strdup_printf(
                    "no relay candidate: %s refused libnice's Allocate%s: most often 401 (a "
                    "wrong username or credential, or an expired TURN REST credential), or a "
                    "quota; libnice does not log the code",
                    server, logged ? " with an error response" : " or did not answer it");
            else
                w = g_strdup_printf("no relay candidate: %s", silence);
            add_failed(failed, "relay", w);
            g_clear_pointer(&w, g_free);
        }
        if (!sd->n_cands[NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE]) {
            if (cfg->uri.turn && !sd->n_cands[NICE_CANDIDATE_TYPE_RELAYED])
                w = g_strdup("no server-reflexive candidate: libnice takes it from a successful "
                             "Allocate, and there was none");
            else if (ans[0] > 0 || (cfg->uri.turn && sd->n_cands[NICE_CANDIDATE_TYPE_RELAYED]))
                /* libnice drops a srflx candidate equal to a host candidate. */
                w = g_strdup_printf("no server-reflexive candidate although %s answered: it sees "
                                    "the host address itself (no NAT on the way; libnice drops "
                                    "such duplicates)",
                                    server);
            else if (logged && ans[1] > 0)
                w = g_strdup_printf("no server-reflexive candidate: %s answered libnice's "
                                    "Binding request with an error response",
                                    server);
            else if (logged || !done)
                w = g_strdup_printf("no server-reflexive candidate: %s", silence);
            else
                w = g_strdup_printf("no server-reflexive candidate: gathering ended after %.0f "
                                    "ms without one; the server did not answer, answered with "
                                    "an error, or sees the host address itself (no NAT)",
                                    ms);
            add_failed(failed, "srflx", w);
            g_clear_pointer(&w, g_free);
        }
        g_free(silence);
    }
    JsonObject *own = sd->obj; /* close_all frees sd */
    close_all(&nr, NULL);
    json_object_unref(own);
    g_main_context_unref(ctx.mc);
    g_free(server);
    return out;
}
