/*
 * ctl.h: the local control socket of proxierd: a UNIX stream socket (mode 0600) speaking one
 * line per command, for the gateway's own LAN-side management and for operators.
 *
 *   get PATH           -> "ok VALUE"
 *   set PATH VALUE     -> "ok"   a local change: checked like an ACS set, allowed only when
 *                                 the parameter's AccessList grants "Subscriber" (TR-069
 *                                 A.3.2.4; the default does), stored, and then reported for
 *                                 notification since it was not made by the ACS
 *   status             -> "ok session=idle|active retry_count=N cr_http_accepted=N
 *                          cr_http_coalesced=N cr_http_refused=N cr_udp_... cr_xmpp_..."
 *                          (connection requests since the start, per transport)
 *   download URL FILETYPE -> "ok"  a local (autonomous) download, e.g. "download
 *                                 https://h/ui.tar 2 Web Content"; its completion is reported
 *                                 with AutonomousTransferComplete when ManagementServer.
 *                                 AutonomousTransferCompletePolicy allows (TR-069 A.3.3.3)
 *   upload URL FILETYPE   -> "ok"  likewise a local upload ("1 Vendor Configuration File",
 *                                 "2 Vendor Log File")
 *   anything wrong     -> "error CODE message" (CODE is the TR-069 fault code)
 *
 * Every reply is exactly one line: in it a backslash reads "\\", LF "\n", CR "\r", tab
 * "\t", and any other control byte (below 0x20, 0x7F) or byte that is not valid UTF-8
 * "\xHH" (text.h: text_escape_line), so a value can never forge a second reply line.
 * A value given to set is taken as it is (no unescaping) and must pass the value gate
 * (dm.h: valid UTF-8, XML 1.0 characters only) or is refused with error 9007.
 *
 * While the endpoint is in a session, set answers "error 9001 busy: ..." so that the ACS
 * never sees a change by another entity within its session (TR-069 3.7.1.1).
 */
#ifndef PX_CTL_H
#define PX_CTL_H

struct event_base;
struct endpoint;
struct connreq;
struct ctl;

/* Listen on path (an existing socket file is replaced). NULL with px_err_msg on error.
 * cr (may be NULL) gives the connection-request counters of status. */
struct ctl *ctl_new(struct event_base *base, const char *path, struct endpoint *ep,
                    const struct connreq *cr);
void ctl_free(struct ctl *c);

#endif
