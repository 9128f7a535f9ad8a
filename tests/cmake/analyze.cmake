# turnprobe analyze: the capture reader's unit test, the analysis of every shared capture and of
# captures of turnprobe check against a real coturn, and the capture reader's fuzz replay.

# The capture reader (probe/tp_capread.c) reads files through libpcap. probe/CMakeLists.txt
# does not link it yet; until it does, the analyze fragment adds it to the probe's library.
if(TARGET tpcore)
  target_link_libraries(tpcore PUBLIC PkgConfig::PCAP)
endif()

# The capture reader on hand-built captures of every link type, fragments and TCP streams.
tp_unit_test(test_tp_capread SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_tp_capread.c
             LIBS tpcore PkgConfig::PCAP TIMEOUT 60)

# turnprobe analyze end to end (tests/integration/test_analyze.sh): each shared capture with its
# asserted reading, usage errors, damaged and split captures, and captures of turnprobe check
# against a real coturn (its own --pcap, and tshark on lo) judged as check judged them live.
# Every scenario checks the reports and the annotated pcapng through tshark.
find_program(TP_ANALYZE_TSHARK tshark)
find_program(TP_ANALYZE_EDITCAP editcap)
find_program(TP_ANALYZE_TURNSERVER turnserver)
if(NOT TP_ANALYZE_TSHARK OR NOT TP_ANALYZE_EDITCAP)
  message(STATUS "tshark or editcap not found: the analyze integration tests are not registered")
  return()
endif()
set(TP_ANALYZE_SCENARIOS ndpi-stun ndpi-tcp-multi ndpi-lru-ipv6 ndpi-dtls-rtp ndpi-classic
    zeek-malformed-error zeek-attr-ffff zeek-ice-testcall arkime pion-raw pion-csv usage
    truncated split)
if(TP_ANALYZE_TURNSERVER)
  list(APPEND TP_ANALYZE_SCENARIOS live-healthy live-healthy-tcp live-wrong-password
       live-no-loopback-peers live-tshark)
endif()
foreach(scenario ${TP_ANALYZE_SCENARIOS})
  add_test(NAME analyze_${scenario}
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/test_analyze.sh ${scenario}
                   $<TARGET_FILE:turnprobe> ${TP_SHARED_DIR})
  set_tests_properties(analyze_${scenario} PROPERTIES TIMEOUT 120 LABELS "integration;analyze")
endforeach()
