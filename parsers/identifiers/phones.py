"""Phone numbers, parsed and validated by the phonenumbers library (Google's libphonenumber
metadata) and written in E.164.

A number written with + (or, under a default region, with that region's international prefix or
its country code) is taken as it stands. A national number ("0917 123 4567") is resolved only
against the configured default regions, in their order, and the region used is recorded; with no
default region it is not guessed. Only numbers the metadata says are valid for their region are
kept (phonenumbers' VALID leniency), which leaves out dates, times, prices and short codes.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator

import phonenumbers
from phonenumbers import CountryCodeSource, Leniency, NumberParseException, PhoneNumberMatcher

from parsers.identifiers.base import ID, TEXT, Context, Extractor, Found, Limit, Spans

MAX_TRIES = 65535  # candidates the matcher may try in one field (its own budget)

# Apps whose participant ids are phone numbers as the phone stored them, so an id without + is a
# national number (an SMS sender "09171234567"); other apps' numeric ids are user ids, never phones.
# A conversation id is a thread number even there: it is a phone number only when written with +.
TELEPHONY_APPS = frozenset({"Android call log", "Android SMS/MMS", "Apple Messages (iMessage/SMS)", "Burner", "Google Messages",
                            "Google Voice", "iOS Voicemail", "TextNow"})

PARTICIPANT_FIELDS = frozenset({"sender_id", "recipients", "account_id"})

_ID_NUMBER = re.compile(r"(?:tel:)?(\+?[0-9][0-9 ().-]{3,30})", re.IGNORECASE)
_WRITTEN_COUNTRY = (CountryCodeSource.FROM_NUMBER_WITH_PLUS_SIGN, CountryCodeSource.FROM_NUMBER_WITH_IDD,
                    CountryCodeSource.FROM_NUMBER_WITHOUT_PLUS_SIGN)


def e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def supported_region(region: str) -> bool:
    """A region code phonenumbers has metadata for (e.g. PH, US, GB)."""
    return region in phonenumbers.SUPPORTED_REGIONS


def _standalone(text: str, start: int, end: int) -> bool:
    """Not part of a longer token: an invoice "INV-2023-000123", a path "/2023/10/15", a "#20230001" order,
    the local part of an address or JID "639171234567@..." (a JID in an id field is read by accounts)."""
    before = text[start - 1] if start > 0 else " "
    after = text[end:end + 2]
    if before.isalnum() or before in "-/#_=&@":
        return False
    if before == "." and start > 1 and text[start - 2].isdigit():
        return False  # the decimals of 3.14159265358 or the tail of a version string; "No.09171234567" is a label

    following = after[:1]
    if not following:
        return True
    return not (following.isalnum() or following in "_@" or (following in "-/." and after[1:2].isdigit()))


def numbers_in(text: str, regions: Iterable[str | None]) -> Iterator[tuple[int, str, phonenumbers.PhoneNumber, str | None] | Limit]:
    """(start, raw, number, region resolved against) for every valid number, regions tried in order;
    a later region never takes a span an earlier one found. A Limit when the matcher's budget ran out."""
    taken = Spans()
    for region in regions:
        matcher = PhoneNumberMatcher(text, region, leniency=Leniency.VALID, max_tries=MAX_TRIES)
        for match in matcher:
            if taken.overlaps(match.start, match.end) or not _standalone(text, match.start, match.end):
                continue
            if region is None and not match.raw_string.startswith("+"):
                continue  # without a region only a number written with + says its country
            taken.add(match.start, match.end)
            # The matcher drops how the country was known; parsing its text again with the raw input kept tells.
            written = region is None or phonenumbers.parse(match.raw_string, region, keep_raw_input=True).country_code_source in _WRITTEN_COUNTRY
            yield match.start, match.raw_string, match.number, None if written else region
        if getattr(matcher, "_max_tries", 1) <= 0:  # the library stops quietly after max_tries invalid candidates
            yield Limit("identifier_tries_exhausted", f"phone numbers: the matcher tried {MAX_TRIES:,} invalid candidates"
                        f"{'' if region is None else ' for region ' + region} and stopped; numbers after that point were not searched")


class Phones(Extractor):
    name = "phones"
    version = "1"
    kinds = ("phone",)
    field_classes = (TEXT, ID)
    priority = 90
    yields = True

    def find(self, text: str, context: Context) -> Iterator[Found | Limit]:
        if context.field_class == ID:
            yield from self._whole_id(text, context)
            return
        for item in numbers_in(text, (None, *context.regions)):
            if isinstance(item, Limit):
                yield item
                continue
            start, raw, number, region = item
            yield Found("phone", e164(number), raw, start, region=region)

    def _whole_id(self, text: str, context: Context) -> Iterator[Found]:
        """An id field is a phone number only when all of it is one (Telegram's numeric user ids are not)."""
        match = _ID_NUMBER.fullmatch(text.strip())
        if match is None:
            return
        raw = match.group(1).rstrip()
        start = text.index(raw)
        if raw.startswith("+"):
            regions: tuple[str | None, ...] = (None,)
        elif context.app in TELEPHONY_APPS and context.field in PARTICIPANT_FIELDS:
            regions = context.regions
        else:
            return
        for region in regions:
            try:
                number = phonenumbers.parse(raw, region, keep_raw_input=True)
            except NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                written = number.country_code_source in _WRITTEN_COUNTRY
                yield Found("phone", e164(number), raw, start, region=None if written else region)
                return


EXTRACTOR = Phones()
