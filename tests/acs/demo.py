"""The cwmp-proxier demo: proxierd against our test ACS (tests/acs/acs.py) on loopback.

    python3 tests/acs/demo.py [--proxierd build/proxier/proxierd] [--trace] [--keep]

What it does, and prints in a readable form:
  1. starts the test ACS on 127.0.0.1 (a free port) and queues three RPCs for the first
     session: GetParameterValues (identity and the periodic Inform settings),
     SetParameterValues (PeriodicInformInterval = 300, ParameterKey "demo-1") and
     GetParameterValues to read the new value back;
  2. starts proxierd with a configuration file and a fresh cache in a temporary directory;
     proxierd opens a session by itself (0 BOOTSTRAP, 1 BOOT), the ACS sends the RPCs;
  3. prints what the ACS saw: the Inform (DeviceId, events, parameters), each RPC with the
     CPE's answer, the end of the session, and the schema validation of every CPE message;
  4. restarts proxierd (SIGTERM, then start again over the same cache) and reads the value
     once more: the second session carries "1 BOOT" only and the value set by the ACS
     survived the restart;
  5. stops proxierd (SIGTERM to its PID) and the ACS.

Exit status 0 when every check passed, 1 otherwise (the failed checks are listed), 2 when the
demo could not run at all (no proxierd binary, ...). The daemon's log and the temporary
directory are printed when something failed, or kept with --keep.

Schema validation needs the official CWMP schemas of the shared/ folder ($PX_SHARED_DIR,
default ../shared next to the repository) and xmllint; without them the demo still runs and
says that validation was skipped.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests"))

from acs.acs import TestACS, rpc_gpv, rpc_spv  # noqa: E402

INTERVAL = "Device.ManagementServer.PeriodicInformInterval"
PARAMETER_KEY = "Device.ManagementServer.ParameterKey"
NEW_INTERVAL = "300"
KEY = "demo-1"


# ---------------------------------------------------------------------------- presentation

class Style:
    """ANSI colours when writing to a terminal, plain text otherwise (or with NO_COLOR)."""

    def __init__(self, stream):
        on = stream.isatty() and "NO_COLOR" not in os.environ
        self.bold = "\033[1m" if on else ""
        self.dim = "\033[2m" if on else ""
        self.green = "\033[32m" if on else ""
        self.red = "\033[31m" if on else ""
        self.cyan = "\033[36m" if on else ""
        self.yellow = "\033[33m" if on else ""
        self.reset = "\033[0m" if on else ""


S = Style(sys.stdout)


def heading(text):
    print(f"\n{S.bold}{text}{S.reset}\n{S.dim}{'-' * len(text)}{S.reset}")


def field(label, value, indent=2):
    print(f"{' ' * indent}{S.dim}{label:<14}{S.reset}{value}")


def arrow(direction, text):
    """direction "acs" = ACS -> CPE, "cpe" = CPE -> ACS."""
    if direction == "acs":
        print(f"  {S.cyan}ACS -> CPE{S.reset}  {text}")
    else:
        print(f"  {S.yellow}CPE -> ACS{S.reset}  {text}")


def value_table(values, indent=16):
    """{name: (value, type)} as aligned lines."""
    if not values:
        print(" " * indent + "(none)")
        return
    width = max(len(n) for n in values)
    for name, (value, xsd_type) in values.items():
        shown = value if value != "" else '""'
        print(f"{' ' * indent}{name:<{width}}  {S.bold}{shown}{S.reset}  "
              f"{S.dim}{xsd_type or ''}{S.reset}")


# ---------------------------------------------------------------------------- checks

class Checks:
    """Named pass/fail results, printed at the end; the exit status follows them."""

    def __init__(self):
        self.results = []

    def check(self, ok, what):
        self.results.append((bool(ok), what))
        return bool(ok)

    def failed(self):
        return [what for ok, what in self.results if not ok]

    def report(self):
        heading("Checks")
        for ok, what in self.results:
            mark = f"{S.green}ok  {S.reset}" if ok else f"{S.red}FAIL{S.reset}"
            print(f"  {mark}  {what}")


# ---------------------------------------------------------------------------- the daemon

def demo_config(acs_url, db_path):
    """The configuration file proxierd reads (docs/configuration.md)."""
    return (
        "# written by tests/acs/demo.py\n"
        "[acs]\n"
        f"url = {acs_url}\n"
        "\n[device]\n"
        "manufacturer = cwmp-proxier\n"
        "product_class = DemoGateway\n"
        "serial_number = DEMO0001\n"
        "\n[cwmp]\n"
        "retry_minimum_wait = 1\n"
        "\n[cache]\n"
        f"path = {db_path}\n"
        "synchronous = normal\n"
        "\n[log]\n"
        "level = info\n"
        "\n[actions]\n"
        "reboot = exit\n"
    )


class Daemon:
    """proxierd --config FILE, its output appended to a log file; stopped by PID."""

    def __init__(self, binary, config_path, log_path, trace):
        self.binary, self.config_path, self.log_path = binary, config_path, log_path
        self.args = [binary, "--config", config_path] + (["--trace"] if trace else [])
        self.proc = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        return self.proc.pid

    def stop(self, timeout=10):
        """SIGTERM to our PID, SIGKILL if it does not end in time. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout)
        code, self.proc = self.proc.returncode, None
        return code

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


# ---------------------------------------------------------------------------- one session

def describe_rpc(rpc):
    """A one-line summary of a queued RPC (we know what we queued: see QUEUED)."""
    return QUEUED.get(id(rpc), rpc.method)


QUEUED = {}


def queue(acs, rpc, summary):
    QUEUED[id(rpc)] = summary
    return acs.queue(rpc)


def show_inform(session):
    inf = session.inform
    print(f"  {S.yellow}CPE -> ACS{S.reset}  {S.bold}Inform{S.reset}  "
          f"{S.dim}(namespace {inf.ns}){S.reset}")
    d = inf.device_id
    field("DeviceId", f"{d.get('Manufacturer')} / OUI {d.get('OUI')} / "
          f"{d.get('ProductClass')} / serial {d.get('SerialNumber')}", 14)
    field("Events", ", ".join(f"{c}" + (f" (CommandKey {k})" if k else "")
                              for c, k in inf.events) or "(none)", 14)
    field("RetryCount", inf.retry_count, 14)
    versions = inf.headers.get("SupportedCWMPVersions")
    if versions:
        field("CWMP offered", versions, 14)
    print(f"{' ' * 14}{S.dim}Parameters{S.reset}")
    value_table(inf.parameters, 16)
    agreed = session.cwmp_version or "(no UseCWMPVersion header)"
    arrow("acs", f"InformResponse  {S.dim}UseCWMPVersion {agreed}, session cookie set{S.reset}")


def show_response(resp):
    if resp.fault:
        f = resp.fault
        arrow("cpe", f"{S.red}Fault {f.code}{S.reset} {f.string}")
        for name, code, text in f.spv_faults:
            print(f"{' ' * 16}{name}: {code} {text}")
        return
    if resp.method == "GetParameterValuesResponse":
        arrow("cpe", "GetParameterValuesResponse")
        value_table(resp.value)
    elif resp.method == "SetParameterValuesResponse":
        meaning = {0: "applied", 1: "committed, applied later"}.get(resp.value, "?")
        arrow("cpe", f"SetParameterValuesResponse  Status {resp.value} ({meaning})")
    else:
        arrow("cpe", f"{resp.method}  {resp.value}")


def show_session(session):
    """Every exchange of the session in order, as the ACS saw it; each ACS request is written
    with the summary given when it was queued."""
    show_inform(session)
    responses = list(session.responses)
    r = 0
    for ex in session.exchanges[1:]:
        if ex.method is None:
            arrow("cpe", f"empty POST  {S.dim}(the CPE has nothing more to send){S.reset}")
        elif ex.method.endswith("Response") or ex.method == "Fault":
            show_response(responses[r])
            r += 1
        else:
            arrow("cpe", ex.method)
        if ex.status == 204:
            arrow("acs", f"204 No Content  {S.dim}(no more requests: the session ends){S.reset}")
        elif ex.acs_method and r < len(responses):
            arrow("acs", f"{S.bold}{ex.acs_method}{S.reset}  {describe_rpc(responses[r].rpc)}")
        elif ex.acs_method:
            arrow("acs", ex.acs_method)
        else:
            arrow("acs", f"HTTP {ex.status}")
    ok = f"{S.green}ended normally{S.reset}" if session.ended_ok else \
        f"{S.red}ended: {session.end_reason}{S.reset}"
    ms = ((session.end_time or time.time()) - session.start_time) * 1000
    field("Session", f"{ok}: {len(session.exchanges)} HTTP exchanges over "
          f"{len(session.conn_ids)} TCP connection(s) in {ms:.0f} ms", 2)


def show_validation(acs, session, checks):
    """Schema validation of every non-empty CPE message of the session."""
    if not acs.validator:
        field("Schemas", f"{S.yellow}skipped{S.reset} (no schemas or no xmllint: "
              "see PX_SHARED_DIR)", 2)
        return
    acs.drain_validation()
    messages = [ex for ex in session.exchanges if ex.method is not None]
    bad = [ex for ex in messages if ex.validation]
    if bad:
        field("Schemas", f"{S.red}{len(bad)} of {len(messages)} CPE messages invalid{S.reset}", 2)
        for ex in bad:
            print("\n".join("      " + line for line in ex.validation))
    else:
        field("Schemas", f"{S.green}all {len(messages)} CPE messages valid{S.reset} against "
              "the official CWMP schemas (cwmp-1-2 / 1-4)", 2)
    checks.check(not bad, f"session {session.index}: every CPE message is schema-valid")
    violations = session.violations
    field("Protocol", f"{S.green}no violations{S.reset}" if not violations else
          f"{S.red}{len(violations)} violation(s){S.reset}", 2)
    for v in violations:
        print(f"      {v}")
    checks.check(not violations, f"session {session.index}: no CWMP protocol violation")


def response_value(session, index, name):
    """The (value, type) of name in the index-th CPE response, or None."""
    if index >= len(session.responses):
        return None
    value = session.responses[index].value
    return value.get(name) if isinstance(value, dict) else None


# ---------------------------------------------------------------------------- the demo

def make_acs():
    try:
        return TestACS().start()
    except FileNotFoundError as e:   # no schemas or no xmllint: run without validation
        print(f"{S.yellow}note{S.reset}: schema validation off ({e})")
        return TestACS(validate=False).start()


def run(args, workdir, checks):
    acs = make_acs()
    daemon = None
    try:
        db_path = os.path.join(workdir, "proxierd.db")
        config_path = os.path.join(workdir, "proxierd.conf")
        with open(config_path, "w") as f:
            f.write(demo_config(acs.url, db_path))
        daemon = Daemon(args.proxierd, config_path, os.path.join(workdir, "proxierd.log"),
                        args.trace)

        heading("cwmp-proxier demo")
        field("test ACS", f"{acs.url}  (schema validation "
              f"{'on' if acs.validator else 'off'})")
        field("config", config_path)
        field("cache", db_path)

        queue(acs, rpc_gpv(["Device.DeviceInfo.Manufacturer", "Device.DeviceInfo.ModelName",
                            "Device.DeviceInfo.SoftwareVersion", "Device.DeviceInfo.UpTime",
                            "Device.ManagementServer.PeriodicInformEnable", INTERVAL]),
              "identity, uptime and the periodic Inform settings")
        queue(acs, rpc_spv([(INTERVAL, NEW_INTERVAL, "xsd:unsignedInt")], KEY),
              f"PeriodicInformInterval = {NEW_INTERVAL}, ParameterKey \"{KEY}\"")
        queue(acs, rpc_gpv([INTERVAL, PARAMETER_KEY]), "read the new value back")

        pid = daemon.start()
        field("proxierd", f"{' '.join(daemon.args)}  (pid {pid})")

        heading("Session 1: first contact")
        s1 = acs.wait_sessions(1, timeout=args.timeout)[0]
        show_session(s1)
        show_validation(acs, s1, checks)
        checks.check(s1.ended_ok, "session 1 ended with the ACS's 204 after the CPE's empty POST")
        checks.check(s1.inform.event_codes == ["0 BOOTSTRAP", "1 BOOT"],
                     f"first Inform carries 0 BOOTSTRAP and 1 BOOT (got {s1.inform.event_codes})")
        checks.check(len(s1.responses) == 3 and not any(r.fault for r in s1.responses),
                     "the three RPCs were answered without a fault")
        read_back = response_value(s1, 2, INTERVAL)
        checks.check(read_back and read_back[0] == NEW_INTERVAL,
                     f"PeriodicInformInterval reads back as {NEW_INTERVAL} (got {read_back})")
        key = response_value(s1, 2, PARAMETER_KEY)
        checks.check(key and key[0] == KEY, f"ParameterKey is \"{KEY}\" after the set (got {key})")

        heading("Session 2: after a restart")
        code = daemon.stop()
        checks.check(code == 0, f"proxierd stopped on SIGTERM with exit code 0 (got {code})")
        field("proxierd", f"stopped (exit code {code}), starting again over the same cache")
        queue(acs, rpc_gpv([INTERVAL]), "is the value still there?")
        pid = daemon.start()
        field("proxierd", f"pid {pid}")
        print()
        s2 = acs.wait_sessions(2, timeout=args.timeout)[1]
        show_session(s2)
        show_validation(acs, s2, checks)
        checks.check(s2.ended_ok, "session 2 ended normally")
        checks.check(s2.inform.event_codes == ["1 BOOT"],
                     f"after a restart the Inform carries 1 BOOT only (got {s2.inform.event_codes})")
        kept = response_value(s2, 0, INTERVAL)
        checks.check(kept and kept[0] == NEW_INTERVAL,
                     f"PeriodicInformInterval is still {NEW_INTERVAL} after the restart "
                     f"(got {kept})")
    except AssertionError as e:   # a wait timed out
        checks.check(False, f"timeout: {e}")
    finally:
        if daemon:
            code = daemon.stop()
            if code is not None:
                checks.check(code == 0, f"proxierd stopped on SIGTERM with exit code 0 "
                             f"(got {code})")
        acs.stop()
    return daemon


def main():
    p = argparse.ArgumentParser(description="proxierd against the test ACS, narrated.")
    p.add_argument("--proxierd", default=os.environ.get(
        "PROXIERD", os.path.join(REPO, "build", "proxier", "proxierd")),
        help="the daemon to run (default: $PROXIERD or build/proxier/proxierd)")
    p.add_argument("--trace", action="store_true",
                   help="run proxierd with --trace (SOAP dump in its log) and print the log")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--timeout", type=float, default=30, help="seconds to wait for a session")
    args = p.parse_args()
    if not os.access(args.proxierd, os.X_OK):
        print(f"demo: {args.proxierd} is not an executable: build first (scripts/build.sh)",
              file=sys.stderr)
        return 2

    workdir = tempfile.mkdtemp(prefix="proxierd-demo-")
    checks = Checks()
    daemon = run(args, workdir, checks)
    checks.report()
    failed = checks.failed()
    if (failed or args.trace) and daemon:
        heading(f"proxierd log ({daemon.log_path})")
        print(daemon.log_text()[-20000:])
    if failed or args.keep:
        print(f"\nFiles kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        print(f"\n{S.red}{S.bold}demo FAILED{S.reset}: {len(failed)} check(s) failed")
        return 1
    print(f"\n{S.green}{S.bold}demo passed{S.reset}: proxierd managed by a CWMP ACS end to end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
