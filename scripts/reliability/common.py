"""Shared helpers of the reliability scripts (docs/RELIABILITY.md): finding the vault binary,
making throwaway keystores, sealing blobs non-interactively, reading a keystore's state.

Python 3 standard library only. Every child runs in its own session with no terminal, so vault
can never prompt, and every run has a timeout, so a hang is a failure and never a stuck script.
"""
import hashlib
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT = 30.0


def binary(release=None):
    """VAULT_BINARY, else .build/release/vault (when asked for or newer), else .build/debug/vault."""
    if os.environ.get("VAULT_BINARY"):
        return os.environ["VAULT_BINARY"]
    debug = os.path.join(ROOT, ".build/debug/vault")
    rel = os.path.join(ROOT, ".build/release/vault")
    if release is True:
        return rel
    if release is False:
        return debug
    have = [p for p in (rel, debug) if os.path.exists(p)]
    if not have:
        sys.exit("vault is not built: run `swift build` (or `swift build -c release`) first, or set VAULT_BINARY")
    return max(have, key=os.path.getmtime)


class Result:
    def __init__(self, status, stdout, stderr, seconds):
        self.status, self.stdout, self.stderr, self.seconds = status, stdout, stderr, seconds

    def __repr__(self):
        return f"status {self.status}, stdout {self.stdout!r}, stderr {self.stderr!r}"


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    env.update(extra or {})
    return env


def run(argv, timeout=TIMEOUT, env=None, cwd=None, preexec_fn=None, stdin=subprocess.DEVNULL):
    """Runs argv to completion; a timeout is reported as status 'timeout' (the child is killed)."""
    start = time.monotonic()
    p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=clean_env(env), cwd=cwd, start_new_session=True, preexec_fn=preexec_fn)
    try:
        out, err = p.communicate(timeout=timeout)
        status = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        out, err = p.communicate()
        status = "timeout"
    return Result(status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), time.monotonic() - start)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_private(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def new_guid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128)))


def new_secret(rng):
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(rng.randint(12, 16)))


class Workspace:
    """A throwaway directory with a keystore, its recipient file and a blob factory."""

    def __init__(self, vault, prefix="vault-rel-", keep=False):
        self.vault = vault
        self.dir = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.dir, 0o700)
        self.keep = keep
        self.rng = random.Random()
        self.count = 0

    def path(self, name):
        return os.path.join(self.dir, name)

    def close(self):
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    # Keystores -----------------------------------------------------------------------------
    def init_key_file(self, name="ks"):
        ks, key = self.path(name + ".vault"), self.path(name + ".key")
        r = run([self.vault, "init", "--keystore", ks, "--with-key-file", key])
        if r.status != 0:
            raise RuntimeError(f"vault init failed: {r}")
        self._recipient(ks, ["--key-file", key], name)
        return ks, ["--keystore", ks, "--key-file", key]

    def init_passphrase(self, name, passphrase, kdf="interactive"):
        ks, pf = self.path(name + ".vault"), self.path(name + ".pass")
        write_private(pf, passphrase + "\n")
        r = run([self.vault, "init", "--keystore", ks, "--kdf", kdf, "--passphrase-file", pf])
        if r.status != 0:
            raise RuntimeError(f"vault init failed: {r}")
        self._recipient(ks, ["--passphrase-file", pf], name)
        return ks, pf

    def _recipient(self, ks, unlock, name):
        pub = self.path(name + ".pub")
        r = run([self.vault, "recipient", "--keystore", ks, *unlock, "-o", pub])
        if r.status != 0:
            raise RuntimeError(f"vault recipient failed: {r}")
        with open(pub) as f:
            fp = [l.split(": ", 1)[1].strip() for l in f if l.startswith("# fingerprint: ")][0]
        self.pub, self.fingerprint = pub, fp

    # Blobs ---------------------------------------------------------------------------------
    def seal(self, label, name=None):
        """Seals new random credentials under `label`; returns (blob path, client id)."""
        self.count += 1
        name = name or f"blob-{self.count}.vault"
        creds = self.path(f"creds-{self.count}.json")
        client_id = new_guid(self.rng)
        write_private(creds, json.dumps({"client_id": client_id, "client_secret": new_secret(self.rng)}))
        out = self.path(name)
        r = run([self.vault, "seal", "--to", self.pub, "--expect-fingerprint", self.fingerprint,
                 "--label", label, "--input", creds, "-o", out])
        os.unlink(creds)
        if r.status != 0:
            raise RuntimeError(f"vault seal failed: {r}")
        return out, client_id

    def seal_generic(self, label, values=3, size=4000):
        """Seals a large generic entry (about values * size bytes) under `label`; returns its path."""
        self.count += 1
        creds = self.path(f"creds-{self.count}.json")
        alphabet = string.ascii_letters + string.digits
        write_private(creds, json.dumps({f"k{i}": "".join(self.rng.choice(alphabet) for _ in range(size))
                                         for i in range(values)}))
        out = self.path(f"blob-{self.count}.vault")
        r = run([self.vault, "seal", "--to", self.pub, "--expect-fingerprint", self.fingerprint, "--type", "generic",
                 "--label", label, "--input", creds, "-o", out])
        os.unlink(creds)
        if r.status != 0:
            raise RuntimeError(f"vault seal failed: {r}")
        return out

    def seal_many(self, labels, jobs=2):
        """Seals one blob per label, `jobs` sealers at a time; returns [(label, path, client id)]."""
        import concurrent.futures as cf
        with cf.ThreadPoolExecutor(jobs) as ex:
            futures = [(l, ex.submit(self.seal, l, f"blob-{i}-{uuid.uuid4().hex[:8]}.vault")) for i, l in enumerate(labels)]
            return [(l, *f.result()) for l, f in futures]


def state(vault, keystore_args, timeout=TIMEOUT):
    """The keystore's entries as {label: blob id}, via `vault list --json`; None and the run on failure."""
    r = run([vault, "list", "--json", *keystore_args], timeout=timeout)
    if r.status != 0:
        return None, r
    return {e["label"]: e["blob_id"] for e in json.loads(r.stdout)}, r


def temporaries(directory, keystore):
    """Leftover temporary files of a keystore rewrite beside it."""
    base = os.path.basename(keystore)
    return sorted(n for n in os.listdir(directory) if n.startswith(base + ".tmp-"))


def percentile(values, q):
    if not values:
        return 0.0
    v = sorted(values)
    k = (len(v) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


class Tally:
    """Counts checks; prints failures as they happen and the final `N passed, M failed` line."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append(what)
            print(f"FAIL: {what}", flush=True)
        return ok

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed else 0)
