//! Accounts over HTTP on both backends (issue 10): login → a session (cookie with CSRF token, or
//! bearer) that expires (absolute and idle) and ends at logout; failed logins and credentials
//! throttled (429 + Retry-After, audited); tokens of users and integrations that expire and are
//! revoked; integrations held to their scopes; idempotency keys per client.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tickets::accounts::{self, Hasher, NewUser, Scope};
use tickets::api::{ApiState, router};
use tickets::tokens::{NewTokenFor, create_token};
use tickets::{Clock, ComplaintNumber, NewCallTicket, Role, TicketStatus};
use tower::ServiceExt;

use crate::api::new_ticket;
use crate::contract;
use crate::support::Env;

const PASSWORD: &str = "correct horse battery";

struct Http {
    app: Router,
}

/// What a request carries besides its method and path.
#[derive(Default)]
struct Req<'a> {
    bearer: Option<&'a str>,
    cookie: Option<&'a str>,
    csrf: Option<&'a str>,
    body: Option<Value>,
    from: Option<&'a str>,
}

impl Http {
    fn new(env: &Env) -> Http {
        Http {
            app: Router::new().nest("/api/v1", router(ApiState::new(env.service.clone()))),
        }
    }

    async fn send(&self, method: &str, path: &str, r: Req<'_>) -> (StatusCode, HeaderMap, Value) {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("/api/v1{path}"));
        if let Some(t) = r.bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if let Some(c) = r.cookie {
            req = req.header(header::COOKIE, format!("lang=hi; helpline_session={c}"));
        }
        if let Some(c) = r.csrf {
            req = req.header("x-csrf-token", c);
        }
        let body = match r.body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        let mut req = req.body(body).unwrap();
        if let Some(from) = r.from {
            let addr: SocketAddr = format!("{from}:40000").parse().unwrap();
            req.extensions_mut().insert(ConnectInfo(addr));
        }
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, headers, value)
    }

    async fn get(&self, path: &str, bearer: &str) -> (StatusCode, Value) {
        let r = Req {
            bearer: Some(bearer),
            ..Req::default()
        };
        let (s, _, v) = self.send("GET", path, r).await;
        (s, v)
    }

    async fn post(&self, path: &str, bearer: &str, body: Value) -> (StatusCode, Value) {
        let r = Req {
            bearer: Some(bearer),
            body: Some(body),
            ..Req::default()
        };
        let (s, _, v) = self.send("POST", path, r).await;
        (s, v)
    }

    async fn login(
        &self,
        login: &str,
        password: &str,
        from: &str,
    ) -> (StatusCode, HeaderMap, Value) {
        let r = Req {
            body: Some(json!({"login": login, "password": password})),
            from: Some(from),
            ..Req::default()
        };
        self.send("POST", "/login", r).await
    }
}

async fn user(env: &Env, login: &str, name: &str, role: Role, dept: Option<&str>) {
    accounts::create_user(
        &env.store,
        &Hasher::default(),
        NewUser {
            login: login.into(),
            display_name: name.into(),
            role,
            department_code: dept.map(str::to_owned),
            password: PASSWORD.into(),
        },
        "cli:test",
        env.clock.now(),
    )
    .await
    .unwrap();
}

async fn user_token(env: &Env, login: &str) -> String {
    create_token(
        &env.store,
        NewTokenFor::User(login.into()),
        None,
        None,
        "cli:test",
        env.clock.now(),
    )
    .await
    .unwrap()
    .token
}

async fn integration_token(env: &Env, name: &str, scopes: &[Scope]) -> String {
    create_token(
        &env.store,
        NewTokenFor::Integration {
            name: name.into(),
            scopes: scopes.to_vec(),
        },
        None,
        None,
        "cli:test",
        env.clock.now(),
    )
    .await
    .unwrap()
    .token
}

/// Each of `expected` ("actor action subject") is in the account audit.
async fn assert_audited(env: &Env, expected: &[&str]) {
    let audit = actions(env).await;
    for expected in expected {
        assert!(audit.iter().any(|a| a == expected), "{expected}: {audit:?}");
    }
}

async fn actions(env: &Env) -> Vec<String> {
    env.store
        .account_events(100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {} {}", e.actor, e.action, e.subject.unwrap_or_default()))
        .collect()
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

async fn sessions_log_in_expire_and_log_out(env: Env) {
    let http = Http::new(&env);
    user(&env, "asha", "Asha Verma", Role::Supervisor, None).await;

    let (s, _, v) = http.login("asha", "wrong password!!", "10.1.0.1").await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let (s, _, v) = http.login("nobody", PASSWORD, "10.1.0.1").await;
    assert_eq!(
        (s, v["error"]["message"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("wrong login or password")),
        "an unknown login looks like a wrong password"
    );
    let (s, headers, v) = http.login(" Asha ", PASSWORD, "10.1.0.1").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let session = v["session"].as_str().unwrap().to_owned();
    let csrf = v["csrf_token"].as_str().unwrap().to_owned();
    assert!(session.starts_with("hls_") && session.len() == 68);
    assert_eq!(v["user"]["login"], "asha");
    assert_eq!(v["idle_timeout_seconds"], 1800);
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    for attribute in [
        "helpline_session=hls_",
        "HttpOnly",
        "SameSite=Strict",
        "Secure",
        "Path=/",
        "Max-Age=28800",
    ] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }

    // The session as a bearer, and as the cookie.
    let (s, v) = http.get("/me", &session).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["actor"], "supervisor:asha (Asha Verma)");
    let with_cookie = |csrf| Req {
        cookie: Some(&session),
        csrf,
        body: Some(new_ticket("JSV")),
        ..Req::default()
    };
    let (s, _, _) = http
        .send(
            "GET",
            "/tickets",
            Req {
                cookie: Some(&session),
                ..Req::default()
            },
        )
        .await;
    assert_eq!(s, StatusCode::OK, "a read needs no CSRF token");
    // A write by cookie needs the CSRF token; by bearer it does not.
    let (s, _, v) = http.send("POST", "/tickets", with_cookie(None)).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "csrf"));
    let (s, _, v) = http
        .send("POST", "/tickets", with_cookie(Some("not-the-token")))
        .await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "csrf"));
    let (s, _, v) = http
        .send("POST", "/tickets", with_cookie(Some(&csrf)))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let number = v["number"].as_str().unwrap().to_owned();
    let (s, _) = http.post("/tickets", &session, new_ticket("PWR")).await;
    assert_eq!(s, StatusCode::CREATED);
    // The audit trail names the person.
    let audit = env
        .store
        .audit_trail(ComplaintNumber::parse(&number).unwrap())
        .await
        .unwrap();
    assert_eq!(audit[0].actor, "supervisor:asha (Asha Verma)");

    // Idle for longer than the idle timeout: gone.
    env.clock.advance(chrono::Duration::minutes(31));
    let (s, _) = http.get("/me", &session).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Busy all day: gone at the absolute lifetime all the same.
    let (_, _, v) = http.login("asha", PASSWORD, "10.1.0.1").await;
    let session = v["session"].as_str().unwrap().to_owned();
    let mut minutes = 0;
    while minutes < 8 * 60 - 20 {
        env.clock.advance(chrono::Duration::minutes(20));
        minutes += 20;
        let (s, _) = http.get("/me", &session).await;
        assert_eq!(s, StatusCode::OK, "after {minutes} min");
    }
    env.clock.advance(chrono::Duration::minutes(21));
    let (s, _) = http.get("/me", &session).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "past 8 h");

    // Logout ends the session (by cookie it needs the CSRF token too).
    let (_, _, v) = http.login("asha", PASSWORD, "10.1.0.1").await;
    let (session, csrf) = (
        v["session"].as_str().unwrap().to_owned(),
        v["csrf_token"].as_str().unwrap().to_owned(),
    );
    let by_cookie = |csrf| Req {
        cookie: Some(&session),
        csrf,
        ..Req::default()
    };
    let (s, _, _) = http.send("POST", "/logout", by_cookie(None)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, headers, _) = http.send("POST", "/logout", by_cookie(Some(&csrf))).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (s, _) = http.get("/me", &session).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let token = user_token(&env, "asha").await;
    let r = Req {
        bearer: Some(&token),
        ..Req::default()
    };
    let (s, _, _) = http.send("POST", "/logout", r).await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "a token is revoked, not logged out"
    );

    // A disabled user: the live session ends, the token stops, no new login.
    let (_, _, v) = http.login("asha", PASSWORD, "10.1.0.1").await;
    let session = v["session"].as_str().unwrap().to_owned();
    accounts::disable_user(&env.store, "asha", "cli:test", env.clock.now())
        .await
        .unwrap();
    for credential in [&session, &token] {
        let (s, _) = http.get("/me", credential).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, _, _) = http.login("asha", PASSWORD, "10.1.0.1").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    assert_audited(
        &env,
        &[
            "supervisor:asha (Asha Verma) login asha",
            "supervisor:asha (Asha Verma) logout ",
            "cli:test user_disabled asha",
        ],
    )
    .await;
}
contract!(sessions_log_in_expire_and_log_out);

async fn failed_logins_and_bad_tokens_are_throttled(env: Env) {
    let http = Http::new(&env);
    user(&env, "asha", "Asha Verma", Role::Agent, None).await;
    user(&env, "ravi", "Ravi Kumar", Role::Agent, None).await;

    // Five wrong passwords lock the login: even the right one is refused, from anywhere.
    for _ in 0..5 {
        let (s, _, _) = http.login("asha", "guess guess guess", "10.2.0.1").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    for from in ["10.2.0.1", "10.2.0.2"] {
        let (s, headers, v) = http.login("asha", PASSWORD, from).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
        );
        let wait: u64 = headers[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((800..=900).contains(&wait), "{wait}");
    }
    let (s, _, _) = http.login("ravi", PASSWORD, "10.2.0.1").await;
    assert_eq!(
        s,
        StatusCode::OK,
        "another login from the same client still works"
    );

    // One client trying many logins is locked as a client.
    for i in 0..20 {
        let (s, _, _) = http
            .login(&format!("user{i}"), "guess guess guess", "10.2.0.3")
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, headers, _) = http.login("ravi", PASSWORD, "10.2.0.3").await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key(header::RETRY_AFTER));

    // Wrong bearers: 20 answered 401, then the client is locked — a good token too.
    let good = user_token(&env, "ravi").await;
    for i in 0..20 {
        let r = Req {
            bearer: Some(&format!("hl_{i:064x}")),
            from: Some("10.2.0.9"),
            ..Req::default()
        };
        let (s, _, _) = http.send("GET", "/tickets", r).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let as_client = |from| Req {
        bearer: Some(&good),
        from: Some(from),
        ..Req::default()
    };
    let (s, headers, _) = http.send("GET", "/tickets", as_client("10.2.0.9")).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((200..=300).contains(&wait), "{wait}");
    let (s, _, _) = http.send("GET", "/tickets", as_client("10.2.0.10")).await;
    assert_eq!(s, StatusCode::OK, "other clients are unaffected");

    assert_audited(
        &env,
        &[
            "system:login-throttle login_locked login asha",
            "system:login-throttle login_locked client 10.2.0.3",
            "system:auth-throttle bearer_locked 10.2.0.9",
        ],
    )
    .await;
}
contract!(failed_logins_and_bad_tokens_are_throttled);

async fn tokens_expire_and_revoked_ones_stop(env: Env) {
    let http = Http::new(&env);
    user(&env, "root", "Site Admin", Role::Admin, None).await;
    user(&env, "lead", "Shift Lead", Role::Supervisor, None).await;
    let admin = user_token(&env, "root").await;
    let lead = user_token(&env, "lead").await;

    // Only admins manage accounts.
    let ravi = json!({"login": "ravi", "display_name": "Ravi Kumar", "role": "supervisor",
                      "password": PASSWORD});
    let (s, _) = http.post("/users", &lead, ravi.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = http.get("/tokens", &lead).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = http.post("/users", &admin, ravi.clone()).await;
    assert_eq!(
        (s, v["login"].as_str()),
        (StatusCode::CREATED, Some("ravi")),
        "{v}"
    );
    let (s, _) = http.post("/users", &admin, ravi).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, v) = http
        .post(
            "/users",
            &admin,
            json!({"login": "x1", "display_name": "X", "role": "agent", "password": "short"}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input")
    );

    // A token for ravi that lives an hour: it works, names him, and stops at its expiry.
    let (s, v) = http
        .post(
            "/tokens",
            &admin,
            json!({"user": "ravi", "expires_in": "1h"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let short = v["token"].as_str().unwrap().to_owned();
    let (s, v) = http.post("/tickets", &short, new_ticket("JSV")).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let number = ComplaintNumber::parse(v["number"].as_str().unwrap()).unwrap();
    let audit = env.store.audit_trail(number).await.unwrap();
    assert_eq!(audit[0].actor, "supervisor:ravi (Ravi Kumar)");
    let (s, v) = http.get("/tokens", &admin).await;
    assert_eq!(s, StatusCode::OK);
    let listed = v.to_string();
    assert!(
        listed.contains("\"login\":\"ravi\"") && !listed.contains(&short),
        "{listed}"
    );
    env.clock.advance(chrono::Duration::minutes(61));
    let (s, _) = http.get("/tickets", &short).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "expired");
    let (_, v) = http.get("/tokens", &admin).await;
    let expired = v
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["expires_at"].as_str().is_some() && t["expired"] == true);
    assert!(expired.is_some(), "{v}");

    // Revoked: 401 on its very next request.
    let (_, v) = http.post("/tokens", &admin, json!({"user": "ravi"})).await;
    let (token, id) = (
        v["token"].as_str().unwrap().to_owned(),
        v["info"]["id"].as_i64().unwrap(),
    );
    let expires = v["info"]["expires_at"].as_str().unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(expires).unwrap();
    assert_eq!(
        (expires.to_utc() - env.clock.now()).num_days(),
        90,
        "the default lifetime"
    );
    let (s, _) = http.get("/tickets", &token).await;
    assert_eq!(s, StatusCode::OK);
    let r = Req {
        bearer: Some(&admin),
        ..Req::default()
    };
    let (s, _, _) = http.send("DELETE", &format!("/tokens/{id}"), r).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = http.get("/tickets", &token).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "revoked");
    let r = Req {
        bearer: Some(&admin),
        ..Req::default()
    };
    let (s, _, _) = http.send("DELETE", &format!("/tokens/{id}"), r).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Lifetimes are bounded; owners are named once.
    for bad in [
        json!({"user": "ravi", "expires_in": "400d"}),
        json!({"user": "ravi", "integration": "bot"}),
        json!({}),
        json!({"user": "ravi", "scopes": ["tickets:file"]}),
    ] {
        let (s, _) = http.post("/tokens", &admin, bad.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let (s, v) = http
        .post("/tokens", &admin, json!({"integration": "whatsapp"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(
        v["info"]["scopes"],
        json!(["tickets:file", "tickets:read_own", "tickets:status"])
    );
    let (s, v) = http.get("/me", v["token"].as_str().unwrap()).await;
    assert_eq!(
        (s, v["actor"].as_str()),
        (StatusCode::OK, Some("integration:whatsapp"))
    );

    // Disabled over the API: ravi's tokens stop.
    let (_, v) = http.post("/tokens", &admin, json!({"user": "ravi"})).await;
    let token = v["token"].as_str().unwrap().to_owned();
    let (s, _) = http.post("/users/ravi/disable", &admin, json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = http.get("/tickets", &token).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    assert_audited(
        &env,
        &[
            "admin:root (Site Admin) user_created ravi",
            &format!("admin:root (Site Admin) token_revoked token {id}"),
            "admin:root (Site Admin) user_disabled ravi",
        ],
    )
    .await;
}
contract!(tokens_expire_and_revoked_ones_stop);

async fn integrations_get_only_their_scopes(env: Env) {
    let http = Http::new(&env);
    user(&env, "asha", "Asha Verma", Role::Agent, None).await;
    let agent = user_token(&env, "asha").await;
    let bot = integration_token(&env, "whatsapp", &[]).await;

    let (s, v) = http.post("/tickets", &bot, new_ticket("JSV")).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let own = v["number"].as_str().unwrap().to_owned();
    let (_, v) = http.post("/tickets", &agent, new_ticket("JSV")).await;
    let other = v["number"].as_str().unwrap().to_owned();

    // No bulk personal data: no list, no search by phone.
    for path in [
        "/tickets",
        "/tickets?caller=9816000001",
        "/tickets?department=JSV",
    ] {
        let (s, v) = http.get(path, &bot).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{path}"
        );
    }
    // Its own ticket in full; another's not at all — only its status, without personal data.
    let (s, v) = http.get(&format!("/tickets/{own}"), &bot).await;
    assert_eq!(
        (s, v["caller_number"].as_str()),
        (StatusCode::OK, Some("+919816000001"))
    );
    let (s, _) = http.get(&format!("/tickets/{own}/notes"), &bot).await;
    assert_eq!(s, StatusCode::OK);
    for path in ["", "/notes"] {
        let (s, _) = http.get(&format!("/tickets/{other}{path}"), &bot).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    let (s, v) = http.get(&format!("/tickets/{other}/status"), &bot).await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("registered")),
        "{v}"
    );
    assert!(
        v.get("caller_number").is_none() && v.get("description").is_none(),
        "{v}"
    );

    // Never feedback on the citizen's behalf, whatever its scopes.
    let number = ComplaintNumber::parse(&own).unwrap();
    let now = env.clock.now();
    env.store
        .assign(number, "ee-shimla", "test", None, now)
        .await
        .unwrap();
    for to in [TicketStatus::InProgress, TicketStatus::Resolved] {
        env.store
            .change_status(number, to, "test", None, now)
            .await
            .unwrap();
    }
    let wide = integration_token(&env, "portal", Scope::ALL).await;
    for token in [&bot, &wide] {
        let (s, _) = http
            .post(
                &format!("/tickets/{own}/feedback"),
                token,
                json!({"satisfied": true}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    // A scope that says so opens personal data.
    let (s, v) = http.get("/tickets?caller=9816000001", &wide).await;
    assert_eq!((s, v["total"].as_u64()), (StatusCode::OK, Some(2)), "{v}");
    // Without tickets:file it cannot file; without tickets:status it cannot ask.
    let status_only = integration_token(&env, "sms", &[Scope::ReadStatus]).await;
    let (s, _) = http.post("/tickets", &status_only, new_ticket("JSV")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let file_only = integration_token(&env, "kiosk", &[Scope::File]).await;
    let (s, _) = http
        .get(&format!("/tickets/{own}/status"), &file_only)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = http.get(&format!("/tickets/{own}"), &file_only).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The agent may record the citizen's feedback.
    let (s, v) = http
        .post(
            &format!("/tickets/{own}/feedback"),
            &agent,
            json!({"satisfied": true}),
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("closed_satisfied"))
    );
}
contract!(integrations_get_only_their_scopes);

async fn idempotency_keys_are_per_client(env: Env) {
    let http = Http::new(&env);
    user(&env, "asha", "Asha Verma", Role::Agent, None).await;
    let agent = user_token(&env, "asha").await;
    let portal = integration_token(&env, "portal", &[]).await;
    let bot = integration_token(&env, "whatsapp", &[]).await;
    let keyed = |dept: &str| {
        let mut t = new_ticket(dept);
        t["idempotency_key"] = json!("req-1");
        t
    };
    let (s1, portal_first) = http.post("/tickets", &portal, keyed("JSV")).await;
    let (s2, bot_first) = http.post("/tickets", &bot, keyed("PWR")).await;
    let (s3, agent_first) = http.post("/tickets", &agent, keyed("EDU")).await;
    assert_eq!(
        (s1, s2, s3),
        (
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::CREATED
        ),
        "the same key from three clients is three complaints"
    );
    let numbers = [&portal_first, &bot_first, &agent_first].map(|v| v["number"].clone());
    assert!(numbers[0] != numbers[1] && numbers[1] != numbers[2] && numbers[0] != numbers[2]);
    // A retry by the same client is the same ticket; a second token of the same integration
    // (rotation) is the same client.
    let (s, again) = http.post("/tickets", &portal, keyed("JSV")).await;
    assert_eq!((s, &again["number"]), (StatusCode::OK, &numbers[0]));
    let rotated = integration_token(&env, "whatsapp", &[]).await;
    let (s, again) = http.post("/tickets", &rotated, keyed("PWR")).await;
    assert_eq!((s, &again["number"]), (StatusCode::OK, &numbers[1]));
    // The engine's complaints keep their own keys (the recording's name), whatever the API sends.
    let call = NewCallTicket {
        caller_raw: None,
        call_id: "req-1".into(),
        caller_number: "9816000002".into(),
        language: "hi".into(),
        department_code: "REV".into(),
        category: None,
        district: None,
        recording: None,
        after_hours: false,
    };
    let engine = env.service.create_from_call(call.clone()).await.unwrap();
    assert!(
        numbers
            .iter()
            .all(|n| n.as_str() != Some(&engine.to_string()))
    );
    assert_eq!(env.service.create_from_call(call).await.unwrap(), engine);
    let (_, v) = http.get("/tickets", &agent).await;
    assert_eq!(v["total"], 4, "{v}");
}
contract!(idempotency_keys_are_per_client);

async fn http_put(http: &Http, path: &str, bearer: &str, body: Value) -> (StatusCode, Value) {
    let r = Req {
        bearer: Some(bearer),
        body: Some(body),
        ..Req::default()
    };
    let (s, _, v) = http.send("PUT", path, r).await;
    (s, v)
}

/// Agent profiles (issue 13): a supervisor makes an agent an agent of the call centre (phone,
/// languages, departments, helplines), audited; the agent reads their own, not others'; bad
/// dial strings, languages, departments are refused by field; officers cannot take calls; a
/// disabled user drops out of the list the call centre reads.
async fn agent_profiles_are_set_by_supervisors(env: Env) {
    let http = Http::new(&env);
    user(&env, "sup", "Sunita Devi", Role::Supervisor, None).await;
    user(&env, "asha", "Asha Verma", Role::Agent, None).await;
    user(&env, "ravi", "Ravi Kumar", Role::Agent, None).await;
    user(&env, "off", "Om Prakash", Role::Officer, Some("JSV")).await;
    let sup = user_token(&env, "sup").await;
    let asha = user_token(&env, "asha").await;

    let body = json!({"phone": "PJSIP/agent-101", "languages": ["hi", "en"],
                      "departments": ["jsv"], "helplines": ["1100", "HRTC"]});
    let (s, v) = http_put(&http, "/users/asha/agent", &sup, body.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["phone"], "PJSIP/agent-101");
    assert_eq!(v["departments"], json!(["JSV"]));
    assert_eq!(v["helplines"], json!(["1100", "hrtc"]));
    assert_audited(
        &env,
        &["supervisor:sup (Sunita Devi) agent_profile_set asha"],
    )
    .await;

    // Replaced, not added to.
    let (s, v) = http_put(
        &http,
        "/users/asha/agent",
        &sup,
        json!({"phone": "PJSIP/agent-102", "languages": ["hi"]}),
    )
    .await;
    assert_eq!((s, v["departments"].clone()), (StatusCode::OK, json!([])));
    let (s, v) = http.get("/users/asha/agent", &asha).await;
    assert_eq!(
        (s, v["phone"].as_str()),
        (StatusCode::OK, Some("PJSIP/agent-102"))
    );

    // An agent neither sets profiles nor reads another's.
    let (s, _) = http_put(&http, "/users/asha/agent", &asha, body.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = http.get("/users/ravi/agent", &asha).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = http.get("/agent-profiles", &asha).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = http.get("/users/ravi/agent", &sup).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"));

    for (bad, field) in [
        (
            json!({"phone": "PJSIP/a,b(c)", "languages": ["hi"]}),
            "phone",
        ),
        (json!({"phone": "agent-101", "languages": ["hi"]}), "phone"),
        (json!({"languages": []}), "languages"),
        (json!({"languages": ["ta"]}), "languages"),
        (
            json!({"languages": ["hi"], "departments": ["NOPE"]}),
            "departments",
        ),
        (
            json!({"languages": ["hi"], "helplines": ["a\u{1b}[31m"]}),
            "helplines",
        ),
    ] {
        let (s, v) = http_put(&http, "/users/ravi/agent", &sup, bad.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
        assert_eq!(v["error"]["field"], field, "{bad}: {v}");
    }
    let (s, _) = http_put(
        &http,
        "/users/ravi/agent",
        &sup,
        json!({"languages": ["hi"], "skills": 1}),
    )
    .await;
    assert!(s.is_client_error(), "unknown fields are refused");
    let (s, v) = http_put(
        &http,
        "/users/off/agent",
        &sup,
        json!({"languages": ["hi"]}),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an officer takes no calls: {v}"
    );

    http_put(
        &http,
        "/users/ravi/agent",
        &sup,
        json!({"languages": ["en"]}),
    )
    .await;
    let (s, v) = http.get("/agent-profiles", &sup).await;
    assert_eq!(s, StatusCode::OK);
    let logins: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["login"].as_str().unwrap())
        .collect();
    assert_eq!(logins, ["asha", "ravi"]);
    accounts::disable_user(&env.store, "ravi", "cli:test", env.clock.now())
        .await
        .unwrap();
    let profiles = env.store.agent_profiles().await.unwrap();
    assert_eq!(
        profiles.len(),
        1,
        "a disabled user takes no calls: {profiles:?}"
    );
}
contract!(agent_profiles_are_set_by_supervisors);
