"""The scriptable test ACS: an HTTP/1.1 keep-alive server that runs CWMP Sessions the way a
real ACS does (TR-069 3.4 HTTP, 3.5 SOAP, 3.7 Session procedures, Annex A) and records
everything the CPE sends, for proxierd's integration tests.

Behaviour follows GenieACS where the spec leaves a choice (interop/acs-behaviour.md): a
`session=<random>` cookie on the first response of a Session, InformResponse with
MaxEnvelopes 1 in the namespace of the Inform, queued RPCs one per HTTP response after the
CPE's empty POST, 204 No Content to end the Session. Every non-empty CPE message is
validated against the official schemas (xsd.py) in a worker thread; protocol violations
(missing cookie, wrong cwmp:ID, SOAPAction/Content-Type rules, requests after the empty POST,
...) are recorded in `violations`. Faults, HTTP errors, redirects, delays and dropped
connections are scripted with `inject`. A POST that comes again after the ACS dropped the
connection on it unanswered is a violation (TR-069 3.7.1.4: the CPE MUST NOT retransmit it).
"""
import dataclasses
import gzip
import http.client
import http.server
import itertools
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
import zlib

from . import soapmsg
from .digest import Authenticator, genieacs_authorization, node_join
from .soapmsg import (Rpc, rpc_add, rpc_delete, rpc_download, rpc_factory_reset,  # noqa: F401
                      rpc_get_rpc_methods, rpc_gpa, rpc_gpn, rpc_gpv, rpc_raw, rpc_reboot,
                      rpc_schedule_inform, rpc_spa, rpc_spv)
from .xsd import Validator

__all__ = ["TestACS", "Session", "Exchange", "CpeResponse", "Request", "Injection", "Connection",
           "ConnectionRequestResult", "Rpc", "rpc_add", "rpc_delete", "rpc_download",
           "rpc_factory_reset", "rpc_get_rpc_methods", "rpc_gpa", "rpc_gpn", "rpc_gpv",
           "rpc_raw", "rpc_reboot", "rpc_schedule_inform", "rpc_spa", "rpc_spv"]

SOAP_CONTENT_TYPE = 'text/xml; charset="utf-8"'
SUPPORTED_VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4")


@dataclasses.dataclass
class Injection:
    """A scripted deviation for the next `times` CPE POSTs matching `on`: a method name
    ("Inform", "TransferComplete", "GetParameterValuesResponse", "Fault"), "empty" (empty
    POST), "response" (any response or fault) or "any". Actions: delay seconds first, then one
    of redirect (301/302/307 to another path of this server), status (bare HTTP status), body (raw 200 reply bytes),
    close (drop the TCP connection without answering: the Session ends, and the identical
    POST coming again with its cookie is recorded in Session.resent, a violation, and dropped
    too), fault (CWMP fault code answering a CPE request); close_after adds
    "Connection: close" to the reply."""
    on: str = "Inform"
    times: int = 1
    delay: float = 0
    redirect: int | None = None
    status: int | None = None
    close: bool = False
    fault: int | None = None
    fault_string: str | None = None
    body: bytes | None = None     # raw 200 text/xml reply (malformed/hostile ACS messages)
    close_after: bool = False
    fired: int = 0

    def matches(self, env):
        if self.fired >= self.times:
            return False
        if self.on == "any":
            return True
        if env is None:
            return self.on == "empty"
        if self.on == "response":
            return not env.is_request
        return self.on == env.method


@dataclasses.dataclass
class Request:
    """One HTTP request as received (body already decompressed)."""
    time: float
    conn_id: int
    client_port: int
    method: str
    path: str
    headers: dict            # lower-case name -> value (last one wins)
    body: bytes
    status: int | None = None
    auth: object = None      # digest.AuthResult when credentials were checked
    validation: list | None = None   # xmllint errors of a non-empty body ([] = valid)
    cpe_method: str | None = None    # local name of the Body element, once parsed


@dataclasses.dataclass
class Exchange:
    """One CPE POST inside a Session and the ACS answer. cpe: message bytes (b"" = empty
    POST); method: CPE method (None = empty POST); reply: ACS body (b"" = none);
    acs_method: method of the reply; validation: xmllint errors ([] valid, None pending)."""
    cpe: bytes
    method: str | None
    reply: bytes
    status: int
    acs_method: str | None
    request: Request

    @property
    def validation(self):
        return self.request.validation

    def __iter__(self):
        """Unpacks as (cpe message, CPE method, ACS reply)."""
        return iter((self.cpe, self.method, self.reply))


@dataclasses.dataclass
class CpeResponse:
    """The CPE's answer to a queued RPC: method e.g. "GetParameterValuesResponse" or "Fault";
    value = soapmsg.parse_response(); fault = soapmsg.Fault or None."""
    rpc: Rpc
    method: str
    value: object
    fault: soapmsg.Fault | None
    raw: bytes
    id_ok: bool


@dataclasses.dataclass
class ConnectionRequestResult:
    """One Connection Request made by the ACS: HTTP statuses in order (e.g. [401, 200]),
    the auth scheme answered, the challenge as the ACS saw it (repeated WWW-Authenticate
    headers joined), the Authorization it sent, or the transport error. status = the final
    one."""
    url: str
    time: float
    statuses: list = dataclasses.field(default_factory=list)
    scheme: str | None = None
    challenge: str | None = None
    authorization: str | None = None
    error: str | None = None

    @property
    def status(self):
        return self.statuses[-1] if self.statuses else None

    @property
    def ok(self):
        return self.status in (200, 204)


@dataclasses.dataclass
class Connection:
    """One TCP connection from the CPE."""
    conn_id: int
    client_port: int
    opened: float
    closed: float | None = None
    requests: int = 0
    sock: object = dataclasses.field(default=None, repr=False)


class Session:
    """One CWMP Session, from the first Inform to its end (ended_ok = ended by our 204)."""

    def __init__(self, index, cookie):
        self.index, self.cookie = index, cookie
        self.inform = None             # soapmsg.Inform (first one)
        self.informs = []              # every Inform received (8005 retries included)
        self.exchanges, self.responses, self.cpe_requests = [], [], []
        self.cookies_seen, self.conn_ids, self.paths, self.violations = [], [], [], []
        self.dropped = []              # Requests answered by dropping the connection
        self.resent = []               # Requests repeating a dropped one (3.7.1.4 violation)
        self.auth = None               # digest.AuthResult of the Inform, if auth is on
        self.cwmp_version = None       # the UseCWMPVersion we sent
        self.start_time = time.time()
        self.last_time = self.start_time
        self.end_time = None
        self.ended = self.ended_ok = False
        self.end_reason = None
        # protocol state (TR-069 3.7.2)
        self.inform_done = False       # InformResponse sent
        self.outstanding = None        # (Rpc, cwmp:ID) awaiting the CPE's response
        self.cpe_done = False          # empty POST received while HoldRequests false
        self.hold = False              # HoldRequests of our last envelope
        self.retry_expected = None     # raw message the CPE must resend after our 8005

    @property
    def device_id(self):
        return self.inform.device_id if self.inform else {}

    @property
    def serial(self):
        return self.device_id.get("SerialNumber")

    def response(self, rpc_method):
        """The first recorded CpeResponse to our RPC named rpc_method (e.g. "AddObject")."""
        return next((r for r in self.responses if r.rpc.method == rpc_method), None)

    def __repr__(self):
        return (f"<Session {self.index} {self.serial} events={self.inform and self.inform.events}"
                f" ended={self.end_reason} exchanges={[e.method for e in self.exchanges]}>")


@dataclasses.dataclass
class _Reply:
    status: int
    body: bytes = b""
    acs_method: str | None = None
    headers: list = dataclasses.field(default_factory=list)
    close_after: bool = False
    drop: bool = False


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A CPE that hangs up (after the 204, or killed by a test) or refuses our
        # certificate is not an ACS error.
        import sys
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "proxier-test-acs/1"

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and the
        # CPE's delayed ACK add ~40 ms to every exchange.
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.conn = self.server.acs._open_connection(self.client_address[1], self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.acs._close_connection(self.conn)

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        self.server.acs._handle(self)

    def do_GET(self):
        self.server.acs._handle(self)

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))


class TestACS:
    """See the module docstring. Typical use:

        acs = TestACS(auth="digest", username="u", password="p"); acs.start()
        acs.queue(rpc_gpv(["Device.DeviceInfo."]))
        ... point the CPE at acs.url ...
        s = acs.wait_sessions(1)[0]; s.responses[0].value; acs.assert_all_valid()
        acs.stop()
    """

    __test__ = False   # not a unittest/pytest test class

    def __init__(self, auth=None, username="cpe", password="secret", tls=False,
                 realm="proxier-test-acs", validate=True, port=0):
        self.auth = Authenticator(auth, username, password, realm) if auth else None
        self.tls = tls
        self.listen_port = port           # 0 = any free port
        self.validator = Validator() if validate else None
        # behaviour switches (set them before the Session they should affect)
        self.set_cookie = True            # send the session cookie (GenieACS does)
        self.extra_cookies = []           # more Set-Cookie values ("name=value; Path=/")
        self.use_cwmp_version = "auto"    # "auto" | explicit "1.x" | None (act as 1.3 ACS)
        self.inform_hold_requests = False # HoldRequests=1 on InformResponse
        self.max_envelopes = 1
        self.reject_compressed = False    # answer 415 to Content-Encoding (TR-069 3.4.7)
        self.auth_every_request = False   # challenge every POST, not only the Inform
        self.session_idle_timeout = 30.0  # TR-069 3.7.2.4: not less than 30 s
        self.path = "/acs"
        self.files = {}                   # path -> bytes served on GET (download tests)
        # records
        self.sessions, self.requests, self.violations, self.validation_errors = [], [], [], []
        self.connections = {}             # conn_id -> Connection
        self.connection_requests = []     # ConnectionRequestResult, in order
        self.injections = []
        self._pending = []                # [(Rpc, serial or None)]
        self._by_cookie, self._by_conn = {}, {}
        self._on_inform = None
        self._cv = threading.Condition()
        self._ids = itertools.count(1)
        self._conn_ids = itertools.count(1)
        self._redirects = itertools.count(1)
        self._server = self._thread = self._janitor = None
        self._tmpdir = None
        self.cert_file = None

    # ------------------------------------------------------------------ lifecycle
    def start(self):
        self._server = _Server(("127.0.0.1", self.listen_port), _Handler)
        self._server.daemon_threads = True
        self._server.acs = self
        if self.tls:
            self._wrap_tls()
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True,
                                        name="test-acs")
        self._thread.start()
        self._running = True
        self._janitor = threading.Thread(target=self._expire_sessions, daemon=True)
        self._janitor.start()
        return self

    def stop(self):
        if not self._server:
            return
        self._running = False
        self._server.shutdown()
        self._server.server_close()
        with self._cv:    # the CPE sees its keep-alive connections drop, as with a real ACS
            for conn in self.connections.values():
                if conn.closed is None:
                    try:
                        conn.sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
        self._server = None
        if self.validator:
            self.validator.drain()
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def base_url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def url(self):
        return self.base_url + self.path

    def _wrap_tls(self):
        """Self-signed certificate for 127.0.0.1 (cert_file is also the CA to trust)."""
        self._tmpdir = tempfile.mkdtemp(prefix="test-acs-tls-")
        self.cert_file = os.path.join(self._tmpdir, "acs.pem")
        key = os.path.join(self._tmpdir, "acs.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", self.cert_file], check=True, capture_output=True)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_file, key)
        self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True,
                                              do_handshake_on_connect=False)

    # ------------------------------------------------------------------ scripting
    def queue(self, rpc, serial=None):
        """Queue an RPC for the next Session (or the open one) of any device, or only of
        the device whose DeviceId.SerialNumber is `serial`."""
        with self._cv:
            self._pending.append((rpc, serial))
        return rpc

    def pending(self):
        with self._cv:
            return [rpc for rpc, _ in self._pending]

    def inject(self, on="Inform", times=1, **actions):
        """Add an Injection (see its docstring), e.g. inject("Inform", fault=8005, times=2),
        inject("Inform", redirect=307, times=3), inject("empty", status=500),
        inject("any", close=True), inject("Inform", delay=2)."""
        inj = Injection(on=on, times=times, **actions)
        with self._cv:
            self.injections.append(inj)
        return inj

    def on_inform(self, callback):
        """callback(session) after each new Session's first Inform, before the reply."""
        self._on_inform = callback

    def connection_request(self, url, username=None, password=None, timeout=2.0):
        """HTTP Connection Request to the CPE as GenieACS sends it (TR-069 3.2.2,
        interop/acs-behaviour.md 1.6): GET without credentials, then on 401 the same GET with
        Digest (or Basic if only Basic is offered) on the same keep-alive connection. The
        challenge is read as GenieACS on Node.js reads it (digest.genieacs_authorization):
        repeated WWW-Authenticate headers joined, the last value of each parameter kept, MD5
        whatever algorithm= says. Returns a ConnectionRequestResult; recorded in
        `connection_requests`."""
        u = urllib.parse.urlsplit(url)
        path = u.path or "/"
        result = ConnectionRequestResult(url, time.time())
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            result.statuses.append(r.status)
            challenge = node_join(r.headers.get_all("WWW-Authenticate") or [])
            result.challenge = challenge or None
            if r.status == 401 and challenge and username is not None:
                result.scheme = challenge.split(" ", 1)[0]
                result.authorization = genieacs_authorization(challenge, "GET", path,
                                                              username, password)
                conn.request("GET", path, headers={"Authorization": result.authorization})
                r = conn.getresponse()
                r.read()
                result.statuses.append(r.status)
        except (OSError, http.client.HTTPException) as e:
            result.error = repr(e)
        finally:
            conn.close()
        with self._cv:
            self.connection_requests.append(result)
        return result

    # ------------------------------------------------------------------ waiting / checks
    def wait_for(self, predicate, timeout=30, what="condition"):
        with self._cv:
            if not self._cv.wait_for(predicate, timeout):
                raise AssertionError(f"timeout ({timeout} s) waiting for {what}; "
                                     f"sessions: {self.sessions}")

    def wait_sessions(self, n, timeout=30):
        """Block until n Sessions have ended (either way); returns the ended Sessions."""
        self.wait_for(lambda: sum(s.ended for s in self.sessions) >= n, timeout,
                      f"{n} ended sessions")
        with self._cv:
            return [s for s in self.sessions if s.ended]

    def wait_inform(self, timeout=30, n=1):
        """Block until the n-th Session (1-based) has sent its Inform; returns it."""
        self.wait_for(lambda: len(self.sessions) >= n, timeout, f"Inform of session {n}")
        return self.sessions[n - 1]

    def drain_validation(self):
        if self.validator:
            self.validator.drain()

    def assert_all_valid(self):
        """Raise AssertionError with xmllint's message if any CPE message was invalid."""
        self.drain_validation()
        if self.validation_errors:
            raise AssertionError("CPE messages failed schema validation:\n" + "\n\n".join(
                f"{label}:\n{err}" for label, err in self.validation_errors))

    def assert_no_violations(self):
        if self.violations:
            raise AssertionError("CWMP protocol violations:\n" + "\n".join(self.violations))

    def assert_clean(self):
        self.assert_all_valid()
        self.assert_no_violations()

    # ------------------------------------------------------------------ connections
    def _open_connection(self, port, sock):
        with self._cv:
            conn = Connection(next(self._conn_ids), port, time.time(), sock=sock)
            self.connections[conn.conn_id] = conn
            return conn

    def _close_connection(self, conn):
        with self._cv:
            conn.closed = time.time()
            self._cv.notify_all()

    def _expire_sessions(self):
        while self._running:
            time.sleep(0.2)
            with self._cv:
                now = time.time()
                for s in self.sessions:
                    if not s.ended and now - s.last_time > self.session_idle_timeout:
                        self._end(s, False, "timeout")

    # ------------------------------------------------------------------ HTTP handling
    def _handle(self, h):
        req = Request(time.time(), h.conn.conn_id, h.conn.client_port, h.command,
                      h.path.split("?")[0], {k.lower(): v for k, v in h.headers.items()},
                      h.read_body())
        with self._cv:
            h.conn.requests += 1
            self.requests.append(req)
        try:
            reply = self._dispatch(req)
        except Exception as e:   # a bug in the ACS must show up, not hang the CPE
            self._violation(None, f"test ACS internal error: {e!r}")
            reply = _Reply(500, b"internal error")
        req.status = None if reply.drop else reply.status
        self._send(h, reply)

    def _send(self, h, reply):
        if reply.drop:
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        h.send_response(reply.status)
        for name, value in reply.headers:
            h.send_header(name, value)
        if reply.body:
            if reply.acs_method is not None:
                h.send_header("Content-Type", SOAP_CONTENT_TYPE)
        if reply.status != 204:
            h.send_header("Content-Length", str(len(reply.body)))
        if reply.close_after:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        h.wfile.write(reply.body)
        h.wfile.flush()

    def _dispatch(self, req):
        if req.method == "GET":
            data = self.files.get(req.path)
            return _Reply(200, data, headers=[("Content-Type", "application/octet-stream")]) \
                if data is not None else _Reply(404, b"not found")
        encoding = req.headers.get("content-encoding", "identity").lower()
        if encoding != "identity":
            if self.reject_compressed or encoding not in ("gzip", "deflate"):
                return _Reply(415, b"compressed bodies not accepted")
            try:
                req.body = gzip.decompress(req.body) if encoding == "gzip" \
                    else zlib.decompress(req.body)
            except (OSError, zlib.error, EOFError) as e:
                self._violation(None, f"undecodable {encoding} body: {e}")
                return _Reply(400, b"bad content encoding")
        env = None
        if req.body.strip():
            try:
                env = soapmsg.parse_envelope(req.body)
                req.cpe_method = env.method
            except soapmsg.SoapError as e:
                return self._bad_request(req, str(e))
            finally:
                self._validate(req)
        if self._repeats_dropped(req):
            return _Reply(0, drop=True)
        inj = self._take_injection(env)
        if inj and inj.delay:
            time.sleep(inj.delay)
        front = self._front_end(req, inj)
        if front:
            return front
        denied = self._authenticate(req, env)
        if denied:
            return denied
        reply = self._session_step(req, env, inj)
        if inj and inj.close_after:
            reply.close_after = True
        return reply

    def _take_injection(self, env):
        with self._cv:
            inj = next((i for i in self.injections if i.matches(env)), None)
            if inj:
                inj.fired += 1
            return inj

    def _front_end(self, req, inj):
        """Injected redirect / bare status / dropped connection (applied before auth, the
        way a load balancer or web front end would)."""
        if not inj:
            return None
        if inj.close:
            with self._cv:
                s = self._lookup(req)
                if s:
                    s.dropped.append(req)
                    self._end(s, False, "connection dropped by ACS")
            return _Reply(0, drop=True)
        if inj.redirect:
            loc = f"{self.base_url}/redirect{next(self._redirects)}"
            return _Reply(inj.redirect, headers=[("Location", loc)])
        if inj.body is not None:
            self._end_for(req, "raw body sent by ACS")
            return _Reply(200, inj.body, acs_method="raw")
        if inj.status:
            headers = []
            if inj.status == 401:
                headers.append(("WWW-Authenticate", self.auth.challenge(req.conn_id)
                                if self.auth else 'Basic realm="proxier-test-acs"'))
            else:
                self._end_for(req, f"http {inj.status}")
            return _Reply(inj.status, headers=headers)
        return None

    def _authenticate(self, req, env):
        """TR-069 3.4.4: challenge the Session's first message (and any POST that carries
        credentials, or every POST if auth_every_request)."""
        if not self.auth:
            return None
        header = req.headers.get("authorization")
        is_inform = env is not None and env.method == "Inform"
        if not (is_inform or header or self.auth_every_request):
            return None
        req.auth = self.auth.check("POST", req.path, header, req.conn_id)
        if req.auth.ok:
            return None
        return _Reply(401, b"", headers=[("WWW-Authenticate", self.auth.challenge(
            req.conn_id, req.auth.stale))])

    # ------------------------------------------------------------------ sessions
    @staticmethod
    def _session_cookie(req):
        cookies = dict(part.strip().partition("=")[::2]
                       for part in req.headers.get("cookie", "").split(";") if "=" in part)
        return cookies.get("session")

    def _lookup(self, req):
        """Open Session of this POST: by cookie, else by TCP connection."""
        s = self._by_cookie.get(self._session_cookie(req))
        if s is None:
            s = self._by_conn.get(req.conn_id)
        return s if s is not None and not s.ended else None

    def _repeats_dropped(self, req):
        """TR-069 3.7.1.4: a POST that got no HTTP response (we dropped the connection on
        it) MUST NOT be retransmitted in the same Session. One with the cookie of that
        Session and the identical body (decoded) is recorded and dropped as well."""
        cookie = self._session_cookie(req)
        with self._cv:
            s = next((s for s in self.sessions if s.cookie == cookie), None)
            if s is None or not any(d.body == req.body for d in s.dropped):
                return False
            s.resent.append(req)
        self._violation(s, f"{req.cpe_method or 'empty POST'} re-sent on connection "
                           f"{req.conn_id} after the ACS dropped the connection on it "
                           "unanswered (TR-069 3.7.1.4)")
        return True

    def _violation(self, session, text):
        with self._cv:
            where = f"session {session.index}: " if session else ""
            self.violations.append(where + text)
            if session:
                session.violations.append(text)

    def _end(self, session, ok, reason):
        """Caller holds the lock."""
        if session.ended:
            return
        session.ended, session.ended_ok, session.end_reason = True, ok, reason
        session.end_time = time.time()
        self._by_cookie.pop(session.cookie, None)
        self._cv.notify_all()

    def _end_for(self, req, reason):
        with self._cv:
            s = self._lookup(req)
            if s:
                self._end(s, False, reason)

    def _bad_request(self, req, reason, session=None):
        """TR-069 3.7.2.4: HTTP 400 without SOAP content, the Session ends unsuccessfully."""
        with self._cv:
            session = session or self._lookup(req)
            if session:
                self._end(session, False, f"400: {reason}")
        self._violation(session, f"bad request: {reason}")
        return _Reply(400, reason.encode())

    def _check_http(self, session, req, env):
        """TR-069 3.4.1 rules for the headers of a CPE POST."""
        h = req.headers
        if env is None:
            if "soapaction" in h or "content-type" in h:
                self._violation(session, "empty POST with SOAPAction or Content-Type header")
            return
        if not h.get("content-type", "").lower().startswith("text/xml"):
            self._violation(session, f"Content-Type {h.get('content-type')!r} is not text/xml")
        if "soapaction" not in h:
            self._violation(session, f"{env.method} POST without SOAPAction header")
        elif not env.is_request and h["soapaction"].strip() != "":
            self._violation(session, f"SOAPAction {h['soapaction']!r} on a response (3.4.1)")

    def _session_step(self, req, env, inj):
        if env is not None and env.method == "Inform":
            return self._on_inform_post(req, env, inj)
        with self._cv:
            s = self._lookup(req)
        if s is None:
            return self._bad_request(req, f"{env.method if env else 'empty POST'} outside a Session")
        self._record_post(s, req)
        self._check_http(s, req, env)
        if not s.inform_done:
            return self._bad_request(req, "Session did not start with a successful Inform", s)
        if env is None:
            return self._on_empty_post(s, req)
        if env.is_request:
            return self._on_cpe_request(s, req, env, inj)
        return self._on_cpe_response(s, req, env)

    def _record_post(self, s, req):
        with self._cv:
            s.last_time = req.time
            if req.conn_id not in s.conn_ids:
                s.conn_ids.append(req.conn_id)
            s.paths.append(req.path)
            s.cookies_seen.append(req.headers.get("cookie"))
            self._by_conn[req.conn_id] = s
            if s.inform_done and self.set_cookie and \
                    f"session={s.cookie}" not in (req.headers.get("cookie") or ""):
                self._violation(s, f"POST without the session cookie (Cookie: "
                                   f"{req.headers.get('cookie')!r}, TR-069 3.4.2)")

    def _new_session(self, req, inform):
        with self._cv:
            # A device has one Session at a time (TR-069 3.7): a new Inform ends the old one.
            for old in self.sessions:
                if not old.ended and (old.device_id == inform.device_id or
                                      self._by_conn.get(req.conn_id) is old):
                    self._end(old, False, "superseded by a new Inform")
            s = Session(len(self.sessions) + 1, secrets.token_hex(12))
            s.inform, s.auth = inform, req.auth
            self.sessions.append(s)
            self._by_cookie[s.cookie] = s
            self._by_conn[req.conn_id] = s
            self._cv.notify_all()
        if self._on_inform:
            self._on_inform(s)
        return s

    def _on_inform_post(self, req, env, inj):
        inform = soapmsg.parse_inform(env)
        with self._cv:
            s = self._lookup(req)
        if s is not None and s.inform_done:
            self._violation(s, "second Inform in one Session (TR-069 3.7)")
            s = None
        if s is None:
            s = self._new_session(req, inform)
        elif s.retry_expected is not None and s.retry_expected != env.raw:
            self._violation(s, "Inform resent after 8005 differs from the original (3.7.1.6)")
        s.retry_expected = None
        s.informs.append(inform)
        self._record_post(s, req)
        self._check_http(s, req, env)
        if env.ns not in soapmsg.CWMP_NAMESPACES:
            # GenieACS: "Unrecognized CWMP version", the Session is refused.
            return self._exchange(s, req, env, self._bad_request(
                req, f"unknown CWMP namespace {env.ns!r}", s))
        for name in ("SessionTimeout", "SupportedCWMPVersions"):
            if name in env.headers and env.ns != "urn:dslforum-org:cwmp-1-2":
                self._violation(s, f"{name} header in namespace {env.ns}")
        if inj and inj.fault:
            return self._exchange(s, req, env, self._fault_reply(s, env, inj))
        version = self._choose_version(env)
        if version == "":
            reply = self._fault_reply(s, env, Injection(fault=8006))
            return self._exchange(s, req, env, reply)
        s.cwmp_version = version
        body = soapmsg.envelope(soapmsg.inform_response_body(self.max_envelopes), env.ns,
                                env.id, self.inform_hold_requests, version)
        with self._cv:
            s.inform_done, s.hold = True, self.inform_hold_requests
        reply = _Reply(200, body.encode(), "InformResponse", self._cookie_headers(s))
        return self._exchange(s, req, env, reply)

    def _choose_version(self, env):
        """UseCWMPVersion (TR-069 3.7.2.1): None = do not send, "" = no common version."""
        offered = env.headers.get("SupportedCWMPVersions")
        if self.use_cwmp_version != "auto":
            return self.use_cwmp_version
        if offered is None or env.ns != "urn:dslforum-org:cwmp-1-2":
            return None
        common = [v.strip() for v in offered.split(",") if v.strip() in SUPPORTED_VERSIONS]
        return max(common, key=lambda v: tuple(map(int, v.split(".")))) if common else ""

    def _cookie_headers(self, s):
        if not self.set_cookie:
            return []
        return [("Set-Cookie", f"session={s.cookie}; Path=/")] + \
            [("Set-Cookie", c) for c in self.extra_cookies]

    def _fault_reply(self, s, env, inj):
        """A CWMP fault answering a CPE request; 8005 keeps the Session and expects the
        identical request again (3.7.1.6), other faults on Inform end the Session."""
        body = soapmsg.envelope(soapmsg.fault_body(inj.fault, inj.fault_string), env.ns, env.id)
        with self._cv:
            if inj.fault == 8005:
                s.retry_expected = env.raw
            elif env.method == "Inform":
                self._end(s, False, f"fault {inj.fault}")
        headers = self._cookie_headers(s) if env.method == "Inform" else []
        return _Reply(200, body.encode(), "Fault", headers)

    def _on_empty_post(self, s, req):
        with self._cv:
            if s.outstanding:
                self._violation(s, f"empty POST while {s.outstanding[0].method} is outstanding")
                s.outstanding = None
            if not s.hold:
                s.cpe_done = True
            reply = self._next_rpc_or_end(s)
        return self._exchange(s, req, None, reply)

    def _on_cpe_request(self, s, req, env, inj):
        with self._cv:
            if s.outstanding:
                self._violation(s, f"{env.method} sent while our {s.outstanding[0].method} "
                                   "awaits a response (Table 7)")
            if s.cpe_done:
                self._violation(s, f"{env.method} sent after the empty POST (3.7.1.3)")
            elif s.hold:
                self._violation(s, f"{env.method} sent while HoldRequests is true (3.7.1.3)")
            if s.retry_expected is not None and s.retry_expected != env.raw:
                self._violation(s, f"{env.method} after 8005 is not the identical request")
            s.retry_expected = None
            s.cpe_requests.append((env.method, soapmsg.parse_request(env)))
        if inj and inj.fault:
            return self._exchange(s, req, env, self._fault_reply(s, env, inj))
        body = soapmsg.cpe_request_reply(env)
        if body is None:
            body = soapmsg.fault_body(8000, f"{env.method} not supported")
        with self._cv:
            s.hold = False
        method = "Fault" if body.startswith("<soap-env:Fault") else env.method + "Response"
        return self._exchange(s, req, env, _Reply(
            200, soapmsg.envelope(body, env.ns, env.id).encode(), method))

    def _on_cpe_response(self, s, req, env):
        with self._cv:
            if not s.outstanding:
                return self._exchange(s, req, env, self._bad_request(
                    req, f"{env.method} but no ACS request is outstanding", s))
            rpc, rpc_id = s.outstanding
            s.outstanding = None
            if env.id != rpc_id:
                self._violation(s, f"{env.method}: cwmp:ID {env.id!r}, expected {rpc_id!r}")
            if env.method not in ("Fault", rpc.method + "Response") and rpc.method != "raw":
                self._violation(s, f"{env.method} answers {rpc.method}")
            if env.method == "Fault":
                for p in soapmsg.fault_shape_problems(env):
                    self._violation(s, f"fault answering {rpc.method}: {p}")
            value = soapmsg.parse_response(env)
            fault = value if env.method == "Fault" else None
            s.responses.append(CpeResponse(rpc, env.method, value, fault, env.raw,
                                           env.id == rpc_id))
            reply = self._next_rpc_or_end(s)
        return self._exchange(s, req, env, reply)

    def _next_rpc_or_end(self, s):
        """Caller holds the lock. Send the next queued RPC for this device, or 204; the 204
        ends the Session when the CPE has no more requests (TR-069 3.7.2.4)."""
        item = next((i for i in self._pending if i[1] in (None, s.serial)), None)
        if item is None:
            s.hold = False
            if s.cpe_done:
                self._end(s, True, "204")
            return _Reply(204)
        self._pending.remove(item)
        rpc = item[0]
        rpc_id = f"acs-{next(self._ids)}"
        s.outstanding, s.hold = (rpc, rpc_id), rpc.hold_requests
        ns = s.inform.ns if s.inform else soapmsg.DEFAULT_NS
        body = soapmsg.envelope(rpc.body, ns, rpc_id, rpc.hold_requests,
                                extra_headers=rpc.headers)
        return _Reply(200, body.encode(), rpc.method)

    def _exchange(self, s, req, env, reply):
        """Record one exchange of a Session."""
        ex = Exchange(env.raw if env else b"", env.method if env else None, reply.body,
                      reply.status, reply.acs_method, req)
        with self._cv:
            s.exchanges.append(ex)
            self._cv.notify_all()
        return reply

    def _validate(self, req):
        """Queue a non-empty CPE POST body for schema validation (worker thread)."""
        if not self.validator:
            return
        label = (f"{req.cpe_method or 'unparsable message'} POSTed to {req.path} "
                 f"(connection {req.conn_id}, {len(req.body)} bytes)")

        def done(errors):
            with self._cv:
                req.validation = errors
                if errors:
                    self.validation_errors.append((label, "\n".join(errors)))
        self.validator.submit(req.body, done)
