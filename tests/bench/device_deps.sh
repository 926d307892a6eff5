#!/usr/bin/env bash
# Fills a prefix folder (default .devdeps, ignored by git) with what a bare GPU machine lacks for
# device_build.sh, taken from this Debian machine's packages: the CMake configs and headers of
# nlohmann-json and CLI11, fast_float's headers, the Boost.Math headers the paired tests include
# (with what they pull in), SQLite's header and library; and, for device_seqrec.sh, ml-100k and the
# plain PyTorch reference from ../shared. The device tool carries it (carry: [".devdeps"]).
set -euo pipefail
cd "$(dirname "$0")/../.."
D=$PWD/${1:-.devdeps}
rm -rf "$D"
mkdir -p "$D/include" "$D/lib" "$D/share/cmake" "$D/ml-100k" "$D/peers"
cp -r /usr/share/cmake/CLI11 /usr/share/cmake/nlohmann_json "$D/share/cmake/"
cp -r /usr/include/CLI /usr/include/nlohmann /usr/include/fast_float /usr/include/sqlite3.h /usr/include/sqlite3ext.h "$D/include/"
cp -L /usr/lib/x86_64-linux-gnu/libsqlite3.so.0 "$D/lib/"
cp "$D/lib/libsqlite3.so.0" "$D/lib/libsqlite3.so"
probe=$(mktemp --suffix=.cpp)
grep -h "#include <boost" core/compare/*.cpp | sort -u >"$probe"
for h in $(${CXX:-c++} -std=c++17 -M "$probe" | tr ' \\' '\n\n' | grep '^/usr/include/boost/' | sort -u); do
  mkdir -p "$D/include/$(dirname "${h#/usr/include/}")"
  cp "$h" "$D/include/${h#/usr/include/}"
done
rm -f "$probe"
cp -r /usr/include/boost/config "$D/include/boost/"
cp ../shared/datasets/ml-100k/u.{data,item,user,genre,occupation,info} "$D/ml-100k/"
cp ../shared/peers/seqrec_ref.py "$D/peers/"
du -sh "$D"
