/* `turnprobe analyze`: find and judge STUN/TURN in pcap/pcapng captures, with every report and
 * an annotated copy of the capture. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rpt_html.h"
#include "rpt_json.h"
#include "rpt_md.h"
#include "rpt_pcapng.h"
#include "rpt_text.h"
#include "tp.h"
#include "tp_capread.h"
#include "tp_sessions.h"
#include "tp_version.h"

/* Files smaller than this finish before a progress line would help. */
#define PROGRESS_MIN_BYTES (64u * 1024 * 1024)
#define PROGRESS_EVERY_US  (G_USEC_PER_SEC / 4)

struct analyze_opts {
    char *json, *md, *html, *pcap, *format, *color;
    gboolean quiet;
    int verbose;
};

static gboolean on_verbose(const gchar *name, const gchar *value, gpointer data, GError **err)
{
    (void)name;
    (void)value;
    (void)err;
    ((struct analyze_opts *)data)->verbose++;
    return TRUE;
}

/* --color alone means always; --color=WHEN as check takes it. */
static gboolean on_color(const gchar *name, const gchar *value, gpointer data, GError **err)
{
    (void)name;
    (void)err;
    struct analyze_opts *o = data;
    g_free(o->color);
    o->color = g_strdup(value ? value : "always");
    return TRUE;
}

struct progress {
    gboolean on;
    gint64 next_us, start_us;
    const char *name;
};

static void progress_show(struct progress *pg, struct tp_capread *c, gboolean final)
{
    if (!pg->on)
        return;
    gint64 now = g_get_monotonic_time();
    if (!final && now < pg->next_us)
        return;
    pg->next_us = now + PROGRESS_EVERY_US;
    if (final) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        return;
    }
    guint64 done, total;
    tp_capread_progress(c, &done, &total);
    double secs = MAX((double)(now - pg->start_us) / 1e6, 1e-3);
    fprintf(stderr, "\r\033[Kturnprobe analyze: %s %3.0f%% (%.0f of %.0f MB, %.0f MB/s)",
            pg->name, total ? 100.0 * (double)done / (double)total : 0.0, (double)done / 1e6,
            (double)total / 1e6, (double)done / 1e6 / secs);
    fflush(stderr);
}

/* Pass 1: every frame through the reader into the sessions. Returns the number of damaged
 * files; *unreadable is set when a file gave nothing before its damage. */
static guint read_all(char **files, int n, struct tp_capread *c, struct tp_sessions *ss,
                      gboolean quiet, gint64 *first_us, gint64 *last_us, gboolean *unreadable)
{
    guint damaged = 0;
    *first_us = *last_us = 0;
    for (int i = 0; i < n; i++) {
        GError *err = NULL;
        tp_sessions_input(ss, files[i]);
        if (!tp_capread_open(c, files[i], &err)) {
            /* Checked before pass 1; a file that changed since is damage, not usage. */
            fprintf(stderr, "turnprobe analyze: %s\n", err->message);
            g_error_free(err);
            *unreadable = TRUE;
            continue;
        }
        guint64 done, total;
        tp_capread_progress(c, &done, &total);
        struct progress pg = {!quiet && isatty(STDERR_FILENO) && total >= PROGRESS_MIN_BYTES, 0,
                              g_get_monotonic_time(), files[i]};
        guint before = tp_capread_frame_number(c);
        int rc;
        for (rc = tp_capread_next(c, &err); rc == 1; rc = tp_capread_next(c, &err)) {
            gint64 t;
            const guint8 *d;
            guint32 cl, ol;
            tp_capread_frame(c, &t, &d, &cl, &ol);
            if (!*first_us || t < *first_us)
                *first_us = t;
            if (t > *last_us)
                *last_us = t;
            if ((tp_capread_frame_number(c) & 0x3FFF) == 0)
                progress_show(&pg, c, FALSE);
        }
        progress_show(&pg, c, TRUE);
        if (rc < 0) {
            damaged++;
            guint got = tp_capread_frame_number(c) - before;
            if (!quiet)
                fprintf(stderr, "turnprobe analyze: warning: %s; analysed the %u frame%s before "
                                "the damage\n",
                        err->message, got, got == 1 ? "" : "s");
            tp_sessions_damage(ss, err->message);
            if (got == 0)
                *unreadable = TRUE;
            g_error_free(err);
        }
    }
    tp_capread_flush(c);
    return damaged;
}

/* Pass 2 for --pcap: every input frame copied, each STUN/TURN frame with its comment. */
static gboolean write_pcap(const char *out, char **files, int n, FILE *log,
                           const struct tp_sessions *ss, const struct rpt_result *r,
                           GError **err)
{
    char *shb = rpt_pcapng_run_comment(r);
    char *appl = g_strdup_printf("turnprobe %s", TP_VERSION);
    struct rpt_pcapng *w = rpt_pcapng_open_full(out, shb, appl, err);
    g_free(shb);
    g_free(appl);
    if (!w)
        return FALSE;
    struct tp_capread *c = tp_capread_new(NULL, NULL);
    struct tp_frame_note note;
    gboolean have = FALSE;
    rewind(log);
    have = fread(&note, sizeof(note), 1, log) == 1;
    GString *comment = g_string_new(NULL);
    gboolean ok = TRUE;
    for (int i = 0; i < n && ok; i++) {
        if (!tp_capread_open(c, files[i], NULL))
            continue;
        char *base = g_path_get_basename(files[i]);
        int iface = rpt_pcapng_add_interface(w, tp_capread_linktype(c), tp_capread_snaplen(c), base);
        g_free(base);
        while (ok && tp_capread_next(c, NULL) == 1) {
            guint fn = tp_capread_frame_number(c);
            g_string_truncate(comment, 0);
            while (have && note.frame <= fn) {
                if (note.frame == fn) {
                    char *one = tp_sessions_comment(ss, r, &note);
                    /* Several records of one frame: each once, in order. */
                    if (!strstr(comment->str, one))
                        g_string_append_printf(comment, "%s%s", comment->len ? " | " : "", one);
                    g_free(one);
                }
                have = fread(&note, sizeof(note), 1, log) == 1;
            }
            gint64 t;
            const guint8 *d;
            guint32 cl, ol;
            tp_capread_frame(c, &t, &d, &cl, &ol);
            ok = rpt_pcapng_add_packet(w, iface, t, d, cl, ol, comment->len ? comment->str : NULL);
        }
    }
    g_string_free(comment, TRUE);
    tp_capread_free(c);
    /* The writer's errors are sticky: close reports the first one. */
    return rpt_pcapng_close(w, err);
}

/* What analyze leaves for the process exit to release (see the end of tp_cmd_analyze). */
static struct tp_sessions *kept_sessions;
static struct rpt_result *kept_result;

int tp_cmd_analyze(int argc, char **argv)
{
    struct analyze_opts o = {0};
    GOptionEntry entries[] = {
        {"json", 0, 0, G_OPTION_ARG_FILENAME, &o.json,
         "write the JSON report to FILE (- for standard output)", "FILE"},
        {"md", 0, 0, G_OPTION_ARG_FILENAME, &o.md, "write the Markdown report to FILE", "FILE"},
        {"html", 0, 0, G_OPTION_ARG_FILENAME, &o.html, "write the HTML report to FILE", "FILE"},
        {"pcap", 0, 0, G_OPTION_ARG_FILENAME, &o.pcap,
         "write the capture again as pcapng, each STUN/TURN frame commented with its step and "
         "verdict", "OUT"},
        {"format", 0, 0, G_OPTION_ARG_STRING, &o.format,
         "what to print on standard output: text (default), json or md", "FMT"},
        {"verbose", 'v', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, on_verbose,
         "show every packet and transaction", NULL},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o.quiet, "print nothing; only the exit status",
         NULL},
        {"color", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, on_color,
         "auto (default), always (--color alone) or never", "WHEN"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *octx = g_option_context_new("CAPTURE... - find and judge STUN/TURN in captures");
    GOptionGroup *grp = g_option_group_new("analyze", "", "", &o, NULL);
    g_option_group_add_entries(grp, entries);
    g_option_context_set_main_group(octx, grp);
    g_option_context_set_description(
        octx,
        "CAPTURE is a pcap or pcapng file (the format is read from its first bytes). STUN and\n"
        "TURN are found by content on any port, over UDP, TCP (reassembled) and inside TURN\n"
        "(ICE checks in Send indications and ChannelData); TURN over TLS on 5349/3478 (or with\n"
        "ALPN stun.turn) is reported as encrypted TURN. One session per client 5-tuple, judged\n"
        "by the same rules as turnprobe check. Several files are read as one capture, in order.\n"
        "Exit status: 0 no session failed (warnings allowed), 1 a session failed, 2 bad usage\n"
        "or a file that is not a readable capture, 3 internal error.\n");

    GError *err = NULL;
    int rc = TP_EXIT_USAGE;
    struct rpt_result *r = NULL;
    struct tp_sessions *ss = NULL;
    struct tp_capread *c = NULL;
    FILE *log = NULL;
    if (!g_option_context_parse(octx, &argc, &argv, &err)) {
        rc = tp_usage_error("analyze", "%s", err->message);
        goto out;
    }
    if (argc < 2) {
        rc = tp_usage_error("analyze", "give one or more capture files (see turnprobe analyze "
                                       "--help)");
        goto out;
    }
    if (o.format && strcmp(o.format, "text") != 0 && strcmp(o.format, "json") != 0 &&
        strcmp(o.format, "md") != 0) {
        rc = tp_usage_error("analyze", "--format must be text, json or md");
        goto out;
    }
    if (!tp_color_valid(o.color)) {
        rc = tp_usage_error("analyze", "--color must be auto, always or never");
        goto out;
    }
    char **files = argv + 1;
    int nfiles = argc - 1;
    /* Every input is checked before anything is read: a typo in the third name must not cost
     * the time of reading the first two. */
    c = tp_capread_new(NULL, NULL);
    for (int i = 0; i < nfiles; i++) {
        if (!tp_capread_open(c, files[i], &err)) {
            rc = tp_usage_error("analyze", "%s", err->message);
            goto out;
        }
    }
    tp_capread_free(c);
    c = NULL;
    if (o.pcap) {
        log = tmpfile();
        if (!log) {
            rc = tp_usage_error("analyze", "cannot create a temporary file for --pcap: %s",
                                g_strerror(errno));
            goto out;
        }
    }

    ss = tp_sessions_new(TP_VERSION);
    tp_sessions_set_log(ss, log);
    c = tp_capread_new(tp_sessions_record, ss);
    gint64 first_us, last_us;
    gboolean unreadable = FALSE;
    read_all(files, nfiles, c, ss, o.quiet, &first_us, &last_us, &unreadable);

    r = rpt_result_new("analyze", TP_VERSION);
    for (int i = 0; i < nfiles; i++)
        g_ptr_array_add(r->inputs, g_strdup(files[i]));
    if (first_us)
        r->start_us = first_us;
    tp_sessions_finish(ss, r, last_us);
    r->duration_ms = first_us ? (double)(last_us - first_us) / 1000.0 : 0;

    rc = rpt_result_verdict(r) == RPT_FAIL ? TP_EXIT_FAIL : TP_EXIT_OK;
    if (unreadable)
        rc = TP_EXIT_USAGE;
    if (!tp_write_reports("analyze", r, o.json, o.md, o.html))
        rc = TP_EXIT_INTERNAL;
    if (o.pcap && !write_pcap(o.pcap, files, nfiles, log, ss, r, &err)) {
        fprintf(stderr, "turnprobe analyze: cannot write %s: %s\n", o.pcap,
                err ? err->message : "unknown error");
        g_clear_error(&err);
        rc = TP_EXIT_INTERNAL;
    }
    if (!o.quiet && !tp_stdout_taken(o.json, o.md, o.html)) {
        if (!tp_print_format(r, o.format)) {
            const struct tp_capstats *st = tp_capread_stats(c);
            if (r->sessions->len == 0)
                printf("No STUN or TURN traffic in %" G_GUINT64_FORMAT " frame%s of %d file%s.\n",
                       st->frames, st->frames == 1 ? "" : "s", nfiles, nfiles == 1 ? "" : "s");
            else {
                struct rpt_text_opts to = {tp_want_color(o.color), TRUE, o.verbose};
                rpt_text_write(r, stdout, &to);
            }
        }
    }
out:
    if (log)
        fclose(log);
    tp_capread_free(c);
    if (g_getenv("TURNPROBE_FREE_AT_EXIT")) {
        tp_sessions_free(ss);
        rpt_result_free(r);
    } else {
        /* The process ends here: freeing a model of thousands of sessions object by object
         * took a tenth of a 1 GB analysis, for nothing the system would not do at once. The
         * pointers stay reachable (as git's UNLEAK does), so leak checkers stay quiet. */
        kept_sessions = ss;
        kept_result = r;
    }
    g_clear_error(&err);
    g_free(o.json);
    g_free(o.md);
    g_free(o.html);
    g_free(o.pcap);
    g_free(o.format);
    g_free(o.color);
    g_option_context_free(octx);
    return rc;
}
