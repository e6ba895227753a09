//! Multipart form bodies (the report form, the portal, attachments): read
//! with the server's limits from arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("multipart/form-data; boundary=XyZ"),
    );
    let body = axum::body::Body::from(data.to_vec());
    let limits = embargo_core::attachment::AttachmentLimits {
        max_bytes: 4096,
        max_count: 3,
    };
    let _ = runtime.block_on(embargo_server::upload::read_form(
        &headers, body, 4096, limits,
    ));
});
