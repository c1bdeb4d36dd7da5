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
  - with `silent`, records but never answers (retransmission tests).
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

    def __repr__(self):
        return (f"Request({self.txid.hex()[:8]} crb={self.connection_request_binding} "
                f"change={self.binding_change} user={self.username!r} mi={self.integrity})")


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
        self.requests = []
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
                self.requests.append(req)
            if not self.silent and req.kind == BINDING_REQUEST:
                self.sock.sendto(self._answer(req), source)

    def _answer(self, req):
        if self.require_integrity and not req.integrity:
            code = 401 if req.integrity is None else 431
            reason = b"Unauthorized" if code == 401 else b"Integrity Check Failure"
            value = struct.pack("!HBB", 0, code // 100, code % 100) + reason
            value += b" " * (-len(value) % 4)
            return _message(BINDING_ERROR, req.txid, [_attr(ERROR_CODE, value)])
        host, port = self.mapped or req.source
        mapped = struct.pack("!BBH", 0, 1, port) + socket.inet_aton(host)
        key = self.password if req.integrity else None
        return _message(BINDING_RESPONSE, req.txid, [_attr(MAPPED_ADDRESS, mapped)], key)
