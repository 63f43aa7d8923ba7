#!/usr/bin/env python3
"""A fake Exact Online authorisation and token endpoint, on loopback, for vault's tests.

It behaves as Exact documents its OAuth 2 endpoints:
  GET  /api/oauth2/auth?client_id=…&redirect_uri=…&response_type=code&state=…
       stands in for the user's login and consent: 302 to redirect_uri?code=…&state=…
  POST /api/oauth2/token  (application/x-www-form-urlencoded)
       grant_type=authorization_code: code, redirect_uri, client_id, client_secret
       grant_type=refresh_token:      refresh_token, client_id, client_secret
       answers {"access_token", "token_type": "bearer", "expires_in": "N", "refresh_token"}
       (expires_in as a string, as Exact sends it). Every refresh issues a new refresh token
       and burns the old one: using it again gets 400 {"error": "invalid_grant",
       "error_description": "Old refresh token used."}. A wrong client id or secret gets
       401 {"error": "invalid_client"}; an unknown, used or expired code 400 invalid_grant.
  GET  /api/v1/current/Me with "Authorization: Bearer …": 200 while the access token is
       valid, else 401 (access tokens expire after --expires-in seconds; old ones stay valid
       until then).

Test controls (same server):
  POST /_control  JSON {"fail": MODE, "times": N, "expires_in": S}
       MODE for the next N token requests: "500" (no rotation), "hang" (no rotation, never
       answers), "rotate-hang" (rotates, then never answers), "malformed" (rotates, answers 200
       with a body that is not a token answer), "drop" (rotates, closes without answering),
       "drop-after-answer" (rotates, sends the headers and half the body, closes), "none".
  GET  /_stats    JSON: counts, every refresh (time, presented token's index, previous access
       token's expiry), every access token's expiry, burnt refresh tokens.

Usage: fake_exact.py [--port 0] [--expires-in 600] [--latency S] [--client-id GUID] [--client-secret S]
Prints "listening PORT" on its first line. Python 3 standard library only; stops on SIGTERM,
or by itself after --lifetime seconds (default 3600).
"""
import argparse
import json
import os
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, client_id, client_secret, expires_in):
        self.lock = threading.Lock()
        self.client_id, self.client_secret, self.expires_in = client_id, client_secret, expires_in
        self.codes = {}           # code -> (redirect_uri, issued, used)
        self.refresh = {}         # refresh token -> {"index": n, "used": bool, "chain": c}
        self.current = None       # the one live refresh token
        self.access = {}          # access token -> expiry (epoch seconds, float)
        self.refreshes = []       # {"t", "index", "previous_access_expiry"}
        self.counts = {"token_requests": 0, "refreshes": 0, "code_exchanges": 0, "old_token_errors": 0,
                       "unknown_token_errors": 0, "invalid_client": 0, "failures_injected": 0, "auth_redirects": 0}
        self.fail, self.fail_times = "none", 0
        self.last_access_expiry = None
        self.issued_index = 0
        self.presented_old = set()
        self.old_token_presented = []

    def issue(self, by):
        """A new refresh token (the only live one) and access token; returns the answer."""
        self.issued_index += 1
        rt = f"RT{self.issued_index}.{secrets.token_urlsafe(24)}"
        at = f"AT{self.issued_index}.{secrets.token_urlsafe(32)}"
        if self.current is not None:
            self.refresh[self.current]["used"] = True
        self.refresh[rt] = {"index": self.issued_index, "used": False, "issued": time.time(), "by": by}
        self.current = rt
        expiry = time.time() + self.expires_in
        self.access[at] = expiry
        self.last_access_expiry = expiry
        return {"access_token": at, "token_type": "bearer", "expires_in": str(self.expires_in), "refresh_token": rt}

    def take_failure(self):
        if self.fail_times > 0:
            self.fail_times -= 1
            self.counts["failures_injected"] += 1
            return self.fail
        return "none"

    def stats(self):
        return {"counts": self.counts, "refreshes": self.refreshes, "access": self.access,
                "current_index": self.refresh[self.current]["index"] if self.current else None,
                "issued": self.issued_index, "never_presented": self.never_presented(),
                "old_token_presented": self.old_token_presented}

    def never_presented(self):
        """Indexes of refresh tokens issued by a refresh and never presented back, other than the
        live one: each is a token whose holder lost it (a burnt refresh token)."""
        presented = {r["index"] for r in self.refreshes} | self.presented_old
        return sorted(v["index"] for k, v in self.refresh.items()
                      if v["by"] == "refresh" and k != self.current and v["index"] not in presented)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-exact/1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/api/oauth2/auth":
            if q.get("client_id") != st.client_id or q.get("response_type") != "code" or "redirect_uri" not in q:
                return self.answer(400, {"error": "invalid_request"})
            code = "stampNL001." + secrets.token_urlsafe(16) + "!IAAAA+" + secrets.token_urlsafe(8)
            with st.lock:
                st.codes[code] = (q["redirect_uri"], time.time(), False)
                st.counts["auth_redirects"] += 1
            params = {"code": code}
            if "state" in q:
                params["state"] = q["state"]
            location = q["redirect_uri"] + ("&" if "?" in q["redirect_uri"] else "?") + urllib.parse.urlencode(params)
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if url.path == "/api/v1/current/Me":
            auth = self.headers.get("Authorization", "")
            with st.lock:
                expiry = st.access.get(auth[7:]) if auth.startswith("Bearer ") else None
            return self.answer(200 if expiry and expiry > time.time() else 401, {"d": {}})
        if url.path == "/_stats":
            with st.lock:
                return self.answer(200, st.stats())
        self.answer(404, {"error": "not found"})

    def do_POST(self):
        st = self.server.state
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        if self.path == "/_control":
            c = json.loads(raw or b"{}")
            with st.lock:
                if "fail" in c:
                    st.fail, st.fail_times = c["fail"], int(c.get("times", 1))
                if "expires_in" in c:
                    st.expires_in = int(c["expires_in"])
            return self.answer(200, {"ok": True})
        if self.path != "/api/oauth2/token":
            return self.answer(404, {"error": "not found"})
        form = dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True))
        with st.lock:
            st.counts["token_requests"] += 1
            if form.get("client_id") != st.client_id or form.get("client_secret") != st.client_secret:
                st.counts["invalid_client"] += 1
                return self.answer(401, {"error": "invalid_client"})
            failure = st.take_failure()
            if failure in ("500", "hang"):
                result = None
            else:
                result = self.grant(st, form)
        if failure == "500":
            return self.answer(500, b"<html>Internal Server Error</html>")
        if failure in ("hang", "rotate-hang"):
            time.sleep(3600)
            return
        status, body = result
        if self.server.latency:
            # Exact's work is done; the answer is on its way (the window a killed client loses).
            time.sleep(self.server.latency)
        if status != 200 or failure == "none":
            return self.answer(status, body)
        if failure == "malformed":
            return self.answer(200, b"<html><body>Service Unavailable</body></html>")
        if failure == "drop":
            self.close_hard()
            return
        if failure == "drop-after-answer":
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_hard()
            return
        self.answer(status, body)

    def close_hard(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_connection = True

    @staticmethod
    def grant(st, form):
        """Runs under st.lock; returns (status, body)."""
        grant = form.get("grant_type")
        if grant == "authorization_code":
            entry = st.codes.get(form.get("code", ""))
            if entry is None or entry[2] or time.time() - entry[1] > 180 or entry[0] != form.get("redirect_uri"):
                return 400, {"error": "invalid_grant", "error_description": "The authorization code is invalid or expired."}
            st.codes[form["code"]] = (entry[0], entry[1], True)
            st.counts["code_exchanges"] += 1
            st.current = None  # a new chain; the old one is left as it was
            return 200, st.issue("code")
        if grant == "refresh_token":
            token = form.get("refresh_token", "")
            info = st.refresh.get(token)
            if info is None:
                st.counts["unknown_token_errors"] += 1
                return 400, {"error": "invalid_grant", "error_description": "Refresh token not found."}
            if info["used"] or token != st.current:
                st.counts["old_token_errors"] += 1
                st.presented_old.add(info["index"])
                st.old_token_presented.append({"t": time.time(), "index": info["index"]})
                return 400, {"error": "invalid_grant", "error_description": "Old refresh token used."}
            st.counts["refreshes"] += 1
            st.refreshes.append({"t": time.time(), "index": info["index"], "previous_access_expiry": st.last_access_expiry})
            return 200, st.issue("refresh")
        return 400, {"error": "unsupported_grant_type"}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--expires-in", type=int, default=600)
    p.add_argument("--client-id", default="1c07724e-cc1b-9ff3-2f42-4a50582c18c9")
    p.add_argument("--client-secret", default="EKKQh8KqRptS")
    p.add_argument("--lifetime", type=float, default=3600)
    p.add_argument("--latency", type=float, default=0, help="seconds between granting and answering")
    a = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    server.state = State(a.client_id, a.client_secret, a.expires_in)
    server.latency = a.latency
    # Hung answers ("hang") sleep in daemon threads: the process ends at once on SIGTERM.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    timer = threading.Timer(a.lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    print(f"listening {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
