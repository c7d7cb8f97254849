//! The API's edge over both backends (issue 10): free text with bidirectional controls refused with
//! a 422 naming the field; every list that grows comes in bounded pages.

use axum::http::StatusCode;
use serde_json::json;
use tickets::Role;

use crate::api::{Api, new_ticket, token};
use crate::contract;
use crate::support::Env;

async fn bidi_controls_in_free_text_are_refused_naming_the_field(env: Env) {
    let api = Api::new(&env);
    let admin = token(&env, Role::Admin, None).await;
    // "Pay 1000" shown, "Pay 0001" held: U+202E reverses what follows it on screen.
    let trojan = "Pay \u{202E}0001\u{202C} rupees to the contractor";
    for field in ["description", "district", "category"] {
        let mut body = new_ticket("JSV");
        body[field] = json!(trojan);
        let (s, v) = api.call("POST", "/tickets", &admin, Some(body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {v}");
        assert_eq!(v["error"]["code"], "invalid_input", "{v}");
        assert_eq!(v["error"]["field"], field, "{v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("U+202E"),
            "{v}"
        );
    }
    let (s, filed) = api
        .call("POST", "/tickets", &admin, Some(new_ticket("JSV")))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{filed}");
    let number = filed["number"].as_str().unwrap().to_owned();
    let refusals = [
        (
            "notes",
            json!({"text": "ok \u{2067}hidden\u{2069}"}),
            "text",
        ),
        ("escalate", json!({"reason": "\u{202D}late"}), "reason"),
        (
            "status",
            json!({"status": "in_progress", "reason": "\u{202B}x"}),
            "reason",
        ),
    ];
    for (action, body, field) in refusals {
        let (s, v) = api
            .call(
                "POST",
                &format!("/tickets/{number}/{action}"),
                &admin,
                Some(body),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{action}: {v}");
        assert_eq!(v["error"]["field"], field, "{action}: {v}");
    }
    // An officer's name likewise.
    let (s, v) = api
        .call(
            "POST",
            "/officers",
            &admin,
            Some(json!({"name": "\u{2066}Verma\u{2069}", "department_code": "JSV", "level": 1, "phone": "+919816012345"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "officer: {v}");
    assert_eq!(v["error"]["field"], "officer", "officer: {v}");
    let (_, notes) = api
        .call("GET", &format!("/tickets/{number}/notes"), &admin, None)
        .await;
    assert_eq!(notes["total"], 0, "{notes}");
    // Right-to-left text with its marks (no scope, nothing hidden) is a note like any other.
    let urdu = "\u{645}\u{6CC}\u{631}\u{627} \u{200F}ward 4\u{200F}";
    let (s, v) = api
        .call(
            "POST",
            &format!("/tickets/{number}/notes"),
            &admin,
            Some(json!({"text": urdu})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["text"], urdu);
}
contract!(bidi_controls_in_free_text_are_refused_naming_the_field);

async fn notes_and_the_audit_trail_come_in_bounded_pages(env: Env) {
    let api = Api::new(&env);
    let admin = token(&env, Role::Admin, None).await;
    let (_, filed) = api
        .call("POST", "/tickets", &admin, Some(new_ticket("JSV")))
        .await;
    let number = filed["number"].as_str().unwrap().to_owned();
    for i in 0..7 {
        let (s, _) = api
            .call(
                "POST",
                &format!("/tickets/{number}/notes"),
                &admin,
                Some(json!({"text": format!("note {i}")})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let page = |query: &str| {
        let api = &api;
        let admin = admin.clone();
        let path = format!("/tickets/{number}/{query}");
        async move { api.call("GET", &path, &admin, None).await }
    };
    let (s, v) = page("notes").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (v["total"].as_u64(), v["limit"].as_u64()),
        (Some(7), Some(50))
    );
    let (_, v) = page("notes?limit=3&offset=3").await;
    let texts: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["note 3", "note 4", "note 5"], "oldest first: {v}");
    assert_eq!(
        (v["total"].as_u64(), v["offset"].as_u64()),
        (Some(7), Some(3))
    );
    let (_, v) = page("notes?limit=3&offset=6").await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1, "{v}");
    let (_, v) = page("notes?offset=70").await;
    assert_eq!(v["items"].as_array().unwrap().len(), 0, "{v}");
    // The audit trail: filed + 7 notes at least, in pages of the same kind.
    let (s, v) = page("audit?limit=2").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["items"].as_array().unwrap().len(), 2, "{v}");
    assert!(v["total"].as_u64().unwrap() >= 1, "{v}");
    for list in ["notes", "audit"] {
        for (query, status) in [
            ("limit=0", StatusCode::UNPROCESSABLE_ENTITY),
            ("limit=201", StatusCode::UNPROCESSABLE_ENTITY),
            ("offset=-1", StatusCode::BAD_REQUEST),
            ("colour=red", StatusCode::BAD_REQUEST),
        ] {
            let (s, v) = page(&format!("{list}?{query}")).await;
            assert_eq!(s, status, "{list}?{query}: {v}");
        }
        let (_, v) = page(&format!("{list}?limit=201")).await;
        assert_eq!(v["error"]["field"], "limit", "{v}");
    }
    let (s, v) = api.call("GET", "/tickets?limit=201", &admin, None).await;
    assert_eq!(
        (s, &v["error"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("limit"))
    );
}
contract!(notes_and_the_audit_trail_come_in_bounded_pages);
