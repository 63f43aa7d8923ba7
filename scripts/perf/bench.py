#!/usr/bin/env python3
"""The performance table of docs/PERFORMANCE.md, in one run: scripts/bench [--short] [--static | --vault PATH] [--keep DIR].

Builds release, then measures each row beside its anchor in the same run (interleaved where the
two are processes), medians of several rounds, and prints one Markdown table. --short is CI's
mode: small sizes, few rounds; it fails on any error (a command that fails, a wrong output),
never on speed. --static measures a vault built with --static-swift-stdlib instead of the
default dynamically linked one; --vault PATH measures a binary built elsewhere, such as the one
scripts/release ships (static runtime and libsodium, stripped, no RUNPATH).
"""
import argparse
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "scripts", "perf")
VECTOR = "exact-online, all fields"


def fail(text):
    print(f"bench: error: {text}", file=sys.stderr)
    sys.exit(1)


def run(cmd, **kw):
    """Runs a command that must succeed; returns its standard output."""
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        fail(f"{' '.join(cmd[:6])}{' …' if len(cmd) > 6 else ''} exited {r.returncode}: {r.stderr.strip()[-800:]}")
    return r.stdout


def log(text):
    print(f"bench: {text}", file=sys.stderr, flush=True)


def ensure_tools():
    if shutil.which("age") is None or shutil.which("age-keygen") is None:
        log("installing age (the one-shot rows compare with it)")
        run(["apt-get", "update", "-qq"])
        run(["apt-get", "install", "-y", "-qq", "age"], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    try:
        import nacl  # noqa: F401
    except ImportError:
        log("installing pynacl")
        run([sys.executable, "-m", "pip", "install", "-q", "pynacl"])


def build(static):
    log("building release (swift build -c release)")
    run(["swift", "build", "-c", "release"], cwd=ROOT)
    vault = os.path.join(ROOT, ".build", "release", "vault")
    if static:
        log("building vault with a static Swift runtime (--static-swift-stdlib, .build-static)")
        run(["swift", "build", "-c", "release", "--static-swift-stdlib", "--scratch-path", ".build-static",
             "--product", "vault"], cwd=ROOT)
        vault = os.path.join(ROOT, ".build-static", "release", "vault")
    return vault, os.path.join(ROOT, ".build", "release", "keystore-bench")


def compile_c(work):
    cc = shutil.which("cc") or shutil.which("clang") or fail("no C compiler (cc or clang)")
    flags = run(["pkg-config", "--cflags", "--libs", "libsodium"]).split()
    out = {}
    for name, extra in [("sodium_rate", flags), ("spawn_time", [])]:
        out[name] = os.path.join(work, name)
        run([cc, "-O2", "-o", out[name], os.path.join(HERE, name + ".c")] + extra)
    return out


def vector(work):
    """The vector's armored text, secret key, sealed box and plaintext, written to files."""
    path = os.path.join(ROOT, "Tests", "VaultKitTests", "Vectors", "blobs.json")
    case = next(c for c in json.load(open(path))["cases"] if c["name"] == VECTOR)
    armored = case["armored"]
    body = "".join(l for l in armored.splitlines() if l and not l.startswith("-----"))
    blob = base64.b64decode(body)
    box = blob[6 + 32:]
    from nacl.public import PrivateKey, SealedBox
    plain = SealedBox(PrivateKey(bytes.fromhex(case["secret_key_hex"]))).decrypt(box)
    files = {}
    for name, data in [("armored", armored.encode()), ("box", box), ("plain", plain)]:
        files[name] = os.path.join(work, name)
        open(files[name], "wb").write(data)
    return case["secret_key_hex"], files, box, plain


def pynacl_rates(sk_hex, box, plain, seconds):
    from nacl.public import PrivateKey, SealedBox
    key = PrivateKey(bytes.fromhex(sk_hex))
    opener, sealer = SealedBox(key), SealedBox(key.public_key)
    out = []
    for f, arg in [(opener.decrypt, box), (sealer.encrypt, plain)]:
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for _ in range(64):
                f(arg)
            n += 64
        out.append(n / (time.perf_counter() - start))
    return out


def fmt(x, digits=0):
    return f"{x:,.{digits}f}"


class Table:
    def __init__(self):
        self.rows = []

    def add(self, what, vault, anchor_name, anchor, ratio=None, goal=""):
        self.rows.append((what, vault, anchor_name, anchor, ratio, goal))

    def print(self, header):
        print(header)
        print()
        print("| measure | vault | anchor | anchor value | vault ÷ anchor | goal |")
        print("| --- | ---: | --- | ---: | ---: | --- |")
        for what, v, an, a, r, g in self.rows:
            print(f"| {what} | {v} | {an} | {a} | {'' if r is None else r if isinstance(r, str) else f'{r:.2f}×'} | {g} |")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--short", action="store_true", help="CI: small sizes, few rounds; fails only on errors")
    p.add_argument("--static", action="store_true", help="measure vault built with --static-swift-stdlib")
    p.add_argument("--keep", metavar="DIR", help="work in DIR and leave it (default: a temporary folder, removed)")
    p.add_argument("--vault", metavar="PATH", help="measure this vault binary (such as the one scripts/release built, "
                   "in .build-release/release/vault) instead of building one")
    a = p.parse_args()
    short = a.short
    ensure_tools()
    vault, kbench = build(a.static and not a.vault)
    if a.vault:
        vault = os.path.abspath(a.vault)
    work = a.keep or tempfile.mkdtemp(prefix="vault-bench-")
    os.makedirs(work, exist_ok=True)
    try:
        measure(vault, kbench, work, short, "given" if a.vault else a.static)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


def measure(vault, kbench, work, short, static):
    load_at_start = os.getloadavg()[0]
    tools = compile_c(work)
    sk_hex, files, box, plain = vector(work)
    rounds = 3 if short else 7
    seconds = 0.2 if short else 1.0
    table = Table()

    # 1. VaultKit open and seal per second, beside raw libsodium and PyNaCl, round after round.
    log("VaultKit open/seal vs libsodium and PyNaCl")
    kit, raw_open, raw_seal, py = [], [], [], []
    for _ in range(rounds):
        raw_open.append(float(run([tools["sodium_rate"], "open", files["plain"], files["box"], sk_hex, str(seconds)])))
        raw_seal.append(float(run([tools["sodium_rate"], "seal", files["plain"], files["box"], sk_hex, str(seconds)])))
        kit.append([float(x) for x in run([kbench, "--handoff", files["armored"], sk_hex, str(seconds)]).split()])
        py.append(pynacl_rates(sk_hex, box, plain, seconds))
    k_open, k_seal = statistics.median(k[0] for k in kit), statistics.median(k[1] for k in kit)
    r_open, r_seal = statistics.median(raw_open), statistics.median(raw_seal)
    p_open, p_seal = statistics.median(x[0] for x in py), statistics.median(x[1] for x in py)
    table.add("VaultKit open (armor, parse, decrypt, validate), per s", fmt(k_open), "libsodium crypto_box_seal_open (C)", fmt(r_open), k_open / r_open, "≥ 0.8×")
    table.add("VaultKit open, per s", fmt(k_open), "PyNaCl SealedBox.decrypt", fmt(p_open), k_open / p_open, "")
    table.add("VaultKit seal (validate, encode, encrypt, armor), per s", fmt(k_seal), "libsodium crypto_box_seal (C)", fmt(r_seal), k_seal / r_seal, "≥ 0.8×")
    table.add("VaultKit seal, per s", fmt(k_seal), "PyNaCl SealedBox.encrypt", fmt(p_seal), k_seal / p_seal, "")

    # 2. Batch vault open of many blob files into a key-file keystore.
    count = 500 if short else 10_000
    batch_rounds = 1 if short else 3
    log(f"vault open of {count:,} blob files in one invocation")
    bdir = os.path.join(work, "batch")
    os.makedirs(bdir, exist_ok=True)
    rates, anchors = [], []
    for r in range(batch_rounds):
        ks, key = os.path.join(bdir, f"ks{r}.vault"), os.path.join(bdir, f"ks{r}.key")
        run([vault, "init", "--keystore", ks, "--with-key-file", key])
        recipient = run([vault, "recipient", "--keystore", ks, "--key-file", key]).split()[-1]
        blobs = os.path.join(bdir, f"blobs{r}")
        os.makedirs(blobs, exist_ok=True)
        run([kbench, "--seal-blobs", files["armored"], sk_hex, recipient, blobs, str(count)])
        paths = [os.path.join(blobs, f"blob-{n}.vault") for n in range(count)]
        # The blobs a mail system delivered are on disk long before they are opened: without this
        # the keystore's first fsync would also write back the 10,000 files just made (ext4
        # commits them with its journal), which is no part of opening them.
        os.sync()
        anchors.append(float(run([tools["sodium_rate"], "open", files["plain"], files["box"], sk_hex, str(seconds)])))
        t = time.perf_counter()
        out = run([vault, "open", "--keystore", ks, "--key-file", key] + paths)
        rates.append(count / (time.perf_counter() - t))
        if out.count("\n") != count:
            fail(f"vault open printed {out.count(chr(10))} lines for {count} blobs")
        listed = json.loads(run([vault, "list", "--json", "--keystore", ks, "--key-file", key]))
        if len(listed) != count:
            fail(f"the keystore holds {len(listed)} entries after opening {count} blobs")
    b, ba = statistics.median(rates), statistics.median(anchors)
    table.add(f"vault open of {count:,} blob files, one invocation, blobs per s (durable)", fmt(b), "libsodium crypto_box_seal_open (C)", fmt(ba), b / ba, "≥ 0.5×")

    # 3. Keystore at 100 / 10,000 / 100,000 entries (keystore-bench), kept for get and export.
    sizes = [100, 1000] if short else [100, 10_000, 100_000]
    log(f"keystore insert/read/cold open at {', '.join(f'{s:,}' for s in sizes)} entries")
    kdir = os.path.join(work, "keystores")
    out = run([kbench, kdir, ",".join(map(str, sizes)), "20" if short else "200", "--keep"])
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) in (8, 9) and cells[0].isdigit():
            # 9 columns since keystore format 2: the cold open (+ one read) has a p90 too.
            n, mib, ins, rd, cold = cells[0], cells[1], cells[2], cells[4], cells[6]
            table.add(f"keystore of {int(n):,} entries ({mib} MiB): insert / read / cold open (+ one read), median ms",
                      f"{ins} / {rd} / {cold}", "", "", None, "cold open ≤ 20 ms at 100,000 (issue 11, helper ks2)" if n == "100000" else "")
    big = max(sizes)
    big_ks, big_key = os.path.join(kdir, f"bench-{big}.vault"), os.path.join(kdir, "bench.key")

    # 4. One-shot commands against age doing the same kind of work, interleaved.
    runs, warm = (5, 1) if short else (40, 5)
    log("one-shot commands vs age")
    one = os.path.join(work, "oneshot")
    os.makedirs(one, exist_ok=True)
    ks, key = os.path.join(one, "ks.vault"), os.path.join(one, "ks.key")
    run([vault, "init", "--keystore", ks, "--with-key-file", key])
    recipient = run([vault, "recipient", "--keystore", ks, "--key-file", key]).split()[-1]
    blobs = os.path.join(one, "blobs")
    os.makedirs(blobs, exist_ok=True)
    run([kbench, "--seal-blobs", files["armored"], sk_hex, recipient, blobs, str(runs + warm)])
    creds = os.path.join(one, "creds.json")
    case = next(c for c in json.load(open(os.path.join(ROOT, "Tests", "VaultKitTests", "Vectors", "blobs.json")))["cases"] if c["name"] == VECTOR)
    with open(os.open(creds, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        json.dump(case["payload"]["credentials"], f)
    age_key = os.path.join(one, "age.key")
    run(["age-keygen", "-o", age_key])
    age_recipient = run(["age-keygen", "-y", age_key]).strip()
    age_file = os.path.join(one, "creds.age")
    run(["age", "-r", age_recipient, "-o", age_file, creds])
    label = f"Acme BV {123 % big:06d}"
    pairs = [
        ("vault --version", [vault, "--version"], "age --version", ["age", "--version"]),
        ("vault fingerprint RECIPIENT", [vault, "fingerprint", recipient], "age-keygen -y KEY", ["age-keygen", "-y", age_key]),
        ("vault seal (one payload, --input)", [vault, "seal", "--to", recipient, "--label", "Acme BV", "--input", creds],
         "age -r RECIPIENT -a FILE", ["age", "-r", age_recipient, "-a", creds]),
        ("vault open (one blob, key-file keystore)", [vault, "open", "--keystore", ks, "--key-file", key, os.path.join(blobs, "blob-{}.vault")],
         "age -d -i KEY FILE", ["age", "-d", "-i", age_key, age_file]),
        (f"vault get on the {big:,}-entry keystore", [vault, "get", "--keystore", big_ks, "--key-file", big_key, label, "client_secret"],
         "age -d -i KEY FILE", ["age", "-d", "-i", age_key, age_file]),
    ]
    for what, cmd, anchor_name, anchor in pairs:
        # Medians, and the minimums: on a loaded machine the minimum is the steadiest figure.
        v, g, vmin, gmin = (float(x) for x in run([tools["spawn_time"], str(runs), str(warm), "--"] + cmd + ["--"] + anchor).split())
        table.add(f"{what}, wall ms: median (min)", f"{v:.2f} ({vmin:.2f})", anchor_name, f"{g:.2f} ({gmin:.2f})",
                  f"{v / g:.2f}× ({vmin / gmin:.2f}×)", "≤ 2×")

    # 5. Peak memory of vault export --all of the largest keystore, in one process.
    log(f"vault export --all of {big:,} entries")
    t = time.perf_counter()
    with open(os.devnull, "w") as null:
        proc = subprocess.Popen([vault, "export", "--all", "--keystore", big_ks, "--key-file", big_key], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        members = 0
        for line in proc.stdout:
            members += line.startswith(b'  "')
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t
    if status != 0 or members < big:
        fail(f"vault export --all exited {status} with {members} entries: {err.decode()[-400:]}")
    table.add(f"vault export --all of {big:,} entries: peak RSS MiB (s)", f"{usage.ru_maxrss / 1024:.0f} ({elapsed:.1f} s)", "", "", None, "works in one process")

    # 6. Argon2id per --kdf profile.
    profiles = [("interactive", 1)] if short else [("interactive", 5), ("moderate", 3), ("sensitive", 1)]
    for profile, n in profiles:
        log(f"Argon2id {profile}")
        s = float(run([kbench, "--argon2", profile, str(n)]))
        table.add(f"Argon2id, --kdf {profile}, s (median of {n})", f"{s:.3f}", "", "", None, "")

    load = os.getloadavg()[0]
    kind = f"vault {vault}" if static == "given" else f"vault {'static Swift runtime' if static else 'dynamically linked'}"
    table.print(f"{kind}; "
                f"{'short mode, ' if short else ''}{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
                f"{os.cpu_count()} CPUs, load average {load_at_start:.1f} at the start, {load:.1f} at the end")


if __name__ == "__main__":
    main()
