# The annotated pcapng writer: the unit test (libpcap and our own block parser read the files
# back), then tshark checks of the fixtures through tests/integration/pcapng_check.sh, the
# checker other integration tests reuse on the captures turnprobe writes.
tp_unit_test(test_rpt_pcapng SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_rpt_pcapng.c
             LIBS reports rpt_fixture stunlib PkgConfig::PCAP PkgConfig::JSONGLIB TIMEOUT 60)

find_program(TP_TSHARK tshark)
find_program(TP_CAPINFOS capinfos)
if(NOT TP_TSHARK OR NOT TP_CAPINFOS)
  message(STATUS "tshark or capinfos not found: the pcapng tshark checks are not registered")
  return()
endif()

set(PCAPNG_DIR ${CMAKE_CURRENT_BINARY_DIR}/pcapng-fixtures)
set(PCAPNG_CHECK ${CMAKE_SOURCE_DIR}/tests/integration/pcapng_check.sh)

# The unit test binary writes the fixtures (and spoiled copies) for the tests below.
add_test(NAME pcapng_fixtures COMMAND test_rpt_pcapng write-fixtures ${PCAPNG_DIR})
set_tests_properties(pcapng_fixtures PROPERTIES TIMEOUT 30 FIXTURES_SETUP pcapng_files
                     LABELS tshark)

function(pcapng_tshark_test name)
  add_test(NAME ${name} COMMAND ${ARGN})
  set_tests_properties(${name} PROPERTIES TIMEOUT 120 FIXTURES_REQUIRED pcapng_files
                       LABELS tshark)
endfunction()

# What the checker must accept.
pcapng_tshark_test(pcapng_check_failing
  sh ${PCAPNG_CHECK} ${PCAPNG_DIR}/failing.pcapng ${PCAPNG_DIR}/failing.json)
pcapng_tshark_test(pcapng_check_passing_tcp
  sh ${PCAPNG_CHECK} ${PCAPNG_DIR}/passing-tcp.pcapng ${PCAPNG_DIR}/passing-tcp.json)
# ICMP errors, IPv6, a server on port 40000, TCP refused and mid-stream; its repeated SYN is a
# retransmission by design.
pcapng_tshark_test(pcapng_check_mixed
  sh ${PCAPNG_CHECK} --allow-retransmissions ${PCAPNG_DIR}/mixed.pcapng ${PCAPNG_DIR}/mixed.json)

# tshark dissects the STUN we wrote as the STUN we meant: the message types frame by frame (the
# .types file comes from stunlib decoding the model), and the allocate step's frames carry
# comments naming it.
# (No semicolons in these scripts: CMake would split them into separate arguments.)
set(PCAPNG_DISSECT [=[
got=$(tshark -r "$1" -Y stun.type -T fields -E separator=: -e frame.number -e stun.type 2>/dev/null)
want=$(cat "$2")
if [ -z "$want" ] || [ "$got" != "$want" ]
then echo "stun.type per frame: got [$got] want [$want]" && exit 1
fi
got=$(tshark -r "$1" -Y 'frame.comment contains "allocate #"' -T fields -e frame.number \
    2>/dev/null | tr '\n' ' ')
if [ "$got" != "$3" ]
then echo "frames commented allocate: got [$got] want [$3]" && exit 1
fi
]=])
pcapng_tshark_test(pcapng_dissect_failing
  sh -c "${PCAPNG_DISSECT}" sh ${PCAPNG_DIR}/failing.pcapng ${PCAPNG_DIR}/failing.types "3 4 5 6 ")
pcapng_tshark_test(pcapng_dissect_passing_tcp
  sh -c "${PCAPNG_DISSECT}" sh ${PCAPNG_DIR}/passing-tcp.pcapng ${PCAPNG_DIR}/passing-tcp.types
  "6 7 8 9 ")

# What the checker must reject, each for its own reason: the output is "rc=1 <reason line>".
set(PCAPNG_REJECT [=[
out=$(sh "$@" 2>&1)
echo "rc=$? $out"
]=])
function(pcapng_reject name regex)
  pcapng_tshark_test(${name} sh -c "${PCAPNG_REJECT}" sh ${PCAPNG_CHECK} ${ARGN})
  set_tests_properties(${name} PROPERTIES PASS_REGULAR_EXPRESSION "${regex}")
endfunction()
pcapng_reject(pcapng_check_rejects_bad_checksum
  "rc=1 pcapng_check: [^\n]*: 1 bad frame\\(s\\), first: frame 3 "
  ${PCAPNG_DIR}/bad-checksum.pcapng)
pcapng_reject(pcapng_check_rejects_no_comment
  "rc=1 pcapng_check: [^\n]*: STUN frame 4 has no comment" ${PCAPNG_DIR}/no-comment.pcapng)
pcapng_reject(pcapng_check_rejects_misnumbered
  "rc=1 pcapng_check: [^\n]*: frame 5 has the comment of #6" ${PCAPNG_DIR}/misnumbered.pcapng)
pcapng_reject(pcapng_check_rejects_retransmission
  "rc=1 pcapng_check: [^\n]*: 1 bad frame\\(s\\), first: frame 6 \\[TCP Retransmission\\]"
  ${PCAPNG_DIR}/mixed.pcapng)
pcapng_reject(pcapng_check_rejects_missing_packet
  "rc=1 pcapng_check: [^\n]*failing-missing.json has 7 STUN packets, the capture 8 STUN"
  ${PCAPNG_DIR}/failing.pcapng ${PCAPNG_DIR}/failing-missing.json)
pcapng_reject(pcapng_check_rejects_other_summary
  "rc=1 pcapng_check: [^\n]*: frame 8: comment [^\n]* lacks \"Refresh request\""
  ${PCAPNG_DIR}/failing.pcapng ${PCAPNG_DIR}/failing-other-summary.json)
pcapng_reject(pcapng_check_rejects_other_capture
  "rc=1 pcapng_check: [^\n]*passing-tcp.json has 6 STUN packets, the capture 8 STUN"
  ${PCAPNG_DIR}/failing.pcapng ${PCAPNG_DIR}/passing-tcp.json)
