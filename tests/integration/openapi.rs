//! The OpenAPI document a node serves is its router's (issue 11): every operation it documents is
//! served (an unauthenticated request reaches the handler's authentication, never the "no such
//! route" fallback nor 405), every method a documented path does not list answers 405, and with
//! the call centre running the document is the whole of `helpline::app::openapi_document()`.

use crate::support::TestNode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_is_the_routers() {
    // Some hundred requests in a burst: no per-client rate limit in the way.
    let t = TestNode::start_configured("openapi", |config| {
        config.http.rate_limit_per_second = None;
    })
    .await;
    let base = format!("http://{}/api/v1", t.node.http_addr());
    let client = reqwest::Client::new();
    let served: serde_json::Value = client
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let full = helpline::app::openapi_document();
    let documented = tickets::api::operations(&full);
    let served_ops: Vec<(String, String)> = served["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let mut expected: Vec<(String, String)> = documented
        .iter()
        .map(|(m, p)| ((*m).to_owned(), p.clone()))
        .collect();
    let mut got = served_ops.clone();
    expected.sort();
    got.sort();
    assert_eq!(
        got, expected,
        "a node with a call centre serves the whole document"
    );
    assert!(got.len() >= 50, "{} operations", got.len());

    const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "PATCH"];
    for (method, path) in &served_ops {
        let url = format!(
            "{base}{}",
            path.replace("{number}", "1000000017")
                .replace("{code}", "JSV")
                .replace("{login}", "asha")
                .replace("{id}", "1")
                .replace("{call}", "c1")
        );
        let answer = client
            .request(method.parse().unwrap(), &url)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        let body = answer.text().await.unwrap_or_default();
        assert!(
            !body.contains("no such route") && status != 405,
            "{method} {path}: {status} {body}"
        );
        for other in METHODS.iter().filter(|m| {
            !served_ops
                .iter()
                .any(|(sm, sp)| sp == path && sm.as_str() == **m)
        }) {
            let s = client
                .request(other.parse().unwrap(), &url)
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(
                s.as_u16(),
                405,
                "{other} {path} is served but not documented"
            );
        }
    }
}
