/* The HTML report: one self-contained file (inline CSS and SVG, no script, no external URL). */
#ifndef RPT_HTML_H
#define RPT_HTML_H

#include <glib.h>

#include "rpt_model.h"

/* Writes the report to path atomically (a temporary file beside it, then rename), so a reader
 * never sees half a report; "-" writes to standard output. On failure sets err (which names the
 * path) and returns FALSE. */
gboolean rpt_html_write(const struct rpt_result *r, const char *path, GError **err);

/* The whole document as a NUL-terminated UTF-8 string; free with g_free(). It is well-formed
 * XML as well as HTML, so tests can parse it with GMarkup. */
char *rpt_html_to_string(const struct rpt_result *r);

#endif
