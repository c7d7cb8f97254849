#!/usr/bin/env bash
# Generates every prompt WAV from audio/prompts.toml, reproducibly.
#
#   audio/generate.sh [AUDIO_DIR]        (default: the directory this script is in)
#
# Needs: espeak-ng, sox, python3 (>= 3.11, for tomllib). On Debian/Ubuntu:
#   apt-get install -y espeak-ng sox python3
#
# For each language L in the manifest and each prompt P with L text, writes
#   AUDIO_DIR/L/helpline/P.wav   and   AUDIO_DIR/L/digits/0..9.wav
# as 8000 Hz mono 16-bit signed PCM (what Asterisk plays on a phone call without transcoding).
# Voices: hi → espeak-ng "hi", en → "en-gb-x-rp"; speed 150 wpm; levels normalised to -3 dBFS;
# 50 ms of silence trimmed to at most that at both ends. The same manifest and tool versions give
# the same files. Stale WAVs (ids no longer in the manifest) are removed from helpline/.
set -euo pipefail

dir=${1:-$(cd "$(dirname "$0")" && pwd)}
manifest="$dir/prompts.toml"
[ -f "$manifest" ] || { echo "no manifest at $manifest" >&2; exit 1; }
for tool in espeak-ng sox python3; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (apt-get install -y espeak-ng sox python3)" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One line per file to make: LANG<TAB>OUT_PATH<TAB>TEXT (tabs and newlines in texts become spaces).
python3 - "$manifest" "$dir" > "$tmp/jobs.tsv" <<'PY'
import sys, tomllib
manifest, out = sys.argv[1], sys.argv[2]
with open(manifest, "rb") as f:
    m = tomllib.load(f)
clean = lambda s: " ".join(s.split())
for lang in m["languages"]:
    for digit, word in enumerate(m.get("digits", {}).get(lang, [])):
        print(f"{lang}\t{out}/{lang}/digits/{digit}.wav\t{clean(word)}")
    for pid, texts in sorted(m["prompts"].items()):
        if lang in texts:
            print(f"{lang}\t{out}/{lang}/helpline/{pid}.wav\t{clean(texts[lang])}")
PY

voice_for() {
  case "$1" in
    hi) echo hi ;;
    en) echo en-gb-x-rp ;;
    *) echo "$1" ;;
  esac
}

count=0
while IFS=$'\t' read -r lang path text; do
  mkdir -p "$(dirname "$path")"
  espeak-ng -v "$(voice_for "$lang")" -s 150 -w "$tmp/raw.wav" -- "$text"
  sox -D "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$tmp/out.wav" \
    silence 1 0.05 0.5% reverse silence 1 0.05 0.5% reverse pad 0.05 0.05 norm -3
  mv "$tmp/out.wav" "$path"
  count=$((count + 1))
done < "$tmp/jobs.tsv"

# Remove prompts that left the manifest, so coverage and `check` see what is really there.
for wav in "$dir"/*/helpline/*.wav; do
  [ -e "$wav" ] || continue
  grep -qF "	$wav	" "$tmp/jobs.tsv" || { echo "removing stale $wav"; rm -f "$wav"; }
done
echo "generated $count WAV files under $dir"
