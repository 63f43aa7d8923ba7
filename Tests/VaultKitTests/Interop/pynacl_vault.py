#!/usr/bin/env python3
"""Independent second implementation of the vault hand-off format (FORMAT.md, version 1).

This script is used by the Swift test suite to prove interoperability in both directions:

* ``seal``     makes armored sealed blobs with PyNaCl, for the Swift opener to read;
* ``check``    opens armored blobs (for instance made by the Swift sealer) and validates them
               with the order of checks of FORMAT.md §6;
* ``selftest`` runs this implementation against the shared test vectors.

It was written from FORMAT.md alone, without reading the Swift code, so that both sides cannot
share a misreading.  Only the Python standard library and PyNaCl are used.

Secrets: the secret key is never printed; error details never contain payload values.  The
``payload`` object of a successful ``check`` line is printed in full on purpose (the Swift test
compares it), so use this tool only with test keys and test credentials.

Command line (exit status 0 = all fine, 1 = a blob failed / a self-test failed, 2 = usage):

    pynacl_vault.py seal     --recipient-hex HEX --out DIR
    pynacl_vault.py check    --secret-hex HEX --now YYYY-MM-DDTHH:MM:SSZ FILE...
    pynacl_vault.py selftest --vectors DIR
"""

import argparse
import base64
import binascii
import datetime
import hashlib
import json
import os
import re
import sys

import nacl.exceptions
import nacl.public

# --------------------------------------------------------------------------------------------
# Constants of the format
# --------------------------------------------------------------------------------------------

MAGIC = b"vault"
VERSION = 1
FINGERPRINT_LEN = 32
HEADER_LEN = len(MAGIC) + 1 + FINGERPRINT_LEN  # 38
SEAL_OVERHEAD = 48  # ephemeral public key (32) + Poly1305 tag (16)
MIN_PAYLOAD = 2
MAX_PAYLOAD = 16384
MIN_BLOB = HEADER_LEN + SEAL_OVERHEAD + MIN_PAYLOAD  # 88
MAX_BLOB = HEADER_LEN + SEAL_OVERHEAD + MAX_PAYLOAD  # 16470

BEGIN_LINE = "-----BEGIN VAULT SEALED CREDENTIALS-----"
END_LINE = "-----END VAULT SEALED CREDENTIALS-----"
ARMOR_LINE_LEN = 64

WHITESPACE = " \t\r\n"  # FORMAT.md: white space is ASCII space, tab, CR and LF only

RECIPIENT_HRP = "vault"
SECRET_KEY_HRP = "vault-secret-key-"

REGIONS = {"nl", "be", "de", "uk", "us", "es", "fr"}
LOCAL_HTTP_PREFIXES = ("http://localhost", "http://127.0.0.1", "http://[::1]")
MAX_DIVISION = 2147483647

TOP_REQUIRED = ("v", "type", "id", "recipient", "created", "expires", "label", "credentials")
TOP_OPTIONAL = ("from", "note", "request")
EXACT_REQUIRED = ("client_id", "client_secret")
EXACT_OPTIONAL = ("webhook_secret", "region", "redirect_uri", "app_name", "division")

HEX32_RE = re.compile(r"[0-9a-f]{32}")
FINGERPRINT_RE = re.compile(r"SHA256:[0-9a-f]{64}")
TIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")
GUID_CORE = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
GUID_RE = re.compile(r"(?:%s|\{%s\})" % (GUID_CORE, GUID_CORE))
GENERIC_KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
EXACT_SECRET_SHAPE_RE = re.compile(r"[A-Za-z0-9]{12,16}")

ERROR_CLASSES = ("armor", "base64", "magic", "version", "length", "no_matching_key",
                 "decrypt", "payload", "recipient_mismatch", "expired")


class OpenError(Exception):
    """A blob was refused; ``cls`` is one of ERROR_CLASSES, ``detail`` never holds a secret."""

    def __init__(self, cls, detail):
        super().__init__("%s: %s" % (cls, detail))
        self.cls = cls
        self.detail = detail


class PayloadError(Exception):
    """A payload rule of §5 was broken; names the key and the rule, never the value."""

    def __init__(self, key, rule):
        super().__init__("%s: %s" % (key, rule))
        self.key = key
        self.rule = rule


# --------------------------------------------------------------------------------------------
# Fingerprint (§2) and time (§5)
# --------------------------------------------------------------------------------------------

def fingerprint_bytes(public_key):
    return hashlib.sha256(bytes(public_key)).digest()


def fingerprint_text(public_key):
    return "SHA256:" + hashlib.sha256(bytes(public_key)).hexdigest()


def parse_time(text):
    """Parse the exact 20-character UTC form; return a datetime or None.

    Year 0000 is refused (Python's calendar starts at year 1); the spec leaves it open.
    """
    if not isinstance(text, str):
        return None
    match = TIME_RE.fullmatch(text)
    if not match:
        return None
    try:
        return datetime.datetime(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def format_time(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------
# Bech32 (BIP 173, original checksum constant 1) for §1 and §3
# --------------------------------------------------------------------------------------------

BECH32_ALPHABET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BECH32_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


class Bech32Error(Exception):
    def __init__(self, cls):
        super().__init__(cls)
        self.cls = cls


def _bech32_polymod(values):
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = ((checksum & 0x1FFFFFF) << 5) ^ value
        for i in range(5):
            if (top >> i) & 1:
                checksum ^= BECH32_GENERATOR[i]
    return checksum


def _bech32_hrp_expand(hrp):
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data, from_bits, to_bits, pad):
    """Regroup bits; returns None on non-zero or excess padding when ``pad`` is False."""
    accumulator, bits, result = 0, 0, []
    max_value = (1 << to_bits) - 1
    for value in data:
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            result.append((accumulator >> bits) & max_value)
    if pad:
        if bits:
            result.append((accumulator << (to_bits - bits)) & max_value)
    elif bits >= from_bits or ((accumulator << (to_bits - bits)) & max_value):
        return None
    return result


def bech32_encode(hrp, data_bytes):
    data = _convert_bits(data_bytes, 8, 5, True)
    polymod = _bech32_polymod(_bech32_hrp_expand(hrp) + data + [0] * 6) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_ALPHABET[d] for d in data + checksum)


def bech32_decode(text, expected_hrp):
    """Decode a 32-byte key with the order of failure classes of FORMAT.md §1."""
    if any(not ("\x21" <= c <= "\x7e") for c in text):
        raise Bech32Error("character")
    separator = text.rfind("1")
    if separator >= 0 and any(c not in BECH32_ALPHABET for c in text[separator + 1:].lower()):
        raise Bech32Error("character")
    if text.lower() != text and text.upper() != text:
        raise Bech32Error("mixed_case")
    lowered = text.lower()
    if separator < 1 or len(lowered) - separator - 1 < 6 or len(lowered) > 90:
        raise Bech32Error("checksum")
    hrp = lowered[:separator]
    data = [BECH32_ALPHABET.index(c) for c in lowered[separator + 1:]]
    if _bech32_polymod(_bech32_hrp_expand(hrp) + data) != 1:
        raise Bech32Error("checksum")
    if hrp != expected_hrp:
        raise Bech32Error("prefix")
    decoded = _convert_bits(data[:-6], 5, 8, False)
    if decoded is None or len(decoded) != 32:
        raise Bech32Error("length")
    return bytes(decoded)


def recipient_string(public_key):
    return bech32_encode(RECIPIENT_HRP, bytes(public_key))


def secret_key_string(secret_key):
    return bech32_encode(SECRET_KEY_HRP, bytes(secret_key)).upper()


# --------------------------------------------------------------------------------------------
# Armor (§4)
# --------------------------------------------------------------------------------------------

def armor(blob):
    """Armor a binary blob: base64 with padding in lines of 64 characters."""
    encoded = base64.b64encode(blob).decode("ascii")
    lines = [encoded[i:i + ARMOR_LINE_LEN] for i in range(0, len(encoded), ARMOR_LINE_LEN)]
    return "\n".join([BEGIN_LINE] + lines + [END_LINE]) + "\n"


def normalize_line(line):
    """Drop e-mail quote marks and white space around a line (CR included)."""
    index = 0
    while index < len(line) and (line[index] == ">" or line[index] in WHITESPACE):
        index += 1
    return line[index:].rstrip(WHITESPACE)


class ArmorBlock:
    """One block found in a text: either base64 ``body`` or an ``armor_error``."""

    def __init__(self, body=None, armor_error=None):
        self.body = body
        self.armor_error = armor_error


def find_blocks(text):
    """Split a text into blocks, in order, per the tolerance rules of §4.

    Lines are separated by LF; text outside blocks (and a stray END line) is ignored.
    """
    blocks = []
    inside, nested, body = False, False, []
    for raw in text.split("\n"):
        line = normalize_line(raw)
        if not inside:
            if line == BEGIN_LINE:
                inside, nested, body = True, False, []
        elif line == BEGIN_LINE:
            nested = True
        elif line == END_LINE:
            if nested:
                blocks.append(ArmorBlock(armor_error="a second BEGIN line before the END line"))
            else:
                blocks.append(ArmorBlock(body="".join(body)))
            inside = False
        else:
            body.append(line)
    if inside:
        blocks.append(ArmorBlock(armor_error="a BEGIN line without an END line"))
    if not blocks:
        blocks.append(ArmorBlock(armor_error="no BEGIN line found"))
    return blocks


def decode_canonical_base64(body):
    """Remove white space, then accept only canonical standard base64 with padding."""
    compact = "".join(c for c in body if c not in WHITESPACE)
    if not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", compact) or len(compact) % 4:
        raise OpenError("base64", "not standard base64 with padding")
    try:
        blob = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise OpenError("base64", "not standard base64 with padding")
    if base64.b64encode(blob).decode("ascii") != compact:
        raise OpenError("base64", "not canonical base64 (non-zero trailing bits or bad padding)")
    return blob


# --------------------------------------------------------------------------------------------
# Strict JSON (§5)
# --------------------------------------------------------------------------------------------

class NonInteger:
    """Stands for a JSON number with a fraction or exponent; never a valid field value."""

    def __init__(self, text):
        self.text = text


def _strict_object(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise PayloadError(key, "duplicate key")
        if value is None:
            raise PayloadError(key, "null value (optional keys are omitted, never null)")
        result[key] = value
    return result


def _reject_constant(name):
    raise PayloadError("(json)", "%s is not JSON" % name)


def _check_no_surrogates(value, key):
    """Refuse lone surrogates (U+D800..U+DFFF) in any string, key or value."""
    if isinstance(value, str):
        if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise PayloadError(key, "string with a lone surrogate")
    elif isinstance(value, dict):
        for child_key, child in value.items():
            _check_no_surrogates(child_key, child_key)
            _check_no_surrogates(child, child_key)
    elif isinstance(value, list):
        for child in value:
            if child is None:
                raise PayloadError(key, "null value")
            _check_no_surrogates(child, key)


def parse_payload_json(data):
    """UTF-8, no BOM, exactly one JSON object, strict about duplicates, null, NaN, surrogates."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise PayloadError("(json)", "byte-order mark")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PayloadError("(json)", "not valid UTF-8 (at byte offset %d)" % error.start)
    try:
        value = json.loads(text, object_pairs_hook=_strict_object, parse_float=NonInteger,
                           parse_constant=_reject_constant)
    except PayloadError:
        raise
    except RecursionError:
        raise PayloadError("(json)", "nested too deeply")
    except ValueError as error:  # JSONDecodeError; its message holds positions, not content
        message = error.msg if isinstance(error, json.JSONDecodeError) else "invalid number"
        position = getattr(error, "pos", None)
        raise PayloadError("(json)", "not valid JSON: %s%s" % (
            message, "" if position is None else " (at character %d)" % position))
    if not isinstance(value, dict):
        raise PayloadError("(json)", "not a JSON object")
    _check_no_surrogates(value, "(json)")
    return value


# --------------------------------------------------------------------------------------------
# Payload rules (§5, §5.1, §5.2)
# --------------------------------------------------------------------------------------------

def is_control(char):
    code = ord(char)
    return code <= 0x1F or 0x7F <= code <= 0x9F


def require_string(obj, key):
    value = obj[key]
    if type(value) is not str:
        raise PayloadError(key, "must be a string")
    return value


def require_integer(obj, key):
    value = obj[key]
    if isinstance(value, NonInteger):
        raise PayloadError(key, "must be an integer, not a number with a fraction or exponent")
    if type(value) is not int:  # bool is a subclass of int and is refused here
        raise PayloadError(key, "must be an integer")
    return value


def check_text(obj, key, maximum, allowed_controls=""):
    """1..maximum Unicode scalars, no control character except those allowed."""
    value = require_string(obj, key)
    if not 1 <= len(value) <= maximum:
        raise PayloadError(key, "must be 1..%d characters" % maximum)
    if any(is_control(c) and c not in allowed_controls for c in value):
        if allowed_controls:
            raise PayloadError(key, "control character other than LF or tab")
        raise PayloadError(key, "control character")
    return value


def check_keys(obj, required, optional, where):
    allowed = set(required) | set(optional)
    for key in obj:
        if key not in allowed:
            raise PayloadError(key, "unknown key in %s" % where)
    for key in required:
        if key not in obj:
            raise PayloadError(key, "missing required key in %s" % where)


def check_hex32(obj, key):
    if not HEX32_RE.fullmatch(require_string(obj, key)):
        raise PayloadError(key, "must be 32 lower-case hex digits")


def check_time(obj, key):
    moment = parse_time(require_string(obj, key))
    if moment is None:
        raise PayloadError(key, "must be a real UTC time in the exact form YYYY-MM-DDTHH:MM:SSZ")
    return moment


def check_secret(obj, key):
    value = require_string(obj, key)
    if not 1 <= len(value) <= 255:
        raise PayloadError(key, "must be 1..255 characters")
    if any(not ("\x21" <= c <= "\x7e") for c in value):
        raise PayloadError(key, "characters must be printable ASCII U+0021..U+007E")
    return value


def check_redirect_uri(obj, key):
    value = require_string(obj, key)
    if not 1 <= len(value) <= 2000:
        raise PayloadError(key, "must be 1..2000 characters")
    if any(not ("\x21" <= c <= "\x7e") for c in value):
        raise PayloadError(key, "characters must be printable ASCII without white space")
    if value.startswith("https://") and len(value) > len("https://"):
        return value
    for prefix in LOCAL_HTTP_PREFIXES:
        if value.startswith(prefix):
            rest = value[len(prefix):]
            if rest == "" or rest[0] in "/:":
                return value
    raise PayloadError(key, "must be https://..., or http:// to localhost, 127.0.0.1 or [::1]")


def check_exact_online(credentials):
    check_keys(credentials, EXACT_REQUIRED, EXACT_OPTIONAL, "exact-online credentials")
    if not GUID_RE.fullmatch(require_string(credentials, "client_id")):
        raise PayloadError("client_id", "must be a GUID 8-4-4-4-12, braces both or none")
    secret = check_secret(credentials, "client_secret")
    if "webhook_secret" in credentials:
        if check_secret(credentials, "webhook_secret") == secret:
            raise PayloadError("webhook_secret", "must differ from client_secret")
    if "region" in credentials and require_string(credentials, "region") not in REGIONS:
        raise PayloadError("region", "must be one of %s" % " ".join(sorted(REGIONS)))
    if "redirect_uri" in credentials:
        check_redirect_uri(credentials, "redirect_uri")
    if "app_name" in credentials:
        check_text(credentials, "app_name", 100)
    if "division" in credentials:
        if not 1 <= require_integer(credentials, "division") <= MAX_DIVISION:
            raise PayloadError("division", "must be 1..%d" % MAX_DIVISION)


def check_generic(credentials):
    if not 1 <= len(credentials) <= 32:
        raise PayloadError("credentials", "generic credentials must have 1..32 entries")
    for key in credentials:
        if not GENERIC_KEY_RE.fullmatch(key):
            raise PayloadError(key, "generic credentials key must match [a-z][a-z0-9_]{0,63}")
        check_text(credentials, key, 4096, allowed_controls="\n\t")


def validate_payload(payload):
    """Apply every rule of §5 to a parsed payload object; raise PayloadError on the first."""
    check_keys(payload, TOP_REQUIRED, TOP_OPTIONAL, "the payload")
    if require_integer(payload, "v") != 1:
        raise PayloadError("v", "must be 1")
    kind = require_string(payload, "type")
    if kind not in ("exact-online", "generic"):
        raise PayloadError("type", "must be exact-online or generic")
    check_hex32(payload, "id")
    if not FINGERPRINT_RE.fullmatch(require_string(payload, "recipient")):
        raise PayloadError("recipient", "must be a canonical fingerprint SHA256:<64 lower hex>")
    created = check_time(payload, "created")
    expires = check_time(payload, "expires")
    if expires <= created:
        raise PayloadError("expires", "must be later than created")
    check_text(payload, "label", 200)
    if "from" in payload:
        check_text(payload, "from", 200)
    if "note" in payload:
        check_text(payload, "note", 2000, allowed_controls="\n\t")
    if "request" in payload:
        check_hex32(payload, "request")
    credentials = payload["credentials"]
    if type(credentials) is not dict:
        raise PayloadError("credentials", "must be an object")
    if kind == "exact-online":
        check_exact_online(credentials)
    else:
        check_generic(credentials)


def shorten(key, limit=64):
    """A key name as shown in a message: keys are not secret, but may be long or odd."""
    return key if len(key) <= limit else key[:limit] + "..."


def stored_client_id(payload):
    """The form in which a reader stores an Exact Online client id: lower-case, no braces."""
    if payload.get("type") != "exact-online":
        return None
    return payload["credentials"]["client_id"].strip("{}").lower()


# --------------------------------------------------------------------------------------------
# Opening (§6)
# --------------------------------------------------------------------------------------------

def open_blob(blob, private_key, now):
    """Checks 2..8 of §6 on one decoded blob; returns the payload object."""
    if blob[:len(MAGIC)] != MAGIC:
        raise OpenError("magic", "not a vault sealed blob (magic bytes differ)")
    if len(blob) <= len(MAGIC):
        raise OpenError("length", "blob ends before the version byte")
    if blob[len(MAGIC)] != VERSION:
        raise OpenError("version", "blob version %d, this program reads version %d"
                        % (blob[len(MAGIC)], VERSION))
    if not MIN_BLOB <= len(blob) <= MAX_BLOB:
        raise OpenError("length", "blob is %d bytes, must be %d..%d"
                        % (len(blob), MIN_BLOB, MAX_BLOB))
    header_fingerprint = blob[len(MAGIC) + 1:HEADER_LEN]
    header_text = "SHA256:" + header_fingerprint.hex()
    if header_fingerprint != fingerprint_bytes(private_key.public_key):
        raise OpenError("no_matching_key", "blob is sealed to %s, no such key here" % header_text)
    try:
        plaintext = nacl.public.SealedBox(private_key).decrypt(blob[HEADER_LEN:])
    except nacl.exceptions.CryptoError:
        raise OpenError("decrypt", "the seal does not open (tampered or corrupted)")
    try:
        payload = parse_payload_json(plaintext)
        validate_payload(payload)
    except PayloadError as error:
        raise OpenError("payload", "%s: %s" % (shorten(error.key), error.rule))
    if payload["recipient"] != header_text:
        raise OpenError("recipient_mismatch",
                        "payload names %s, header names %s" % (payload["recipient"], header_text))
    if now >= parse_time(payload["expires"]):
        raise OpenError("expired", "expired at %s (now %s)"
                        % (payload["expires"], format_time(now)))
    return payload


def check_text_blobs(data, private_key, now):
    """Open every block of one received text (bytes); return one result dict per block."""
    # Latin-1 keeps every byte as one character: the armor is ASCII, other text is ignored.
    text = data.decode("latin-1")
    results = []
    for index, block in enumerate(find_blocks(text)):
        try:
            if block.armor_error:
                raise OpenError("armor", block.armor_error)
            payload = open_blob(decode_canonical_base64(block.body), private_key, now)
            results.append({"index": index, "ok": True, "payload": payload,
                            "stored_client_id": stored_client_id(payload)})
        except OpenError as error:
            results.append({"index": index, "ok": False, "error": error.cls,
                            "detail": error.detail})
    return results


# --------------------------------------------------------------------------------------------
# Sealing and the seal cases
# --------------------------------------------------------------------------------------------

def seal(payload_text, public_key):
    """Binary blob: magic, version, SHA-256 of the key, crypto_box_seal(payload)."""
    if not MIN_PAYLOAD <= len(payload_text) <= MAX_PAYLOAD:
        raise ValueError("payload too large" if len(payload_text) > MAX_PAYLOAD
                         else "payload too small")
    sealed = nacl.public.SealedBox(public_key).encrypt(payload_text)
    return MAGIC + bytes([VERSION]) + fingerprint_bytes(public_key) + sealed


def random_hex32():
    return os.urandom(16).hex()


def compact_json(payload):
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def base_payload(public_key, kind, label, credentials, **optional):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, tzinfo=None)
    payload = {
        "v": 1,
        "type": kind,
        "id": random_hex32(),
        "recipient": fingerprint_text(public_key),
        "created": format_time(now),
        "expires": format_time(now + datetime.timedelta(days=30)),
        "label": label,
        "credentials": credentials,
    }
    payload.update(optional)
    return payload


def random_guid():
    h = random_hex32()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def random_alnum(length):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[b % len(alphabet)] for b in os.urandom(length))


def email_mangle(armored):
    """What a mail client does to a quoted reply: '> ', CRLF, trailing blanks, greeting."""
    lines = armored.rstrip("\n").split("\n")
    quoted = ["> " + line + (" \t " if i % 2 else "  ") for i, line in enumerate(lines)]
    text = ["Hello,", "", "here are the credentials you asked for.", ""] + quoted
    text += ["", "Kind regards,", "-- ", "Jan Jansen", "Bakkerij Jansen"]
    return "\r\n".join(text) + "\r\n"


def one_long_line(armored):
    lines = armored.rstrip("\n").split("\n")
    return "\n".join([lines[0], "".join(lines[1:-1]), lines[-1]]) + "\n"


def seal_cases(public_key):
    """Yield (name, payload object, payload JSON bytes, armor transform) for every case."""
    exact = lambda **extra: dict({"client_id": random_guid(),
                                  "client_secret": random_alnum(12)}, **extra)

    payload = base_payload(
        public_key, "exact-online", "Acme BV",
        exact(webhook_secret=random_alnum(16), region="be",
              redirect_uri="https://example.com/oauth/callback?x=1", app_name="Acme Connector",
              division=2147483647),
        **{"from": "Piet de Vries <piet@acme.example>",
           "note": "new app\nwith webhook:\tyes", "request": random_hex32()})
    yield "exact-online-all-fields", payload, compact_json(payload), None

    payload = base_payload(public_key, "exact-online", "Acme BV", exact())
    yield "exact-online-required-only", payload, compact_json(payload), None

    guid = random_guid().upper()
    payload = base_payload(public_key, "exact-online", "Braces BV",
                           exact(client_id="{%s}" % guid, region="nl", division=1))
    yield "exact-online-braced-upper-client-id", payload, compact_json(payload), None

    pem = ("-----BEGIN PRIVATE KEY-----\n" + base64.b64encode(os.urandom(48)).decode() + "\n"
           + base64.b64encode(os.urandom(24)).decode() + "\n-----END PRIVATE KEY-----\n")
    payload = base_payload(public_key, "generic", "Widget Ltd",
                           {"api_key": random_alnum(32), "account": "12345",
                            "private_key": pem, "endpoint_2": "https://api.widget.example/v2"})
    yield "generic-multiline-pem", payload, compact_json(payload), None

    payload = base_payload(
        public_key, "exact-online", "Bäckerei Müller GmbH — Café 東京",
        exact(app_name="Zürich Connector ✓"),
        **{"from": "Café 東京 \U0001F600 <cafe@example.jp>",
           "note": "Cafe\u0301 (combining acute)\n\tnaïve \U0001F511 key"})
    text = json.dumps(payload, ensure_ascii=True).encode("ascii")
    yield "unicode-ascii-escaped", payload, text, None

    payload = base_payload(public_key, "exact-online", "Mail client mangled",
                           exact(webhook_secret=random_alnum(14)))
    yield "email-quoted-crlf", payload, compact_json(payload), email_mangle

    payload = base_payload(public_key, "generic", "Long line", {"token": random_alnum(40)})
    yield "base64-one-long-line", payload, compact_json(payload), one_long_line

    payload = base_payload(public_key, "exact-online", "Escapes \"quoted\" \\ BV",
                           exact(client_secret='Ab"cd\\ef/12' + random_alnum(4),
                                 redirect_uri="http://localhost:8080/callback"))
    # '/' only occurs inside strings in JSON text, so '\/' escapes are safe to introduce.
    text = compact_json(payload).replace(b"/", b"\\/")
    yield "json-escape-in-secret", payload, text, None

    payload = base_payload(public_key, "generic", "Largest payload",
                           {"part_%d" % i: "" for i in range(4)})
    room = MAX_PAYLOAD - len(compact_json(payload))  # ASCII values: one byte per character
    for i in range(4):
        share = room // 4 + (room % 4 if i == 3 else 0)
        payload["credentials"]["part_%d" % i] = random_alnum(share)
    yield "generic-max-size-payload", payload, compact_json(payload), None


def command_seal(args):
    public_key = nacl.public.PublicKey(parse_hex_key(args.recipient_hex, "--recipient-hex"))
    os.makedirs(args.out, exist_ok=True)
    manifest = []
    for name, payload, text, transform in seal_cases(public_key):
        # every case must be valid: re-read the exact text with our own strict reader
        parsed = parse_payload_json(text)
        validate_payload(parsed)
        if not typed_equal(parsed, payload):
            raise RuntimeError("seal case %s does not read back as its payload" % name)
        armored = armor(seal(text, public_key))
        if transform:
            armored = transform(armored)
        file_name = name + ".txt"
        with open(os.path.join(args.out, file_name), "wb") as handle:
            handle.write(armored.encode("ascii"))
        entry = {"file": file_name, "payload": payload}
        if payload["type"] == "exact-online":
            entry["stored_client_id"] = stored_client_id(payload)
        manifest.append(entry)
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=1)
        handle.write("\n")
    print("wrote %d blobs and manifest.json to %s" % (len(manifest), args.out))
    return 0


# --------------------------------------------------------------------------------------------
# check
# --------------------------------------------------------------------------------------------

class UsageError(Exception):
    pass


def parse_hex_key(text, option):
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text or ""):
        raise UsageError("%s must be 64 hex digits (32 bytes)" % option)
    return bytes.fromhex(text)


def parse_now(text):
    moment = parse_time(text)
    if moment is None:
        raise UsageError("--now must be a UTC time in the form YYYY-MM-DDTHH:MM:SSZ")
    return moment


def command_check(args):
    private_key = nacl.public.PrivateKey(parse_hex_key(args.secret_hex, "--secret-hex"))
    now = parse_now(args.now)
    contents = []
    for path in args.files:
        try:
            with open(path, "rb") as handle:
                contents.append((path, handle.read()))
        except OSError as error:
            raise UsageError("cannot read %s: %s" % (path, error.strerror))
    all_ok = True
    for path, data in contents:
        for result in check_text_blobs(data, private_key, now):
            all_ok = all_ok and result["ok"]
            print(json.dumps(dict({"file": path}, **result), ensure_ascii=True))
    return 0 if all_ok else 1


# --------------------------------------------------------------------------------------------
# selftest
# --------------------------------------------------------------------------------------------

def typed_equal(a, b):
    """Equality of JSON values that also tells 1, 1.0 and true apart."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(typed_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(typed_equal(x, y) for x, y in zip(a, b))
    return a == b


class SelfTest:
    def __init__(self):
        self.passed = 0
        self.failures = []

    def expect(self, condition, name):
        if condition:
            self.passed += 1
        else:
            self.failures.append(name)
            print("FAIL: %s" % name)


def selftest_blob_case(test, case):
    name = "blobs: %s" % case["name"]
    private_key = nacl.public.PrivateKey(bytes.fromhex(case["secret_key_hex"]))
    results = check_text_blobs(case["armored"].encode("utf-8"), private_key,
                               parse_time(case["now"]))
    if len(results) != 1:
        test.expect(False, "%s (%d blocks found, expected 1)" % (name, len(results)))
        return
    result = results[0]
    if case["expect"] == "ok":
        good = (result["ok"] and typed_equal(result["payload"], case["payload"])
                and ("stored_client_id" not in case
                     or result["stored_client_id"] == case["stored_client_id"]))
        test.expect(good, "%s (expected ok, got %s)" % (
            name, "ok" if result["ok"] else "%s: %s" % (result["error"], result["detail"])))
    else:
        got = "ok" if result["ok"] else result["error"]
        test.expect(got == case["expect"], "%s (expected %s, got %s%s)" % (
            name, case["expect"], got, "" if result["ok"] else ": " + result["detail"]))


def decode_class(text, hrp):
    try:
        return bech32_decode(text, hrp)
    except Bech32Error as error:
        return error.cls


def selftest_keys(test, keys):
    for number, entry in enumerate(keys["valid"]):
        name = "keys: valid[%d]" % number
        private_key = nacl.public.PrivateKey(bytes.fromhex(entry["secret_key_hex"]))
        public = bytes(private_key.public_key)
        test.expect(public.hex() == entry["public_key_hex"], name + " secret -> public")
        test.expect(fingerprint_text(public) == entry["fingerprint"], name + " fingerprint")
        test.expect(recipient_string(public) == entry["recipient"], name + " public -> recipient")
        test.expect(decode_class(entry["recipient"], RECIPIENT_HRP) == public,
                    name + " recipient -> public")
        test.expect(secret_key_string(bytes(private_key)) == entry["secret_key"],
                    name + " secret -> secret-key string")
        test.expect(decode_class(entry["secret_key"], SECRET_KEY_HRP) == bytes(private_key),
                    name + " secret-key string -> secret")
    upper = keys.get("upper_case_recipient_is_valid")
    if upper:
        test.expect(decode_class(upper, RECIPIENT_HRP)
                    == bytes.fromhex(keys["valid"][0]["public_key_hex"]),
                    "keys: upper-case recipient parses")
    for entry in keys.get("invalid_recipients", []):
        got = decode_class(entry["input"], RECIPIENT_HRP)
        got = got if isinstance(got, str) else "ok"
        test.expect(got == entry["error"], "keys: invalid recipient %r (expected %s, got %s)"
                    % (entry["input"], entry["error"], got))


def command_selftest(args):
    try:
        with open(os.path.join(args.vectors, "blobs.json"), encoding="utf-8") as handle:
            blobs = json.load(handle)
        with open(os.path.join(args.vectors, "keys.json"), encoding="utf-8") as handle:
            keys = json.load(handle)
    except (OSError, ValueError) as error:
        raise UsageError("cannot read the vectors in %s: %s" % (args.vectors, error))
    test = SelfTest()
    for case in blobs["cases"]:
        selftest_blob_case(test, case)
    selftest_keys(test, keys)
    print("%d passed, %d failed" % (test.passed, len(test.failures)))
    return 0 if not test.failures else 1


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------

class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser():
    parser = Parser(description="Independent PyNaCl implementation of the vault format.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    seal_cmd = commands.add_parser("seal", help="write test blobs and manifest.json")
    seal_cmd.add_argument("--recipient-hex", required=True)
    seal_cmd.add_argument("--out", required=True)
    check_cmd = commands.add_parser("check", help="open and validate armored blobs")
    check_cmd.add_argument("--secret-hex", required=True)
    check_cmd.add_argument("--now", required=True)
    check_cmd.add_argument("files", nargs="+", metavar="FILE")
    test_cmd = commands.add_parser("selftest", help="run against the shared test vectors")
    test_cmd.add_argument("--vectors", required=True)
    return parser


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        handler = {"seal": command_seal, "check": command_check,
                   "selftest": command_selftest}[args.command]
        return handler(args)
    except UsageError as error:
        print("usage error: %s" % error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
