"""File transfers end to end (TR-069 A.3.2.8 Download, A.4.1.5 Upload, A.4.1.8
ScheduleDownload, A.4.1.9 CancelTransfer, A.4.1.1/A.4.1.7 Get(All)QueuedTransfers, A.3.3.2
TransferComplete, A.3.3.3 AutonomousTransferComplete, Table 8, 3.4.3, A.5.1 9010-9021):
a real file server on loopback (file_server.py), the test ACS scripting each RPC, and every
CPE message validated against the schemas by the ACS."""
import os
import re
import stat
import time
import unittest

from file_server import FileServer
from support import ProxierTestCase, ctl_command, free_port, soapmsg as m, wait_until

UNKNOWN = "0001-01-01T00:00:00Z"
KICK = "Device.DeviceInfo.ProvisioningCode"


class TransferCase(ProxierTestCase):
    fs_options = {}
    transfer = {}

    def setUp(self):
        super().setUp()
        self.fs = FileServer(**self.fs_options).start()
        self.addCleanup(self.fs.stop)
        self.files = os.path.join(self.tmp, "files")
        self.sock = os.path.join(self.tmp, "ctl.sock")
        self.kicks = 0

    def start(self, extra=None):
        cfg = {"dir": self.files,
               "firmware_action": f"cp %f {self.tmp}/installed.bin",
               "config_action": f"cp %f {self.tmp}/config.applied",
               "upload_config": os.path.join(self.tmp, "config.xml"),
               "upload_log": os.path.join(self.tmp, "log.txt"),
               "stall_timeout": 5}
        cfg.update(self.transfer)
        cfg.update(extra or {})
        acs_ca = {"ca_file": self.fs.ca_file} if self.fs.ca_file else {}
        self.daemon = self.start_daemon({"transfer": cfg, "control": {"socket": self.sock},
                                         "acs": acs_ca})
        return self.daemon

    def ctl(self, line):
        return ctl_command(self.sock, line)

    def kick(self):
        """A new Session now (a local change of a forced-active parameter, 3.2.1)."""
        wait_until(lambda: os.path.exists(self.sock) and
                   self.ctl("status").startswith("ok session=idle"), 15, "an idle endpoint")
        self.kicks += 1
        self.assertEqual(self.ctl(f"set {KICK} kick-{self.kicks}"), "ok")

    def transfer_completes(self, method="TransferComplete"):
        return [(s.index, r) for s in self.acs.sessions for meth, r in s.cpe_requests
                if meth == method]

    def wait_complete(self, key, timeout=30, method="TransferComplete"):
        wait_until(lambda: any(r.get("CommandKey") == key
                               for _, r in self.transfer_completes(method)), timeout,
                   f"{method} {key!r}")
        return [r for _, r in self.transfer_completes(method) if r.get("CommandKey") == key]

    def inform_events(self, key):
        """The events of the Inform of the Session that delivered key's TransferComplete."""
        for s in self.acs.sessions:
            if any(meth == "TransferComplete" and r.get("CommandKey") == key
                   for meth, r in s.cpe_requests):
                return s.inform.events
        return None

    def assert_reported(self, key, fault=0, event="M Download"):
        tcs = self.wait_complete(key)
        self.assertEqual(len(tcs), 1, f"{key} reported {len(tcs)} times")
        tc = tcs[0]
        self.assertEqual(tc["fault_code"], fault, tc.get("fault_string"))
        if fault:
            self.assertTrue(tc["fault_string"], "a fault string that says what happened")
        events = self.inform_events(key)
        self.assertIn(("7 TRANSFER COMPLETE", ""), events)
        self.assertIn((event, key), events)
        return tc


class Download(TransferCase):
    def test_web_content_download_is_reported_in_the_next_session(self):
        body = b"<html>hello</html>" * 100
        self.fs.files["/ui/index.html"] = body
        self.acs.queue(m.rpc_download(self.fs.url("/ui/index.html"), "2 Web Content", "dl-1",
                                      file_size=len(body), target="portal.html"))
        self.start()
        tc = self.assert_reported("dl-1")
        first = self.acs.sessions[0]
        # A.3.2.8 Table 34: not completed yet -> Status 1 and the Unknown Time
        self.assertEqual(first.responses[0].value, (1, UNKNOWN, UNKNOWN))
        self.assertNotEqual(tc["StartTime"], UNKNOWN)
        self.assertNotEqual(tc["CompleteTime"], UNKNOWN)
        self.assertLessEqual(tc["StartTime"], tc["CompleteTime"])
        with open(os.path.join(self.files, "portal.html"), "rb") as f:
            self.assertEqual(f.read(), body)
        # delivered: the events leave the queue, nothing is reported twice
        n = len(self.acs.wait_sessions(len(self.acs.sessions)))
        self.kick()
        last = self.acs.wait_sessions(n + 1)[n]
        self.assertNotIn(("7 TRANSFER COMPLETE", ""), last.inform.events)
        self.assertEqual(len(self.transfer_completes()), 1)

    def test_a_file_on_the_acs_host_comes_over_a_second_connection(self):
        # 3.4.3: a file at the ACS's own host and port; we take the second option, a
        # connection of its own while the session goes on
        body = b"tone" * 256
        self.acs.files["/files/ring.bin"] = body
        self.acs.queue(m.rpc_download(self.acs.base_url + "/files/ring.bin", "5 Ringer File",
                                      "acs-host", target="ring.bin"))
        self.start()
        self.assert_reported("acs-host")
        with open(os.path.join(self.files, "ring.bin"), "rb") as f:
            self.assertEqual(f.read(), body)
        gets = [r for r in self.acs.requests if r.method == "GET"]
        self.assertEqual([r.path for r in gets], ["/files/ring.bin"])
        session_conns = {c for s in self.acs.sessions for c in s.conn_ids}
        self.assertNotIn(gets[0].conn_id, session_conns)

    def test_transfer_complete_8005_and_fault(self):
        # 3.7.1.6: 8005 => the identical TransferComplete again in the session; another fault
        # => not again in that session, but its events stay and the next session delivers it
        self.fs.files["/a.bin"] = b"a"
        self.fs.files["/b.bin"] = b"b"
        self.acs.inject("TransferComplete", fault=8005)
        self.acs.queue(m.rpc_download(self.fs.url("/a.bin"), "2 Web Content", "tc-8005"))
        self.start()
        wait_until(lambda: len(self.transfer_completes()) == 2, 20, "the resent TransferComplete")
        (s1, tc1), (s2, tc2) = self.transfer_completes()
        self.assertEqual(s1, s2, "sent twice in one session, after the 8005")
        self.assertEqual(tc1, tc2, "the identical request")
        self.acs.inject("TransferComplete", fault=8002)
        self.acs.queue(m.rpc_download(self.fs.url("/b.bin"), "2 Web Content", "tc-8002"))
        self.kick()
        self.wait_complete("tc-8002")
        refused = [s for s in self.acs.sessions
                   if any(r.get("CommandKey") == "tc-8002" for meth, r in s.cpe_requests)]
        self.kick()  # the events stayed: the next session reports it again
        wait_until(lambda: len([s for s in self.acs.sessions if any(
            r.get("CommandKey") == "tc-8002" for meth, r in s.cpe_requests)]) == 2, 20,
            "the refused TransferComplete in the next session")
        again = [s for s in self.acs.sessions if any(
            r.get("CommandKey") == "tc-8002" for meth, r in s.cpe_requests)][1]
        self.assertNotEqual(again.index, refused[0].index)
        self.assertIn(("M Download", "tc-8002"), again.inform.events)
        self.assertIn(("7 TRANSFER COMPLETE", ""), again.inform.events)

    def test_vendor_configuration_runs_the_config_action(self):
        self.fs.files["/cfg.xml"] = b"<config/>"
        self.acs.queue(m.rpc_download(self.fs.url("/cfg.xml"), "3 Vendor Configuration File",
                                      "cfg-1"))
        self.start()
        self.assert_reported("cfg-1")
        with open(os.path.join(self.tmp, "config.applied"), "rb") as f:
            self.assertEqual(f.read(), b"<config/>")

    def test_failures_have_their_a51_codes(self):
        self.fs.files["/trunc.bin"] = b"x" * 50000
        self.fs.truncate["/trunc.bin"] = 10000
        self.fs.files["/big.bin"] = b"y" * (2 * 1024 * 1024 + 10)
        self.fs.files["/bad.bin"] = b"z" * 100
        dead = f"http://127.0.0.1:{free_port()}/fw.bin"
        cases = [("nf", self.fs.url("/missing.bin"), 9016),
                 ("refused", dead, 9015),
                 ("trunc", self.fs.url("/trunc.bin"), 9017),
                 ("big", self.fs.url("/big.bin"), 9010)]
        for key, url, _ in cases:
            self.acs.queue(m.rpc_download(url, "2 Web Content", key))
        self.start({"max_file_size": 1})
        for key, _, code in cases:
            with self.subTest(key=key):
                tc = self.assert_reported(key, code)
                self.assertNotEqual(tc["StartTime"], UNKNOWN)
        self.assertEqual(sorted(os.listdir(self.files)), [], "no partial file is left")

    def test_a_firmware_that_fails_to_apply_is_9018(self):
        self.fs.files["/fw.bin"] = b"broken"
        self.acs.queue(m.rpc_download(self.fs.url("/fw.bin"), key="fw-bad"))
        self.start({"firmware_action": "exit 3"})
        tc = self.assert_reported("fw-bad", 9018)
        self.assertIn("exit status 3", tc["fault_string"])

    def test_request_faults(self):
        self.start()
        self.acs.wait_sessions(1)
        rpcs = [m.rpc_download("ftp://127.0.0.1/x", "2 Web Content", "p"),
                m.rpc_download("http://user:pw@127.0.0.1/x", "2 Web Content", "u"),
                m.rpc_download(self.fs.url("/x"), "2 Web Content", "t", target="../etc/passwd"),
                m.rpc_download(self.fs.url("/x"), "6 Unknown Type", "f"),
                m.rpc_download(self.fs.url("/x"), "2 Web Content", "s",
                               file_size=4000 * 1024 * 1024)]
        for r in rpcs:
            self.acs.queue(r)
        self.kick()
        s = self.acs.wait_sessions(2)[1]
        codes = [r.fault.code if r.fault else None for r in s.responses]
        self.assertEqual(codes, [9013, 9003, 9003, 9003, 9010])


class DefaultInstall(TransferCase):
    """Run as the README shows: no [transfer] section at all."""

    def start_default(self, extra=None):
        overrides = {"control": {"socket": self.sock}}
        overrides.update(extra or {})
        self.daemon = self.start_daemon(overrides)
        return self.daemon

    def test_download_works_and_the_directory_is_created_owner_only(self):
        self.fs.files["/ui/page.html"] = b"<html>default</html>"
        self.acs.queue(m.rpc_download(self.fs.url("/ui/page.html"), "2 Web Content", "dflt",
                                      target="page.html"))
        self.start_default()
        self.assert_reported("dflt")
        # next to the cache (cache.path is <tmp>/proxierd.db), owner only
        st = os.stat(self.files)
        self.assertTrue(stat.S_ISDIR(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
        with open(os.path.join(self.files, "page.html"), "rb") as f:
            self.assertEqual(f.read(), b"<html>default</html>")

    def test_a_firmware_still_needs_an_action(self):
        # no safe default for flashing: refused at the request, nothing is fetched
        self.fs.files["/fw.bin"] = b"firmware"
        self.acs.queue(m.rpc_download(self.fs.url("/fw.bin"), key="fw-none"))
        self.start_default()
        r = self.acs.wait_sessions(1)[0].responses[0]
        self.assertEqual(r.fault.code, 9003)
        self.assertIn("firmware_action", r.fault.string)
        self.assertEqual(self.fs.gets, [])

    def test_an_unusable_directory_is_a_start_up_error(self):
        blocker = os.path.join(self.tmp, "a-file")
        with open(blocker, "w") as f:
            f.write("not a directory")
        cases = [(blocker, "Not a directory"),
                 (os.path.join(self.tmp, "missing", "files"), "No such file or directory")]
        if os.geteuid() != 0:   # root may write anywhere: no refusal to see
            ro = os.path.join(self.tmp, "read-only")
            os.mkdir(ro, 0o500)
            cases.append((ro, "Permission denied"))
        for path, reason in cases:
            with self.subTest(path=path):
                d = self.start_daemon({"transfer": {"dir": path}})
                self.assertEqual(d.wait_exit(10), 1)
                lines = [line for line in d.log_text().splitlines()
                         if " error " in line and path in line]
                self.assertEqual(len(lines), 1, d.log_text())
                self.assertIn(reason, lines[0])
                os.unlink(d.log_path)
        self.assertEqual(len(self.acs.sessions), 0, "no session without a transfer directory")


class LogUpload(TransferCase):
    """Upload "2 Vendor Log File" with nothing configured: the daemon's recent log."""
    MS = "Device.ManagementServer."
    LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (error|warn |info |debug) "
                      r"\[[a-z_]+\] ")

    def test_the_last_lines_without_passwords(self):
        self.acs.queue(m.rpc_spv([(self.MS + "ConnectionRequestPassword", "acs-SECRET-1",
                                   "xsd:string")], "pw"))
        self.daemon = self.start_daemon({"control": {"socket": self.sock},
                                         "log": {"ring_lines": 12, "trace": True}})
        self.acs.wait_sessions(1)
        self.kick()   # a local change, logged, of a visible parameter
        wait_until(lambda: self.ctl("status").startswith("ok session=idle"), 15, "idle")
        self.assertEqual(self.ctl(f"set {self.MS}STUNPassword local-SECRET-2"), "ok")
        self.acs.queue(m.rpc_upload(self.fs.url("/logs/cpe.log"), "2 Vendor Log File",
                                    "log-1"))
        self.kick()
        self.assert_reported("log-1", event="M Upload")
        (path, _, body), = self.fs.uploads
        self.assertEqual(path, "/logs/cpe.log")
        lines = body.decode().splitlines()
        self.assertEqual(len(lines), 12, "log.ring_lines lines, the most recent ones")
        for line in lines:
            self.assertRegex(line, self.LINE)
        text = body.decode()
        self.assertIn(f"local change {self.MS}STUNPassword = ***", text)
        self.assertIn(f"local change {KICK} = kick-2", text)
        self.assertIn("queued transfer 1: 2 Vendor Log File", text)
        self.assertNotIn("starting, ACS", text, "older lines have left the ring")
        self.assertNotIn("<soap-env:Envelope", text, "no SOAP trace in the ring")
        self.assertNotIn("SECRET", text, "no password in the uploaded log")
        self.assertNotIn("SECRET", self.daemon.log_text(), "nor in the log itself")

    def test_no_ring_and_nothing_configured_is_9003(self):
        self.acs.queue(m.rpc_upload(self.fs.url("/logs/x.log"), "2 Vendor Log File", "nolog"))
        self.start_daemon({"log": {"ring_lines": 0}})
        first = self.acs.wait_sessions(1)[0]
        self.assertEqual(first.responses[0].fault.code, 9003)
        self.assertIn("ring_lines", first.responses[0].fault.string)


def parse_backup(body):
    """The records of a configuration backup (docs/operations.md, format version 1):
    [("instance", path) | ("value", path, value) | ("attr", path, notification, access)],
    values as bytes."""
    lines = body.split(b"\n")
    assert lines[0] == b"# proxierd-config 1", lines[0]
    escapes = {b"\\": b"\\", b"t": b"\t", b"n": b"\n", b"r": b"\r"}

    def unescape(field):
        out, i = b"", 0
        while i < len(field):
            if field[i:i + 1] != b"\\":
                out += field[i:i + 1]
                i += 1
            elif field[i + 1:i + 2] == b"x":
                out += bytes([int(field[i + 2:i + 4], 16)])
                i += 4
            else:
                out += escapes[field[i + 1:i + 2]]
                i += 2
        return out

    records = []
    for line in lines[1:]:
        if not line or line.startswith(b"#"):
            continue
        kind, *fields = line.split(b"\t")
        fields = [unescape(f) for f in fields]
        if kind == b"instance":
            records.append(("instance", fields[0].decode()))
        elif kind == b"value":
            records.append(("value", fields[0].decode(), fields[1]))
        else:
            records.append(("attr", fields[0].decode(), int(fields[1]), fields[2].decode()))
    return records


class ConfigBackup(TransferCase):
    """Upload "1 Vendor Configuration File" and Download "3 Vendor Configuration File" with
    nothing configured: the built-in backup and restore."""
    MS = "Device.ManagementServer."
    IP = "Device.ManagementServer.InformParameter."
    PII = "Device.ManagementServer.PeriodicInformInterval"
    HOSTILE = "line1\nline2\ttab caf\u00e9 \u65e5\u672c back\\slash \\x41 "

    def setUp(self):
        super().setUp()
        self.db = os.path.join(self.tmp, "proxierd.db")

    def start_default(self):
        self.daemon = self.start_daemon({"control": {"socket": self.sock}})
        self.acs.wait_sessions(1)
        return self.daemon

    def session(self, *rpcs):
        """rpcs in one new Session; the CPE's responses."""
        n = len(self.acs.wait_sessions(len(self.acs.sessions) or 1))
        for r in rpcs:
            self.acs.queue(r)
        self.kick()
        return self.acs.wait_sessions(n + 1)[n].responses

    def values(self, response):
        self.assertEqual(response.method, "GetParameterValuesResponse", response.value)
        return {name: value for name, (value, _) in response.value.items()}

    def configure(self):
        """What an ACS sets up: values, a row with values, an attribute, a password."""
        ip1 = self.IP + "1."
        r = self.session(
            m.rpc_add(self.IP, "k-add"),
            m.rpc_spv([(self.PII, "3600", "xsd:unsignedInt"),
                       (ip1 + "Enable", "true", "xsd:boolean"),
                       (ip1 + "ParameterName", self.HOSTILE, "xsd:string"),
                       (self.MS + "ConnectionRequestPassword", "cr-SECRET", "xsd:string")],
                      "k-set"),
            m.rpc_spa([{"name": self.PII, "notification": 1}]))
        self.assertEqual(r[0].value, (1, 0))
        self.assertEqual(r[1].value, 0)

    def backup(self, key):
        self.session(m.rpc_upload(self.fs.url(f"/cfg/{key}.txt"),
                                  "1 Vendor Configuration File", key))
        self.assert_reported(key, event="M Upload")
        body = [b for p, _, b in self.fs.uploads if p == f"/cfg/{key}.txt"]
        self.assertEqual(len(body), 1)
        return body[0]

    def cache_rows(self):
        """(values, instances) of the gateway in the cache file itself."""
        import sqlite3
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as c:
            values = dict(c.execute("select path, value from param_value where endpoint = "
                                    "'gateway' and path like 'Device.ManagementServer.%'"))
            rows = sorted(c.execute("select table_path, number from instance where endpoint = "
                                    "'gateway' and table_path = ?", (self.IP,)))
        return values, rows

    def test_upload_sends_the_documented_backup_of_what_was_set(self):
        self.start_default()
        self.configure()
        body = self.backup("bk-1")
        self.assertTrue(body.startswith(b"# proxierd-config 1\n# gateway 00D09E-HomeGateway-"
                                        b"PXTEST0001, proxierd "), body[:120])
        ip1 = self.IP + "1."
        self.assertEqual(sorted(parse_backup(body), key=str), sorted([
            ("instance", ip1),
            ("value", ip1 + "Enable", b"true"),
            ("value", ip1 + "ParameterName", self.HOSTILE.encode()),
            ("value", self.PII, b"3600"),
            ("value", KICK, f"kick-{self.kicks}".encode()),   # the control socket's set
            ("attr", self.PII, 1, "Subscriber"),
        ], key=str))
        self.assertNotIn(b"SECRET", body, "a password is never in a backup")
        self.assertNotIn(b"ParameterKey", body)
        self.assertEqual(os.listdir(self.files), [], "the snapshot is gone")

    def test_download_of_the_backup_restores_it(self):
        self.start_default()
        self.configure()
        body = self.backup("bk-2")
        ip1 = self.IP + "1."
        r = self.session(m.rpc_spv([(self.PII, "60", "xsd:unsignedInt")], "k-after"),
                         m.rpc_delete(ip1, "k-del"),
                         m.rpc_spa([{"name": self.PII, "notification": 0}]))
        self.assertEqual(r[0].value, 0)
        self.fs.files["/cfg/restore.txt"] = body
        self.session(m.rpc_download(self.fs.url("/cfg/restore.txt"),
                                    "3 Vendor Configuration File", "rs-1"))
        tc = self.assert_reported("rs-1")
        self.assertEqual(tc["fault_code"], 0)
        gpv, gpa, names = self.session(
            m.rpc_gpv([self.PII, ip1, self.MS + "ParameterKey",
                       self.MS + "InformParameterNumberOfEntries"]),
            m.rpc_gpa([self.PII]), m.rpc_gpn(self.IP, True))
        v = self.values(gpv)
        self.assertEqual(v[self.PII], "3600")
        self.assertEqual(v[ip1 + "Enable"], "true")
        self.assertEqual(v[ip1 + "ParameterName"], self.HOSTILE)
        self.assertEqual(v[self.MS + "InformParameterNumberOfEntries"], "1")
        self.assertEqual(v[self.MS + "ParameterKey"], "k-del",
                         "TR-181: only SPV/AddObject/DeleteObject change ParameterKey")
        self.assertEqual(gpa.value, [(self.PII, 1, ["Subscriber"])])
        self.assertEqual([n for n, _ in names.value], [ip1])
        # durable: in the cache file, and after a restart
        self.daemon.stop()
        values, rows = self.cache_rows()
        self.assertEqual(values[self.PII], "3600")
        self.assertEqual(values[ip1 + "ParameterName"], self.HOSTILE)
        self.assertEqual(rows, [(self.IP, 1)])
        self.daemon.start()
        n = len(self.acs.wait_sessions(len(self.acs.sessions) + 1))
        self.acs.queue(m.rpc_gpv([self.PII, ip1 + "ParameterName"]))
        self.kick()
        v = self.values(self.acs.wait_sessions(n + 1)[n].responses[0])
        self.assertEqual(v, {self.PII: "3600", ip1 + "ParameterName": self.HOSTILE})

    def test_a_corrupt_or_invalid_backup_fails_with_9018_and_changes_nothing(self):
        # one Download per case in one session: more than the default queue of 8
        self.daemon = self.start_daemon({"control": {"socket": self.sock},
                                         "transfer": {"max_queue": 16}})
        self.acs.wait_sessions(1)
        r = self.session(m.rpc_spv([(self.PII, "3600", "xsd:unsignedInt")], "k-base"))
        self.assertEqual(r[0].value, 0)
        good = (b"instance\tDevice.ManagementServer.InformParameter.7.\n"
                b"value\tDevice.ManagementServer.InformParameter.7.Enable\ttrue\n"
                b"value\t" + self.PII.encode() + b"\t120\n")
        hdr = b"# proxierd-config 1\n"
        cases = {
            "version": (b"# proxierd-config 2\n" + good, "version"),
            "header": (good, "line 1"),
            "unknown": (hdr + good + b"value\tDevice.ManagementServer.Nope\t1\n", "line 5"),
            "read-only": (hdr + good + b"value\tDevice.DeviceInfo.SoftwareVersion\t9\n",
                          "not writable"),
            "type": (hdr + good + b"value\tDevice.ManagementServer.CWMPRetryMinimumWaitInterval"
                     b"\tabc\n", "not a number"),
            # the value gate (dm.h): bytes XML cannot carry never reach the model
            "text": (hdr + good + b"value\tDevice.DeviceInfo.ProvisioningCode\tab\\x01\xff\n",
                     "U+0001 at byte 3 is not allowed in XML"),
            "escape": (hdr + good + b"value\tDevice.DeviceInfo.ProvisioningCode\ta\\q\n",
                       "line 5"),
            "cpe-row": (hdr + b"instance\tDevice.DeviceInfo.SupportedDataModel.2.\n" + good,
                        "created by the CPE"),
            # the provider refuses two rows with one Alias (TR-069 3.6.1): found only while
            # applying, so the rows it created must go again with the rollback
            "alias": (hdr + good + b"instance\tDevice.ManagementServer.InformParameter.8.\n"
                      b"value\tDevice.ManagementServer.InformParameter.7.Alias\tsame\n"
                      b"value\tDevice.ManagementServer.InformParameter.8.Alias\tsame\n",
                      "line 6: Device.ManagementServer.InformParameter.7.Alias"),
        }
        for key, (body, _) in cases.items():
            self.fs.files[f"/bad/{key}"] = body
        self.session(*[m.rpc_download(self.fs.url(f"/bad/{key}"),
                                      "3 Vendor Configuration File", key) for key in cases])
        for key, (_, why) in cases.items():
            with self.subTest(key=key):
                tc = self.assert_reported(key, 9018)
                self.assertIn(why, tc["fault_string"])
        gpv, names = self.session(m.rpc_gpv([self.PII, self.MS + "ParameterKey"]),
                                  m.rpc_gpn(self.IP, True))
        self.assertEqual(self.values(gpv), {self.PII: "3600",
                                            self.MS + "ParameterKey": "k-base"})
        self.assertEqual(names.value, [], "no row was left behind")
        self.daemon.stop()
        values, rows = self.cache_rows()
        self.assertEqual(values.get(self.PII), "3600")
        self.assertEqual(rows, [])
        self.assertNotIn(self.IP + "7.Enable", values)
        self.daemon.start()
        n = len(self.acs.wait_sessions(len(self.acs.sessions) + 1))
        self.acs.queue(m.rpc_gpn(self.IP, True))
        self.kick()
        self.assertEqual(self.acs.wait_sessions(n + 1)[n].responses[0].value, [])

    def test_a_local_restore_is_a_local_change(self):
        self.start_default()
        r = self.session(m.rpc_spa([{"name": self.PII, "access_list": []}]))
        self.assertEqual(r[0].method, "SetParameterAttributesResponse")
        hdr = b"# proxierd-config 1\n"
        self.fs.files["/local/ok"] = hdr + b"value\tDevice.DeviceInfo.ProvisioningCode\tlocal-1\n"
        self.fs.files["/local/denied"] = hdr + (b"value\t" + self.PII.encode() + b"\t77\n"
                                                b"value\tDevice.DeviceInfo.ProvisioningCode\tno\n")
        n = len(self.acs.sessions)
        wait_until(lambda: self.ctl("status").startswith("ok session=idle"), 15, "idle")
        self.assertEqual(self.ctl(f"download {self.fs.url('/local/denied')} "
                                  "3 Vendor Configuration File"), "ok")
        wait_until(lambda: "configuration not restored" in self.daemon.log_text(), 15,
                   "the refused local restore")
        self.assertIn("9001", self.daemon.log_text().split("/local/denied")[-1])
        self.assertEqual(self.ctl(f"download {self.fs.url('/local/ok')} "
                                  "3 Vendor Configuration File"), "ok")
        # ProvisioningCode is forced active: a change by the CPE starts a session (3.2.1)
        wait_until(lambda: any(("4 VALUE CHANGE", "") in x.inform.events and
                               x.inform.parameters.get(KICK, ("",))[0] == "local-1"
                               for x in self.acs.sessions[n:] if x.inform), 20,
                   "the value change of the local restore")
        gpv, = self.session(m.rpc_gpv([self.PII]))
        self.assertNotEqual(self.values(gpv)[self.PII], "77", "the AccessList denied it")


class AuthAndTls(TransferCase):
    fs_options = {"auth": "digest", "tls": True}

    def test_digest_over_https_with_the_acs_trust(self):
        self.fs.files["/secure.bin"] = b"s" * 3000
        self.acs.queue(m.rpc_download(self.fs.url("/secure.bin"), "2 Web Content", "tls-ok",
                                      username="fsuser", password="fspass"))
        self.acs.queue(m.rpc_download(self.fs.url("/secure.bin"), "2 Web Content", "tls-bad",
                                      username="fsuser", password="wrong", target="b"))
        self.start()
        self.assert_reported("tls-ok")
        self.assert_reported("tls-bad", 9012)
        self.assertIn(("/secure.bin", "Digest"), self.fs.gets)


class Restart(TransferCase):
    def test_kill9_mid_download_resumes_and_reports_once(self):
        body = os.urandom(40 * 1024)
        self.fs.files["/slow.bin"] = body
        self.fs.slow["/slow.bin"] = 0.1
        self.acs.queue(m.rpc_download(self.fs.url("/slow.bin"), "2 Web Content", "slow",
                                      target="slow.bin"))
        d = self.start()
        wait_until(lambda: self.fs.gets, 20, "the download to start")
        time.sleep(0.5)
        d.kill9()
        self.fs.slow["/slow.bin"] = 0
        d.start()
        self.assert_reported("slow")
        with open(os.path.join(self.files, "slow.bin"), "rb") as f:
            self.assertEqual(f.read(), body)
        d.stop()
        d.start()   # a later boot reports nothing again
        self.acs.wait_sessions(len(self.acs.sessions) + 1)
        self.assertEqual(len(self.wait_complete("slow")), 1)

    def test_firmware_completion_follows_the_reboot_with_boot(self):
        self.fs.files["/fw.bin"] = b"firmware-2"
        self.acs.queue(m.rpc_download(self.fs.url("/fw.bin"), key="fw-1"))
        self.start()
        self.assert_reported("fw-1")
        events = self.inform_events("fw-1")
        self.assertIn(("1 BOOT", ""), events)
        with open(os.path.join(self.tmp, "installed.bin"), "rb") as f:
            self.assertEqual(f.read(), b"firmware-2")


class Queue(TransferCase):
    transfer = {"max_queue": 3}

    def session(self, *rpcs):
        n = len(self.acs.wait_sessions(len(self.acs.sessions) or 1))
        for r in rpcs:
            self.acs.queue(r)
        self.kick()
        return self.acs.wait_sessions(n + 1)[n].responses

    def test_delay_queue_states_cancel_and_9004(self):
        self.fs.files["/slow.bin"] = b"s" * 20000
        self.fs.slow["/slow.bin"] = 0.2
        self.fs.files["/soon.bin"] = b"soon"
        self.start()
        self.acs.wait_sessions(1)
        url = self.fs.url
        r = self.session(m.rpc_download(url("/slow.bin"), "2 Web Content", "running"),
                         m.rpc_download(url("/late.bin"), "2 Web Content", "later", delay=600),
                         m.rpc_download(url("/soon.bin"), "2 Web Content", "soon", delay=2),
                         m.rpc_download(url("/x.bin"), "2 Web Content", "full", delay=600))
        self.assertEqual([x.value[0] if not x.fault else x.fault.code for x in r],
                         [1, 1, 1, 9004])
        requesting = self.acs.sessions[-1]
        wait_until(lambda: self.fs.gets and ("/slow.bin", None) in self.fs.gets, 10, "slow GET")
        r = self.session(m.rpc_get_queued_transfers(), m.rpc_get_queued_transfers(True),
                         m.rpc_cancel_transfer("later"), m.rpc_cancel_transfer("running"),
                         m.rpc_cancel_transfer("no-such-key"), m.rpc_get_queued_transfers())
        states = {t["CommandKey"]: t["State"] for t in r[0].value}
        self.assertEqual(states.get("later"), "1")
        self.assertEqual(states.get("running"), "2")
        full = {t["CommandKey"]: t for t in r[1].value}
        self.assertEqual(full["later"]["IsDownload"], "true")
        self.assertEqual(full["later"]["FileType"], "2 Web Content")
        self.assertEqual(r[2].method, "CancelTransferResponse")
        self.assertEqual(r[3].fault.code, 9021)
        self.assertEqual(r[4].method, "CancelTransferResponse")
        self.assertNotIn("later", [t["CommandKey"] for t in r[5].value])
        self.assert_reported("soon")
        self.assert_reported("running")
        self.assertEqual([x for _, x in self.transfer_completes()
                          if x.get("CommandKey") == "later"], [],
                         "a cancelled transfer is never reported (A.4.1.9)")
        # A.3.2.8: a non-zero DelaySeconds never runs in the Session of the request, and
        # runs at its time
        soon = next(t for p, t in self.fs.get_times if p == "/soon.bin")
        self.assertGreaterEqual(soon, requesting.end_time)
        self.assertGreaterEqual(soon, requesting.start_time + 2)


class Schedule(TransferCase):
    def test_windows_modes_and_faults(self):
        self.fs.files["/now.bin"] = b"now"
        self.fs.files["/idle.bin"] = b"idle"
        self.acs.queue(m.rpc_schedule_download(self.fs.url("/now.bin"),
                                               [(0, 60, "2 Immediately", "", -1)], key="sd-now"))
        self.acs.queue(m.rpc_schedule_download(self.fs.url("/idle.bin"),
                                               [(1, 60, "3 When Idle", "", 0)], key="sd-idle"))
        self.acs.queue(m.rpc_schedule_download(self.fs.url("/now.bin"),
                                               [(0, 60, "4 Confirmation Needed", "ok?", 0)],
                                               key="sd-confirm"))
        self.acs.queue(m.rpc_schedule_download(self.fs.url("/now.bin"),
                                               [(0, 60, "1 At Any Time", "", 0),
                                                (30, 90, "1 At Any Time", "", 0)],
                                               key="sd-overlap"))
        self.acs.queue(m.rpc_schedule_download(self.fs.url("/now.bin"),
                                               [(2, 3, "1 At Any Time", "", 0)], key="sd-gone"))
        d = self.start()
        first = self.acs.wait_sessions(1)[0]
        r = first.responses
        self.assertEqual([x.method for x in r[:2]], ["ScheduleDownloadResponse"] * 2)
        self.assertEqual(r[2].fault.code, 9003)   # A.4.1.8: unsupported mode
        self.assertEqual(r[3].fault.code, 9003)   # overlapping windows
        self.assertEqual(r[4].method, "ScheduleDownloadResponse")
        d.stop()          # the only window of sd-gone passes while the CPE is down
        time.sleep(4)
        d.start()
        self.assert_reported("sd-now", event="M ScheduleDownload")
        self.assert_reported("sd-idle", event="M ScheduleDownload")
        tc = self.assert_reported("sd-gone", 9020, event="M ScheduleDownload")
        self.assertIn("window", tc["fault_string"])


    def test_a_download_that_outlives_its_window_is_not_applied(self):
        # A.4.1.8: the file is applied only within a time window; this one closes (2 s)
        # while the slow file is still arriving (about 4 s)
        self.fs.files["/slow.bin"] = b"x" * 20 * 1024
        self.fs.slow["/slow.bin"] = 0.2
        self.acs.queue(m.rpc_schedule_download(self.fs.url("/slow.bin"),
                                               [(0, 2, "1 At Any Time", "", 0)],
                                               key="sd-late", target="late.bin"))
        self.start()
        tc = self.assert_reported("sd-late", 9020, event="M ScheduleDownload")
        self.assertIn("after its time window", tc["fault_string"])
        self.assertFalse(os.path.exists(os.path.join(self.files, "late.bin")))


class Upload(TransferCase):
    fs_options = {"auth": "basic"}

    def test_upload_with_basic_auth_and_its_failure(self):
        with open(os.path.join(self.tmp, "config.xml"), "wb") as f:
            f.write(b"<cfg>1</cfg>")
        self.acs.queue(m.rpc_upload(self.fs.url("/up/cfg.xml"), key="up-1",
                                    username="fsuser", password="fspass"))
        self.acs.queue(m.rpc_upload(self.fs.url("/up/cfg2.xml"), key="up-bad",
                                    username="fsuser", password="nope"))
        self.acs.queue(m.rpc_upload(self.fs.url("/up/x"), "3 Vendor Firmware", "up-type"))
        self.start()
        first = self.acs.wait_sessions(1)[0]
        self.assertEqual(first.responses[2].fault.code, 9003)
        self.assert_reported("up-1", event="M Upload")
        self.assert_reported("up-bad", 9012, event="M Upload")
        self.assertEqual([(p, b) for p, _, b in self.fs.uploads],
                         [("/up/cfg.xml", b"<cfg>1</cfg>")])


class ConfiguredSources(TransferCase):
    def test_configured_files_override_the_built_in_ones(self):
        # upload_config / upload_log are set by TransferCase.start; config_action is covered
        # by Download::test_vendor_configuration_runs_the_config_action (not a backup: the
        # built-in restore would refuse it with 9018)
        for name, body in (("config.xml", b"<vendor-config/>"), ("log.txt", b"vendor log\n")):
            with open(os.path.join(self.tmp, name), "wb") as f:
                f.write(body)
        self.acs.queue(m.rpc_upload(self.fs.url("/c"), "1 Vendor Configuration File", "c"))
        self.acs.queue(m.rpc_upload(self.fs.url("/l"), "2 Vendor Log File", "l"))
        self.start()
        self.assert_reported("c", event="M Upload")
        self.assert_reported("l", event="M Upload")
        self.assertEqual(sorted((p, b) for p, _, b in self.fs.uploads),
                         [("/c", b"<vendor-config/>"), ("/l", b"vendor log\n")])


class Autonomous(TransferCase):
    POLICY = "Device.ManagementServer.AutonomousTransferCompletePolicy."

    def test_local_download_is_reported_only_when_the_policy_allows(self):
        self.fs.files["/a.bin"] = b"a"
        self.fs.files["/b.bin"] = b"b"
        self.start()
        self.acs.wait_sessions(1)
        # factory default: Enable false -> not reported
        self.assertEqual(self.ctl(f"download {self.fs.url('/a.bin')} 2 Web Content"), "ok")
        wait_until(lambda: os.path.exists(os.path.join(self.files, "a.bin")), 10, "a.bin")
        n = len(self.acs.wait_sessions(len(self.acs.sessions)))
        self.acs.queue(m.rpc_spv([(self.POLICY + "Enable", "true", "xsd:boolean"),
                                  (self.POLICY + "ResultTypeFilter", "Failure", "xsd:string")],
                                 "p1"))
        self.kick()
        self.acs.wait_sessions(n + 1)
        self.assertEqual(self.ctl(f"download {self.fs.url('/b.bin')} 2 Web Content"), "ok")
        self.assertEqual(self.ctl(f"download {self.fs.url('/missing')} 2 Web Content"), "ok")
        wait_until(lambda: self.transfer_completes("AutonomousTransferComplete"), 20,
                   "an AutonomousTransferComplete")
        time.sleep(1)
        atcs = [r for _, r in self.transfer_completes("AutonomousTransferComplete")]
        self.assertEqual(len(atcs), 1, "only the failure passes ResultTypeFilter")
        a = atcs[0]
        self.assertEqual(a["fault_code"], 9016)
        self.assertEqual(a["TransferURL"], self.fs.url("/missing"))
        self.assertEqual(a["IsDownload"], "true")
        self.assertEqual(a["FileType"], "2 Web Content")
        s = next(s for s in self.acs.sessions
                 if any(meth == "AutonomousTransferComplete" for meth, _ in s.cpe_requests))
        self.assertIn(("10 AUTONOMOUS TRANSFER COMPLETE", ""), s.inform.events)


if __name__ == "__main__":
    unittest.main()
