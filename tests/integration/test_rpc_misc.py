"""What the gateway answers besides the parameter RPCs (TR-069 Table 5, A.3.1.1, A.4.1.3,
A.5.1): GetRPCMethods, 9000 for unknown, optional and not yet implemented methods, 9003
for malformed arguments of a known method, ScheduleInform's DelaySeconds, and a hidden
parameter (ManagementServer.Password) that reads "" but is what the CPE authenticates with."""
import unittest

from support import soapmsg as m
from test_rpc_values import DI, KEY, MS, RpcCase

# Table 5 methods this CPE implements (the transfer methods are tested in test_transfer.py).
IMPLEMENTED = ["GetRPCMethods", "SetParameterValues", "GetParameterValues",
               "GetParameterNames", "SetParameterAttributes", "GetParameterAttributes",
               "AddObject", "DeleteObject", "Reboot", "FactoryReset", "ScheduleInform",
               "Download", "Upload", "ScheduleDownload", "CancelTransfer",
               "GetQueuedTransfers", "GetAllQueuedTransfers"]


def sentinel():
    """A request that must succeed after the faults before it: the Session goes on."""
    return m.rpc_gpv([DI + "Manufacturer"])


class Methods(RpcCase):
    def test_get_rpc_methods_lists_the_implemented_methods(self):
        r = self.one(m.rpc_get_rpc_methods())
        self.assertEqual(r.method, "GetRPCMethodsResponse")
        self.assertEqual(sorted(r.value), sorted(IMPLEMENTED))

    def test_unknown_and_optional_methods_we_do_not_offer_are_9000(self):
        rpcs = [m.rpc_raw("<cwmp:FooBar><X>1</X></cwmp:FooBar>", "FooBar"),
                m.rpc_raw("<cwmp:X_ACME_Frobnicate/>", "X_ACME_Frobnicate"),
                m.rpc_raw("<cwmp:ChangeDUState><Operations soap-enc:arrayType="
                          '"cwmp:OperationStruct[0]"/><CommandKey>k</CommandKey>'
                          "</cwmp:ChangeDUState>", "ChangeDUState"),
                m.rpc_raw('<cwmp:SetVouchers><VoucherList soap-enc:arrayType="base64[0]"/>'
                          "</cwmp:SetVouchers>", "SetVouchers"),
                m.rpc_raw("<cwmp:GetOptions><OptionName></OptionName></cwmp:GetOptions>",
                          "GetOptions"),
                # methods the CPE calls, not the ACS (A.3.1, A.4.2)
                m.rpc_raw("<cwmp:TransferComplete/>", "TransferComplete"),
                m.rpc_raw("<cwmp:Kicked/>", "Kicked")]
        responses = self.session(*rpcs, sentinel())
        for rpc, r in zip(rpcs, responses):
            with self.subTest(method=rpc.method):
                self.assertFault(r, 9000, rpc.method)
        self.assertEqual(responses[-1].method, "GetParameterValuesResponse")

    def test_malformed_arguments_of_known_methods_are_9003(self):
        cases = [("<cwmp:GetParameterNames><ParameterPath>Device.</ParameterPath>"
                  "</cwmp:GetParameterNames>", "NextLevel"),
                 ("<cwmp:GetParameterNames><ParameterPath>Device.</ParameterPath>"
                  "<NextLevel>maybe</NextLevel></cwmp:GetParameterNames>", "NextLevel"),
                 ("<cwmp:GetParameterValues></cwmp:GetParameterValues>", "ParameterNames"),
                 ("<cwmp:AddObject><ParameterKey>x</ParameterKey></cwmp:AddObject>",
                  "ObjectName"),
                 ("<cwmp:DeleteObject><ParameterKey>x</ParameterKey></cwmp:DeleteObject>",
                  "ObjectName"),
                 ("<cwmp:ScheduleInform><DelaySeconds>soon</DelaySeconds><CommandKey>k"
                  "</CommandKey></cwmp:ScheduleInform>", "DelaySeconds"),
                 ("<cwmp:SetParameterAttributes><ParameterList soap-enc:arrayType="
                  '"cwmp:SetParameterAttributesStruct[1]"><SetParameterAttributesStruct>'
                  f"<Name>{MS}URL</Name><NotificationChange>1</NotificationChange>"
                  "<Notification>often</Notification><AccessListChange>0</AccessListChange>"
                  '<AccessList soap-enc:arrayType="xsd:string[0]"/>'
                  "</SetParameterAttributesStruct></ParameterList></cwmp:SetParameterAttributes>",
                  "Notification")]
        responses = self.session(*[m.rpc_raw(body) for body, _ in cases], sentinel())
        for (body, argument), r in zip(cases, responses):
            with self.subTest(body=body[:40], argument=argument):
                self.assertFault(r, 9003, argument)
        self.assertEqual(responses[-1].method, "GetParameterValuesResponse")

    def test_schedule_inform_needs_a_positive_delay(self):
        # A.4.1.3: DelaySeconds unsignedInt[1:]
        zero, after = self.session(m.rpc_schedule_inform(0, "sched-0"), sentinel())
        self.assertFault(zero, 9003, "DelaySeconds")
        self.assertEqual(after.method, "GetParameterValuesResponse")

    def test_a_fault_leaves_the_parameter_key_alone(self):
        responses = self.session(m.rpc_spv([], "good-key"),
                                 m.rpc_spv([(MS + "URL", "x", "xsd:string"),
                                            (DI + "UpTime", "1", "xsd:unsignedInt")], "bad-1"),
                                 m.rpc_add(MS + "VirtualDevice.", "bad-2"),
                                 m.rpc_delete(MS + "InformParameter.4242.", "bad-3"),
                                 m.rpc_gpv([KEY, MS + "URL"]))
        self.assertEqual(responses[0].value, 0)
        self.assertSpvFault(responses[1], {DI + "UpTime": 9008})
        self.assertFault(responses[2], 9001)
        self.assertFault(responses[3], 9005)
        self.assertEqual(self.values(responses[4]), {KEY: "good-key", MS + "URL": self.acs.url})

    def test_keys_longer_than_32_characters_are_9003(self):
        # ParameterKey and CommandKey are string(32): a longer one would come back in the
        # ParameterKey parameter or an Inform's EventStruct, breaking the schema there
        long_key, exact = "k" * 33, "\u00e9" * 32   # 32 characters, 64 bytes in UTF-8
        responses = self.session(m.rpc_spv([], long_key), m.rpc_add(MS + "InformParameter.",
                                                                    long_key),
                                 m.rpc_delete(MS + "InformParameter.1.", long_key),
                                 m.rpc_schedule_inform(30, "c" * 33), m.rpc_reboot("r" * 33),
                                 m.rpc_spv([], exact), m.rpc_gpv([KEY]))
        for r in responses[:3]:
            self.assertFault(r, 9003, "ParameterKey")
        for r in responses[3:5]:
            self.assertFault(r, 9003, "CommandKey")
        self.assertEqual(responses[5].value, 0)
        self.assertEqual(self.values(responses[6]), {KEY: exact})


class HiddenPassword(RpcCase):
    """The ACS authenticates the CPE (Digest, 3.4.4) with ManagementServer.Password."""
    acs_options = {"auth": "digest", "username": "cpe-user", "password": "first-secret"}

    def test_password_reads_empty_but_the_new_one_is_used(self):
        spv, gpv = self.session(m.rpc_spv([(MS + "Password", "second-secret", "xsd:string")],
                                          "pw-1"),
                                m.rpc_gpv([MS + "Password", MS + "Username", KEY]))
        self.assertEqual(spv.value, 0)
        self.assertEqual(self.values(gpv), {MS + "Password": "", MS + "Username": "cpe-user",
                                            KEY: "pw-1"})
        # from now on only the new password opens a Session
        self.acs.auth.password = "second-secret"
        gpv, = self.session(m.rpc_gpv([MS + "Password"]))
        self.assertEqual(self.values(gpv), {MS + "Password": ""})
        self.assertTrue(self.acs.sessions[-1].auth.ok)
        # and it is what the CPE uses after a restart as well
        gpv, = self.boot_session(m.rpc_gpv([KEY]))
        self.assertEqual(self.values(gpv), {KEY: "pw-1"})
        self.assertTrue(self.acs.sessions[-1].auth.ok)


if __name__ == "__main__":
    unittest.main()
