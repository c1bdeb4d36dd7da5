"""The daemon's memory after very large ACS messages: a session that carried one gives the
heap's free pages back to the system when it ends (proxier/common/mem.h, glibc malloc_trim),
so the private memory (RssAnon) returns to what it was before. Without that, glibc keeps
megabytes of free heap after a few 3.7 MB envelopes (docs/operations.md "Memory")."""
import platform
import time
import unittest

from support import ProxierTestCase, soapmsg as m

URL_PARAM = "Device.ManagementServer.ConnectionRequestURL"
LARGE_NAMES = 72000          # 3.7 MB of names: more than SOAP_MAX_ITEMS, answered with 9003
LARGE_MESSAGES = 4
MARGIN_KB = 1024             # what ordinary sessions may add (measured: tens of kB)


def proc_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def uses_asan(pid):
    """ASan has its own allocator, which keeps freed memory in quarantine on purpose."""
    with open(f"/proc/{pid}/maps") as f:
        return "libasan" in f.read()


@unittest.skipUnless(platform.libc_ver()[0] == "glibc", "the release needs glibc malloc_trim")
class MemoryAfterLargeMessages(ProxierTestCase):
    def session(self, rpc):
        """One connection-request session in which the ACS sends rpc; the session ended."""
        n = len([s for s in self.acs.sessions if s.ended])
        self.acs.queue(rpc)
        for _ in range(100):  # 503 while the previous session is still closing (3.2.2.2)
            r = self.acs.connection_request(self.url, "cruser", "crpass")
            if r.statuses != [401, 503]:
                break
            time.sleep(0.05)
        self.assertEqual(r.statuses, [401, 200])
        s = self.acs.wait_sessions(n + 1, timeout=30)[n]
        self.assertTrue(s.ended_ok)
        return s

    def rss_anon_settled(self, pid):
        time.sleep(0.3)  # the session is freed from the daemon's loop just after it ends
        return proc_kb(pid, "RssAnon")

    def test_private_memory_returns_after_large_messages(self):
        small = m.rpc_gpv(["Device.DeviceInfo.SoftwareVersion"])
        self.acs.queue(small)
        d = self.start_daemon({"log": {"level": "info"},
                               "connection_request": {"rate_interval": 0}})
        self.url = self.acs.wait_sessions(1)[0].inform.parameters[URL_PARAM][0]
        if uses_asan(d.pid):
            self.skipTest("AddressSanitizer build: its allocator keeps freed memory")
        for _ in range(3):
            self.session(small)
        before = self.rss_anon_settled(d.pid)
        large = m.rpc_gpv(["Device.DeviceInfo.SoftwareVersion"] * LARGE_NAMES)
        self.assertGreater(len(large.body), 3_500_000)
        for _ in range(LARGE_MESSAGES):
            s = self.session(large)
            self.assertEqual(s.responses[0].fault.code, 9003)
        self.session(small)
        after = self.rss_anon_settled(d.pid)
        self.assertLess(after - before, MARGIN_KB,
                        f"RssAnon {before} kB before {LARGE_MESSAGES} messages of 3.7 MB, "
                        f"{after} kB after")
        self.assertTrue(d.running())


if __name__ == "__main__":
    unittest.main()
