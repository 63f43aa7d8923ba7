#!/usr/bin/env python3
"""An independent reader of the vault keystore (format 2), written from docs/KEYSTORE.md alone
with PyNaCl (its own libsodium), to show the document is enough. It checks everything the page
says can be checked — checksum, unlock, seal tag, header MAC, state MAC, every record, the tail
digest, the index digest, every page hash, and that the snapshot's rows are exactly the records
that count — then prints one line per current entry: label, type, field names and the blob id,
never a credential value.

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
ENTRY, REMOVAL, LEDGER, TOKEN, LEASE, REQUEST, AUDIT, SETTING, INDEX, IDENTITY = 2, 3, 4, 5, 6, 7, 8, 9, 10, 1


def blake2b(msg, size=32, key=b""):
    return nacl.hash.blake2b(msg, digest_size=size, key=key, encoder=nacl.encoding.RawEncoder)


def fields(plain):
    out, o = [], 0
    while o < len(plain):
        tag, length = plain[o], struct.unpack(">I", plain[o + 1:o + 5])[0]
        out.append((tag, plain[o + 5:o + 5 + length]))
        o += 5 + length
    return out


def field(plain, tag):
    return next(v for t, v in fields(plain) if t == tag)


def unlock(data, length, ks_id, how, secret):
    """§2.2: the master key, from the first slot of the kind offered that opens."""
    count, o = data[46], 47
    for _ in range(count):
        kind, profile, m = data[o], data[o + 1], data[o + 2]
        name, created = data[o + 3:o + 3 + m], data[o + 3 + m:o + 11 + m]
        salt, nonce = data[o + 11 + m:o + 27 + m], data[o + 27 + m:o + 51 + m]
        wrapped, pk = data[o + 51 + m:o + 131 + m], data[o + 131 + m:o + 163 + m]
        sealed, tag = data[o + 163 + m:o + 243 + m], data[o + 243 + m:o + 275 + m]
        o += 275 + m
        if kind != (2 if how == "--key-file" else 1):
            continue
        if kind == 2:
            kek = secret
        else:
            ops, mem = PROFILES[profile]
            kek = argon2id.kdf(32, secret.split(b"\n")[0].rstrip(b"\r"), salt, opslimit=ops, memlimit=mem)
        ad = b"vault-ks slot v2" + ks_id + bytes([kind, profile, m]) + name + created + salt + pk
        try:
            opened = b.crypto_aead_xchacha20poly1305_ietf_decrypt(wrapped, ad, nonce, kek)
        except Exception:
            continue
        sk, binding = opened[:32], opened[32:]
        assert b.crypto_scalarmult_base(sk) == pk, "slot key pair does not match"
        assert blake2b(b"vault-ks sealed master v2" + ks_id + pk + sealed, key=binding) == tag, "seal tag"
        return b.crypto_box_seal_open(sealed, pk, sk)
    sys.exit("no slot of that kind opens with this secret")


def counts(records, index_pos=None):
    """§2.5 'What counts', on (position, type, sequence, key, length, plaintext) in sequence order."""
    labels, ledger, latest, audit, identities = {}, [], {}, [], {}
    for r in records:
        pos, rtype, seq, key, length, plain = r
        if rtype == ENTRY:
            labels.setdefault(key, {"versions": [], "token": None, "lease": None})["versions"].append(r)
        elif rtype == REMOVAL:
            labels.pop(key, None)
        elif rtype in (TOKEN, LEASE):
            labels.setdefault(key, {"versions": [], "token": None, "lease": None})["token" if rtype == TOKEN else "lease"] = r
        elif rtype == LEDGER:
            ledger.append(r)
        elif rtype in (SETTING, REQUEST):
            latest[(rtype, key)] = r
        elif rtype == AUDIT:
            audit.append(r)
        elif rtype == IDENTITY:
            identities[b.crypto_scalarmult_base(field(plain, 0x10))] = r
    live = ledger + audit + list(latest.values()) + list(identities.values())
    for s in labels.values():
        live += s["versions"] + [x for x in (s["token"], s["lease"]) if x]
    return labels, sorted(live, key=lambda r: (r[3], r[2])), identities


def main():
    path, how, secret_path = sys.argv[1], sys.argv[2], sys.argv[3]
    data = open(path, "rb").read()
    assert data[:8] == b"vault-ks", "not a vault keystore"
    assert struct.unpack(">H", data[8:10])[0] == 2, "not format 2"
    length = struct.unpack(">I", data[10:14])[0]
    assert hashlib.sha256(data[:length - 32]).digest() == data[length - 32:length], "damaged header"
    ks_id, generation = data[14:30], data[30:46]
    master = unlock(data, length, ks_id, how, open(secret_path, "rb").read())
    sub = {n: blake2b(("vault-ks %s key v2" % n).encode(), key=master) for n in ("record", "header", "state")}
    assert blake2b(data[:length - 64], key=sub["header"]) == data[length - 64:length - 32], "header MAC"

    # §2.3: the state slot with the highest counter whose MAC verifies.
    state = None
    for slot in (data[length:length + 256], data[length + 256:length + 512]):
        mac = blake2b(b"vault-ks state v2" + ks_id + generation + slot[:224], key=sub["state"])
        if any(slot) and mac == slot[224:] and (state is None or slot[:8] > state[:8]):
            state = slot
    assert state is not None, "no state authenticates"
    log_end, last_seq, count, index_pos = struct.unpack(">QQQQ", state[8:40])
    index_digest, tail_digest = state[40:72], state[120:152]
    assert len(data) >= log_end, "cut short"

    # §2.5: every frame of the log, every record decrypted.
    records, o, seq, index = [], length + 512, 0, None
    while o < log_end:
        f, rtype, flags, s = struct.unpack(">IBBQ", data[o:o + 14])
        assert flags == 0 and s > seq, "frame header"
        seq, key, nonce = s, data[o + 14:o + 30], data[o + 30:o + 54]
        if rtype == INDEX:
            if o == index_pos:
                index = (o, f)
            records.append((o, rtype, s, key, f, None))
        else:
            ad = b"vault-ks record v2" + ks_id + bytes([rtype, 0]) + struct.pack(">Q", s) + key
            plain = b.crypto_aead_xchacha20poly1305_ietf_decrypt(data[o + 54:o + f], ad, nonce, sub["record"])
            records.append((o, rtype, s, key, f, plain))
        o += f
    assert o == log_end and len(records) == count and seq == last_seq, "log and state disagree"

    # §2.6: the tail digest over the frames after the snapshot.
    chain, tail_start = bytes(32), (index[0] + index[1]) if index else length + 512
    for r in records:
        if r[0] >= tail_start:
            chain = blake2b(chain + data[r[0]:r[0] + 54])
    assert chain == tail_digest, "tail digest"

    # §2.7: the snapshot's digest, page hashes, and rows = the records that count before it.
    if index:
        body = index[0] + 54
        covers, before, _, rows, pages = struct.unpack(">QQQQI", data[body:body + 36])
        assert covers == index[0] and pages == (rows + 101) // 102
        fence = data[body + 36:body + 36 + 48 * pages]
        assert blake2b(data[index[0]:body + 36] + fence) == index_digest, "index digest"
        row_bytes = data[body + 36 + 48 * pages:body + 36 + 48 * pages + 40 * rows]
        for p in range(pages):
            page = row_bytes[p * 4080:(p + 1) * 4080]
            assert blake2b(page) == fence[48 * p + 16:48 * p + 48] and page[:16] == fence[48 * p:48 * p + 16], "page"
        _, live, _ = counts([r for r in records if r[0] < index[0] and r[1] != INDEX])
        expected = b"".join(r[3] + bytes([r[1], 0, 0, 0]) + struct.pack(">QQI", r[2], r[0], r[4]) for r in live)
        assert expected == row_bytes, "the snapshot's rows are not the records that count"

    labels, _, identities = counts([r for r in records if r[1] != INDEX])
    assert sum(1 for r in identities.values() if field(r[5], 0x11) == b"current") == 1, "one current identity"
    lines = []
    for s in labels.values():
        if not s["versions"]:
            continue
        fs = fields(s["versions"][-1][5])
        get = lambda t: next(v for tag, v in fs if tag == t).decode()
        names = ",".join(v.decode() for tag, v in fs if tag == 3)
        lines.append("\t".join([get(1), get(2), names, get(7)]))
    print("\n".join(sorted(lines)))


if __name__ == "__main__":
    main()
