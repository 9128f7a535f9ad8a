# The libnice half of the ice step: real turnprobe, real coturn on loopback, real libnice.
foreach(scenario udp tcp ipv6 tls no-loopback-peers wrong-password silent-udp silent-relay
        valgrind-udp)
  add_test(NAME nice_${scenario}
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/test_nice.sh ${scenario}
                   $<TARGET_FILE:turnprobe>)
  set_tests_properties(nice_${scenario} PROPERTIES TIMEOUT 60 LABELS integration
                                                   SKIP_RETURN_CODE 77)
endforeach()
