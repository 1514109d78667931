#!/usr/bin/env bash
# Out-of-tree consumer test: meson install --destdir into a temporary root,
# then compile tests/install/consumer.c with nothing but pkg-config and run it.
# Usage: test_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
root=$(mktemp -d /tmp/vtev-install-XXXXXX)
trap 'rm -rf "$root"' EXIT
meson install -C "$build" --no-rebuild --quiet --destdir "$root" >/dev/null
pcdir=$(dirname "$(find "$root" -name vtevents.pc | head -n1)")
[ -f "$pcdir/vtevents.pc" ] || { echo "FAIL: vtevents.pc not installed"; exit 1; }
export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$root
fails=0
check() { if "$@"; then :; else echo "FAIL: $*"; fails=$((fails + 1)); fi; }
ver=$(pkg-config --modversion vtevents)
check test "$ver" = "0.2.0"
libdir=$(dirname "$(find "$root" -name 'libvtevents.so.0' | head -n1)")
# A sanitizer build of the library needs the program built the same way.
san=()
readelf -d "$libdir/libvtevents.so.0" | grep -q 'libasan' && san=(-fsanitize=address,undefined)
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror "${san[@]}" -o "$root/consumer" "$src/tests/install/consumer.c" \
   $(pkg-config --cflags --libs vtevents)
# The example services build out of tree with pkg-config alone.
if [ -f "$src/examples/common.c" ] && PKG_CONFIG_SYSROOT_DIR= pkg-config --exists sqlite3 libpq; then
  # shellcheck disable=SC2046
  for p in position-simulator prediction-trigger prediction-worker prediction-persister vt-demo; do
    check cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror "${san[@]}" -o "$root/$p" \
      $([ "$p" = vt-demo ] && echo "-DEX_NO_MAIN $src/examples/p*.c") "$src/examples/$p.c" \
      "$src/examples/common.c" $(pkg-config --cflags --libs vtevents) \
      $(PKG_CONFIG_SYSROOT_DIR= pkg-config --cflags --libs sqlite3 libpq) -lm -pthread
  done
fi
out=$(LD_LIBRARY_PATH=$libdir "$root/consumer")
echo "$out"
check grep -q "libvtevents 0.2.0" <<<"$out"
# <vtevents/rdkafka_ext.h> includes librdkafka's header: its users add rdkafka.
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror "${san[@]}" -o "$root/rdkafka_user" \
   "$src/tests/install/rdkafka_user.c" $(pkg-config --cflags --libs vtevents rdkafka)
out=$(LD_LIBRARY_PATH=$libdir "$root/rdkafka_user")
echo "$out"
check grep -q "rdkafka_ext ok" <<<"$out"
soname=$(readelf -d "$libdir/libvtevents.so.0" | sed -n 's/.*SONAME.*\[\(.*\)\].*/\1/p')
check test "$soname" = "libvtevents.so.0"
for f in "$src"/schemas/avro/*.avsc; do
  [ -e "$f" ] || continue
  check test -f "$(find "$root" -path "*/share/vtevents/schemas/avro/$(basename "$f")" | head -n1)"
done
for h in "$src"/include/vtevents/*.h; do
  check test -n "$(find "$root" -path "*/include/vtevents/$(basename "$h")" | head -n1)"
done
check test -n "$(find "$root" -path '*/include/vtevents/version.h' | head -n1)"
if [ "$fails" -ne 0 ]; then echo "0 passed, $fails failed"; exit 1; fi
echo "1 passed, 0 failed"
