/* The checklist engine: configuration, the run context, connections, TURN transactions and
 * the steps. Each step has an active part (appends packets and transactions to the evidence)
 * and a judge (reads the evidence, sets the step's verdict). Checks never print. */
#ifndef CHK_H
#define CHK_H

#include <gio/gio.h>
#include <glib.h>

#include "rpt_model.h"
#include "sl_addr.h"
#include "sl_frame.h"
#include "sl_msg.h"
#include "sl_txn.h"
#include "sl_uri.h"

struct chk_config {
    char *uri_text;
    struct sl_uri uri;
    char *username;
    char *password;      /* prepared (NFC) secret; never copied into the model */
    struct sl_addr peer; /* --peer, when have_peer */
    gboolean have_peer;
    double timeout_s;    /* one deadline for the whole run */
    char *ca_file;       /* --ca: trust this CA (with the system store) */
    gboolean insecure;   /* --insecure: record certificate failures and go on */
    int family;          /* 0 any, 4, 6 */
    char **skip, **only; /* step ids */
    struct sl_txn_cfg txn;
    const struct sl_addr *server; /* a resolved address to probe (set by the caller per address) */
    gint64 deadline_us;  /* monotonic deadline shared by every address; 0: now + timeout_s */
    const char *proxy;   /* --proxy: http://[user:pass@]host:port or socks5://host:port; TCP and
                          * TLS connect through it (HTTP CONNECT, SOCKS5), UDP is refused */
};

enum chk_conn_state { CHK_CONN_CONNECTING, CHK_CONN_OPEN, CHK_CONN_CLOSED, CHK_CONN_FAILED };

struct chk_ctx;
struct chk_conn;

/* Called for each STUN message or ChannelData record that arrives (pkt: its frame number). */
typedef void (*chk_record_fn)(struct chk_conn *c, const uint8_t *p, size_t len, guint pkt,
                              void *ud);

struct chk_conn {
    struct chk_ctx *ctx;
    char *endpoint; /* "client", "peer", ... */
    enum rpt_transport tp;
    GSocket *sock;
    GSource *src;
    struct sl_addr local, remote;
    enum chk_conn_state state;
    int error;          /* errno of the failure */
    gboolean refused;   /* ICMP port unreachable or TCP RST on connect */
    gboolean timed_out; /* TCP connect timeout */
    gboolean reset, peer_closed, garbage;
    guint last_sent;    /* frame number of the last packet sent (ICMP refers to it) */
    struct sl_framer *framer;
    guint32 rx_other;   /* bytes that were neither STUN nor ChannelData */
    gsize rx_cost;      /* what was handed to the owner so far (a record counts at least 1 KiB) */
    struct chk_tls *tls; /* TLS (over TCP) or DTLS (over UDP), when the URI is turns: */
    chk_record_fn on_record;
    void *ud;
    GSocketConnection *proxy_conn; /* --proxy: owns the tunnel that sock is */
    const char *fail_diag;         /* a failure already diagnosed here (the proxy's answer) */
    char *fail_why;                /* ... and its summary */
};

/* A TURN client: one connection, its credentials and allocation. */
struct chk_client {
    struct chk_ctx *ctx;
    struct chk_conn *conn;
    char *endpoint;
    char *realm, *nonce;
    uint8_t key[32];
    size_t keylen;
    gboolean have_key;
    gboolean allocated;
    struct sl_addr mapped, relayed;
    uint32_t lifetime;
    char *software;
    /* Application data that came in a Data indication or ChannelData. */
    void (*on_data)(struct chk_client *cl, const struct sl_addr *from, uint16_t channel,
                    const uint8_t *data, size_t len, guint pkt, void *ud);
    void *data_ud;
    GPtrArray *pending; /* struct chk_req* in flight */
    uint16_t channel;   /* bound channel, 0 when none */
    struct sl_addr channel_peer;
};

/* One request being sent and retransmitted until its response, a timeout or a failure. */
struct chk_req {
    struct chk_client *cl;
    struct rpt_txn *txn;
    char *step;
    uint16_t method;
    uint8_t msg[1500];
    size_t len;
    struct sl_txn timer;
    GSource *timer_src;
    gboolean done;
    uint8_t resp[1500];
    size_t resp_len;
    gboolean integrity_checked, integrity_ok;
};

struct chk_ctx {
    GMainContext *mc;
    const struct chk_config *cfg;
    struct rpt_result *r;
    struct rpt_session *s;
    guint session_index;
    gint64 deadline;          /* monotonic microseconds */
    gint64 mono0, real0;      /* to turn monotonic into wall-clock time */
    struct sl_addr server;
    enum rpt_transport tp;
    gboolean interrupted;
    volatile gboolean *stop;  /* set from outside (SIGINT) */
    GPtrArray *clients;       /* struct chk_client*, to release at the end */
    uint8_t token[8];         /* this run's payload token */
    char ice_ufrag_local[16], ice_pwd_local[32], ice_ufrag_peer[16], ice_pwd_peer[32];
    uint64_t tiebreaker;
};

/* TCP and TLS carry a byte stream (ChannelData padded, framing needed); UDP and DTLS carry
 * datagrams. */
static inline gboolean chk_is_stream(enum rpt_transport tp)
{
    return tp == RPT_TCP || tp == RPT_TLS;
}

/* ---- chk_net.c: connections that record every packet ---- */
gint64 chk_now_real(const struct chk_ctx *ctx);
int chk_conn_open(struct chk_ctx *ctx, const char *endpoint, enum rpt_transport tp,
                  const struct sl_addr *server, struct chk_conn **out);
guint chk_conn_send(struct chk_conn *c, const uint8_t *p, size_t len, enum rpt_kind kind);
void chk_conn_close(struct chk_conn *c);
/* Iterates the main context until done(ud) or the time limit (monotonic µs, capped by the
 * run's deadline); returns done(ud). */
gboolean chk_wait(struct chk_ctx *ctx, gboolean (*done)(void *ud), void *ud, gint64 until);
gboolean chk_expired(const struct chk_ctx *ctx);

/* Internal to checks/: append a packet to the evidence; hand a received record to the
 * connection's owner. */
struct rpt_packet *chk_conn_record(struct chk_conn *c, enum rpt_kind kind, enum rpt_dir dir,
                                   const uint8_t *p, size_t len);
void chk_conn_notify(struct chk_conn *c, const uint8_t *p, size_t len, guint pkt);

/* ---- chk_tls.c: TLS and DTLS under the connection ---- */
struct chk_tls;
/* Handshakes on an open connection (TCP: TLS; UDP: DTLS). Fills the tls step of the session
 * when report is TRUE. Returns 0, or a positive errno-like code when no tunnel exists. */
int chk_tls_handshake(struct chk_conn *c, gboolean report);
/* Encrypts one message; returns the records to send (g_bytes_unref them). */
GBytes *chk_tls_encrypt(struct chk_conn *c, const uint8_t *p, size_t len);
/* Bytes (TCP) or a datagram (UDP) from the server, after the handshake. */
void chk_tls_receive(struct chk_conn *c, const uint8_t *p, size_t len);
void chk_tls_free(struct chk_tls *t);
/* "TLS ClientHello", "TLS alert: handshake failure", ...: what records hold. */
char *chk_tls_describe(const uint8_t *p, size_t len, gboolean dtls);

/* ---- chk_turn.c: TURN transactions ---- */
struct chk_client *chk_client_new(struct chk_ctx *ctx, struct chk_conn *conn,
                                  const char *endpoint);
/* Describes the attributes a request carries beyond authentication. */
struct chk_attr {
    uint16_t type;
    gboolean is_addr;
    struct sl_addr addr;
    uint8_t val[256];
    uint16_t len;
};
struct chk_attrs {
    size_t n;
    struct chk_attr a[12];
};
void chk_attrs_add(struct chk_attrs *a, uint16_t type, const void *val, size_t len);
void chk_attrs_add_u32(struct chk_attrs *a, uint16_t type, uint32_t v);
void chk_attrs_add_addr(struct chk_attrs *a, uint16_t type, const struct sl_addr *addr);
/* Builds and sends a request (with credentials when the client has a key) and arms its
 * retransmissions. */
struct chk_req *chk_req_start(struct chk_client *cl, const char *step, uint16_t method,
                              const struct chk_attrs *attrs, gboolean auth, const char *note);
/* Waits for every request given (NULL-terminated) to complete. */
gboolean chk_req_wait(struct chk_ctx *ctx, struct chk_req *const *reqs);
/* The decoded response of a completed request (SL_OK), or not. */
int chk_req_response(const struct chk_req *rq, struct sl_msg *m);
void chk_req_free(struct chk_req *rq);
/* Sends an indication (Send) or a ChannelData record; returns the frame number. */
guint chk_client_send_indication(struct chk_client *cl, const char *step,
                                 const struct sl_addr *peer, const uint8_t *data, size_t len,
                                 const char *note);
guint chk_client_send_channel(struct chk_client *cl, const char *step, uint16_t channel,
                              const uint8_t *data, size_t len, const char *note);
/* Takes REALM and NONCE from a 401/438 and derives the long-term key. */
int chk_client_take_challenge(struct chk_client *cl, const struct sl_msg *m);
void chk_client_free(struct chk_client *cl);
/* Replaces the client's connection (after a 300 redirect); the old one is closed. */
void chk_client_attach(struct chk_client *cl, struct chk_conn *conn);

/* A one-line description of a received STUN message for summaries: "Allocate error response
 * 401 Unauthorized". */
char *chk_msg_summary(const uint8_t *p, size_t len);
char *chk_addr_str(const struct sl_addr *a);

/* ---- chk_check.c: the whole checklist against one server address ---- */
/* Runs the checklist; fills session s of r. Returns FALSE only on internal errors. */
gboolean chk_check_run(const struct chk_config *cfg, struct rpt_result *r,
                       struct rpt_session *s, volatile gboolean *interrupted);
gboolean chk_step_enabled(const struct chk_config *cfg, const char *id);
/* Sets a step's verdict and, for warnings and failures, adds the finding with the table's
 * hint: for the settings and dns steps, which the probe runs. */
void chk_verdict_public(struct rpt_session *s, struct rpt_step *st, enum rpt_status status,
                        const char *diag, const char *summary);

#endif
