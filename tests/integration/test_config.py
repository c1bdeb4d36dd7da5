"""Configuration: the file, the options, and the clear errors for what is wrong
(docs/configuration.md)."""
import os
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

    def test_help_and_version(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--acs-url", r.stdout)
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith("proxierd "))


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
