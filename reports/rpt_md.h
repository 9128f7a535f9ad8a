/* The Markdown report, for pasting into a ticket: verdict, target, checklist, findings, and how
 * to see the session in Wireshark. */
#ifndef RPT_MD_H
#define RPT_MD_H

#include <glib.h>

#include "rpt_model.h"

/* The report as UTF-8 Markdown (GitHub/GitLab flavour); g_free() it. */
char *rpt_md_to_string(const struct rpt_result *r);
/* Writes it to path ("-" for stdout), atomically: a reader never sees half a file. */
gboolean rpt_md_write(const struct rpt_result *r, const char *path, GError **err);

#endif
