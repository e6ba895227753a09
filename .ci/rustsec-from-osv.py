#!/usr/bin/env python3
"""Writes the RustSec advisory database, in the layout cargo-deny reads, from
the OSV export of the same advisories (../shared/data/osv/crates.io/all.zip).

CI has no network access to github.com/rustsec/advisory-db; the shared data
holds the same advisories as OSV records. Each becomes
`crates/<package>/<ID>.md`: a TOML front matter ([advisory], [versions],
[affected]) and the Markdown description, the format of the RustSec
repository. The directory is made a git repository with one commit, as
cargo-deny expects of a fetched database.

usage: rustsec-from-osv.py ALL_ZIP OUT_DIR
"""

import json
import subprocess
import sys
import zipfile


def toml_string(s):
    return json.dumps(s, ensure_ascii=False)


def toml_list(items):
    return "[" + ", ".join(toml_string(i) for i in items) + "]"


def is_start(version):
    """OSV's `introduced` for "from the first release"."""
    return version in ("0", "0.0.0", "0.0.0-0")


def version_requirements(events):
    """RustSec's `patched` and `unaffected` requirements from OSV SEMVER events.

    The events describe affected intervals [introduced, fixed); RustSec lists
    what is not affected: what came before the first introduction
    (`unaffected`) and, after each fix, everything up to the next
    introduction (`patched`).
    """
    intervals = []
    start = None
    for event in events:
        if "introduced" in event:
            start = event["introduced"]
        elif "fixed" in event and start is not None:
            intervals.append((start, event["fixed"]))
            start = None
        elif "last_affected" in event and start is not None:
            # Everything after the last affected release is unaffected; the
            # RustSec format has no "after", and the export does not use it.
            intervals.append((start, None))
            start = None
    if start is not None:
        intervals.append((start, None))
    unaffected = []
    patched = []
    if intervals and not is_start(intervals[0][0]):
        unaffected.append("< " + intervals[0][0])
    for i, (_, fixed) in enumerate(intervals):
        if fixed is None:
            continue
        if i + 1 < len(intervals):
            patched.append(">= %s, < %s" % (fixed, intervals[i + 1][0]))
        else:
            patched.append(">= " + fixed)
    return patched, unaffected


def advisory_markdown(record):
    affected = record["affected"][0]
    package = affected["package"]["name"]
    specific = affected.get("database_specific") or {}
    lines = ["```toml", "[advisory]"]
    lines.append("id = " + toml_string(record["id"]))
    lines.append("package = " + toml_string(package))
    lines.append("date = " + toml_string(record["published"][:10]))
    url = next(
        (r["url"] for r in record.get("references", []) if r["type"] == "REPORT"),
        None,
    )
    if url:
        lines.append("url = " + toml_string(url))
    if specific.get("categories"):
        lines.append("categories = " + toml_list(specific["categories"]))
    if specific.get("cvss"):
        lines.append("cvss = " + toml_string(specific["cvss"]))
    if specific.get("informational"):
        lines.append("informational = " + toml_string(specific["informational"]))
    if record.get("aliases"):
        lines.append("aliases = " + toml_list(record["aliases"]))
    if record.get("related"):
        lines.append("related = " + toml_list(record["related"]))
    if record.get("withdrawn"):
        lines.append("withdrawn = " + toml_string(record["withdrawn"][:10]))
    patched, unaffected = version_requirements(affected["ranges"][0]["events"])
    lines += ["", "[versions]", "patched = " + toml_list(patched)]
    if unaffected:
        lines.append("unaffected = " + toml_list(unaffected))
    lines += ["```", "", "# " + record["summary"].strip(), "", record["details"].strip(), ""]
    return package, "\n".join(lines)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    source, out = sys.argv[1], sys.argv[2]
    import os

    count = 0
    with zipfile.ZipFile(source) as z:
        for name in z.namelist():
            record = json.loads(z.read(name))
            if not record["id"].startswith("RUSTSEC-"):
                continue
            package, text = advisory_markdown(record)
            directory = os.path.join(out, "crates", package)
            os.makedirs(directory, exist_ok=True)
            with open(os.path.join(directory, record["id"] + ".md"), "w") as f:
                f.write(text)
            count += 1
    git = ["git", "-C", out, "-c", "user.name=ci", "-c", "user.email=ci@localhost"]
    subprocess.run(git + ["init", "-q", "-b", "main"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "RustSec advisories from OSV"], check=True)
    print("%d RustSec advisories written to %s" % (count, out))


if __name__ == "__main__":
    main()
