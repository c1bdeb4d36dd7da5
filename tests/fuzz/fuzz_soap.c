/*
 * fuzz_soap.c: libFuzzer target for the SOAP parser (proxier/soap, TR-069 3.5), the one
 * parser that reads bytes straight from the ACS.
 *
 * Besides "no crash, no leak", it checks one property: whatever ID header a message
 * carried, a fault written with that ID parses back to the same ID (the CPE echoes the
 * ID of every request it answers, TR-069 3.5 Table 7).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/common/buf.h"
#include "proxier/soap/soap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_id_round_trip(const char *id)
{
    struct soap_envelope env = {CWMP_V1_2, id, false, NULL, 0};
    struct soap_fault fault = {.code = 9003, .string = "fuzz"};
    struct buf b = BUF_INIT;
    if (soap_write_fault(&b, &env, &fault) != 0)
        abort();
    struct soap_msg back;
    if (soap_parse(b.data, b.len, &back) != 0 || back.method != SOAP_Fault ||
        !back.header.id || strcmp(back.header.id, id) != 0)
        abort();
    soap_msg_free(&back);
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct soap_msg msg;
    soap_parse((const char *)data, size, &msg);
    if (msg.header.id)
        check_id_round_trip(msg.header.id);
    soap_msg_free(&msg);
    return 0;
}
