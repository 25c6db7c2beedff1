#!/usr/bin/env python3
"""Offline smoke test of the vendored GraphiQL console (standard library only).

Serves crates/ledger-server/assets/graphiql/ the way the ledger server is
meant to (index.html at /, the other files at /assets/graphiql/<name>), with
stubs for POST /graphql and the WebSocket endpoint /graphql/ws
(graphql-transport-ws), and drives headless Chromium against it:

1. Interaction, over the DevTools protocol (--remote-debugging-pipe):
   * GraphiQL renders, introspects the stub schema, and running the default
     query shows the stub's answer in the response pane;
   * the Authorization header from the Headers tab reaches POST /graphql;
   * a subscription goes over WebSocket /graphql/ws with subprotocol
     graphql-transport-ws, the headers arrive as the connection_init payload,
     and the streamed result shows up;
   * an edited header is used, and survives a reload (shouldPersistHeaders);
   * the settings dialog opens (GraphiQL's dialogs inject <style> elements).
2. The plain command lines from the task, for a human to look at:
   `chromium --headless ... --dump-dom` (checked for .graphiql-container etc.)
   and `--screenshot` (written to graphiql.png).

Throughout, every response carries a Content-Security-Policy with
report-uri pointing back at this server; any violation report, any request
outside the allow-list (ROUTES) and any uncaught page exception fails the run.

Usage:
  python3 tools/graphiql/smoke_test.py                 # run the checks
  python3 tools/graphiql/smoke_test.py --serve         # just serve, for a manual look
  python3 tools/graphiql/smoke_test.py --out /tmp/x --chromium /path/to/chrome
  python3 tools/graphiql/smoke_test.py --csp "default-src 'self'"   # try a policy

Needs a Chromium/Chrome binary (Debian: `apt-get install chromium`). No
network access beyond 127.0.0.1 is needed or used.
"""

import argparse
import base64
import fcntl
import hashlib
import json
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent.parent / "crates" / "ledger-server" / "assets" / "graphiql"

# URL path -> (file in ASSETS, Content-Type). This is the complete list of
# static files the ledger server has to serve.
ROUTES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/assets/graphiql/react.production.min.js": ("react.production.min.js", "text/javascript; charset=utf-8"),
    "/assets/graphiql/react-dom.production.min.js": ("react-dom.production.min.js", "text/javascript; charset=utf-8"),
    "/assets/graphiql/graphiql.min.js": ("graphiql.min.js", "text/javascript; charset=utf-8"),
    "/assets/graphiql/graphiql.min.css": ("graphiql.min.css", "text/css; charset=utf-8"),
    "/assets/graphiql/init.js": ("init.js", "text/javascript; charset=utf-8"),
    "/assets/graphiql/page.css": ("page.css", "text/css; charset=utf-8"),
    "/assets/graphiql/favicon.svg": ("favicon.svg", "image/svg+xml"),
    "/assets/graphiql/LICENSES.md": ("LICENSES.md", "text/markdown; charset=utf-8"),
}

# The policy the page is tested under; a candidate for the real server.
# style-src needs 'unsafe-inline': when a GraphiQL dialog opens,
# react-style-singleton (react-remove-scroll-bar, bundled in graphiql.min.js)
# appends a <style> element whose content depends on the scrollbar width, so
# a hash cannot work; a nonce would have to be templated into the page as
# window.__webpack_nonce__. Without it the dialogs still work, only without
# the scroll lock (and the browser logs a violation). Scripts stay 'self'.
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "report-uri /csp-report",
    ]
)

PLACEHOLDER_AUTH = "Bearer PASTE-A-TOKEN"
EDITED_AUTH = "Bearer smoke-test-token"
STUB_DATA = {"data": {"ledger": {"headPosition": "0", "headHash": "00", "eventCount": 0}}}
STUB_SUBSCRIPTION_DATA = {"data": {"headPosition": "7"}}
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _named(kind, name):
    return {"kind": kind, "name": name, "ofType": None}


def _non_null(inner):
    return {"kind": "NON_NULL", "name": None, "ofType": inner}


def _field(name, type_ref):
    return {
        "name": name,
        "description": None,
        "args": [],
        "type": type_ref,
        "isDeprecated": False,
        "deprecationReason": None,
    }


def _type(kind, name, fields=None):
    return {
        "kind": kind,
        "name": name,
        "description": None,
        "specifiedByURL": None,
        "fields": fields,
        "inputFields": None,
        "interfaces": [] if kind == "OBJECT" else None,
        "enumValues": None,
        "possibleTypes": None,
    }


STRING = _non_null(_named("SCALAR", "String"))
# A stub schema (not contact-ledger's real one):
#   type Query { ledger: Ledger! }
#   type Ledger { headPosition: String! headHash: String! eventCount: Int! }
#   type Subscription { headPosition: String! }
INTROSPECTION = {
    "data": {
        "__schema": {
            "description": None,
            "queryType": {"name": "Query"},
            "mutationType": None,
            "subscriptionType": {"name": "Subscription"},
            "types": [
                _type("OBJECT", "Query", [_field("ledger", _non_null(_named("OBJECT", "Ledger")))]),
                _type(
                    "OBJECT",
                    "Ledger",
                    [
                        _field("headPosition", STRING),
                        _field("headHash", STRING),
                        _field("eventCount", _non_null(_named("SCALAR", "Int"))),
                    ],
                ),
                _type("OBJECT", "Subscription", [_field("headPosition", STRING)]),
                _type("SCALAR", "String"),
                _type("SCALAR", "Int"),
                _type("SCALAR", "Boolean"),
            ],
            "directives": [],
        }
    }
}


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []  # (status, method, path)
        self.graphql = []  # (Authorization header, operationName, is introspection)
        self.ws = []  # (subprotocol, event, payload)
        self.csp_reports = []

    def add(self, attr, item):
        with self.lock:
            getattr(self, attr).append(item)

    def snapshot(self, attr):
        with self.lock:
            return list(getattr(self, attr))


def make_handler(rec):
    class Handler(BaseHTTPRequestHandler):
        server_version = "graphiql-smoke"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # stdout is for the summary
            pass

        def _send(self, status, body, content_type):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            rec.add("requests", (status, self.command, self.path))

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path == "/graphql/ws":
                self._websocket()
                return
            route = ROUTES.get(path)
            if route is None:
                self._send(404, b"not found\n", "text/plain; charset=utf-8")
                return
            name, content_type = route
            self._send(200, (ASSETS / name).read_bytes(), content_type)

        do_HEAD = do_GET

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            path = self.path.split("?", 1)[0]
            if path == "/csp-report":
                rec.add("csp_reports", raw.decode("utf-8", "replace"))
                self._send(204, b"", "text/plain")
                return
            if path != "/graphql":
                self._send(404, b"not found\n", "text/plain; charset=utf-8")
                return
            try:
                payload = json.loads(raw or b"{}")
            except ValueError:
                payload = {}
            introspection = "__schema" in (payload.get("query") or "")
            rec.add("graphql", (self.headers.get("Authorization"), payload.get("operationName"), introspection))
            body = INTROSPECTION if introspection else STUB_DATA
            self._send(200, json.dumps(body).encode(), "application/json")

        # --- a minimal graphql-transport-ws server (RFC 6455 text frames) ---

        def _websocket(self):
            protocols = [p.strip() for p in (self.headers.get("Sec-WebSocket-Protocol") or "").split(",")]
            key = self.headers.get("Sec-WebSocket-Key")
            if self.headers.get("Upgrade", "").lower() != "websocket" or not key:
                self._send(400, b"websocket upgrade expected\n", "text/plain; charset=utf-8")
                return
            if "graphql-transport-ws" not in protocols:
                rec.add("ws", (protocols, "rejected", None))
                self._send(400, b"graphql-transport-ws subprotocol required\n", "text/plain; charset=utf-8")
                return
            accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept)
            self.send_header("Sec-WebSocket-Protocol", "graphql-transport-ws")
            self.end_headers()
            rec.add("requests", (101, self.command, self.path))
            self.close_connection = True
            try:
                while True:
                    opcode, data = self._ws_read()
                    if opcode == 0x8:  # close
                        self._ws_write(0x8, data[:2])
                        rec.add("ws", ("graphql-transport-ws", "close", None))
                        return
                    if opcode == 0x9:  # ping
                        self._ws_write(0xA, data)
                        continue
                    if opcode != 0x1:
                        continue
                    msg = json.loads(data)
                    kind = msg.get("type")
                    rec.add("ws", ("graphql-transport-ws", kind, msg.get("payload")))
                    if kind == "connection_init":
                        self._ws_json({"type": "connection_ack"})
                    elif kind == "ping":
                        self._ws_json({"type": "pong"})
                    elif kind == "subscribe":
                        self._ws_json({"type": "next", "id": msg["id"], "payload": STUB_SUBSCRIPTION_DATA})
                        self._ws_json({"type": "complete", "id": msg["id"]})
            except (ConnectionError, EOFError, OSError):
                return

        def _ws_read(self):
            head = self.rfile.read(2)
            if len(head) < 2:
                raise EOFError
            opcode = head[0] & 0x0F
            masked = head[1] & 0x80
            length = head[1] & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self.rfile.read(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self.rfile.read(8))
            mask = self.rfile.read(4) if masked else b"\0\0\0\0"
            data = bytearray(self.rfile.read(length))
            for i in range(len(data)):
                data[i] ^= mask[i % 4]
            return opcode, bytes(data)

        def _ws_write(self, opcode, data):
            n = len(data)
            if n < 126:
                head = struct.pack("!BB", 0x80 | opcode, n)
            elif n < 1 << 16:
                head = struct.pack("!BBH", 0x80 | opcode, 126, n)
            else:
                head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
            self.wfile.write(head + data)
            self.wfile.flush()

        def _ws_json(self, obj):
            self._ws_write(0x1, json.dumps(obj).encode())

    return Handler


def find_chromium(explicit):
    candidates = [explicit] if explicit else [
        os.environ.get("CHROMIUM"),
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    for c in candidates:
        if c and shutil.which(c):
            return shutil.which(c)
    return None


def base_args(binary, profile):
    return [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        "--window-size=1280,800",
    ]


class Cdp:
    """Chrome DevTools protocol over --remote-debugging-pipe (fds 3 and 4).

    Start it before any other thread exists: it uses preexec_fn.
    """

    def __init__(self, binary, profile):
        def high(fd):  # move out of the way of 3 and 4
            new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
            os.close(fd)
            return new

        to_child_r, self.to_child = map(high, os.pipe())
        self.from_child, from_child_w = map(high, os.pipe())

        def wire_fds():
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            base_args(binary, profile) + ["--remote-debugging-pipe", "about:blank"],
            preexec_fn=wire_fds,
            pass_fds=(3, 4),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def call(self, method, params=None, timeout=30, session=True):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self.next_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
                if "method" in reply:
                    self.events.append(reply)
            ready, _, _ = select.select([self.from_child], [], [], max(0.0, deadline - time.time()))
            if not ready:
                raise TimeoutError(method)
            chunk = os.read(self.from_child, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the DevTools pipe")
            self.buf += chunk

    def open(self, url):
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)
        self.session = self.call(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, session=False
        )["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call("Page.navigate", {"url": url})

    def eval(self, expression):
        result = self.call(
            "Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True}
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page exception evaluating {expression!r}: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                value = self.eval(expression)
            except RuntimeError:
                value = None
            if value:
                return value
            time.sleep(0.1)
        return None

    def messages(self):
        out = []
        for ev in self.events:
            m, p = ev["method"], ev.get("params", {})
            if m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append(("exception", d.get("exception", {}).get("description") or d.get("text")))
            elif m == "Runtime.consoleAPICalled":
                args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                out.append((f"console.{p.get('type')}", args))
            elif m == "Log.entryAdded":
                e = p.get("entry", {})
                out.append((f"log.{e.get('level')}", e.get("text")))
        return out

    def close(self):
        try:
            self.session = None
            self.call("Browser.close", timeout=10, session=False)
        except (RuntimeError, TimeoutError, EOFError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_child)
        os.close(self.from_child)


# JavaScript snippets run in the page. The editors are CodeMirror 5 instances.
JS_EDITOR_READY = "!!document.querySelector('.graphiql-query-editor .CodeMirror')"
JS_SCHEMA_READY = (
    "!!document.querySelector('.graphiql-query-editor .CodeMirror') && "
    "!document.querySelector('.graphiql-spinner')"
)
JS_QUERY_EDITOR = "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
JS_HEADER_EDITOR = (
    "[...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')]"
    ".map(e => e.CodeMirror).find(cm => cm.getValue().includes('Authorization'))"
)
JS_RESPONSE = "(document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror.getValue() || '')"
JS_RUN = "(document.querySelector('.graphiql-execute-button').click(), true)"


def interact(cdp, url, rec, log, out=None):
    """Drives the page; returns a list of failure messages."""
    failures = []

    def check(ok, what):
        log(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)
        return ok

    cdp.open(url)
    if not check(cdp.wait_for(JS_EDITOR_READY), "GraphiQL query editor rendered"):
        return failures
    check("contact-ledger" in (cdp.eval("document.title") or ""), "page title is contact-ledger")
    check(
        "contact-ledger" in (cdp.eval("document.querySelector('.graphiql-logo')?.textContent || ''") or ""),
        "logo reads contact-ledger",
    )
    default_query = cdp.eval(f"{JS_QUERY_EDITOR}.getValue()") or ""
    check("{ ledger" in re.sub(r"\s+", " ", default_query), "default query contains the ledger example")
    headers = cdp.eval(f"{JS_HEADER_EDITOR}?.getValue() || ''") or ""
    check(PLACEHOLDER_AUTH in headers, "Headers tab is open with the Bearer PASTE-A-TOKEN template")
    cdp.wait_for(JS_SCHEMA_READY)
    check(
        cdp.wait_for("!!document.querySelector('.graphiql-sidebar button[aria-label=\"Show Documentation Explorer\"]')"),
        "schema introspected (documentation explorer available)",
    )

    # 1. Run the default query.
    cdp.eval(JS_RUN)
    response = cdp.wait_for(f"{JS_RESPONSE}.includes('eventCount') && {JS_RESPONSE}")
    check(bool(response) and '"eventCount": 0' in response, "default query answered in the response pane")
    queries = [g for g in rec.snapshot("graphql") if not g[2]]
    check(bool(queries) and queries[-1][0] == PLACEHOLDER_AUTH, "POST /graphql carried the Headers-tab Authorization")
    if out is not None:
        shot = cdp.call("Page.captureScreenshot", {"format": "png"})
        (out / "graphiql-after-run.png").write_bytes(base64.b64decode(shot["data"]))

    # 2. A subscription over WebSocket.
    cdp.eval(f"{JS_QUERY_EDITOR}.setValue('subscription {{ headPosition }}'), true")
    time.sleep(0.3)
    cdp.eval(JS_RUN)
    response = cdp.wait_for(f"{JS_RESPONSE}.includes('\"7\"') && {JS_RESPONSE}")
    check(bool(response), "subscription result streamed into the response pane")
    ws = rec.snapshot("ws")
    inits = [payload for _, kind, payload in ws if kind == "connection_init"]
    check(any(kind == "subscribe" for _, kind, _ in ws), "subscription sent over WebSocket /graphql/ws (graphql-transport-ws)")
    check(
        bool(inits) and (inits[-1] or {}).get("Authorization") == PLACEHOLDER_AUTH,
        "connection_init payload carried the Headers-tab Authorization",
    )

    # 3. Edit the header, run again, reload: the edit is used and persisted.
    new_headers = json.dumps(json.dumps({"Authorization": EDITED_AUTH}, indent=2))
    cdp.eval(f"{JS_HEADER_EDITOR}.setValue({new_headers}), true")
    cdp.eval(f"{JS_QUERY_EDITOR}.setValue('{{ ledger {{ eventCount }} }}'), true")
    time.sleep(0.6)  # GraphiQL stores editor contents with a short debounce
    before = len([g for g in rec.snapshot("graphql") if not g[2]])
    cdp.eval(JS_RUN)
    deadline = time.time() + 10
    while time.time() < deadline and len([g for g in rec.snapshot("graphql") if not g[2]]) == before:
        time.sleep(0.1)
    queries = [g for g in rec.snapshot("graphql") if not g[2]]
    check(len(queries) > before and queries[-1][0] == EDITED_AUTH, "edited Authorization header was sent")
    time.sleep(0.6)
    cdp.call("Page.reload")
    time.sleep(0.5)
    cdp.wait_for(JS_EDITOR_READY)
    persisted = cdp.wait_for(
        "[...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')]"
        ".map(e => e.CodeMirror.getValue()).join('\\n')"
    ) or ""
    check(EDITED_AUTH in persisted, "edited headers persisted across a reload (shouldPersistHeaders)")

    # 4. Open and close the settings dialog (run-time <style> injection).
    opened = cdp.eval(
        "(() => { const b = document.querySelector('button[aria-label=\"Open settings dialog\"]');"
        " if (!b) return false; b.click(); return true; })()"
    )
    shown = opened and cdp.wait_for("!!document.querySelector('.graphiql-dialog')")
    check(bool(shown), "settings dialog opens")
    if shown:
        cdp.eval("(document.querySelector('.graphiql-dialog-close')?.click(), true)")
        time.sleep(0.5)

    exceptions = [text for kind, text in cdp.messages() if kind == "exception"]
    check(not exceptions, "no uncaught exceptions in the page")
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--serve", action="store_true", help="only serve the page until interrupted")
    ap.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    ap.add_argument("--chromium", help="Chromium/Chrome binary")
    ap.add_argument("--out", default=None, help="directory for graphiql.png and dom.html")
    ap.add_argument("--csp", default=None, help="Content-Security-Policy to test instead of the default")
    opts = ap.parse_args()
    global CSP
    if opts.csp is not None:
        CSP = opts.csp

    missing = [name for name, _ in ROUTES.values() if not (ASSETS / name).is_file()]
    if missing:
        print(f"missing files in {ASSETS}: {missing}; run tools/graphiql/build.sh", file=sys.stderr)
        return 2

    rec = Recorder()
    server = ThreadingHTTPServer(("127.0.0.1", opts.port), make_handler(rec))
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}/"

    if opts.serve:
        print(f"serving {ASSETS} at {url} (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        return 0

    binary = find_chromium(opts.chromium)
    if binary is None:
        print("no Chromium found; install it (Debian: apt-get install chromium) or pass --chromium", file=sys.stderr)
        return 2

    out = Path(opts.out or tempfile.mkdtemp(prefix="graphiql-smoke-"))
    out.mkdir(parents=True, exist_ok=True)
    failures = []
    log_lines = []

    def log(line):
        log_lines.append(line)

    with tempfile.TemporaryDirectory() as profile:
        cdp = Cdp(binary, profile)  # before the server thread: uses preexec_fn
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            failures += interact(cdp, url, rec, log, out)
        except (RuntimeError, TimeoutError, EOFError, OSError) as e:
            failures.append(f"DevTools session failed: {e}")
        finally:
            page_messages = cdp.messages()
            cdp.close()

    # The plain command lines (what a human would run).
    timing = ["--virtual-time-budget=5000"]
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            base_args(binary, profile) + timing + ["--dump-dom", url], capture_output=True, text=True, timeout=120
        )
    dom = proc.stdout
    (out / "dom.html").write_text(dom)
    if proc.returncode != 0:
        failures.append(f"chromium --dump-dom exited with {proc.returncode}")
    for what, needle in {
        ".graphiql-container in --dump-dom": 'class="graphiql-container',
        "query editor in --dump-dom": "graphiql-query-editor",
        "default query in --dump-dom": "headPosition",
        "PASTE-A-TOKEN template in --dump-dom": "PASTE-A-TOKEN",
    }.items():
        ok = needle in dom
        log(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    shot = out / "graphiql.png"
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            base_args(binary, profile) + timing + [f"--screenshot={shot}", url],
            capture_output=True,
            text=True,
            timeout=120,
        )
    if proc.returncode != 0 or not shot.is_file() or shot.stat().st_size == 0:
        failures.append(f"chromium --screenshot failed (exit {proc.returncode})")
    server.shutdown()

    bad = [r for r in rec.snapshot("requests") if r[0] >= 400]
    if bad:
        failures.append(f"failed requests: {bad}")
    reports = rec.snapshot("csp_reports")
    if reports:
        failures.append(f"{len(reports)} CSP violation report(s)")

    print(f"chromium:   {binary}")
    print(f"url:        {url}")
    print(f"CSP:        {CSP}")
    print("checks:")
    for line in log_lines:
        print(f"  {line}")
    print("requests (status, method, path; repeats collapsed):")
    seen = {}
    for r in rec.snapshot("requests"):
        seen[r] = seen.get(r, 0) + 1
    for (status, method, path), n in seen.items():
        print(f"  {status} {method} {path}" + (f"  x{n}" if n > 1 else ""))
    print("POST /graphql (Authorization, operationName, introspection):")
    for item in rec.snapshot("graphql"):
        print(f"  {item}")
    print("WebSocket /graphql/ws messages (subprotocol, type, payload):")
    for item in rec.snapshot("ws"):
        print(f"  {item}")
    for report in reports:
        print(f"CSP report: {report}")
    if page_messages:
        print("page console/log/exceptions:")
        for kind, text in page_messages:
            print(f"  {kind}: {text}")
    print(f"DOM dump:   {out / 'dom.html'} ({len(dom)} chars)")
    print(f"screenshot: {shot} (and {out / 'graphiql-after-run.png'}, taken after running the query)")
    if failures:
        print("FAILED:")
        for f in failures:
            print(f"  - {f}")
        return 1
    print("OK: GraphiQL works from local files only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
