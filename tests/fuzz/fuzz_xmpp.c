/*
 * fuzz_xmpp.c: libFuzzer target for what our code does with the stanzas libstrophe hands
 * it (proxier/connreq/xmpp_thread.c, xmpp_cr.c; TR-069 Annex K.2.1, Figures 19-22): which
 * IQs are connection requests, pings or neither, the username and password of a
 * connectionRequest, the ConnReqAllowedJabberIDs match of its sender, and the replies that
 * echo the request back to the server.
 *
 * Input: the first line is a ConnReqAllowedJabberIDs list, the rest one stanza as XML
 * text, parsed by libstrophe (xmpp_stanza_new_from_string) as its stream parser would; no
 * network. Besides "no crash, no leak", it checks:
 *  - every reply (Figures 20, 21, 22) is an iq with the request's id, addressed to its
 *    sender, of type result or error, and its serialized text parses again (a hostile
 *    request cannot make us send broken XML on the stream);
 *  - xmpp_jid_allowed lets in a sender the list names exactly, or its bare JID, and anyone
 *    when the list is empty.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>

#include "proxier/connreq/xmpp_cr.h"
#include "proxier/connreq/xmpp_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(xmpp_ctx_t *ctx, xmpp_stanza_t *request, enum xmpp_reply r)
{
    xmpp_stanza_t *reply = xmpp_cr_reply_stanza(ctx, request, r, "cpe@example.com/cwmp");
    const char *id = xmpp_stanza_get_id(request), *from = xmpp_stanza_get_from(request);
    const char *type = xmpp_stanza_get_type(reply);
    if (!reply || strcmp(xmpp_stanza_get_name(reply), "iq") != 0 || !type ||
        strcmp(type, r == XMPP_REPLY_RESULT ? "result" : "error") != 0)
        abort();
    const char *reply_id = xmpp_stanza_get_id(reply), *to = xmpp_stanza_get_to(reply);
    if ((id && (!reply_id || strcmp(id, reply_id) != 0)) ||
        (from && (!to || strcmp(from, to) != 0)))
        abort();
    char *text = NULL;
    size_t len = 0;
    if (xmpp_stanza_to_text(reply, &text, &len) != XMPP_EOK)
        abort();
    xmpp_stanza_t *again = xmpp_stanza_new_from_string(ctx, text);
    if (!again)
        abort();
    xmpp_stanza_release(again);
    xmpp_free(ctx, text);
    xmpp_stanza_release(reply);
}

static void check_allowed(const char *list, const char *from)
{
    xmpp_jid_allowed(list, from); /* whatever the list: no crash, no over-read */
    if (!xmpp_jid_allowed("", from))
        abort();
    if (!*from || strchr(from, ',') || from[0] == ' ' || from[strlen(from) - 1] == ' ')
        return; /* not expressible as one list entry */
    size_t n = strlen(list) + strlen(from) + 2;
    char *with = malloc(n);
    if (!with)
        return;
    snprintf(with, n, "%s,%s", list, from);
    if (!xmpp_jid_allowed(with, from))
        abort();
    const char *slash = strchr(from, '/');
    if (slash && slash != from && slash[-1] != ' ') {
        snprintf(with, n, "%.*s", (int)(slash - from), from);
        if (!xmpp_jid_allowed(with, from))
            abort(); /* a bare JID entry matches every resource */
    }
    free(with);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static xmpp_ctx_t *ctx;
    if (!ctx) {
        xmpp_initialize();
        if (!(ctx = xmpp_ctx_new(NULL, NULL)))
            abort();
    }
    char *input = strndup((const char *)data, size);
    if (!input)
        return 0;
    char *nl = strchr(input, '\n');
    const char *list = nl ? input : "";
    const char *xml = nl ? nl + 1 : input;
    if (nl)
        *nl = '\0';
    xmpp_stanza_t *stanza = *xml ? xmpp_stanza_new_from_string(ctx, xml) : NULL;
    if (stanza) {
        xmpp_stanza_t *cr;
        enum xmpp_iq_kind kind = xmpp_iq_classify(stanza, &cr);
        if ((kind == XMPP_IQ_CONN_REQUEST) != (cr != NULL))
            abort();
        if (kind == XMPP_IQ_CONN_REQUEST) {
            char *username = xmpp_cr_child_text(cr, "username");
            char *password = xmpp_cr_child_text(cr, "password");
            if (!username || !password)
                abort();
            const char *from = xmpp_stanza_get_from(stanza);
            check_allowed(list, from ? from : "");
            free(username);
            free(password);
        }
        if (kind != XMPP_IQ_NOT_OURS) {
            check_reply(ctx, stanza, XMPP_REPLY_RESULT);
            check_reply(ctx, stanza, XMPP_REPLY_NOT_AUTHORIZED);
            check_reply(ctx, stanza, XMPP_REPLY_UNAVAILABLE);
        }
        xmpp_stanza_release(stanza);
    }
    free(input);
    return 0;
}
