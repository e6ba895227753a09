//! `embargo user` and `embargo token`: team members and their API tokens.

use embargo_server::app::accounts::{add_member, create_token};
use embargo_store::Store;

use super::*;

pub(crate) async fn user(store: Store, cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Add { username, role } => {
            let (user, password) = add_member(&store, &username, role, None, now())
                .await
                .map_err(|e| CliError::Message(e.message))?;
            println!("added {} ({})", user.username, user.role);
            if let Some(password) = password {
                println!("password: {password}  (shown once)");
            }
        }
        UserCommand::List => {
            let users = store.list_users().await?;
            println!("{:<32} {:<10} {:<9} created", "username", "role", "status");
            for u in users {
                println!(
                    "{:<32} {:<10} {:<9} {}",
                    u.username,
                    u.role,
                    if u.disabled { "disabled" } else { "active" },
                    u.created_at.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
        UserCommand::Disable { username } => {
            store.set_user_disabled(&username, true).await?;
            println!("disabled {username}; their sessions ended and their tokens stop working");
        }
        UserCommand::Enable { username } => {
            store.set_user_disabled(&username, false).await?;
            println!("enabled {username}");
        }
    }
    Ok(())
}

pub(crate) async fn token(store: Store, cmd: TokenCommand) -> Result<()> {
    match cmd {
        TokenCommand::Create { user, name } => {
            let owner = store.user(&user).await?;
            let (secret, record) = create_token(&store, &owner, &name, now()).await?;
            println!(
                "token {} for {} ({}):",
                record.id, owner.username, record.name
            );
            println!("{secret}");
            eprintln!("shown once: store it now. Send it as `Authorization: Bearer TOKEN`.");
        }
        TokenCommand::List => {
            println!("{:>5} {:<24} {:<32} status", "id", "user", "name");
            for t in store.list_api_tokens(None).await? {
                let status = match t.revoked_at {
                    Some(at) => format!("revoked {}", at.format("%Y-%m-%d")),
                    None => "active".into(),
                };
                println!("{:>5} {:<24} {:<32} {status}", t.id, t.username, t.name);
            }
        }
        TokenCommand::Revoke { id } => {
            let t = store.revoke_api_token(id, now()).await?;
            println!("revoked token {} ({}, {})", t.id, t.name, t.username);
        }
    }
    Ok(())
}
