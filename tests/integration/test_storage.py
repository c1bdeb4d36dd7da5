"""A cache that cannot write (issue 8 items 4 and 5): on a full disk connection requests and
periodic Informs still start their session, the failure is logged once at error level with
SQLite's message and code, the control socket's status shows it, and all is well again
once space returns; a local set on a full or locked cache answers with SQLite's cause.

The full disk is a small tmpfs mounted in a private mount namespace (unshare -m, as root);
the test reaches it through /proc/PID/root of the daemon."""
import os
import shutil
import sqlite3
import subprocess
import time
import unittest

from support import ProxierTestCase, ctl_command, wait_until
from test_restart_policy import cr_url, events_of

FULL = "database or disk is full"


def tmpfs_wrapper(mnt, size="8m"):
    """Run proxierd with a tmpfs of `size` on `mnt` in its own mount namespace, or None."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return None
    script = f'mount -t tmpfs -o size={size} tmpfs "{mnt}" && exec "$@"'
    probe = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", "true"],
                           capture_output=True)
    return ["unshare", "-m", "sh", "-c", script, "sh"] if probe.returncode == 0 else None


def fill(directory):
    """Fill the filesystem of `directory` to the last byte; returns the filler's path."""
    path = os.path.join(directory, "filler")
    with open(path, "wb", buffering=0) as f:
        for chunk in (65536, 4096, 1):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError:
                pass
    return path


def level_lines(log, level):
    return [line for line in log.splitlines() if line.split()[1:2] == [level]]


class FullDisk(ProxierTestCase):
    def start_on_tmpfs(self, overrides=None):
        mnt = os.path.join(self.tmp, "mnt")
        os.mkdir(mnt)
        wrapper = tmpfs_wrapper(mnt)
        if not wrapper:
            self.skipTest("no private tmpfs here (needs root and unshare -m)")
        self.sock = os.path.join(self.tmp, "ctl.sock")
        config = {"cache": {"path": os.path.join(mnt, "proxierd.db")},
                  "control": {"socket": self.sock}}
        for section, keys in (overrides or {}).items():
            config.setdefault(section, {}).update(keys)
        d = self.start_daemon(config, wrapper=wrapper)
        self.acs.wait_sessions(1)
        wait_until(lambda: "session ended" in d.log_text(), 10, "the first session's end")
        self.root = f"/proc/{d.pid}/root{mnt}"
        self.assertIn("proxierd.db", os.listdir(self.root))
        return d

    def status(self):
        return ctl_command(self.sock, "status")

    def test_sessions_go_on_and_the_cache_recovers(self):
        d = self.start_on_tmpfs()
        self.assertTrue(self.status().endswith(" cache=ok"), self.status())
        filler = fill(self.root)

        # a connection request is answered and its session starts, the disk full or not
        r = self.acs.connection_request(cr_url(self.acs), "cruser", "crpass")
        self.assertEqual(r.status, 200, r)
        s = self.acs.wait_sessions(2)[1]
        self.assertEqual(events_of(s), ["6 CONNECTION REQUEST"])
        wait_until(lambda: d.log_text().count("session ended") >= 2, 10, "its end")
        self.assertTrue(self.status().endswith(f" cache=error:{FULL} (13)"), self.status())
        # and a second one: still no more than one error line
        r = self.acs.connection_request(cr_url(self.acs), "cruser", "crpass")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(events_of(self.acs.wait_sessions(3)[2]), ["6 CONNECTION REQUEST"])
        wait_until(lambda: d.log_text().count("session ended") >= 3, 10, "its end")
        errors = level_lines(d.log_text(), "error")
        self.assertEqual(len(errors), 1, errors)
        self.assertIn("[cache]", errors[0])
        self.assertIn(f"{FULL} (sqlite error 13)", errors[0])

        # space again: the next write succeeds, status and log say so, events are durable
        os.unlink(filler)
        r = self.acs.connection_request(cr_url(self.acs), "cruser", "crpass")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(events_of(self.acs.wait_sessions(4)[3]), ["6 CONNECTION REQUEST"])
        wait_until(lambda: self.status().endswith(" cache=ok"), 10, "cache=ok in status")
        recovered = [line for line in level_lines(d.log_text(), "info")
                     if "takes writes again" in line]
        self.assertEqual(len(recovered), 1, d.log_text())
        self.assertIn(FULL, recovered[0])
        kept = d.log_text().split(recovered[0])[1]
        self.assertNotIn("kept in memory", kept, "an event after the recovery was not stored")
        self.assertEqual(len(level_lines(d.log_text(), "error")), 1)

    def test_periodic_informs_go_on(self):
        d = self.start_on_tmpfs({"cwmp": {"periodic_inform_enable": True,
                                          "periodic_inform_interval": 2}})
        fill(self.root)
        before = len(self.acs.sessions)
        self.acs.wait_for(lambda: sum("2 PERIODIC" in events_of(s) for s in
                                      self.acs.sessions[before:] if s.inform) >= 2, 15,
                          "two periodic Informs on the full disk")
        wait_until(lambda: "cache=error" in self.status(), 5, "cache=error in status")
        self.assertEqual(len(level_lines(d.log_text(), "error")), 1, d.log_text())

    def test_local_set_says_the_disk_is_full(self):
        d = self.start_on_tmpfs()
        fill(self.root)
        reply = ctl_command(self.sock, "set Device.ManagementServer.PeriodicInformInterval 77")
        self.assertTrue(reply.startswith("error 9002 cannot store the new values: "), reply)
        self.assertIn(f"{FULL} (sqlite error 13)", reply)
        self.assertNotIn("without cache_begin", reply)
        # nothing was applied
        self.assertEqual(ctl_command(self.sock, "get Device.ManagementServer."
                                     "PeriodicInformInterval"), "ok 86400")
        self.assertIn(f"cache=error:{FULL} (13)", self.status())


class LockedCache(ProxierTestCase):
    def test_local_set_says_the_cache_is_locked(self):
        sock = os.path.join(self.tmp, "ctl.sock")
        d = self.start_daemon({"control": {"socket": sock}})
        self.acs.wait_sessions(1)
        wait_until(lambda: "session ended" in d.log_text(), 10, "the first session's end")
        holder = sqlite3.connect(d.db_path, isolation_level=None, timeout=10)
        holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        try:
            started = time.monotonic()
            reply = ctl_command(sock, "set Device.ManagementServer.PeriodicInformInterval 77",
                                timeout=15)
            waited = time.monotonic() - started
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        self.assertTrue(reply.startswith("error 9002 cannot store the new values: "), reply)
        self.assertIn("database is locked (sqlite error 5)", reply)
        self.assertIn(d.db_path, reply)
        self.assertNotIn("without cache_begin", reply)
        self.assertGreater(waited, 1.5)   # it waited for the lock (busy timeout 2 s) first
        self.assertEqual(ctl_command(sock, "get Device.ManagementServer.PeriodicInformInterval"),
                         "ok 86400")
        # the lock is gone: the same set succeeds, and the cache is healthy again
        self.assertEqual(ctl_command(sock, "set Device.ManagementServer.PeriodicInformInterval "
                                     "77"), "ok")
        self.assertTrue(ctl_command(sock, "status").endswith(" cache=ok"))


if __name__ == "__main__":
    unittest.main()
