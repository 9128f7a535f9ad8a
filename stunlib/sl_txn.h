/* A STUN client transaction without I/O: when to send, resend and give up (RFC 8489 §6.2). */
#ifndef SL_TXN_H
#define SL_TXN_H

#include <stdbool.h>
#include <stdint.h>

struct sl_txn_cfg {
    uint32_t rto_ms; /* initial retransmission timeout: 500 */
    uint32_t rc;     /* transmissions in all: 7 */
    uint32_t rm;     /* final wait, in initial RTOs: 16 */
    uint32_t ti_ms;  /* reliable transports: 39500 */
    bool reliable;   /* TCP/TLS: one transmission, then Ti */
};

enum sl_txn_action {
    SL_TXN_SEND,    /* (re)transmit now, then ask again */
    SL_TXN_WAIT,    /* nothing until *wake_us (or a response) */
    SL_TXN_TIMEOUT, /* give up: no response came */
    SL_TXN_DONE,    /* a response completed the transaction */
};

struct sl_txn {
    struct sl_txn_cfg cfg;
    uint64_t start_us, next_us;
    uint32_t sent;
    uint32_t rto_ms;
    bool done, timed_out;
};

void sl_txn_cfg_default(struct sl_txn_cfg *cfg, bool reliable);
void sl_txn_start(struct sl_txn *t, const struct sl_txn_cfg *cfg, uint64_t now_us);
/* What to do at now_us; with WAIT (and after SEND) *wake_us says when to ask again. */
enum sl_txn_action sl_txn_next(struct sl_txn *t, uint64_t now_us, uint64_t *wake_us);
/* A response arrived. */
void sl_txn_complete(struct sl_txn *t);
/* How long the whole transaction may last before TIMEOUT, from its start. */
uint64_t sl_txn_total_us(const struct sl_txn_cfg *cfg);

#endif
