#!/usr/bin/env python3
"""Independent verifier for the contact ledger's auditor proofs.

Written from RFC 9162 and the C2SP checkpoint and signed-note formats, not from the
ledger's own code, so that an auditor can check what the insurer's API says with
nothing but Python 3.11's standard library and the `cryptography` package (for
Ed25519 only: `pip install -r tools/requirements.txt`).

Hashing (RFC 9162 section 2.1, SHA-256):
    leaf hash  = SHA-256(0x00 || leaf data)      leaf data: the record's chain hash
    node hash  = SHA-256(0x01 || left || right)
    empty root = SHA-256("")

Leaf indexes count from 0 (RFC 9162); ledger positions count from 1, so the record
at position p is leaf p - 1. A tree size is a record count.

Usage:
    proof_verifier.py inclusion (--leaf-hash HEX | --leaf-data HEX) --index N --size N
                                --root HEX --proof HEX,HEX,...
    proof_verifier.py consistency --from-size N --to-size N --from-root HEX
                                  --to-root HEX --proof HEX,HEX,...
    proof_verifier.py checkpoint --origin TEXT --size N --root HEX --timestamp N
                                 --signature BASE64 --public-key BASE64|HEX [--key-id HEX]
    proof_verifier.py json [FILE]        one JSON document from FILE, or stdin

An empty proof is written `--proof ''`. The JSON documents (hashes are 64 hex digits):
    {"kind": "inclusion", "leafHash": HEX (or "leafData": HEX), "index": N,
     "position": N (optional; must be index + 1), "treeSize": N, "rootHash": HEX,
     "proof": [HEX, ...]}
    {"kind": "consistency", "fromSize": N, "toSize": N, "fromRoot": HEX, "toRoot": HEX,
     "proof": [HEX, ...]}
    {"kind": "checkpoint",
     "checkpoint": {"origin": TEXT, "treeSize": N, "rootHash": HEX, "timestamp": N},
     "signature": BASE64, "publicKey": BASE64 or HEX, "keyId": HEX (optional),
     "body": TEXT (optional; must equal the rebuilt signed text)}

The signed checkpoint text is four lines, each ending in "\\n":
    origin / tree size in decimal / root hash in standard padded base64 / unix seconds
The key ID is the C2SP signed-note one: SHA-256(origin || "\\n" || 0x01 || key)[:4].

Exit status: 0 valid (one line on stdout); 1 invalid, with a one-line reason on stderr
(this includes hashes, signatures and keys that do not decode); 2 usage error: bad
arguments, unreadable input, not a JSON object, unknown kind, missing fields or fields
of the wrong JSON type, or the `cryptography` package missing.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys

HASH_BYTES = 32
KEY_BYTES = 32
SIGNATURE_BYTES = 64
KEY_ID_BYTES = 4
U64_MAX = 2**64 - 1
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
# Proof elements a tree of at most 2^64 leaves can need; a longer list is refused
# before any hashing, so a hostile document cannot make the verifier work for long.
PROOF_HASHES_MAX = 2 * 64
INPUT_BYTES_MAX = 1024 * 1024
INSTALL_HINT = "pip install -r tools/requirements.txt"
HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class Invalid(Exception):
    """The document is well formed but does not prove what it claims (exit 1)."""


class UsageError(Exception):
    """The tool was called wrongly or given something that is not a document (exit 2)."""


# --- RFC 9162 hashing ------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


# --- RFC 9162 section 2.1.3.2: inclusion ------------------------------------------


def inclusion_proof_length(index: int, size: int) -> int:
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner + border


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> None:
    if size == 0:
        raise Invalid("a tree of size 0 has no leaves")
    if index >= size:
        raise Invalid(f"leaf index {index} is outside a tree of size {size}")
    expected = inclusion_proof_length(index, size)
    if len(proof) != expected:
        raise Invalid(f"the proof has {len(proof)} hashes where these sizes call for {expected}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise Invalid("the proof is longer than the path")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Invalid("the proof is shorter than the path")
    if r != root:
        raise Invalid(f"the proof leads to root {r.hex()}, not to the claimed root {root.hex()}")


# --- RFC 9162 section 2.1.4.2: consistency -----------------------------------------


def consistency_proof_length(old: int, new: int) -> int:
    inner = ((old - 1) ^ (new - 1)).bit_length()
    border = ((old - 1) >> inner).bit_count()
    shared = (old & -old).bit_length() - 1  # trailing zero bits of old
    seed = 0 if old & (old - 1) == 0 else 1
    return seed + inner - shared + border


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> None:
    if old > new:
        raise Invalid(f"the old size {old} is larger than the new size {new}")
    if old == 0 or old == new:
        if proof:
            raise Invalid(f"the proof has {len(proof)} hashes where these sizes call for 0")
        if old == 0 and old_root != EMPTY_ROOT:
            raise Invalid("the old root of an empty tree must be SHA-256 of the empty string")
        if old == new and old_root != new_root:
            raise Invalid("trees of equal size must have equal roots")
        return
    expected = consistency_proof_length(old, new)
    if len(proof) != expected:
        raise Invalid(f"the proof has {len(proof)} hashes where these sizes call for {expected}")
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Invalid("the proof is longer than the path")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Invalid("the proof is shorter than the path")
    if fr != old_root:
        raise Invalid(f"the proof leads to old root {fr.hex()}, not to the claimed {old_root.hex()}")
    if sr != new_root:
        raise Invalid(f"the proof leads to new root {sr.hex()}, not to the claimed {new_root.hex()}")


# --- Signed checkpoints -------------------------------------------------------------


def checkpoint_body(origin: str, size: int, root: bytes, timestamp: int) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode('ascii')}\n{timestamp}\n"


def check_origin(origin: str) -> None:
    if not origin:
        raise Invalid("the checkpoint origin is empty")
    if any(c.isspace() or is_control(c) or c == "+" for c in origin):
        raise Invalid("the checkpoint origin contains whitespace, a control character or '+'")


def is_control(character: str) -> bool:
    """Unicode general category Cc, as Rust's char::is_control."""
    return ord(character) < 0x20 or 0x7F <= ord(character) <= 0x9F


def key_id(origin: str, public_key: bytes) -> bytes:
    return hashlib.sha256(origin.encode("utf-8") + b"\n\x01" + public_key).digest()[:KEY_ID_BYTES]


def verify_checkpoint(
    origin: str,
    size: int,
    root: bytes,
    timestamp: int,
    signature: bytes,
    public_key: bytes,
    claimed_key_id: bytes | None,
    claimed_body: str | None,
) -> None:
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError as error:
        raise UsageError(f"the cryptography package is missing ({error}): {INSTALL_HINT}") from None
    check_origin(origin)
    body = checkpoint_body(origin, size, root, timestamp)
    if claimed_body is not None and claimed_body != body:
        raise Invalid("the checkpoint body does not match its fields")
    if len(signature) != SIGNATURE_BYTES:
        raise Invalid(f"an Ed25519 signature is {SIGNATURE_BYTES} bytes, got {len(signature)}")
    if len(public_key) != KEY_BYTES:
        raise Invalid(f"an Ed25519 public key is {KEY_BYTES} bytes, got {len(public_key)}")
    expected_id = key_id(origin, public_key)
    if claimed_key_id is not None and claimed_key_id != expected_id:
        raise Invalid(f"the signature is by key ID {claimed_key_id.hex()}, the public key's ID is {expected_id.hex()}")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, body.encode("utf-8"))
    except InvalidSignature:
        raise Invalid("the signature does not verify with the public key") from None
    except ValueError as error:
        raise Invalid(f"the public key is not an Ed25519 key: {error}") from None


# --- Decoding -----------------------------------------------------------------------


def decode_hex(text: str, what: str) -> bytes:
    # Stricter than bytes.fromhex, which would also take spaces between the bytes.
    if len(text) % 2 or not set(text) <= HEX_DIGITS:
        raise Invalid(f"{what} is not hex")
    return bytes.fromhex(text)


def decode_hash(text: str, what: str) -> bytes:
    value = decode_hex(text, what)
    if len(value) != HASH_BYTES:
        raise Invalid(f"{what} is {len(value)} bytes, a hash is {HASH_BYTES}")
    return value


def decode_proof(items: list[str]) -> list[bytes]:
    if len(items) > PROOF_HASHES_MAX:
        raise Invalid(f"the proof has {len(items)} hashes; no tree needs more than {PROOF_HASHES_MAX}")
    return [decode_hash(item, f"proof[{number}]") for number, item in enumerate(items)]


def decode_base64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise Invalid(f"{what} is not standard base64") from None


def decode_key(text: str) -> bytes:
    text = text.strip()
    if len(text) == 2 * KEY_BYTES and set(text) <= HEX_DIGITS:
        return bytes.fromhex(text)
    return decode_base64(text, "the public key")


def check_u64(value: int, what: str) -> int:
    if not 0 <= value <= U64_MAX:
        raise Invalid(f"{what} {value} is not a 64-bit unsigned size")
    return value


# --- JSON documents -----------------------------------------------------------------


def field(document: dict, name: str, kind: type | tuple, optional: bool = False):
    if name not in document:
        if optional:
            return None
        raise UsageError(f'the document has no "{name}"')
    value = document[name]
    # bool is an int in Python; a size of `true` is a mistake, not a size.
    if isinstance(value, bool) or not isinstance(value, kind):
        raise UsageError(f'"{name}" has the wrong JSON type')
    return value


def string_list(document: dict, name: str) -> list[str]:
    items = field(document, name, list)
    if not all(isinstance(item, str) for item in items):
        raise UsageError(f'"{name}" must be a list of hex strings')
    return items


def run_document(document: object) -> str:
    if not isinstance(document, dict):
        raise UsageError("the input is not a JSON object")
    kind = field(document, "kind", str)
    if kind == "inclusion":
        return run_inclusion_document(document)
    if kind == "consistency":
        size_from = check_u64(field(document, "fromSize", int), "fromSize")
        size_to = check_u64(field(document, "toSize", int), "toSize")
        verify_consistency(
            size_from,
            size_to,
            decode_hash(field(document, "fromRoot", str), "fromRoot"),
            decode_hash(field(document, "toRoot", str), "toRoot"),
            decode_proof(string_list(document, "proof")),
        )
        return f"tree {size_from} is a prefix of tree {size_to}"
    if kind == "checkpoint":
        checkpoint = field(document, "checkpoint", dict)
        size = check_u64(field(checkpoint, "treeSize", int), "treeSize")
        timestamp = field(checkpoint, "timestamp", int)
        if not I64_MIN <= timestamp <= I64_MAX:
            raise Invalid(f"the timestamp {timestamp} is not a 64-bit signed number of seconds")
        key_id_text = field(document, "keyId", str, optional=True)
        verify_checkpoint(
            field(checkpoint, "origin", str),
            size,
            decode_hash(field(checkpoint, "rootHash", str), "rootHash"),
            timestamp,
            decode_base64(field(document, "signature", str), "the signature"),
            decode_key(field(document, "publicKey", str)),
            None if key_id_text is None else decode_hex(key_id_text, "keyId"),
            field(document, "body", str, optional=True),
        )
        return f"checkpoint of tree {size} is signed by the given key"
    raise UsageError(f'unknown kind "{kind}": expected inclusion, consistency or checkpoint')


def run_inclusion_document(document: dict) -> str:
    index = check_u64(field(document, "index", int), "index")
    size = check_u64(field(document, "treeSize", int), "treeSize")
    position = field(document, "position", int, optional=True)
    if position is not None and position != index + 1:
        raise Invalid(f"position {position} is not leaf index {index} + 1")
    leaf = resolve_leaf(field(document, "leafHash", str, optional=True), field(document, "leafData", str, optional=True))
    verify_inclusion(
        leaf,
        index,
        size,
        decode_proof(string_list(document, "proof")),
        decode_hash(field(document, "rootHash", str), "rootHash"),
    )
    return f"leaf {index} (position {index + 1}) is in tree {size}"


def resolve_leaf(leaf_hash_text: str | None, leaf_data_text: str | None) -> bytes:
    if leaf_hash_text is None and leaf_data_text is None:
        raise UsageError("give the leaf hash or the leaf data")
    from_data = None if leaf_data_text is None else leaf_hash(decode_hex(leaf_data_text, "the leaf data"))
    if leaf_hash_text is None:
        return from_data
    given = decode_hash(leaf_hash_text, "the leaf hash")
    if from_data is not None and from_data != given:
        raise Invalid("the leaf hash is not the hash of the leaf data")
    return given


# --- Command line -------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(message)


def u64_argument(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal number") from None
    if not 0 <= value <= U64_MAX:
        raise argparse.ArgumentTypeError(f"{value} is not a 64-bit unsigned size")
    return value


def i64_argument(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal number") from None
    if not I64_MIN <= value <= I64_MAX:
        raise argparse.ArgumentTypeError(f"{value} is not a 64-bit signed number of seconds")
    return value


def proof_argument(text: str) -> list[str]:
    # An empty item ("a,,b") is kept, and then refused as a hash that is 0 bytes long.
    return text.split(",") if text else []


def build_parser() -> Parser:
    parser = Parser(prog="proof_verifier.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    inclusion = commands.add_parser("inclusion", help="check an inclusion proof")
    leaf = inclusion.add_mutually_exclusive_group(required=True)
    leaf.add_argument("--leaf-hash", help="the leaf hash, hex")
    leaf.add_argument("--leaf-data", help="the leaf data (the record's chain hash), hex")
    inclusion.add_argument("--index", type=u64_argument, required=True, help="leaf index, from 0")
    inclusion.add_argument("--size", type=u64_argument, required=True)
    inclusion.add_argument("--root", required=True)
    inclusion.add_argument("--proof", type=proof_argument, required=True, help="hex hashes, comma separated")

    consistency = commands.add_parser("consistency", help="check a consistency proof")
    consistency.add_argument("--from-size", type=u64_argument, required=True)
    consistency.add_argument("--to-size", type=u64_argument, required=True)
    consistency.add_argument("--from-root", required=True)
    consistency.add_argument("--to-root", required=True)
    consistency.add_argument("--proof", type=proof_argument, required=True, help="hex hashes, comma separated")

    checkpoint = commands.add_parser("checkpoint", help="check a signed checkpoint")
    checkpoint.add_argument("--origin", required=True)
    checkpoint.add_argument("--size", type=u64_argument, required=True)
    checkpoint.add_argument("--root", required=True)
    checkpoint.add_argument("--timestamp", type=i64_argument, required=True, help="unix seconds")
    checkpoint.add_argument("--signature", required=True, help="base64")
    checkpoint.add_argument("--public-key", required=True, help="base64 or hex")
    checkpoint.add_argument("--key-id", help="hex, checked when given")

    document = commands.add_parser("json", help="check one JSON document (see the module docs)")
    document.add_argument("file", nargs="?", default="-", help="a file, or - for stdin (the default)")
    return parser


def read_document(path: str) -> object:
    try:
        if path == "-":
            text = sys.stdin.read(INPUT_BYTES_MAX + 1)
        else:
            with open(path, encoding="utf-8") as file:
                text = file.read(INPUT_BYTES_MAX + 1)
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {path}: {error}") from None
    if len(text) > INPUT_BYTES_MAX:
        raise UsageError(f"the input is longer than {INPUT_BYTES_MAX} bytes")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"the input is not JSON: {error}") from None


def run(arguments: argparse.Namespace) -> str:
    if arguments.command == "json":
        return run_document(read_document(arguments.file))
    if arguments.command == "inclusion":
        leaf = resolve_leaf(arguments.leaf_hash, arguments.leaf_data)
        verify_inclusion(
            leaf,
            arguments.index,
            arguments.size,
            decode_proof(arguments.proof),
            decode_hash(arguments.root, "the root"),
        )
        return f"leaf {arguments.index} (position {arguments.index + 1}) is in tree {arguments.size}"
    if arguments.command == "consistency":
        verify_consistency(
            arguments.from_size,
            arguments.to_size,
            decode_hash(arguments.from_root, "the old root"),
            decode_hash(arguments.to_root, "the new root"),
            decode_proof(arguments.proof),
        )
        return f"tree {arguments.from_size} is a prefix of tree {arguments.to_size}"
    verify_checkpoint(
        arguments.origin,
        arguments.size,
        decode_hash(arguments.root, "the root"),
        arguments.timestamp,
        decode_base64(arguments.signature, "the signature"),
        decode_key(arguments.public_key),
        None if arguments.key_id is None else decode_hex(arguments.key_id, "the key ID"),
        None,
    )
    return f"checkpoint of tree {arguments.size} is signed by the given key"


def main(argv: list[str]) -> int:
    try:
        print(f"valid: {run(build_parser().parse_args(argv))}")
        return 0
    except Invalid as reason:
        print(f"invalid: {reason}", file=sys.stderr)
        return 1
    except UsageError as problem:
        print(f"usage error: {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
