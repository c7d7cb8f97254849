//! WAV files: the format prompts must have, and the analysis of a complaint recording.
//!
//! Prompts must be PCM 16-bit mono at 8 kHz (or 16 kHz), what Asterisk plays without
//! transcoding on a phone call. A recording fetched from Asterisk is analysed here, as a pure
//! function over its bytes: its duration and whether it holds speech, judged by energy in
//! 20 ms frames (a caller who said nothing gives silence, or a 44-byte header-only file).

use std::io::Cursor;
use std::path::Path;

use thiserror::Error;

/// Frames louder than this (RMS, dBFS) count as sound.
const SPEECH_THRESHOLD_DBFS: f64 = -40.0;
/// At least this much sound makes a recording hold speech.
const MIN_SPEECH_MS: u64 = 300;
const FRAME_MS: u64 = 20;

/// What is wrong with a WAV file.
#[derive(Debug, Error)]
pub enum AudioError {
    #[error("not a readable WAV file: {0}")]
    Wav(#[from] hound::Error),
    #[error("{0}")]
    Format(String),
}

/// The result of [`analyse_wav`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecordingAnalysis {
    pub duration_ms: u64,
    /// Time spent above the speech threshold.
    pub speech_ms: u64,
    pub has_speech: bool,
    /// Loudest 20 ms frame (RMS, dBFS); `-inf` for an empty file.
    pub peak_dbfs: f64,
}

/// Duration and speech-versus-silence of a recording (16-bit PCM WAV, any rate and channels).
/// A header-only file (Asterisk trims trailing silence) is a valid, silent, zero-length result.
///
/// hound reads the header; the samples are then summed straight from the data chunk in integers,
/// one 20 ms frame at a time. This runs on the engine's worker threads for every complaint, so it
/// stays a tight loop with no per-sample conversion or error handling.
pub fn analyse_wav(bytes: &[u8]) -> Result<RecordingAnalysis, AudioError> {
    let reader = hound::WavReader::new(Cursor::new(bytes))?;
    let spec = reader.spec();
    if spec.sample_format != hound::SampleFormat::Int || spec.bits_per_sample != 16 {
        return Err(AudioError::Format(format!(
            "recording is {}-bit {:?}, expected 16-bit PCM",
            spec.bits_per_sample, spec.sample_format
        )));
    }
    let declared_samples = usize::try_from(reader.len()).unwrap_or(usize::MAX);
    // After the header the cursor stands at the first sample of the data chunk.
    let data_start = usize::try_from(reader.into_inner().position()).unwrap_or(bytes.len());
    let data = bytes.get(data_start..).unwrap_or_default();
    let available_samples = data.len() / 2;
    if declared_samples > available_samples {
        return Err(AudioError::Format(format!(
            "recording is cut short: the header announces {declared_samples} samples, the file holds {available_samples}"
        )));
    }
    let data = &data[..declared_samples * 2];

    let rate = u64::from(spec.sample_rate.max(1));
    let channels = u64::from(spec.channels.max(1));
    let frame_samples = usize::try_from((rate * FRAME_MS / 1000).max(1) * channels).unwrap_or(160);
    // A frame is loud when its mean square exceeds the threshold's: compare sums, per frame.
    let loud_mean_square = 10f64.powf(SPEECH_THRESHOLD_DBFS / 10.0) * 32768.0 * 32768.0;
    let mut loud_frames: u64 = 0;
    let mut peak = f64::NEG_INFINITY;
    for frame in data.chunks(frame_samples * 2) {
        let count = frame.len() / 2;
        let sum_squares: i64 = frame
            .chunks_exact(2)
            .map(|b| {
                let s = i64::from(i16::from_le_bytes([b[0], b[1]]));
                s * s
            })
            .sum();
        let mean_square = sum_squares as f64 / count.max(1) as f64;
        peak = peak.max(mean_square_dbfs(mean_square));
        if count == frame_samples && mean_square > loud_mean_square {
            loud_frames += 1;
        }
    }
    let total_samples = u64::try_from(declared_samples).unwrap_or(u64::MAX);
    let duration_ms = total_samples * 1000 / (rate * channels);
    let speech_ms = loud_frames * FRAME_MS;
    Ok(RecordingAnalysis {
        duration_ms,
        speech_ms,
        has_speech: speech_ms >= MIN_SPEECH_MS,
        peak_dbfs: peak,
    })
}

/// Level of a mean square of 16-bit samples, in dBFS.
fn mean_square_dbfs(mean_square: f64) -> f64 {
    if mean_square <= 0.0 {
        f64::NEG_INFINITY
    } else {
        10.0 * (mean_square / (32768.0 * 32768.0)).log10()
    }
}

/// Checks that a prompt file is PCM 16-bit mono at 8 or 16 kHz, holds sound (not a header
/// alone) and every sample its header announces; the message says what is wrong. Anything but a
/// regular file is refused without being opened.
pub fn check_prompt_wav(path: &Path) -> Result<(), AudioError> {
    let spec = prompt_wav(path)?.0;
    let ok = spec.sample_format == hound::SampleFormat::Int
        && spec.bits_per_sample == 16
        && spec.channels == 1
        && matches!(spec.sample_rate, 8000 | 16000);
    if ok {
        Ok(())
    } else {
        Err(AudioError::Format(format!(
            "{} Hz, {} channel(s), {}-bit {:?}; prompts must be PCM 16-bit mono 8000 or 16000 Hz",
            spec.sample_rate, spec.channels, spec.bits_per_sample, spec.sample_format
        )))
    }
}

/// How long a WAV prompt plays (checked as [`check_prompt_wav`] checks it, but for format).
pub fn wav_duration(path: &Path) -> Result<std::time::Duration, AudioError> {
    let (spec, frames) = prompt_wav(path)?;
    Ok(std::time::Duration::from_millis(
        frames * 1000 / u64::from(spec.sample_rate.max(1)),
    ))
}

/// A prompt's format and length in frames, from its header, once the file is known to hold
/// every byte of the data chunk the header announces and at least one sample.
fn prompt_wav(path: &Path) -> Result<(hound::WavSpec, u64), AudioError> {
    use std::io::Seek;
    let file = crate::check::open_regular_file(path).map_err(hound::Error::IoError)?;
    let file_len = file.metadata().map_err(hound::Error::IoError)?.len();
    let reader = hound::WavReader::new(std::io::BufReader::new(file))?;
    let spec = reader.spec();
    let frames = u64::from(reader.duration());
    let samples = u64::from(reader.len());
    // After the header the reader stands at the first byte of the data chunk.
    let data_start = reader
        .into_inner()
        .stream_position()
        .map_err(hound::Error::IoError)?;
    let bytes_per_sample = u64::from(spec.bits_per_sample.div_ceil(8).max(1));
    let declared = samples * bytes_per_sample;
    let held = file_len.saturating_sub(data_start);
    if samples == 0 {
        return Err(AudioError::Format(
            "empty: a header with no sound (0 samples); record the prompt again".to_owned(),
        ));
    }
    if held < declared {
        return Err(AudioError::Format(format!(
            "cut short: the header announces {declared} bytes of sound, the file holds {held}"
        )));
    }
    Ok((spec, frames))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 16-bit WAV with `silent_ms` of silence then `tone_ms` of a 440 Hz tone at `amplitude`.
    pub(crate) fn wav(rate: u32, silent_ms: u32, tone_ms: u32, amplitude: f64) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut buf = Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut buf, spec).unwrap();
        for _ in 0..(rate * silent_ms / 1000) {
            w.write_sample(0i16).unwrap();
        }
        for i in 0..(rate * tone_ms / 1000) {
            let t = f64::from(i) / f64::from(rate);
            let v = (t * 440.0 * std::f64::consts::TAU).sin() * amplitude * 32767.0;
            w.write_sample(v as i16).unwrap();
        }
        w.finalize().unwrap();
        buf.into_inner()
    }

    #[test]
    fn speech_and_silence_are_told_apart() {
        let cases = [
            // (silence ms, tone ms, amplitude, has_speech, duration_ms)
            (2000, 0, 0.0, false, 2000),
            (0, 1500, 0.3, true, 1500),
            (1000, 200, 0.3, false, 1200),   // a click, not a complaint
            (500, 1000, 0.001, false, 1500), // line hiss at -60 dBFS
            (0, 0, 0.0, false, 0),           // header only, as Asterisk leaves after trimming
        ];
        for (silent, tone, amp, speech, duration) in cases {
            let a = analyse_wav(&wav(8000, silent, tone, amp)).unwrap();
            assert_eq!(a.has_speech, speech, "{silent}/{tone}/{amp}: {a:?}");
            assert_eq!(a.duration_ms, duration);
        }
    }

    #[test]
    fn a_spoken_prompt_holds_speech() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../audio/hi/helpline/welcome.wav");
        let a = analyse_wav(&std::fs::read(path).unwrap()).unwrap();
        assert!(a.has_speech, "{a:?}");
        assert!(a.duration_ms > 1000 && a.speech_ms > 500, "{a:?}");
    }

    #[test]
    fn a_cut_short_file_is_an_error_not_silence() {
        let mut bytes = wav(8000, 0, 1000, 0.3);
        bytes.truncate(bytes.len() / 2);
        let err = analyse_wav(&bytes).unwrap_err().to_string();
        assert!(err.contains("cut short"), "{err}");
    }

    #[test]
    fn loudness_and_speech_time_are_measured_per_frame() {
        // 1 s of a 0.5-amplitude sine is -9 dBFS RMS; 50 frames of 20 ms are loud.
        let a = analyse_wav(&wav(8000, 500, 1000, 0.5)).unwrap();
        assert!((a.peak_dbfs - -9.03).abs() < 0.1, "{a:?}");
        assert_eq!(a.speech_ms, 1000);
        // The same at 16 kHz: frames follow the rate.
        let b = analyse_wav(&wav(16000, 500, 1000, 0.5)).unwrap();
        assert_eq!((b.speech_ms, b.duration_ms), (1000, 1500));
    }

    #[test]
    fn garbage_is_an_error_not_silence() {
        assert!(matches!(analyse_wav(b"not a wav"), Err(AudioError::Wav(_))));
    }

    #[test]
    fn prompt_format_is_checked() {
        let dir = std::env::temp_dir().join(format!("ivr-audio-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.wav");
        std::fs::write(&good, wav(8000, 100, 100, 0.3)).unwrap();
        assert!(check_prompt_wav(&good).is_ok());
        let bad = dir.join("bad.wav");
        std::fs::write(&bad, wav(44100, 100, 0, 0.0)).unwrap();
        let err = check_prompt_wav(&bad).unwrap_err().to_string();
        assert!(err.contains("44100 Hz"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_empty_or_cut_short_prompt_is_refused() {
        let dir = std::env::temp_dir().join(format!("ivr-audio-short-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let header_only = dir.join("empty.wav");
        std::fs::write(&header_only, wav(8000, 0, 0, 0.0)).unwrap();
        let err = check_prompt_wav(&header_only).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
        let cut = dir.join("cut.wav");
        let mut bytes = wav(8000, 0, 100, 0.3);
        bytes.truncate(bytes.len() - 100);
        std::fs::write(&cut, &bytes).unwrap();
        let err = check_prompt_wav(&cut).unwrap_err().to_string();
        assert!(err.contains("cut short"), "{err}");
        assert!(wav_duration(&cut).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
