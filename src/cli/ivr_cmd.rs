//! `helpline check` (IVR scripts and prompts, every problem with file:line) and `helpline prompts list|play`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use helpline::config::Config;

/// `helpline check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Folder of scripts (default: ivr.scripts_dir from the config).
    #[arg(long)]
    pub scripts: Option<PathBuf>,
    /// Folder of prompts (default: ivr.audio_dir from the config).
    #[arg(long)]
    pub audio: Option<PathBuf>,
}

/// `helpline prompts …`.
#[derive(Debug, clap::Subcommand)]
pub enum PromptsCommand {
    /// Every prompt and whether its WAV exists (and is usable) in each language.
    List,
    /// Play one prompt on this machine's speakers (needs the `audio-preview` feature).
    Play {
        /// The prompt id, e.g. `welcome`.
        id: String,
        /// The language.
        #[arg(long, default_value = "hi")]
        lang: String,
    },
}

/// Checks the scripts; failure exit code when any error was found.
pub fn check(config: &Config, args: &CheckArgs) -> ExitCode {
    let scripts = args
        .scripts
        .clone()
        .unwrap_or_else(|| config.ivr.scripts_dir.clone());
    let audio = args
        .audio
        .clone()
        .unwrap_or_else(|| config.ivr.audio_dir.clone());
    let mut report = ivr::check_dir(&scripts, &audio, &helpline::app::validators());
    check_queues(&scripts, &audio, &mut report);
    print!("{report}");
    if report.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Adds the call centre's queues file (`acd/queues.toml` beside the scripts) to the report: its own
/// problems, and every `agent` step that names a queue it does not declare (or any queue when there
/// is no file).
fn check_queues(scripts: &std::path::Path, audio: &std::path::Path, report: &mut ivr::CheckReport) {
    let path = scripts.join("acd").join("queues.toml");
    let queues = match std::fs::read_to_string(&path) {
        Ok(text) => match acd::check(&text, &path) {
            Ok(queues) => Some(queues),
            Err(problems) => {
                report.diagnostics.extend(problems);
                return;
            }
        },
        Err(_) => None,
    };
    // The scripts that compiled (a script with errors is reported already).
    let Ok(set) = ivr::ScriptSet::load(scripts, audio, &helpline::app::validators()) else {
        return;
    };
    for name in set.names() {
        let Some(script) = set.get(name) else {
            continue;
        };
        let file = scripts.join(format!("{name}.toml"));
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for step in &script.steps {
            let ivr::script::StepKind::Queue { queue, .. } = &step.kind else {
                continue;
            };
            if queues.as_ref().is_some_and(|q| q.get(queue).is_some()) {
                continue;
            }
            let line = text
                .lines()
                .position(|l| {
                    l.trim_start().starts_with("queue") && l.contains(&format!("\"{queue}\""))
                })
                .map_or(1, |i| i + 1);
            let (message, hint) = match &queues {
                Some(_) => (
                    format!(
                        "step `{}` puts callers in queue `{queue}`, which {} does not declare",
                        step.name,
                        path.display()
                    ),
                    "declare it there as [queue.NAME], or name one that is".to_owned(),
                ),
                None => (
                    format!(
                        "step `{}` puts callers in queue `{queue}`, but there is no {}",
                        step.name,
                        path.display()
                    ),
                    "without a queues file every caller asking for an agent goes to on_overflow"
                        .to_owned(),
                ),
            };
            report.diagnostics.push(ivr::Diagnostic {
                file: file.clone(),
                line,
                col: 1,
                severity: if queues.is_some() {
                    ivr::Severity::Error
                } else {
                    ivr::Severity::Warning
                },
                message,
                hint: Some(hint),
            });
        }
    }
}

/// `prompts list` / `prompts play`.
pub fn prompts(config: &Config, command: PromptsCommand) -> anyhow::Result<ExitCode> {
    let audio_dir = &config.ivr.audio_dir;
    let manifest = ivr::prompts::Manifest::load(audio_dir)
        .with_context(|| format!("reading the prompt manifest in {}", audio_dir.display()))?;
    match command {
        PromptsCommand::List => {
            let coverage = ivr::prompts::Coverage::of(audio_dir, &manifest);
            print!("{coverage}");
            Ok(ExitCode::SUCCESS)
        }
        PromptsCommand::Play { id, lang } => {
            let path = ivr::prompts::find_prompt(audio_dir, &manifest, &id, &lang)?;
            if let Some(text) = manifest.text(&id, &lang) {
                println!("{id} ({lang}): {text}");
            }
            play(&path)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(feature = "audio-preview")]
fn play(path: &std::path::Path) -> anyhow::Result<()> {
    let stream = rodio::OutputStreamBuilder::open_default_stream().map_err(|err| {
        anyhow::anyhow!(
            "no sound device to play on ({err}); the file is {} — copy it to a machine with speakers",
            path.display()
        )
    })?;
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let sink = rodio::play(stream.mixer(), std::io::BufReader::new(file))
        .with_context(|| format!("playing {}", path.display()))?;
    sink.sleep_until_end();
    Ok(())
}

#[cfg(not(feature = "audio-preview"))]
fn play(path: &std::path::Path) -> anyhow::Result<()> {
    anyhow::bail!(
        "this helpline was built without sound playback; the prompt is {}\n\
         play it with any audio player, or rebuild with the preview feature \
         (needs ALSA headers: apt-get install libasound2-dev pkg-config):\n  \
         cargo run --features audio-preview -- prompts play ID --lang hi",
        path.display()
    )
}
