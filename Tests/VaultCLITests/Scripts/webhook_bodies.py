#!/usr/bin/env python3
"""Exact Online webhook bodies signed independently of vault, with Python's hmac, for the
`vault webhook verify` tests. Usage: webhook_bodies.py DIR SECRET
Writes DIR/NAME.json for each case and prints a JSON list of {"name", "status", "content"}:
the exit status vault must give (0 match, 1 mismatch, 2 not the webhook shape) and, for a
match, the Content text --print-content must print.

Exact's HashCode is the upper-case hex HMAC-SHA256 of the Content text exactly as sent, so
the text is built first and hashed as it is; nothing is re-serialised after hashing unless a
case says so."""
import hashlib
import hmac
import json
import os
import sys

out_dir, secret = sys.argv[1], sys.argv[2].encode()


def mac(text, key=secret):
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest().upper()


content = ('{"Topic":"Accounts","ClientId":"1c07724e-cc1b-9ff3-2f42-4a50582c18c9","Division":2815741,'
           '"Key":"c9f6d5b9-2c4a-4d3e-9f0e-0d8f1c2b3a4e","ExactOnlineEndpoint":"https://start.exactonline.nl/api/v1/2815741/crm/Accounts(guid\'c9f6d5b9\')",'
           '"EventAction":"Update"}')
reordered = json.dumps(dict(reversed(list(json.loads(content).items()))), separators=(",", ":"))
spaced = json.dumps(json.loads(content), indent=2)
escaped = '{"Topic":"Accounts","Name":"Caf\\u00e9 \\"de\\" Hoek","Division":1}'
cases = []


def case(name, body, status, printed=None):
    with open(os.path.join(out_dir, name + ".json"), "w", encoding="utf-8", newline="") as f:
        f.write(body)
    cases.append({"name": name, "status": status, "content": printed})


def body(c, h):
    return '{"Content":' + c + ',"HashCode":"' + h + '"}'


case("as-sent", body(content, mac(content)), 0, content)
changed = content.replace("2815741", "2815742", 1)
case("changed-content-byte", body(changed, mac(content)), 1)
case("lower-case-hashcode", body(content, mac(content).lower()), 0, content)
case("reordered-keys-hashed-as-sent", body(reordered, mac(reordered)), 0, reordered)
case("reordered-keys-after-hashing", body(reordered, mac(content)), 1)
case("extra-whitespace-hashed-as-sent", body(spaced, mac(spaced)), 0, spaced)
case("extra-whitespace-after-hashing", body(spaced, mac(content)), 1)
case("whitespace-outside-content", ' {\n  "Content" :  ' + content + ' ,\n  "HashCode":"' + mac(content) + '"\n}\n', 0, content)
case("hashcode-first", '{"HashCode":"' + mac(content) + '","Content":' + content + '}', 0, content)
case("escapes-hashed-as-sent", body(escaped, mac(escaped)), 0, escaped)
case("escapes-decoded-after-hashing", body(escaped.replace("\\u00e9", "\u00e9"), mac(escaped)), 1)
case("other-secret", body(content, mac(content, b"another-secret")), 1)
case("hashcode-of-whole-body", body(content, mac(body(content, ""))), 1)
case("not-json", "Content=" + content, 2)
case("no-hashcode", '{"Content":' + content + '}', 2)
case("hashcode-not-hex", body(content, mac(content)[:-1] + "Z"), 2)
case("hashcode-short", body(content, mac(content)[:-2]), 2)
case("content-a-string", body(json.dumps(content), mac(json.dumps(content))), 2)
case("duplicate-content", '{"Content":' + content + ',"Content":{},"HashCode":"' + mac(content) + '"}', 2)
case("empty", "", 2)
print(json.dumps(cases))
