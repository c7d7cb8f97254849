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
    let report = ivr::check_dir(&scripts, &audio, &helpline::app::validators());
    print!("{report}");
    if report.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
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
