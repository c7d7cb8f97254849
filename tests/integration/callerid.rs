//! Issue 9, item 4: caller ids as Indian trunks deliver them. A citizen calling from any of these records
//! a complaint and gets a ticket, filed under the normalised number (E.164, or `unknown`): never "ticket
//! could not be filed" because of the caller id. (An empty caller id is covered by the ticket contract
//! tests; the simulator refuses a scenario without one.)

use ari_sim::CallOutcome;
use tickets::caller::EXAMPLES;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_trunk_form_of_caller_id_gets_its_complaint_filed() {
    let t = TestNode::start("caller-ids", office_hours()).await;
    let mut placed = Vec::new();
    // The simulator refuses a scenario with no caller id.
    let forms = EXAMPLES.iter().filter(|(raw, _)| !raw.is_empty());
    for (i, (raw, expected)) in forms.enumerate() {
        let department = (i % 9 + 1).to_string();
        let id = t
            .sim
            .place_call(scenario(raw, registration("2", &department, 2.0)))
            .await
            .unwrap_or_else(|e| panic!("placing a call from {raw:?}: {e}"));
        placed.push((raw, expected, id));
    }
    for (raw, expected, id) in placed {
        let result = t.sim.call_result(id, CALL_TIMEOUT).await.unwrap();
        assert_eq!(
            result.outcome,
            CallOutcome::Completed,
            "{raw:?}: {result:#?}"
        );
        let number = number_read_back(&result)
            .unwrap_or_else(|| panic!("no complaint number read back to {raw:?}: {result:#?}"));
        let ticket = t.ticket(&number).await;
        assert_eq!(ticket.caller_number, *expected, "caller id {raw:?}");
        // What the trunk sent is kept for the record (escaped), when it says more than the number.
        let kept = tickets::CallerId::from_trunk(raw);
        assert_eq!(
            ticket.caller_raw.as_deref(),
            kept.raw_if_changed(),
            "caller id {raw:?}"
        );
    }
    t.stop().await;
}
