"""The identifier library on its own: exact rows for real demands, nothing for hostile near-misses,
checksum test vectors from the specifications, id-field formats, budgets on adversarial input."""

from __future__ import annotations

import pytest

from manifests.schemas import IDENTIFIER_KINDS
from parsers.identifiers.base import ID, SERIAL, TEXT, Context, Limit
from parsers.identifiers.crypto import base58check_version, eip55_valid, segwit_valid
from parsers.identifiers.payments import card_scheme
from parsers.identifiers.registry import all_extractors, extract


def _rows(text: str, regions: tuple[str, ...] = (), field_class: str = TEXT, app: str | None = None, field: str | None = None) -> list[tuple]:
    result = extract(text, Context(field_class, regions, app, field))
    assert result.limits == ()
    for hit in result.hits:
        assert text[hit.found.start:hit.found.end] == hit.found.raw  # raw is exactly the text at its offset
    return [(h.found.kind, h.found.value, h.found.raw, h.found.start, h.found.service, h.found.region) for h in result.hits]


POSITIVE = [
    ("ipadala mo sa gcash 0917 123 4567", (), [("mobile_wallet", "+639171234567", "0917 123 4567", 20, "gcash", "PH")]),
    ("ipadala mo sa gcash 0917 123 4567", ("PH",), [("mobile_wallet", "+639171234567", "0917 123 4567", 20, "gcash", "PH"),
                                                    ("phone", "+639171234567", "0917 123 4567", 20, None, "PH")]),
    ("send $500 to paypal.me/someone", (), [("domain", "paypal.me", "paypal.me", 13, None, None),
                                            ("paypal", "paypal.me/someone", "paypal.me/someone", 13, "paypal", None),
                                            ("url", "paypal.me/someone", "paypal.me/someone", 13, None, None)]),
    ("MTCN: 1234567890", (), [("mtcn", "1234567890", "1234567890", 6, "western_union", None)]),
    ("Western Union money transfer control number 123-456-7890 po", (), [("mtcn", "1234567890", "123-456-7890", 44, "western_union", None)]),
    ("MoneyGram ref no. 12345678", (), [("moneygram_reference", "12345678", "12345678", 18, "moneygram", None)]),
    ("bayad sa paymaya +63 918 765 4321 o maya 09998887777", (), [
        ("mobile_wallet", "+639187654321", "+63 918 765 4321", 17, "paymaya", None), ("phone", "+639187654321", "+63 918 765 4321", 17, None, None),
        ("mobile_wallet", "+639998887777", "09998887777", 41, "maya", "PH")]),
    ("paypal ko: Juan.Dela.Cruz@Gmail.com", (), [("email", "juan.dela.cruz@gmail.com", "Juan.Dela.Cruz@Gmail.com", 11, None, None),
                                                 ("paypal", "juan.dela.cruz@gmail.com", "Juan.Dela.Cruz@Gmail.com", 11, "paypal", None)]),
    ("IBAN DE89 3704 0044 0532 0130 00, card 4111-1111-1111-1111, amex 3782 822463 10005", (), [
        ("iban", "DE89370400440532013000", "DE89 3704 0044 0532 0130 00", 5, None, None),
        ("card_number", "4111111111111111", "4111-1111-1111-1111", 39, "visa", None),
        ("card_number", "378282246310005", "3782 822463 10005", 65, "amex", None)]),
    ("IBAN GB82 WEST 1234 5698 7654 32 TO ME", (), [("iban", "GB82WEST12345698765432", "GB82 WEST 1234 5698 7654 32", 5, None, None)]),
    ("btc bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4 or 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", (), [
        ("bitcoin_address", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", 4, "bitcoin", None),
        ("bitcoin_address", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", 50, "bitcoin", None)]),
    ("send to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa.", (), [
        ("bitcoin_address", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", 8, "bitcoin", None)]),
    ("USDT TRC20: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t, ERC20 0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", (), [
        ("tron_address", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", 12, "tron", None),
        ("ethereum_address", "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", 54, "ethereum", None)]),
    ("add me on IG @scam.queen or https://www.instagram.com/scam.queen/ and https://t.me/fastcash_ph", (), [
        ("handle", "scam.queen", "@scam.queen", 13, "instagram", None),
        ("url", "https://www.instagram.com/scam.queen/", "https://www.instagram.com/scam.queen/", 28, None, None),
        ("domain", "www.instagram.com", "www.instagram.com", 36, None, None),
        ("handle", "scam.queen", "scam.queen", 54, "instagram", None),
        ("url", "https://t.me/fastcash_ph", "https://t.me/fastcash_ph", 70, None, None),
        ("domain", "t.me", "t.me", 78, None, None),
        ("handle", "fastcash_ph", "fastcash_ph", 83, "telegram", None)]),
    ("call me at +1 (202) 555-0143 or 0917-123-4567 tomorrow", ("PH",), [
        ("phone", "+12025550143", "+1 (202) 555-0143", 11, None, None), ("phone", "+639171234567", "0917-123-4567", 32, None, "PH")]),
    ("Cel No.09171234567", ("PH",), [("phone", "+639171234567", "09171234567", 7, None, "PH")]),
    ("call me at +1 (202) 555-0143 or 0917-123-4567 tomorrow", (), [("phone", "+12025550143", "+1 (202) 555-0143", 11, None, None)]),
    ("visit HTTPS://Bit.LY/3xYz (safe) or fake-bank-login.com/verify now!", (), [
        ("url", "https://bit.ly/3xYz", "HTTPS://Bit.LY/3xYz", 6, None, None), ("domain", "bit.ly", "Bit.LY", 14, None, None),
        ("domain", "fake-bank-login.com", "fake-bank-login.com", 36, None, None),
        ("url", "fake-bank-login.com/verify", "fake-bank-login.com/verify", 36, None, None)]),
    ("fb https://www.facebook.com/profile.php?id=100004567891234 and wa.me/639171234567", (), [
        ("url", "https://www.facebook.com/profile.php?id=100004567891234", "https://www.facebook.com/profile.php?id=100004567891234", 3, None, None),
        ("domain", "www.facebook.com", "www.facebook.com", 11, None, None),
        ("account_id", "100004567891234", "100004567891234", 43, "facebook", None),
        ("domain", "wa.me", "wa.me", 63, None, None), ("url", "wa.me/639171234567", "wa.me/639171234567", 63, None, None),
        ("phone", "+639171234567", "639171234567", 69, "whatsapp", None)]),
    ("login at http://192.168.1.1:8080/admin.", (), [("url", "http://192.168.1.1:8080/admin", "http://192.168.1.1:8080/admin", 9, None, None)]),
    ("\u202etxet\u202c email\u00a0me: ana@example.org\x00", (), [("email", "ana@example.org", "ana@example.org", 17, None, None)]),
]


@pytest.mark.parametrize(("text", "regions", "expected"), POSITIVE)
def test_positive_corpus_gives_exact_rows(text: str, regions: tuple[str, ...], expected: list[tuple]) -> None:
    assert _rows(text, regions) == expected


NEAR_MISSES = [
    "Meet on 2023-10-15 or 15/10/2023 at 10:30:45, or 10.15.2023, or 2023/10/15 10:30",
    "Order #123456789 shipped; order no. 2023101512345; invoice INV-2023-000123",
    "Price PHP 15,000.00 or $500 or P1,500.50 or 1,234,567.89 or USD 2,500",
    "Tracking 1Z999AA10123456784 and LBC 123456789012 and USPS 9400111899223856928499",
    "ISBN 978-3-16-148410-0 and 9783161484100 and 0-306-40615-2",
    "ref 1234567890 for your order",  # ten digits, no MTCN label
    "mtcn 123456789 and MTCN 98765432101",  # labelled, but not ten digits
    "gcash 12345678 and maya 0917 123 456",  # labelled, but not a mobile number
    "moneygram 12345678",  # MoneyGram without "reference"
    "reference number 12345678",  # "reference" without MoneyGram
    "account 4111111111111112 please",  # 16 digits failing Luhn
    "price 4111 1111 1111 1112 and 0000 0000 0000 0000",
    "btc 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",  # one character changed
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5 and bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",  # bad checksum; mixed case
    "IBAN GB82 WEST 1234 5698 7654 33",  # wrong check
    "eth 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",  # EIP-55 checksum broken
    "tx 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed5aaeb6053f3e94c9b9a09f33",  # a 64-hex hash, not an address
    "update to 1.2.3.4 or v10.0.19045.3570, pi 3.14159265358",
    "call 12345 or 911 or 0917123 or 117",
    "file.txt report.pdf e.g. i.e. ok.so done.it image.jpeg",
    "time 12:30 pm, 2023-10-15T10:30:00Z, ts 1697365800 and 1697365800123",
    "@juan.cruz is here",  # a handle with no service named
    "ping 639171234567@s.whatsapp.net or ken.doh_khv@talk.kik.com",  # JIDs in text are not mailboxes
    "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u and T1111111111111111111111111111111111",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
@pytest.mark.parametrize("regions", [(), ("PH",), ("US",), ("GB", "PH")])
def test_hostile_near_misses_give_nothing(text: str, regions: tuple[str, ...]) -> None:
    assert _rows(text, regions) == []


def test_checksum_vectors_from_the_specifications() -> None:
    assert (base58check_version("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"), base58check_version("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),
            base58check_version("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"), base58check_version("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb")) == (0, 5, 0x41, None)
    # BIP 173 and BIP 350 valid mainnet addresses
    for address in ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
                    "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", "BC1SW50QGDZ25J",
"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"):
        assert segwit_valid(address), address
    # BIP 350 invalid: bech32 checksum on v1+, bech32m on v0, wrong hrp, bad program length
    for address in ("bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
                    "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "bc1pw5dgrnzv", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"):
        assert not segwit_valid(address), address
    for address in ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
                    "0x52908400098527886e0f7030069857d2e4169ee7", "0x52908400098527886E0F7030069857D2E4169EE7"):
        assert eip55_valid(address), address
    assert not eip55_valid("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDB")
    assert [card_scheme(n) for n in ("4111111111111111", "5555555555554444", "2221000000000009", "378282246310005", "6011111111111117",
                                     "3530111333300000", "30569309025904", "6200000000000005", "9783161484100", "1234567812345670")] == [
        "visa", "mastercard", "mastercard", "amex", "discover", "jcb", "diners", "unionpay", None, None]


@pytest.mark.parametrize(("text", "app", "field", "expected"), [
    ("639171234567@s.whatsapp.net", "WhatsApp", "sender_id", [
        ("account_id", "639171234567@s.whatsapp.net", "639171234567@s.whatsapp.net", 0, "whatsapp", None),
        ("phone", "+639171234567", "639171234567", 0, "whatsapp", None)]),
    ("123456789012345@lid", "WhatsApp", "sender_id", [("account_id", "123456789012345@lid", "123456789012345@lid", 0, "whatsapp", None)]),
    ("120363025246125244@g.us", "WhatsApp", "conversation_id", [
        ("group_id", "120363025246125244@g.us", "120363025246125244@g.us", 0, "whatsapp", None)]),
    ("user:2025550143", "Telegram", "sender_id", [("account_id", "2025550143", "user:2025550143", 0, "telegram", None)]),
    ("chat:-1001234567", "Telegram", "conversation_id", [("group_id", "chat:-1001234567", "chat:-1001234567", 0, "telegram", None)]),
    ("user:2025550143", "Snapchat", "sender_id", []),  # the user: form is Telegram's only
    ("2025550143", "Instagram", "sender_id", []),  # a numeric user id is no phone number, whatever the region
    ("2025550143", "Android SMS/MMS", "sender_id", [("phone", "+12025550143", "2025550143", 0, None, "US")]),
    ("2025550143", "Android SMS/MMS", "conversation_id", []),  # a thread number
    ("+639171234567", "Signal", "sender_id", [("phone", "+639171234567", "+639171234567", 0, None, None)]),
    ("tel:+1 202 555 0143", "Apple Messages (iMessage/SMS)", "recipients", [("phone", "+12025550143", "+1 202 555 0143", 4, None, None)]),
    ("Ana.Reyes@iCloud.com", "Apple Messages (iMessage/SMS)", "sender_id", [("email", "ana.reyes@icloud.com", "Ana.Reyes@iCloud.com", 0, None, None)]),
    ("status@broadcast", "WhatsApp", "conversation_id", []),
    ("19:bc94e0f43b30493d924cbc14864ad892@thread.skype", "Skype classic", "conversation_id", []),
    ("19:a1b2_c3d4@unq.gbl.spaces", "Microsoft Teams", "conversation_id", []),
    ("iMessage;-;jondoh2015@icloud.com", "Apple Messages (iMessage/SMS)", "conversation_id", [
        ("email", "jondoh2015@icloud.com", "jondoh2015@icloud.com", 11, None, None)]),
    ("Ken.Doh_khv@talk.kik.com", "Kik Messenger", "sender_id", [("account_id", "ken.doh_khv@talk.kik.com", "Ken.Doh_khv@talk.kik.com", 0, "kik", None)]),
    ("1100024090445_g@groups.kik.com", "Kik Messenger", "conversation_id", [
        ("group_id", "1100024090445_g@groups.kik.com", "1100024090445_g@groups.kik.com", 0, "kik", None)]),
])
def test_id_fields(text: str, app: str, field: str, expected: list[tuple]) -> None:
    assert _rows(text, ("US",), ID, app, field) == expected


def test_serials() -> None:
    assert _rows(" 123456789012\x00", field_class=SERIAL, field="body_serial") == [("camera_serial", "123456789012", "123456789012", 1, None, None)]
    assert _rows("0000c1234", field_class=SERIAL, field="lens_serial") == [("lens_serial", "0000c1234", "0000c1234", 0, None, None)]
    for placeholder in ("", "   ", "0000000000", "\x00\x00", "x" * 65, "SN\x07123"):
        assert _rows(placeholder, field_class=SERIAL, field="body_serial") == []


MIB = 1 << 20
TRIES = ["identifier_tries_exhausted"] * 3  # phonenumbers' own budget, once per region tried (none, PH, US)
ADVERSARIAL = [("a" * MIB, []), ("1" * MIB, []), ("a." * (MIB // 2), []), ("@a" * (MIB // 2), []), ("a@" * (MIB // 2), []),
               (" a" * (MIB // 2), []), ("-" * MIB, []), ("http://" + "(" * (MIB - 7), []), ("GB82 " * (MIB // 5), TRIES),
               ("0x" + "a" * (MIB - 2), []), ("bc1" + "q" * (MIB - 3), []), (("mtcn " * 10 + "1" * 30) * 1000, [])]


@pytest.mark.parametrize("index", range(len(ADVERSARIAL)))
def test_adversarial_megabyte_finishes_with_nothing(index: int) -> None:
    """Bounded classes and no nested quantifiers: each of these would take hours with a backtracking blow-up."""
    text, limits = ADVERSARIAL[index]
    assert len(text) <= MIB
    result = extract(text, Context(TEXT, ("PH", "US")))
    assert result.hits == ()
    assert [limit.kind for limit in result.limits] == limits


def test_budgets_are_reported() -> None:
    result = extract("x" * ((1 << 20) + 5), Context(TEXT))
    assert result.limits == (Limit("identifier_text_truncated", "only the first 1,048,576 of 1,048,581 characters were searched for identifiers"),)
    many = "\n".join(f"mail{n}@example.com" for n in range(1500))
    result = extract(many, Context(TEXT))
    assert len(result.hits) == 1000 and result.hits[-1].found.value == "mail999@example.com"
    assert result.limits == (Limit("identifier_limit", "more than 1,000 identifiers in one field: the first 1,000 were kept"),)
    digits = "1 " * (1 << 18)  # endless invalid phone candidates: phonenumbers' own budget runs out, and that is said
    result = extract(digits, Context(TEXT, ("US",)))
    assert result.hits == () and [limit.kind for limit in result.limits] == ["identifier_tries_exhausted", "identifier_tries_exhausted"]


def test_registry_declares_every_kind_it_emits() -> None:
    extractors = all_extractors()
    assert [e.name for e in extractors] == ["accounts", "devices", "crypto", "payments", "internet", "phones"]
    declared = {kind for e in extractors for kind in e.kinds}
    assert declared == set(IDENTIFIER_KINDS)
