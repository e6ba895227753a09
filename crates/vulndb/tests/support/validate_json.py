"""Validates a JSON document (stdin) against an official JSON schema with the
independent `jsonschema` package; schemas it references (by their `$id`) are
given after it. Prints each violation and exits 1 when there is one.

    python3 validate_json.py SCHEMA [REFERENCED_SCHEMA ...] < document.json
"""
import json
import sys

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7


def main() -> int:
    paths = sys.argv[1:]
    schemas = [json.load(open(p, encoding="utf-8")) for p in paths]
    registry = Registry()
    for schema in schemas:
        if "$id" in schema:
            # Schemas that do not say their draft are read as draft 7.
            resource = Resource.from_contents(schema, default_specification=DRAFT7)
            registry = registry.with_resource(schema["$id"], resource)
    root = schemas[0]
    validator_class = jsonschema.validators.validator_for(root)
    validator = validator_class(root, registry=registry, format_checker=validator_class.FORMAT_CHECKER)
    document = json.load(sys.stdin)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    for error in errors[:20]:
        print("/".join(str(p) for p in error.absolute_path) or "(root)", ":", error.message[:300])
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
