//! Escalations and overdue complaints per department and level, the report's ticket-store section
//! beside disposal. The figures are the ticket store's (levels 1-4, due dates) and are read through
//! `tickets::Store`'s own queries — never its tables: records' store knows only its own. Like
//! disposal, they are of all complaints, as they stand at `now` (a level never goes down, so the
//! complaints at L2-L4 are the ones escalated that far).
//!
//! Whoever assembles a report (`helpline report`, `GET /api/v1/reports/calls`) adds this section;
//! the [`ReportBuilder`](crate::ReportBuilder) stays pure.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tickets::model::MAX_LEVEL;
use tickets::{Page, StoreError, TicketFilter};

/// One department's complaints at one level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LevelFigures {
    pub department: String,
    pub name: String,
    /// 1 (the officer first assigned) to 4.
    pub level: u8,
    pub complaints: u64,
    /// Of those, open with their due date passed.
    pub overdue: u64,
}

/// The department's rows (only levels that hold complaints), by department code then level; with
/// `department`, that department's only. Departments without complaints are left out.
pub async fn escalations(
    store: &tickets::Store,
    department: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<LevelFigures>, StoreError> {
    let mut rows = Vec::new();
    for d in store.departments().await? {
        if department.is_some_and(|want| want != d.code) {
            continue;
        }
        let stats = store.stats(Some(&d.code), now).await?;
        for (level, complaints) in stats.by_level {
            if complaints == 0 || !(1..=MAX_LEVEL).contains(&level) {
                continue;
            }
            let overdue = if stats.overdue == 0 {
                0
            } else {
                let filter = TicketFilter {
                    department_code: Some(d.code.clone()),
                    level: Some(level),
                    overdue_at: Some(now),
                    ..TicketFilter::default()
                };
                // The count comes with the page; one row is the least a page holds.
                let page = Page {
                    limit: 1,
                    offset: 0,
                };
                store.list_tickets(&filter, page).await?.1
            };
            rows.push(LevelFigures {
                department: d.code.clone(),
                name: d.name.clone(),
                level,
                complaints,
                overdue,
            });
        }
    }
    Ok(rows)
}
