//! `embargo keys`: the encryption keys (list, rotate, prune).

use std::path::Path;
use std::process::ExitCode;

use embargo_store::Store;

use super::init::write_private_file;
use super::*;

pub(crate) async fn keys(config_path: &Path, cmd: KeysCommand) -> Result<ExitCode> {
    let (config, mut keyring) = load(config_path)?;
    match cmd {
        KeysCommand::List => {
            let store = Store::connect(&config.database_url, keyring.clone()).await?;
            let used = store.keys_in_use().await?;
            store.close().await;
            for id in keyring.key_ids() {
                let active = if id == keyring.active_id() {
                    " (active)"
                } else {
                    ""
                };
                let in_use = if used.iter().any(|u| u == id) {
                    "data encrypted under it"
                } else {
                    "unused"
                };
                println!("{id}{active}: {in_use}");
            }
            for missing in used
                .iter()
                .filter(|u| !keyring.key_ids().any(|k| k == u.as_str()))
            {
                println!("{missing}: MISSING from the key file, data under it cannot be read");
            }
        }
        KeysCommand::Rotate => {
            let new_id = keyring.add_key();
            // Save the new key before any data is encrypted under it.
            write_private_file(&config.key_file, keyring.to_file_text().as_bytes(), true)?;
            let store = Store::connect(&config.database_url, keyring).await?;
            let count = store.reencrypt().await?;
            store.close().await;
            println!(
                "new active key {new_id}; re-encrypted {count} values. Restart running servers, \
                 then run `embargo keys prune` to remove keys no longer in use."
            );
        }
        KeysCommand::Prune => {
            let store = Store::connect(&config.database_url, keyring.clone()).await?;
            let used = store.keys_in_use().await?;
            store.close().await;
            let unused: Vec<String> = keyring
                .key_ids()
                .filter(|id| *id != keyring.active_id() && !used.iter().any(|u| u == id))
                .map(str::to_owned)
                .collect();
            for id in &unused {
                keyring.remove_key(id);
            }
            if !unused.is_empty() {
                write_private_file(&config.key_file, keyring.to_file_text().as_bytes(), true)?;
            }
            println!(
                "removed {} unused key(s){}",
                unused.len(),
                if unused.is_empty() {
                    String::new()
                } else {
                    format!(": {}", unused.join(", "))
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
