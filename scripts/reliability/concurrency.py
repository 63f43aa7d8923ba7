#!/usr/bin/env python3
"""Many processes opening blobs into one keystore at once (docs/RELIABILITY.md).

P worker threads each run N `vault open` invocations one after another (every one a separate
process with its own blob), all into the same keystore, unlocked with a key file so the
keystore's lock and fsync are what is measured, not Argon2id. Then:
  - every invocation exited 0 within its timeout and printed its entry (no hang, no lock timeout),
  - `vault list --json` holds exactly the P x N entries, each with a distinct blob id,
  - each blob id is in the replay ledger under its label: opening all the blobs again (one
    invocation) refuses every one as a replay naming that blob id and label,
  - the keystore verifies from scratch (a fresh `vault show` of a sample of entries).
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--short", action="store_true", help="8 x 10 opens")
    ap.add_argument("--processes", type=int, default=8)
    ap.add_argument("--opens", type=int, help="opens per process (default 100, or 10 with --short)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds one invocation may take")
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
    finally:
        ws.close()
    t.finish()


if __name__ == "__main__":
    main()
