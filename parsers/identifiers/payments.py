"""Payment identifiers: PayPal, mobile wallets, money-transfer references, IBANs and card numbers.

Numbers that could be anything (ten digits, eight digits, a mobile number) are taken only when a
label just before them (40 characters; 20 after, for wallets and PayPal) says what they are: an
MTCN needs "MTCN" or "money transfer control number", a MoneyGram reference needs both
"MoneyGram" and "reference"/"ref", a wallet number needs GCash, PayMaya or Maya and must be a
Philippine mobile number. IBANs must pass the ISO 13616 mod-97 check and their country's
format (python-stdnum), card numbers the Luhn check and a known issuer's prefix and length.
"""

from __future__ import annotations

import re
from typing import Iterator

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType
from stdnum import iban, luhn

from parsers.identifiers.base import TEXT, Context, Extractor, Found, labelled
from parsers.identifiers.internet import emails_in

_PAYPAL_LINK = re.compile(r"(?<![\w.@/-])(?:https?://)?(?:www\.)?(?:paypal\.me|paypal\.com/paypalme)/([A-Za-z0-9]{1,20})(?![\w-])", re.IGNORECASE)
_PAYPAL_LABEL = re.compile(r"(?<![a-z])pay\s?pal(?![a-z])", re.IGNORECASE)
_PH_MOBILE = re.compile(r"(?<![\w+])(?:\+63|63|0)[ -]?9\d{2}[ -]?\d{3}[ -]?\d{4}(?!\d)")
_WALLET_LABEL = re.compile(r"(?<![a-z])(g-?cash|paymaya|maya)(?![a-z])", re.IGNORECASE)
_TEN = re.compile(r"(?<![\w.,/:-])\d{3}[ -]?\d{3}[ -]?\d{4}(?![\w]|[.,/:-]\d)")
_MTCN_LABEL = re.compile(r"(?<![a-z])(?:mtcn|money\s{1,3}transfer\s{1,3}control\s{1,3}(?:number|no\b|#))", re.IGNORECASE)
_EIGHT = re.compile(r"(?<![\w.,/:-])(?:\d{8}|\d{4}[ -]\d{4})(?![\w]|[.,/:-]\d)")
_MONEYGRAM = re.compile(r"(?<![a-z])money\s?gram(?![a-z])", re.IGNORECASE)
_REFERENCE = re.compile(r"(?<![a-z])(?:reference|ref)(?![a-z])", re.IGNORECASE)
_IBAN_BODY = r"[A-Z]{2}\d{2}[A-Z0-9 ]{10,40}"
_IBAN = re.compile(r"(?<![A-Za-z0-9])" + _IBAN_BODY)
_IBAN_GLUED = re.compile(_IBAN_BODY)  # read only where the IBAN before ended
_GLUED = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")  # an IBAN written on at once after another, no space between
_CARD = re.compile(r"(?<![\w.,/-])(?:\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?|\d{4}([ -])\d{6}\2\d{5}|\d{4}([ -])\d{6}\3\d{4}|\d{13,19})"
                   r"(?![\w]|[.,/-]\d)")


def card_scheme(digits: str) -> str | None:
    """The card scheme whose issuer prefix (IIN) and length the number has, or None."""
    n = len(digits)
    two, three, four = int(digits[:2]), int(digits[:3]), int(digits[:4])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= two <= 55 or 2221 <= four <= 2720) and n == 16:
        return "mastercard"
    if two in (34, 37) and n == 15:
        return "amex"
    if (four == 6011 or 644 <= three <= 649 or two == 65) and 16 <= n <= 19:
        return "discover"
    if 3528 <= four <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (300 <= three <= 305 or two in (36, 38, 39)) and 14 <= n <= 19:
        return "diners"
    if two == 62 and 16 <= n <= 19:
        return "unionpay"
    return None


def _iban_at(text: str, match: re.Match[str]) -> Found | None:
    """The IBAN a candidate starts with, or None. The class also takes the words after the IBAN
    ("... 32 TO ME") and a second IBAN written next to it: the longest run of whole groups that checks
    is it; in one unbroken token (two IBANs glued together), the longest prefix that checks and is
    followed at once by another valid IBAN."""
    start = match.start()
    tokens = match.group().split(" ")
    for count in range(len(tokens), 0, -1):
        raw = " ".join(tokens[:count]).rstrip()
        end = start + len(raw)
        if raw and (end >= len(text) or not text[end].isalnum()) and iban.is_valid(raw):  # the start is free: the pattern saw to it
            return Found("iban", iban.compact(raw), raw, start)
    first = tokens[0]
    for length in range(min(len(first) - 4, 34), 14, -1):
        raw, after = first[:length], _GLUED.match(text, start + length)
        if after is not None and iban.is_valid(raw) and _valid_prefix(after.group()):
            return Found("iban", iban.compact(raw), raw, start)
    return None


def _valid_prefix(run: str) -> bool:
    """True when an unbroken run of letters and digits starts with a valid IBAN (15 to 34 characters)."""
    return any(iban.is_valid(run[:n]) for n in range(min(len(run), 34), 14, -1))


def _digits(raw: str) -> str:
    return raw.replace(" ", "").replace("-", "")


class Payments(Extractor):
    name = "payments"
    version = "1"
    kinds = ("paypal", "mobile_wallet", "mtcn", "moneygram_reference", "iban", "card_number")
    field_classes = (TEXT,)
    priority = 20

    def find(self, text: str, context: Context) -> Iterator[Found]:
        yield from self._paypal(text)
        yield from self._wallets(text)
        yield from self._labelled_digits(text)
        yield from self._ibans(text)
        yield from self._cards(text)

    def _paypal(self, text: str) -> Iterator[Found]:
        for match in _PAYPAL_LINK.finditer(text):
            yield Found("paypal", "paypal.me/" + match.group(1).lower(), match.group(), match.start(), service="paypal")
        for email in emails_in(text):
            if labelled(text, email.start, email.end, _PAYPAL_LABEL):
                yield Found("paypal", email.value, email.raw, email.start, service="paypal")

    def _wallets(self, text: str) -> Iterator[Found]:
        for match in _PH_MOBILE.finditer(text):
            label = labelled(text, match.start(), match.end(), _WALLET_LABEL)
            if label is None:
                continue
            raw = match.group()
            try:
                number = phonenumbers.parse(raw, "PH", keep_raw_input=True)
            except NumberParseException:
                continue
            if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) != PhoneNumberType.MOBILE:
                continue
            service = label.group(1).lower().replace("-", "")
            national = raw.startswith("0")
            yield Found("mobile_wallet", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), raw, match.start(),
                        service=service, region="PH" if national else None)

    def _labelled_digits(self, text: str) -> Iterator[Found]:
        for match in _TEN.finditer(text):
            if labelled(text, match.start(), match.end(), _MTCN_LABEL, after=0):
                yield Found("mtcn", _digits(match.group()), match.group(), match.start(), service="western_union")
        for match in _EIGHT.finditer(text):
            window = text[max(0, match.start() - 60):match.start()]
            reference = _REFERENCE.search(text[max(0, match.start() - 40):match.start()])
            if reference is not None and _MONEYGRAM.search(window):
                yield Found("moneygram_reference", _digits(match.group()), match.group(), match.start(), service="moneygram")

    def _ibans(self, text: str) -> Iterator[Found]:
        pos = 0
        while (match := _IBAN.search(text, pos)) is not None:
            found = _iban_at(text, match)
            if found is None:
                pos = match.start() + 1
                continue
            while found is not None:
                yield found
                pos = found.end
                # The next IBAN may follow at once ("DE89... GB82...", or glued on): read on from this one's end, not the match's.
                glued = _IBAN_GLUED.match(text, found.end)
                found = _iban_at(text, glued) if glued is not None else None

    def _cards(self, text: str) -> Iterator[Found]:
        for match in _CARD.finditer(text):
            digits = _digits(match.group())
            scheme = card_scheme(digits)
            if scheme is not None and luhn.is_valid(digits) and len(set(digits)) > 1:
                yield Found("card_number", digits, match.group(), match.start(), service=scheme)


EXTRACTOR = Payments()
