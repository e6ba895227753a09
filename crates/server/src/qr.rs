//! QR codes as SVG, drawn on the server: the second factor's setup shows
//! its `otpauth://` link as a code an authenticator app scans, with no
//! script and no image service.

use qrcodegen::{QrCode, QrCodeEcc};

/// `text` as an SVG QR code (medium error correction, a 4-module quiet
/// zone), or `None` when it does not fit in a QR code.
#[must_use]
pub fn svg(text: &str, label: &str) -> Option<String> {
    let code = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let border = 4;
    let size = code.size() + border * 2;
    let mut path = String::new();
    for y in 0..code.size() {
        for x in 0..code.size() {
            if code.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\" viewBox=\"0 0 {size} {size}\" \
         width=\"240\" height=\"240\" role=\"img\" aria-label=\"{}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#ffffff\"/>\
         <path d=\"{path}\" fill=\"#000000\"/></svg>",
        embargo_core::publish::escape_html(label)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setup_link_becomes_a_square_svg() {
        let drawn = svg(
            "otpauth://totp/Example%20embargo:rita?secret=JBSWY3DPEHPK3PXP&issuer=Example%20embargo",
            "QR code <for> rita",
        )
        .unwrap();
        assert!(drawn.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(
            drawn.contains("aria-label=\"QR code &lt;for&gt; rita\""),
            "escaped"
        );
        // Version 5 or so: 37 modules plus the quiet zone, and many dark ones.
        assert!(drawn.matches('z').count() > 300);
        assert!(svg("x".repeat(5000).as_str(), "too long").is_none());
    }
}
