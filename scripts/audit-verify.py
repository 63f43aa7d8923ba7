#!/usr/bin/env python3
"""An independent check of a vault audit export (`vault log --export FILE`), written from
docs/AUDITOR.md ("Checking an audit export without vault") with PyNaCl and Python's standard
library alone: no vault, no keystore, no secret.

It checks, and says so line by line:
  1. the recipient in the export is the key whose fingerprint you were given (--fingerprint,
     from the integrator's manual) and hashes to the fingerprint the export states;
  2. the verifying key is the Edwards form of that recipient (crypto_sign_ed25519_pk_to_curve25519);
  3. the signature of the head (keystore id, count, head hash, time) verifies under it;
  4. every record hashes to the hash stated for it, records are numbered 1, 2, 3, ... without a
     gap, each carries the hash of the record before it, and the last one's hash is the signed
     head, with as many records as the signed count;
  5. every record's readable members say what its bytes say;
  6. with --earlier FILE: this export extends that earlier export of the same keystore
     unchanged (same records, same hashes, then more).

usage: audit-verify.py EXPORT --fingerprint SHA256:... [--earlier EARLIER-EXPORT]
exit status: 0 every check holds, 1 one failed (the first failure is named), 2 usage.
"""
import argparse
import base64
import hashlib
import json
import struct
import sys

import nacl.bindings
import nacl.exceptions
import nacl.signing

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
RECORD_DOMAIN = b"vault audit record v1"
HEAD_DOMAIN = b"vault audit head v1"
NUMBER, PREVIOUS, TIME, OPERATION, SUBJECT, SHA, FINGERPRINT, FIELD, DETAIL = 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58
LABEL, BLOB_ID, REQUEST = 0x01, 0x07, 0x08
TEXT_MEMBERS = {TIME: "time", OPERATION: "operation", LABEL: "label", BLOB_ID: "blob_id", FINGERPRINT: "fingerprint",
                REQUEST: "request", SUBJECT: "subject", DETAIL: "detail"}


class Failed(Exception):
    pass


def bech32_polymod(values):
    gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1ffffff) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def recipient_bytes(text):
    """The 32 key bytes of a `vault1...` recipient (Bech32, BIP 173, FORMAT.md section 1)."""
    text = text.lower()
    hrp, _, data = text.rpartition("1")
    if hrp != "vault" or len(data) < 6 or any(c not in CHARSET for c in data):
        raise Failed(f"the recipient {text!r} is not a vault1... recipient string")
    values = [CHARSET.index(c) for c in data]
    if bech32_polymod([ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + values) != 1:
        raise Failed("the recipient string's checksum is wrong")
    acc, bits, out = 0, 0, []
    for v in values[:-6]:
        acc, bits = (acc << 5) | v, bits + 5
        while bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xff)
    if len(out) != 32 or (acc & ((1 << bits) - 1)):
        raise Failed("the recipient string does not hold 32 bytes")
    return bytes(out)


def fields(record):
    """A record's fields: tag (1 byte), length (4 bytes, big-endian), value."""
    out, o = [], 0
    while o < len(record):
        if len(record) - o < 5:
            raise Failed("a record field runs past the record")
        tag, length = record[o], struct.unpack(">I", record[o + 1:o + 5])[0]
        if length > len(record) - o - 5:
            raise Failed("a record field runs past the record")
        out.append((tag, record[o + 5:o + 5 + length]))
        o += 5 + length
    return out


def check_record(i, item, keystore_id, previous):
    """Checks record i (1-based) against the chain so far; returns its hash."""
    raw = base64.b64decode(item["record"], validate=True)
    fs = fields(raw)
    one = {}
    for tag, value in fs:
        if tag != FIELD and tag in one:
            raise Failed(f"record {i}: field 0x{tag:02x} appears twice")
        one.setdefault(tag, value)
    number = struct.unpack(">Q", one[NUMBER])[0] if len(one.get(NUMBER, b"")) == 8 else None
    if number != i:
        raise Failed(f"record at position {i} is numbered {number}: records were removed or reordered")
    if one.get(PREVIOUS) != previous:
        raise Failed(f"record {i} does not carry the hash of record {i - 1}: one of them was changed")
    digest = hashlib.sha256(RECORD_DOMAIN + keystore_id + raw).digest()
    if digest.hex() != item["hash"]:
        raise Failed(f"record {i}'s bytes do not hash to the hash stated for it: it was changed")
    # The readable copy must say what the bytes say.
    if item.get("number") != i:
        raise Failed(f"record {i}: the readable number differs from its bytes")
    for tag, name in TEXT_MEMBERS.items():
        stated = item.get(name)
        actual = one[tag].decode("utf-8") if tag in one else None
        if stated != actual:
            raise Failed(f"record {i}: the readable {name} differs from its bytes (the file was edited)")
    stated_sha = item.get("blob_sha256")
    if stated_sha != (one[SHA].hex() if SHA in one else None):
        raise Failed(f"record {i}: the readable blob_sha256 differs from its bytes (the file was edited)")
    if item.get("fields", []) != [v.decode("utf-8") for t, v in fs if t == FIELD]:
        raise Failed(f"record {i}: the readable fields differ from its bytes (the file was edited)")
    return digest


def check(export, expected_fingerprint, say):
    keystore_id = bytes.fromhex(export["keystore_id"])
    recipient = recipient_bytes(export["recipient"])
    fingerprint = "SHA256:" + hashlib.sha256(recipient).hexdigest()
    if fingerprint != export["fingerprint"]:
        raise Failed(f"the export states fingerprint {export['fingerprint']}, but its recipient's is {fingerprint}")
    if fingerprint != expected_fingerprint:
        raise Failed(f"the export is signed by {fingerprint}, not by the expected {expected_fingerprint}")
    say(f"recipient {export['recipient']} has the expected fingerprint {fingerprint}")
    verifying_key = bytes.fromhex(export["verifying_key"])
    if nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(verifying_key) != recipient:
        raise Failed("the verifying key is not the Edwards form of the recipient")
    say("the verifying key belongs to that recipient")
    count, head, time = export["count"], bytes.fromhex(export["head"]), export["time"]
    message = HEAD_DOMAIN + keystore_id + struct.pack(">Q", count) + head + time.encode("ascii")
    try:
        nacl.signing.VerifyKey(verifying_key).verify(message, bytes.fromhex(export["signature"]))
    except nacl.exceptions.BadSignatureError:
        raise Failed("the signature of the head does not verify: the head, count, time or keystore id was changed")
    say(f"the head is signed: {count} records, head {head.hex()}, at {time}")
    previous = bytes(32)
    for i, item in enumerate(export["records"], start=1):
        previous = check_record(i, item, keystore_id, previous)
    n = len(export["records"])
    if n != count:
        raise Failed(f"the export holds {n} records, but its signed head counts {count}: records were {'cut off' if n < count else 'added'}")
    if previous != head:
        raise Failed("the last record is not the signed head: it was changed")
    say(f"the chain holds: records 1 to {count}, each carrying the hash of the one before, ending at the signed head")
    return keystore_id


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("export")
    ap.add_argument("--fingerprint", required=True, help="the integrator's fingerprint, from their manual (SHA256:...)")
    ap.add_argument("--earlier", help="an earlier export of the same keystore, which this one must extend")
    a = ap.parse_args()
    expected = a.fingerprint.strip()
    if not expected.startswith("SHA256:") or len(expected) != 71:
        ap.error("--fingerprint must be SHA256: and 64 hex digits")
    expected = "SHA256:" + expected[7:].lower()
    try:
        with open(a.export, encoding="utf-8") as f:
            export = json.load(f)
        if export.get("format") != "vault audit export v1":
            raise Failed("not a vault audit export v1")
        keystore_id = check(export, expected, lambda s: print("ok: " + s))
        if a.earlier:
            with open(a.earlier, encoding="utf-8") as f:
                earlier = json.load(f)
            check(earlier, expected, lambda s: None)
            if bytes.fromhex(earlier["keystore_id"]) != keystore_id:
                raise Failed("the earlier export is of another keystore")
            if earlier["count"] > export["count"]:
                raise Failed(f"this export holds {export['count']} records, the earlier one {earlier['count']}: "
                             "the keystore was put back to an older copy")
            for old, new in zip(earlier["records"], export["records"]):
                if old["hash"] != new["hash"]:
                    raise Failed(f"record {old['number']} differs from the earlier export's: the log was rewritten, "
                                 "or the keystore put back to an older copy and written since")
            print(f"ok: it extends the earlier export ({earlier['count']} records, {earlier['time']}) unchanged")
    except Failed as e:
        print(f"FAILED: {e}")
        sys.exit(1)
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError, struct.error) as e:
        print(f"FAILED: the export is malformed: {type(e).__name__}: {e}")
        sys.exit(1)
    print("all checks hold")


if __name__ == "__main__":
    main()
