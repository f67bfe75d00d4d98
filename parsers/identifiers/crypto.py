"""Cryptocurrency addresses, each kept only when its checksum holds.

Bitcoin: base58check P2PKH (version 0x00, "1...") and P2SH (0x05, "3..."), and segwit
addresses (BIP 173 bech32 for witness version 0, BIP 350 bech32m for versions 1-16) on
mainnet ("bc1..."), all lower or all upper case. Ethereum: 0x and 40 hex digits; a mixed-case
address must carry a valid EIP-55 checksum (Keccak-256 of the lower-case hex), an all-lower or
all-upper one carries none. TRON (where USDT-TRC20 lives): base58check with version 0x41
("T..."). USDT on Ethereum is an Ethereum address. Values: base58 as written (it is case
sensitive), bech32 and Ethereum lower-cased.
"""

from __future__ import annotations

import re
from typing import Iterator

import base58
import bech32
from Crypto.Hash import keccak

from parsers.identifiers.base import TEXT, Context, Extractor, Found

_B58 = "1-9A-HJ-NP-Za-km-z"
_BTC_BASE58 = re.compile(rf"(?<![A-Za-z0-9])[13][{_B58}]{{25,34}}(?![A-Za-z0-9])")
_BTC_BECH32 = re.compile(r"(?<![A-Za-z0-9])(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{8,87}(?![A-Za-z0-9])")
_ETH = re.compile(r"(?<![A-Za-z0-9])0x[0-9a-fA-F]{40}(?![A-Za-z0-9])")
_TRON = re.compile(rf"(?<![A-Za-z0-9])T[{_B58}]{{33}}(?![A-Za-z0-9])")
BECH32M_CONST = 0x2BC830A3  # BIP 350


def base58check_version(text: str) -> int | None:
    """The version byte of a valid 21-byte base58check payload, else None."""
    try:
        payload = base58.b58decode_check(text)
    except ValueError:
        return None  # a bad checksum or a character outside the alphabet
    return payload[0] if len(payload) == 21 else None


def segwit_valid(address: str, hrp: str = "bc") -> bool:
    """BIP 173 / BIP 350: one case, the human-readable part, the checksum constant of the witness version, the program length."""
    if address.lower() != address and address.upper() != address:
        return False
    address = address.lower()
    if len(address) > 90:
        return False
    separator = address.rfind("1")
    if address[:separator] != hrp:
        return False
    data = [bech32.CHARSET.find(c) for c in address[separator + 1:]]
    if len(data) < 7 or -1 in data:
        return False
    constant = bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + data)
    version = data[0]
    program = bech32.convertbits(data[1:-6], 5, 8, False)
    if program is None or not 2 <= len(program) <= 40 or version > 16:
        return False
    if version == 0:
        return constant == 1 and len(program) in (20, 32)
    return constant == BECH32M_CONST


def eip55_valid(address: str) -> bool:
    """True when the address carries no checksum (one case) or a correct EIP-55 one."""
    digits = address[2:]
    if digits.lower() == digits or digits.upper() == digits:
        return True
    digest = keccak.new(digest_bits=256, data=digits.lower().encode("ascii")).hexdigest()
    # strict=False: EIP-55 reads only the first 40 of the hash's 64 hex digits, one per address digit
    return all(c.isdigit() or (c.isupper() == (int(h, 16) >= 8)) for c, h in zip(digits, digest, strict=False))


class Crypto(Extractor):
    name = "crypto"
    version = "1"
    kinds = ("bitcoin_address", "ethereum_address", "tron_address")
    field_classes = (TEXT,)
    priority = 10

    def find(self, text: str, context: Context) -> Iterator[Found]:
        for match in _BTC_BASE58.finditer(text):
            if base58check_version(match.group()) in (0x00, 0x05):
                yield Found("bitcoin_address", match.group(), match.group(), match.start(), service="bitcoin")
        for match in _BTC_BECH32.finditer(text):
            if segwit_valid(match.group()):
                yield Found("bitcoin_address", match.group().lower(), match.group(), match.start(), service="bitcoin")
        for match in _ETH.finditer(text):
            if eip55_valid(match.group()):
                yield Found("ethereum_address", match.group().lower(), match.group(), match.start(), service="ethereum")
        for match in _TRON.finditer(text):
            if base58check_version(match.group()) == 0x41:
                yield Found("tron_address", match.group(), match.group(), match.start(), service="tron")


EXTRACTOR = Crypto()
