/*
 * xmpp_cr.h: XMPP connection requests (TR-069 Annex K, Appendix III; TR-181 Device.XMPP.).
 *
 * The transport keeps one XMPP client stream per endpoint whose
 * ManagementServer.ConnReqXMPPConnection names an enabled Device.XMPP.Connection row, in
 * a thread of its own (libstrophe blocks in DNS and in the TLS handshake), and answers the
 * connectionRequest IQ of Figure 19 with Figure 20, 21 or 22 after the loop has decided.
 *
 * The pieces:
 *   xmpp_cr.c     the transport: endpoint glue, ConnReqJabberID, request validation (K.2.1.3)
 *                 and the connreq_admit() verdict, all on the event loop;
 *   xmpp_model.c  the data-model provider of Device.XMPP. and of
 *                 ManagementServer.ConnReqXMPPConnection, and the [xmpp] factory row;
 *   xmpp_thread.c the libstrophe thread: connect, STARTTLS, SASL, bind, whitespace
 *                 keepalive, reconnect back-off (Appendix III.4.5), the IQ replies.
 */
#ifndef PX_XMPP_CR_H
#define PX_XMPP_CR_H

#include <stdbool.h>

struct connreq_transport;

/* Registered in connreq.c's transports[] ("XMPP" in SupportedConnReqMethods). */
extern const struct connreq_transport xmpp_transport;

/* TR-181 ManagementServer.ConnReqAllowedJabberIDs: whether the full JID `from` may send
 * connection requests. list is comma-separated; empty allows everyone. A bare-JID entry
 * matches any resource, a full-JID entry only itself. Local part and domain compare
 * case-insensitively (ASCII), the resource exactly. */
bool xmpp_jid_allowed(const char *list, const char *from);

/* Appendix III.4.5 / TR-181 ServerRetry*: the upper end, in seconds, of the random wait
 * before reconnect attempt n (n >= 1): initial * (multiplier/1000)^(n-1), at most max. */
double xmpp_retry_window(unsigned initial, unsigned multiplier, unsigned max, unsigned n);

#endif
