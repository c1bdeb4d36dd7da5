"""Self-tests of the test ACS (acs.py) without proxierd: a small fake CPE speaking HTTP/1.1
over one persistent connection drives Sessions (TR-069 3.4, 3.7) with the sample messages of
$PX_SHARED_DIR/spec/samples, and the tests check what the ACS answered and recorded.
Run from tests/: PX_SHARED_DIR=/work/shared python3 -m unittest -v acs.test_acs
"""
import gzip
import http.client
import http.server
import os
import re
import shutil
import signal
import ssl
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

from . import soapmsg
from .acs import TestACS
from .digest import (Authenticator, authorization, digest_response, genieacs_authorization,
                     genieacs_parse, node_join, parse_params)
from .xsd import Validator, shared_dir

SAMPLES = os.path.join(shared_dir(), "spec", "samples")


def sample(name):
    with open(os.path.join(SAMPLES, name), "rb") as f:
        return f.read()


class FakeCPE:
    """Just enough CPE: a persistent HTTP connection, a cookie jar, Basic/Digest answers,
    redirects (TR-069 3.4.2). post() returns (status, headers, body) and never retries."""

    def __init__(self, url, username="cpe", password="secret", keep_cookies=True,
                 ssl_context=None):
        self.url, self.username, self.password = url, username, password
        self.keep_cookies, self.ssl_context = keep_cookies, ssl_context
        self.cookies, self.conn, self.challenge, self.nc = {}, None, None, 0

    def _connect(self):
        u = urllib.parse.urlsplit(self.url)
        if self.conn is None:
            self.conn = http.client.HTTPSConnection(u.hostname, u.port, context=self.ssl_context) \
                if u.scheme == "https" else http.client.HTTPConnection(u.hostname, u.port)
        return u.path

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def local_port(self):
        return self.conn.sock.getsockname()[1]

    def authorization(self, path):
        self.nc += 1
        return authorization(self.challenge, "POST", path, self.username, self.password,
                             self.nc)

    def post(self, body=b"", soapaction="", extra_headers=None):
        path = self._connect()
        headers = dict(extra_headers or {})
        if body:
            headers.setdefault("Content-Type", 'text/xml; charset="utf-8"')
            headers.setdefault("SOAPAction", soapaction)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.challenge:
            headers["Authorization"] = self.authorization(path)
        self.conn.request("POST", path, body=body, headers=headers)
        r = self.conn.getresponse()
        data = r.read()
        if self.keep_cookies:
            for c in r.headers.get_all("Set-Cookie") or []:
                name, _, value = c.split(";")[0].partition("=")
                self.cookies[name.strip()] = value.strip()
        if r.status == 401:
            self.challenge, self.nc = r.headers["WWW-Authenticate"], 0
        if r.status in (301, 302, 307):
            self.url = r.headers["Location"]
        if r.headers.get("Connection", "").lower() == "close":
            self.close()
        return r.status, r.headers, data

    def post_following(self, body=b"", soapaction=""):
        """post() repeated after 401 (once) and redirects (up to 5, TR-069 3.4.2)."""
        auth_tried, hops = False, 0
        while True:
            status, headers, data = self.post(body, soapaction)
            if status == 401 and not auth_tried:
                auth_tried = True
                continue
            if status in (301, 302, 307) and hops < 5:
                hops += 1
                continue
            return status, headers, data

    def run_session(self, inform, answer=None):
        """Inform, empty POST, then answer each ACS request with answer(env) until 204.
        Returns the list of ACS envelopes received (parsed)."""
        got = []
        status, _, data = self.post_following(inform, "Inform")
        assert status == 200, (status, data)
        got.append(soapmsg.parse_envelope(data))
        status, _, data = self.post_following(b"")
        while status == 200:
            env = soapmsg.parse_envelope(data)
            got.append(env)
            status, _, data = self.post_following(answer(env))
        assert status == 204, (status, data)
        self.close()
        return got


def gpv_answer(env):
    """A schema-valid GetParameterValuesResponse to an ACS GetParameterValues."""
    names = [s.text for s in env.body.find("ParameterNames")]
    items = "".join(f'<ParameterValueStruct><Name>{n}</Name><Value xsi:type="xsd:string">v-{n}'
                    "</Value></ParameterValueStruct>" for n in names)
    body = ("<cwmp:GetParameterValuesResponse><ParameterList soap-enc:arrayType="
            f'"cwmp:ParameterValueStruct[{len(names)}]">{items}</ParameterList>'
            "</cwmp:GetParameterValuesResponse>")
    return soapmsg.envelope(body, env.ns, env.id).encode()


def with_id(raw, msg_id):
    """A sample message with its cwmp:ID replaced (to answer an ACS request)."""
    return re.sub(rb"(<cwmp:ID[^>]*>)[^<]*(</cwmp:ID>)", rb"\g<1>" + msg_id.encode() + rb"\2", raw)


class ACSCase(unittest.TestCase):
    auth = None

    def setUp(self):
        self.acs = TestACS(auth=self.auth, username="cpe", password="secret").start()
        self.addCleanup(self.acs.stop)
        self.cpe = FakeCPE(self.acs.url)
        self.addCleanup(self.cpe.close)


class SessionTests(ACSCase):
    def test_full_session_with_gpv(self):
        rpc = self.acs.queue(soapmsg.rpc_gpv(["Device.DeviceInfo.UpTime",
                                              "Device.ManagementServer.URL"]))
        got = self.cpe.run_session(sample("inform-1-2.xml"), gpv_answer)
        s = self.acs.wait_sessions(1, timeout=5)[0]
        inform_id = soapmsg.parse_envelope(sample("inform-1-2.xml")).id
        # InformResponse: same ID and namespace, MaxEnvelopes 1, then our GPV with a fresh ID.
        self.assertEqual(got[0].method, "InformResponse")
        self.assertEqual(got[0].id, inform_id)
        self.assertEqual(got[0].ns, "urn:dslforum-org:cwmp-1-2")
        self.assertEqual(got[0].body.find("MaxEnvelopes").text, "1")
        self.assertEqual([e.method for e in got], ["InformResponse", "GetParameterValues"])
        self.assertNotEqual(got[1].id, inform_id)
        self.assertNotIn("UseCWMPVersion", got[0].headers)
        # Records.
        self.assertTrue(s.ended_ok)
        self.assertEqual(s.end_reason, "204")
        self.assertIn(("1 BOOT", ""), s.inform.events)
        self.assertEqual(s.inform.device_id["OUI"], "00D09E")
        self.assertEqual(s.inform.retry_count, 0)
        self.assertEqual(s.inform.max_envelopes, 1)
        self.assertTrue(all(isinstance(v, tuple) and len(v) == 2
                            for v in s.inform.parameters.values()))
        self.assertEqual([e.method for e in s.exchanges],
                         ["Inform", None, "GetParameterValuesResponse"])
        self.assertEqual([e.status for e in s.exchanges], [200, 200, 204])
        r = s.responses[0]
        self.assertIs(r.rpc, rpc)
        self.assertTrue(r.id_ok)
        self.assertEqual(r.value["Device.DeviceInfo.UpTime"],
                         ("v-Device.DeviceInfo.UpTime", "xsd:string"))
        self.assertEqual(len(s.conn_ids), 1, "one persistent TCP connection")
        self.assertEqual(self.acs.connections[s.conn_ids[0]].requests, 3)
        self.assertEqual(s.cookies_seen[0], None)
        self.assertEqual(s.cookies_seen[1:], [f"session={s.cookie}"] * 2)
        self.acs.assert_clean()
        self.assertEqual([e.validation for e in s.exchanges], [[], None, []])
        self.assertEqual(self.acs.pending(), [])

    def test_inform_parameters_and_types(self):
        self.cpe.run_session(sample("inform-1-2.xml"))
        s = self.acs.wait_sessions(1, timeout=5)[0]
        raw = sample("inform-1-2.xml").decode()
        name, typ = re.search(r"<Name>([^<]+)</Name>\s*<Value xsi:type=\"([^\"]+)\"", raw).groups()
        self.assertEqual(s.inform.parameters[name][1], typ)

    def test_cwmp14_inform_gets_use_cwmp_version(self):
        got = self.cpe.run_session(sample("inform-cwmp14.xml"))
        s = self.acs.wait_sessions(1, timeout=5)[0]
        self.assertEqual(got[0].headers.get("UseCWMPVersion"), "1.4")
        self.assertEqual(s.cwmp_version, "1.4")
        self.assertEqual(s.inform.headers["SupportedCWMPVersions"], "1.0,1.1,1.2,1.3,1.4")
        self.assertEqual(s.inform.events, [("13 WAKEUP", "")])
        # our InformResponse with UseCWMPVersion is itself valid CWMP 1.4
        self.assertEqual(Validator().validate(got[0].raw), [])
        self.acs.assert_clean()

    def test_use_cwmp_version_disabled(self):
        self.acs.use_cwmp_version = None
        got = self.cpe.run_session(sample("inform-cwmp14.xml"))
        self.assertNotIn("UseCWMPVersion", got[0].headers)

    def test_namespace_1_0_answered_in_1_0(self):
        self.acs.queue(soapmsg.rpc_gpv(["Device.DeviceInfo.UpTime"]))
        got = self.cpe.run_session(sample("inform-1-0.xml"), gpv_answer)
        self.assertEqual({e.ns for e in got}, {"urn:dslforum-org:cwmp-1-0"})
        self.acs.wait_sessions(1, timeout=5)
        self.acs.assert_clean()

    def test_cpe_requests_answered(self):
        self.cpe.post_following(sample("inform-1-2.xml"), "Inform")
        tc = soapmsg.envelope(
            "<cwmp:TransferComplete><CommandKey>dl-1</CommandKey><FaultStruct><FaultCode>0"
            "</FaultCode><FaultString></FaultString></FaultStruct><StartTime>2026-01-01T00:00:00Z"
            "</StartTime><CompleteTime>2026-01-01T00:00:05Z</CompleteTime></cwmp:TransferComplete>",
            msg_id="c1").encode()
        status, _, data = self.cpe.post(tc, "TransferComplete")
        env = soapmsg.parse_envelope(data)
        self.assertEqual((status, env.method, env.id), (200, "TransferCompleteResponse", "c1"))
        grm = soapmsg.envelope("<cwmp:GetRPCMethods></cwmp:GetRPCMethods>", msg_id="c2").encode()
        env = soapmsg.parse_envelope(self.cpe.post(grm, "GetRPCMethods")[2])
        self.assertEqual(soapmsg.parse_response(env)[:2], ["Inform", "GetRPCMethods"])
        status, _, _ = self.cpe.post(b"")
        self.assertEqual(status, 204)
        s = self.acs.wait_sessions(1, timeout=5)[0]
        self.assertEqual(s.cpe_requests[0][0], "TransferComplete")
        self.assertEqual(s.cpe_requests[0][1]["CommandKey"], "dl-1")
        self.assertEqual(s.cpe_requests[0][1]["fault_code"], 0)
        self.acs.assert_clean()

    def test_request_after_empty_post_is_a_violation(self):
        self.acs.queue(soapmsg.rpc_gpv(["Device.DeviceInfo.UpTime"]))
        self.cpe.post_following(sample("inform-1-2.xml"), "Inform")
        self.cpe.post(b"")
        grm = soapmsg.envelope("<cwmp:GetRPCMethods></cwmp:GetRPCMethods>", msg_id="c2").encode()
        self.cpe.post(grm, "GetRPCMethods")
        self.assertTrue(any("after the empty POST" in v for v in self.acs.violations))

    def test_spv_fault_response_parsed(self):
        self.acs.queue(soapmsg.rpc_spv(
            [("Device.ManagementServer.PeriodicInformInterval", "0", "xsd:unsignedInt")], "k1"))
        self.cpe.run_session(sample("inform-1-2.xml"),
                             lambda env: with_id(sample("spv-fault-1-2.xml"), env.id))
        s = self.acs.wait_sessions(1, timeout=5)[0]
        f = s.responses[0].fault
        self.assertEqual((f.code, f.string), (9003, "Invalid arguments"))
        self.assertEqual(f.spv_faults, [("Device.ManagementServer.PeriodicInformInterval", 9007,
                                         "Invalid parameter value")])
        self.acs.assert_clean()

    def test_wrong_response_id_is_a_violation(self):
        self.acs.queue(soapmsg.rpc_gpv(["Device.DeviceInfo.UpTime"]))
        self.cpe.run_session(sample("inform-1-2.xml"),
                             lambda env: with_id(sample("gpvr-1-2.xml"), "not-" + env.id))
        s = self.acs.wait_sessions(1, timeout=5)[0]
        self.assertFalse(s.responses[0].id_ok)
        self.assertRaisesRegex(AssertionError, "cwmp:ID", self.acs.assert_no_violations)

    def test_hold_requests_header(self):
        self.acs.queue(soapmsg.rpc_gpv(["Device.DeviceInfo.UpTime"], hold_requests=True))
        got = self.cpe.run_session(sample("inform-1-2.xml"), gpv_answer)
        self.assertEqual(got[1].headers.get("HoldRequests"), "1")

    def test_rpcs_for_one_device_only(self):
        self.acs.queue(soapmsg.rpc_reboot("r"), serial="SOMEONE-ELSE")
        got = self.cpe.run_session(sample("inform-1-2.xml"))
        self.assertEqual([e.method for e in got], ["InformResponse"])
        self.assertEqual(len(self.acs.pending()), 1)

    def test_on_inform_hook_queues_into_current_session(self):
        self.acs.on_inform(lambda s: self.acs.queue(soapmsg.rpc_gpn("Device.", True)))
        # answered with the wrong response type on purpose: the ACS must notice
        got = self.cpe.run_session(sample("inform-1-2.xml"),
                                   lambda env: with_id(sample("gpvr-1-2.xml"), env.id))
        self.assertEqual(got[1].method, "GetParameterNames")
        self.assertTrue(any("answers GetParameterNames" in v for v in self.acs.violations))


class ValidationTests(ACSCase):
    def test_invalid_samples_are_flagged(self):
        for name, needle in (("bad-eventcode-1-2.xml", "EventCode"),
                             ("bad-wrongns-cwmp-1-4.xml", "cwmp-1-4}Inform"),
                             ("bad-typo-informx-1-2.xml", "Informx")):
            with self.subTest(name):
                before = len(self.acs.validation_errors)
                self.cpe.post(sample(name), "Inform")
                self.cpe.close()
                self.acs.drain_validation()
                errors = self.acs.validation_errors[before:]
                self.assertEqual(len(errors), 1, errors)
                self.assertIn(needle, errors[0][1])
        self.assertRaisesRegex(AssertionError, "EventCode", self.acs.assert_all_valid)

    def test_unknown_namespace_and_method_refused(self):
        status = self.cpe.post(sample("bad-wrongns-cwmp-1-4.xml"), "Inform")[0]
        self.assertEqual(status, 400)
        self.cpe.close()
        status = self.cpe.post(sample("bad-typo-informx-1-2.xml"), "Inform")[0]
        self.assertEqual(status, 400)
        self.assertFalse(self.acs.sessions[0].ended_ok)

    def test_not_well_formed_gets_400(self):
        status, _, body = self.cpe.post(b"<soap-env:Envelope", "Inform")
        self.assertEqual(status, 400)
        self.assertIn(b"well-formed", body)
        self.acs.drain_validation()
        self.assertEqual(len(self.acs.validation_errors), 1)

    def test_acs_messages_are_schema_valid(self):
        v = Validator()
        rpcs = [soapmsg.rpc_gpv(["Device."]), soapmsg.rpc_gpn("Device.", False),
                soapmsg.rpc_spv([("Device.A", "1", "xsd:boolean"), ("Device.B", "x<&", "xsd:string")],
                                "key"),
                soapmsg.rpc_spa([{"name": "Device.A", "notification": 2},
                                 {"name": "Device.B", "access_list": ["Subscriber"]}]),
                soapmsg.rpc_gpa(["Device.A", "Device.B"]), soapmsg.rpc_add("Device.X.", "k"),
                soapmsg.rpc_delete("Device.X.1.", "k"), soapmsg.rpc_reboot("r"),
                soapmsg.rpc_factory_reset(), soapmsg.rpc_schedule_inform(5, "s"),
                soapmsg.rpc_get_rpc_methods(),
                soapmsg.rpc_download("http://127.0.0.1/fw.bin", file_size=10, key="d")]
        for ns in ("urn:dslforum-org:cwmp-1-0", "urn:dslforum-org:cwmp-1-2"):
            for rpc in rpcs:
                with self.subTest(ns=ns, rpc=rpc.method):
                    raw = soapmsg.envelope(rpc.body, ns, "acs-1", rpc.hold_requests).encode()
                    self.assertEqual(v.validate(raw), [])
            for body in (soapmsg.inform_response_body(), soapmsg.fault_body(8005)):
                self.assertEqual(v.validate(soapmsg.envelope(body, ns, "1").encode()), [])
        self.assertNotEqual(v.validate(soapmsg.envelope(
            soapmsg.rpc_raw("<cwmp:Bogus/>").body, msg_id="1").encode()), [])


class AuthTests(ACSCase):
    auth = "digest"

    def test_rfc2617_example_digest(self):
        # RFC 2617 section 3.5 example.
        self.assertEqual(digest_response("Mufasa", "Circle Of Life", "testrealm@host.com", "GET",
                                         "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                                         "00000001", "0a4f113b"),
                         "6629fae49393a05397450978507c4ef1")

    def test_challenge_then_success(self):
        status, headers, _ = self.cpe.post(sample("inform-1-2.xml"), "Inform")
        self.assertEqual(status, 401)
        p = parse_params(headers["WWW-Authenticate"].partition(" ")[2])
        self.assertEqual((p["qop"], p["algorithm"]), ("auth", "MD5"))
        status, _, _ = self.cpe.post(sample("inform-1-2.xml"), "Inform")
        self.assertEqual(status, 200)
        self.assertEqual(self.cpe.post(b"")[0], 204)
        s = self.acs.wait_sessions(1, timeout=5)[0]
        self.assertEqual((s.auth.scheme, s.auth.ok, s.auth.same_connection),
                         ("Digest", True, True))
        self.assertEqual([r.status for r in self.acs.requests], [401, 200, 204])
        self.acs.assert_clean()

    def test_wrong_password_refused(self):
        self.cpe.password = "wrong"
        for _ in range(3):
            self.assertEqual(self.cpe.post(sample("inform-1-2.xml"), "Inform")[0], 401)
        self.assertEqual(self.acs.sessions, [])
        self.assertEqual([r.auth.reason for r in self.acs.requests[1:]],
                         ["wrong response digest"] * 2)

    def test_replayed_nonce_count_refused(self):
        self.cpe.post(sample("inform-1-2.xml"), "Inform")
        self.assertEqual(self.cpe.post(sample("inform-1-2.xml"), "Inform")[0], 200)
        self.cpe.nc -= 1   # reuse nc=00000001 on the empty POST
        status, headers, _ = self.cpe.post(b"")
        self.assertEqual(status, 401)
        self.assertIn("replay", self.acs.requests[-1].auth.reason)
        self.assertIn("stale=true", headers["WWW-Authenticate"])


class MD5SessTests(ACSCase):
    auth = "digest-md5sess"

    def test_md5_sess(self):
        self.cpe.run_session(sample("inform-1-2.xml"))
        s = self.acs.wait_sessions(1, timeout=5)[0]
        self.assertTrue(s.auth.ok)
        self.assertIn("algorithm=MD5-sess", self.cpe.challenge)


class BasicTests(ACSCase):
    auth = "basic"

    def test_basic(self):
        self.cpe.run_session(sample("inform-1-2.xml"))
        s = self.acs.wait_sessions(1, timeout=5)[0]
        self.assertEqual((s.auth.scheme, s.auth.ok, s.auth.username), ("Basic", True, "cpe"))
        self.cpe.password = "nope"
        self.cpe.challenge = "Basic realm=x"
        self.assertEqual(self.cpe.post(sample("inform-1-2.xml"), "Inform")[0], 401)


class InjectionTests(ACSCase):
    def test_inform_8005_then_identical_resend(self):
        inj = self.acs.inject("Inform", fault=8005, times=2)
        inform = sample("inform-1-2.xml")
        for _ in range(2):
            status, _, data = self.cpe.post(inform, "Inform")
            env = soapmsg.parse_envelope(data)
            self.assertEqual((status, env.method, soapmsg.parse_fault(env).code), (200, "Fault", 8005))
        status, _, data = self.cpe.post(inform, "Inform")
        self.assertEqual(soapmsg.parse_envelope(data).method, "InformResponse")
        self.assertEqual(self.cpe.post(b"")[0], 204)
        s = self.acs.wait_sessions(1, timeout=5)[0]
        self.assertEqual((len(self.acs.sessions), len(s.informs), inj.fired), (1, 3, 2))
        self.assertTrue(s.ended_ok)
        self.acs.assert_clean()

    def test_changed_resend_after_8005_is_a_violation(self):
        self.acs.inject("Inform", fault=8005)
        self.cpe.post(sample("inform-1-2.xml"), "Inform")
        self.cpe.post(sample("inform-1-2.xml").replace(b"<RetryCount>0", b"<RetryCount>1"),
                      "Inform")
        self.assertTrue(any("differs" in v for v in self.acs.violations), self.acs.violations)

    def test_inform_fault_8003_ends_session(self):
        self.acs.inject("Inform", fault=8003)
        status, _, data = self.cpe.post(sample("inform-1-2.xml"), "Inform")
        self.assertEqual(soapmsg.parse_fault(soapmsg.parse_envelope(data)).code, 8003)
        s = self.acs.wait_sessions(1, timeout=5)[0]
        self.assertEqual((s.ended_ok, s.end_reason), (False, "fault 8003"))

    def test_cpe_request_8005_then_identical_resend(self):
        self.acs.inject("TransferComplete", fault=8005)
        self.cpe.post(sample("inform-1-2.xml"), "Inform")
        tc = soapmsg.envelope(
            "<cwmp:TransferComplete><CommandKey>k</CommandKey><FaultStruct><FaultCode>0"
            "</FaultCode><FaultString></FaultString></FaultStruct><StartTime>2026-01-01T00:00:00Z"
            "</StartTime><CompleteTime>2026-01-01T00:00:05Z</CompleteTime></cwmp:TransferComplete>",
            msg_id="t1").encode()
        methods = [soapmsg.parse_envelope(self.cpe.post(tc, "TransferComplete")[2]).method
                   for _ in range(2)]
        self.assertEqual(methods, ["Fault", "TransferCompleteResponse"])
        self.assertEqual(self.cpe.post(b"")[0], 204)
        s = self.acs.wait_sessions(1, timeout=5)[0]
        self.assertEqual([m for m, _ in s.cpe_requests], ["TransferComplete"] * 2)
        self.assertEqual([(raw, m) for raw, m, _ in s.exchanges][1], (tc, "TransferComplete"))
        self.acs.assert_clean()

    def test_idle_session_times_out(self):
        self.acs.session_idle_timeout = 0.3
        self.cpe.post(sample("inform-1-2.xml"), "Inform")
        s = self.acs.wait_sessions(1, timeout=5)[0]
        self.assertEqual((s.ended_ok, s.end_reason), (False, "timeout"))

    def test_redirect_chain(self):
        self.acs.inject("Inform", redirect=307, times=3)
        self.cpe.run_session(sample("inform-1-2.xml"))
        s = self.acs.wait_sessions(1, timeout=5)[0]
        self.assertEqual([r.status for r in self.acs.requests], [307, 307, 307, 200, 204])
        self.assertEqual(s.paths, ["/redirect3", "/redirect3"])
        self.assertTrue(s.ended_ok)

    def test_status_and_close_and_delay(self):
        self.acs.inject("Inform", status=500)
        self.assertEqual(self.cpe.post(sample("inform-1-2.xml"), "Inform")[0], 500)
        self.acs.inject("Inform", close=True)
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            self.cpe.post(sample("inform-1-2.xml"), "Inform")
        self.cpe.close()
        self.acs.inject("empty", delay=0.3, close_after=True)
        self.cpe.post(sample("inform-1-2.xml"), "Inform")
        t0 = time.monotonic()
        status, headers, _ = self.cpe.post(b"")
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.assertEqual((status, headers["Connection"]), (204, "close"))
        self.assertEqual(len(self.acs.wait_sessions(1, timeout=5)), 1)

    def test_post_resent_after_a_dropped_connection_is_a_violation(self):
        # TR-069 3.7.1.4: the ACS reads the GetParameterValuesResponse on the kept-alive
        # connection of the Inform, then closes it without a byte; the same POST again, with
        # the Session's cookie, on a new connection is recorded and dropped too.
        self.acs.queue(soapmsg.rpc_gpv(["Device.DeviceInfo.SoftwareVersion"]))
        self.acs.inject("GetParameterValuesResponse", close=True)
        self.cpe.post(sample("inform-1-2.xml"), "Inform")
        body = gpv_answer(soapmsg.parse_envelope(self.cpe.post(b"")[2]))
        port = self.cpe.local_port()
        for attempt in range(2):
            with self.assertRaises((http.client.HTTPException, ConnectionError)):
                self.cpe.post(body)
            self.cpe.close()
        s = self.acs.wait_sessions(1, timeout=5)[0]
        self.assertEqual((s.ended_ok, s.end_reason), (False, "connection dropped by ACS"))
        self.assertEqual([r.client_port for r in s.dropped], [port])
        self.assertEqual(len(s.resent), 1)
        self.assertNotEqual(s.resent[0].conn_id, s.dropped[0].conn_id)
        self.assertRaisesRegex(AssertionError, "re-sent .* 3.7.1.4",
                               self.acs.assert_no_violations)
        # a new Session (new cookie) is not a re-send
        self.cpe.cookies.clear()
        self.cpe.run_session(sample("inform-1-2.xml"))
        self.assertTrue(self.acs.wait_sessions(2, timeout=5)[1].ended_ok)
        self.assertEqual(len(s.resent), 1)

    def test_401_loop_injected(self):
        self.acs.inject("Inform", status=401, times=2)
        self.assertEqual(self.cpe.post(sample("inform-1-2.xml"), "Inform")[0], 401)
        self.assertEqual(self.cpe.post(sample("inform-1-2.xml"), "Inform")[0], 401)
        self.assertEqual(self.cpe.post(sample("inform-1-2.xml"), "Inform")[0], 200)

    def test_gzip_accepted_or_415(self):
        body = gzip.compress(sample("inform-1-2.xml"))
        status = self.cpe.post(body, "Inform", {"Content-Encoding": "gzip"})[0]
        self.assertEqual(status, 200)
        self.assertEqual(self.acs.sessions[0].inform.device_id["OUI"], "00D09E")
        self.cpe.close()
        self.acs.reject_compressed = True
        status = self.cpe.post(body, "Inform", {"Content-Encoding": "gzip"})[0]
        self.assertEqual(status, 415)


class CookieTests(ACSCase):
    def test_missing_cookie_recorded(self):
        self.cpe.keep_cookies = False
        self.cpe.run_session(sample("inform-1-2.xml"))
        self.acs.wait_sessions(1, timeout=5)
        self.assertRaisesRegex(AssertionError, "session cookie", self.acs.assert_no_violations)

    def test_cookie_sessions_over_new_connection(self):
        self.acs.extra_cookies = ["lb=node7; Path=/"]
        self.acs.queue(soapmsg.rpc_gpv(["Device.DeviceInfo.UpTime"]))
        self.cpe.post(sample("inform-1-2.xml"), "Inform")
        self.assertEqual(self.cpe.cookies["lb"], "node7")
        first = self.cpe.local_port()
        self.cpe.close()    # TR-069 3.4.2: the Session continues on a new connection
        status, _, data = self.cpe.post(b"")
        self.assertEqual(self.cpe.post(gpv_answer(soapmsg.parse_envelope(data)))[0], 204)
        s = self.acs.wait_sessions(1, timeout=5)[0]
        self.assertEqual(len(s.conn_ids), 2)
        self.assertEqual(self.acs.connections[s.conn_ids[0]].client_port, first)
        self.acs.wait_for(lambda: self.acs.connections[s.conn_ids[0]].closed, 5)
        self.acs.assert_clean()

    def test_new_inform_supersedes_open_session(self):
        self.cpe.post(sample("inform-1-2.xml"), "Inform")
        self.cpe.close()
        self.cpe.cookies.clear()
        self.cpe.run_session(sample("inform-1-2.xml"))
        ended = self.acs.wait_sessions(2, timeout=5)
        self.assertEqual([s.end_reason for s in ended], ["superseded by a new Inform", "204"])


class _CRHandler(http.server.BaseHTTPRequestHandler):
    """A CPE's Connection Request listener (Digest, TR-069 3.2.2) for the CR self-test."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        auth = self.server.auth
        ok = auth.check("GET", self.path, self.headers.get("Authorization"), 0).ok
        self.send_response(200 if ok else 401)
        if not ok:
            self.send_header("WWW-Authenticate", auth.challenge(0))
        self.send_header("Content-Length", "0")
        self.end_headers()


class ConnectionRequestTests(unittest.TestCase):
    def setUp(self):
        self.cpe = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CRHandler)
        self.cpe.auth = Authenticator("digest", "cruser", "crpass", "cpe-cr")
        threading.Thread(target=self.cpe.serve_forever, daemon=True).start()
        self.addCleanup(self.cpe.server_close)
        self.addCleanup(self.cpe.shutdown)
        self.acs = TestACS(validate=False)
        self.url = f"http://127.0.0.1:{self.cpe.server_address[1]}/cr"

    def test_digest_connection_request(self):
        r = self.acs.connection_request(self.url, "cruser", "crpass")
        self.assertEqual((r.statuses, r.scheme, r.ok), ([401, 200], "Digest", True))
        r = self.acs.connection_request(self.url, "cruser", "bad")
        self.assertEqual((r.statuses, r.ok), ([401, 401], False))
        self.assertEqual(len(self.acs.connection_requests), 2)

    def test_genieacs_reads_the_last_of_two_challenges(self):
        # the client model of the issue: Node.js joins the two headers, the last value of
        # each parameter wins, the response is MD5 whatever algorithm= says
        nonce = "0" * 80
        merged = node_join([f'Digest realm="proxierd", qop="auth", algorithm={a}, '
                            f'nonce="{nonce}"' for a in ("MD5", "SHA-256")])
        scheme, p = genieacs_parse(merged)
        self.assertEqual((scheme, p["algorithm"], p["nonce"], p["realm"], p["Digest realm"]),
                         ("Digest", "SHA-256", nonce, "proxierd", "proxierd"))
        auth = genieacs_authorization(merged, "GET", "/cr", "u", "p", cnonce="c0")
        self.assertTrue(auth.startswith('Digest username="u",realm="proxierd",'))
        self.assertIn(",algorithm=SHA-256,qop=auth,nc=00000001,", auth)
        want = digest_response("u", "p", "proxierd", "GET", "/cr", nonce, "00000001", "c0")
        self.assertIn(f'response="{want}"', auth)  # MD5
        self.assertEqual(genieacs_parse('Digest realm="a,\\"b", x=1')[1],
                         {"realm": 'a,"b', "x": "1"})

    def test_refused(self):
        self.cpe.shutdown()
        self.cpe.server_close()
        r = self.acs.connection_request(self.url, "cruser", "crpass", timeout=1)
        self.assertIsNone(r.status)
        self.assertIn("Connection", r.error)


FAKE_DAEMON = """#!/usr/bin/env python3
import signal, sys, time
print("fake proxierd", " ".join(sys.argv[1:]), file=sys.stderr, flush=True)
print(open(sys.argv[2]).read(), file=sys.stderr, flush=True)
if "--ignore-term" in sys.argv:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
else:
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))
while True:
    time.sleep(0.05)
"""


class SupportTests(unittest.TestCase):
    """tests/integration/support.py with a stand-in for proxierd."""

    def setUp(self):
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
        import support
        self.support = support
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.binary = os.path.join(self.tmp, "fake-proxierd")
        with open(self.binary, "w") as f:
            f.write(FAKE_DAEMON)
        os.chmod(self.binary, 0o755)

    def test_config_and_lifecycle(self):
        s = self.support
        cfg = s.merge_config({"acs": {"url": "http://x/acs", "password": "p"},
                              "cache": {"path": "/tmp/x.db"}},
                             {"acs": {"password": None, "timeout": 40},
                              "cwmp": {"periodic_inform_enable": False}})
        d = s.Daemon(cfg, self.tmp, binary=self.binary)
        d.start()
        s.wait_until(lambda: "timeout = 40" in d.log_text(), 5, "config echoed")
        text = d.log_text()
        self.assertIn("[acs]\nurl = http://x/acs\ntimeout = 40\n", text)
        self.assertIn("periodic_inform_enable = false", text)
        self.assertNotIn("password", text)
        self.assertEqual(d.db_path, "/tmp/x.db")
        self.assertEqual(d.stop(), 3)                     # SIGTERM handled
        d.restart()
        self.assertTrue(d.running())
        self.assertEqual(d.kill9(), -signal.SIGKILL)
        self.assertEqual(d.log_text().count("==== start"), 2)

    def test_stop_escalates_to_sigkill(self):
        d = self.support.Daemon({"acs": {}}, self.tmp, binary=self.binary,
                                extra_args=["--ignore-term"]).start()
        self.support.wait_until(lambda: "fake proxierd" in d.log_text(), 5, "start")
        t0 = time.monotonic()
        self.assertEqual(d.stop(timeout=0.5), -signal.SIGKILL)
        self.assertLess(time.monotonic() - t0, 5)

    def test_free_port_and_wait_port(self):
        port = self.support.free_port()
        self.assertRaises(AssertionError, self.support.wait_port, port, 0.2)
        acs = TestACS(validate=False).start()
        self.addCleanup(acs.stop)
        self.support.wait_port(acs.port, 2)


@unittest.skipUnless(shutil.which("openssl"), "openssl not installed")
class TLSTests(unittest.TestCase):
    def test_https_session(self):
        acs = TestACS(tls=True).start()
        self.addCleanup(acs.stop)
        self.assertTrue(acs.url.startswith("https://127.0.0.1:"))
        ctx = ssl.create_default_context(cafile=acs.cert_file)
        cpe = FakeCPE(acs.url, ssl_context=ctx)
        self.addCleanup(cpe.close)
        cpe.run_session(sample("inform-1-2.xml"))
        self.assertTrue(acs.wait_sessions(1, timeout=5)[0].ended_ok)


if __name__ == "__main__":
    unittest.main()
