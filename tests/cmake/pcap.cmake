# The pcapng of `turnprobe check --pcap` against a real coturn on loopback, live (libpcap, as
# root) and self (rebuilt from the log), read back through tshark by pcapng_check.sh and
# compared with the JSON report: STUN types, order, step comments, ICMP, Ctrl-C, no password.
# First the matching and renumbering alone, over frames written to a file (no tshark needed).
tp_unit_test(test_tp_capture SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_tp_capture.c
             LIBS tpcore PkgConfig::PCAP TIMEOUT 30)
find_program(TP_PCAP_TSHARK tshark)
find_program(TP_PCAP_CAPINFOS capinfos)
if(NOT TP_PCAP_TSHARK OR NOT TP_PCAP_CAPINFOS)
  message(STATUS "tshark or capinfos not found: the check --pcap tests are not registered")
  return()
endif()
foreach(scenario udp-self udp-live tcp-self tcp-live wrong-password-self wrong-password-live
        closed-udp-live interrupted-self interrupted-live auto-without-permission)
  add_test(NAME pcap_${scenario}
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/test_pcap.sh ${scenario}
                   $<TARGET_FILE:turnprobe>)
  set_tests_properties(pcap_${scenario} PROPERTIES TIMEOUT 60 LABELS integration)
endforeach()
