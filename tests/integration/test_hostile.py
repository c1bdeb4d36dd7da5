"""Hostile and malformed ACS messages (TR-069 3.7.1.4: a reply that is not well-formed or not
valid SOAP fails the session): entity expansion, external entities, huge and deep documents,
garbage, a wrong namespace. The daemon survives, reads no file, and the next session works."""
import os
import time
import unittest

from support import ProxierTestCase, soapmsg as m

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


if __name__ == "__main__":
    unittest.main()
