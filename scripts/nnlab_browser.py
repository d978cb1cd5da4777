"""A headless Chromium driven over its DevTools protocol (CDP), for the tests
and the benchmark of `nnlab report`'s page: load a file, click, read the DOM,
and see every console error, uncaught exception and request the page made.
One browser serves many pages (starting one takes seconds).

The protocol runs over a pair of pipes (--remote-debugging-pipe: the
browser reads commands on its fd 3 and writes answers and events on fd 4,
each a JSON text ended by a NUL byte), so no port is opened.

    with nnlab_browser.Chromium() as b:
        b.open("file:///tmp/report.html")     # waits for the load event
        b.click("th[data-column=config]")     # a mouse click at the element's centre
        html = b.evaluate("document.documentElement.outerHTML")
        b.errors, b.requests                  # of the page opened last
"""
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile


def find():
    """The chromium binary (Debian's chromium package), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    def __init__(self, binary=None, width=1200, height=900, timeout=60):
        binary = binary or find()
        if binary is None:
            raise RuntimeError("chromium not found (Debian: apt-get install chromium)")
        self.timeout, self.n, self.buf, self.events = timeout, 0, b"", []
        self.profile = tempfile.mkdtemp(prefix="nnlab_chromium_")
        cmd_r, cmd_w = os.pipe()
        res_r, res_w = os.pipe()
        # out of the way of 3 and 4, where the child puts them
        far_r, far_w = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 100), fcntl.fcntl(res_w, fcntl.F_DUPFD, 100)

        def child():
            os.dup2(far_r, 3)
            os.dup2(far_w, 4)

        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
             "--user-data-dir=" + self.profile, "--remote-debugging-pipe", "--window-size=%d,%d" % (width, height),
             "about:blank"],
            preexec_fn=child, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in (cmd_r, res_w, far_r, far_w):
            os.close(fd)
        self.w, self.r = cmd_w, res_r
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.send(domain + ".enable", session=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.send("Browser.close")
        except (OSError, RuntimeError, TimeoutError, EOFError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.w, self.r):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read(self):
        while b"\0" not in self.buf:
            if not select.select([self.r], [], [], self.timeout)[0]:
                raise TimeoutError("chromium answered nothing in %d s" % self.timeout)
            chunk = os.read(self.r, 1 << 16)
            if not chunk:
                raise EOFError("chromium closed its pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=False):
        """Send a command (to the page's session when session is true) and return its result; events that
        arrive meanwhile are kept in self.events."""
        self.n += 1
        msg = {"id": self.n, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self.n:
                if "error" in answer:
                    raise RuntimeError("%s: %s" % (method, answer["error"].get("message")))
                return answer["result"]
            self.events.append(answer)

    def wait_for(self, method):
        """The next event of this method (kept ones first)."""
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read())

    def open(self, url):
        """Load url (from about:blank, so that a new #fragment loads the page again) and wait for its load
        event. Afterwards self.errors and self.requests are the page's."""
        self.send("Page.navigate", {"url": "about:blank"}, session=True)
        self.wait_for("Page.loadEventFired")
        self.events = []
        self.send("Page.navigate", {"url": url}, session=True)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (JSON-able); an exception raises RuntimeError."""
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True)
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (expression, r["exceptionDetails"].get("text")))
        return r["result"].get("value")

    def click(self, selector):
        """A left mouse click at the centre of the element (scrolled into view first)."""
        box = self.evaluate("(function(){var e=document.querySelector(%s);e.scrollIntoView({block:'center'});"
                            "var r=e.getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2];})()"
                            % json.dumps(selector))
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1], "button": "left",
                                                   "clickCount": 1}, session=True)

    def _drain(self):
        """Read whatever events have arrived, without waiting."""
        while b"\0" in self.buf or select.select([self.r], [], [], 0.05)[0]:
            self.events.append(self._read())

    @property
    def errors(self):
        """Console errors, uncaught exceptions and error log entries of the page since it was opened."""
        self._drain()
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                out.append("exception: %s %s" % (d.get("text", ""), d.get("exception", {}).get("description", "")))
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.%s: %s" % (p["type"], " ".join(str(a.get("value", a.get("description")))
                                                                  for a in p.get("args", []))))
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append("log: %s" % p["entry"].get("text"))
        return out

    @property
    def requests(self):
        """The URLs the page requested since it was opened (the page itself first)."""
        self._drain()
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]
