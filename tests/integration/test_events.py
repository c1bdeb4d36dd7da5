"""Events and what survives a restart (TR-069 3.2.1, 3.7.1.5, Table 8; A.3.2.9 Reboot,
A.4.1.4 ScheduleInform, A.4.1.6 FactoryReset): the event codes, their CommandKeys, and the
durable queue across kill -9."""
import os
import time
import unittest

from support import ProxierTestCase, soapmsg as m, wait_until


def codes(session):
    return sorted(code for code, _ in session.inform.events)


def keys(session):
    return {code: key for code, key in session.inform.events}


class Reboot(ProxierTestCase):
    def test_reboot_after_the_session_then_boot_and_m_reboot_with_the_command_key(self):
        d = self.start_daemon()
        self.acs.wait_sessions(1)
        self.acs.queue(m.rpc_reboot("reboot-42"))
        d.restart()  # a BOOT session carries the queued Reboot
        s2 = self.acs.wait_sessions(2)[1]
        self.assertEqual(s2.responses[0].method, "RebootResponse")
        s3 = self.acs.wait_sessions(3)[2]
        self.assertEqual(codes(s3), ["1 BOOT", "M Reboot"])
        self.assertEqual(keys(s3)["M Reboot"], "reboot-42")
        self.assertTrue(d.running(), "the default reboot action restarts the daemon")
        # delivered once: the next boot has no M Reboot
        d.restart()
        s4 = self.acs.wait_sessions(4)[3]
        self.assertEqual(codes(s4), ["1 BOOT"])

    def test_reboot_action_command_runs_after_the_session(self):
        marker = os.path.join(self.tmp, "rebooted")
        self.acs.queue(m.rpc_reboot("k"))
        self.acs.queue(m.rpc_gpv(["Device.DeviceInfo.UpTime"]))
        d = self.start_daemon({"actions": {"reboot": f"touch {marker}"}})
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)
        # the whole session ran before the reboot (3.7.1.4)
        self.assertEqual([r.method for r in s.responses],
                         ["RebootResponse", "GetParameterValuesResponse"])
        self.assertEqual(d.wait_exit(10), 0)
        self.assertTrue(os.path.exists(marker))


class FactoryReset(ProxierTestCase):
    def test_factory_reset_forgets_acs_settings_and_bootstraps(self):
        self.acs.queue(m.rpc_spv([("Device.ManagementServer.PeriodicInformInterval", "777",
                                   "xsd:unsignedInt")], key="pk-1"))
        self.acs.queue(m.rpc_add("Device.ManagementServer.InformParameter.", "pk-2"))
        self.acs.queue(m.rpc_factory_reset())
        d = self.start_daemon()
        s1 = self.acs.wait_sessions(1)[0]
        self.assertEqual(s1.responses[2].method, "FactoryResetResponse")
        self.acs.queue(m.rpc_gpv(["Device.ManagementServer.PeriodicInformInterval",
                                  "Device.ManagementServer.ParameterKey",
                                  "Device.ManagementServer.InformParameterNumberOfEntries"]))
        s2 = self.acs.wait_sessions(2)[1]
        self.assertEqual(codes(s2), ["0 BOOTSTRAP", "1 BOOT"])
        values = s2.responses[0].value
        self.assertEqual(values["Device.ManagementServer.PeriodicInformInterval"][0], "86400")
        self.assertEqual(values["Device.ManagementServer.ParameterKey"][0], "")
        self.assertEqual(values["Device.ManagementServer.InformParameterNumberOfEntries"][0], "0")
        self.assertTrue(d.running())


class Scheduled(ProxierTestCase):
    def test_schedule_inform_brings_scheduled_and_its_command_key(self):
        self.acs.queue(m.rpc_schedule_inform(1, "sched-7"))
        self.start_daemon()
        s2 = self.acs.wait_sessions(2, timeout=15)[1]
        self.assertEqual(codes(s2), ["3 SCHEDULED", "M ScheduleInform"])
        self.assertEqual(keys(s2)["M ScheduleInform"], "sched-7")

    def test_a_scheduled_inform_survives_a_restart(self):
        self.acs.queue(m.rpc_schedule_inform(4, "later"))
        d = self.start_daemon()
        self.acs.wait_sessions(1)
        d.restart()
        s2 = self.acs.wait_sessions(2)[1]
        self.assertEqual(codes(s2), ["1 BOOT"])
        s3 = self.acs.wait_sessions(3, timeout=15)[2]
        self.assertEqual(codes(s3), ["3 SCHEDULED", "M ScheduleInform"])
        self.assertEqual(keys(s3)["M ScheduleInform"], "later")

    def test_same_command_key_updates_the_delay(self):
        # A.4.1.2: a ScheduleInform with the same non-empty CommandKey as a queued one updates
        # its delay instead of adding a second one
        self.acs.queue(m.rpc_schedule_inform(60, "same"))
        self.acs.queue(m.rpc_schedule_inform(1, "same"))
        self.start_daemon()
        s2 = self.acs.wait_sessions(2, timeout=15)[1]
        self.assertEqual(codes(s2), ["3 SCHEDULED", "M ScheduleInform"])
        time.sleep(1.5)
        self.assertEqual(len(self.acs.sessions), 2, "the 60 s request was replaced")

    def test_more_than_64_events_drop_the_oldest_m_events(self):
        # A.3.3.1: at most 64 events in an Inform; the oldest "M" events are discarded
        for i in range(70):
            self.acs.queue(m.rpc_schedule_inform(1, f"k{i:02d}"))
        # Session 1 is held open until every schedule has fired, however slowly a loaded
        # machine answers the 70 RPCs, so that session 2 carries all of them.
        self.acs.queue(m.rpc_gpv(["Device.DeviceInfo.SoftwareVersion"]))
        self.acs.inject(on="GetParameterValuesResponse", delay=2)
        self.start_daemon()
        s2 = self.acs.wait_sessions(2, timeout=15)[1]
        self.assertEqual(len(s2.inform.events), 64)
        self.assertIn(("3 SCHEDULED", ""), s2.inform.events)
        kept = [k for c, k in s2.inform.events if c == "M ScheduleInform"]
        self.assertEqual(kept, [f"k{i:02d}" for i in range(7, 70)])

    def test_two_schedule_informs_give_two_m_events_and_one_scheduled(self):
        self.acs.queue(m.rpc_schedule_inform(2, "a"))
        self.acs.queue(m.rpc_schedule_inform(2, "b"))
        self.start_daemon()
        s2 = self.acs.wait_sessions(2, timeout=15)[1]
        self.assertEqual(codes(s2), ["3 SCHEDULED", "M ScheduleInform", "M ScheduleInform"])
        self.assertEqual(sorted(k for c, k in s2.inform.events if c == "M ScheduleInform"),
                         ["a", "b"])


class Periodic(ProxierTestCase):
    def test_periodic_informs_follow_the_interval_the_acs_sets(self):
        self.acs.queue(m.rpc_spv([("Device.ManagementServer.PeriodicInformEnable", "true",
                                   "xsd:boolean"),
                                  ("Device.ManagementServer.PeriodicInformInterval", "1",
                                   "xsd:unsignedInt")]))
        self.start_daemon()
        sessions = self.acs.wait_sessions(3, timeout=15)
        self.assertEqual(codes(sessions[1]), ["2 PERIODIC"])
        self.assertEqual(codes(sessions[2]), ["2 PERIODIC"])
        gap = sessions[2].start_time - sessions[1].start_time
        self.assertGreater(gap, 0.5)
        self.assertLess(gap, 3)

    def test_periodic_inform_time_sets_the_phase(self):
        # Interval 2 s, phased on an even second: sessions start at even seconds.
        self.start_daemon({"cwmp": {"periodic_inform_enable": True,
                                    "periodic_inform_interval": 2,
                                    "periodic_inform_time": "2020-01-01T00:00:00Z"}})
        sessions = self.acs.wait_sessions(3, timeout=15)
        for s in sessions[1:]:
            self.assertEqual(codes(s), ["2 PERIODIC"])
            self.assertLess(abs(s.start_time - 2 * round(s.start_time / 2)), 0.5)


class InformParameter(ProxierTestCase):
    def test_rows_add_parameters_to_matching_informs(self):
        ip = "Device.ManagementServer.InformParameter."
        q = self.acs.queue
        q(m.rpc_add(ip, "a"))
        q(m.rpc_add(ip, "b"))
        q(m.rpc_add(ip, "c"))
        q(m.rpc_spv([(ip + "1.Enable", "true", "xsd:boolean"),
                     (ip + "1.ParameterName", "Device.DeviceInfo.UpTime", "xsd:string"),
                     (ip + "2.Enable", "true", "xsd:boolean"),
                     (ip + "2.ParameterName", "Device.DeviceInfo.Manufacturer", "xsd:string"),
                     (ip + "2.EventList", "2 PERIODIC", "xsd:string"),
                     (ip + "3.Enable", "false", "xsd:boolean"),
                     (ip + "3.ParameterName", "Device.DeviceInfo.ModelName", "xsd:string")]))
        d = self.start_daemon()
        s1 = self.acs.wait_sessions(1)[0]
        self.assertTrue(all(r.fault is None for r in s1.responses), s1.responses)
        d.restart()
        s2 = self.acs.wait_sessions(2)[1]
        self.assertIn("Device.DeviceInfo.UpTime", s2.inform.parameters)      # all events
        self.assertNotIn("Device.DeviceInfo.Manufacturer", s2.inform.parameters)  # PERIODIC
        self.assertNotIn("Device.DeviceInfo.ModelName", s2.inform.parameters)  # disabled
        self.assertEqual(s2.inform.parameters["Device.DeviceInfo.UpTime"][1],
                         "xsd:unsignedInt")

    def test_a_table_holds_at_most_max_instances_rows(self):
        # A.3.2.6: beyond what the CPE supports, AddObject is 9004
        ip = "Device.ManagementServer.InformParameter."
        for key in ("a", "b", "c"):
            self.acs.queue(m.rpc_add(ip, key))
        self.acs.queue(m.rpc_gpv(["Device.ManagementServer.ParameterKey"]))
        self.start_daemon({"cwmp": {"max_instances": 2}})
        s = self.acs.wait_sessions(1)[0]
        self.assertEqual([r.value[0] for r in s.responses[:2]], [1, 2])
        self.assertEqual(s.responses[2].fault.code, 9004)
        self.assertEqual(s.responses[3].value["Device.ManagementServer.ParameterKey"][0], "b")

    def test_rows_stay_out_of_a_value_change_inform(self):
        # A.3.3.1: with "4 VALUE CHANGE" only the forced and the changed parameters
        ip = "Device.ManagementServer.InformParameter."
        self.acs.queue(m.rpc_add(ip, "a"))
        self.acs.queue(m.rpc_spv([(ip + "1.Enable", "true", "xsd:boolean"),
                                  (ip + "1.ParameterName", "Device.DeviceInfo.UpTime",
                                   "xsd:string")]))
        self.acs.queue(m.rpc_schedule_inform(1, "x"))
        d = self.start_daemon({"device": {"software_version": "1"}})
        self.acs.wait_sessions(2, timeout=15)
        self.assertIn("Device.DeviceInfo.UpTime", self.acs.sessions[1].inform.parameters)
        d.stop()
        d.config["device"]["software_version"] = "2"  # forced active: "4 VALUE CHANGE"
        d.start()
        s3 = self.acs.wait_sessions(3)[2]
        self.assertIn("4 VALUE CHANGE", codes(s3))
        self.assertNotIn("Device.DeviceInfo.UpTime", s3.inform.parameters)


class Durability(ProxierTestCase):
    def test_kill_9_during_the_inform_loses_no_event(self):
        self.acs.inject("Inform", delay=5)
        d = self.start_daemon()
        wait_until(lambda: len(self.acs.requests) >= 1, 10, "the first Inform")
        d.kill9()
        d.start()
        self.acs.wait_for(lambda: any(x.ended_ok for x in self.acs.sessions), timeout=20,
                              what="a session after the restart")
        ok = [x for x in self.acs.sessions if x.ended_ok][0]
        self.assertEqual(codes(ok), ["0 BOOTSTRAP", "1 BOOT"])

    def test_values_set_by_the_acs_survive_kill_9(self):
        self.acs.queue(m.rpc_spv([("Device.DeviceInfo.ProvisioningCode", "PC-9",
                                   "xsd:string")], key="k9"))
        # hold the session open after the SPV: the ACS sits on the next response
        self.acs.queue(m.rpc_gpv(["Device.DeviceInfo.UpTime"]))
        self.acs.inject("GetParameterValuesResponse", delay=5)
        d = self.start_daemon()
        wait_until(lambda: any(r.method == "SetParameterValuesResponse"
                               for s in self.acs.sessions for r in s.responses), 10,
                   "the SetParameterValuesResponse")
        d.kill9()
        d.start()
        self.acs.wait_for(lambda: any(x.ended_ok for x in self.acs.sessions), timeout=20,
                              what="a session after the restart")
        self.assertFalse(self.acs.sessions[0].ended_ok)
        ok = [x for x in self.acs.sessions if x.ended_ok][0]
        self.assertEqual(ok.inform.parameters["Device.DeviceInfo.ProvisioningCode"][0], "PC-9")
        self.assertEqual(ok.inform.parameters["Device.ManagementServer.ParameterKey"][0], "k9")

    def test_objects_and_attributes_survive_kill_9(self):
        # A.3.2.4/A.3.2.6/A.3.2.7: what an answered AddObject, DeleteObject or
        # SetParameterAttributes changed is on disk before the response goes out
        ip = "Device.ManagementServer.InformParameter."
        pii = "Device.ManagementServer.PeriodicInformInterval"
        self.acs.queue(m.rpc_add(ip, "k1"))
        self.acs.queue(m.rpc_add(ip, "k2"))
        self.acs.queue(m.rpc_delete(ip + "1.", "k3"))
        self.acs.queue(m.rpc_spa([{"name": pii, "notification": 1}]))
        self.acs.queue(m.rpc_gpv(["Device.DeviceInfo.UpTime"]))
        self.acs.inject("GetParameterValuesResponse", delay=5)  # kill inside the session
        d = self.start_daemon()
        wait_until(lambda: any(r.method == "SetParameterAttributesResponse"
                               for s in self.acs.sessions for r in s.responses), 10,
                   "the SetParameterAttributesResponse")
        d.kill9()
        self.acs.queue(m.rpc_gpn(ip, True))
        self.acs.queue(m.rpc_add(ip, "k4"))
        self.acs.queue(m.rpc_gpa([pii]))
        d.start()
        self.acs.wait_for(lambda: any(x.ended_ok for x in self.acs.sessions), timeout=20,
                          what="a session after the restart")
        ok = [x for x in self.acs.sessions if x.ended_ok][0]
        gpn, add, gpa = ok.responses[:3]
        self.assertEqual([n for n, _ in gpn.value], [ip + "2."])
        self.assertEqual(add.value[0], 3, "instance numbers are never reused")
        self.assertEqual(gpa.value[0][1], 1)
        self.assertEqual(ok.inform.parameters["Device.ManagementServer.ParameterKey"][0], "k3")

    def test_sigterm_is_a_clean_exit(self):
        d = self.start_daemon()
        self.acs.wait_sessions(1)
        t = time.monotonic()
        self.assertEqual(d.stop(), 0)
        self.assertLess(time.monotonic() - t, 5)


if __name__ == "__main__":
    unittest.main()
