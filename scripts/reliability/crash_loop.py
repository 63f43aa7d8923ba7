#!/usr/bin/env python3
"""SIGKILLs `vault open`, `vault remove`, `vault passwd`, `vault rotate`, `vault unlock add` /
`remove`, `vault backup`, `vault request`, `vault open` of blobs answering requests, and
`vault get` at random moments and checks, after every kill, that the keystore holds exactly the
old or the new state (docs/RELIABILITY.md), and that its audit log agrees with it (issue 13: a
change and its record are one commit). `open3` is `vault open` of three blobs in one run: each
is its own transaction, so a kill may leave the old state plus any prefix of the three, and
never loses one it printed.

Each kill lands at a moment drawn uniformly from [0, T], T the command's measured duration (the
median of uncut runs, re-measured as the keystore grows), so kills fall right at the start, in
the middle and near the end. A run that finished before its kill is not counted as a kill.

After every kill:
  - the next command works at once (no stale lock: every check has a timeout),
  - the keystore opens and its entries (label -> blob id) are exactly the old or the new state;
    for passwd, exactly one of the old and new passphrases unlocks and the entries are unchanged,
  - an entry `vault open` printed (reported stored) before the kill is present; a removal or
    passphrase change reported done is in effect,
  - a stored blob is in the replay ledger under its label (opening it again is a replay), and
    so is a removed entry's blob,
  - no temporary file survives the next write command;
  - rotate: the identities are the old ones, or the old ones with one new current identity (the
    previous one active); unlock add/remove: the methods are the old or the new ones, and a key
    file opens the keystore exactly when its method is there; backup: either no file at all (not
    even a hidden temporary one) or a whole backup, which restores the same entries;
  - the audit log verifies (`vault log --verify`) and agrees with the keystore: every entry's
    blob has its open (or replace) record, and the newest such record of a label is its entry's;
    every request has its request-issue record and only those; a request is answered exactly
    when a request-answer record names it and the blob that answered; a cancelled one has its
    request-cancel record; a `get` that printed its value has its record (a read is never
    handed out before its record is durable); each rotation has its identity records, each
    unlock method its unlock-add record; a backup adds only its `backup` record, and the
    keystore it restores ends with it.

  scripts/reliability/crash_loop.py --short     # a few minutes: 10 x (25 uniform + 10 triggered) kills
  scripts/reliability/crash_loop.py             # the long run: 10 x (350 + 100) kills
"""
import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def killed_run(argv, delay, trigger=None, timeout=common.TIMEOUT):
    """Starts argv and SIGKILLs it after `delay` seconds, counted from the start or, with a
    trigger, from the moment trigger() first returns true (polled without pause: a change on
    disk). Returns (killed, status, stdout, stderr)."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=common.clean_env(), start_new_session=True)
    if trigger is not None:
        while p.poll() is None and not trigger():
            pass
    deadline = time.monotonic() + delay
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or p.poll() is not None:
            break
        time.sleep(min(left, 0.002))
    killed = False
    if p.poll() is None:
        os.kill(p.pid, signal.SIGKILL)
        killed = True
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
    if killed and p.returncode != -signal.SIGKILL:
        killed = False  # it exited on its own in the same instant
    return killed, p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def measure(argv_factory, n=5):
    """Median wall time of n uncut runs of the command argv_factory() returns (it may set up each)."""
    times = []
    for _ in range(n):
        argv, after = argv_factory()
        start = time.monotonic()
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=common.clean_env(), start_new_session=True, timeout=common.TIMEOUT)
        times.append(time.monotonic() - start)
        after(r)
    return statistics.median(times)


class Loop:
    def __init__(self, vault, kills, targeted, seed, tally, verbose):
        self.vault = vault
        self.kills = kills
        self.targeted = targeted
        self.rng = random.Random(seed)
        self.t = tally
        self.verbose = verbose
        self.stats = {}
        self.ws = common.Workspace(vault, prefix="vault-crash-")
        self.ws.rng = random.Random(seed + 1)
        self.pending_tmp = []
        self.bulk = 60

    def count(self, command, outcome, fraction):
        s = self.stats.setdefault(command, {"old": 0, "new": 0, "finished": 0, "bins": [0] * 5})
        s[outcome] += 1
        if outcome != "finished":
            s["bins"][min(int(fraction * 5), 4)] += 1

    def plan(self, done, duration, trigger):
        """The first `kills` kills land uniformly over [0, duration]; the `targeted` ones after
        them land 0-1 ms after `trigger` sees the command start changing the files."""
        if done < self.kills:
            return "", self.rng.uniform(0.0, duration), None
        return " (on-disk trigger)", self.rng.uniform(0.0, 0.001), trigger

    def grew(self, path):
        size = os.path.getsize(path)
        return lambda: os.path.getsize(path) != size

    def temporary_appears(self):
        base = os.path.basename(self.ks) + ".tmp-"
        before = set(os.listdir(self.ws.dir))
        return lambda: any(n.startswith(base) and n not in before for n in os.listdir(self.ws.dir))

    # The audit log against the keystore ---------------------------------------------------
    def log_records(self, args=None):
        r = common.run([self.vault, "log", "--json", *(args or self.args)], timeout=15)
        return json.loads(r.stdout) if r.status == 0 else None

    def check_log(self, what, args=None):
        """The log verifies and agrees with the entries and requests (see the module doc)."""
        args = args or self.args
        v = common.run([self.vault, "log", "--verify", *args], timeout=15)
        if not self.t.check(v.status == 0, f"{what}: vault log --verify fails: {v}"):
            return None
        log = self.log_records(args)
        st, r = common.state(self.vault, args, timeout=15)
        q = common.run([self.vault, "requests", "--json", *args], timeout=15)
        if not self.t.check(log is not None and st is not None and q.status == 0, f"{what}: cannot read log, entries or requests"):
            return None
        last = {}
        for rec in log:
            if rec["operation"] in ("open", "replace", "remove"):
                last[rec["label"]] = rec
        for label, blob_id in st.items():
            rec = last.get(label)
            self.t.check(rec is not None and rec["operation"] != "remove" and rec.get("blob_id") == blob_id,
                         f"{what}: entry {label} ({blob_id}) is not the one its newest log record names: {rec}")
        for label, rec in last.items():
            self.t.check(rec["operation"] == "remove" or label in st,
                         f"{what}: the log stores {label} ({rec.get('blob_id')}), but the keystore has no such entry")
        issued = {rec["request"] for rec in log if rec["operation"] == "request-issue"}
        answered = {rec["request"]: rec.get("blob_id") for rec in log if rec["operation"] == "request-answer"}
        cancelled = {rec["request"] for rec in log if rec["operation"] == "request-cancel"}
        requests = {x["code"]: x for x in json.loads(q.stdout)}
        self.t.check(set(requests) == issued, f"{what}: requests {sorted(requests)} but request-issue records {sorted(issued)}")
        for code, x in requests.items():
            if x["status"] == "answered":
                self.t.check(answered.get(code) == x.get("answered_by") is not None,
                             f"{what}: request {code} answered by {x.get('answered_by')}, the log says {answered.get(code)}")
            else:
                self.t.check(code not in answered, f"{what}: request {code} is {x['status']} but the log has its answer")
            self.t.check((x["status"] == "cancelled") == (code in cancelled), f"{what}: request {code} is {x['status']}; log cancelled: {code in cancelled}")
        return log

    # Checks shared by open and remove -----------------------------------------------------
    def check_state(self, expected_old, expected_new, what):
        st, r = common.state(self.vault, self.args, timeout=15)
        if not self.t.check(st is not None, f"{what}: the keystore does not open afterwards: {r}"):
            return None
        if st == expected_old:
            return "old"
        if st == expected_new:
            return "new"
        self.t.check(False, f"{what}: neither old nor new state: old {expected_old}, new {expected_new}, found {st}")
        return None

    def check_temporaries_after_write(self, what):
        """Temporary files seen after earlier kills must be gone once a write command has run."""
        left = [n for n in self.pending_tmp if os.path.exists(self.ws.path(n))]
        self.t.check(not left, f"{what}: temporary files survived the next write command: {left}")
        self.pending_tmp = common.temporaries(self.ws.dir, self.ks)

    def replay_refused(self, blob, label, blob_id, what):
        r = common.run([self.vault, "open", *self.args, blob], timeout=15)
        ok = r.status == 1 and f"already opened: blob {blob_id} was stored as '{label}'" in r.stderr
        self.t.check(ok, f"{what}: re-opening {label} is not refused as a replay of {blob_id}: {r}")

    def fresh_blob(self):
        self.serial += 1
        label = f"entry-{self.serial:05d}"
        blob, _ = self.ws.seal(label)
        return label, blob

    def store(self, label, blob):
        r = common.run([self.vault, "open", *self.args, blob], timeout=15)
        self.t.check(r.status == 0, f"setup open of {label}: {r}")
        st, _ = common.state(self.vault, self.args)
        self.state = st
        self.check_temporaries_after_write(f"open {label}")

    # open ------------------------------------------------------------------------------------
    def run_open(self):
        self.ks, self.args = self.ws.init_key_file("crash")
        self.serial = 0
        self.state = {}
        pool = []  # blobs not stored yet: (label, path)
        for _ in range(3):
            self.store(*self.fresh_blob())
        def factory():
            label, blob = self.fresh_blob()
            return [self.vault, "open", *self.args, blob], lambda r: self.refresh()
        duration = measure(factory)
        done = 0
        while done < self.kills + self.targeted:
            if done % 50 == 0 and done:
                duration = measure(factory, 3)
            label, blob = pool.pop() if pool else self.fresh_blob()
            mode, d, trigger = self.plan(done, duration, self.grew(self.ks))
            key = "open" + mode
            killed, status, out, err = killed_run([self.vault, "open", *self.args, blob], d, trigger)
            what = f"open{mode} kill {done + 1} ({label}, at {d * 1000:.1f} ms of {duration * 1000:.1f})"
            reported = out.startswith(label + "\t")
            old = dict(self.state)
            st, r = common.state(self.vault, self.args, timeout=15)
            if not self.t.check(st is not None, f"{what}: the keystore does not open afterwards: {r}"):
                return
            new_id = st.get(label)
            expected_new = dict(old, **{label: new_id}) if new_id else None
            if st == old:
                outcome = "old"
            elif expected_new is not None and st == expected_new and new_id not in old.values():
                outcome = "new"
            else:
                self.t.check(False, f"{what}: neither old nor new state: old {old}, found {st}")
                return
            if not killed:
                self.t.check(status == 0 and outcome == "new", f"{what}: an uncut open did not store: {status} {err}")
                self.count(key, "finished", 1.0)
            else:
                self.t.check(not reported or outcome == "new", f"{what}: reported stored, then lost: {out!r}")
                self.count(key, outcome, d / duration)
                done += 1
            self.check_log(what)
            if outcome == "new":
                self.replay_refused(blob, label, new_id, what)
                self.check_temporaries_after_write(what)
            else:
                pool.append((label, blob))
                self.pending_tmp += [n for n in common.temporaries(self.ws.dir, self.ks) if n not in self.pending_tmp]
            self.state = st
            if self.verbose:
                print(f"{what}: {'killed' if killed else 'finished'}, {outcome}", flush=True)
        # Every blob left over must still open normally: the next command works.
        for label, blob in pool:
            self.store(label, blob)
        self.t.check(len(self.state) == self.serial, f"open: {len(self.state)} entries for {self.serial} blobs")

    # open of several blobs in one invocation ---------------------------------------------------
    def run_open3(self):
        """`vault open a b c`: each blob is its own transaction, stored and reported in order, so
        a kill may leave the old state plus any prefix of the three, and every line printed
        before the kill must be among them."""
        self.ks, self.args = self.ws.init_key_file("crash3")
        self.serial = 0
        self.state = {}
        pool = []
        for _ in range(3):
            self.store(*self.fresh_blob())

        def factory():
            blobs = [self.fresh_blob() for _ in range(3)]
            return [self.vault, "open", *self.args, *[b for _, b in blobs]], lambda r: self.refresh()
        duration = measure(factory)
        done = 0
        while done < self.kills + self.targeted:
            if done % 50 == 0 and done:
                duration = measure(factory, 3)
            batch = [pool.pop() if pool else self.fresh_blob() for _ in range(3)]
            labels = [l for l, _ in batch]
            mode, d, trigger = self.plan(done, duration, self.grew(self.ks))
            key = "open3" + mode
            killed, status, out, err = killed_run([self.vault, "open", *self.args, *[b for _, b in batch]], d, trigger)
            what = f"open3{mode} kill {done + 1} ({', '.join(labels)}, at {d * 1000:.1f} ms of {duration * 1000:.1f})"
            old = dict(self.state)
            st, r = common.state(self.vault, self.args, timeout=15)
            if not self.t.check(st is not None, f"{what}: the keystore does not open afterwards: {r}"):
                return
            added = [l for l in labels if l in st]
            prefix = labels[:len(added)]
            unchanged = all(st.get(k) == v for k, v in old.items()) and set(st) == set(old) | set(added)
            if not self.t.check(added == prefix and unchanged,
                                f"{what}: not the old state plus a prefix of the blobs: old {old}, found {st}"):
                return
            printed = [line.split("\t")[0] for line in out.splitlines()]
            self.t.check(all(l in st for l in printed), f"{what}: reported stored, then lost: {printed} vs {added}")
            outcome = f"{len(added)} of 3"
            if not killed:
                self.t.check(status == 0 and len(added) == 3, f"{what}: an uncut open did not store all: {status} {err}")
                self.count(key, "finished", 1.0)
            else:
                s = self.stats.setdefault(key, {"old": 0, "new": 0, "finished": 0, "bins": [0] * 5})
                s[outcome] = s.get(outcome, 0) + 1
                self.count(key, "old" if not added else "new", d / duration)
                done += 1
            self.check_log(what)
            for l, b in batch:
                if l in st:
                    self.replay_refused(b, l, st[l], what)
                else:
                    pool.append((l, b))
            self.state = st
            if self.verbose:
                print(f"{what}: {'killed' if killed else 'finished'}, {outcome}", flush=True)
        for label, blob in pool:
            self.store(label, blob)
        self.t.check(len(self.state) == self.serial, f"open3: {len(self.state)} entries for {self.serial} blobs")

    def refresh(self):
        st, _ = common.state(self.vault, self.args)
        self.state = st

    # remove ----------------------------------------------------------------------------------
    def run_remove(self):
        self.ks, self.args = self.ws.init_key_file("remove")
        self.serial = 0
        self.state = {}
        blobs = {}
        for _ in range(12):
            label, blob = self.fresh_blob()
            blobs[label] = blob
            self.store(label, blob)
        def factory():
            label = sorted(self.state)[0]
            def after(r):
                self.refresh()
                l2, b2 = self.fresh_blob()
                blobs[l2] = b2
                self.store(l2, b2)
            return [self.vault, "remove", *self.args, label], after
        duration = measure(factory)
        done = 0
        while done < self.kills + self.targeted:
            if done % 50 == 0 and done:
                duration = measure(factory, 3)
            label = self.rng.choice(sorted(self.state))
            old = dict(self.state)
            removed_id = old[label]
            new = {k: v for k, v in old.items() if k != label}
            mode, d, trigger = self.plan(done, duration, self.grew(self.ks))
            key = "remove" + mode
            killed, status, out, err = killed_run([self.vault, "remove", *self.args, label], d, trigger)
            what = f"remove{mode} kill {done + 1} ({label}, at {d * 1000:.1f} ms of {duration * 1000:.1f})"
            outcome = self.check_state(old, new, what)
            if outcome is None:
                return
            self.check_log(what)
            reported = "removed '" in err
            if not killed:
                self.t.check(status == 0 and outcome == "new", f"{what}: an uncut remove did not remove: {status} {err}")
                self.count(key, "finished", 1.0)
            else:
                self.t.check(not reported or outcome == "new", f"{what}: reported removed, but still there")
                self.count(key, outcome, d / duration)
                done += 1
            if outcome == "new":
                self.state = new
                self.check_temporaries_after_write(what)
                # Its blob id stays in the replay ledger under the label it was stored under.
                self.replay_refused(blobs[label], label, removed_id, what)
                l2, b2 = self.fresh_blob()
                blobs[l2] = b2
                self.store(l2, b2)
            else:
                self.pending_tmp += [n for n in common.temporaries(self.ws.dir, self.ks) if n not in self.pending_tmp]
            if self.verbose:
                print(f"{what}: {'killed' if killed else 'finished'}, {outcome}", flush=True)

    # passwd ----------------------------------------------------------------------------------
    def run_passwd(self):
        phrases = ["correct horse battery staple", "tr0ub4dor and three"]
        self.ks, pf0 = self.ws.init_passphrase("passwd", phrases[0], kdf="interactive")
        files = [pf0, self.ws.path("passwd-2.pass")]
        common.write_private(files[1], phrases[1] + "\n")
        current = 0
        self.args = ["--keystore", self.ks, "--passphrase-file", files[current]]
        self.serial = 0
        self.state = {}
        for _ in range(4):
            self.store(*self.fresh_blob())
        # Large generic entries (about 12 KB each) make the rewrite itself last long enough that
        # a fair share of the kills land while the new file is written, synced and renamed.
        bulk = [self.ws.seal_generic(f"bulk-{i:03d}") for i in range(self.bulk)]
        for i in range(0, len(bulk), 20):
            r = common.run([self.vault, "open", *self.args, *bulk[i:i + 20]], timeout=60)
            self.t.check(r.status == 0, f"passwd setup: bulk open: {r}")
        self.refresh()
        entries = dict(self.state)
        print(f"passwd: keystore of {len(entries)} entries, {os.path.getsize(self.ks)} bytes", flush=True)

        def argv(cur):
            return [self.vault, "passwd", "--keystore", self.ks, "--passphrase-file", files[cur],
                    "--new-passphrase-file", files[1 - cur], "--kdf", "interactive"]

        def factory():
            return argv(self.current), lambda r: setattr(self, "current", 1 - self.current)
        self.current = current
        duration = measure(factory, 4)
        current = self.current
        done = 0
        while done < self.kills + self.targeted:
            if done % 50 == 0 and done:
                self.current = current
                duration = measure(factory, 2)
                current = self.current
            mode, d, trigger = self.plan(done, duration, self.temporary_appears())
            key = "passwd" + mode
            prior = self.log_records(["--keystore", self.ks, "--passphrase-file", files[current]]) or []
            killed, status, out, err = killed_run(argv(current), d, trigger)
            what = f"passwd{mode} kill {done + 1} (at {d * 1000:.1f} ms of {duration * 1000:.1f})"
            unlocks = []
            for i in (current, 1 - current):
                st, r = common.state(self.vault, ["--keystore", self.ks, "--passphrase-file", files[i]], timeout=15)
                if st is not None:
                    unlocks.append(i)
                    self.t.check(st == entries, f"{what}: entries changed: {entries} -> {st}")
                else:
                    self.t.check(r.status == 1 and "wrong passphrase" in r.stderr,
                                 f"{what}: passphrase {i} fails with something else than a wrong passphrase: {r}")
            if not self.t.check(len(unlocks) == 1, f"{what}: {len(unlocks)} passphrases unlock the keystore"):
                return
            outcome = "old" if unlocks[0] == current else "new"
            log = self.check_log(what, ["--keystore", self.ks, "--passphrase-file", files[unlocks[0]]])
            # The re-key and its record are one rename: the new file has one record more, `passwd`.
            grew = log is not None and log[:len(prior)] == prior and len(log) == len(prior) + 1 and log[-1]["operation"] == "passwd"
            self.t.check(log is not None and (grew if outcome == "new" else log == prior),
                         f"{what}: {outcome} state, but the log went from {len(prior)} to {len(log) if log else None} records")
            reported = "is changed" in err
            if not killed:
                self.t.check(status == 0 and outcome == "new", f"{what}: an uncut passwd did not change it: {status} {err}")
                self.count(key, "finished", 1.0)
            else:
                self.t.check(not reported or outcome == "new", f"{what}: reported changed, but the old passphrase unlocks")
                self.count(key, outcome, d / duration)
                done += 1
            if outcome == "new":
                current = 1 - current
            left = common.temporaries(self.ws.dir, self.ks)
            if left:
                # The next command is a plain write (an open), not another passwd: it must clean up.
                self.stats[key]["left temporary"] = self.stats[key].get("left temporary", 0) + 1
                self.pending_tmp += [n for n in left if n not in self.pending_tmp]
                self.args = ["--keystore", self.ks, "--passphrase-file", files[current]]
                self.store(*self.fresh_blob())
                entries = dict(self.state)
            if self.verbose:
                print(f"{what}: {'killed' if killed else 'finished'}, {outcome}", flush=True)
        # The next command after the last kill: an uncut passwd, which must also clean up.
        r = common.run(argv(current), timeout=30)
        self.t.check(r.status == 0, f"passwd after the loop: {r}")
        self.check_temporaries_after_write("passwd after the loop")
        self.t.check(not common.temporaries(self.ws.dir, self.ks), "passwd: temporary files left at the end")

    # rotate ----------------------------------------------------------------------------------
    def identities(self):
        """{fingerprint: state} of `vault identities --json`; None and the run on failure."""
        r = common.run([self.vault, "identities", "--json", *self.args], timeout=15)
        if r.status != 0:
            return None, r
        return {i["fingerprint"]: i["state"] for i in json.loads(r.stdout)}, r

    def run_rotate(self):
        """`vault rotate`: afterwards the identities are exactly the old ones, or the old ones with
        the current one made active and one new current; the entries never change."""
        self.ks, self.args = self.ws.init_key_file("rotate")
        self.serial = 0
        self.state = {}
        for _ in range(4):
            self.store(*self.fresh_blob())
        entries = dict(self.state)
        ids, _ = self.identities()
        self.first_identity = list(ids)[0]

        def factory():
            return [self.vault, "rotate", *self.args], lambda r: None
        duration = measure(factory)
        ids, _ = self.identities()
        done = 0
        while done < self.kills + self.targeted:
            mode, d, trigger = self.plan(done, duration, self.grew(self.ks))
            key = "rotate" + mode
            killed, status, out, err = killed_run([self.vault, "rotate", *self.args], d, trigger)
            what = f"rotate{mode} kill {done + 1} (at {d * 1000:.1f} ms of {duration * 1000:.1f})"
            after, r = self.identities()
            if not self.t.check(after is not None, f"{what}: the keystore does not open afterwards: {r}"):
                return
            self.t.check(list(after.values()).count("current") == 1, f"{what}: not exactly one current identity: {after}")
            added = [fp for fp in after if fp not in ids]
            if after == ids:
                outcome = "old"
            else:
                old_current = [fp for fp, st in ids.items() if st == "current"][0]
                expected = dict(ids, **{old_current: "active"})
                ok = len(added) == 1 and after.get(added[0]) == "current" and {k: v for k, v in after.items() if k != added[0]} == expected
                if not self.t.check(ok, f"{what}: neither the old nor the new identities: old {ids}, found {after}"):
                    return
                outcome = "new"
                # What it printed (the new recipient's fingerprint) is the new current identity.
                self.t.check(not out or added[0] in out, f"{what}: printed {out!r}, but {added[0]} is current")
            st, _ = common.state(self.vault, self.args, timeout=15)
            self.t.check(st == entries, f"{what}: entries changed: {entries} -> {st}")
            # Each rotation is one commit of its identity records and their audit records.
            log = self.check_log(what)
            currents = [x["fingerprint"] for x in (log or []) if x["operation"] == "identity" and x.get("detail") == "current"]
            self.t.check(log is not None and sorted(currents) == sorted(fp for fp in after if fp != self.first_identity),
                         f"{what}: identities {after}, but the log made {currents} current")
            if not killed:
                if not self.t.check(status == 0 and outcome == "new", f"{what}: an uncut rotate did not rotate: {status} {err}"):
                    return
                self.count(key, "finished", 1.0)
            else:
                self.t.check(not out or outcome == "new", f"{what}: reported rotated, but the identities are the old ones")
                self.count(key, outcome, d / duration)
                done += 1
            ids = after
            if self.verbose:
                print(f"{what}: {'killed' if killed else 'finished'}, {outcome}", flush=True)
        # Blobs sealed to the first identity (now active) still open.
        label, blob = self.fresh_blob()
        r = common.run([self.vault, "open", *self.args, blob], timeout=15)
        self.t.check(r.status == 0, f"rotate: a blob sealed to the first identity no longer opens: {r}")

    # unlock add / remove ---------------------------------------------------------------------
    def methods(self):
        r = common.run([self.vault, "unlock", "list", "--json", *self.args], timeout=15)
        if r.status != 0:
            return None, r
        return sorted(m["name"] for m in json.loads(r.stdout)), r

    def opens_with(self, key):
        st, r = common.state(self.vault, ["--keystore", self.ks, "--key-file", key], timeout=15)
        return st, r

    def run_unlock(self):
        """`vault unlock add --key-file` and `vault unlock remove`, in turn: afterwards the methods
        are exactly the old or the new ones, the new key file opens the keystore exactly when its
        method is there, the base key file always does, and the entries never change."""
        self.ks, self.args = self.ws.init_key_file("unlock")
        base = self.args[-1]
        self.serial = 0
        self.state = {}
        for _ in range(4):
            self.store(*self.fresh_blob())
        # Large entries make the rewrite last long enough for kills to land in it.
        bulk = [self.ws.seal_generic(f"bulk-{i:03d}") for i in range(self.bulk)]
        for i in range(0, len(bulk), 20):
            r = common.run([self.vault, "open", *self.args, *bulk[i:i + 20]], timeout=60)
            self.t.check(r.status == 0, f"unlock setup: bulk open: {r}")
        self.refresh()
        entries = dict(self.state)
        self.extra = None  # the key file of the method 'extra', when it is there
        self.n = 0

        def argv():
            if self.extra is None:
                self.n += 1
                self.candidate = self.ws.path(f"extra-{self.n}.key")
                return "add", [self.vault, "unlock", "add", "--key-file", self.candidate, "--name", "extra",
                               "--keystore", self.ks, "--unlock-key-file", base]
            return "remove", [self.vault, "unlock", "remove", "extra", *self.args]

        def factory():
            kind, a = argv()
            def after(r):
                self.extra = self.candidate if kind == "add" else None
            return a, after
        duration = measure(factory, 4)
        done = 0
        while done < self.kills + self.targeted:
            kind, a = argv()
            old = ["extra", "key-file"] if self.extra else ["key-file"]
            new = ["key-file"] if self.extra else ["extra", "key-file"]
            mode, d, trigger = self.plan(done, duration, self.temporary_appears())
            key = "unlock" + mode
            killed, status, out, err = killed_run(a, d, trigger)
            what = f"unlock {kind}{mode} kill {done + 1} (at {d * 1000:.1f} ms of {duration * 1000:.1f})"
            names, r = self.methods()
            if not self.t.check(names is not None, f"{what}: the keystore does not open with its key file afterwards: {r}"):
                return
            if names == old:
                outcome = "old"
            elif names == new:
                outcome = "new"
            else:
                self.t.check(False, f"{what}: neither the old nor the new methods: old {old}, new {new}, found {names}")
                return
            st, _ = common.state(self.vault, self.args, timeout=15)
            self.t.check(st == entries, f"{what}: entries changed: {entries} -> {st}")
            # The rewrite ends with its own record: the method is there exactly when the log says so.
            log = self.check_log(what)
            ops = [x["operation"] for x in (log or []) if x["operation"] in ("unlock-add", "unlock-remove")]
            self.t.check(log is not None and ops.count("unlock-add") - ops.count("unlock-remove") == (1 if "extra" in names else 0),
                         f"{what}: methods {names}, but the log says {ops}")
            extra_after = (self.candidate if kind == "add" else None) if outcome == "new" else self.extra
            tried = self.candidate if kind == "add" else self.extra
            if tried and os.path.exists(tried):
                st2, r2 = self.opens_with(tried)
                if extra_after:
                    self.t.check(st2 == entries, f"{what}: the key file of 'extra' does not open the keystore: {r2}")
                else:
                    self.t.check(st2 is None and r2.status == 1, f"{what}: a key file whose method is gone opens the keystore")
                    if kind == "add":
                        s = self.stats.setdefault(key, {"old": 0, "new": 0, "finished": 0, "bins": [0] * 5})
                        s["left a key file"] = s.get("left a key file", 0) + 1
            elif extra_after:
                self.t.check(False, f"{what}: the method 'extra' is there but its key file is not")
            reported = "added the key file" in err or "removed 'extra'" in err
            if not killed:
                if not self.t.check(status == 0 and outcome == "new", f"{what}: an uncut {kind} did not change it: {status} {err}"):
                    return
                self.count(key, "finished", 1.0)
            else:
                self.t.check(not reported or outcome == "new", f"{what}: reported done, but the methods are the old ones")
                self.count(key, outcome, d / duration)
                s = self.stats[key]
                s[f"{kind}: {outcome}"] = s.get(f"{kind}: {outcome}", 0) + 1
                done += 1
            self.extra = extra_after
            left = common.temporaries(self.ws.dir, self.ks)
            if left:
                s = self.stats.setdefault(key, {"old": 0, "new": 0, "finished": 0, "bins": [0] * 5})
                s["left temporary"] = s.get("left temporary", 0) + 1
                self.pending_tmp += [n for n in left if n not in self.pending_tmp]
                self.store(*self.fresh_blob())
                entries = dict(self.state)
            if self.verbose:
                print(f"{what}: {'killed' if killed else 'finished'}, {outcome}", flush=True)

    # backup ----------------------------------------------------------------------------------
    def run_backup(self):
        """`vault backup -o FILE`: a kill leaves either no file at all (no hidden temporary
        either) or a whole backup that restores the keystore's entries; the keystore never changes."""
        self.ks, self.args = self.ws.init_key_file("backup")
        self.serial = 0
        self.state = {}
        for _ in range(4):
            self.store(*self.fresh_blob())
        bulk = [self.ws.seal_generic(f"bulk-{i:03d}") for i in range(self.bulk)]
        for i in range(0, len(bulk), 20):
            r = common.run([self.vault, "open", *self.args, *bulk[i:i + 20]], timeout=60)
            self.t.check(r.status == 0, f"backup setup: bulk open: {r}")
        self.refresh()
        entries = dict(self.state)
        bkey = self.ws.path("backup-own.key")  # the backup's own, not the keystore's
        self.n = 0

        def argv():
            self.n += 1
            return self.ws.path(f"out-{self.n}.backup"), [self.vault, "backup", *self.args, "--backup-key-file", bkey,
                                                          "-o", self.ws.path(f"out-{self.n}.backup")]

        def factory():
            out, a = argv()
            return a, lambda r: os.path.exists(out) and os.unlink(out)
        duration = measure(factory, 4)
        done = 0
        restored = 0
        while done < self.kills + self.targeted:
            out, a = argv()
            name = os.path.basename(out)
            mode, d, trigger = self.plan(done, duration, lambda: any(n.startswith("." + name) or n == name for n in os.listdir(self.ws.dir)))
            key = "backup" + mode
            prior = self.log_records() or []
            killed, status, stdout, err = killed_run(a, d, trigger)
            what = f"backup{mode} kill {done + 1} (at {d * 1000:.1f} ms of {duration * 1000:.1f})"
            hidden = [n for n in os.listdir(self.ws.dir) if n.startswith("." + name)]
            self.t.check(not hidden, f"{what}: a temporary backup file is left: {hidden}")
            # A backup changes the keystore by its `backup` record alone (committed before the
            # copy is taken), or not at all.
            log = self.check_log(what)
            st, _ = common.state(self.vault, self.args, timeout=15)
            self.t.check(st == entries, f"{what}: entries changed: {entries} -> {st}")
            added = (log or [])[len(prior):]
            self.t.check(log is not None and log[:len(prior)] == prior and [x["operation"] for x in added] in ([], ["backup"]),
                         f"{what}: the backup added {added}")
            self.t.check(not os.path.exists(out) or len(added) == 1, f"{what}: a backup file without its record")
            if os.path.exists(out):
                outcome = "new"
                target = self.ws.path(f"restored-{self.n}.vault")
                r = common.run([self.vault, "restore", out, "--keystore", target, "--backup-key-file", bkey], timeout=30)
                ok = r.status == 0
                if ok:
                    st, r2 = common.state(self.vault, ["--keystore", target, "--key-file", self.args[-1]], timeout=15)
                    restored_log = self.log_records(["--keystore", target, "--key-file", self.args[-1]])
                    # The copy's log is the keystore's as it was, ending with this backup's record.
                    ok = st == entries and restored_log == log
                    r = r2 if st != entries else f"restored log {len(restored_log or [])} records, keystore's {len(log or [])}"
                self.t.check(ok, f"{what}: the backup left does not restore the keystore: {r}")
                restored += 1
                for f in (out, target, target + ".lock"):
                    if os.path.exists(f):
                        os.unlink(f)
            else:
                outcome = "old"
            reported = "read it back and verified it" in err
            if not killed:
                if not self.t.check(status == 0 and outcome == "new", f"{what}: an uncut backup wrote no backup: {status} {err}"):
                    return
                self.count(key, "finished", 1.0)
            else:
                self.t.check(not reported or outcome == "new", f"{what}: reported written, but there is no file")
                self.count(key, outcome, d / duration)
                done += 1
            if self.verbose:
                print(f"{what}: {'killed' if killed else 'finished'}, {outcome}", flush=True)
        print(f"backup: {restored} backups left by the runs restored and compared", flush=True)


class RequestLoops(Loop):
    """Requests and log appends: `vault request`, `vault open` of a blob answering a request,
    and `vault get` (a read that appends its record before it prints)."""

    def request_code(self, out_file):
        """The code of the request text at out_file, or None when it was not written."""
        try:
            with open(out_file) as f:
                return next(l.split(": ", 1)[1].strip() for l in f if l.startswith("Code: "))
        except (OSError, StopIteration):
            return None

    def codes(self):
        q = common.run([self.vault, "requests", "--json", *self.args], timeout=15)
        return {x["code"]: x["status"] for x in json.loads(q.stdout)} if q.status == 0 else None

    # request -----------------------------------------------------------------------------------
    def run_request(self):
        self.ks, self.args = self.ws.init_key_file("request")
        self.serial = 0
        def argv():
            self.serial += 1
            out = self.ws.path(f"request-{self.serial}.txt")
            return [self.vault, "request", *self.args, "--label", f"customer-{self.serial:05d}", "-o", out], out
        def factory():
            a, _ = argv()
            return a, lambda r: None
        duration = measure(factory)
        done = 0
        while done < self.kills + self.targeted:
            if done % 50 == 0 and done:
                duration = measure(factory, 3)
            old = self.codes()
            a, out = argv()
            mode, d, trigger = self.plan(done, duration, self.grew(self.ks))
            key = "request" + mode
            killed, status, _, err = killed_run(a, d, trigger)
            what = f"request{mode} kill {done + 1} (at {d * 1000:.1f} ms of {duration * 1000:.1f})"
            new = self.codes()
            if not self.t.check(new is not None and old is not None, f"{what}: the keystore does not open afterwards"):
                return
            added = set(new) - set(old)
            outcome = "new" if added else "old"
            self.t.check(len(added) <= 1 and all(new[c] == old[c] for c in old), f"{what}: requests {old} -> {new}")
            written = self.request_code(out)
            # A request text on disk names a recorded request (it is written after the commit).
            self.t.check(written is None or written in added, f"{what}: the text names {written}, recorded: {sorted(added)}")
            self.check_log(what)
            if not killed:
                self.t.check(status == 0 and outcome == "new" and written in added, f"{what}: an uncut request did not record: {err}")
                self.count(key, "finished", 1.0)
            else:
                self.count(key, outcome, d / duration)
                done += 1

    # open of a blob answering a request --------------------------------------------------------
    def run_answer(self):
        self.ks, self.args = self.ws.init_key_file("answer")
        self.serial = 0
        def answer_blob():
            self.serial += 1
            label = f"answer-{self.serial:05d}"
            text = self.ws.path(f"answer-request-{self.serial}.txt")
            r = common.run([self.vault, "request", *self.args, "--label", label, "-o", text], timeout=15)
            if r.status != 0:
                raise RuntimeError(f"vault request failed: {r}")
            creds = self.ws.path(f"answer-creds-{self.serial}.json")
            common.write_private(creds, json.dumps({"client_id": common.new_guid(self.ws.rng), "client_secret": common.new_secret(self.ws.rng)}))
            blob = self.ws.path(f"answer-{self.serial}.vault")
            r = common.run([self.vault, "seal", "--request", text, "--expect-fingerprint", self.ws.fingerprint, "--input", creds,
                            "-o", blob], timeout=15)
            os.unlink(creds)
            if r.status != 0:
                raise RuntimeError(f"vault seal --request failed: {r}")
            return label, blob, self.request_code(text)
        def factory():
            label, blob, _ = answer_blob()
            return [self.vault, "open", "--require-request", *self.args, blob], lambda r: None
        duration = measure(factory)
        pool = []
        done = 0
        while done < self.kills + self.targeted:
            if done % 50 == 0 and done:
                duration = measure(factory, 3)
            label, blob, code = pool.pop() if pool else answer_blob()
            old, _ = common.state(self.vault, self.args, timeout=15)
            mode, d, trigger = self.plan(done, duration, self.grew(self.ks))
            key = "answer" + mode
            killed, status, out, err = killed_run([self.vault, "open", "--require-request", *self.args, blob], d, trigger)
            what = f"answer{mode} kill {done + 1} ({label}, at {d * 1000:.1f} ms of {duration * 1000:.1f})"
            st, r = common.state(self.vault, self.args, timeout=15)
            codes = self.codes()
            if not self.t.check(st is not None and codes is not None, f"{what}: the keystore does not open afterwards: {r}"):
                return
            stored = label in st
            outcome = "new" if stored else "old"
            self.t.check(set(st) - set(old) <= {label}, f"{what}: entries {sorted(old)} -> {sorted(st)}")
            # The entry and its request's answer are one commit.
            self.t.check(codes.get(code) == ("answered" if stored else "open"), f"{what}: stored {stored}, request {codes.get(code)}")
            self.t.check(not out.startswith(label + "\t") or stored, f"{what}: reported stored, then lost")
            self.check_log(what)
            if not killed:
                self.t.check(status == 0 and stored, f"{what}: an uncut open did not store: {status} {err}")
                self.count(key, "finished", 1.0)
            else:
                self.count(key, outcome, d / duration)
                done += 1
            if not stored:
                pool.append((label, blob, code))

    # get ----------------------------------------------------------------------------------------
    def run_get(self):
        self.ks, self.args = self.ws.init_key_file("get")
        self.serial = 0
        self.state = {}
        for _ in range(3):
            self.store(*self.fresh_blob())
        labels = sorted(self.state)
        def factory():
            return [self.vault, "get", *self.args, labels[0], "client_id"], lambda r: None
        duration = measure(factory)
        done = 0
        while done < self.kills + self.targeted:
            if done % 50 == 0 and done:
                duration = measure(factory, 3)
            label = self.rng.choice(labels)
            before = self.log_records() or []
            mode, d, trigger = self.plan(done, duration, self.grew(self.ks))
            key = "get" + mode
            killed, status, out, err = killed_run([self.vault, "get", *self.args, label, "client_id"], d, trigger)
            what = f"get{mode} kill {done + 1} ({label}, at {d * 1000:.1f} ms of {duration * 1000:.1f})"
            log = self.check_log(what)
            if log is None:
                return
            added = log[len(before):]
            self.t.check(log[:len(before)] == before, f"{what}: earlier records changed")
            self.t.check(len(added) <= 1 and all(a["operation"] == "get" and a["label"] == label and a["fields"] == ["client_id"]
                                                 for a in added), f"{what}: records added: {added}")
            # Printed means recorded: the value leaves only after its record is durable.
            self.t.check(not out.strip() or len(added) == 1, f"{what}: the value was printed without its record")
            outcome = "new" if added else "old"
            if not killed:
                self.t.check(status == 0 and outcome == "new", f"{what}: an uncut get did not log: {status} {err}")
                self.count(key, "finished", 1.0)
            else:
                self.count(key, outcome, d / duration)
                done += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--short", action="store_true", help="25 uniform and 10 triggered kills per command (about 30 s)")
    ap.add_argument("--kills", type=int, help="uniform kills per command (default 350, or 25 with --short)")
    ap.add_argument("--targeted", type=int, help="further kills per command triggered by the change on disk "
                    "(default 100, or 10 with --short)")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--commands", default="open,open3,remove,passwd,rotate,unlock,backup,request,answer,get",
                    help="open3 is `vault open` of three blobs at once, each its own transaction; answer is `vault open "
                    "--require-request` of a blob sealed from a request; get is a read that appends its audit record")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    kills = a.kills or (25 if a.short else 350)
    vault = common.binary()
    print(f"vault: {vault}; seed {a.seed}; {kills} kills per command; {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    tally = common.Tally()
    targeted = a.targeted if a.targeted is not None else (10 if a.short else 100)
    loop = RequestLoops(vault, kills, targeted, a.seed, tally, a.verbose)
    loop.ws.keep = a.keep
    start = time.monotonic()
    try:
        for c in a.commands.split(","):
            t0 = time.monotonic()
            getattr(loop, "run_" + c)()
            for key in (c, c + " (on-disk trigger)"):
                s = loop.stats.get(key)
                if not s:
                    continue
                bins = f"; kills per fifth of the duration {s['bins']}" if key == c else ""
                if c == "open3":
                    parts = ", ".join(f"{s.get(f'{k} of 3', 0)} with {k} of 3 stored" for k in range(4))
                    print(f"{key}: {s['old'] + s['new']} kills: {parts} ({s['finished']} runs finished before "
                          f"their kill){'; kills per fifth of the duration ' + str(s['bins']) if key == c else ''}", flush=True)
                    continue
                extra = "".join(f"; {k} {v}" for k, v in sorted(s.items())
                                if k not in ("old", "new", "finished", "bins", "left temporary"))
                print(f"{key}: {s['old'] + s['new']} kills: {s['old']} old state, {s['new']} new state "
                      f"({s['finished']} runs finished before their kill){bins}; "
                      f"{s.get('left temporary', 0)} left a temporary file{extra}", flush=True)
            print(f"{c}: {time.monotonic() - t0:.0f} s", flush=True)
    finally:
        loop.ws.close()
    total = sum(s["old"] + s["new"] for s in loop.stats.values())
    print(f"total: {total} kills in {time.monotonic() - start:.0f} s", flush=True)
    tally.finish()


if __name__ == "__main__":
    main()
