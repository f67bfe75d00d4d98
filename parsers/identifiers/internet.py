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
from urllib.parse import urlsplit

import phonenumbers
from phonenumbers import NumberParseException

from parsers.identifiers.base import ID, TEXT, Context, Extractor, Found, Spans, labelled

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


_WA_NUMBER = re.compile(r"(\+?[0-9]{1,15}(?:[ .-]?[0-9]{1,15}){0,6})")
_WA_GROUP_END = re.compile(r"[0-9](?=[ .-]|$)")


def _authority(raw: str, host: str) -> tuple[int, int]:
    """(offset of the host, offset where the path starts) in a URL as written."""
    begin = raw.find("://") + 3 if "://" in raw else 0
    ends = [i for i in (raw.find(c, begin) for c in "/?#") if i >= 0]
    path_at = min(ends, default=len(raw))
    authority = raw[begin:path_at]
    offset = begin + authority.rfind("@") + 1  # past any user:password@
    if raw[offset:offset + len(host)].lower() != host:
        offset = begin + authority.lower().find(host)  # urlsplit's host is that text lower-cased; this is a fallback only
    return offset, path_at


def _segments(raw: str, begin: int, end: int) -> list[tuple[int, str]]:
    """(offset, text) of every non-empty path segment between begin and end."""
    found, at = [], begin
    for part in raw[begin:end].split("/"):
        if part:
            found.append((at, part))
        at += len(part) + 1
    return found


def _query_value(raw: str, begin: int, key: str) -> tuple[int, int] | None:
    """(start, end) in the URL of the first `key=` value of its query, as written."""
    end = min((i for i in (raw.find("#", begin),) if i >= 0), default=len(raw))
    at = begin
    for pair in raw[begin:end].split("&"):
        name, sep, _ = pair.partition("=")
        if sep and name == key:
            return at + len(name) + 1, at + len(pair)
        at += len(pair) + 1
    return None


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
        taken = Spans()
        if context.field_class == TEXT:
            for pattern in (_SCHEMED, _BARE):
                for match in pattern.finditer(text):
                    if taken.overlaps(match.start(), match.end()):
                        continue
                    raw = trim_url(match.group())
                    found = list(self._url(raw, match.start(), text))
                    if found:
                        taken.add(match.start(), match.start() + len(raw))
                        yield from found
        for found in emails_in(text):
            if not taken.overlaps(found.start, found.end):
                taken.add(found.start, found.end)
                yield found
        if context.field_class == TEXT:
            yield from self._labelled_handles(text)

    def _url(self, raw: str, start: int, text: str) -> Iterator[Found]:
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
        offset, path_at = _authority(raw, host)
        yield Found("domain", host, raw[offset:offset + len(host)], start + offset)
        yield from self._profile(raw, start, host, path_at, text)

    def _profile(self, raw: str, start: int, host: str, path_at: int, text: str) -> Iterator[Found]:
        """A handle or account id named by a profile link; offsets are where the path and query hold them, never a search."""
        bare = host.removeprefix("www.").removeprefix("m.").removeprefix("mobile.")
        service = _HOSTS.get(bare)
        if service is None:
            return
        path_end = min((i for i in (raw.find("?", path_at), raw.find("#", path_at)) if i >= 0), default=len(raw))
        segments = _segments(raw, path_at, path_end)
        query_at = path_end + 1 if raw[path_end:path_end + 1] == "?" else -1
        if service == "whatsapp":
            if bare == "wa.me" and segments:
                yield from self._wa_phone(text, start + segments[0][0], whole_text=True)
            elif query_at >= 0:
                at = _query_value(raw, query_at, "phone")
                if at is not None:
                    yield from self._wa_phone(raw[:at[1]], at[0], whole_text=False, base=start)
            return
        if service == "facebook" and segments[:1] and segments[0][1] == "profile.php":
            at = _query_value(raw, query_at, "id") if query_at >= 0 else None
            if at is not None:
                ident = raw[at[0]:at[1]]
                if ident.isdigit() and 5 <= len(ident) <= 20:
                    yield Found("account_id", ident, ident, start + at[0], service="facebook")
            return
        if not segments:
            return
        offset, name = segments[0]
        if service == "tiktok":
            if not name.startswith("@"):
                return
            offset, name = offset + 1, name[1:]
        elif service == "instagram" and name == "stories" and len(segments) > 1:
            offset, name = segments[1]
        elif service == "telegram" and name == "s" and len(segments) > 1:
            offset, name = segments[1]
        if name.lower() in _RESERVED.get(service, ()) or not _USERNAME[service].fullmatch(name):
            return
        yield Found("handle", name.lower(), name, start + offset, service=service)

    def _wa_phone(self, text: str, at: int, whole_text: bool, base: int = 0) -> Iterator[Found]:
        """The phone number a WhatsApp link names: `wa.me/<number>` (read on past the URL, for
        "wa.me/+63 917 123 4567" is one number with spaces) or `api.whatsapp.com/send?phone=<number>`.
        The number is written with its country code, + or not (WhatsApp's rule), so no region is used."""
        match = _WA_NUMBER.match(text, at)
        if match is None:
            return
        groups = match.group(1)
        # The longest run of digit groups that is a valid number: "wa.me/639171234567 5 apples" stops before the 5.
        for end in sorted({m.end() for m in _WA_GROUP_END.finditer(groups)}, reverse=True):
            raw = groups[:end]
            digits = "".join(c for c in raw if c.isdigit())
            if not 7 <= len(digits) <= 15:
                continue
            following = text[match.start(1) + end:match.start(1) + end + 1]
            if following.isalnum():
                continue
            try:
                number = phonenumbers.parse("+" + digits, None)
            except NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                yield Found("phone", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), raw,
                            base + match.start(1), service="whatsapp")
                return
            if not whole_text:
                return

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
