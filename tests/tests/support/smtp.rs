//! A real SMTP server for the email tests: Debian's aiosmtpd, started by the test on 127.0.0.1,
//! writing what it receives to a Maildir the test reads back.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tempfile::TempDir;
use tokio::process::{Child, Command};

use super::wait::{eventually, PATIENCE};

/// A port on 127.0.0.1 that nothing listens on (yet): a relay that is down until
/// [`Smtp::start_on`] it.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// One mail as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub language: String,
    pub body: String,
}

/// aiosmtpd on 127.0.0.1:`port`, delivering into a Maildir; killed when dropped.
#[derive(Debug)]
pub struct Smtp {
    _child: Child,
    pub port: u16,
    maildir: TempDir,
}

impl Smtp {
    /// A relay on a port of its own.
    pub async fn start() -> Smtp {
        Smtp::start_on(free_port()).await
    }

    /// A relay on `port`, once it listens.
    pub async fn start_on(port: u16) -> Smtp {
        // Debian's python, which has the package; a `python3` on PATH may not.
        let python = "/usr/bin/python3";
        let installed = std::process::Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|status| status.success());
        assert!(
            installed,
            "these tests need a real SMTP server: apt-get install python3-aiosmtpd"
        );
        let maildir = tempfile::tempdir().expect("temp dir");
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir(maildir.path().join(sub)).expect("maildir");
        }
        let mut child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("aiosmtpd starts");
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("aiosmtpd exited before listening: {status}");
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "aiosmtpd does not listen"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Smtp {
            _child: child,
            port,
            maildir,
        }
    }

    /// The `SMTP_URL` of a relay on `port`.
    pub fn url(port: u16) -> String {
        format!("smtp://127.0.0.1:{port}")
    }

    /// Every mail received so far.
    pub fn mails(&self) -> Vec<Mail> {
        let files: Vec<PathBuf> = std::fs::read_dir(self.maildir.path().join("new"))
            .expect("read the maildir")
            .map(|entry| entry.expect("entry").path())
            .collect();
        files
            .iter()
            .map(|file| {
                let bytes = std::fs::read(file).expect("read a mail");
                let parsed = mailparse::parse_mail(&bytes).expect("a well-formed mail");
                let header = |name: &str| {
                    parsed
                        .headers
                        .iter()
                        .find(|h| h.get_key_ref().eq_ignore_ascii_case(name))
                        .map(|h| h.get_value())
                        .unwrap_or_default()
                };
                Mail {
                    to: header("To"),
                    subject: header("Subject"),
                    message_id: header("Message-ID"),
                    language: header("Content-Language"),
                    body: parsed
                        .get_body()
                        .expect("a readable body")
                        .replace("\r\n", "\n"),
                }
            })
            .collect()
    }

    /// Waits until `n` mails have arrived; returns them.
    pub async fn until(&self, n: usize) -> Vec<Mail> {
        eventually(&format!("{n} mails arrive"), || async {
            self.mails().len() >= n
        })
        .await;
        self.mails()
    }
}

/// The mails of `mails` to `address`.
pub fn to<'a>(mails: &'a [Mail], address: &str) -> Vec<&'a Mail> {
    mails.iter().filter(|m| m.to.contains(address)).collect()
}
