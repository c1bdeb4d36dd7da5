"""GetParameterValues (TR-069 A.3.2.2) and SetParameterValues (A.3.2.1) on the gateway
endpoint: types on the wire, partial paths, faults 9003/9005-9008 with their
SetParameterValuesFault entries, atomicity, the ParameterKey, and persistence.

Also home of RpcCase, the base class of every test_rpc_* file: one daemon and one test ACS
per class, each test running its RPCs in one fresh Session.
"""
import os
import shutil
import tempfile
import unittest

from support import (Daemon, ProxierTestCase, TestACS, ctl_command, merge_config, soapmsg as m,
                     wait_until)

MS = "Device.ManagementServer."
DI = "Device.DeviceInfo."
PII = MS + "PeriodicInformInterval"
PIE = MS + "PeriodicInformEnable"
KEY = MS + "ParameterKey"
KICK = DI + "ProvisioningCode"   # forced active: a local set of it starts a Session


class RpcCase(ProxierTestCase):
    """One proxierd and one TestACS for the whole class (setUpClass). `session(*rpcs)` queues
    the RPCs and starts a Session by a local change of ProvisioningCode through the control
    socket (forced active notification, 3.2.1), then returns the CPE's responses in order.
    `boot_session(*rpcs)` does the same through a daemon restart (a "1 BOOT" Session).
    Every test still fails on a schema-invalid CPE message or a protocol violation."""

    overrides = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="proxierd-rpc-")
        cls.acs = TestACS(**cls.acs_options).start()
        cls.sock = os.path.join(cls.tmp, "ctl.sock")
        config = merge_config(ProxierTestCase.default_config(cls),
                              {"control": {"socket": cls.sock}})
        cls.daemon = Daemon(merge_config(config, cls.overrides), cls.tmp)
        cls.daemons = [cls.daemon]
        cls.kicks = 0
        try:
            cls.daemon.start()
            cls.acs.wait_sessions(1)
        except BaseException:
            cls._teardown_shared()
            raise

    @classmethod
    def tearDownClass(cls):
        cls._teardown_shared()
        super().tearDownClass()

    @classmethod
    def _teardown_shared(cls):
        cls.daemon.stop()
        cls.acs.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        unittest.TestCase.setUp(self)   # the ACS and the daemon belong to the class

    def tearDown(self):
        try:
            super().tearDown()          # schema validity and protocol rules
        finally:                        # one test's breakage is reported by that test only
            self.acs.drain_validation()
            del self.acs.violations[:]
            del self.acs.validation_errors[:]

    def run(self, result=None):
        # ProxierTestCase.run would delete the class's directory after the first test
        result = result or self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        try:
            return unittest.TestCase.run(self, result)
        finally:
            if len(result.failures) + len(result.errors) > before:
                self._dump()

    # ---- control socket and Sessions ----

    def ctl(self, line):
        return ctl_command(self.sock, line)

    def _ended(self):
        return sum(s.ended for s in self.acs.sessions)

    def _run(self, rpcs, start):
        before = self._ended()
        for rpc in rpcs:
            self.acs.queue(rpc)
        start()
        s = self.acs.wait_sessions(before + 1, timeout=15)[before]
        self.assertTrue(s.ended_ok, f"session ended by {s.end_reason}")
        self.assertEqual([r.rpc.method for r in s.responses], [r.method for r in rpcs])
        self.assertTrue(all(r.id_ok for r in s.responses), "cwmp:ID not echoed")
        return s.responses

    def kick(self):
        wait_until(lambda: self.ctl("status").startswith("ok session=idle"), 10,
                   "an idle endpoint")
        type(self).kicks += 1
        self.assertEqual(self.ctl(f"set {KICK} kick-{self.kicks}"), "ok")

    def session(self, *rpcs):
        """Run rpcs in one new Session; the list of CpeResponse, one per RPC."""
        return self._run(rpcs, self.kick)

    def boot_session(self, *rpcs):
        """Restart proxierd and run rpcs in its "1 BOOT" Session."""
        return self._run(rpcs, self.daemon.restart)

    def one(self, rpc):
        return self.session(rpc)[0]

    # ---- assertions on responses ----

    def assertFault(self, response, code, *words):
        """response is a Fault with this code whose FaultString names every word."""
        self.assertEqual(response.method, "Fault", f"expected fault {code}, got {response.value}")
        self.assertEqual(response.fault.code, code, response.fault.string)
        for w in words:
            self.assertIn(w, response.fault.string)
        return response.fault

    def assertSpvFault(self, response, expected):
        """A 9003 fault whose SetParameterValuesFault entries are exactly expected
        {name: code}; each FaultString names its parameter."""
        fault = self.assertFault(response, 9003)
        self.assertEqual({name: code for name, code, _ in fault.spv_faults}, expected)
        for name, _, text in fault.spv_faults:
            self.assertTrue(text, f"no FaultString for {name}")
        # the overall FaultString says what is wrong, not just "Invalid arguments"
        self.assertTrue(any(name in fault.string for name in expected), fault.string)
        return {name: text for name, _, text in fault.spv_faults}

    def values(self, response):
        """{name: value} of a GetParameterValuesResponse."""
        self.assertEqual(response.method, "GetParameterValuesResponse", response.value)
        return {name: value for name, (value, _) in response.value.items()}

    def get(self, *names):
        """{name: value} of the named parameters in a new Session."""
        return self.values(self.one(m.rpc_gpv(list(names))))


class GetValues(RpcCase):
    def test_full_names_carry_their_xsd_types(self):
        r = self.one(m.rpc_gpv([DI + "UpTime", PIE, MS + "DelayReboot", DI + "FirstUseDate",
                                DI + "Manufacturer", MS + "SupportedConnReqMethods"]))
        self.assertEqual(r.method, "GetParameterValuesResponse")
        types = {name: t for name, (_, t) in r.value.items()}
        self.assertEqual(types, {DI + "UpTime": "xsd:unsignedInt", PIE: "xsd:boolean",
                                 MS + "DelayReboot": "xsd:int",
                                 DI + "FirstUseDate": "xsd:dateTime",
                                 DI + "Manufacturer": "xsd:string",
                                 MS + "SupportedConnReqMethods": "xsd:string"})
        v = self.values(r)
        self.assertTrue(v[DI + "UpTime"].isdigit())
        self.assertEqual(v[PIE], "false")          # periodic_inform_enable = false
        self.assertEqual(v[MS + "DelayReboot"], "-1")
        self.assertRegex(v[DI + "FirstUseDate"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        methods = v[MS + "SupportedConnReqMethods"]
        self.assertLessEqual(set(methods.split(",")) - {""}, {"HTTP", "STUN", "XMPP"})

    def test_partial_path_returns_the_whole_branch_in_order(self):
        r = self.one(m.rpc_gpv([DI]))
        names = list(r.value)
        self.assertTrue(all(n.startswith(DI) and not n.endswith(".") for n in names), names)
        self.assertIn(DI + "SerialNumber", names)
        self.assertIn(DI + "SupportedDataModel.1.URN", names)
        self.assertLess(names.index(DI + "Manufacturer"), names.index(DI + "SerialNumber"))
        v = self.values(r)
        self.assertEqual(v[DI + "SerialNumber"], "PXTEST0001")
        self.assertEqual(v[DI + "SupportedDataModelNumberOfEntries"], "1")
        self.assertEqual(v[DI + "SupportedDataModel.1.URN"],
                         "urn:broadband-forum-org:tr-181-2-19-1-cwmp")

    def test_empty_string_is_the_whole_model_and_several_names_concatenate(self):
        everything, both = self.session(m.rpc_gpv([""]),
                                        m.rpc_gpv([DI + "Manufacturer", MS + "URL"]))
        names = list(everything.value)
        self.assertIn("Device.RootDataModelVersion", names)
        self.assertIn(PII, names)
        self.assertIn(MS + "HeartbeatPolicy.ReportingInterval", names)
        self.assertEqual(len(names), len(set(names)))
        self.assertEqual(list(both.value), [DI + "Manufacturer", MS + "URL"])
        self.assertEqual(self.values(both)[MS + "URL"], self.acs.url)

    def test_object_without_parameters_gives_an_empty_list(self):
        # A.3.2.2: a partial path with no parameters below is an empty list, not a fault
        r = self.one(m.rpc_gpv([MS + "EmbeddedDevice."]))
        self.assertEqual(r.method, "GetParameterValuesResponse")
        self.assertEqual(r.value, {})

    def test_invalid_names_are_9005(self):
        bad = ["Device.Nope", DI + "UpTime.", DI.rstrip("."), DI + "SupportedDataModel.2.URL",
               DI + "SupportedDataModel.{i}.URL", "device.DeviceInfo.UpTime", MS + "Nope."]
        responses = self.session(*[m.rpc_gpv([DI + "Manufacturer", name]) for name in bad])
        for name, r in zip(bad, responses):
            with self.subTest(name=name):
                self.assertFault(r, 9005, name)

    def test_hidden_parameters_read_as_empty_strings(self):
        v = self.get(MS + "Password", MS + "ConnectionRequestPassword", MS + "STUNPassword")
        self.assertEqual(set(v.values()), {""})


class SetValues(RpcCase):
    def test_set_applies_every_value_reads_back_and_updates_the_parameter_key(self):
        spv, gpv = self.session(
            m.rpc_spv([(PII, "3600", "xsd:unsignedInt"), (PIE, "1", "xsd:boolean"),
                       (MS + "DelayReboot", "-1", "xsd:int"),
                       (MS + "PeriodicInformTime", "2030-01-02T03:04:05Z", "xsd:dateTime"),
                       (MS + "ConnReqAllowedJabberIDs", "a@x,b@y", "xsd:string")], "set-1"),
            m.rpc_gpv([PII, PIE, MS + "PeriodicInformTime", MS + "ConnReqAllowedJabberIDs",
                       KEY]))
        self.assertEqual(spv.method, "SetParameterValuesResponse")
        self.assertEqual(spv.value, 0)
        self.assertEqual(self.values(gpv), {PII: "3600", PIE: "true",   # canonical boolean
                                            MS + "PeriodicInformTime": "2030-01-02T03:04:05Z",
                                            MS + "ConnReqAllowedJabberIDs": "a@x,b@y",
                                            KEY: "set-1"})
        # restore: no periodic Informs during the other tests
        self.session(m.rpc_spv([(PIE, "false", "xsd:boolean")], "set-1b"))

    def test_empty_parameter_list_sets_only_the_parameter_key(self):
        spv, gpv = self.session(m.rpc_spv([], "only-key"), m.rpc_gpv([KEY, PII]))
        self.assertEqual(spv.value, 0)
        self.assertEqual(self.values(gpv)[KEY], "only-key")

    def test_bad_value_is_9007_named_in_set_parameter_values_fault(self):
        cases = [(PII, "soon", "xsd:unsignedInt"),          # not a number
                 (PII, "0", "xsd:unsignedInt"),             # unsignedInt[1:]
                 (PII, "-5", "xsd:unsignedInt"),
                 (PII, "4294967296", "xsd:unsignedInt"),    # beyond unsignedInt
                 (MS + "CWMPRetryIntervalMultiplier", "999", "xsd:unsignedInt"),
                 (PIE, "yes", "xsd:boolean"),
                 (MS + "HTTPCompression", "Brotli", "xsd:string"),
                 (MS + "PeriodicInformTime", "tomorrow", "xsd:dateTime"),
                 (MS + "Username", "u" * 257, "xsd:string")]  # string(256)
        responses = self.session(*[m.rpc_spv([c], "never") for c in cases],
                                 m.rpc_gpv([KEY, PII]))
        for case, r in zip(cases, responses):
            with self.subTest(name=case[0], value=case[1][:20]):
                texts = self.assertSpvFault(r, {case[0]: 9007})
                self.assertIn(case[0], texts[case[0]])
        v = self.values(responses[-1])
        self.assertNotEqual(v[KEY], "never")
        self.assertNotIn(v[PII], {"0", "soon"})

    def test_wrong_xsi_type_is_9006_but_xsd_string_is_tolerated(self):
        responses = self.session(
            m.rpc_spv([(PII, "1", "xsd:boolean")], "never"),
            m.rpc_spv([(MS + "DelayReboot", "5", "xsd:unsignedInt")], "never"),
            m.rpc_spv([(PIE, "true", "xsd:dateTime"), (PII, "77", "xsd:int")], "never"),
            # interop/acs-behaviour.md 1.7: ACSs send xsd:string for every type
            m.rpc_spv([(PII, "4321", "xsd:string")], "typed-as-string"),
            m.rpc_gpv([PII, KEY]))
        self.assertSpvFault(responses[0], {PII: 9006})
        self.assertSpvFault(responses[1], {MS + "DelayReboot": 9006})
        self.assertSpvFault(responses[2], {PIE: 9006, PII: 9006})
        self.assertEqual(responses[3].value, 0)
        self.assertEqual(self.values(responses[4]), {PII: "4321", KEY: "typed-as-string"})

    def test_read_only_and_unknown_parameters(self):
        responses = self.session(
            m.rpc_spv([(DI + "SoftwareVersion", "9.9", "xsd:string")], "never"),
            m.rpc_spv([(KEY, "x", "xsd:string")], "never"),
            m.rpc_spv([(MS + "InformParameterNumberOfEntries", "3", "xsd:unsignedInt")]),
            m.rpc_spv([(DI + "SupportedDataModel.1.URL", "x", "xsd:string")], "never"),
            m.rpc_spv([(MS + "Nope", "1", "xsd:string")], "never"),
            m.rpc_spv([(MS, "1", "xsd:string")], "never"),   # an object is no parameter
            m.rpc_spv([(MS + "InformParameter.77.Enable", "true", "xsd:boolean")], "never"))
        self.assertSpvFault(responses[0], {DI + "SoftwareVersion": 9008})
        self.assertSpvFault(responses[1], {KEY: 9008})
        self.assertSpvFault(responses[2], {MS + "InformParameterNumberOfEntries": 9008})
        self.assertSpvFault(responses[3], {DI + "SupportedDataModel.1.URL": 9008})
        self.assertSpvFault(responses[4], {MS + "Nope": 9005})
        self.assertSpvFault(responses[5], {MS: 9005})
        self.assertSpvFault(responses[6], {MS + "InformParameter.77.Enable": 9005})

    def test_one_bad_entry_changes_nothing_and_every_bad_one_is_named(self):
        before, spv, after = self.session(
            m.rpc_gpv([PII, MS + "DefaultActiveNotificationThrottle", KEY]),
            m.rpc_spv([(PII, "1234", "xsd:unsignedInt"),
                       (MS + "DefaultActiveNotificationThrottle", "7", "xsd:unsignedInt"),
                       (MS + "STUNServerPort", "70000", "xsd:unsignedInt"),
                       (DI + "UpTime", "1", "xsd:unsignedInt")], "atomic"),
            m.rpc_gpv([PII, MS + "DefaultActiveNotificationThrottle", KEY]))
        self.assertSpvFault(spv, {MS + "STUNServerPort": 9007, DI + "UpTime": 9008})
        self.assertEqual(self.values(after), self.values(before))

    def test_duplicate_parameter_is_9003_and_changes_nothing(self):
        spv, gpv = self.session(
            m.rpc_spv([(PII, "111", "xsd:unsignedInt"), (MS + "STUNEnable", "1", "xsd:boolean"),
                       (PII, "222", "xsd:unsignedInt")], "dup"),
            m.rpc_gpv([PII, MS + "STUNEnable", KEY]))
        fault = self.assertFault(spv, 9003, PII)
        self.assertEqual(fault.spv_faults, [])
        v = self.values(gpv)
        self.assertNotIn(v[PII], {"111", "222"})
        self.assertEqual(v[MS + "STUNEnable"], "false")
        self.assertNotEqual(v[KEY], "dup")

    def test_values_and_parameter_key_survive_a_restart(self):
        spv, = self.session(m.rpc_spv([(MS + "STUNServerAddress", "stun.example.net", "xsd:string"),
                                       (MS + "HeartbeatPolicy.ReportingInterval", "600",
                                        "xsd:unsignedInt"),
                                       (DI + "ProvisioningCode", "PC-7", "xsd:string")],
                                      "persist-1"))
        self.assertEqual(spv.value, 0)
        gpv, = self.boot_session(m.rpc_gpv([MS + "STUNServerAddress",
                                            MS + "HeartbeatPolicy.ReportingInterval",
                                            DI + "ProvisioningCode", KEY]))
        self.assertEqual(self.values(gpv), {MS + "STUNServerAddress": "stun.example.net",
                                            MS + "HeartbeatPolicy.ReportingInterval": "600",
                                            DI + "ProvisioningCode": "PC-7",
                                            KEY: "persist-1"})


if __name__ == "__main__":
    unittest.main()
