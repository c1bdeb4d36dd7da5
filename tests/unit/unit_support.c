/*
 * unit_support.c: XSD validation through xmllint and small file helpers for unit tests.
 */
#include "unit_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *unit_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)n + 1);
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    if (data) {
        data[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return data;
}

static bool xmllint_ok(const char *file, const char *schema)
{
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "XML_CATALOG_FILES=%s/spec/xsd/catalog.xml xmllint --nonet --noout --schema "
             "%s/spec/xsd/%s %s 2>&1 | grep -v -e 'Skipping import' -e ' validates$' >&2; "
             "exit ${PIPESTATUS[0]}",
             PX_SHARED_DIR, PX_SHARED_DIR, schema, file);
    char bash[4200];
    snprintf(bash, sizeof(bash), "bash -c '%s'", cmd);
    return system(bash) == 0;
}

bool unit_xsd_valid(const char *xml, size_t len)
{
    char file[] = "/tmp/px-unit-xsd-XXXXXX";
    int fd = mkstemp(file);
    if (fd < 0)
        return false;
    bool ok = write(fd, xml, len) == (ssize_t)len;
    close(fd);
    const char *strict = "cwmp-envelope-strict-1-2.xsd", *lax = "cwmp-envelope-1-4.xsd";
    if (memmem(xml, len, "urn:dslforum-org:cwmp-1-0", 25)) {
        strict = "cwmp-envelope-strict-1-0.xsd";
        lax = NULL;
    } else if (memmem(xml, len, "urn:dslforum-org:cwmp-1-1", 25)) {
        strict = "cwmp-envelope-strict-1-1.xsd";
        lax = NULL;
    }
    ok = ok && xmllint_ok(file, strict) && (!lax || xmllint_ok(file, lax));
    if (!ok)
        fprintf(stderr, "---- invalid message ----\n%.*s\n----\n", (int)len, xml);
    unlink(file);
    return ok;
}
