/* WebRTC iceServers JSON (RTCConfiguration): the server list `check --ice-servers` tests. */
#ifndef TP_ICESERVERS_H
#define TP_ICESERVERS_H

#include <glib.h>

#include "sl_uri.h"

/* One URL of one server, in file order. A URL that does not parse is kept, with its reason,
 * so that the report can list it beside the good ones. */
struct tp_ice_url {
    char *uri;            /* as written in the file, but userinfo ("user:pass@") shown as "***@" */
    char *username;       /* may be NULL */
    char *credential;     /* may be NULL; wiped by tp_ice_config_free */
    int server_index;     /* its server's index in the iceServers array */
    char *error;          /* NULL when uri is valid; else sl_uri_parse's reason */
    struct sl_uri parsed; /* valid when error is NULL */
};

struct tp_ice_config {
    GPtrArray *urls;        /* of struct tp_ice_url*, in file order */
    char *transport_policy; /* "all"/"relay"/NULL */
};

/* Accepts an array of servers, a configuration object {"iceServers": [...],
 * "iceTransportPolicy": "relay"}, or one server object. Each server has "urls" (a string or an
 * array of strings; the legacy "url" when "urls" is absent), optional "username" and
 * "credential" (strings), and "credentialType" ("password" only). Other members are ignored.
 * Malformed JSON, wrong types and an empty server list are errors (G_IO_ERROR_INVALID_DATA)
 * whose message starts with "NAME:LINE:COL: " for syntax errors, or "NAME: " and the member's
 * path ("iceServers[2].urls: expected a string or an array of strings") otherwise. */
struct tp_ice_config *tp_ice_config_load(const char *path /* "-" = stdin */, GError **err);
struct tp_ice_config *tp_ice_config_parse(const char *data, gssize len, const char *name,
                                          GError **err);
void tp_ice_config_free(struct tp_ice_config *c); /* wipes credentials */

#endif
