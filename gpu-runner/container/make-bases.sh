#!/usr/bin/env bash
# Makes, without pulling any image, the two base images gpu-runner/Containerfile's CPU form names:
#   localhost/motion-lora-base/debian:bookworm   stands in for debian:bookworm-slim (CPU_BASE)
#   localhost/motion-lora-base/node:20-bookworm  the same plus Node 20 and npm (NODE_IMAGE)
# The Debian root is made by mmdebstrap from Debian's own archive (minbase, trimmed as bookworm-slim is).
# Node: Debian bookworm's nodejs is 18.20 (the project needs ≥ 20), so this copies the node binary
# and npm of the machine it runs on into /usr/local, where the official node images keep them; it
# refuses a node older than 20. Needs root, mmdebstrap and buildah (apt-get install mmdebstrap buildah).
set -euo pipefail

DEBIAN_IMAGE=${DEBIAN_IMAGE:-localhost/motion-lora-base/debian:bookworm}
NODE_IMAGE=${NODE_IMAGE:-localhost/motion-lora-base/node:20-bookworm}
NODE_BIN=${NODE_BIN:-$(command -v node)}
NPM_DIR=${NPM_DIR:-$(dirname "$(readlink -f "$(command -v npm)")")/..}
work=$(mktemp -d /tmp/motion-lora-bases.XXXXXX)
trap 'rm -rf "$work"' EXIT

major=$("$NODE_BIN" -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "node at $NODE_BIN is $("$NODE_BIN" --version); the runner needs ≥ 20" >&2; exit 1; }

if ! buildah inspect --type image "$DEBIAN_IMAGE" >/dev/null 2>&1; then
  # Debian's archive; minbase without manuals, docs (copyrights kept) and translations, as bookworm-slim.
  mmdebstrap --variant=minbase --mode=root \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    bookworm "$work/rootfs.tar" http://deb.debian.org/debian
  ctr=$(buildah from scratch)
  buildah add "$ctr" "$work/rootfs.tar" /
  buildah config --env PATH=/usr/local/bin:/usr/bin:/bin --cmd /bin/bash "$ctr"
  buildah commit --rm "$ctr" "$DEBIAN_IMAGE"
fi

buildah rmi "$NODE_IMAGE" >/dev/null 2>&1 || true
ctr=$(buildah from "$DEBIAN_IMAGE")
buildah copy "$ctr" "$NODE_BIN" /usr/local/bin/node
buildah copy "$ctr" "$NPM_DIR" /usr/local/lib/node_modules/npm
buildah run --isolation chroot "$ctr" -- ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
buildah run --isolation chroot "$ctr" -- node --version
buildah commit --rm "$ctr" "$NODE_IMAGE"
echo "made $DEBIAN_IMAGE and $NODE_IMAGE (node $("$NODE_BIN" --version) from $NODE_BIN)"
