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
#include <stddef.h>

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
    unsigned max_instances;      /* rows the ACS may add to one table (9004 beyond) */
    unsigned session_timeout;    /* SessionTimeout header of the Inform (CWMP >= 1.3); 0 = omit */

    /* [connection_request] (used by the connection-request listeners) */
    unsigned cr_port;
    char *cr_address;
    char *cr_username;
    char *cr_password;
    unsigned cr_rate_burst;    /* requests that start a session, in a burst, per endpoint */
    unsigned cr_rate_interval; /* seconds to earn one more, 0 = no limit */
    unsigned cr_udp_port;      /* Annex G UDP port; CONFIG_UDP_PORT_SAME = cr_port, 0 = off */
    /* HTTP connection requests (http_cr.c): digest and listener limits */
    char *cr_realm;
    char *cr_digest_algorithms;      /* offered, in order: "MD5", "MD5,SHA-256", ... */
    unsigned cr_nonce_lifetime;      /* seconds a digest nonce stays valid */
    unsigned cr_nonce_table;         /* nonces remembered for replay detection */
    unsigned cr_max_connections;     /* open TCP connections, all clients */
    unsigned cr_max_connections_per_ip;
    unsigned cr_connection_timeout;  /* seconds of silence before a connection is closed */
    unsigned cr_max_request_bytes;   /* memory for one request's line and headers */

    /* [xmpp] (Annex K): the factory default XMPP connection, Device.XMPP.Connection.1,
     * used for connection requests when domain and username are set (xmpp_model.c) */
    char *xmpp_server;   /* host to connect to; NULL = DNS SRV of the domain */
    unsigned xmpp_port;
    char *xmpp_domain;
    char *xmpp_username;
    char *xmpp_password;
    char *xmpp_resource;
    bool xmpp_use_tls;
    char *xmpp_ca_file;  /* CA certificates for the server's certificate; NULL = system */
    unsigned xmpp_keepalive_interval; /* seconds between whitespace keepalives, 0 = off */
    unsigned xmpp_retry_initial_interval;
    unsigned xmpp_retry_interval_multiplier;
    unsigned xmpp_retry_max_interval;
    unsigned xmpp_boot_wait; /* seconds the first session waits for the stream, 0 = no wait */
    bool xmpp_ignore_unauthorized_jids; /* K.2.1.3: no reply to a JID not allowed */

    /* [cache] */
    char *db_path;
    bool db_sync_full;

    /* [control] */
    char *control_socket; /* NULL/"" = no control socket */

    /* [log] */
    int log_level;
    bool log_syslog;
    bool log_trace;
    unsigned log_ring_lines; /* recent lines kept for Upload "2 Vendor Log File", 0 = none */
    unsigned log_repeat_interval; /* seconds in which repeated messages are counted */

    /* [transfer] (proxier/transfer/: Download, Upload, ScheduleDownload) */
    char *transfer_dir;             /* where files are fetched and stored; NULL until
                                       config_resolve: "files" next to cache.path */
    char *transfer_firmware_action; /* "1 Firmware Upgrade Image": command, %f = the file */
    char *transfer_config_action;   /* "3 Vendor Configuration File": command, %f = the file */
    char *transfer_upload_config;   /* Upload "1 Vendor Configuration File": file to send */
    char *transfer_upload_log;      /* Upload "2 Vendor Log File": file to send */
    unsigned transfer_max_queue;    /* queued + running transfers; 9004 beyond */
    unsigned transfer_max_file_size; /* MiB of one download; 9010 beyond */
    unsigned transfer_stall_timeout; /* seconds below 1 byte/s before a transfer fails */

    /* [actions] */
    char *reboot_action;        /* "restart" (re-exec proxierd), "exit", or a shell command */
    char *factory_reset_action; /* shell command run after the cache is wiped, or NULL */
};

/* cr_udp_port when [connection_request] udp_port is not set: the number of cr_port. */
#define CONFIG_UDP_PORT_SAME 0x10000u

/* Fill with defaults. */
void config_defaults(struct px_config *cfg);

/* A data-model parameter whose factory default is a configuration value: tables of these
 * let a provider map parameter names to keys without a chain of comparisons. */
enum config_value_kind { CV_STRING, CV_UINT, CV_BOOL };

struct config_default {
    const char *name;     /* parameter name relative to the provider's object */
    enum config_value_kind kind;
    size_t offset;        /* of the field in struct px_config */
};

#define CONFIG_DEFAULT(name, kind, field) {name, kind, offsetof(struct px_config, field)}

/* The configured value for name (malloc'd), or NULL when the table does not name it or the
 * string is not set: the caller then uses the schema's default. */
char *config_default_value(const struct px_config *cfg, const struct config_default *table,
                           size_t n, const char *name);
/* Read a file over the current values. Returns 0 or -1 with px_err_msg set. */
int config_load_file(struct px_config *cfg, const char *path);
/* Set one "section.key" (as the command line does). Returns 0 or -1 with px_err_msg set. */
int config_set(struct px_config *cfg, const char *section, const char *key, const char *value);
/* Check cross-field rules after loading (an ACS URL is required, ...). */
int config_validate(const struct px_config *cfg);
/* Fill the values that default to others once everything is loaded: transfer.dir, when not
 * set, is the directory "files" next to cache.path. */
void config_resolve(struct px_config *cfg);
void config_free(struct px_config *cfg);

#endif
