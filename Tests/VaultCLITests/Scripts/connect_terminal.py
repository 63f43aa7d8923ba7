#!/usr/bin/env python3
"""`vault connect` at a terminal, driven through a pseudo-terminal (pexpect): the URL and the
steps are shown, the pasted address is read with echo off, progress is shown, and neither the
code nor any secret appears on the screen.

Usage: connect_terminal.py VAULT_BINARY WORKDIR KEYSTORE KEY_FILE BASE_URL
Exits 0 when all holds, else prints what failed and the transcript, and exits 1."""
import os
import sys
import urllib.error
import urllib.request

import pexpect

binary, workdir, keystore, key_file, base = sys.argv[1:6]
log = []


class Log:
    def write(self, data):
        log.append(data)

    def flush(self):
        pass


def fail(message):
    print("FAIL:", message)
    print("--- transcript ---")
    print("".join(log))
    sys.exit(1)


child = pexpect.spawn(binary, ["connect", "Acme BV", "--exact-base-url", base, "--keystore", keystore, "--key-file", key_file],
                      cwd=workdir, encoding="utf-8", timeout=20,
                      env={k: v for k, v in os.environ.items() if not k.startswith("VAULT_")})
child.logfile_read = Log()
try:
    child.expect_exact("allow the app:")
    child.expect(r"(http://\S+/api/oauth2/auth\?\S+)")
    url = child.match.group(1)
    child.expect_exact("Paste that whole address, or the code (not shown): ")
except (pexpect.TIMEOUT, pexpect.EOF):
    fail("the URL or the prompt did not appear")
if not child.waitnoecho(timeout=5):
    fail("echo is on at the paste prompt")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


try:
    urllib.request.build_opener(NoRedirect).open(url)
    fail("the consent page did not redirect")
except urllib.error.HTTPError as e:
    location = e.headers["Location"]
code = location.split("code=")[1].split("&")[0]
child.sendline(location)
try:
    child.expect_exact("Exchanging the code with Exact Online")
    child.expect_exact("is connected to Exact Online")
    child.expect(pexpect.EOF)
except (pexpect.TIMEOUT, pexpect.EOF):
    fail("no progress or no success message")
child.close()
transcript = "".join(log)
for secret in (code, "EKKQh8KqRptS", "Wh00kS3cretX", "RT1."):
    if secret in transcript:
        fail("%r appeared on the terminal" % secret)
if child.exitstatus != 0:
    fail("exit status %r" % child.exitstatus)
print("ok")
