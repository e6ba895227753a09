//! What a team member wants to hear about by email, and when.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Notice, NoticeKind};

/// What a team member wants to hear about by email.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    /// Event kinds; empty means the defaults (new reports and clock warnings and breaches).
    #[serde(default)]
    pub kinds: Vec<NoticeKind>,
    /// Products; empty means all.
    #[serde(default)]
    pub products: Vec<String>,
    /// Kinds to receive once a day in a digest instead of one email each.
    #[serde(default)]
    pub digest: Vec<NoticeKind>,
}

impl Preferences {
    #[must_use]
    pub fn wants(&self, notice: &Notice) -> bool {
        let kind = if self.kinds.is_empty() {
            notice.kind.team_default()
        } else {
            self.kinds.contains(&notice.kind)
        };
        kind && (self.products.is_empty() || self.products.contains(&notice.product))
    }
}
