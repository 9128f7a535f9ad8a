# bench_check: the whole checklist against a local coturn, N times, next to turnutils_uclient
# doing one client-to-client exchange through the same server (medians and their ratio).
#   make bench_check            (30 runs over UDP; RUNS=N in the environment to change)
#   bash bench/bench_check.sh build/probe/turnprobe [RUNS] [udp|tcp]
add_custom_target(bench_check
                  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/bench_check.sh $<TARGET_FILE:turnprobe>
                  DEPENDS turnprobe
                  USES_TERMINAL
                  COMMENT "turnprobe check vs turnutils_uclient against a local coturn")
