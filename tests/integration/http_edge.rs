//! The HTTP edge of a real node (issue 10): slow and silent clients are cut off by the header-read
//! timeout while others are served, a flood of them never starves `/health`, a request that outlasts
//! its time is answered 408, and connections past the cap hear 503 with `Retry-After` at once.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{TestNode, role_token};

/// A node whose edge limits are short enough to watch: headers within 1 s, requests within 2 s,
/// 16 connections.
async fn edge_node(tag: &str) -> TestNode {
    TestNode::start_configured(tag, |config| {
        config.http.header_read_timeout = Duration::from_secs(1);
        config.http.request_timeout = Duration::from_secs(2);
        config.http.max_connections = 16;
    })
    .await
}

/// One request on its own connection (`Connection: close`): the status and the raw head.
async fn request(addr: SocketAddr, head: &str) -> (u16, String) {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    };
    let answer = tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .expect("answered within 5 s");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    (status, answer)
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: helpline\r\nConnection: close\r\n\r\n"),
    )
    .await
}

/// Waits until the server closes `stream` (EOF or reset); how long it took.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return start.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

#[tokio::test]
async fn a_client_dribbling_half_a_header_is_cut_off_while_others_are_served() {
    let t = edge_node("edge-slowloris").await;
    let addr = t.node.http_addr();
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: helpline\r\n")
        .await
        .unwrap();
    // Dribble a header byte every 200 ms: activity does not extend the header-read timeout.
    let start = Instant::now();
    let (mut reader, mut writer) = slow.into_split();
    let dribbler = tokio::spawn(async move {
        for byte in b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter() {
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    // Meanwhile, another client is served at once.
    let served = Instant::now();
    let (status, _) = get(addr, "/health").await;
    assert_eq!(status, 200);
    assert!(
        served.elapsed() < Duration::from_millis(500),
        "{:?}",
        served.elapsed()
    );
    let mut buf = [0u8; 1024];
    let cut = tokio::time::timeout(Duration::from_secs(4), async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return start.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("the slow client is cut off");
    assert!(
        cut >= Duration::from_millis(900) && cut < Duration::from_millis(2500),
        "cut off after {cut:?}, the timeout is 1 s"
    );
    dribbler.abort();
    // A connection that says nothing at all, and an idle keep-alive one, go the same way.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(3))
            .await
            .is_some()
    );
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: helpline\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 4096];
    let n = idle.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"));
    let idle_for = closed_within(&mut idle, Duration::from_secs(3)).await;
    assert!(
        idle_for.is_some_and(|d| d >= Duration::from_millis(900)),
        "{idle_for:?}"
    );
    t.stop().await;
}

#[tokio::test]
async fn a_flood_of_silent_connections_does_not_starve_health() {
    let t = edge_node("edge-flood").await;
    let addr = t.node.http_addr();
    // 40 silent connections: 16 fill the cap, the rest are let in past it.
    let mut silent = Vec::new();
    for _ in 0..40 {
        silent.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let answered = Instant::now();
    let (status, _) = get(addr, "/health").await;
    assert_eq!(status, 200, "/health is answered past the cap");
    assert!(answered.elapsed() < Duration::from_millis(500));
    let (status, head) = get(addr, "/api/v1/openapi.json").await;
    assert_eq!(status, 503, "{head}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 1"),
        "{head}"
    );
    assert!(head.contains("\"unavailable\""), "{head}");

    // 300 more: those past the overflow are closed at once; every one is gone within the timeout.
    for _ in 0..300 {
        silent.push(TcpStream::connect(addr).await.unwrap());
    }
    let start = Instant::now();
    for stream in &mut silent {
        let left = Duration::from_secs(4).saturating_sub(start.elapsed());
        assert!(
            closed_within(stream, left).await.is_some(),
            "every silent connection is closed within the header-read timeout"
        );
    }
    assert!(start.elapsed() < Duration::from_millis(2500));
    // The cap is free again: the API is served.
    let (status, head) = get(addr, "/api/v1/openapi.json").await;
    assert_eq!(status, 200, "{head}");
    t.stop().await;
}

#[tokio::test]
async fn a_request_whose_body_never_ends_is_answered_408_within_the_request_timeout() {
    let t = edge_node("edge-slow-body").await;
    let addr = t.node.http_addr();
    let token = role_token(t.node.tickets().store(), tickets::Role::Admin, None).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/tickets HTTP/1.1\r\nHost: helpline\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{{\"source\":"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let start = Instant::now();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("answered before the client gives up")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("\"timeout\""),
        "the API's error body: {answer}"
    );
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(3),
        "{took:?}"
    );
    t.stop().await;
}

/// A header of a raw answer's head, lower-cased name.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n\r\n").next()?.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_personal_data_is_never_cached() {
    let t = edge_node("edge-headers").await;
    let addr = t.node.http_addr();
    let service = t.node.tickets();
    let token = role_token(service.store(), tickets::Role::Admin, None).await;
    let number = service
        .create_from_call(tickets::NewCallTicket {
            call_id: "edge-headers-1".to_owned(),
            caller_number: "+919816012345".to_owned(),
            caller_raw: None,
            language: "hi".to_owned(),
            department_code: "JSV".to_owned(),
            category: None,
            district: None,
            recording: Some(tickets::Recording {
                audio: tickets::RecordingAudio::Bytes(b"RIFF....WAVEfmt audio".to_vec()),
                duration_ms: 3000,
                sha256: None,
            }),
            after_hours: false,
        })
        .await
        .unwrap();
    let authed = |path: String| {
        format!(
            "GET {path} HTTP/1.1\r\nHost: helpline\r\nAuthorization: Bearer {token}\r\n\
             Connection: close\r\n\r\n"
        )
    };
    let answers = [
        (200, get(addr, "/health").await),
        (200, get(addr, "/metrics").await),
        (200, get(addr, "/api/v1/openapi.json").await),
        (
            200,
            request(addr, &authed(format!("/api/v1/tickets/{number}"))).await,
        ),
        (
            200,
            request(addr, &authed("/api/v1/tickets?limit=5".into())).await,
        ),
        (
            200,
            request(addr, &authed(format!("/api/v1/tickets/{number}/recording"))).await,
        ),
        (401, get(addr, "/api/v1/tickets").await),
        (404, get(addr, "/nowhere").await),
    ];
    for (expected, (status, head)) in &answers {
        assert_eq!(status, expected, "{head}");
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            (
                "content-security-policy",
                "default-src 'none'; frame-ancestors 'none'",
            ),
            ("referrer-policy", "no-referrer"),
            ("cache-control", "no-store"),
        ] {
            assert_eq!(header(head, name), Some(value), "{name} in {head}");
        }
    }
    let (_, (_, recording)) = &answers[5];
    assert_eq!(header(recording, "content-type"), Some("audio/wav"));
    let (_, (_, off_api)) = &answers[7];
    assert!(
        off_api.contains("\"not_found\""),
        "a 404 off the API has the API's error body: {off_api}"
    );
    t.stop().await;
}

/// `GET path` from the local address `from` (any of 127.0.0.0/8 reaches the node).
async fn get_from(from: [u8; 4], addr: SocketAddr, path: &str) -> (u16, String) {
    get_from_with(from, addr, path, "").await
}

/// A GET sent from the loopback address `from`, with `extra` header lines (each ending `\r\n`).
async fn get_from_with(from: [u8; 4], addr: SocketAddr, path: &str, extra: &str) -> (u16, String) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::from((from, 0)))
        .expect("a loopback address to send from");
    let mut stream = socket.connect(addr).await.unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: helpline\r\n{extra}Connection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("answered")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    (status, answer)
}

#[tokio::test]
async fn a_client_over_its_rate_hears_429_with_retry_after_and_others_are_not_held_back() {
    let t = TestNode::start_configured("edge-rate", |config| {
        config.http.rate_limit_per_second = Some(2);
        config.http.rate_limit_burst = 5;
    })
    .await;
    let addr = t.node.http_addr();
    let greedy = [127, 0, 0, 1];
    for i in 0..5 {
        let (status, head) = get_from(greedy, addr, "/api/v1/openapi.json").await;
        assert_eq!(status, 200, "request {i} is within the burst: {head}");
    }
    let (status, head) = get_from(greedy, addr, "/api/v1/openapi.json").await;
    assert_eq!(status, 429, "{head}");
    assert!(head.contains("\"too_many_requests\""), "{head}");
    let retry_after: u64 = header(&head, "retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("Retry-After: {head}"));
    assert!((1..=2).contains(&retry_after), "{head}");
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
    // The limit is per client address, and /health is outside it.
    let (status, _) = get_from([127, 0, 0, 2], addr, "/api/v1/openapi.json").await;
    assert_eq!(status, 200, "another client is served");
    let (status, _) = get_from(greedy, addr, "/health").await;
    assert_eq!(status, 200, "/health is not rate limited");
    // After the wait it was told, the client is served again.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    let (status, head) = get_from(greedy, addr, "/api/v1/openapi.json").await;
    assert_eq!(status, 200, "{head}");
    t.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_limit_keys_on_the_client_it_forwards_for() {
    let t = TestNode::start_configured("edge-proxy", |config| {
        config.http.rate_limit_per_second = Some(1);
        config.http.rate_limit_burst = 3;
        config.http.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let addr = t.node.http_addr();
    let proxy = [127, 0, 0, 1];
    let via = |client: &str| format!("X-Forwarded-For: {client}\r\n");
    for i in 0..3 {
        let (status, head) =
            get_from_with(proxy, addr, "/api/v1/openapi.json", &via("198.51.100.1")).await;
        assert_eq!(status, 200, "request {i}: {head}");
    }
    let (status, _) =
        get_from_with(proxy, addr, "/api/v1/openapi.json", &via("198.51.100.1")).await;
    assert_eq!(status, 429, "the client behind the proxy is over its limit");
    // Another client through the same proxy is not: the proxy's address is not the key.
    let (status, head) =
        get_from_with(proxy, addr, "/api/v1/openapi.json", &via("198.51.100.2")).await;
    assert_eq!(status, 200, "{head}");
    // A forged first hop does not move a client off its own bucket.
    let (status, _) = get_from_with(
        proxy,
        addr,
        "/api/v1/openapi.json",
        &via("203.0.113.9, 198.51.100.1"),
    )
    .await;
    assert_eq!(status, 429, "the rightmost untrusted hop is the client");
    // An untrusted peer is keyed on itself, whatever it says.
    let untrusted = [127, 0, 0, 3];
    for i in 0..3 {
        let (status, head) = get_from_with(
            untrusted,
            addr,
            "/api/v1/openapi.json",
            &via(&format!("192.0.2.{i}")),
        )
        .await;
        assert_eq!(status, 200, "request {i}: {head}");
    }
    let (status, _) =
        get_from_with(untrusted, addr, "/api/v1/openapi.json", &via("192.0.2.200")).await;
    assert_eq!(status, 429, "an untrusted peer's header is not believed");
    t.stop().await;
}
