"""Case-level work over the sealed exhibits of one case (hash sets, and later query, search, timeline).

Imports run one way: ingest -> case -> parsers -> manifests; nothing here touches dfVFS or pytsk3.
"""
