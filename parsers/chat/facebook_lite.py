"""Facebook Lite for Android (`com.facebook.lite`): its databases are named so that none vanishes.

No public source found documents a local message store of Facebook Lite, nor any schema of its
databases (searched: forensic blogs and papers, ALEAPP/iLEAPP, GitHub code and issues; see
docs/chat-schema-apps3.md). What is public:
- `files/PropertiesStore_v02` holds the session (cookies and an access token), as several public
  account-automation scripts read it; none of them treats it as a message store or as SQLite.
- One public listing of an Android phone's databases (University of Ljubljana FRI, "Mobile Device
  Forensics" lab, Samsung Galaxy Ace image) shows only `databases/webview.db` and
  `databases/webviewCache.db` under `com.facebook.lite`: the Android WebView's own caches.

So this parser reads nothing: it declares every `*.db` under the app's `databases/` folder (but the
two WebView caches above), and the driver reports each such SQLite database as
`schema_unrecognised` with its schema fingerprint and table names, so an examiner sees that the app
kept a store and what shape it has, instead of it vanishing. A database there whose schema another
parser knows is read by that parser as usual.
"""

from __future__ import annotations

import fnmatch

from parsers.chat.base import SqliteChatParser

WEBVIEW_CACHES = ("*/com.facebook.lite/databases/webview.db", "*/com.facebook.lite/databases/webviewcache.db")


class FacebookLite(SqliteChatParser):
    name = "facebook_lite"
    version = "1"
    app = "Facebook Lite"
    platform = "Android"
    paths = ("*/com.facebook.lite/databases/*.db",)
    variants = ()
    schema_undocumented = True

    def path_matches(self, path: str) -> bool:
        lowered = path.lower()
        if any(fnmatch.fnmatchcase(lowered, pattern) for pattern in WEBVIEW_CACHES):
            return False  # the WebView's caches, documented as such: not the app's own store
        return super().path_matches(path)


PARSER = FacebookLite()
