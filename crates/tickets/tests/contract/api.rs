//! The HTTP API over both backends: each role tried on what it must not reach, object-level checks,
//! bad input (sizes, enums, malformed JSON), recordings, the OpenAPI document.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tickets::api::{ApiState, router};
use tickets::tokens::{NewTokenFor, create_token};
use tickets::{Clock, ComplaintNumber, Recording, RecordingAudio, Role};
use tower::ServiceExt;

use crate::contract;
use crate::lifecycle::call;
use crate::support::Env;

pub(crate) struct Api {
    app: Router,
}

impl Api {
    pub(crate) fn new(env: &Env) -> Api {
        Api {
            app: Router::new().nest("/api/v1", router(ApiState::new(env.service.clone()))),
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Body>,
        json: bool,
    ) -> (StatusCode, Vec<u8>, Option<String>) {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("/api/v1{path}"));
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if json {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        let resp = self
            .app
            .clone()
            .oneshot(req.body(body.unwrap_or_else(Body::empty)).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let ctype = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (status, bytes, ctype)
    }

    pub(crate) async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let has_body = body.is_some();
        let (status, bytes, _) = self
            .send(
                method,
                path,
                Some(token),
                body.map(|b| Body::from(b.to_string())),
                has_body,
            )
            .await;
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, value)
    }
}

/// A token for a new user with this role (an integration: a token with the default scopes).
pub(crate) async fn token(env: &Env, role: Role, dept: Option<&str>) -> String {
    static USERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = USERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let owner = if role == Role::Integration {
        NewTokenFor::Integration {
            name: format!("bot-{n}"),
            scopes: vec![],
        }
    } else {
        let login = format!("{role}-{n}");
        // A fixture: the password hash is never checked (these users only use tokens).
        env.store
            .insert_user(
                &login,
                &format!("Test {role}"),
                role,
                dept,
                "-",
                env.clock.now(),
            )
            .await
            .unwrap()
            .unwrap();
        NewTokenFor::User(login)
    };
    create_token(&env.store, owner, None, None, "test", env.clock.now())
        .await
        .unwrap()
        .token
}

pub(crate) fn new_ticket(dept: &str) -> Value {
    json!({"source": "agent", "caller_number": "9816000001", "language": "hi",
           "department_code": dept, "description": "No water in ward 4 since Monday"})
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error body: {v}"))
}

async fn roles_stay_in_their_lanes(env: Env) {
    let api = Api::new(&env);
    let agent = token(&env, Role::Agent, None).await;
    let supervisor = token(&env, Role::Supervisor, None).await;
    let officer = token(&env, Role::Officer, Some("JSV")).await;
    let admin = token(&env, Role::Admin, None).await;
    let integration = token(&env, Role::Integration, None).await;

    // Filing: agent yes (201), officer no.
    let (s, v) = api
        .call("POST", "/tickets", &agent, Some(new_ticket("JSV")))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let water = v["number"].as_str().unwrap().to_owned();
    let (s, v) = api
        .call("POST", "/tickets", &integration, Some(new_ticket("PWR")))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let power = v["number"].as_str().unwrap().to_owned();
    let (s, v) = api
        .call("POST", "/tickets", &officer, Some(new_ticket("JSV")))
        .await;
    assert_eq!((s, error_code(&v)), (StatusCode::FORBIDDEN, "forbidden"));

    // No token / unknown token.
    let (s, _, _) = api.send("GET", "/tickets", None, None, false).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = api
        .call("GET", "/tickets", "hl_not-a-real-token", None)
        .await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );

    // Officer: own department only — the other one looks like it does not exist.
    let (s, v) = api
        .call("GET", &format!("/tickets/{power}"), &officer, None)
        .await;
    assert_eq!((s, error_code(&v)), (StatusCode::NOT_FOUND, "not_found"));
    for path in ["audit", "notes", "recording"] {
        let (s, _) = api
            .call("GET", &format!("/tickets/{power}/{path}"), &officer, None)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    let (s, _) = api
        .call(
            "POST",
            &format!("/tickets/{power}/status"),
            &officer,
            Some(json!({"status": "in_progress"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = api.call("GET", "/tickets", &officer, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["number"], water);
    let (s, _) = api
        .call("GET", "/tickets?department=PWR", &officer, None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = api
        .call("GET", "/stats?department=PWR", &officer, None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = api.call("GET", "/stats", &officer, None).await;
    assert_eq!((s, v["total"].as_u64()), (StatusCode::OK, Some(1)));

    // Actions each role must not reach.
    let denied: &[(&str, &str, &str, Option<Value>)] = &[
        (&agent, "POST", "assign", Some(json!({"officer": "ee"}))),
        (
            &agent,
            "POST",
            "status",
            Some(json!({"status": "assigned"})),
        ),
        (&agent, "POST", "escalate", Some(json!({"reason": "slow"}))),
        (&agent, "GET", "audit", None),
        (
            &integration,
            "POST",
            "assign",
            Some(json!({"officer": "ee"})),
        ),
        (&integration, "POST", "notes", Some(json!({"text": "x"}))),
        (&integration, "GET", "audit", None),
        (&integration, "GET", "recording", None),
        (&officer, "POST", "assign", Some(json!({"officer": "ee"}))),
        (
            &officer,
            "POST",
            "escalate",
            Some(json!({"reason": "slow"})),
        ),
        (
            &officer,
            "POST",
            "feedback",
            Some(json!({"satisfied": true})),
        ),
    ];
    for (tok, method, path, body) in denied {
        let (s, v) = api
            .call(
                method,
                &format!("/tickets/{water}/{path}"),
                tok,
                body.clone(),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{method} {path}: {v}");
    }
    for tok in [&agent, &supervisor, &officer, &integration] {
        let (s, _) = api
            .call(
                "PATCH",
                "/departments/JSV",
                tok,
                Some(json!({"sla_days": 3})),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    for tok in [&agent, &integration] {
        let (s, _) = api.call("GET", "/stats", tok, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }

    // Officers: only an administrator makes them; supervisors list them to assign by id.
    let ee =
        json!({"name": "EE Shimla", "department_code": "JSV", "level": 1, "phone": "098160 12345"});
    for tok in [&supervisor, &officer, &agent] {
        let (s, _) = api.call("POST", "/officers", tok, Some(ee.clone())).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, made) = api.call("POST", "/officers", &admin, Some(ee)).await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    assert_eq!(made["phone"], "+919816012345", "{made}");
    let (s, listed) = api.call("GET", "/officers", &supervisor, None).await;
    assert_eq!(
        (s, listed["total"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{listed}"
    );
    let (s, _) = api.call("GET", "/officers", &agent, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // By name, as earlier builds took it: refused, pointing at the id.
    let (s, v) = api
        .call(
            "POST",
            &format!("/tickets/{water}/assign"),
            &supervisor,
            Some(json!({"officer": "ee-shimla"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["field"], "officer_id", "{v}");

    // The allowed path through the lifecycle, each step by the role that owns it.
    let (s, v) = api
        .call(
            "POST",
            &format!("/tickets/{water}/assign"),
            &supervisor,
            Some(json!({"officer_id": made["id"]})),
        )
        .await;
    assert_eq!(v["officer_id"], made["id"], "{v}");
    assert_eq!(v["assigned_to"], "EE Shimla", "{v}");
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("assigned")),
        "{v}"
    );
    let (s, v) = api
        .call(
            "POST",
            &format!("/tickets/{water}/status"),
            &officer,
            Some(json!({"status": "reopened"})),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "officers only move work forward: {v}"
    );
    let (s, _) = api
        .call(
            "POST",
            &format!("/tickets/{water}/status"),
            &officer,
            Some(json!({"status": "in_progress"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = api
        .call(
            "POST",
            &format!("/tickets/{water}/notes"),
            &officer,
            Some(json!({"text": "crew sent"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = api
        .call(
            "POST",
            &format!("/tickets/{water}/feedback"),
            &agent,
            Some(json!({"satisfied": true})),
        )
        .await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::CONFLICT, "not_allowed_now")
    );
    let (s, _) = api
        .call(
            "POST",
            &format!("/tickets/{water}/status"),
            &officer,
            Some(json!({"status": "resolved"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = api
        .call(
            "POST",
            &format!("/tickets/{water}/status"),
            &supervisor,
            Some(json!({"status": "closed_satisfied"})),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "closing goes through feedback: {v}"
    );
    let assign_by_status = json!({"status": "assigned"});
    let (s, v) = api
        .call(
            "POST",
            &format!("/tickets/{power}/status"),
            &supervisor,
            Some(assign_by_status),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "assigning names an officer: {v}");
    // Feedback is the citizen's: an integration never gives it for them (issue 10); an agent
    // records it on their behalf, and the audit trail says so, naming the agent.
    let (s, v) = api
        .call(
            "POST",
            &format!("/tickets/{water}/feedback"),
            &integration,
            Some(json!({"satisfied": true})),
        )
        .await;
    assert_eq!((s, error_code(&v)), (StatusCode::FORBIDDEN, "forbidden"));
    let (s, v) = api
        .call(
            "POST",
            &format!("/tickets/{water}/feedback"),
            &agent,
            Some(json!({"satisfied": false, "reason_code": "too_slow"})),
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("closed_unsatisfied")),
        "{v}"
    );
    let (s, v) = api
        .call("GET", &format!("/tickets/{water}/audit"), &officer, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let feedback = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "feedback")
        .unwrap();
    let by = feedback["actor"].as_str().unwrap();
    assert!(
        by.starts_with("agent:agent-") && by.ends_with("on the citizen's behalf"),
        "{by}"
    );
    assert!(v["items"].as_array().unwrap().len() >= 6, "{v}");
    let (s, v) = api
        .call(
            "POST",
            &format!("/tickets/{power}/escalate"),
            &supervisor,
            Some(json!({"reason": "MLA complaint"})),
        )
        .await;
    assert_eq!((s, v["level"].as_u64()), (StatusCode::OK, Some(2)), "{v}");
    let (s, v) = api
        .call(
            "POST",
            &format!("/tickets/{water}/status"),
            &supervisor,
            Some(json!({"status": "in_progress"})),
        )
        .await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::CONFLICT, "invalid_transition")
    );
    let (s, v) = api
        .call(
            "PATCH",
            "/departments/JSV",
            &admin,
            Some(json!({"sla_days": 3})),
        )
        .await;
    assert_eq!((s, v["sla_days"].as_u64()), (StatusCode::OK, Some(3)));
    let (s, v) = api.call("GET", "/departments", &integration, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v.as_array().unwrap().len() >= 85);
    let (s, v) = api.call("GET", "/stats", &supervisor, None).await;
    assert_eq!((s, v["total"].as_u64()), (StatusCode::OK, Some(2)));

    // A revoked token stops working.
    let leaver = token(&env, Role::Agent, None).await;
    let (s, _) = api.call("GET", "/tickets", &leaver, None).await;
    assert_eq!(s, StatusCode::OK);
    let id = env.store.live_tokens().await.unwrap().last().unwrap().id;
    assert!(env.store.revoke_token(id, env.clock.now()).await.unwrap());
    let (s, _) = api.call("GET", "/tickets", &leaver, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}
contract!(roles_stay_in_their_lanes);

async fn bad_input_gets_clear_errors(env: Env) {
    let api = Api::new(&env);
    let admin = token(&env, Role::Admin, None).await;
    let send_raw = |body: &'static str, json: bool| {
        let api = &api;
        let admin = admin.clone();
        async move {
            api.send(
                "POST",
                "/tickets",
                Some(&admin),
                Some(Body::from(body)),
                json,
            )
            .await
        }
    };
    let (s, b, _) = send_raw("{\"source\": \"agent\",", true).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_code(&serde_json::from_slice(&b).unwrap()),
        "malformed_json"
    );
    let (s, _, _) = send_raw("{}", false).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let mut bad_enum = new_ticket("JSV");
    bad_enum["source"] = json!("carrier-pigeon");
    // 400: the body does not read as the request (enum, unknown or missing field); 422: it does, but a
    // value is refused, and the error names its field.
    let bad: Vec<(Value, &str, StatusCode)> = vec![
        (bad_enum, "source", StatusCode::BAD_REQUEST),
        (
            {
                let mut v = new_ticket("JSV");
                v["caller_number"] = json!("call me");
                v
            },
            "caller_number",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            {
                let mut v = new_ticket("JSV");
                v["department_code"] = json!("XYZ");
                v
            },
            "XYZ",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            {
                let mut v = new_ticket("JSV");
                v["department_code"] = json!("water");
                v
            },
            "department_code",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            {
                let mut v = new_ticket("JSV");
                v["language"] = json!("Hindi language");
                v
            },
            "language",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            {
                let mut v = new_ticket("JSV");
                v["description"] = json!("x".repeat(4001));
                v
            },
            "description",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            {
                let mut v = new_ticket("JSV");
                v["description"] = json!("   ");
                v
            },
            "description",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            {
                let mut v = new_ticket("JSV");
                v["colour"] = json!("red");
                v
            },
            "colour",
            StatusCode::BAD_REQUEST,
        ),
        (
            {
                let mut v = new_ticket("JSV");
                v["source"] = json!("ivr");
                v
            },
            "ivr",
            StatusCode::BAD_REQUEST,
        ),
        (
            {
                let mut v = new_ticket("JSV");
                v.as_object_mut().unwrap().remove("caller_number");
                v
            },
            "caller_number",
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (body, mentions, status) in bad {
        let (s, v) = api
            .call("POST", "/tickets", &admin, Some(body.clone()))
            .await;
        assert_eq!(s, status, "{body} -> {v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(mentions),
            "{message:?} should mention {mentions}"
        );
    }
    let huge = Body::from(format!("{{\"description\": \"{}\"}}", "x".repeat(70_000)));
    let (s, b, _) = api
        .send("POST", "/tickets", Some(&admin), Some(huge), true)
        .await;
    assert_eq!(
        s,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        String::from_utf8_lossy(&b)
    );

    let (s, v) = api.call("GET", "/tickets/12345", &admin, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("complaint number")
    );
    let good = ComplaintNumber::from_payload(123_456_789)
        .unwrap()
        .to_string();
    let mut typo = good.clone().into_bytes();
    typo.swap(4, 5);
    let (s, v) = api
        .call(
            "GET",
            &format!("/tickets/{}", String::from_utf8(typo).unwrap()),
            &admin,
            None,
        )
        .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "a mistyped number is no ticket: {v}"
    );
    assert!(
        v["error"]["message"].as_str().unwrap().contains("mistyped"),
        "{v}"
    );
    let (s, _) = api
        .call("GET", &format!("/tickets/{good}"), &admin, None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for (q, status) in [
        ("limit=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("limit=201", StatusCode::UNPROCESSABLE_ENTITY),
        ("level=5", StatusCode::UNPROCESSABLE_ENTITY),
        ("status=closed", StatusCode::BAD_REQUEST),
        ("from=yesterday", StatusCode::BAD_REQUEST),
        ("overdue=maybe", StatusCode::BAD_REQUEST),
        ("department=water", StatusCode::UNPROCESSABLE_ENTITY),
        ("bogus=1", StatusCode::BAD_REQUEST),
    ] {
        let (s, v) = api
            .call("GET", &format!("/tickets?{q}"), &admin, None)
            .await;
        assert_eq!(s, status, "{q}: {v}");
    }
    let (s, v) = api
        .call(
            "PATCH",
            "/departments/JSV",
            &admin,
            Some(json!({"sla_days": 0})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["field"], "sla_days");
    let (s, _) = api
        .call(
            "PATCH",
            "/departments/ZZZ",
            &admin,
            Some(json!({"sla_days": 5})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = api.call("GET", "/no-such-route", &admin, None).await;
    assert_eq!((s, error_code(&v)), (StatusCode::NOT_FOUND, "not_found"));

    // Idempotency key: the same request twice is one ticket.
    let mut keyed = new_ticket("EDU");
    keyed["idempotency_key"] = json!("portal-req-77");
    let (s1, v1) = api
        .call("POST", "/tickets", &admin, Some(keyed.clone()))
        .await;
    let (s2, v2) = api.call("POST", "/tickets", &admin, Some(keyed)).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(v1["number"], v2["number"]);
    let (_, v) = api
        .call("GET", "/tickets?department=EDU", &admin, None)
        .await;
    assert_eq!(v["total"], 1);
}
contract!(bad_input_gets_clear_errors);

async fn lists_filter_and_page(env: Env) {
    let api = Api::new(&env);
    let supervisor = token(&env, Role::Supervisor, None).await;
    for i in 0..7 {
        let dept = if i % 2 == 0 { "JSV" } else { "PWD" };
        env.service
            .create_from_call(call(&format!("list-{i}"), dept))
            .await
            .unwrap();
        env.clock.advance(chrono::Duration::minutes(1));
    }
    let (s, v) = api.call("GET", "/tickets?limit=3", &supervisor, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (v["total"].as_u64(), v["items"].as_array().unwrap().len()),
        (Some(7), 3)
    );
    assert_eq!(v["items"][0]["call_id"], "list-6", "newest first");
    let (_, v) = api
        .call("GET", "/tickets?limit=3&offset=6", &supervisor, None)
        .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    let (_, v) = api
        .call(
            "GET",
            "/tickets?department=PWD&status=registered&level=1",
            &supervisor,
            None,
        )
        .await;
    assert_eq!(v["total"], 3);
    let (_, v) = api
        .call("GET", "/tickets?caller=%2B919816012345", &supervisor, None)
        .await;
    assert_eq!(v["total"], 7);
    let from = (crate::support::start_time() + chrono::Duration::minutes(5))
        .to_rfc3339()
        .replace('+', "%2B");
    let (s, v) = api
        .call("GET", &format!("/tickets?from={from}"), &supervisor, None)
        .await;
    assert_eq!((s, v["total"].as_u64()), (StatusCode::OK, Some(2)), "{v}");
    env.clock.advance(chrono::Duration::days(30));
    let (_, v) = api
        .call("GET", "/tickets?overdue=true", &supervisor, None)
        .await;
    assert_eq!(v["total"], 7);
    assert_eq!(v["items"][0]["overdue"], true);
}
contract!(lists_filter_and_page);

async fn recording_download_and_openapi(env: Env) {
    let api = Api::new(&env);
    let officer = token(&env, Role::Officer, Some("JSV")).await;
    let audio = b"RIFF....WAVEfmt the complaint audio".to_vec();
    let mut c = call("rec-api", "JSV");
    c.recording = Some(Recording {
        audio: RecordingAudio::Bytes(audio.clone()),
        duration_ms: 3000,
        sha256: None,
    });
    let number = env.service.create_from_call(c).await.unwrap();
    let (s, body, ctype) = api
        .send(
            "GET",
            &format!("/tickets/{number}/recording"),
            Some(&officer),
            None,
            false,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ctype.as_deref(), Some("audio/wav"));
    assert_eq!(body, audio);
    let plain = env
        .service
        .create_from_call(call("no-rec", "JSV"))
        .await
        .unwrap();
    let (s, _) = api
        .call(
            "GET",
            &format!("/tickets/{plain}/recording"),
            &officer,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, body, _) = api.send("GET", "/openapi.json", None, None, false).await;
    assert_eq!(s, StatusCode::OK);
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    // Every documented route exists on the router (an unauthenticated call reaches auth, not 404/405).
    let own = tickets::api::document(utoipa_axum::router::OpenApiRouter::new());
    let operations = tickets::api::operations(&own);
    assert_eq!(
        operations.len(),
        doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|p| p.as_object().unwrap().len())
            .sum::<usize>(),
        "the served document is the router's"
    );
    for (method, path) in operations.iter().filter(|(_, p)| *p != "/openapi.json") {
        let path = path
            .replace("{number}", &number.to_string())
            .replace("{code}", "JSV")
            .replace("{login}", "asha")
            .replace("{id}", "1");
        let (s, _, _) = api.send(method, &path, None, None, false).await;
        if path == "/login" {
            // The one route without a caller: it answers the missing body.
            assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{method} {path}");
        } else {
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{method} {path}");
        }
    }
}
contract!(recording_download_and_openapi);

async fn department_figures_follow_the_roles(env: Env) {
    let api = Api::new(&env);
    let agent = token(&env, Role::Agent, None).await;
    let supervisor = token(&env, Role::Supervisor, None).await;
    let admin = token(&env, Role::Admin, None).await;
    let integration = token(&env, Role::Integration, None).await;
    let jsv_officer = token(&env, Role::Officer, Some("JSV")).await;
    let edu_officer = token(&env, Role::Officer, Some("EDU")).await;
    for dept in ["JSV", "JSV", "PWR"] {
        let (s, v) = api
            .call("POST", "/tickets", &agent, Some(new_ticket(dept)))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }

    let totals = |v: &Value| -> Vec<(String, u64)> {
        v.as_array()
            .unwrap_or_else(|| panic!("not an array: {v}"))
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_owned(),
                    d["total"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let everything = vec![("JSV".to_owned(), 2), ("PWR".to_owned(), 1)];
    for tok in [&supervisor, &admin] {
        let (s, v) = api.call("GET", "/stats/departments", tok, None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(totals(&v), everything);
        let jsv = &v[0];
        for field in [
            "name",
            "disposed",
            "closed_satisfied",
            "closed_unsatisfied",
            "overdue",
            "disposed_share",
            "satisfied_share",
            "disposed_satisfied_share",
        ] {
            assert!(!jsv[field].is_null(), "{field} missing from {jsv}");
        }
    }
    // An officer sees their own department's row only; none when it has no tickets.
    let (s, v) = api
        .call("GET", "/stats/departments", &jsv_officer, None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(totals(&v), [("JSV".to_owned(), 2)]);
    let (s, v) = api
        .call("GET", "/stats/departments", &edu_officer, None)
        .await;
    assert_eq!((s, totals(&v).len()), (StatusCode::OK, 0));
    for tok in [&agent, &integration] {
        let (s, v) = api.call("GET", "/stats/departments", tok, None).await;
        assert_eq!((s, error_code(&v)), (StatusCode::FORBIDDEN, "forbidden"));
    }
    let (s, _, _) = api
        .send("GET", "/stats/departments", None, None, false)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}
contract!(department_figures_follow_the_roles);
