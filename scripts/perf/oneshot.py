#!/usr/bin/env python3
"""Start-up of vault's one-shot commands, in figures that hold on a loaded machine.

    scripts/perf/oneshot.py [--runs N] [--get-keystore KS KEY LABEL] [--keep DIR] VAULT [VAULT ...]

For each command of scripts/bench's one-shot rows (--version, fingerprint RECIPIENT, seal of one
payload with --input, open of one blob into a key-file keystore, get of one field) and each
VAULT binary given (say main's and this branch's, static or dynamic), prints:

- instructions: callgrind's count for the whole process, the dynamic loader included (valgrind
  3.19 cannot read the DWARF 5 of Swift 6.3's debug info, so each binary is run from a copy
  with `strip --strip-debug`, symbols kept); the same to within a few thousand from run to run.
  valgrind 3.19 crashes on the dynamically linked vault: no count for it;
- CPU ms: `perf stat -e task-clock` over N runs (user and system time of every thread; for
  open, the median of 30 single runs, each with a blob of its own);
- wall ms, minimum and median of N runs of spawn_time, interleaved with the age command
  scripts/bench sets beside it.

The keystore of `get` is a fresh 1,000-entry one (keystore-bench) unless --get-keystore names
one, such as the 100,000-entry keystore `scripts/bench --keep DIR` leaves in DIR/keystores.
Needs valgrind, perf, age and a release keystore-bench (swift build -c release).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (the vector, the C tools and run() are scripts/bench's)

ROOT = bench.ROOT


def instructions(cmd):
    r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd,
                       capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", r.stderr)
    # valgrind 3.19 also crashes on the dynamically linked vault (in libdispatch's threads):
    # no count then, the other columns still.
    return int(m.group(1)) if r.returncode == 0 and m else None


def cpu_ms(cmd, runs):
    r = subprocess.run(["perf", "stat", "-x,", "-e", "task-clock", "-r", str(runs)] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in r.stderr.splitlines():
        cells = line.split(",")
        if len(cells) > 2 and cells[2] == "task-clock":
            return float(cells[0])
    bench.fail(f"perf stat of {' '.join(cmd[:3])} gave no task-clock: {r.stderr.strip()[-400:]}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("vaults", nargs="+", metavar="VAULT")
    p.add_argument("--runs", type=int, default=100, help="runs for CPU and wall time (default 100)")
    p.add_argument("--get-keystore", nargs=3, metavar=("KS", "KEY", "LABEL"))
    p.add_argument("--keep", metavar="DIR")
    a = p.parse_args()
    kbench = os.path.join(ROOT, ".build", "release", "keystore-bench")
    if not os.access(kbench, os.X_OK):
        bench.fail("no .build/release/keystore-bench: swift build -c release --product keystore-bench")
    work = a.keep or tempfile.mkdtemp(prefix="vault-oneshot-")
    os.makedirs(work, exist_ok=True)
    try:
        measure(a, kbench, work)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


def measure(a, kbench, work):
    tools = bench.compile_c(work)
    sk_hex, files, _, _ = bench.vector(work)
    first = a.vaults[0]
    ks, key = os.path.join(work, "ks.vault"), os.path.join(work, "ks.key")
    bench.run([first, "init", "--keystore", ks, "--with-key-file", key])
    empty = os.path.join(work, "empty.vault")
    shutil.copy(ks, empty)
    recipient = bench.run([first, "recipient", "--keystore", ks, "--key-file", key]).split()[-1]
    creds = os.path.join(work, "creds.json")
    case = next(c for c in json.load(open(os.path.join(ROOT, "Tests", "VaultKitTests", "Vectors", "blobs.json")))["cases"]
                if c["name"] == bench.VECTOR)
    with open(os.open(creds, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        json.dump(case["payload"]["credentials"], f)
    if a.get_keystore:
        get_ks, get_key, label = a.get_keystore
    else:
        kdir = os.path.join(work, "keystores")
        bench.run([kbench, kdir, "1000", "1", "--keep"])
        get_ks, get_key, label = os.path.join(kdir, "bench-1000.vault"), os.path.join(kdir, "bench.key"), "Acme BV 000123"
    age_key = os.path.join(work, "age.key")
    bench.run(["age-keygen", "-o", age_key])
    age_recipient = bench.run(["age-keygen", "-y", age_key]).strip()
    age_file = os.path.join(work, "creds.age")
    bench.run(["age", "-r", age_recipient, "-o", age_file, creds])

    rows = []
    cpu_runs = min(a.runs, 30)
    for n, vault in enumerate(a.vaults):
        copy = os.path.join(work, f"vault-{n}")
        bench.run(["strip", "--strip-debug", "-o", copy, vault])
        # open: a keystore of its own, and a blob no run has stored yet for every run: blob-0 …
        # for spawn_time (it puts the run's number in place of {}), then one for callgrind and
        # the rest for CPU time, one perf stat each (a blob opened again is a replay).
        own, blobs = os.path.join(work, f"open-{n}.vault"), os.path.join(work, f"blobs-{n}")
        shutil.copy(empty, own)
        os.makedirs(blobs, exist_ok=True)
        spawned = a.runs + 10
        bench.run([kbench, "--seal-blobs", files["armored"], sk_hex, recipient, blobs, str(spawned + 1 + cpu_runs)])
        commands = [
            ("--version", ["--version"], ["age", "--version"]),
            ("fingerprint", ["fingerprint", recipient], ["age-keygen", "-y", age_key]),
            ("seal", ["seal", "--to", recipient, "--label", "Acme BV", "--input", creds], ["age", "-r", age_recipient, "-a", creds]),
            ("open", ["open", "--keystore", own, "--key-file", key, os.path.join(blobs, "blob-{}.vault")], ["age", "-d", "-i", age_key, age_file]),
            ("get", ["get", "--keystore", get_ks, "--key-file", get_key, label, "client_secret"], ["age", "-d", "-i", age_key, age_file]),
        ]
        for name, args, anchor in commands:
            def at(i):
                return [copy] + [x.replace("{}", str(i)) for x in args]
            out = bench.run([tools["spawn_time"], str(a.runs), "10", "--", copy] + args + ["--"] + anchor).split()
            if name == "open":
                ir = instructions(at(spawned))
                cpu = sorted(cpu_ms(at(spawned + 1 + i), 1) for i in range(cpu_runs))[cpu_runs // 2]
            else:
                ir, cpu = instructions(at(0)), cpu_ms(at(0), a.runs)
            v, g, vmin, gmin = (float(x) for x in out)
            rows.append((vault, name, ir, cpu, vmin, v, gmin, g))
    load = os.getloadavg()
    print(f"one-shot start-up, {a.runs} runs each, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    print()
    print("| vault | command | instructions (M) | CPU ms | wall min / median ms | age min / median ms | ratio of min / median |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for vault, name, ir, cpu, vmin, v, gmin, g in rows:
        print(f"| {vault} | {name} | {'—' if ir is None else f'{ir / 1e6:.2f}'} | {cpu:.2f} | {vmin:.2f} / {v:.2f} | {gmin:.2f} / {g:.2f} | {vmin / gmin:.2f}× / {v / g:.2f}× |")


if __name__ == "__main__":
    main()
