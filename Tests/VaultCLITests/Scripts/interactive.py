#!/usr/bin/env python3
"""Drives `vault` through a pseudo-terminal, as a customer (seal) or integrator (init, open) would.

Usage: interactive.py SCENARIO VAULT_BINARY WORKDIR RECIPIENT_FILE FINGERPRINT_GROUPED FINGERPRINT

Each scenario exits 0 when everything it checks holds, else prints what failed and exits 1.
The Swift test (InteractiveTests.swift) then opens the written blob with the test key.
Needs pexpect (pip install pexpect).
"""
import os
import sys
import termios

import pexpect

SECRET = "EKKQh8KqRptS"
TYPO = "EKKQh8KqRptZ"
WEBHOOK = "Wh00kS3cretX"
CLIENT_ID = "1c07724e-cc1b-9ff3-2f42-4a50582c18c9"
PASSPHRASE = "correct horse battery staple"


def fail(message, child=None):
    print("FAIL:", message)
    if child is not None:
        print("--- transcript ---")
        print(child.logfile_read.getvalue() if hasattr(child.logfile_read, "getvalue") else "")
    sys.exit(1)


class Log:
    def __init__(self):
        self.parts = []

    def write(self, data):
        self.parts.append(data)

    def flush(self):
        pass

    def getvalue(self):
        return "".join(self.parts)


def spawn(binary, workdir, args):
    child = pexpect.spawn(binary, args, cwd=workdir, encoding="utf-8", timeout=10,
                          env={k: v for k, v in os.environ.items() if not k.startswith("VAULT_")})
    child.logfile_read = Log()
    return child


def expect(child, pattern):
    try:
        child.expect_exact(pattern)
    except (pexpect.TIMEOUT, pexpect.EOF):
        fail("did not see %r" % pattern, child)


def echo_is_off(child):
    # The master side reads the slave's settings: wait until vault has turned echo off.
    return child.waitnoecho(timeout=5)


def secret(child, prompt, value):
    expect(child, prompt)
    if not echo_is_off(child):
        fail("echo is on at %r" % prompt, child)
    child.sendline(value)


def finish(child, status):
    child.expect(pexpect.EOF)
    child.close()
    transcript = child.logfile_read.getvalue()
    for s in (SECRET, TYPO, WEBHOOK, PASSPHRASE):
        if s in transcript:
            fail("a secret appeared on the terminal", child)
    if child.exitstatus != status:
        fail("exit status %r, expected %d" % (child.exitstatus, status), child)
    return transcript


def full(binary, workdir, pub, grouped, fingerprint):
    """Every question answered; a wrong client ID and a mistyped second secret are caught."""
    child = spawn(binary, workdir, ["seal", "--to", pub, "-o", "acme.vault"])
    expect(child, grouped)
    expect(child, "Is it exactly the same? Type yes or no: ")
    child.sendline("yes")
    expect(child, "Label: the name of your company")
    expect(child, "  Label: ")
    child.sendline("Acme BV")
    expect(child, 'under "Manage my apps" in the Exact Online App Center')
    expect(child, "  Client ID: ")
    child.sendline("not-a-guid")
    expect(child, "That is not accepted: it must be a GUID")
    expect(child, "  Client ID: ")
    child.sendline(CLIENT_ID.upper())
    secret(child, "  Client secret: ", SECRET)
    secret(child, "  Type it again, to check: ", TYPO)
    expect(child, "The two entries differ. Please type it again.")
    secret(child, "  Client secret: ", SECRET)
    secret(child, "  Type it again, to check: ", SECRET)
    secret(child, "  Webhook secret: ", WEBHOOK)
    secret(child, "  Type it again, to check: ", WEBHOOK)
    expect(child, "  Region [nl]: ")
    if not child.getecho():
        fail("echo was not restored after the secret prompts", child)
    child.sendline("")
    expect(child, "  Redirect URI: ")
    child.sendline("https://example.com/callback")
    expect(child, "  App name: ")
    child.sendline("")
    expect(child, "  Division: ")
    child.sendline("12")
    expect(child, "  From: ")
    child.sendline("Jan")
    review(child)
    child.sendline("yes")
    expect(child, "e-mail the file 'acme.vault' to your integrator; only their key opens it")
    finish(child, 0)


def review(child):
    """The review before sealing: every line, the secrets masked, then the question."""
    expect(child, "Please check what will be sealed:")
    expect(child, "Type yes to seal it, a line's number to change it, or no to stop: ")


def declined(binary, workdir, pub, grouped, fingerprint):
    """A fingerprint that does not match the manual: nothing is asked, nothing written."""
    child = spawn(binary, workdir, ["seal", "--to", pub, "-o", "declined.vault"])
    expect(child, grouped)
    expect(child, "Type yes or no: ")
    child.sendline("no")
    expect(child, "vault: error: the fingerprint was not confirmed; nothing was sealed")
    finish(child, 1)
    if os.path.exists(os.path.join(workdir, "declined.vault")):
        fail("an output file was left behind")


def expected(binary, workdir, pub, grouped, fingerprint):
    """--expect-fingerprint replaces the question; options are never asked for again."""
    child = spawn(binary, workdir, ["seal", "--to", pub, "--expect-fingerprint", fingerprint,
                                    "--label", "Acme BV", "--client-id", CLIENT_ID, "--input", "extra.json",
                                    "-o", "expected.vault"])
    secret(child, "  Client secret: ", SECRET)
    secret(child, "  Type it again, to check: ", SECRET)
    review(child)
    child.sendline("y")
    transcript = finish(child, 0)
    for unwanted in ("Type yes or no", "Label:", "Client ID:", "Region [", "Webhook secret:"):
        if unwanted in transcript:
            fail("asked %r although it was given or --input was used" % unwanted, child)


def interrupted(binary, workdir, pub, grouped, fingerprint):
    """Core dumps off while a secret is asked; Ctrl-C there gives the terminal its echo back, writes nothing."""
    child = spawn(binary, workdir, ["seal", "--to", pub, "--expect-fingerprint", fingerprint,
                                    "--label", "Acme BV", "--client-id", CLIENT_ID, "-o", "interrupted.vault"])
    expect(child, "  Client secret: ")
    if not echo_is_off(child):
        fail("echo is on at the secret prompt", child)
    # A command holding secrets runs with core dumps off (RLIMIT_CORE 0).
    with open("/proc/%d/limits" % child.pid) as f:
        core = [line for line in f if line.startswith("Max core file size")]
    if not core or core[0].split()[4:6] != ["0", "0"]:
        fail("core dumps are not off: %r" % core, child)
    child.sendintr()
    child.expect(pexpect.EOF)
    attrs = termios.tcgetattr(child.child_fd)
    if not attrs[3] & termios.ECHO:
        fail("echo still off after Ctrl-C", child)
    child.close()
    if child.signalstatus != 2 and child.exitstatus in (0, None):
        fail("unexpected end: %r %r" % (child.exitstatus, child.signalstatus), child)
    if os.path.exists(os.path.join(workdir, "interrupted.vault")):
        fail("an output file was left behind")


def init_passphrase(binary, workdir, pub, grouped, fingerprint):
    """`vault init` asks the passphrase twice with echo off; an empty one and a mismatch are asked again."""
    child = spawn(binary, workdir, ["init", "--keystore", "ks.vault", "--kdf", "interactive"])
    secret(child, "New passphrase: ", "")
    expect(child, "An empty passphrase is refused")
    secret(child, "New passphrase: ", PASSPHRASE)
    secret(child, "The same passphrase again: ", PASSPHRASE + "x")
    expect(child, "The two passphrases differ")
    secret(child, "New passphrase: ", PASSPHRASE)
    secret(child, "The same passphrase again: ", PASSPHRASE)
    expect(child, "vault1")
    expect(child, "SHA256:")
    transcript = finish(child, 0)
    if PASSPHRASE + "x" in transcript:
        fail("the mistyped passphrase appeared on the terminal", child)


def init_weak(binary, workdir, pub, grouped, fingerprint):
    """A trivially weak passphrase is refused at once, saying why, and asked again."""
    child = spawn(binary, workdir, ["init", "--keystore", "weak.vault", "--kdf", "interactive"])
    secret(child, "New passphrase: ", "a")
    expect(child, "That passphrase is too weak: it is only 1 character long")
    expect(child, "--allow-weak-passphrase")
    secret(child, "New passphrase: ", "qwertyuiop")
    expect(child, "That passphrase is too weak: it follows neighbouring keys")
    secret(child, "New passphrase: ", PASSPHRASE)
    secret(child, "The same passphrase again: ", PASSPHRASE)
    expect(child, "vault1")
    transcript = finish(child, 0)
    if "qwertyuiop" in transcript:
        fail("the weak passphrase appeared on the terminal", child)


def open_passphrase(binary, workdir, pub, grouped, fingerprint):
    """`vault open` asks the keystore's passphrase with echo off, then stores the blob."""
    child = spawn(binary, workdir, ["open", "--keystore", "ks.vault", "acme.vault"])
    secret(child, "Passphrase for 'ks.vault': ", PASSPHRASE)
    expect(child, "Acme BV")
    expect(child, CLIENT_ID)
    finish(child, 0)


def open_wrong_passphrase(binary, workdir, pub, grouped, fingerprint):
    """A wrong passphrase at the terminal is asked again, three tries in all; then status 1,
    named, nothing stored."""
    child = spawn(binary, workdir, ["open", "--keystore", "ks.vault", "acme.vault"])
    for attempt in range(3):
        secret(child, "Passphrase for 'ks.vault': ", "not " + PASSPHRASE)
        if attempt < 2:
            expect(child, "That passphrase does not unlock the keystore; try again.")
    expect(child, "wrong passphrase")
    transcript = finish(child, 1)
    if "not " + PASSPHRASE in transcript:
        fail("the typed passphrase appeared on the terminal", child)


def open_retry_passphrase(binary, workdir, pub, grouped, fingerprint):
    """A mistyped passphrase, then the right one: the blob is stored, no need to start over."""
    child = spawn(binary, workdir, ["open", "--keystore", "ks.vault", "acme.vault"])
    secret(child, "Passphrase for 'ks.vault': ", PASSPHRASE + "x")
    expect(child, "try again")
    secret(child, "Passphrase for 'ks.vault': ", PASSPHRASE)
    expect(child, "Acme BV")
    finish(child, 0)


def passwd_passphrase(binary, workdir, pub, grouped, fingerprint):
    """`vault passwd` asks the old passphrase, then the new one twice, all with echo off."""
    child = spawn(binary, workdir, ["passwd", "--keystore", "ks.vault", "--kdf", "interactive"])
    secret(child, "Passphrase for 'ks.vault': ", PASSPHRASE)
    secret(child, "New passphrase: ", "new " + PASSPHRASE)
    secret(child, "The same passphrase again: ", "new " + PASSPHRASE)
    expect(child, "is changed")
    finish(child, 0)


def open_progress(binary, workdir, pub, grouped, fingerprint):
    """`vault open` of several files at a terminal shows its progress on standard error, then a
    summary; nothing is asked (the passphrase comes from a file)."""
    child = spawn(binary, workdir, ["open", "--keystore", "ks.vault", "--passphrase-file", "pass.txt",
                                    "a.vault", "b.vault", "c.vault"])
    for n in (1, 2, 3):
        expect(child, "opening %d/3" % n)
    expect(child, "opened 3, refused 0")
    finish(child, 0)


def unusual_secret(binary, workdir, pub, grouped, fingerprint):
    """A secret that does not look like an Exact one is questioned right there: Enter types it
    again, `keep` keeps it."""
    child = spawn(binary, workdir, ["seal", "--to", pub, "--expect-fingerprint", fingerprint,
                                    "--label", "Acme BV", "--client-id", CLIENT_ID, "--input", "extra.json",
                                    "-o", "unusual.vault"])
    secret(child, "  Client secret: ", "abc")
    expect(child, "That does not look like an Exact Online client secret")
    expect(child, "it is 3 characters long")
    expect(child, "Press Enter to type it again, or type keep to use it as it is: ")
    child.sendline("")
    secret(child, "  Client secret: ", SECRET)
    secret(child, "  Type it again, to check: ", SECRET)
    review(child)
    child.sendline("yes")
    expect(child, "e-mail the file 'unusual.vault'")
    transcript = finish(child, 0)
    if "warning" in transcript:
        fail("a warning after the person settled it", child)


def unusual_secret_kept(binary, workdir, pub, grouped, fingerprint):
    """`keep` keeps an unusual secret (Exact's form is observed, not documented)."""
    child = spawn(binary, workdir, ["seal", "--to", pub, "--expect-fingerprint", fingerprint,
                                    "--label", "Acme BV", "--client-id", CLIENT_ID, "--input", "extra.json",
                                    "-o", "kept.vault"])
    secret(child, "  Client secret: ", "abc-def_ghi.jk")
    expect(child, "it holds characters other than letters and digits")
    expect(child, "type keep to use it as it is: ")
    child.sendline("keep")
    secret(child, "  Type it again, to check: ", "abc-def_ghi.jk")
    review(child)
    child.sendline("yes")
    expect(child, "e-mail the file 'kept.vault'")
    finish(child, 0)


def review_change(binary, workdir, pub, grouped, fingerprint):
    """At the review every field is shown, secrets masked, with the fingerprint and the expiry;
    a mistyped client ID and a wrong secret are changed there, then sealed."""
    child = spawn(binary, workdir, ["seal", "--to", pub, "--expect-fingerprint", fingerprint,
                                    "--label", "Acme BV", "--input", "extra.json", "-o", "reviewed.vault"])
    expect(child, "  Client ID: ")
    # Pasted with the spaces around it that a web page gives: taken without them.
    child.sendline("  00000000-0000-0000-0000-000000000000 ")
    secret(child, "  Client secret: ", TYPO)
    secret(child, "  Type it again, to check: ", TYPO)
    review(child)
    text = child.logfile_read.getvalue()
    for line in ("label", "Acme BV", "00000000-0000-0000-0000-000000000000", "client secret", "******** (hidden)",
                 "webhook secret", "region", "de", "integrator may open it until", "(30d)", "sealed to the key", grouped):
        if line not in text:
            fail("the review lacks %r" % line, child)
    child.sendline("2")
    expect(child, "  Client ID: ")
    child.sendline(CLIENT_ID)
    expect(child, "Type yes to seal it")
    child.sendline("client secret")  # a line's name works as well as its number
    secret(child, "  Client secret: ", SECRET)
    secret(child, "  Type it again, to check: ", SECRET)
    expect(child, "Type yes to seal it")
    child.sendline("99")
    expect(child, "Please type yes, no, or the number (or name) of a line to change")
    child.sendline("yes")
    expect(child, "e-mail the file 'reviewed.vault'")
    finish(child, 0)


def review_stop(binary, workdir, pub, grouped, fingerprint):
    """`no` at the review stops: nothing sealed, nothing written, status 1."""
    child = spawn(binary, workdir, ["seal", "--to", pub, "--expect-fingerprint", fingerprint,
                                    "--label", "Acme BV", "--client-id", CLIENT_ID, "--input", "extra.json",
                                    "-o", "stopped.vault"])
    secret(child, "  Client secret: ", SECRET)
    secret(child, "  Type it again, to check: ", SECRET)
    review(child)
    child.sendline("no")
    expect(child, "vault: error: stopped at the review; nothing was sealed")
    finish(child, 1)
    if os.path.exists(os.path.join(workdir, "stopped.vault")):
        fail("an output file was written")


def paste(binary, workdir, pub, grouped, fingerprint):
    """`seal --input -` at a terminal: the pasted JSON is read with echo off, as docs/CUSTOMER.md shows."""
    child = spawn(binary, workdir, ["seal", "--to", pub, "--expect-fingerprint", fingerprint,
                                    "--label", "Acme BV", "--input", "-", "-o", "pasted.vault"])
    expect(child, "Paste the credentials JSON (it is not shown)")
    if not echo_is_off(child):
        fail("echo is on while the JSON is pasted", child)
    child.sendline('{"client_id": "%s", "client_secret": "%s"}' % (CLIENT_ID, SECRET))
    child.sendeof()
    expect(child, "e-mail the file 'pasted.vault'")
    # finish() also checks that the pasted secret never appeared on the terminal.
    finish(child, 0)


def fingerprint_names(binary, workdir, pub, grouped, fingerprint):
    """`vault fingerprint` of several inputs at a terminal names the input on each line."""
    child = spawn(binary, workdir, ["fingerprint", pub, "one.vault"])
    expect(child, fingerprint + "  " + pub)
    expect(child, fingerprint + "  one.vault")
    finish(child, 0)


BACKUP_PASSPHRASE = "seven blue lanterns over the harbour"


def backup_passphrase(binary, workdir, pub, grouped, fingerprint):
    """`vault backup` at a terminal asks the backup's own passphrase twice, with echo off."""
    child = spawn(binary, workdir, ["backup", "--keystore", "ks.vault", "--passphrase-file", "pass.txt",
                                    "--kdf", "interactive", "-o", "k.backup"])
    expect(child, "The backup gets a passphrase of its own.")
    secret(child, "New passphrase: ", BACKUP_PASSPHRASE)
    secret(child, "The same passphrase again: ", BACKUP_PASSPHRASE)
    expect(child, "read it back and verified it")
    transcript = finish(child, 0)
    if BACKUP_PASSPHRASE in transcript:
        fail("the backup passphrase appeared on the terminal", child)


def restore_retry_passphrase(binary, workdir, pub, grouped, fingerprint):
    """`vault restore` at a terminal asks the backup's passphrase; a wrong one is asked again."""
    child = spawn(binary, workdir, ["restore", "k.backup", "--keystore", "restored.vault"])
    secret(child, "Passphrase of the backup 'k.backup': ", "not " + BACKUP_PASSPHRASE)
    expect(child, "That passphrase does not open the backup; try again.")
    secret(child, "Passphrase of the backup 'k.backup': ", BACKUP_PASSPHRASE)
    expect(child, "restored 'restored.vault'")
    transcript = finish(child, 0)
    if BACKUP_PASSPHRASE in transcript:
        fail("the backup passphrase appeared on the terminal", child)


def unlock_add_passphrase(binary, workdir, pub, grouped, fingerprint):
    """`vault unlock add --passphrase` asks the new passphrase twice, with echo off."""
    child = spawn(binary, workdir, ["unlock", "add", "--passphrase", "--name", "admin", "--kdf", "interactive",
                                    "--keystore", "ks.vault", "--unlock-key-file", "ks.key"])
    secret(child, "New passphrase: ", BACKUP_PASSPHRASE)
    secret(child, "The same passphrase again: ", BACKUP_PASSPHRASE)
    expect(child, "added the passphrase 'admin'")
    finish(child, 0)


if __name__ == "__main__":
    scenario, binary, workdir, pub, grouped, fingerprint = sys.argv[1:7]
    globals()[scenario](binary, workdir, pub, grouped, fingerprint)
    print("ok")
