/*
 * events.c: TR-069 Table 8 as data. The endpoint's queue (endpoint.c) consults it when an
 * event is added (Single events are not duplicated), when an Inform or TransferComplete
 * response confirms delivery, after a failed session, and at every start (at_restart).
 */
#include "proxier/core/events.h"

#include <ctype.h>
#include <string.h>

static const struct ev_policy policies[] = {
    {EV_BOOTSTRAP, false, EV_CONFIRM_INFORM, EV_RETRY_KEEP_FOREVER, EV_RESTART_KEEP},
    {EV_BOOT, false, EV_CONFIRM_INFORM, EV_RETRY_UNTIL_REBOOT, EV_RESTART_DISCARD},
    {EV_PERIODIC, false, EV_CONFIRM_INFORM, EV_RETRY_ALWAYS, EV_RESTART_KEEP},
    {EV_SCHEDULED, false, EV_CONFIRM_INFORM, EV_RETRY_ALWAYS, EV_RESTART_KEEP},
    {EV_VALUE_CHANGE, false, EV_CONFIRM_INFORM, EV_RETRY_UNTIL_REBOOT, EV_RESTART_DISCARD},
    {"5 KICKED", false, EV_CONFIRM_KICKED, EV_RETRY_NEVER, EV_RESTART_DISCARD},
    /* "MUST NOT retry delivery": a restart does not carry it either. */
    {EV_CONNECTION_REQUEST, false, EV_CONFIRM_INFORM, EV_RETRY_NEVER, EV_RESTART_DISCARD},
    {EV_TRANSFER_COMPLETE, false, EV_CONFIRM_TRANSFER_COMPLETE, EV_RETRY_ALWAYS, EV_RESTART_KEEP},
    {"8 DIAGNOSTICS COMPLETE", false, EV_CONFIRM_INFORM, EV_RETRY_UNTIL_REBOOT, EV_RESTART_DISCARD},
    {"9 REQUEST DOWNLOAD", false, EV_CONFIRM_REQUEST_DOWNLOAD, EV_RETRY_NEVER, EV_RESTART_DISCARD},
    {"10 AUTONOMOUS TRANSFER COMPLETE", false, EV_CONFIRM_AUTONOMOUS_TRANSFER_COMPLETE,
     EV_RETRY_ALWAYS, EV_RESTART_KEEP},
    {"11 DU STATE CHANGE COMPLETE", false, EV_CONFIRM_DU_STATE_CHANGE_COMPLETE, EV_RETRY_ALWAYS,
     EV_RESTART_KEEP},
    {"12 AUTONOMOUS DU STATE CHANGE COMPLETE", false,
     EV_CONFIRM_AUTONOMOUS_DU_STATE_CHANGE_COMPLETE, EV_RETRY_ALWAYS, EV_RESTART_KEEP},
    {"13 WAKEUP", false, EV_CONFIRM_INFORM, EV_RETRY_UNTIL_REBOOT, EV_RESTART_DISCARD},
    {EV_M_REBOOT, true, EV_CONFIRM_INFORM, EV_RETRY_ALWAYS, EV_RESTART_KEEP},
    {EV_M_SCHEDULE_INFORM, true, EV_CONFIRM_INFORM, EV_RETRY_ALWAYS, EV_RESTART_KEEP},
    {"M Download", true, EV_CONFIRM_TRANSFER_COMPLETE, EV_RETRY_ALWAYS, EV_RESTART_KEEP},
    {"M ScheduleDownload", true, EV_CONFIRM_TRANSFER_COMPLETE, EV_RETRY_ALWAYS, EV_RESTART_KEEP},
    {"M Upload", true, EV_CONFIRM_TRANSFER_COMPLETE, EV_RETRY_ALWAYS, EV_RESTART_KEEP},
    {"M ChangeDUState", true, EV_CONFIRM_DU_STATE_CHANGE_COMPLETE, EV_RETRY_ALWAYS,
     EV_RESTART_KEEP},
};

/* Vendor-specific methods and events: Table 8 leaves their policy to the vendor. Ours is the
 * conservative one: confirmed by InformResponse, kept until reboot. */
static const struct ev_policy vendor_policy = {"X", false, EV_CONFIRM_INFORM, EV_RETRY_UNTIL_REBOOT,
                                               EV_RESTART_DISCARD};

const struct ev_policy *events_table(size_t *n)
{
    *n = sizeof(policies) / sizeof(policies[0]);
    return policies;
}

const struct ev_policy *events_policy(const char *code)
{
    for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
        if (strcmp(policies[i].code, code) == 0)
            return &policies[i];
    return &vendor_policy;
}

bool events_code_valid(const char *code)
{
    if (!code || !*code || strlen(code) > 64)
        return false;
    if (isdigit((unsigned char)code[0])) {
        const char *p = code;
        while (isdigit((unsigned char)*p))
            p++;
        return p[0] == ' ' && p[1] && !isspace((unsigned char)p[1]);
    }
    if ((code[0] == 'M' || code[0] == 'X') && code[1] == ' ')
        return code[2] && !isspace((unsigned char)code[2]);
    return false;
}
