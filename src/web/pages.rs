//! The pages' HTML (maud): the frame every page shares, and each page's forms and empty tables,
//! labelled for screen readers and reachable by keyboard, which the script fills from the API.
//! Nothing here reads data: only the viewer's name and role, and fixed vocabularies (pause
//! reasons, dispositions, transfer destinations).

use maud::{DOCTYPE, Markup, html};

use super::{Lang, Page, Viewer, assets_version};

/// A whole page for a viewer allowed to see it.
pub fn page(lang: Lang, page: Page, viewer: &Viewer) -> Markup {
    let (title, main) = match page {
        Page::Login => return login(lang),
        Page::Desk => (lang.t("desk.title"), desk(lang)),
        Page::Board => (lang.t("board.title"), board(lang)),
        Page::Reports => (lang.t("reports.title"), reports(lang)),
    };
    frame(lang, page, title, Some(viewer), main, true)
}

/// The 403 page: a role the page is not for.
pub fn forbidden(lang: Lang, page: Page, viewer: &Viewer) -> Markup {
    let role = lang.t(&format!("role.{}", viewer.role.as_str()));
    let start = Page::start_for(viewer.role);
    let main = html! {
        h1 #forbidden { (lang.t("forbidden.title")) }
        p { (lang.fill("forbidden.text", &[("role", role)])) }
        @if let Some(start) = start {
            p { a href=(start.path()) { (lang.t("forbidden.back")) } }
        }
    };
    frame(
        lang,
        page,
        lang.t("forbidden.title"),
        Some(viewer),
        main,
        false,
    )
}

/// A page that only says something (throttled, unavailable).
pub fn message(lang: Lang, title: &str, text: &str) -> Markup {
    let main = html! {
        h1 { (title) }
        p role="alert" { (text) }
        p { a href="/login" { (lang.t("login.title")) } }
    };
    frame(lang, Page::Login, title, None, main, false)
}

/// The login form, posted to the API by the script.
pub fn login(lang: Lang) -> Markup {
    let main = html! {
        section.panel.login aria-labelledby="login-title" {
            h1 #login-title { (lang.t("login.title")) }
            p { (lang.t("login.intro")) }
            // `method=post`: without the script the browser never puts a password in an address.
            form #login-form method="post" novalidate {
                label for="login-name" { (lang.t("login.user")) }
                input #login-name name="login" type="text" autocomplete="username"
                    autocapitalize="none" spellcheck="false" required autofocus;
                label for="login-password" { (lang.t("login.password")) }
                input #login-password name="password" type="password"
                    autocomplete="current-password" required;
                button #login-submit type="submit" { (lang.t("login.submit")) }
                p #login-error.error role="alert" {}
            }
        }
    };
    frame(lang, Page::Login, lang.t("login.title"), None, main, true)
}

/// The frame of every page; `run`: the script fills the page (not on one that only says something).
fn frame(
    lang: Lang,
    page: Page,
    title: &str,
    viewer: Option<&Viewer>,
    main: Markup,
    run: bool,
) -> Markup {
    let version = assets_version();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · " (lang.t("app.name")) }
                link rel="icon" href="data:,";
                link rel="stylesheet" href={ "/assets/app.css?v=" (version) };
                script type="module" src={ "/assets/app.js?v=" (version) } {}
            }
            body data-page=(if run { page.name() } else { "none" })
                data-login=[viewer.map(|v| v.login.as_str())]
                data-role=[viewer.map(|v| v.role.as_str())] {
                a.skip href="#main" { (lang.t("skip")) }
                header.top {
                    span.brand { (lang.t("app.name")) }
                    @if let Some(viewer) = viewer {
                        nav aria-label=(lang.t("nav.label")) {
                            ul {
                                @for item in Page::NAVIGATION {
                                    @if item.allowed(viewer.role) {
                                        li {
                                            a href=(item.path())
                                                aria-current=[(item == page).then_some("page")] {
                                                (lang.t(&format!("nav.{}", item.name())))
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    div.langs role="group" aria-label=(lang.t("lang.label")) {
                        @for other in Lang::ALL {
                            a href={ "/lang/" (other.code()) "?back=" (page.path()) }
                                lang=(other.code()) hreflang=(other.code())
                                aria-current=[(other == lang).then_some("true")] {
                                (other.own_name())
                            }
                        }
                    }
                    @if run && matches!(page, Page::Desk | Page::Board) {
                        span #live.live role="status" aria-label=(lang.t("live.label")) {}
                    }
                    @if let Some(viewer) = viewer {
                        span.who {
                            (viewer.name) " · "
                            (lang.t(&format!("role.{}", viewer.role.as_str())))
                        }
                        button #logout type="button" { (lang.t("logout")) }
                    }
                }
                main #main tabindex="-1" {
                    noscript { p.error { (lang.t("noscript")) } }
                    (main)
                }
                dialog #confirm aria-labelledby="confirm-title" {
                    form method="dialog" {
                        h2 #confirm-title { (lang.t("confirm.title")) }
                        p #confirm-text {}
                        div #confirm-extra {}
                        div.buttons {
                            button #confirm-cancel value="cancel" { (lang.t("confirm.cancel")) }
                            button #confirm-ok value="ok" { (lang.t("confirm.ok")) }
                        }
                    }
                }
                div #strings hidden data-strings=(lang.json()) {}
            }
        }
    }
}

/// The pause reasons an agent or a supervisor may give (`no_answer` is the ACD's own).
fn pause_reasons(lang: Lang, id: &str) -> Markup {
    html! {
        select #(id) {
            @for reason in acd::PauseReason::ALL {
                @if reason != acd::PauseReason::NoAnswer {
                    option value=(reason.as_str()) {
                        (lang.t(&format!("reason.{}", reason.as_str())))
                    }
                }
            }
        }
    }
}

/// A table's header row: each column's text key, and whether it holds numbers (aligned right).
fn head(lang: Lang, columns: &[(&str, bool)]) -> Markup {
    html! {
        thead {
            tr {
                @for (key, numbers) in columns {
                    th.num[*numbers] scope="col" { (lang.t(key)) }
                }
            }
        }
    }
}

fn desk(lang: Lang) -> Markup {
    html! {
        h1.visually-hidden { (lang.t("desk.title")) }
        div.desk {
            section.panel #state-panel aria-labelledby="state-title" {
                h2 #state-title { (lang.t("desk.state")) }
                p.state-line {
                    span #my-state.state data-state="logged_out" { (lang.t("state.logged_out")) }
                    " "
                    span #my-since.timer {}
                }
                form #wrapup-form hidden {
                    label for="disposition" { (lang.t("desk.disposition")) }
                    select #disposition {
                        @for code in crate::centre::api::DISPOSITIONS {
                            option value=(code) { (lang.t(&format!("disp.{code}"))) }
                        }
                    }
                    button #btn-dispose type="submit" { (lang.t("desk.end_wrapup")) }
                }
                form #centre-login {
                    label for="phone" { (lang.t("desk.phone")) }
                    input #phone type="text" placeholder="PJSIP/agent-101" autocomplete="off"
                        spellcheck="false";
                    button #btn-centre-login type="submit" { (lang.t("desk.login")) }
                }
                div #state-actions hidden {
                    button #btn-available type="button" { (lang.t("desk.available")) }
                    form #pause-form {
                        label for="pause-reason" { (lang.t("desk.reason")) }
                        (pause_reasons(lang, "pause-reason"))
                        button #btn-pause type="submit" { (lang.t("desk.pause")) }
                    }
                    button #btn-centre-logout type="button" { (lang.t("desk.logout")) }
                }
                p #desk-message.message role="status" {}
                p #desk-error.error role="alert" {}
            }
            section.panel #pop aria-labelledby="pop-title" aria-live="polite" {
                h2 #pop-title { (lang.t("pop.on_call")) }
                p #pop-idle { (lang.t("desk.not_in")) }
                div #pop-call hidden {
                    dl.facts {
                        div { dt { (lang.t("pop.caller")) } dd #pop-caller.number {} }
                        div { dt { (lang.t("pop.language")) } dd #pop-language {} }
                        div { dt { (lang.t("pop.department")) } dd #pop-department {} }
                        div.wide { dt { (lang.t("pop.path")) } dd #pop-path {} }
                        div { dt { (lang.t("pop.queue")) } dd #pop-queue {} }
                        div { dt { (lang.t("pop.joined")) } dd #pop-joined {} }
                        div { dt { (lang.t("pop.complaints")) } dd #pop-complaints {} }
                        div { dt { (lang.t("file.in_call")) } dd #pop-filed {} }
                    }
                    div #call-actions.actions {
                        button #btn-hold type="button" aria-pressed="false" { (lang.t("hold.on")) }
                        button #btn-hangup.danger type="button" { (lang.t("hangup.button")) }
                        form #transfer-form {
                            label for="transfer-to" { (lang.t("transfer.to")) }
                            select #transfer-to {
                                @for helpline in crate::centre::integrated_helplines().keys() {
                                    option value=(helpline) {
                                        (lang.t(&format!("helpline.{helpline}")))
                                    }
                                }
                                option value="phone" { (lang.t("transfer.officer")) }
                            }
                            label for="transfer-phone" hidden { (lang.t("transfer.phone")) }
                            input #transfer-phone type="text" hidden placeholder="PJSIP/officer-7"
                                autocomplete="off" spellcheck="false";
                            button #btn-transfer type="submit" { (lang.t("transfer.submit")) }
                        }
                    }
                    h3 #history-title { (lang.t("pop.history")) }
                    p #history-summary {}
                    table #history aria-labelledby="history-title" hidden {
                        (head(lang, &[("col.number", false), ("col.status", false), ("col.department", false), ("col.due", false), ("col.description", false), ("col.last_note", false), ("col.recording", false)]))
                        tbody {}
                    }
                    form #file-form aria-labelledby="file-title" {
                        h3 #file-title { (lang.t("file.title")) }
                        label for="file-department" { (lang.t("file.department")) }
                        select #file-department {}
                        label for="file-description" { (lang.t("file.description")) }
                        textarea #file-description rows="3" maxlength="4000" required {}
                        button #btn-file type="submit" { (lang.t("file.submit")) }
                    }
                }
            }
            section.panel.wide #callbacks aria-labelledby="callbacks-title" {
                h2 #callbacks-title { (lang.t("callbacks.title")) }
                p #callbacks-summary { (lang.t("callbacks.none")) }
                table #callbacks-list aria-labelledby="callbacks-title" hidden {
                    (head(lang, &[("callbacks.col.kind", false), ("col.caller", false), ("col.language", false), ("callbacks.col.about", false), ("callbacks.col.since", false), ("col.actions", false)]))
                    tbody {}
                }
            }
        }
    }
}

fn board(lang: Lang) -> Markup {
    html! {
        h1.visually-hidden { (lang.t("board.title")) }
        p #board-message.message role="status" {}
        p #board-error.error role="alert" {}
        section.panel aria-labelledby="floor-title" {
            h2 #floor-title { (lang.t("board.floor")) }
            dl.facts.floor {
                div { dt { (lang.t("board.in_ivr")) } dd #in-ivr.big { "—" } }
                div { dt { (lang.t("board.overdue")) } dd #overdue-total.big { "—" } }
                div { dt { (lang.t("board.escalated_today")) } dd #escalated-total.big { "—" } }
            }
        }
        section.panel aria-labelledby="queues-title" {
            h2 #queues-title { (lang.t("board.queues")) }
            table #queues aria-labelledby="queues-title" {
                (head(lang, &[("col.queue", false), ("col.waiting", true), ("col.longest", true), ("col.answered", true), ("col.abandoned", true), ("col.service_level", true), ("col.asa", true), ("col.aht", true), ("col.expected", true), ("col.agents_free", true)]))
                tbody {}
            }
        }
        section.panel aria-labelledby="agents-title" {
            div.panel-head {
                h2 #agents-title { (lang.t("board.agents")) }
                ul #by-state.chips {}
                form #supervisor-form.inline {
                    label for="supervisor-phone" { (lang.t("board.phone")) }
                    input #supervisor-phone type="text" placeholder="PJSIP/supervisor-1"
                        autocomplete="off" spellcheck="false";
                }
            }
            table #agents aria-labelledby="agents-title" {
                (head(lang, &[("col.agent", false), ("col.state", false), ("col.time", true), ("col.calls_taken", true), ("col.call", false), ("col.actions", false)]))
                tbody {}
            }
            p #no-agents hidden { (lang.t("board.no_agents")) }
        }
        section.panel aria-labelledby="waiting-title" {
            h2 #waiting-title { (lang.t("board.waiting")) }
            table #waiting aria-labelledby="waiting-title" hidden {
                (head(lang, &[("col.queue", false), ("col.position", true), ("col.caller", false), ("col.language", false), ("col.department", false), ("col.waited", true), ("col.move", false)]))
                tbody {}
            }
            p #more-waiting .small aria-live="polite" hidden {}
            p #nobody-waiting { (lang.t("board.nobody_waiting")) }
        }
        section.panel aria-labelledby="complaints-title" {
            h2 #complaints-title { (lang.t("board.complaints")) }
            table #complaints aria-labelledby="complaints-title" hidden {
                (head(lang, &[("col.department", false), ("col.level", true), ("col.open_complaints", true), ("col.overdue", true), ("col.escalated_today", true)]))
                tbody {}
            }
            p #no-complaints { (lang.t("board.no_complaints")) }
        }
        template #pause-reasons { (pause_reasons(lang, "confirm-reason")) }
    }
}

/// A chart's panel: its title, the chart (`#NAME-chart`) and its figures as a table
/// (`#NAME-table`), which the script fills.
fn chart(lang: Lang, name: &str, title: &str) -> Markup {
    html! {
        section.panel aria-labelledby={ (name) "-title" } {
            h2 id={ (name) "-title" } { (lang.t(title)) }
            div.chart id={ (name) "-chart" } {}
            details {
                summary { (lang.t("reports.table")) }
                table id={ (name) "-table" } {}
            }
        }
    }
}

fn reports(lang: Lang) -> Markup {
    html! {
        h1 { (lang.t("reports.title")) }
        form #report-form.inline {
            label for="report-from" { (lang.t("reports.from")) }
            input #report-from type="date" required;
            label for="report-to" { (lang.t("reports.to")) }
            input #report-to type="date" required;
            button type="submit" { (lang.t("reports.show")) }
            a #report-csv.button href="#" download="helpline-report.csv" { (lang.t("reports.csv")) }
        }
        p #report-error.error role="alert" {}
        section.panel aria-labelledby="summary-title" {
            h2 #summary-title { (lang.t("reports.summary")) }
            dl #summary.facts {}
        }
        div.charts {
            (chart(lang, "series", "reports.per_hour"))
            (chart(lang, "sl", "reports.sl"))
            (chart(lang, "departments", "reports.departments"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickets::Role;

    fn viewer(role: Role) -> Viewer {
        Viewer {
            login: "asha".into(),
            name: "Asha <Verma>".into(),
            role,
        }
    }

    #[test]
    fn every_page_renders_in_both_languages_with_its_lang_and_labels() {
        for lang in Lang::ALL {
            for p in [Page::Desk, Page::Board, Page::Reports] {
                let html = page(lang, p, &viewer(Role::Admin)).into_string();
                assert!(
                    html.starts_with(&format!("<!DOCTYPE html><html lang=\"{}\">", lang.code())),
                    "{html}"
                );
                assert!(html.contains(&format!("data-page=\"{}\"", p.name())));
                // Names from accounts are escaped.
                assert!(html.contains("Asha &lt;Verma&gt;"), "{html}");
                // Every form control has its label.
                for piece in html.split("<input").skip(1) {
                    let id = piece
                        .split("id=\"")
                        .nth(1)
                        .and_then(|p| p.split('"').next())
                        .unwrap_or_default();
                    assert!(
                        html.contains(&format!("for=\"{id}\"")),
                        "{}: no label for input #{id}",
                        p.name()
                    );
                }
                // No text is missing (a key without one renders empty).
                for empty in [
                    "\"col\"></th>",
                    "></label>",
                    "></option>",
                    "></button>",
                    "></h2>",
                ] {
                    assert!(!html.contains(empty), "{}: an empty {empty}", p.name());
                }
                // The language switch names each language in itself.
                assert!(html.contains("lang=\"hi\" hreflang=\"hi\""));
                assert!(html.contains("हिन्दी"));
            }
        }
    }

    #[test]
    fn navigation_follows_the_role() {
        let html = page(Lang::En, Page::Desk, &viewer(Role::Agent)).into_string();
        assert!(html.contains("href=\"/desk\""));
        assert!(!html.contains("href=\"/board\""));
        assert!(!html.contains("href=\"/reports\""));
        let html = forbidden(Lang::Hi, Page::Board, &viewer(Role::Officer)).into_string();
        assert!(html.contains("अनुमति नहीं"), "{html}");
        assert!(html.contains("href=\"/reports\""));
        assert!(!html.contains("href=\"/board\""));
    }

    #[test]
    fn the_login_page_posts_nothing_in_its_address() {
        let html = login(Lang::En).into_string();
        assert!(html.contains("<form id=\"login-form\" method=\"post\""));
        assert!(html.contains("autocomplete=\"current-password\""));
        assert!(!html.contains("id=\"logout\""));
    }
}
