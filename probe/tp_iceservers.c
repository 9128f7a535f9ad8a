/* Reading a WebRTC iceServers list: every URL with its credentials, bad ones kept with a reason. */
#include "tp_iceservers.h"

#include <errno.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* An iceServers file is a few hundred bytes; anything much larger is the wrong file. */
#define ICE_MAX_BYTES (4u << 20)

static const char *kind(JsonNode *n)
{
    switch (json_node_get_node_type(n)) {
    case JSON_NODE_OBJECT:
        return "an object";
    case JSON_NODE_ARRAY:
        return "an array";
    case JSON_NODE_NULL:
        return "null";
    case JSON_NODE_VALUE:
        break;
    }
    GType t = json_node_get_value_type(n);
    if (t == G_TYPE_STRING)
        return "a string";
    if (t == G_TYPE_BOOLEAN)
        return "a boolean";
    return "a number";
}

static bool is_string(JsonNode *n)
{
    return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING;
}

static void set_error(GError **err, const char *name, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void set_error(GError **err, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", name, msg);
    g_free(msg);
}

/* json-glib says "<data>:LINE:COL: Parse error: unexpected ..."; make it "NAME:LINE:COL: unexpected
 * ...", the compiler style editors and support engineers jump to. */
static void set_syntax_error(GError **err, const char *name, const GError *jerr)
{
    static const char data[] = "<data>:", parse_error[] = "Parse error: ",
                      constant[] = "string constant \"";
    GString *s = g_string_new(jerr->message);
    if (g_str_has_prefix(s->str, data))
        g_string_erase(s, 0, sizeof(data) - 2); /* keep the ':' before LINE */
    else
        g_string_prepend(s, ": ");
    g_string_prepend(s, name);
    const char *pe = strstr(s->str, parse_error);
    if (pe)
        g_string_erase(s, pe - s->str, sizeof(parse_error) - 1);
    /* json-glib quotes the string token near the error, which is the credential itself when a
     * comma or colon after it is missing: name the token's kind only. */
    const char *sc = strstr(s->str, constant);
    if (sc) {
        gssize from = sc - s->str + (gssize)strlen("string");
        const char *end = strstr(sc + sizeof(constant) - 1, "\", expected");
        if (!end)
            end = strrchr(s->str, '"');
        g_string_erase(s, from, end - s->str + 1 - from);
    }
    g_set_error_literal(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, s->str);
    g_string_free(s, TRUE);
}

/* A string member, NULL when absent or null; FALSE (with err set) when of another type. */
static gboolean opt_string(JsonObject *o, const char *member, const char *name, const char *path,
                           char **out, GError **err)
{
    *out = NULL;
    JsonNode *n = json_object_get_member(o, member);
    if (!n || JSON_NODE_HOLDS_NULL(n))
        return TRUE;
    if (!is_string(n)) {
        set_error(err, name, "%s%s%s: expected a string, found %s", path, *path ? "." : "",
                  member, kind(n));
        return FALSE;
    }
    *out = g_strdup(json_node_get_string(n));
    return TRUE;
}

/* The URI for display: "turn:alice:pw@host" would put a password into every report. */
static char *redact_userinfo(const char *uri)
{
    const char *at = strrchr(uri, '@');
    const char *colon = strchr(uri, ':');
    if (!at || !colon || colon > at)
        return g_strdup(uri);
    return g_strdup_printf("%.*s***%s", (int)(colon - uri + 1), uri, at);
}

static void url_free(gpointer p)
{
    struct tp_ice_url *u = p;
    if (!u)
        return;
    if (u->credential)
        explicit_bzero(u->credential, strlen(u->credential));
    g_free(u->credential);
    g_free(u->uri);
    g_free(u->username);
    g_free(u->error);
    g_free(u);
}

static void add_url(struct tp_ice_config *c, const char *uri, const char *username,
                    const char *credential, int index)
{
    struct tp_ice_url *u = g_new0(struct tp_ice_url, 1);
    char why[256];
    u->uri = redact_userinfo(uri);
    u->username = g_strdup(username);
    u->credential = g_strdup(credential);
    u->server_index = index;
    if (sl_uri_parse(&u->parsed, uri, why, sizeof(why)) != SL_OK)
        u->error = g_strdup(why);
    g_ptr_array_add(c->urls, u);
}

static gboolean add_server(struct tp_ice_config *c, JsonNode *sn, int index, const char *path,
                           const char *name, GError **err)
{
    if (!JSON_NODE_HOLDS_OBJECT(sn)) {
        set_error(err, name, "%s: expected an object, found %s", path, kind(sn));
        return FALSE;
    }
    JsonObject *o = json_node_get_object(sn);
    char *username = NULL, *credential = NULL, *ctype = NULL;
    gboolean ok = FALSE;
    /* WebRTC's RTCIceServer has "urls"; "url" is the older spelling that some clients still
     * read when "urls" is absent. */
    const char *member = json_object_has_member(o, "urls") ? "urls" : "url";
    JsonNode *un = json_object_get_member(o, member);
    if (!un || JSON_NODE_HOLDS_NULL(un)) {
        set_error(err, name, "%s: no \"urls\"", path);
        goto out;
    }
    if (!opt_string(o, "credentialType", name, path, &ctype, err))
        goto out;
    if (ctype && strcmp(ctype, "password") != 0) {
        set_error(err, name, "%s.credentialType: \"%s\" is not supported (only \"password\")", path,
                  ctype);
        goto out;
    }
    if (!opt_string(o, "username", name, path, &username, err) ||
        !opt_string(o, "credential", name, path, &credential, err))
        goto out;
    if (is_string(un)) {
        add_url(c, json_node_get_string(un), username, credential, index);
    } else if (JSON_NODE_HOLDS_ARRAY(un)) {
        JsonArray *a = json_node_get_array(un);
        guint n = json_array_get_length(a);
        if (n == 0) {
            set_error(err, name, "%s.%s: empty array", path, member);
            goto out;
        }
        for (guint i = 0; i < n; i++) {
            JsonNode *e = json_array_get_element(a, i);
            if (!is_string(e)) {
                set_error(err, name, "%s.%s[%u]: expected a string, found %s", path, member, i,
                          kind(e));
                goto out;
            }
            add_url(c, json_node_get_string(e), username, credential, index);
        }
    } else {
        set_error(err, name, "%s.%s: expected a string or an array of strings, found %s", path,
                  member, kind(un));
        goto out;
    }
    ok = TRUE;
out:
    if (credential)
        explicit_bzero(credential, strlen(credential));
    g_free(credential);
    g_free(username);
    g_free(ctype);
    return ok;
}

static gboolean parse_root(struct tp_ice_config *c, JsonNode *root, const char *name, GError **err)
{
    JsonArray *servers = NULL;
    if (JSON_NODE_HOLDS_ARRAY(root)) {
        servers = json_node_get_array(root);
    } else if (JSON_NODE_HOLDS_OBJECT(root)) {
        JsonObject *o = json_node_get_object(root);
        JsonNode *s = json_object_get_member(o, "iceServers");
        if (!s) {
            if (json_object_has_member(o, "urls") || json_object_has_member(o, "url"))
                return add_server(c, root, 0, "server", name, err);
            set_error(err, name,
                      "no \"iceServers\" (expected an array of servers, or an object with "
                      "\"iceServers\")");
            return FALSE;
        }
        if (!JSON_NODE_HOLDS_ARRAY(s)) {
            set_error(err, name, "iceServers: expected an array, found %s", kind(s));
            return FALSE;
        }
        servers = json_node_get_array(s);
        if (!opt_string(o, "iceTransportPolicy", name, "", &c->transport_policy, err))
            return FALSE;
        if (c->transport_policy && strcmp(c->transport_policy, "all") != 0 &&
            strcmp(c->transport_policy, "relay") != 0) {
            set_error(err, name, "iceTransportPolicy: expected \"all\" or \"relay\", found \"%s\"",
                      c->transport_policy);
            return FALSE;
        }
    } else {
        set_error(err, name,
                  "expected an array of servers or an object with \"iceServers\", "
                  "found %s",
                  kind(root));
        return FALSE;
    }
    guint n = json_array_get_length(servers);
    if (n == 0) {
        set_error(err, name, "iceServers: empty: there is no server to check");
        return FALSE;
    }
    for (guint i = 0; i < n; i++) {
        char path[32];
        g_snprintf(path, sizeof(path), "iceServers[%u]", i);
        if (!add_server(c, json_array_get_element(servers, i), (int)i, path, name, err))
            return FALSE;
    }
    return TRUE;
}

struct tp_ice_config *tp_ice_config_parse(const char *data, gssize len, const char *name,
                                          GError **err)
{
    struct tp_ice_config *c = g_new0(struct tp_ice_config, 1);
    c->urls = g_ptr_array_new_with_free_func(url_free);
    JsonParser *parser = json_parser_new_immutable();
    GError *jerr = NULL;
    if (!json_parser_load_from_data(parser, data, len, &jerr)) {
        set_syntax_error(err, name, jerr);
        g_error_free(jerr);
        goto fail;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root) {
        set_error(err, name, "empty document (expected an iceServers array or configuration)");
        goto fail;
    }
    if (!parse_root(c, root, name, err))
        goto fail;
    g_object_unref(parser);
    return c;
fail:
    g_object_unref(parser);
    tp_ice_config_free(c);
    return NULL;
}

static char *read_stdin(gsize *len, GError **err)
{
    GByteArray *b = g_byte_array_new();
    guint8 chunk[4096];
    for (;;) {
        ssize_t r = read(STDIN_FILENO, chunk, sizeof(chunk));
        if (r == 0)
            break;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno),
                        "cannot read standard input: %s", g_strerror(errno));
            g_byte_array_free(b, TRUE);
            return NULL;
        }
        g_byte_array_append(b, chunk, (guint)r);
        if (b->len > ICE_MAX_BYTES)
            break;
    }
    *len = b->len;
    if (b->len == 0) {
        g_byte_array_free(b, TRUE);
        return g_strdup(""); /* an empty GByteArray may have no buffer at all */
    }
    return (char *)g_byte_array_free(b, FALSE);
}

struct tp_ice_config *tp_ice_config_load(const char *path, GError **err)
{
    gsize len = 0;
    char *data = NULL;
    const char *name = path;
    if (strcmp(path, "-") == 0) {
        name = "<stdin>";
        data = read_stdin(&len, err);
    } else if (!g_file_get_contents(path, &data, &len, err)) {
        data = NULL;
    }
    if (!data)
        return NULL;
    struct tp_ice_config *c = NULL;
    if (len > ICE_MAX_BYTES)
        set_error(err, name, "more than %u MiB: not an iceServers list", ICE_MAX_BYTES >> 20);
    else
        c = tp_ice_config_parse(data, (gssize)len, name, err);
    /* The file holds the credentials in clear. */
    explicit_bzero(data, len);
    g_free(data);
    return c;
}

void tp_ice_config_free(struct tp_ice_config *c)
{
    if (!c)
        return;
    if (c->urls)
        g_ptr_array_free(c->urls, TRUE);
    g_free(c->transport_policy);
    g_free(c);
}
