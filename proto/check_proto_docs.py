#!/usr/bin/python3
"""Counts the undocumented elements of the nnft protos and fails above zero.

Every service, RPC, message (nested ones too), field, oneof, enum and enum
value must carry a comment: a leading comment (the lines directly above it)
or a trailing one (on its line, or the lines directly after it), as protoc
attaches them in SourceCodeInfo. Detached comments (separated by a blank
line) do not count. The protos are compiled by protoc with
--include_source_info, so the check sees exactly what protoc sees.

Usage: check_proto_docs.py [--protoc PROTOC] --proto_path DIR FILE.proto...
(FILE relative to DIR). Exit status 0 when every element is documented, 1
otherwise (the offenders are printed, one per line, as file:line: kind name).
"""

import argparse
import os
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2

# Field numbers of the descriptor messages, as in descriptor.proto.
FILE_MESSAGE, FILE_ENUM, FILE_SERVICE = 4, 5, 6
MESSAGE_FIELD, MESSAGE_NESTED, MESSAGE_ENUM, MESSAGE_ONEOF = 2, 3, 4, 8
ENUM_VALUE = 2
SERVICE_METHOD = 2


def elements(file_proto):
    """Yields (path, kind, full name) of every element that needs a comment."""
    package = file_proto.package

    def enum_elements(enum, path, prefix):
        name = f"{prefix}.{enum.name}"
        yield path, "enum", name
        for i, value in enumerate(enum.value):
            yield path + (ENUM_VALUE, i), "enum value", f"{name}.{value.name}"

    def message_elements(message, path, prefix):
        name = f"{prefix}.{message.name}"
        yield path, "message", name
        for i, field in enumerate(message.field):
            yield path + (MESSAGE_FIELD, i), "field", f"{name}.{field.name}"
        for i, oneof in enumerate(message.oneof_decl):
            # proto3 `optional` fields sit in synthetic oneofs: not written.
            if oneof.name.startswith("_") and all(
                    f.proto3_optional for f in message.field
                    if f.HasField("oneof_index") and f.oneof_index == i):
                continue
            yield path + (MESSAGE_ONEOF, i), "oneof", f"{name}.{oneof.name}"
        for i, nested in enumerate(message.nested_type):
            if nested.options.map_entry:
                continue
            yield from message_elements(nested, path + (MESSAGE_NESTED, i),
                                        name)
        for i, enum in enumerate(message.enum_type):
            yield from enum_elements(enum, path + (MESSAGE_ENUM, i), name)

    for i, message in enumerate(file_proto.message_type):
        yield from message_elements(message, (FILE_MESSAGE, i), package)
    for i, enum in enumerate(file_proto.enum_type):
        yield from enum_elements(enum, (FILE_ENUM, i), package)
    for i, service in enumerate(file_proto.service):
        name = f"{package}.{service.name}"
        yield (FILE_SERVICE, i), "service", name
        for j, method in enumerate(service.method):
            yield ((FILE_SERVICE, i, SERVICE_METHOD, j), "rpc",
                   f"{name}.{method.name}")


def undocumented(file_set, files):
    """Returns (offenders, total): offenders as 'file:line: kind name'."""
    offenders, total = [], 0
    for file_proto in file_set.file:
        if file_proto.name not in files:
            continue
        locations = {
            tuple(loc.path): loc for loc in file_proto.source_code_info.location
        }
        for path, kind, name in elements(file_proto):
            total += 1
            loc = locations.get(path)
            if loc is not None and (loc.leading_comments.strip() or
                                    loc.trailing_comments.strip()):
                continue
            line = loc.span[0] + 1 if loc is not None else 0
            offenders.append(f"{file_proto.name}:{line}: {kind} {name}")
    return offenders, total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protoc", default="protoc")
    parser.add_argument("--proto_path", required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "set.pb")
        subprocess.run([
            args.protoc, f"--proto_path={args.proto_path}",
            "--include_source_info", f"--descriptor_set_out={out}", *args.files
        ],
                       check=True)
        file_set = descriptor_pb2.FileDescriptorSet()
        with open(out, "rb") as f:
            file_set.ParseFromString(f.read())

    missing = set(args.files) - {f.name for f in file_set.file}
    if missing:
        print(f"not compiled: {sorted(missing)}", file=sys.stderr)
        return 2
    offenders, total = undocumented(file_set, set(args.files))
    for offender in offenders:
        print(offender)
    print(f"{len(offenders)} of {total} elements (services, RPCs, messages, "
          f"fields, oneofs, enums, enum values) lack a comment")
    return 1 if offenders else 0


if __name__ == "__main__":
    sys.exit(main())
