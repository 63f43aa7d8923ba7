#!/usr/bin/env python3
"""A full disk and an unwritable directory during every command that writes (docs/RELIABILITY.md).

Full disk: the child's file-size limit (RLIMIT_FSIZE, what `ulimit -f` sets) is put just at or
inside the write the command is about to make, with SIGXFSZ ignored, so write(2) fails with
EFBIG: at once, or after a partial write (the limit in bytes, set with setrlimit in the child),
and in the literal shell form `bash -c 'trap "" XFSZ; ulimit -f N; exec vault ...'` (N in
1024-byte blocks). Commands: open (an append), remove (an append), passwd (a rewrite by
rename), seal -o (an output file), init (a new keystore and key file). Compaction shares
passwd's rewrite; it cannot be reached with a file-size limit (see docs/RELIABILITY.md).
Each must fail with status 1 and a clear `vault: error:` naming the cause, the keystore
byte-identical (SHA-256), no output or temporary file left, and the next command (no limit)
must succeed as if nothing had happened.

Unwritable directory: the child runs as nobody (`setpriv --reuid=nobody --regid=nogroup
--clear-groups`; root would ignore permissions) with a keystore it owns in a directory it cannot
write, with and without an existing lock file.

  scripts/reliability/disk_full.py --short    # a few limits per command (about 30 s)
  scripts/reliability/disk_full.py            # every byte offset inside each write (long)
"""
import argparse
import json
import os
import random
import resource
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def limit_bytes(n):
    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))
    return pre


def limited(vault, args, n=None, blocks=None, timeout=30):
    if blocks is not None:
        cmd = "trap '' XFSZ; ulimit -f %d; exec \"$0\" \"$@\"" % blocks
        return common.run(["bash", "-c", cmd, vault, *args], timeout=timeout)
    return common.run([vault, *args], timeout=timeout, preexec_fn=limit_bytes(n))


def leftovers(directory, before):
    return sorted(set(os.listdir(directory)) - before)


class DiskFull:
    def __init__(self, vault, short, seed, t):
        self.vault, self.short, self.t = vault, short, t
        self.rng = random.Random(seed)
        self.ws = common.Workspace(vault, prefix="vault-diskfull-")
        self.ws.rng = random.Random(seed + 1)
        self.stats = {}

    def offsets(self, start, size):
        """The limits to try for a write of `size` bytes at `start`: all of them in the long mode."""
        if not self.short:
            return list(range(start, start + size))
        inside = sorted(self.rng.sample(range(start + 1, start + size), min(4, size - 1)))
        return [0, start] + inside + [start + size - 1]

    def expect_failure(self, r, what, words=("cannot write", "file too large", "the disk is full")):
        ok = r.status == 1 and r.stderr.startswith("vault: error: ") and all(w in r.stderr for w in words)
        return self.t.check(ok, f"{what}: expected status 1 and a clear error naming {words}: {r}")

    def tally(self, name):
        self.stats[name] = self.stats.get(name, 0) + 1

    def keystore(self, entries):
        ks, args = self.ws.init_key_file(f"ks{self.rng.getrandbits(32):08x}")
        for _ in range(entries):
            blob, _ = self.ws.seal(f"e{self.rng.getrandbits(32):08x}")
            r = common.run([self.vault, "open", *args, blob])
            self.t.check(r.status == 0, f"setup open: {r}")
        return ks, args

    def same(self, ks, digest, before, what):
        self.t.check(common.sha256(ks) == digest, f"{what}: the keystore changed")
        left = leftovers(self.ws.dir, before)
        self.t.check(not left, f"{what}: files left behind: {left}")

    # open and remove: appends -------------------------------------------------------------------
    def run_open(self):
        ks, args = self.keystore(2)
        blob, _ = self.ws.seal("the-new-one")
        # The size of the append: open a copy of this keystore without a limit.
        copy_dir = self.ws.path("copy")
        os.mkdir(copy_dir)
        shutil.copy2(ks, copy_dir + "/k.vault")
        copy_args = ["--keystore", copy_dir + "/k.vault", *args[2:]]
        size0 = os.path.getsize(ks)
        r = common.run([self.vault, "open", *copy_args, blob])
        self.t.check(r.status == 0, f"open on a copy: {r}")
        grow = os.path.getsize(copy_dir + "/k.vault") - size0
        shutil.rmtree(copy_dir)
        before = set(os.listdir(self.ws.dir))
        digest = common.sha256(ks)
        for n in self.offsets(size0, grow):
            r = limited(self.vault, ["open", *args, blob], n=n)
            what = f"open with a {n}-byte limit (append of {grow} bytes at {size0})"
            self.expect_failure(r, what)
            self.t.check(r.stdout == "", f"{what}: reported something stored: {r.stdout!r}")
            self.same(ks, digest, before, what)
            self.tally("open")
        r = limited(self.vault, ["open", *args, blob], blocks=size0 // 1024)
        self.expect_failure(r, f"open with ulimit -f {size0 // 1024}")
        self.same(ks, digest, before, "open with ulimit -f")
        self.tally("open")
        # The next command, without a limit, stores the very blob: nothing of it was kept.
        r = common.run([self.vault, "open", *args, blob])
        self.t.check(r.status == 0 and r.stdout.startswith("the-new-one\t"), f"open after the failures: {r}")
        self.ks, self.args = ks, args

    def run_remove(self):
        ks, args = self.ks, self.args
        st, _ = common.state(self.vault, args)
        label = sorted(st)[0]
        copy_dir = self.ws.path("copy")
        os.mkdir(copy_dir)
        shutil.copy2(ks, copy_dir + "/k.vault")
        size0 = os.path.getsize(ks)
        r = common.run([self.vault, "remove", "--keystore", copy_dir + "/k.vault", *args[2:], label])
        self.t.check(r.status == 0, f"remove on a copy: {r}")
        grow = os.path.getsize(copy_dir + "/k.vault") - size0
        shutil.rmtree(copy_dir)
        before = set(os.listdir(self.ws.dir))
        digest = common.sha256(ks)
        for n in self.offsets(size0, grow):
            r = limited(self.vault, ["remove", *args, label], n=n)
            what = f"remove with a {n}-byte limit (append of {grow} bytes at {size0})"
            self.expect_failure(r, what)
            self.same(ks, digest, before, what)
            self.tally("remove")
        r = limited(self.vault, ["remove", *args, label], blocks=size0 // 1024)
        self.expect_failure(r, f"remove with ulimit -f {size0 // 1024}")
        self.same(ks, digest, before, "remove with ulimit -f")
        self.tally("remove")
        st2, _ = common.state(self.vault, args)
        self.t.check(st2 == st, f"remove: entries changed: {st} -> {st2}")
        r = common.run([self.vault, "remove", *args, label])
        self.t.check(r.status == 0, f"remove after the failures: {r}")

    # passwd: a rewrite -------------------------------------------------------------------------
    def run_passwd(self):
        ks, pf = self.ws.init_passphrase("pw", "old passphrase one", kdf="interactive")
        args = ["--keystore", ks, "--passphrase-file", pf]
        for i in range(2):
            blob, _ = self.ws.seal(f"p{i}")
            self.t.check(common.run([self.vault, "open", *args, blob]).status == 0, "passwd setup open")
        new = self.ws.path("new.pass")
        common.write_private(new, "new passphrase two\n")
        st, _ = common.state(self.vault, args)
        size = os.path.getsize(ks)   # the new file is as large: same records, same slot size
        before = set(os.listdir(self.ws.dir))
        digest = common.sha256(ks)
        limits = self.offsets(0, size) if self.short else sorted(set(range(0, size, 7)) | {size - 1})
        for n in limits:
            r = limited(self.vault, ["passwd", *args, "--new-passphrase-file", new, "--kdf", "interactive"], n=n)
            what = f"passwd with a {n}-byte limit (a new file of {size} bytes)"
            self.expect_failure(r, what)
            self.same(ks, digest, before, what)
            self.tally("passwd")
        r = limited(self.vault, ["passwd", *args, "--new-passphrase-file", new, "--kdf", "interactive"], blocks=0)
        self.expect_failure(r, "passwd with ulimit -f 0")
        self.same(ks, digest, before, "passwd with ulimit -f 0")
        self.tally("passwd")
        st2, r = common.state(self.vault, args)
        self.t.check(st2 == st, f"passwd: the old passphrase no longer opens the same entries: {r}")
        r = common.run([self.vault, "passwd", *args, "--new-passphrase-file", new, "--kdf", "interactive"])
        self.t.check(r.status == 0, f"passwd after the failures: {r}")
        st3, r = common.state(self.vault, ["--keystore", ks, "--passphrase-file", new])
        self.t.check(st3 == st, f"passwd after the failures: the new passphrase does not open: {r}")

    # seal -o and init: new files ---------------------------------------------------------------
    def run_seal(self):
        creds = self.ws.path("seal.json")
        common.write_private(creds, '{"client_id": "%s", "client_secret": "%s"}' % (
            common.new_guid(self.rng), common.new_secret(self.rng)))
        out = self.ws.path("out.vault")
        argv = ["seal", "--to", self.ws.pub, "--expect-fingerprint", self.ws.fingerprint, "--label", "Seal",
                "--input", creds, "-o", out]
        r = common.run([self.vault, *argv])
        size = os.path.getsize(out)
        os.unlink(out)
        before = set(os.listdir(self.ws.dir))
        limits = self.offsets(0, size) if self.short else list(range(0, size, 3))
        for n in limits:
            r = limited(self.vault, argv, n=n)
            what = f"seal -o with a {n}-byte limit (a blob of {size} bytes)"
            self.expect_failure(r, what)
            left = leftovers(self.ws.dir, before)
            self.t.check(not left, f"{what}: files left behind: {left}")
            self.tally("seal -o")
        r = limited(self.vault, argv, blocks=0)
        self.expect_failure(r, "seal -o with ulimit -f 0")
        self.t.check(not leftovers(self.ws.dir, before), "seal -o with ulimit -f 0: files left behind")
        self.tally("seal -o")
        self.t.check(common.run([self.vault, *argv]).status == 0, "seal -o after the failures")

    def run_init(self):
        before = set(os.listdir(self.ws.dir))
        ks, key = self.ws.path("new.vault"), self.ws.path("new.key")
        for n in ([0, 31, 32, 100, 500, 700] if self.short else list(range(0, 800, 5))):
            r = limited(self.vault, ["init", "--keystore", ks, "--with-key-file", key], n=n)
            what = f"init with a {n}-byte limit"
            if r.status == 0:
                os.unlink(ks)
                os.unlink(key)
                os.unlink(ks + ".lock") if os.path.exists(ks + ".lock") else None
                continue   # the keystore fitted
            self.expect_failure(r, what)
            left = leftovers(self.ws.dir, before)
            self.t.check(not left, f"{what}: files left behind: {left}")
            self.tally("init")

    # unwritable directory ----------------------------------------------------------------------
    def run_unwritable(self):
        if os.geteuid() != 0 or not shutil.which("setpriv"):
            print("unwritable directory: skipped (needs root and setpriv to run the child as nobody)")
            return
        base = self.ws.dir
        os.chmod(base, 0o755)   # nobody must reach the directory inside
        ro = os.path.join(base, "ro")
        os.mkdir(ro, 0o755)     # owned by root: nobody cannot create or rename files in it
        ks, key = os.path.join(ro, "ks.vault"), os.path.join(ro, "ks.key")
        r = common.run([self.vault, "init", "--keystore", ks, "--with-key-file", key])
        self.t.check(r.status == 0, f"unwritable: init: {r}")
        args = ["--keystore", ks, "--key-file", key]
        self.ws._recipient(ks, ["--key-file", key], "ro")
        blobs = [self.ws.seal(f"ro-{i}")[0] for i in range(2)]
        r = common.run([self.vault, "open", *args, blobs[0]])
        self.t.check(r.status == 0, f"unwritable: setup open: {r}")
        os.unlink(ks + ".lock")
        new = os.path.join(base, "new.pass")
        common.write_private(new, "a new passphrase\n")
        for p in (ks, key, new, *blobs):
            os.chown(p, 65534, 65534)
        os.chmod(blobs[1], 0o644)
        nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", self.vault]
        creds = os.path.join(base, "ro-creds.json")
        common.write_private(creds, '{"client_id": "%s", "client_secret": "%s"}' % (
            common.new_guid(self.rng), common.new_secret(self.rng)))
        os.chown(creds, 65534, 65534)

        def check(argv, what, ok_expected=False, words=("permission denied", "must be writable by this user")):
            before = set(os.listdir(ro))
            digest = common.sha256(ks)
            r = common.run(nobody + argv)
            if ok_expected:
                self.t.check(r.status == 0, f"unwritable: {what}: expected to work: {r}")
            else:
                self.expect_failure(r, f"unwritable: {what}", words)
                self.t.check(common.sha256(ks) == digest, f"unwritable: {what}: the keystore changed")
                left = leftovers(ro, before)
                self.t.check(not left, f"unwritable: {what}: files left behind: {left}")
                self.tally("unwritable directory")
            return r

        # No lock file, and none can be made: every change is refused; reading works.
        check(["open", *args, blobs[1]], "open, no lock file")
        check(["remove", *args, "ro-0"], "remove, no lock file")
        check(["passwd", *args, "--new-passphrase-file", new, "--kdf", "interactive"], "passwd, no lock file")
        check(["list", *args], "list, no lock file", ok_expected=True)
        # A read of secrets cannot write its audit record: refused, unless the keystore allows
        # unlogged reads (below).
        check(["get", *args, "ro-0", "client_id"], "get, no lock file",
              words=("cannot be recorded in the keystore's audit log", "unlogged-reads on"))
        check(["seal", "--to", self.ws.pub, "--expect-fingerprint", self.ws.fingerprint, "--label", "x",
               "--input", creds, "-o", os.path.join(ro, "out.vault")], "seal -o into it", words=("permission denied",))
        # A lock file it owns exists (the directory was made read-only later): appends need only
        # the file and work; a passphrase change needs a new file beside it and is refused.
        fd = os.open(ks + ".lock", os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
        os.chown(ks + ".lock", 65534, 65534)
        check(["passwd", *args, "--new-passphrase-file", new, "--kdf", "interactive"], "passwd, lock file present")
        r = check(["open", *args, blobs[1]], "open, lock file present", ok_expected=True)
        # Reads append their record like any change; then allow unlogged reads and take the
        # lock file away again: a read works, with a warning, and writes nothing.
        check(["get", *args, "ro-0", "client_id"], "get, lock file present", ok_expected=True)
        check(["settings", *args, "unlogged-reads", "on"], "settings, lock file present", ok_expected=True)
        os.unlink(ks + ".lock")
        digest = common.sha256(ks)
        r = common.run(nobody + ["get", *args, "ro-0", "client_id"])
        self.t.check(r.status == 0 and "was not recorded in the audit log" in r.stderr and common.sha256(ks) == digest,
                     f"unwritable: get with unlogged reads allowed: {r}")
        r = common.run(nobody + ["log", "--json", *args])
        ops = [x["operation"] for x in json.loads(r.stdout)] if r.status == 0 else r
        self.t.check(ops == ["init", "open", "open", "get", "setting"], f"unwritable: the audit log afterwards: {ops}")
        # As nobody: the files are nobody's now, and vault refuses another user's keystore.
        r = common.run(nobody + ["list", "--json", *args])
        st = {e["label"] for e in json.loads(r.stdout)} if r.status == 0 else r
        self.t.check(st == {"ro-0", "ro-1"}, f"unwritable: entries afterwards: {st}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--short", action="store_true")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    vault = common.binary()
    print(f"vault: {vault}; seed {a.seed}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}", flush=True)
    t = common.Tally()
    d = DiskFull(vault, a.short, a.seed, t)
    d.ws.keep = a.keep
    start = time.monotonic()
    try:
        for step in ("open", "remove", "passwd", "seal", "init", "unwritable"):
            t0 = time.monotonic()
            getattr(d, "run_" + step)()
            print(f"{step}: {time.monotonic() - t0:.1f} s", flush=True)
    finally:
        d.ws.close()
    print("failed writes per command: " + ", ".join(f"{k} {v}" for k, v in d.stats.items())
          + f"; {time.monotonic() - start:.0f} s", flush=True)
    t.finish()


if __name__ == "__main__":
    main()
