"""Scriptable test ACS (TR-069 Auto-Configuration Server) for proxierd's integration tests.

Modules: acs (HTTP server, sessions, scripting, recording), soapmsg (build ACS messages,
parse CPE messages, TR-069 3.5 and Annex A), digest (HTTP Basic/Digest server side,
TR-069 3.4.4-3.4.5), xsd (validation of CPE messages against the official schemas).
Python 3.11 standard library only.
"""
