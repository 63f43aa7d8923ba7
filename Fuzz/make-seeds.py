#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (Fuzz/seeds/TARGET/) from the project's copy of the vectors.
Run again when the vectors change. Needs PyNaCl, to decrypt the vector blobs into payload seeds."""
import hashlib, json, os, sys
from nacl.public import PrivateKey, SealedBox
import base64

here = os.path.dirname(os.path.abspath(__file__))
vectors = os.path.join(here, "..", "Tests", "VaultKitTests", "Vectors")
out = os.path.join(here, "seeds")

def write(target, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    name = hashlib.sha256(data).hexdigest()[:16]
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)

blobs = json.load(open(os.path.join(vectors, "blobs.json")))["cases"]
for case in blobs:
    write("blob", case["armored"].encode())
    # The decrypted payloads (valid and invalid) seed the payload target.
    lines = [l.strip("> \r\t") for l in case["armored"].split("\n")]
    try:
        b64 = "".join(lines[lines.index("-----BEGIN VAULT SEALED CREDENTIALS-----") + 1:
                            lines.index("-----END VAULT SEALED CREDENTIALS-----")])
        raw = base64.b64decode(b64, validate=True)
        plain = SealedBox(PrivateKey(bytes.fromhex(case["secret_key_hex"]))).decrypt(raw[38:])
        write("payload", plain)
    except Exception:
        pass
keys = json.load(open(os.path.join(vectors, "keys.json")))
for k in keys["valid"]:
    write("bech32", k["recipient"].encode())
    write("bech32", k["secret_key"].encode())
for k in keys["invalid_recipients"]:
    write("bech32", k["input"].encode())
for r in json.load(open(os.path.join(vectors, "requests.json")))["requests"]:
    write("request", r["text"].encode())
print("seeds in", out, {t: len(os.listdir(os.path.join(out, t))) for t in sorted(os.listdir(out))})
