"""Artefact parsers (chat logs, media metadata): one artefact in, typed records out; never imports dfvfs."""
