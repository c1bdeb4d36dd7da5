#!/usr/bin/env python3
"""bench_xmpp_cr: the time from an XMPP connection request (TR-069 Annex K) to its Inform at
the ACS, through a private Prosody with TLS on loopback (tests/integration/prosody_fixture.py)
and proxierd against the test ACS (tests/acs).

For each request: wait until the previous session has ended, send the connectionRequest IQ
from acs@localhost, and record (1) the IQ round trip (ACS -> Prosody -> proxierd's XMPP thread
-> event loop verdict -> back) and (2) the time until the test ACS received the Inform
carrying "6 CONNECTION REQUEST". Prints median, p99 and max of both. Figures, not judged.

usage: bench_xmpp_cr.py [--quick] [--requests N] PROXIERD
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, ".."))

from acs.acs import TestACS  # noqa: E402
from prosody_fixture import Prosody  # noqa: E402
from support import Daemon, free_port, wait_until  # noqa: E402
from xmpp_acs import XmppAcs  # noqa: E402

CPE_JID = "cpe@localhost/cwmp"


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def describe(name, values):
    ms = [v * 1000 for v in values]
    return (f"{name}: n={len(ms)} median {statistics.median(ms):.2f} ms, "
            f"p99 {percentile(ms, 99):.2f} ms, max {max(ms):.2f} ms")


def run(proxierd, requests):
    tmp = tempfile.mkdtemp(prefix="bench-xmpp-")
    prosody = Prosody({"acs": "acspass", "cpe": "cpepass"}).start()
    acs = TestACS().start()
    config = {
        "acs": {"url": acs.url},
        "device": {"serial_number": "PXBENCH0001"},
        "cwmp": {"periodic_inform_enable": False},
        "connection_request": {"port": free_port(), "address": "127.0.0.1",
                               "username": "cruser", "password": "crpass",
                               "rate_interval": 0},
        "xmpp": {"server": "127.0.0.1", "port": prosody.port, "domain": prosody.domain,
                 "username": "cpe", "password": "cpepass", "resource": "cwmp",
                 "ca_file": prosody.ca_file},
        "cache": {"path": os.path.join(tmp, "proxierd.db")},
        "log": {"level": "warn"},
    }
    daemon = Daemon(config, tmp, binary=proxierd).start()
    client = None
    try:
        client = XmppAcs("127.0.0.1", prosody.port, "acs@localhost/bench", "acspass",
                         prosody.ca_file).connect()
        # the daemon is logged in once a request gets an answer from it, not from Prosody
        wait_until(lambda: client.connection_request(CPE_JID, "x", "y").condition ==
                   "not-authorized", 20, "proxierd's XMPP login", interval=0.2)
        rtts, informs = [], []
        for _ in range(requests):
            wait_until(lambda: all(s.ended for s in acs.sessions), 30, "sessions to end",
                       interval=0.005)
            before = len(acs.sessions)
            t0, w0 = time.monotonic(), time.time()
            reply = client.connection_request(CPE_JID, "cruser", "crpass")
            rtts.append(time.monotonic() - t0)
            if reply.type != "result":
                raise AssertionError(f"connection request refused: {reply}")
            session = acs.wait_inform(timeout=30, n=before + 1)
            informs.append(session.start_time - w0)
        return rtts, informs
    finally:
        if client:
            client.close()
        daemon.stop()
        acs.stop()
        prosody.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="20 requests (ctest smoke run)")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("proxierd", nargs="?", default=os.environ.get("PROXIERD"))
    args = ap.parse_args()
    if not args.proxierd:
        ap.error("give the proxierd binary")
    n = 20 if args.quick else args.requests
    try:
        rtts, informs = run(os.path.abspath(args.proxierd), n)
    except unittest.SkipTest as e:
        print(f"bench_xmpp_cr skipped: {e}")
        return
    print(describe("xmpp_cr_reply", rtts))
    print(describe("xmpp_cr_to_inform", informs))
    print(f"summary: XMPP CR -> Inform at the ACS: median "
          f"{statistics.median(informs) * 1000:.2f} ms, p99 "
          f"{percentile(informs, 99) * 1000:.2f} ms ({n} requests; IQ reply median "
          f"{statistics.median(rtts) * 1000:.2f} ms)")


if __name__ == "__main__":
    main()
