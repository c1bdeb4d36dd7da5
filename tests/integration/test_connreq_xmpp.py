"""XMPP connection requests (TR-069 Annex K, Appendix III; TR-181 Device.XMPP.) against a
real Prosody on loopback with TLS: the daemon's stream as cpe@localhost, our stdlib client
(xmpp_acs.py) as the ACS acs@localhost, and a foreign account evil@localhost."""
import os
import re
import socket
import time
import unittest

from prosody_fixture import Prosody
from support import ProxierTestCase, ctl_command, free_port, soapmsg as m, wait_until
from xmpp_acs import XmppAcs

CPE_JID = "cpe@localhost/cwmp"
MS = "Device.ManagementServer."
CONN = "Device.XMPP.Connection.1."
ALLOWED = MS + "ConnReqAllowedJabberIDs"
CR_EVENT = "6 CONNECTION REQUEST"


def codes(session):
    return [code for code, _ in session.inform.events]


class XmppCase(ProxierTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.prosody = Prosody({"acs": "acspass", "cpe": "cpepass", "evil": "evilpass"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.prosody.cleanup()
        super().tearDownClass()

    def xmpp_config(self):
        p = self.prosody
        return {"server": "127.0.0.1", "port": p.port, "domain": p.domain, "username": "cpe",
                "password": "cpepass", "resource": "cwmp", "ca_file": p.ca_file,
                "retry_initial_interval": 1, "retry_interval_multiplier": 2000,
                "retry_max_interval": 2}

    def start(self, xmpp=True, allowed=None, rate_interval=None, rate_burst=None, **xmpp_keys):
        if allowed is not None:
            self.acs.queue(m.rpc_spv([(ALLOWED, allowed, "xsd:string")], "allow"))
        self.ctl_path = os.path.join(self.tmp, "ctl.sock")
        cfg = {"xmpp": {**self.xmpp_config(), **xmpp_keys} if xmpp
               else {"ca_file": self.prosody.ca_file},
               "control": {"socket": self.ctl_path}}
        limits = {"rate_interval": rate_interval, "rate_burst": rate_burst}
        cfg["connection_request"] = {k: v for k, v in limits.items() if v is not None}
        self.daemon = self.start_daemon(cfg)
        return self.daemon

    def ctl_get(self, path):
        return ctl_command(self.ctl_path, f"get {path}")

    def logins(self):
        return self.daemon.log_text().count(f"connected as {CPE_JID}")

    def wait_login(self, n=1, timeout=15):
        wait_until(lambda: self.logins() >= n, timeout, f"XMPP login #{n} of the daemon")

    def client(self, jid="acs@localhost/acs-1", password="acspass"):
        c = XmppAcs("127.0.0.1", self.prosody.port, jid, password, self.prosody.ca_file).connect()
        self.addCleanup(c.close)
        return c

    def settle(self):
        """Let the boot (and a ConnReqJabberID value change) sessions end."""
        time.sleep(0.5)
        wait_until(lambda: all(s.ended for s in self.acs.sessions), 15, "sessions to end")

    def assert_no_new_session(self, before, wait=1.5):
        time.sleep(wait)
        self.assertEqual(len(self.acs.sessions), before, "a session started")


class ConnectionRequests(XmppCase):
    def test_request_from_acs_starts_one_session(self):
        self.start()
        self.wait_login()
        self.settle()
        before = len(self.acs.sessions)
        acs = self.client()
        reply = acs.connection_request(CPE_JID, "cruser", "crpass")
        self.assertEqual(reply.type, "result", reply)
        self.assertEqual(len(list(reply.elem)), 0, "Figure 20: an empty result")
        self.assertEqual(reply.elem.get("from"), CPE_JID)
        s = self.acs.wait_inform(n=before + 1)
        self.assertEqual(codes(s), [CR_EVENT])
        self.acs.wait_sessions(before + 1)
        self.assert_no_new_session(before + 1)
        # type="set" is accepted too (connection-requests.md 1.6)
        self.assertEqual(acs.connection_request(CPE_JID, "cruser", "crpass", type_="set").type,
                         "result")
        self.acs.wait_sessions(before + 2)

    def test_wrong_credentials_are_not_authorized(self):
        self.start()
        self.wait_login()
        self.settle()
        before = len(self.acs.sessions)
        acs = self.client()
        for user, password in (("cruser", "nope"), ("someone", "crpass")):
            reply = acs.connection_request(CPE_JID, user, password)
            self.assertEqual((reply.type, reply.condition), ("error", "not-authorized"), reply)
            self.assertIsNone(reply.code, "Figure 22 has no code attribute")
            self.assertTrue(reply.echoed, "Figure 22 echoes the connectionRequest")
        self.assert_no_new_session(before)

    def test_unknown_iq_is_service_unavailable(self):
        self.start()
        self.wait_login()
        reply = self.client().iq(CPE_JID, "<query xmlns='jabber:iq:version'/>")
        self.assertEqual((reply.type, reply.condition), ("error", "service-unavailable"))

    def test_requests_during_a_session_get_one_session_after_it(self):
        """K.2.1.3, the first alternative: the session is not ended early; every request
        gets the empty result and exactly one session with "6 CONNECTION REQUEST" follows."""
        self.acs.inject("Inform", delay=5)   # the boot session stays open for 5 s
        self.start()
        self.wait_login()
        self.assertEqual(self.acs.sessions, [], "the boot session should still be open")
        acs = self.client()
        for _ in range(3):
            reply = acs.connection_request(CPE_JID, "cruser", "crpass")
            self.assertEqual(reply.type, "result", reply)
        self.acs.wait_sessions(1, timeout=15)
        self.assertNotIn(CR_EVENT, codes(self.acs.sessions[0]))
        wait_until(lambda: any(CR_EVENT in codes(s) for s in self.acs.sessions), 15,
                   "the session after the boot session")
        self.settle()
        with_cr = [s for s in self.acs.sessions if CR_EVENT in codes(s)]
        self.assertEqual(len(with_cr), 1, [codes(s) for s in self.acs.sessions])
        status = ctl_command(self.ctl_path, "status")
        self.assertIn("cr_xmpp_accepted=1 cr_xmpp_coalesced=2 cr_xmpp_refused=0", status)

    def test_rate_limit_is_503(self):
        self.start(rate_interval=3600, rate_burst=3)
        self.wait_login()
        self.settle()
        acs = self.client()
        verdicts = []
        for _ in range(4):   # rate_burst 3 per endpoint
            self.settle()
            verdicts.append(acs.connection_request(CPE_JID, "cruser", "crpass").condition)
        self.assertEqual(verdicts, [None, None, None, "service-unavailable"])


FOREIGN = (("evil@localhost/acs-1", "evilpass"), ("acs@localhost/acs-2", "acspass"))


class AllowedJabberIDs(XmppCase):
    def accepted_after(self, before):
        """local part and domain compare case-insensitively, the resource exactly"""
        reply = self.client().connection_request(CPE_JID, "cruser", "crpass")
        self.assertEqual(reply.type, "result", reply)
        self.acs.wait_sessions(before + 1)

    def test_foreign_jid_is_ignored_by_default(self):
        """K.2.1.3: "The CPE MUST ignore an XMPP Connection Request that is neither
        successfully validated nor authenticated": no reply at all, no session."""
        self.start(allowed="ACS@LocalHost/acs-1")
        self.wait_login()
        self.settle()
        before = len(self.acs.sessions)
        sent = [(c, c.send_connection_request(CPE_JID, "cruser", "crpass"))
                for c in (self.client(jid, password) for jid, password in FOREIGN)]
        for jid, _ in FOREIGN:
            wait_until(lambda: f"connection request from {jid} ignored (JID not allowed)" in
                       self.daemon.log_text(), 10, f"the daemon to see the request of {jid}")
        self.accepted_after(before)   # answered after the ignored ones were judged
        self.assert_no_new_session(before + 1)
        for (client, iq_id), (jid, _) in zip(sent, FOREIGN):
            self.assertFalse(client.has_reply(iq_id), f"{jid} got an answer")
        # the streams of the foreign clients still work: the CPE answers their ping
        ping = sent[0][0].iq(CPE_JID, "<ping xmlns='urn:xmpp:ping'/>")
        self.assertEqual(ping.type, "result", ping)

    def test_foreign_jid_is_refused_with_503_when_configured(self):
        self.start(allowed="ACS@LocalHost/acs-1", ignore_unauthorized_jids="false")
        self.wait_login()
        self.settle()
        before = len(self.acs.sessions)
        for jid, password in FOREIGN:
            reply = self.client(jid, password).connection_request(CPE_JID, "cruser", "crpass")
            self.assertEqual((reply.type, reply.condition, reply.code),
                             ("error", "service-unavailable", "503"), f"{jid}: {reply}")
            self.assertTrue(reply.echoed, "Figure 21 echoes the connectionRequest")
        self.assertIn("connection request from evil@localhost/acs-1 refused (JID not allowed)",
                      self.daemon.log_text())
        self.assert_no_new_session(before)
        self.accepted_after(before)

    def test_wrong_credentials_from_a_foreign_jid_are_ignored(self):
        """Not validated (JID) and not authenticated (password): ignored, not 22's error."""
        self.start(allowed="acs@localhost")
        self.wait_login()
        self.settle()
        client = self.client("evil@localhost/x", "evilpass")
        iq_id = client.send_connection_request(CPE_JID, "cruser", "wrong")
        wait_until(lambda: "connection request from evil@localhost/x ignored" in
                   self.daemon.log_text(), 10, "the daemon to see the request")
        time.sleep(1)
        self.assertFalse(client.has_reply(iq_id))

    def test_bare_jid_entry_matches_any_resource(self):
        self.start(allowed="evil@localhost/x, acs@localhost")
        self.wait_login()
        self.settle()
        before = len(self.acs.sessions)
        reply = self.client("acs@localhost/anything").connection_request(CPE_JID, "cruser",
                                                                          "crpass")
        self.assertEqual(reply.type, "result", reply)
        self.acs.wait_sessions(before + 1)


class JabberIdAndReconnect(XmppCase):
    def test_jabber_id_is_reported_and_readable(self):
        self.start()
        self.wait_login()
        # ConnReqJabberID (forceDefaultEnabled active) changed from "" to the bound JID
        wait_until(lambda: any(s.inform.parameters.get(MS + "ConnReqJabberID", ("",))[0] ==
                               CPE_JID for s in self.acs.sessions), 15,
                   "an Inform carrying ConnReqJabberID")
        changed = [s for s in self.acs.sessions if MS + "ConnReqJabberID" in s.inform.parameters]
        self.assertIn("4 VALUE CHANGE", codes(changed[0]))
        self.settle()
        self.acs.queue(m.rpc_gpv([MS + "ConnReqJabberID", MS + "ConnReqXMPPConnection",
                                  MS + "SupportedConnReqMethods", "Device.XMPP."]))
        before = len(self.acs.sessions)
        self.assertEqual(self.client().connection_request(CPE_JID, "cruser", "crpass").type,
                         "result")
        values = self.acs.wait_sessions(before + 1)[-1].responses[0].value
        get = {k: v for k, (v, _) in values.items()}
        self.assertEqual(get[MS + "ConnReqJabberID"], CPE_JID)
        self.assertEqual(get[MS + "ConnReqXMPPConnection"], "Device.XMPP.Connection.1")
        self.assertIn("XMPP", get[MS + "SupportedConnReqMethods"].split(","))
        self.assertEqual(get[CONN + "JabberID"], CPE_JID)
        self.assertEqual(get[CONN + "Status"], "Enabled")
        self.assertEqual(get[CONN + "TLSEstablished"], "true")
        self.assertEqual(get[CONN + "Server.1.ServerAddress"], "127.0.0.1")
        self.assertEqual(get[CONN + "Password"], "")     # hidden
        self.assertEqual(get["Device.XMPP.ConnectionNumberOfEntries"], "1")
        self.assertGreaterEqual(int(get[CONN + "Stats.ReceivedMessages"]), 1)
        self.assertGreaterEqual(int(get[CONN + "Stats.TransmittedMessages"]), 1)
        # a restart with the same JID reports no change
        self.daemon.restart()
        self.wait_login(2)
        self.settle()
        self.assertNotIn(MS + "ConnReqJabberID", self.acs.sessions[-1].inform.parameters)

    def test_server_restart_reconnects_with_backoff(self):
        self.start()
        self.wait_login()
        self.settle()
        self.prosody.restart(down_for=2)
        self.wait_login(2, timeout=30)
        log = self.daemon.log_text()
        windows = [float(w) for w in re.findall(r"reconnect attempt \d+ in [\d.]+ s \(window "
                                                r"(\d+) s\)", log)]
        self.assertTrue(windows, "no reconnect back-off logged")
        self.assertEqual(windows[0], 1.0)            # ServerRetryInitialInterval
        self.assertLessEqual(max(windows), 2.0)      # ServerRetryMaxInterval
        self.settle()
        before = len(self.acs.sessions)
        reply = self.client().connection_request(CPE_JID, "cruser", "crpass")
        self.assertEqual(reply.type, "result", reply)
        self.assertEqual(codes(self.acs.wait_inform(n=before + 1)), [CR_EVENT])


def silent_port():
    """A listening socket that accepts and never speaks: an XMPP server that does not
    answer (the stream stays "Connecting"). Returns (socket, port)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    return s, s.getsockname()[1]


class BootWait(XmppCase):
    """K.2.1 SHOULD: the XMPP connection before the session with "1 BOOT", so that a changed
    ConnReqJabberID goes with that Inform ([xmpp] boot_wait bounds the wait)."""

    def first_session_after(self, **xmpp_keys):
        """Start the daemon; returns (its first session, seconds from start to it)."""
        t0 = time.time()
        self.start(**xmpp_keys)
        s = self.acs.wait_sessions(1)[0]
        return s, s.start_time - t0

    def test_first_inform_carries_the_bound_jid(self):
        s, _ = self.first_session_after()
        self.assertEqual(codes(s)[:2], ["0 BOOTSTRAP", "1 BOOT"])
        self.assertIn("4 VALUE CHANGE", codes(s))
        self.assertEqual(s.inform.parameters[MS + "ConnReqJabberID"][0], CPE_JID)
        self.assertIn("boot session goes ahead (Enabled)", self.daemon.log_text())
        self.settle()
        self.assertEqual(len(self.acs.sessions), 1, "no second session for the value change")

    def test_silent_server_delays_boot_by_boot_wait_at_most(self):
        sock, port = silent_port()
        self.addCleanup(sock.close)
        s, delay = self.first_session_after(port=port, boot_wait=2)
        self.assertGreaterEqual(delay, 2.0)
        self.assertLess(delay, 6.0)
        self.assertIn("1 BOOT", codes(s))
        self.assertNotIn(MS + "ConnReqJabberID", s.inform.parameters)
        self.assertIn("boot session goes ahead (boot_wait passed)", self.daemon.log_text())
        self.assertEqual(self.ctl_get(CONN + "Status"), "ok Connecting")

    def test_boot_wait_0_does_not_wait(self):
        sock, port = silent_port()
        self.addCleanup(sock.close)
        s, delay = self.first_session_after(port=port, boot_wait=0)
        self.assertLess(delay, 1.5)
        self.assertIn("1 BOOT", codes(s))
        self.assertNotIn("boot session waits", self.daemon.log_text())

    def test_refused_server_ends_the_wait_at_once(self):
        closed = free_port()
        s, delay = self.first_session_after(port=closed, boot_wait=30)
        self.assertLess(delay, 5.0)
        self.assertIn("1 BOOT", codes(s))
        self.assertIn("boot session goes ahead (ServerNotPresent)", self.daemon.log_text())


class Status(XmppCase):
    def test_wrong_xmpp_password_is_an_authentication_failure(self):
        self.start(password="wrong", retry_initial_interval=60)
        wait_until(lambda: "disconnected (Error_AuthenticationFailure)" in
                   self.daemon.log_text(), 15, "the failed SASL login")
        self.assertEqual(self.ctl_get(CONN + "Status"), "ok Error_AuthenticationFailure")
        self.assertEqual(self.ctl_get(CONN + "JabberID"), "ok ")
        self.assertEqual(self.ctl_get(MS + "ConnReqJabberID"), "ok ")

    def test_unreachable_server_is_server_not_present(self):
        self.start(port=self.prosody.port + 1 if self.prosody.port < 65535 else 1024)
        wait_until(lambda: "disconnected (ServerNotPresent)" in self.daemon.log_text(), 15,
                   "the refused connection")
        self.assertEqual(self.ctl_get(CONN + "Status"), "ok ServerNotPresent")
        self.assertEqual(self.ctl_get("Device.XMPP.SupportedServerConnectAlgorithms"),
                         "ok DNS-SRV,DNS,ServerTable")


class ConfiguredByAcs(XmppCase):
    def test_add_object_and_set_parameters(self):
        p = self.prosody
        self.acs.queue(m.rpc_add("Device.XMPP.Connection.", "k1"))
        self.acs.queue(m.rpc_add(CONN + "Server.", "k2"))
        self.acs.queue(m.rpc_spv([(MS + "ConnReqXMPPConnection", "Device.XMPP.Connection.7",
                                   "xsd:string")], "bad"))
        self.acs.queue(m.rpc_spv([
            (CONN + "Username", "cpe", "xsd:string"), (CONN + "Password", "cpepass", "xsd:string"),
            (CONN + "Domain", p.domain, "xsd:string"), (CONN + "Resource", "cwmp", "xsd:string"),
            (CONN + "UseTLS", "true", "xsd:boolean"),
            (CONN + "ServerConnectAlgorithm", "ServerTable", "xsd:string"),
            (CONN + "ServerRetryInitialInterval", "1", "xsd:unsignedInt"),
            (CONN + "Server.1.Enable", "true", "xsd:boolean"),
            (CONN + "Server.1.ServerAddress", "127.0.0.1", "xsd:string"),
            (CONN + "Server.1.Port", str(p.port), "xsd:unsignedInt"),
            (CONN + "Enable", "true", "xsd:boolean")], "k3"))
        self.acs.queue(m.rpc_spv([(MS + "ConnReqXMPPConnection", "Device.XMPP.Connection.1",
                                   "xsd:string"),
                                  (ALLOWED, "acs@localhost", "xsd:string")], "k4"))
        self.start(xmpp=False)
        s = self.acs.wait_sessions(1)[0]
        add1, add2, bad, spv, ref = s.responses
        self.assertEqual(add1.value[0], 1)
        self.assertEqual(add2.value[0], 1)
        self.assertEqual(bad.fault.code, 9003)
        self.assertEqual(bad.fault.spv_faults[0][1], 9007)
        self.assertIsNone(spv.fault)
        self.assertIsNone(ref.fault)
        self.wait_login()
        self.settle()
        before = len(self.acs.sessions)
        reply = self.client().connection_request(CPE_JID, "cruser", "crpass")
        self.assertEqual(reply.type, "result", reply)
        self.assertEqual(codes(self.acs.wait_inform(n=before + 1)), [CR_EVENT])
        self.acs.wait_sessions(before + 1)
        # disabling the row ends the stream and clears ConnReqJabberID
        self.acs.queue(m.rpc_spv([(CONN + "Enable", "false", "xsd:boolean")], "k5"))
        self.assertEqual(self.client().connection_request(CPE_JID, "cruser", "crpass").type,
                         "result")
        wait_until(lambda: "ConnReqJabberID is now \"\"" in self.daemon.log_text(), 10,
                   "ConnReqJabberID cleared")
        self.settle()
        reply = self.client().connection_request(CPE_JID, "cruser", "crpass")
        self.assertEqual(reply.condition, "service-unavailable")   # Prosody: no such resource


if __name__ == "__main__":
    unittest.main()
