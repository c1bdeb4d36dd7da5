/*
 * fuzz_backup_file.c: libFuzzer target for the configuration backup parser
 * (proxier/transfer/backup_file.h), which reads whatever file server a Download of
 * "3 Vendor Configuration File" names.
 *
 * Besides "no crash": a file that parses is written back by the writer and parses again to
 * the same records (the writer's escaping and the parser agree on every byte), and a
 * refused file reports 9018 with an empty result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/common/buf.h"
#include "proxier/transfer/backup_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static int same_record(const struct backup_record *a, const struct backup_record *b)
{
    return a->kind == b->kind && same_text(a->path, b->path) && same_text(a->value, b->value) &&
           a->notification == b->notification && same_text(a->access_list, b->access_list);
}

static void check_round_trip(const struct backup_file *f)
{
    struct buf b = BUF_INIT;
    backup_file_write_header(&b, "round trip");
    for (size_t i = 0; i < f->n; i++)
        backup_file_write_record(&b, &f->records[i]);
    if (buf_failed(&b))
        abort();
    struct backup_file again;
    if (backup_file_parse(b.data, b.len, &again) != 0 || again.n != f->n)
        abort();
    for (size_t i = 0; i < f->n; i++)
        if (!same_record(&f->records[i], &again.records[i]))
            abort();
    backup_file_free(&again);
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct backup_file f;
    int rc = backup_file_parse((const char *)data, size, &f);
    if (rc == 0)
        check_round_trip(&f);
    else if (rc != 9018 && rc != 9002)
        abort();
    else if (f.n || f.records)
        abort();
    backup_file_free(&f);
    return 0;
}
