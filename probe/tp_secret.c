/* Loading passwords and REST secrets without ever echoing them. */
#include <stdio.h>
#include <string.h>

#include "tp.h"

static char *normalise(char *raw, const char *what, GError **err)
{
    if (!g_utf8_validate(raw, -1, NULL)) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the %s is not valid UTF-8", what);
        tp_secret_free(raw);
        return NULL;
    }
    /* RFC 8265 OpaqueString normalises to NFC; stunlib does the rest of the preparation. */
    char *nfc = g_utf8_normalize(raw, -1, G_NORMALIZE_NFC);
    tp_secret_free(raw);
    return nfc;
}

char *tp_secret_load(const char *file, const char *env_name, const char *cli_value,
                     const char *what, GError **err)
{
    if (file) {
        char *contents = NULL;
        gsize len = 0;
        if (!g_file_get_contents(file, &contents, &len, err))
            return NULL;
        /* The first line is the secret; a trailing newline is not part of it. */
        char *nl = memchr(contents, '\n', len);
        if (nl)
            *nl = '\0';
        size_t n = strlen(contents);
        if (n > 0 && contents[n - 1] == '\r')
            contents[n - 1] = '\0';
        if (contents[0] == '\0') {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: the %s file is empty",
                        file, what);
            tp_secret_free(contents);
            return NULL;
        }
        return normalise(contents, what, err);
    }
    if (cli_value) {
        fprintf(stderr,
                "turnprobe: warning: a %s given on the command line is visible to other users "
                "(ps, shell history); prefer --password-file or TURNPROBE_PASSWORD\n",
                what);
        return normalise(g_strdup(cli_value), what, err);
    }
    const char *env = env_name ? g_getenv(env_name) : NULL;
    if (env && *env)
        return normalise(g_strdup(env), what, err);
    return NULL;
}

void tp_secret_free(char *secret)
{
    if (!secret)
        return;
    volatile char *p = secret;
    while (*p)
        *p++ = '\0';
    g_free(secret);
}
