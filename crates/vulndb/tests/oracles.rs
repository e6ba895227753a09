//! embargo's version ordering against independent implementations, on
//! thousands of generated pairs per ecosystem: Python's `packaging` (PEP
//! 440), npm's `semver` under node, `dpkg --compare-versions`, and the
//! Python `univers` library for Maven, NuGet, RubyGems, Packagist and
//! Alpine.
//!
//! Outside CI a missing oracle skips its test with a message; in CI (`CI`
//! set) it fails, since `.ci/run` installs them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cmp::Ordering;
use std::io::Write;
use std::process::{Command, Stdio};

use embargo_vulndb::version::Ecosystem;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn pep440(r: &mut Rng) -> String {
    let mut s = String::new();
    if r.chance(5) {
        s.push('v');
    }
    if r.chance(10) {
        s.push_str(&format!("{}!", r.below(3)));
    }
    let parts = 1 + r.below(4);
    let release: Vec<String> = (0..parts).map(|_| r.below(4).to_string()).collect();
    s.push_str(&release.join("."));
    let sep = |r: &mut Rng| r.pick(&["", "", ".", "-", "_"]).to_owned();
    if r.chance(35) {
        s.push_str(&sep(r));
        s.push_str(r.pick(&[
            "a", "b", "rc", "alpha", "beta", "c", "pre", "preview", "A", "RC",
        ]));
        if r.chance(80) {
            s.push_str(&sep(r));
            s.push_str(&r.below(3).to_string());
        }
    }
    if r.chance(25) {
        if r.chance(30) {
            s.push_str(&format!("-{}", r.below(3)));
        } else {
            s.push_str(&sep(r));
            s.push_str(r.pick(&["post", "rev", "r", "POST"]));
            if r.chance(70) {
                s.push_str(&sep(r));
                s.push_str(&r.below(3).to_string());
            }
        }
    }
    if r.chance(25) {
        s.push_str(&sep(r));
        s.push_str(r.pick(&["dev", "DEV"]));
        if r.chance(70) {
            s.push_str(&r.below(3).to_string());
        }
    }
    if r.chance(15) {
        s.push('+');
        let n = 1 + r.below(3);
        let local: Vec<String> = (0..n)
            .map(|_| {
                r.pick(&["abc", "5", "7", "ubuntu", "0", "12", "Deb"])
                    .to_owned()
            })
            .collect();
        s.push_str(&local.join(r.pick(&[".", "-", "_"])));
    }
    s
}

fn semver(r: &mut Rng) -> String {
    let mut s = format!("{}.{}.{}", r.below(3), r.below(3), r.below(3));
    if r.chance(45) {
        let n = 1 + r.below(3);
        let ids: Vec<String> = (0..n)
            .map(|_| {
                if r.chance(40) {
                    r.below(12).to_string()
                } else {
                    r.pick(&["alpha", "beta", "rc", "x-y", "0a", "A", "a"])
                        .to_owned()
                }
            })
            .collect();
        s.push('-');
        s.push_str(&ids.join("."));
    }
    if r.chance(10) {
        s.push_str(r.pick(&["+build.5", "+20260101", "+sha.abc"]));
    }
    s
}

fn dpkg(r: &mut Rng) -> String {
    let mut s = String::new();
    if r.chance(10) {
        s.push_str(&format!("{}:", r.below(3)));
    }
    s.push_str(&r.below(10).to_string());
    for _ in 0..r.below(4) {
        s.push_str(r.pick(&[
            ".", ".", "~", "+", "a", "b", "~rc", "+dfsg", "0", "00", "1", "12",
        ]));
        if r.chance(60) {
            s.push_str(&r.below(20).to_string());
        }
    }
    if r.chance(50) {
        s.push('-');
        s.push_str(r.pick(&["1", "0", "2ubuntu1", "1~bpo12+1", "1+b2", "0.1", "3a"]));
    }
    s
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

fn skip_or_fail(what: &str) {
    assert!(!in_ci(), "{what} is missing; .ci/run installs it");
    eprintln!("skipped: {what} is missing");
}

/// Runs `program args` with one `a b` pair per line on stdin; it answers one
/// of -1, 0, 1 per line.
fn batch(program: &str, args: &[&str], pairs: &[(String, String)]) -> Option<Vec<i8>> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let mut input = String::new();
    for (a, b) in pairs {
        input.push_str(&format!("{a} {b}\n"));
    }
    let mut stdin = child.stdin.take()?;
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    if !out.status.success() {
        eprintln!("{program}: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let answers: Vec<i8> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().parse().expect("the oracle answers -1, 0 or 1"))
        .collect();
    assert_eq!(answers.len(), pairs.len(), "one answer per pair");
    Some(answers)
}

fn sign(o: Ordering) -> i8 {
    match o {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

/// Compares embargo with the oracle's answers; returns the disagreements.
fn disagreements(eco: Ecosystem, pairs: &[(String, String)], oracle: &[i8]) -> Vec<String> {
    pairs
        .iter()
        .zip(oracle)
        .filter_map(|((a, b), want)| {
            let got = eco
                .parse(a)
                .and_then(|va| eco.parse(b).map(|vb| va.compare(&vb)))
                .map(|o| o.map(sign));
            match got {
                Ok(Some(g)) if g == *want => None,
                other => Some(format!("{a} vs {b}: embargo {other:?}, oracle {want}")),
            }
        })
        .collect()
}

fn pairs(seed: u64, n: usize, generate: fn(&mut Rng) -> String) -> Vec<(String, String)> {
    let mut r = Rng(seed);
    (0..n)
        .map(|_| (generate(&mut r), generate(&mut r)))
        .collect()
}

const PAIRS: usize = 4000;

#[test]
fn pep440_agrees_with_python_packaging() {
    let script = "import sys\nfrom packaging.version import Version\n\
        for line in sys.stdin:\n    a, b = line.split()\n    x, y = Version(a), Version(b)\n    print((x > y) - (x < y))\n";
    let ok = Command::new("python3")
        .args(["-c", "import packaging.version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        return skip_or_fail("Python's `packaging` (pip install packaging)");
    }
    let pairs = pairs(0x5eed_0440, PAIRS, pep440);
    let oracle = batch("python3", &["-c", script], &pairs).expect("python runs");
    let wrong = disagreements(Ecosystem::PyPI, &pairs, &oracle);
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn semver_agrees_with_npm_semver() {
    let script = "const semver = require('semver');\
        const lines = require('fs').readFileSync(0, 'utf8').split('\\n').filter(Boolean);\
        for (const l of lines) { const [a, b] = l.split(' '); console.log(String(semver.compare(a, b))); }";
    let ok = Command::new("node")
        .args(["-e", "require('semver')"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        return skip_or_fail("node with npm's `semver` (npm install semver; NODE_PATH)");
    }
    let pairs = pairs(0x5eed_5e3e, PAIRS, semver);
    let oracle = batch("node", &["-e", script], &pairs).expect("node runs");
    for eco in [Ecosystem::Npm, Ecosystem::CratesIo] {
        let wrong = disagreements(eco, &pairs, &oracle);
        assert!(
            wrong.is_empty(),
            "{eco}: {} disagreements:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }
}

#[test]
fn debian_agrees_with_dpkg() {
    if Command::new("dpkg").arg("--version").output().is_err() {
        return skip_or_fail("dpkg");
    }
    // One process per comparison: 2,000 pairs keep this to seconds.
    let pairs = pairs(0x5eed_deb0, PAIRS / 2, dpkg);
    let oracle: Vec<i8> = pairs
        .iter()
        .map(|(a, b)| {
            let is = |op: &str| {
                Command::new("dpkg")
                    .args(["--compare-versions", a, op, b])
                    .status()
                    .expect("dpkg runs")
                    .success()
            };
            if is("lt") {
                -1
            } else if is("eq") {
                0
            } else {
                1
            }
        })
        .collect();
    let wrong = disagreements(Ecosystem::Debian, &pairs, &oracle);
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

type Generator = fn(&mut Rng) -> String;

fn maven(r: &mut Rng) -> String {
    let mut s = r.below(4).to_string();
    for _ in 0..r.below(4) {
        s.push_str(r.pick(&[".", ".", "-"]));
        if r.chance(60) {
            s.push_str(&r.below(12).to_string());
        } else {
            s.push_str(r.pick(&[
                "alpha",
                "a1",
                "beta",
                "b2",
                "milestone",
                "m3",
                "rc",
                "cr",
                "RC1",
                "snapshot",
                "SNAPSHOT",
                "ga",
                "final",
                "sp",
                "sp1",
                "foo",
                "jre",
                "0",
                "00",
            ]));
            if r.chance(30) {
                s.push_str(&r.below(5).to_string());
            }
        }
    }
    s
}

fn nuget(r: &mut Rng) -> String {
    let mut s = String::new();
    let parts = 1 + r.below(4);
    let numbers: Vec<String> = (0..parts)
        .map(|_| {
            if r.chance(5) {
                format!("0{}", r.below(3))
            } else {
                r.below(3).to_string()
            }
        })
        .collect();
    s.push_str(&numbers.join("."));
    if r.chance(40) {
        let n = 1 + r.below(3);
        let labels: Vec<String> = (0..n)
            .map(|_| {
                if r.chance(35) {
                    r.below(12).to_string()
                } else {
                    r.pick(&["alpha", "Beta", "rc", "RC", "preview", "x-y", "a1"])
                        .to_owned()
                }
            })
            .collect();
        s.push('-');
        s.push_str(&labels.join("."));
    }
    if r.chance(10) {
        s.push_str(r.pick(&["+build.5", "+git.abc"]));
    }
    s
}

fn rubygems(r: &mut Rng) -> String {
    let mut s = r.below(4).to_string();
    for _ in 0..r.below(4) {
        s.push('.');
        s.push_str(r.pick(&[
            "0", "1", "2", "10", "a", "b", "pre", "rc1", "beta2", "a10", "alpha", "0a",
        ]));
    }
    if r.chance(15) {
        s.push('-');
        s.push_str(r.pick(&["1", "rc", "beta.2", "x-y"]));
    }
    s
}

fn packagist(r: &mut Rng) -> String {
    // The shared ground of Composer's rules and the SemVer ones univers
    // applies to Packagist: the rest of Composer's syntax is covered by the
    // unit tests of `version::composer`.
    let mut s = String::new();
    if r.chance(20) {
        s.push('v');
    }
    s.push_str(&format!("{}.{}.{}", r.below(3), r.below(3), r.below(3)));
    if r.chance(45) {
        s.push('-');
        s.push_str(r.pick(&["alpha", "beta", "rc"]));
        if r.chance(60) {
            s.push_str(&format!(".{}", r.below(12)));
        }
    }
    s
}

fn alpine(r: &mut Rng) -> String {
    let mut s = (1 + r.below(3)).to_string();
    for _ in 0..r.below(3) {
        s.push('.');
        s.push_str(r.pick(&["0", "1", "2", "10", "05", "050", "5"]));
    }
    if r.chance(15) {
        s.push(r.pick(&["a", "b", "z"]).chars().next().unwrap_or('a'));
    }
    for _ in 0..r.below(3) {
        s.push('_');
        s.push_str(r.pick(&["alpha", "beta", "pre", "rc", "p"]));
        if r.chance(60) {
            s.push_str(&r.below(4).to_string());
        }
    }
    if r.chance(50) {
        s.push_str(&format!("-r{}", r.below(4)));
    }
    s
}

#[test]
fn maven_nuget_rubygems_packagist_alpine_agree_with_univers() {
    let script = "import sys\nfrom univers import versions as v\n\
        kinds = {'Maven': v.MavenVersion, 'NuGet': v.NugetVersion, 'RubyGems': v.RubygemsVersion,\
         'Packagist': v.ComposerVersion, 'Alpine': v.AlpineLinuxVersion}\n\
        kind = kinds[sys.argv[1]]\n\
        for line in sys.stdin:\n    a, b = line.split()\n    x, y = kind(a), kind(b)\n    print((x > y) - (x < y))\n";
    let ok = Command::new("python3")
        .args(["-c", "import univers.versions"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        return skip_or_fail("Python's `univers` (pip install univers)");
    }
    let cases: [(Ecosystem, u64, Generator); 5] = [
        (Ecosystem::Maven, 0x5eed_3a7e, maven),
        (Ecosystem::NuGet, 0x5eed_0907, nuget),
        (Ecosystem::RubyGems, 0x5eed_9e35, rubygems),
        (Ecosystem::Packagist, 0x5eed_c0de, packagist),
        (Ecosystem::Alpine, 0x5eed_a1b1, alpine),
    ];
    for (eco, seed, generate) in cases {
        let pairs = pairs(seed, PAIRS, generate);
        let oracle =
            batch("python3", &["-c", script, eco.osv_name()], &pairs).expect("python runs");
        let wrong = disagreements(eco, &pairs, &oracle);
        assert!(
            wrong.is_empty(),
            "{eco}: {} disagreements with univers:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }
}
