# turnprobe analyze: the capture reader's unit test, the analysis of every shared capture and of
# captures of turnprobe check against a real coturn, and the capture reader's fuzz replay.

# The capture reader (probe/tp_capread.c) reads files through libpcap. probe/CMakeLists.txt
# does not link it yet; until it does, the analyze fragment adds it to the probe's library.
if(TARGET tpcore)
  target_link_libraries(tpcore PUBLIC PkgConfig::PCAP)
endif()
