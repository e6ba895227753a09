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

/// Cuts `items`, read one more than `limit` to learn whether another page
/// follows, to `limit`; returns the cursor of the next page (`cursor_of`
/// its last item), or none on the last.
pub(crate) fn next_cursor<T>(
    items: &mut Vec<T>,
    limit: usize,
    cursor_of: impl Fn(&T) -> String,
) -> Option<String> {
    let more = items.len() > limit;
    items.truncate(limit);
    more.then(|| items.last().map(cursor_of)).flatten()
}
