#!/usr/bin/env bash
# turnprobe analyze against tshark on a generated capture of at least 1 GB: many TURN sessions
# (UDP and TCP, some failing) and RTP-like ChannelData both ways. Reports wall time, CPU time,
# throughput and peak memory of each, and their ratio; deletes the capture afterwards.
#   bench/bench_analyze.sh TURNPROBE GEN_CAPTURE [SIZE_MB] [WORKDIR]
# Targets: turnprobe at least 20 times faster than tshark, at least 500 MB/s, under 100 MB.
# BENCH_PCAP=1 also times analyze --pcap (the annotated copy doubles the bytes written).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 TURNPROBE GEN_CAPTURE [SIZE_MB] [WORKDIR]" >&2
  exit 2
fi
TP=$1
GEN=$2
MB=${3:-1100}
WORK=${4:-$(mktemp -d "${TMPDIR:-/tmp}/bench-analyze.XXXXXX")}
mkdir -p "$WORK"
F="$WORK/bench.pcap"
# The capture and the big outputs go; the timing reports and the JSON report stay in WORK.
trap 'rm -f "$F" "$WORK/annotated.pcapng" "$WORK"/*.out' EXIT
if [ ! -x /usr/bin/time ]; then
  echo "$0: needs GNU time for peak memory: apt-get install -y time" >&2
  exit 2
fi
command -v tshark >/dev/null || { echo "$0: needs tshark" >&2; exit 2; }

"$GEN" "$F" --size "$MB" >"$WORK/injected.txt"
BYTES=$(stat -c %s "$F")
# Both tools read from the page cache: warm it once so the first run is not the one that pays
# for the disk.
cat "$F" >/dev/null

# run NAME CMD...: /usr/bin/time -v around CMD, its report in $WORK/NAME.time
run() {
  local name=$1
  shift
  /usr/bin/time -v -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || true
}
field() { # field NAME "label": a value from a GNU time report
  awk -F': ' -v k="$2" 'index($0, k) { print $2 }' "$WORK/$1.time" | head -1 | tr -d ' '
}
secs() { # wall clock h:mm:ss.ss or m:ss.ss to seconds
  awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }' <<<"$1"
}

# The targets apply to the analysis with its default (text) report; the JSON report is timed
# too, since its writer builds the whole document in memory first.
run turnprobe "$TP" analyze "$F" --color never
run turnprobe_json "$TP" analyze "$F" -q --json "$WORK/report.json"
[ "${BENCH_PCAP:-0}" = 1 ] && run turnprobe_pcap "$TP" analyze "$F" -q --pcap "$WORK/annotated.pcapng"
run tshark tshark -r "$F" -Y stun

report() { # report NAME LABEL
  local wall user sys rss
  wall=$(secs "$(field "$1" 'Elapsed (wall clock)')")
  user=$(field "$1" 'User time')
  sys=$(field "$1" 'System time')
  rss=$(field "$1" 'Maximum resident set size')
  awk -v l="$2" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v b="$BYTES" 'BEGIN {
    printf "%-34s %8.2f s wall %8.2f s cpu %9.0f MB/s (wall) %9.0f MB/s (cpu) %7.1f MB peak\n",
      l, w, u + s, b / 1e6 / w, b / 1e6 / (u + s), r / 1024 }'
}

echo
echo "capture: $F, $(awk -v b="$BYTES" 'BEGIN { printf "%.1f MB", b / 1e6 }'), $(capinfos -Mc "$F" | awk '/Number of packets/ { print $NF }') frames"
report turnprobe "turnprobe analyze (text report)"
report turnprobe_json "turnprobe analyze -q --json FILE"
[ "${BENCH_PCAP:-0}" = 1 ] && report turnprobe_pcap "turnprobe analyze --pcap"
report tshark "tshark -r F -Y stun"

TPW=$(secs "$(field turnprobe 'Elapsed (wall clock)')")
TPC=$(awk -v u="$(field turnprobe 'User time')" -v s="$(field turnprobe 'System time')" 'BEGIN { print u + s }')
TSW=$(secs "$(field tshark 'Elapsed (wall clock)')")
TSC=$(awk -v u="$(field tshark 'User time')" -v s="$(field tshark 'System time')" 'BEGIN { print u + s }')
RSS=$(field turnprobe 'Maximum resident set size')
SESSIONS=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(len(d.get('sessions') or [d]))" "$WORK/report.json")
echo "turnprobe: $SESSIONS sessions; tshark: $(wc -l <"$WORK/tshark.out") STUN/ChannelData frames listed; work files in $WORK"
echo "generator $(cat "$WORK/injected.txt")"
python3 - "$WORK/report.json" <<'PY'
import collections, json, sys
d = json.load(open(sys.argv[1]))
S = d.get('sessions') or [d]
fails = collections.Counter(st['diagnosis'] for s in S for st in s['steps'] if st['status'] == 'fail')
tp = collections.Counter(s['target']['transport'] for s in S)
print('analyze found:  ' + ' '.join(f'{k} {v}' for k, v in sorted(fails.items())) +
      f" healthy {sum(1 for s in S if s['verdict'] != 'fail')}; sessions by transport: {dict(tp)}")
PY
awk -v tpw="$TPW" -v tsw="$TSW" -v tpc="$TPC" -v tsc="$TSC" -v rss="$RSS" -v b="$BYTES" 'BEGIN {
  rw = tsw / tpw; rc = tsc / tpc; mbs = b / 1e6 / tpw; mb = rss / 1024
  printf "speed-up over tshark: %.1fx wall, %.1fx cpu   (target >= 20x: %s)\n", rw, rc, (rw >= 20) ? "met" : "MISSED"
  printf "throughput: %.0f MB/s wall, %.0f MB/s cpu          (target >= 500 MB/s: %s)\n", mbs, b / 1e6 / tpc, (mbs >= 500) ? "met" : "MISSED"
  printf "peak memory: %.1f MB                            (target < 100 MB: %s)\n", mb, (mb < 100) ? "met" : "MISSED"
}'
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
