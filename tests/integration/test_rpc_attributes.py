"""SetParameterAttributes (TR-069 A.3.2.4) and GetParameterAttributes (A.3.2.5) on the
gateway endpoint: Notification 0/1/2, forced active and canDeny parameters (9009),
lightweight values refused (9003), AccessList, partial paths, order and atomicity, and
persistence across a restart."""
import unittest

from support import soapmsg as m
from test_rpc_values import DI, MS, PII, RpcCase

HB = MS + "HeartbeatPolicy."
HB_PARAMS = [HB + "Enable", HB + "ReportingInterval", HB + "InitiationTime"]
SW = DI + "SoftwareVersion"
UPTIME = DI + "UpTime"


class Attributes(RpcCase):
    def attrs(self, response):
        """{name: (notification, access list)} of a GetParameterAttributesResponse."""
        self.assertEqual(response.method, "GetParameterAttributesResponse", response.value)
        return {name: (n, acl) for name, n, acl in response.value}

    def get_attrs(self, *names):
        return self.attrs(self.one(m.rpc_gpa(list(names))))

    def assertSpaOk(self, response):
        self.assertEqual(response.method, "SetParameterAttributesResponse", response.value)

    def test_notification_values_0_1_2_are_stored_and_read_back(self):
        name = MS + "UpgradesManaged"
        responses = self.session(m.rpc_gpa([name]),
                                 m.rpc_spa([{"name": name, "notification": 1}]),
                                 m.rpc_gpa([name]),
                                 m.rpc_spa([{"name": name, "notification": 2}]),
                                 m.rpc_gpa([name]),
                                 m.rpc_spa([{"name": name, "notification": 0}]),
                                 m.rpc_gpa([name]))
        for spa in responses[1::2]:
            self.assertSpaOk(spa)
        self.assertEqual([self.attrs(r)[name][0] for r in responses[0::2]], [0, 1, 2, 0])

    def test_access_list_subscriber_and_the_two_change_flags(self):
        name = MS + "STUNServerAddress"
        responses = self.session(
            m.rpc_spa([{"name": name, "notification": 1, "access_list": ["Subscriber"]}]),
            m.rpc_gpa([name]),
            m.rpc_spa([{"name": name, "notification": 0}]),         # AccessListChange 0
            m.rpc_gpa([name]),
            m.rpc_spa([{"name": name, "access_list": []}]),         # NotificationChange 0
            m.rpc_gpa([name]),
            m.rpc_spa([{"name": name, "access_list": ["Subscriber"]}]))
        for spa in responses[0::2]:
            self.assertSpaOk(spa)
        self.assertEqual(self.attrs(responses[1])[name], (1, ["Subscriber"]))
        self.assertEqual(self.attrs(responses[3])[name], (0, ["Subscriber"]))
        self.assertEqual(self.attrs(responses[5])[name], (0, []))

    def test_unknown_access_list_entities_are_ignored(self):
        # "The CPE MUST correctly interpret the value "Subscriber" ... but MUST ignore any
        # other individual values in this array that it does not understand."
        name = MS + "STUNUsername"
        spa, gpa = self.session(
            m.rpc_spa([{"name": name, "access_list": ["X_ACME_Remote", "Subscriber"]}]),
            m.rpc_gpa([name]))
        self.assertSpaOk(spa)
        self.assertEqual(self.attrs(gpa)[name], (0, ["Subscriber"]))

    def test_access_list_of_a_read_only_parameter_is_stored(self):
        # "The CPE MUST accept changes to the AccessList for any Parameter even if that
        # Parameter is read-only"
        spa, gpa = self.session(m.rpc_spa([{"name": DI + "ModelName", "access_list": []}]),
                                m.rpc_gpa([DI + "ModelName"]))
        self.assertSpaOk(spa)
        self.assertEqual(self.attrs(gpa)[DI + "ModelName"], (0, []))

    def test_default_access_list_grants_subscriber(self):
        # A.3.2.4/A.3.2.5: a parameter never touched by SPA has an AccessList with every
        # entity the CPE supports, i.e. ["Subscriber"].
        self.assertEqual(self.get_attrs(MS + "STUNPassword")[MS + "STUNPassword"],
                         (0, ["Subscriber"]))

    def test_active_notification_on_a_can_deny_parameter_is_9009(self):
        full, partial, passive, after = self.session(
            m.rpc_spa([{"name": UPTIME, "notification": 2}]),
            m.rpc_spa([{"name": DI, "notification": 2}]),    # UpTime is below DeviceInfo.
            m.rpc_spa([{"name": UPTIME, "notification": 1}]),  # passive MUST be accepted
            m.rpc_gpa([UPTIME, DI + "ModelName"]))
        self.assertFault(full, 9009, UPTIME)
        self.assertFault(partial, 9009)
        self.assertSpaOk(passive)
        got = self.attrs(after)
        self.assertEqual(got[UPTIME][0], 1)
        self.assertEqual(got[DI + "ModelName"][0], 0, "the refused partial path changed")
        self.session(m.rpc_spa([{"name": UPTIME, "notification": 0}]))

    def test_forced_active_parameter_reads_2_whatever_is_set(self):
        responses = self.session(m.rpc_spa([{"name": SW, "notification": 0}]),
                                 m.rpc_gpa([SW]),
                                 m.rpc_spa([{"name": SW, "notification": 1,
                                             "access_list": ["Subscriber"]}]),
                                 m.rpc_gpa([SW]))
        self.assertSpaOk(responses[0])
        self.assertSpaOk(responses[2])
        self.assertEqual(self.attrs(responses[1])[SW][0], 2)
        self.assertEqual(self.attrs(responses[3])[SW], (2, ["Subscriber"]))

    def test_lightweight_notification_is_9003(self):
        # A.3.2.4: without lightweight notifications, 3..6 MUST be refused with 9003
        responses = self.session(*[m.rpc_spa([{"name": PII, "notification": n}])
                                   for n in (3, 4, 5, 6)], m.rpc_gpa([PII]))
        for r in responses[:4]:
            self.assertFault(r, 9003, "Notification")
        self.assertEqual(self.attrs(responses[4])[PII][0], 0)

    def test_partial_paths_set_and_get_every_parameter_below(self):
        spa, gpa, empty = self.session(m.rpc_spa([{"name": HB, "notification": 1}]),
                                       m.rpc_gpa([HB]),
                                       m.rpc_gpa([MS + "EmbeddedDevice."]))
        self.assertSpaOk(spa)
        self.assertEqual(self.attrs(gpa), {p: (1, ["Subscriber"]) for p in HB_PARAMS})
        # A.3.2.5: no parameters below a partial path is an empty list, not a fault
        self.assertEqual(self.attrs(empty), {})
        self.session(m.rpc_spa([{"name": HB, "notification": 0}]))

    def test_entries_apply_in_order_later_ones_win(self):
        spa, gpa = self.session(
            m.rpc_spa([{"name": HB, "notification": 2},
                       {"name": HB + "Enable", "notification": 1},
                       {"name": HB + "InitiationTime", "notification": 0},
                       {"name": HB + "InitiationTime", "notification": 1}]),
            m.rpc_gpa([HB]))
        self.assertSpaOk(spa)
        self.assertEqual({n: a[0] for n, a in self.attrs(gpa).items()},
                         {HB + "Enable": 1, HB + "ReportingInterval": 2,
                          HB + "InitiationTime": 1})
        self.session(m.rpc_spa([{"name": HB, "notification": 0}]))

    def test_one_bad_entry_changes_nothing(self):
        good = {"name": PII, "notification": 1, "access_list": ["Subscriber"]}
        responses = self.session(
            m.rpc_spa([good, {"name": MS + "Nope", "notification": 1}]),
            m.rpc_spa([good, {"name": UPTIME, "notification": 2}]),
            m.rpc_spa([good, {"name": MS + "URL", "notification": 5}]),
            m.rpc_gpa([PII]))
        self.assertFault(responses[0], 9005, MS + "Nope")
        self.assertFault(responses[1], 9009, UPTIME)
        self.assertFault(responses[2], 9003)
        # the defaults are still there: Notification 0, and AccessList with every entity
        self.assertEqual(self.attrs(responses[3])[PII], (0, ["Subscriber"]))

    def test_invalid_names_are_9005(self):
        bad = ["Device.Nope", DI + "UpTime.", DI.rstrip("."), DI + "SupportedDataModel.3."]
        responses = self.session(*[m.rpc_gpa([PII, n]) for n in bad],
                                 *[m.rpc_spa([{"name": n, "notification": 1}]) for n in bad])
        for i, r in enumerate(responses):
            with self.subTest(name=bad[i % len(bad)], method=r.rpc.method):
                self.assertFault(r, 9005, bad[i % len(bad)])

    def test_attributes_survive_a_restart(self):
        name = MS + "ConnectionRequestUsername"
        spa, = self.session(m.rpc_spa([{"name": name, "notification": 1,
                                        "access_list": ["Subscriber"]}]))
        self.assertSpaOk(spa)
        gpa, = self.boot_session(m.rpc_gpa([name]))
        self.assertEqual(self.attrs(gpa)[name], (1, ["Subscriber"]))


if __name__ == "__main__":
    unittest.main()
