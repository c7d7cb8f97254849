//! The API's edge over both backends (issue 10): free text with bidirectional controls refused with
//! a 422 naming the field.

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
            "assign",
            json!({"officer": "\u{2066}Verma\u{2069}"}),
            "officer",
        ),
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
    let (_, notes) = api
        .call("GET", &format!("/tickets/{number}/notes"), &admin, None)
        .await;
    assert_eq!(notes.to_string().matches("hidden").count(), 0, "{notes}");
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
