//! Slots filled on first use, one per package or advisory of the database,
//! whose memory is allocated only for the part a lookup reaches.
//!
//! A flat `Vec<OnceLock<T>>` is written whole when it is made: 16 to 32
//! bytes for each of the database's packages and advisories, 50 KB for the
//! crates.io feed and 6 MB for a 300,000-advisory one, every page of it
//! touched (a page fault each) by a scan that looks up six packages. Here
//! the slots come in chunks made on the first lookup inside them, so a scan
//! touches the chunks of the packages it names and no more.

use std::sync::OnceLock;

/// Slots per chunk: small enough that a lookup touches little, large enough
/// that the table of chunks stays small (4,700 entries for 300,000 slots).
const CHUNK: usize = 64;

/// `len` slots, each set at most once and read without a lock thereafter.
#[derive(Clone)]
pub(crate) struct LazySlots<T> {
    chunks: Vec<OnceLock<Box<[OnceLock<T>]>>>,
    len: usize,
}

impl<T> LazySlots<T> {
    pub(crate) fn new(len: usize) -> Self {
        LazySlots {
            chunks: (0..len.div_ceil(CHUNK)).map(|_| OnceLock::new()).collect(),
            len,
        }
    }

    /// Slot `i`, or `None` past the end. Its chunk is made on first use.
    pub(crate) fn slot(&self, i: usize) -> Option<&OnceLock<T>> {
        if i >= self.len {
            return None;
        }
        let first = i - i % CHUNK;
        let chunk = self.chunks[i / CHUNK].get_or_init(|| {
            (first..self.len.min(first + CHUNK))
                .map(|_| OnceLock::new())
                .collect()
        });
        chunk.get(i % CHUNK)
    }

    /// How many chunks have been made: what lookups have touched.
    fn chunks_made(&self) -> usize {
        self.chunks.iter().filter(|c| c.get().is_some()).count()
    }
}

impl<T> std::fmt::Debug for LazySlots<T> {
    /// The size and what has been touched; the values are the database's
    /// records, printed by whoever reads them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazySlots")
            .field("len", &self.len)
            .field("chunks_made", &self.chunks_made())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slot_is_reachable_once_and_no_further() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 3] {
            let slots: LazySlots<usize> = LazySlots::new(len);
            assert!(slots.slot(len).is_none(), "slot {len} of {len}");
            for i in 0..len {
                let slot = slots.slot(i).expect("within the length");
                assert_eq!(*slot.get_or_init(|| i), i);
                // A second fill keeps the first value.
                assert_eq!(*slot.get_or_init(|| usize::MAX), i);
            }
            for i in 0..len {
                assert_eq!(slots.slot(i).and_then(OnceLock::get), Some(&i));
            }
        }
    }

    #[test]
    fn a_lookup_makes_only_the_chunk_it_falls_in() {
        let slots: LazySlots<u32> = LazySlots::new(300_000);
        assert_eq!(slots.chunks_made(), 0);
        slots.slot(7).expect("slot 7");
        slots.slot(CHUNK - 1).expect("the first chunk's last slot");
        assert_eq!(slots.chunks_made(), 1);
        slots.slot(299_999).expect("the last slot");
        assert_eq!(slots.chunks_made(), 2);
    }

    #[test]
    fn slots_filled_from_many_threads_hold_one_value_each() {
        let slots: LazySlots<usize> = LazySlots::new(10 * CHUNK);
        std::thread::scope(|s| {
            for t in 0..4 {
                let slots = &slots;
                s.spawn(move || {
                    for i in 0..10 * CHUNK {
                        let slot = slots.slot(i).expect("within the length");
                        slot.get_or_init(|| i * 10 + t);
                    }
                });
            }
        });
        for i in 0..10 * CHUNK {
            let v = *slots.slot(i).and_then(OnceLock::get).expect("filled");
            assert_eq!(v / 10, i, "slot {i} holds another slot's value");
        }
    }
}
