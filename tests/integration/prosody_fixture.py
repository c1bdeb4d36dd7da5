"""A private Prosody XMPP server for the XMPP connection-request tests (TR-069 Annex K).

Debian's `prosody` package, run from a temporary directory with its own configuration,
data and certificate: c2s only, on 127.0.0.1 and a free port, TLS required
(`c2s_require_encryption`), a self-signed certificate for the domain "localhost" made with
`openssl req`. Accounts are created with `prosodyctl --config ... register`. Runs as the
invoking user (`run_as_root` keeps root from switching to the prosody user) and is stopped
by its PID.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from support import free_port, wait_port

CONFIG = """\
run_as_root = true
daemonize = false
pidfile = "{dir}/prosody.pid"
data_path = "{dir}/data"
log = {{ debug = "{dir}/prosody.log" }}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {port} }}
c2s_interfaces = {{ "127.0.0.1" }}
c2s_direct_tls_ports = {{}}
s2s_ports = {{}}
admin_interfaces = {{}}
http_ports = {{}}
https_ports = {{}}
modules_enabled = {{ "roster", "saslauth", "tls", "disco", "ping", "posix" }}
modules_disabled = {{ "s2s", "offline", "c2s_direct_tls", "http", "admin_shell" }}
allow_registration = false
c2s_require_encryption = true
authentication = "internal_hashed"
storage = "internal"
certificates = "{dir}/certs"
ssl = {{ key = "{dir}/certs/localhost.key", certificate = "{dir}/certs/localhost.crt" }}
VirtualHost "{domain}"
"""


class Prosody:
    """prosody = Prosody(accounts={"acs": "acspass"}).start(); prosody.port, .domain,
    .ca_file (the certificate to trust); stop(), restart()."""

    def __init__(self, accounts, domain="localhost"):
        if not shutil.which("prosody") or not shutil.which("prosodyctl"):
            raise unittest.SkipTest("prosody is not installed (scripts/deps.sh)")
        self.domain = domain
        self.accounts = dict(accounts)
        self.dir = tempfile.mkdtemp(prefix="proxierd-prosody-")
        self.port = free_port()
        self.config = os.path.join(self.dir, "prosody.cfg.lua")
        self.ca_file = os.path.join(self.dir, "certs", "localhost.crt")
        self.proc = None
        self._prepare()

    def _prepare(self):
        os.makedirs(os.path.join(self.dir, "data"))
        os.makedirs(os.path.join(self.dir, "certs"))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", f"/CN={self.domain}",
                        "-addext", f"subjectAltName=DNS:{self.domain}",
                        "-keyout", os.path.join(self.dir, "certs", "localhost.key"),
                        "-out", self.ca_file], check=True, capture_output=True)
        with open(self.config, "w") as f:
            f.write(CONFIG.format(dir=self.dir, port=self.port, domain=self.domain))
        for user, password in self.accounts.items():
            subprocess.run(["prosodyctl", "--config", self.config, "register", user,
                            self.domain, password], check=True, capture_output=True, timeout=30)

    def start(self):
        self.log = open(os.path.join(self.dir, "stdout.log"), "ab")
        self.proc = subprocess.Popen(["prosody", "--config", self.config, "-F"],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        try:
            wait_port(self.port, timeout=20)
        except AssertionError:
            self.stop()
            raise AssertionError("prosody did not start:\n" + self.log_text())
        return self

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        self.log.close()

    def restart(self, down_for=0.0):
        self.stop()
        time.sleep(down_for)
        return self.start()

    def log_text(self):
        out = []
        for name in ("stdout.log", "prosody.log"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    out.append(f.read()[-6000:])
            except FileNotFoundError:
                pass
        return "\n".join(out)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
