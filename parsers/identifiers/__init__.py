"""Identifiers in text: phone numbers, e-mail addresses, URLs, handles, payment and crypto
identifiers, device serials. Pure library code: text in, typed records out (see registry.extract)."""
