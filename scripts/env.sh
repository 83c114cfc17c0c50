# Shared environment for the scripts: a cargo target directory outside the
# clone, so that RocksDB and librdkafka (about ten minutes to build) are built
# once per machine, not once per clone.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ragline-target}"
export PATH="$HOME/.cargo/bin:$PATH"
mkdir -p "$CARGO_TARGET_DIR"
