"""CWMP SOAP messages of the test ACS: builders for ACS->CPE envelopes (requests, responses,
faults) and parsers for CPE->ACS envelopes (TR-069 3.5 "Use of SOAP", Annex A).

Builders return text; RPC helpers return an `Rpc` (method name + Body XML with the `cwmp:`
prefix) that the ACS wraps in an envelope of the namespace the CPE used. Parsers use
xml.etree and turn each CPE message into plain Python values (see `parse_response`).
"""
import dataclasses
import io
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
CWMP_PREFIX = "urn:dslforum-org:cwmp-"
CWMP_NAMESPACES = ("urn:dslforum-org:cwmp-1-0", "urn:dslforum-org:cwmp-1-1",
                   "urn:dslforum-org:cwmp-1-2")
DEFAULT_NS = "urn:dslforum-org:cwmp-1-2"

# TR-069 A.5.1 ACS fault codes.
ACS_FAULTS = {8000: "Method not supported", 8001: "Request denied", 8002: "Internal error",
              8003: "Invalid arguments", 8004: "Resources exceeded", 8005: "Retry request",
              8006: "Unsupported CWMP version"}
# Methods this ACS answers (TR-069 A.4.1); the reply to GetRPCMethods.
ACS_METHODS = ("Inform", "GetRPCMethods", "TransferComplete", "AutonomousTransferComplete",
               "DUStateChangeComplete", "AutonomousDUStateChangeComplete", "Kicked",
               "RequestDownload")


class SoapError(ValueError):
    """The CPE message is not well-formed XML or not a SOAP envelope with one Body child."""


@dataclasses.dataclass
class Rpc:
    """One ACS->CPE request: `method` (e.g. "GetParameterValues") and `body`, the XML of
    the Body child written with the `cwmp:` prefix. hold_requests adds the (deprecated)
    HoldRequests header (TR-069 3.5 Table 4); headers is raw extra Header XML (hostile or
    unusual headers)."""
    method: str
    body: str
    hold_requests: bool = False
    headers: str = ""


@dataclasses.dataclass
class Fault:
    """A CWMP fault (TR-069 3.5): code, string, and for SetParameterValues the list of
    (parameter name, code, string)."""
    code: int
    string: str
    spv_faults: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Envelope:
    """A parsed CPE message. method = local name of the Body child ("Fault" for a SOAP
    Fault, None for an envelope with an empty Body); headers = local name -> text."""
    ns: str | None
    id: str | None
    headers: dict
    method: str | None
    body: ET.Element | None
    prefixes: dict
    raw: bytes

    @property
    def is_request(self):
        return self.method is not None and self.method != "Fault" and \
            not self.method.endswith("Response")


@dataclasses.dataclass
class Inform:
    """A parsed Inform (TR-069 A.3.3.1)."""
    device_id: dict
    events: list            # [(event code, command key)]
    max_envelopes: int
    current_time: str
    retry_count: int
    parameters: dict        # name -> (value, type such as "xsd:string")
    headers: dict           # SOAP headers, e.g. "SupportedCWMPVersions", "SessionTimeout"
    ns: str
    id: str | None
    raw: bytes

    @property
    def event_codes(self):
        return [code for code, _ in self.events]

    @property
    def serial(self):
        return self.device_id.get("SerialNumber")


# ---------------------------------------------------------------------------------------
# Building ACS -> CPE messages

def _text(value):
    return escape(str(value))


def envelope(body, ns=DEFAULT_NS, msg_id=None, hold_requests=False, use_cwmp_version=None,
             extra_headers=""):
    """A whole SOAP envelope around `body` (Body child XML using the `cwmp:` prefix);
    extra_headers is raw XML added to the Header."""
    headers = [extra_headers] if extra_headers else []
    if msg_id is not None:
        headers.append(f'<cwmp:ID soap-env:mustUnderstand="1">{_text(msg_id)}</cwmp:ID>')
    if hold_requests:
        headers.append('<cwmp:HoldRequests soap-env:mustUnderstand="1">1</cwmp:HoldRequests>')
    if use_cwmp_version:
        headers.append('<cwmp:UseCWMPVersion soap-env:mustUnderstand="1">'
                       f'{_text(use_cwmp_version)}</cwmp:UseCWMPVersion>')
    header = f"<soap-env:Header>{''.join(headers)}</soap-env:Header>" if headers else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<soap-env:Envelope xmlns:soap-env="{SOAP_ENV}" xmlns:soap-enc="{SOAP_ENC}" '
            f'xmlns:xsd="{XSD_NS}" xmlns:xsi="{XSI_NS}" xmlns:cwmp="{ns}">'
            f'{header}<soap-env:Body>{body}</soap-env:Body></soap-env:Envelope>')


def element(method, **args):
    """`<cwmp:method><k>v</k>...</cwmp:method>` with escaped scalar arguments, in order."""
    inner = "".join(f"<{k}>{_text(v)}</{k}>" for k, v in args.items())
    return f"<cwmp:{method}>{inner}</cwmp:{method}>"


def string_array(tag, values):
    items = "".join(f"<string>{_text(v)}</string>" for v in values)
    return f'<{tag} soap-enc:arrayType="xsd:string[{len(values)}]">{items}</{tag}>'


def fault_body(code, string=None):
    """SOAP Fault carrying a CWMP fault (TR-069 3.5): 8xxx from the ACS."""
    string = string if string is not None else ACS_FAULTS.get(code, "Fault")
    side = "Client" if code in (8003, 8005, 8006) else "Server"
    return (f"<soap-env:Fault><faultcode>{side}</faultcode><faultstring>CWMP fault</faultstring>"
            f"<detail><cwmp:Fault><FaultCode>{code}</FaultCode>"
            f"<FaultString>{_text(string)}</FaultString></cwmp:Fault></detail></soap-env:Fault>")


def inform_response_body(max_envelopes=1):
    return element("InformResponse", MaxEnvelopes=max_envelopes)


def rpc_gpv(names, hold_requests=False):
    """GetParameterValues (A.3.2.2)."""
    return Rpc("GetParameterValues",
               f"<cwmp:GetParameterValues>{string_array('ParameterNames', list(names))}"
               "</cwmp:GetParameterValues>", hold_requests)


def rpc_spv(params, key="", hold_requests=False):
    """SetParameterValues (A.3.2.1); params = [(name, value, xsd type e.g. "xsd:string")]."""
    items = "".join(f"<ParameterValueStruct><Name>{_text(n)}</Name>"
                    f'<Value xsi:type="{_text(t)}">{_text(v)}</Value></ParameterValueStruct>'
                    for n, v, t in params)
    return Rpc("SetParameterValues",
               "<cwmp:SetParameterValues><ParameterList soap-enc:arrayType="
               f'"cwmp:ParameterValueStruct[{len(params)}]">{items}</ParameterList>'
               f"<ParameterKey>{_text(key)}</ParameterKey></cwmp:SetParameterValues>",
               hold_requests)


def _bool(value):
    return "1" if value else "0"


def rpc_gpn(path, next_level, hold_requests=False):
    """GetParameterNames (A.3.2.3)."""
    return Rpc("GetParameterNames", element("GetParameterNames", ParameterPath=path,
                                            NextLevel=_bool(next_level)), hold_requests)


def rpc_spa(params, hold_requests=False):
    """SetParameterAttributes (A.3.2.4); params = [dict(name=..., notification=None|0..6,
    access_list=None|[...])]; None leaves that attribute unchanged (Change flag 0)."""
    items = []
    for p in params:
        notif, acl = p.get("notification"), p.get("access_list")
        items.append(
            f"<SetParameterAttributesStruct><Name>{_text(p['name'])}</Name>"
            f"<NotificationChange>{_bool(notif is not None)}</NotificationChange>"
            f"<Notification>{notif or 0}</Notification>"
            f"<AccessListChange>{_bool(acl is not None)}</AccessListChange>"
            f"{string_array('AccessList', acl or [])}</SetParameterAttributesStruct>")
    return Rpc("SetParameterAttributes",
               "<cwmp:SetParameterAttributes><ParameterList soap-enc:arrayType="
               f'"cwmp:SetParameterAttributesStruct[{len(items)}]">{"".join(items)}'
               "</ParameterList></cwmp:SetParameterAttributes>", hold_requests)


def rpc_gpa(names, hold_requests=False):
    """GetParameterAttributes (A.3.2.5)."""
    return Rpc("GetParameterAttributes",
               f"<cwmp:GetParameterAttributes>{string_array('ParameterNames', list(names))}"
               "</cwmp:GetParameterAttributes>", hold_requests)


def rpc_add(obj, key="", hold_requests=False):
    """AddObject (A.3.2.6); obj ends with a dot."""
    return Rpc("AddObject", element("AddObject", ObjectName=obj, ParameterKey=key),
               hold_requests)


def rpc_delete(obj, key="", hold_requests=False):
    """DeleteObject (A.3.2.7)."""
    return Rpc("DeleteObject", element("DeleteObject", ObjectName=obj, ParameterKey=key),
               hold_requests)


def rpc_reboot(key="", hold_requests=False):
    """Reboot (A.3.2.9)."""
    return Rpc("Reboot", element("Reboot", CommandKey=key), hold_requests)


def rpc_factory_reset(hold_requests=False):
    """FactoryReset (A.4.1.4)."""
    return Rpc("FactoryReset", element("FactoryReset"), hold_requests)


def rpc_schedule_inform(delay, key="", hold_requests=False):
    """ScheduleInform (A.4.1.3)."""
    return Rpc("ScheduleInform", element("ScheduleInform", DelaySeconds=delay, CommandKey=key),
               hold_requests)


def rpc_get_rpc_methods(hold_requests=False):
    """GetRPCMethods (A.3.1.1), ACS -> CPE."""
    return Rpc("GetRPCMethods", element("GetRPCMethods"), hold_requests)


def rpc_download(url, file_type="1 Firmware Upgrade Image", key="", file_size=0,
                 username="", password="", target="", delay=0, success_url="",
                 failure_url="", hold_requests=False):
    """Download (A.3.2.8)."""
    return Rpc("Download", element(
        "Download", CommandKey=key, FileType=file_type, URL=url, Username=username,
        Password=password, FileSize=file_size, TargetFileName=target, DelaySeconds=delay,
        SuccessURL=success_url, FailureURL=failure_url), hold_requests)


def rpc_upload(url, file_type="1 Vendor Configuration File", key="", username="",
               password="", delay=0, hold_requests=False):
    """Upload (A.4.1.5)."""
    return Rpc("Upload", element(
        "Upload", CommandKey=key, FileType=file_type, URL=url, Username=username,
        Password=password, DelaySeconds=delay), hold_requests)


def rpc_schedule_download(url, windows, file_type="2 Web Content", key="", file_size=0,
                          username="", password="", target="", hold_requests=False):
    """ScheduleDownload (A.4.1.8); windows = [(start, end, mode, user_message, max_retries)]."""
    tw = "".join(f"<TimeWindowStruct><WindowStart>{a}</WindowStart><WindowEnd>{b}</WindowEnd>"
                 f"<WindowMode>{_text(mode)}</WindowMode><UserMessage>{_text(msg)}</UserMessage>"
                 f"<MaxRetries>{retries}</MaxRetries></TimeWindowStruct>"
                 for a, b, mode, msg, retries in windows)
    inner = element("X", CommandKey=key, FileType=file_type, URL=url, Username=username,
                    Password=password, FileSize=file_size, TargetFileName=target)[8:-9]
    return Rpc("ScheduleDownload", f"<cwmp:ScheduleDownload>{inner}<TimeWindowList "
               f'soap-enc:arrayType="cwmp:TimeWindowStruct[{len(windows)}]">{tw}'
               "</TimeWindowList></cwmp:ScheduleDownload>", hold_requests)


def rpc_cancel_transfer(key, hold_requests=False):
    """CancelTransfer (A.4.1.9)."""
    return Rpc("CancelTransfer", element("CancelTransfer", CommandKey=key), hold_requests)


def rpc_get_queued_transfers(all_transfers=False, hold_requests=False):
    """GetQueuedTransfers (A.4.1.1) or GetAllQueuedTransfers (A.4.1.7)."""
    method = "GetAllQueuedTransfers" if all_transfers else "GetQueuedTransfers"
    return Rpc(method, f"<cwmp:{method}/>", hold_requests)


def rpc_raw(body, method=None, hold_requests=False):
    """Arbitrary (possibly malformed) Body content; method is only a label for records."""
    return Rpc(method or "raw", body, hold_requests)


def cpe_request_reply(env):
    """(body XML, or None if unknown) answering a CPE request (TR-069 A.3.1, A.4.2)."""
    simple = {"TransferComplete", "AutonomousTransferComplete", "RequestDownload",
              "DUStateChangeComplete", "AutonomousDUStateChangeComplete"}
    if env.method in simple:
        return element(env.method + "Response")
    if env.method == "GetRPCMethods":
        return ("<cwmp:GetRPCMethodsResponse>" + string_array("MethodList", ACS_METHODS) +
                "</cwmp:GetRPCMethodsResponse>")
    if env.method == "Kicked":
        return element("KickedResponse", NextURL=_child_text(env.body, "Next") or "")
    return None


# ---------------------------------------------------------------------------------------
# Parsing CPE -> ACS messages

def local(tag):
    return tag.rsplit("}", 1)[-1]


def namespace(tag):
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else None


def _child(elem, name):
    if elem is None:
        return None
    for c in elem:
        if local(c.tag) == name:
            return c
    return None


def _items(elem, name):
    """Children of elem's child `name` (an array), [] if absent."""
    c = _child(elem, name)
    return [] if c is None else list(c)


def _child_text(elem, name):
    c = _child(elem, name)
    return None if c is None else (c.text or "")


def _prefixes(raw):
    """prefix -> namespace URI of every declaration in the document (enough for the
    xsi:type values of a CWMP message, which never rebinds prefixes)."""
    found = {}
    for _, (prefix, uri) in ET.iterparse(io.BytesIO(raw), events=("start-ns",)):
        found.setdefault(prefix, uri)
    return found


def parse_envelope(raw):
    """Envelope from the bytes of a CPE POST; raises SoapError."""
    try:
        root = ET.fromstring(raw)
        prefixes = _prefixes(raw)
    except ET.ParseError as e:
        raise SoapError(f"not well-formed XML: {e}") from None
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapError(f"root element is {root.tag}, not a SOAP 1.1 Envelope")
    header, body = root.find(f"{{{SOAP_ENV}}}Header"), root.find(f"{{{SOAP_ENV}}}Body")
    if body is None or len(body) > 1:
        raise SoapError("the Envelope must contain one Body with at most one element")
    headers = {local(h.tag): (h.text or "").strip() for h in (header if header is not None else [])}
    ns = next((namespace(h.tag) for h in (header if header is not None else [])
               if local(h.tag) == "ID"), None)
    child = body[0] if len(body) else None
    if child is not None and namespace(child.tag) != SOAP_ENV:
        ns = namespace(child.tag)
    method = None if child is None else local(child.tag)
    return Envelope(ns, headers.get("ID"), headers, method, child, prefixes, raw)


def _xsi_type(elem, prefixes):
    raw = elem.get(f"{{{XSI_NS}}}type")
    if raw is None:
        return None
    prefix, _, name = raw.rpartition(":")
    return f"xsd:{name}" if prefixes.get(prefix) == XSD_NS else raw


def _value_structs(elem, prefixes):
    out = {}
    for s in (elem if elem is not None else []):
        value = _child(s, "Value")
        out[_child_text(s, "Name")] = (
            None if value is None else (value.text or ""),
            None if value is None else _xsi_type(value, prefixes))
    return out


def _int(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def parse_inform(env):
    """Inform from an Envelope whose method is "Inform"."""
    b = env.body
    dev = _child(b, "DeviceId")
    device_id = {local(c.tag): c.text or "" for c in (dev if dev is not None else [])}
    events = [(_child_text(e, "EventCode"), _child_text(e, "CommandKey"))
              for e in _items(b, "Event")]
    return Inform(device_id, events, _int(_child_text(b, "MaxEnvelopes")),
                  _child_text(b, "CurrentTime"), _int(_child_text(b, "RetryCount")),
                  _value_structs(_child(b, "ParameterList"), env.prefixes),
                  env.headers, env.ns, env.id, env.raw)


def parse_fault(env):
    """Fault from a SOAP Fault envelope (TR-069 3.5); None if it carries no cwmp:Fault."""
    detail = _child(env.body, "detail")
    cwmp = _child(detail, "Fault")
    if cwmp is None:
        return None
    spv = [(_child_text(f, "ParameterName"), _int(_child_text(f, "FaultCode")),
            _child_text(f, "FaultString"))
           for f in cwmp if local(f.tag) == "SetParameterValuesFault"]
    return Fault(_int(_child_text(cwmp, "FaultCode")), _child_text(cwmp, "FaultString") or "",
                 spv)


def _strings(elem):
    return [c.text or "" for c in (elem if elem is not None else [])]


def parse_response(env):
    """Python value of a CPE response (TR-069 A.3.2, A.4.1):
    GetParameterValuesResponse -> {name: (value, type)}; SetParameterValuesResponse,
    DeleteObjectResponse -> status int; GetParameterNamesResponse -> [(name, writable)];
    GetParameterAttributesResponse -> [(name, notification, [access list])];
    AddObjectResponse -> (instance, status); DownloadResponse -> (status, start, complete);
    GetRPCMethodsResponse -> [method]; Fault -> Fault; others -> {child: text}."""
    b, m = env.body, env.method
    if m == "Fault":
        return parse_fault(env)
    if m == "GetParameterValuesResponse":
        return _value_structs(_child(b, "ParameterList"), env.prefixes)
    if m in ("SetParameterValuesResponse", "DeleteObjectResponse"):
        return _int(_child_text(b, "Status"))
    if m == "GetParameterNamesResponse":
        return [(_child_text(s, "Name"), _child_text(s, "Writable") in ("1", "true"))
                for s in _items(b, "ParameterList")]
    if m == "GetParameterAttributesResponse":
        return [(_child_text(s, "Name"), _int(_child_text(s, "Notification")),
                 _strings(_child(s, "AccessList")))
                for s in _items(b, "ParameterList")]
    if m == "AddObjectResponse":
        return (_int(_child_text(b, "InstanceNumber")), _int(_child_text(b, "Status")))
    if m == "DownloadResponse":
        return (_int(_child_text(b, "Status")), _child_text(b, "StartTime"),
                _child_text(b, "CompleteTime"))
    if m == "GetRPCMethodsResponse":
        return _strings(_child(b, "MethodList"))
    if m in ("GetQueuedTransfersResponse", "GetAllQueuedTransfersResponse"):
        return [{local(c.tag): c.text or "" for c in item} for item in _items(b, "TransferList")]
    return {local(c.tag): c.text or "" for c in (b if b is not None else [])}


def parse_request(env):
    """Python value of a CPE request other than Inform: {child: text}, with
    TransferComplete's FaultStruct flattened to fault_code / fault_string."""
    out = {local(c.tag): (c.text or "") for c in (env.body if env.body is not None else [])}
    fs = _child(env.body, "FaultStruct")
    if fs is not None:
        out.pop("FaultStruct", None)
        out["fault_code"] = _int(_child_text(fs, "FaultCode"))
        out["fault_string"] = _child_text(fs, "FaultString")
    return out


def fault_shape_problems(env):
    """Violations of the TR-069 3.5 fault conventions that the schemas check only laxly."""
    problems = []
    b = env.body
    code = _child_text(b, "faultcode")
    # SOAP 1.1 4.2.3 wants MustUnderstand for a mandatory header not understood; TR-069 3.5
    # names Client and Server (and lets the recipient ignore faultcode entirely).
    if code is None or code.rpartition(":")[2] not in ("Client", "Server", "MustUnderstand"):
        problems.append(f"faultcode {code!r} is not Client, Server or MustUnderstand")
    if _child_text(b, "faultstring") != "CWMP fault":
        problems.append(f"faultstring {_child_text(b, 'faultstring')!r} is not 'CWMP fault'")
    fault = parse_fault(env)
    if fault is None or fault.code is None or not fault.string:
        problems.append("detail has no cwmp:Fault with FaultCode and FaultString")
    return problems
