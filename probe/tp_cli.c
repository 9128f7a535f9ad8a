/* Command-line conventions the subcommands share: --color, and checking its value. */
#include <string.h>
#include <unistd.h>

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
