/* Command-line conventions the subcommands share: --color, and writing the reports asked for. */
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rpt_html.h"
#include "rpt_json.h"
#include "rpt_md.h"
#include "tp.h"

gboolean tp_color_valid(const char *mode)
{
    return !mode || strcmp(mode, "auto") == 0 || strcmp(mode, "always") == 0 ||
           strcmp(mode, "never") == 0;
}

gboolean tp_want_color(const char *mode)
{
    if (mode && strcmp(mode, "always") == 0)
        return TRUE;
    if (mode && strcmp(mode, "never") == 0)
        return FALSE;
    /* auto: a terminal, unless NO_COLOR says otherwise (no-color.org). */
    return isatty(STDOUT_FILENO) && !g_getenv("NO_COLOR");
}

gboolean tp_write_reports(const char *cmd, const struct rpt_result *r, const char *json,
                          const char *md, const char *html)
{
    struct {
        const char *path, *what;
        gboolean (*write)(const struct rpt_result *, const char *, GError **);
    } outs[] = {
        {json, "JSON", rpt_json_write},
        {md, "Markdown", rpt_md_write},
        {html, "HTML", rpt_html_write},
    };
    gboolean ok = TRUE;
    for (size_t i = 0; i < G_N_ELEMENTS(outs); i++) {
        GError *err = NULL;
        if (outs[i].path && !outs[i].write(r, outs[i].path, &err)) {
            fprintf(stderr, "turnprobe %s: cannot write the %s report: %s\n", cmd, outs[i].what,
                    err ? err->message : "unknown error");
            g_clear_error(&err);
            ok = FALSE;
        }
    }
    return ok;
}

gboolean tp_stdout_taken(const char *json, const char *md, const char *html)
{
    return (json && strcmp(json, "-") == 0) || (md && strcmp(md, "-") == 0) ||
           (html && strcmp(html, "-") == 0);
}

gboolean tp_print_format(const struct rpt_result *r, const char *format)
{
    char *s = NULL;
    if (format && strcmp(format, "json") == 0)
        s = rpt_json_to_string(r);
    else if (format && strcmp(format, "md") == 0)
        s = rpt_md_to_string(r);
    if (!s)
        return FALSE;
    fputs(s, stdout);
    if (*s && s[strlen(s) - 1] != '\n')
        fputc('\n', stdout);
    g_free(s);
    return TRUE;
}

volatile gboolean tp_interrupted;

static gboolean on_signal(gpointer ud)
{
    (void)ud;
    tp_interrupted = TRUE;
    return G_SOURCE_CONTINUE;
}

void tp_signals_catch(struct tp_signals *s)
{
    s->ids[0] = g_unix_signal_add(SIGINT, on_signal, NULL);
    s->ids[1] = g_unix_signal_add(SIGTERM, on_signal, NULL);
}

void tp_signals_release(struct tp_signals *s)
{
    for (int i = 0; i < 2; i++)
        if (s->ids[i])
            g_source_remove(s->ids[i]);
    s->ids[0] = s->ids[1] = 0;
}
