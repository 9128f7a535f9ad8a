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
