#!/usr/bin/env python3
"""Many processes opening blobs into one keystore at once (docs/RELIABILITY.md).

P worker threads each run N `vault open` invocations one after another (every one a separate
process with its own blob), all into the same keystore, unlocked with a key file so the
keystore's lock and fsync are what is measured, not Argon2id. Then:
  - every invocation exited 0 within its timeout and printed its entry (no hang, no lock timeout),
  - `vault list --json` holds exactly the P x N entries, each with a distinct blob id,
  - each blob id is in the replay ledger under its label: opening all the blobs again (one
    invocation) refuses every one as a replay naming that blob id and label,
  - `vault get` of a sample of entries returns their client ids.
Then, unless --readers 0, 2 readers list the keystore in a loop while 4 writers store more:
every listing succeeds and keeps every entry of the one before (no torn or shrinking view).
Reports the wall time and the per-open latency (median, p90, max).

  scripts/reliability/concurrency.py --short   # 8 x 10
  scripts/reliability/concurrency.py           # 8 x 100
"""
import argparse
import concurrent.futures as cf
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def readers_phase(vault, ws, args, before, a, t, n):
    """Readers while writers write: 4 openers store n new blobs each while `a.readers` readers
    list the keystore in a loop. Every listing must succeed, and hold every entry of the one
    before it with the same blob id (entries only arrive), so no reader sees a torn state."""
    labels = [f"r{w}-{i:03d}" for w in range(4) for i in range(n)]
    sealed = {l: path for l, path, _ in ws.seal_many(labels, jobs=2)}
    stop = threading.Event()
    lock = threading.Lock()
    listings, problems = [], []

    def writer(w):
        for i in range(n):
            r = common.run([vault, "open", *args, sealed[f"r{w}-{i:03d}"]], timeout=a.timeout)
            if r.status != 0:
                with lock:
                    problems.append(f"open r{w}-{i:03d} beside readers: {r}")

    def reader():
        last = dict(before)
        while not stop.is_set():
            st, r = common.state(vault, args, timeout=a.timeout)
            with lock:
                listings.append(len(st) if st is not None else -1)
                if st is None:
                    problems.append(f"a listing beside the writers failed: {r}")
                    return
                if any(st.get(k) != v for k, v in last.items()):
                    problems.append(f"a listing lost or changed entries: {len(last)} -> {len(st)}")
                    return
            last = st

    with cf.ThreadPoolExecutor(4 + a.readers) as ex:
        readers = [ex.submit(reader) for _ in range(a.readers)]
        writers = [ex.submit(writer, w) for w in range(4)]
        for f in writers:
            f.result()
        stop.set()
        for f in readers:
            f.result()
    for x in problems[:10]:
        t.check(False, x)
    t.check(not problems, f"{len(problems)} problems with readers beside writers")
    st, _ = common.state(vault, args)
    t.check(st is not None and set(st) == set(before) | set(labels), "entries after the readers' phase")
    print(f"readers beside writers: {a.readers} readers made {len(listings)} listings (of "
          f"{min(listings, default=0)} to {max(listings, default=0)} entries) while 4 writers stored {4 * n} "
          f"more; {len(problems)} problems", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--short", action="store_true", help="8 x 10 opens")
    ap.add_argument("--processes", type=int, default=8)
    ap.add_argument("--opens", type=int, help="opens per process (default 100, or 10 with --short)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds one invocation may take")
    ap.add_argument("--readers", type=int, default=2,
                    help="afterwards, readers listing the keystore in a loop beside 4 writers (0: skip)")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    n = a.opens or (10 if a.short else 100)
    p = a.processes
    vault = common.binary()
    print(f"vault: {vault}; {p} processes x {n} opens; {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    t = common.Tally()
    ws = common.Workspace(vault, prefix="vault-conc-", keep=a.keep)
    try:
        ks, args = ws.init_key_file("conc")
        t0 = time.monotonic()
        labels = [f"c{w}-{i:03d}" for w in range(p) for i in range(n)]
        sealed = ws.seal_many(labels, jobs=2)
        blob_of = {label: path for label, path, _ in sealed}
        client_of = {label: cid for label, _, cid in sealed}
        print(f"sealed {len(sealed)} blobs in {time.monotonic() - t0:.1f} s", flush=True)

        latencies = []
        problems = []
        lock = threading.Lock()
        go = threading.Event()

        def worker(w):
            go.wait()
            for i in range(n):
                label = f"c{w}-{i:03d}"
                r = common.run([vault, "open", *args, blob_of[label]], timeout=a.timeout)
                with lock:
                    latencies.append(r.seconds)
                    expected = f"{label}\texact-online\t{client_of[label]}\n"
                    if r.status != 0 or r.stdout != expected:
                        problems.append(f"open {label}: {r}")

        with cf.ThreadPoolExecutor(p) as ex:
            futures = [ex.submit(worker, w) for w in range(p)]
            start = time.monotonic()
            go.set()
            for f in futures:
                f.result()
            wall = time.monotonic() - start
        hung = [x for x in problems if "status timeout" in x]
        t.check(not hung, f"{len(hung)} invocations hung past {a.timeout:.0f} s: {hung[:3]}")
        for x in problems[:20]:
            t.check(False, x)
        t.check(len(latencies) == p * n, f"{len(latencies)} invocations ran, not {p * n}")

        st, r = common.state(vault, args, timeout=60)
        if t.check(st is not None, f"the keystore does not list afterwards: {r}"):
            t.check(set(st) == set(labels), f"{len(st)} entries, expected {len(labels)}; missing "
                    f"{sorted(set(labels) - set(st))[:10]}, extra {sorted(set(st) - set(labels))[:10]}")
            t.check(len(set(st.values())) == len(st), "two entries share a blob id")
            # Every blob again, in one invocation: each must be refused as a replay of its own id.
            r = common.run([vault, "open", *args, *[blob_of[l] for l in labels]], timeout=300)
            t.check(r.status == 1 and r.stdout == "", f"re-opening every blob did not refuse them all: status {r.status}")
            replays = dict((m.group(2), m.group(1)) for m in
                           re.finditer(r"already opened: blob ([0-9a-f]{32}) was stored as '([^']*)'", r.stderr))
            t.check(len(replays) == len(labels), f"{len(replays)} replays reported for {len(labels)} blobs")
            wrong = [l for l in labels if replays.get(l) != st.get(l)]
            t.check(not wrong, f"{len(wrong)} blobs not in the ledger under their label: {wrong[:5]}")
            for label in labels[:: max(1, len(labels) // 20)]:
                rr = common.run([vault, "get", *args, label, "client_id"])
                t.check(rr.status == 0 and rr.stdout == client_of[label] + "\n", f"get {label}: {rr}")
        t.check(not common.temporaries(ws.dir, ks), "temporary files left")
        size = os.path.getsize(ks)
        med, p90, mx = (common.percentile(latencies, q) * 1000 for q in (0.5, 0.9, 1.0))
        print(f"{p} x {n} = {p * n} opens in {wall:.1f} s wall ({p * n / wall:.1f} opens/s); per open: median "
              f"{med:.0f} ms, p90 {p90:.0f} ms, max {mx:.0f} ms; keystore {size} bytes", flush=True)
        if a.readers and st is not None:
            readers_phase(vault, ws, args, st, a, t, max(1, n // 4))
    finally:
        ws.close()
    t.finish()


if __name__ == "__main__":
    main()
