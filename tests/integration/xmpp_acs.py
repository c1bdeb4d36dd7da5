"""A minimal XMPP client that plays the ACS of TR-069 Annex K: it logs in to a server
(RFC 6120: STARTTLS with certificate verification, SASL PLAIN, resource binding) and sends
connectionRequest IQs (Figure 19), returning the CPE's answer. Python standard library only.

    acs = XmppAcs("127.0.0.1", port, "acs@localhost/acs-1", "acspass", ca_file).connect()
    reply = acs.connection_request("cpe@localhost/cwmp", "cruser", "crpass")
    reply.type             # "result" or "error"
    reply.condition        # None, "not-authorized", "service-unavailable", ...
    reply.code             # the error's code attribute ("503") or None
    reply.raw              # the stanza as text
    iq_id = acs.send_connection_request("cpe@localhost/cwmp", "cruser", "crpass")
    acs.has_reply(iq_id)   # False while (or if never) answered
    acs.close()
"""
import base64
import itertools
import queue
import socket
import ssl
import threading
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

NS_STREAM = "http://etherx.jabber.org/streams"
NS_CLIENT = "jabber:client"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_CR = "urn:broadband-forum-org:cwmp:xmppConnReq-1-0"


class Reply:
    def __init__(self, elem):
        self.elem = elem
        self.type = elem.get("type")
        self.raw = ET.tostring(elem, encoding="unicode")
        self.condition = None
        self.code = None
        err = elem.find(f"{{{NS_CLIENT}}}error")
        if err is not None:
            self.code = err.get("code")
            for child in err:
                if child.tag.startswith(f"{{{NS_STANZAS}}}") and not child.tag.endswith("}text"):
                    self.condition = child.tag.split("}", 1)[1]
        payload = elem.find(f"{{{NS_CR}}}connectionRequest")
        self.echoed = payload is not None

    def __repr__(self):
        return f"Reply({self.raw})"


class _Stream:
    """Incremental parser of one XML stream: yields top-level elements (stanzas)."""

    def __init__(self):
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.root = None

    def feed(self, data):
        self.parser.feed(data)
        out = []
        for event, elem in self.parser.read_events():
            if event == "start":
                if self.depth == 0:
                    self.root = elem
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth == 1:
                    out.append(elem)
                    self.root.remove(elem)
        return out


class XmppAcs:
    def __init__(self, host, port, jid, password, ca_file, timeout=10.0):
        self.host, self.port = host, port
        self.bare, _, self.resource = jid.partition("/")
        self.user, _, self.domain = self.bare.partition("@")
        self.password = password
        self.ca_file = ca_file
        self.timeout = timeout
        self.sock = None
        self.jid = None
        self.ids = itertools.count(1)
        self.replies = {}
        self.cond = threading.Condition()
        self.inbox = queue.Queue()   # stanzas that are not replies to us
        self.reader = None
        self.closed = False

    # ---- login ----
    def _send(self, text):
        self.sock.sendall(text.encode())

    def _open_stream(self):
        self.stream = _Stream()
        self.pending = []
        self._send("<?xml version='1.0'?><stream:stream to=%s xmlns='jabber:client' "
                   "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
                   % quoteattr(self.domain))

    def _next(self, deadline):
        while not self.pending:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("server closed the stream")
            self.pending.extend(self.stream.feed(data))
        return self.pending.pop(0)

    def _expect(self, tag, deadline):
        elem = self._next(deadline)
        if elem.tag != tag:
            raise ConnectionError(f"expected {tag}, got {ET.tostring(elem, encoding='unicode')}")
        return elem

    def connect(self):
        deadline = time.monotonic() + self.timeout
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self._open_stream()
        self._expect(f"{{{NS_STREAM}}}features", deadline)
        self._send(f"<starttls xmlns='{NS_TLS}'/>")
        self._expect(f"{{{NS_TLS}}}proceed", deadline)
        ctx = ssl.create_default_context(cafile=self.ca_file)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=self.domain)
        self._open_stream()
        self._expect(f"{{{NS_STREAM}}}features", deadline)
        token = base64.b64encode(f"\0{self.user}\0{self.password}".encode()).decode()
        self._send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{token}</auth>")
        self._expect(f"{{{NS_SASL}}}success", deadline)
        self._open_stream()
        self._expect(f"{{{NS_STREAM}}}features", deadline)
        self._send(f"<iq type='set' id='bind'><bind xmlns='{NS_BIND}'><resource>"
                   f"{escape(self.resource)}</resource></bind></iq>")
        reply = self._expect(f"{{{NS_CLIENT}}}iq", deadline)
        self.jid = reply.findtext(f".//{{{NS_BIND}}}jid")
        if reply.get("type") != "result" or not self.jid:
            raise ConnectionError("bind failed: " + ET.tostring(reply, encoding="unicode"))
        self._send("<presence/>")
        self.sock.settimeout(None)
        leftovers = self.pending
        self.reader = threading.Thread(target=self._read_loop, args=(leftovers,), daemon=True)
        self.reader.start()
        return self

    # ---- after login ----
    def _dispatch(self, elem):
        if elem.tag == f"{{{NS_CLIENT}}}iq" and elem.get("type") in ("result", "error"):
            with self.cond:
                self.replies[elem.get("id")] = elem
                self.cond.notify_all()
        else:
            self.inbox.put(elem)

    def _read_loop(self, leftovers):
        for elem in leftovers:
            self._dispatch(elem)
        sock = self.sock
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                for elem in self.stream.feed(data):
                    self._dispatch(elem)
        except (OSError, ET.ParseError):
            pass
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def send_iq(self, to, payload, type_="get"):
        """Send an IQ without waiting; returns its id (see reply, has_reply)."""
        iq_id = f"cr{next(self.ids):03d}"
        self._send(f"<iq from={quoteattr(self.jid)} to={quoteattr(to)} id='{iq_id}' "
                   f"type='{type_}'>{payload}</iq>")
        return iq_id

    def has_reply(self, iq_id):
        with self.cond:
            return iq_id in self.replies

    def iq(self, to, payload, type_="get", timeout=None):
        """Send an IQ; returns the Reply (AssertionError on timeout)."""
        return self.reply(self.send_iq(to, payload, type_), to, timeout)

    def reply(self, iq_id, to="the CPE", timeout=None):
        """Wait for the answer to iq_id; returns the Reply (AssertionError on timeout)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        with self.cond:
            while iq_id not in self.replies:
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise AssertionError(f"no reply to IQ {iq_id} sent to {to}")
                self.cond.wait(left)
            return Reply(self.replies.pop(iq_id))

    @staticmethod
    def _cr_payload(username, password):
        """Figure 19 of TR-069 Annex K."""
        return (f"<connectionRequest xmlns='{NS_CR}'><username>{escape(username)}</username>"
                f"<password>{escape(password)}</password></connectionRequest>")

    def connection_request(self, to, username, password, type_="get", timeout=None):
        return self.iq(to, self._cr_payload(username, password), type_, timeout)

    def send_connection_request(self, to, username, password, type_="get"):
        return self.send_iq(to, self._cr_payload(username, password), type_)

    def close(self):
        if self.sock is None:
            return
        try:
            self._send("</stream:stream>")
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.sock = None
