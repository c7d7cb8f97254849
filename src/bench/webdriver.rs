//! The little of WebDriver `bench board --browser` needs, over plain HTTP to a chromedriver of its
//! own on loopback: a headless Chromium session, go to an address, run a script, end.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::BenchError;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A chromedriver process (ended with this value) and one browser session in it.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    _driver: tokio::process::Child,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium window of 1366×768.
    pub async fn start() -> Result<Browser, BenchError> {
        for program in [CHROMIUM, CHROMEDRIVER] {
            if !Path::new(program).exists() {
                return Err(BenchError::Setup(format!(
                    "{program} is missing (apt-get install chromium chromium-driver)"
                )));
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| BenchError::Setup(format!("a port for chromedriver: {e}")))?
            .port();
        let driver = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| BenchError::Setup(format!("starting {CHROMEDRIVER}: {e}")))?;
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| BenchError::Setup(e.to_string()))?;
        let started = Instant::now();
        while !matches!(http.get(format!("{base}/status")).send().await, Ok(r) if r.status().is_success())
        {
            if started.elapsed() > Duration::from_secs(20) {
                return Err(BenchError::Timeout {
                    what: "chromedriver to start".to_owned(),
                    after: Duration::from_secs(20),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", "--window-size=1366,768"],
            },
        }}});
        let answer = call(
            &http,
            reqwest::Method::POST,
            &format!("{base}/session"),
            Some(capabilities),
        )
        .await?;
        let session = answer["sessionId"]
            .as_str()
            .ok_or_else(|| BenchError::Setup(format!("chromedriver gave no session: {answer}")))?;
        Ok(Browser {
            session: format!("{base}/session/{session}"),
            http,
            _driver: driver,
        })
    }

    /// Opens `url` (waits for the page to load).
    pub async fn go(&self, url: &str) -> Result<(), BenchError> {
        let to = format!("{}/url", self.session);
        call(
            &self.http,
            reqwest::Method::POST,
            &to,
            Some(json!({ "url": url })),
        )
        .await?;
        Ok(())
    }

    /// Runs `script` (a function body; a promise it returns is awaited) and answers its value.
    pub async fn run(&self, script: &str) -> Result<Value, BenchError> {
        let to = format!("{}/execute/sync", self.session);
        let body = json!({ "script": script, "args": [] });
        call(&self.http, reqwest::Method::POST, &to, Some(body)).await
    }

    /// Ends the session (the browser quits; the driver ends when this is dropped).
    pub async fn close(self) -> Result<(), BenchError> {
        call(&self.http, reqwest::Method::DELETE, &self.session, None).await?;
        Ok(())
    }
}

/// One WebDriver command: its `value`, or the driver's error.
async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, BenchError> {
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .map_err(|e| BenchError::Setup(format!("WebDriver {url}: {e}")))?;
    let status = response.status();
    let answer: Value = response
        .json()
        .await
        .map_err(|e| BenchError::Setup(format!("WebDriver {url}: {e}")))?;
    if !status.is_success() {
        return Err(BenchError::Setup(format!(
            "WebDriver {url}: {status}: {}",
            answer["value"]["message"]
        )));
    }
    Ok(answer["value"].clone())
}
