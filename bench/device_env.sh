# Sourced by the device scripts (bench/gpu_checks.sh, bench/gpu_open_vocab.sh): the carried wheels
# (.whl/) into /tmp/site, each workspace package's metadata (its __version__ reads it), and PYTHONPATH
# for running the workspace from its source tree on a machine without network.
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || return 1
fi
for toml in packages/*/pyproject.toml apps/*/pyproject.toml; do
  name=$(awk -F'"' '/^name = /{print $2; exit}' "$toml"); ver=$(awk -F'"' '/^version = /{print $2; exit}' "$toml")
  mkdir -p "/tmp/site/${name//-/_}-$ver.dist-info"
  printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' "$name" "$ver" > "/tmp/site/${name//-/_}-$ver.dist-info/METADATA"
done
PYTHONPATH="$(ls -d packages/*/src apps/*/src | tr '\n' ':')/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONPATH
