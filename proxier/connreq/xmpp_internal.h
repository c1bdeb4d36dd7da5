/*
 * xmpp_internal.h: what the three parts of the XMPP transport share (see xmpp_cr.h): the
 * hand-off between the event loop and the libstrophe thread, and the per-endpoint state the
 * data-model provider reads.
 *
 * Threading: the loop owns struct xmpp_ep and everything of the endpoint; the thread owns
 * libstrophe. They exchange copies only: commands go to the thread through a locked queue
 * (xmpp_worker_configure, xmpp_worker_reply), events come back through another locked
 * queue and an eventfd the loop watches (libevent is not built with thread support here,
 * so event_active() from a foreign thread would be unsafe).
 */
#ifndef PX_XMPP_INTERNAL_H
#define PX_XMPP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct endpoint;
struct xmpp_cr;
typedef struct _xmpp_ctx_t xmpp_ctx_t;
typedef struct _xmpp_stanza_t xmpp_stanza_t;

#define XMPP_CR_NS "urn:broadband-forum-org:cwmp:xmppConnReq-1-0"

/* ---- The libstrophe thread (xmpp_thread.c) ---- */

/* One client stream as the loop wants it; the thread keeps its own copy. */
struct xmpp_conn_cfg {
    char *jid;      /* proposed "Username@Domain/Resource" (Appendix III.2) */
    char *password;
    char *host;     /* NULL = the domain's SRV records, then the domain (RFC 6120 3.2) */
    unsigned port;  /* with host; 0 = 5222 */
    bool use_tls;   /* UseTLS: STARTTLS is mandatory even if the server does not insist */
    unsigned keepalive; /* seconds between whitespace keepalives (RFC 6120 4.6.1), 0 = off */
    unsigned retry_initial, retry_multiplier, retry_max; /* Appendix III.4.5 */
};

struct xmpp_conn_cfg *xmpp_conn_cfg_copy(const struct xmpp_conn_cfg *c);
bool xmpp_conn_cfg_equal(const struct xmpp_conn_cfg *a, const struct xmpp_conn_cfg *b);
void xmpp_conn_cfg_free(struct xmpp_conn_cfg *c);

/* The verdict on a connectionRequest: Figure 20, 22, 21, or no reply at all (K.2.1.3: a
 * request that fails validation is ignored, [xmpp] ignore_unauthorized_jids). */
enum xmpp_reply {
    XMPP_REPLY_RESULT = 0,
    XMPP_REPLY_NOT_AUTHORIZED,
    XMPP_REPLY_UNAVAILABLE,
    XMPP_REPLY_IGNORE,
};

enum xmpp_event_kind {
    XMPP_EV_STATUS,  /* status (TR-181 Status), jid (bound, when "Enabled"), tls */
    XMPP_EV_REQUEST, /* a connectionRequest IQ: token, from, username, password, tls */
    XMPP_EV_REPLIED, /* the reply to token was handed to libstrophe; start_session as asked */
};

/* An event from the thread; the loop frees it with xmpp_event_free. */
struct xmpp_event {
    enum xmpp_event_kind kind;
    unsigned slot;
    char *status;
    char *jid;
    bool tls;
    uint64_t token;
    char *from, *username, *password;
    bool start_session;
    struct xmpp_event *next;
};

void xmpp_event_free(struct xmpp_event *ev);

/* Stanza counters of one stream (TR-181 Connection.{i}.Stats.), since it was configured. */
struct xmpp_stats {
    unsigned received, transmitted, received_errors, transmitted_errors;
};

struct xmpp_worker;
typedef void (*xmpp_event_cb)(void *arg, struct xmpp_event *ev); /* on the loop; cb frees */

/* Start the thread. ca_file (may be NULL: the system's store) verifies server
 * certificates. Returns NULL with px_err_msg set on failure. */
struct xmpp_worker *xmpp_worker_start(struct event_base *base, const char *ca_file,
                                      xmpp_event_cb cb, void *arg);
/* Run the stream of slot with cfg (copied), replacing whatever ran there; NULL stops it. */
void xmpp_worker_configure(struct xmpp_worker *w, unsigned slot, const struct xmpp_conn_cfg *cfg);
/* The verdict for request token of slot. */
void xmpp_worker_reply(struct xmpp_worker *w, unsigned slot, uint64_t token, enum xmpp_reply r,
                       bool start_session);
void xmpp_worker_stats(struct xmpp_worker *w, unsigned slot, struct xmpp_stats *out);
void xmpp_worker_stop(struct xmpp_worker *w);

/* The reply stanza to a connectionRequest IQ (Figures 20-22; r is not XMPP_REPLY_IGNORE);
 * own_jid is our bound JID.
 * Returns a new stanza the caller releases. Exposed for the unit tests. */
xmpp_stanza_t *xmpp_cr_reply_stanza(xmpp_ctx_t *ctx, xmpp_stanza_t *request, enum xmpp_reply r,
                                    const char *own_jid);

/* What an incoming IQ asks for (the thread's IQ handler; exposed for the unit tests and
 * tests/fuzz/fuzz_xmpp.c). *cr is the connectionRequest child (Figure 19) for
 * XMPP_IQ_CONN_REQUEST, else NULL. */
enum xmpp_iq_kind {
    XMPP_IQ_NOT_OURS,     /* no type, result or error: not answered */
    XMPP_IQ_CONN_REQUEST, /* judged by the loop (K.2.1.3) */
    XMPP_IQ_PING,         /* urn:xmpp:ping (XEP-0199): an empty result */
    XMPP_IQ_OTHER,        /* any other get or set: service-unavailable (RFC 6120 8.4) */
};
enum xmpp_iq_kind xmpp_iq_classify(xmpp_stanza_t *iq, xmpp_stanza_t **cr);
/* The text of cr's child element name in XMPP_CR_NS ("username", "password"), "" if there
 * is none; malloc'd, the caller frees it (NULL only when out of memory). */
char *xmpp_cr_child_text(xmpp_stanza_t *cr, const char *name);

/* ---- Per endpoint, on the loop (xmpp_cr.c, read by xmpp_model.c) ---- */

struct xmpp_ep {
    struct xmpp_cr *x;
    struct endpoint *ep;
    unsigned slot;                 /* the worker's stream for this endpoint */
    unsigned row;                  /* Device.XMPP.Connection row that runs, 0 = none */
    struct xmpp_conn_cfg *running; /* what the worker was last told */
    char status[32];               /* TR-181 Status of that row */
    char *jabber_id;               /* bound JID, "" before the first login */
    bool tls;
    char last_change[32];          /* LastChangeDate */
};

/* Build the stream configuration again from the data model and tell the worker if it
 * changed (after a SetParameterValues, AddObject or DeleteObject on XMPP objects). */
void xmpp_cr_reconfigure(struct xmpp_ep *xe);
void xmpp_cr_stats(struct xmpp_ep *xe, struct xmpp_stats *out);

/* ---- The data model (xmpp_model.c) ---- */

/* Mount the providers of Device.XMPP. and ManagementServer.ConnReqXMPPConnection, and
 * create the [xmpp] factory row on first start. Returns false if the model has no XMPP. */
bool xmpp_model_attach(struct xmpp_ep *xe);
/* The stream configuration of the row ConnReqXMPPConnection names: NULL when there is
 * none or it is disabled; *row is its number, *status "Disabled" or "Error_Misconfigured"
 * when NULL is returned. The caller frees the result. */
struct xmpp_conn_cfg *xmpp_model_conn_cfg(struct xmpp_ep *xe, unsigned *row,
                                          const char **status);

#endif
