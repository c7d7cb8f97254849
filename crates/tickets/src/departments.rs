//! The seed list of the state's departments (`data/departments.tsv`, compiled in): codes the IVR script
//! maps its categories to, names in English and Hindi, and each department's SLA in days.

use crate::error::StoreError;
use crate::model::Department;

/// The data file, compiled into the binary so a fresh database is always seeded the same way.
pub const DEPARTMENTS_TSV: &str = include_str!("../data/departments.tsv");

/// True for a well-formed department code: 2–6 upper-case ASCII letters.
pub fn is_valid_department_code(code: &str) -> bool {
    (2..=6).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// Parses the seed file; every malformed line is reported with its line number.
pub fn parse_departments(text: &str) -> Result<Vec<Department>, StoreError> {
    let mut departments: Vec<Department> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let err = |message: String| StoreError::DepartmentData { line, message };
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = raw.split('\t').collect();
        let [code, sla, name, name_hi] = fields.as_slice() else {
            return Err(err(format!(
                "expected 4 tab-separated fields, found {}",
                fields.len()
            )));
        };
        if !is_valid_department_code(code) {
            return Err(err(format!("code {code:?} is not 2-6 upper-case letters")));
        }
        let sla_days: u32 = sla
            .parse()
            .map_err(|_| err(format!("sla_days {sla:?} is not a whole number")))?;
        if !(1..=365).contains(&sla_days) {
            return Err(err(format!("sla_days {sla_days} is outside 1..=365")));
        }
        if name.trim().is_empty() || name_hi.trim().is_empty() {
            return Err(err("name and name_hi must not be empty".into()));
        }
        if departments.iter().any(|d| d.code == *code) {
            return Err(err(format!("code {code} appears twice")));
        }
        departments.push(Department {
            code: (*code).to_owned(),
            name: name.trim().to_owned(),
            name_hi: name_hi.trim().to_owned(),
            sla_days,
        });
    }
    Ok(departments)
}

/// The compiled-in seed list.
pub fn seed_departments() -> Result<Vec<Department>, StoreError> {
    parse_departments(DEPARTMENTS_TSV)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_file_parses_and_has_the_agreed_codes() {
        let deps = seed_departments().unwrap();
        assert!(deps.len() >= 85, "only {} departments", deps.len());
        for code in [
            "JSV", "PWR", "PWD", "HLT", "EDU", "REV", "POL", "FCS", "TRN", "GAD",
        ] {
            assert!(
                deps.iter().any(|d| d.code == code),
                "missing agreed code {code}"
            );
        }
    }

    #[test]
    fn malformed_lines_are_reported_with_their_line() {
        let err = parse_departments("# c\nJSV\t7\tWater\tजल\nab\t7\tX\tY\n").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        let err = parse_departments("JSV\tseven\tWater\tजल\n").unwrap_err();
        assert!(err.to_string().contains("sla_days"), "{err}");
        let err = parse_departments("JSV\t7\tWater\tजल\nJSV\t7\tWater\tजल\n").unwrap_err();
        assert!(err.to_string().contains("twice"), "{err}");
        let err = parse_departments("JSV\t7\tWater\n").unwrap_err();
        assert!(err.to_string().contains("4 tab-separated"), "{err}");
    }
}
