//! What the simulator's socket-level tests share: a simulator at a speed, an ARI app on its own WebSocket
//! (raw, not the `ari` crate), REST calls with the ARI credentials, a simulated caller taken into Stasis.

// Each test binary uses part of this module.
#![allow(dead_code)]

use std::time::Duration;

use ari_sim::{Scenario, SimConfig, SimHandle, Simulator};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

pub const WAIT: Duration = Duration::from_secs(10);

pub async fn sim(speed: f64) -> SimHandle {
    Simulator::start(SimConfig {
        speed,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

/// An ARI app on its own WebSocket.
pub struct App {
    pub events: mpsc::UnboundedReceiver<Value>,
    pub outgoing: mpsc::UnboundedSender<Message>,
    pub closed: tokio::sync::watch::Receiver<bool>,
}

pub async fn app(sim: &SimHandle, name: &str) -> App {
    let url = format!(
        "{}?app={name}&api_key={}:{}",
        sim.ws_url(),
        sim.username(),
        sim.password()
    );
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let (mut sink, mut stream) = ws.split();
    let (tx, events) = mpsc::unbounded_channel();
    let (outgoing, mut out_rx) = mpsc::unbounded_channel::<Message>();
    let (closed_tx, closed) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                msg = out_rx.recv() => match msg {
                    Some(m) => { if sink.send(m).await.is_err() { break; } }
                    None => break,
                },
                msg = stream.next() => match msg {
                    Some(Ok(Message::Text(text))) => { let _ = tx.send(serde_json::from_str::<Value>(&text).unwrap()); }
                    Some(Ok(Message::Pong(_))) => { let _ = tx.send(json!({"type": "__pong"})); }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
            }
        }
        let _ = closed_tx.send(true);
    });
    App {
        events,
        outgoing,
        closed,
    }
}

impl App {
    /// The next event of type `ty` (others are skipped).
    pub async fn next(&mut self, ty: &str) -> Value {
        self.next_where(|e| e["type"] == ty).await
    }

    pub async fn next_where(&mut self, mut f: impl FnMut(&Value) -> bool) -> Value {
        tokio::time::timeout(WAIT, async {
            loop {
                let e = self.events.recv().await.expect("websocket closed");
                if f(&e) {
                    return e;
                }
            }
        })
        .await
        .expect("timed out waiting for an event")
    }

    /// Every event that arrives within `window`.
    pub async fn drain(&mut self, window: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        let _ = tokio::time::timeout(window, async {
            while let Some(e) = self.events.recv().await {
                out.push(e);
            }
        })
        .await;
        out
    }
}

pub struct Rest {
    pub client: reqwest::Client,
    pub base: String,
    pub user: String,
    pub pass: String,
}

pub fn rest(sim: &SimHandle) -> Rest {
    Rest {
        client: reqwest::Client::new(),
        base: sim.base_url(),
        user: sim.username().to_owned(),
        pass: sim.password().to_owned(),
    }
}

impl Rest {
    pub async fn call(&self, method: &str, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let url = format!("{}{}", self.base, path.replace(';', "%3B"));
        let response = self
            .client
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
            .basic_auth(&self.user, Some(&self.pass))
            .query(query)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn bytes(&self, path: &str) -> (u16, String, Vec<u8>) {
        let response = self
            .client
            .get(format!("{}{}", self.base, path))
            .basic_auth(&self.user, Some(&self.pass))
            .send()
            .await
            .unwrap();
        let ct = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (
            response.status().as_u16(),
            ct,
            response.bytes().await.unwrap().to_vec(),
        )
    }
}

/// Places a call, takes its `StasisStart` and answers it; returns the call and its channel.
pub async fn place_and_answer(
    sim: &SimHandle,
    ivr: &mut App,
    ari: &Rest,
    scenario: Scenario,
) -> (u64, String) {
    let call = sim.place_call(scenario).await.unwrap();
    let chan = ivr.next("StasisStart").await["channel"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ari.call("POST", &format!("/channels/{chan}/answer"), &[])
        .await;
    (call, chan)
}
