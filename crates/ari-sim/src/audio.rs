//! Audio the simulator writes: renders what a recorded channel heard (speech-like audio, real samples,
//! tones, silence) into 8 kHz mono 16-bit PCM, trims trailing silence, and writes real WAV files.

use std::path::Path;

use crate::media::Audio;

/// Samples per second of everything the simulator records.
pub(crate) const RATE: u32 = 8000;

/// A stretch of audio in a recording: `[start_ms, end_ms)` relative to the recording's start, and what was
/// heard from `offset_ms` into the source.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub start_ms: u64,
    pub end_ms: u64,
    pub offset_ms: u64,
    pub audio: Audio,
}

fn ms_to_samples(ms: u64) -> usize {
    (ms * u64::from(RATE) / 1000) as usize
}

/// Renders segments into a buffer `length_ms` long; gaps are silence (zeros).
pub(crate) fn render(segments: &[Segment], length_ms: u64) -> Vec<i16> {
    let mut out = vec![0_i16; ms_to_samples(length_ms)];
    for seg in segments {
        let start = ms_to_samples(seg.start_ms).min(out.len());
        let end = ms_to_samples(seg.end_ms.min(length_ms)).min(out.len());
        let offset = ms_to_samples(seg.offset_ms);
        if start >= end {
            continue;
        }
        for (i, slot) in out[start..end].iter_mut().enumerate() {
            *slot = sample_at(&seg.audio, offset + i);
        }
    }
    out
}

/// One sample of a source at sample index `i`.
fn sample_at(audio: &Audio, i: usize) -> i16 {
    match audio {
        Audio::Samples(samples) => samples.get(i).copied().unwrap_or(0),
        Audio::Tone { hz } => {
            let t = i as f32 / RATE as f32;
            (f32::sin(2.0 * std::f32::consts::PI * hz * t) * 8000.0) as i16
        }
        Audio::Speech { seed } => speech_sample(*seed, i),
    }
}

/// Speech-like audio: a voiced fundamental with formant-ish harmonics, shaped into syllables (~4 per
/// second) with short gaps, never fully silent inside a syllable. Deterministic for a seed.
fn speech_sample(seed: u64, i: usize) -> i16 {
    let t = i as f32 / RATE as f32;
    let pitch = 110.0 + (seed % 90) as f32;
    let syllable_len = 0.22 + ((seed >> 8) % 10) as f32 * 0.01;
    let phase = (t / syllable_len).fract();
    let syllable = (t / syllable_len) as u64;
    // A short dip between syllables, but never below a floor a silence detector would call speech.
    let envelope = if phase < 0.1 {
        0.35 + phase * 6.5
    } else {
        1.0 - (phase - 0.1) * 0.5
    };
    let vowel = (syllable.wrapping_mul(2_654_435_761).wrapping_add(seed) % 5) as f32;
    let f1 = 300.0 + vowel * 120.0;
    let two_pi = 2.0 * std::f32::consts::PI;
    let voiced = f32::sin(two_pi * pitch * t)
        + 0.6 * f32::sin(two_pi * f1 * t)
        + 0.3 * f32::sin(two_pi * (f1 * 2.7) * t);
    (voiced * envelope * 5000.0) as i16
}

/// Whether a sample counts as sound for the silence detector (Asterisk's default threshold is 256).
pub(crate) fn is_loud(sample: i16) -> bool {
    sample.unsigned_abs() > 256
}

/// Samples in one 20 ms frame, the unit Asterisk's silence detector works in.
const FRAME: usize = 160;

/// Drops trailing silence (Asterisk trims what the silence detector heard at the end), in whole 20 ms
/// frames: the last frame with any sound in it is kept entire.
pub(crate) fn trim_trailing_silence(samples: &mut Vec<i16>) {
    let keep = samples
        .iter()
        .rposition(|s| is_loud(*s))
        .map_or(0, |i| ((i / FRAME) + 1) * FRAME);
    samples.truncate(keep.min(samples.len()));
}

/// Reads an existing recording's samples (for `ifExists=append`).
pub(crate) fn read_samples(path: &Path) -> Option<Vec<i16>> {
    crate::media::read_wav(path).and_then(|sound| match sound.audio {
        Audio::Samples(samples) => Some(samples.as_ref().clone()),
        _ => None,
    })
}

/// Writes 8 kHz mono 16-bit PCM; an empty buffer gives a 44-byte WAV (header only), as Asterisk does.
pub(crate) fn write_wav(path: &Path, samples: &[i16]) -> Result<(), hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec)?;
    for s in samples {
        writer.write_sample(*s)?;
    }
    writer.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_is_loud_throughout_and_silence_is_trimmed() {
        let segs = [Segment {
            start_ms: 0,
            end_ms: 1000,
            offset_ms: 0,
            audio: Audio::Speech { seed: 7 },
        }];
        let mut samples = render(&segs, 3000);
        assert_eq!(samples.len(), 24_000);
        // Every 20 ms frame of speech has energy; the rest is zeros.
        for frame in samples[..8000].chunks(160) {
            assert!(frame.iter().any(|s| is_loud(*s)));
        }
        assert!(samples[8000..].iter().all(|s| *s == 0));
        trim_trailing_silence(&mut samples);
        assert_eq!(samples.len(), 8000);
    }

    #[test]
    fn empty_recording_is_a_44_byte_wav() {
        let path = std::env::temp_dir().join(format!("ari-sim-empty-{}.wav", std::process::id()));
        write_wav(&path, &[]).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 44);
        std::fs::remove_file(path).unwrap();
    }
}
