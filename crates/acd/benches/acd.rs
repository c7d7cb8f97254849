//! `cargo bench -p acd`: the ACD's decision time with 300 agents and 2,000 callers waiting, and the
//! memory per waiting caller, both from the structures' sizes and as the allocator counted it.
//! `AGENTS` and `CALLERS` change the numbers.

use std::alloc::System;

use cap::Cap;

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

fn number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let agents = number("AGENTS", 300);
    let callers = number("CALLERS", 2_000);
    let report = acd::bench::run_counted(agents, callers, Some(&|| ALLOCATOR.allocated()));
    println!("{report}");
}
