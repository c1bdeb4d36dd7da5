/*
 * events.h: the event codes of TR-069 Table 8 and their rules: cumulative behaviour
 * (Single/Multiple), which ACS response confirms delivery, and the retry/discard policy.
 */
#ifndef PX_EVENTS_H
#define PX_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#define EV_BOOTSTRAP "0 BOOTSTRAP"
#define EV_BOOT "1 BOOT"
#define EV_PERIODIC "2 PERIODIC"
#define EV_SCHEDULED "3 SCHEDULED"
#define EV_VALUE_CHANGE "4 VALUE CHANGE"
#define EV_CONNECTION_REQUEST "6 CONNECTION REQUEST"
#define EV_TRANSFER_COMPLETE "7 TRANSFER COMPLETE"
#define EV_M_REBOOT "M Reboot"
#define EV_M_SCHEDULE_INFORM "M ScheduleInform"

/* Which ACS message confirms delivery (Table 8, "ACS Response for Successful Delivery"). */
enum ev_confirm {
    EV_CONFIRM_INFORM = 0,
    EV_CONFIRM_TRANSFER_COMPLETE,
    EV_CONFIRM_AUTONOMOUS_TRANSFER_COMPLETE,
    EV_CONFIRM_DU_STATE_CHANGE_COMPLETE,
    EV_CONFIRM_AUTONOMOUS_DU_STATE_CHANGE_COMPLETE,
    EV_CONFIRM_KICKED,
    EV_CONFIRM_REQUEST_DOWNLOAD,
};

/* What happens to an undelivered event (Table 8, "Retry/Discard Policy"). */
enum ev_retry {
    EV_RETRY_ALWAYS = 0,    /* never discarded except on BOOTSTRAP */
    EV_RETRY_UNTIL_REBOOT,  /* discarded when the CPE reboots (and on BOOTSTRAP) */
    EV_RETRY_NEVER,         /* not retried: discarded when its session fails */
    EV_RETRY_KEEP_FOREVER,  /* BOOTSTRAP itself: never discarded */
};

/* What a start of proxierd (a reboot of the CPE, a crash included) does to an event that the
 * previous run left undelivered: Table 8's Retry/Discard Policy read for a reboot. */
enum ev_restart {
    EV_RESTART_KEEP = 0, /* delivered after the restart ("never discarded") */
    EV_RESTART_DISCARD,  /* "retry until it reboots", "MUST NOT retry", "MAY retry" */
};

struct ev_policy {
    const char *code;  /* exact code, or "M " / "X " prefix rows for vendor ones */
    bool multiple;     /* Cumulative Behavior "Multiple" */
    enum ev_confirm confirm;
    enum ev_retry retry;
    enum ev_restart at_restart;
};

/* The rows of Table 8 (for the tests and the documentation). */
const struct ev_policy *events_table(size_t *n);

/* The policy for a code. Unknown "M <vendor method>" and "X <vendor> <event>" codes get a
 * vendor policy: single, confirmed by InformResponse, retried until reboot. */
const struct ev_policy *events_policy(const char *code);

/* True if the code has the form of Table 8 (schema pattern "\d+ \S.*|M \S+|X \S+ .+"). */
bool events_code_valid(const char *code);

#endif
