/* Client transaction timing of RFC 8489 §6.2.1 (UDP) and §6.2.2 (TCP/TLS), driven by the
 * caller's clock. */
#include "sl_txn.h"

void sl_txn_cfg_default(struct sl_txn_cfg *cfg, bool reliable)
{
    /* §6.2.1: "RTO SHOULD be greater than or equal to 500 ms"; "Rc SHOULD be configurable and
     * SHOULD have a default of 7"; "Rm SHOULD be configurable and SHOULD have a default of 16".
     * §6.2.2: "Ti SHOULD be configurable and SHOULD have a default of 39.5 s". */
    cfg->rto_ms = 500;
    cfg->rc = 7;
    cfg->rm = 16;
    cfg->ti_ms = 39500;
    cfg->reliable = reliable;
}

void sl_txn_start(struct sl_txn *t, const struct sl_txn_cfg *cfg, uint64_t now_us)
{
    t->cfg = *cfg;
    if (t->cfg.rc == 0)
        t->cfg.rc = 1;
    t->start_us = now_us;
    t->next_us = now_us;
    t->sent = 0;
    t->rto_ms = cfg->rto_ms;
    t->done = false;
    t->timed_out = false;
}

uint64_t sl_txn_total_us(const struct sl_txn_cfg *cfg)
{
    if (cfg->reliable)
        return (uint64_t)cfg->ti_ms * 1000;
    /* Transmissions at 0, RTO, 3 RTO, 7 RTO, ...; the last is followed by Rm * RTO. */
    uint64_t t = 0, rto = cfg->rto_ms;
    uint32_t rc = cfg->rc ? cfg->rc : 1;
    for (uint32_t i = 1; i < rc; i++) {
        t += rto;
        rto *= 2;
    }
    return (t + (uint64_t)cfg->rm * cfg->rto_ms) * 1000;
}

enum sl_txn_action sl_txn_next(struct sl_txn *t, uint64_t now_us, uint64_t *wake_us)
{
    if (t->done)
        return SL_TXN_DONE;
    if (t->timed_out)
        return SL_TXN_TIMEOUT;
    if (now_us < t->next_us) {
        *wake_us = t->next_us;
        return SL_TXN_WAIT;
    }
    if (t->cfg.reliable) {
        if (t->sent == 0) {
            t->sent = 1;
            t->next_us = t->start_us + (uint64_t)t->cfg.ti_ms * 1000;
            *wake_us = t->next_us;
            return SL_TXN_SEND;
        }
        t->timed_out = true;
        return SL_TXN_TIMEOUT;
    }
    if (t->sent < t->cfg.rc) {
        t->sent++;
        /* After the last transmission wait Rm times the initial RTO; before it, the current RTO,
         * which doubles each time. Deadlines are kept from the schedule, not from now, so a late
         * caller does not stretch the transaction. */
        uint64_t step = t->sent == t->cfg.rc ? (uint64_t)t->cfg.rm * t->cfg.rto_ms : t->rto_ms;
        t->next_us += step * 1000;
        t->rto_ms *= 2;
        *wake_us = t->next_us;
        return SL_TXN_SEND;
    }
    t->timed_out = true;
    return SL_TXN_TIMEOUT;
}

void sl_txn_complete(struct sl_txn *t)
{
    t->done = true;
}
