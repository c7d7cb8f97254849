//! An agent profile: what makes a user an agent of the call centre — the phone their calls ring
//! (a dial string such as `PJSIP/agent-101`, the desk's unless they choose another at login), the
//! languages they speak, the departments they take calls for (none: all) and the helplines whose
//! calls they take (`1100`, `181`, `1077` …; none: all). The call centre (the ACD) reads these at
//! start and when they change; the rules (who may have one, what a valid one is) are here, the
//! queries in [`crate::store`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AccountError, AccountEvent, login_name};
use crate::caller::Escaped;
use crate::departments::is_valid_department_code;
use crate::model::Role;
use crate::store::Store;

/// The most departments or helplines one profile lists.
const MAX_LIST: usize = 100;

/// A user's agent profile, as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgentProfile {
    /// The user's login.
    pub login: String,
    /// The phone their calls ring unless they log in with another.
    pub phone: Option<String>,
    /// Language codes they take calls in (`hi`, `en`), at least one.
    pub languages: Vec<String>,
    /// Department codes they take calls for; empty: every department.
    pub departments: Vec<String>,
    /// Helplines whose calls they take; empty: every helpline.
    pub helplines: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

/// A profile to set, as given by an admin or a supervisor (unchecked).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentProfileInput {
    /// Dial string TECH/resource, e.g. PJSIP/agent-101.
    #[schema(max_length = 80, pattern = "^[A-Za-z0-9]+/[A-Za-z0-9._@:+-]+$")]
    pub phone: Option<String>,
    /// Language codes they take calls in, at least one.
    #[schema(value_type = Vec<CallLanguage>, min_items = 1, max_items = 2)]
    pub languages: Vec<String>,
    /// Department codes; empty: every department.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub departments: Vec<String>,
    /// Helplines whose calls they take (1100, 181, 1077, hrtc …); empty: every helpline.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub helplines: Vec<String>,
}

/// The call centre's languages, as the document names them (a profile holds them as codes).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum CallLanguage {
    Hi,
    En,
}

/// A dial string Asterisk's `POST /channels?endpoint=` takes: `TECH/resource`, e.g.
/// `PJSIP/agent-101` or `PJSIP/101@desk-trunk`. Only the characters a SIP endpoint name and a
/// host need, so that nothing a user typed reaches the dialplan as syntax (`,`, `&`, `$`, `(`).
pub fn dial_string(field: &'static str, raw: &str) -> Result<String, AccountError> {
    let value = raw.trim();
    let shape = value.split_once('/').is_some_and(|(tech, resource)| {
        !tech.is_empty()
            && tech.bytes().all(|b| b.is_ascii_alphanumeric())
            && !resource.is_empty()
            && resource
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.@:+".contains(&b))
    });
    if !shape || value.len() > 80 {
        return Err(AccountError::invalid(
            field,
            format!(
                "'{}': a dial string is TECH/resource, e.g. PJSIP/agent-101 (letters, digits, - _ . @ : +; at most 80)",
                Escaped(raw)
            ),
        ));
    }
    Ok(value.to_owned())
}

/// A helpline's short name: `1100`, `181`, `1077`, `hrtc`, `gst`, `de-addiction` (lowercase
/// letters, digits and `-`, 2-32).
fn helpline_name(raw: &str) -> Result<String, AccountError> {
    let name = raw.trim().to_ascii_lowercase();
    let ok = (2..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        return Err(AccountError::invalid(
            "helplines",
            format!(
                "'{}' is not a helpline name like 1100, 181 or hrtc",
                Escaped(raw)
            ),
        ));
    }
    Ok(name)
}

fn language_code(raw: &str) -> Result<String, AccountError> {
    let code = raw.trim().to_ascii_lowercase();
    if !matches!(code.as_str(), "hi" | "en") {
        return Err(AccountError::invalid(
            "languages",
            format!(
                "'{}': the call centre's languages are hi and en",
                Escaped(raw)
            ),
        ));
    }
    Ok(code)
}

/// Each item checked, duplicates dropped, order kept; too many is an error.
fn checked_list(
    field: &'static str,
    raw: &[String],
    check: impl Fn(&str) -> Result<String, AccountError>,
) -> Result<Vec<String>, AccountError> {
    if raw.len() > MAX_LIST {
        return Err(AccountError::invalid(
            field,
            format!("at most {MAX_LIST} entries"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for item in raw {
        let item = check(item)?;
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Ok(out)
}

impl AgentProfileInput {
    /// The profile checked: a dial string, at least one language, department codes that exist
    /// (`known` answers whether a code does), helpline names.
    pub fn check(
        &self,
        login: &str,
        known: impl Fn(&str) -> bool,
        now: DateTime<Utc>,
    ) -> Result<AgentProfile, AccountError> {
        let phone = self
            .phone
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| dial_string("phone", p))
            .transpose()?;
        let languages = checked_list("languages", &self.languages, language_code)?;
        if languages.is_empty() {
            return Err(AccountError::invalid(
                "languages",
                "name at least one language the agent takes calls in (hi, en)",
            ));
        }
        let departments = checked_list("departments", &self.departments, |raw| {
            let code = raw.trim().to_ascii_uppercase();
            if !is_valid_department_code(&code) || !known(&code) {
                return Err(AccountError::invalid(
                    "departments",
                    format!(
                        "'{}' is not a department (GET /departments lists them)",
                        Escaped(raw)
                    ),
                ));
            }
            Ok(code)
        })?;
        let helplines = checked_list("helplines", &self.helplines, helpline_name)?;
        Ok(AgentProfile {
            login: login.to_owned(),
            phone,
            languages,
            departments,
            helplines,
            updated_at: now,
        })
    }
}

/// Who may take calls: agents and supervisors (a supervisor sometimes takes a call on a busy
/// shift); never an officer, an admin account or an integration.
pub fn may_take_calls(role: Role) -> bool {
    matches!(role, Role::Agent | Role::Supervisor)
}

/// Sets (creates or replaces) `login`'s agent profile, audited with `actor`.
pub async fn set_agent_profile(
    store: &Store,
    login: &str,
    input: &AgentProfileInput,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<AgentProfile, AccountError> {
    let user = super::user(store, login).await?;
    if !may_take_calls(user.role) {
        return Err(AccountError::invalid(
            "login",
            format!(
                "{} is {}: only agents and supervisors take calls",
                user.login, user.role
            ),
        ));
    }
    let departments: Vec<String> = store
        .departments()
        .await?
        .into_iter()
        .map(|d| d.code)
        .collect();
    let profile = input.check(
        &user.login,
        |code| departments.iter().any(|d| d == code),
        now,
    )?;
    store.upsert_agent_profile(user.id, &profile).await?;
    let detail = format!(
        "phone {}; languages {}; departments {}; helplines {}",
        profile.phone.as_deref().unwrap_or("-"),
        profile.languages.join(","),
        list_or_all(&profile.departments),
        list_or_all(&profile.helplines),
    );
    store
        .record_account_event(
            &AccountEvent::new(now, actor, "agent_profile_set", Some(user.login.clone()))
                .detail(detail),
        )
        .await?;
    Ok(profile)
}

/// A list of codes for people to read: `a,b`, or `all` when empty.
pub fn list_or_all(list: &[String]) -> String {
    if list.is_empty() {
        "all".to_owned()
    } else {
        list.join(",")
    }
}

/// `login`'s agent profile, or [`AccountError::NotFound`].
pub async fn agent_profile(store: &Store, login: &str) -> Result<AgentProfile, AccountError> {
    let login = login_name("login", login)?;
    store
        .agent_profile(&login)
        .await?
        .ok_or_else(|| AccountError::NotFound(format!("{login} has no agent profile")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(phone: &str, languages: &[&str]) -> AgentProfileInput {
        AgentProfileInput {
            phone: Some(phone.to_owned()),
            languages: languages.iter().map(|s| (*s).to_owned()).collect(),
            ..AgentProfileInput::default()
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn a_profile_is_normalised() {
        let mut raw = input(" PJSIP/agent-101 ", &["HI", "en", "hi"]);
        raw.departments = vec!["jsv".into(), "PWD".into()];
        raw.helplines = vec!["1100".into(), "HRTC".into()];
        let profile = raw
            .check("asha", |c| ["JSV", "PWD"].contains(&c), now())
            .expect("valid");
        assert_eq!(profile.phone.as_deref(), Some("PJSIP/agent-101"));
        assert_eq!(profile.languages, ["hi", "en"]);
        assert_eq!(profile.departments, ["JSV", "PWD"]);
        assert_eq!(profile.helplines, ["1100", "hrtc"]);
    }

    #[test]
    fn bad_profiles_say_which_field() {
        let cases: [(AgentProfileInput, &str); 7] = [
            (input("agent-101", &["hi"]), "phone"),
            (input("PJSIP/a,b", &["hi"]), "phone"),
            (input("PJSIP/${EVIL}", &["hi"]), "phone"),
            (input("PJSIP/agent-101", &[]), "languages"),
            (input("PJSIP/agent-101", &["fr"]), "languages"),
            (
                AgentProfileInput {
                    departments: vec!["XYZ".into()],
                    ..input("PJSIP/a", &["hi"])
                },
                "departments",
            ),
            (
                AgentProfileInput {
                    helplines: vec!["1100\n".into(), "a b".into()],
                    ..input("PJSIP/a", &["hi"])
                },
                "helplines",
            ),
        ];
        for (raw, field) in cases {
            match raw.check("asha", |c| c == "JSV", now()) {
                Err(AccountError::Invalid { field: f, .. }) => assert_eq!(f, field, "{raw:?}"),
                other => panic!("{raw:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn no_phone_is_allowed_the_agent_names_one_at_login() {
        let raw = AgentProfileInput {
            phone: Some("  ".into()),
            languages: vec!["hi".into()],
            ..AgentProfileInput::default()
        };
        assert_eq!(
            raw.check("asha", |_| true, now()).expect("valid").phone,
            None
        );
    }

    #[test]
    fn only_agents_and_supervisors_take_calls() {
        assert!(may_take_calls(Role::Agent) && may_take_calls(Role::Supervisor));
        assert!(!may_take_calls(Role::Officer) && !may_take_calls(Role::Admin));
        assert!(!may_take_calls(Role::Integration));
    }
}
