/* Sessions and their evidence from a capture's records: one session per client 5-tuple (the
 * side that sends requests is the client), its packets and transactions tagged with checklist
 * steps, then the same judges as `turnprobe check` plus what only a capture needs. */
#ifndef TP_SESSIONS_H
#define TP_SESSIONS_H

#include <glib.h>
#include <stdio.h>

#include "rpt_model.h"
#include "tp_capread.h"

/* What is itemised (a packet in the model, with its payload) and what is only counted: the
 * model grows with the number of sessions, not with the size of the capture. */
#define TP_SESS_TXN_CAP     200 /* transactions per step and session */
#define TP_SESS_DATA_CAP    4   /* Send/Data indications or ChannelData records per step, direction */
#define TP_SESS_ORPHAN_CAP  32  /* responses to requests the capture does not hold */
#define TP_SESS_TLS_CAP     8   /* TLS records per direction */
/* A request unanswered less than this before the end of the capture is not a timeout: the
 * capture may simply have stopped before the answer. */
#define TP_SESS_GRACE_US    (2 * G_USEC_PER_SEC)
/* A request unanswered for this long is a timeout even while the capture goes on (RFC 8489
 * §6.2.1: a client gives up after 39.5 s over UDP). */
#define TP_SESS_TIMEOUT_US  (40 * G_USEC_PER_SEC)
/* Nothing at all for this long: captures appended to one another, or the end of one. */
#define TP_SESS_JUMP_US     (600 * G_USEC_PER_SEC)

/* One line of the comment log: every STUN/TURN record of a frame, itemised or only counted, so
 * that --pcap can comment every such frame without keeping them in memory. */
enum tp_note_kind { TP_NOTE_STUN = 1, TP_NOTE_CHANNEL, TP_NOTE_TLS, TP_NOTE_ICMP, TP_NOTE_TCP };

struct tp_frame_note {
    guint32 frame;
    guint32 session; /* index into rpt_result.sessions */
    guint32 local;   /* the session's own packet number while analysing; 0: counted only */
    guint16 type;    /* STUN message type, or ChannelData channel */
    guint16 len;     /* bytes of the message or record */
    guint8 kind;     /* enum tp_note_kind */
    guint8 step;     /* index into rpt_steps, 0xFF for none */
    guint8 dir;      /* enum rpt_dir */
    guint8 carries;  /* 1 when the record carries a STUN message (ICE over TURN) */
};

struct tp_sessions;

struct tp_sessions *tp_sessions_new(const char *version);
void tp_sessions_free(struct tp_sessions *ss);

/* The tp_capread callback (ud is the struct tp_sessions). */
void tp_sessions_record(const struct tp_rec *rec, void *ud);

/* The input file the next records come from (a session's facts name its file). */
void tp_sessions_input(struct tp_sessions *ss, const char *name);
/* The file being read is damaged from here on: noted in its sessions' facts. */
void tp_sessions_damage(struct tp_sessions *ss, const char *what);
/* Writes a struct tp_frame_note per STUN/TURN record to log (binary, in frame order). */
void tp_sessions_set_log(struct tp_sessions *ss, FILE *log);

/* Ends the capture at end_us: unanswered requests time out (or, near the end, are left
 * unjudged), the judges run on each session, and the sessions move into r in the order they
 * began, with their packets numbered by frame (several records of one frame share it). */
void tp_sessions_finish(struct tp_sessions *ss, struct rpt_result *r, gint64 end_us);

/* After finish: the comment for one note, from the model for itemised records and from the
 * note itself for counted ones. g_free() it. */
char *tp_sessions_comment(const struct tp_sessions *ss, const struct rpt_result *r,
                          const struct tp_frame_note *note);

guint tp_sessions_count(const struct tp_sessions *ss);

#endif
