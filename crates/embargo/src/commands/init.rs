//! `embargo init` (and the first run of `embargo serve`): a new installation.

use std::path::{Path, PathBuf};

use embargo_core::auth::{self, Role};
use embargo_core::crypto::Keyring;
use embargo_core::policy::presets;
use embargo_store::{Store, redact_url};

use super::*;

pub(crate) struct InitReport {
    config_path: PathBuf,
    config: Config,
    admin: String,
    password: String,
}

pub(crate) async fn initialize(config_path: &Path, args: &InitArgs) -> Result<InitReport> {
    if config_path.exists() {
        return Err(message(format!(
            "{} already exists; embargo is initialized there (remove it to start over)",
            config_path.display()
        )));
    }
    auth::validate_username(&args.admin)?;
    let base = config_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut config = Config::new_installation(&args.data_dir, args.database_url.clone());
    if let Some(listen) = &args.listen {
        config.listen.clone_from(listen);
        config.public_url = format!("http://{listen}");
    }
    let data_dir = base.join(&args.data_dir);
    create_private_dir(&data_dir)?;
    let key_path = base.join(&config.key_file);
    if key_path.exists() {
        return Err(message(format!(
            "{} already exists; refusing to replace an encryption key",
            key_path.display()
        )));
    }
    let keyring = Keyring::generate();
    write_private_file(&key_path, keyring.to_file_text().as_bytes(), false)?;
    let policy_path = base.join("policy.toml");
    if !policy_path.exists() {
        let text =
            presets::get("default").ok_or_else(|| message("the default preset is missing"))?;
        std::fs::write(&policy_path, text)
            .map_err(|e| message(format!("cannot write {}: {e}", policy_path.display())))?;
    }

    // Validate by reading back exactly what we wrote.
    let text = config.to_file_text();
    let resolved = Config::from_text(&text, config_path, std::iter::empty())?;
    let store = Store::connect(&resolved.database_url, keyring).await?;
    store.migrate(now()).await?;
    let password = auth::generate_password();
    let hash = auth::hash_password(&password)?;
    store
        .add_user(&args.admin, Role::Admin, &hash, now())
        .await?;
    store.close().await;
    write_private_file(config_path, text.as_bytes(), false)?;
    Ok(InitReport {
        config_path: config_path.to_owned(),
        config: resolved,
        admin: args.admin.clone(),
        password,
    })
}

pub(crate) fn print_init_report(r: &InitReport) {
    println!("embargo: initialized a new installation");
    println!("  configuration   {}", r.config_path.display());
    println!("  database        {}", redact_url(&r.config.database_url));
    println!(
        "  key file        {}  (back it up apart from the database: without it reports cannot be read)",
        r.config.key_file.display()
    );
    if let Some(p) = r.config.policies.first() {
        println!(
            "  policy          {p}  (edit it to say what you promise; `embargo policy check` it)"
        );
    }
    println!("  admin user      {}", r.admin);
    println!(
        "  admin password  {}  (shown once; sign in at /login and change it on /desk/account)",
        r.password
    );
}

pub(crate) fn create_private_dir(path: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(path)
        .map_err(|e| message(format!("cannot create {}: {e}", path.display())))
}

/// Writes a file readable by its owner only. With `replace`, writes a
/// temporary file and renames it over the old one, so a crash never leaves a
/// half-written key file.
pub(crate) fn write_private_file(path: &Path, contents: &[u8], replace: bool) -> Result<()> {
    let target = if replace {
        path.with_extension("tmp")
    } else {
        path.to_owned()
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let err = |e: std::io::Error| message(format!("cannot write {}: {e}", target.display()));
    let mut file = options.open(&target).map_err(err)?;
    file.write_all(contents).map_err(err)?;
    file.sync_all().map_err(err)?;
    if replace {
        std::fs::rename(&target, path)
            .map_err(|e| message(format!("cannot replace {}: {e}", path.display())))?;
    }
    Ok(())
}
