#!/usr/bin/env python3
"""Validates FHIR exports with an independent library (PyPI fhir.resources, its R4B
models, pinned in scripts/install-deps.sh): a Bundle (JSON) or NDJSON resources.

Usage: validate_fhir.py FILE...   Prints one line per file; exits 1 on the first
invalid resource with the library's message (resource type and index, no values).
"""
import json
import sys

try:
    from fhir.resources.R4B import construct_fhir_element
except ImportError:
    print("fhir.resources is not installed: run scripts/install-deps.sh", file=sys.stderr)
    sys.exit(2)


def check(resource, where):
    kind = resource.get("resourceType")
    try:
        construct_fhir_element(kind, resource)
    except Exception as e:  # the library raises pydantic's ValidationError
        print(f"{where}: invalid {kind}: {e}", file=sys.stderr)
        sys.exit(1)


def main(paths):
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if path.endswith(".ndjson"):
            lines = [l for l in text.splitlines() if l.strip()]
            for i, line in enumerate(lines):
                check(json.loads(line), f"{path} line {i + 1}")
            print(f"{path}: {len(lines)} valid resources")
        else:
            bundle = json.loads(text)
            check(bundle, path)
            print(f"{path}: valid {bundle.get('resourceType')} of {len(bundle.get('entry', []))} entries")


if __name__ == "__main__":
    main(sys.argv[1:])
