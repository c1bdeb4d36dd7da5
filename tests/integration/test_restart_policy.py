"""What a kill -9 and a restart do to queued events (TR-069 3.7.1.5, Table 8 "Retry/Discard
Policy", applied per code at every start), and the queue when the cache cannot take an event
(a read-only database file): the event still goes in the Inform, and the daemon says so."""
import os
import shutil
import sqlite3
import subprocess
import time
import unittest

from support import ProxierTestCase, wait_until

# Table 8, per row: is an undelivered event of this code still delivered after a restart?
# Rows that only a request can confirm (TransferComplete, ...) need the record behind them,
# so they are checked in the log (the restart keeps them) rather than in the Inform.
KEPT, DISCARDED = True, False
TABLE_8 = {
    "1 BOOT": DISCARDED,            # "retry delivery until it reboots" (a new one comes)
    "2 PERIODIC": KEPT,             # "MUST NOT ever discard"
    "3 SCHEDULED": KEPT,
    "4 VALUE CHANGE": DISCARDED,    # "retry delivery until it reboots"
    "5 KICKED": DISCARDED,          # "MAY retry at its discretion"
    "6 CONNECTION REQUEST": DISCARDED,  # "MUST NOT retry delivery"
    "7 TRANSFER COMPLETE": KEPT,
    "8 DIAGNOSTICS COMPLETE": DISCARDED,
    "9 REQUEST DOWNLOAD": DISCARDED,    # "MAY retry at its discretion"
    "10 AUTONOMOUS TRANSFER COMPLETE": KEPT,
    "11 DU STATE CHANGE COMPLETE": KEPT,
    "12 AUTONOMOUS DU STATE CHANGE COMPLETE": KEPT,
    "13 WAKEUP": DISCARDED,
    "M Reboot": KEPT,
    "M ScheduleInform": KEPT,
    "M Download": KEPT,
    "M ScheduleDownload": KEPT,
    "M Upload": KEPT,
    "M ChangeDUState": KEPT,
    "M X_00D09E_Thing": DISCARDED,  # vendor: our policy is "until reboot"
    "X 00D09E Tamper": DISCARDED,
}
BY_REQUEST = {"5 KICKED", "7 TRANSFER COMPLETE", "9 REQUEST DOWNLOAD",
              "10 AUTONOMOUS TRANSFER COMPLETE", "11 DU STATE CHANGE COMPLETE",
              "12 AUTONOMOUS DU STATE CHANGE COMPLETE", "M Download", "M ScheduleDownload",
              "M Upload", "M ChangeDUState"}


def queue_events(db_path, codes):
    """Queue events in the daemon's cache the way endpoint.c does (one row each)."""
    with sqlite3.connect(db_path, timeout=10) as db:
        for code in codes:
            db.execute("INSERT INTO event(endpoint, code, command_key, created) "
                       "VALUES('gateway', ?, ?, strftime('%s','now'))", (code, f"key-{code}"))


def read_only_wrapper(path):
    """A wrapper that runs proxierd with `path` bind-mounted read-only in a private mount
    namespace (chmod does not stop root), or None where this is not possible."""
    if not shutil.which("unshare"):
        return None
    script = (f'mount --bind "{path}" "{path}" && mount -o remount,bind,ro "{path}" '
              '&& exec "$@"')
    for flags in (["-m"], ["-Urm"]) if os.geteuid() == 0 else (["-Urm"],):
        probe = subprocess.run(["unshare", *flags, "sh", "-c", script + " >/dev/null", "sh",
                                "true"], capture_output=True)
        if probe.returncode == 0:
            return ["unshare", *flags, "sh", "-c", script, "sh"]
    return None


def cr_url(acs):
    """The ConnectionRequestURL of the latest Inform."""
    informs = [s.inform for s in acs.sessions if s.inform]
    return informs[-1].parameters["Device.ManagementServer.ConnectionRequestURL"][0]


def events_of(session):
    return [code for code, _ in session.inform.events]


class RestartPolicy(ProxierTestCase):
    def booted(self):
        d = self.start_daemon()
        self.acs.wait_sessions(1)
        wait_until(lambda: "session ended" in d.log_text(), 10, "the first session's end")
        return d

    def test_each_table_8_row_after_kill_9(self):
        d = self.booted()
        rows = [code for code in TABLE_8 if code != "1 BOOT"]
        queue_events(d.db_path, rows + ["1 BOOT"])
        d.kill9()
        d.start()
        s = self.acs.wait_sessions(2)[1]
        sent = events_of(s)
        log = d.log_text().split("==== start")[-1]
        self.assertEqual(sent.count("1 BOOT"), 1, "one BOOT: the old one was discarded")
        for code in rows:
            with self.subTest(code=code):
                if code in BY_REQUEST:
                    # nothing backs the row: the session drops it as an orphan, not the restart
                    self.assertNotIn(code, sent)
                    self.assertEqual(f'event "{code}"' in log and "discarded at restart" in
                                     log.split(f'event "{code}"')[1].split("\n")[0],
                                     not TABLE_8[code], log)
                elif TABLE_8[code]:
                    self.assertIn(code, sent)
                else:
                    self.assertNotIn(code, sent)
        self.assertIn(("M ScheduleInform", "key-M ScheduleInform"), s.inform.events)

    def test_bootstrap_is_kept_and_discards_nothing_else_at_restart(self):
        d = self.booted()
        queue_events(d.db_path, ["0 BOOTSTRAP", "M Reboot"])
        d.kill9()
        d.start()
        s = self.acs.wait_sessions(2)[1]
        self.assertEqual(sorted(events_of(s)), ["0 BOOTSTRAP", "1 BOOT", "M Reboot"])

    def test_a_connection_request_is_not_sent_again_after_kill_9(self):
        # Table 8: "6 CONNECTION REQUEST" MUST NOT be retried: the Inform that carried it is
        # cut by a kill -9 before its InformResponse; the next run must not send it again.
        d = self.booted()
        self.acs.inject("Inform", delay=5)
        r = self.acs.connection_request(cr_url(self.acs), "cruser", "crpass")
        self.assertEqual(r.status, 200, r)
        wait_until(lambda: len(self.acs.requests) >= 3 and
                   b"6 CONNECTION REQUEST" in self.acs.requests[-1].body, 10,
                   "the Inform with 6 CONNECTION REQUEST")
        d.kill9()
        d.start()
        self.acs.wait_for(lambda: any(x.ended_ok and "1 BOOT" in events_of(x)
                                      for x in self.acs.sessions[1:]), 20, "the BOOT session")
        boot = [x for x in self.acs.sessions[1:] if x.ended_ok][0]
        self.assertEqual(events_of(boot), ["1 BOOT"])


class ReadOnlyCache(ProxierTestCase):
    def test_events_the_cache_cannot_store_still_go_in_the_inform(self):
        d = self.start_daemon()
        self.acs.wait_sessions(1)
        d.stop()
        wrapper = read_only_wrapper(d.db_path)
        if not wrapper:
            self.skipTest("no way to make the cache read-only here (unshare, mount)")
        d.wrapper = wrapper
        d.start()
        s = self.acs.wait_sessions(2)[1]
        self.assertEqual(events_of(s), ["1 BOOT"])
        wait_until(lambda: "session ended" in d.log_text().split("==== start")[-1], 10,
                   "the BOOT session's end")
        log = d.log_text().split("==== start")[-1]
        # one error line for the cache, with SQLite's own message and code, not one per write
        errors = [line for line in log.splitlines() if line.split()[1:2] == ["error"]]
        self.assertEqual(len(errors), 1, errors)
        self.assertIn("[cache]", errors[0])
        self.assertIn("attempt to write a readonly database (sqlite error 8", errors[0])
        kept = [line for line in log.splitlines() if "kept in memory, this run only" in line]
        self.assertEqual(len(kept), 1, kept)
        self.assertIn("warn", kept[0])
        self.assertIn("1 BOOT", kept[0])
        # Delivered is delivered, even if the cache cannot forget it: the next session (a
        # connection request) carries only its own event, once.
        r = self.acs.connection_request(cr_url(self.acs), "cruser", "crpass")
        self.assertEqual(r.status, 200, r)
        s3 = self.acs.wait_sessions(3)[2]
        self.assertEqual(events_of(s3), ["6 CONNECTION REQUEST"])
        time.sleep(1)
        self.assertEqual(len(self.acs.sessions), 3)


if __name__ == "__main__":
    unittest.main()
