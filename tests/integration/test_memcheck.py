"""The daemon under valgrind's memcheck for a session that exercises every RPC path, its
faults, a control-socket change and a clean SIGTERM: no invalid access, no leak."""
import os
import shutil
import unittest

from support import ProxierTestCase, soapmsg as m, wait_until

VALGRIND = ["valgrind", "--error-exitcode=9", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect", "--track-fds=no"]


@unittest.skipUnless(shutil.which("valgrind"), "valgrind is not installed (scripts/deps.sh)")
class Memcheck(ProxierTestCase):
    def test_every_rpc_path_is_clean_under_memcheck(self):
        q = self.acs.queue
        q(m.rpc_get_rpc_methods())
        q(m.rpc_gpv(["Device."]))
        q(m.rpc_gpv(["Device.Nope."]))
        q(m.rpc_spv([("Device.ManagementServer.PeriodicInformInterval", "300",
                      "xsd:unsignedInt")], key="k1"))
        q(m.rpc_spv([("Device.ManagementServer.PeriodicInformInterval", "0", "xsd:unsignedInt"),
                     ("Device.Nope", "1", "xsd:string")], key="k2"))
        q(m.rpc_gpn("Device.", False))
        q(m.rpc_gpn("Device.DeviceInfo.", True))
        q(m.rpc_add("Device.ManagementServer.InformParameter.", "k3"))
        q(m.rpc_spv([("Device.ManagementServer.InformParameter.1.ParameterName",
                      "Device.DeviceInfo.UpTime", "xsd:string")], key="k4"))
        q(m.rpc_delete("Device.ManagementServer.InformParameter.1.", "k5"))
        q(m.rpc_gpa(["Device.ManagementServer."]))
        q(m.rpc_spa([{"name": "Device.ManagementServer.PeriodicInformInterval",
                      "notification": 1, "access_list": ["Subscriber"]}]))
        q(m.rpc_spa([{"name": "Device.DeviceInfo.UpTime", "notification": 2}]))
        q(m.rpc_raw("<cwmp:Frobnicate/>", method="Frobnicate"))
        q(m.rpc_raw("<cwmp:GetParameterNames><ParameterPath>Device.</ParameterPath>"
                    "</cwmp:GetParameterNames>", method="GetParameterNames"))
        q(m.rpc_schedule_inform(1, "again"))
        sock = os.path.join(self.tmp, "ctl.sock")
        d = self.start_daemon({"control": {"socket": sock}}, wrapper=VALGRIND)
        self.acs.wait_sessions(2, timeout=120)
        self.assertTrue(all(s.ended_ok for s in self.acs.sessions[:2]))
        self.assertEqual(d.stop(timeout=60), 0, "valgrind found errors: see the log")
        self.assertIn("All heap blocks were freed", d.log_text())


if __name__ == "__main__":
    unittest.main()
