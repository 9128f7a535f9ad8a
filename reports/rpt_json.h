/* The JSON report (schema 1, docs/report-schema.json): the result model as one JSON document. */
#ifndef RPT_JSON_H
#define RPT_JSON_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "rpt_model.h"

#define RPT_JSON_SCHEMA_VERSION 1

/* The three come from one walk of the model, so they always agree: the text of
 * rpt_json_build's tree (rpt_json_node_to_string) is rpt_json_to_string's. */

/* The report as a JSON tree, for a caller that adds to it; free it with json_node_unref(). It
 * shares nothing with the model. */
JsonNode *rpt_json_build(const struct rpt_result *r);
/* The report as pretty-printed UTF-8 text ending in a newline; g_free() it. */
char *rpt_json_to_string(const struct rpt_result *r);
/* Writes the report to path ("-" for stdout) as it walks the model, holding neither the tree nor
 * the text: analyze's report on a large capture is tens of MB of JSON. A file is written
 * atomically (a temporary file renamed over path): a reader never sees half a file. */
gboolean rpt_json_write(const struct rpt_result *r, const char *path, GError **err);

/* Any JSON tree in the same style: two-space indent, arrays of scalars on one line, numbers in
 * their shortest exact form (0.7, not json-glib's 0.69999999999999996), "</" written as "<\/"
 * so the text can sit inside an HTML <script>. g_free() the result. */
char *rpt_json_node_to_string(JsonNode *node);

#endif
