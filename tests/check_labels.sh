#!/usr/bin/env bash
# Every CTest test carries one of the labels of docs/testing.md, so that a
# `ctest -L` selection never silently misses a test. Lists the offenders.
set -euo pipefail
build="$1"
unlabelled=$(ctest --test-dir "$build" -N -LE '^(unit|e2e|slow|client)$' |
  sed -n 's/^ *Test *#[0-9]*: //p')
if [ -n "$unlabelled" ]; then
  echo "tests without a unit/e2e/slow/client label:"
  echo "$unlabelled"
  exit 1
fi
echo "every test is labelled ($(ctest --test-dir "$build" -N | sed -n 's/^Total Tests: //p') tests)"
