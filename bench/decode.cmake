# bench_decode: STUN decoding throughput on one core, and tshark on the same messages.
#   build/bench/bench_decode [--seconds S] [--tshark-count N] [--no-tshark] [--keep-pcap FILE]
add_executable(bench_decode ${CMAKE_CURRENT_SOURCE_DIR}/bench_decode.c)
target_link_libraries(bench_decode PRIVATE stunlib)
