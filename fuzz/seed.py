"""Seeds each fuzz target's corpus from real inputs: ../shared/data (when
present) and this repository's own files. Files are written, never copied
into the repository. Usage: python3 seed.py CORPUS_DIR"""
import glob
import hashlib
import json
import os
import sys
import zipfile

root = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(root)
shared = os.path.join(os.path.dirname(repo), "shared", "data")
out = sys.argv[1]


def put(target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


for z in glob.glob(os.path.join(shared, "osv", "*", "all.zip")):
    with zipfile.ZipFile(z) as archive:
        for name in archive.namelist()[:150]:
            put("osv", archive.read(name))

for path in glob.glob(os.path.join(shared, "conformance", "cyclonedx-1.6", "*")):
    pick = b"\x01" if path.endswith(".xml") else b"\x00"
    with open(path, "rb") as f:
        put("sbom", pick + f.read())
for path in glob.glob(os.path.join(shared, "examples", "spdx-2.3", "*.json")):
    with open(path, "rb") as f:
        put("sbom", b"\x02" + f.read())

with open(os.path.join(repo, "Cargo.lock"), "rb") as f:
    put("lockfile", b"\x00" + f.read()[:20000])
put("lockfile", b"\x01" + json.dumps({"lockfileVersion": 3, "packages": {"": {"name": "x"},
    "node_modules/left-pad": {"version": "1.3.0"}}}).encode())
put("lockfile", b"\x0c" + b"requests==2.31.0\nflask>=2\n")
put("lockfile", b"\x07" + b"module example.org/x\n\ngo 1.22\n\nrequire golang.org/x/net v0.1.0\n")

spec = os.path.join(shared, "conformance", "purl", "spec", "specification-test.json")
if os.path.exists(spec):
    with open(spec) as f:
        doc = json.load(f)
    for case in doc.get("tests", doc if isinstance(doc, list) else [])[:300]:
        for key in ("input", "purl", "canonical_purl", "expected_output"):
            value = case.get(key) if isinstance(case, dict) else None
            if isinstance(value, str):
                put("purl", value)
put("purl", "pkg:npm/%40scope/name@1.0.0?arch=x86#sub/path")

for i, (a, b) in enumerate([("1.2.3", "1.2.10"), ("1.0.0-rc.1", "1.0.0"), ("1:2.0-1", "2.0~rc1"),
                            ("1.0a1", "1.0.post1"), ("2.0.0.Final", "2.0.0-SNAPSHOT")]):
    for e in range(12):
        put("version", bytes([e]) + f"{a}\0{b}".encode())

for v in ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:C/C:L/I:N/A:N",
          "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"]:
    put("cvss", v)

for path in glob.glob(os.path.join(repo, "crates", "core", "presets", "*.toml")):
    with open(path, "rb") as f:
        put("policy", f.read())

put("email", b"From: Finder <finder@example.org>\r\nTo: security@example.org\r\nSubject: Re: [EMB-2026-0001] XSS\r\n"
             b"Message-ID: <a@b>\r\nContent-Type: text/plain\r\n\r\nMore details.\r\n\r\nOn Fri, X wrote:\r\n> quoted\r\n")
put("email", b"From: a@b.c\r\nSubject: =?ISO-8859-1?Q?caf=E9?=\r\nContent-Type: multipart/mixed; boundary=Q\r\n\r\n"
             b"--Q\r\nContent-Type: text/plain\r\n\r\nbody\r\n--Q\r\nContent-Type: application/octet-stream\r\n"
             b"Content-Disposition: attachment; filename=\"poc.py\"\r\n\r\nprint(1)\r\n--Q--\r\n")

put("multipart", b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nXSS\r\n--XyZ\r\n"
                 b"Content-Disposition: form-data; name=\"attachments\"; filename=\"a.txt\"\r\n"
                 b"Content-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n")
