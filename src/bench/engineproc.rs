//! The engine in its own process for `bench faults`: `helpline serve --config <generated file>` against the
//! simulator's ARI, with the generated config (the run's database, journal and recordings), the
//! address of its HTTP side read from its first line on stdout, its `/health` read over a plain HTTP/1.0
//! request, and the ways to stop it (SIGKILL, SIGTERM). Dropping an [`EngineProcess`] kills the process.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Child;

use super::BenchError;
use super::load::io_err;
use super::simproc::ARI_APP;

/// The engine's config file: the simulator's ARI, the database `db_url`, journal and recordings under `work`.
pub(super) fn engine_config(
    work: &Path,
    db_url: &str,
    ari_url: &str,
    username: &str,
    audio: &Path,
    grace: u64,
) -> String {
    let path = |p: PathBuf| toml_string(&p.display().to_string());
    format!(
        "[ari]\nurl = {url}\nusername = {user}\napp = {app}\nrequest_timeout_seconds = 5\nconnect_timeout_seconds = 2\n\n\
         [database]\nurl = {db}\n\n\
         [storage]\njournal_dir = {journal}\nrecordings_dir = {recordings}\n\n\
         [ivr]\nscripts_dir = {scripts}\nscript = \"1100\"\naudio_dir = {audio}\n\n\
         [http]\nlisten = \"127.0.0.1:0\"\n\n\
         [limits]\nmax_concurrent_calls = 2000\nshutdown_grace_seconds = {grace}\n\n\
         [fallback]\nimport_seconds = 5\n\n\
         [log]\nlevel = \"info\"\n",
        url = toml_string(ari_url),
        user = toml_string(username),
        app = toml_string(ARI_APP),
        db = toml_string(db_url),
        journal = path(work.join("tickets/journal")),
        recordings = path(work.join("tickets/recordings")),
        scripts = path(work.join("scripts")),
        audio = path(audio.to_owned()),
    )
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// How the engine child is started (again and again).
#[derive(Debug, Clone)]
pub(super) struct EngineSpec {
    pub(super) exe: PathBuf,
    pub(super) config: PathBuf,
    pub(super) password: String,
    pub(super) log: PathBuf,
}

/// The engine in its own process (`helpline serve`). Dropping it kills it.
#[derive(Debug)]
pub(super) struct EngineProcess {
    child: Child,
    http: SocketAddr,
}

/// How long the engine may take to listen and connect to ARI.
pub(super) const ENGINE_START: Duration = Duration::from_secs(30);

impl EngineProcess {
    /// Starts `exe --config FILE serve` and waits until its HTTP side listens (not yet until ARI is up).
    pub(super) async fn start(spec: &EngineSpec) -> Result<EngineProcess, BenchError> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&spec.log)
            .map_err(io_err(format!("cannot open {}", spec.log.display())))?;
        let mut command = tokio::process::Command::new(&spec.exe);
        // The generated file alone configures it: the environment would win over the file.
        for (key, _) in std::env::vars_os() {
            if key.to_str().is_some_and(|k| k.starts_with("HELPLINE_")) {
                command.env_remove(&key);
            }
        }
        let mut child = command
            .env_remove("DATABASE_URL")
            .env("HELPLINE_ARI_PASSWORD", &spec.password)
            .arg("--config")
            .arg(&spec.config)
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| BenchError::Spawn {
                exe: spec.exe.clone(),
                source,
            })?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| BenchError::Engine("the engine has no stdout".to_owned()))?;
        let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
        // Reads the address from "helpline serving: http://ADDR/health …", then keeps the pipe drained.
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            let mut addr_tx = Some(addr_tx);
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.strip_prefix("helpline serving: http://")
                    && let Some(addr) = rest.split('/').next()
                    && let Ok(addr) = addr.parse::<SocketAddr>()
                    && let Some(tx) = addr_tx.take()
                {
                    let _ = tx.send(addr);
                }
            }
        });
        let http = match tokio::time::timeout(ENGINE_START, addr_rx).await {
            Ok(Ok(addr)) => addr,
            Ok(Err(_)) => {
                let status = child.wait().await.map_err(BenchError::ChildIo)?;
                return Err(BenchError::Engine(format!(
                    "it exited ({status}) before serving; see {}",
                    spec.log.display()
                )));
            }
            Err(_) => {
                return Err(BenchError::Timeout {
                    what: format!("the engine serving HTTP (log: {})", spec.log.display()),
                    after: ENGINE_START,
                });
            }
        };
        Ok(EngineProcess { child, http })
    }

    /// `/health` as JSON.
    pub(super) async fn health(&self) -> Result<serde_json::Value, BenchError> {
        let fetch = async {
            let mut stream = tokio::net::TcpStream::connect(self.http).await?;
            stream
                .write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                .await?;
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).await?;
            Ok::<_, std::io::Error>(answer)
        };
        let answer = tokio::time::timeout(Duration::from_secs(3), fetch)
            .await
            .map_err(|_| BenchError::Timeout {
                what: "an answer from the engine's /health".to_owned(),
                after: Duration::from_secs(3),
            })?
            .map_err(|e| BenchError::Engine(format!("/health: {e}")))?;
        let text = String::from_utf8_lossy(&answer);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, body)| body)
            .ok_or_else(|| {
                BenchError::Engine(format!("/health answered without a body: {text}"))
            })?;
        serde_json::from_str(body)
            .map_err(|e| BenchError::Engine(format!("/health answered {body:?}: {e}")))
    }

    /// Whether ARI is connected, per `/health` (`false` while it cannot be asked).
    pub(super) async fn connected(&self) -> bool {
        self.health()
            .await
            .is_ok_and(|h| h["ari"]["state"] == "connected")
    }

    /// Waits until ARI is connected.
    pub(super) async fn wait_connected(&mut self, within: Duration) -> Result<(), BenchError> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(BenchError::Engine(format!(
                    "it exited ({status}) before connecting to ARI"
                )));
            }
            if self.connected().await {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(BenchError::Timeout {
                    what: "the engine connecting to the simulator's ARI".to_owned(),
                    after: within,
                });
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits (bounded) until the engine holds no call and its journal is empty; `false` on timeout.
    pub(super) async fn wait_idle(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(h) = self.health().await
                && h["calls_in_progress"] == 0
                && h["database"]["journal_pending"] == 0
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    }

    /// SIGKILL, and reaps it.
    pub(super) async fn kill9(mut self) -> Result<(), BenchError> {
        self.child.start_kill().map_err(BenchError::ChildIo)?;
        self.child.wait().await.map_err(BenchError::ChildIo)?;
        Ok(())
    }

    /// SIGTERM, then waits for it to exit (SIGKILL after `within`).
    pub(super) async fn terminate(mut self, within: Duration) -> Result<(), BenchError> {
        let pid = self
            .child
            .id()
            .ok_or_else(|| BenchError::Engine("the engine has already exited".to_owned()))?;
        // `kill` rather than libc: this crate forbids unsafe code.
        let status = tokio::process::Command::new("kill")
            .args(["-s", "TERM", &pid.to_string()])
            .status()
            .await
            .map_err(|e| BenchError::Fault(format!("cannot run kill: {e}")))?;
        if !status.success() {
            return Err(BenchError::Fault(format!("kill -s TERM {pid}: {status}")));
        }
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(waited) => waited.map(|_| ()).map_err(BenchError::ChildIo),
            Err(_) => {
                let _ = self.child.kill().await;
                Err(BenchError::Timeout {
                    what: "the engine exiting after SIGTERM".to_owned(),
                    after: within,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_config_is_one_the_helpline_accepts() {
        let work = Path::new("/tmp/a \"quoted\" dir");
        let text = engine_config(
            work,
            "postgres://postgres@127.0.0.1:5433/x",
            "http://127.0.0.1:1234",
            "asterisk",
            Path::new("/x/audio"),
            7,
        );
        let value: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(value["ari"]["url"].as_str(), Some("http://127.0.0.1:1234"));
        assert_eq!(
            value["database"]["url"].as_str(),
            Some("postgres://postgres@127.0.0.1:5433/x")
        );
        assert_eq!(
            value["storage"]["journal_dir"].as_str(),
            Some("/tmp/a \"quoted\" dir/tickets/journal")
        );
        assert_eq!(
            value["limits"]["shutdown_grace_seconds"].as_integer(),
            Some(7)
        );
    }
}
