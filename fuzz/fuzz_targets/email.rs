//! Messages the security mailbox takes in: what it reads from arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(seen) = embargo_server::mailbox::examine(data) {
        let _ = seen.reply_text();
    }
});
