"""URLs, domains, e-mail addresses and social-media handles and account ids.

A URL is text that starts with a scheme (http, https, ftp) or www., or a bare host with a known
top-level domain followed by a path; a bare host with no path is a domain only. Trailing
punctuation that closes a sentence is not part of a URL. A handle is taken only where the text
says which service it belongs to: a profile link (instagram.com/NAME, t.me/NAME, x.com/NAME,
tiktok.com/@NAME, facebook.com/NAME) or a service name just before an @NAME ("IG: @name").

Every pattern is a single pass of bounded character classes (no nested quantifiers), so the time
spent is linear in the text's length whatever the text holds.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import phonenumbers
from phonenumbers import NumberParseException

from parsers.identifiers.base import ID, TEXT, Context, Extractor, Found, labelled

# Top-level domains a bare host (no scheme) may end in: common generic ones and the country codes
# of the region this work meets most; left out are those that are also everyday words or file
# extensions (it, is, so, me, to, in, at, be, do, no, us, txt, ...). A URL with a scheme has no such limit.
BARE_TLDS = ("com", "net", "org", "info", "biz", "xyz", "online", "site", "shop", "store", "top", "app", "io", "co", "ph", "uk", "ca",
             "au", "sg", "my", "vn", "th", "jp", "cn", "hk", "tw", "ru", "de", "fr", "nl", "es", "gov", "edu", "club", "live", "link",
             "click", "vip", "cc", "ly", "gg", "tv", "ws")
ME_HOSTS = frozenset({"paypal.me", "t.me", "telegram.me", "wa.me"})  # ".me" is a word: only these hosts are taken bare

_SCHEMED = re.compile(r"(?<![\w@.])(?:(?:https?|ftp)://|www\.)[^\s<>\"'`\x00-\x1f\x7f]{1,2048}", re.IGNORECASE)
_BARE = re.compile(r"(?<![\w.@/:%+-])[a-z0-9][a-z0-9.-]{0,252}\.(?:" + "|".join(BARE_TLDS + ("me",)) + r")(?![\w-]|\.\w)(?:/[^\s<>\"'`\x00-\x1f\x7f]{0,2048})?",
                   re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.%+-])(?:mailto:)?([\w.%+-]{1,64}@[a-z0-9.-]{1,253})", re.IGNORECASE)
_LABEL = re.compile(r"(?<![a-z])(ig|insta|instagram|telegram|tg|twitter|tiktok)(?![a-z])", re.IGNORECASE)
_AT_HANDLE = re.compile(r"(?<![\w@.])@([A-Za-z0-9_][A-Za-z0-9_.]{0,29})")
_LABEL_SERVICE = {"ig": "instagram", "insta": "instagram", "instagram": "instagram", "telegram": "telegram", "tg": "telegram",
                  "twitter": "twitter", "tiktok": "tiktok"}
_TRAILING = ".,;:!?'\")]}>"
# Chat ids shaped like addresses: WhatsApp and Kik JIDs, Skype and Teams thread ids ("19:...@thread.skype").
_JID_DOMAINS = ("whatsapp.net", "g.us", "c.us", "lid", "broadcast", "talk.kik.com", "groups.kik.com", "thread.skype", "thread.tacv2",
                "thread.v2", "unq.gbl.spaces")

_HOSTS = {"instagram.com": "instagram", "t.me": "telegram", "telegram.me": "telegram", "twitter.com": "twitter", "x.com": "twitter",
          "tiktok.com": "tiktok", "facebook.com": "facebook", "fb.com": "facebook", "wa.me": "whatsapp", "api.whatsapp.com": "whatsapp"}
_RESERVED = {
    "instagram": {"p", "reel", "reels", "tv", "explore", "accounts", "direct", "about", "developer", "legal", "stories", "web"},
    "telegram": {"joinchat", "addstickers", "addemoji", "share", "s", "c", "proxy", "socks", "iv", "login", "setlanguage"},
    "twitter": {"home", "i", "intent", "search", "hashtag", "share", "explore", "settings", "messages", "notifications", "login", "tos", "privacy"},
    "facebook": {"groups", "pages", "events", "watch", "share", "sharer", "sharer.php", "login", "login.php", "photo.php", "story.php",
                 "permalink.php", "marketplace", "people", "dialog", "plugins", "hashtag", "help", "policies", "profile.php", "reel", "photo",
                 "video.php", "media", "gaming", "home.php", "messages", "l.php", "privacy", "settings", "friends", "notifications"},
}
_USERNAME = {"instagram": re.compile(r"[A-Za-z0-9._]{1,30}"), "telegram": re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}"),
             "twitter": re.compile(r"[A-Za-z0-9_]{1,15}"), "tiktok": re.compile(r"[A-Za-z0-9._]{2,24}"),
             "facebook": re.compile(r"[A-Za-z0-9.]{5,50}")}


def trim_url(raw: str) -> str:
    """Drop punctuation that ends the sentence rather than the URL; a ')' stays when the URL opened one."""
    while raw and raw[-1] in _TRAILING:
        if raw[-1] == ")" and raw.count("(") >= raw.count(")"):
            break
        raw = raw[:-1]
    return raw


def valid_host(host: str) -> bool:
    """A DNS name of at least two labels whose last label is alphabetic (or punycode): not an IP, not a version string."""
    labels = host.split(".")
    if len(labels) < 2 or len(host) > 253:
        return False
    if any(not label or len(label) > 63 or label[0] == "-" or label[-1] == "-" for label in labels):
        return False
    tld = labels[-1]
    return (tld.isascii() and tld.isalpha() and len(tld) >= 2) or tld.startswith("xn--")


def _host_of(url: str) -> str | None:
    try:
        host = urlsplit(url if "://" in url else "http://" + url).hostname
    except ValueError:
        return None  # an unparseable authority (a lone '[') is no URL
    return host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def normal_url(raw: str) -> str:
    """Scheme and host lower-cased, the rest as written."""
    scheme, sep, rest = raw.partition("://")
    if not sep:
        scheme, rest = "", raw
    host, slash, path = rest.partition("/")
    return (scheme.lower() + "://" if sep else "") + host.lower() + slash + path


def email_at(raw: str, start: int) -> Found | None:
    """The e-mail address a candidate holds once stray dots are trimmed, or None."""
    local, _, domain = raw.partition("@")
    while domain and domain[-1] in ".-":
        domain = domain[:-1]
    while local and local[0] == ".":
        local, start = local[1:], start + 1
    if not local or local.endswith(".") or ".." in local or not valid_host(domain):
        return None
    lowered = domain.lower()
    if any(lowered == jid or lowered.endswith("." + jid) for jid in _JID_DOMAINS):
        return None  # a chat id (a JID, a thread id), not a mailbox
    raw = f"{local}@{domain}"
    return Found("email", raw.lower(), raw, start)


def emails_in(text: str) -> Iterator[Found]:
    """Every e-mail address in the text (chat ids shaped like addresses are not mailboxes and are left out)."""
    for match in _EMAIL.finditer(text):
        found = email_at(match.group(1), match.start(1))
        if found is not None:
            yield found


class Internet(Extractor):
    name = "internet"
    version = "1"
    kinds = ("url", "domain", "email", "handle", "account_id", "phone")
    field_classes = (TEXT, ID)
    priority = 30

    def find(self, text: str, context: Context) -> Iterator[Found]:
        taken: list[tuple[int, int]] = []
        if context.field_class == TEXT:
            for pattern in (_SCHEMED, _BARE):
                for match in pattern.finditer(text):
                    if any(match.start() < end and start < match.end() for start, end in taken):
                        continue
                    raw = trim_url(match.group())
                    found = list(self._url(raw, match.start()))
                    if found:
                        taken.append((match.start(), match.start() + len(raw)))
                        yield from found
        for found in emails_in(text):
            if not any(found.start < end and start < found.end for start, end in taken):
                taken.append((found.start, found.end))
                yield found
        if context.field_class == TEXT:
            yield from self._labelled_handles(text)

    def _url(self, raw: str, start: int) -> Iterator[Found]:
        """A URL names a DNS host (a bare one with a known top-level domain) or, with a scheme, an IP address."""
        host = _host_of(raw)
        schemed = "://" in raw or raw.lower().startswith("www.")
        if not host or not (valid_host(host) or (schemed and _is_ip(host))):
            return
        if not schemed and host.rsplit(".", 1)[-1] == "me" and host.removeprefix("www.") not in ME_HOSTS:
            return
        if schemed or "/" in raw:
            yield Found("url", normal_url(raw), raw, start)
        if not valid_host(host):
            return  # an IP address is no domain
        offset = raw.lower().find(host)
        yield Found("domain", host, raw[offset:offset + len(host)], start + offset)
        yield from self._profile(raw, start, host)

    def _profile(self, raw: str, start: int, host: str) -> Iterator[Found]:
        """A handle or account id named by a profile link."""
        bare = host.removeprefix("www.").removeprefix("m.").removeprefix("mobile.")
        service = _HOSTS.get(bare)
        if service is None:
            return
        try:
            parts = urlsplit(raw if "://" in raw else "http://" + raw)
        except ValueError:
            return
        segments = [s for s in parts.path.split("/") if s]
        query = parse_qs(parts.query)
        if service == "whatsapp":
            digits = segments[0] if bare == "wa.me" and segments else (query.get("phone") or [""])[0]
            yield from self._wa_phone(raw, start, digits)
            return
        if service == "facebook" and segments[:1] == ["profile.php"]:
            ident = (query.get("id") or [""])[0]
            offset = raw.find("id=" + ident) + 3
            if ident.isdigit() and 5 <= len(ident) <= 20 and offset >= 3:
                yield Found("account_id", ident, ident, start + offset, service="facebook")
            return
        if not segments:
            return
        name = segments[0]
        if service == "tiktok":
            if not name.startswith("@"):
                return
            name = name[1:]
        elif service == "instagram" and name == "stories" and len(segments) > 1:
            name = segments[1]
        elif service == "telegram" and name == "s" and len(segments) > 1:
            name = segments[1]
        if name.lower() in _RESERVED.get(service, ()) or not _USERNAME[service].fullmatch(name):
            return
        offset = raw.find(name)
        yield Found("handle", name.lower(), raw[offset:offset + len(name)], start + offset, service=service)

    def _wa_phone(self, raw: str, start: int, digits: str) -> Iterator[Found]:
        if not digits.isdigit() or not 7 <= len(digits) <= 15:
            return
        try:
            number = phonenumbers.parse("+" + digits, None)
        except NumberParseException:
            return
        if phonenumbers.is_valid_number(number):
            offset = raw.find(digits)
            yield Found("phone", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), digits, start + offset,
                        service="whatsapp")

    def _labelled_handles(self, text: str) -> Iterator[Found]:
        for match in _AT_HANDLE.finditer(text):
            name = match.group(1).rstrip(".")
            label = labelled(text, match.start(), match.end(), _LABEL, before=30, after=0)
            if label is None or not name:
                continue
            service = _LABEL_SERVICE[label.group(1).lower()]
            if not _USERNAME[service].fullmatch(name):
                continue
            yield Found("handle", name.lower(), "@" + name, match.start(), service=service)


EXTRACTOR = Internet()
