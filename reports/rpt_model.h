/* The result model: evidence (packets, transactions) and verdicts (steps, findings). Checks fill
 * it; every writer (text, JSON, Markdown, HTML, pcapng) reads only this and the name tables. */
#ifndef RPT_MODEL_H
#define RPT_MODEL_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "sl_addr.h"

enum rpt_status { RPT_PASS = 0, RPT_WARN, RPT_FAIL, RPT_SKIP };
enum rpt_severity { RPT_SEV_INFO = 0, RPT_SEV_WARN, RPT_SEV_FAIL };
enum rpt_dir { RPT_OUT = 0, RPT_IN };
enum rpt_transport { RPT_UDP = 0, RPT_TCP, RPT_TLS, RPT_DTLS };

/* What a packet is. Every packet is one frame of the pcapng, in the same order: n is its frame
 * number, so the JSON, the HTML ladder and Wireshark name the same packet the same way. */
enum rpt_kind {
    RPT_PKT_STUN = 0,    /* one STUN message (payload = the message) */
    RPT_PKT_CHANNELDATA, /* one ChannelData record (payload = the record, padding included) */
    RPT_PKT_TLS,         /* TLS or DTLS records as sent on the wire (payload = the records) */
    RPT_PKT_OTHER,       /* bytes that are none of the above (payload = those bytes) */
    RPT_PKT_TCP_SYN,     /* TCP control segments, no payload: a connection's life */
    RPT_PKT_TCP_SYNACK,
    RPT_PKT_TCP_ACK,
    RPT_PKT_TCP_FIN,
    RPT_PKT_TCP_RST,
    RPT_PKT_ICMP_UNREACH, /* ICMP(v6) destination unreachable about packet ref (icmp_type/code) */
};

/* The packet's place in the checklist and what it proves, for comments and labels. */
struct rpt_packet {
    guint n;        /* 1-based frame number */
    gint64 t_us;    /* wall-clock time, microseconds since the epoch */
    enum rpt_dir dir;
    enum rpt_kind kind;
    enum rpt_transport transport;
    struct sl_addr src, dst;
    GBytes *payload;     /* transport payload as on the wire; NULL for control packets. Over
                          * TLS/DTLS: the decrypted message, and wire holds the records */
    GBytes *wire;        /* TLS/DTLS records that carried the payload; NULL otherwise */
    guint ref;           /* ICMP: the packet it is about; 0 otherwise */
    guint8 icmp_type, icmp_code;
    char *endpoint;      /* which of our sockets: "client", "peer", "policy", ... */
    guint session;       /* index into rpt_result.sessions */
    char *step;          /* step id, or NULL */
    char *summary;       /* "Allocate error response 401 Unauthenticated" */
    char *note;          /* what it proves: "expected challenge (realm \"example.org\")" */
    char *verdict;       /* the verdict of that part: "ok", a diagnosis id, or NULL */
};

enum rpt_txn_outcome {
    RPT_TXN_PENDING = 0,
    RPT_TXN_SUCCESS,   /* success response */
    RPT_TXN_ERROR,     /* error response: error_code, reason */
    RPT_TXN_TIMEOUT,   /* no response within the retransmission schedule or the deadline */
    RPT_TXN_UNREACH,   /* ICMP unreachable / connection refused */
    RPT_TXN_LOCAL,     /* a local failure before anything was sent: local_errno */
    RPT_TXN_CLOSED,    /* the server closed or reset the connection */
    RPT_TXN_GARBAGE,   /* something that is not STUN came back */
};

/* A request, its retransmissions and its response: the three outcomes stay apart. */
struct rpt_txn {
    char *step;
    char *endpoint;
    guint16 method;
    guint8 tid[12];
    GArray *req_pkts; /* guint frame numbers of the request and its retransmissions */
    guint resp_pkt;   /* 0 when no response */
    enum rpt_txn_outcome outcome;
    int error_code;
    char *reason;
    int local_errno;
    double rtt_ms;
    gint64 start_us, end_us;
    int integrity;      /* the response's MESSAGE-INTEGRITY: 0 not checked, 1 valid, -1 invalid */
    gboolean authenticated; /* the request carried MESSAGE-INTEGRITY */
};

struct rpt_step {
    char *id;          /* stable step id (DESIGN.md): settings, dns, tls, binding, ... */
    enum rpt_status status;
    char *diagnosis;   /* stable diagnosis id, "ok" when it passed */
    char *summary;     /* one line: what happened */
    char *hint;        /* for a support engineer: what to check */
    double duration_ms;
    GArray *packets;   /* guint frame numbers */
    JsonObject *details; /* key facts: "relayed", "lifetime", "realm", ... (insertion order) */
};

struct rpt_finding {
    char *diagnosis;
    enum rpt_severity severity;
    char *step;
    char *message;
    char *hint;
};

/* What was tested: one session per target (a URI, an iceServers URL, or a client 5-tuple of a
 * capture). */
struct rpt_target {
    char *uri;
    char *host;
    guint16 port;
    char *transport; /* "udp", "tcp", "tls", "dtls" */
    char *username;
    char *password_info; /* "given (12 characters)", never the password */
    char *address;       /* the server address this session talked to */
};

struct rpt_session {
    char *name; /* "turn:127.0.0.1:3478", or "10.0.0.5:51000 -> 198.51.100.7:3478/udp" */
    struct rpt_target target;
    GPtrArray *steps;    /* struct rpt_step*, checklist order */
    GPtrArray *findings; /* struct rpt_finding* */
    GPtrArray *txns;     /* struct rpt_txn* */
    JsonObject *facts;   /* local, mapped, relayed addresses, server software, ... */
};

struct rpt_result {
    char *command;    /* "check", "analyze", "matrix" */
    char *version;
    gint64 start_us;  /* wall clock at the start */
    double duration_ms;
    GPtrArray *sessions; /* struct rpt_session* */
    GPtrArray *packets;  /* struct rpt_packet*, index n-1 */
    GPtrArray *inputs;   /* analyze: capture file names (char*) */
    char *keylog;        /* TLS secrets in NSS key log format, for the pcapng DSB; may be NULL */
    char *capture_file;  /* the pcapng this run writes (--pcap), for "see it in Wireshark" */
    char *capture_note;  /* more lines for the capture's own comment (how to look, interrupted) */
};

struct rpt_result *rpt_result_new(const char *command, const char *version);
void rpt_result_free(struct rpt_result *r);
struct rpt_session *rpt_session_add(struct rpt_result *r, const char *name);
/* Appends a packet; n is assigned. payload may be NULL. Returns the packet to fill in. */
struct rpt_packet *rpt_packet_add(struct rpt_result *r, enum rpt_kind kind, enum rpt_dir dir,
                                  enum rpt_transport tp, const struct sl_addr *src,
                                  const struct sl_addr *dst, gint64 t_us, const void *payload,
                                  size_t len);
struct rpt_packet *rpt_packet_get(const struct rpt_result *r, guint n);
void rpt_packet_annotate(struct rpt_packet *p, const char *step, const char *verdict,
                         const char *note);

struct rpt_txn *rpt_txn_add(struct rpt_session *s, const char *step, const char *endpoint,
                            guint16 method, const guint8 tid[12]);
struct rpt_step *rpt_step_add(struct rpt_session *s, const char *id);
struct rpt_step *rpt_step_find(const struct rpt_session *s, const char *id);
void rpt_step_set(struct rpt_step *st, enum rpt_status status, const char *diagnosis,
                  const char *summary, const char *hint);
struct rpt_finding *rpt_finding_add(struct rpt_session *s, const char *diagnosis,
                                    enum rpt_severity sev, const char *step, const char *message,
                                    const char *hint);

/* The overall verdict: fail if any step failed, warn if any warned, else pass. */
enum rpt_status rpt_session_verdict(const struct rpt_session *s);
enum rpt_status rpt_result_verdict(const struct rpt_result *r);
/* The first failing step, else the first warning one, else NULL: what a verdict line names. */
const struct rpt_step *rpt_session_worst_step(const struct rpt_session *s);

const char *rpt_status_name(enum rpt_status s); /* "pass", "warn", "fail", "skip" */
const char *rpt_severity_name(enum rpt_severity s); /* "info", "warn", "fail" */
const char *rpt_transport_name(enum rpt_transport t); /* "udp", "tcp", "tls", "dtls" */
const char *rpt_kind_name(enum rpt_kind k);
const char *rpt_txn_outcome_name(enum rpt_txn_outcome o);
/* Seconds since the start of the run. */
double rpt_packet_time(const struct rpt_result *r, const struct rpt_packet *p);

/* The checklist's step ids in order, with a title for people. */
struct rpt_step_info {
    const char *id;
    const char *title;
};
extern const struct rpt_step_info rpt_steps[];
extern const size_t rpt_step_count;
const char *rpt_step_title(const char *id);

/* The diagnosis table (DESIGN.md): one row per stable id. */
struct rpt_diag {
    const char *id;
    enum rpt_severity severity;
    const char *meaning; /* one line */
    const char *hint;    /* what a support engineer checks */
};
extern const struct rpt_diag rpt_diags[];
extern const size_t rpt_diag_count;
const struct rpt_diag *rpt_diag_find(const char *id);

#endif
