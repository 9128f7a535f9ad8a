/* The state one checklist run shares between its steps (internal to checks/). */
#ifndef CHK_RUN_H
#define CHK_RUN_H

#include "chk.h"

/* Our test payloads: "TPRB", the run's token, the direction ('c' client to peer, 'p' peer to
 * client), the path ('S' Send/Data indications, 'C' ChannelData) and a sequence number. */
#define CHK_PAYLOAD_LEN 32
#define CHK_PAYLOADS_EACH_WAY 3

struct chk_run {
    struct chk_ctx ctx;
    struct chk_client *client, *peer; /* peer is NULL with --peer */
    struct sl_addr peer_addr;         /* where the client sends: the peer's relay or --peer */
    gboolean external_peer;
    gboolean allocated, permitted, channel_bound, peer_channel_bound;
    guint got[2][2];          /* [path S/C][direction c->p at peer, p->c at client] */
    gboolean ice_ok[2];       /* ICE Binding success came back via [S, C] */
    gboolean ice_integrity[2];
    char *blocked_by;         /* why later steps are skipped: "allocate failed: auth-rejected" */
    const char *step_name;    /* the step the data that arrives now belongs to */
    uint8_t ice_tid[2][SL_TID_LEN];
};

/* The test peer answers our payloads and ICE checks (chk_data.c, chk_ice.c). */
void chk_data_install(struct chk_run *run);
void chk_ice_answer(struct chk_run *run, struct chk_client *cl, const struct sl_addr *from,
                    uint16_t channel, const uint8_t *data, size_t len, guint pkt);
void chk_ice_on_response(struct chk_run *run, const uint8_t *data, size_t len, guint pkt);

void chk_payload_make(const struct chk_ctx *ctx, uint8_t out[CHK_PAYLOAD_LEN], char dir, char path,
                      uint32_t seq);
/* SL_OK when p is one of ours: dir, path and seq are filled in. Any token is accepted when
 * token is NULL (a capture of someone else's run). */
int chk_payload_parse(const uint8_t *p, size_t len, const uint8_t *token, char *dir, char *path,
                      uint32_t *seq);

/* The diagnosis for an error response code in a given step. */
const char *chk_error_diagnosis(int code, const char *step);
/* A sentence for a transaction that did not succeed: "no response after 7 transmissions". */
char *chk_txn_explain(const struct rpt_txn *t);
/* The transactions of a step (and endpoint, NULL for any), oldest first. */
GPtrArray *chk_txns_of(const struct rpt_session *s, const char *step, const char *endpoint);
/* The response of a transaction, decoded from the evidence. */
int chk_txn_response(const struct rpt_result *r, const struct rpt_txn *t, struct sl_msg *m);
void chk_step_packets(const struct rpt_result *r, struct rpt_step *st);
/* A session's index in the result (G_MAXUINT when absent), and whether a packet is the
 * given session's and step's. */
guint chk_session_index(const struct rpt_result *r, const struct rpt_session *s);
gboolean chk_packet_of(const struct rpt_packet *p, guint session, const char *step);
double chk_packets_span_ms(const struct rpt_result *r, const struct rpt_step *st);
/* Gives each response (or unanswered request) of a step its verdict and a note for the
 * capture comments: "the expected challenge (realm ...)", "relayed address ...". */
void chk_annotate_txns(const struct rpt_result *r, const struct rpt_session *s, const char *step);

void chk_binding_run(struct chk_run *run, struct chk_req **binding, struct chk_req **alloc,
                     struct chk_req **peer_alloc, gboolean want_alloc);
void chk_binding_judge(const struct rpt_result *r, struct rpt_session *s);
void chk_allocate_run(struct chk_run *run, struct chk_req *first, struct chk_req *peer_first);
void chk_allocate_judge(const struct rpt_result *r, struct rpt_session *s);
void chk_permission_run(struct chk_run *run);
void chk_permission_judge(const struct rpt_result *r, struct rpt_session *s);
void chk_data_run(struct chk_run *run);
void chk_data_judge(const struct rpt_result *r, struct rpt_session *s);
void chk_channel_run(struct chk_run *run);
void chk_channel_judge(const struct rpt_result *r, struct rpt_session *s);
void chk_ice_run(struct chk_run *run);
void chk_ice_judge(const struct rpt_result *r, struct rpt_session *s);
void chk_policy_run(struct chk_run *run);
void chk_policy_judge(const struct rpt_result *r, struct rpt_session *s);
void chk_refresh_run(struct chk_run *run, gboolean refresh_enabled);
void chk_refresh_judge(const struct rpt_result *r, struct rpt_session *s);

/* Marks a step skipped with its reason, unless it has a verdict already. */
void chk_step_skip(struct rpt_session *s, const char *id, const char *why);



/* Outcome → diagnosis for a transaction that did not succeed. */
const char *chk_txn_diagnosis(const struct rpt_txn *t, const char *step);
/* Sets a step's verdict and adds the finding with the table's hint (or the given one). */
void chk_verdict(struct rpt_session *s, struct rpt_step *st, enum rpt_status status,
                 const char *diag, const char *summary, const char *hint);
#endif
