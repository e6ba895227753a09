"""Writes RustSec's advisory-db layout (crates/<name>/<ID>.md with TOML front
matter) from an OSV all.zip of crates.io records, as a git repository, so that
cargo-audit reads exactly the advisories embargo imports.

Usage: osv_to_rustsec.py ALL_ZIP OUT_DIR
"""
import json
import subprocess
import sys
import zipfile


def toml_str(s):
    return json.dumps(s)  # a JSON string is a valid TOML basic string


def intervals(events):
    """[(start, end, end_inclusive)] from OSV events sorted by the spec's order."""
    def key(e):
        v = next(iter(e.values()))
        if v == "0":
            return (0, 0, 0, "")
        core, _, pre = v.partition("-")
        nums = tuple(int(x) for x in core.split("+")[0].split("."))
        # A pre-release sorts before its release.
        return (1, nums, 0 if pre else 1, pre)
    out, start = [], None
    for e in sorted(events, key=key):
        if "introduced" in e:
            start = e["introduced"]
        elif "fixed" in e and start is not None:
            out.append((start, e["fixed"], False))
            start = None
        elif "last_affected" in e and start is not None:
            out.append((start, e["last_affected"], True))
            start = None
    if start is not None:
        out.append((start, None, False))
    return out


def main(zip_path, out_dir):
    with zipfile.ZipFile(zip_path) as z:
        for name in z.namelist():
            if not name.endswith(".json"):
                continue
            rec = json.loads(z.read(name))
            for aff in rec.get("affected", []):
                pkg = aff["package"]["name"]
                ivs = []
                for r in aff.get("ranges", []):
                    if r["type"] == "SEMVER":
                        ivs.extend(intervals(r["events"]))
                patched, unaffected = [], []
                lows = [s for s, _, _ in ivs if s not in ("0", "0.0.0-0")]
                if ivs and ivs[0][0] not in ("0", "0.0.0-0"):
                    unaffected.append("< " + ivs[0][0])
                for i, (s, e, incl) in enumerate(ivs):
                    if e is None:
                        continue
                    lower = ("> " if incl else ">= ") + e
                    nxt = ivs[i + 1][0] if i + 1 < len(ivs) else None
                    patched.append(lower + (", < " + nxt if nxt else ""))
                if not ivs:
                    # No ranges: RustSec's "every version" is an empty patched list.
                    pass
                db = aff.get("database_specific") or {}
                lines = ["```toml", "[advisory]",
                         "id = " + toml_str(rec["id"]),
                         "package = " + toml_str(pkg),
                         "date = " + toml_str(rec.get("published", "2000-01-01")[:10]),
                         "aliases = [" + ", ".join(toml_str(a) for a in rec.get("aliases", [])) + "]"]
                if db.get("informational"):
                    lines.append("informational = " + toml_str(db["informational"]))
                if rec.get("withdrawn"):
                    lines.append("withdrawn = " + toml_str(rec["withdrawn"][:10]))
                lines += ["", "[versions]",
                          "patched = [" + ", ".join(toml_str(p) for p in patched) + "]",
                          "unaffected = [" + ", ".join(toml_str(u) for u in unaffected) + "]",
                          "```", "",
                          "# " + (rec.get("summary") or rec["id"]).replace("\n", " "), "",
                          (rec.get("details") or "No details.").strip() or "No details.", ""]
                path = f"{out_dir}/crates/{pkg}"
                subprocess.run(["mkdir", "-p", path], check=True)
                with open(f"{path}/{rec['id']}.md", "w") as f:
                    f.write("\n".join(lines))
    git = ["git", "-C", out_dir, "-c", "user.name=embargo", "-c", "user.email=embargo@example.org"]
    subprocess.run(["git", "init", "-q", out_dir], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "advisories"], check=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
