"""HTTP Connection Requests (TR-069 3.2.2.1, 3.2.2.2, digest 3.4.5) against the real
proxierd: curl --digest, Python's urllib digest handler, the test ACS's connection_request()
(which reads challenges the way GenieACS on Node.js does), and a raw digest client of our own
for SHA-256, MD5-sess, replayed nonce counts and uri binding. Sessions are counted at the
ACS."""
import hashlib
import http.client
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse
import urllib.request

from support import ProxierTestCase, ctl_command, free_port, soapmsg as m, wait_until

URL_PARAM = "Device.ManagementServer.ConnectionRequestURL"
ENABLE = "Device.ManagementServer.HTTPConnectionRequestEnable"
USER, PASS = "cruser", "crpass"
CR_EVENT = ["6 CONNECTION REQUEST"]


def codes(session):
    return sorted(code for code, _ in session.inform.events)


def parse_challenge(value):
    scheme, _, rest = value.partition(" ")
    params = dict((k.lower(), v1 or v2) for k, v1, v2 in
                  re.findall(r'([A-Za-z0-9_-]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))', rest))
    return scheme, params


def digest_authorization(challenge, uri, username, password, nc=1, algorithm=None,
                         signed_uri=None):
    """Authorization value for one of our challenges: RFC 7616 3.4.1 with qop=auth."""
    _, p = parse_challenge(challenge)
    algorithm = algorithm or p.get("algorithm", "MD5")
    h = hashlib.sha256 if algorithm.upper().startswith("SHA-256") else hashlib.md5

    def hx(text):
        return h(text.encode()).hexdigest()

    cnonce, ncs = secrets.token_hex(8), f"{nc:08x}"
    ha1 = hx(f"{username}:{p['realm']}:{password}")
    if algorithm.lower().endswith("-sess"):
        ha1 = hx(f"{ha1}:{p['nonce']}:{cnonce}")
    ha2 = hx(f"GET:{signed_uri or uri}")
    resp = hx(f"{ha1}:{p['nonce']}:{ncs}:{cnonce}:auth:{ha2}")
    return (f'Digest username="{username}", realm="{p["realm"]}", nonce="{p["nonce"]}", '
            f'uri="{uri}", algorithm={algorithm}, qop=auth, nc={ncs}, cnonce="{cnonce}", '
            f'response="{resp}"')


class RawClient:
    """One HTTP/1.1 connection to the CR listener, for what curl will not do."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.path = u.path
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)

    def get(self, headers=None, method="GET", path=None, body=None):
        self.conn.request(method, path or self.path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        return r.status, r.headers, r.read()

    def challenges(self):
        status, headers, _ = self.get()
        assert status == 401, status
        return headers.get_all("WWW-Authenticate")

    def close(self):
        self.conn.close()


class SlowClients:
    """Slow clients (slowloris) on the CR listener: each connection sends the start of a
    request for `path`, then one more header byte every `every` s, never the end of the
    headers. The seconds each one stayed open are recorded in `lifetimes` when the listener
    closes it; with `reopen` a new one from the same address takes its place at once, as an
    attacker does."""

    def __init__(self, url, sources, per_source, every=2.0, reopen=False):
        u = urllib.parse.urlsplit(url)
        self.addr, self.path = (u.hostname, u.port), u.path
        self.every, self.reopen = every, reopen
        self.lifetimes, self.lock = [], threading.Lock()
        self.conns = [self.open(src) for src in sources for _ in range(per_source)]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def open(self, source):
        s = socket.socket()
        s.bind((source, 0))
        s.settimeout(5)
        s.connect(self.addr)
        s.sendall(f"GET {self.path} HTTP/1.1\r\nHost: x\r\nX-Slow: ".encode())
        s.setblocking(False)
        return [s, time.monotonic(), source]

    def gone(self, conn, send):
        try:
            if send:
                conn[0].send(b"a")
            return conn[0].recv(100) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def run(self):
        next_send = time.monotonic() + self.every
        while not self.stopped.is_set():
            send = time.monotonic() >= next_send
            if send:
                next_send += self.every
            for i, conn in enumerate(self.conns):
                if conn[0] is None or not self.gone(conn, send):
                    continue
                conn[0].close()
                with self.lock:
                    self.lifetimes.append(time.monotonic() - conn[1])
                self.conns[i] = [None, 0, conn[2]]
                if self.reopen:
                    try:
                        self.conns[i] = self.open(conn[2])
                    except OSError:
                        pass
            time.sleep(0.02)

    def closed(self):
        with self.lock:
            return list(self.lifetimes)

    def stop(self):
        self.stopped.set()
        self.thread.join()
        for conn in self.conns:
            if conn[0] is not None:
                conn[0].close()


def raw_status(url, target, headers=b""):
    """The status of one GET with `target` (bytes) as its request-target, verbatim."""
    u = urllib.parse.urlsplit(url)
    with socket.create_connection((u.hostname, u.port), timeout=5) as s:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
        head = b""
        while b"\r\n" not in head:
            data = s.recv(1000)
            if not data:
                break
            head += data
    return int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else None


def counters(status):
    """{"cr_http_accepted": 1, ...} from the control socket's status line."""
    return {k: int(v) for k, v in re.findall(r"(cr_\w+)=(\d+)", status)}


class HttpConnectionRequest(ProxierTestCase):
    def start(self, overrides=None):
        self.sock = os.path.join(self.tmp, "ctl.sock")
        cfg = {"control": {"socket": self.sock}}
        for section, keys in (overrides or {}).items():
            cfg.setdefault(section, {}).update(keys)
        d = self.start_daemon(cfg)
        self.acs.wait_sessions(1)
        self.url = self.acs.sessions[0].inform.parameters[URL_PARAM][0]
        self.wait_idle(1)
        return d

    def counters(self):
        return counters(ctl_command(self.sock, "status"))

    def wait_idle(self, n):
        """Until the daemon has ended n sessions (it closes them after the ACS's 204; a
        request before that would be for one more session after it)."""
        self.acs.wait_sessions(n)
        wait_until(lambda: self.daemons[-1].log_text().count("session ended (") >= n, 10,
                   f"{n} sessions ended at the CPE")
        time.sleep(0.05)

    def curl(self, *args, password=PASS):
        if not shutil.which("curl"):
            self.skipTest("curl is not installed")
        out = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--digest",
                              "-u", f"{USER}:{password}", *args, self.url],
                             capture_output=True, text=True, timeout=20)
        body, _, code = out.stdout.rpartition("\n")
        self.curl_stderr = out.stderr  # with "-v": the Authorization curl sent
        return int(code), body

    def urllib_cr(self):
        """A connection request by urllib's HTTPDigestAuthHandler: (status, body). It reads
        the first WWW-Authenticate only and knows MD5 and SHA(-1), not SHA-256."""
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, self.url, USER, PASS)
        opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(passwords))
        with opener.open(self.url, timeout=5) as r:
            return r.status, r.read()

    def offered(self):
        """[(scheme, params)] of the challenges of one 401, in header order."""
        c = RawClient(self.url)
        try:
            return [parse_challenge(v) for v in c.challenges()]
        finally:
            c.close()

    def wait_log(self, text):
        wait_until(lambda: text in self.daemons[-1].log_text(), 5, f"the log saying {text!r}")

    def raw_cr(self, algorithm, **kw):
        c = RawClient(self.url)
        try:
            challenge = c.challenges()[0]
            status, headers, body = c.get({"Authorization": digest_authorization(
                challenge, c.path, USER, PASS, algorithm=algorithm, **kw)})
            return status, headers, body
        finally:
            c.close()

    def assert_sessions_stay(self, n, wait=1.5):
        time.sleep(wait)
        self.assertEqual(len(self.acs.sessions), n)

    # ---- the published URL ----

    def test_url_is_in_the_inform_with_a_random_path(self):
        self.start()
        self.assertRegex(self.url, r"^http://127\.0\.0\.1:\d+/[0-9a-f]{40}$")
        self.assertTrue(self.url.startswith(
            f"http://127.0.0.1:{self.daemons[0].cr_port}/"))

    def test_changed_port_at_restart_is_a_value_change_and_the_path_stays(self):
        d = self.start()
        path = urllib.parse.urlsplit(self.url).path
        d.stop()
        d.config["connection_request"]["port"] = free_port()
        d.start()
        s = self.acs.wait_sessions(2)[1]
        self.assertEqual(codes(s), ["1 BOOT", "4 VALUE CHANGE"])
        new = s.inform.parameters[URL_PARAM][0]
        self.assertEqual(new, f"http://127.0.0.1:{d.cr_port}{path}")

    # ---- good requests ----

    def test_curl_md5_gets_200_empty_and_one_connection_request_session(self):
        self.start()
        code, body = self.curl("-D", "-")
        self.assertEqual(code, 200)
        self.assertIn("Content-Length: 0", body)
        self.assertNotIn("Retry-After", body)
        s = self.acs.wait_sessions(2)[1]
        self.assertEqual(codes(s), CR_EVENT)
        self.assert_sessions_stay(2, 1.0)

    def test_acs_connection_request(self):
        self.start()
        r = self.acs.connection_request(self.url, USER, PASS)
        self.assertEqual(r.statuses, [401, 200])
        self.assertEqual(codes(self.acs.wait_sessions(2)[1]), CR_EVENT)

    def test_a_failed_connection_request_session_is_not_retried_with_its_event(self):
        # Table 8: "6 CONNECTION REQUEST" is not retried; the retry carries no such event
        self.start({"cwmp": {"retry_interval_multiplier": 1000}})
        self.acs.inject("Inform", fault=8003)
        r = self.acs.connection_request(self.url, USER, PASS)
        self.assertEqual(r.statuses, [401, 200])
        failed = self.acs.wait_inform(n=2)
        self.assertEqual(codes(failed), CR_EVENT)
        retry = self.acs.wait_inform(n=3, timeout=20)
        self.assertEqual(codes(retry), [])
        self.assertEqual(retry.inform.retry_count, 1)

    def test_a_body_in_the_request_is_ignored(self):
        # 3.2.2.2: any data in the request SHOULD be ignored
        self.start()
        c = RawClient(self.url)
        try:
            challenge = c.challenges()[0]
            status, _, body = c.get({"Authorization": digest_authorization(
                challenge, c.path, USER, PASS), "Content-Type": "text/plain"},
                body=b"please reboot")
        finally:
            c.close()
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(codes(self.acs.wait_sessions(2)[1]), CR_EVENT)

    def test_sha256_and_md5_sess_from_a_raw_client(self):
        self.start({"connection_request": {"digest_algorithms": "SHA-256,MD5-sess"}})
        status, _, body = self.raw_cr("SHA-256")
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(codes(self.acs.wait_sessions(2)[1]), CR_EVENT)
        self.wait_idle(2)
        status, _, _ = self.raw_cr("MD5-sess")
        self.assertEqual(status, 200)
        self.assertEqual(codes(self.acs.wait_sessions(3)[2]), CR_EVENT)

    # ---- the digest challenge: connection_request.digest_algorithms ----

    def test_default_challenge_is_one_md5_with_qop_auth(self):
        self.start()
        c = RawClient(self.url)
        status, headers, body = c.get()
        c.close()
        self.assertEqual((status, body), (401, b""))
        found = [parse_challenge(v) for v in headers.get_all("WWW-Authenticate")]
        self.assertEqual(len(found), 1)
        scheme, p = found[0]
        self.assertEqual((scheme, p["algorithm"], p["qop"], p["realm"]),
                         ("Digest", "MD5", "auth", "proxierd"))

    def test_genieacs_style_client_succeeds_by_default(self):
        self.start()
        r = self.acs.connection_request(self.url, USER, PASS)
        self.assertEqual(r.statuses, [401, 200])
        self.assertEqual(r.challenge.count("Digest "), 1)
        self.assertIn(",algorithm=MD5,", r.authorization)
        self.assertEqual(codes(self.acs.wait_sessions(2)[1]), CR_EVENT)

    def test_curl_digest_answers_md5_by_default(self):
        self.start()
        self.assertEqual(self.curl("-v")[0], 200)
        self.assertRegex(self.curl_stderr, r"> Authorization: Digest .*algorithm=MD5\b")
        self.assertEqual(codes(self.acs.wait_sessions(2)[1]), CR_EVENT)

    def test_urllib_digest_handler_succeeds_by_default(self):
        self.start()
        self.assertEqual(self.urllib_cr(), (200, b""))
        self.assertEqual(codes(self.acs.wait_sessions(2)[1]), CR_EVENT)

    def test_md5_then_sha256_breaks_a_genieacs_style_client(self):
        # Why the default is MD5 alone (docs/operations.md): Node.js joins the two challenges,
        # GenieACS keeps the last algorithm=, SHA-256, and hashes with MD5 anyway.
        self.start({"connection_request": {"digest_algorithms": "MD5,SHA-256"}})
        found = self.offered()
        self.assertEqual([p["algorithm"] for _, p in found], ["MD5", "SHA-256"])
        self.assertEqual(found[0][1]["nonce"], found[1][1]["nonce"])
        r = self.acs.connection_request(self.url, USER, PASS)
        self.assertEqual(r.statuses, [401, 401])
        self.assertIn(",algorithm=SHA-256,", r.authorization)
        self.assertRegex(r.authorization, r'response="[0-9a-f]{32}"')  # an MD5 digest
        self.wait_log("connection request refused: response not computed with the "
                      "algorithm named")
        self.assert_sessions_stay(1, 0.5)
        # a client that answers the SHA-256 challenge with SHA-256 is let in
        c = RawClient(self.url)
        sha256 = c.challenges()[1]
        status, _, _ = c.get({"Authorization": digest_authorization(sha256, c.path, USER, PASS)})
        c.close()
        self.assertEqual(status, 200)
        self.assertEqual(codes(self.acs.wait_sessions(2)[1]), CR_EVENT)
        self.wait_idle(2)
        self.assertEqual(self.curl()[0], 200)  # curl answers the first, MD5
        self.assertEqual(codes(self.acs.wait_sessions(3)[2]), CR_EVENT)

    def test_sha256_then_md5_keeps_the_order(self):
        self.start({"connection_request": {"digest_algorithms": "SHA-256,MD5"}})
        self.assertEqual([p["algorithm"] for _, p in self.offered()], ["SHA-256", "MD5"])
        self.assertEqual(self.curl("-v")[0], 200)  # curl answers the first challenge
        self.assertRegex(self.curl_stderr, r"> Authorization: Digest .*algorithm=SHA-256\b")
        self.assertEqual(codes(self.acs.wait_sessions(2)[1]), CR_EVENT)
        self.wait_idle(2)
        r = self.acs.connection_request(self.url, USER, PASS)  # last value wins: MD5
        self.assertEqual(r.statuses, [401, 200])
        self.assertEqual(codes(self.acs.wait_sessions(3)[2]), CR_EVENT)
        # but a client that reads the first challenge and knows no SHA-256 cannot answer
        with self.assertRaisesRegex(ValueError, "Unsupported digest authentication"):
            self.urllib_cr()

    def test_md5_is_refused_where_only_sha256_is_offered(self):
        self.start({"connection_request": {"digest_algorithms": "SHA-256"}})
        self.assertEqual([p["algorithm"] for _, p in self.offered()], ["SHA-256"])
        status, _, _ = self.raw_cr("MD5")  # right password, algorithm not offered
        self.assertEqual(status, 401)
        self.wait_log("connection request refused: algorithm not offered")
        self.assert_sessions_stay(1, 0.5)
        status, _, _ = self.raw_cr("SHA-256")
        self.assertEqual(status, 200)
        self.assertEqual(codes(self.acs.wait_sessions(2)[1]), CR_EVENT)

    # ---- refused requests start nothing ----

    def test_wrong_password_and_missing_auth_get_401_and_no_session(self):
        self.start()
        code, _ = self.curl(password="wrong")
        self.assertEqual(code, 401)
        r = self.acs.connection_request(self.url)  # no credentials at all
        self.assertEqual(r.statuses, [401])
        self.assert_sessions_stay(1)

    def test_replayed_authorization_is_refused(self):
        self.start()
        c = RawClient(self.url)
        auth = digest_authorization(c.challenges()[0], c.path, USER, PASS)
        self.assertEqual(c.get({"Authorization": auth})[0], 200)
        c.close()
        self.wait_idle(2)
        c = RawClient(self.url)  # the same header again, on a new connection
        status, headers, _ = c.get({"Authorization": auth})
        c.close()
        self.assertEqual(status, 401)
        self.assertIn("Digest", headers["WWW-Authenticate"])
        self.assert_sessions_stay(2)

    def test_uri_must_be_the_request_uri(self):
        self.start()
        c = RawClient(self.url)
        # signed for, and claiming, another path: sent to the real one
        auth = digest_authorization(c.challenges()[0], "/elsewhere", USER, PASS)
        self.assertEqual(c.get({"Authorization": auth})[0], 401)
        c.close()
        self.assert_sessions_stay(1)

    def test_empty_username_refuses_everything(self):
        self.start({"connection_request": {"username": ""}})
        r = self.acs.connection_request(self.url, "", PASS)
        self.assertEqual(r.statuses, [401, 401])
        self.assert_sessions_stay(1)
        self.assertIn("ConnectionRequestUsername is empty", self.daemons[0].log_text())

    def test_the_request_target_must_be_the_path_byte_for_byte(self):
        # nothing is decoded or split off: a query, a fragment, a percent-escape, a NUL or
        # another slash make it another path, 404 with valid credentials for it too
        self.start()
        p = urllib.parse.urlsplit(self.url).path
        first = "%" + format(ord(p[1]), "02x")
        variants = [p + "%00", p + "\0", p + "\0HTTP/1.1", p + "?x", p + "?", p + "#f",
                    "/" + p, p + "/", p.replace(p[1], first, 1), p.upper(), p[:-1]]

        def status(target):
            c = RawClient(self.url)
            challenge = c.challenges()[0]
            c.close()
            auth = digest_authorization(challenge, target.replace("\0", ""), USER, PASS)
            return raw_status(self.url, target.encode(),
                              b"Authorization: " + auth.encode() + b"\r\n")

        self.assertEqual([status(v) for v in variants], [404] * len(variants))
        self.assert_sessions_stay(1, 0.5)
        self.assertEqual(status(p), 200)  # the same client on the path itself
        self.assertEqual(codes(self.acs.wait_sessions(2)[1]), CR_EVENT)

    def test_unknown_path_404_and_post_405(self):
        self.start()
        u = urllib.parse.urlsplit(self.url)
        c = RawClient(self.url)
        self.assertEqual(c.get(path="/" + "0" * 40)[0], 404)
        c.close()
        c = RawClient(self.url)
        status, headers, _ = c.get(method="POST", body=b"x")
        c.close()
        self.assertEqual((status, headers["Allow"]), (405, "GET"))
        self.assertTrue(u.path)
        self.assert_sessions_stay(1, 0.5)

    # ---- 3.2.2.1: coalescing, one session after a running one, rate limit ----

    def test_burst_of_100_during_a_session_starts_exactly_one_more(self):
        # 10 clients reconnecting at once can briefly exceed the per-IP default (16)
        self.start({"connection_request": {"max_connections_per_ip": 100}})
        self.acs.inject("Inform", delay=5)  # keeps the new session open meanwhile
        self.assertEqual(self.acs.connection_request(self.url, USER, PASS).statuses,
                         [401, 200])
        wait_until(lambda: self.daemons[0].log_text().count("Inform with") >= 2, 10,
                   "the CPE sending its second Inform")
        results, lock = [], threading.Lock()

        def worker():
            for _ in range(10):
                r = self.acs.connection_request(self.url, USER, PASS, timeout=10)
                with lock:
                    results.append(tuple(r.statuses))

        threads = [threading.Thread(target=worker) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [(401, 200)] * 100)
        sessions = self.acs.wait_sessions(3, timeout=20)
        self.assertEqual([codes(s) for s in sessions[1:3]], [CR_EVENT, CR_EVENT])
        self.assert_sessions_stay(3, 1.5)
        c = self.counters()
        self.assertEqual((c["cr_http_accepted"], c["cr_http_coalesced"], c["cr_http_refused"]),
                         (2, 99, 0))

    def test_ten_requests_within_two_seconds_are_all_answered_200(self):
        """An operator queueing tasks in GenieACS: one request after the other, whatever
        state the session is in; none is refused with the default limit."""
        self.start()
        statuses = []
        for _ in range(10):
            statuses.append(self.acs.connection_request(self.url, USER, PASS).statuses)
            time.sleep(0.2)
        self.assertEqual(statuses, [[401, 200]] * 10)
        wait_until(lambda: self.acs.sessions and codes(self.acs.sessions[-1]) == CR_EVENT
                   and self.daemons[0].log_text().count("session ended (") ==
                   len(self.acs.sessions), 10, "the last session to end")
        n = len(self.acs.sessions) - 1
        self.assertTrue(1 <= n <= 10, n)
        self.assertTrue(all(codes(s) == CR_EVENT for s in self.acs.sessions[1:]))
        c = self.counters()
        self.assertEqual(c["cr_http_refused"], 0)
        self.assertEqual(c["cr_http_accepted"] + c["cr_http_coalesced"], 10)
        self.assertEqual(c["cr_http_accepted"], n)
        self.assertNotIn("connection request refused", self.daemons[0].log_text())

    def test_request_during_a_session_gets_200_and_exactly_one_session_after_it(self):
        self.start()
        self.acs.inject("Inform", delay=3)
        self.assertEqual(self.curl()[0], 200)
        # the ACS records a Session only after its delay: watch the CPE start its session,
        # whose Inform carries "6 CONNECTION REQUEST" and is not answered yet
        wait_until(lambda: self.daemons[0].log_text().count("Inform with") >= 2, 10,
                   "the CPE sending its second Inform")
        for _ in range(2):
            c = RawClient(self.url)
            status, headers, body = c.get({"Authorization": digest_authorization(
                c.challenges()[0], c.path, USER, PASS)})
            c.close()
            self.assertEqual((status, body), (200, b""))
        sessions = self.acs.wait_sessions(3, timeout=15)
        self.assertEqual([codes(s) for s in sessions[1:]], [CR_EVENT, CR_EVENT])
        self.assert_sessions_stay(3)
        c = self.counters()
        self.assertEqual((c["cr_http_accepted"], c["cr_http_coalesced"]), (2, 1))

    def test_a_flood_starts_a_bounded_number_of_sessions_and_warns_once(self):
        burst = 4
        self.start({"connection_request": {"rate_burst": burst, "rate_interval": 60,
                                           "max_connections_per_ip": 100},
                    "log": {"repeat_interval": 1}})
        t0 = time.monotonic()
        results, lock = [], threading.Lock()

        def worker():
            for _ in range(25):
                r = self.acs.connection_request(self.url, USER, PASS, timeout=10)
                with lock:
                    results.append(r.statuses[-1])
                time.sleep(0.02)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        minutes = (time.monotonic() - t0) / 60
        self.assertEqual(len(results), 100)
        self.assertTrue(set(results) <= {200, 503}, set(results))
        self.assertIn(503, results)
        time.sleep(2)  # the sessions end, the count of the last interval is written
        started = [s for s in self.acs.sessions[1:] if codes(s) == CR_EVENT]
        # rate_burst sessions at once, then one per rate_interval: within this test's time
        self.assertLessEqual(len(started), burst + int(minutes) + 1)
        self.assertEqual(len(self.acs.sessions) - 1, len(started))
        c = self.counters()
        self.assertEqual(c["cr_http_refused"], results.count(503))
        self.assertEqual(c["cr_http_accepted"], len(started))
        log = self.daemons[0].log_text()
        lines = [l for l in log.splitlines() if "HTTP connection request refused" in l]
        self.assertTrue(all(" warn " in l for l in lines), lines)
        first = [l for l in lines if "more in the last" not in l]
        counted = [int(n) for n in re.findall(r"\((\d+) more in the last 1 s\)", log)]
        self.assertGreaterEqual(len(first), 1)
        self.assertTrue(counted, "no summary line")
        # every refusal is in the log once: written, or counted in a summary
        self.assertEqual(len(first) + sum(counted), c["cr_http_refused"])
        # one line at once and one per second of flood, not one per refusal
        self.assertLess(len(lines), c["cr_http_refused"] / 2)

    def test_rate_limit_burst_2(self):
        self.start({"connection_request": {"rate_burst": 2, "rate_interval": 60}})
        for n in (2, 3):
            self.assertEqual(self.curl()[0], 200)
            self.wait_idle(n)
        code, headers = self.curl("-D", "-")
        self.assertEqual(code, 503)
        self.assertNotIn("Retry-After", headers)
        self.assert_sessions_stay(3)

    # ---- HTTPConnectionRequestEnable ----

    def test_disabled_by_the_acs_publishes_an_empty_url_and_answers_404(self):
        d = self.start()
        self.acs.queue(m.rpc_spv([(ENABLE, "false", "xsd:boolean")], "off"))
        self.assertEqual(self.acs.connection_request(self.url, USER, PASS).statuses, [401, 200])
        s = self.acs.wait_sessions(3)[2]  # the SPV session, then the one it caused
        self.assertEqual(codes(s), ["4 VALUE CHANGE"])
        self.assertEqual(s.inform.parameters[URL_PARAM][0], "")
        c = RawClient(self.url)
        self.assertEqual(c.get()[0], 404)
        c.close()
        self.assertTrue(d.running())

    # ---- hostile clients ----

    def test_slowloris_does_not_block_other_requests(self):
        self.start({"connection_request": {"connection_timeout": 2}})
        u = urllib.parse.urlsplit(self.url)
        slow = []
        for _ in range(5):
            s = socket.create_connection((u.hostname, u.port))
            s.sendall(f"GET {u.path} HTTP/1.1\r\nHost: x\r\nX-Slow: ".encode())
            slow.append(s)
        t0 = time.monotonic()
        r = self.acs.connection_request(self.url, USER, PASS)
        self.assertEqual(r.statuses, [401, 200])
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(codes(self.acs.wait_sessions(2)[1]), CR_EVENT)
        for s in slow:  # and the listener hangs up on them
            s.settimeout(6)
            self.assertEqual(s.recv(100), b"")
            s.close()

    def test_a_slow_request_is_closed_at_its_deadline_though_it_keeps_sending(self):
        # connection_timeout is a deadline for the whole request, not an idle time: a byte
        # every 2 s never lets 3 s of silence pass
        self.start({"connection_request": {"connection_timeout": 3}})
        slow = SlowClients(self.url, ["127.0.0.1"], 16, every=2.0)
        self.addCleanup(slow.stop)
        wait_until(lambda: len(slow.closed()) >= 16, 15, "16 slow connections closed")
        lifetimes = slow.closed()
        self.assertEqual(len(lifetimes), 16)
        self.assertTrue(all(2.0 <= t <= 3 + 3 for t in lifetimes), lifetimes)
        self.assertEqual(self.counters()["cr_http_timed_out"], 16)
        log = self.daemons[0].log_text()
        lines = [l for l in log.splitlines() if "not read and answered within 3 s" in l]
        self.assertEqual(len(lines), 1, lines)  # rate-limited: the rest counted, later
        self.assertIn(" warn ", lines[0])

    def assert_request_gets_through(self, slow, held):
        """While `slow` holds `held` connections (all slots of its addresses, or all in all):
        the ACS's request gets 200 and its session follows."""
        self.assertEqual(len(slow.conns), held)
        time.sleep(0.5)
        self.assertEqual(slow.closed(), [])  # they do hold their slots
        t0 = time.monotonic()
        r = self.acs.connection_request(self.url, USER, PASS, timeout=5)
        elapsed = time.monotonic() - t0
        self.assertEqual(r.statuses, [401, 200], r.error)
        self.assertLess(elapsed, 3.0)
        self.assertEqual(codes(self.acs.wait_sessions(2)[1]), CR_EVENT)
        self.assertGreaterEqual(self.counters()["cr_http_reclaimed"], 1)
        self.assertIn("to make room for one from 127.0.0.1", self.daemons[0].log_text())
        print(f"\n  admitted in {elapsed * 1000:.1f} ms with {held} slow connections",
              file=sys.stderr)

    def test_a_valid_request_gets_through_slow_clients_on_every_slot_of_its_address(self):
        # defaults: 16 per address, connection_timeout 10; the attacker shares the ACS's
        # address and opens a new connection whenever one is closed
        self.start()
        slow = SlowClients(self.url, ["127.0.0.1"], 16, reopen=True)
        self.addCleanup(slow.stop)
        self.assert_request_gets_through(slow, 16)

    def test_a_valid_request_gets_through_slow_clients_on_every_slot(self):
        # four addresses hold all 64 connections (16 each, the defaults)
        self.start()
        slow = SlowClients(self.url, [f"127.0.0.{i}" for i in range(2, 6)], 16, reopen=True)
        self.addCleanup(slow.stop)
        self.assert_request_gets_through(slow, 64)


if __name__ == "__main__":
    unittest.main()
