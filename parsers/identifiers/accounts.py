"""Account and group ids in the id fields of chat stores (sender, recipients, conversation, account).

WhatsApp JIDs: `<digits>@s.whatsapp.net` (and the web client's `@c.us`) are an account whose id
is the phone number, so they give both an account_id and a phone (+digits, when valid);
`<id>@lid` is an account id that is not a phone number; `...@g.us` is a group. Telegram's
Android store names peers `user:<id>`, `chat:<id>` and `channel:<id>` (parsers/chat/telegram_android.py):
user ids are account ids, the others groups, and only in rows Telegram wrote. Kik JIDs
(`<username>_<3 characters>@talk.kik.com`, groups `<digits>_g@groups.kik.com`) look like e-mail
addresses but are accounts and groups. A field recognised
here is that and nothing else: no phone number is read out of a Telegram user id.
"""

from __future__ import annotations

import re
from typing import Iterator

import phonenumbers
from phonenumbers import NumberParseException

from parsers.identifiers.base import ID, Context, Extractor, Found

_WHATSAPP = re.compile(r"([0-9]{5,20})@(s\.whatsapp\.net|c\.us)", re.IGNORECASE)
_WHATSAPP_LID = re.compile(r"[0-9]{5,25}@lid", re.IGNORECASE)
_WHATSAPP_GROUP = re.compile(r"[0-9]{5,25}(?:-[0-9]{5,15})?@g\.us", re.IGNORECASE)
_KIK = re.compile(r"[a-z0-9._]{2,40}_[a-z0-9]{3}@talk\.kik\.com", re.IGNORECASE)
_KIK_GROUP = re.compile(r"[0-9]{5,25}_g@groups\.kik\.com", re.IGNORECASE)
_TELEGRAM = re.compile(r"(user|chat|channel):(-?[0-9]{1,20})")


class Accounts(Extractor):
    name = "accounts"
    version = "1"
    kinds = ("account_id", "group_id", "phone")
    field_classes = (ID,)
    priority = 5
    exclusive = True

    def find(self, text: str, context: Context) -> Iterator[Found]:
        value = text.strip()
        start = text.find(value) if value else 0
        if (match := _WHATSAPP.fullmatch(value)) is not None:
            yield Found("account_id", value.lower(), value, start, service="whatsapp")
            digits = match.group(1)
            try:
                number = phonenumbers.parse("+" + digits, None)
            except NumberParseException:
                return
            if phonenumbers.is_valid_number(number):
                yield Found("phone", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), digits, start, service="whatsapp")
        elif _WHATSAPP_LID.fullmatch(value):
            yield Found("account_id", value.lower(), value, start, service="whatsapp")
        elif _WHATSAPP_GROUP.fullmatch(value):
            yield Found("group_id", value.lower(), value, start, service="whatsapp")
        elif _KIK.fullmatch(value):
            yield Found("account_id", value.lower(), value, start, service="kik")
        elif _KIK_GROUP.fullmatch(value):
            yield Found("group_id", value.lower(), value, start, service="kik")
        elif (match := _TELEGRAM.fullmatch(value)) is not None and (context.app or "").startswith("Telegram"):
            kind = "account_id" if match.group(1) == "user" else "group_id"
            ident = match.group(2) if kind == "account_id" else value
            yield Found(kind, ident, value, start, service="telegram")


EXTRACTOR = Accounts()
