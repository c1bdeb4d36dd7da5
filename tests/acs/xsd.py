"""Validation of CWMP messages against the official BBF schemas with xmllint, offline through
the XML catalog of $PX_SHARED_DIR/spec/xsd (see spec/README.md): namespace cwmp-1-2 (CWMP
1.2-1.4) -> strict-1-2 driver for the Body plus the lax 1-4 driver for the 1.3/1.4 headers;
cwmp-1-0 / cwmp-1-1 -> their strict drivers. One xmllint run costs a few tens of ms, so the
ACS validates in a worker thread (`submit`) to keep its HTTP answers prompt.
"""
import os
import queue
import re
import shutil
import subprocess
import threading

_NS = re.compile(rb"urn:dslforum-org:cwmp-1-([01])\b")


def shared_dir():
    path = os.environ.get("PX_SHARED_DIR")
    if not path:
        path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared")
    return os.path.abspath(path)


class Validator:
    """Runs xmllint; `validate` is synchronous, `submit` queues work for one worker thread."""

    def __init__(self, spec_dir=None):
        self.xsd_dir = os.path.join(spec_dir or os.path.join(shared_dir(), "spec"), "xsd")
        self.catalog = os.path.join(self.xsd_dir, "catalog.xml")
        if not os.path.exists(self.catalog):
            raise FileNotFoundError(f"{self.catalog} missing: set PX_SHARED_DIR")
        self.xmllint = shutil.which("xmllint")
        if not self.xmllint:
            raise FileNotFoundError("xmllint not found (Debian package libxml2-utils)")
        self._queue = queue.Queue()
        self._worker = None

    def drivers_for(self, raw):
        """Driver schemas for a message, chosen by the cwmp namespace it declares (a
        message in no or an unknown namespace gets the cwmp-1-2 drivers, which reject it)."""
        m = _NS.search(raw)
        if m:
            return [os.path.join(self.xsd_dir, f"cwmp-envelope-strict-1-{m.group(1).decode()}.xsd")]
        return [os.path.join(self.xsd_dir, "cwmp-envelope-strict-1-2.xsd"),
                os.path.join(self.xsd_dir, "cwmp-envelope-1-4.xsd")]

    def validate(self, raw):
        """[] if `raw` (bytes) is valid, else xmllint's error lines (one string per driver)."""
        errors = []
        env = dict(os.environ, XML_CATALOG_FILES=self.catalog)
        for schema in self.drivers_for(raw):
            p = subprocess.run([self.xmllint, "--nonet", "--noout", "--schema", schema, "-"],
                               input=raw, capture_output=True, env=env, timeout=60)
            if p.returncode != 0:
                lines = [l for l in p.stderr.decode(errors="replace").splitlines()
                         if "Skipping import" not in l and not l.endswith(" validates")]
                errors.append(f"{os.path.basename(schema)}: " + "\n".join(lines))
        return errors

    def submit(self, raw, callback):
        """Validate later in the worker thread, then call callback(errors)."""
        if self._worker is None:
            self._worker = threading.Thread(target=self._run, name="xsd-validator", daemon=True)
            self._worker.start()
        self._queue.put((raw, callback))

    def drain(self):
        """Block until every submitted message has been validated."""
        self._queue.join()

    def _run(self):
        while True:
            raw, callback = self._queue.get()
            try:
                callback(self.validate(raw))
            except Exception as e:  # recorded, never lost in a dead thread
                callback([f"validator crashed: {e!r}"])
            finally:
                self._queue.task_done()
