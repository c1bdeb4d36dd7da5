"""AddObject (TR-069 A.3.2.6) and DeleteObject (A.3.2.7) on
Device.ManagementServer.InformParameter.{i}.: instance numbers never reused (across a restart
too), InformParameterNumberOfEntries, the ParameterKey, defaults of a new row, the values and
attributes of a deleted row gone, 9005 for names that are no table (instance), 9001 for the
read-only tables."""
import unittest

from support import soapmsg as m
from test_rpc_values import KEY, MS, RpcCase

IP = MS + "InformParameter."
COUNT = MS + "InformParameterNumberOfEntries"


class Objects(RpcCase):
    def add(self, key=""):
        """AddObject on InformParameter in a new Session; the instance number."""
        r = self.one(m.rpc_add(IP, key))
        self.assertEqual(r.method, "AddObjectResponse", r.value)
        number, status = r.value
        self.assertEqual(status, 0)
        return number

    def instances(self, response):
        """Instance numbers seen in a GetParameterNamesResponse of IP with NextLevel."""
        self.assertEqual(response.method, "GetParameterNamesResponse", response.value)
        return sorted(int(n[len(IP):-1]) for n, _ in response.value)

    def test_add_creates_a_row_with_defaults_and_updates_count_and_key(self):
        before, add, after, row, names = self.session(
            m.rpc_gpv([COUNT]), m.rpc_add(IP, "add-1"), m.rpc_gpv([COUNT, KEY]),
            m.rpc_gpv([IP]), m.rpc_gpn(IP, True))
        number, status = add.value
        self.assertEqual(status, 0)
        self.assertGreaterEqual(number, 1)
        n_before = int(self.values(before)[COUNT])
        self.assertEqual(self.values(after), {COUNT: str(n_before + 1), KEY: "add-1"})
        prefix = f"{IP}{number}."
        self.assertEqual({k: v for k, v in self.values(row).items() if k.startswith(prefix)},
                         {prefix + "Alias": f"cpe-{number}",   # TR-181 _AliasCWMP default
                          prefix + "Enable": "false", prefix + "ParameterName": "",
                          prefix + "EventList": ""})
        self.assertIn(number, self.instances(names))
        self.session(m.rpc_delete(prefix))

    def test_new_row_is_settable_and_the_values_go_with_delete(self):
        number = self.add()
        row = f"{IP}{number}."
        spv, spa, gpv, delete, after = self.session(
            m.rpc_spv([(row + "Enable", "true", "xsd:boolean"),
                       (row + "ParameterName", "Device.DeviceInfo.UpTime", "xsd:string")], "r"),
            m.rpc_spa([{"name": row + "Enable", "notification": 1}]),
            m.rpc_gpv([row]),
            m.rpc_delete(row, "del-1"),
            m.rpc_gpv([COUNT, KEY]))
        self.assertEqual(spv.value, 0)
        self.assertEqual(spa.method, "SetParameterAttributesResponse")
        self.assertEqual(self.values(gpv)[row + "ParameterName"], "Device.DeviceInfo.UpTime")
        self.assertEqual(delete.method, "DeleteObjectResponse")
        self.assertEqual(delete.value, 0)
        self.assertEqual(self.values(after)[KEY], "del-1")
        # A.3.2.7: the instance is unavailable to every RPC afterwards
        gone = self.session(m.rpc_gpv([row + "Enable"]), m.rpc_gpv([row]),
                            m.rpc_gpn(row, False), m.rpc_gpa([row + "Enable"]),
                            m.rpc_spa([{"name": row + "Enable", "notification": 1}]),
                            m.rpc_spv([(row + "Enable", "true", "xsd:boolean")], "never"),
                            m.rpc_delete(row, "never"), m.rpc_gpv([KEY]))
        for r in gone[:5]:
            with self.subTest(rpc=r.rpc.method):
                self.assertFault(r, 9005, row)
        self.assertSpvFault(gone[5], {row + "Enable": 9005})
        self.assertFault(gone[6], 9005, row)
        self.assertEqual(self.values(gone[7])[KEY], "del-1", "a failed RPC changed the key")

    def test_count_follows_adds_and_deletes(self):
        responses = self.session(m.rpc_gpv([COUNT]), m.rpc_add(IP), m.rpc_add(IP),
                                 m.rpc_gpv([COUNT]))
        start = int(self.values(responses[0])[COUNT])
        a, b = responses[1].value[0], responses[2].value[0]
        self.assertEqual(self.values(responses[3])[COUNT], str(start + 2))
        responses = self.session(m.rpc_delete(f"{IP}{a}."), m.rpc_gpv([COUNT]),
                                 m.rpc_delete(f"{IP}{b}."), m.rpc_gpv([COUNT]))
        self.assertEqual([self.values(r)[COUNT] for r in responses[1::2]],
                         [str(start + 1), str(start)])

    def test_instance_numbers_are_never_reused(self):
        first = self.add()
        second = self.add()
        self.assertGreater(second, first)
        self.session(m.rpc_delete(f"{IP}{second}."))
        third = self.add()
        self.assertNotIn(third, (first, second))
        self.assertGreater(third, second)
        self.session(m.rpc_delete(f"{IP}{first}."), m.rpc_delete(f"{IP}{third}."))

    def test_instances_values_and_numbering_survive_a_restart(self):
        kept, dropped = self.add(), self.add()
        self.session(m.rpc_spv([(f"{IP}{kept}.ParameterName", "Device.DeviceInfo.ModelName",
                                 "xsd:string")]),
                     m.rpc_delete(f"{IP}{dropped}.", "before-restart"))
        names, gpv, add = self.boot_session(m.rpc_gpn(IP, True), m.rpc_gpv([IP, COUNT, KEY]),
                                            m.rpc_add(IP))
        self.assertIn(kept, self.instances(names))
        self.assertNotIn(dropped, self.instances(names))
        v = self.values(gpv)
        self.assertEqual(v[f"{IP}{kept}.ParameterName"], "Device.DeviceInfo.ModelName")
        self.assertEqual(v[COUNT], str(len(self.instances(names))))
        self.assertEqual(v[KEY], "before-restart")
        self.assertGreater(add.value[0], dropped, "a number was reused after the restart")
        self.session(m.rpc_delete(f"{IP}{kept}."), m.rpc_delete(f"{IP}{add.value[0]}."))

    def test_alias_is_a_unique_key_that_starts_with_a_letter(self):
        # TR-069 3.6.1/A.2.2.2: unique within the table, never empty; TR-181: starts with a
        # letter. A SetParameterValues breaking that is 9007 (A.3.2.1).
        a, b = self.add(), self.add()
        alias_a, alias_b = f"{IP}{a}.Alias", f"{IP}{b}.Alias"
        responses = self.session(
            m.rpc_spv([(alias_b, f"cpe-{a}", "xsd:string")], "never"),          # a's default
            m.rpc_spv([(alias_a, "same", "xsd:string"), (alias_b, "same", "xsd:string")],
                      "never"),
            m.rpc_spv([(alias_a, "", "xsd:string")], "never"),
            m.rpc_spv([(alias_a, "1st", "xsd:string")], "never"),
            m.rpc_spv([(alias_a, "swap", "xsd:string"), (alias_b, f"cpe-{a}", "xsd:string")],
                      "swapped"),                                  # a gives its alias away
            m.rpc_gpv([alias_a, alias_b, KEY]))
        self.assertIn(f"cpe-{a}", self.assertSpvFault(responses[0], {alias_b: 9007})[alias_b])
        self.assertSpvFault(responses[1], {alias_a: 9007, alias_b: 9007})
        self.assertSpvFault(responses[2], {alias_a: 9007})
        self.assertSpvFault(responses[3], {alias_a: 9007})
        self.assertEqual(responses[4].value, 0)
        self.assertEqual(self.values(responses[5]),
                         {alias_a: "swap", alias_b: f"cpe-{a}", KEY: "swapped"})
        self.session(m.rpc_delete(f"{IP}{a}."), m.rpc_delete(f"{IP}{b}."))

    def test_set_spanning_two_providers_is_atomic(self):
        # A.3.2.1: all or nothing. The set spans the gateway's provider (ProvisioningCode) and
        # ManagementServer's, which refuses a duplicate Alias: one cache transaction over both
        # rolls the ProvisioningCode back.
        a, b = self.add(), self.add()
        spv, gpv = self.session(
            m.rpc_spv([("Device.DeviceInfo.ProvisioningCode", "half-applied", "xsd:string"),
                       (f"{IP}{b}.Alias", f"cpe-{a}", "xsd:string")], "never"),
            m.rpc_gpv(["Device.DeviceInfo.ProvisioningCode"]))
        self.session(m.rpc_delete(f"{IP}{a}."), m.rpc_delete(f"{IP}{b}."))
        self.assertSpvFault(spv, {f"{IP}{b}.Alias": 9007})
        self.assertNotEqual(self.values(gpv)["Device.DeviceInfo.ProvisioningCode"],
                            "half-applied")

    def test_names_that_are_no_table_are_9005_and_change_nothing(self):
        number = self.add("stable")
        bad_add = [MS + "Nope.", IP.rstrip("."), f"{IP}{number}.", "Device.DeviceInfo.",
                   MS + "URL.", "", IP + "[a1].", MS + "InformParameter.{i}."]
        bad_delete = [f"{IP}999999.", IP, f"{IP}{number}.Enable.", f"{IP}{number}",
                      "Device.DeviceInfo.", "", f"{IP}0{number}x."]
        responses = self.session(*[m.rpc_add(p, "never") for p in bad_add],
                                 *[m.rpc_delete(p, "never") for p in bad_delete],
                                 m.rpc_gpv([KEY, COUNT]), m.rpc_gpn(IP, True))
        for path, r in zip(bad_add + bad_delete, responses):
            with self.subTest(rpc=r.rpc.method, path=path):
                self.assertFault(r, 9005, path)
        self.assertEqual(self.values(responses[-2])[KEY], "stable")
        self.assertIn(number, self.instances(responses[-1]))
        self.session(m.rpc_delete(f"{IP}{number}."))

    def test_read_only_tables_are_refused_with_9001(self):
        number = self.add("ro")
        responses = self.session(m.rpc_add(MS + "VirtualDevice.", "never"),
                                 m.rpc_add(MS + "EmbeddedDevice.", "never"),
                                 m.rpc_add(MS + "ManageableDevice.", "never"),
                                 m.rpc_delete("Device.DeviceInfo.SupportedDataModel.1.", "never"),
                                 m.rpc_gpv([KEY, MS + "VirtualDeviceNumberOfEntries",
                                            "Device.DeviceInfo.SupportedDataModelNumberOfEntries"]))
        for r in responses[:4]:
            with self.subTest(path=r.rpc.body):
                self.assertFault(r, 9001, "read-only")
        self.assertEqual(self.values(responses[4]),
                         {KEY: "ro", MS + "VirtualDeviceNumberOfEntries": "0",
                          "Device.DeviceInfo.SupportedDataModelNumberOfEntries": "1"})
        self.session(m.rpc_delete(f"{IP}{number}."))


if __name__ == "__main__":
    unittest.main()
