"""Turning what a user passes as a spec into an ``nnft.v1.ExperimentSpec``.

A spec may be the generated message, a dict in protobuf's JSON form (field
names in snake_case or lowerCamelCase, enums by name: "relu", "RELU" or
"ACTIVATION_RELU"), a path to a JSON file, or JSON text. The same JSON file works with the C++ CLI and the Node client.
"""

import json
import os

from google.protobuf import json_format

from nnft import enums, errors
from nnft.v1 import spec_pb2


def to_spec(spec):
    """An ExperimentSpec message from a message, dict, JSON path or JSON text.

    Raises errors.InvalidSpec naming the file (if any) and the parser's
    message, which names the field.
    """
    if isinstance(spec, spec_pb2.ExperimentSpec):
        return spec
    if isinstance(spec, dict):
        return _from_dict(spec, "spec")
    if isinstance(spec, (str, bytes, os.PathLike)):
        text = os.fsdecode(spec) if not isinstance(spec, str) else spec
        if text.lstrip().startswith("{"):
            return _from_dict(_loads(text, "spec text"), "spec text")
        try:
            with open(text, encoding="utf-8") as f:
                data = f.read()
        except OSError as err:
            raise errors.InvalidSpec("spec file %s: %s" % (text, err.strerror))
        return _from_dict(_loads(data, text), text)
    raise errors.InvalidSpec(
        "spec: expected an ExperimentSpec, a dict or a JSON file path, got %s"
        % type(spec).__name__)


def to_dict(spec):
    """The JSON form (a dict with lowerCamelCase names) of a spec."""
    return json_format.MessageToDict(to_spec(spec))


def _loads(text, where):
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise errors.InvalidSpec("%s: malformed JSON: %s" % (where, err))


def _from_dict(data, where):
    if not isinstance(data, dict):
        raise errors.InvalidSpec("%s: the top level must be a JSON object" %
                                 where)
    data = enums.normalize_dict(data, spec_pb2.ExperimentSpec.DESCRIPTOR)
    try:
        return json_format.ParseDict(data, spec_pb2.ExperimentSpec())
    except json_format.ParseError as err:
        raise errors.InvalidSpec("%s: %s" % (where, err))
