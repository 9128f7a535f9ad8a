# bench_analyze.sh: turnprobe analyze against tshark on a generated capture of at least 1 GB
# (many TURN sessions and RTP-like ChannelData), with time, throughput and peak memory of each.
#   bench/bench_analyze.sh build/probe/turnprobe build/bench/gen_capture [SIZE_MB]
add_executable(gen_capture ${CMAKE_CURRENT_SOURCE_DIR}/gen_capture.c)
target_link_libraries(gen_capture PRIVATE stunlib)
