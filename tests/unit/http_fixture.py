#!/usr/bin/env python3
"""http_fixture.py: the test ACS-side HTTP server of tests/unit/test_http.c (TR-069 3.4).

Listens on 127.0.0.1, port 0, prints the port on stdout and serves until killed. Given
"CERT KEY" arguments (PEM) it also serves HTTPS on a second port and prints "PORT TLSPORT";
the TLS side asks for a client certificate it checks against CERT (optional). The first
path segment selects the behaviour; every successful request is answered with an "echo"
describing what arrived, so the C test can assert on the bytes the client really sent:

    conn=<id of the TCP connection>   (one id per accepted connection)
    method=<POST>
    path=<request path>
    encoding=<Content-Encoding or none>
    auth=<none|basic|digest>
    req=<number of this request on its TCP connection>
    client=<CN of the client certificate, or none>
    H <Header-Name>: <value>          (every request header, in order, as received)
    body=<the request body, gunzipped if it was sent gzip>

Modes:
    /echo                  echo
    /basic                 Basic auth cpe:secret required (401 + challenge otherwise)
    /digest                Digest MD5, qop=auth, cpe:secret, hash verified for real
    /digest-md5sess        same with algorithm=MD5-sess
    /digest-close          Digest MD5 whose nonce serves one request: a later POST gets a
                           401 (stale=true) with "Connection: close", then must come again
                           with a fresh nonce on a new connection
    /cookie                sets session=<n> if the request has no session cookie
    /redirect/N/...        N > 0: 301/302/307 (by N % 3) to /redirect/N-1/...; N = 0: echo
    /gzip-ok               echo (gzip bodies are decoded)
    /gzip-415              415 if the body is compressed, echo otherwise
    /slow                  waits 3 s, then echo
    /close                 echo with "Connection: close", then closes the connection
    /drop                  echo for the first request of a connection; any later request on
                           it is read, then the connection is closed without a byte of answer
    /big                   5 MiB body with Content-Length
    /big-stream            5 MiB body without length, ended by closing the connection
    /cookie-move           sets a session cookie and 302s to http://localhost:<PORT>/echo
    /downgrade             302 to http://127.0.0.1:<PORT>/echo (for the TLS side)
    /stats                 open=,<id>,<id>,...,  (the connections currently open), then a
                           line drop=<number of requests /drop has received>
"""
import base64
import gzip
import hashlib
import http.server
import os
import re
import ssl
import sys
import threading
import time

USER, PASSWORD = "cpe", "secret"
REALM = "acs-test"
BIG = 5 * 1024 * 1024

lock = threading.Lock()
counters = {"next_conn": 0, "next_cookie": 0, "drop": 0}
open_conns = set()
nonces = set()
plain_port = 0


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def parse_digest(header):
    """The key=value pairs of an Authorization: Digest header (quoted or not)."""
    pairs = re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', header[len("Digest "):])
    return {k: q if q else t for k, q, t in pairs}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with lock:
            counters["next_conn"] += 1
            self.conn_id = counters["next_conn"]
            open_conns.add(self.conn_id)
        self.requests = 0

    def finish(self):
        try:
            super().finish()
        finally:
            with lock:
                open_conns.discard(self.conn_id)

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.do_POST()

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.requests += 1
        self.auth = "none"
        mode = self.path.split("/")[1]
        handler = getattr(self, "mode_" + mode.replace("-", "_"), self.send_echo)
        handler(raw)

    # --- replies ---------------------------------------------------------------------------

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_echo(self, raw, headers=()):
        encoding = self.headers.get("Content-Encoding", "none")
        if encoding == "gzip":
            raw = gzip.decompress(raw)
        lines = ["conn=%d" % self.conn_id, "method=" + self.command, "path=" + self.path,
                 "encoding=" + encoding, "auth=" + self.auth, "req=%d" % self.requests,
                 "client=" + self.client_cn()]
        lines += ["H %s: %s" % (k, v) for k, v in self.headers.items()]
        text = "\n".join(lines).encode() + b"\nbody=" + raw
        self.reply(200, text, [("Content-Type", 'text/xml; charset="utf-8"')] + list(headers))

    def client_cn(self):
        getpeercert = getattr(self.connection, "getpeercert", None)
        cert = getpeercert() if getpeercert else None
        for rdn in (cert or {}).get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    return value
        return "none"

    # --- modes -----------------------------------------------------------------------------

    def mode_basic(self, raw):
        expected = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
        if self.headers.get("Authorization") != expected:
            return self.reply(401, b"", [("WWW-Authenticate", 'Basic realm="%s"' % REALM)])
        self.auth = "basic"
        self.send_echo(raw)

    def digest(self, raw, algorithm, one_shot=False):
        if not self.digest_valid(algorithm):
            nonce = os.urandom(16).hex()
            with lock:
                nonces.add(nonce)
            challenge = 'Digest realm="%s", qop="auth", nonce="%s", opaque="op", algorithm=%s'
            challenge %= (REALM, nonce, algorithm)
            if not one_shot:
                return self.reply(401, b"", [("WWW-Authenticate", challenge)])
            if self.headers.get("Authorization", "").startswith("Digest "):
                challenge += ", stale=true"
            self.close_connection = True
            return self.reply(401, b"", [("WWW-Authenticate", challenge),
                                         ("Connection", "close")])
        if one_shot:
            with lock:
                nonces.discard(parse_digest(self.headers["Authorization"])["nonce"])
        self.auth = "digest"
        self.send_echo(raw)

    def digest_valid(self, algorithm):
        """RFC 2617 3.2.2 with qop=auth, checked against the nonces this server issued."""
        header = self.headers.get("Authorization", "")
        if not header.startswith("Digest "):
            return False
        f = parse_digest(header)
        with lock:
            known = f.get("nonce") in nonces
        if not known or f.get("username") != USER or f.get("qop") != "auth":
            return False
        if f.get("uri") != self.path or f.get("algorithm", "MD5").lower() != algorithm.lower():
            return False
        ha1 = md5("%s:%s:%s" % (USER, REALM, PASSWORD))
        if algorithm == "MD5-sess":
            ha1 = md5("%s:%s:%s" % (ha1, f["nonce"], f["cnonce"]))
        ha2 = md5("%s:%s" % (self.command, self.path))
        expect = md5(":".join([ha1, f["nonce"], f["nc"], f["cnonce"], "auth", ha2]))
        return f.get("response") == expect

    def mode_digest(self, raw):
        self.digest(raw, "MD5")

    def mode_digest_md5sess(self, raw):
        self.digest(raw, "MD5-sess")

    def mode_digest_close(self, raw):
        self.digest(raw, "MD5", one_shot=True)

    def mode_cookie(self, raw):
        if "session=" in self.headers.get("Cookie", ""):
            return self.send_echo(raw)
        with lock:
            counters["next_cookie"] += 1
            value = counters["next_cookie"]
        self.send_echo(raw, [("Set-Cookie", "session=s%d; Path=/" % value)])

    def mode_redirect(self, raw):
        parts = self.path.split("/")
        hops = int(parts[2])
        if hops == 0:
            return self.send_echo(raw)
        parts[2] = str(hops - 1)
        status = (301, 302, 307)[hops % 3]
        # A non-empty body on a redirect must be ignored by the client (TR-069 3.4.2).
        self.reply(status, b"ignore me", [("Location", "/".join(parts))])

    def mode_gzip_415(self, raw):
        if "Content-Encoding" in self.headers:
            return self.reply(415)
        self.send_echo(raw)

    def mode_slow(self, raw):
        time.sleep(3)
        self.send_echo(raw)

    def mode_close(self, raw):
        self.close_connection = True
        self.send_echo(raw, [("Connection", "close")])

    def mode_drop(self, raw):
        with lock:
            counters["drop"] += 1
        if self.requests == 1:
            return self.send_echo(raw)
        self.close_connection = True

    def mode_big(self, raw):
        try:
            self.reply(200, b"x" * BIG, [("Content-Type", "text/xml")])
        except OSError:
            self.close_connection = True  # the client gave up, as it should

    def mode_big_stream(self, raw):
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"y" * 65536
        try:
            for _ in range(BIG // len(chunk)):
                self.wfile.write(chunk)
        except OSError:
            pass  # the client gave up, as it should

    def mode_cookie_move(self, raw):
        self.reply(302, b"", [("Set-Cookie", "session=moved; Path=/"),
                              ("Location", "http://localhost:%d/echo" % plain_port)])

    def mode_downgrade(self, raw):
        self.reply(302, b"", [("Location", "http://127.0.0.1:%d/echo" % plain_port)])

    def mode_stats(self, raw):
        with lock:
            text = "open=," + ",".join(str(i) for i in sorted(open_conns)) + ","
            text += "\ndrop=%d" % counters["drop"]
        self.reply(200, text.encode(), [("Content-Type", "text/plain")])


def serve(server):
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def main():
    global plain_port
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    plain_port = plain.server_address[1]
    ports = [str(plain_port)]
    if len(sys.argv) == 3:
        tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[1], sys.argv[2])
        ctx.load_verify_locations(sys.argv[1])
        ctx.verify_mode = ssl.CERT_OPTIONAL
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
        ports.append(str(tls.server_address[1]))
        serve(tls)
    print(" ".join(ports), flush=True)
    serve(plain).join()


if __name__ == "__main__":
    sys.exit(main())
