//! The command line as an operator meets it: `config check` lists every problem, `check` validates the
//! scripts, and the ticket commands read what the service wrote.

use std::process::Command;
use std::time::Duration;

use crate::support::*;

fn helpline(dir: &TempDir) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_helpline"));
    command
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("HELPLINE_CONFIG");
    for (key, _) in std::env::vars() {
        if key.starts_with("HELPLINE_") {
            command.env_remove(key);
        }
    }
    command
}

#[test]
fn config_check_lists_every_problem_and_never_prints_secrets() {
    let dir = temp_dir("cli-config");
    let file = dir.path().join("helpline.toml");
    std::fs::write(
        &file,
        "[ari]\nurl = \"ftp://pbx\"\nusername = \"helpline\"\n[http]\nlisten = \"everywhere\"\n[limits]\nmax_concurrent_calls = 0\n",
    )
    .unwrap();
    let output = helpline(&dir)
        .args(["config", "check", "--config"])
        .arg(&file)
        .env("HELPLINE_ARI_PASSWORD", "s3cret-pw")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for key in ["ari.url", "http.listen", "limits.max_concurrent_calls"] {
        assert!(stderr.contains(key), "{key} reported:\n{stderr}");
    }
    assert!(!stderr.contains("s3cret-pw"));

    std::fs::write(&file, include_str!("../../helpline.example.toml")).unwrap();
    let output = helpline(&dir)
        .args(["config", "check", "--config"])
        .arg(&file)
        .env("HELPLINE_ARI_PASSWORD", "s3cret-pw")
        .env("DATABASE_URL", "postgres://app:db-pw@db/helpline")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("postgres://app:***@db/helpline"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("s3cret-pw") && !stdout.contains("db-pw"),
        "{stdout}"
    );
}

#[test]
fn check_passes_the_shipped_scripts_and_fails_a_broken_one_with_its_line() {
    let dir = temp_dir("cli-check");
    let ok = helpline(&dir)
        .args(["check", "--scripts"])
        .arg(repo().join("ivr-scripts"))
        .arg("--audio")
        .arg(repo().join("audio"))
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );

    let broken = dir.path().join("scripts");
    std::fs::create_dir_all(&broken).unwrap();
    let text = include_str!("../../ivr-scripts/1100.toml")
        .replace("next = \"choose_language\"", "next = \"choose_langauge\"");
    std::fs::write(broken.join("1100.toml"), text).unwrap();
    let failed = helpline(&dir)
        .args(["check", "--scripts"])
        .arg(&broken)
        .arg("--audio")
        .arg(repo().join("audio"))
        .output()
        .unwrap();
    assert!(!failed.status.success());
    let stdout = String::from_utf8_lossy(&failed.stdout);
    assert!(
        stdout.contains("1100.toml:") && stdout.contains("choose_langauge"),
        "{stdout}"
    );

    // The call centre's queues: an agent step naming a queue the file does not declare, and a
    // queues file with a bad value, each with its file and line.
    let scripts = dir.path().join("queues");
    std::fs::create_dir_all(scripts.join("acd")).unwrap();
    let text = include_str!("../../ivr-scripts/1100.toml")
        .replace("queue = \"grievance\"", "queue = \"grievence\"");
    std::fs::write(scripts.join("1100.toml"), text).unwrap();
    std::fs::write(
        scripts.join("acd/queues.toml"),
        include_str!("../../ivr-scripts/acd/queues.toml"),
    )
    .unwrap();
    let check = |scripts: &std::path::Path| {
        let out = helpline(&dir)
            .args(["check", "--scripts"])
            .arg(scripts)
            .arg("--audio")
            .arg(repo().join("audio"))
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, stdout) = check(&scripts);
    assert!(!ok, "{stdout}");
    assert!(
        stdout.contains("1100.toml:") && stdout.contains("queue `grievence`"),
        "{stdout}"
    );
    std::fs::write(
        scripts.join("acd/queues.toml"),
        include_str!("../../ivr-scripts/acd/queues.toml")
            .replace("ring_timeout_secs = 20", "ring_timeout_secs = 0"),
    )
    .unwrap();
    let (ok, stdout) = check(&scripts);
    assert!(!ok, "{stdout}");
    assert!(
        stdout.contains("queues.toml:") && stdout.contains("ring_timeout_secs"),
        "{stdout}"
    );
}

#[test]
fn tickets_list_without_a_database_says_how_to_get_one() {
    let dir = temp_dir("cli-tickets");
    let output = helpline(&dir).args(["tickets", "list"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("helpline demo"), "{stderr}");
    let migrated = helpline(&dir).args(["db", "migrate"]).output().unwrap();
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let listed = helpline(&dir).args(["tickets", "list"]).output().unwrap();
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
}

#[test]
fn serve_answers_health_reloads_on_sighup_and_stops_cleanly_on_sigterm() {
    use std::io::BufRead as _;

    let dir = temp_dir("cli-serve");
    let mut child = helpline(&dir)
        .args(["serve", "--sim", "--sim-speed", "20"])
        .env("HELPLINE_HTTP_LISTEN", "127.0.0.1:0")
        .env("HELPLINE_IVR_SCRIPTS_DIR", repo().join("ivr-scripts"))
        .env("HELPLINE_IVR_AUDIO_DIR", repo().join("audio"))
        .env("HELPLINE_SHUTDOWN_GRACE_SECONDS", "2")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split_whitespace()
        .find_map(|word| word.strip_prefix("http://")?.strip_suffix("/health"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let health: serde_json::Value = runtime.block_on(eventually(
        Duration::from_secs(5),
        "/health to say ok",
        || async {
            match reqwest::get(format!("http://{addr}/health")).await {
                Ok(response) if response.status() == 200 => Ok(response.json().await.unwrap()),
                Ok(response) => Err(response.status().to_string()),
                Err(e) => Err(e.to_string()),
            }
        },
    ));
    assert_eq!(health["ari"]["state"], "connected", "{health}");

    let signal = |name: &str| {
        let status = Command::new("kill")
            .args(["-s", name, &child.id().to_string()])
            .status();
        assert!(status.unwrap().success(), "kill -s {name}");
    };
    signal("HUP");
    runtime.block_on(eventually(
        Duration::from_secs(2),
        "SIGHUP to reload the script (helpline_script_reloads_total 1)",
        || async {
            let metrics = reqwest::get(format!("http://{addr}/metrics"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let reloads: Vec<&str> = metrics
                .lines()
                .filter(|l| l.starts_with("helpline_script_reloads_total"))
                .collect();
            if reloads == ["helpline_script_reloads_total 1"] {
                Ok(())
            } else {
                Err(reloads.join(", "))
            }
        },
    ));
    signal("TERM");
    let status = runtime.block_on(eventually(
        Duration::from_secs(20),
        "serve to stop after SIGTERM",
        || {
            let exited = child.try_wait().unwrap();
            async move { exited.ok_or("still running") }
        },
    ));
    assert!(status.success(), "{status:?}");
}

/// `helpline ARGS` in `dir`, to its end.
fn run(dir: &TempDir, args: &[&str]) -> std::process::Output {
    helpline(dir).args(args).output().unwrap()
}

#[test]
fn users_and_tokens_are_managed_from_the_command_line_and_passwords_never_come_from_argv() {
    use std::io::Write as _;
    use std::process::Stdio;
    let dir = temp_dir("cli-accounts");
    // No terminal and no --password-file: refused, with what to do.
    let output = helpline(&dir)
        .args([
            "user",
            "add",
            "asha",
            "--name",
            "Asha Verma",
            "--role",
            "agent",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--password-file"));
    // The password on standard input.
    let mut child = helpline(&dir)
        .args([
            "user",
            "add",
            "asha",
            "--name",
            "Asha Verma",
            "--role",
            "agent",
        ])
        .args(["--password-file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"correct horse battery\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("agent:asha (Asha Verma)"),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // A password file.
    let file = dir.path().join("pw");
    std::fs::write(&file, "another long password\n").unwrap();
    let output = helpline(&dir)
        .args(["user", "passwd", "asha", "--password-file"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let output = run(
        &dir,
        &["token", "create", "--user", "asha", "--expires-in", "12h"],
    );
    let created = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{created}");
    assert!(created.contains("for user asha (agent)"), "{created}");
    let token = created
        .lines()
        .find(|l| l.starts_with("hl_"))
        .unwrap()
        .to_owned();
    let id: String = created
        .strip_prefix("token id ")
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let output = run(
        &dir,
        &[
            "token",
            "create",
            "--integration",
            "whatsapp",
            "--scope",
            "tickets:file",
        ],
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("scopes tickets:file"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = run(&dir, &["token", "list"]);
    let listed = String::from_utf8_lossy(&output.stdout);
    assert!(
        listed.contains("user asha")
            && listed.contains("integration whatsapp")
            && !listed.contains(&token),
        "{listed}"
    );
    let output = run(&dir, &["token", "revoke", &id]);
    assert!(output.status.success());
    let output = run(&dir, &["token", "list"]);
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 tokens not revoked"));
    let output = run(&dir, &["user", "disable", "asha"]);
    assert!(output.status.success());
    let output = run(&dir, &["user", "list"]);
    assert!(String::from_utf8_lossy(&output.stdout).contains("disabled"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_prints_tables_csv_and_json_of_the_calls_stored() {
    let dir = temp_dir("cli-report");
    let migrated = helpline(&dir).args(["db", "migrate"]).output().unwrap();
    assert!(migrated.status.success(), "{migrated:?}");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("helpline-data/helpline.db").display()
    );
    let store = records::RecordStore::connect(&url, &tickets::StoreOptions::default())
        .await
        .unwrap();
    // Three calls on 2 December 2026, India: 09:10, 09:40 and 14:05.
    let at = |h: u32, m: u32| {
        chrono::TimeZone::with_ymd_and_hms(&chrono_tz::Asia::Kolkata, 2026, 12, 2, h, m, 0)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let call = |id: &str, when, outcome: records::Outcome| {
        let mut r = records::CallRecord::arrived(id, id, "n", "9816012345", when);
        r.outcome = outcome;
        r.ended_at = when + chrono::Duration::seconds(90);
        r
    };
    store
        .insert_calls(&[
            call("a", at(9, 10), records::Outcome::ComplaintFiled),
            call("b", at(9, 40), records::Outcome::AbandonedInIvr),
            call("c", at(14, 5), records::Outcome::StatusHeard),
        ])
        .await
        .unwrap();
    store.close().await;

    let run = |args: &[&str]| {
        let out = helpline(&dir).args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, tables, err) = run(&["report", "--from", "2026-12-02"]);
    assert!(ok, "{err}");
    assert!(
        tables.starts_with("Calls from 2026-12-02 00:00 to 2026-12-03 00:00 (Asia/Kolkata)"),
        "{tables}"
    );
    assert!(tables.contains("\nCalls by time\n"), "{tables}");
    assert!(tables.contains("2026-12-02 09:00      2"), "{tables}");

    let (ok, csv, err) = run(&["report", "--from", "2026-12-02", "--csv", "outcomes"]);
    assert!(ok, "{err}");
    assert!(csv.starts_with("outcome,calls\n"), "{csv}");
    assert!(
        csv.contains("complaint_filed,1\n") && csv.contains("abandoned_in_ivr,1\n"),
        "{csv}"
    );
    let (ok, series, _) = run(&[
        "report",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-03",
        "--csv",
        "series",
    ]);
    assert!(ok);
    assert_eq!(
        series.lines().count(),
        4,
        "a header and three days: {series}"
    );
    assert!(series.contains("2026-12-02 00:00,3,2,0,0,1\n"), "{series}");

    let (ok, json, err) = run(&["report", "--from", "2026-12-02", "--json"]);
    assert!(ok, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["calls"]["calls"], 3);

    let (ok, _, err) = run(&["report", "--from", "2026-12-03", "--to", "2026-12-01"]);
    assert!(!ok);
    assert!(err.contains("before"), "{err}");
    let (ok, _, err) = run(&["report", "--csv", "everything"]);
    assert!(!ok);
    assert!(err.contains("disposal"), "{err}");
}
