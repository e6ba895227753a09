//! The `embargo` command: initializes, serves, and administers an embargo
//! installation. Run `embargo --help` for the commands.

mod commands;
mod config;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use embargo_core::auth::Role;

/// embargo: a self-hosted product-security desk. Private vulnerability
/// intake, a case workflow with a tamper-evident history, and encrypted
/// storage, in one binary.
///
/// Start with `embargo serve`: on first run it sets itself up on an embedded
/// SQLite database in ./embargo-data and prints the admin password.
#[derive(Debug, Parser)]
#[command(
    name = "embargo",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    /// The configuration file.
    #[arg(
        long,
        short,
        global = true,
        env = "EMBARGO_CONFIG",
        default_value = "embargo.toml"
    )]
    config: PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a configuration, a key file, the database and the first admin.
    Init(InitArgs),
    /// Run the server (initializing on first run if there is no configuration).
    Serve {
        /// The address and port to listen on, such as 127.0.0.1:8081
        /// [default: `listen` in embargo.toml, or EMBARGO_LISTEN, or
        /// 127.0.0.1:8080]. Where `public_url` only repeats the configured
        /// address, it follows this one.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage team members.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Check the tamper-evident history.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The EU Cyber Resilience Act's evidence: export a case's signed bundle,
    /// or check one offline.
    #[command(subcommand)]
    Cra(CraCommand),
    /// Write a consistent copy of a SQLite database to FILE while it runs.
    ///
    /// The copy holds only ciphertext; keep the key file too, separately.
    /// For PostgreSQL use pg_dump.
    Backup {
        /// Where to write the copy (must not exist).
        file: PathBuf,
    },
    /// Put a SQLite backup back in place of the database (stop the server first).
    ///
    /// The backup is checked before anything is replaced: it must open with
    /// this installation's keys and its tamper-evident history must verify.
    /// For PostgreSQL restore a pg_dump with pg_restore (see the README).
    Restore {
        /// The backup written by `embargo backup`.
        file: PathBuf,
        /// Replace the existing database.
        #[arg(long)]
        force: bool,
    },
    /// Manage the encryption keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check, explain and publish security policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Build and inspect the local vulnerability database (OSV feeds).
    #[command(subcommand)]
    Db(DbCommand),
    /// Check lockfiles and SBOMs against the local vulnerability database, offline.
    ///
    /// Reads Cargo.lock; package-lock.json / npm-shrinkwrap.json (v1 to v3),
    /// yarn.lock (v1 and Berry), pnpm-lock.yaml; pinned requirements files
    /// (following -r/-c includes), poetry.lock, Pipfile.lock, uv.lock;
    /// go.mod (or go.sum alone); composer.lock; Gemfile.lock; NuGet
    /// packages.lock.json; and CycloneDX 1.0 to 1.7 (JSON or XML), SPDX 2.2/2.3
    /// JSON and SPDX 3 JSON-LD documents, whose components are read through
    /// their package URLs (the generator's own entries under metadata.tools
    /// are not part of the product). Files are given, or found in
    /// directories, where every file that may be one is recognized by its
    /// content whatever its name; what was passed over is listed.
    ///
    /// Exit status: 0 clean (everything read was checked); 1 a vulnerability
    /// at or above --fail-on (one of unknown severity counts); 2 an error (no
    /// database, a malformed file, an unpinned requirement, a version that
    /// cannot be judged); 3 incomplete: nothing at the threshold among what
    /// was checked, but something was not (nothing read, components embargo
    /// does not check, crates from git, a file skipped, an ecosystem the
    /// database holds no advisory for), each said on stderr.
    Scan(ScanArgs),
    /// Send SBOMs and lockfiles to an embargo server's portfolio.
    #[command(subcommand)]
    Sbom(SbomCommand),
}

#[derive(Debug, Subcommand)]
enum SbomCommand {
    /// Upload a release's SBOM (CycloneDX, SPDX) or lockfile, for CI.
    ///
    /// The server records the release's components (replacing an earlier
    /// upload of the same release) and matches them at once against its
    /// vulnerability database. Exit status: 0 uploaded, 2 an error.
    #[command(disable_version_flag = true)]
    Push {
        /// The product's id in the inventory.
        #[arg(long)]
        product: String,
        /// The release's version.
        #[arg(long)]
        version: String,
        /// The SBOM or lockfile; its name tells the format.
        file: PathBuf,
        /// The server's address.
        #[arg(long, env = "EMBARGO_URL")]
        url: String,
        /// An API token of a responder or admin.
        #[arg(long, env = "EMBARGO_TOKEN", hide_env_values = true)]
        token: String,
    },
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Import OSV records into the database, replacing it atomically.
    ///
    /// Each SOURCE is an OSV `all.zip` (the public bucket's
    /// `<ecosystem>/all.zip`), a directory of OSV JSON files, or one file.
    /// Records that fail validation are listed by id with the reason and
    /// skipped; withdrawn records are left out.
    Import {
        #[arg(required = true, value_name = "SOURCE")]
        sources: Vec<PathBuf>,
        #[command(flatten)]
        db: DbPath,
        /// CISA's Known Exploited Vulnerabilities catalog (JSON), to mark advisories.
        #[arg(long, value_name = "FILE")]
        kev: Option<PathBuf>,
        /// FIRST's EPSS scores (CSV: a `#model_version…` comment, then
        /// cve,epss,percentile; gzipped or not), to attach probabilities.
        #[arg(long, value_name = "FILE")]
        epss: Option<PathBuf>,
    },
    /// Download the OSV feeds and rebuild the database from them.
    ///
    /// Fetches `<base-url>/<ecosystem>/all.zip` for each ecosystem, CISA's
    /// KEV catalog and FIRST's EPSS scores, with a progress bar on a terminal. Feeds are cached in a `feeds` directory
    /// beside the database and asked for again with their ETag and
    /// Last-Modified, so unchanged feeds are not downloaded twice. The
    /// database is replaced only when every feed arrived whole; after a
    /// failure the previous database stays.
    Sync {
        #[command(flatten)]
        db: DbPath,
        /// Where the feeds are (the OSV bucket layout).
        #[arg(long, env = "EMBARGO_OSV_URL", default_value = commands::DEFAULT_BASE_URL)]
        base_url: String,
        /// An ecosystem to sync (repeatable) [default: crates.io npm PyPI Go
        /// Maven NuGet RubyGems Packagist Hex Pub].
        #[arg(long = "ecosystem", value_name = "NAME")]
        ecosystems: Vec<String>,
        /// CISA's Known Exploited Vulnerabilities catalog (JSON) to use
        /// instead of downloading it (offline installations).
        #[arg(long, value_name = "FILE")]
        kev: Option<PathBuf>,
        /// FIRST's EPSS scores (CSV, gzipped or not) to use instead of
        /// downloading them.
        #[arg(long, value_name = "FILE")]
        epss: Option<PathBuf>,
        /// Where CISA publishes the KEV catalog (asked conditionally, like the feeds).
        #[arg(long, env = "EMBARGO_KEV_URL", default_value = commands::DEFAULT_KEV_URL)]
        kev_url: String,
        /// Where FIRST publishes the day's EPSS scores (gzipped CSV).
        #[arg(long, env = "EMBARGO_EPSS_URL", default_value = commands::DEFAULT_EPSS_URL)]
        epss_url: String,
        /// Sync the OSV feeds only: no KEV catalog, no EPSS scores.
        #[arg(long)]
        no_signals: bool,
    },
    /// Say what the database holds.
    Info {
        #[command(flatten)]
        db: DbPath,
    },
}

#[derive(Debug, Args)]
struct DbPath {
    /// The database file [default: $XDG_CACHE_HOME/embargo/osv.db, or ~/.cache/embargo/osv.db].
    #[arg(long = "db", env = "EMBARGO_VULNDB", value_name = "FILE")]
    path: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ScanArgs {
    /// Lockfiles or SBOMs, or directories to search for them.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    db: DbPath,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
    format: ScanFormat,
    /// Fail (exit 1) on vulnerabilities of this severity or above.
    #[arg(long, value_name = "SEVERITY", default_value = "low",
        value_parser = ["low", "medium", "high", "critical"])]
    fail_on: String,
    /// Leave out an advisory (by id or alias); repeatable.
    #[arg(long, value_name = "ID")]
    ignore: Vec<String>,
    /// A TOML file of ignores, each with `id`, `reason` and an optional `expires` date.
    #[arg(long, value_name = "FILE")]
    ignore_file: Option<PathBuf>,
    /// Check packages taken from a git repository by their version, as if
    /// they came from the registry (by default they are listed as not
    /// checked, as cargo-audit leaves them out).
    #[arg(long)]
    check_vcs_by_version: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ScanFormat {
    /// Findings grouped by package, for people.
    Table,
    /// embargo's own report, every field.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// A CycloneDX 1.6 VEX document (matches are `in_triage`).
    CyclonedxVex,
    /// An OpenVEX 0.2.0 document (matches are `under_investigation`).
    Openvex,
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Validate policy files; errors name the line and the key. Exits 1 if any is invalid.
    Check {
        /// Policy files, or preset:NAME.
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Print each clock and rule of a policy in plain words.
    Explain {
        /// A policy file, or preset:NAME.
        file: String,
    },
    /// Render a policy as a published document.
    Render {
        /// A policy file, or preset:NAME.
        file: String,
        /// security-md (SECURITY.md), security-txt (RFC 9116) or html (the policy page).
        #[arg(long, default_value = "security-md")]
        format: RenderFormat,
        /// Where embargo is reached, for links and the Canonical field.
        #[arg(long, default_value = "https://security.example.org")]
        public_url: String,
    },
    /// Run a policy's clocks over a script of events, without a server.
    ///
    /// Prints every clock's start, warning time, due time and outcome (text
    /// or JSON), in the policy's time zone and in UTC. The script has one
    /// event per line, in time order; `#` starts a comment:
    ///
    ///   2026-03-06T17:30 Europe/Paris reported
    ///   2026-03-09T09:00 acknowledge          (the policy's time zone)
    ///   2026-03-09T10:00Z start_triage        (Z or an offset: UTC)
    ///   2026-03-09T11:00 set_severity critical
    ///   2026-03-10T09:00 waiting_on_reporter
    ///   2026-03-12T09:00 reporter_answered
    ///   2026-03-12T10:00 patch_available 2026-02-01T00:00
    ///
    /// Events: reported (first), the case actions (acknowledge, start_triage,
    /// accept, start_fix, fix_available, release, disclose, close, spam,
    /// out_of_scope, not_a_vulnerability, duplicate, reopen, set_severity
    /// SEV, set_exposure high|normal, message_reporter), and
    /// waiting_on_reporter, reporter_answered, customers_notified,
    /// patch_available [SINCE], reporter_deadline WHEN, published; and the
    /// Cyber Resilience Act's: exploited [AWARE], exploitation_claimed,
    /// exploitation_rejected, incident [AWARE], corrective_measure [SINCE],
    /// early_warning_submitted, notification_submitted,
    /// intermediate_submitted, final_report_submitted. Moves
    /// the workflow refuses are errors naming the line. Exit status: 0, or
    /// 1 for an error.
    #[command(verbatim_doc_comment)]
    Simulate {
        /// A policy file, or preset:NAME.
        policy: String,
        /// The script of events, or - for standard input.
        events: String,
        /// Read the clocks at this instant (default: the last event's),
        /// e.g. 2026-04-01T00:00Z or 2026-04-01T00:00 in the policy's zone.
        #[arg(long)]
        at: Option<String>,
        /// text or json.
        #[arg(long, default_value = "text")]
        format: SimulateFormat,
    },
    /// List the presets, or print one (to start a policy file from it).
    Presets {
        /// The preset to print.
        name: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SimulateFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RenderFormat {
    SecurityMd,
    SecurityTxt,
    Html,
}

#[derive(Debug, Args)]
struct InitArgs {
    /// Directory for the database and key file, relative to the configuration file.
    #[arg(long, default_value = "embargo-data")]
    data_dir: String,
    /// Use this database instead of SQLite in the data directory (e.g. postgres://...).
    #[arg(long)]
    database_url: Option<String>,
    /// Name of the first admin user.
    #[arg(long, default_value = "admin")]
    admin: String,
    /// Address and port the server will listen on.
    #[arg(long)]
    listen: Option<String>,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; prints a generated password once.
    Add {
        username: String,
        /// viewer (reads), responder (works cases) or admin (everything).
        #[arg(long, default_value = "responder", value_parser = parse_role)]
        role: Role,
    },
    /// List users.
    List,
    /// Disable a user and end their sessions (their API tokens stop working).
    Disable { username: String },
    /// Re-enable a disabled user.
    Enable { username: String },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token for a user; prints it once.
    Create {
        /// Whose token it is (it carries their role).
        #[arg(long)]
        user: String,
        /// What it is for, such as "CI pipeline".
        #[arg(long)]
        name: String,
    },
    /// List tokens (never the secrets).
    List,
    /// Revoke a token by its id.
    Revoke { id: i64 },
}

#[derive(Debug, Subcommand)]
enum CraCommand {
    /// Write a case's evidence bundle: its events with their chain hashes,
    /// each Article 14 stage as it was sent, the advisory's documents and
    /// the evidence files, signed with the organization's OpenPGP key.
    Export {
        /// The case reference, such as EMB-2026-0001.
        reference: String,
        /// Where to write the bundle (must not exist) [default: REFERENCE-evidence.zip].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Check a bundle offline: the signature over its manifest, every file's
    /// SHA-256, every event's chain hash. Exits 1 naming what does not fit.
    /// Compare the printed key fingerprint with the one the organization
    /// publishes.
    Verify {
        /// The bundle written by `embargo cra export`.
        bundle: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify the hash chain of every event, that every encrypted part opens,
    /// and that every case equals the replay of its events. Exits 1 naming the
    /// first problem.
    Verify,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Add a new key, make it active, and re-encrypt everything under it.
    /// The old key stays in the file until `keys prune`; restart running
    /// servers afterwards so they write with the new key.
    Rotate,
    /// Remove keys that no data is encrypted under any more.
    Prune,
    /// List the keys and which ones data is encrypted under.
    List,
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|e: embargo_core::DomainError| e.to_string())
}

/// `embargo scan …`'s command line, with only the scan's arguments and the
/// global ones: the scan runs in CI on every push, and building the whole
/// command tree (every subcommand, argument and help text: 150 KB of memory
/// touched) took longer than a scan of a small project. Help, version and
/// any mistake are left to the whole tree (`None`), so that what they print
/// is what `embargo` prints everywhere.
#[derive(Debug, Parser)]
#[command(
    name = "embargo",
    disable_help_flag = true,
    disable_version_flag = true
)]
struct ScanCommandLine {
    /// The global option, accepted here as everywhere; a scan reads no
    /// configuration.
    #[arg(long, short)]
    config: Option<PathBuf>,
    #[command(flatten)]
    args: ScanArgs,
}

/// The scan's arguments when `argv` is a well-formed `embargo scan …`.
fn scan_command_line<I, T>(argv: I) -> Option<ScanArgs>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let mut argv = argv.into_iter().map(Into::into);
    let program = argv.next()?;
    if argv.next()? != "scan" {
        return None;
    }
    ScanCommandLine::try_parse_from(std::iter::once(program).chain(argv))
        .ok()
        .map(|line| line.args)
}

fn main() -> ExitCode {
    if let Some(args) = scan_command_line(std::env::args_os()) {
        return scan(args);
    }
    let cli = Cli::parse();
    // A scan runs in CI on every push: it needs no async runtime, whose
    // worker threads would cost more than the scan itself on small projects.
    let cli = match cli.command {
        Command::Sbom(SbomCommand::Push {
            product,
            version,
            file,
            url,
            token,
        }) => {
            return sbom_push(&product, &version, &file, &url, &token);
        }
        Command::Scan(args) => return scan(args),
        command => Cli { command, ..cli },
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("embargo: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("embargo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `embargo scan`: no async runtime, whose worker threads would cost more
/// than the scan itself on small projects.
fn scan(args: ScanArgs) -> ExitCode {
    commands::scan::scan(args).unwrap_or_else(|e| {
        eprintln!("embargo: {e}");
        ExitCode::FAILURE
    })
}

/// `embargo sbom push`: one blocking upload, no async runtime.
fn sbom_push(
    product: &str,
    version: &str,
    file: &std::path::Path,
    url: &str,
    token: &str,
) -> ExitCode {
    let fail = |message: String| {
        eprintln!("embargo: {message}");
        ExitCode::from(2)
    };
    // The server refuses a larger body as it streams in, and by then the
    // connection is cut under the client, which would see only a transport
    // error: the limit is said here, before anything is sent.
    let limit = embargo_server::app::portfolio::MAX_SBOM_BYTES;
    match std::fs::metadata(file) {
        Ok(m) if m.len() > limit as u64 => {
            return fail(format!(
                "{}: {} MiB; the server accepts an SBOM or lockfile of at most {} MiB (split the SBOM per release or component)",
                file.display(),
                m.len().div_ceil(1024 * 1024),
                limit / (1024 * 1024)
            ));
        }
        Ok(_) => {}
        Err(e) => return fail(format!("{}: {e}", file.display())),
    }
    let body = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => return fail(format!("{}: {e}", file.display())),
    };
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let segment = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let endpoint = format!(
        "{}/api/v1/products/{}/releases/{}/sbom?filename={}",
        url.trim_end_matches('/'),
        segment(product),
        segment(version),
        segment(&name)
    );
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the HTTP client: {e}")),
    };
    let result: Result<(u16, String), String> = runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(&endpoint)
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let status = response.status().as_u16();
        Ok((status, response.text().await.unwrap_or_default()))
    });
    match result {
        Ok((200, text)) => {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            println!(
                "{}: {} components, {} findings opened, {} resolved, {} reopened",
                v["release"].as_str().unwrap_or("release"),
                v["components"],
                v["opened"],
                v["resolved"],
                v["reopened"]
            );
            for u in v["unchecked"].as_array().into_iter().flatten() {
                println!("not checked: {}", u.as_str().unwrap_or_default());
            }
            if v["matched"] == false {
                println!(
                    "the server has no vulnerability database yet (embargo db sync on the server)"
                );
            }
            ExitCode::SUCCESS
        }
        Ok((status, text)) => {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            let message = v["message"].as_str().map_or(text.clone(), str::to_owned);
            fail(format!("the server answered {status}: {message}"))
        }
        Err(e) => fail(e),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks the whole command tree (every subcommand's arguments
    /// are unique, and so on) only when a subcommand is used: check it all.
    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
        super::ScanCommandLine::command().debug_assert();
    }

    /// The scan's own parse takes exactly what the whole tree takes, the
    /// same way, and leaves help, version and every mistake to it.
    #[test]
    fn a_scan_command_line_is_read_as_the_whole_tree_reads_it() {
        use clap::Parser;
        let taken: &[&[&str]] = &[
            &["Cargo.lock"],
            &["a/Cargo.lock", "b/package-lock.json", "dir"],
            &["--db", "x.db", "Cargo.lock", "--format", "json"],
            &["Cargo.lock", "--format=sarif", "--fail-on", "high"],
            &[
                "--ignore",
                "RUSTSEC-2020-0001",
                "--ignore=GHSA-x",
                "Cargo.lock",
            ],
            &[
                "--ignore-file",
                "ignores.toml",
                "--check-vcs-by-version",
                "Cargo.lock",
            ],
            &["-c", "other.toml", "Cargo.lock"],
            &[
                "Cargo.lock",
                "--config=other.toml",
                "--format",
                "cyclonedx-vex",
            ],
            &["--", "--odd-name.lock"],
        ];
        for args in taken {
            let argv: Vec<&str> = ["embargo", "scan"]
                .iter()
                .chain(args.iter())
                .copied()
                .collect();
            let whole = match super::Cli::try_parse_from(&argv).unwrap().command {
                super::Command::Scan(a) => format!("{a:?}"),
                other => panic!("{argv:?} parsed as {other:?}"),
            };
            let own = super::scan_command_line(&argv).map(|a| format!("{a:?}"));
            assert_eq!(own, Some(whole), "{argv:?}");
        }
        let left: &[&[&str]] = &[
            &["embargo", "scan", "--help"],
            &["embargo", "scan", "-h"],
            &["embargo", "scan", "--version"],
            &["embargo", "scan"],
            &["embargo", "scan", "Cargo.lock", "--format", "xml"],
            &["embargo", "scan", "Cargo.lock", "--fail-on", "none"],
            &["embargo", "scan", "Cargo.lock", "--unknown"],
            &["embargo", "db", "import", "x.zip"],
            &["embargo", "--config", "x.toml", "scan", "Cargo.lock"],
            &["embargo"],
        ];
        for argv in left {
            assert!(super::scan_command_line(*argv).is_none(), "{argv:?}");
        }
        // Those the whole tree takes, it reads as a scan.
        assert!(matches!(
            super::Cli::try_parse_from(["embargo", "--config", "x.toml", "scan", "Cargo.lock"])
                .unwrap()
                .command,
            super::Command::Scan(_)
        ));
    }
}
