/* The turnprobe program: subcommands, exit statuses and helpers shared between them. */
#ifndef TP_H
#define TP_H

#include <gio/gio.h>
#include <glib.h>

/* Exit status (DESIGN.md): 0 every step passed, 1 a step failed, 2 bad usage or input,
 * 3 internal error. */
enum tp_exit { TP_EXIT_OK = 0, TP_EXIT_FAIL = 1, TP_EXIT_USAGE = 2, TP_EXIT_INTERNAL = 3 };

struct tp_cmd {
    const char *name;
    const char *args;    /* e.g. "HEX|-" */
    const char *summary; /* one line for `turnprobe --help` */
    int (*run)(int argc, char **argv);
};

extern const struct tp_cmd tp_cmds[];
extern const size_t tp_ncmds;

int tp_cmd_decode(int argc, char **argv);
int tp_cmd_check(int argc, char **argv);
int tp_cmd_creds(int argc, char **argv);
int tp_cmd_analyze(int argc, char **argv);
int tp_cmd_matrix(int argc, char **argv);

/* --color=auto|always|never: whether the value is one of those, and whether to colour
 * standard output (auto: a terminal without NO_COLOR). */
gboolean tp_color_valid(const char *mode);
gboolean tp_want_color(const char *mode);

/* Ctrl-C and SIGTERM while a command runs: they set tp_interrupted (the run winds down, releases
 * what it allocated and writes its reports) instead of killing the process. */
extern volatile gboolean tp_interrupted;
struct tp_signals {
    guint ids[2];
};
void tp_signals_catch(struct tp_signals *s);
void tp_signals_release(struct tp_signals *s);

struct rpt_result;
/* Writes each report asked for (a NULL path is skipped, "-" is standard output) and says on
 * stderr which could not be written: FALSE when any failed. */
gboolean tp_write_reports(const char *cmd, const struct rpt_result *r, const char *json,
                          const char *md, const char *html);
/* Whether a report goes to standard output, which the terminal report then leaves alone. */
gboolean tp_stdout_taken(const char *json, const char *md, const char *html);
/* --format json or md: prints that report and returns TRUE; FALSE for text (the caller's). */
gboolean tp_print_format(const struct rpt_result *r, const char *format);

/* Prints "turnprobe CMD: message" on stderr and returns TP_EXIT_USAGE. */
int tp_usage_error(const char *cmd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* A secret (password, REST secret): read from a file (first line), the environment, or the
 * command line (with a warning that other users see it in ps). The returned string is NFC
 * normalised; free it with tp_secret_free, which wipes it. NULL with *err set on failure,
 * NULL without error when no source gave one. */
char *tp_secret_load(const char *file, const char *env_name, const char *cli_value,
                     const char *what, GError **err);
void tp_secret_free(char *secret);

#endif
