"""Validates a JSON document (stdin) against an official JSON schema with the
independent `jsonschema` package; schemas it references are given after it,
found by their `$id` or registered under the URL given as `URL=PATH`. Prints
each violation and exits 1 when there is one.

    python3 validate_json.py SCHEMA [REFERENCED_SCHEMA | URL=PATH ...] < document.json
"""
import json
import sys

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7


def main() -> int:
    registry = Registry()
    schemas = []
    for arg in sys.argv[1:]:
        url, _, path = arg.rpartition("=") if "=" in arg else ("", "", arg)
        schema = json.load(open(path, encoding="utf-8"))
        schemas.append(schema)
        # Schemas that do not say their draft are read as draft 7.
        resource = Resource.from_contents(schema, default_specification=DRAFT7)
        for key in filter(None, [url, schema.get("$id")]):
            registry = registry.with_resource(key, resource)
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
