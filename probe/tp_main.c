/* turnprobe's entry point: global options and dispatch to a subcommand. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "tp.h"
#include "tp_version.h"

const struct tp_cmd tp_cmds[] = {
    {"check", "URI [options]", "the TURN checklist against a server", tp_cmd_check},
    {"decode", "HEX|- [--password-file F]", "decode and explain one STUN message",
     tp_cmd_decode},
    {"creds", "--user NAME | --check U", "mint or check TURN REST credentials", tp_cmd_creds},
    {"analyze", "CAPTURE... [options]", "find and judge STUN/TURN in pcap/pcapng files", tp_cmd_analyze},
    {"matrix", "HOST [options]", "reachability over every transport and usual port", tp_cmd_matrix},
};
const size_t tp_ncmds = G_N_ELEMENTS(tp_cmds);

int tp_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "turnprobe%s%s: %s\n", cmd ? " " : "", cmd ? cmd : "", msg);
    g_free(msg);
    return TP_EXIT_USAGE;
}

static void print_help(FILE *out)
{
    fprintf(out,
            "Usage: turnprobe COMMAND [OPTIONS]\n"
            "\n"
            "Tests a TURN/STUN server step by step and says why it fails.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < tp_ncmds; i++)
        fprintf(out, "  %-8s %-30s %s\n", tp_cmds[i].name, tp_cmds[i].args, tp_cmds[i].summary);
    fprintf(out,
            "\n"
            "Options:\n"
            "  -h, --help     show this help; `turnprobe COMMAND --help` for a command's options\n"
            "  --version      show the version\n"
            "\n"
            "Exit status: 0 every step passed (warnings allowed), 1 a step failed,\n"
            "2 bad usage or input, 3 internal error.\n");
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    if (argc < 2) {
        print_help(stderr);
        return TP_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        if (strcmp(cmd, "help") == 0 && argc > 2) {
            for (size_t i = 0; i < tp_ncmds; i++) {
                if (strcmp(argv[2], tp_cmds[i].name) == 0) {
                    char *hargv[] = {argv[0], (char *)"--help", NULL};
                    return tp_cmds[i].run(2, hargv);
                }
            }
            return tp_usage_error(NULL, "unknown command \"%s\" (see turnprobe --help)", argv[2]);
        }
        print_help(stdout);
        return TP_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("turnprobe %s\n", TP_VERSION);
        return TP_EXIT_OK;
    }
    for (size_t i = 0; i < tp_ncmds; i++)
        if (strcmp(cmd, tp_cmds[i].name) == 0)
            return tp_cmds[i].run(argc - 1, argv + 1);
    return tp_usage_error(NULL, "unknown command \"%s\" (see turnprobe --help)", cmd);
}
