"""Notifications on the gateway's own parameters (TR-069 A.3.2.4, 3.2.1, Table 8 "4 VALUE
CHANGE") and the local control socket that makes changes outside the ACS."""
import os
import time
import unittest

from support import ProxierTestCase, ctl_command, soapmsg as m, wait_until

PC = "Device.DeviceInfo.ProvisioningCode"
PII = "Device.ManagementServer.PeriodicInformInterval"
SW = "Device.DeviceInfo.SoftwareVersion"
HW = "Device.DeviceInfo.HardwareVersion"


def codes(session):
    return sorted(code for code, _ in session.inform.events)


class NotifyCase(ProxierTestCase):
    def start(self, overrides=None):
        self.sock = os.path.join(self.tmp, "ctl.sock")
        cfg = {"control": {"socket": self.sock}}
        for section, keys in (overrides or {}).items():
            cfg.setdefault(section, {}).update(keys)
        return self.start_daemon(cfg)

    def ctl(self, line):
        return ctl_command(self.sock, line)

    def ctl_when_idle(self, line):
        wait_until(lambda: self.ctl("status").startswith("ok session=idle"), 10, "idle endpoint")
        return self.ctl(line)


class ControlSocket(NotifyCase):
    def test_get_set_and_errors(self):
        self.start()
        self.acs.wait_sessions(1)
        self.assertEqual(self.ctl_when_idle(f"get {PII}"), "ok 86400")
        self.assertEqual(self.ctl(f"set {PII} 600"), "ok")
        self.assertEqual(self.ctl(f"get {PII}"), "ok 600")
        self.assertTrue(self.ctl(f"set {PII} soon").startswith("error 9007 "))
        self.assertTrue(self.ctl(f"set {SW} 9.9").startswith("error 9008 "))
        self.assertTrue(self.ctl("get Device.Nope").startswith("error 9005 "))
        self.assertTrue(self.ctl("frobnicate").startswith("error 9003 usage"))
        self.assertEqual(self.ctl("get Device.ManagementServer.Password"), "ok ")
        self.assertEqual(os.stat(self.sock).st_mode & 0o777, 0o600)

    def test_access_list_without_subscriber_refuses_local_sets(self):
        # A.3.2.4: only entities on the AccessList may write; the control socket is LAN-side
        self.acs.queue(m.rpc_spa([{"name": PII, "access_list": []}]))
        self.start()
        self.acs.wait_sessions(1)
        self.assertTrue(self.ctl_when_idle(f"set {PII} 77").startswith("error 9001 "))
        self.assertEqual(self.ctl(f"get {PII}"), "ok 86400")
        self.assertEqual(self.ctl(f"set {PC} fine"), "ok")  # default list grants it

    def test_set_is_refused_during_a_session(self):
        self.acs.inject("empty", delay=3)
        self.start()
        wait_until(lambda: self.acs.sessions and self.acs.sessions[0].inform_done, 10,
                   "a session in progress")
        self.assertTrue(self.ctl(f"set {PC} x").startswith("error 9001 busy"))


class Notifications(NotifyCase):
    def test_forced_active_parameter_starts_a_session_with_value_change(self):
        self.start()
        self.acs.wait_sessions(1)
        self.assertEqual(self.ctl_when_idle(f"set {PC} PROV-2"), "ok")
        s = self.acs.wait_sessions(2)[1]
        self.assertEqual(codes(s), ["4 VALUE CHANGE"])
        self.assertEqual(s.inform.parameters[PC][0], "PROV-2")

    def test_no_notification_no_session(self):
        self.start()
        self.acs.wait_sessions(1)
        self.assertEqual(self.ctl_when_idle(f"set {PII} 1234"), "ok")
        time.sleep(1.5)
        self.assertEqual(len(self.acs.sessions), 1)

    def test_passive_change_rides_on_the_next_inform_once(self):
        self.acs.queue(m.rpc_spa([{"name": PII, "notification": 1}]))
        self.start()
        self.acs.wait_sessions(1)
        self.ctl_when_idle(f"set {PII} 100")
        self.ctl(f"set {PII} 200")  # changed twice: reported once, with the last value
        time.sleep(1)
        self.assertEqual(len(self.acs.sessions), 1, "a passive change starts no session")
        self.acs.queue(m.rpc_schedule_inform(1, "next"))  # for the session after
        self.ctl(f"set {PC} go")  # forced active: this Inform carries the passive one too
        s = self.acs.wait_sessions(2)[1]
        self.assertEqual(codes(s), ["4 VALUE CHANGE"])
        self.assertEqual(s.inform.parameters[PII][0], "200")
        self.assertEqual(s.inform.parameters[PC][0], "go")
        # delivered: the next Inform does not repeat it
        s3 = self.acs.wait_sessions(3, timeout=10)[2]
        self.assertEqual(codes(s3), ["3 SCHEDULED", "M ScheduleInform"])
        self.assertNotIn(PII, s3.inform.parameters)

    def test_pending_passive_change_is_discarded_on_reboot(self):
        # Table 8: "4 VALUE CHANGE" is discarded when the CPE reboots, with its list.
        self.acs.queue(m.rpc_spa([{"name": PII, "notification": 1}]))
        d = self.start()
        self.acs.wait_sessions(1)
        self.ctl_when_idle(f"set {PII} 300")
        d.restart()
        s = self.acs.wait_sessions(2)[1]
        self.assertEqual(codes(s), ["1 BOOT"])
        self.assertNotIn(PII, s.inform.parameters)

    def test_the_acs_own_sets_cause_no_notification(self):
        self.acs.queue(m.rpc_spa([{"name": PII, "notification": 2}]))
        self.acs.queue(m.rpc_spv([(PII, "321", "xsd:unsignedInt")]))
        self.start()
        self.acs.wait_sessions(1)
        time.sleep(1.5)
        self.assertEqual(len(self.acs.sessions), 1)

    def test_change_during_a_session_waits_for_the_next_one(self):
        self.acs.queue(m.rpc_spa([{"name": PII, "notification": 2}]))
        self.start()
        self.acs.wait_sessions(1)
        # second session: hold it open, change the value meanwhile
        self.acs.inject("GetParameterValuesResponse", delay=2)
        self.acs.queue(m.rpc_gpv([PII]))
        self.ctl_when_idle(f"set {PC} trigger")  # forced active: starts session 2
        wait_until(lambda: len(self.acs.sessions) >= 2 and self.acs.sessions[1].inform_done,
                   10, "session 2")
        self.assertTrue(self.ctl(f"set {PII} 55").startswith("error 9001 busy"))
        s2 = self.acs.wait_sessions(2)[1]
        self.assertEqual(s2.responses[0].value[PII][0], "86400",
                         "the ACS saw no outside change within its session")

    def test_active_notification_throttle(self):
        self.acs.queue(m.rpc_spa([{"name": PII, "notification": 2}]))
        self.acs.queue(m.rpc_spv([("Device.ManagementServer.DefaultActiveNotificationThrottle",
                                   "3", "xsd:unsignedInt")]))
        self.start()
        self.acs.wait_sessions(1)
        self.ctl_when_idle(f"set {PII} 101")
        s2 = self.acs.wait_sessions(2)[1]
        self.ctl_when_idle(f"set {PII} 102")
        s3 = self.acs.wait_sessions(3, timeout=10)[2]
        self.assertEqual(codes(s3), ["4 VALUE CHANGE"])
        self.assertEqual(s3.inform.parameters[PII][0], "102")
        self.assertGreaterEqual(s3.start_time - s2.start_time, 2.5)

    def test_firmware_upgrade_reports_software_version(self):
        d = self.start({"device": {"software_version": "1.0"}})
        self.acs.wait_sessions(1)
        d.stop()
        d.config["device"]["software_version"] = "2.0"
        d.start()
        s = self.acs.wait_sessions(2)[1]
        self.assertEqual(codes(s), ["1 BOOT", "4 VALUE CHANGE"])
        self.assertEqual(s.inform.parameters[SW][0], "2.0")

    def test_hardware_version_change_is_silent_without_notification(self):
        d = self.start({"device": {"hardware_version": "A"}})
        self.acs.wait_sessions(1)
        d.stop()
        d.config["device"]["hardware_version"] = "B"
        d.start()
        s = self.acs.wait_sessions(2)[1]
        self.assertEqual(codes(s), ["1 BOOT"])


if __name__ == "__main__":
    unittest.main()
