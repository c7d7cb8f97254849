//! Caller ids as real trunks deliver them (issue 9): every form files a ticket under the normalised
//! number, hostile ones included; the API normalises the same way and finds tickets by any form.

use axum::http::StatusCode;
use serde_json::json;
use tickets::caller::EXAMPLES;
use tickets::{NewCallTicket, Role};

use crate::api::{Api, new_ticket, token};
use crate::contract;
use crate::lifecycle::call;
use crate::support::Env;

async fn every_trunk_form_files_a_ticket(env: Env) {
    for (i, (raw, expected)) in EXAMPLES.iter().enumerate() {
        let ticket = NewCallTicket {
            caller_number: (*raw).to_owned(),
            caller_raw: None,
            ..call(&format!("caller-form-{i}"), "JSV")
        };
        let number = env
            .service
            .create_from_call(ticket)
            .await
            .unwrap_or_else(|e| panic!("caller id {raw:?} refused: {e}"));
        let stored = env.store.ticket(number).await.unwrap().unwrap();
        assert_eq!(stored.caller_number, *expected, "caller id {raw:?}");
        let changed = tickets::CallerId::from_trunk(raw);
        assert_eq!(
            stored.caller_raw.as_deref(),
            changed.raw_if_changed(),
            "{raw:?}"
        );
    }
}
contract!(every_trunk_form_files_a_ticket);

async fn the_api_normalises_and_finds_by_any_form(env: Env) {
    let api = Api::new(&env);
    let agent = token(&env, Role::Agent, None).await;
    let mut body = new_ticket("JSV");
    body["caller_number"] = json!("+91-98160-00001");
    let (s, v) = api.call("POST", "/tickets", &agent, Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let number = v["number"].as_str().unwrap().to_owned();
    let (s, v) = api
        .call("GET", &format!("/tickets/{number}"), &agent, None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["caller_number"], "+919816000001");
    for form in ["09816000001", "9816000001", "%2B919816000001"] {
        let (s, v) = api
            .call("GET", &format!("/tickets?caller={form}"), &agent, None)
            .await;
        assert_eq!(s, StatusCode::OK, "{form}: {v}");
        let found: Vec<&str> = v["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{form}: {v}"))
            .iter()
            .filter_map(|t| t["number"].as_str())
            .collect();
        assert_eq!(found, [number.as_str()], "caller={form}");
    }
    // A withheld number is a complaint like any other.
    let mut withheld = new_ticket("JSV");
    withheld["caller_number"] = json!("anonymous");
    let (s, v) = api.call("POST", "/tickets", &agent, Some(withheld)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}
contract!(the_api_normalises_and_finds_by_any_form);
