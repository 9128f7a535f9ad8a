/* `turnprobe creds`: mint TURN REST credentials, or say when a time-limited username expires. */
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "sl_rest.h"
#include "sl_uri.h"
#include "tp.h"

#define CREDS_TTL_DEFAULT 86400
/* Ten years: a REST credential is meant to live hours; one this long was minted by mistake. */
#define CREDS_SUSPICIOUS_S ((int64_t)10 * 31556952)
/* coturn keeps time in 32 bits and compares it with serial arithmetic ((int32_t)(ts - now) < 0
 * is "before"), so an expiry 2^31 s or more ahead reads as already past there. */
#define CREDS_COTURN_WRAP_S ((int64_t)1 << 31)

static int64_t now_s(void)
{
    return g_get_real_time() / G_USEC_PER_SEC;
}

static void print_json(JsonBuilder *b)
{
    JsonNode *root = json_builder_get_root(b);
    JsonGenerator *g = json_generator_new();
    json_generator_set_pretty(g, TRUE);
    json_generator_set_root(g, root);
    gsize len = 0;
    char *s = json_generator_to_data(g, &len);
    printf("%s\n", s);
    /* The minted entry holds the password. */
    explicit_bzero(s, len);
    g_free(s);
    g_object_unref(g);
    json_node_unref(root);
}

static int mint(const char *secret_file, const char *user, gint64 ttl, char sep, gboolean json,
                char **uris)
{
    GError *err = NULL;
    char username[SL_REST_USERNAME_MAX + 1], password[SL_REST_PASSWORD_SIZE];
    GPtrArray *canon = g_ptr_array_new_with_free_func(g_free);
    char *secret = NULL;
    int rc = TP_EXIT_USAGE;

    for (guint i = 0; uris && uris[i]; i++) {
        struct sl_uri u;
        char why[256], buf[300];
        /* The URI is not quoted back: a "user:password@" in it would be printed. */
        if (sl_uri_parse(&u, uris[i], why, sizeof(why)) != SL_OK) {
            rc = tp_usage_error("creds", "--uri #%u: %s", i + 1, why);
            goto out;
        }
        g_ptr_array_add(canon, g_strdup(sl_uri_format(&u, buf, sizeof(buf))));
    }
    for (const char *p = user; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            rc = tp_usage_error("creds", "--user holds a control character");
            goto out;
        }
    }
    secret = tp_secret_load(secret_file, "TURNPROBE_SECRET", NULL, "shared secret", &err);
    if (err) {
        rc = tp_usage_error("creds", "%s", err->message);
        goto out;
    }
    if (!secret) {
        rc = tp_usage_error("creds", "no shared secret: give --secret-file F (the server's "
                                     "static-auth-secret) or set TURNPROBE_SECRET");
        goto out;
    }
    int64_t now = now_s();
    int mrc = sl_rest_mint(secret, user, now, ttl, sep, username, sizeof(username), password,
                           sizeof(password));
    if (mrc == SL_EINVAL) {
        rc = tp_usage_error("creds",
                            "--ttl %" G_GINT64_FORMAT " is out of range: the expiry must be a "
                            "Unix time after 1970",
                            ttl);
        goto out;
    }
    if (mrc == SL_ENOSPACE || mrc == SL_ETOOLONG) {
        rc = tp_usage_error("creds", "--user is too long: a STUN USERNAME holds at most %d bytes",
                            SL_REST_USERNAME_MAX);
        goto out;
    }
    if (mrc != SL_OK) {
        fprintf(stderr, "turnprobe creds: cannot compute the password: %s\n", sl_strerror(mrc));
        rc = TP_EXIT_INTERNAL;
        goto out;
    }
    if (json) {
        if (canon->len == 0)
            fprintf(stderr, "turnprobe creds: note: no --uri given, so \"urls\" is empty; add "
                            "the server's turn:/turns: URIs before use\n");
        JsonBuilder *b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "urls");
        json_builder_begin_array(b);
        for (guint i = 0; i < canon->len; i++)
            json_builder_add_string_value(b, g_ptr_array_index(canon, i));
        json_builder_end_array(b);
        json_builder_set_member_name(b, "username");
        json_builder_add_string_value(b, username);
        json_builder_set_member_name(b, "credential");
        json_builder_add_string_value(b, password);
        json_builder_end_object(b);
        print_json(b);
        g_object_unref(b);
    } else {
        /* Minting is the one place a password is printed: the user asked for it. */
        printf("username: %s\npassword: %s\n", username, password);
    }
    rc = TP_EXIT_OK;
out:
    explicit_bzero(password, sizeof(password));
    tp_secret_free(secret);
    g_ptr_array_unref(canon);
    g_clear_error(&err);
    return rc;
}

static int check(const char *username, char sep, gboolean json)
{
    int64_t expiry = 0, now = now_s();
    char *user = g_malloc(strlen(username) + 1);
    int drc = sl_rest_decode(username, sep, &expiry, user, strlen(username) + 1);
    char desc[128] = "", when[32] = "";
    const char *status, *warning = NULL;
    int rc;
    if (drc == SL_ENOTFOUND) {
        status = "not-time-limited";
        g_snprintf(desc, sizeof(desc),
                   "not a time-limited username: no 9-11 digit Unix timestamp before or after "
                   "the separator \"%c\"",
                   sep);
        rc = TP_EXIT_USAGE;
    } else {
        sl_rest_describe(expiry, now, desc, sizeof(desc));
        GDateTime *dt = g_date_time_new_from_unix_utc(expiry);
        if (dt) {
            char *iso = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
            g_strlcpy(when, iso, sizeof(when));
            g_free(iso);
            g_date_time_unref(dt);
        }
        /* coturn: the username is good while its timestamp is not before now. */
        status = expiry < now ? "expired" : "valid";
        rc = expiry < now ? TP_EXIT_FAIL : TP_EXIT_OK;
        if (expiry - now >= CREDS_COTURN_WRAP_S)
            warning = "the expiry is more than 68 years away: coturn compares timestamps in 32 "
                      "bits and treats this one as already expired";
        else if (expiry - now > CREDS_SUSPICIOUS_S)
            warning = "the expiry is more than 10 years away: time-limited credentials are meant "
                      "to live hours; check the TTL and the clock of whatever minted it";
    }
    if (json) {
        JsonBuilder *b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "username");
        json_builder_add_string_value(b, username);
        json_builder_set_member_name(b, "status");
        json_builder_add_string_value(b, status);
        json_builder_set_member_name(b, "time_limited");
        json_builder_add_boolean_value(b, drc != SL_ENOTFOUND);
        if (drc != SL_ENOTFOUND) {
            json_builder_set_member_name(b, "user");
            json_builder_add_string_value(b, user);
            json_builder_set_member_name(b, "expiry");
            json_builder_add_int_value(b, expiry);
            json_builder_set_member_name(b, "expiry_utc");
            json_builder_add_string_value(b, when);
            json_builder_set_member_name(b, "now");
            json_builder_add_int_value(b, now);
            json_builder_set_member_name(b, "seconds_left");
            json_builder_add_int_value(b, expiry - now);
        }
        json_builder_set_member_name(b, "message");
        json_builder_add_string_value(b, desc);
        if (warning) {
            json_builder_set_member_name(b, "warning");
            json_builder_add_string_value(b, warning);
        }
        json_builder_end_object(b);
        print_json(b);
        g_object_unref(b);
    } else if (drc == SL_ENOTFOUND) {
        printf("%s: %s\n", username, desc);
    } else {
        printf("user:    %s\nexpiry:  %" G_GINT64_FORMAT " (%s)\nstatus:  %s%s\n", user, expiry,
               when, expiry < now ? "" : "valid, ", desc);
        if (warning)
            printf("warning: %s\n", warning);
    }
    g_free(user);
    return rc;
}

int tp_cmd_creds(int argc, char **argv)
{
    char *secret_file = NULL, *user = NULL, *separator = NULL, *check_name = NULL;
    char **uris = NULL;
    gint64 ttl = G_MININT64; /* G_MININT64: not given */
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        {"secret-file", 0, 0, G_OPTION_ARG_FILENAME, &secret_file,
         "the shared secret (coturn's static-auth-secret) is the first line of F "
         "(also TURNPROBE_SECRET)",
         "F"},
        {"user", 0, 0, G_OPTION_ARG_STRING, &user, "mint credentials for this user", "NAME"},
        {"ttl", 0, 0, G_OPTION_ARG_INT64, &ttl,
         "lifetime in seconds (default 86400; negative mints an expired one)", "S"},
        {"separator", 0, 0, G_OPTION_ARG_STRING, &separator,
         "between timestamp and user (coturn's rest-api-separator; default :)", "C"},
        {"uri", 0, 0, G_OPTION_ARG_STRING_ARRAY, &uris,
         "a turn:/turns: URI for the iceServers entry (repeatable)", "URI"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json,
         "print JSON: a ready iceServers entry, or the --check result", NULL},
        {"check", 0, 0, G_OPTION_ARG_STRING, &check_name,
         "decode this time-limited username and say when it expires", "USERNAME"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx =
        g_option_context_new("- mint TURN REST credentials, or check a time-limited username");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(
        ctx, "Mint: turnprobe creds --secret-file F --user NAME [--ttl S] [--json --uri URI...]\n"
             "  prints the username (\"EXPIRY:NAME\") and the password\n"
             "  (base64 of HMAC-SHA1(secret, username)), as coturn's use-auth-secret expects.\n"
             "Check: turnprobe creds --check USERNAME\n"
             "  exit status 0 valid, 1 expired, 2 not a time-limited username.\n"
             "The secret is never printed.\n");
    GError *err = NULL;
    int rc = TP_EXIT_USAGE;
    char sep = ':';
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        rc = tp_usage_error("creds", "%s", err->message);
        goto out;
    }
    if (argc > 1) {
        rc = tp_usage_error("creds", "unexpected argument \"%s\" (see turnprobe creds --help)",
                            argv[1]);
        goto out;
    }
    if (separator) {
        char c = separator[0];
        if (strlen(separator) != 1 || c <= 0x20 || c >= 0x7f || (c >= '0' && c <= '9')) {
            rc = tp_usage_error("creds", "--separator must be one printable ASCII character, "
                                         "not a digit");
            goto out;
        }
        sep = c;
    }
    if (check_name) {
        if (user || secret_file || uris || ttl != G_MININT64) {
            rc = tp_usage_error("creds", "--check takes no --user, --secret-file, --ttl or --uri");
            goto out;
        }
        rc = check(check_name, sep, json);
        goto out;
    }
    if (!user || !user[0]) {
        rc = tp_usage_error("creds", "give --user NAME to mint credentials, or --check USERNAME "
                                     "to decode one");
        goto out;
    }
    rc = mint(secret_file, user, ttl == G_MININT64 ? CREDS_TTL_DEFAULT : ttl, sep, json, uris);
out:
    g_clear_error(&err);
    g_free(secret_file);
    g_free(user);
    g_free(separator);
    g_free(check_name);
    g_strfreev(uris);
    g_option_context_free(ctx);
    return rc;
}
