/* Construction and lifetime of the result model (see rpt_model.h). */
#include "rpt_model.h"

#include <string.h>

const struct rpt_step_info rpt_steps[] = {
    {"settings", "Settings and credentials"},
    {"dns", "DNS resolution"},
    {"tls", "TLS/DTLS handshake"},
    {"binding", "STUN Binding (reachability)"},
    {"allocate", "Allocation and authentication"},
    {"permission", "CreatePermission for the peer"},
    {"send-data", "Send and Data indications"},
    {"channel", "ChannelBind and ChannelData"},
    {"ice", "ICE connectivity checks through the relay"},
    {"refresh", "Refresh and deallocation"},
    {"policy", "Peer address policy"},
};
const size_t rpt_step_count = G_N_ELEMENTS(rpt_steps);

const char *rpt_step_title(const char *id)
{
    for (size_t i = 0; i < rpt_step_count; i++)
        if (strcmp(rpt_steps[i].id, id) == 0)
            return rpt_steps[i].title;
    return id;
}

static void packet_free(gpointer data)
{
    struct rpt_packet *p = data;
    if (p->payload)
        g_bytes_unref(p->payload);
    if (p->wire)
        g_bytes_unref(p->wire);
    g_free(p->endpoint);
    g_free(p->step);
    g_free(p->summary);
    g_free(p->note);
    g_free(p->verdict);
    g_free(p);
}

static void txn_free(gpointer data)
{
    struct rpt_txn *t = data;
    g_free(t->step);
    g_free(t->endpoint);
    g_array_unref(t->req_pkts);
    g_free(t->reason);
    g_free(t);
}

static void step_free(gpointer data)
{
    struct rpt_step *s = data;
    g_free(s->id);
    g_free(s->diagnosis);
    g_free(s->summary);
    g_free(s->hint);
    g_array_unref(s->packets);
    json_object_unref(s->details);
    g_free(s);
}

static void finding_free(gpointer data)
{
    struct rpt_finding *f = data;
    g_free(f->diagnosis);
    g_free(f->step);
    g_free(f->message);
    g_free(f->hint);
    g_free(f);
}

static void session_free(gpointer data)
{
    struct rpt_session *s = data;
    g_free(s->name);
    g_free(s->target.uri);
    g_free(s->target.host);
    g_free(s->target.transport);
    g_free(s->target.username);
    g_free(s->target.password_info);
    g_free(s->target.address);
    g_ptr_array_unref(s->steps);
    g_ptr_array_unref(s->findings);
    g_ptr_array_unref(s->txns);
    json_object_unref(s->facts);
    g_free(s);
}

struct rpt_result *rpt_result_new(const char *command, const char *version)
{
    struct rpt_result *r = g_new0(struct rpt_result, 1);
    r->command = g_strdup(command);
    r->version = g_strdup(version);
    r->start_us = g_get_real_time();
    r->sessions = g_ptr_array_new_with_free_func(session_free);
    r->packets = g_ptr_array_new_with_free_func(packet_free);
    r->inputs = g_ptr_array_new_with_free_func(g_free);
    return r;
}

void rpt_result_free(struct rpt_result *r)
{
    if (!r)
        return;
    g_free(r->command);
    g_free(r->version);
    g_ptr_array_unref(r->sessions);
    g_ptr_array_unref(r->packets);
    g_ptr_array_unref(r->inputs);
    g_free(r->capture_file);
    g_free(r->capture_note);
    if (r->keylog) {
        memset(r->keylog, 0, strlen(r->keylog));
        g_free(r->keylog);
    }
    g_free(r);
}

struct rpt_session *rpt_session_add(struct rpt_result *r, const char *name)
{
    struct rpt_session *s = g_new0(struct rpt_session, 1);
    s->name = g_strdup(name);
    s->steps = g_ptr_array_new_with_free_func(step_free);
    s->findings = g_ptr_array_new_with_free_func(finding_free);
    s->txns = g_ptr_array_new_with_free_func(txn_free);
    s->facts = json_object_new();
    g_ptr_array_add(r->sessions, s);
    return s;
}

struct rpt_packet *rpt_packet_add(struct rpt_result *r, enum rpt_kind kind, enum rpt_dir dir,
                                  enum rpt_transport tp, const struct sl_addr *src,
                                  const struct sl_addr *dst, gint64 t_us, const void *payload,
                                  size_t len)
{
    struct rpt_packet *p = g_new0(struct rpt_packet, 1);
    p->n = r->packets->len + 1;
    p->t_us = t_us;
    p->dir = dir;
    p->kind = kind;
    p->transport = tp;
    p->src = *src;
    p->dst = *dst;
    if (payload)
        p->payload = g_bytes_new(payload, len);
    g_ptr_array_add(r->packets, p);
    return p;
}

struct rpt_packet *rpt_packet_get(const struct rpt_result *r, guint n)
{
    if (n == 0)
        return NULL;
    /* A check numbers its packets 1, 2, 3...; analyze keeps the capture's frame numbers,
     * which skip the frames that are not STUN/TURN. Both are in ascending order. */
    if (n <= r->packets->len) {
        struct rpt_packet *p = g_ptr_array_index(r->packets, n - 1);
        if (p->n == n)
            return p;
    }
    guint lo = 0, hi = r->packets->len;
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        struct rpt_packet *p = g_ptr_array_index(r->packets, mid);
        if (p->n == n)
            return p;
        if (p->n < n)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void rpt_packet_annotate(struct rpt_packet *p, const char *step, const char *verdict,
                         const char *note)
{
    if (step) {
        g_free(p->step);
        p->step = g_strdup(step);
    }
    if (verdict) {
        g_free(p->verdict);
        p->verdict = g_strdup(verdict);
    }
    if (note) {
        g_free(p->note);
        p->note = g_strdup(note);
    }
}

struct rpt_txn *rpt_txn_add(struct rpt_session *s, const char *step, const char *endpoint,
                            guint16 method, const guint8 tid[12])
{
    struct rpt_txn *t = g_new0(struct rpt_txn, 1);
    t->step = g_strdup(step);
    t->endpoint = g_strdup(endpoint);
    t->method = method;
    memcpy(t->tid, tid, 12);
    t->req_pkts = g_array_new(FALSE, FALSE, sizeof(guint));
    g_ptr_array_add(s->txns, t);
    return t;
}

struct rpt_step *rpt_step_add(struct rpt_session *s, const char *id)
{
    struct rpt_step *st = g_new0(struct rpt_step, 1);
    st->id = g_strdup(id);
    st->status = RPT_SKIP;
    st->diagnosis = g_strdup("ok");
    st->packets = g_array_new(FALSE, FALSE, sizeof(guint));
    st->details = json_object_new();
    g_ptr_array_add(s->steps, st);
    return st;
}

struct rpt_step *rpt_step_find(const struct rpt_session *s, const char *id)
{
    for (guint i = 0; i < s->steps->len; i++) {
        struct rpt_step *st = g_ptr_array_index(s->steps, i);
        if (strcmp(st->id, id) == 0)
            return st;
    }
    return NULL;
}

void rpt_step_set(struct rpt_step *st, enum rpt_status status, const char *diagnosis,
                  const char *summary, const char *hint)
{
    st->status = status;
    g_free(st->diagnosis);
    st->diagnosis = g_strdup(diagnosis ? diagnosis : "ok");
    g_free(st->summary);
    st->summary = g_strdup(summary);
    g_free(st->hint);
    st->hint = g_strdup(hint);
}

struct rpt_finding *rpt_finding_add(struct rpt_session *s, const char *diagnosis,
                                    enum rpt_severity sev, const char *step, const char *message,
                                    const char *hint)
{
    struct rpt_finding *f = g_new0(struct rpt_finding, 1);
    f->diagnosis = g_strdup(diagnosis);
    f->severity = sev;
    f->step = g_strdup(step);
    f->message = g_strdup(message);
    f->hint = g_strdup(hint);
    g_ptr_array_add(s->findings, f);
    return f;
}

enum rpt_status rpt_session_verdict(const struct rpt_session *s)
{
    enum rpt_status v = RPT_PASS;
    for (guint i = 0; i < s->steps->len; i++) {
        const struct rpt_step *st = g_ptr_array_index(s->steps, i);
        if (st->status == RPT_FAIL)
            return RPT_FAIL;
        if (st->status == RPT_WARN)
            v = RPT_WARN;
    }
    for (guint i = 0; i < s->findings->len; i++) {
        const struct rpt_finding *f = g_ptr_array_index(s->findings, i);
        if (f->severity == RPT_SEV_FAIL)
            return RPT_FAIL;
        if (f->severity == RPT_SEV_WARN)
            v = RPT_WARN;
    }
    return v;
}

const struct rpt_step *rpt_session_worst_step(const struct rpt_session *s)
{
    const struct rpt_step *warn = NULL;
    for (guint i = 0; i < s->steps->len; i++) {
        const struct rpt_step *st = g_ptr_array_index(s->steps, i);
        if (st->status == RPT_FAIL)
            return st;
        if (st->status == RPT_WARN && !warn)
            warn = st;
    }
    return warn;
}

enum rpt_status rpt_result_verdict(const struct rpt_result *r)
{
    enum rpt_status v = RPT_PASS;
    for (guint i = 0; i < r->sessions->len; i++) {
        enum rpt_status sv = rpt_session_verdict(g_ptr_array_index(r->sessions, i));
        if (sv == RPT_FAIL)
            return RPT_FAIL;
        if (sv == RPT_WARN)
            v = RPT_WARN;
    }
    return v;
}

const char *rpt_status_name(enum rpt_status s)
{
    static const char *const n[] = {"pass", "warn", "fail", "skip"};
    return (unsigned)s < G_N_ELEMENTS(n) ? n[s] : "?";
}

const char *rpt_severity_name(enum rpt_severity s)
{
    static const char *const n[] = {"info", "warn", "fail"};
    return (unsigned)s < G_N_ELEMENTS(n) ? n[s] : "?";
}

const char *rpt_transport_name(enum rpt_transport t)
{
    static const char *const n[] = {"udp", "tcp", "tls", "dtls"};
    return (unsigned)t < G_N_ELEMENTS(n) ? n[t] : "?";
}

const char *rpt_kind_name(enum rpt_kind k)
{
    static const char *const n[] = {"stun", "channeldata", "tls", "other", "tcp-syn",
                                    "tcp-synack", "tcp-ack", "tcp-fin", "tcp-rst", "icmp"};
    return (unsigned)k < G_N_ELEMENTS(n) ? n[k] : "?";
}

const char *rpt_txn_outcome_name(enum rpt_txn_outcome o)
{
    static const char *const n[] = {"pending", "success", "error", "timeout",
                                    "unreachable", "local-error", "closed", "garbage"};
    return (unsigned)o < G_N_ELEMENTS(n) ? n[o] : "?";
}

double rpt_packet_time(const struct rpt_result *r, const struct rpt_packet *p)
{
    return (double)(p->t_us - r->start_us) / 1e6;
}
