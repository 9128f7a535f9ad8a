/* gen_capture: writes a large, realistic TURN capture for bench_analyze.sh. Many sessions at
 * once, each: Allocate (401 challenge, then authenticated), CreatePermission, ChannelBind,
 * RTP-like audio and video as ChannelData both ways, a Refresh now and then, and the release;
 * some over TCP (records packed several to a segment), a few failing (wrong password, 403 on
 * CreatePermission, a server that does not answer).
 *   gen_capture OUT.pcap [--size MB] [--concurrent N] [--seed S] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_auth.h"
#include "sl_msg.h"
#include "sl_rd.h"

#define AUDIO_LEN 172 /* 12-byte RTP header + 160 bytes of 20 ms G.711 */
#define VIDEO_LEN 1100
#define TICK_US   20000

struct sess {
    int tcp, fail; /* fail: 0 none, 1 wrong password, 2 403 permission, 3 no answer */
    uint8_t cip[4];
    uint16_t cport, relay_port, peer_port;
    uint8_t pip[4];
    uint32_t seq[2];   /* TCP: client->server, server->client */
    uint32_t rtp_seq;
    int ticks, age, live;
    uint8_t pend[2][4096]; /* TCP: ChannelData records waiting to share a segment, per way */
    size_t npend[2];
};

static FILE *out;
static uint64_t written, target;
static int64_t now_us = 1700000000LL * 1000000;
static uint64_t rng = 88172645463325252ull;
static const uint8_t server_ip[4] = {203, 0, 113, 10};
static uint8_t key[16];
static int injected[4]; /* sessions per fail kind, for checking the analysis */

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint16_t ip_csum(const uint8_t *h)
{
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(h[i] << 8 | h[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* One Ethernet/IPv4 frame with a UDP or TCP header and the payload. */
static void frame(const uint8_t *src, uint16_t sport, const uint8_t *dst, uint16_t dport, int tcp,
                  uint32_t seq, uint32_t ack, uint8_t flags, const uint8_t *pl, size_t n)
{
    static uint8_t f[70000];
    size_t l4 = tcp ? 20 : 8, len = 14 + 20 + l4 + n;
    static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
    memcpy(f, macs, 12);
    f[12] = 0x08;
    f[13] = 0x00;
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    sl_put_u16(ip + 2, (uint16_t)(20 + l4 + n));
    sl_put_u16(ip + 4, (uint16_t)rnd());
    ip[6] = 0x40; /* DF */
    ip[8] = 64;
    ip[9] = tcp ? 6 : 17;
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    sl_put_u16(ip + 10, ip_csum(ip));
    uint8_t *t = ip + 20;
    sl_put_u16(t, sport);
    sl_put_u16(t + 2, dport);
    if (tcp) {
        sl_put_u32(t + 4, seq);
        sl_put_u32(t + 8, ack);
        t[12] = 5 << 4;
        t[13] = flags;
        sl_put_u16(t + 14, 65535);
        sl_put_u16(t + 16, 0);
        sl_put_u16(t + 18, 0);
    } else {
        sl_put_u16(t + 4, (uint16_t)(8 + n));
        sl_put_u16(t + 6, 0);
    }
    if (n)
        memcpy(t + l4, pl, n);
    uint8_t rec[16];
    put_le32(rec, (uint32_t)(now_us / 1000000));
    put_le32(rec + 4, (uint32_t)(now_us % 1000000));
    put_le32(rec + 8, (uint32_t)len);
    put_le32(rec + 12, (uint32_t)len);
    fwrite(rec, 1, 16, out);
    fwrite(f, 1, len, out);
    written += 16 + len;
    now_us += 1 + rnd() % 3; /* frames a few microseconds apart within a tick */
}

/* Sends bytes from client (dir 0) or server (dir 1) over the session's transport. */
static void send_bytes(struct sess *s, int dir, const uint8_t *p, size_t n, uint8_t flags)
{
    const uint8_t *src = dir ? server_ip : s->cip, *dst = dir ? s->cip : server_ip;
    uint16_t sp = dir ? 3478 : s->cport, dp = dir ? s->cport : 3478;
    if (s->tcp) {
        frame(src, sp, dst, dp, 1, s->seq[dir], s->seq[!dir], flags ? flags : 0x18, p, n);
        s->seq[dir] += (uint32_t)n + ((flags & 0x03) ? 1 : 0);
    } else {
        frame(src, sp, dst, dp, 0, 0, 0, 0, p, n);
    }
}

static size_t stun(uint8_t *buf, uint16_t method, enum sl_class cls, const uint8_t *tid,
                   int auth, int err, const struct sess *s, int kind)
{
    struct sl_enc e;
    sl_enc_init(&e, buf, 1024, method, cls, tid);
    struct sl_addr a = {SL_AF_IPV4, 0, {0}};
    if (cls == SL_REQUEST) {
        if (method == SL_ALLOCATE) {
            sl_enc_u8_head(&e, SL_ATTR_REQUESTED_TRANSPORT, SL_TRANSPORT_UDP);
        } else if (method == SL_CREATE_PERMISSION || method == SL_CHANNEL_BIND) {
            if (method == SL_CHANNEL_BIND)
                sl_enc_channel(&e, 0x4000);
            memcpy(a.ip, s->pip, 4);
            a.port = s->peer_port;
            sl_enc_addr(&e, SL_ATTR_XOR_PEER_ADDRESS, &a);
        } else if (method == SL_REFRESH) {
            sl_enc_u32(&e, SL_ATTR_LIFETIME, kind ? 0 : 600);
        }
        if (auth) {
            sl_enc_str(&e, SL_ATTR_USERNAME, "1700086400:alice");
            sl_enc_str(&e, SL_ATTR_REALM, "example.org");
            sl_enc_str(&e, SL_ATTR_NONCE, "c9f1e3a7b5d20468");
            sl_enc_integrity(&e, key, sizeof(key));
        }
    } else if (cls == SL_ERROR) {
        sl_enc_error(&e, err, err == 401 ? "Unauthorized" : "Forbidden");
        if (err == 401) {
            sl_enc_str(&e, SL_ATTR_REALM, "example.org");
            sl_enc_str(&e, SL_ATTR_NONCE, "c9f1e3a7b5d20468");
        }
    } else if (method == SL_ALLOCATE) {
        memcpy(a.ip, server_ip, 4);
        a.port = s->relay_port;
        sl_enc_addr(&e, SL_ATTR_XOR_RELAYED_ADDRESS, &a);
        memcpy(a.ip, s->cip, 4);
        a.port = s->cport;
        sl_enc_addr(&e, SL_ATTR_XOR_MAPPED_ADDRESS, &a);
        sl_enc_u32(&e, SL_ATTR_LIFETIME, 600);
        sl_enc_integrity(&e, key, sizeof(key));
    } else {
        if (method == SL_REFRESH)
            sl_enc_u32(&e, SL_ATTR_LIFETIME, kind ? 0 : 600);
        sl_enc_integrity(&e, key, sizeof(key));
    }
    sl_enc_fingerprint(&e);
    size_t len = 0;
    if (sl_enc_finish(&e, &len) != SL_OK) {
        fprintf(stderr, "gen_capture: encoding failed\n");
        exit(1);
    }
    return len;
}

/* A request and its answer (err 0: success; -1: no answer, three transmissions). */
static void txn(struct sess *s, uint16_t method, int auth, int err, int kind)
{
    uint8_t tid[12], buf[1024];
    for (int i = 0; i < 12; i++)
        tid[i] = (uint8_t)rnd();
    size_t n = stun(buf, method, SL_REQUEST, tid, auth, 0, s, kind);
    send_bytes(s, 0, buf, n, 0);
    if (err < 0) {
        for (int i = 0; i < 2 && !s->tcp; i++) {
            now_us += 500000;
            send_bytes(s, 0, buf, n, 0);
        }
        return;
    }
    n = stun(buf, method, err ? SL_ERROR : SL_SUCCESS, tid, auth, err, s, kind);
    send_bytes(s, 1, buf, n, 0);
}

static void flush_pending(struct sess *s, int dir)
{
    if (s->npend[dir]) {
        send_bytes(s, dir, s->pend[dir], s->npend[dir], 0);
        s->npend[dir] = 0;
    }
}

static void channel_data(struct sess *s, int dir, size_t len)
{
    uint8_t rec[VIDEO_LEN + 8];
    sl_put_u16(rec, 0x4000);
    sl_put_u16(rec + 2, (uint16_t)len);
    uint8_t *rtp = rec + 4;
    rtp[0] = 0x80;
    rtp[1] = len == AUDIO_LEN ? 0 : 96;
    sl_put_u16(rtp + 2, (uint16_t)s->rtp_seq++);
    sl_put_u32(rtp + 4, s->rtp_seq * 160);
    sl_put_u32(rtp + 8, 0x12345678u ^ s->cport);
    memset(rtp + 12, 0xD5, len - 12);
    size_t total = 4 + len;
    if (!s->tcp) {
        send_bytes(s, dir, rec, total, 0);
        return;
    }
    /* RFC 8656 §12.5: padded to 4 over TCP; a segment carries a few records at once. */
    size_t padded = (total + 3) & ~(size_t)3;
    memset(rec + total, 0, padded - total);
    if (s->npend[dir] + padded > 1400)
        flush_pending(s, dir);
    memcpy(s->pend[dir] + s->npend[dir], rec, padded);
    s->npend[dir] += padded;
    if (rnd() % 3 == 0)
        flush_pending(s, dir);
}

static void sess_start(struct sess *s, int id)
{
    memset(s, 0, sizeof(*s));
    s->cip[0] = 10;
    s->cip[1] = (uint8_t)(id >> 16);
    s->cip[2] = (uint8_t)(id >> 8);
    s->cip[3] = (uint8_t)(id | 1);
    s->cport = (uint16_t)(20000 + rnd() % 40000);
    s->relay_port = (uint16_t)(49152 + rnd() % 16000);
    s->pip[0] = 198;
    s->pip[1] = 51;
    s->pip[2] = 100;
    s->pip[3] = (uint8_t)(1 + rnd() % 250);
    s->peer_port = (uint16_t)(1024 + rnd() % 60000);
    s->tcp = rnd() % 10 == 0;
    uint32_t f = rnd() % 100;
    s->fail = f < 2 ? 1 : f < 4 ? 2 : f < 5 ? 3 : 0;
    injected[s->fail]++;
    s->ticks = 200 + (int)(rnd() % 400);
    s->seq[0] = rnd();
    s->seq[1] = rnd();
    if (s->tcp) {
        send_bytes(s, 0, NULL, 0, 0x02);
        send_bytes(s, 1, NULL, 0, 0x12);
    }
    if (s->fail == 3) {
        txn(s, SL_ALLOCATE, 0, -1, 0);
        s->ticks = 0;
        return;
    }
    txn(s, SL_ALLOCATE, 0, 401, 0);
    if (s->fail == 1) {
        txn(s, SL_ALLOCATE, 1, 401, 0);
        s->ticks = 0;
        return;
    }
    txn(s, SL_ALLOCATE, 1, 0, 0);
    txn(s, SL_CREATE_PERMISSION, 1, s->fail == 2 ? 403 : 0, 0);
    if (s->fail == 2) {
        txn(s, SL_REFRESH, 1, 0, 1);
        s->ticks = 0;
        return;
    }
    txn(s, SL_CHANNEL_BIND, 1, 0, 0);
    s->live = 1;
}

static void sess_tick(struct sess *s)
{
    channel_data(s, 0, AUDIO_LEN);
    channel_data(s, 1, AUDIO_LEN);
    if (rnd() % 3 == 0) {
        channel_data(s, 0, VIDEO_LEN);
        channel_data(s, 1, VIDEO_LEN);
    }
    flush_pending(s, 0);
    flush_pending(s, 1);
    if (++s->age % 250 == 0) /* a Refresh every five seconds of media */
        txn(s, SL_REFRESH, 1, 0, 0);
}

static void sess_end(struct sess *s)
{
    if (!s->live)
        return;
    txn(s, SL_REFRESH, 1, 0, 1);
    if (s->tcp) {
        send_bytes(s, 0, NULL, 0, 0x11);
        send_bytes(s, 1, NULL, 0, 0x11);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen_capture OUT.pcap [--size MB] [--concurrent N] [--seed S]\n");
        return 2;
    }
    unsigned long long mb = 1100;
    int conc = 400;
    for (int i = 2; i + 1 < argc; i += 2) {
        char *end;
        unsigned long long v = strtoull(argv[i + 1], &end, 10);
        if (*end || !v) {
            fprintf(stderr, "gen_capture: bad value \"%s\"\n", argv[i + 1]);
            return 2;
        }
        if (strcmp(argv[i], "--size") == 0)
            mb = v;
        else if (strcmp(argv[i], "--concurrent") == 0)
            conc = (int)v;
        else if (strcmp(argv[i], "--seed") == 0)
            rng ^= v * 0x9E3779B97F4A7C15ull;
        else {
            fprintf(stderr, "gen_capture: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    target = mb * 1000000ull;
    out = fopen(argv[1], "wb");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    static char obuf[1 << 22];
    setvbuf(out, obuf, _IOFBF, sizeof(obuf));
    uint8_t gh[24] = {0};
    put_le32(gh, 0xa1b2c3d4u);
    gh[4] = 2;
    gh[6] = 4;
    put_le32(gh + 16, 262144);
    put_le32(gh + 20, 1);
    fwrite(gh, 1, 24, out);
    written = 24;
    memset(key, 0x42, sizeof(key));
    struct sess *ss = calloc((size_t)conc, sizeof(struct sess));
    int next_id = 1, started = 0;
    for (int i = 0; i < conc; i++) {
        sess_start(&ss[i], next_id++);
        started++;
    }
    while (written < target) {
        for (int i = 0; i < conc && written < target; i++) {
            struct sess *s = &ss[i];
            if (s->ticks-- > 0) {
                sess_tick(s);
                continue;
            }
            sess_end(s);
            sess_start(s, next_id++);
            started++;
        }
        now_us += TICK_US;
    }
    for (int i = 0; i < conc; i++)
        sess_end(&ss[i]);
    free(ss);
    if (fclose(out) != 0) {
        perror(argv[1]);
        return 1;
    }
    fprintf(stderr, "gen_capture: %s: %.1f MB, %d sessions (%d concurrent)\n", argv[1],
            (double)written / 1e6, started, conc);
    /* One line a script can compare with the analysis. */
    printf("injected: auth-rejected %d permission-forbidden %d no-response %d healthy %d\n",
           injected[1], injected[2], injected[3], injected[0]);
    return 0;
}
