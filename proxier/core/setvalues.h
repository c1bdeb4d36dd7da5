/*
 * setvalues.h: the engine of SetParameterValues (TR-069 A.3.2.1), shared by the RPC, the
 * control socket's `set` and a configuration restore (proxier/transfer/backup.c), so that
 * all three change values alike: every name and value is checked first (9005-9008; a name
 * given twice is 9003), nothing is applied unless every one is valid, then the providers
 * apply them in one cache transaction with the new ParameterKey; a provider's refusal or a
 * failed commit rolls it all back, the ManagementServer values in memory included.
 *
 * Who changes decides two things. A local change (the control socket, a restore started
 * locally) needs write access for "Subscriber" in each parameter's AccessList (A.3.2.4)
 * and is then reported like any change by someone other than the ACS (3.2.1, A.3.3.1: a
 * notification, "4 VALUE CHANGE" if active). The ACS's own changes are not (3.2.1: they
 * "MUST NOT cause a new Session").
 *
 * A provider that answers later writes on its own, after the transaction: the set is then
 * atomic per provider only (dm.h). The gateway's providers all answer at once.
 */
#ifndef PX_SETVALUES_H
#define PX_SETVALUES_H

#include <stddef.h>

struct endpoint;
struct setvalues;

enum setvalues_origin { SETVALUES_ACS = 0, SETVALUES_LOCAL };

/* One parameter in error (A.3.2.1 SetParameterValuesFault). */
struct setvalues_fault {
    const char *name;
    int code;           /* 9005-9008; 9001 for a local change the AccessList refuses */
    const char *string; /* why */
};

/* fault 0: applied. Otherwise 9003 when parameters are in error (listed in faults), 9002
 * when the cache failed, or a provider's own fault for the whole set; fault_string says
 * why. The strings are valid during the call. */
typedef void (*setvalues_done_cb)(void *arg, int fault, const char *fault_string,
                                  const struct setvalues_fault *faults, size_t n_faults);

struct setvalues *setvalues_new(struct endpoint *ep, enum setvalues_origin origin);
/* Check one parameter (xsi_type NULL = any type) and add it. Returns 0 or its fault code,
 * which then joins the fault list; or 9003 for a name given twice (A.3.2.1: a fault of the
 * whole request, not of the parameter). px_err_msg() says why. */
int setvalues_add(struct setvalues *s, const char *name, const char *value, const char *xsi_type);
/* The parameters in error so far (valid until the next add). */
size_t setvalues_faults(const struct setvalues *s, const struct setvalues_fault **out);
/* Set ParameterKey to key when the set succeeds (A.3.2.1); without this call it stays. */
void setvalues_parameter_key(struct setvalues *s, const char *key);
/* Apply everything added (with parameters in error: nothing, done gets 9003 and the list).
 * done is called exactly once, possibly before this returns; s is freed after it. */
void setvalues_apply(struct setvalues *s, setvalues_done_cb done, void *arg);
/* Forget s without applying, or stop waiting for an applying one (done is then never
 * called; what a provider does later it does on its own). */
void setvalues_free(struct setvalues *s);

#endif
