"""GetParameterNames (TR-069 A.3.2.3, Tables 20-22) on the gateway endpoint: every case of
ParameterPath x NextLevel, the Writable flag of parameters, tables and instances, and the
faults 9003 and 9005."""
import unittest

from support import soapmsg as m
from test_rpc_values import DI, MS, RpcCase

SDM = DI + "SupportedDataModel."
IP = MS + "InformParameter."


class GetNames(RpcCase):
    def names(self, response):
        """[(name, writable)] of a GetParameterNamesResponse."""
        self.assertEqual(response.method, "GetParameterNamesResponse", response.value)
        return response.value

    def test_empty_path_next_level_lists_only_the_root_object(self):
        # "if ParameterPath were empty, with NextLevel equal true, the response would list
        # only 'InternetGatewayDevice.'"
        r = self.one(m.rpc_gpn("", True))
        self.assertEqual(self.names(r), [("Device.", False)])

    def test_empty_path_lists_every_object_and_parameter(self):
        gpn, gpv = self.session(m.rpc_gpn("", False), m.rpc_gpv([""]))
        names = dict(self.names(gpn))
        self.assertEqual(len(names), len(self.names(gpn)), "a name is listed twice")
        for obj in ["Device.", DI, SDM, SDM + "1.", MS, IP, MS + "EmbeddedDevice.",
                    MS + "HeartbeatPolicy."]:
            self.assertIn(obj, names)
        # "If a Parameter is listed, ... a GetParameterValues for this Parameter would be
        # expected to succeed": the parameters are exactly those of GetParameterValues("")
        params = [n for n in names if not n.endswith(".")]
        self.assertEqual(params, list(gpv.value))

    def test_partial_path_without_next_level_is_the_object_and_all_below(self):
        r = self.one(m.rpc_gpn(DI, False))
        names = self.names(r)
        self.assertEqual(names[0], (DI, False))
        listed = [n for n, _ in names]
        self.assertTrue(all(n.startswith(DI) for n in listed))
        for n in [DI + "UpTime", SDM, SDM + "1.", SDM + "1.URN", DI + "ProvisioningCode"]:
            self.assertIn(n, listed)
        # the table comes before its instance, the instance before its parameters
        self.assertLess(listed.index(SDM), listed.index(SDM + "1."))
        self.assertLess(listed.index(SDM + "1."), listed.index(SDM + "1.URN"))

    def test_partial_path_with_next_level_is_the_children_only(self):
        obj, table = self.session(m.rpc_gpn(DI, True), m.rpc_gpn(SDM, True))
        listed = [n for n, _ in self.names(obj)]
        self.assertNotIn(DI, listed)
        self.assertIn(DI + "Manufacturer", listed)
        self.assertIn(SDM, listed)                     # a table is listed as "X."
        self.assertNotIn(SDM + "1.", listed)           # its instances are one level deeper
        self.assertNotIn(SDM + "1.URL", listed)
        self.assertEqual(self.names(table), [(SDM + "1.", False)])

    def test_full_parameter_path(self):
        rw, ro, level = self.session(m.rpc_gpn(MS + "PeriodicInformInterval", False),
                                     m.rpc_gpn(DI + "UpTime", False),
                                     m.rpc_gpn(DI + "UpTime", True))
        self.assertEqual(self.names(rw), [(MS + "PeriodicInformInterval", True)])
        self.assertEqual(self.names(ro), [(DI + "UpTime", False)])
        # "If NextLevel is true and ParameterPath is a Parameter name ... 9003"
        self.assertFault(level, 9003)

    def test_empty_objects(self):
        # an empty table is listed; with NextLevel its (zero) children are an empty list
        below, level = self.session(m.rpc_gpn(MS + "EmbeddedDevice.", False),
                                    m.rpc_gpn(MS + "EmbeddedDevice.", True))
        self.assertEqual(self.names(below), [(MS + "EmbeddedDevice.", False)])
        self.assertEqual(self.names(level), [])

    def test_writable_means_add_object_for_tables_and_delete_object_for_instances(self):
        add, names = self.session(m.rpc_add(IP), m.rpc_gpn(MS, True))
        self.assertEqual(add.method, "AddObjectResponse")
        number = add.value[0]
        listed = dict(self.names(names))
        self.assertIs(listed[IP], True)
        self.assertIs(listed[MS + "VirtualDevice."], False)
        self.assertIs(listed[MS + "EmbeddedDevice."], False)
        self.assertIs(listed[MS + "HeartbeatPolicy."], False)
        self.assertIs(listed[MS + "URL"], True)
        self.assertIs(listed[MS + "ParameterKey"], False)
        row, = self.session(m.rpc_gpn(f"{IP}{number}.", False))
        self.assertEqual(self.names(row), [(f"{IP}{number}.", True),
                                           (f"{IP}{number}.Alias", True),
                                           (f"{IP}{number}.Enable", True),
                                           (f"{IP}{number}.ParameterName", True),
                                           (f"{IP}{number}.EventList", True)])
        self.session(m.rpc_delete(f"{IP}{number}."))

    def test_invalid_paths_are_9005(self):
        bad = ["Device", "Device.Nope.", DI.rstrip("."), DI + "UpTime.", SDM + "9.",
               SDM + "{i}.", "device.", "Device..", SDM + "1.Nope"]
        responses = self.session(*[m.rpc_gpn(p, nl) for p in bad for nl in (False, True)])
        for i, r in enumerate(responses):
            with self.subTest(path=bad[i // 2], next_level=bool(i % 2)):
                self.assertFault(r, 9005)


if __name__ == "__main__":
    unittest.main()
