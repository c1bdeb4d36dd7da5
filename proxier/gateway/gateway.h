/*
 * gateway.h: the gateway's own CWMP endpoint: its Device:2 schema, its identity (from the
 * configuration, the serial number derived from a MAC address when not configured) and the
 * provider of Device.DeviceInfo. and the root parameters.
 */
#ifndef PX_GATEWAY_H
#define PX_GATEWAY_H

struct endpoint;
struct endpoint_env;
struct endpoint_hooks;
struct dm_schema;

extern const char gateway_schema_text[];

#define GATEWAY_ENDPOINT_KEY "gateway"

/* Build the gateway's schema. NULL with px_err_msg on error. */
struct dm_schema *gateway_schema_new(void);
/* Create (not start) the gateway endpoint over schema. NULL with px_err_msg on error. */
struct endpoint *gateway_endpoint_new(const struct endpoint_env *env,
                                      const struct dm_schema *schema,
                                      const struct endpoint_hooks *hooks);
/* Boot the endpoint (endpoint_start), then report a SoftwareVersion/HardwareVersion that
 * changed since the last run (a firmware upgrade) as a value change. */
int gateway_endpoint_start(struct endpoint *ep);
void gateway_endpoint_free(struct endpoint *ep);

#endif
