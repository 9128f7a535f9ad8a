/* `turnprobe decode`: explain one STUN message attribute by attribute and check its integrity. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sl_auth.h"
#include "sl_chan.h"
#include "sl_classify.h"
#include "sl_fmt.h"
#include "sl_names.h"
#include "tp.h"

/* Hex with optional whitespace, colons and a leading 0x; NULL if it is not hex. */
static GByteArray *parse_hex(const char *s, size_t n)
{
    GByteArray *out = g_byte_array_new();
    int hi = -1;
    size_t i = 0;
    while (i < n && g_ascii_isspace(s[i]))
        i++;
    if (n - i >= 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X'))
        i += 2;
    for (; i < n; i++) {
        char c = s[i];
        if (g_ascii_isspace(c) || c == ':')
            continue;
        int v = g_ascii_xdigit_value(c);
        if (v < 0) {
            g_byte_array_unref(out);
            return NULL;
        }
        if (hi < 0) {
            hi = v;
        } else {
            guint8 b = (guint8)(hi << 4 | v);
            g_byte_array_append(out, &b, 1);
            hi = -1;
        }
    }
    if (hi >= 0) {
        g_byte_array_unref(out);
        return NULL;
    }
    return out;
}

static GByteArray *read_input(const char *arg, GError **err)
{
    if (strcmp(arg, "-") != 0) {
        GByteArray *b = parse_hex(arg, strlen(arg));
        if (!b)
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "the argument is not hexadecimal (give hex, or - to read standard input)");
        return b;
    }
    GByteArray *raw = g_byte_array_new();
    guint8 chunk[4096];
    ssize_t r;
    while ((r = read(STDIN_FILENO, chunk, sizeof(chunk))) > 0) {
        g_byte_array_append(raw, chunk, (guint)r);
        if (raw->len > 1 << 20) {
            g_byte_array_unref(raw);
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "standard input holds more than 1 MiB: not one STUN message");
            return NULL;
        }
    }
    /* Standard input may hold hex text or the raw message. */
    GByteArray *hex = parse_hex((const char *)raw->data, raw->len);
    if (hex && hex->len > 0) {
        g_byte_array_unref(raw);
        return hex;
    }
    if (hex)
        g_byte_array_unref(hex);
    return raw;
}

struct verify {
    const char *password;
    const char *username; /* --username, for USERHASH */
    int failures;
};

static char *attr_string(const struct sl_msg *m, uint16_t type)
{
    const uint8_t *v;
    size_t len;
    if (sl_msg_get_bytes(m, type, &v, &len) != SL_OK)
        return NULL;
    return g_strndup((const char *)v, len);
}

/* Picks the key the message calls for and checks both integrity attributes with it. */
static void verify_integrity(const struct sl_msg *m, struct verify *vf)
{
    if (m->idx_mi < 0 && m->idx_mi256 < 0) {
        printf("  integrity: the message carries no MESSAGE-INTEGRITY\n");
        return;
    }
    if (!vf->password) {
        printf("  integrity: not checked (give --password-file or TURNPROBE_PASSWORD)\n");
        return;
    }
    uint8_t key[SL_KEY_MAX];
    size_t keylen = 0;
    char *realm = attr_string(m, SL_ATTR_REALM);
    char *user = attr_string(m, SL_ATTR_USERNAME);
    GString *how = g_string_new(NULL);
    int rc;
    if (!realm) {
        /* RFC 8489 §9.1: short-term credentials carry no REALM. */
        rc = sl_auth_short_term_key(vf->password, key, &keylen);
        g_string_append(how, "short-term key (the password itself; the message has no REALM)");
    } else {
        uint16_t alg = SL_PWALG_MD5;
        (void)sl_msg_get_pwalg(m, SL_ATTR_PASSWORD_ALGORITHM, 0, &alg);
        if (!user && sl_msg_find(m, SL_ATTR_USERHASH)) {
            if (!vf->username) {
                printf("  integrity: not checked: the message carries USERHASH instead of "
                       "USERNAME; give --username\n");
                goto out;
            }
            uint8_t uh[32];
            const uint8_t *v;
            size_t len;
            sl_auth_userhash(vf->username, realm, uh);
            sl_msg_get_bytes(m, SL_ATTR_USERHASH, &v, &len);
            bool same = len == 32 && memcmp(uh, v, 32) == 0;
            printf("  USERHASH: %s SHA-256(username \":\" realm) for the given --username\n",
                   same ? "matches" : "does NOT match");
            if (!same)
                vf->failures++;
            user = g_strdup(vf->username);
        } else if (!user) {
            printf("  integrity: not checked: the message has REALM but no USERNAME or "
                   "USERHASH\n");
            goto out;
        }
        rc = sl_auth_long_term_key(user, realm, vf->password, (enum sl_pwalg)alg, key, &keylen);
        g_string_printf(how, "long-term key %s(username \":\" realm \":\" password)",
                        alg == SL_PWALG_SHA256 ? "SHA-256" : "MD5");
    }
    if (rc != SL_OK) {
        printf("  integrity: cannot make a key: the password is not a valid OpaqueString (%s)\n",
               sl_strerror(rc));
        vf->failures++;
        goto out;
    }
    if (m->idx_mi >= 0) {
        rc = sl_auth_check_integrity(m, key, keylen);
        printf("  MESSAGE-INTEGRITY: %s with the %s\n",
               rc == SL_OK ? "verified" : "does NOT verify", how->str);
        if (rc != SL_OK)
            vf->failures++;
    }
    if (m->idx_mi256 >= 0) {
        rc = sl_auth_check_integrity_sha256(m, key, keylen);
        printf("  MESSAGE-INTEGRITY-SHA256: %s with the %s\n",
               rc == SL_OK ? "verified" : "does NOT verify", how->str);
        if (rc != SL_OK)
            vf->failures++;
    }
out:
    memset(key, 0, sizeof(key)); /* the key is derived from the password */
    g_string_free(how, TRUE);
    g_free(realm);
    g_free(user);
}

static int print_message(const struct sl_msg *m, struct verify *vf)
{
    char desc[96], val[1024], tid[64];
    sl_fmt_hex(m->tid, SL_TID_LEN, SL_TID_LEN, tid, sizeof(tid));
    printf("%s (type 0x%04x), %zu bytes, transaction %s%s\n",
           sl_type_describe(m->type, desc, sizeof(desc)), m->type, m->len, tid,
           m->classic ? " (classic RFC 3489 STUN: no magic cookie)" : "");
    for (size_t i = 0; i < m->nattrs; i++) {
        const struct sl_attr *a = &m->attrs[i];
        const char *name = sl_attr_name(a->type);
        char label[64];
        if (name)
            g_snprintf(label, sizeof(label), "%s", name);
        else
            g_snprintf(label, sizeof(label), "0x%04x (unknown, comprehension-%s)", a->type,
                       sl_attr_required(a->type) ? "required" : "optional");
        printf("  %5u  %-28s %s%s\n", a->off, label, sl_attr_format(m, a, val, sizeof(val)),
               a->ignored ? "  [ignored: after MESSAGE-INTEGRITY]" : "");
    }
    if (m->classic)
        return TP_EXIT_OK;
    verify_integrity(m, vf);
    if (m->idx_fp >= 0) {
        int rc = sl_auth_check_fingerprint(m);
        printf("  FINGERPRINT: %s\n", rc == SL_OK ? "matches" : "does NOT match the message");
        if (rc != SL_OK)
            vf->failures++;
    }
    if (m->n_unknown_required)
        printf("  note: %zu unknown comprehension-required attribute(s): a server answers 420\n",
               m->n_unknown_required);
    return vf->failures ? TP_EXIT_FAIL : TP_EXIT_OK;
}

int tp_cmd_decode(int argc, char **argv)
{
    char *password_file = NULL, *username = NULL;
    gboolean lenient = FALSE;
    GOptionEntry entries[] = {
        {"password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
         "verify MESSAGE-INTEGRITY with the password in F (also TURNPROBE_PASSWORD)", "F"},
        {"username", 'u', 0, G_OPTION_ARG_STRING, &username,
         "the user name, when the message carries USERHASH instead of USERNAME", "U"},
        {"lenient", 0, 0, G_OPTION_ARG_NONE, &lenient,
         "show attributes after MESSAGE-INTEGRITY as ignored instead of refusing them", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx = g_option_context_new("HEX|- - decode and explain one STUN message");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(
        ctx, "Reads the message as hex from the argument, or as hex or raw bytes from standard\n"
             "input with -. Exit status: 0 valid, 1 integrity or fingerprint wrong, 2 not a STUN\n"
             "message (the reason is printed).\n");
    GError *err = NULL;
    int rc = TP_EXIT_USAGE;
    char *password = NULL;
    GByteArray *bytes = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        rc = tp_usage_error("decode", "%s", err->message);
        goto out;
    }
    if (argc != 2) {
        rc = tp_usage_error("decode", "give one message as HEX, or - for standard input");
        goto out;
    }
    bytes = read_input(argv[1], &err);
    if (!bytes) {
        rc = tp_usage_error("decode", "%s", err->message);
        goto out;
    }
    password = tp_secret_load(password_file, "TURNPROBE_PASSWORD", NULL, "password", &err);
    if (err) {
        rc = tp_usage_error("decode", "%s", err->message);
        goto out;
    }

    struct sl_msg *m = g_new0(struct sl_msg, 1);
    unsigned flags = SL_DEC_CLASSIC | (lenient ? SL_DEC_LENIENT : 0);
    int drc = sl_msg_decode(m, bytes->data, bytes->len, flags);
    if (drc == SL_OK) {
        struct verify vf = {password, username, 0};
        rc = print_message(m, &vf);
    } else if (bytes->len >= 4 && (bytes->data[0] & 0xC0) == 0x40) {
        struct sl_chan c;
        int crc = sl_chan_decode(&c, bytes->data, bytes->len, false);
        if (crc == SL_OK) {
            char hex[128];
            printf("ChannelData on channel 0x%04x, %u bytes of data: %s\n", c.channel, c.len,
                   sl_fmt_hex(c.data, c.len, 32, hex, sizeof(hex)));
            rc = TP_EXIT_OK;
        } else {
            rc = tp_usage_error("decode", "not a STUN message: ChannelData-like bytes, but %s",
                                sl_strerror(crc));
        }
    } else {
        char why[256];
        enum sl_kind k = sl_classify(bytes->data, bytes->len);
        sl_msg_explain(m, drc, why, sizeof(why));
        if (k != SL_KIND_OTHER && k != SL_KIND_STUN)
            rc = tp_usage_error("decode", "not a STUN message: %s (it looks like %s)", why,
                                sl_kind_name(k));
        else
            rc = tp_usage_error("decode", "not a STUN message: %s", why);
    }
    g_free(m);
out:
    tp_secret_free(password);
    if (bytes)
        g_byte_array_unref(bytes);
    g_clear_error(&err);
    g_free(password_file);
    g_free(username);
    g_option_context_free(ctx);
    return rc;
}
