//! An OSV record from arbitrary JSON: parsed, then imported and matched.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(record) = serde_json::from_slice::<embargo_vulndb::osv::Record>(data) else {
        return;
    };
    let names: Vec<(String, String)> = record
        .affected
        .iter()
        .filter_map(|a| {
            a.package
                .as_ref()
                .map(|p| (p.ecosystem.clone(), p.name.clone()))
        })
        .collect();
    let (db, _) = embargo_vulndb::db::Database::build([Ok(record)]);
    for (ecosystem, name) in names {
        if let Ok(e) = ecosystem.parse::<embargo_vulndb::version::Ecosystem>() {
            let _ = db.matches(e, &name, "1.0.0");
        }
    }
});
