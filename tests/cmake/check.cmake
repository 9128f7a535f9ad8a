# Live checks of the real turnprobe binary against a real coturn the test starts on loopback.
foreach(scenario happy-udp happy-tcp happy-ipv6 wrong-password unknown-user no-loopback-peers
        user-quota no-udp tcp-closed-port silent-udp interrupt-releases)
  add_test(NAME check_${scenario}
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/test_check.sh ${scenario}
                   $<TARGET_FILE:turnprobe>)
  set_tests_properties(check_${scenario} PROPERTIES TIMEOUT 60 LABELS integration)
endforeach()
