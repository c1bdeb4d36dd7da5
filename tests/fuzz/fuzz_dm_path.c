/*
 * fuzz_dm_path.c: libFuzzer target for path resolution in the data model
 * (proxier/dm/dm_model.c: dm_pos_resolve, slot_find_row; TR-069 A.2.2 instance numbers and
 * aliases, A.3.2.2 partial paths, A.3.2.3 GetParameterNames), which reads every parameter
 * and object name the ACS sends.
 *
 * The model is the gateway's own schema with a few rows (numbers, aliases, a nested table).
 * The input is up to MAX_LINES lines:
 *   "+TABLE [N [ALIAS]]"  add a row (N 0 or absent = the next number),
 *   "-INSTANCE"           delete a row,
 *   "?PATH" / "!PATH"     GetParameterNames of PATH with NextLevel true / false,
 *   anything else         a path to resolve and expand.
 * Besides "no crash, no leak", it checks:
 *  - a resolved path without aliases reads back exactly from what it resolved to, and one
 *    with aliases resolves to the same place as its canonical form;
 *  - dm_resolve_param, dm_resolve_table and dm_object_exists agree with dm_pos_resolve;
 *  - every parameter dm_expand or dm_names reports resolves back to its own node;
 *  - a row dm_instance_add created resolves by its number (and its alias), and no longer
 *    after dm_instance_delete.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/common/buf.h"
#include "proxier/common/err.h"
#include "proxier/dm/dm.h"
#include "proxier/dm/dm_internal.h"
#include "proxier/gateway/gateway.h"

#define MAX_LINES 32
#define MAX_EXPANDED 4096 /* parameters checked per expansion */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    const char *table;
    unsigned number;
    const char *alias;
} seed_rows[] = {
    {"Device.DeviceInfo.SupportedDataModel.", 1, NULL},
    {"Device.DeviceInfo.SupportedDataModel.", 2, NULL},
    {"Device.ManagementServer.InformParameter.", 1, "cpe-1"},
    {"Device.ManagementServer.InformParameter.", 3, "b"},
    {"Device.ManagementServer.VirtualDevice.", 4294967295u, NULL},
    {"Device.ManagementServer.EmbeddedDevice.", 10, "x]y"},
    {"Device.XMPP.Connection.", 1, "cpe-1"},
    {"Device.XMPP.Connection.", 2, ""},
    {"Device.XMPP.Connection.1.Server.", 1, NULL},
    {"Device.XMPP.Connection.[cpe-1].Server.", 7, "s7"},
    {"Device.XMPP.Connection.2.Server.", 1, NULL},
};

struct expanded {
    const struct dm_model *m;
    size_t n;
};

static void check_param(void *arg, const char *path, const struct dm_node *node)
{
    struct expanded *e = arg;
    if (e->n++ >= MAX_EXPANDED || strlen(path) > DM_PATH_MAX)
        return;
    int fault = 0;
    if (dm_resolve_param(e->m, path, &fault) != node || fault)
        abort();
}

static void check_name(void *arg, const char *name, bool writable)
{
    struct expanded *e = arg;
    if (e->n++ >= MAX_EXPANDED || strlen(name) > DM_PATH_MAX)
        return;
    struct dm_pos pos;
    if (dm_pos_resolve(e->m, name, &pos) != 0)
        abort();
    size_t len = strlen(name);
    if ((name[len - 1] == '.') == (pos.param != NULL))
        abort();
    if (pos.param && pos.param->writable != writable)
        abort();
}

/* The concrete path of pos, with instance numbers. */
static void pos_path(const struct dm_pos *pos, struct buf *b)
{
    dm_inst_path(pos->inst, b);
    if (pos->table)
        buf_printf(b, "%s.", pos->table->name);
    if (pos->param)
        buf_puts(b, pos->param->name);
}

static void check_resolve(const struct dm_model *m, const char *path)
{
    struct dm_pos pos;
    int rc = dm_pos_resolve(m, path, &pos);
    if (rc != 0 && rc != PX_ERR_INVALID_PARAMETER_NAME)
        abort();
    int fault;
    const struct dm_node *param = dm_resolve_param(m, path, &fault);
    const struct dm_node *table = dm_resolve_table(m, path, &fault);
    if (param != (rc ? NULL : pos.param) || table != (rc ? NULL : pos.table) ||
        dm_object_exists(m, path) != (rc == 0 && !pos.param))
        abort();
    struct expanded e = {m, 0};
    if (dm_expand(m, path, check_param, &e) != rc)
        abort();
    if (rc)
        return;
    struct buf b = BUF_INIT;
    pos_path(&pos, &b);
    const char *canonical = b.data ? b.data : "";
    if (!strchr(path, '[') && strcmp(canonical, path) != 0)
        abort();
    struct dm_pos again;
    if (dm_pos_resolve(m, canonical, &again) != 0 || again.inst != pos.inst ||
        again.table != pos.table || again.param != pos.param)
        abort();
    buf_free(&b);
}

static void check_names(const struct dm_model *m, const char *path, bool next_level)
{
    struct expanded e = {m, 0};
    int rc = dm_names(m, path, next_level, check_name, &e);
    if (rc != 0 && rc != PX_ERR_INVALID_PARAMETER_NAME && rc != PX_ERR_INVALID_ARGUMENTS)
        abort();
}

static void expect_row(const struct dm_model *m, const char *table, unsigned number,
                       const char *alias, bool present)
{
    struct buf b = BUF_INIT;
    buf_printf(&b, "%s%u.", table, number);
    struct dm_pos pos;
    bool found = dm_pos_resolve(m, b.data, &pos) == 0;
    if (found != present || (found && (pos.table || pos.param || pos.inst->number != number)))
        abort();
    if (present && alias && !strchr(alias, '.') && !strchr(alias, ']')) {
        struct dm_pos by_alias;
        buf_reset(&b);
        buf_printf(&b, "%s[%s].", table, alias);
        if (strlen(b.data) <= DM_PATH_MAX &&
            (dm_pos_resolve(m, b.data, &by_alias) != 0 || by_alias.inst != pos.inst))
            abort();
    }
    buf_free(&b);
}

/* "+TABLE [N [ALIAS]]" */
static void add_row(struct dm_model *m, char *args)
{
    char *save = NULL;
    char *table = strtok_r(args, " ", &save);
    char *number_text = table ? strtok_r(NULL, " ", &save) : NULL;
    char *alias = number_text ? strtok_r(NULL, "", &save) : NULL;
    if (!table)
        return;
    unsigned number = number_text ? (unsigned)strtoul(number_text, NULL, 10) : 0;
    unsigned got = 0;
    if (dm_instance_add(m, table, number, alias, &got) != 0)
        return;
    if (got == 0 || (number && got != number))
        abort();
    struct dm_pos pos;
    if (dm_pos_resolve(m, table, &pos) != 0 || !pos.table)
        abort();
    struct buf canonical = BUF_INIT;
    pos_path(&pos, &canonical);
    expect_row(m, canonical.data, got, alias, true);
    buf_free(&canonical);
}

/* "-INSTANCE" */
static void delete_row(struct dm_model *m, const char *path)
{
    struct dm_pos pos;
    if (dm_pos_resolve(m, path, &pos) != 0 || pos.param || pos.table ||
        pos.inst->node->kind != DM_TABLE) {
        if (dm_instance_delete(m, path) == 0)
            abort();
        return;
    }
    unsigned number = pos.inst->number;
    struct buf table = BUF_INIT;
    dm_inst_path(pos.inst->parent, &table);
    buf_printf(&table, "%s.", pos.inst->node->name);
    if (dm_instance_delete(m, path) != 0)
        abort();
    expect_row(m, table.data, number, NULL, false);
    buf_free(&table);
}

static void run_line(struct dm_model *m, char *line)
{
    switch (line[0]) {
    case '+': add_row(m, line + 1); break;
    case '-': delete_row(m, line + 1); break;
    case '?': check_names(m, line + 1, true); break;
    case '!': check_names(m, line + 1, false); break;
    default: check_resolve(m, line); break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct dm_schema *schema;
    if (!schema && !(schema = gateway_schema_new()))
        abort();
    struct dm_model *m = dm_model_new(schema, NULL);
    if (!m)
        abort();
    for (size_t i = 0; i < sizeof(seed_rows) / sizeof(seed_rows[0]); i++)
        if (dm_instance_add(m, seed_rows[i].table, seed_rows[i].number, seed_rows[i].alias,
                            NULL) != 0)
            abort();
    char *text = strndup((const char *)data, size), *rest = text, *line;
    for (int lines = 0; rest && lines < MAX_LINES && (line = strsep(&rest, "\n")); lines++)
        run_line(m, line); /* an empty line is the root, "" */
    free(text);
    dm_model_free(m);
    return 0;
}
