//! The JSON API's handlers, each documented for the OpenAPI description.

pub mod advisories;
pub mod attachments;
pub mod cases;
pub mod cra;
pub mod notices;
pub mod notifications;
pub mod policy;
pub mod portfolio;
pub mod reporter;
pub mod rules;
pub mod session;
pub mod severity;
pub mod system;
pub mod tokens;
pub mod users;
