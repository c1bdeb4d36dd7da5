"""The CWMP session of the gateway endpoint against the test ACS (TR-069 3.7.1, 3.4, 3.2.1):
the Inform and its events, version negotiation, 8005, failures and retries with RetryCount,
authentication, cookies, redirects, HoldRequests and compression."""
import os
import re
import shutil
import time
import unittest

from support import ProxierTestCase, ctl_command, free_port, soapmsg as m, wait_until

FORCED = ["Device.RootDataModelVersion", "Device.DeviceInfo.HardwareVersion",
          "Device.DeviceInfo.SoftwareVersion", "Device.DeviceInfo.ProvisioningCode",
          "Device.ManagementServer.ParameterKey", "Device.ManagementServer.ConnectionRequestURL",
          "Device.ManagementServer.AliasBasedAddressing"]


def codes(session):
    return [code for code, _ in session.inform.events]


class FirstContact(ProxierTestCase):
    def test_first_inform_has_bootstrap_boot_identity_and_forced_parameters(self):
        self.start_daemon({"device": {"oui": "A1B2C3", "product_class": "HG-1",
                                      "manufacturer": "Acme"}})
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)
        self.assertEqual(codes(s), ["0 BOOTSTRAP", "1 BOOT"])
        self.assertEqual(s.inform.device_id, {"Manufacturer": "Acme", "OUI": "A1B2C3",
                                              "ProductClass": "HG-1",
                                              "SerialNumber": "PXTEST0001"})
        self.assertEqual(s.inform.retry_count, 0)
        self.assertEqual(s.inform.max_envelopes, 1)
        self.assertEqual(sorted(s.inform.parameters), sorted(FORCED))
        self.assertEqual(s.inform.parameters["Device.RootDataModelVersion"][0], "2.19")
        self.assertIn(b"SupportedCWMPVersions", s.inform.raw)
        self.assertIn(b"urn:dslforum-org:cwmp-1-2", s.inform.raw)

    def test_restart_sends_boot_without_bootstrap(self):
        d = self.start_daemon()
        self.acs.wait_sessions(1)
        d.restart()
        s = self.acs.wait_sessions(2)[1]
        self.assertEqual(codes(s), ["1 BOOT"])

    def test_acs_url_must_be_an_http_url(self):
        url = "Device.ManagementServer.URL"
        self.acs.queue(m.rpc_spv([(url, "", "xsd:string")], key="bad"))
        self.acs.queue(m.rpc_spv([(url, "ftp://acs.example/", "xsd:string")], key="bad"))
        self.acs.queue(m.rpc_gpv([url, "Device.ManagementServer.ParameterKey"]))
        self.start_daemon()
        s = self.acs.wait_sessions(1)[0]
        for r in s.responses[:2]:
            self.assertEqual(r.fault.code, 9003)
            self.assertEqual([f[:2] for f in r.fault.spv_faults], [(url, 9007)])
        values = s.responses[2].value
        self.assertEqual(values[url][0], self.acs.url)
        self.assertEqual(values["Device.ManagementServer.ParameterKey"][0], "")

    def test_a_set_without_parameter_key_leaves_it_unchanged(self):
        pii = "Device.ManagementServer.PeriodicInformInterval"
        self.acs.queue(m.rpc_spv([(pii, "500", "xsd:unsignedInt")], key="k1"))
        self.acs.queue(m.rpc_raw(
            '<cwmp:SetParameterValues><ParameterList soap-enc:arrayType='
            '"cwmp:ParameterValueStruct[1]"><ParameterValueStruct><Name>' + pii + '</Name>'
            '<Value xsi:type="xsd:unsignedInt">600</Value></ParameterValueStruct>'
            '</ParameterList></cwmp:SetParameterValues>', method="SetParameterValues"))
        self.acs.queue(m.rpc_gpv([pii, "Device.ManagementServer.ParameterKey"]))
        self.start_daemon()
        s = self.acs.wait_sessions(1)[0]
        self.assertEqual(s.responses[1].value, 0)
        values = s.responses[2].value
        self.assertEqual(values[pii][0], "600")
        self.assertEqual(values["Device.ManagementServer.ParameterKey"][0], "k1")

    def test_acs_url_change_brings_bootstrap_to_the_new_url(self):
        self.start_daemon()
        self.acs.wait_sessions(1)
        # The same server under another path counts as a modified URL (Table 8).
        new_url = self.acs.base_url + "/acs2"
        self.acs.queue(m.rpc_spv([("Device.ManagementServer.URL", new_url, "xsd:string")]))
        self.acs.queue(m.rpc_gpv(["Device.ManagementServer.ParameterKey"]))
        # the SPV needs a session: a restart brings one, then the BOOTSTRAP session follows
        self.daemons[0].restart()
        s3 = self.acs.wait_sessions(3)[2]
        self.assertEqual(codes(s3), ["0 BOOTSTRAP"])
        self.assertEqual(s3.paths[0], "/acs2")


class Negotiation(ProxierTestCase):
    def test_use_cwmp_version_12_is_honoured(self):
        self.acs.use_cwmp_version = "1.2"
        self.acs.queue(m.rpc_gpv(["Device.DeviceInfo.Manufacturer"]))
        self.start_daemon()
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)
        self.assertEqual(s.responses[0].method, "GetParameterValuesResponse")

    def test_version_we_did_not_offer_aborts_the_session(self):
        self.acs.use_cwmp_version = "1.7"
        self.start_daemon({"cwmp": {"retry_interval_multiplier": 1000}})
        first = self.acs.wait_sessions(1)[0]
        self.assertFalse(first.ended_ok)
        self.acs.use_cwmp_version = "auto"
        s = self.acs.wait_sessions(2, timeout=20)[1]
        self.assertEqual(s.inform.retry_count, 1)
        self.assertIn("0 BOOTSTRAP", codes(s))

    def test_session_timeout_header_is_offered(self):
        self.start_daemon({"cwmp": {"session_timeout": 90}})
        s = self.acs.wait_sessions(1)[0]
        self.assertIn(b">90</cwmp:SessionTimeout>", s.inform.raw)

    def test_refused_inform_makes_the_retry_fall_back_to_cwmp_10(self):
        # 3.2.1.1: an HTTP fault to the first Inform suggests an ACS that only knows 1.0
        self.acs.inject("Inform", status=500)
        self.acs.queue(m.rpc_gpv(["Device.DeviceInfo.Manufacturer"]))
        self.start_daemon({"cwmp": {"retry_interval_multiplier": 1000}})
        s = self.acs.wait_sessions(1, timeout=20)[0]
        self.assertTrue(s.ended_ok)
        self.assertIn(b"urn:dslforum-org:cwmp-1-0", s.inform.raw)
        self.assertNotIn(b"SupportedCWMPVersions", s.inform.raw)
        self.assertEqual(s.inform.retry_count, 1)
        self.assertIn(b"urn:dslforum-org:cwmp-1-0", s.responses[0].raw)

    def test_offering_only_cwmp_12(self):
        self.start_daemon({"cwmp": {"version": "1.2"}})
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)
        self.assertNotIn(b"SupportedCWMPVersions", s.inform.raw)


class Retries(ProxierTestCase):
    def test_8005_makes_the_cpe_resend_the_identical_inform(self):
        self.acs.inject("Inform", fault=8005, times=2)
        self.start_daemon()
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)
        self.assertEqual(len(s.informs), 3)
        self.assertEqual(s.informs[0].raw, s.informs[2].raw)

    def test_inform_fault_fails_the_session_and_retry_count_grows_then_resets(self):
        self.acs.inject("Inform", fault=8003, times=2)
        self.start_daemon({"cwmp": {"retry_interval_multiplier": 1000}})
        sessions = self.acs.wait_sessions(3, timeout=30)
        self.assertEqual([s.inform.retry_count for s in sessions], [0, 1, 2])
        self.assertTrue(sessions[2].ended_ok)
        # undelivered events are all retried in the immediately following session
        self.assertEqual(codes(sessions[2]), ["0 BOOTSTRAP", "1 BOOT"])
        # the ACS has sent its 204; wait until the daemon has read it before the restart
        wait_until(lambda: "session ended" in self.daemons[0].log_text(), 10,
                   "the daemon to see the end of the session")
        self.daemons[0].restart()
        s = self.acs.wait_sessions(4)[3]
        self.assertEqual(s.inform.retry_count, 0)

    def test_http_errors_and_dropped_connections_are_retried(self):
        self.acs.inject("Inform", status=500)
        self.acs.inject("Inform", close=True)
        self.acs.inject("empty", status=503)
        self.start_daemon({"cwmp": {"retry_interval_multiplier": 1000}})
        self.acs.wait_for(lambda: any(s.ended_ok for s in self.acs.sessions), timeout=30,
                          what="a successful session")
        ok = [s for s in self.acs.sessions if s.ended_ok][0]
        self.assertEqual(ok.inform.retry_count, 3)
        # the third session's InformResponse confirmed BOOTSTRAP and BOOT before its empty
        # POST failed: they are not sent again (Table 8), the retry carries no event
        confirmed = [s for s in self.acs.sessions if s.inform_done and not s.ended_ok]
        self.assertEqual([codes(s) for s in confirmed], [["0 BOOTSTRAP", "1 BOOT"]])
        self.assertEqual(codes(ok), [])

    def test_a_new_event_cuts_the_retry_wait_short(self):
        # 3.2.1.1: retry after the Table 3 wait *or when a new event occurs*
        sock = os.path.join(self.tmp, "ctl.sock")
        self.acs.inject("Inform", status=503)
        d = self.start_daemon({"cwmp": {"retry_minimum_wait": 600},
                               "control": {"socket": sock}})
        wait_until(lambda: "retry 1 in" in d.log_text(), 10, "the first failure")
        t = time.monotonic()
        self.assertEqual(ctl_command(sock, "set Device.DeviceInfo.ProvisioningCode now"), "ok")
        s = self.acs.wait_sessions(1, timeout=10)[0]
        self.assertLess(time.monotonic() - t, 5, "not the 600 s wait")
        self.assertEqual(codes(s), ["0 BOOTSTRAP", "1 BOOT", "4 VALUE CHANGE"])
        self.assertEqual(s.inform.retry_count, 1)

    def test_a_reboot_resets_the_retry_wait_but_not_the_retry_count(self):
        # 3.2.1.1: after an intervening reboot the wait intervals start again from the first
        # range of Table 3; RetryCount goes on counting (A.3.3.1)
        import re
        self.acs.inject("Inform", status=503, times=100)
        d = self.start_daemon({"cwmp": {"retry_minimum_wait": 1,
                                        "retry_interval_multiplier": 2000}})
        wait_until(lambda: "retry 3 in" in d.log_text(), 30, "three failed attempts")
        waits = [float(w) for w in re.findall(r"retry \d+ in ([\d.]+) s", d.log_text())]
        self.assertGreaterEqual(waits[2], 4.0)   # third retry: the range [4, 8]
        d.restart()
        wait_until(lambda: "retry 4 in" in d.log_text(), 30, "the first failure after it")
        after = float(re.search(r"retry 4 in ([\d.]+) s", d.log_text()).group(1))
        self.assertLessEqual(after, 2.0)        # first range again: [1, 2]
        # the Inform after the restart said RetryCount 3 (counting the attempts before it)
        self.assertTrue(any(b"<RetryCount>3</RetryCount>" in r.body for r in self.acs.requests))

    def test_acs_down_then_back(self):
        # Nothing listens at the ACS URL: the sessions fail (connection refused) and are
        # retried; once an ACS answers there, the retry delivers the undelivered events
        # with the RetryCount of the failed attempts.
        from acs.acs import TestACS
        port = free_port()
        url = f"http://127.0.0.1:{port}/acs"
        d = self.start_daemon({"acs": {"url": url},
                               "cwmp": {"retry_interval_multiplier": 1000}})
        wait_until(lambda: d.log_text().count("session failed") >= 2, 15,
                   "two failed attempts")
        acs = TestACS(port=port).start()
        self.addCleanup(acs.stop)
        s = acs.wait_sessions(1, timeout=15)[0]
        self.assertTrue(s.ended_ok)
        self.assertEqual(codes(s), ["0 BOOTSTRAP", "1 BOOT"])
        self.assertGreaterEqual(s.inform.retry_count, 2)
        acs.assert_clean()

    def test_malformed_acs_reply_fails_the_session(self):
        self.acs.queue(m.rpc_raw("<cwmp:GetParameterValues><ParameterNames>"))
        self.start_daemon({"cwmp": {"retry_interval_multiplier": 1000}})
        first = self.acs.wait_sessions(1)[0]
        self.assertFalse(first.ended_ok)
        second = self.acs.wait_sessions(2, timeout=20)[1]
        self.assertTrue(second.ended_ok)
        self.assertEqual(second.inform.retry_count, 1)


class Timeouts(ProxierTestCase):
    def test_no_response_for_30_s_fails_the_session(self):
        # 3.7.1.4: no HTTP response for (not less than) 30 s ends the session unsuccessfully,
        # and the request is not re-sent within it
        self.acs.inject("empty", delay=34)
        self.start_daemon({"cwmp": {"retry_interval_multiplier": 1000}})
        self.acs.wait_for(lambda: any(s.ended_ok for s in self.acs.sessions), timeout=60,
                          what="the retried session")
        ok = [s for s in self.acs.sessions if s.ended_ok][0]
        self.assertEqual(ok.inform.retry_count, 1)
        first = self.acs.sessions[0]
        self.assertGreaterEqual(ok.start_time - first.start_time, 29)
        self.assertIn("HTTP transport", self.daemons[0].log_text())


class Trace(ProxierTestCase):
    def test_trace_dumps_soap_with_passwords_masked(self):
        self.acs.queue(m.rpc_spv([("Device.ManagementServer.ConnectionRequestPassword",
                                   "hunter2", "xsd:string")]))
        self.acs.queue(m.rpc_gpv(["Device.ManagementServer.ConnectionRequestPassword"]))
        d = self.start_daemon({"log": {"trace": True}})
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)
        # hidden parameters read as "" (TR-106)
        self.assertEqual(
            s.responses[1].value["Device.ManagementServer.ConnectionRequestPassword"][0], "")
        log = d.log_text()
        self.assertIn("cwmp:SetParameterValues", log)
        self.assertIn("cwmp:InformResponse", log)
        self.assertIn("<Value xsi:type=\"xsd:string\">***</Value>", log)
        self.assertNotIn("hunter2", log)


class Transport(ProxierTestCase):
    def test_session_uses_one_connection_and_returns_the_cookie(self):
        self.acs.queue(m.rpc_gpv(["Device.DeviceInfo.SerialNumber"]))
        self.acs.queue(m.rpc_gpn("Device.", True))
        self.start_daemon()
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)
        self.assertEqual(len(set(s.conn_ids)), 1)
        self.assertTrue(all(s.cookies_seen[1:]))

    def test_every_cookie_of_the_session_comes_back(self):
        # 3.4.2: all the session's cookies, not only the first
        self.acs.extra_cookies = ["lb=node7; Path=/", "tenant=home; Path=/"]
        self.acs.queue(m.rpc_gpv(["Device.DeviceInfo.SerialNumber"]))
        self.start_daemon()
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)
        for header in s.cookies_seen[1:]:
            jar = dict(c.strip().split("=", 1) for c in header.split(";"))
            self.assertEqual(jar, {"session": s.cookie, "lb": "node7", "tenant": "home"})

    def test_redirect_chain_is_followed_for_the_session_only(self):
        self.acs.inject("Inform", redirect=307, times=3)
        self.acs.queue(m.rpc_gpv(["Device.ManagementServer.URL"]))
        self.start_daemon()
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)
        # the configured URL is not changed by a redirect (TR-069 3.4.5)
        self.assertEqual(s.responses[0].value["Device.ManagementServer.URL"][0], self.acs.url)

    def test_hold_requests_is_honoured(self):
        self.acs.inform_hold_requests = True
        self.acs.queue(m.rpc_gpv(["Device.DeviceInfo.Manufacturer"], hold_requests=True))
        self.start_daemon()
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)

    def test_gzip_and_the_415_fallback(self):
        self.acs.reject_compressed = True
        self.acs.queue(m.rpc_gpv(["Device.ManagementServer.HTTPCompression"]))
        self.acs.queue(m.rpc_schedule_inform(1, "again"))
        self.start_daemon({"acs": {"compression": "GZIP"}})
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)
        self.assertEqual(s.responses[0].value["Device.ManagementServer.HTTPCompression"][0],
                         "GZIP")
        # the first Inform went compressed, got 415 and went again plain; after that the
        # ACS is known to refuse gzip: no more 415 round trips, in the next session either
        self.acs.wait_sessions(2, timeout=15)
        statuses = [r.status for r in self.acs.requests]
        self.assertEqual(statuses.count(415), 1, statuses)
        encodings = [r.headers.get("content-encoding") for r in self.acs.requests]
        self.assertEqual(encodings[0], "gzip")
        self.assertTrue(all(e is None for e in encodings[1:]), encodings)


class DroppedConnection(ProxierTestCase):
    """TR-069 3.7.1.4: the ACS answers the Inform, then reads a later POST on the kept-alive
    connection and closes it without a byte of answer. "If the CPE fails to receive an HTTP
    response, the CPE MUST NOT attempt to retransmit the corresponding HTTP request as part
    of the same Session" (libcurl alone would re-send it on a new connection, with the
    session's cookie): the session has failed and the retry policy of 3.2.1.1 applies. For
    every kind of POST the CPE sends after the Inform."""

    config = {}
    RETRY = {"retry_minimum_wait": 2, "retry_interval_multiplier": 2000}
    WAIT = (2.0, 4.0)   # Table 3, first retry: m .. m·k/1000 s

    def run_dropped(self, on, extra=None):
        """Drop the first POST matching `on`; returns (failed Session, retried Session)."""
        self.acs.inject(on, close=True)
        cfg = {"cwmp": dict(self.RETRY)}
        for section, keys in list(self.config.items()) + list((extra or {}).items()):
            cfg.setdefault(section, {}).update(keys)
        d = self.start_daemon(cfg)
        self.acs.wait_for(lambda: any(s.dropped for s in self.acs.sessions), 30,
                          f"the ACS to drop a {on} POST")
        failed = next(s for s in self.acs.sessions if s.dropped)
        self.acs.wait_for(lambda: self.acs.sessions[-1].index > failed.index and
                          self.acs.sessions[-1].ended, 30, "the retried session")
        retried = self.acs.sessions[failed.index]
        self.assert_not_resent(failed)
        self.assert_failed_and_retried(d, failed, retried)
        return failed, retried

    def assert_not_resent(self, failed):
        dropped = failed.dropped[0]
        # the POST went on the Inform's kept-alive connection, so libcurl reused it
        self.assertEqual(failed.conn_ids, [dropped.conn_id])
        # the ACS received it exactly once, and nothing else of that session after it
        cookie = f"session={failed.cookie}"
        same = [r for r in self.acs.requests
                if r.body == dropped.body and cookie in (r.headers.get("cookie") or "")]
        self.assertEqual(same, [dropped])
        later = [r for r in self.acs.requests
                 if r.time > dropped.time and cookie in (r.headers.get("cookie") or "")]
        self.assertEqual(later, [])
        self.assertEqual(failed.resent, [])

    def assert_failed_and_retried(self, d, failed, retried):
        self.assertEqual((failed.ended_ok, failed.end_reason),
                         (False, "connection dropped by ACS"))
        log = d.log_text()
        self.assertIn("session failed: HTTP transport: the ACS closed the connection without "
                      "an answer", log)
        wait = float(re.search(r"retry 1 in ([\d.]+) s", log).group(1))
        self.assertGreaterEqual(wait, self.WAIT[0])
        self.assertLessEqual(wait, self.WAIT[1])
        gap = retried.start_time - failed.dropped[0].time
        self.assertGreaterEqual(gap, self.WAIT[0] - 0.1)
        self.assertLess(gap, self.WAIT[1] + 2)
        self.assertEqual(retried.inform.retry_count, failed.inform.retry_count + 1)
        self.assertTrue(retried.ended_ok)

    def test_empty_post(self):
        failed, retried = self.run_dropped("empty")
        self.assertEqual(failed.dropped[0].body, b"")
        # the InformResponse confirmed BOOTSTRAP and BOOT (Table 8): not sent again
        self.assertEqual(codes(failed), ["0 BOOTSTRAP", "1 BOOT"])
        self.assertEqual(codes(retried), [])

    def test_rpc_response(self):
        self.acs.queue(m.rpc_gpv(["Device.DeviceInfo.SoftwareVersion"]))
        failed, retried = self.run_dropped("GetParameterValuesResponse")
        self.assertEqual(failed.dropped[0].cpe_method, "GetParameterValuesResponse")
        self.assertEqual(failed.responses, [])   # the ACS never processed it
        self.assertEqual(codes(retried), [])

    def test_fault_response(self):
        self.acs.queue(m.rpc_gpv(["Device.NoSuchObject."]))
        failed, retried = self.run_dropped("Fault")
        self.assertIn(b"<FaultCode>9005</FaultCode>", failed.dropped[0].body)
        self.assertEqual(codes(retried), [])

    def test_cpe_request(self):
        # a TransferComplete: a Download in the first session, its report in the next one
        body = b"ring" * 64
        self.acs.files["/ring.bin"] = body
        self.acs.queue(m.rpc_download(self.acs.base_url + "/ring.bin", "5 Ringer File", "tc-1",
                                      file_size=len(body), target="ring.bin"))
        failed, retried = self.run_dropped(
            "TransferComplete", {"transfer": {"dir": os.path.join(self.tmp, "files")}})
        self.assertEqual(failed.dropped[0].cpe_method, "TransferComplete")
        self.assertEqual([meth for meth, _ in failed.cpe_requests], [])
        # not answered, so not delivered: the events and the request go with the retry
        self.assertEqual(sorted(retried.inform.events),
                         [("7 TRANSFER COMPLETE", ""), ("M Download", "tc-1")])
        self.assertEqual([(meth, r["CommandKey"]) for meth, r in retried.cpe_requests],
                         [("TransferComplete", "tc-1")])


class DroppedConnectionDigestGzip(DroppedConnection):
    """The same with Digest authentication (libcurl's legitimate second request after a 401
    must still go) and gzip request bodies (TR-069 3.4.4, 3.4.7)."""

    acs_options = {"auth": "digest", "username": "cpe", "password": "pw"}
    config = {"acs": {"username": "cpe", "password": "pw", "compression": "GZIP"}}

    def assert_not_resent(self, failed):
        super().assert_not_resent(failed)
        self.assertTrue(failed.inform_done and failed.auth.ok)
        inform = next(r for r in self.acs.requests if r.cpe_method == "Inform")
        self.assertEqual(inform.headers.get("content-encoding"), "gzip")


class DigestAuth(ProxierTestCase):
    acs_options = {"auth": "digest", "username": "A1B2C3-HG%2D1-PXTEST0001",
                   "password": "s3cret"}

    def test_digest_with_the_default_username_of_3_4_4(self):
        # no username configured: "<OUI>-<ProductClass>-<Serial>" with "-" percent-encoded
        self.start_daemon({"device": {"oui": "A1B2C3", "product_class": "HG-1"},
                           "acs": {"username": None}})
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)
        self.assertTrue(s.auth.ok)

    def test_wrong_password_fails_and_is_retried(self):
        self.start_daemon({"device": {"oui": "A1B2C3", "product_class": "HG-1"},
                           "acs": {"username": None, "password": "wrong"},
                           "cwmp": {"retry_interval_multiplier": 1000}})
        self.acs.wait_for(lambda: len(self.acs.requests) >= 4, timeout=20,
                          what="a retry after the 401")
        self.assertFalse(any(s.ended_ok for s in self.acs.sessions))


class TLS(ProxierTestCase):
    acs_options = {"tls": True, "auth": "basic", "username": "cpe", "password": "pw"}

    def test_https_with_ca_verification_and_preemptive_basic(self):
        self.acs.queue(m.rpc_gpv(["Device.DeviceInfo.SerialNumber"]))
        self.start_daemon({"acs": {"username": "cpe", "password": "pw"}})
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)
        # 3.4.4: over TLS the credentials come with the first request, no 401 round trip
        self.assertNotIn(401, [r.status for r in self.acs.requests])

    @unittest.skipUnless(shutil.which("faketime"), "faketime is not installed (scripts/deps.sh)")
    def test_a_clock_not_yet_set_ignores_certificate_dates(self):
        # 3.3: before the CPE has accurate absolute time it MUST ignore the certificate's
        # validity dates. A box booting at 2001 sees a certificate made today as not yet
        # valid; the CA and the host name are still checked.
        self.acs.queue(m.rpc_gpv(["Device.DeviceInfo.SerialNumber"]))
        d = self.start_daemon({"acs": {"username": "cpe", "password": "pw"}},
                              wrapper=["env", "FAKETIME_DONT_FAKE_MONOTONIC=1",
                                       "ASAN_OPTIONS=verify_asan_link_order=0", "faketime", "-f",
                                       "@2001-01-01 00:00:00"])
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)
        self.assertIn("certificate dates are not checked", d.log_text())
        self.assertTrue(s.inform.current_time.startswith("2001-01-01"), s.inform.current_time)

    def test_a_certificate_for_another_host_is_refused(self):
        # 3.3: the ACS certificate must name the host of the URL. Ours names 127.0.0.1 only,
        # so "localhost" (the same server, trusted CA) does not match.
        url = self.acs.url.replace("127.0.0.1", "localhost")
        d = self.start_daemon({"acs": {"url": url, "username": "cpe", "password": "pw"}})
        wait_until(lambda: "session failed" in d.log_text(), 15, "a failed session")
        self.assertEqual(self.acs.sessions, [])
        self.assertRegex(d.log_text(), r"(?i)certificate|SSL|subject")

    def test_untrusted_acs_certificate_is_refused(self):
        self.start_daemon({"acs": {"username": "cpe", "password": "pw", "ca_file": None,
                                   "ca_path": self.tmp}})
        self.acs.wait_for(lambda: len(self.acs.connections) >= 1, timeout=10,
                          what="a TLS connection attempt")
        time.sleep(1)
        self.assertEqual(self.acs.sessions, [])
        self.assertIn("HTTP transport", self.daemons[0].log_text())


class BasicAuth(ProxierTestCase):
    acs_options = {"auth": "basic", "username": "cpe", "password": "pw"}

    def test_basic(self):
        self.start_daemon({"acs": {"username": "cpe", "password": "pw"}})
        s = self.acs.wait_sessions(1)[0]
        self.assertTrue(s.ended_ok)


if __name__ == "__main__":
    unittest.main()
