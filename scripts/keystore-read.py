#!/usr/bin/env python3
"""An independent reader of the vault keystore, written from docs/KEYSTORE.md alone with PyNaCl
(its own libsodium), to show the document is enough. Prints one line per current entry:
label, type, field names and the blob id — never a credential value.

usage: keystore-read.py KEYSTORE (--key-file FILE | --passphrase-file FILE)
"""
import hashlib
import struct
import sys

import nacl.bindings as b
import nacl.encoding
import nacl.hash
import nacl.pwhash.argon2id as argon2id

PROFILES = {
    1: (argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE),
    2: (argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE),
    3: (argon2id.OPSLIMIT_SENSITIVE, argon2id.MEMLIMIT_SENSITIVE),
}


def blake2b(key, msg, size):
    return nacl.hash.blake2b(msg, digest_size=size, key=key, encoder=nacl.encoding.RawEncoder)


def fields(plain):
    out, o = [], 0
    while o < len(plain):
        tag, length = plain[o], struct.unpack(">I", plain[o + 1:o + 5])[0]
        out.append((tag, plain[o + 5:o + 5 + length]))
        o += 5 + length
    return out


def main():
    path, how, secret_path = sys.argv[1], sys.argv[2], sys.argv[3]
    data = open(path, "rb").read()
    assert data[:8] == b"vault-ks", "not a vault keystore"
    version, length = struct.unpack(">HH", data[8:12])
    assert version == 1, "newer version"
    assert hashlib.sha256(data[:length - 32]).digest() == data[length - 32:length], "damaged header"
    ks_id, count = data[12:28], data[44]
    secret = open(secret_path, "rb").read()
    want = 2 if how == "--key-file" else 1
    master = None
    for k in range(count):
        s = data[45 + 90 * k:45 + 90 * (k + 1)]
        kind, profile, salt, nonce, wrapped = s[0], s[1], s[2:18], s[18:42], s[42:90]
        if kind != want:
            continue
        if kind == 2:
            kek = secret
        else:
            ops, mem = PROFILES[profile]
            kek = argon2id.kdf(32, secret.split(b"\n")[0].rstrip(b"\r"), salt, opslimit=ops, memlimit=mem)
        ad = data[0:10] + ks_id + bytes([kind, profile]) + salt
        master = b.crypto_aead_xchacha20poly1305_ietf_decrypt(wrapped, ad, nonce, kek)
    assert master is not None, "no slot of that kind"
    record_key = blake2b(master, b"vault-ks record key v1", 32)

    frames, o, committed = [], length, 0
    while o + 4 <= len(data):
        f = struct.unpack(">I", data[o:o + 4])[0]
        if o + f > len(data):
            break  # an interrupted append
        rtype, flags, seq = data[o + 4], data[o + 5], struct.unpack(">Q", data[o + 6:o + 14])[0]
        lookup, nonce, ct = data[o + 14:o + 30], data[o + 30:o + 54], data[o + 54:o + f]
        ad = b"vault-ks record" + ks_id + bytes([rtype, flags]) + struct.pack(">Q", seq) + lookup
        frames.append((rtype, lookup, b.crypto_aead_xchacha20poly1305_ietf_decrypt(ct, ad, nonce, record_key)))
        if flags & 1:
            committed = len(frames)
        o += f
    entries = {}
    for rtype, lookup, plain in frames[:committed]:
        if rtype == 2:
            entries[lookup] = plain
        elif rtype == 3:
            entries.pop(lookup, None)
    lines = []
    for plain in entries.values():
        fs = fields(plain)
        get = lambda t: next(v for tag, v in fs if tag == t).decode()
        names = ",".join(v.decode() for tag, v in fs if tag == 3)
        lines.append("\t".join([get(1), get(2), names, get(7)]))
    print("\n".join(sorted(lines)))


if __name__ == "__main__":
    main()
