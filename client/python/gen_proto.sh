#!/usr/bin/env bash
# Generates the Python stubs of proto/nnft/v1 into OUT_DIR/nnft/v1/ (default:
# this directory, so that `PYTHONPATH=client/python /usr/bin/python3` imports
# the package straight from a checkout). The CMake target nnft_python does the
# same into the build tree. Generated files are never committed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
proto_root="${here}/../../proto"
out="${1:-${here}}"
protoc="${PROTOC:-protoc}"
plugin="${GRPC_PYTHON_PLUGIN:-/usr/bin/grpc_python_plugin}"
mkdir -p "${out}/nnft/v1"
"${protoc}" --proto_path="${proto_root}" \
  --python_out="${out}" --grpc_python_out="${out}" \
  --plugin=protoc-gen-grpc_python="${plugin}" \
  "${proto_root}/nnft/v1/spec.proto" "${proto_root}/nnft/v1/nnft.proto"
: > "${out}/nnft/v1/__init__.py"
echo "nnft: stubs written to ${out}/nnft/v1"
