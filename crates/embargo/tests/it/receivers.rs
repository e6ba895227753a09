//! Receivers that answer slowly, as real ones under load do: a webhook
//! endpoint and an SMTP server. Each counts what it was given by the key a
//! receiver de-duplicates on (`Embargo-Delivery`, `Message-ID`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// How long the receiver takes for its `n`th request (from 0).
pub type Latency = Arc<dyn Fn(u64) -> Duration + Send + Sync>;

pub fn fixed(latency: Duration) -> Latency {
    Arc::new(move |_| latency)
}

/// What a receiver was given: how many times each key arrived.
#[derive(Clone, Default)]
pub struct Received(Arc<Mutex<BTreeMap<String, u32>>>);

impl Received {
    fn add(&self, key: String) {
        *self.0.lock().unwrap().entry(key).or_default() += 1;
    }

    pub fn counts(&self) -> BTreeMap<String, u32> {
        self.0.lock().unwrap().clone()
    }

    /// Messages received in all, repeats included.
    pub fn total(&self) -> u32 {
        self.0.lock().unwrap().values().sum()
    }

    /// The keys that arrived more than once, with how many times.
    pub fn repeated(&self) -> BTreeMap<String, u32> {
        self.counts().into_iter().filter(|(_, n)| *n > 1).collect()
    }
}

/// A webhook endpoint at `http://ADDR/hook` that answers 200 after the
/// latency, counting the `Embargo-Delivery` keys.
pub async fn slow_webhook(latency: Latency) -> (String, Received) {
    let received = Received::default();
    let served = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let received = received.clone();
            move |headers: axum::http::HeaderMap| async move {
                let key = headers
                    .get("embargo-delivery")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("(no key)")
                    .to_owned();
                // Counted on arrival: a request the sender gave up on still
                // reached the receiver.
                received.add(key);
                let n = served.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(latency(n)).await;
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, received)
}

/// A plain SMTP server (no TLS, no authentication) that accepts every
/// message after the latency, counting the `Message-ID`s.
pub async fn slow_smtp(latency: Latency) -> (SocketAddr, Received) {
    let received = Received::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = Arc::new(AtomicU64::new(0));
    let counted = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (received, latency, served) = (counted.clone(), latency.clone(), served.clone());
            tokio::spawn(async move {
                let _ = smtp_session(socket, &received, &latency, &served).await;
            });
        }
    });
    (addr, received)
}

async fn smtp_session(
    socket: tokio::net::TcpStream,
    received: &Received,
    latency: &Latency,
    served: &AtomicU64,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 slow.test ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.trim_end().to_ascii_uppercase();
        if verb.starts_with("EHLO") {
            write
                .write_all(b"250-slow.test\r\n250 8BITMIME\r\n")
                .await?;
        } else if verb.starts_with("DATA") {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut message_id = String::from("(no Message-ID)");
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                if let Some(id) = line
                    .strip_prefix("Message-ID:")
                    .or_else(|| line.strip_prefix("Message-Id:"))
                {
                    message_id = id.trim().to_owned();
                }
            }
            received.add(message_id);
            let n = served.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(latency(n)).await;
            write.write_all(b"250 queued\r\n").await?;
        } else if verb.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"250 ok\r\n").await?;
        }
    }
}
