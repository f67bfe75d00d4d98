"""A dfVFS path spec as text and back: the one form in which a location travels between the scan,
the walkers, the workers and the output rows (so that no module has to import the scan for it)."""

from __future__ import annotations

from dfvfs.path.path_spec import PathSpec
from dfvfs.serializer.json_serializer import JsonPathSpecSerializer


def serialize(path_spec: PathSpec) -> str:
    return JsonPathSpecSerializer.WriteSerialized(path_spec)


def deserialize(text: str) -> PathSpec:
    return JsonPathSpecSerializer.ReadSerialized(text)
