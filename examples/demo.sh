#!/usr/bin/env bash
# The README's first command: install what is needed, build, and show turnprobe at work.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
TP=build/probe/turnprobe
VEC=../shared/vectors/stun-vectors.txt
[ -f "$VEC" ] || VEC=tests/data/stun-vectors.txt

vector() { grep -A1 "^$1" "$VEC" | tail -n 1; }
pwfile=$(mktemp)
trap 'rm -f "$pwfile"' EXIT

echo "== RFC 5769 2.1: an ICE Binding request with short-term credentials"
printf '%s' 'VOkJxbRl1RmTxUk/WvJxBt' >"$pwfile"
"$TP" decode --password-file "$pwfile" "$(vector RFC5769_2.1_sample_request)"
echo
echo "== RFC 5769 2.4: a request with long-term credentials"
printf '%s' 'TheMatrIX' >"$pwfile"
"$TP" decode --password-file "$pwfile" "$(vector RFC5769_2.4_long_term_request)"
echo
echo "== RFC 8489 B.1 as printed in the RFC (erratum 6268): refused, with the reason"
"$TP" decode "$(vector RFC8489_B.1_as_published_INVALID)" || echo "(exit status $?)"
