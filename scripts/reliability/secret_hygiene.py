#!/usr/bin/env python3
"""Secret hygiene of the vault binary, measured (issue 5, docs/RELIABILITY.md).

1. argv and environment: while `vault open` runs (stopped under gdb just after it handled the
   secrets), /proc/PID/cmdline and /proc/PID/environ hold no secret and no passphrase.
2. Hardening: core dumps off (RLIMIT_CORE 0 in /proc/PID/limits) and the process not dumpable
   (its /proc/PID files belong to root although it runs as `nobody`; ptrace attach refused).
3. Files: everything vault wrote during a hand-off is mode 0600 (keystore, key file) or holds no
   plaintext (blob, public key file); no temporary file is left; a passphrase file that group
   can read is refused.
4. Copies in memory: a core image (gdb's generate-core-file) of `vault open` and of `vault get`,
   taken when they write their result to standard output, i.e. just after the secret was
   handled; every copy of the client secret, the webhook secret and the passphrase is located,
   and counted as inside locked secret memory (a VMA with Locked > 0 in /proc/PID/smaps, which
   is what sodium_malloc gives) or outside it. Goal: 0 outside.

   Also `vault seal` as it seals (at crypto_box_seal), and `vault open` at the key derivation
   (crypto_pwhash) and as it encrypts the keystore record that holds the credentials, so the
   count is taken while the secrets are certainly alive; a sanity check fails the run if the
   core image does not show them at all (libsodium marks its memory MADV_DONTDUMP: gdb is told
   to dump it anyway).

Usage: secret_hygiene.py [--binary PATH] [--short]   (--short: the same checks; they are quick)
Prints a final line "N passed, M failed" and exits 1 on any failure. Needs gdb; runs as root
(setpriv for the not-dumpable check).
"""
import argparse, hashlib, json, os, re, shutil, struct, subprocess, sys, tempfile

SECRET = b"Qz7rLm4XtN2pW9vK"          # client secret: 16 letters and digits, the Exact form
WEBHOOK = b"Hb3Jc8Vd5Ye1Zf6G"
PASSPHRASE = b"correct horse battery staple 4711"
passed = failed = 0
report = {}


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok    {what}")
    else:
        failed += 1
        print(f"FAIL  {what}")


def run(args, **kw):
    return subprocess.run(args, capture_output=True, **kw)


def core_segments(core):
    """(file offset, size in file, virtual address) of each PT_LOAD of an ELF64 core."""
    with open(core, "rb") as f:
        head = f.read(64)
        assert head[:4] == b"\x7fELF" and head[4] == 2, "not an ELF64 core"
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    segs = []
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz, _, _ = struct.unpack_from("<IIQQQQQQ", table, i * phentsize)
        if p_type == 1 and p_filesz:
            segs.append((p_offset, p_filesz, p_vaddr))
    return segs


def locked_ranges(smaps_text):
    """The VMAs of /proc/PID/smaps with Locked > 0 kB: (start, end, name)."""
    out, current = [], None
    for line in smaps_text.splitlines():
        m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$", line)
        if m:
            current = (int(m.group(1), 16), int(m.group(2), 16), m.group(3))
            continue
        m = re.match(r"^Locked:\s+(\d+) kB", line)
        if m and current and int(m.group(1)) > 0:
            out.append(current)
    return out


def vma_names(smaps_text):
    """Each VMA with a description: its name, size and flags (for where a copy was found)."""
    out = []
    for line in smaps_text.splitlines():
        m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$", line)
        if m:
            a, b = int(m.group(1), 16), int(m.group(2), 16)
            out.append([a, b, "%s %s, %d kB" % (m.group(4) or "[anonymous]", m.group(3), (b - a) // 1024)])
        m = re.match(r"^VmFlags:\s*(.*)$", line)
        if m and out:
            out[-1][2] += ", flags " + m.group(1).strip()
    return out


def dump_at(binary, args, env, workdir, stop="stdout", stdin_data=None):
    """Runs `binary args` under gdb, stops at its first write(2) to fd 1 (stop="stdout") or at
    the first call of the C function `stop`, saves a core image and the process's /proc views;
    returns (core path, {smaps, cmdline, environ, limits})."""
    core = os.path.join(workdir, "core.%d" % len(os.listdir(workdir)))
    proc_dump = os.path.join(workdir, "proc.json")
    script = os.path.join(workdir, "gdb.py")
    with open(script, "w") as f:
        f.write(f"""
import gdb, json
gdb.execute("set pagination off")
gdb.execute("set confirm off")
# libsodium marks sodium_malloc memory MADV_DONTDUMP; dump it anyway, or copies inside the
# secret memory could not be told from copies that were never there.
gdb.execute("set dump-excluded-mappings on")
if {stop!r} == "stdout":
    gdb.execute("catch syscall write")
    gdb.execute("condition 1 $rdi == 1")
else:
    gdb.execute("set breakpoint pending on")
    gdb.execute("break " + {stop!r})
gdb.execute("run")
pid = gdb.selected_inferior().pid
views = {{}}
for name in ("smaps", "cmdline", "environ", "limits"):
    with open("/proc/%d/%s" % (pid, name), "rb") as f:
        views[name] = f.read().decode("latin-1")
with open({proc_dump!r}, "w") as f:
    json.dump(views, f)
gdb.execute("generate-core-file {core}")
gdb.execute("kill")
""")
    stdin_file = None
    if stdin_data is not None:
        stdin_file = os.path.join(workdir, "stdin")
        with open(stdin_file, "wb") as f:
            f.write(stdin_data)
    gdb_args = ["gdb", "-nx", "-batch", "-ex", f"source {script}"]
    run_args = list(args)
    if stdin_file:
        gdb_args += ["-ex", ""]  # placeholder, stdin redirected through `run` below
    cmd = gdb_args + ["--args", binary] + run_args
    with open(stdin_file or os.devnull, "rb") as sin:
        r = subprocess.run(cmd, env=env, cwd=workdir, stdin=sin, capture_output=True, timeout=120)
    if not os.path.exists(core):
        sys.stderr.write(r.stdout.decode(errors="replace")[-3000:] + r.stderr.decode(errors="replace")[-3000:])
        raise SystemExit("gdb did not produce a core image")
    with open(proc_dump) as f:
        views = json.load(f)
    return core, views


def count_copies(core, smaps, needles):
    segs = core_segments(core)
    locked = locked_ranges(smaps)
    names = vma_names(smaps)
    with open(core, "rb") as f:
        data = f.read()
    result = {}
    for label, needle in needles.items():
        inside, outside = 0, []
        for m in re.finditer(re.escape(needle), data):
            off = m.start()
            vaddr = next((v + off - o for o, s, v in segs if o <= off < o + s), None)
            if vaddr is None:
                continue  # in the notes (registers), not in memory
            if any(a <= vaddr < b for a, b, _ in locked):
                inside += 1
            else:
                where = next((n for a, b, n in names if a <= vaddr < b), "?")
                outside.append("0x%x %s" % (vaddr, where))
        result[label] = {"inside_locked": inside, "outside": len(outside), "where_outside": outside}
    return result


def sanity(copies, cmd, label):
    """The method must see the secret where it has to be, or a 0 outside proves nothing."""
    check(copies[label]["inside_locked"] + copies[label]["outside"] > 0,
          f"{cmd}: the core image does hold the {label} (the method sees secret memory)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.environ.get("VAULT_BINARY") or os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "vault"))
    ap.add_argument("--short", action="store_true")
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)
    if not shutil.which("gdb"):
        raise SystemExit("gdb is missing: apt-get install gdb")
    work = tempfile.mkdtemp(prefix="vault-hygiene-")
    os.chmod(work, 0o755)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
        env["VAULT_KEYSTORE"] = os.path.join(work, "ks.vault")
        pf = os.path.join(work, "pass.txt")
        with open(pf, "wb") as f:
            f.write(PASSPHRASE + b"\n")
        os.chmod(pf, 0o600)
        env["VAULT_PASSPHRASE_FILE"] = pf
        r = run([binary, "init", "--kdf", "interactive"], env=env, cwd=work)
        check(r.returncode == 0, "init with a passphrase file")
        r = run([binary, "recipient", "-o", "i.pub"], env=env, cwd=work)
        fp = open(os.path.join(work, "i.pub")).read().split("# fingerprint: ")[1].split()[0]
        creds = os.path.join(work, "creds.json")
        with open(creds, "wb") as f:
            f.write(b'{"client_id":"1c07724e-cc1b-9ff3-2f42-4a50582c18c9","client_secret":"%s","webhook_secret":"%s"}' % (SECRET, WEBHOOK))
        os.chmod(creds, 0o600)
        r = run([binary, "seal", "--to", "i.pub", "--expect-fingerprint", fp, "--label", "Acme BV",
                 "--input", creds, "-o", "acme.vault"], env=env, cwd=work)
        check(r.returncode == 0, "seal")
        # vault seal while it seals: the credentials read from --input, about to be encrypted.
        core, views = dump_at(binary, ["seal", "--to", "i.pub", "--expect-fingerprint", fp, "--label", "Acme BV",
                                       "--input", creds, "-o", "again.vault"], env, work, stop="crypto_box_seal")
        argv_env = (views["cmdline"] + views["environ"]).encode("latin-1")
        check(all(s not in argv_env for s in (SECRET, WEBHOOK, PASSPHRASE)),
              "vault seal: no secret in /proc/PID/cmdline or environ")
        report["vault seal, sealing"] = count_copies(core, views["smaps"], {"client_secret": SECRET, "webhook_secret": WEBHOOK})
        os.unlink(core)
        sanity(report["vault seal, sealing"], "vault seal, sealing", "client_secret")
        os.unlink(creds)

        needles = {"client_secret": SECRET, "webhook_secret": WEBHOOK, "passphrase": PASSPHRASE}
        # 4: vault open while the secrets are alive: the passphrase in the key derivation, the
        # credentials as the keystore record holding them is encrypted.
        core, views = dump_at(binary, ["open", "acme.vault"], env, work, stop="crypto_pwhash")
        report["vault open, in the key derivation"] = count_copies(core, views["smaps"], needles)
        os.unlink(core)
        sanity(report["vault open, in the key derivation"], "vault open, in the key derivation", "passphrase")
        core, views = dump_at(binary, ["open", "acme.vault"], env, work, stop="crypto_aead_xchacha20poly1305_ietf_encrypt")
        report["vault open, sealing the entry record"] = count_copies(core, views["smaps"], needles)
        os.unlink(core)
        sanity(report["vault open, sealing the entry record"], "vault open, sealing the entry record", "client_secret")
        # 1, 4: vault open, stopped as it prints the stored line (the secrets handled and gone).
        core, views = dump_at(binary, ["open", "acme.vault"], env, work)
        argv_env = (views["cmdline"] + views["environ"]).encode("latin-1")
        check(all(s not in argv_env for s in (SECRET, WEBHOOK, PASSPHRASE)),
              "vault open: no secret or passphrase in /proc/PID/cmdline or environ")
        check(re.search(r"Max core file size\s+0\s+0", views["limits"]) is not None,
              "vault open: RLIMIT_CORE is 0 (/proc/PID/limits)")
        report["vault open, printing the stored line"] = count_copies(core, views["smaps"], needles)
        os.unlink(core)
        # 4: vault get, stopped as it writes the secret.
        core, views = dump_at(binary, ["get", "Acme BV", "client_secret"], env, work)
        copies_get = count_copies(core, views["smaps"], needles)
        os.unlink(core)
        report["vault get, printing the secret"] = copies_get
        sanity(copies_get, "vault get, printing the secret", "client_secret")
        for cmd, copies in report.items():
            for label, c in copies.items():
                print(f"      {cmd}: {label}: {c['inside_locked']} in locked secret memory, {c['outside']} outside"
                      + (": " + "; ".join(c["where_outside"]) if c["outside"] else ""))
                check(c["outside"] == 0, f"{cmd}: no copy of the {label} outside locked secret memory")

        # 2: not dumpable, as nobody (root ignores the /proc ownership rule).
        os.chown(work, 65534, 65534)
        for name in ("ks.vault", "pass.txt", "acme.vault"):
            os.chown(os.path.join(work, name), 65534, 65534)
        p = subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", binary, "open", "-"],
                             env=env, cwd=work, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            import time
            deadline = time.time() + 10
            owner = None
            while time.time() < deadline:
                try:
                    st = os.stat(f"/proc/{p.pid}/environ")
                    status = open(f"/proc/{p.pid}/status").read()
                    uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
                    if uid == 65534 and open(f"/proc/{p.pid}/comm").read().strip() == "vault":
                        limits = open(f"/proc/{p.pid}/limits").read()
                        owner = st.st_uid
                        # Hardening runs before the command reads its input: give it a moment.
                        time.sleep(0.3)
                        owner = os.stat(f"/proc/{p.pid}/environ").st_uid
                        break
                except (FileNotFoundError, AttributeError):
                    pass
                time.sleep(0.02)
            check(owner == 0, "vault open as nobody: not dumpable (its /proc files belong to root)")
            check(re.search(r"Max core file size\s+0\s+0", open(f"/proc/{p.pid}/limits").read()) is not None,
                  "vault open as nobody: RLIMIT_CORE 0")
            attach = run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                          "gdb", "-nx", "-batch", "-p", str(p.pid)], timeout=60)
            text = (attach.stdout + attach.stderr).decode(errors="replace")
            check("Operation not permitted" in text or "ptrace" in text.lower(),
                  "vault open as nobody: ptrace attach by the same user refused")
        finally:
            p.kill()
            p.wait()

        # 3: files.
        modes = {n: os.stat(os.path.join(work, n)).st_mode & 0o777 for n in os.listdir(work) if os.path.isfile(os.path.join(work, n))}
        check(modes.get("ks.vault") == 0o600, "keystore mode 0600 (%o)" % modes.get("ks.vault", 0))
        leftovers = [n for n in os.listdir(work) if ".tmp" in n]
        check(not leftovers, "no temporary file left (%s)" % leftovers)
        plain = [n for n in os.listdir(work) if os.path.isfile(os.path.join(work, n))
                 and any(s in open(os.path.join(work, n), "rb").read() for s in (SECRET, WEBHOOK))]
        check(not plain, "no file holds a secret in clear (%s)" % plain)
        os.chmod(pf, 0o640)
        r = run([binary, "list"], env=env, cwd=work)
        check(r.returncode == 1 and b"chmod 600" in r.stderr, "a group-readable passphrase file is refused with a chmod 600 hint")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=1))
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
