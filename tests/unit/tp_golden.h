/* Golden-file comparison for the report writers' tests: TP_UPDATE_GOLDEN=1 rewrites them. */
#ifndef TP_GOLDEN_H
#define TP_GOLDEN_H

#include <glib.h>
#include <string.h>

#define GOLDEN_DIR TP_SOURCE_DIR "/tests/golden"

/* Compares text with a golden file; on a difference writes NAME.got beside it to diff. */
static inline void golden_check(const char *name, const char *text)
{
    char *path = g_build_filename(GOLDEN_DIR, name, NULL);
    if (g_strcmp0(g_getenv("TP_UPDATE_GOLDEN"), "1") == 0) {
        GError *err = NULL;
        g_assert_true(g_file_set_contents(path, text, -1, &err));
        g_free(path);
        return;
    }
    char *want = NULL;
    GError *err = NULL;
    if (!g_file_get_contents(path, &want, NULL, &err))
        g_error("%s: %s (run with TP_UPDATE_GOLDEN=1 to create it)", path, err->message);
    if (strcmp(want, text) != 0) {
        char *got = g_strconcat(path, ".got", NULL);
        g_file_set_contents(got, text, -1, NULL);
        g_error("%s differs from the output, written to %s: diff them; if the change is "
                "intended, run with TP_UPDATE_GOLDEN=1",
                path, got);
    }
    g_free(want);
    g_free(path);
}

#endif
