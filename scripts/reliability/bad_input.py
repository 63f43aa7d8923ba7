#!/usr/bin/env python3
"""The bad-input matrix of issue 5, run against the built `vault` binary.

Damaged keystores — truncated at every 64th byte, each header byte flipped, each byte of the two
state slots flipped, another keystore's file swapped in, a wrong passphrase, a wrong key file — and
every Bech32 class of FORMAT.md §1.
Then what a sender or a shared text controls (issue 8): hostile key names and labels (ESC, OSC 52,
CR/LF, zero-width and bidi characters), field names that are shell variables, a .pub with two
fingerprint comments, bytes that are not UTF-8, an option given twice, a closed standard output;
each must leave no raw control or invisible character on either stream and change nothing.
For each run: its exit status and first message line, the keystore's SHA-256 before and after
(must be equal), no file left beside it, its wall time and its peak memory (ru_maxrss of the
child) against the limits: a few seconds, and the memory of the KDF profile in the header
(interactive here: 64 MiB) plus what the program itself needs.

Usage: bad_input.py [--binary PATH] [--short]     (--short: every 4th truncation, header and state byte)
Prints a table of outcomes by message, and a final line "N passed, M failed".
"""
import argparse, collections, hashlib, json, os, re, shutil, subprocess, sys, tempfile, time

passed = failed = 0
MAX_SECONDS = 3.0
# Argon2id "interactive" uses 64 MiB; the process itself (Swift runtime, Foundation) ~30 MiB.
MAX_RSS_KB = 64 * 1024 + 64 * 1024


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL  {what}")


def run(binary, args, env, cwd):
    """(status, stdout, stderr, seconds, max rss kB) of one child."""
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    t0 = time.monotonic()
    p = subprocess.Popen([binary] + args, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                         start_new_session=True)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - t0
    out.seek(0); err.seek(0)
    return p.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace"), seconds, ru.ru_maxrss


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# Characters that must never reach a terminal raw (Escape.swift marks these and more).
FORBIDDEN = set(range(0x00, 0x09)) | set(range(0x0b, 0x20)) | set(range(0x7f, 0xa0)) | {
    0xad, 0x061c, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0x2060, 0xfeff, 0xfe0f} \
    | set(range(0x202a, 0x202f)) | set(range(0x2066, 0x206a))
HOSTILE = "ev\x1b[2K\r\x07\x1b]52;c;aGk=\x07\x9b31m\nvault: stored\u200b\u202e\u2066\u061c\ufeffil"
PRINTABLE = "Delta\u200b\u200d\u202e\u2066\u061c\ufeff BV"
# The same invisible and bidi characters in a label the keystore holds: every one of them is a
# default-ignorable code point, so under keystore format 2 it is the same label as `Acme BV`
# (docs/KEYSTORE.md §2.4) and is refused as in use, not stored beside it.
TWIN = "Acme\u200b\u200d\u202e\u2066\u061c\ufeff BV"


def raw_marks(text):
    return sorted({hex(ord(c)) for c in text if ord(c) in FORBIDDEN})


def first_message(stderr):
    for line in stderr.splitlines():
        if line.startswith("vault: error:") or line.startswith("vault: warning:"):
            # Paths and numbers vary: keep the words that tell outcomes apart.
            line = re.sub(r"(?<!\w)'[^']*'", "'…'", line)
            line = re.sub(r"SHA256:[0-9a-f]{64}", "SHA256:…", line)
            line = re.sub(r"\b[0-9a-f]{32}\b", "…", line)
            return re.sub(r"(?<![A-Za-z0-9-])\d+", "N", line)
    return "(no message)"


def sender(binary, env, work, good, pf, fp, creds, outcomes):
    """What a sender or a shared text controls, against the keystore `good` (issue 8)."""
    unlock = ["--keystore", good, "--passphrase-file", pf]

    def case(kind, args, status, stdout_is_data=False, cwd=work, stdout=subprocess.PIPE, keystore_unchanged=True):
        before = sha(good)
        out_f, err_f = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        p = subprocess.Popen(args, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                             stdout=out_f if stdout == subprocess.PIPE else stdout, stderr=err_f, start_new_session=True)
        p.wait()
        out_f.seek(0); err_f.seek(0)
        out, err = out_f.read().decode(errors="replace"), err_f.read().decode(errors="replace")
        key = (kind, p.returncode, first_message(err))
        outcomes[key] = outcomes.get(key, 0) + 1
        check(p.returncode == status, f"{kind}: status {status}, not {p.returncode}: {err!r}")
        check(not raw_marks(err), f"{kind}: raw {raw_marks(err)} on stderr")
        if not stdout_is_data:
            check(not raw_marks(out), f"{kind}: raw {raw_marks(out)} on stdout")
        if keystore_unchanged:
            check(sha(good) == before, f"{kind}: the keystore changed")
        return out, err

    def write(name, data, mode=0o600):
        path = os.path.join(work, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        os.chmod(path, mode)
        return path

    # Hostile key names, through the sealer's reader of --input (the same JSON reader and the
    # same messages as a payload's).
    key = json.dumps(HOSTILE)
    for kind, text, extra in [("hostile key, exact-online input", "{%s:\"x\"}" % key, []),
                              ("hostile key, generic input", "{%s:\"x\"}" % key, ["--type", "generic"]),
                              ("hostile duplicate key", "{%s:\"x\",%s:\"y\"}" % (key, key), [])]:
        write("hostile.json", text)
        case(kind, [binary, "seal", "--to", "i.pub", "--expect-fingerprint", fp, "--label", "A", "--input",
                    "hostile.json", *extra], 1)
    # Invisible and bidi characters in a label, a from and a note, stored and shown.
    seal = subprocess.run([binary, "seal", "--to", "i.pub", "--expect-fingerprint", fp, "--label", PRINTABLE,
                           "--from", PRINTABLE, "--note", PRINTABLE + "\nvault: stored", "--input", creds],
                          env=env, cwd=work, capture_output=True, start_new_session=True)
    write("printable.vault", seal.stdout)
    case("invisible label, opened", [binary, "open", "printable.vault", *unlock], 0, keystore_unchanged=False)
    case("invisible label, list", [binary, "list", *unlock], 0)
    case("invisible label, show", [binary, "show", PRINTABLE, *unlock], 0)
    case("invisible label, list --json", [binary, "list", "--json", *unlock], 0)
    case("invisible label, replayed", [binary, "open", "printable.vault", *unlock], 1)
    seal = subprocess.run([binary, "seal", "--to", "i.pub", "--expect-fingerprint", fp, "--label", TWIN, "--input", creds],
                          env=env, cwd=work, capture_output=True, start_new_session=True)
    write("twin.vault", seal.stdout)
    _, err = case("invisible twin of a stored label", [binary, "open", "twin.vault", *unlock], 1)
    check("already exists" in err, f"the twin is refused as a label in use: {err!r}")
    case("hostile argument", [binary, "get", HOSTILE, "client_id", *unlock], 1)
    case("hostile file name", [binary, "inspect", HOSTILE], 1)
    # Field names that are shell variables: prefixed by default, refused where still one.
    write("shell.json", '{"ps4":"$(id)","path":"/tmp","command":"id"}')
    seal = subprocess.run([binary, "seal", "--to", "i.pub", "--expect-fingerprint", fp, "--label", "Shell", "--type",
                           "generic", "--input", "shell.json"], env=env, cwd=work, capture_output=True, start_new_session=True)
    write("shell.vault", seal.stdout)
    case("shell field names, opened", [binary, "open", "shell.vault", *unlock], 0, keystore_unchanged=False)
    # An export hands out secrets: it writes its audit record (a refused one, below, does not).
    out, _ = case("shell field names, export env", [binary, "export", "Shell", "--format", "env", *unlock], 0, stdout_is_data=True,
                  keystore_unchanged=False)
    check(out.startswith("VAULT_PS4=") and "\nPS4=" not in out and "\nPATH=" not in out, f"prefixed names: {out!r}")
    out, _ = case("shell field names, --prefix PROMPT_", [binary, "export", "Shell", "--format", "env", "--prefix", "PROMPT_", *unlock], 1)
    check(out == "", "nothing printed when a name is refused")
    case("--prefix LD_", [binary, "export", "Shell", "--format", "env", "--prefix", "LD_", *unlock], 2)
    # A .pub with the honest fingerprint on top and another key and its fingerprint below.
    other = subprocess.run([binary, "recipient", "--keystore", os.path.join(work, "other.vault"), "--passphrase-file",
                            os.path.join(work, "pass2")], env=env, cwd=work, capture_output=True, text=True).stdout
    other_fp, other_key = other.split("# fingerprint: ")[1].split()[0], other.strip().splitlines()[-1]
    write("two.pub", "# fingerprint: %s\n# fingerprint: %s\n%s\n" % (fp, other_fp, other_key))
    case(".pub, two fingerprint comments", [binary, "fingerprint", "two.pub"], 1)
    case("an option given twice", [binary, "seal", "--to", "i.pub", "--to", "two.pub", "--input", creds], 2)
    # Bytes that are not UTF-8.
    write("bad.pub", b"# \xe9quipe\n" + open(os.path.join(work, "i.pub"), "rb").read())
    case(".pub not UTF-8", [binary, "fingerprint", "bad.pub"], 1)
    begin, end = b"-----BEGIN VAULT HAND-OFF REQUEST-----", b"-----END VAULT HAND-OFF REQUEST-----"
    recipient = open(os.path.join(work, "i.pub"), "rb").read().strip().splitlines()[-1]
    write("bad-request.txt", b"\n".join([begin, b"Recipient: " + recipient, b"Fingerprint: " + fp.encode(),
                                          b"Label: Acme \xff BV", b"Code: " + b"0" * 32, b"Expires: 2099-01-01T00:00:00Z", end]) + b"\n")
    case("request not UTF-8", [binary, "inspect", "bad-request.txt"], 1)
    case("argument not UTF-8", [binary.encode(), b"inspect", b"a\xff.txt"], 2)
    # A closed standard output: status 1, not SIGPIPE.
    r, w = os.pipe()
    os.close(r)
    case("closed standard output", [binary, "list", "--json", *unlock], 1, stdout=w)
    os.close(w)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.environ.get("VAULT_BINARY") or os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "vault"))
    ap.add_argument("--short", action="store_true")
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)
    step = 4 if a.short else 1
    work = tempfile.mkdtemp(prefix="vault-badinput-")
    outcomes = collections.OrderedDict()
    worst = {"seconds": 0.0, "rss_kb": 0}
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
        pf = os.path.join(work, "pass")
        with open(pf, "w") as f:
            f.write("a passphrase for the matrix\n")
        os.chmod(pf, 0o600)
        good = os.path.join(work, "good.vault")
        r = run(binary, ["init", "--keystore", good, "--kdf", "interactive", "--passphrase-file", pf], env, work)
        assert r[0] == 0, r
        run(binary, ["recipient", "--keystore", good, "--passphrase-file", pf, "-o", "i.pub"], env, work)
        fp = open(os.path.join(work, "i.pub")).read().split("# fingerprint: ")[1].split()[0]
        creds = os.path.join(work, "c.json")
        with open(creds, "w") as f:
            f.write('{"client_id":"1c07724e-cc1b-9ff3-2f42-4a50582c18c9","client_secret":"EKKQh8KqRptS"}')
        os.chmod(creds, 0o600)
        for label in ("Acme BV", "Bakker", "Chemie"):
            run(binary, ["seal", "--to", "i.pub", "--expect-fingerprint", fp, "--label", label, "--input", creds,
                         "-o", label + ".vault"], env, work)
            r = run(binary, ["open", "--keystore", good, "--passphrase-file", pf, label + ".vault"], env, work)
            assert r[0] == 0, r
        image = open(good, "rb").read()
        # Format 2 (docs/KEYSTORE.md §2): the header length is bytes 10-13; two 256-byte state
        # slots follow the header.
        header_len = int.from_bytes(image[10:14], "big")
        assert header_len == 47 + 275 + len("passphrase") + 64, header_len

        def trial(kind, data, args_extra=(), unlock=("--passphrase-file", pf), expect_ok=False):
            d = tempfile.mkdtemp(dir=work)
            path = os.path.join(d, "ks.vault")
            with open(path, "wb") as f:
                f.write(data)
            os.chmod(path, 0o600)
            before = sha(path)
            status, out, err, seconds, rss = run(binary, ["list", "--keystore", path, *unlock, *args_extra], env, work)
            message = first_message(err)
            key = (kind, status, message)
            outcomes[key] = outcomes.get(key, 0) + 1
            check(sha(path) == before, f"{kind}: keystore byte-identical after `vault list` ({message})")
            check(sorted(os.listdir(d)) in (["ks.vault"], ["ks.vault", "ks.vault.lock"]),
                  f"{kind}: no file left beside the keystore: {os.listdir(d)}")
            check(status in (0, 1), f"{kind}: exit status 0 or 1, not {status}")
            if status == 0 and not expect_ok:
                # Accepted: only a flipped state slot. The current one reads as a torn commit
                # (the other slot's older state, and a warning naming the newer bytes it
                # ignores); the older one is simply not used.
                check(kind == "state byte flipped", f"{kind}: a damaged keystore was accepted ({message})")
            check(seconds < MAX_SECONDS, f"{kind}: took {seconds:.2f} s")
            check(rss < MAX_RSS_KB, f"{kind}: used {rss} kB")
            worst["seconds"] = max(worst["seconds"], seconds)
            worst["rss_kb"] = max(worst["rss_kb"], rss)
            shutil.rmtree(d)
            return status, message

        trial("intact", image, expect_ok=True)
        for cut in range(0, len(image), 64 * step):
            trial("truncated", image[:cut])
        for i in range(0, header_len, step):
            flipped = bytearray(image)
            flipped[i] ^= 0x01
            trial("header byte flipped", bytes(flipped))
        for i in range(header_len, header_len + 512, step):
            flipped = bytearray(image)
            flipped[i] ^= 0x01
            trial("state byte flipped", bytes(flipped))
        # Another keystore's file in its place (its own passphrase differs).
        other = os.path.join(work, "other.vault")
        pf2 = os.path.join(work, "pass2")
        with open(pf2, "w") as f:
            f.write("another passphrase\n")
        os.chmod(pf2, 0o600)
        run(binary, ["init", "--keystore", other, "--kdf", "interactive", "--passphrase-file", pf2], env, work)
        trial("another keystore swapped in", open(other, "rb").read())
        wrong = os.path.join(work, "wrong")
        with open(wrong, "w") as f:
            f.write("not the passphrase\n")
        os.chmod(wrong, 0o600)
        trial("wrong passphrase", image, unlock=("--passphrase-file", wrong))
        keyed = os.path.join(work, "keyed.vault")
        run(binary, ["init", "--keystore", keyed, "--with-key-file", os.path.join(work, "k1")], env, work)
        run(binary, ["init", "--keystore", os.path.join(work, "keyed2.vault"), "--with-key-file", os.path.join(work, "k2")], env, work)
        trial("wrong key file", open(keyed, "rb").read(), unlock=("--key-file", os.path.join(work, "k2")))

        # Every Bech32 class (the spec's invalid recipients), through `vault fingerprint`.
        vectors = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "VaultKitTests", "Vectors", "keys.json")
        bech = {}
        for case in json.load(open(vectors))["invalid_recipients"]:
            status, out, err, seconds, rss = run(binary, ["fingerprint", case["input"]], env, work)
            bech.setdefault(case["error"], set()).add((status, first_message(err)))
            check(status == 2 and out == "", f"recipient class {case['error']}: status 2, nothing on stdout")
        messages = {c: m for c, m in bech.items()}
        check(len({m for ms in messages.values() for m in ms}) == len(messages),
              "each Bech32 class has its own message: %s" % messages)

        sender(binary, env, work, good, pf, fp, creds, outcomes)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("%-36s %-6s %5s  %s" % ("case", "status", "runs", "first message"))
    for (kind, status, message), n in outcomes.items():
        print("%-36s %-6s %5d  %s" % (kind, status, n, message))
    for cls, ms in bech.items():
        for status, m in ms:
            print("%-36s %-6s %5s  %s" % ("recipient: " + cls, status, "", m))
    print(f"slowest run {worst['seconds']:.2f} s, largest peak memory {worst['rss_kb'] // 1024} MiB")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
