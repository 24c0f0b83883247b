#!/usr/bin/env bash
# Builds Abseil's synchronization libraries with ThreadSanitizer, for the
# TSan stage of tests/sanitize.sh: usage tsan_abseil.sh OUT_DIR.
#
# Debian's libabsl is not built with TSan, so absl::Mutex's annotations
# (compiled into libabsl_synchronization) are no-ops and TSan cannot see the
# ordering every lock gives: it reports races on data always used under its
# mutex. This script fetches the Debian source of the installed libabsl-dev
# version (deb-src of Debian's own archive, in a private apt state directory;
# the system's apt configuration is not touched), compiles the libraries that
# implement locking (synchronization, base, spinlock_wait, malloc_internal,
# graphcycles_internal) with -fsanitize=thread against the installed headers
# (without NDEBUG, as Debian builds them),
# and writes them under OUT_DIR/lib with the installed SONAMEs. Running with
# LD_LIBRARY_PATH=OUT_DIR/lib puts them under the test binaries and under
# gRPC, whose locks are absl::Mutex too. Does nothing when OUT_DIR/lib is
# already complete for the installed version.
set -euo pipefail
out=$(mkdir -p "$1" && cd "$1" && pwd)
version=$(dpkg-query -W -f='${Version}' libabsl-dev)
soversion=${version%%.*}  # 20220623.1-1+deb12u2 -> 20220623
libs=(spinlock_wait base malloc_internal graphcycles_internal synchronization)
stamp="$out/lib/.version"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ]; then
  echo "tsan_abseil: Abseil $version with TSan already in $out/lib"
  exit 0
fi

state="$out/apt"
mkdir -p "$state/sources" "$state/lists/partial" "$state/cache/archives/partial"
# The Debian mirror this machine installs from (its deb822 or one-line
# sources), else Debian's own.
mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' \
           /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
if [ -z "$mirror" ]; then
  mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {
                 if ($i !~ /security/) { print $i; exit } } }' \
             /etc/apt/sources.list 2>/dev/null || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}
cat >"$state/sources/debian-src.sources" <<EOF
Types: deb-src
URIs: $mirror
Suites: $(. /etc/os-release && echo "$VERSION_CODENAME")
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
apt_opts=(-o Dir::Etc::sourcelist=/dev/null
          -o "Dir::Etc::sourceparts=$state/sources"
          -o "Dir::State::Lists=$state/lists"
          -o "Dir::Cache=$state/cache"
          -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" -q update >/dev/null
rm -rf "$out/src" "$out/download"
mkdir -p "$out/download"
(cd "$out/download" &&
   apt-get "${apt_opts[@]}" -q source --download-only "abseil=$version" >/dev/null &&
   dpkg-source -x --no-check ./*.dsc "$out/src" >/dev/null)

objects="$out/obj"
mkdir -p "$objects" "$out/lib"
declare -A sources=(
  [spinlock_wait]="base/internal/spinlock_wait.cc"
  [base]="base/internal/cycleclock.cc base/internal/spinlock.cc
          base/internal/sysinfo.cc base/internal/thread_identity.cc
          base/internal/unscaledcycleclock.cc"
  [malloc_internal]="base/internal/low_level_alloc.cc"
  [graphcycles_internal]="synchronization/internal/graphcycles.cc"
  [synchronization]="synchronization/barrier.cc
          synchronization/blocking_counter.cc
          synchronization/internal/create_thread_identity.cc
          synchronization/internal/per_thread_sem.cc
          synchronization/internal/waiter.cc
          synchronization/notification.cc synchronization/mutex.cc"
)
system=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
for lib in "${libs[@]}"; do
  soname="libabsl_$lib.so.$soversion"
  objs=()
  for f in ${sources[$lib]}; do
    o="$objects/$lib-$(basename "$f" .cc).o"
    clang++ -std=c++17 -fsanitize=thread -fPIC -O1 -g \
      -c "$out/src/absl/$f" -o "$o"
    objs+=("$o")
  done
  # Link against the same Abseil libraries as Debian's build of this one.
  needed=$(objdump -p "$system/$soname" |
           awk '/NEEDED/ && /libabsl_/ {sub(/^lib/, "", $2); sub(/\.so\..*/, "", $2); print "-l" $2}')
  # shellcheck disable=SC2086
  clang++ -shared -fsanitize=thread -Wl,-soname,"$soname" \
    -o "$out/lib/$soname" "${objs[@]}" -L"$out/lib" $needed
  # Every symbol the installed library exports but an inline one must be
  # here, or a program would bind to a different ABI.
  missing=$(comm -23 \
    <(nm -D --defined-only "$system/$soname" | awk '{print $3}' | sort) \
    <(nm -D --defined-only "$out/lib/$soname" | awk '{print $3}' | sort) |
    grep -v 'CycleClock3NowEv' || true)
  if [ -n "$missing" ]; then
    echo "tsan_abseil: $soname lacks symbols of the installed library:" >&2
    echo "$missing" >&2
    exit 1
  fi
done
echo "$version" >"$stamp"
echo "tsan_abseil: Abseil $version (${libs[*]}) built with TSan in $out/lib"
