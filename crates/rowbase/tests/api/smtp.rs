//! A local SMTP sink for the tests: it answers a client as a mail server would (greeting,
//! EHLO, MAIL, RCPT, DATA, QUIT) and keeps each message's text, so a test reads the links
//! Rowbase mailed.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A running sink.
pub struct Sink {
    /// Its port on 127.0.0.1.
    pub port: u16,
    messages: Arc<Mutex<Vec<String>>>,
}

impl Sink {
    /// The messages received so far (headers and body, quoted-printable soft breaks and `=3D`
    /// undone).
    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }
}

/// Starts a sink on a free port.
pub async fn sink() -> Sink {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&messages);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let kept = Arc::clone(&kept);
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            let _ = write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await;
                            let mut text = String::new();
                            while let Ok(Some(line)) = lines.next_line().await {
                                if line == "." {
                                    break;
                                }
                                text.push_str(&line);
                                text.push('\n');
                            }
                            let decoded = text.replace("=\n", "").replace("=3D", "=");
                            kept.lock().unwrap().push(decoded);
                            b"250 kept\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 OK\r\n",
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    Sink { port, messages }
}
