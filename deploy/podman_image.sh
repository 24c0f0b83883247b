#!/usr/bin/env bash
# Builds the nnft image (deploy/Dockerfile) with podman on a Debian host
# without a container registry, from a fresh machine:
#   1. installs podman, buildah, runc, debootstrap, podman-compose (apt-get)
#      when missing;
#   2. writes a containers.conf (runtime runc, file and process limits the
#      default crun cannot set on hosts like this one) into the work dir and
#      exports CONTAINERS_CONF for podman;
#   3. makes the base images the Dockerfile names, when absent, from the
#      Debian mirror apt uses: debian:bookworm from debootstrap --variant=minbase,
#      debian:bookworm-slim from the same tree with the official slim image's
#      dpkg path excludes (no docs, man pages, locales);
#   4. builds the image from the committed tree of HEAD (git archive: no build
#      trees, no local data, no uncommitted edits), tagged nnft:<commit>, and
#      reuses an image of that tag when one exists.
# Prints the tag on the last line of stdout; progress and timings go to stderr.
#
# Usage: deploy/podman_image.sh [--prepare-only]
# Environment: NNFT_CONTAINER_DIR (work dir, default build/container),
#   NNFT_CCACHE_DIR (a ccache directory mounted into the build stage; default
#   the host's ccache directory when ccache is installed, "none" for none),
#   NNFT_IMAGE_REBUILD=1 (build even when the tag exists; layers are reused).
# Source it (". deploy/podman_image.sh --env") to get CONTAINERS_CONF only.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work="${NNFT_CONTAINER_DIR:-$root/build/container}"
mkdir -p "$work"
work=$(cd "$work" && pwd)
log() { echo "podman_image: $*" >&2; }

write_conf() {
  # crun fails here with "setrlimit RLIMIT_NOFILE: Operation not permitted"
  # and "cgroups in hybrid mode not supported"; runc with explicit limits
  # below the host's hard limits works.
  cat >"$work/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
EOF
  export CONTAINERS_CONF="$work/containers.conf"
}

if [ "${1:-}" = "--env" ]; then
  write_conf
  return 0 2>/dev/null || exit 0
fi

install_tools() {
  local missing=() p
  for p in podman buildah runc debootstrap podman-compose; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >&2
  fi
}

# The first http(s) URI apt uses for the main Debian archive.
debian_mirror() {
  local uri
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '/^URIs:/ {print $2}' | grep -v -- '-security' | head -n1 || true)
  if [ -z "$uri" ]; then
    uri=$(awk '$1 == "deb" && $2 ~ /^http/ && $2 !~ /security/ {print $2; exit}' \
          /etc/apt/sources.list 2>/dev/null || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

make_base_images() {
  if podman image exists debian:bookworm && podman image exists debian:bookworm-slim; then
    return
  fi
  local mirror rootfs start=$SECONDS
  mirror=$(debian_mirror)
  rootfs="$work/rootfs"
  if [ ! -f "$work/rootfs.ok" ]; then  # a finished debootstrap is kept
    log "debootstrap --variant=minbase bookworm from $mirror"
    rm -rf "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
      { tail -n 20 "$work/debootstrap.log" >&2; return 1; }
    touch "$work/rootfs.ok"
  fi
  # The sources of the official image: the release, its updates, security.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import - debian:bookworm >&2
  # Slim: the path excludes of the official debian:*-slim images, and the
  # files they exclude removed.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda}/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias \
    -exec rm -rf {} +
  tar -C "$rootfs" -c . | podman import - debian:bookworm-slim >&2
  rm -rf "$rootfs" "$work/rootfs.ok"
  log "base images debian:bookworm, debian:bookworm-slim in $((SECONDS - start)) s"
}

build_image() {
  local commit tag context start=$SECONDS ccache volume=()
  commit=$(git -C "$root" rev-parse --short=12 HEAD)
  tag="nnft:$commit"
  if [ "${NNFT_IMAGE_REBUILD:-0}" != 1 ] && podman image exists "$tag"; then
    log "reusing $tag"
    echo "$tag"
    return
  fi
  if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
    log "note: uncommitted changes are not in the image (it builds HEAD $commit)"
  fi
  context="$work/context"
  rm -rf "$context"
  mkdir -p "$context"
  git -C "$root" archive --format=tar HEAD | tar -C "$context" -x
  ccache="${NNFT_CCACHE_DIR:-}"
  if [ -z "$ccache" ] && command -v ccache >/dev/null 2>&1; then
    ccache=$(ccache -k cache_dir 2>/dev/null || true)
  fi
  if [ -n "$ccache" ] && [ "$ccache" != none ]; then
    mkdir -p "$ccache"
    volume=(-v "$ccache:/ccache")
    log "build stage compiles through ccache $ccache"
  fi
  log "building $tag (build stage: compile and the whole test suite)"
  # --format docker keeps HEALTHCHECK (the OCI format has no such field).
  podman build --format docker --network=host "${volume[@]}" \
    --label "org.opencontainers.image.revision=$(git -C "$root" rev-parse HEAD)" \
    -f "$context/deploy/Dockerfile" -t "$tag" "$context" >&2
  rm -rf "$context"
  log "built $tag in $((SECONDS - start)) s"
  echo "$tag"
}

install_tools
write_conf
make_base_images
[ "${1:-}" = "--prepare-only" ] && exit 0
build_image
