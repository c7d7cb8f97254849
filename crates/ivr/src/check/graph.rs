//! Whole-script checks on the step graph: unreachable steps, loops with no way out, loops that
//! never wait for the caller, and `hangup_ticket` targets.

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

    // Steps from which some path ends the call (hangup or transfer): backwards from the ends.
    let mut predecessors: Vec<Vec<StepId>> = vec![Vec::new(); steps.len()];
    for (i, succ) in successors.iter().enumerate() {
        for &s in succ {
            predecessors[s].push(i);
        }
    }
    let mut exits: Vec<bool> = steps.iter().map(Step::is_terminal).collect();
    let mut stack: Vec<StepId> = (0..steps.len()).filter(|&i| exits[i]).collect();
    while let Some(s) = stack.pop() {
        for &p in &predecessors[s] {
            if !std::mem::replace(&mut exits[p], true) {
                stack.push(p);
            }
        }
    }

    // Report each trap once: the loops (strongly connected sets) among steps with no way out.
    let trapped: Vec<bool> = (0..steps.len())
        .map(|i| reachable[i] && !exits[i])
        .collect();
    for cycle in loops_within(&successors, &trapped) {
        ctx.error(
            spans[cycle[0]].clone(),
            format!("steps {} loop with no way out", step_list(steps, &cycle)),
            "no path from them reaches a `hangup` or `transfer` step; give a menu an exit \
             (e.g. `on_exhausted` to a goodbye or an agent)",
        );
    }

    // Loops made only of `set`/`branch` steps would spin without waiting for anything: one
    // report per strongly connected set of them, naming one cycle through its first step.
    let instant: Vec<bool> = steps.iter().map(Step::is_instant).collect();
    for group in loops_within(&successors, &instant) {
        let from = group[0];
        let mut in_group = vec![false; steps.len()];
        for &s in &group {
            in_group[s] = true;
        }
        let cycle = cycle_through(from, &successors, &in_group);
        let shown = abridge(cycle.iter().map(|&s| steps[s].name.clone()), " → ");
        ctx.error(
            spans[from].clone(),
            format!("steps {shown} loop without playing anything or waiting for the caller"),
            format!(
                "step `{}` would run forever; put a menu or prompt in the loop",
                steps[from].name
            ),
        );
    }
}

/// The most steps a loop's message names; the rest are counted.
const NAMED_IN_A_LOOP: usize = 10;

/// `` `a`, `b`, `c` ``, abridged past [`NAMED_IN_A_LOOP`].
fn step_list(steps: &[Step], ids: &[StepId]) -> String {
    abridge(ids.iter().map(|&j| format!("`{}`", steps[j].name)), ", ")
}

fn abridge(names: impl ExactSizeIterator<Item = String>, sep: &str) -> String {
    let total = names.len();
    let shown: Vec<String> = names.take(NAMED_IN_A_LOOP).collect();
    let mut out = shown.join(sep);
    if total > NAMED_IN_A_LOOP {
        out.push_str(&format!(
            "{sep}… ({} more)",
            super::file::group((total - NAMED_IN_A_LOOP) as u64)
        ));
    }
    out
}

/// The strongly connected sets of the steps where `within` holds that form a loop (more than
/// one step, or a step leading to itself), each sorted, ordered by their first step. Tarjan's
/// algorithm, iterative (a 2,000-step chain must not exhaust the stack): linear in steps and
/// links.
fn loops_within(successors: &[Vec<StepId>], within: &[bool]) -> Vec<Vec<StepId>> {
    const UNSEEN: usize = usize::MAX;
    let n = successors.len();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<StepId> = Vec::new();
    let mut next_index = 0;
    let mut out = Vec::new();
    // (step, how many of its successors were looked at)
    let mut work: Vec<(StepId, usize)> = Vec::new();
    for root in 0..n {
        if !within[root] || index[root] != UNSEEN {
            continue;
        }
        work.push((root, 0));
        while let Some(&mut (v, ref mut k)) = work.last_mut() {
            if *k == 0 && index[v] == UNSEEN {
                index[v] = next_index;
                low[v] = next_index;
                next_index += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = successors[v].get(*k) {
                *k += 1;
                if !within[w] {
                    continue;
                }
                if index[w] == UNSEEN {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut group = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    group.push(w);
                    if w == v {
                        break;
                    }
                }
                if group.len() > 1 || successors[v].contains(&v) {
                    group.sort_unstable();
                    out.push(group);
                }
            }
        }
    }
    out.sort_unstable_by_key(|g| g[0]);
    out
}

/// A cycle from `from` back to it through steps where `within` holds (depth-first, in link
/// order); `from` must be in a loop of such steps. Each step is entered once: linear.
fn cycle_through(from: StepId, successors: &[Vec<StepId>], within: &[bool]) -> Vec<StepId> {
    let mut path = vec![from];
    let mut iters = vec![0usize];
    let mut seen = vec![false; successors.len()];
    seen[from] = true;
    while let Some(&node) = path.last() {
        let idx = iters
            .last_mut()
            .expect("iters has one entry per path entry");
        if let Some(&next) = successors[node].get(*idx) {
            *idx += 1;
            if next == from {
                path.push(from);
                return path;
            }
            if within[next] && !std::mem::replace(&mut seen[next], true) {
                path.push(next);
                iters.push(0);
            }
        } else {
            path.pop();
            iters.pop();
        }
    }
    // Not in a loop after all: name the step alone rather than nothing.
    vec![from, from]
}

pub(super) fn check_hangup_tickets(
    ctx: &mut Ctx<'_>,
    steps: &[Step],
    raw: &[(&S<String>, &S<RawStep>)],
) {
    for (step, (_, raw_step)) in steps.iter().zip(raw) {
        if let StepKind::Record(rec) = &step.kind
            && let (Some(target), Some(field)) =
                (rec.hangup_ticket, &raw_step.get_ref().hangup_ticket)
            && !matches!(steps[target].kind, StepKind::Ticket(_))
        {
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
