"""Hostile and malformed ACS messages (TR-069 3.7.1.4: a reply that is not well-formed or not
valid SOAP fails the session): entity expansion, external entities, huge and deep documents,
garbage, a wrong namespace. The daemon survives, reads no file, and the next session works."""
import os
import re
import time
import unittest

from support import ProxierTestCase, ctl_command, ctl_raw, soapmsg as m, wait_until

NS = ('xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
      'xmlns:cwmp="urn:dslforum-org:cwmp-1-2"')


def envelope(body):
    return (f'<soap-env:Envelope {NS}><soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">'
            f'h1</cwmp:ID></soap-env:Header><soap-env:Body>{body}</soap-env:Body>'
            f'</soap-env:Envelope>').encode()


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">'
                             .encode() for i in range(1, 10))
                  + b']>' + envelope('<cwmp:GetParameterValues><ParameterNames><string>&lol9;'
                                     '</string></ParameterNames></cwmp:GetParameterValues>'))


class HostileACS(ProxierTestCase):
    def run_hostile(self, body, expect_session_ok=False):
        self.acs.inject("empty", body=body)
        self.acs.queue(m.rpc_gpv(["Device.DeviceInfo.SoftwareVersion"]))
        d = self.start_daemon({"cwmp": {"retry_interval_multiplier": 1000}})
        first = self.acs.wait_sessions(1)[0]
        self.assertEqual(first.ended_ok, expect_session_ok)
        # the daemon is alive and the next session works
        second = self.acs.wait_sessions(2, timeout=20)[1]
        self.assertTrue(second.ended_ok)
        self.assertEqual(second.responses[0].method, "GetParameterValuesResponse")
        self.assertTrue(d.running())
        return d

    def test_billion_laughs(self):
        t = time.monotonic()
        d = self.run_hostile(BILLION_LAUGHS)
        self.assertLess(time.monotonic() - t, 15)
        self.assertIn("malformed message from the ACS", d.log_text())

    def test_external_entity_is_not_read(self):
        secret = os.path.join(self.tmp, "secret.txt")
        with open(secret, "w") as f:
            f.write("TOP-SECRET-CONTENT")
        body = (f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>'
                .encode() + envelope('<cwmp:GetParameterValues><ParameterNames><string>&e;'
                                     '</string></ParameterNames></cwmp:GetParameterValues>'))
        self.run_hostile(body)
        for s in self.acs.sessions:
            for e in s.exchanges:
                self.assertNotIn(b"TOP-SECRET", e.cpe)

    def test_huge_envelope(self):
        names = "".join(f"<string>Device.X{i}</string>" for i in range(300000))
        self.run_hostile(envelope(f"<cwmp:GetParameterValues><ParameterNames>{names}"
                                  "</ParameterNames></cwmp:GetParameterValues>"))

    def test_deep_nesting(self):
        self.run_hostile(envelope("<a>" * 20000 + "</a>" * 20000))

    def test_garbage_and_truncation(self):
        self.run_hostile(b"\x00\xffthis is not xml <<<")

    def test_wrong_envelope_namespace(self):
        self.run_hostile(b'<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"><Body/>'
                         b'</Envelope>')

    def test_badly_encoded_envelope_writes_nothing_behind_the_logger(self):
        # libxml2 prints "encoding error : input conversion failed" to stderr by itself,
        # despite XML_PARSE_NOERROR: every line the daemon writes must be the logger's
        body = (b'<?xml version="1.0" encoding="ISO-2022-JP"?>' + envelope(
            '<cwmp:GetParameterValues><ParameterNames><string>X</string></ParameterNames>'
            '</cwmp:GetParameterValues>').replace(b"X", b"\x1b$B\xff\xff\xff\xff"))
        d = self.run_hostile(body)
        d.stop()
        logger_line = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z (error|warn|info|debug) +\[")
        foreign = [line for line in d.log_text().splitlines()
                   if line and not line.startswith("==== start") and not logger_line.match(line)]
        self.assertEqual(foreign, [])
        self.assertIn("libxml2:", d.log_text())   # what it had to say went to the logger

    def test_a_large_valid_request_is_accepted(self):
        # 3.5: envelopes of at least 32 KiB; here ~100 KiB of parameter names (all valid)
        names = ["Device.DeviceInfo.SoftwareVersion"] * 3000
        self.acs.queue(m.rpc_gpv(names))
        self.start_daemon()
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)
        self.assertGreater(len(s.responses[0].rpc.body), 32 * 1024)
        self.assertEqual(s.responses[0].method, "GetParameterValuesResponse")


class BadArguments(ProxierTestCase):
    def test_known_method_with_bad_arguments_gets_9003_and_the_session_goes_on(self):
        self.acs.queue(m.rpc_raw("<cwmp:GetParameterNames><ParameterPath>Device."
                                 "</ParameterPath></cwmp:GetParameterNames>",
                                 method="GetParameterNames"))
        self.acs.queue(m.rpc_gpv(["Device.DeviceInfo.Manufacturer"]))
        self.start_daemon()
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)
        self.assertEqual(s.responses[0].fault.code, 9003)
        self.assertIn("NextLevel", s.responses[0].fault.string)
        self.assertEqual(s.responses[1].method, "GetParameterValuesResponse")


class Headers(ProxierTestCase):
    """TR-069 3.5 Table 4 and SOAP 1.1 4.2.3 on the headers of ACS requests."""

    def test_unknown_must_understand_header_gets_a_must_understand_fault(self):
        billing = ('<x:Billing xmlns:x="urn:example" soap-env:mustUnderstand="1">7'
                   '</x:Billing>')
        self.acs.queue(m.Rpc("Reboot", "<cwmp:Reboot><CommandKey>mu</CommandKey></cwmp:Reboot>",
                             headers=billing))
        # optional unknown headers are ignored; a cwmp one we do not know, if mandatory, not
        self.acs.queue(m.Rpc("GetRPCMethods", "<cwmp:GetRPCMethods/>",
                             headers='<x:Trace xmlns:x="urn:example">1</x:Trace>'))
        self.acs.queue(m.Rpc("GetRPCMethods", "<cwmp:GetRPCMethods/>",
                             headers='<cwmp:Frobnicate soap-env:mustUnderstand="true">1'
                                     '</cwmp:Frobnicate>'))
        d = self.start_daemon()
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)
        first, second, third = s.responses
        self.assertEqual(first.method, "Fault")
        self.assertTrue(first.id_ok)
        self.assertEqual(first.fault.code, 9003)
        self.assertIn("Billing", first.fault.string)
        self.assertIn(b"<faultcode>soap-env:MustUnderstand</faultcode>", first.raw)
        self.assertEqual(second.method, "GetRPCMethodsResponse")
        self.assertEqual(third.method, "Fault")
        self.assertIn("Frobnicate", third.fault.string)
        # the Reboot was not carried out: no reboot, no "M Reboot" in a later Inform
        time.sleep(1)
        self.assertEqual(len(self.acs.sessions), 1)
        self.assertNotIn("stopping for a reboot", d.log_text())

    def test_two_ids_are_a_malformed_message_that_ends_the_session(self):
        self.acs.queue(m.Rpc("Reboot", "<cwmp:Reboot><CommandKey>dup</CommandKey></cwmp:Reboot>",
                             headers='<cwmp:ID soap-env:mustUnderstand="1">second</cwmp:ID>'))
        self.acs.queue(m.rpc_gpv(["Device.DeviceInfo.SoftwareVersion"]))
        d = self.start_daemon({"cwmp": {"retry_interval_multiplier": 1000}})
        first = self.acs.wait_sessions(1)[0]
        self.assertFalse(first.ended_ok)
        self.assertEqual(first.responses, [])   # not answered: 3.7.1.4, session failed
        second = self.acs.wait_sessions(2, timeout=20)[1]
        self.assertTrue(second.ended_ok)
        self.assertEqual(second.responses[0].method, "GetParameterValuesResponse")
        self.assertIn("appears more than once", d.log_text())


PC = "Device.DeviceInfo.ProvisioningCode"


class ValueGate(ProxierTestCase):
    """Issue 8: no value from any path may make a later Inform not well-formed."""

    def start(self, overrides=None):
        self.sock = os.path.join(self.tmp, "ctl.sock")
        cfg = {"control": {"socket": self.sock}}
        cfg.update(overrides or {})
        return self.start_daemon(cfg)

    def ctl_raw(self, line):
        return ctl_raw(self.sock, line, linger=0.2)   # a forged second line would arrive

    def idle(self):
        wait_until(lambda: ctl_command(self.sock, "status").startswith("ok session=idle"), 10,
                   "idle endpoint")

    def test_control_socket_refuses_bytes_xml_cannot_carry_and_informs_stay_well_formed(self):
        d = self.start()
        self.acs.wait_sessions(1)
        self.idle()
        reply = self.ctl_raw(b"set " + PC.encode() + b" ab\x01cd\xffef")
        self.assertTrue(reply.startswith(b"error 9007 "), reply)
        self.assertIn(b"U+0001", reply)
        self.assertEqual(reply.count(b"\n"), 1)
        self.assertTrue(self.ctl_raw(b"set " + PC.encode() + b" abcd\xffef")
                        .startswith(b"error 9007 "))
        self.assertEqual(ctl_command(self.sock, f"get {PC}"), "ok ")   # nothing changed
        self.assertEqual(ctl_command(self.sock, f"set {PC} caf\u00e9 ok"), "ok")
        # a local change of ProvisioningCode (forced into every Inform) brings a session
        s = self.acs.wait_sessions(2, timeout=20)[1]
        wait_until(lambda: s.ended_ok, 10, "the value-change session")
        self.assertTrue(s.ended_ok)   # strict ACS: every message parsed and validated
        self.assertEqual(s.inform.parameters[PC][0], "caf\u00e9 ok")

    def test_a_nul_byte_in_a_command_is_refused_not_cut(self):
        self.start()
        self.acs.wait_sessions(1)
        self.idle()
        reply = self.ctl_raw(b"set " + PC.encode() + b" ab\x00cd")
        self.assertEqual(reply, b"error 9003 a NUL byte in the command line (byte %d)\n"
                         % (len("set " + PC + " ab") + 1))
        self.assertEqual(ctl_command(self.sock, f"get {PC}"), "ok ")   # nothing changed
        self.assertEqual(ctl_command(self.sock, "status").split()[0], "ok")   # still serving

    def test_a_value_with_a_newline_cannot_forge_a_reply_line(self):
        self.acs.queue(m.rpc_spv([(PC, "x\nok forged\\n", "xsd:string")]))
        self.start()
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)
        self.assertEqual(s.responses[0].method, "SetParameterValuesResponse")
        self.idle()
        reply = self.ctl_raw(b"get " + PC.encode())
        self.assertEqual(reply, b"ok x\\nok forged\\\\n\n")

    def test_a_poisoned_cache_value_is_dropped_not_sent(self):
        # a cache written by hand or by an older version: the bytes must not reach an Inform
        d = self.start()
        self.acs.wait_sessions(1)
        self.idle()
        self.assertEqual(ctl_command(self.sock, f"set {PC} good"), "ok")
        wait_until(lambda: len(self.acs.sessions) == 2 and self.acs.sessions[1].ended_ok, 10,
                   "the value-change session")
        d.stop()
        import sqlite3
        db = sqlite3.connect(d.db_path)
        n = db.execute("update param_value set value = cast(? as text) where path = ?",
                       (b"ab\x01cd\xffef", PC)).rowcount
        db.commit()
        db.close()
        self.assertEqual(n, 1)
        d.start()
        s = self.acs.wait_sessions(3, timeout=20)[2]
        wait_until(lambda: s.ended_ok, 10, "the session after the restart")
        self.assertNotIn(PC, s.inform.parameters)
        self.assertIn("value from the provider dropped", d.log_text())

if __name__ == "__main__":
    unittest.main()
