/*
 * config.h: proxierd's configuration: a file of "[section]" and "key = value" lines and/or
 * command-line options, every key documented in docs/configuration.md.
 *
 * The configuration gives the *factory defaults* of the gateway's CWMP endpoint: a value the
 * ACS later sets (PeriodicInformInterval, the ACS URL, ...) lives in the cache and wins until a
 * FactoryReset. Unknown keys and bad values are errors that name the file, line and key.
 */
#ifndef PX_CONFIG_H
#define PX_CONFIG_H

#include <stdbool.h>

struct px_config {
    /* [acs] */
    char *acs_url;
    char *acs_username; /* NULL = "<OUI>-<ProductClass>-<Serial>" (TR-069 3.4.4) */
    char *acs_password;
    char *acs_ca_file;
    char *acs_ca_path;
    char *acs_client_cert;
    char *acs_client_key;
    bool acs_verify_peer;
    char *acs_compression; /* "Disabled" or "GZIP": factory default of HTTPCompression */
    unsigned acs_timeout;  /* seconds without an HTTP response before a session fails */

    /* [device] */
    char *manufacturer;
    char *oui;
    char *product_class;
    char *serial_number; /* NULL = derived from the first MAC address */
    char *model_name;
    char *description;
    char *hardware_version;
    char *software_version;
    char *provisioning_code;

    /* [cwmp] */
    char *cwmp_version; /* highest version offered: "1.0" .. "1.4" */
    bool periodic_inform_enable;
    unsigned periodic_inform_interval;
    char *periodic_inform_time; /* dateTime, or NULL */
    unsigned retry_minimum_wait;
    unsigned retry_interval_multiplier;
    unsigned max_retry_requests; /* 8005 replies accepted for one request in a session */
    unsigned default_active_notification_throttle;
    unsigned provider_deadline_ms;
    unsigned session_timeout;    /* SessionTimeout header of the Inform (CWMP >= 1.3); 0 = omit */

    /* [connection_request] (used by the connection-request listeners) */
    unsigned cr_port;
    char *cr_address;
    char *cr_username;
    char *cr_password;
    unsigned cr_rate_burst;    /* accepted requests in a burst, per endpoint */
    unsigned cr_rate_interval; /* seconds to earn one more */

    /* [cache] */
    char *db_path;
    bool db_sync_full;

    /* [control] */
    char *control_socket; /* NULL/"" = no control socket */

    /* [log] */
    int log_level;
    bool log_syslog;
    bool log_trace;

    /* [actions] */
    char *reboot_action;        /* "restart" (re-exec proxierd), "exit", or a shell command */
    char *factory_reset_action; /* shell command run after the cache is wiped, or NULL */
};

/* Fill with defaults. */
void config_defaults(struct px_config *cfg);
/* Read a file over the current values. Returns 0 or -1 with px_err_msg set. */
int config_load_file(struct px_config *cfg, const char *path);
/* Set one "section.key" (as the command line does). Returns 0 or -1 with px_err_msg set. */
int config_set(struct px_config *cfg, const char *section, const char *key, const char *value);
/* Check cross-field rules after loading (an ACS URL is required, ...). */
int config_validate(const struct px_config *cfg);
void config_free(struct px_config *cfg);

#endif
