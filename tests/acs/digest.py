"""Server side of HTTP Basic (RFC 7617) and Digest (RFC 2617 / RFC 7616: MD5, MD5-sess,
qop=auth, nonce-count check) authentication, as the test ACS challenges the CPE
(TR-069 3.4.4, 3.4.5: a new nonce for each TCP connection, qop "auth", MD5 and MD5-sess),
and the client side of a connection request as GenieACS makes it (genieacs_authorization).
"""
import base64
import dataclasses
import hashlib
import re
import secrets
import threading

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*)\s*,?')


@dataclasses.dataclass
class AuthResult:
    """Outcome of checking one Authorization header. same_connection: for Digest, whether
    the answer came on the TCP connection that received the challenge (TR-069 3.4.2)."""
    scheme: str | None
    ok: bool
    username: str | None = None
    reason: str = ""
    same_connection: bool | None = None
    stale: bool = False      # right password, but an unknown or replayed nonce/nc


def parse_params(text):
    """{name (lower case): value} of a Digest header's comma-separated parameters."""
    out = {}
    for m in _PARAM.finditer(text):
        value = m.group(3) if m.group(3) is not None else m.group(2)
        out[m.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
    return out


def _md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def digest_response(username, password, realm, method, uri, nonce, nc, cnonce,
                    qop="auth", algorithm="MD5"):
    """The request-digest of RFC 2617 3.2.2.1 (also used by test clients)."""
    ha1 = _md5(f"{username}:{realm}:{password}")
    if algorithm.lower() == "md5-sess":
        ha1 = _md5(f"{ha1}:{nonce}:{cnonce}")
    ha2 = _md5(f"{method}:{uri}")
    if not qop:
        return _md5(f"{ha1}:{nonce}:{ha2}")
    return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


class Authenticator:
    """Checks the CPE's credentials. scheme: "basic", "digest" or "digest-md5sess"."""

    def __init__(self, scheme, username, password, realm="proxier-test-acs"):
        if scheme not in ("basic", "digest", "digest-md5sess"):
            raise ValueError(f"unknown auth scheme {scheme!r}")
        self.scheme, self.username, self.password, self.realm = \
            scheme, username, password, realm
        self.algorithm = "MD5-sess" if scheme == "digest-md5sess" else "MD5"
        self._nonces = {}   # nonce -> [connection id, last nonce-count]
        self._lock = threading.Lock()

    def challenge(self, conn_id, stale=False):
        """WWW-Authenticate value; Digest issues a fresh nonce bound to conn_id. stale=true
        tells the client its password was right but the nonce must be renewed (RFC 7616)."""
        if self.scheme == "basic":
            return f'Basic realm="{self.realm}"'
        nonce = secrets.token_hex(16)
        with self._lock:
            self._nonces[nonce] = [conn_id, 0]
        return (f'Digest realm="{self.realm}", qop="auth", nonce="{nonce}", '
                f'opaque="{secrets.token_hex(8)}", algorithm={self.algorithm}'
                + (", stale=true" if stale else ""))

    def check(self, method, path, header, conn_id):
        """AuthResult for an Authorization header (None = absent)."""
        if not header:
            return AuthResult(None, False, reason="no Authorization header")
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() == "basic":
            return self._check_basic(rest)
        if scheme.lower() == "digest":
            return self._check_digest(method, path, parse_params(rest), conn_id)
        return AuthResult(scheme, False, reason=f"unsupported scheme {scheme}")

    def _check_basic(self, token):
        if self.scheme != "basic":
            return AuthResult("Basic", False, reason="Basic sent, Digest was demanded")
        try:
            user, _, password = base64.b64decode(token.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return AuthResult("Basic", False, reason="malformed Basic credentials")
        ok = user == self.username and password == self.password
        return AuthResult("Basic", ok, user, "" if ok else "wrong username or password")

    def _check_digest(self, method, path, p, conn_id):
        user = p.get("username")
        if self.scheme == "basic":
            return AuthResult("Digest", False, user, "Digest sent, Basic was demanded")
        missing = [k for k in ("username", "realm", "nonce", "uri", "response", "qop", "nc",
                               "cnonce") if k not in p]
        if missing:
            return AuthResult("Digest", False, user,
                              f"Digest parameters missing: {', '.join(missing)}")
        reason = self._digest_problem(method, path, p)
        with self._lock:
            state = self._nonces.get(p["nonce"])
            same = state is not None and state[0] == conn_id
            if not reason and state is None:
                return AuthResult("Digest", False, user, "nonce was not issued by this ACS",
                                  same, stale=True)
            if not reason and int(p["nc"], 16) <= state[1]:
                return AuthResult("Digest", False, user,
                                  f"nonce-count {p['nc']} not increasing (replay)", same, True)
            if not reason:
                state[1] = int(p["nc"], 16)
        return AuthResult("Digest", not reason, user, reason, same)

    def _digest_problem(self, method, path, p):
        """Why the Digest answer is wrong, "" if it is right (nonce freshness aside)."""
        if not re.fullmatch(r"[0-9a-fA-F]{8}", p["nc"]):
            return f"bad nc {p['nc']!r}"
        if p["qop"] != "auth":
            return f"qop {p['qop']!r} is not auth"
        if p.get("algorithm", "MD5").lower() != self.algorithm.lower():
            return f"algorithm {p.get('algorithm')} is not {self.algorithm}"
        if p["realm"] != self.realm or not (p["uri"] == path or p["uri"].endswith(path)):
            return f"realm {p['realm']!r} or uri {p['uri']!r} do not match"
        if p["username"] != self.username:
            return f"unknown user {p['username']!r}"
        want = digest_response(self.username, self.password, self.realm, method, p["uri"],
                               p["nonce"], p["nc"], p["cnonce"], p["qop"], self.algorithm)
        return "" if secrets.compare_digest(want, p["response"].lower()) else \
            "wrong response digest"

def authorization(challenge, method, uri, username, password, nc=1, cnonce=None):
    """Client side: the Authorization value answering a WWW-Authenticate `challenge`
    (Basic, or Digest with qop=auth and MD5/MD5-sess) for request nc of this nonce."""
    scheme, _, rest = challenge.strip().partition(" ")
    if scheme.lower() == "basic":
        return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    p = parse_params(rest)
    algorithm, ncs = p.get("algorithm", "MD5"), f"{nc:08x}"
    cnonce = cnonce or secrets.token_hex(8)
    resp = digest_response(username, password, p["realm"], method, uri, p["nonce"], ncs,
                           cnonce, "auth", algorithm)
    opaque = f', opaque="{p["opaque"]}"' if "opaque" in p else ""
    return (f'Digest username="{username}", realm="{p["realm"]}", nonce="{p["nonce"]}", '
            f'uri="{uri}", algorithm={algorithm}, qop=auth, nc={ncs}, cnonce="{cnonce}", '
            f'response="{resp}"{opaque}')


# ---- The client side as GenieACS has it (Node.js header handling + its own parser) --------
# Written from the observed behaviour (interop/acs-behaviour.md 1.6, issue 7 of the project):
# Node.js joins repeated response headers into one value, ", " between them; GenieACS splits
# that value at the commas outside quotes into name=value pairs, a later pair overwriting an
# earlier one of the same name, and computes the response with MD5 whatever algorithm= says,
# echoing algorithm= back. Offered "MD5 then SHA-256", it reads the SHA-256 challenge's
# algorithm and sends an MD5 response labelled SHA-256.

def node_join(values):
    """One header value from the repeated ones, as Node.js's IncomingMessage joins them."""
    return ", ".join(values)


def genieacs_parse(value):
    """(scheme, {name: value}) of a WWW-Authenticate value, as GenieACS reads it: the first
    word is the scheme, the rest name=value pairs split at commas outside double quotes, the
    last value of each name kept. Names are kept as they stand before "=" (trimmed), so in a
    merged value the second challenge's "Digest realm" is a name of its own."""
    scheme, _, rest = value.strip().partition(" ")
    pieces, current, quoted, escaped = [], "", False, False
    for ch in rest:
        if ch == "," and not quoted:
            pieces.append(current)
            current = ""
            continue
        current += ch
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
    pieces.append(current)
    params = {}
    for piece in pieces:
        name, eq, text = piece.partition("=")
        if not eq:
            continue
        text = text.strip()
        if len(text) >= 2 and text[0] == text[-1] == '"':
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        params[name.strip()] = text
    return scheme, params


def genieacs_authorization(value, method, uri, username, password, nc=1, cnonce=None):
    """The Authorization GenieACS sends for a (merged) WWW-Authenticate value: Basic if the
    scheme is Basic, else Digest hashed with MD5 (its only algorithm), qop=auth, algorithm=
    echoed as parsed."""
    scheme, p = genieacs_parse(value)
    if scheme.lower() == "basic":
        return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    ncs, cnonce = f"{nc:08x}", cnonce or secrets.token_hex(8)
    ha1 = _md5(f"{username}:{p.get('realm', '')}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    response = _md5(f"{ha1}:{p.get('nonce', '')}:{ncs}:{cnonce}:auth:{ha2}")
    fields = [f'username="{username}"', f'realm="{p.get("realm", "")}"',
              f'nonce="{p.get("nonce", "")}"', f'uri="{uri}"']
    if "algorithm" in p:
        fields.append(f"algorithm={p['algorithm']}")
    fields += ["qop=auth", f"nc={ncs}", f'cnonce="{cnonce}"', f'response="{response}"']
    if "opaque" in p:
        fields.append(f'opaque="{p["opaque"]}"')
    return "Digest " + ",".join(fields)
