"""Enum values of the spec by friendly name.

Every enum of spec.proto is accepted by its value name, case-insensitively,
with or without the type's prefix: "relu", "RELU" and "ACTIVATION_RELU" all
mean ACTIVATION_RELU. The builders use this, and so does ``to_spec`` for
dicts and JSON (protobuf's own JSON parser wants the full upper-case name).
An unknown name raises InvalidSpec naming the field and listing the valid
names.
"""

from typing import Any, Dict, Union

from google.protobuf import descriptor as _descriptor

from nnft import errors


def _prefix(enum_desc: _descriptor.EnumDescriptor) -> str:
    """The common prefix of the value names: "ACTIVATION_" for Activation
    (taken from the *_UNSPECIFIED value, which every enum of the API has)."""
    for v in enum_desc.values:
        if v.name.endswith("_UNSPECIFIED"):
            return v.name[:-len("UNSPECIFIED")]
    return ""


def short_names(enum_desc: _descriptor.EnumDescriptor) -> list:
    """The valid names without prefix, lower case, UNSPECIFIED left out
    (Job.State's values carry no prefix: "queued", "running", ...)."""
    p = _prefix(enum_desc)
    return [v.name.removeprefix(p).lower() for v in enum_desc.values
            if v.number != 0]


def enum_value(enum_desc: _descriptor.EnumDescriptor, value: Union[int, str],
               field: str) -> int:
    """The number of ``value`` (an int, or a name as described above) in the
    enum ``enum_desc``; InvalidSpec naming ``field`` when unknown."""
    if isinstance(value, bool):
        raise errors.InvalidSpec("%s = %r: expected a name, one of %s" % (
            field, value, ", ".join(short_names(enum_desc))))
    if isinstance(value, int):
        if value in enum_desc.values_by_number:
            return value
    else:
        name = str(value).strip().upper().replace("-", "_")
        p = _prefix(enum_desc)
        for candidate in (name, p + name):
            v = enum_desc.values_by_name.get(candidate)
            if v is not None:
                return v.number
    raise errors.InvalidSpec("%s = %r: must be one of %s" % (
        field, value, ", ".join(short_names(enum_desc))))


def normalize_dict(data: Dict[str, Any], desc: _descriptor.Descriptor,
                   where: str = "") -> Dict[str, Any]:
    """A copy of a JSON-form dict with every enum value written by its full
    name, so protobuf's parser takes friendly names. Unknown keys are kept
    for the parser to report."""
    if not isinstance(data, dict):
        return data
    by_name = {}
    for f in desc.fields:
        by_name[f.name] = f
        by_name[f.json_name] = f
    out = {}
    for key, value in data.items():
        f = by_name.get(key)
        path = "%s.%s" % (where, key) if where else key
        if f is None or value is None:
            out[key] = value
        elif f.type == f.TYPE_ENUM:
            out[key] = _enum_json(f.enum_type, value, path)
        elif f.type == f.TYPE_MESSAGE and not _is_map(f):
            if isinstance(value, list):
                out[key] = [normalize_dict(v, f.message_type,
                                           "%s[%d]" % (path, i))
                            for i, v in enumerate(value)]
            else:
                out[key] = normalize_dict(value, f.message_type, path)
        else:
            out[key] = value
    return out


def _is_map(f: _descriptor.FieldDescriptor) -> bool:
    m = f.message_type
    return m is not None and m.GetOptions().map_entry


def _enum_json(enum_desc, value, path):
    if isinstance(value, list):
        return [_enum_json(enum_desc, v, "%s[%d]" % (path, i))
                for i, v in enumerate(value)]
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return enum_desc.values_by_number[
            enum_value(enum_desc, value, path)].name
    return value
