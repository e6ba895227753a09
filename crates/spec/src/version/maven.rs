//! Maven versions, ordered as Maven's `ComparableVersion` orders them.
//!
//! A version is split into a tree of items: numbers, qualifiers and
//! sub-lists (a `-`, or a change between digits and letters, opens a
//! sub-list). Known qualifiers order `alpha < beta < milestone < rc <
//! snapshot < (release) < sp`, and unknown qualifiers come after `sp`,
//! alphabetically. Trailing zeros and empty qualifiers are dropped, so `1.0`
//! equals `1` and `1-ga` equals `1`. Every string is some Maven version;
//! only an empty one is refused.

use std::cmp::Ordering;

use super::VersionError;

/// Known qualifiers in their order; the empty qualifier is a release.
const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// Digits without leading zeros ("" for zero), compared by length then text.
    Number(String),
    /// A qualifier's sort key: its rank for a known one, `7-name` otherwise.
    Qualifier(String),
    List(Vec<Item>),
}

/// A parsed Maven version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maven {
    items: Vec<Item>,
}

impl Maven {
    pub fn parse(text: &str) -> Result<Maven, VersionError> {
        let lower = text.trim().to_lowercase();
        if lower.is_empty() {
            return Err(VersionError::new("Maven", text, "empty version"));
        }
        if lower.len() > 256 {
            return Err(VersionError::new("Maven", text, "longer than 256 bytes"));
        }
        // The tree is built as a stack of open lists; closing one appends it
        // to its parent.
        let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
        let chars: Vec<char> = lower.chars().collect();
        let mut start = 0;
        let mut digit = false;
        let top = |stack: &mut Vec<Vec<Item>>| -> usize { stack.len() - 1 };
        for (i, &c) in chars.iter().enumerate() {
            let piece = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
            if c == '.' || c == '-' {
                let t = top(&mut stack);
                if i == start {
                    stack[t].push(Item::Number(String::new()));
                } else {
                    stack[t].push(item(&piece(start, i), false));
                }
                start = i + 1;
                if c == '-' {
                    open_list(&mut stack);
                }
            } else if c.is_ascii_digit() {
                if !digit && i > start {
                    let t = top(&mut stack);
                    stack[t].push(item(&piece(start, i), true));
                    open_list(&mut stack);
                    start = i;
                }
                digit = true;
            } else {
                if digit && i > start {
                    let t = top(&mut stack);
                    stack[t].push(item(&piece(start, i), false));
                    open_list(&mut stack);
                    start = i;
                }
                digit = false;
            }
        }
        if chars.len() > start {
            let t = top(&mut stack);
            let last: String = chars[start..].iter().collect();
            stack[t].push(item(&last, false));
        }
        while stack.len() > 1 {
            let mut list = stack.pop().unwrap_or_default();
            normalize(&mut list);
            if let Some(parent) = stack.last_mut() {
                parent.push(Item::List(list));
            }
        }
        let mut items = stack.pop().unwrap_or_default();
        normalize(&mut items);
        Ok(Maven { items })
    }
}

/// Normalizes the current list and opens a sub-list under it. The list is
/// normalized before the sub-list joins it, as Maven does.
fn open_list(stack: &mut Vec<Vec<Item>>) {
    if let Some(current) = stack.last_mut() {
        normalize(current);
    }
    stack.push(Vec::new());
}

/// Drops trailing null items (zero, the release qualifier, empty lists),
/// stepping over non-empty sub-lists at the end.
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if is_null(&list[i]) {
            list.pop();
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

fn is_null(item: &Item) -> bool {
    match item {
        Item::Number(n) => n.is_empty(),
        Item::Qualifier(q) => q == &rank(""),
        Item::List(l) => l.is_empty(),
    }
}

fn item(text: &str, followed_by_digit: bool) -> Item {
    if text.chars().all(|c| c.is_ascii_digit()) {
        return Item::Number(text.trim_start_matches('0').to_owned());
    }
    let name = match (followed_by_digit, text) {
        (true, "a") => "alpha",
        (true, "b") => "beta",
        (true, "m") => "milestone",
        (_, "ga" | "final") => "",
        (_, "cr") => "rc",
        (_, other) => other,
    };
    Item::Qualifier(rank(name))
}

/// The sort key of a qualifier.
fn rank(name: &str) -> String {
    match QUALIFIERS.iter().position(|q| *q == name) {
        Some(i) => (i + 1).to_string(),
        None => format!("{}-{name}", QUALIFIERS.len()),
    }
}

fn cmp_numbers(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Compares an item with another or with nothing (the shorter side).
fn cmp_item(a: &Item, b: Option<&Item>) -> Ordering {
    match (a, b) {
        (Item::Number(x), Some(Item::Number(y))) => cmp_numbers(x, y),
        (Item::Number(_), Some(_)) => Ordering::Greater,
        (Item::Number(x), None) => cmp_numbers(x, ""),
        (Item::Qualifier(x), Some(Item::Qualifier(y))) => x.cmp(y),
        (Item::Qualifier(_), Some(_)) => Ordering::Less,
        (Item::Qualifier(x), None) => x.as_str().cmp(rank("").as_str()),
        (Item::List(x), None) => x.first().map_or(Ordering::Equal, |f| cmp_item(f, None)),
        (Item::List(_), Some(Item::Number(_))) => Ordering::Less,
        (Item::List(_), Some(Item::Qualifier(_))) => Ordering::Greater,
        (Item::List(x), Some(Item::List(y))) => cmp_lists(x, y),
    }
}

fn cmp_lists(x: &[Item], y: &[Item]) -> Ordering {
    for i in 0..x.len().max(y.len()) {
        let result = match (x.get(i), y.get(i)) {
            (Some(a), b) => cmp_item(a, b),
            (None, Some(b)) => cmp_item(b, None).reverse(),
            (None, None) => Ordering::Equal,
        };
        if result != Ordering::Equal {
            return result;
        }
    }
    Ordering::Equal
}

impl Ord for Maven {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_lists(&self.items, &other.items)
    }
}

impl PartialOrd for Maven {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        Maven::parse(a).unwrap().cmp(&Maven::parse(b).unwrap())
    }

    #[test]
    fn qualifiers_and_padding_order_as_maven_does() {
        let ordered = [
            "1-alpha",
            "1-alpha2",
            "1-beta",
            "1-m1",
            "1-rc1",
            "1-snapshot",
            "1",
            "1-sp",
            "1-abc",
            "1-1",
            "1.1",
        ];
        for pair in ordered.windows(2) {
            assert_eq!(
                cmp(pair[0], pair[1]),
                Ordering::Less,
                "{} < {}",
                pair[0],
                pair[1]
            );
        }
        assert_eq!(cmp("1.0", "1"), Ordering::Equal);
        assert_eq!(cmp("1.0.0-GA", "1"), Ordering::Equal);
        assert_eq!(cmp("1-final", "1.0"), Ordering::Equal);
        assert_eq!(cmp("1-CR1", "1-rc1"), Ordering::Equal);
        assert_eq!(cmp("2.0.10", "2.0.9"), Ordering::Greater);
        assert_eq!(cmp("1.0.a1", "1.0.alpha1"), Ordering::Equal);
        assert!(Maven::parse("").is_err());
    }
}
