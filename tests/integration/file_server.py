"""A real HTTP(S) file server on 127.0.0.1 for the file transfer tests (TR-069 A.3.2.8,
A.4.1.5, 3.4.3), Python standard library only (+ the `openssl` command for HTTPS).

    fs = FileServer(auth=None | "basic" | "digest", username="fsuser", password="fspass",
                    tls=False).start()
    fs.files["/fw.bin"] = b"..."          # served on GET fs.url("/fw.bin")
    fs.slow["/fw.bin"] = 0.2              # seconds between 1 KiB chunks
    fs.truncate["/fw.bin"] = 100          # announce the whole length, send 100 bytes, close
    fs.lie_length["/fw.bin"] = 5000       # Content-Length 5000 for a shorter body, then close
    fs.uploads                            # [(path, headers, body)] of every PUT
    fs.gets                               # [(path, auth scheme or None)] of every GET
    fs.get_times                          # [(path, time.time())] of every GET
    fs.ca_file                            # the test CA (tls=True): give it to acs.ca_file
    fs.stop()

Digest (RFC 7616, MD5, qop=auth) is verified for real: the response hash is recomputed from
the password and compared; a wrong one gets 401 again. Missing files are 404.
"""
import base64
import hashlib
import os
import secrets
import ssl
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_test_ca(directory):
    """A CA and a server certificate for 127.0.0.1 made with openssl; returns
    (ca_file, cert_file, key_file)."""
    ca_key, ca_crt = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
    key, csr, crt = (os.path.join(directory, n) for n in ("srv.key", "srv.csr", "srv.pem"))
    ext = os.path.join(directory, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt,
        "-days", "2", "-subj", "/CN=proxierd test file CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
        "-out", crt, "-days", "2", "-extfile", ext)
    return ca_crt, crt, key


class FileServer:
    def __init__(self, auth=None, username="fsuser", password="fspass", tls=False):
        self.auth = auth
        self.username = username
        self.password = password
        self.tls = tls
        self.files = {}
        self.slow = {}
        self.truncate = {}
        self.lie_length = {}
        self.uploads = []
        self.gets = []
        self.get_times = []
        self.realm = "files@proxier-test"
        self.nonces = set()
        self.ca_file = None
        self._dir = tempfile.mkdtemp(prefix="fileserver-")
        self._server = None

    # -- life cycle --
    def start(self):
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        if self.tls:
            self.ca_file, cert, key = make_test_ca(self._dir)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def url(self, path):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    # -- authentication --
    def check_auth(self, header, method, uri):
        """None if the request may proceed, else the WWW-Authenticate challenge."""
        if not self.auth:
            return None
        if self.auth == "basic":
            want = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            if header == f"Basic {want}":
                return None
            return f'Basic realm="{self.realm}"'
        if header and header.startswith("Digest ") and self._digest_ok(header[7:], method, uri):
            return None
        nonce = secrets.token_hex(16)
        self.nonces.add(nonce)
        return f'Digest realm="{self.realm}", qop="auth", nonce="{nonce}", algorithm=MD5'

    def _digest_ok(self, text, method, uri):
        fields = {}
        for part in _split_params(text):
            k, _, v = part.partition("=")
            fields[k.strip()] = v.strip().strip('"')
        if fields.get("username") != self.username or fields.get("nonce") not in self.nonces:
            return False
        if fields.get("uri") != uri or fields.get("realm") != self.realm:
            return False
        md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
        ha1 = md5(f"{self.username}:{self.realm}:{self.password}")
        ha2 = md5(f"{method}:{uri}")
        want = md5(f"{ha1}:{fields['nonce']}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:"
                   f"{fields.get('qop', '')}:{ha2}")
        return secrets.compare_digest(want, fields.get("response", ""))


def _split_params(text):
    out, cur, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return out


def _make_handler(fs):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def _challenge(self):
            challenge = fs.check_auth(self.headers.get("Authorization"), self.command,
                                      self.path)
            if challenge is None:
                return False
            self.send_response(401)
            self.send_header("WWW-Authenticate", challenge)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True

        def do_GET(self):
            auth = self.headers.get("Authorization")
            fs.gets.append((self.path, auth.split()[0] if auth else None))
            fs.get_times.append((self.path, time.time()))
            if self._challenge():
                return
            body = fs.files.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            length = fs.lie_length.get(self.path, len(body))
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(length))
            self.end_headers()
            send = body[:fs.truncate[self.path]] if self.path in fs.truncate else body
            delay = fs.slow.get(self.path, 0)
            try:
                for i in range(0, len(send), 1024):
                    self.wfile.write(send[i:i + 1024])
                    self.wfile.flush()
                    if delay:
                        time.sleep(delay)
            except OSError:
                return
            if self.path in fs.truncate or length != len(body):
                self.close_connection = True   # close mid-body

        def do_PUT(self):
            if self._challenge():
                # the body may already be on its way: read it so the connection stays sane
                self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                return
            n = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(n)
            fs.uploads.append((self.path, dict(self.headers), body))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler
