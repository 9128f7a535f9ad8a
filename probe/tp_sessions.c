/* Sessions and evidence from a capture: STUN/TURN found by content, transactions matched by id,
 * packets tagged with checklist steps, then check's judges and capture-aware judgements. */
#include "tp_sessions.h"

#include <string.h>

#include "chk.h"
#include "chk_run.h"
#include "rpt_pcapng.h"
#include "sl_auth.h"
#include "sl_chan.h"
#include "sl_classify.h"
#include "sl_fmt.h"
#include "sl_msg.h"
#include "sl_names.h"
#include "sl_rd.h"

/* Indexes into rpt_steps (checked in tp_sessions_new). */
enum {
    IX_SETTINGS = 0,
    IX_DNS,
    IX_TLS,
    IX_BINDING,
    IX_ALLOCATE,
    IX_PERMISSION,
    IX_SEND_DATA,
    IX_CHANNEL,
    IX_ICE,
    IX_REFRESH,
    IX_POLICY,
    N_STEPS,
    IX_NONE = 0xFF
};

#define MAX_CHANS      32
#define MAX_PEERS      32
#define MAX_MALFORMED  8
#define DUP_CAP        4
#define CTRL_CAP       8
#define DONE_KEEP_US   (60 * G_USEC_PER_SEC)
#define SWEEP_EVERY_US (30 * G_USEC_PER_SEC)

struct fkey {
    guint8 family, proto;
    guint8 pad[2];
    guint16 port[2];
    guint8 addr[2][16];
};

struct counts {
    guint64 n, bytes;
};

struct tls_info {
    char *sni, *alpn_offered, *alpn, *version, *cipher;
    gboolean client_hello, server_hello;
    guint records[2];
    guint64 bytes[2];
    int alert_level[2], alert_desc[2]; /* the last plaintext alert each way; level 0: none */
    guint alerts_encrypted[2];
    gboolean fin[2], rst[2];
    gint64 hello_us;
    guint itemised[2];
    guint last_note_frame;
};

/* Transactions beyond the itemised ones: only counted. */
struct extra {
    guint total, ok, failed;
    int last_code;
};

struct sess {
    guint index;
    struct rpt_result *sr;  /* this session's own result while analysing (packets numbered 1..) */
    struct rpt_session *s;
    GArray *frame_of;       /* guint: local packet n-1 -> frame */
    GPtrArray *final;       /* after finish: local n-1 -> the packet in the final result */
    struct sl_addr client, server;
    enum rpt_transport tp;
    gboolean ice, turn, is_tls;
    guint txns[N_STEPS];
    guint data_items[N_STEPS][2];
    guint orphans, ctrl;
    struct counts ind[2], chan[2], stun[2];
    GHashTable *peers;      /* char* "addr:port" */
    struct extra extra[N_STEPS];
    GHashTable *why;        /* struct rpt_txn* -> char*: a malformed response explained */
    GHashTable *conflict;   /* struct rpt_txn* -> char*: later responses that contradict the first */
    GPtrArray *cut_off;     /* char* */
    guint64 gaps, gap_bytes;
    char *input, *damage;
    struct tls_info tls;
};

struct txn {
    guint8 key[16];         /* bytes 4-19 of the header: cookie and id, or classic's 128 bits */
    guint16 method;
    guint8 req_dir, step;
    gboolean done, inner;
    struct rpt_txn *mt;     /* NULL: only counted */
    gint64 first_us, last_us;
    guint nreq, nresp;
    guint last_req_local;
};

struct flow {
    struct fkey k;
    int client;             /* side of k that is the client, -1 while unknown */
    struct sess *sess;
    GHashTable *txns;       /* key -> struct txn */
    guint16 chans[MAX_CHANS];
    guint nchans;
    gboolean bind_unknown;  /* a ChannelBind success whose request was not captured */
    gboolean not_turn;      /* TLS that is not TURN: do not look again */
};

G_STATIC_ASSERT(sizeof(struct fkey) == 40);

/* Flows by 5-tuple, looked up for every record: open addressing with linear probing, keys
 * compared and hashed a machine word at a time. Flows are never removed while analysing. */
struct ftab {
    struct flow **slot;
    size_t mask, n;
};

static inline guint64 fkey_word(const struct fkey *k, int i)
{
    guint64 w;
    memcpy(&w, (const guint8 *)k + 8 * i, 8);
    return w;
}

static inline gboolean fkey_same(const struct fkey *a, const struct fkey *b)
{
    guint64 d = 0;
    for (int i = 0; i < 5; i++)
        d |= fkey_word(a, i) ^ fkey_word(b, i);
    return d == 0;
}

static inline size_t fkey_hash(const struct fkey *k)
{
    guint64 h = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 5; i++)
        h = (h ^ fkey_word(k, i)) * 0xBF58476D1CE4E5B9ull;
    return (size_t)(h ^ (h >> 31));
}

static struct flow *ftab_find(const struct ftab *t, const struct fkey *k)
{
    if (!t->slot)
        return NULL;
    for (size_t i = fkey_hash(k) & t->mask;; i = (i + 1) & t->mask) {
        struct flow *f = t->slot[i];
        if (!f || fkey_same(&f->k, k))
            return f;
    }
}

static void ftab_put_slot(struct flow **slot, size_t mask, struct flow *f)
{
    size_t i = fkey_hash(&f->k) & mask;
    while (slot[i])
        i = (i + 1) & mask;
    slot[i] = f;
}

static void ftab_add(struct ftab *t, struct flow *f)
{
    if (!t->slot || (t->n + 1) * 2 > t->mask + 1) {
        size_t cap = t->slot ? (t->mask + 1) * 2 : 256;
        struct flow **slot = g_new0(struct flow *, cap);
        for (size_t i = 0; t->slot && i <= t->mask; i++)
            if (t->slot[i])
                ftab_put_slot(slot, cap - 1, t->slot[i]);
        g_free(t->slot);
        t->slot = slot;
        t->mask = cap - 1;
    }
    ftab_put_slot(t->slot, t->mask, f);
    t->n++;
}

struct tp_sessions {
    char *version;
    struct ftab flows;
    GPtrArray *sess;
    struct flow *last;
    char *input;
    FILE *log;
    gint64 last_sweep_us, last_rec_us;
};

/* ---- small helpers ------------------------------------------------------------------------- */

static guint key16_hash(gconstpointer k)
{
    const guint8 *b = k;
    return sl_get_u32(b + 4) ^ sl_get_u32(b + 8) ^ sl_get_u32(b + 12);
}

static gboolean key16_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, 16) == 0;
}

static void fkey_make(struct fkey *k, guint8 proto, const struct sl_addr *a,
                      const struct sl_addr *b)
{
    memset(k, 0, sizeof(*k));
    k->family = a->family;
    k->proto = proto;
    /* Any total order makes the key canonical; native words are cheaper than memcmp. */
    guint64 x[2], y[2];
    memcpy(x, a->ip, 16);
    memcpy(y, b->ip, 16);
    gboolean a_first = x[0] != y[0]   ? x[0] < y[0]
                       : x[1] != y[1] ? x[1] < y[1]
                                      : a->port <= b->port;
    const struct sl_addr *lo = a_first ? a : b, *hi = a_first ? b : a;
    memcpy(k->addr[0], lo->ip, 16);
    memcpy(k->addr[1], hi->ip, 16);
    k->port[0] = lo->port;
    k->port[1] = hi->port;
}

static int side_of(const struct flow *f, const struct sl_addr *a)
{
    guint64 x[2], y[2];
    memcpy(x, f->k.addr[0], 16);
    memcpy(y, a->ip, 16);
    return x[0] == y[0] && x[1] == y[1] && f->k.port[0] == a->port ? 0 : 1;
}

static void side_addr(const struct flow *f, int side, struct sl_addr *out)
{
    memset(out, 0, sizeof(*out));
    out->family = f->k.family;
    out->port = f->k.port[side];
    memcpy(out->ip, f->k.addr[side], 16);
}

static char *addr_str(const struct sl_addr *a, gboolean port)
{
    char b[SL_ADDR_STRLEN];
    return g_strdup(sl_addr_format(a, b, sizeof(b), port));
}

static const char *step_id(guint8 ix)
{
    return ix < N_STEPS ? rpt_steps[ix].id : NULL;
}

static guint8 step_ix(const char *id)
{
    for (guint8 i = 0; i < N_STEPS; i++)
        if (id && strcmp(rpt_steps[i].id, id) == 0)
            return i;
    return IX_NONE;
}

static void txn_free(gpointer p)
{
    g_free(p);
}

static void flow_free(gpointer p)
{
    struct flow *f = p;
    if (f->txns)
        g_hash_table_unref(f->txns);
    g_free(f);
}

static void tls_clear(struct tls_info *t)
{
    g_free(t->sni);
    g_free(t->alpn_offered);
    g_free(t->alpn);
    g_free(t->version);
    g_free(t->cipher);
}

static void sess_free(gpointer p)
{
    struct sess *s = p;
    rpt_result_free(s->sr);
    g_array_unref(s->frame_of);
    if (s->final)
        g_ptr_array_unref(s->final);
    g_hash_table_unref(s->peers);
    g_hash_table_unref(s->why);
    g_hash_table_unref(s->conflict);
    g_ptr_array_unref(s->cut_off);
    g_free(s->input);
    g_free(s->damage);
    tls_clear(&s->tls);
    g_free(s);
}

struct tp_sessions *tp_sessions_new(const char *version)
{
    g_assert(rpt_step_count == N_STEPS && strcmp(rpt_steps[IX_TLS].id, "tls") == 0 &&
             strcmp(rpt_steps[IX_ICE].id, "ice") == 0 &&
             strcmp(rpt_steps[IX_POLICY].id, "policy") == 0);
    struct tp_sessions *ss = g_new0(struct tp_sessions, 1);
    ss->version = g_strdup(version);
    ss->sess = g_ptr_array_new_with_free_func(sess_free);
    return ss;
}

void tp_sessions_free(struct tp_sessions *ss)
{
    if (!ss)
        return;
    for (size_t i = 0; ss->flows.slot && i <= ss->flows.mask; i++)
        if (ss->flows.slot[i])
            flow_free(ss->flows.slot[i]);
    g_free(ss->flows.slot);
    g_ptr_array_unref(ss->sess);
    g_free(ss->version);
    g_free(ss->input);
    g_free(ss);
}

guint tp_sessions_count(const struct tp_sessions *ss)
{
    return ss->sess->len;
}

void tp_sessions_input(struct tp_sessions *ss, const char *name)
{
    g_free(ss->input);
    ss->input = g_strdup(name);
}

void tp_sessions_set_log(struct tp_sessions *ss, FILE *log)
{
    ss->log = log;
}

void tp_sessions_damage(struct tp_sessions *ss, const char *what)
{
    for (guint i = 0; i < ss->sess->len; i++) {
        struct sess *s = g_ptr_array_index(ss->sess, i);
        if (!s->damage && g_strcmp0(s->input, ss->input) == 0)
            s->damage = g_strdup(what);
    }
}

/* ---- flows and sessions -------------------------------------------------------------------- */

static struct flow *flow_find(struct tp_sessions *ss, guint8 proto, const struct sl_addr *a,
                              const struct sl_addr *b, gboolean create)
{
    struct fkey k;
    fkey_make(&k, proto, a, b);
    if (ss->last && fkey_same(&ss->last->k, &k))
        return ss->last;
    struct flow *f = ftab_find(&ss->flows, &k);
    if (!f && create) {
        f = g_new0(struct flow, 1);
        f->k = k;
        f->client = -1;
        f->txns = g_hash_table_new_full(key16_hash, key16_equal, NULL, txn_free);
        ftab_add(&ss->flows, f);
    }
    if (f)
        ss->last = f;
    return f;
}

static enum rpt_dir dir_of(const struct flow *f, const struct tp_rec *rec)
{
    return side_of(f, &rec->src) == f->client ? RPT_OUT : RPT_IN;
}

static struct sess *sess_get(struct tp_sessions *ss, struct flow *f, enum rpt_transport tp)
{
    if (f->sess)
        return f->sess;
    if (f->client < 0)
        f->client = 0;
    struct sess *s = g_new0(struct sess, 1);
    s->index = ss->sess->len;
    s->sr = rpt_result_new("analyze", ss->version);
    s->frame_of = g_array_new(FALSE, FALSE, sizeof(guint));
    s->peers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    s->why = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    s->conflict = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    s->cut_off = g_ptr_array_new_with_free_func(g_free);
    s->tp = tp;
    s->input = g_strdup(ss->input);
    side_addr(f, f->client, &s->client);
    side_addr(f, !f->client, &s->server);
    char *c = addr_str(&s->client, TRUE), *sv = addr_str(&s->server, TRUE);
    char *name = g_strdup_printf("%s -> %s/%s", c, sv, rpt_transport_name(tp));
    s->s = rpt_session_add(s->sr, name);
    s->s->target.host = addr_str(&s->server, FALSE);
    s->s->target.port = s->server.port;
    s->s->target.transport = g_strdup(rpt_transport_name(tp));
    s->s->target.address = g_strdup(sv);
    json_object_set_string_member(s->s->facts, "client", c);
    json_object_set_string_member(s->s->facts, "server", sv);
    if (ss->input)
        json_object_set_string_member(s->s->facts, "capture", ss->input);
    g_free(name);
    g_free(c);
    g_free(sv);
    f->sess = s;
    g_ptr_array_add(ss->sess, s);
    return s;
}

/* ---- the comment log ----------------------------------------------------------------------- */

static void note_write(struct tp_sessions *ss, guint frame, const struct sess *s, guint local,
                       guint8 kind, guint16 type, size_t len, guint8 step, enum rpt_dir dir,
                       gboolean carries)
{
    if (!ss->log)
        return;
    struct tp_frame_note n;
    memset(&n, 0, sizeof(n));
    n.frame = frame;
    n.session = s->index;
    n.local = local;
    n.type = type;
    n.len = (guint16)MIN(len, 65535u);
    n.kind = kind;
    n.step = step;
    n.dir = (guint8)dir;
    n.carries = carries ? 1 : 0;
    if (fwrite(&n, sizeof(n), 1, ss->log) != 1)
        ss->log = NULL; /* the comments degrade; the analysis does not */
}

static guint8 note_kind(enum rpt_kind k)
{
    switch (k) {
    case RPT_PKT_STUN: return TP_NOTE_STUN;
    case RPT_PKT_CHANNELDATA: return TP_NOTE_CHANNEL;
    case RPT_PKT_TLS: return TP_NOTE_TLS;
    case RPT_PKT_ICMP_UNREACH: return TP_NOTE_ICMP;
    default: return TP_NOTE_TCP;
    }
}

/* An itemised packet: in the session's model, and in the log. */
static struct rpt_packet *pkt_add(struct tp_sessions *ss, struct sess *s, const struct tp_rec *rec,
                                  enum rpt_kind kind, enum rpt_dir dir, const void *payload,
                                  size_t len, guint8 step, const char *endpoint, gboolean carries)
{
    struct rpt_packet *p = rpt_packet_add(s->sr, kind, dir, s->tp, &rec->src, &rec->dst,
                                          rec->t_us, payload, len);
    g_array_append_val(s->frame_of, rec->frame);
    p->endpoint = g_strdup(endpoint);
    if (step != IX_NONE)
        p->step = g_strdup(step_id(step));
    guint16 type = 0;
    if (payload && len >= 4)
        type = sl_get_u16(payload);
    note_write(ss, rec->frame, s, p->n, note_kind(kind), type, len, step, dir, carries);
    return p;
}

static struct rpt_packet *local_pkt(struct sess *s, guint n)
{
    return rpt_packet_get(s->sr, n);
}

/* ---- requests and responses ---------------------------------------------------------------- */

static gboolean has_attr(const struct sl_msg *m, uint16_t type)
{
    return sl_msg_find(m, type) != NULL;
}

/* turnprobe check's own policy probes (chk_policy.c): CreatePermission for port 9 (discard) of
 * special-purpose addresses or of the server itself. A customer's capture has no such thing. */
static gboolean policy_probe(const struct sess *s, const struct sl_msg *m)
{
    guint n = 0;
    for (size_t i = 0; i < m->nattrs; i++) {
        if (m->attrs[i].type != SL_ATTR_XOR_PEER_ADDRESS)
            continue;
        struct sl_addr a;
        if (sl_attr_get_addr(m, &m->attrs[i], &a) != SL_OK || a.port != 9)
            return FALSE;
        struct sl_addr own = s->server;
        own.port = 9;
        if (sl_addr_scope(&a) == SL_SCOPE_PUBLIC && !sl_addr_equal(&a, &own))
            return FALSE;
        n++;
    }
    return n > 0;
}

static guint8 request_step(struct sess *s, const struct sl_msg *m, gboolean valid,
                           uint16_t method)
{
    switch (method) {
    case SL_BINDING:
        /* RFC 8445 §7.1: connectivity checks carry PRIORITY, ICE-CONTROLL(ED|ING) and a USERNAME
         * of the form rfrag:lfrag; a plain Binding asks for the mapped address. */
        if (valid && (has_attr(m, SL_ATTR_USERNAME) || has_attr(m, SL_ATTR_PRIORITY) ||
                      has_attr(m, SL_ATTR_ICE_CONTROLLING) || has_attr(m, SL_ATTR_ICE_CONTROLLED) ||
                      has_attr(m, SL_ATTR_USE_CANDIDATE))) {
            s->ice = TRUE;
            return IX_ICE;
        }
        return IX_BINDING;
    case SL_SHARED_SECRET: return IX_BINDING;
    case SL_GOOG_PING: s->ice = TRUE; return IX_ICE;
    case SL_ALLOCATE: return IX_ALLOCATE;
    case SL_REFRESH: return IX_REFRESH;
    case SL_CREATE_PERMISSION:
        return valid && policy_probe(s, m) ? IX_POLICY : IX_PERMISSION;
    case SL_CHANNEL_BIND: return IX_CHANNEL;
    case SL_CONNECT:
    case SL_CONNECTION_BIND: return IX_SEND_DATA;
    default: return IX_NONE;
    }
}

/* The step of a response whose request the capture does not hold. */
static guint8 orphan_step(const struct sess *s, const struct sl_msg *m, gboolean valid,
                          uint16_t method)
{
    if (method == SL_BINDING)
        return s->ice || (valid && has_attr(m, SL_ATTR_USERNAME)) ? IX_ICE : IX_BINDING;
    switch (method) {
    case SL_GOOG_PING: return IX_ICE;
    case SL_ALLOCATE: return IX_ALLOCATE;
    case SL_REFRESH: return IX_REFRESH;
    case SL_CREATE_PERMISSION: return IX_PERMISSION;
    case SL_CHANNEL_BIND: return IX_CHANNEL;
    case SL_SEND:
    case SL_DATA:
    case SL_CONNECT:
    case SL_CONNECTION_BIND:
    case SL_CONNECTION_ATTEMPT: return IX_SEND_DATA;
    default: return IX_NONE;
    }
}

static char *msg_summary(const guint8 *p, size_t n, gboolean valid)
{
    if (valid)
        return chk_msg_summary(p, n);
    char desc[96];
    sl_type_describe(sl_get_u16(p), desc, sizeof(desc));
    return g_strdup_printf("malformed %s", desc);
}

static void take_target(struct sess *s, const struct sl_msg *m, uint16_t method)
{
    if (method == SL_BINDING || method == SL_GOOG_PING || method == SL_SHARED_SECRET)
        return;
    s->turn = TRUE;
    const uint8_t *v;
    size_t len;
    if (!s->s->target.username && sl_msg_get_bytes(m, SL_ATTR_USERNAME, &v, &len) == SL_OK) {
        char *u = g_strndup((const char *)v, len);
        s->s->target.username = g_utf8_make_valid(u, -1);
        g_free(u);
    }
    if (!json_object_has_member(s->s->facts, "realm") &&
        sl_msg_get_bytes(m, SL_ATTR_REALM, &v, &len) == SL_OK) {
        char *rl = g_strndup((const char *)v, len);
        char *valid = g_utf8_make_valid(rl, -1);
        json_object_set_string_member(s->s->facts, "realm", valid);
        g_free(valid);
        g_free(rl);
    }
}

/* A request unanswered for good. */
static void txn_timeout(struct sess *s, struct txn *t)
{
    t->done = TRUE;
    if (!t->mt) {
        if (t->step < N_STEPS) {
            s->extra[t->step].failed++;
            s->extra[t->step].last_code = 0;
        }
        return;
    }
    t->mt->outcome = RPT_TXN_TIMEOUT;
    t->mt->end_us = t->last_us;
    struct rpt_packet *p = local_pkt(s, t->last_req_local);
    if (p) {
        char *note = g_strdup_printf("no response (%u transmission%s)", t->nreq,
                                     t->nreq == 1 ? "" : "s");
        /* ICE tries many candidate pairs and expects most checks to go unanswered. */
        rpt_packet_annotate(p, NULL, t->step == IX_ICE ? NULL : "no-response", note);
        g_free(note);
    }
}

static void on_request(struct tp_sessions *ss, struct flow *f, struct sess *s,
                       const struct tp_rec *rec, const guint8 *p, size_t n,
                       const struct sl_msg *m, gboolean valid, uint16_t method, enum rpt_dir dir,
                       const char *why)
{
    const char *ep = dir == RPT_OUT ? "client" : "peer";
    struct txn *t = g_hash_table_lookup(f->txns, p + 4);
    if (t && t->req_dir == dir && t->method == method) {
        t->nreq++;
        t->last_us = rec->t_us;
        if (t->mt) {
            struct rpt_packet *pk = pkt_add(ss, s, rec, RPT_PKT_STUN, dir, p, n, t->step, ep, FALSE);
            pk->summary = msg_summary(p, n, valid);
            char *note = g_strdup_printf("retransmission %u%s", t->nreq - 1,
                                         t->done ? " (after the response)" : " (no answer yet)");
            rpt_packet_annotate(pk, NULL, NULL, note);
            g_free(note);
            g_array_append_val(t->mt->req_pkts, pk->n);
            t->last_req_local = pk->n;
        } else {
            note_write(ss, rec->frame, s, 0, TP_NOTE_STUN, sl_get_u16(p), n, t->step, dir, FALSE);
        }
        return;
    }
    guint8 step = request_step(s, m, valid, method);
    if (valid)
        take_target(s, m, method);
    t = g_new0(struct txn, 1);
    memcpy(t->key, p + 4, 16);
    t->method = method;
    t->req_dir = (guint8)dir;
    t->step = step;
    t->first_us = t->last_us = rec->t_us;
    t->nreq = 1;
    g_hash_table_replace(f->txns, t->key, t);
    if (step == IX_NONE ? s->orphans < TP_SESS_ORPHAN_CAP : s->txns[step] < TP_SESS_TXN_CAP) {
        struct rpt_packet *pk = pkt_add(ss, s, rec, RPT_PKT_STUN, dir, p, n, step, ep, FALSE);
        pk->summary = msg_summary(p, n, valid);
        if (!valid)
            rpt_packet_annotate(pk, NULL, NULL, why);
        t->last_req_local = pk->n;
        if (step == IX_NONE) {
            s->orphans++;
            return;
        }
        s->txns[step]++;
        t->mt = rpt_txn_add(s->s, step_id(step), ep, method, p + 8);
        g_array_append_val(t->mt->req_pkts, pk->n);
        t->mt->start_us = rec->t_us;
        t->mt->authenticated = valid && (m->idx_mi >= 0 || m->idx_mi256 >= 0);
        if (method == SL_CHANNEL_BIND && valid) {
            uint16_t ch;
            if (sl_msg_get_channel(m, &ch) == SL_OK && f->nchans < MAX_CHANS) {
                gboolean known = FALSE;
                for (guint i = 0; i < f->nchans; i++)
                    known |= f->chans[i] == ch;
                if (!known)
                    f->chans[f->nchans++] = ch;
            }
        }
    } else {
        if (step < N_STEPS)
            s->extra[step].total++;
        note_write(ss, rec->frame, s, 0, TP_NOTE_STUN, sl_get_u16(p), n, step, dir, FALSE);
    }
}

/* The outcome of a transaction from its response, and what the response proves. */
static void set_outcome(struct sess *s, struct txn *t, struct rpt_packet *pk,
                        const struct sl_msg *m, gboolean valid, uint16_t type, enum sl_class cls,
                        const char *why, guint frame)
{
    struct rpt_txn *mt = t->mt;
    const char *sid = step_id(t->step);
    if (!valid) {
        mt->outcome = RPT_TXN_GARBAGE;
        char desc[96];
        char *w = g_strdup_printf("the %s in frame %u: %s",
                                  sl_type_describe(type, desc, sizeof(desc)), frame,
                                  why);
        g_hash_table_replace(s->why, mt, w);
        rpt_packet_annotate(pk, NULL, "not-stun", why);
        return;
    }
    if (cls == SL_SUCCESS) {
        mt->outcome = RPT_TXN_SUCCESS;
        rpt_packet_annotate(pk, NULL, "ok", t->step == IX_ICE ? "ICE check answered" : NULL);
        return;
    }
    int code;
    const char *reason;
    size_t rlen;
    if (sl_msg_get_error(m, &code, &reason, &rlen) != SL_OK) {
        mt->outcome = RPT_TXN_GARBAGE;
        const char *w0 = "an error response without ERROR-CODE (RFC 8489 §14.8 requires one)";
        char desc[96];
        g_hash_table_replace(s->why, mt,
                             g_strdup_printf("the %s in frame %u: %s",
                                             sl_type_describe(type, desc, sizeof(desc)), frame,
                                             w0));
        rpt_packet_annotate(pk, NULL, "not-stun", w0);
        return;
    }
    mt->outcome = RPT_TXN_ERROR;
    mt->error_code = code;
    char *r0 = g_strndup(reason, MIN(rlen, 200));
    mt->reason = g_utf8_make_valid(r0, -1);
    g_free(r0);
    const uint8_t *v;
    size_t vlen;
    char *realm = NULL;
    if (sl_msg_get_bytes(m, SL_ATTR_REALM, &v, &vlen) == SL_OK) {
        char *r1 = g_strndup((const char *)v, MIN(vlen, 200));
        realm = g_utf8_make_valid(r1, -1);
        g_free(r1);
    }
    if (code == 401 && !mt->authenticated) {
        char *note = g_strdup_printf("the expected challenge%s%s%s", realm ? " (realm \"" : "",
                                     realm ? realm : "", realm ? "\")" : "");
        rpt_packet_annotate(pk, NULL, NULL, note);
        g_free(note);
    } else if (code == 438) {
        rpt_packet_annotate(pk, NULL, NULL, "stale nonce: the client should retry with the new "
                                            "NONCE");
    } else if (code == 300) {
        rpt_packet_annotate(pk, NULL, NULL, "redirect to ALTERNATE-SERVER");
    } else if (t->step == IX_ICE) {
        rpt_packet_annotate(pk, NULL, "ice-check-failed", NULL);
    } else {
        rpt_packet_annotate(pk, NULL, code == 401 ? "auth-rejected" : chk_error_diagnosis(code, sid),
                            NULL);
    }
    g_free(realm);
}

static void on_response(struct tp_sessions *ss, struct flow *f, struct sess *s,
                        const struct tp_rec *rec, const guint8 *p, size_t n,
                        const struct sl_msg *m, gboolean valid, enum sl_class cls,
                        uint16_t method, enum rpt_dir dir, const char *why)
{
    struct txn *t = g_hash_table_lookup(f->txns, p + 4);
    if (valid && !json_object_has_member(s->s->facts, "software")) {
        const uint8_t *v;
        size_t len;
        if (sl_msg_get_bytes(m, SL_ATTR_SOFTWARE, &v, &len) == SL_OK) {
            char *sw = g_strndup((const char *)v, MIN(len, 200));
            char *ok = g_utf8_make_valid(sw, -1);
            json_object_set_string_member(s->s->facts, "software", ok);
            g_free(ok);
            g_free(sw);
        }
    }
    if (t && t->req_dir != dir && t->method == method) {
        const char *ep = t->req_dir == RPT_OUT ? "client" : "peer";
        t->nresp++;
        if (t->done && t->nresp > 1) {
            /* A later response that says otherwise than the first (a success, then an error):
             * the answering side is confused; keep what it said. */
            gboolean first_ok = t->mt && t->mt->outcome == RPT_TXN_SUCCESS;
            gboolean conflicting = t->mt && t->mt->resp_pkt && valid &&
                                   (cls == SL_SUCCESS) != first_ok;
            if (conflicting) {
                char *c0 = g_hash_table_lookup(s->conflict, t->mt);
                char *what = chk_msg_summary(p, n);
                char *c1 = g_strdup_printf("%s%s%s", c0 ? c0 : "", c0 ? ", " : "", what);
                g_hash_table_replace(s->conflict, t->mt, c1);
                g_free(what);
            }
            if (t->mt && t->nresp <= DUP_CAP) {
                struct rpt_packet *pk = pkt_add(ss, s, rec, RPT_PKT_STUN, dir, p, n, t->step, ep,
                                                FALSE);
                pk->summary = msg_summary(p, n, valid);
                rpt_packet_annotate(pk, NULL, NULL,
                                    conflicting
                                        ? "a second response that contradicts the first"
                                        : "duplicate response (to a retransmitted request)");
            } else {
                note_write(ss, rec->frame, s, 0, TP_NOTE_STUN, sl_get_u16(p), n, t->step, dir,
                           FALSE);
            }
            return;
        }
        gboolean late = t->done; /* answered after we declared a timeout */
        t->done = TRUE;
        if (!t->mt) {
            note_write(ss, rec->frame, s, 0, TP_NOTE_STUN, sl_get_u16(p), n, t->step, dir, FALSE);
            if (t->step < N_STEPS && !late) {
                gboolean ok = valid && cls == SL_SUCCESS;
                if (ok)
                    s->extra[t->step].ok++;
                else
                    s->extra[t->step].failed++;
                if (!ok) {
                    int code = 0;
                    const char *reason;
                    size_t rl;
                    if (valid)
                        sl_msg_get_error(m, &code, &reason, &rl);
                    s->extra[t->step].last_code = code;
                }
            }
            return;
        }
        struct rpt_packet *pk = pkt_add(ss, s, rec, RPT_PKT_STUN, dir, p, n, t->step, ep, FALSE);
        pk->summary = msg_summary(p, n, valid);
        if (late && t->mt->outcome != RPT_TXN_TIMEOUT) {
            rpt_packet_annotate(pk, NULL, NULL, "response after the connection closed");
            return;
        }
        t->mt->resp_pkt = pk->n;
        t->mt->end_us = rec->t_us;
        t->mt->rtt_ms = (double)(rec->t_us - t->first_us) / 1000.0;
        if (t->mt->rtt_ms < 0)
            t->mt->rtt_ms = 0;
        set_outcome(s, t, pk, m, valid, sl_get_u16(p), cls, why, rec->frame);
        if (late) {
            char *note = g_strdup_printf("a late answer, %.1f s after the request",
                                         t->mt->rtt_ms / 1000.0);
            rpt_packet_annotate(pk, NULL, NULL, note);
            g_free(note);
        }
        return;
    }
    /* A response to a request the capture does not hold (it began after the request). */
    guint8 step = orphan_step(s, m, valid, method);
    if (method == SL_CHANNEL_BIND && cls == SL_SUCCESS)
        f->bind_unknown = TRUE;
    if (s->orphans < TP_SESS_ORPHAN_CAP) {
        s->orphans++;
        struct rpt_packet *pk = pkt_add(ss, s, rec, RPT_PKT_STUN, dir, p, n, step,
                                        dir == RPT_IN ? "client" : "peer", FALSE);
        pk->summary = msg_summary(p, n, valid);
        rpt_packet_annotate(pk, NULL, NULL,
                            valid ? "response to a request the capture does not hold" : why);
    } else {
        note_write(ss, rec->frame, s, 0, TP_NOTE_STUN, sl_get_u16(p), n, step, dir, FALSE);
    }
}

/* ---- data through the relay, and STUN inside it (ICE over TURN) ---------------------------- */

static void peer_add(struct sess *s, const struct sl_addr *peer)
{
    if (!peer || !peer->family || g_hash_table_size(s->peers) >= MAX_PEERS)
        return;
    char *a = addr_str(peer, TRUE);
    if (g_hash_table_contains(s->peers, a))
        g_free(a);
    else
        g_hash_table_add(s->peers, a);
}

/* A STUN message carried in a Send/Data indication or a ChannelData record. */
static gboolean on_inner(struct tp_sessions *ss, struct flow *f, struct sess *s,
                         const struct tp_rec *rec, enum rpt_kind kind, enum rpt_dir dir,
                         const guint8 *outer, size_t outer_len, const guint8 *in, size_t in_len,
                         const char *carrier)
{
    struct sl_msg m;
    if (in_len < SL_HDR_LEN || sl_classify(in, in_len) != SL_KIND_STUN ||
        sl_msg_decode(&m, in, in_len, SL_DEC_LENIENT) != SL_OK)
        return FALSE;
    char desc[96];
    sl_type_describe(m.type, desc, sizeof(desc));
    guint8 nk = kind == RPT_PKT_CHANNELDATA ? TP_NOTE_CHANNEL : TP_NOTE_STUN;
    guint16 ntype = sl_get_u16(outer);
    struct txn *t = g_hash_table_lookup(f->txns, in + 4);
    if (m.cls == SL_REQUEST) {
        const char *ep = dir == RPT_OUT ? "client" : "peer";
        if (t && t->req_dir == dir) {
            t->nreq++;
            t->last_us = rec->t_us;
            if (t->mt) {
                struct rpt_packet *pk = pkt_add(ss, s, rec, kind, dir, outer, outer_len, IX_ICE,
                                                ep, TRUE);
                pk->summary = g_strdup_printf("%s carrying a %s", carrier, desc);
                rpt_packet_annotate(pk, NULL, NULL, "retransmitted ICE check");
                g_array_append_val(t->mt->req_pkts, pk->n);
                t->last_req_local = pk->n;
            } else {
                note_write(ss, rec->frame, s, 0, nk, ntype, outer_len, IX_ICE, dir, TRUE);
            }
            return TRUE;
        }
        s->ice = TRUE;
        t = g_new0(struct txn, 1);
        memcpy(t->key, in + 4, 16);
        t->method = m.method;
        t->req_dir = (guint8)dir;
        t->step = IX_ICE;
        t->inner = TRUE;
        t->first_us = t->last_us = rec->t_us;
        t->nreq = 1;
        g_hash_table_replace(f->txns, t->key, t);
        if (s->txns[IX_ICE] < TP_SESS_TXN_CAP) {
            s->txns[IX_ICE]++;
            struct rpt_packet *pk = pkt_add(ss, s, rec, kind, dir, outer, outer_len, IX_ICE, ep,
                                            TRUE);
            pk->summary = g_strdup_printf("%s carrying a %s", carrier, desc);
            rpt_packet_annotate(pk, NULL, NULL,
                                dir == RPT_OUT ? "ICE check to the peer through the relay"
                                               : "the peer's ICE check, through the relay");
            t->mt = rpt_txn_add(s->s, "ice", ep, m.method, m.tid);
            g_array_append_val(t->mt->req_pkts, pk->n);
            t->mt->start_us = rec->t_us;
            t->mt->authenticated = m.idx_mi >= 0 || m.idx_mi256 >= 0;
            t->last_req_local = pk->n;
        } else {
            s->extra[IX_ICE].total++;
            note_write(ss, rec->frame, s, 0, nk, ntype, outer_len, IX_ICE, dir, TRUE);
        }
        return TRUE;
    }
    if ((m.cls == SL_SUCCESS || m.cls == SL_ERROR) && t && t->req_dir != dir && !t->done) {
        t->done = TRUE;
        t->nresp++;
        if (!t->mt) {
            if (m.cls == SL_SUCCESS)
                s->extra[IX_ICE].ok++;
            else
                s->extra[IX_ICE].failed++;
            note_write(ss, rec->frame, s, 0, nk, ntype, outer_len, IX_ICE, dir, TRUE);
            return TRUE;
        }
        const char *ep = t->req_dir == RPT_OUT ? "client" : "peer";
        struct rpt_packet *pk = pkt_add(ss, s, rec, kind, dir, outer, outer_len, IX_ICE, ep, TRUE);
        pk->summary = g_strdup_printf("%s carrying a %s", carrier, desc);
        t->mt->resp_pkt = pk->n;
        t->mt->end_us = rec->t_us;
        t->mt->rtt_ms = MAX(0.0, (double)(rec->t_us - t->first_us) / 1000.0);
        set_outcome(s, t, pk, &m, TRUE, m.type, m.cls, NULL, rec->frame);
        return TRUE;
    }
    /* Indications, duplicates, answers to checks the capture does not hold. */
    if (s->data_items[IX_ICE][dir] < TP_SESS_DATA_CAP) {
        s->data_items[IX_ICE][dir]++;
        struct rpt_packet *pk = pkt_add(ss, s, rec, kind, dir, outer, outer_len, IX_ICE,
                                        dir == RPT_OUT ? "client" : "peer", TRUE);
        pk->summary = g_strdup_printf("%s carrying a %s", carrier, desc);
    } else {
        note_write(ss, rec->frame, s, 0, nk, ntype, outer_len, IX_ICE, dir, TRUE);
    }
    return TRUE;
}

static void on_indication(struct tp_sessions *ss, struct flow *f, struct sess *s,
                          const struct tp_rec *rec, const guint8 *p, size_t n,
                          const struct sl_msg *m, gboolean valid, uint16_t method,
                          enum rpt_dir dir, const char *why)
{
    guint8 step = IX_NONE;
    if (method == SL_SEND || method == SL_DATA) {
        s->turn = TRUE;
        step = IX_SEND_DATA;
        const uint8_t *d = NULL;
        size_t dlen = 0;
        struct sl_addr peer = {0};
        if (valid) {
            sl_msg_get_bytes(m, SL_ATTR_DATA, &d, &dlen);
            sl_msg_get_addr(m, SL_ATTR_XOR_PEER_ADDRESS, &peer);
            char pa[SL_ADDR_STRLEN];
            sl_addr_format(&peer, pa, sizeof(pa), TRUE);
            char carrier[120];
            g_snprintf(carrier, sizeof(carrier), "%s %s %s",
                       method == SL_SEND ? "Send indication" : "Data indication",
                       method == SL_SEND ? "to" : "from", pa);
            if (d && on_inner(ss, f, s, rec, RPT_PKT_STUN, dir, p, n, d, dlen, carrier))
                return;
            peer_add(s, &peer);
            s->ind[dir].n++;
            s->ind[dir].bytes += dlen;
        }
        if (s->data_items[step][dir] < TP_SESS_DATA_CAP) {
            s->data_items[step][dir]++;
            struct rpt_packet *pk = pkt_add(ss, s, rec, RPT_PKT_STUN, dir, p, n, step, "client",
                                            FALSE);
            if (valid) {
                char pa[SL_ADDR_STRLEN];
                sl_addr_format(&peer, pa, sizeof(pa), TRUE);
                pk->summary = g_strdup_printf("%s %s %s (%zu bytes of data)",
                                              method == SL_SEND ? "Send indication"
                                                                : "Data indication",
                                              method == SL_SEND ? "to" : "from", pa, dlen);
            } else {
                pk->summary = msg_summary(p, n, FALSE);
                rpt_packet_annotate(pk, NULL, NULL, why);
            }
        } else {
            note_write(ss, rec->frame, s, 0, TP_NOTE_STUN, sl_get_u16(p), n, step, dir, FALSE);
        }
        return;
    }
    if (method == SL_BINDING)
        step = s->ice || (valid && has_attr(m, SL_ATTR_USERNAME)) ? IX_ICE : IX_BINDING;
    if (s->orphans < TP_SESS_ORPHAN_CAP) {
        s->orphans++;
        struct rpt_packet *pk = pkt_add(ss, s, rec, RPT_PKT_STUN, dir, p, n, step,
                                        dir == RPT_OUT ? "client" : "peer", FALSE);
        pk->summary = msg_summary(p, n, valid);
        if (!valid)
            rpt_packet_annotate(pk, NULL, NULL, why);
        else if (method == SL_BINDING)
            rpt_packet_annotate(pk, NULL, NULL, "keepalive");
    } else {
        note_write(ss, rec->frame, s, 0, TP_NOTE_STUN, sl_get_u16(p), n, step, dir, FALSE);
    }
}

/* Which side is the client, from the first message of a flow. */
static int client_side(const struct flow *f, const struct tp_rec *rec, enum sl_class cls,
                       uint16_t method)
{
    int src = side_of(f, &rec->src);
    switch (cls) {
    case SL_REQUEST: return src;
    case SL_SUCCESS:
    case SL_ERROR: return !src;
    case SL_INDICATION: return method == SL_DATA ? !src : src;
    }
    return src;
}

static void on_stun(struct tp_sessions *ss, const struct tp_rec *rec, const guint8 *p, size_t n)
{
    struct sl_msg m;
    char why[200] = "";
    gboolean valid = FALSE;
    if (sl_get_u32(p + 4) == SL_MAGIC_COOKIE) {
        int rc = sl_msg_decode(&m, p, n, SL_DEC_LENIENT);
        if (rc == SL_OK) {
            valid = TRUE;
            if (m.idx_fp >= 0 && sl_auth_check_fingerprint(&m) != SL_OK) {
                valid = FALSE;
                g_strlcpy(why, "FINGERPRINT does not match the message (fingerprint)",
                          sizeof(why));
            }
        } else {
            char ex[160];
            sl_msg_explain(&m, rc, ex, sizeof(ex));
            g_snprintf(why, sizeof(why), "%s (%s)", ex, sl_strerror(rc));
        }
    } else if (sl_msg_decode(&m, p, n, SL_DEC_LENIENT | SL_DEC_CLASSIC) == SL_OK) {
        valid = TRUE;
    } else {
        return;
    }
    uint16_t type = sl_get_u16(p);
    enum sl_class cls = valid ? m.cls : sl_type_class(type);
    uint16_t method = valid ? m.method : sl_type_method(type);
    struct flow *f = flow_find(ss, rec->proto, &rec->src, &rec->dst, TRUE);
    if (f->client < 0)
        f->client = client_side(f, rec, cls, method);
    if (f->sess && f->sess->is_tls)
        return;
    struct sess *s = sess_get(ss, f, rec->proto == 6 ? RPT_TCP : RPT_UDP);
    enum rpt_dir dir = dir_of(f, rec);
    s->stun[dir].n++;
    s->stun[dir].bytes += n;
    switch (cls) {
    case SL_REQUEST: on_request(ss, f, s, rec, p, n, &m, valid, method, dir, why); break;
    case SL_SUCCESS:
    case SL_ERROR: on_response(ss, f, s, rec, p, n, &m, valid, cls, method, dir, why); break;
    case SL_INDICATION: on_indication(ss, f, s, rec, p, n, &m, valid, method, dir, why); break;
    }
}

static void on_channel(struct tp_sessions *ss, const struct tp_rec *rec, const guint8 *p,
                       size_t n)
{
    struct flow *f = flow_find(ss, rec->proto, &rec->src, &rec->dst, FALSE);
    if (!f || !f->sess || f->sess->is_tls)
        return;
    struct sl_chan ch;
    if (sl_chan_decode(&ch, p, n, rec->stream) != SL_OK)
        return;
    /* RFC 8656 §12: ChannelData is only valid on a channel bound on this 5-tuple; anything
     * else that looks like it is someone else's protocol. */
    gboolean bound = FALSE;
    for (guint i = 0; i < f->nchans; i++)
        bound |= f->chans[i] == ch.channel;
    if (!bound && f->bind_unknown && f->nchans < MAX_CHANS) {
        /* The ChannelBind request is not in the capture, only its success: the first channel
         * used is the one bound. */
        f->chans[f->nchans++] = ch.channel;
        f->bind_unknown = FALSE;
        bound = TRUE;
    }
    if (!bound)
        return;
    struct sess *s = f->sess;
    enum rpt_dir dir = dir_of(f, rec);
    /* Most records carry media: look for STUN inside before spending time on words. */
    if (ch.len >= SL_HDR_LEN && (ch.data[0] & 0xC0) == 0) {
        char carrier[48];
        g_snprintf(carrier, sizeof(carrier), "ChannelData 0x%04x", ch.channel);
        if (on_inner(ss, f, s, rec, RPT_PKT_CHANNELDATA, dir, p, n, ch.data, ch.len, carrier))
            return;
    }
    s->chan[dir].n++;
    s->chan[dir].bytes += ch.len;
    if (s->data_items[IX_CHANNEL][dir] < TP_SESS_DATA_CAP) {
        s->data_items[IX_CHANNEL][dir]++;
        struct rpt_packet *pk = pkt_add(ss, s, rec, RPT_PKT_CHANNELDATA, dir, p, n, IX_CHANNEL,
                                        "client", FALSE);
        pk->summary = g_strdup_printf("ChannelData 0x%04x (%u bytes of data)", ch.channel, ch.len);
    } else {
        note_write(ss, rec->frame, s, 0, TP_NOTE_CHANNEL, ch.channel, n, IX_CHANNEL, dir, FALSE);
    }
}

/* ---- TLS and DTLS -------------------------------------------------------------------------- */

struct hello {
    int type; /* 1 ClientHello, 2 ServerHello */
    char sni[256];
    char alpn[160];
    guint16 version, cipher;
};

static void alpn_parse(struct sl_rd *rd, size_t elen, char *out, size_t cap)
{
    struct sl_rd e;
    const guint8 *v = sl_rd_bytes(rd, elen);
    if (!v)
        return;
    sl_rd_init(&e, v, elen);
    size_t list = sl_rd_u16(&e);
    size_t end = MIN(list, sl_rd_left(&e));
    size_t start = e.off;
    while (!e.err && e.off - start < end) {
        guint8 l = sl_rd_u8(&e);
        const guint8 *s = sl_rd_bytes(&e, l);
        if (!s)
            break;
        size_t used = strlen(out);
        if (used + l + 2 < cap) {
            if (used)
                out[used++] = ',';
            for (guint8 i = 0; i < l; i++)
                out[used + i] = g_ascii_isprint(s[i]) ? (char)s[i] : '?';
            out[used + l] = '\0';
        }
    }
}

/* A ClientHello or ServerHello at the start of a handshake message (TLS or DTLS). */
static gboolean hello_parse(const guint8 *hs, size_t n, gboolean dtls, struct hello *h)
{
    memset(h, 0, sizeof(*h));
    struct sl_rd rd;
    sl_rd_init(&rd, hs, n);
    h->type = sl_rd_u8(&rd);
    sl_rd_skip(&rd, 3);
    if (dtls)
        sl_rd_skip(&rd, 8); /* message_seq, fragment_offset, fragment_length */
    if (h->type != 1 && h->type != 2)
        return FALSE;
    h->version = sl_rd_u16(&rd);
    sl_rd_skip(&rd, 32);
    sl_rd_skip(&rd, sl_rd_u8(&rd)); /* session id */
    if (h->type == 1) {
        if (dtls)
            sl_rd_skip(&rd, sl_rd_u8(&rd)); /* cookie */
        sl_rd_skip(&rd, sl_rd_u16(&rd));    /* cipher suites */
        sl_rd_skip(&rd, sl_rd_u8(&rd));     /* compression */
    } else {
        h->cipher = sl_rd_u16(&rd);
        sl_rd_skip(&rd, 1);
    }
    if (rd.err)
        return FALSE;
    if (sl_rd_left(&rd) < 2)
        return TRUE; /* no extensions */
    size_t ext_len = sl_rd_u16(&rd);
    size_t stop = rd.off + MIN(ext_len, sl_rd_left(&rd));
    while (!rd.err && rd.off + 4 <= stop) {
        guint16 et = sl_rd_u16(&rd);
        guint16 el = sl_rd_u16(&rd);
        if (et == 0 && h->type == 1) {
            const guint8 *v = sl_rd_bytes(&rd, el);
            struct sl_rd e;
            sl_rd_init(&e, v, v ? el : 0);
            sl_rd_skip(&e, 2);
            guint8 nt = sl_rd_u8(&e);
            guint16 nl = sl_rd_u16(&e);
            const guint8 *name = sl_rd_bytes(&e, nl);
            if (name && nt == 0) {
                size_t k = MIN((size_t)nl, sizeof(h->sni) - 1);
                for (size_t i = 0; i < k; i++)
                    h->sni[i] = g_ascii_isprint(name[i]) ? (char)name[i] : '?';
                h->sni[k] = '\0';
            }
        } else if (et == 16) {
            alpn_parse(&rd, el, h->alpn, sizeof(h->alpn));
        } else if (et == 43 && h->type == 2 && el == 2) {
            h->version = sl_rd_u16(&rd);
        } else {
            sl_rd_skip(&rd, el);
        }
    }
    return TRUE;
}

static const char *tls_version_name(guint16 v)
{
    switch (v) {
    case 0x0300: return "SSL 3.0";
    case 0x0301: return "TLS 1.0";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    case 0xFEFF: return "DTLS 1.0";
    case 0xFEFD: return "DTLS 1.2";
    case 0xFEFC: return "DTLS 1.3";
    default: return "unknown version";
    }
}

static const char *alert_name(int d)
{
    static const struct {
        int d;
        const char *n;
    } t[] = {{0, "close_notify"}, {10, "unexpected_message"}, {20, "bad_record_mac"},
             {22, "record_overflow"}, {40, "handshake_failure"}, {42, "bad_certificate"},
             {43, "unsupported_certificate"}, {44, "certificate_revoked"},
             {45, "certificate_expired"}, {46, "certificate_unknown"}, {47, "illegal_parameter"},
             {48, "unknown_ca"}, {49, "access_denied"}, {50, "decode_error"},
             {51, "decrypt_error"}, {70, "protocol_version"}, {71, "insufficient_security"},
             {80, "internal_error"}, {86, "inappropriate_fallback"}, {90, "user_canceled"},
             {109, "missing_extension"}, {110, "unsupported_extension"},
             {112, "unrecognized_name"}, {116, "certificate_required"},
             {120, "no_application_protocol"}};
    for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
        if (t[i].d == d)
            return t[i].n;
    return "unknown alert";
}

static gboolean tls_turn_port(guint16 port, gboolean dtls)
{
    if (dtls)
        return port == 5349 || port == 5350;
    return port == 5349 || port == 5350 || port == 3478 || port == 3479;
}

static gboolean alpn_is_turn(const char *list)
{
    /* RFC 7443: "stun.turn" (and "stun.nat-discovery") name STUN/TURN over (D)TLS. */
    return list && (strstr(list, "stun.turn") || strstr(list, "stun.nat-discovery"));
}

/* One TLS (or DTLS) record of a TURN-over-TLS flow. rec_len is the record's body length. */
static void tls_record(struct tp_sessions *ss, struct flow *f, struct sess *s,
                       const struct tp_rec *rec, const guint8 *r, size_t hdr, size_t rec_len,
                       guint8 type, gboolean dtls)
{
    struct tls_info *ti = &s->tls;
    enum rpt_dir dir = dir_of(f, rec);
    char *summary = NULL;
    if (type == 23) {
        ti->records[dir]++;
        ti->bytes[dir] += rec_len;
        if (!r && ti->last_note_frame == rec->frame)
            return; /* one note per frame is enough for many records */
    } else if (type == 22 && r) {
        struct hello h;
        if (hello_parse(r + hdr, rec_len, dtls, &h)) {
            if (h.type == 1) {
                ti->client_hello = TRUE;
                ti->hello_us = rec->t_us;
                if (h.sni[0] && !ti->sni)
                    ti->sni = g_strdup(h.sni);
                if (h.alpn[0] && !ti->alpn_offered)
                    ti->alpn_offered = g_strdup(h.alpn);
                summary = g_strdup_printf("%s ClientHello%s%s%s%s%s", dtls ? "DTLS" : "TLS",
                                          h.sni[0] ? " SNI " : "", h.sni, h.alpn[0] ? ", ALPN " : "",
                                          h.alpn, h.sni[0] || h.alpn[0] ? "" : " (no SNI)");
            } else {
                ti->server_hello = TRUE;
                g_free(ti->version);
                ti->version = g_strdup(tls_version_name(h.version));
                g_free(ti->cipher);
                ti->cipher = g_strdup_printf("0x%04x", h.cipher);
                if (h.alpn[0]) {
                    g_free(ti->alpn);
                    ti->alpn = g_strdup(h.alpn);
                }
                summary = g_strdup_printf("%s ServerHello (%s, cipher 0x%04x%s%s)",
                                          dtls ? "DTLS" : "TLS", tls_version_name(h.version),
                                          h.cipher, h.alpn[0] ? ", ALPN " : "", h.alpn);
            }
        }
    } else if (type == 21 && r) {
        if (rec_len == 2 && !ti->alerts_encrypted[dir]) {
            ti->alert_level[dir] = r[hdr];
            ti->alert_desc[dir] = r[hdr + 1];
            summary = g_strdup_printf("TLS alert: %s %s (%d)", r[hdr] == 2 ? "fatal" : "warning",
                                      alert_name(r[hdr + 1]), r[hdr + 1]);
        } else {
            ti->alerts_encrypted[dir]++;
            summary = g_strdup("TLS alert (encrypted)");
        }
    } else if (type == 20) {
        summary = g_strdup("TLS ChangeCipherSpec");
    }
    ti->last_note_frame = rec->frame;
    if (ti->itemised[dir] < TP_SESS_TLS_CAP || (type == 21 && ti->itemised[dir] < 64)) {
        ti->itemised[dir]++;
        struct rpt_packet *pk = pkt_add(ss, s, rec, RPT_PKT_TLS, dir, r, r ? hdr + rec_len : 0,
                                        IX_TLS, "client", FALSE);
        pk->summary = summary ? summary
                              : g_strdup_printf("%s %s (%zu bytes)", dtls ? "DTLS" : "TLS",
                                                type == 23 ? "application data" : "handshake",
                                                rec_len);
        summary = NULL;
    } else {
        note_write(ss, rec->frame, s, 0, TP_NOTE_TLS, type, rec_len, IX_TLS, dir, FALSE);
    }
    g_free(summary);
}

/* Finds or creates the TLS session of a flow when it is TURN over (D)TLS. */
static struct sess *tls_session(struct tp_sessions *ss, const struct tp_rec *rec,
                                const guint8 *hs, size_t hs_len, gboolean dtls)
{
    struct flow *f = flow_find(ss, rec->proto, &rec->src, &rec->dst, FALSE);
    if (f && (f->not_turn || (f->sess && !f->sess->is_tls)))
        return NULL;
    if (f && f->sess)
        return f->sess;
    struct hello h = {0};
    gboolean is_hello = hs && hello_parse(hs, hs_len, dtls, &h);
    gboolean turn_alpn = is_hello && h.type == 1 && alpn_is_turn(h.alpn);
    int client;
    if (is_hello && h.type == 1) {
        if (!turn_alpn && !tls_turn_port(rec->dst.port, dtls))
            return NULL;
        client = 0; /* the sender of the ClientHello: resolved below */
    } else if (tls_turn_port(rec->dst.port, dtls)) {
        client = 0;
    } else if (tls_turn_port(rec->src.port, dtls)) {
        client = 1;
    } else {
        return NULL;
    }
    f = flow_find(ss, rec->proto, &rec->src, &rec->dst, TRUE);
    int src = side_of(f, &rec->src);
    f->client = client == 0 ? src : !src;
    struct sess *s = sess_get(ss, f, dtls ? RPT_DTLS : RPT_TLS);
    s->is_tls = TRUE;
    return s;
}

static void on_tls(struct tp_sessions *ss, const struct tp_rec *rec)
{
    const guint8 *r = rec->p;
    guint8 type = r ? r[0] : 23;
    size_t body = r ? rec->len - 5 : rec->len;
    struct sess *s = tls_session(ss, rec, r && type == 22 ? r + 5 : NULL, body, FALSE);
    if (!s)
        return;
    struct flow *f = flow_find(ss, rec->proto, &rec->src, &rec->dst, FALSE);
    tls_record(ss, f, s, rec, r, 5, body, type, FALSE);
}

/* DTLS records in a UDP datagram (RFC 6347 §4.1: 13-byte headers). */
static void on_dtls(struct tp_sessions *ss, const struct tp_rec *rec)
{
    struct sl_rd rd;
    sl_rd_init(&rd, rec->p, rec->len);
    for (int i = 0; i < 16 && sl_rd_left(&rd) >= 13; i++) {
        const guint8 *h = sl_rd_bytes(&rd, 13);
        size_t len = sl_get_u16(h + 11);
        const guint8 *body = sl_rd_bytes(&rd, len);
        if (!body || h[0] < 20 || h[0] > 25)
            return;
        struct sess *s = tls_session(ss, rec, h[0] == 22 ? body : NULL, len, TRUE);
        if (!s)
            return;
        struct flow *f = flow_find(ss, rec->proto, &rec->src, &rec->dst, FALSE);
        tls_record(ss, f, s, rec, h, 13, len, h[0], TRUE);
    }
}

/* ---- TCP control, ICMP, gaps --------------------------------------------------------------- */

static void close_pending(struct sess *s, struct flow *f, enum rpt_dir by, guint pkt)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, f->txns);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct txn *t = v;
        if (t->done || t->req_dir == by)
            continue;
        t->done = TRUE;
        if (!t->mt) {
            if (t->step < N_STEPS)
                s->extra[t->step].failed++;
            continue;
        }
        t->mt->outcome = RPT_TXN_CLOSED;
        t->mt->end_us = t->last_us;
        if (pkt)
            t->mt->resp_pkt = pkt;
    }
}

static void on_ctrl(struct tp_sessions *ss, const struct tp_rec *rec)
{
    if (!(rec->tcp_flags & (TP_TCP_FIN | TP_TCP_RST)))
        return;
    struct flow *f = flow_find(ss, 6, &rec->src, &rec->dst, FALSE);
    if (!f || !f->sess)
        return;
    struct sess *s = f->sess;
    enum rpt_dir dir = dir_of(f, rec);
    gboolean rst = (rec->tcp_flags & TP_TCP_RST) != 0;
    if (s->is_tls) {
        (rst ? s->tls.rst : s->tls.fin)[dir] = TRUE;
    }
    guint n = 0;
    if (s->ctrl < CTRL_CAP) {
        s->ctrl++;
        struct rpt_packet *pk = pkt_add(ss, s, rec, rst ? RPT_PKT_TCP_RST : RPT_PKT_TCP_FIN, dir,
                                        NULL, 0, IX_NONE, "client", FALSE);
        pk->summary = g_strdup_printf("TCP %s from the %s", rst ? "reset" : "FIN",
                                      dir == RPT_IN ? "server" : "client");
        n = pk->n;
    }
    /* The requests of the other side die with the connection (a FIN only half-closes it: the
     * closing side's own requests may still be answered). */
    close_pending(s, f, dir, n);
}

static void on_icmp(struct tp_sessions *ss, const struct tp_rec *rec)
{
    struct flow *f = flow_find(ss, rec->proto, &rec->src, &rec->dst, FALSE);
    if (!f || !f->sess || rec->proto != 17)
        return;
    struct sess *s = f->sess;
    /* The quoted packet went from rec->src to rec->dst; the error comes back to its sender. */
    enum rpt_dir qdir = dir_of(f, rec);
    enum rpt_dir dir = qdir == RPT_OUT ? RPT_IN : RPT_OUT;
    gboolean port_unreach = (rec->icmp_type == 3 && rec->icmp_code == 3) ||
                            (rec->icmp_type == 1 && rec->icmp_code == 4);
    if (s->ctrl >= CTRL_CAP)
        return;
    s->ctrl++;
    struct tp_rec r2 = *rec;
    r2.src = rec->dst;
    r2.dst = rec->src;
    struct rpt_packet *pk = pkt_add(ss, s, &r2, RPT_PKT_ICMP_UNREACH, dir, NULL, 0, IX_NONE,
                                    "client", FALSE);
    pk->icmp_type = rec->icmp_type;
    pk->icmp_code = rec->icmp_code;
    char *a = addr_str(&rec->dst, TRUE);
    pk->summary = g_strdup_printf("ICMP%s destination unreachable (%s) for a packet to %s",
                                  rec->icmp_type == 1 ? "v6" : "",
                                  port_unreach ? "port unreachable" : "other code", a);
    g_free(a);
    /* Pending requests of the sender end with it. */
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, f->txns);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct txn *t = v;
        if (t->done || t->req_dir != qdir)
            continue;
        if (!pk->ref)
            pk->ref = t->last_req_local;
        if (!port_unreach || !t->mt)
            continue;
        t->done = TRUE;
        t->mt->outcome = RPT_TXN_UNREACH;
        t->mt->resp_pkt = pk->n;
        t->mt->end_us = rec->t_us;
        if (pk->step == NULL && t->step < N_STEPS)
            pk->step = g_strdup(step_id(t->step));
        rpt_packet_annotate(pk, NULL, "port-unreachable", NULL);
    }
    if (!pk->verdict)
        rpt_packet_annotate(pk, NULL, NULL,
                            qdir == RPT_IN ? "the client's port is closed (no request pending)"
                                           : "no request was pending");
}

static void end_pending(struct tp_sessions *ss, gint64 end_us);

/* ---- the record callback ------------------------------------------------------------------- */

static void sweep(struct tp_sessions *ss, gint64 now)
{
    for (size_t fi = 0; ss->flows.slot && fi <= ss->flows.mask; fi++) {
        struct flow *f = ss->flows.slot[fi];
        if (!f)
            continue;
        GHashTableIter ti;
        gpointer tv;
        g_hash_table_iter_init(&ti, f->txns);
        while (g_hash_table_iter_next(&ti, NULL, &tv)) {
            struct txn *t = tv;
            if (!t->done && now - t->last_us > TP_SESS_TIMEOUT_US && f->sess)
                txn_timeout(f->sess, t);
            else if (t->done && now - t->last_us > DONE_KEEP_US)
                g_hash_table_iter_remove(&ti);
        }
    }
    ss->last_sweep_us = now;
}

static gboolean stun_header(const guint8 *p, size_t n)
{
    return n >= SL_HDR_LEN && (p[0] & 0xC0) == 0 && sl_get_u32(p + 4) == SL_MAGIC_COOKIE &&
           sl_get_u16(p + 2) % 4 == 0 && (size_t)sl_get_u16(p + 2) + SL_HDR_LEN == n;
}

void tp_sessions_record(const struct tp_rec *rec, void *ud)
{
    struct tp_sessions *ss = ud;
    if (ss->last_rec_us && rec->t_us - ss->last_rec_us > TP_SESS_JUMP_US) {
        /* A jump in time: captures appended to one another (mergecap -a), or a long silence.
         * What was open just before it is judged as at the end of a capture. */
        end_pending(ss, ss->last_rec_us);
    }
    if (rec->t_us > ss->last_rec_us)
        ss->last_rec_us = rec->t_us;
    if (rec->t_us - ss->last_sweep_us > SWEEP_EVERY_US)
        sweep(ss, rec->t_us);
    switch (rec->kind) {
    case TP_REC_MSG: {
        const guint8 *p = rec->p;
        size_t n = rec->len;
        if (n == 0)
            return;
        guint8 b = p[0];
        if (b <= 3) {
            if (stun_header(p, n) || sl_classify(p, n) == SL_KIND_STUN_CLASSIC)
                on_stun(ss, rec, p, n);
        } else if (b >= 0x40 && b <= 0x4F) {
            on_channel(ss, rec, p, n);
        } else if (b >= 20 && b <= 25 && rec->proto == 17 && !rec->stream && n >= 13 &&
                   (tls_turn_port(rec->dst.port, TRUE) || tls_turn_port(rec->src.port, TRUE)) &&
                   sl_classify(p, n) == SL_KIND_DTLS) {
            on_dtls(ss, rec);
        }
        break;
    }
    case TP_REC_TLS: on_tls(ss, rec); break;
    case TP_REC_TCP_CTRL: on_ctrl(ss, rec); break;
    case TP_REC_ICMP: on_icmp(ss, rec); break;
    case TP_REC_GAP: {
        struct flow *f = flow_find(ss, 6, &rec->src, &rec->dst, FALSE);
        if (f && f->sess) {
            f->sess->gaps++;
            f->sess->gap_bytes += rec->len;
        }
        break;
    }
    }
}

/* ---- judging: check's judges, then what a capture needs ------------------------------------ */

#define MALFORMED_HINT                                                                          \
    "The server (or something on the path) sent a STUN response that does not follow RFC "     \
    "8489: it does not decode. Clients drop such responses and retransmit until they give up. " \
    "Check the server's software and version, and middleboxes that rewrite UDP (ALGs)."

/* Replaces a step's verdict and the findings it produced. */
static void rejudge(struct rpt_session *s, struct rpt_step *st, enum rpt_status status,
                    const char *diag, const char *summary, const char *hint)
{
    for (guint i = s->findings->len; i-- > 0;) {
        struct rpt_finding *f = g_ptr_array_index(s->findings, i);
        if (g_strcmp0(f->step, st->id) == 0)
            g_ptr_array_remove_index(s->findings, i);
    }
    chk_verdict(s, st, status, diag, summary, hint);
}

static gboolean unjudged(const struct rpt_step *st)
{
    return st && st->status == RPT_SKIP && !st->summary;
}

static void step_duration(const struct rpt_result *r, struct rpt_step *st)
{
    gint64 lo = 0, hi = 0;
    for (guint i = 0; i < st->packets->len; i++) {
        const struct rpt_packet *p = rpt_packet_get(r, g_array_index(st->packets, guint, i));
        if (!p)
            continue;
        if (!lo || p->t_us < lo)
            lo = p->t_us;
        hi = MAX(hi, p->t_us);
    }
    st->duration_ms = lo ? (double)(hi - lo) / 1000.0 : 0;
}

/* Classic STUN: check's judge decodes without SL_DEC_CLASSIC, so the mapped address of an
 * RFC 3489 response is read here. */
static void fix_classic_binding(const struct rpt_result *r, struct rpt_session *s)
{
    struct rpt_step *st = rpt_step_find(s, "binding");
    if (!st || st->status != RPT_FAIL || strcmp(st->diagnosis, "ok") != 0)
        return;
    GPtrArray *txns = chk_txns_of(s, "binding", "client");
    const struct rpt_txn *t = txns->len ? g_ptr_array_index(txns, txns->len - 1) : NULL;
    g_ptr_array_unref(txns);
    const struct rpt_packet *p = t && t->resp_pkt ? rpt_packet_get(r, t->resp_pkt) : NULL;
    struct sl_msg m;
    struct sl_addr mapped;
    gsize len;
    const guint8 *d = p && p->payload ? g_bytes_get_data(p->payload, &len) : NULL;
    if (d && sl_msg_decode(&m, d, len, SL_DEC_LENIENT | SL_DEC_CLASSIC) == SL_OK &&
        sl_msg_get_addr(&m, SL_ATTR_MAPPED_ADDRESS, &mapped) == SL_OK) {
        char a[SL_ADDR_STRLEN];
        sl_addr_format(&mapped, a, sizeof(a), TRUE);
        char *sum = g_strdup_printf("classic STUN (RFC 3489): the server sees the client as %s "
                                    "(RTT %.1f ms)", a, t->rtt_ms);
        rejudge(s, st, RPT_PASS, "ok", sum, NULL);
        g_free(sum);
        json_object_set_string_member(st->details, "mapped", a);
        json_object_set_boolean_member(st->details, "classic", TRUE);
        json_object_set_string_member(s->facts, "mapped", a);
    } else {
        rejudge(s, st, RPT_FAIL, "bad-request",
                "classic STUN (RFC 3489) Binding response without MAPPED-ADDRESS",
                "RFC 3489 §11.2.1: a Binding Response carries MAPPED-ADDRESS.");
    }
}

/* A malformed response: check's judges say "not-stun"; say what is wrong with it. */
static void fix_malformed(struct sess *ses)
{
    struct rpt_session *s = ses->s;
    for (guint i = 0; i < s->steps->len; i++) {
        struct rpt_step *st = g_ptr_array_index(s->steps, i);
        if (st->status != RPT_FAIL || strcmp(st->diagnosis, "not-stun") != 0)
            continue;
        GPtrArray *txns = chk_txns_of(s, st->id, NULL);
        for (guint k = txns->len; k-- > 0;) {
            const char *w = g_hash_table_lookup(ses->why, g_ptr_array_index(txns, k));
            if (w) {
                char *sum = g_strdup_printf("malformed response from the server: %s", w);
                rejudge(s, st, RPT_FAIL, "not-stun", sum, MALFORMED_HINT);
                g_free(sum);
                break;
            }
        }
        g_ptr_array_unref(txns);
    }
}

/* All XOR-PEER-ADDRESS values of a request packet. */
static void request_peers(const struct rpt_result *r, const struct rpt_txn *t, GPtrArray *out,
                          gboolean *all_special)
{
    const struct rpt_packet *p = rpt_packet_get(r, g_array_index(t->req_pkts, guint, 0));
    struct sl_msg m;
    gsize len;
    const guint8 *d = p && p->payload ? g_bytes_get_data(p->payload, &len) : NULL;
    if (!d || sl_msg_decode(&m, d, len, SL_DEC_LENIENT) != SL_OK)
        return;
    for (size_t i = 0; i < m.nattrs; i++) {
        struct sl_addr a;
        if (m.attrs[i].type != SL_ATTR_XOR_PEER_ADDRESS ||
            sl_attr_get_addr(&m, &m.attrs[i], &a) != SL_OK)
            continue;
        if (sl_addr_scope(&a) == SL_SCOPE_PUBLIC)
            *all_special = FALSE;
        g_ptr_array_add(out, addr_str(&a, TRUE));
    }
}

/* 403 to CreatePermission: name the peers; refusing private peers while others are granted is
 * the server's policy working, not a broken relay. */
static void fix_permission(const struct rpt_result *r, struct rpt_session *s)
{
    struct rpt_step *st = rpt_step_find(s, "permission");
    if (!st || strcmp(st->diagnosis, "permission-forbidden") != 0)
        return;
    GPtrArray *txns = chk_txns_of(s, "permission", NULL);
    GPtrArray *peers = g_ptr_array_new_with_free_func(g_free);
    guint granted = 0;
    gboolean all_special = TRUE;
    for (guint i = 0; i < txns->len; i++) {
        const struct rpt_txn *t = g_ptr_array_index(txns, i);
        if (t->outcome == RPT_TXN_SUCCESS)
            granted++;
        else if (t->outcome == RPT_TXN_ERROR && t->error_code == 403)
            request_peers(r, t, peers, &all_special);
    }
    g_ptr_array_unref(txns);
    JsonArray *ja = json_array_new();
    GString *list = g_string_new(NULL);
    for (guint i = 0; i < peers->len; i++) {
        const char *a = g_ptr_array_index(peers, i);
        json_array_add_string_element(ja, a);
        g_string_append_printf(list, "%s%s", i ? ", " : "", a);
    }
    json_object_set_array_member(st->details, "forbidden_peers", ja);
    json_object_set_int_member(st->details, "granted", granted);
    char *sum = g_strdup_printf("CreatePermission refused with 403 Forbidden for %u peer%s: %s%s",
                                peers->len, peers->len == 1 ? "" : "s",
                                list->len ? list->str : "(unknown)",
                                granted ? "; other permissions were granted" : "");
    gboolean policy = all_special && peers->len && granted;
    const char *hint =
        policy ? "The refused peers are private, loopback or otherwise special addresses while "
                 "public peers were granted: the server's peer policy doing its job (coturn "
                 "denied-peer-ip, no-loopback-peers). ICE moves on to the peer's other "
                 "candidates; act only if those peers are the ones the call needs."
               : "The server's peer policy refuses these peer addresses. Check the server's "
                 "denied-peer-ip / allowed-peer-ip ranges (coturn refuses loopback peers unless "
                 "allow-loopback-peers is set), and whether the peer address is one the client "
                 "should use at all.";
    rejudge(s, st, policy ? RPT_WARN : RPT_FAIL, "permission-forbidden", sum, hint);
    g_free(sum);
    g_string_free(list, TRUE);
    g_ptr_array_unref(peers);
}

static void peers_json(struct sess *ses, struct rpt_step *st)
{
    if (!g_hash_table_size(ses->peers))
        return;
    GList *keys = g_list_sort(g_hash_table_get_keys(ses->peers), (GCompareFunc)g_strcmp0);
    JsonArray *ja = json_array_new();
    for (GList *l = keys; l; l = l->next)
        json_array_add_string_element(ja, l->data);
    g_list_free(keys);
    json_object_set_array_member(st->details, "peers", ja);
}

/* Data through the relay in a customer's capture: check's judges count only turnprobe's own
 * payloads, so here any data counts, each way. */
static void judge_data_flow(const struct rpt_result *r, struct sess *ses, guint8 ix)
{
    struct rpt_session *s = ses->s;
    struct rpt_step *st = rpt_step_find(s, step_id(ix));
    if (!unjudged(st))
        return;
    const struct counts *c = ix == IX_SEND_DATA ? ses->ind : ses->chan;
    guint64 out = c[RPT_OUT].n, in = c[RPT_IN].n;
    if (!out && !in) {
        /* Nothing to say about data; a ChannelBind that succeeded is still worth a pass. */
        GPtrArray *txns = chk_txns_of(s, step_id(ix), NULL);
        gboolean bound = FALSE;
        for (guint i = 0; i < txns->len; i++)
            bound |= ((struct rpt_txn *)g_ptr_array_index(txns, i))->outcome == RPT_TXN_SUCCESS;
        g_ptr_array_unref(txns);
        if (ix != IX_CHANNEL || !bound)
            return;
    }
    chk_step_packets(r, st);
    step_duration(r, st);
    json_object_set_int_member(st->details, "sent", (gint64)out);
    json_object_set_int_member(st->details, "received", (gint64)in);
    json_object_set_int_member(st->details, "bytes_sent", (gint64)c[RPT_OUT].bytes);
    json_object_set_int_member(st->details, "bytes_received", (gint64)c[RPT_IN].bytes);
    if (ix == IX_SEND_DATA)
        peers_json(ses, st);
    const char *out_w = ix == IX_SEND_DATA ? "Send indications" : "ChannelData records";
    const char *in_w = ix == IX_SEND_DATA ? "Data indications" : "ChannelData records";
    char *sum;
    if (out && in) {
        sum = g_strdup_printf("data flows both ways through the relay: %" G_GUINT64_FORMAT
                              " %s out, %" G_GUINT64_FORMAT " %s in",
                              out, out_w, in, in_w);
        chk_verdict(s, st, RPT_PASS, "ok", sum, NULL);
    } else if (out && out < 3) {
        sum = g_strdup_printf("only %" G_GUINT64_FORMAT " %s out and nothing back yet: too little "
                              "to judge", out, out_w);
        rpt_step_set(st, RPT_SKIP, "ok", sum, NULL);
    } else if (out) {
        sum = g_strdup_printf("%" G_GUINT64_FORMAT " %s went out and no %s came back: nothing "
                              "from the peer reaches the client through the relay",
                              out, out_w, in_w);
        chk_verdict(s, st, RPT_FAIL, ix == IX_SEND_DATA ? "relay-no-data" : "channel-no-data", sum,
                    NULL);
    } else if (in && in < 3) {
        sum = g_strdup_printf("only %" G_GUINT64_FORMAT " %s in and nothing out: too little to "
                              "judge", in, in_w);
        rpt_step_set(st, RPT_SKIP, "ok", sum, NULL);
    } else if (in) {
        sum = g_strdup_printf("one way only: %" G_GUINT64_FORMAT " %s came in, the client sent "
                              "no data back through the relay", in, in_w);
        chk_verdict(s, st, RPT_WARN, "relay-one-way", sum, NULL);
    } else {
        sum = g_strdup(ix == IX_CHANNEL ? "channel bound; no ChannelData in the capture"
                                        : "no data through the relay in the capture");
        chk_verdict(s, st, RPT_PASS, "ok", sum, NULL);
    }
    g_free(sum);
}

/* ICE: check's judge counts packets (so retransmissions read as unanswered checks), expects
 * every check to succeed, and relies on the answers' integrity checked live; in a capture the
 * transactions say more, and in a real ICE session most candidate pairs never answer. */
static void fix_ice(const struct rpt_result *r, struct sess *ses)
{
    struct rpt_session *s = ses->s;
    struct rpt_step *st = rpt_step_find(s, "ice");
    if (!st)
        return;
    guint mine = 0, ok = 0, err = 0, theirs = 0, answered = 0, sent = 0;
    const struct rpt_txn *bad = NULL, *garbage = NULL;
    GString *refused = g_string_new(NULL);
    for (guint i = 0; i < s->txns->len; i++) {
        const struct rpt_txn *t = g_ptr_array_index(s->txns, i);
        if (strcmp(t->step, "ice") != 0)
            continue;
        if (g_strcmp0(t->endpoint, "peer") == 0) {
            theirs++;
            answered += t->outcome == RPT_TXN_SUCCESS;
            if (t->outcome == RPT_TXN_ERROR && refused->len < 200)
                g_string_append_printf(refused, "%s%d", refused->len ? ", " : "", t->error_code);
            const char *c = g_hash_table_lookup(ses->conflict, t);
            if (c && refused->len < 200)
                g_string_append_printf(refused, "%s%s after the first answer",
                                       refused->len ? ", " : "", c);
            continue;
        }
        mine++;
        sent += t->req_pkts->len;
        if (t->outcome == RPT_TXN_SUCCESS)
            ok++;
        else if (t->outcome == RPT_TXN_ERROR) {
            err++;
            bad = t;
        } else if (t->outcome == RPT_TXN_GARBAGE && !garbage) {
            garbage = t;
        }
    }
    json_object_set_int_member(st->details, "checks", mine);
    json_object_set_int_member(st->details, "answered", ok);
    if (sent > mine)
        json_object_set_int_member(st->details, "retransmissions", sent - mine);
    if (theirs) {
        json_object_set_int_member(st->details, "peer_checks", theirs);
        json_object_set_int_member(st->details, "peer_checks_answered", answered);
    }
    const char *how = ses->turn ? "through the relay" : "directly (not relayed)";
    char rtx[64] = "";
    if (sent > mine)
        g_snprintf(rtx, sizeof(rtx), ", %u retransmission%s", sent - mine,
                   sent - mine == 1 ? "" : "s");
    char *sum = NULL;
    enum rpt_status status;
    const char *diag;
    if (mine == 0 && theirs == 0) {
        chk_step_packets(r, st);
        step_duration(r, st);
        rejudge(s, st, RPT_SKIP, "ok", "ICE traffic seen, no check to judge (the capture ends "
                                       "before their answers, or holds only answers)", NULL);
        g_string_free(refused, TRUE);
        return;
    }
    if (garbage && !ok) {
        const char *w = g_hash_table_lookup(ses->why, garbage);
        sum = g_strdup_printf("malformed answer to an ICE check: %s",
                              w ? w : "not a STUN message");
        rejudge(s, st, RPT_FAIL, "not-stun", sum, MALFORMED_HINT);
        g_free(sum);
        g_string_free(refused, TRUE);
        return;
    }
    if (mine == 0) {
        status = answered ? RPT_PASS : RPT_WARN;
        diag = answered ? "ok" : "ice-check-failed";
        sum = g_strdup_printf("the client answered %u of the peer's %u ICE checks %s", answered,
                              theirs, how);
    } else if (err) {
        status = RPT_FAIL;
        diag = "ice-check-failed";
        char *why = chk_txn_explain(bad);
        sum = g_strdup_printf("%u of %u ICE checks %s answered with an error (%s)%s", err, mine,
                              how, why, rtx);
        g_free(why);
    } else if (ok) {
        status = RPT_PASS;
        diag = "ok";
        sum = g_strdup_printf("%u of %u ICE checks answered %s%s%s", ok, mine, how, rtx,
                              ok < mine ? "; the others went unanswered, as checks on candidate "
                                          "pairs that do not work do"
                                        : "");
    } else {
        status = RPT_FAIL;
        diag = "ice-check-failed";
        sum = g_strdup_printf("none of %u ICE checks %s was answered%s", mine, how, rtx);
    }
    if (mine && theirs) {
        /* In ICE both ends check: the peer's checks answered with errors (401 before the
         * client knew the peer's credentials, 487 role conflicts) are worth seeing. */
        char *more = g_strdup_printf("%s; the client answered %u of the peer's %u checks%s%s%s",
                                     sum, answered, theirs, refused->len ? " (errors: " : "",
                                     refused->str, refused->len ? ")" : "");
        g_free(sum);
        sum = more;
    }
    if (unjudged(st)) {
        chk_step_packets(r, st);
        step_duration(r, st);
    }
    if (st->status != status || strcmp(st->diagnosis, diag) != 0 || unjudged(st)) {
        rejudge(s, st, status, diag, sum, NULL);
    } else {
        g_free(st->summary);
        st->summary = sum;
        sum = NULL;
    }
    g_free(sum);
    g_string_free(refused, TRUE);
}

/* 438 Stale Nonce on and on, for methods check's allocate judge does not watch. */
static void fix_stale_loops(struct rpt_session *s)
{
    static const char *const steps[] = {"refresh", "permission", "channel"};
    for (size_t k = 0; k < G_N_ELEMENTS(steps); k++) {
        struct rpt_step *st = rpt_step_find(s, steps[k]);
        if (!st)
            continue;
        GPtrArray *txns = chk_txns_of(s, steps[k], "client");
        guint run = 0;
        const struct rpt_txn *last = NULL;
        for (guint i = 0; i < txns->len; i++) {
            const struct rpt_txn *t = g_ptr_array_index(txns, i);
            if (t->outcome == RPT_TXN_ERROR && t->error_code == 438)
                run++;
            else if (t->outcome == RPT_TXN_SUCCESS)
                run = 0;
            last = t;
        }
        g_ptr_array_unref(txns);
        if (run >= 2 && last && last->outcome == RPT_TXN_ERROR && last->error_code == 438) {
            char *sum = g_strdup_printf("%u× 438 Stale Nonce to %s, even with the fresh nonce, "
                                        "and no success after them",
                                        run, sl_method_name(last->method));
            rejudge(s, st, RPT_FAIL, "auth-stale-nonce-loop", sum, NULL);
            g_free(sum);
        }
    }
}

static const char *tls_alert_diag(int desc)
{
    switch (desc) {
    case 45: return "tls-cert-expired";
    case 42:
    case 43:
    case 44:
    case 46:
    case 48: return "tls-untrusted";
    default: return "tls-handshake-failed";
    }
}

/* TURN over TLS/DTLS: the handshake is visible, the TURN inside is not. */
static void judge_tls(const struct rpt_result *r, struct sess *ses, gint64 end_us)
{
    struct rpt_session *s = ses->s;
    struct rpt_step *st = rpt_step_find(s, "tls");
    if (!st || !ses->is_tls)
        return;
    struct tls_info *t = &ses->tls;
    chk_step_packets(r, st);
    step_duration(r, st);
    if (t->sni)
        json_object_set_string_member(st->details, "sni", t->sni);
    if (t->alpn_offered)
        json_object_set_string_member(st->details, "alpn_offered", t->alpn_offered);
    if (t->alpn)
        json_object_set_string_member(st->details, "alpn", t->alpn);
    if (t->version)
        json_object_set_string_member(st->details, "version", t->version);
    if (t->cipher)
        json_object_set_string_member(st->details, "cipher", t->cipher);
    json_object_set_int_member(st->details, "records_out", t->records[RPT_OUT]);
    json_object_set_int_member(st->details, "records_in", t->records[RPT_IN]);
    json_object_set_int_member(st->details, "bytes_out", (gint64)t->bytes[RPT_OUT]);
    json_object_set_int_member(st->details, "bytes_in", (gint64)t->bytes[RPT_IN]);
    const char *what = ses->tp == RPT_DTLS ? "DTLS" : "TLS";
    char *sum = NULL;
    for (int d = RPT_IN; d >= RPT_OUT; d--) {
        if (t->alert_level[d] == 2) {
            const char *diag = d == RPT_IN ? "tls-handshake-failed" : tls_alert_diag(t->alert_desc[d]);
            sum = g_strdup_printf("the %s sent a fatal %s alert %s (%d)%s: encrypted TURN "
                                  "never started",
                                  d == RPT_IN ? "server" : "client", what,
                                  alert_name(t->alert_desc[d]), t->alert_desc[d],
                                  t->server_hello ? "" : " before any ServerHello");
            chk_verdict(s, st, RPT_FAIL, diag, sum, NULL);
            g_free(sum);
            return;
        }
    }
    gboolean closed = t->fin[RPT_IN] || t->rst[RPT_IN];
    if (t->client_hello && !t->server_hello) {
        if (closed)
            sum = g_strdup_printf("the server %s the connection after the ClientHello%s%s",
                                  t->rst[RPT_IN] ? "reset" : "closed", t->sni ? " for SNI " : "",
                                  t->sni ? t->sni : "");
        else if (end_us - t->hello_us < TP_SESS_GRACE_US)
            sum = NULL;
        else
            sum = g_strdup_printf("no ServerHello answered the ClientHello%s%s", t->sni ? " for SNI " : "",
                                  t->sni ? t->sni : "");
        if (sum)
            chk_verdict(s, st, RPT_FAIL, "tls-handshake-failed", sum, NULL);
        else
            rpt_step_set(st, RPT_SKIP, "ok", "the capture ends right after the ClientHello",
                         NULL);
        g_free(sum);
        return;
    }
    if (t->records[RPT_OUT] && t->records[RPT_IN]) {
        sum = g_strdup_printf("encrypted TURN over %s%s%s%s%s%s: %u records out, %u in; the TURN "
                              "messages inside cannot be judged without the session keys",
                              t->version ? t->version : what, t->sni ? ", SNI " : "",
                              t->sni ? t->sni : "", t->alpn || t->alpn_offered ? ", ALPN " : "",
                              t->alpn ? t->alpn : t->alpn_offered ? t->alpn_offered : "",
                              t->client_hello ? "" : " (handshake not captured)",
                              t->records[RPT_OUT], t->records[RPT_IN]);
        chk_verdict(s, st, RPT_PASS, "ok", sum, NULL);
    } else if (closed && !t->records[RPT_IN]) {
        sum = g_strdup_printf("the server closed the %s connection before any application data",
                              what);
        chk_verdict(s, st, RPT_FAIL, "tls-handshake-failed", sum, NULL);
    } else {
        sum = g_strdup_printf("%s handshake%s seen; %u records out, %u in", what,
                              t->server_hello ? "" : " not", t->records[RPT_OUT],
                              t->records[RPT_IN]);
        chk_verdict(s, st, RPT_PASS, "ok", sum, NULL);
    }
    g_free(sum);
}

/* Every Refresh asks for LIFETIME 0 (RFC 8656 §7: deletes the allocation). */
static gboolean all_releases(const struct rpt_result *r, GPtrArray *txns)
{
    for (guint i = 0; i < txns->len; i++) {
        const struct rpt_txn *t = g_ptr_array_index(txns, i);
        const struct rpt_packet *p = rpt_packet_get(r, g_array_index(t->req_pkts, guint, 0));
        struct sl_msg m;
        uint32_t lt = 1;
        gsize len;
        const guint8 *d = p && p->payload ? g_bytes_get_data(p->payload, &len) : NULL;
        if (!d || sl_msg_decode(&m, d, len, SL_DEC_LENIENT) != SL_OK ||
            sl_msg_get_u32(&m, SL_ATTR_LIFETIME, &lt) != SL_OK || lt != 0)
            return FALSE;
    }
    return txns->len > 0;
}

/* A step with evidence that no judge spoke about. */
static void judge_leftover(const struct rpt_result *r, struct rpt_session *s)
{
    for (guint i = 0; i < s->steps->len; i++) {
        struct rpt_step *st = g_ptr_array_index(s->steps, i);
        if (!unjudged(st))
            continue;
        chk_step_packets(r, st);
        step_duration(r, st);
        GPtrArray *txns = chk_txns_of(s, st->id, NULL);
        const struct rpt_txn *bad = NULL;
        guint ok = 0;
        for (guint k = 0; k < txns->len; k++) {
            const struct rpt_txn *t = g_ptr_array_index(txns, k);
            if (t->outcome == RPT_TXN_SUCCESS)
                ok++;
            else
                bad = t;
        }
        char *sum;
        if (bad) {
            char *why = chk_txn_explain(bad);
            sum = g_strdup_printf("%s", why);
            chk_verdict(s, st, RPT_FAIL, chk_txn_diagnosis(bad, st->id), sum, NULL);
            g_free(why);
        } else if (ok && strcmp(st->id, "refresh") == 0 && all_releases(r, txns)) {
            /* check's judge leaves a release alone: it is its own cleanup there. */
            sum = g_strdup_printf("the allocation was released (Refresh with LIFETIME 0)");
            chk_verdict(s, st, RPT_PASS, "ok", sum, NULL);
        } else if (ok) {
            sum = g_strdup_printf("%u transaction%s succeeded", ok, ok == 1 ? "" : "s");
            chk_verdict(s, st, RPT_PASS, "ok", sum, NULL);
        } else {
            sum = g_strdup_printf("%u packet%s seen, not judged: the requests they answer are not "
                                  "in the capture, or it ends before their answers",
                                  st->packets->len, st->packets->len == 1 ? "" : "s");
            rpt_step_set(st, RPT_SKIP, "ok", sum, NULL);
        }
        g_free(sum);
        g_ptr_array_unref(txns);
    }
}

static void counts_json(JsonObject *o, const char *name, const struct counts *c)
{
    if (!c[0].n && !c[1].n)
        return;
    JsonObject *x = json_object_new();
    json_object_set_int_member(x, "out", (gint64)c[RPT_OUT].n);
    json_object_set_int_member(x, "in", (gint64)c[RPT_IN].n);
    json_object_set_int_member(x, "bytes_out", (gint64)c[RPT_OUT].bytes);
    json_object_set_int_member(x, "bytes_in", (gint64)c[RPT_IN].bytes);
    json_object_set_object_member(o, name, x);
}

static void judge_session(struct sess *ses, gint64 end_us)
{
    struct rpt_result *r = ses->sr;
    struct rpt_session *s = ses->s;
    gboolean has[N_STEPS] = {FALSE};
    for (guint i = 0; i < r->packets->len; i++) {
        const struct rpt_packet *p = g_ptr_array_index(r->packets, i);
        guint8 ix = step_ix(p->step);
        if (ix < N_STEPS)
            has[ix] = TRUE;
    }
    for (guint i = 0; i < s->txns->len; i++) {
        guint8 ix = step_ix(((struct rpt_txn *)g_ptr_array_index(s->txns, i))->step);
        if (ix < N_STEPS)
            has[ix] = TRUE;
    }
    if (ses->is_tls)
        has[IX_TLS] = TRUE;
    for (guint8 i = 0; i < N_STEPS; i++)
        if (has[i])
            rpt_step_add(s, step_id(i));

    /* The same judges as turnprobe check, in its order. */
    chk_binding_judge(r, s);
    chk_allocate_judge(r, s);
    chk_permission_judge(r, s);
    chk_data_judge(r, s);
    chk_channel_judge(r, s);
    chk_ice_judge(r, s);
    chk_policy_judge(r, s);
    chk_refresh_judge(r, s);

    /* What only a capture needs. */
    fix_classic_binding(r, s);
    fix_malformed(ses);
    fix_permission(r, s);
    judge_data_flow(r, ses, IX_SEND_DATA);
    judge_data_flow(r, ses, IX_CHANNEL);
    fix_ice(r, ses);
    fix_stale_loops(s);
    judge_tls(r, ses, end_us);
    judge_leftover(r, s);

    for (guint8 i = 0; i < N_STEPS; i++) {
        const struct extra *x = &ses->extra[i];
        if (!x->total)
            continue;
        struct rpt_step *st = rpt_step_find(s, step_id(i));
        if (st) {
            json_object_set_int_member(st->details, "counted_only", x->total);
            json_object_set_int_member(st->details, "counted_failed", x->failed);
        }
        if (x->failed) {
            const char *diag = x->last_code ? chk_error_diagnosis(x->last_code, step_id(i))
                                            : "no-response";
            char *msg = g_strdup_printf("%u of %u further %s transactions (beyond the first %d, "
                                        "counted but not listed) failed; the last: %s",
                                        x->failed, x->total, step_id(i), TP_SESS_TXN_CAP,
                                        x->last_code ? "an error response" : "no response");
            const struct rpt_diag *d = rpt_diag_find(diag);
            rpt_finding_add(s, diag, RPT_SEV_WARN, step_id(i), msg, d ? d->hint : NULL);
            g_free(msg);
        }
    }
    for (guint i = 0; i < ses->cut_off->len; i++) {
        if (i == 0)
            json_object_set_array_member(s->facts, "unjudged", json_array_new());
        json_array_add_string_element(json_object_get_array_member(s->facts, "unjudged"),
                                      g_ptr_array_index(ses->cut_off, i));
    }
    JsonObject *msgs = json_object_new();
    counts_json(msgs, "stun", ses->stun);
    counts_json(msgs, "send_data_indications", ses->ind);
    counts_json(msgs, "channeldata", ses->chan);
    json_object_set_object_member(s->facts, "traffic", msgs);
    if (ses->gaps) {
        char *g = g_strdup_printf("%" G_GUINT64_FORMAT " gap%s in the TCP stream (%" G_GUINT64_FORMAT
                                  " bytes missing from the capture); framing resumed after each",
                                  ses->gaps, ses->gaps == 1 ? "" : "s", ses->gap_bytes);
        json_object_set_string_member(s->facts, "tcp_gaps", g);
        g_free(g);
    }
    if (ses->damage)
        json_object_set_string_member(s->facts, "capture_damage", ses->damage);
}

/* Requests still open when the capture ends. */
static void end_pending(struct tp_sessions *ss, gint64 end_us)
{
    for (size_t fi = 0; ss->flows.slot && fi <= ss->flows.mask; fi++) {
        struct flow *f = ss->flows.slot[fi];
        if (!f)
            continue;
        if (!f->sess)
            continue;
        GHashTableIter ti;
        gpointer tv;
        g_hash_table_iter_init(&ti, f->txns);
        while (g_hash_table_iter_next(&ti, NULL, &tv)) {
            struct txn *t = tv;
            if (t->done)
                continue;
            /* A server that is up answers the first transmission; retransmissions near the end
             * do not make an old request young. */
            if (end_us - t->first_us >= TP_SESS_GRACE_US || !t->mt) {
                txn_timeout(f->sess, t);
                continue;
            }
            /* Too close to the end to call it a timeout: keep the packets, drop the
             * transaction from the judges' view. */
            struct sess *s = f->sess;
            char *what = g_strdup_printf("%s (frame %u): the capture ends %.1f s after it, "
                                         "before any answer",
                                         sl_method_name(t->method) ? sl_method_name(t->method)
                                                                   : "request",
                                         g_array_index(s->frame_of, guint, t->last_req_local - 1),
                                         (double)(end_us - t->first_us) / 1e6);
            g_ptr_array_add(s->cut_off, what);
            for (guint i = 0; i < t->mt->req_pkts->len; i++) {
                struct rpt_packet *p = local_pkt(s, g_array_index(t->mt->req_pkts, guint, i));
                if (p)
                    rpt_packet_annotate(p, NULL, NULL, "not judged: the capture ends before "
                                                       "an answer could come");
            }
            g_ptr_array_remove(s->s->txns, t->mt);
            t->mt = NULL;
            t->done = TRUE;
        }
    }
}

struct order {
    guint frame, sess, local;
};

static gint order_cmp(gconstpointer a, gconstpointer b)
{
    const struct order *x = a, *y = b;
    if (x->frame != y->frame)
        return x->frame < y->frame ? -1 : 1;
    if (x->sess != y->sess)
        return x->sess < y->sess ? -1 : 1;
    return x->local < y->local ? -1 : x->local > y->local;
}

static guint remap(const struct sess *s, guint n)
{
    return n >= 1 && n <= s->frame_of->len ? g_array_index(s->frame_of, guint, n - 1) : 0;
}

static void remap_array(const struct sess *s, GArray *a)
{
    for (guint i = 0; i < a->len; i++)
        g_array_index(a, guint, i) = remap(s, g_array_index(a, guint, i));
}

void tp_sessions_finish(struct tp_sessions *ss, struct rpt_result *r, gint64 end_us)
{
    end_pending(ss, end_us);
    GArray *all = g_array_new(FALSE, FALSE, sizeof(struct order));
    for (guint i = 0; i < ss->sess->len; i++) {
        struct sess *s = g_ptr_array_index(ss->sess, i);
        judge_session(s, end_us);
        for (guint k = 0; k < s->frame_of->len; k++) {
            struct order o = {g_array_index(s->frame_of, guint, k), i, k + 1};
            g_array_append_val(all, o);
        }
    }
    g_array_sort(all, order_cmp);
    /* The packets move into r in frame order; each keeps its frame number as n. */
    for (guint i = 0; i < ss->sess->len; i++) {
        struct sess *s = g_ptr_array_index(ss->sess, i);
        s->final = g_ptr_array_sized_new(s->frame_of->len);
        g_ptr_array_set_size(s->final, (gint)s->frame_of->len);
        g_ptr_array_set_free_func(s->sr->packets, NULL);
    }
    for (guint i = 0; i < all->len; i++) {
        const struct order *o = &g_array_index(all, struct order, i);
        struct sess *s = g_ptr_array_index(ss->sess, o->sess);
        struct rpt_packet *p = g_ptr_array_index(s->sr->packets, o->local - 1);
        p->n = o->frame;
        p->session = o->sess;
        p->ref = remap(s, p->ref);
        g_ptr_array_add(r->packets, p);
        g_ptr_array_index(s->final, o->local - 1) = p;
    }
    g_array_unref(all);
    for (guint i = 0; i < ss->sess->len; i++) {
        struct sess *s = g_ptr_array_index(ss->sess, i);
        g_ptr_array_set_size(s->sr->packets, 0); /* r owns them now */
        struct rpt_session *src = s->s;
        struct rpt_session *dst = rpt_session_add(r, src->name);
        struct rpt_target tt = dst->target;
        dst->target = src->target;
        src->target = tt;
        GPtrArray *a;
        a = dst->steps, dst->steps = src->steps, src->steps = a;
        a = dst->findings, dst->findings = src->findings, src->findings = a;
        a = dst->txns, dst->txns = src->txns, src->txns = a;
        JsonObject *fo = dst->facts;
        dst->facts = src->facts;
        src->facts = fo;
        for (guint k = 0; k < dst->txns->len; k++) {
            struct rpt_txn *t = g_ptr_array_index(dst->txns, k);
            remap_array(s, t->req_pkts);
            t->resp_pkt = remap(s, t->resp_pkt);
        }
        for (guint k = 0; k < dst->steps->len; k++)
            remap_array(s, ((struct rpt_step *)g_ptr_array_index(dst->steps, k))->packets);
    }
}

char *tp_sessions_comment(const struct tp_sessions *ss, const struct rpt_result *r,
                          const struct tp_frame_note *note)
{
    if (note->session < ss->sess->len) {
        const struct sess *s = g_ptr_array_index(ss->sess, note->session);
        if (note->local && s->final && note->local <= s->final->len) {
            const struct rpt_packet *p = g_ptr_array_index(s->final, note->local - 1);
            if (p)
                return rpt_pcapng_comment(r, p);
        }
    }
    GString *g = g_string_new(NULL);
    const char *sid = step_id(note->step);
    if (sid)
        g_string_append_printf(g, "%s ", sid);
    g_string_append_printf(g, "#%u %s ", note->frame, note->dir == RPT_IN ? "<-" : "->");
    char desc[96];
    switch (note->kind) {
    case TP_NOTE_STUN:
        g_string_append(g, sl_type_describe(note->type, desc, sizeof(desc)));
        break;
    case TP_NOTE_CHANNEL:
        g_string_append_printf(g, "ChannelData 0x%04x", note->type);
        break;
    case TP_NOTE_TLS:
        g_string_append(g, note->type == 23 ? "TLS application data (encrypted TURN)"
                                            : "TLS record (encrypted TURN)");
        break;
    default: g_string_append(g, "TURN"); break;
    }
    if (note->carries)
        g_string_append(g, " carrying an ICE check");
    g_string_append_printf(g, " (%u bytes; session %u: counted, not listed in the report)",
                           note->len, note->session + 1);
    return g_string_free(g, FALSE);
}
