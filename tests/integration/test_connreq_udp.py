"""UDP connection requests and STUN (TR-069 Annex G) against the real daemon: datagrams as
GenieACS sends them (interop/acs-behaviour.md 1.6: three identical copies), the G.2.1.4
validation and replay rules, and the STUN client (G.2.1.1-G.2.1.3, with binding-timeout
discovery from a secondary port, G.2.1.2) against our own STUN server (stun_server.py),
which can also play a NAT that forgets idle bindings."""
import hashlib
import hmac
import os
import re
import secrets
import socket
import time
import unittest

from support import ProxierTestCase, ctl_command, soapmsg as m, wait_until
from stun_server import Nat, StunServer

MS = "Device.ManagementServer."
ADDR = MS + "UDPConnectionRequestAddress"
NAT = MS + "NATDetected"
CR = "6 CONNECTION REQUEST"
QUIET = 1.5  # seconds in which a session would have started (they start at once)


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def datagram(port, ts, msg_id, user="cruser", password="crpass", cn=None, sig=None):
    """A UDP Connection Request exactly as GenieACS writes it (G.2.2.3)."""
    cn = cn or secrets.token_hex(8)
    text = f"{ts}{msg_id}{user}{cn}".encode()
    sig = sig or hmac.new(password.encode(), text, hashlib.sha1).hexdigest()
    return (f"GET http://127.0.0.1:{port}?ts={ts}&id={msg_id}&un={user}&cn={cn}&sig={sig} "
            f"HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").encode()


def codes(session):
    return sorted(code for code, _ in session.inform.events)


class UdpCase(ProxierTestCase):
    def setUp(self):
        super().setUp()
        self.udp_port = free_udp_port()
        self.ts = int(time.time())

    def start(self, overrides=None):
        cfg = {"connection_request": {"udp_port": self.udp_port, "rate_interval": 0}}
        for section, keys in (overrides or {}).items():
            cfg.setdefault(section, {}).update(keys)
        return self.start_daemon(cfg)

    def send(self, data, copies=3):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(copies):
                s.sendto(data, ("127.0.0.1", self.udp_port))

    def next_request(self, **kw):
        self.ts += 1
        return datagram(self.udp_port, self.ts, secrets.randbelow(10**9), **kw)

    def wait_idle(self, n):
        """n sessions ended for the daemon too (the ACS knows it a moment earlier; a request
        in that moment is one "during a session")."""
        self.acs.wait_sessions(n)
        wait_until(lambda: self.daemons[0].log_text().count("session ended") >= n, 10,
                   f"the daemon's session {n} ended")
        return self.acs.sessions[:n]

    def assert_sessions_stay(self, n, what):
        time.sleep(QUIET)
        self.assertEqual(len(self.acs.sessions), n, what)

    def wait_cr_session(self, n):
        s = self.acs.wait_inform(timeout=10, n=n)
        self.assertIn(CR, codes(s))
        return s


class UdpConnectionRequests(UdpCase):
    def test_genieacs_request_starts_exactly_one_session(self):
        self.acs.queue(m.rpc_gpv([ADDR, NAT, MS + "SupportedConnReqMethods"]))
        self.start()
        boot = self.wait_idle(1)[0]
        # without STUN: the local address and port (TR-181), no NAT
        value = boot.responses[0].value
        self.assertEqual(value[ADDR][0], f"127.0.0.1:{self.udp_port}")
        self.assertEqual(value[NAT][0], "false")
        self.assertIn("STUN", value[MS + "SupportedConnReqMethods"][0].split(","))

        accepted = self.next_request()
        self.send(accepted)
        s = self.wait_cr_session(2)
        self.assertEqual(codes(s), [CR])
        self.wait_idle(2)
        self.assert_sessions_stay(2, "three copies of one request start one session")

        # G.2.1.4: every one of these is ignored
        self.send(accepted)                                             # replay
        self.send(datagram(self.udp_port, self.ts - 5, 77))             # older ts
        self.send(datagram(self.udp_port, self.ts, 78))                 # same ts
        self.send(self.next_request(password="wrong"))                  # bad signature
        self.send(self.next_request(user="someone"))                    # wrong username
        self.send(self.next_request(sig="0" * 40))                      # forged signature
        self.send(b"GET http://127.0.0.1?ts=1 HTTP/1.1\r\n\r\n")        # malformed
        self.send(b"\x00\x01\x00\x00" + bytes(16))                      # stray STUN
        self.assert_sessions_stay(2, "invalid requests must be ignored")

        # the listener still works, and a fresh id with a greater ts is accepted
        self.send(self.next_request())
        self.wait_cr_session(3)
        log = self.daemons[0].log_text()
        for reason in ("ts not greater", "bad signature"):
            self.assertIn(reason, log)

    def test_uppercase_signature_and_percent_encoded_username(self):
        self.start({"connection_request": {"username": "cr user+1"}})
        self.wait_idle(1)
        self.ts += 1
        cn = "ABCDEF0123456789"
        sig = hmac.new(b"crpass", f"{self.ts}42cr user+1{cn}".encode(), hashlib.sha1)
        data = (f"GET http://127.0.0.1:{self.udp_port}?ts={self.ts}&id=42&un=cr%20user%2B1"
                f"&cn={cn}&sig={sig.hexdigest().upper()} HTTP/1.1\r\n\r\n").encode()
        self.send(data)
        self.wait_cr_session(2)

    def test_replay_is_refused_after_a_restart(self):
        d = self.start()
        self.wait_idle(1)
        accepted = self.next_request()
        self.send(accepted)
        self.wait_cr_session(2)
        self.wait_idle(2)
        d.restart()
        self.wait_idle(3)  # the BOOT session
        self.send(accepted)
        self.assert_sessions_stay(3, "a request accepted before the restart is a replay")
        self.send(self.next_request())
        self.wait_cr_session(4)

    def test_request_during_a_session_starts_exactly_one_after_it(self):
        sock = os.path.join(self.tmp, "ctl.sock")
        self.acs.inject("empty", delay=3)   # the boot session lasts 3 s
        self.start({"control": {"socket": sock}})
        wait_until(lambda: self.acs.sessions and self.acs.sessions[0].inform_done, 10,
                   "a session in progress")
        self.send(self.next_request())
        self.send(self.next_request())      # a second one: coalesced into the same session
        self.wait_idle(1)
        self.assertNotIn(CR, codes(self.acs.sessions[0]))
        self.wait_cr_session(2)
        self.wait_idle(2)
        self.assert_sessions_stay(2, "3.2.2.1: one session after the running one")
        status = ctl_command(sock, "status")
        self.assertIn("cr_udp_accepted=1 cr_udp_coalesced=1 cr_udp_refused=0", status)

    def test_an_ignored_request_is_one_line(self):
        """One info line per ignored request, with the reason (not one per endpoint plus
        "no endpoint accepts it"), when every line is written (repeat_interval 0)."""
        self.start({"log": {"repeat_interval": 0}})
        self.wait_idle(1)
        self.send(self.next_request(password="wrong"), copies=1)
        self.send(self.next_request(user="someone"), copies=1)
        wait_until(lambda: "no endpoint accepts it" in self.daemons[0].log_text(), 5,
                   "the second request ignored")
        lines = [l for l in self.daemons[0].log_text().splitlines()
                 if "ignored UDP connection request" in l]
        self.assertEqual(len(lines), 2, lines)
        self.assertRegex(lines[0], r" info  \[udp-cr\] gateway: ignored .*: bad signature$")
        self.assertRegex(lines[1], r" info  \[udp-cr\] ignored .*: no endpoint accepts it$")

    def test_copies_of_a_request_are_ignored_in_one_line_and_a_count(self):
        """GenieACS sends each request three times: the two copies are replays, written once
        and then counted (log.repeat_interval)."""
        self.start({"log": {"repeat_interval": 1}})
        self.wait_idle(1)
        self.send(self.next_request())
        self.send(self.next_request())
        self.wait_cr_session(2)
        time.sleep(1.5)
        log = self.daemons[0].log_text()
        lines = [l for l in log.splitlines() if "ignored UDP connection request" in l]
        self.assertEqual(len(lines), 2, lines)
        self.assertNotIn("more in the last", lines[0])
        self.assertIn("ts not greater", lines[0])
        self.assertRegex(lines[1], r"ts not greater \(3 more in the last 1 s\)$")

    def test_udp_port_zero_disables_the_listener(self):
        self.start({"connection_request": {"udp_port": 0}})
        self.wait_idle(1)
        self.send(self.next_request())
        self.assert_sessions_stay(1, "nothing listens")
        self.assertNotIn("UDP connection requests on port", self.daemons[0].log_text())


def spv_stun(server, **extra):
    values = {"STUNEnable": ("true", "xsd:boolean"),
              "STUNServerAddress": ("127.0.0.1", "xsd:string"),
              "STUNServerPort": (str(server.port), "xsd:unsignedInt"),
              "STUNMinimumKeepAlivePeriod": ("1", "xsd:unsignedInt"),
              "STUNMaximumKeepAlivePeriod": ("1", "xsd:int")}
    values.update(extra)
    return m.rpc_spv([(MS + k, v, t) for k, (v, t) in values.items()], "stun")


class Stun(UdpCase):
    def setUp(self):
        super().setUp()
        self.stun = StunServer(password="stunpass").start()
        self.addCleanup(self.stun.stop)

    def requests_with(self, pred):
        return [r for r in self.stun.received() if pred(r)]

    def test_binding_discovery_nat_and_binding_change(self):
        self.stun.mapped = ("203.0.113.7", 40000)
        # active notification first, so that the first binding is already notified
        self.acs.queue(m.rpc_spa([{"name": ADDR, "notification": 2},
                                  {"name": NAT, "notification": 2}]))
        self.acs.queue(spv_stun(self.stun, STUNUsername=("stunuser", "xsd:string")))
        self.start()
        self.wait_idle(1)
        # G.2.1.3: every request has 0xC001 and USERNAME; the first answer is a binding
        # change, announced at once with 0xC002
        wait_until(lambda: self.requests_with(lambda r: r.binding_change), 10,
                   "a Binding Request with BINDING-CHANGE")
        first = self.stun.received()
        self.assertFalse(first[0].binding_change)
        for r in first:
            self.assertTrue(r.connection_request_binding, r)
            self.assertEqual(r.username, "stunuser")
            self.assertIsNone(r.integrity, "integrity only after a 401 (footnote 28)")
            self.assertEqual(r.source[1], self.udp_port, "sent from the CR port")
        # the value change is notified (active): UDPConnectionRequestAddress and NATDetected
        s = self.acs.wait_inform(timeout=10, n=2)
        self.assertIn("4 VALUE CHANGE", codes(s))
        self.assertEqual(s.inform.parameters[ADDR][0], "203.0.113.7:40000")
        self.assertEqual(s.inform.parameters[NAT][0], "true")

        # keep-alive every second, without BINDING-CHANGE while the binding holds
        n = len(self.stun.received())
        wait_until(lambda: len(self.stun.received()) >= n + 2, 5, "keep-alive requests")
        self.assertFalse(any(r.binding_change for r in self.stun.received()[n:]))
        # Minimum == Maximum: nothing to discover (G.2.1.2), no secondary port
        self.assertFalse(any(r.response_address or r.source[1] != self.udp_port
                             for r in self.stun.received()))

        # the NAT moves the binding: BINDING-CHANGE again and a new value change
        n = len(self.stun.received())
        self.stun.mapped = ("203.0.113.7", 40001)
        wait_until(lambda: self.requests_with(lambda r: r.binding_change and
                                              self.stun.received().index(r) >= n), 5,
                   "BINDING-CHANGE after the mapped port changed")
        s = self.acs.wait_inform(timeout=10, n=3)
        self.assertEqual(s.inform.parameters[ADDR][0], "203.0.113.7:40001")

        # STUN off: back to the local address, NATDetected false, no more requests
        self.wait_idle(3)
        self.acs.queue(m.rpc_spv([(MS + "STUNEnable", "false", "xsd:boolean")], "off"))
        self.acs.queue(m.rpc_gpv([ADDR, NAT]))
        self.send(self.next_request())
        self.wait_idle(4)
        s = self.acs.sessions[3]
        self.assertEqual(s.responses[1].value[ADDR][0], f"127.0.0.1:{self.udp_port}")
        self.assertEqual(s.responses[1].value[NAT][0], "false")
        time.sleep(0.5)
        n = len(self.stun.received())
        time.sleep(2)
        self.assertEqual(len(self.stun.received()), n, "STUN stopped")

    def test_no_nat_when_the_mapped_address_is_ours(self):
        self.acs.queue(spv_stun(self.stun))
        self.start()
        self.wait_idle(1)
        wait_until(lambda: self.requests_with(lambda r: r.binding_change), 10, "discovery")
        self.assertIsNone(self.stun.received()[0].username, "no STUNUsername, no USERNAME")
        self.acs.queue(m.rpc_gpv([ADDR, NAT]))
        self.send(self.next_request())
        s = self.wait_idle(2)[1]
        self.assertEqual(s.responses[0].value[ADDR][0], f"127.0.0.1:{self.udp_port}")
        self.assertEqual(s.responses[0].value[NAT][0], "false")

    def test_message_integrity_after_401(self):
        self.stun.require_integrity = True
        self.stun.mapped = ("198.51.100.9", 5000)
        self.acs.queue(spv_stun(self.stun, STUNUsername=("stunuser", "xsd:string"),
                                STUNPassword=("stunpass", "xsd:string")))
        self.start()
        self.wait_idle(1)
        wait_until(lambda: self.requests_with(lambda r: r.integrity), 10,
                   "a retry with MESSAGE-INTEGRITY")
        got = self.stun.received()
        self.assertIsNone(got[0].integrity, "the first request has no integrity")
        signed = [r for r in got if r.integrity is not None]
        self.assertTrue(all(r.integrity for r in signed), "integrity is right for STUNPassword")
        self.assertTrue(all(r.username == "stunuser" for r in signed))
        self.acs.queue(m.rpc_gpv([ADDR, NAT]))
        wait_until(lambda: any(r.binding_change and r.integrity for r in
                               self.stun.received()), 10, "BINDING-CHANGE, signed after 401")
        self.send(self.next_request())
        s = self.wait_idle(2)[1]
        self.assertEqual(s.responses[0].value[ADDR][0], "198.51.100.9:5000")
        self.assertEqual(s.responses[0].value[NAT][0], "true")

    def test_retransmission_when_the_server_is_silent(self):
        self.stun.silent = True
        self.acs.queue(spv_stun(self.stun, STUNMinimumKeepAlivePeriod=("60", "xsd:unsignedInt"),
                                STUNMaximumKeepAlivePeriod=("60", "xsd:int")))
        self.start()
        self.wait_idle(1)
        # RFC 3489 9.3: 9 copies of one transaction over 7.9 s, then it has failed
        time.sleep(10.5)
        got = self.stun.received()
        self.assertEqual(len(got), 9, got)
        self.assertEqual(len({r.txid for r in got}), 1)
        gaps = [round(b.time - a.time, 1) for a, b in zip(got, got[1:])]
        self.assertEqual(gaps[:4], [0.1, 0.2, 0.4, 0.8])
        self.assertTrue(all(1.4 <= g <= 1.9 for g in gaps[4:]), gaps)
        self.assertIn("no answer from the STUN server", self.daemons[0].log_text())


class BindingTimeoutDiscovery(UdpCase):
    """G.2.1.2: with STUNMinimumKeepAlivePeriod != STUNMaximumKeepAlivePeriod behind a NAT,
    the CPE tests its binding from a secondary port and keeps it alive with the longest
    period that holds."""
    FOUND = "NAT binding timeout discovered: keep-alive period"

    def setUp(self):
        super().setUp()
        self.stun = StunServer().start()
        self.addCleanup(self.stun.stop)

    def primary(self):
        return [r for r in self.stun.received() if r.source[1] == self.udp_port]

    def probes(self):
        """The first copy of each test request from the secondary port."""
        seen, first = set(), []
        for r in self.stun.received():
            if r.source[1] != self.udp_port and r.txid not in seen:
                seen.add(r.txid)
                first.append(r)
        return first

    def test_discovers_the_nat_timeout_and_keeps_alive_with_it(self):
        self.stun.nat = Nat(timeout=2.5)  # the NAT forgets a binding idle for 2.5 s
        self.acs.queue(spv_stun(self.stun, STUNMinimumKeepAlivePeriod=("1", "xsd:unsignedInt"),
                                STUNMaximumKeepAlivePeriod=("10", "xsd:int")))
        self.start()
        self.wait_idle(1)
        log = self.daemons[0].log_text
        wait_until(lambda: self.FOUND in log(), 30, "the end of the discovery")
        self.assertIn(f"{self.FOUND} 2 s", log())
        self.assertIn("discovering the NAT binding timeout (1 to 10 s)", log())

        # the tests: 2 s (held), 4 s and 3 s (lost), each measured from the last refresh of
        # the primary binding, sent from another port with RESPONSE-ADDRESS = the primary's
        # public address and neither 0xC001 nor 0xC002 (G.2.1.3)
        probes = self.probes()
        self.assertEqual(len(probes), 3, probes)
        for p in probes:
            before = [r for r in self.primary() if r.time < p.time][-1]
            self.assertNotEqual(p.source[1], self.udp_port)
            self.assertEqual(p.response_address, before.public, p)
            self.assertFalse(p.connection_request_binding, p)
            self.assertFalse(p.binding_change, p)
            self.assertIsNone(p.username)
            self.assertIsNone(p.integrity)
            p.idle = p.time - before.time
        for p, period in zip(probes, (2, 4, 3)):
            self.assertAlmostEqual(p.idle, period, delta=0.4, msg=probes)
        # the NAT dropped the answers to the lost ones; each loss is a new binding, announced
        # from the primary port with BINDING-CHANGE (three bindings in all)
        dropped = {r.txid for r, _ in self.stun.dropped}
        self.assertEqual([p.txid in dropped for p in probes], [False, True, True])
        changes = [r for r in self.primary() if r.binding_change]
        self.assertEqual(len({r.public for r in changes}), 3, changes)
        self.assertTrue(all(r.connection_request_binding for r in self.primary()))

        # from now on the primary binding is refreshed every 2 s and holds: no more tests,
        # no new binding
        n = len(self.primary())
        wait_until(lambda: len(self.primary()) >= n + 3, 10, "keep-alive requests")
        keep = self.primary()[n - 1:]
        gaps = [b.time - a.time for a, b in zip(keep, keep[1:])]
        self.assertTrue(all(1.8 <= g <= 2.4 for g in gaps), gaps)
        self.assertEqual(len(self.probes()), 3)
        self.assertEqual(len({r.public for r in keep}), 1, keep)
        self.assertFalse(any(r.binding_change for r in keep[1:]))

    def test_the_test_is_signed_only_after_a_401(self):
        # a server that wants MESSAGE-INTEGRITY on every request (G.2.1.1), a NAT that
        # keeps idle bindings long enough: one test of 2 s, which holds
        self.stun.password = "stunpass"
        self.stun.require_integrity = True
        self.stun.nat = Nat(timeout=30)
        self.acs.queue(spv_stun(self.stun, STUNMinimumKeepAlivePeriod=("1", "xsd:unsignedInt"),
                                STUNMaximumKeepAlivePeriod=("2", "xsd:int"),
                                STUNUsername=("stunuser", "xsd:string"),
                                STUNPassword=("stunpass", "xsd:string")))
        self.start()
        self.wait_idle(1)
        log = self.daemons[0].log_text
        wait_until(lambda: self.FOUND in log(), 15, "the end of the discovery")
        self.assertIn(f"{self.FOUND} 2 s", log())
        tests = [r for r in self.stun.received() if r.source[1] != self.udp_port]
        self.assertEqual([r.integrity for r in tests], [None, True], tests)
        self.assertEqual([r.username for r in tests], [None, "stunuser"])
        for r in tests:
            self.assertFalse(r.connection_request_binding or r.binding_change, r)
            self.assertEqual(r.response_address, ("203.0.113.7", 40000))

    def test_a_server_without_response_address_ends_the_discovery(self):
        # no NAT in front, but the server reports another address: translation is seen;
        # answering the test to its source instead of RESPONSE-ADDRESS is what an RFC 5389
        # server does, and the test cannot work with it
        self.stun.mapped = ("198.51.100.9", 5000)
        self.stun.ignore_response_address = True
        self.acs.queue(spv_stun(self.stun, STUNMinimumKeepAlivePeriod=("1", "xsd:unsignedInt"),
                                STUNMaximumKeepAlivePeriod=("2", "xsd:int")))
        self.start()
        self.wait_idle(1)
        log = self.daemons[0].log_text
        wait_until(lambda: "discovery abandoned" in log(), 15, "the discovery abandoned")
        self.assertIn("the STUN server ignores RESPONSE-ADDRESS", log())
        self.assertEqual(len(self.probes()), 1)
        # keep-alive by STUNMaximumKeepAlivePeriod (2 s)
        n = len(self.primary())
        wait_until(lambda: len(self.primary()) >= n + 2, 10, "keep-alive requests")
        keep = self.primary()[n - 1:]
        gaps = [b.time - a.time for a, b in zip(keep, keep[1:])]
        self.assertTrue(all(1.8 <= g <= 2.4 for g in gaps), gaps)
        self.assertEqual(len(self.probes()), 1)
        self.assertNotIn(self.FOUND, log())


if __name__ == "__main__":
    unittest.main()
