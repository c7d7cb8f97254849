//! Whole-script checks on the step graph: unreachable steps, loops with no way out, loops that
//! never wait for the caller, and `hangup_ticket` targets.

use std::collections::BTreeSet;
use std::ops::Range;

use super::compile::Ctx;
use super::raw::*;
use crate::script::{Step, StepId, StepKind};

/// Unreachable steps (warnings); loops with no way out and loops of `set`/`branch` steps that
/// never wait (errors). Needs every step built and every reference resolved.
pub(super) fn graph_checks(
    ctx: &mut Ctx<'_>,
    steps: &[Step],
    spans: &[Range<usize>],
    start: StepId,
) {
    let successors: Vec<Vec<StepId>> = steps.iter().map(Step::successors).collect();

    // Reachable from the start.
    let mut reachable = vec![false; steps.len()];
    let mut stack = vec![start];
    while let Some(s) = stack.pop() {
        if !std::mem::replace(&mut reachable[s], true) {
            stack.extend(&successors[s]);
        }
    }
    for (i, step) in steps.iter().enumerate() {
        if !reachable[i] {
            ctx.warning(
                spans[i].clone(),
                format!("step `{}` is unreachable", step.name),
                "no step leads here from the start; remove it or link it",
            );
        }
    }

    // Steps from which some path ends the call (hangup or transfer).
    let mut exits = vec![false; steps.len()];
    let mut changed = true;
    while changed {
        changed = false;
        for (i, step) in steps.iter().enumerate() {
            if !exits[i] && (step.is_terminal() || successors[i].iter().any(|&s| exits[s])) {
                exits[i] = true;
                changed = true;
            }
        }
    }
    // Report each trap once: the loops (strongly connected sets) among steps with no way out.
    let trapped: Vec<bool> = (0..steps.len())
        .map(|i| reachable[i] && !exits[i])
        .collect();
    let reach_within = |from: StepId| -> BTreeSet<StepId> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(s) = stack.pop() {
            for &next in &successors[s] {
                if trapped[next] && seen.insert(next) {
                    stack.push(next);
                }
            }
        }
        seen
    };
    let reach: Vec<BTreeSet<StepId>> = (0..steps.len())
        .map(|i| {
            if trapped[i] {
                reach_within(i)
            } else {
                BTreeSet::new()
            }
        })
        .collect();
    let mut reported_trap = vec![false; steps.len()];
    for i in 0..steps.len() {
        if !trapped[i] || reported_trap[i] || !reach[i].contains(&i) {
            continue;
        }
        let cycle: Vec<StepId> = (0..steps.len())
            .filter(|&j| j == i || (reach[i].contains(&j) && reach[j].contains(&i)))
            .collect();
        for &j in &cycle {
            reported_trap[j] = true;
        }
        let names: Vec<String> = cycle
            .iter()
            .map(|&j| format!("`{}`", steps[j].name))
            .collect();
        ctx.error(
            spans[i].clone(),
            format!("steps {} loop with no way out", names.join(", ")),
            "no path from them reaches a `hangup` or `transfer` step; give a menu an exit \
             (e.g. `on_exhausted` to a goodbye or an agent)",
        );
    }

    // Loops made only of `set`/`branch` steps would spin without waiting for anything.
    let instant: Vec<bool> = steps.iter().map(Step::is_instant).collect();
    let mut reported = BTreeSet::new();
    for (i, step) in steps.iter().enumerate() {
        if !instant[i] || reported.contains(&i) {
            continue;
        }
        if let Some(cycle) = instant_cycle_through(i, &successors, &instant) {
            reported.extend(cycle.iter().copied());
            let names: Vec<&str> = cycle.iter().map(|&s| steps[s].name.as_str()).collect();
            ctx.error(
                spans[i].clone(),
                format!(
                    "steps {} loop without playing anything or waiting for the caller",
                    names.join(" → ")
                ),
                format!(
                    "step `{}` would run forever; put a menu or prompt in the loop",
                    step.name
                ),
            );
        }
    }
}

/// A cycle of instant steps through `from`, if any (depth-first over instant successors).
fn instant_cycle_through(
    from: StepId,
    successors: &[Vec<StepId>],
    instant: &[bool],
) -> Option<Vec<StepId>> {
    let mut path = vec![from];
    let mut iters = vec![0usize];
    let mut seen = BTreeSet::from([from]);
    while let Some(&node) = path.last() {
        let idx = iters
            .last_mut()
            .expect("iters has one entry per path entry");
        if let Some(&next) = successors[node].get(*idx) {
            *idx += 1;
            if next == from {
                path.push(from);
                return Some(path);
            }
            if instant[next] && seen.insert(next) {
                path.push(next);
                iters.push(0);
            }
        } else {
            path.pop();
            iters.pop();
        }
    }
    None
}

pub(super) fn check_hangup_tickets(
    ctx: &mut Ctx<'_>,
    steps: &[Step],
    raw: &[(&S<String>, &S<RawStep>)],
) {
    for (step, (_, raw_step)) in steps.iter().zip(raw) {
        if let StepKind::Record(rec) = &step.kind {
            if let (Some(target), Some(field)) =
                (rec.hangup_ticket, &raw_step.get_ref().hangup_ticket)
            {
                if !matches!(steps[target].kind, StepKind::Ticket(_)) {
                    ctx.error(
                        field.span(),
                        format!(
                            "hangup_ticket `{}` is not a `ticket` step",
                            steps[target].name
                        ),
                        "name the ticket step that files this recording",
                    );
                }
            }
        }
    }
}
