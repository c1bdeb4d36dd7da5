/*
 * test_soap.c: the SOAP 1.1 codec of CWMP (proxier/soap, TR-069 3.5 and Annex A): parsing
 * the samples of real ACSs and every ACS request of Table 5, refusing hostile envelopes,
 * and writing CPE messages that validate against the official schemas (spec/xsd).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/common/buf.h"
#include "proxier/common/err.h"
#include "proxier/common/text.h"
#include "proxier/soap/soap.h"
#include "unit_support.h"

#define NS_12 "urn:dslforum-org:cwmp-1-2"

/* ---------------- Helpers ---------------- */

static int parse_sample(const char *name, struct soap_msg *msg)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/spec/samples/%s", PX_SHARED_DIR, name);
    size_t len;
    char *data = unit_read_file(path, &len);
    assert_non_null(data);
    int rc = soap_parse(data, len, msg);
    free(data);
    return rc;
}

/* An ACS message with unusual prefixes ("S" for the envelope, "c" for cwmp) so that every
 * test also checks that matching is by namespace URI. */
static int parse_envelope(const char *headers, const char *body, struct soap_msg *msg)
{
    struct buf b = BUF_INIT;
    buf_printf(&b,
               "<?xml version=\"1.0\"?><S:Envelope "
               "xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\" "
               "xmlns:E=\"http://schemas.xmlsoap.org/soap/encoding/\" "
               "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
               "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
               "xmlns:c=\"" NS_12 "\"><S:Header>%s</S:Header><S:Body>%s</S:Body></S:Envelope>",
               headers, body);
    assert_false(buf_failed(&b));
    int rc = soap_parse(b.data, b.len, msg);
    buf_free(&b);
    return rc;
}

static int parse_body(const char *body, struct soap_msg *msg)
{
    return parse_envelope("<c:ID S:mustUnderstand=\"1\">req-1</c:ID>", body, msg);
}

/* Parse body, expect fault 9003 with a message naming `needle`. */
static void expect_invalid(const char *body, const char *needle)
{
    struct soap_msg msg;
    px_err_clear();
    assert_int_equal(parse_body(body, &msg), 9003);
    if (!strstr(px_err_msg(), needle))
        fail_msg("message \"%s\" does not mention \"%s\"", px_err_msg(), needle);
    /* The ID is still known, so the fault can carry it. */
    assert_string_equal(msg.header.id, "req-1");
    soap_msg_free(&msg);
}

static void expect_hostile(const char *data, size_t len, const char *needle)
{
    struct soap_msg msg;
    px_err_clear();
    assert_int_equal(soap_parse(data, len, &msg), 9003);
    if (!strstr(px_err_msg(), needle))
        fail_msg("message \"%s\" does not mention \"%s\"", px_err_msg(), needle);
    soap_msg_free(&msg);
}

/* ---------------- Samples of real ACSs ---------------- */

static void test_sample_genieacs_gpv(void **state)
{
    struct soap_msg msg;
    assert_int_equal(parse_sample("genieacs-gpv-1-2.xml", &msg), 0);
    assert_int_equal(msg.method, SOAP_GetParameterValues);
    assert_int_equal(msg.version, CWMP_V1_2);
    assert_string_equal(msg.header.id, "1");
    assert_true(msg.header.id_must_understand);
    assert_int_equal(msg.n_names, 1);
    assert_string_equal(msg.names[0], "Device.ManagementServer.VirtualDevice.");
    soap_msg_free(&msg);
    assert_null(msg.names);
}

static void test_sample_genieacs_spv(void **state)
{
    struct soap_msg msg;
    assert_int_equal(parse_sample("genieacs-spv-1-2.xml", &msg), 0);
    assert_int_equal(msg.method, SOAP_SetParameterValues);
    assert_string_equal(msg.method_name, "SetParameterValues");
    assert_int_equal(msg.n_values, 1);
    assert_string_equal(msg.values[0].name, "Device.ManagementServer.PeriodicInformInterval");
    assert_string_equal(msg.values[0].value, "600");
    assert_string_equal(msg.values[0].type, "xsd:unsignedInt");
    assert_true(msg.has_parameter_key);
    assert_string_equal(msg.parameter_key, "k1");
    soap_msg_free(&msg);
}

/* perl-cwmp: undeclared attribute prefixes (soap:, encodingStyle:), pretty-printed. */
static void test_sample_perl_cwmp_spv(void **state)
{
    struct soap_msg msg;
    assert_int_equal(parse_sample("perl-cwmp-spv.xml", &msg), 0);
    assert_int_equal(msg.method, SOAP_SetParameterValues);
    assert_int_equal(msg.version, CWMP_V1_0);
    assert_string_equal(msg.header.id, "90ua7chr");
    assert_true(msg.header.id_must_understand);
    assert_int_equal(msg.n_values, 1);
    assert_string_equal(msg.values[0].name,
                        "InternetGatewayDevice.ManagementServer.PeriodicInformInterval");
    assert_string_equal(msg.values[0].value, "900");
    assert_string_equal(msg.values[0].type, "xsd:string");
    assert_true(msg.has_parameter_key);
    assert_string_equal(msg.parameter_key, "");
    soap_msg_free(&msg);
}

static void test_sample_fault(void **state)
{
    struct soap_msg msg;
    assert_int_equal(parse_sample("spv-fault-1-2.xml", &msg), 0);
    assert_int_equal(msg.method, SOAP_Fault);
    assert_int_equal(msg.fault_code, 9003);
    assert_string_equal(msg.fault_string, "Invalid arguments");
    assert_string_equal(msg.header.id, "acs-8");
    soap_msg_free(&msg);
}

/* CPE messages are not requests we serve: they parse as unknown methods (answered 9000). */
static void test_sample_cpe_messages_are_unknown(void **state)
{
    const char *names[] = {"inform-1-2.xml", "inform-cwmp14.xml", "gpvr-1-2.xml"};
    const char *methods[] = {"Inform", "Inform", "GetParameterValuesResponse"};
    for (size_t i = 0; i < 3; i++) {
        struct soap_msg msg;
        assert_int_equal(parse_sample(names[i], &msg), 0);
        assert_int_equal(msg.method, SOAP_Unknown);
        assert_string_equal(msg.method_name, methods[i]);
        soap_msg_free(&msg);
    }
    struct soap_msg msg;
    assert_int_equal(parse_sample("inform-cwmp14.xml", &msg), 0);
    assert_int_equal(msg.header.session_timeout, 60);
    assert_string_equal(msg.header.supported_cwmp_versions, "1.0,1.1,1.2,1.3,1.4");
    soap_msg_free(&msg);
}

/* cwmp-1-4 is no CWMP namespace (A.6 Table 89). */
static void test_sample_wrong_namespace(void **state)
{
    struct soap_msg msg;
    assert_int_equal(parse_sample("bad-wrongns-cwmp-1-4.xml", &msg), 9003);
    assert_non_null(strstr(px_err_msg(), "urn:dslforum-org:cwmp-1-4"));
    soap_msg_free(&msg);
}

/* ---------------- ACS requests (Table 5) ---------------- */

static void test_parse_headers(void **state)
{
    struct soap_msg msg;
    const char *headers =
        "<c:ID S:mustUnderstand=\"1\"> spaced id </c:ID>"
        "<c:HoldRequests S:mustUnderstand=\"1\">true</c:HoldRequests>"
        "<c:UseCWMPVersion S:mustUnderstand=\"1\">1.4</c:UseCWMPVersion>"
        "<c:SessionTimeout S:mustUnderstand=\"0\"> 90 </c:SessionTimeout>"
        "<c:SupportedCWMPVersions>1.0,1.4</c:SupportedCWMPVersions>"
        "<x:Trace xmlns:x=\"urn:example\">not required</x:Trace>";
    assert_int_equal(parse_envelope(headers, "<c:GetRPCMethods/>", &msg), 0);
    assert_int_equal(msg.method, SOAP_GetRPCMethods);
    assert_string_equal(msg.header.id, " spaced id ");
    assert_true(msg.header.id_must_understand);
    assert_true(msg.header.hold_requests_present);
    assert_true(msg.header.hold_requests);
    assert_string_equal(msg.header.use_cwmp_version, "1.4");
    assert_int_equal(msg.header.session_timeout, 90);
    assert_string_equal(msg.header.supported_cwmp_versions, "1.0,1.4");
    assert_null(msg.header.unknown_must_understand);
    soap_msg_free(&msg);

    headers = "<x:Billing xmlns:x=\"urn:example\" S:mustUnderstand=\"1\">1</x:Billing>";
    assert_int_equal(parse_envelope(headers, "<c:GetRPCMethods/>", &msg), 0);
    assert_null(msg.header.id);
    assert_false(msg.header.hold_requests_present);
    assert_string_equal(msg.header.unknown_must_understand, "Billing");
    soap_msg_free(&msg);

    assert_int_equal(parse_envelope("<c:HoldRequests S:mustUnderstand=\"1\">maybe"
                                    "</c:HoldRequests>", "<c:GetRPCMethods/>", &msg), 9003);
    assert_non_null(strstr(px_err_msg(), "HoldRequests"));
    soap_msg_free(&msg);

    /* A cwmp header in a namespace we know but by a name we do not, mustUnderstand "true". */
    headers = "<c:Frobnicate S:mustUnderstand=\"true\">1</c:Frobnicate>";
    assert_int_equal(parse_envelope(headers, "<c:GetRPCMethods/>", &msg), 0);
    assert_string_equal(msg.header.unknown_must_understand, "Frobnicate");
    soap_msg_free(&msg);
}

/* TR-069 3.5 Table 4: each header once; a second one makes the envelope malformed (the
 * method is then not parsed: the session ends, 3.7.1.4). The first ID is kept for a fault. */
static void test_parse_duplicate_headers(void **state)
{
    static const char *const twice[] = {
        "<c:ID S:mustUnderstand=\"1\">a</c:ID><c:ID S:mustUnderstand=\"1\">b</c:ID>",
        "<c:HoldRequests S:mustUnderstand=\"1\">0</c:HoldRequests>"
        "<c:ID S:mustUnderstand=\"1\">a</c:ID>"
        "<c:HoldRequests S:mustUnderstand=\"1\">1</c:HoldRequests>",
        "<c:ID S:mustUnderstand=\"1\">a</c:ID><c:UseCWMPVersion>1.2</c:UseCWMPVersion>"
        "<c:UseCWMPVersion>1.4</c:UseCWMPVersion>",
        "<c:ID S:mustUnderstand=\"1\">a</c:ID><c:SessionTimeout>30</c:SessionTimeout>"
        "<c:SessionTimeout>60</c:SessionTimeout>",
        "<c:ID S:mustUnderstand=\"1\">a</c:ID><c:SupportedCWMPVersions>1.0"
        "</c:SupportedCWMPVersions><c:SupportedCWMPVersions>1.4</c:SupportedCWMPVersions>",
    };
    for (size_t i = 0; i < sizeof(twice) / sizeof(twice[0]); i++) {
        struct soap_msg msg;
        px_err_clear();
        assert_int_equal(parse_envelope(twice[i], "<c:GetRPCMethods/>", &msg), 9003);
        assert_non_null(strstr(px_err_msg(), "appears more than once"));
        assert_int_equal(msg.method, SOAP_NONE);
        assert_string_equal(msg.header.id, "a");
        soap_msg_free(&msg);
    }
    /* Unknown headers may repeat (they are not Table 4's). */
    struct soap_msg msg;
    assert_int_equal(parse_envelope("<x:T xmlns:x=\"urn:x\">1</x:T><x:T xmlns:x=\"urn:x\">2</x:T>",
                                    "<c:GetRPCMethods/>", &msg), 0);
    soap_msg_free(&msg);
}

/* SOAP 1.1 4.4.1: a fault code other than Client/Server, qualified with the envelope prefix. */
static void test_write_must_understand_fault(void **state)
{
    struct soap_envelope env = {CWMP_V1_2, "acs-1", false, NULL, 0};
    struct soap_fault f = {.code = 9003, .string = "header X", .soap_faultcode = "MustUnderstand"};
    struct buf b = BUF_INIT;
    assert_int_equal(soap_write_fault(&b, &env, &f), 0);
    assert_false(buf_failed(&b));
    assert_true(unit_xsd_valid(b.data, b.len));
    assert_non_null(strstr(b.data, "<faultcode>soap-env:MustUnderstand</faultcode>"
                                   "<faultstring>CWMP fault</faultstring>"));
    buf_free(&b);
}

static void test_parse_parameter_requests(void **state)
{
    struct soap_msg msg;
    assert_int_equal(parse_body("<c:GetParameterNames><ParameterPath>Device.</ParameterPath>"
                                "<NextLevel>1</NextLevel></c:GetParameterNames>", &msg), 0);
    assert_int_equal(msg.method, SOAP_GetParameterNames);
    assert_string_equal(msg.parameter_path, "Device.");
    assert_true(msg.next_level);
    soap_msg_free(&msg);

    assert_int_equal(parse_body("<c:GetParameterNames><ParameterPath></ParameterPath>"
                                "<NextLevel>false</NextLevel></c:GetParameterNames>", &msg), 0);
    assert_string_equal(msg.parameter_path, "");
    assert_false(msg.next_level);
    soap_msg_free(&msg);

    assert_int_equal(parse_body("<c:GetParameterAttributes><ParameterNames "
                                "E:arrayType=\"xsd:string[2]\"><string>Device.A</string>"
                                "<string>Device.B.</string></ParameterNames>"
                                "</c:GetParameterAttributes>", &msg), 0);
    assert_int_equal(msg.method, SOAP_GetParameterAttributes);
    assert_int_equal(msg.n_names, 2);
    assert_string_equal(msg.names[1], "Device.B.");
    soap_msg_free(&msg);

    assert_int_equal(
        parse_body("<c:SetParameterAttributes><ParameterList>"
                   "<SetParameterAttributesStruct><Name>Device.A</Name>"
                   "<NotificationChange>true</NotificationChange><Notification>2</Notification>"
                   "<AccessListChange>1</AccessListChange><AccessList><string>Subscriber"
                   "</string></AccessList></SetParameterAttributesStruct>"
                   "<SetParameterAttributesStruct><Name>Device.B</Name>"
                   "<NotificationChange>0</NotificationChange><Notification>0</Notification>"
                   "<AccessListChange>0</AccessListChange><AccessList/>"
                   "</SetParameterAttributesStruct></ParameterList></c:SetParameterAttributes>",
                   &msg), 0);
    assert_int_equal(msg.method, SOAP_SetParameterAttributes);
    assert_int_equal(msg.n_attributes, 2);
    assert_string_equal(msg.attributes[0].name, "Device.A");
    assert_true(msg.attributes[0].notification_change);
    assert_int_equal(msg.attributes[0].notification, 2);
    assert_true(msg.attributes[0].access_list_change);
    assert_int_equal(msg.attributes[0].n_access_list, 1);
    assert_string_equal(msg.attributes[0].access_list[0], "Subscriber");
    assert_false(msg.attributes[1].notification_change);
    assert_int_equal(msg.attributes[1].n_access_list, 0);
    soap_msg_free(&msg);

    /* Values are kept byte for byte, entities decoded; a value may lack xsi:type. */
    assert_int_equal(parse_body("<c:SetParameterValues><ParameterList>"
                                "<ParameterValueStruct><Name> Device.X </Name>"
                                "<Value> a &amp; &lt;b&gt; </Value></ParameterValueStruct>"
                                "</ParameterList><ParameterKey>pk</ParameterKey>"
                                "</c:SetParameterValues>", &msg), 0);
    assert_string_equal(msg.values[0].name, "Device.X");
    assert_string_equal(msg.values[0].value, " a & <b> ");
    assert_null(msg.values[0].type);
    soap_msg_free(&msg);
}

static void test_parse_object_requests(void **state)
{
    struct soap_msg msg;
    assert_int_equal(parse_body("<c:AddObject><ObjectName>Device.NAT.PortMapping.</ObjectName>"
                                "<ParameterKey>k2</ParameterKey></c:AddObject>", &msg), 0);
    assert_int_equal(msg.method, SOAP_AddObject);
    assert_string_equal(msg.object_name, "Device.NAT.PortMapping.");
    assert_string_equal(msg.parameter_key, "k2");
    soap_msg_free(&msg);

    /* Lenient: ParameterKey absent, arguments qualified with the cwmp prefix. */
    assert_int_equal(parse_body("<c:DeleteObject><c:ObjectName>Device.NAT.PortMapping.3."
                                "</c:ObjectName></c:DeleteObject>", &msg), 0);
    assert_int_equal(msg.method, SOAP_DeleteObject);
    assert_string_equal(msg.object_name, "Device.NAT.PortMapping.3.");
    assert_false(msg.has_parameter_key);
    soap_msg_free(&msg);
}

static void test_parse_transfer_requests(void **state)
{
    struct soap_msg msg;
    assert_int_equal(
        parse_body("<c:Download><CommandKey>dl1</CommandKey><FileType>1 Firmware Upgrade Image"
                   "</FileType><URL>http://acs/fw.bin</URL><Username>u</Username>"
                   "<Password>p</Password><FileSize>5000000000</FileSize>"
                   "<TargetFileName>fw.bin</TargetFileName><DelaySeconds>5</DelaySeconds>"
                   "<SuccessURL>http://ok</SuccessURL><FailureURL></FailureURL></c:Download>",
                   &msg), 0);
    assert_int_equal(msg.method, SOAP_Download);
    assert_string_equal(msg.command_key, "dl1");
    assert_string_equal(msg.transfer.file_type, "1 Firmware Upgrade Image");
    assert_string_equal(msg.transfer.url, "http://acs/fw.bin");
    assert_string_equal(msg.transfer.username, "u");
    assert_string_equal(msg.transfer.password, "p");
    assert_true(msg.transfer.file_size == 5000000000ull);
    assert_string_equal(msg.transfer.target_file_name, "fw.bin");
    assert_int_equal(msg.transfer.delay_seconds, 5);
    assert_string_equal(msg.transfer.success_url, "http://ok");
    assert_string_equal(msg.transfer.failure_url, "");
    soap_msg_free(&msg);

    assert_int_equal(
        parse_body("<c:ScheduleDownload><CommandKey>sd</CommandKey><FileType>1 Firmware "
                   "Upgrade Image</FileType><URL>http://acs/fw</URL><Username/><Password/>"
                   "<FileSize>10</FileSize><TargetFileName/><TimeWindowList "
                   "E:arrayType=\"c:TimeWindowStruct[2]\"><TimeWindowStruct>"
                   "<WindowStart>0</WindowStart><WindowEnd>60</WindowEnd><WindowMode>1 At Any "
                   "Time</WindowMode><UserMessage/><MaxRetries>-1</MaxRetries>"
                   "</TimeWindowStruct><TimeWindowStruct><WindowStart>100</WindowStart>"
                   "<WindowEnd>200</WindowEnd><WindowMode>3 When Idle</WindowMode>"
                   "<UserMessage>hi</UserMessage><MaxRetries>2</MaxRetries></TimeWindowStruct>"
                   "</TimeWindowList></c:ScheduleDownload>", &msg), 0);
    assert_int_equal(msg.method, SOAP_ScheduleDownload);
    assert_int_equal(msg.transfer.n_windows, 2);
    assert_int_equal(msg.transfer.windows[0].window_end, 60);
    assert_int_equal(msg.transfer.windows[0].max_retries, -1);
    assert_string_equal(msg.transfer.windows[1].window_mode, "3 When Idle");
    assert_string_equal(msg.transfer.windows[1].user_message, "hi");
    assert_int_equal(msg.transfer.windows[1].window_start, 100);
    soap_msg_free(&msg);

    assert_int_equal(parse_body("<c:Upload><CommandKey>up</CommandKey><FileType>3 Vendor "
                                "Configuration File</FileType><URL>http://acs/up</URL>"
                                "<Username/><Password/><DelaySeconds>0</DelaySeconds>"
                                "</c:Upload>", &msg), 0);
    assert_int_equal(msg.method, SOAP_Upload);
    assert_string_equal(msg.transfer.file_type, "3 Vendor Configuration File");
    assert_string_equal(msg.command_key, "up");
    soap_msg_free(&msg);

    assert_int_equal(parse_body("<c:CancelTransfer><CommandKey>dl1</CommandKey>"
                                "</c:CancelTransfer>", &msg), 0);
    assert_int_equal(msg.method, SOAP_CancelTransfer);
    assert_string_equal(msg.command_key, "dl1");
    soap_msg_free(&msg);
}

static void test_parse_other_requests(void **state)
{
    struct soap_msg msg;
    assert_int_equal(parse_body("<c:Reboot><CommandKey>rb</CommandKey></c:Reboot>", &msg), 0);
    assert_int_equal(msg.method, SOAP_Reboot);
    assert_string_equal(msg.command_key, "rb");
    soap_msg_free(&msg);

    assert_int_equal(parse_body("<c:ScheduleInform><DelaySeconds>30</DelaySeconds>"
                                "<CommandKey>si</CommandKey></c:ScheduleInform>", &msg), 0);
    assert_int_equal(msg.method, SOAP_ScheduleInform);
    assert_int_equal(msg.delay_seconds, 30);
    assert_string_equal(msg.command_key, "si");
    soap_msg_free(&msg);

    const struct {
        const char *body;
        enum soap_method method;
    } plain[] = {
        {"<c:FactoryReset/>", SOAP_FactoryReset},
        {"<c:GetQueuedTransfers/>", SOAP_GetQueuedTransfers},
        {"<c:GetAllQueuedTransfers/>", SOAP_GetAllQueuedTransfers},
        {"<c:ChangeDUState><Operations/></c:ChangeDUState>", SOAP_ChangeDUState},
        {"<c:SetVouchers><VoucherList/></c:SetVouchers>", SOAP_SetVouchers},
        {"<c:GetOptions><OptionName>x</OptionName></c:GetOptions>", SOAP_GetOptions},
        {"<c:TransferCompleteResponse/>", SOAP_TransferCompleteResponse},
        {"<c:AutonomousTransferCompleteResponse/>", SOAP_AutonomousTransferCompleteResponse},
        {"<c:X_ACME_Frobnicate><A>1</A></c:X_ACME_Frobnicate>", SOAP_Unknown},
    };
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        assert_int_equal(parse_body(plain[i].body, &msg), 0);
        assert_int_equal(msg.method, plain[i].method);
        assert_non_null(msg.method_name);
        soap_msg_free(&msg);
    }
    assert_int_equal(parse_body("<c:X_ACME_Frobnicate/>", &msg), 0);
    assert_string_equal(msg.method_name, "X_ACME_Frobnicate");
    soap_msg_free(&msg);
}

static void test_parse_acs_responses(void **state)
{
    struct soap_msg msg;
    assert_int_equal(parse_body("<c:InformResponse><MaxEnvelopes>1</MaxEnvelopes>"
                                "</c:InformResponse>", &msg), 0);
    assert_int_equal(msg.method, SOAP_InformResponse);
    assert_int_equal(msg.max_envelopes, 1);
    soap_msg_free(&msg);

    assert_int_equal(parse_body("<c:GetRPCMethodsResponse><MethodList E:arrayType="
                                "\"xsd:string[2]\"><string>Inform</string><string>"
                                "TransferComplete</string></MethodList>"
                                "</c:GetRPCMethodsResponse>", &msg), 0);
    assert_int_equal(msg.method, SOAP_GetRPCMethodsResponse);
    assert_int_equal(msg.n_names, 2);
    assert_string_equal(msg.names[1], "TransferComplete");
    soap_msg_free(&msg);

    /* An ACS fault (A.5.2) with any prefix. */
    assert_int_equal(parse_body("<S:Fault><faultcode>S:Server</faultcode><faultstring>CWMP "
                                "fault</faultstring><detail><q:Fault xmlns:q=\"" NS_12 "\">"
                                "<FaultCode>8005</FaultCode><FaultString>Retry request"
                                "</FaultString></q:Fault></detail></S:Fault>", &msg), 0);
    assert_int_equal(msg.method, SOAP_Fault);
    assert_int_equal(msg.fault_code, 8005);
    assert_string_equal(msg.fault_string, "Retry request");
    soap_msg_free(&msg);
}

static void test_parse_versions_and_empty(void **state)
{
    const char *v11 = "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\">"
                      "<e:Body><GetRPCMethods xmlns=\"urn:dslforum-org:cwmp-1-1\"/></e:Body>"
                      "</e:Envelope>";
    struct soap_msg msg;
    assert_int_equal(soap_parse(v11, strlen(v11), &msg), 0);
    assert_int_equal(msg.method, SOAP_GetRPCMethods);
    assert_int_equal(msg.version, CWMP_V1_1);
    soap_msg_free(&msg);

    assert_int_equal(soap_parse("", 0, &msg), 0);
    assert_int_equal(msg.method, SOAP_NONE);
    soap_msg_free(&msg);
    assert_int_equal(soap_parse(" \r\n\t ", 5, &msg), 0);
    assert_int_equal(msg.method, SOAP_NONE);
    soap_msg_free(&msg);
}

static void test_parse_bad_arguments(void **state)
{
    /* A sound envelope with bad arguments still names its method, so the caller can answer
     * with a fault instead of ending the session. */
    struct soap_msg msg;
    assert_int_equal(parse_body("<c:Reboot><CommandKey>x</CommandKey></c:Reboot><!-- -->"
                                "<c:CancelTransfer/>", &msg), 9003);
    assert_int_equal(msg.method, SOAP_NONE);
    soap_msg_free(&msg);
    assert_int_equal(parse_body("<c:Upload><FileType>1 Vendor Configuration File</FileType>"
                                "</c:Upload>", &msg), 9003);
    assert_int_equal(msg.method, SOAP_Upload);
    assert_non_null(strstr(px_err_msg(), "Upload: missing argument URL"));
    soap_msg_free(&msg);

    expect_invalid("<c:Download><CommandKey/><FileType>1 Firmware Upgrade Image</FileType>"
                   "<FileSize>1</FileSize></c:Download>", "URL");
    expect_invalid("<c:Download><FileType>1 Firmware Upgrade Image</FileType><URL>http://a"
                   "</URL><FileSize>big</FileSize></c:Download>", "FileSize");
    expect_invalid("<c:Download><FileType>1 Firmware Upgrade Image</FileType><URL>http://a"
                   "</URL><FileSize>-1</FileSize></c:Download>", "FileSize");
    expect_invalid("<c:GetParameterNames><ParameterPath>Device.</ParameterPath>"
                   "<NextLevel>yes</NextLevel></c:GetParameterNames>", "NextLevel");
    expect_invalid("<c:GetParameterNames><ParameterPath>Device.</ParameterPath>"
                   "</c:GetParameterNames>", "NextLevel");
    expect_invalid("<c:SetParameterValues><ParameterKey/></c:SetParameterValues>",
                   "ParameterList");
    expect_invalid("<c:SetParameterValues><ParameterList><ParameterValueStruct><Name>A</Name>"
                   "</ParameterValueStruct></ParameterList></c:SetParameterValues>", "Value");
    expect_invalid("<c:ScheduleInform><DelaySeconds>4294967296</DelaySeconds>"
                   "</c:ScheduleInform>", "DelaySeconds");
    expect_invalid("<c:AddObject><ParameterKey/></c:AddObject>", "ObjectName");
    expect_invalid("<c:CancelTransfer/>", "CommandKey");
    const char *window = "<TimeWindowStruct><WindowStart>0</WindowStart><WindowEnd>1"
                         "</WindowEnd><WindowMode>1 At Any Time</WindowMode>"
                         "</TimeWindowStruct>";
    char body[2048];
    snprintf(body, sizeof(body), "<c:ScheduleDownload><FileType>1 Firmware Upgrade Image"
             "</FileType><URL>http://a</URL><TimeWindowList>%s%s%s</TimeWindowList>"
             "</c:ScheduleDownload>", window, window, window);
    expect_invalid(body, "more than 2");
    expect_invalid("<c:ScheduleDownload><FileType>1 Firmware Upgrade Image</FileType><URL>"
                   "http://a</URL><TimeWindowList/></c:ScheduleDownload>", "ScheduleDownload");
    expect_invalid("", "no method");
    expect_invalid("<c:Reboot/><c:Reboot/>", "more than one");
}

/* ---------------- Hostile input ---------------- */

static void test_hostile_entities(void **state)
{
    const char *bomb =
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
        "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
        "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
        "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
        "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
        "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
        "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
        "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
        "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
        "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">]>"
        "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\" "
        "xmlns:cwmp=\"" NS_12 "\"><soap-env:Body><cwmp:Reboot><CommandKey>&lol9;"
        "</CommandKey></cwmp:Reboot></soap-env:Body></soap-env:Envelope>";
    expect_hostile(bomb, strlen(bomb), "DOCTYPE");

    const char *xxe =
        "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\" "
        "xmlns:cwmp=\"" NS_12 "\"><soap-env:Body><cwmp:Reboot><CommandKey>&x;</CommandKey>"
        "</cwmp:Reboot></soap-env:Body></soap-env:Envelope>";
    struct soap_msg msg;
    assert_int_equal(soap_parse(xxe, strlen(xxe), &msg), 9003);
    assert_null(msg.command_key);
    assert_null(strstr(px_err_msg(), "root:"));
    soap_msg_free(&msg);

    /* Without a DOCTYPE an entity reference is simply undefined. */
    const char *undefined =
        "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\" "
        "xmlns:cwmp=\"" NS_12 "\"><soap-env:Body><cwmp:Reboot><CommandKey>&x;</CommandKey>"
        "</cwmp:Reboot></soap-env:Body></soap-env:Envelope>";
    expect_hostile(undefined, strlen(undefined), "not well-formed");
}

static void test_hostile_sizes(void **state)
{
    size_t big = 5u * 1024u * 1024u;
    char *data = malloc(big);
    assert_non_null(data);
    memset(data, 'a', big);
    memcpy(data, "<a>", 3);
    expect_hostile(data, big, "exceeds");
    free(data);

    struct buf b = BUF_INIT;
    for (int i = 0; i < 10000; i++)
        buf_puts(&b, "<a>");
    expect_hostile(b.data, b.len, "deeper");
    buf_free(&b);

    buf_puts(&b, "<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"><S:Body>"
                 "<c:GetParameterValues xmlns:c=\"" NS_12 "\"><ParameterNames>");
    for (int i = 0; i < 30000; i++)
        buf_puts(&b, "<string>A</string>");
    buf_puts(&b, "</ParameterNames></c:GetParameterValues></S:Body></S:Envelope>");
    assert_false(buf_failed(&b));
    expect_hostile(b.data, b.len, "more than 20000");
    buf_free(&b);
}

static void test_hostile_malformed(void **state)
{
    const char *env = "<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"><S:Body>"
                      "<c:Reboot xmlns:c=\"" NS_12 "\"><CommandKey>x</CommandKey></c:Reboot>"
                      "</S:Body></S:Envelope>";
    for (size_t cut = 1; cut < strlen(env); cut += 7)
        expect_hostile(env, cut, "not well-formed");

    const char *soap12 = "<S:Envelope xmlns:S=\"http://www.w3.org/2003/05/soap-envelope\">"
                         "<S:Body><c:Reboot xmlns:c=\"" NS_12 "\"/></S:Body></S:Envelope>";
    expect_hostile(soap12, strlen(soap12), "not a SOAP 1.1 envelope");
    const char *no_body = "<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\">"
                          "</S:Envelope>";
    expect_hostile(no_body, strlen(no_body), "without Body");
    const char *empty_body = "<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\">"
                             "<S:Body>  </S:Body></S:Envelope>";
    expect_hostile(empty_body, strlen(empty_body), "no method");
    const char *nul = "<a>\0</a>";
    expect_hostile(nul, 8, "not well-formed");
}

/* TR-069 3.5: at least 32768 bytes must be accepted. */
static void test_large_valid_envelope(void **state)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, "<c:SetParameterValues><ParameterList>");
    int n = 0;
    while (b.len < 40000) {
        n++;
        buf_printf(&b, "<ParameterValueStruct><Name>Device.X_ACME_Table.%d.Value</Name>"
                       "<Value xsi:type=\"xsd:string\">value %d</Value></ParameterValueStruct>",
                   n, n);
    }
    buf_puts(&b, "</ParameterList><ParameterKey/></c:SetParameterValues>");
    struct soap_msg msg;
    assert_int_equal(parse_body(b.data, &msg), 0);
    assert_int_equal(msg.n_values, (size_t)n);
    assert_string_equal(msg.values[0].name, "Device.X_ACME_Table.1.Value");
    char last[64];
    snprintf(last, sizeof(last), "value %d", n);
    assert_string_equal(msg.values[n - 1].value, last);
    soap_msg_free(&msg);
    buf_free(&b);
}

/* ---------------- Writers ---------------- */

static void assert_valid(struct buf *b)
{
    assert_false(buf_failed(b));
    assert_true(unit_xsd_valid(b->data, b->len));
}

static void test_write_inform(void **state)
{
    const struct soap_event events[] = {{"0 BOOTSTRAP", ""}, {"M Reboot", "rb<1>"}};
    const struct soap_value params[] = {
        {"Device.RootDataModelVersion", "2.17", "xsd:string"},
        {"Device.ManagementServer.ConnectionRequestURL", "http://10.0.0.1:7547/cr?a=1&b=2",
         "xsd:string"},
        {"Device.DeviceInfo.UpTime", "42", "xsd:unsignedInt"},
    };
    struct soap_inform inform = {
        .device_id = {"ACME & Co", "00D09E", "Gateway", "SN-1"},
        .events = events, .n_events = 2, .max_envelopes = 1, .current_time = 1795318416,
        .retry_count = 3, .params = params, .n_params = 3,
    };
    struct soap_envelope env = {CWMP_V1_4, "cpe-1", true, NULL, 60};
    struct buf b = BUF_INIT;
    assert_int_equal(soap_write_inform(&b, &env, &inform), 0);
    assert_valid(&b);
    assert_non_null(strstr(b.data, "xmlns:cwmp=\"" NS_12 "\""));
    assert_non_null(strstr(b.data, "soap-enc:arrayType=\"cwmp:EventStruct[2]\""));
    assert_non_null(strstr(b.data, "soap-enc:arrayType=\"cwmp:ParameterValueStruct[3]\""));
    assert_non_null(strstr(b.data, "<CurrentTime>2026-11-22T"));
    assert_non_null(strstr(b.data, ">1.0,1.1,1.2,1.3,1.4</cwmp:SupportedCWMPVersions>"));
    assert_non_null(strstr(b.data, "http://10.0.0.1:7547/cr?a=1&amp;b=2"));

    /* Round trip of the envelope and headers through the parser. */
    struct soap_msg msg;
    assert_int_equal(soap_parse(b.data, b.len, &msg), 0);
    assert_int_equal(msg.version, CWMP_V1_2);
    assert_string_equal(msg.header.id, "cpe-1");
    assert_int_equal(msg.header.session_timeout, 60);
    assert_string_equal(msg.method_name, "Inform");
    soap_msg_free(&msg);
    buf_free(&b);

    /* CWMP 1.0: namespace cwmp-1-0, no 1.3+ headers, no ID. */
    struct soap_envelope env10 = {CWMP_V1_0, NULL, false, NULL, 0};
    inform.current_time = 0;
    assert_int_equal(soap_write_inform(&b, &env10, &inform), 0);
    assert_valid(&b);
    assert_null(strstr(b.data, "soap-env:Header"));
    assert_non_null(strstr(b.data, "<CurrentTime>0001-01-01T00:00:00Z</CurrentTime>"));
    buf_free(&b);
}

static void test_write_cpe_requests(void **state)
{
    struct soap_envelope env = {CWMP_V1_2, "r1", false, NULL, 0};
    struct buf b = BUF_INIT;
    assert_int_equal(soap_write_get_rpc_methods(&b, &env), 0);
    assert_valid(&b);
    struct soap_msg msg;
    assert_int_equal(soap_parse(b.data, b.len, &msg), 0);
    assert_int_equal(msg.method, SOAP_GetRPCMethods);
    soap_msg_free(&msg);
    buf_free(&b);

    char long_string[400];
    memset(long_string, 'e', sizeof(long_string) - 1);
    long_string[sizeof(long_string) - 1] = '\0';
    struct soap_transfer_complete tc = {
        .command_key = "dl1", .fault_code = 9016, .fault_string = long_string,
        .start_time = 1795318416, .complete_time = 1795318500,
    };
    assert_int_equal(soap_write_transfer_complete(&b, &env, &tc), 0);
    assert_valid(&b);
    assert_non_null(strstr(b.data, "<cwmp:TransferComplete><CommandKey>dl1</CommandKey>"
                                   "<FaultStruct><FaultCode>9016</FaultCode>"));
    buf_free(&b);

    struct soap_transfer_complete atc = {
        .autonomous = true, .announce_url = "", .transfer_url = "http://fw/img",
        .is_download = true, .file_type = "1 Firmware Upgrade Image",
        .file_size = 123456, .target_file_name = "", .start_time = 1795318416,
    };
    assert_int_equal(soap_write_transfer_complete(&b, &env, &atc), 0);
    assert_valid(&b);
    assert_non_null(strstr(b.data, "<cwmp:AutonomousTransferComplete>"));
    assert_non_null(strstr(b.data, "<FaultCode>0</FaultCode><FaultString></FaultString>"));
    assert_non_null(strstr(b.data, "<CompleteTime>0001-01-01T00:00:00Z</CompleteTime>"));
    buf_free(&b);
}

static void write_and_validate(const struct soap_response *r, const char *needle)
{
    struct soap_envelope env = {CWMP_V1_2, "acs-42", false, NULL, 0};
    struct buf b = BUF_INIT;
    assert_int_equal(soap_write_response(&b, &env, r), 0);
    assert_valid(&b);
    char tag[80];
    snprintf(tag, sizeof(tag), "<cwmp:%sResponse>", soap_method_name(r->method));
    assert_non_null(strstr(b.data, tag));
    if (needle && !strstr(b.data, needle))
        fail_msg("\"%s\" not in %s", needle, b.data);
    assert_non_null(strstr(b.data, "<cwmp:ID soap-env:mustUnderstand=\"1\">acs-42</cwmp:ID>"));
    buf_free(&b);
}

static void test_write_responses(void **state)
{
    const char *methods[] = {"GetRPCMethods", "Inform", "SetParameterValues"};
    const struct soap_value values[] = {{"Device.A", "1", "xsd:boolean"},
                                        {"Device.B", "<x>", "xsd:string"}};
    const struct soap_name_info names[] = {{"Device.", false}, {"Device.A", true}};
    const char *const subscriber[] = {"Subscriber"};
    const struct soap_attribute attrs[] = {{"Device.A", 2, subscriber, 1},
                                           {"Device.B", 0, NULL, 0}};
    const struct soap_queued_transfer transfers[] = {
        {"dl1", 2, true, "1 Firmware Upgrade Image", 1000, "fw"},
        {"up1", 1, false, "3 Vendor Configuration File", 0, ""},
    };
    const struct soap_response responses[] = {
        {.method = SOAP_GetRPCMethods, .methods = methods, .n_methods = 3},
        {.method = SOAP_SetParameterValues, .status = 1},
        {.method = SOAP_GetParameterValues, .values = values, .n_values = 2},
        {.method = SOAP_GetParameterNames, .names = names, .n_names = 2},
        {.method = SOAP_SetParameterAttributes},
        {.method = SOAP_GetParameterAttributes, .attributes = attrs, .n_attributes = 2},
        {.method = SOAP_AddObject, .instance_number = 7, .status = 0},
        {.method = SOAP_DeleteObject, .status = 0},
        {.method = SOAP_Reboot},
        {.method = SOAP_FactoryReset},
        {.method = SOAP_ScheduleInform},
        {.method = SOAP_Download, .status = 1},
        {.method = SOAP_Upload, .status = 0, .start_time = 1795318416,
         .complete_time = 1795318420},
        {.method = SOAP_ScheduleDownload},
        {.method = SOAP_CancelTransfer},
        {.method = SOAP_GetQueuedTransfers, .transfers = transfers, .n_transfers = 2},
        {.method = SOAP_GetAllQueuedTransfers, .transfers = transfers, .n_transfers = 2},
    };
    const char *needles[] = {
        "<MethodList soap-enc:arrayType=\"xsd:string[3]\"><string>GetRPCMethods</string>",
        "<Status>1</Status>",
        "<Value xsi:type=\"xsd:string\">&lt;x&gt;</Value>",
        "soap-enc:arrayType=\"cwmp:ParameterInfoStruct[2]\"",
        NULL,
        "<AccessList soap-enc:arrayType=\"xsd:string[1]\"><string>Subscriber</string>",
        "<InstanceNumber>7</InstanceNumber><Status>0</Status>",
        "<Status>0</Status>",
        NULL,
        NULL,
        NULL,
        "<StartTime>0001-01-01T00:00:00Z</StartTime>",
        "<CompleteTime>2026-11-22T",
        NULL,
        NULL,
        "soap-enc:arrayType=\"cwmp:QueuedTransferStruct[2]\"",
        "<FileSize>1000</FileSize><TargetFileName>fw</TargetFileName>",
    };
    for (size_t i = 0; i < sizeof(responses) / sizeof(responses[0]); i++)
        write_and_validate(&responses[i], needles[i]);

    struct soap_envelope env = {CWMP_V1_2, NULL, false, NULL, 0};
    struct soap_response bad = {.method = SOAP_InformResponse};
    struct buf b = BUF_INIT;
    assert_int_equal(soap_write_response(&b, &env, &bad), 9002);
    buf_free(&b);
}

/* The same response in the cwmp-1-0 namespace validates against cwmp-1-0.xsd. */
static void test_write_response_cwmp_1_0(void **state)
{
    const struct soap_value values[] = {{"InternetGatewayDevice.DeviceInfo.UpTime", "9",
                                         "xsd:unsignedInt"}};
    struct soap_response r = {.method = SOAP_GetParameterValues, .values = values,
                              .n_values = 1};
    struct soap_envelope env = {CWMP_V1_0, "7", false, NULL, 0};
    struct buf b = BUF_INIT;
    assert_int_equal(soap_write_response(&b, &env, &r), 0);
    assert_valid(&b);
    assert_non_null(strstr(b.data, "xmlns:cwmp=\"urn:dslforum-org:cwmp-1-0\""));
    buf_free(&b);
}

static void test_write_faults(void **state)
{
    struct soap_envelope env = {CWMP_V1_2, "acs-9", false, NULL, 0};
    const struct soap_spv_fault spv[] = {
        {"Device.ManagementServer.PeriodicInformInterval", 9007, "Invalid parameter value"},
        {"Device.DeviceInfo.UpTime", 9008, NULL},
    };
    struct soap_fault fault = {.code = 9003, .spv_faults = spv, .n_spv_faults = 2};
    struct buf b = BUF_INIT;
    assert_int_equal(soap_write_fault(&b, &env, &fault), 0);
    assert_valid(&b);
    assert_non_null(strstr(b.data, "<faultcode>Client</faultcode>"
                                   "<faultstring>CWMP fault</faultstring>"));
    assert_non_null(strstr(b.data, "<FaultString>Attempt to set a non-writable parameter"));
    struct soap_msg msg;
    assert_int_equal(soap_parse(b.data, b.len, &msg), 0);
    assert_int_equal(msg.method, SOAP_Fault);
    assert_int_equal(msg.fault_code, 9003);
    assert_string_equal(msg.fault_string, "Invalid arguments");
    assert_string_equal(msg.header.id, "acs-9");
    soap_msg_free(&msg);
    buf_free(&b);

    /* A.5.1 Table 87: the fault source per code. */
    const struct {
        int code;
        const char *source;
    } sources[] = {{9000, "Server"}, {9001, "Server"}, {9002, "Server"}, {9004, "Server"},
                   {9005, "Client"}, {9008, "Client"}, {9009, "Server"}, {9019, "Server"},
                   {9020, "Client"}, {9021, "Client"}, {9805, "Server"}};
    for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
        struct soap_fault f = {.code = sources[i].code, .string = "because"};
        assert_int_equal(soap_write_fault(&b, &env, &f), 0);
        char expect[64];
        snprintf(expect, sizeof(expect), "<faultcode>%s</faultcode>", sources[i].source);
        assert_non_null(strstr(b.data, expect));
        if (i == 0)
            assert_valid(&b);
        buf_free(&b);
    }
}

/* Defence in depth: whatever strings are in memory (the value gate should have stopped
 * them), every message written is well-formed and valid, and parses back. */
static void test_write_hostile_strings(void **state)
{
    static const char *const hostile[] = {
        "ab\x01" "cd\xff" "ef",   /* the ProvisioningCode of issue 8 */
        "\xc0\xaf overlong",      "\xed\xa0\x80 surrogate", "\xf4\x90\x80\x80 too high",
        "\xef\xbf\xbe U+FFFE",     "cut \xe2\x82",         "\x1b[31m escape \x7f",
        "]]> <![CDATA[ &#0; </Value>", "\r\n\t", "\xf0\x9f\x98\x80 fine",
    };
    const size_t n = sizeof(hostile) / sizeof(hostile[0]);
    struct soap_value params[sizeof(hostile) / sizeof(hostile[0])];
    struct soap_event events[sizeof(hostile) / sizeof(hostile[0])];
    for (size_t i = 0; i < n; i++) {
        params[i] = (struct soap_value){"Device.DeviceInfo.ProvisioningCode", hostile[i],
                                        "xsd:string"};
        events[i] = (struct soap_event){"M Download", hostile[i]};
    }
    struct soap_inform inform = {
        .device_id = {hostile[0], "00D09E", hostile[5], hostile[1]},
        .events = events, .n_events = n, .max_envelopes = 1, .current_time = 1795318416,
        .params = params, .n_params = n,
    };
    struct soap_envelope env = {CWMP_V1_4, hostile[6], true, NULL, 60};
    struct buf b = BUF_INIT;
    assert_int_equal(soap_write_inform(&b, &env, &inform), 0);
    assert_valid(&b);
    struct soap_msg msg;
    assert_int_equal(soap_parse(b.data, b.len, &msg), 0);
    assert_string_equal(msg.method_name, "Inform");
    soap_msg_free(&msg);
    assert_non_null(strstr(b.data, "ab" TEXT_REPLACEMENT "cd" TEXT_REPLACEMENT "ef"));
    assert_non_null(strstr(b.data, "\xf0\x9f\x98\x80 fine"));
    buf_free(&b);

    struct soap_response resp = {.method = SOAP_GetParameterValues, .values = params,
                                 .n_values = n};
    assert_int_equal(soap_write_response(&b, &env, &resp), 0);
    assert_valid(&b);
    buf_free(&b);

    const struct soap_spv_fault spv[] = {{hostile[2], 9007, hostile[0]}};
    struct soap_fault fault = {.code = 9003, .string = hostile[7], .spv_faults = spv, .n_spv_faults = 1};
    assert_int_equal(soap_write_fault(&b, &env, &fault), 0);
    assert_valid(&b);
    assert_int_equal(soap_parse(b.data, b.len, &msg), 0);
    assert_int_equal(msg.method, SOAP_Fault);
    soap_msg_free(&msg);
    buf_free(&b);
}

/* A big GetParameterValuesResponse (the spec sets no response size limit, 3.5). */
static void test_write_many_values(void **state)
{
    enum { N = 10000 };
    struct soap_value *values = calloc(N, sizeof(*values));
    char (*names)[64] = calloc(N, 64);
    assert_non_null(values);
    assert_non_null(names);
    for (int i = 0; i < N; i++) {
        snprintf(names[i], 64, "Device.X_ACME_Table.%d.Value", i + 1);
        values[i] = (struct soap_value){names[i], "v & w", "xsd:string"};
    }
    struct soap_response r = {.method = SOAP_GetParameterValues, .values = values,
                              .n_values = N};
    struct soap_envelope env = {CWMP_V1_2, "big", false, NULL, 0};
    struct buf b = BUF_INIT;
    assert_int_equal(soap_write_response(&b, &env, &r), 0);
    assert_non_null(strstr(b.data, "cwmp:ParameterValueStruct[10000]"));
    assert_non_null(strstr(b.data, "<Name>Device.X_ACME_Table.10000.Value</Name>"));
    assert_valid(&b);
    buf_free(&b);
    free(names);
    free(values);
}

static void test_helpers(void **state)
{
    char t[32];
    soap_format_time(0, t);
    assert_string_equal(t, "0001-01-01T00:00:00Z");
    soap_format_time(1795318416, t);
    assert_string_equal(t, "2026-11-22T03:33:36Z");
    /* CurrentTime: local time with its offset, daylight saving included (A.3.3.1) */
    setenv("TZ", "Europe/Paris", 1);
    tzset();
    soap_format_local_time(1795318416, t);
    assert_string_equal(t, "2026-11-22T04:33:36+01:00");
    soap_format_local_time(1783740816, t); /* July: summer time */
    assert_string_equal(t, "2026-07-11T05:33:36+02:00");
    setenv("TZ", "America/St_Johns", 1);
    tzset();
    soap_format_local_time(1795318416, t);
    assert_string_equal(t, "2026-11-22T00:03:36-03:30");
    unsetenv("TZ");
    tzset();
    soap_format_local_time(0, t);
    assert_string_equal(t, "0001-01-01T00:00:00Z");
    assert_string_equal(soap_version_string(CWMP_V1_3), "1.3");
    assert_string_equal(soap_namespace(CWMP_V1_4), NS_12);
    assert_string_equal(soap_namespace(CWMP_V1_1), "urn:dslforum-org:cwmp-1-1");
    enum cwmp_version v;
    assert_int_equal(soap_version_parse("1.4", &v), 0);
    assert_int_equal(v, CWMP_V1_4);
    assert_int_equal(soap_version_parse("1.5", &v), -1);
    assert_int_equal(soap_version_parse(NULL, &v), -1);
    assert_string_equal(soap_method_name(SOAP_GetParameterNames), "GetParameterNames");
    assert_null(soap_method_name(SOAP_NONE));
    assert_null(soap_method_name(SOAP_Unknown));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_genieacs_gpv),
        cmocka_unit_test(test_sample_genieacs_spv),
        cmocka_unit_test(test_sample_perl_cwmp_spv),
        cmocka_unit_test(test_sample_fault),
        cmocka_unit_test(test_sample_cpe_messages_are_unknown),
        cmocka_unit_test(test_sample_wrong_namespace),
        cmocka_unit_test(test_parse_headers),
        cmocka_unit_test(test_parse_duplicate_headers),
        cmocka_unit_test(test_write_must_understand_fault),
        cmocka_unit_test(test_parse_parameter_requests),
        cmocka_unit_test(test_parse_object_requests),
        cmocka_unit_test(test_parse_transfer_requests),
        cmocka_unit_test(test_parse_other_requests),
        cmocka_unit_test(test_parse_acs_responses),
        cmocka_unit_test(test_parse_versions_and_empty),
        cmocka_unit_test(test_parse_bad_arguments),
        cmocka_unit_test(test_hostile_entities),
        cmocka_unit_test(test_hostile_sizes),
        cmocka_unit_test(test_hostile_malformed),
        cmocka_unit_test(test_large_valid_envelope),
        cmocka_unit_test(test_write_inform),
        cmocka_unit_test(test_write_cpe_requests),
        cmocka_unit_test(test_write_responses),
        cmocka_unit_test(test_write_response_cwmp_1_0),
        cmocka_unit_test(test_write_faults),
        cmocka_unit_test(test_write_hostile_strings),
        cmocka_unit_test(test_write_many_values),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
