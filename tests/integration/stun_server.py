"""A small classic STUN server (RFC 3489 Binding only) for the Annex G tests, Python stdlib.

Debian 12 packages coturn (no `stun-server`/stund); it answers Binding Requests but cannot
record the TR-069 attributes it receives, pretend another mapped address or ask for message
integrity on demand, which is what these tests need. So this one:
  - records every request: transaction ID, CONNECTION-REQUEST-BINDING (0xC001, with the
    exact TR-069 Table 107 value), BINDING-CHANGE (0xC002), USERNAME, whether it carried a
    MESSAGE-INTEGRITY and whether that was right for `password`;
  - answers with MAPPED-ADDRESS = the real source, or `mapped` = (host, port) if set;
  - with `require_integrity`, answers a request without MESSAGE-INTEGRITY with a Binding
    Error Response 401 and one with a wrong one with 431, and signs its own responses
    (RFC 3489 11.2.8: HMAC-SHA1 over the message before the attribute, zero-padded to a
    multiple of 64 bytes, with the final length in the header);
  - with `silent`, records but never answers (retransmission tests);
  - honours RESPONSE-ADDRESS (RFC 3489 8.2: the response goes there, with REFLECTED-FROM =
    the request's source), which the CPE uses to test its binding from a secondary port
    (TR-069 G.2.1.2), unless `ignore_response_address` (as an RFC 5389 server would);
  - with `nat = Nat(...)`, plays a NAT in front of its clients as well: each client port is
    seen through a public port that an outgoing packet (a request) keeps alive for
    `timeout` seconds; the mapped address is the public one, a response to a public port
    whose binding timed out is dropped (recorded in `dropped`), and the next request from
    that client gets a new public port.
"""
import hashlib
import hmac
import socket
import struct
import threading
import time

BINDING_REQUEST = 0x0001
BINDING_RESPONSE = 0x0101
BINDING_ERROR = 0x0111
MAPPED_ADDRESS = 0x0001
RESPONSE_ADDRESS = 0x0002
REFLECTED_FROM = 0x000B
USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
CONNECTION_REQUEST_BINDING = 0xC001
BINDING_CHANGE = 0xC002
CRB_VALUE = b"dslforum.org/TR-111 "


def _integrity(text, key):
    padded = text + b"\0" * (-len(text) % 64)
    return hmac.new(key.encode(), padded, hashlib.sha1).digest()


def _attr(kind, value):
    return struct.pack("!HH", kind, len(value)) + value


def _address(host, port):
    return struct.pack("!BBH", 0, 1, port) + socket.inet_aton(host)


def _parse_address(value):
    if value is None or len(value) != 8 or value[1] != 1:
        return None
    return socket.inet_ntoa(value[4:8]), struct.unpack("!H", value[2:4])[0]


class Nat:
    """Public ports on `public_host` for client sources; a binding lives `timeout` seconds
    after the last packet the client sent through it (RFC 4787 4.3: inbound packets do not
    refresh it)."""

    def __init__(self, timeout, public_host="203.0.113.7", first_port=40000):
        self.timeout = timeout
        self.public_host = public_host
        self._next_port = first_port
        self._by_source = {}  # source -> [public port, time of the last outgoing packet]
        self._by_port = {}    # public port -> source

    def _alive(self, entry):
        return time.monotonic() - entry[1] <= self.timeout

    def outgoing(self, source):
        """A packet from source leaves: its public address, refreshed or new."""
        entry = self._by_source.get(source)
        if entry is None or not self._alive(entry):
            entry = [self._next_port, 0.0]
            self._next_port += 1
            self._by_source[source] = entry
            self._by_port[entry[0]] = source
        entry[1] = time.monotonic()
        return self.public_host, entry[0]

    def incoming(self, public):
        """The client a packet to public reaches, or None if that binding is gone."""
        host, port = public
        source = self._by_port.get(port)
        entry = self._by_source.get(source)
        if host != self.public_host or entry is None or entry[0] != port:
            return None
        return source if self._alive(entry) else None


def _message(kind, txid, attrs, key=None):
    body = b"".join(attrs)
    if key is None:
        return struct.pack("!HH", kind, len(body)) + txid + body
    head = struct.pack("!HH", kind, len(body) + 24) + txid
    return head + body + _attr(MESSAGE_INTEGRITY, _integrity(head + body, key))


class Request:
    """One received Binding Request."""

    def __init__(self, data, source, password):
        self.time = time.monotonic()
        self.source = source
        self.public = source  # the source as the server sees it (through `nat`)
        self.raw = data
        kind, length = struct.unpack("!HH", data[:4])
        self.kind = kind
        self.txid = data[4:20]
        self.attrs = []            # [(type, value)] in order, up to MESSAGE-INTEGRITY
        self.integrity = None      # None = absent, else True/False (right for password)
        at = 20
        while at + 4 <= len(data):
            t, n = struct.unpack("!HH", data[at:at + 4])
            value = data[at + 4:at + 4 + n]
            if t == MESSAGE_INTEGRITY:
                self.integrity = password is not None and hmac.compare_digest(
                    value, _integrity(data[:at], password))
                break
            self.attrs.append((t, value))
            at += 4 + n

    def attr(self, kind):
        for t, v in self.attrs:
            if t == kind:
                return v
        return None

    @property
    def connection_request_binding(self):
        return self.attr(CONNECTION_REQUEST_BINDING) == CRB_VALUE

    @property
    def binding_change(self):
        return self.attr(BINDING_CHANGE) is not None

    @property
    def username(self):
        v = self.attr(USERNAME)
        return None if v is None else v.decode()

    @property
    def response_address(self):
        return _parse_address(self.attr(RESPONSE_ADDRESS))

    def __repr__(self):
        return (f"Request({self.txid.hex()[:8]} crb={self.connection_request_binding} "
                f"change={self.binding_change} user={self.username!r} mi={self.integrity} "
                f"ra={self.response_address} from={self.source} public={self.public})")


class StunServer:
    def __init__(self, host="127.0.0.1", password=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.password = password
        self.mapped = None          # (host, port) to report instead of the real source
        self.require_integrity = False
        self.silent = False
        self.nat = None             # a Nat in front of the clients
        self.ignore_response_address = False
        self.requests = []
        self.dropped = []           # (request, destination) of responses a NAT dropped
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def received(self):
        with self._lock:
            return list(self.requests)

    def _run(self):
        while not self._stop.is_set():
            try:
                data, source = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(data) < 20 or data[0] > 1:
                continue
            req = Request(data, source, self.password)
            with self._lock:
                if self.nat:
                    req.public = self.nat.outgoing(source)
                self.requests.append(req)
            if not self.silent and req.kind == BINDING_REQUEST:
                to = None if self.ignore_response_address else req.response_address
                self._send(req, self._answer(req), to or req.public)

    def _send(self, req, data, dest):
        """dest as the server sees it: through the NAT, if any, to the client behind it."""
        with self._lock:
            client = self.nat.incoming(dest) if self.nat else dest
            if client is None:
                self.dropped.append((req, dest))
                return
        self.sock.sendto(data, client)

    def _answer(self, req):
        if self.require_integrity and not req.integrity:
            code = 401 if req.integrity is None else 431
            reason = b"Unauthorized" if code == 401 else b"Integrity Check Failure"
            value = struct.pack("!HBB", 0, code // 100, code % 100) + reason
            value += b" " * (-len(value) % 4)
            return _message(BINDING_ERROR, req.txid, [_attr(ERROR_CODE, value)])
        attrs = [_attr(MAPPED_ADDRESS, _address(*(self.mapped or req.public)))]
        if req.response_address:
            attrs.append(_attr(REFLECTED_FROM, _address(*req.public)))
        key = self.password if req.integrity else None
        return _message(BINDING_RESPONSE, req.txid, attrs, key)
