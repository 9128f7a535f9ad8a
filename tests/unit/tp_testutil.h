/* Helpers shared by the unit tests: hex parsing, the shared vectors file, exact-size copies. */
#ifndef TP_TESTUTIL_H
#define TP_TESTUTIL_H

#include <glib.h>
#include <stdint.h>
#include <string.h>

#define TP_VECTORS_FILE TP_SHARED_DIR "/vectors/stun-vectors.txt"
#define TP_CAPTURES_DIR TP_SHARED_DIR "/captures"

/* Hex to bytes; whitespace is skipped so tables can be laid out by field. Any other non-hex
 * character, or an odd digit count, fails the test: a typo in a table must not pass quietly. */
static inline GByteArray *tp_hex(const char *hex)
{
    GByteArray *b = g_byte_array_new();
    int hi = -1;
    for (const char *c = hex; *c; c++) {
        if (g_ascii_isspace(*c))
            continue;
        int v = g_ascii_xdigit_value(*c);
        if (v < 0)
            g_error("bad hex character '%c' in \"%s\"", *c, hex);
        if (hi < 0) {
            hi = v;
        } else {
            uint8_t byte = (uint8_t)(hi << 4 | v);
            g_byte_array_append(b, &byte, 1);
            hi = -1;
        }
    }
    if (hi >= 0)
        g_error("odd number of hex digits in \"%s\"", hex);
    return b;
}

/* A copy in its own allocation of exactly len bytes, so that ASan and valgrind see any read past
 * the end (a slice of a larger buffer would hide it). */
static inline uint8_t *tp_dup(const uint8_t *p, size_t len)
{
    uint8_t *q = g_malloc(len ? len : 1);
    if (len)
        memcpy(q, p, len);
    return q;
}

static inline gboolean tp_is_hex_line(const char *s)
{
    if (*s == '\0')
        return FALSE;
    for (; *s; s++)
        if (!g_ascii_isxdigit(*s))
            return FALSE;
    return TRUE;
}

struct tp_vector {
    char *name;
    GByteArray *bytes;
};

static inline void tp_vector_free(gpointer p)
{
    struct tp_vector *v = p;
    g_free(v->name);
    g_byte_array_unref(v->bytes);
    g_free(v);
}

/* The vectors file: '#' comments, then pairs of lines "NAME  # comment" and the hex message. */
static inline GPtrArray *tp_vectors_load(void)
{
    gchar *text = NULL;
    GError *err = NULL;
    if (!g_file_get_contents(TP_VECTORS_FILE, &text, NULL, &err))
        g_error("%s: %s", TP_VECTORS_FILE, err->message);
    GPtrArray *out = g_ptr_array_new_with_free_func(tp_vector_free);
    gchar **lines = g_strsplit(text, "\n", -1);
    char *pending = NULL;
    for (gchar **l = lines; *l; l++) {
        gchar *s = g_strstrip(*l);
        if (*s == '\0' || *s == '#')
            continue;
        if (tp_is_hex_line(s)) {
            if (!pending)
                g_error("%s: hex line without a name", TP_VECTORS_FILE);
            struct tp_vector *v = g_new0(struct tp_vector, 1);
            v->name = pending;
            v->bytes = tp_hex(s);
            pending = NULL;
            g_ptr_array_add(out, v);
        } else {
            g_free(pending);
            pending = g_strndup(s, strcspn(s, " \t#"));
        }
    }
    g_free(pending);
    g_strfreev(lines);
    g_free(text);
    return out;
}

/* The vector whose name starts with prefix; the test fails when there is none. */
static inline const struct tp_vector *tp_vector_find(GPtrArray *vs, const char *prefix)
{
    for (guint i = 0; i < vs->len; i++) {
        const struct tp_vector *v = g_ptr_array_index(vs, i);
        if (g_str_has_prefix(v->name, prefix))
            return v;
    }
    g_error("no vector named %s* in %s", prefix, TP_VECTORS_FILE);
    return NULL;
}

/* Whether a vector is expected to decode: the file marks the erratum example as INVALID. */
static inline gboolean tp_vector_valid(const struct tp_vector *v)
{
    return strstr(v->name, "INVALID") == NULL;
}

static inline GBytes *tp_read_file(const char *path)
{
    gchar *data = NULL;
    gsize len = 0;
    GError *err = NULL;
    if (!g_file_get_contents(path, &data, &len, &err))
        g_error("%s: %s", path, err->message);
    return g_bytes_new_take(data, len);
}

/* The RFC 5769 / 8489 credentials, as the vectors file's header gives them. */
#define TP_SHORT_TERM_PASSWORD "VOkJxbRl1RmTxUk/WvJxBt"
/* U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9 */
#define TP_LT_USERNAME "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9"
#define TP_LT_PASSWORD "TheMatrIX"
#define TP_LT_REALM    "example.org"

#endif
