//! Numbered pages of a list with a total (the desk's queue and findings,
//! the public advisory index): which page, which items it holds, and the
//! links either way, worked out in one place.

use serde::Serialize;

/// Where one page sits in a list of `total` items, `per_page` a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageOf {
    pub total: u64,
    pub per_page: u64,
    /// This page's number, from 1.
    pub page: u64,
    /// How many pages there are (1 for an empty list).
    pub pages: u64,
}

impl PageOf {
    /// Page `requested` (from 1); a page past the end is the last one (a
    /// desk list shrinks as work is done: its last page is what was meant).
    #[must_use]
    pub fn clamped(total: u64, per_page: u64, requested: u64) -> Self {
        let per_page = per_page.max(1);
        let pages = total.div_ceil(per_page).max(1);
        PageOf {
            total,
            per_page,
            page: requested.clamp(1, pages),
            pages,
        }
    }

    /// Page `requested`, or `None` past the end (a public list is linked
    /// to, and a stale link should say so).
    #[must_use]
    pub fn exact(total: u64, per_page: u64, requested: u64) -> Option<Self> {
        let place = PageOf::clamped(total, per_page, requested);
        (place.page == requested).then_some(place)
    }

    /// How many items come before this page.
    #[must_use]
    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.per_page
    }

    /// What a template shows: items `from`–`to` of `total`, page `page` of
    /// `pages`, with `link(n)` to the pages either side.
    pub fn paging(&self, shown: usize, link: impl Fn(u64) -> String) -> Paging {
        let first = self.offset();
        Paging {
            total: self.total,
            from: if self.total == 0 || shown == 0 {
                0
            } else {
                first + 1
            },
            to: first + shown as u64,
            page: self.page,
            pages: self.pages,
            previous: (self.page > 1).then(|| link(self.page - 1)),
            next: (self.page < self.pages).then(|| link(self.page + 1)),
        }
    }
}

/// A page's place for a template (`paging.from`, `paging.next`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Paging {
    pub total: u64,
    pub from: u64,
    pub to: u64,
    pub page: u64,
    pub pages: u64,
    pub previous: Option<String>,
    pub next: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_count_clamp_and_link_either_way() {
        let link = |n: u64| format!("?page={n}");
        let empty = PageOf::clamped(0, 50, 3);
        assert_eq!((empty.page, empty.pages), (1, 1));
        let p = empty.paging(0, link);
        assert_eq!((p.from, p.to, p.previous, p.next), (0, 0, None, None));

        let middle = PageOf::clamped(120, 50, 2);
        assert_eq!(middle.offset(), 50);
        let p = middle.paging(50, link);
        assert_eq!((p.from, p.to, p.pages), (51, 100, 3));
        assert_eq!(p.previous.as_deref(), Some("?page=1"));
        assert_eq!(p.next.as_deref(), Some("?page=3"));

        let past = PageOf::clamped(120, 50, 9);
        assert_eq!(past.page, 3, "past the end: the last page");
        let p = past.paging(20, link);
        assert_eq!((p.from, p.to, p.next), (101, 120, None));

        assert_eq!(PageOf::exact(120, 50, 9), None);
        assert_eq!(PageOf::exact(120, 50, 0), None);
        assert_eq!(PageOf::exact(0, 50, 1).map(|p| p.page), Some(1));
        assert_eq!(
            PageOf::clamped(10, 0, 1).pages,
            10,
            "a zero page size reads as 1"
        );
    }
}
