#!/usr/bin/env python3
"""Many `vault token` processes at once against the fake Exact Online (fake_exact.py), with
access tokens expiring every few seconds; optionally SIGKILLs among them (docs/RELIABILITY.md,
"Exact Online tokens").

Checks, without kills:
  - every call exits 0 and prints a token the fake issued, still valid when the process has
    ended (so at print time) and valid for --min-valid seconds from the call's start (1 s slack:
    vault counts whole seconds);
  - 0 "old refresh token" errors at the fake;
  - every refresh was needed: none happened while the previous access token still had more
    than --min-valid + 1.5 seconds to live (vault stores expiries in whole seconds and counts
    from when it sent the request), so the number of refreshes is the minimum the expiries
    require; and every refresh token but the live one was presented back (none lost).
With --kill (SIGKILL of random `vault token` processes, and of those whose `vault-http` helper
is talking to the fake, i.e. inside the window):
  - every call that was not killed and did not report a burnt token behaves as above;
  - every refresh token lost (issued by a refresh, never presented back) was detected: the fake
    saw it presented as old exactly once per lost token, and vault reported each one as "burnt"
    with the time of the interrupted refresh; no refusal is reported any other way; the number
    of lost tokens is at most the number of kills. After each report the script connects the
    entry again (as an operator would) and goes on.

Usage: token_storm.py [--short] [--kill] [--procs 8] [--calls 200] [--expires-in 2] [--min-valid 1] [--seed N]
Prints the figures and "N passed, M failed"; exits 1 on any failure. Python 3 standard library.
"""
import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LABEL = "Acme BV"
CLIENT_ID = "1c07724e-cc1b-9ff3-2f42-4a50582c18c9"
CLIENT_SECRET = "EKKQh8KqRptS"
WEBHOOK_SECRET = "Wh00kS3cretX"


def binary():
    return os.environ.get("VAULT_BINARY") or os.path.join(ROOT, ".build/debug/vault")


class Fake:
    """fake_exact.py as a child process."""

    def __init__(self, expires_in, latency=0.0, lifetime=1800):
        self.p = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_exact.py"), "--port", "0", "--expires-in", str(expires_in),
                                   "--latency", str(latency), "--lifetime", str(lifetime)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                  start_new_session=True)
        line = self.p.stdout.readline()
        self.port = int(line.split()[1])
        self.base = f"http://127.0.0.1:{self.port}"

    def stats(self):
        return json.loads(urllib.request.urlopen(self.base + "/_stats", timeout=10).read())

    def control(self, **c):
        urllib.request.urlopen(urllib.request.Request(self.base + "/_control", data=json.dumps(c).encode()), timeout=10).read()

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=10)


class Vault:
    def __init__(self, directory, fake):
        self.dir, self.fake = directory, fake
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
        self.env.update(VAULT_KEYSTORE=os.path.join(directory, "ks.vault"), VAULT_KEY_FILE=os.path.join(directory, "ks.key"))

    def run(self, *args, stdin=None, timeout=60):
        p = subprocess.run([binary(), *args], input=stdin, capture_output=True, text=True, env=self.env, cwd=self.dir,
                           start_new_session=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def exact(self, *args, **kw):
        return self.run(*args, "--exact-base-url", self.fake.base, **kw)

    def setup(self):
        """A key-file keystore with one Exact Online entry, sealed and opened by vault."""
        assert self.run("init", "--with-key-file", self.env["VAULT_KEY_FILE"])[0] == 0
        code, pub, err = self.run("recipient")
        assert code == 0, err
        creds = os.path.join(self.dir, "creds.json")
        fd = os.open(creds, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "webhook_secret": WEBHOOK_SECRET,
                                 "redirect_uri": "https://connector.example/exact/callback"}).encode())
        os.close(fd)
        recipient = [l for l in pub.splitlines() if l.startswith("vault1")][0]
        code, blob, err = self.run("seal", "--to", recipient, "--label", LABEL, "--input", creds)
        assert code == 0, err
        code, out, err = self.run("open", "-", stdin=blob)
        assert code == 0, err

    def connect(self):
        """`vault connect` without a terminal, the fake's consent page, then `--response -`."""
        code, url, err = self.exact("connect", LABEL)
        assert code == 0, err
        location = follow_once(url.strip())
        code, out, err = self.exact("connect", LABEL, "--response", "-", stdin=location + "\n")
        assert code == 0, err
        return err


def follow_once(url):
    """The Location of the fake's 302 (the browser would follow it to the redirect URI)."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None
    try:
        urllib.request.build_opener(NoRedirect).open(url, timeout=10)
    except urllib.error.HTTPError as e:
        if e.code == 302:
            return e.headers["Location"]
        raise
    raise AssertionError("no redirect from the fake's authorisation page")


class Storm:
    def __init__(self, args):
        self.a = args
        self.calls = []          # dicts: worker, start, end, status, stdout, stderr, killed
        self.lock = threading.Lock()
        self.live = {}           # pid -> call dict
        self.kills = 0
        self.in_window_kills = 0
        self.reconnects = 0
        self.reconnect_lock = threading.Lock()
        self.stop = False

    def worker(self, n, vault):
        for i in range(self.a.calls):
            argv = [binary(), "token", LABEL, "--min-valid", str(self.a.min_valid), "--timeout", str(self.a.timeout),
                    "--exact-base-url", vault.fake.base]
            call = {"worker": n, "start": time.time(), "killed": False}
            p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=vault.env,
                                 start_new_session=True)
            with self.lock:
                self.live[p.pid] = call
            try:
                out, err = p.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
                call["hung"] = True
            call["end"] = time.time()
            with self.lock:
                self.live.pop(p.pid, None)
            call.update(status=p.returncode, stdout=out, stderr=err)
            self.calls.append(call)
            if "connect the entry again" in err and not call["killed"]:
                self.reconnect(vault)

    def reconnect(self, vault):
        """As an operator would after vault said so: connect once, whoever saw it first."""
        with self.reconnect_lock:
            code, out, err = vault.exact("status", LABEL, "--json")
            if code == 0 and json.loads(out)["connection"] == "refused":
                vault.connect()
                self.reconnects += 1

    def killer(self):
        """Random kills now and then, and kills of processes whose helper is talking to the fake
        (inside the window: the fake may have granted and be answering)."""
        rng = random.Random(self.a.seed)
        seen = set()
        next_random = time.time() + rng.uniform(0.2, 1.0)
        while not self.stop and self.kills < self.a.max_kills:
            time.sleep(0.005)
            with self.lock:
                pids = list(self.live)
            pid, window = None, False
            for p in pids:
                if p not in seen and helper_running(p):
                    seen.add(p)
                    if rng.random() < 0.5:
                        pid, window = p, True
                        time.sleep(rng.uniform(0, self.a.latency))
                    break
            if pid is None and time.time() >= next_random and pids:
                pid = rng.choice(pids)
                next_random = time.time() + rng.uniform(0.2, 1.0)
            if pid is None:
                continue
            with self.lock:
                call = self.live.get(pid)
            if call is None:
                continue
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            call["killed"] = True
            self.kills += 1
            self.in_window_kills += window


def helper_running(pid):
    """Whether a `vault-http` child of `pid` is running (any thread of vault may have started it)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                children = f.read().split()
        except OSError:
            continue
        for c in children:
            try:
                with open(f"/proc/{c}/comm") as f:
                    if f.read().strip() == "vault-http":
                        return True
            except OSError:
                pass
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--short", action="store_true", help="4 processes x 100 calls (CI)")
    ap.add_argument("--kill", action="store_true", help="SIGKILL processes among them")
    ap.add_argument("--procs", type=int, default=8)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--expires-in", type=int, default=2)
    ap.add_argument("--min-valid", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=2)
    ap.add_argument("--max-kills", type=int, default=60)
    ap.add_argument("--latency", type=float, default=0.2, help="the fake's delay between granting and answering")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    a = ap.parse_args()
    if a.short:
        a.procs, a.calls, a.max_kills, a.expires_in = 4, 100, 12, 2
    if not os.path.exists(binary()):
        sys.exit(f"{binary()} is not built: run `swift build` first, or set VAULT_BINARY")
    passed, failed = [], []

    def check(name, ok, detail=""):
        (passed if ok else failed).append(name)
        print(("ok    " if ok else "FAIL  ") + name + (f": {detail}" if detail and not ok else ""))

    fake = Fake(a.expires_in, a.latency)
    work = tempfile.mkdtemp(prefix="vault-storm-")
    try:
        vault = Vault(work, fake)
        vault.setup()
        vault.connect()
        storm = Storm(a)
        started = time.time()
        threads = [threading.Thread(target=storm.worker, args=(n, vault)) for n in range(a.procs)]
        killer = threading.Thread(target=storm.killer) if a.kill else None
        for t in threads:
            t.start()
        if killer:
            killer.start()
        for t in threads:
            t.join()
        storm.stop = True
        if killer:
            killer.join()
        seconds = time.time() - started
        stats = fake.stats()
        verify(a, storm, stats, seconds, check)
    finally:
        fake.stop()
        subprocess.run(["rm", "-rf", work])
    print(f"{len(passed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


def verify(a, storm, stats, seconds, check):
    access = stats["access"]
    counts = stats["counts"]
    calls = storm.calls
    killed = [c for c in calls if c["killed"]]
    burnt_reports = [c for c in calls if not c["killed"] and "is burnt" in c["stderr"]]
    refused_reports = [c for c in calls if not c["killed"] and "connect the entry again" in c["stderr"]]
    other_refusals = [c for c in refused_reports if "is burnt" not in c["stderr"] and "vault does not ask Exact again" not in c["stderr"]]
    ok_calls = [c for c in calls if not c["killed"] and c["status"] == 0]
    print(f"calls {len(calls)} ({a.procs} x {a.calls}) in {seconds:.1f} s; token requests {counts['token_requests']}, "
          f"refreshes {counts['refreshes']}, code exchanges {counts['code_exchanges']}, old-token errors {counts['old_token_errors']}")
    if a.kill:
        print(f"kills {storm.kills} ({storm.in_window_kills} while the helper was talking to the fake); "
              f"burnt reports {len(burnt_reports)} (distinct {len(set(interrupt_times(burnt_reports)))}); "
              f"lost refresh tokens {len(stats['never_presented'])}; reconnects {storm.reconnects}")

    # Every call that was neither killed nor told to reconnect printed a valid token.
    expected_ok = [c for c in calls if not c["killed"] and c not in refused_reports]
    bad = [c for c in expected_ok if c["status"] != 0]
    check("every call not killed and not told to reconnect exits 0", not bad, bad[:2] and repr({k: bad[0][k] for k in ("status", "stderr")}))
    invalid, short = [], []
    for c in ok_calls:
        token = c["stdout"].strip()
        expiry = access.get(token)
        if expiry is None or expiry <= c["end"]:
            invalid.append(c)
        elif expiry < c["start"] + a.min_valid - 1:
            short.append(c)
    check("every printed token was issued by the fake and valid at print time", not invalid,
          invalid[:1] and f"{len(invalid)} invalid")
    check("every printed token valid for --min-valid from the call's start", not short, short[:1] and f"{len(short)} too short")
    unneeded = [r for r in stats["refreshes"] if r["previous_access_expiry"] is not None
                and r["t"] < r["previous_access_expiry"] - a.min_valid - 1.5]
    # When each refresh was made, relative to the moment the previous access token had just
    # --min-valid seconds left (negative: before it; vault counts whole seconds).
    offsets = [r["t"] - (r["previous_access_expiry"] - a.min_valid) for r in stats["refreshes"] if r["previous_access_expiry"] is not None]
    if offsets:
        print(f"refreshes {len(stats['refreshes'])}, each made {min(offsets):+.2f} s to {max(offsets):+.2f} s from the moment the "
              f"previous access token had --min-valid {a.min_valid} s left")
    check("no refresh while the stored access token was still valid long enough (refreshes are the minimum)", not unneeded,
          unneeded[:1] and f"{len(unneeded)} early, first {unneeded[0]}")
    if not a.kill:
        check("0 old refresh token errors", counts["old_token_errors"] == 0, str(counts["old_token_errors"]))
        check("no refresh token lost", not stats["never_presented"], str(stats["never_presented"]))
        check("every call exits 0", len(ok_calls) == len(calls), f"{len(calls) - len(ok_calls)} failed")
        return
    lost = set(stats["never_presented"])
    reported = set(interrupt_times(burnt_reports))
    # An old token is presented only by the next holder after a lost answer: the one that
    # reports it, or one killed in its turn before it could (then the next one does).
    strays = [o for o in stats["old_token_presented"] if o["index"] + 1 not in lost]
    check("every old refresh token error is the retry after a lost answer (never two live processes racing)", not strays,
          f"{len(strays)} others, first {strays[:1]}")
    check("old refresh token errors beyond the reported ones came from killed processes",
          counts["old_token_errors"] - len(reported) <= storm.kills, f"old-token errors {counts['old_token_errors']}")
    check("every lost refresh token was reported as burnt, with its interrupted refresh", len(reported) == len(lost),
          f"reported {len(reported)}, lost {len(lost)}")
    check("no refusal reported any other way (every burnt token was detected as such)", not other_refusals,
          other_refusals[:1] and other_refusals[0]["stderr"])
    check("lost refresh tokens <= kills", len(lost) <= storm.kills, f"lost {len(lost)}, kills {storm.kills}")


def interrupt_times(reports):
    out = []
    for c in reports:
        m = re.search(r"a refresh sent at (\S+) (was interrupted|got no usable answer)", c["stderr"])
        if m:
            out.append(m.group(1))
    return out


if __name__ == "__main__":
    main()
