#!/usr/bin/env bash
# Validates a turnprobe JSON report against docs/report-schema.json (JSON Schema 2020-12).
# Usage: validate_json.sh SCHEMA FILE. Exit 0 valid, 1 invalid, 2 usage or missing tools.
# Needs python3 with the jsonschema module (Debian: python3-jsonschema).
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 SCHEMA FILE" >&2
  exit 2
fi
if ! python3 -c 'import jsonschema' 2>/dev/null; then
  echo "$0: python3 has no jsonschema module: apt-get install python3-jsonschema" >&2
  exit 2
fi
exec python3 - "$1" "$2" <<'PY'
import json
import sys

import jsonschema

schema_path, doc_path = sys.argv[1], sys.argv[2]
try:
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    with open(doc_path, encoding="utf-8") as f:
        doc = json.load(f)
except (OSError, ValueError) as e:
    print(f"{doc_path}: {e}", file=sys.stderr)
    sys.exit(1 if isinstance(e, ValueError) else 2)
# The schema itself must be valid 2020-12, or every document would pass for the wrong reason.
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errors:
    where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
    print(f"{doc_path}: {where}: {e.message}", file=sys.stderr)
if errors:
    print(f"{doc_path} is not valid against {schema_path}", file=sys.stderr)
    sys.exit(1)
print(f"{doc_path} is valid")
PY
