# turnprobe analyze: the capture reader's unit test, the analysis of every shared capture and of
# captures of turnprobe check against a real coturn, and the capture reader's fuzz replay.

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
    truncated split synthetic)
find_program(TP_ANALYZE_OPENSSL openssl)
if(TP_ANALYZE_OPENSSL)
  list(APPEND TP_ANALYZE_SCENARIOS tls)
endif()
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

# The fuzz target of the capture reader and the session builder (tests/fuzz/fuzz_capread.c), in
# the pattern of tests/fuzz/fuzz.cmake: a libFuzzer binary with TP_FUZZ=ON (clang), a corpus
# replay otherwise; the seeds in tests/fuzz/corpus/capread are the shared captures, whole and as
# frame lists under several link types.
#   CC=clang cmake -S . -B build-fuzz -DTP_FUZZ=ON && make -C build-fuzz fuzz_capread
#   build-fuzz/tests/fuzz_capread -max_total_time=600 NEW_DIR tests/fuzz/corpus/capread
set(TP_CAPREAD_CORPUS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/capread)
if(TP_FUZZ)
  add_executable(fuzz_capread ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_capread.c
                 ${CMAKE_SOURCE_DIR}/probe/tp_capread.c ${CMAKE_SOURCE_DIR}/probe/tp_sessions.c)
  target_include_directories(fuzz_capread PRIVATE ${CMAKE_SOURCE_DIR}/probe)
  target_compile_options(fuzz_capread PRIVATE -fsanitize=fuzzer,address,undefined
                         -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(fuzz_capread PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_capread PRIVATE checks reports stunlib PkgConfig::GLIB
                        PkgConfig::JSONGLIB PkgConfig::PCAP)
  add_test(NAME fuzz_capread_corpus COMMAND fuzz_capread -runs=0 ${TP_CAPREAD_CORPUS})
  set_tests_properties(fuzz_capread_corpus PROPERTIES TIMEOUT 300 LABELS fuzz)
else()
  add_executable(fuzz_capread_replay ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_capread.c
                 ${CMAKE_SOURCE_DIR}/tests/fuzz/replay_main.c)
  target_link_libraries(fuzz_capread_replay PRIVATE tpcore PkgConfig::PCAP)
  add_test(NAME fuzz_capread_replay COMMAND fuzz_capread_replay ${TP_CAPREAD_CORPUS})
  set_tests_properties(fuzz_capread_replay PROPERTIES TIMEOUT 300 LABELS fuzz)
endif()
