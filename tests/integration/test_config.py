"""Configuration: the file, the options, and the clear errors for what is wrong
(docs/configuration.md)."""
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

from support import ProxierTestCase, render_config


def proxierd():
    binary = os.environ.get("PROXIERD")
    if not binary:
        raise unittest.SkipTest("PROXIERD is not set (run through ctest)")
    return binary


def run(*args, timeout=10):
    return subprocess.run([proxierd(), *args], capture_output=True, text=True, timeout=timeout)


class Errors(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="proxierd-cfg-")

    def write(self, config):
        path = os.path.join(self.tmp, "p.conf")
        with open(path, "w") as f:
            f.write(config)
        return path

    def assert_refused(self, args, *fragments):
        r = run(*args)
        self.assertEqual(r.returncode, 2, r.stderr)
        for fragment in fragments:
            self.assertIn(fragment, r.stderr)

    def test_unknown_key_names_file_line_and_key(self):
        path = self.write("[acs]\nurl = http://127.0.0.1:1/\nfrobnicate = 1\n")
        self.assert_refused(["--config", path], f"{path}:3: unknown key acs.frobnicate")

    def test_bad_value(self):
        path = self.write("[acs]\nurl = http://127.0.0.1:1/\n[cwmp]\nretry_minimum_wait = 0\n")
        self.assert_refused(["--config", path], ":4: cwmp.retry_minimum_wait", "[1, 65535]")

    def test_string_that_xml_cannot_carry_is_refused(self):
        # the value gate (issue 8): such a string would go into every Inform
        path = os.path.join(self.tmp, "p.conf")
        with open(path, "wb") as f:
            f.write(b"[acs]\nurl = http://127.0.0.1:1/\n[device]\n"
                    b"provisioning_code = ab\x01cd\n")
        self.assert_refused(["--config", path], ":4: device.provisioning_code",
                            "character U+0001 at byte 3 is not allowed in XML")
        with open(path, "wb") as f:
            f.write(b"[acs]\nurl = http://127.0.0.1:1/\n[device]\nmanufacturer = x\xffy\n")
        self.assert_refused(["--config", path], "device.manufacturer", "invalid UTF-8 at byte 2")

    def test_bad_digest_algorithms(self):
        # connection_request.digest_algorithms: a non-empty list of distinct known names
        for value, fragment in (('""', "the list of digest algorithms is empty"),
                                ("MD5,SHA-1", '"SHA-1" in "MD5,SHA-1" is not a digest algorithm'),
                                ("MD5,", '"" in "MD5," is not a digest algorithm'),
                                ("MD5, SHA-256, md5", "digest algorithm MD5 is named twice")):
            path = self.write("[acs]\nurl = http://127.0.0.1:1/\n[connection_request]\n"
                              f"digest_algorithms = {value}\n")
            self.assert_refused(["--config", path],
                                f":4: connection_request.digest_algorithms: {fragment}")
        self.assert_refused(["--acs-url", "http://127.0.0.1:1/", "--set",
                             "connection_request.digest_algorithms=SHA-512"],
                            "SHA-512")

    def test_no_acs_url(self):
        self.assert_refused(["--db", os.path.join(self.tmp, "db")], "no ACS URL")

    def test_bad_option_value(self):
        self.assert_refused(["--acs-url", "http://127.0.0.1:1/", "--cr-port", "70000"],
                            "connection_request.port")
        self.assert_refused(["--acs-url", "http://127.0.0.1:1/", "--set", "log.level=loud"],
                            "log.level")
        self.assert_refused(["--acs-url", "http://127.0.0.1:1/", "--set", "nodot"],
                            "SECTION.KEY=VALUE")
        self.assert_refused(["--acs-url", "ftp://x/"], "not an http:// or https:// URL")

    def test_missing_file(self):
        self.assert_refused(["--config", os.path.join(self.tmp, "none.conf")],
                            "cannot open configuration")

    def test_unusable_cache_path_fails_with_a_message(self):
        r = run("--acs-url", "http://127.0.0.1:1/", "--db",
                os.path.join(self.tmp, "no", "such", "dir", "db"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot open the cache", r.stderr)
        self.assertIn("unable to open database file (sqlite error 14); directory "
                      f"{os.path.join(self.tmp, 'no', 'such', 'dir')}: No such file", r.stderr)


    def test_help_and_version(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--acs-url", r.stdout)
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith("proxierd "))


def read_only_mount(path):
    """The prefix of a command run with `path` bind-mounted read-only in a private mount
    namespace, or None where that is not possible (needs root and unshare)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return None
    script = (f'mount --bind "{path}" "{path}" && mount -o remount,bind,ro "{path}" '
              '&& exec "$@"')
    probe = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", "true"],
                           capture_output=True)
    return ["unshare", "-m", "sh", "-c", script, "sh"] if probe.returncode == 0 else None


class CacheStartupErrors(unittest.TestCase):
    """Each cache that proxierd cannot use stops the start (exit 1) with SQLite's own text
    and code and the path, never a stale errno (issue 8 item 5)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="proxierd-cache-")
        self.db = os.path.join(self.tmp, "proxierd.db")
        self.args = ["--acs-url", "http://127.0.0.1:1/", "--db", self.db,
                     "--set", "connection_request.port=0"]

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def refused(self, prefix=()):
        r = subprocess.run([*prefix, proxierd(), *self.args], capture_output=True, text=True,
                           timeout=20)
        self.assertEqual(r.returncode, 1, r.stderr)
        errors = [line for line in r.stderr.splitlines() if line.split()[1:2] == ["error"]]
        self.assertEqual(len(errors), 1, r.stderr)
        self.assertIn(f"cannot open the cache {self.db}: ", errors[0])
        self.assertNotIn("No such file or directory", errors[0])
        self.assertNotIn("Resource temporarily unavailable", errors[0])
        return errors[0]

    def wait_running(self):
        """Until a proxierd started on self.db has its cache open and its signals handled
        (its first session's retry is in the cache)."""
        for _ in range(200):
            db = sqlite3.connect(self.db, timeout=5)
            try:
                if db.execute("SELECT count(*) FROM setting WHERE key = 'retry_count'"
                              ).fetchone()[0]:
                    return
            except sqlite3.Error:
                pass
            finally:
                db.close()  # not the last connection, proxierd would leave its -wal
            time.sleep(0.05)
        self.fail("proxierd did not start")

    def make_cache(self):
        """A cache left by an earlier run (clean stop: no -wal, -shm)."""
        d = subprocess.Popen([proxierd(), *self.args], stderr=subprocess.DEVNULL)
        try:
            self.wait_running()
        finally:
            d.terminate()
            d.wait(10)
        self.assertFalse(os.path.exists(self.db + "-wal"))

    def test_corrupt_file(self):
        with open(self.db, "wb") as f:
            f.write(b"not a database, not at all " * 400)
        line = self.refused()
        self.assertIn(f"{self.db} is not an SQLite database (corrupt or foreign file): "
                      "file is not a database (sqlite error 26)", line)

    def test_read_only_directory_new_cache(self):
        prefix = read_only_mount(self.tmp)
        if not prefix:
            self.skipTest("no read-only bind mount here (needs root and unshare -m)")
        line = self.refused(prefix)
        self.assertIn("unable to open database file (sqlite error 14)", line)
        self.assertIn(f"directory {self.tmp} is not writable (Read-only file system)", line)

    def test_read_only_mount_existing_cache(self):
        self.make_cache()
        prefix = read_only_mount(self.tmp)
        if not prefix:
            self.skipTest("no read-only bind mount here (needs root and unshare -m)")
        line = self.refused(prefix)
        self.assertIn("(sqlite error 14)", line)
        self.assertIn(f"directory {self.tmp} is not writable (Read-only file system): "
                      "SQLite creates the cache and its -wal and -shm files there", line)

    def test_cache_of_a_running_proxierd(self):
        first = subprocess.Popen([proxierd(), *self.args], stderr=subprocess.DEVNULL)
        try:
            self.wait_running()
            line = self.refused()
            self.assertIn(f"{self.db} is in use by another process (another proxierd?)", line)
            self.assertIsNone(first.poll(), "the first one goes on")
        finally:
            first.terminate()
            first.wait(10)

    def test_cache_locked_by_another_program(self):
        self.make_cache()
        holder = sqlite3.connect(self.db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            line = self.refused()
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        self.assertIn(f"database is locked (sqlite error 5) in {self.db}", line)
        self.assertIn("kept a write lock on it for longer than the busy timeout", line)



class OptionsWithoutFile(ProxierTestCase):
    def test_options_alone_run_the_daemon_and_override_nothing_else(self):
        db = os.path.join(self.tmp, "opt.db")
        p = subprocess.Popen([proxierd(), "--acs-url", self.acs.url, "--db", db,
                              "--set", "device.serial_number=OPT1", "--set",
                              "cwmp.periodic_inform_enable=false"],
                             stderr=subprocess.DEVNULL)
        try:
            s = self.acs.wait_sessions(1)[0]
            self.assertTrue(s.ended_ok)
            self.assertEqual(s.serial, "OPT1")
        finally:
            p.terminate()
            self.assertEqual(p.wait(10), 0)

    def test_short_config_option_and_sighup(self):
        import signal
        d = self.start_daemon(start=False)
        d.start()
        self.acs.wait_sessions(1)
        d.stop()
        with open(d.config_path, "w") as f:
            f.write(render_config(d.config))
        p = subprocess.Popen([proxierd(), "-c", d.config_path], stderr=subprocess.PIPE,
                             text=True)
        try:
            self.acs.wait_sessions(2)
            p.send_signal(signal.SIGHUP)
            time.sleep(0.3)
            self.assertIsNone(p.poll(), "SIGHUP must not kill the daemon")
        finally:
            p.terminate()
            _, err = p.communicate(timeout=10)
        self.assertIn("SIGHUP ignored", err)

    def test_options_override_the_file(self):
        d = self.start_daemon(extra_args=["--set", "device.serial_number=FROMOPT"])
        s = self.acs.wait_sessions(1)[0]
        self.assertEqual(s.serial, "FROMOPT")
        self.assertIn("[device]", render_config(d.config))


if __name__ == "__main__":
    unittest.main()
