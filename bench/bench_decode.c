/* Benchmark: how many 100-byte Binding success responses stunlib decodes per second on one
 * core, with and without the integrity and FINGERPRINT checks, next to tshark on the same. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sl_auth.h"
#include "sl_classify.h"
#include "sl_msg.h"
#include "sl_rd.h"

extern char **environ;

#define MSG_LEN 100
/* Distinct messages decoded in turn, so the benchmark is not one hot cache line; 1024 * 100
 * bytes still fits in L2, as a receive loop's recent packets would. */
#define NMSG     1024
#define PASSWORD "bench-password"
/* 32 bytes: with XOR-MAPPED-ADDRESS (12), MESSAGE-INTEGRITY (24), FINGERPRINT (8) and the
 * header (20) the response is exactly 100 bytes. */
#define SOFTWARE "turnprobe stunlib bench (RFC8489"

static uint8_t msgs[NMSG][MSG_LEN];
static uint8_t key[SL_KEY_MAX];
static size_t keylen;
static volatile size_t sink;

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* Rates are per second of this thread's CPU time: on a shared machine the wall clock also
 * counts the time other processes held the core. Both are printed. */
static double cpu_s(void)
{
    return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static void build_message(uint8_t *out, uint32_t seq)
{
    uint8_t tid[SL_TID_LEN];
    struct sl_addr a = {.family = SL_AF_IPV4, .port = (uint16_t)(1024 + seq % 60000)};
    struct sl_enc e;
    size_t len = 0;
    for (int i = 0; i < SL_TID_LEN; i++)
        tid[i] = (uint8_t)(seq * 2654435761u >> (i % 4 * 8)) ^ (uint8_t)i;
    a.ip[0] = 203;
    a.ip[1] = 0;
    a.ip[2] = 113;
    a.ip[3] = (uint8_t)seq;
    sl_enc_init(&e, out, MSG_LEN, SL_BINDING, SL_SUCCESS, tid);
    sl_enc_addr(&e, SL_ATTR_XOR_MAPPED_ADDRESS, &a);
    sl_enc_str(&e, SL_ATTR_SOFTWARE, SOFTWARE);
    sl_enc_integrity(&e, key, keylen);
    sl_enc_fingerprint(&e);
    if (sl_enc_finish(&e, &len) != SL_OK || len != MSG_LEN) {
        fprintf(stderr, "bench: the message is %zu bytes, not %d\n", len, MSG_LEN);
        exit(3);
    }
}

enum work { W_DECODE, W_DECODE_ADDR, W_DECODE_FP, W_DECODE_MI, W_DECODE_MI_FP, W_CLASSIFY };

static const char *const work_names[] = {
    [W_DECODE] = "decode only",
    [W_DECODE_ADDR] = "decode + XOR-MAPPED-ADDRESS",
    [W_DECODE_FP] = "decode + FINGERPRINT",
    [W_DECODE_MI] = "decode + MESSAGE-INTEGRITY",
    [W_DECODE_MI_FP] = "decode + MESSAGE-INTEGRITY + FINGERPRINT",
    [W_CLASSIFY] = "sl_classify (decode + FINGERPRINT)",
};

/* One message's worth of the work; returns false when a check fails (it never should). */
static inline bool one(enum work w, const uint8_t *p, struct sl_msg *m)
{
    if (w == W_CLASSIFY)
        return sl_classify(p, MSG_LEN) == SL_KIND_STUN;
    if (sl_msg_decode(m, p, MSG_LEN, 0) != SL_OK)
        return false;
    switch (w) {
    case W_DECODE:
        sink += m->nattrs;
        return true;
    case W_DECODE_ADDR: {
        struct sl_addr a;
        if (sl_msg_get_addr(m, SL_ATTR_XOR_MAPPED_ADDRESS, &a) != SL_OK)
            return false;
        sink += a.port;
        return true;
    }
    case W_DECODE_FP:
        return sl_auth_check_fingerprint(m) == SL_OK;
    case W_DECODE_MI:
        return sl_auth_check_integrity(m, key, keylen) == SL_OK;
    case W_DECODE_MI_FP:
        return sl_auth_check_integrity(m, key, keylen) == SL_OK &&
               sl_auth_check_fingerprint(m) == SL_OK;
    case W_CLASSIFY:
        break;
    }
    return false;
}

/* Runs the work for at least `seconds` of CPU time, in batches so the clock is read rarely;
 * returns messages per CPU second, and per wall second in *wall_rate. */
static double measure(enum work w, double seconds, uint64_t *count, double *wall_rate)
{
    static struct sl_msg m;
    uint64_t n = 0;
    size_t batch = w == W_DECODE_MI || w == W_DECODE_MI_FP ? 4096 : 65536;
    double start = cpu_s(), wall0 = now_s(), t;
    do {
        for (size_t i = 0; i < batch; i++)
            if (!one(w, msgs[(n + i) % NMSG], &m)) {
                fprintf(stderr, "bench: %s failed on message %zu\n", work_names[w],
                        (size_t)((n + i) % NMSG));
                exit(3);
            }
        n += batch;
        t = cpu_s() - start;
    } while (t < seconds);
    *count = n;
    *wall_rate = (double)n / (now_s() - wall0);
    return (double)n / t;
}

/* ---- tshark on a pcap of the same messages ---- */

static void put_le32(FILE *f, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    fwrite(b, 1, 4, f);
}

static uint16_t ip_checksum(const uint8_t *p, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += sl_get_u16(p + i);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Classic pcap, Ethernet, IPv4, UDP from port 3478 (where tshark dissects STUN). */
static int write_pcap(const char *path, size_t count)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    put_le32(f, 0xa1b2c3d4u);
    put_le32(f, 0x00040002u); /* version 2.4 */
    put_le32(f, 0);
    put_le32(f, 0);
    put_le32(f, 65535);
    put_le32(f, 1); /* LINKTYPE_ETHERNET */
    uint8_t frame[14 + 20 + 8 + MSG_LEN];
    static const uint8_t eth[14] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
    memcpy(frame, eth, sizeof(eth));
    uint8_t *ip = frame + 14, *udp = ip + 20;
    for (size_t i = 0; i < count; i++) {
        memset(ip, 0, 20);
        ip[0] = 0x45;
        sl_put_u16(ip + 2, 20 + 8 + MSG_LEN);
        sl_put_u16(ip + 4, (uint16_t)i);
        ip[8] = 64;
        ip[9] = 17;
        static const uint8_t src[4] = {192, 0, 2, 1}, dst[4] = {198, 51, 100, 2};
        memcpy(ip + 12, src, 4);
        memcpy(ip + 16, dst, 4);
        sl_put_u16(ip + 10, ip_checksum(ip, 20));
        sl_put_u16(udp, 3478);
        sl_put_u16(udp + 2, (uint16_t)(40000 + i % 1000));
        sl_put_u16(udp + 4, 8 + MSG_LEN);
        sl_put_u16(udp + 6, 0); /* no checksum: allowed over IPv4 */
        memcpy(udp + 8, msgs[i % NMSG], MSG_LEN);
        put_le32(f, (uint32_t)(1700000000 + i / 1000));
        put_le32(f, (uint32_t)(i % 1000) * 1000);
        put_le32(f, sizeof(frame));
        put_le32(f, sizeof(frame));
        fwrite(frame, 1, sizeof(frame), f);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Runs `tshark -r path -Y stun`, counts the lines it prints, and returns the wall time; the
 * child's CPU time goes to *cpu. */
static double run_tshark(const char *path, size_t *lines, double *cpu)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    char *argv[] = {"tshark", "-n", "-r", (char *)path, "-Y", "stun", NULL};
    struct rusage before, after;
    getrusage(RUSAGE_CHILDREN, &before);
    double start = now_s();
    pid_t pid;
    int rc = posix_spawnp(&pid, "tshark", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    char buf[65536];
    ssize_t r;
    *lines = 0;
    while ((r = read(fds[0], buf, sizeof(buf))) > 0)
        for (ssize_t i = 0; i < r; i++)
            *lines += buf[i] == '\n';
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    double wall = now_s() - start;
    getrusage(RUSAGE_CHILDREN, &after);
    *cpu = (double)(after.ru_utime.tv_sec - before.ru_utime.tv_sec) +
           (double)(after.ru_utime.tv_usec - before.ru_utime.tv_usec) / 1e6 +
           (double)(after.ru_stime.tv_sec - before.ru_stime.tv_sec) +
           (double)(after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1e6;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return wall;
}

static bool parse_count(const char *s, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > max)
        return false;
    *out = v;
    return true;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--seconds S] [--tshark-count N] [--no-tshark] [--keep-pcap FILE]\n"
            "  --seconds S       run each stunlib measurement for S seconds (default 4)\n"
            "  --tshark-count N  messages in the pcap given to tshark (default 200000)\n",
            argv0);
}

int main(int argc, char **argv)
{
    unsigned long seconds = 4, tcount = 200000;
    bool with_tshark = true;
    const char *keep = NULL;
    static const struct option opts[] = {
        {"seconds", required_argument, NULL, 's'}, {"tshark-count", required_argument, NULL, 'n'},
        {"no-tshark", no_argument, NULL, 'x'},     {"keep-pcap", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (!parse_count(optarg, 3600, &seconds)) {
                usage(argv[0]);
                return 2;
            }
            break;
        case 'n':
            if (!parse_count(optarg, 100000000, &tcount)) {
                usage(argv[0]);
                return 2;
            }
            break;
        case 'x':
            with_tshark = false;
            break;
        case 'k':
            keep = optarg;
            break;
        default:
            usage(argv[0]);
            return c == 'h' ? 0 : 2;
        }
    }

    /* One core: pin to the CPU we start on so the scheduler does not move us mid-run. */
    cpu_set_t set;
    int core = sched_getcpu();
    CPU_ZERO(&set);
    CPU_SET(core >= 0 ? core : 0, &set);
    bool pinned = sched_setaffinity(0, sizeof(set), &set) == 0;

    if (sl_auth_short_term_key(PASSWORD, key, &keylen) != SL_OK)
        return 3;
    for (uint32_t i = 0; i < NMSG; i++)
        build_message(msgs[i], i);

    printf("stunlib decode benchmark: %d-byte Binding success response (XOR-MAPPED-ADDRESS,\n"
           "SOFTWARE, MESSAGE-INTEGRITY, FINGERPRINT), %d distinct messages in turn, %lu s per\n"
           "row, one thread%s.\n\n",
           MSG_LEN, NMSG, seconds, pinned ? " pinned to one CPU" : "");
    printf("%-42s %11s %12s %9s %12s\n", "work per message", "messages", "msg/CPU-s", "ns/msg",
           "msg/wall-s");
    double decode_rate = 0, mi_fp_rate = 0, fp_rate = 0;
    for (int w = W_DECODE; w <= W_CLASSIFY; w++) {
        uint64_t n = 0;
        double wall_rate = 0;
        double rate = measure((enum work)w, (double)seconds, &n, &wall_rate);
        printf("%-42s %11llu %12.0f %9.1f %12.0f\n", work_names[w], (unsigned long long)n, rate,
               1e9 / rate, wall_rate);
        fflush(stdout);
        if (w == W_DECODE)
            decode_rate = rate;
        if (w == W_DECODE_MI_FP)
            mi_fp_rate = rate;
        if (w == W_DECODE_FP)
            fp_rate = rate;
    }
    printf("\ndecode only: %.2f M msg/s (target > 5 M msg/s: %s)\n", decode_rate / 1e6,
           decode_rate > 5e6 ? "met" : "NOT met");
    if (!with_tshark)
        return 0;

    /* tshark reads a pcap of the same messages; its start-up time is measured on a one-packet
     * pcap and taken off, so the rate is its per-packet work. */
    char dir[] = "/tmp/bench_decode.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("bench: mkdtemp");
        return 3;
    }
    char big[sizeof(dir) + 16], one_pkt[sizeof(dir) + 16];
    snprintf(big, sizeof(big), "%s/n.pcap", dir);
    snprintf(one_pkt, sizeof(one_pkt), "%s/1.pcap", dir);
    const char *pcap = keep ? keep : big;
    if (write_pcap(pcap, tcount) != 0 || write_pcap(one_pkt, 1) != 0)
        return 3;
    size_t lines = 0, lines1 = 0;
    double cpu = 0, cpu1 = 0;
    double wall1 = run_tshark(one_pkt, &lines1, &cpu1);
    double wall = wall1 >= 0 ? run_tshark(pcap, &lines, &cpu) : -1;
    remove(one_pkt);
    if (!keep)
        remove(big);
    rmdir(dir);
    if (wall < 0) {
        printf("\ntshark: not found or failed; comparison skipped\n");
        return 0;
    }
    if (lines != tcount)
        printf("\nwarning: tshark showed %zu of the %lu messages as STUN\n", lines, tcount);
    double t_wall = (double)tcount / (wall - wall1);
    double t_cpu = cpu > cpu1 ? (double)tcount / (cpu - cpu1) : 0;
    printf("\n%-42s %11s %12s %9s %12s\n", "tshark -n -r FILE -Y stun", "messages", "msg/CPU-s",
           "ns/msg", "msg/wall-s");
    printf("%-42s %11lu %12.0f %9.1f %12.0f\n", "start-up (a one-packet pcap) taken off", tcount,
           t_cpu, t_cpu > 0 ? 1e9 / t_cpu : 0.0, t_wall);
    printf("(tshark: %.2f s wall, %.2f s CPU; start-up alone %.2f s wall, %.2f s CPU)\n", wall, cpu,
           wall1, cpu1);
    if (t_cpu > 0) {
        printf("\nper CPU second, stunlib is faster than tshark by\n");
        printf("  decode only:                               %8.0fx\n", decode_rate / t_cpu);
        printf("  decode + FINGERPRINT:                      %8.0fx\n", fp_rate / t_cpu);
        printf("  decode + MESSAGE-INTEGRITY + FINGERPRINT:  %8.0fx\n", mi_fp_rate / t_cpu);
    }
    printf("(tshark also builds its protocol tree and prints a line per packet; it checks\n"
           "FINGERPRINT but has no key to check MESSAGE-INTEGRITY.)\n");
    return 0;
}
