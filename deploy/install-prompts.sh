#!/usr/bin/env bash
# Copies helpline's prompts into Asterisk's sounds directory.
#
#   deploy/install-prompts.sh [AUDIO_DIR] [ASTERISK_SOUNDS_DIR]
#   (defaults: audio  /var/lib/asterisk/sounds)
#
# helpline plays prompts as `sound:helpline/<id>` with the call's language, which Asterisk resolves to
# <sounds>/<lang>/helpline/<id>.wav, and reads numbers with `digits:` from <sounds>/<lang>/digits/<d>.wav.
# Our own prompts (helpline/) are always replaced; anything else (digits for Hindi, …) only fills gaps and
# never overwrites a sound pack Asterisk already has (its English core sounds stay as they are).
set -euo pipefail
src=${1:-audio}
dest=${2:-/var/lib/asterisk/sounds}
[ -d "$src" ] || { echo "no audio folder at $src" >&2; exit 1; }
[ -d "$dest" ] || { echo "no Asterisk sounds folder at $dest (is Asterisk installed?)" >&2; exit 1; }

for langdir in "$src"/*/; do
  lang=$(basename "$langdir")
  for subdir in "$langdir"*/; do
    [ -d "$subdir" ] || continue
    name=$(basename "$subdir")
    install -d -m 0755 "$dest/$lang/$name"
    if [ "$name" = helpline ]; then
      install -m 0644 "$subdir"*.wav "$dest/$lang/$name/"
    else
      cp -n "$subdir"*.wav "$dest/$lang/$name/"
    fi
  done
  echo "installed $lang prompts into $dest/$lang"
done
if id asterisk >/dev/null 2>&1; then
  chown -R asterisk:asterisk "$dest"
fi
