/* The terminal report: the checklist, one line per step, then findings and a verdict. */
#ifndef RPT_TEXT_H
#define RPT_TEXT_H

#include <glib.h>
#include <stdio.h>

#include "rpt_model.h"

struct rpt_text_opts {
    gboolean color;   /* ANSI colours (the caller decides: --color, isatty, NO_COLOR) */
    gboolean unicode; /* ✓ ! ✗ – and arrows; else [ok] [!!] [XX] [--] and plain ASCII */
    int verbose;      /* 0 normal; 1 (-v): each step's packets, transactions and details */
};

/* o may be NULL: no colour, unicode, not verbose. */
void rpt_text_write(const struct rpt_result *r, FILE *out, const struct rpt_text_opts *o);
/* The same report as a string; g_free() it. */
char *rpt_text_to_string(const struct rpt_result *r, const struct rpt_text_opts *o);

/* A step's summary followed by the key facts (mapped, relayed, lifetime, RTT) from its details
 * that the summary does not already give; the Markdown checklist uses it too. g_free() it. */
char *rpt_text_step_facts(const struct rpt_step *st);

#endif
