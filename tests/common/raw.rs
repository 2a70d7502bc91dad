//! A client that speaks raw HTTP/1.1 and engine.io long-polling over a plain TCP stream,
//! as an attacker would: every request written by hand, every answer read as bytes.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::WAIT;

/// One HTTP answer: its status code, head and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    /// An answer read off the wire: its status line, head and (de-chunked) body.
    fn parse(bytes: &[u8]) -> Self {
        let text = String::from_utf8_lossy(bytes).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_owned()
        };
        Answer {
            status,
            head: head.to_owned(),
            body,
        }
    }

    /// The session id of an engine.io handshake's answer.
    pub fn sid(&self) -> String {
        let after = self
            .body
            .split("\"sid\":\"")
            .nth(1)
            .expect("a handshake answer");
        after.split('"').next().unwrap().to_owned()
    }

    /// The value of header `name` (lowercase), when the answer has it.
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

/// `host:port` of a `http://host:port` url.
pub fn host(url: &str) -> &str {
    url.trim_start_matches("http://")
}

/// Sends one request on a fresh connection (`Connection: close`) and reads the answer.
pub async fn request(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut stream = TcpStream::connect(host(url)).await.unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        host(url)
    );
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    if method == "POST" {
        req.push_str(&format!(
            "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut bytes))
        .await
        .expect("the server answers in time")
        .unwrap();
    Answer::parse(&bytes)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// An engine.io long-polling session, spoken by hand.
pub struct Polling {
    url: String,
    pub sid: String,
}

impl Polling {
    /// Opens a session (the handshake) and joins namespace `/`.
    pub async fn connect(url: &str) -> Self {
        let open = request(url, "GET", "/socket.io/?EIO=4&transport=polling", &[], "").await;
        assert_eq!(open.status, 200, "handshake: {open:?}");
        let session = Self {
            url: url.to_owned(),
            sid: open.sid(),
        };
        session.post("40").await;
        let connected = session.next().await;
        assert!(connected.starts_with("40"), "CONNECT answered: {connected}");
        session
    }

    fn path(&self) -> String {
        format!("/socket.io/?EIO=4&transport=polling&sid={}", self.sid)
    }

    /// Sends packets (joined with engine.io's record separator).
    pub async fn post(&self, body: &str) -> Answer {
        request(&self.url, "POST", &self.path(), &[], body).await
    }

    /// Waits for the next packets the server has for this session.
    pub async fn get(&self) -> String {
        request(&self.url, "GET", &self.path(), &[], "").await.body
    }

    /// The next packets that are not pings (which it answers), joined with the record
    /// separator.
    pub async fn next(&self) -> String {
        loop {
            let body = self.get().await;
            let packets: Vec<&str> = body.split('\u{1e}').collect();
            if packets.contains(&"2") {
                self.post("3").await;
            }
            let rest: Vec<&str> = packets.into_iter().filter(|p| *p != "2").collect();
            if !rest.is_empty() {
                return rest.join("\u{1e}");
            }
        }
    }
}

/// Whether the server closes `stream` within `limit`: it reads end-of-file (or a reset)
/// before the limit, with whatever the server wrote before closing skipped.
pub async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// Sends a websocket upgrade request and reads the answer's head only (a `101` leaves
/// the connection open: the head is all there is to read).
pub async fn upgrade(url: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut stream = TcpStream::connect(host(url)).await.unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n", host(url));
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    let mut buf = [0u8; 1024];
    tokio::time::timeout(WAIT, async {
        while !bytes.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("the server answers the upgrade in time");
    Answer::parse(&bytes)
}
