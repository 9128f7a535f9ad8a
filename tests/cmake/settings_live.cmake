# The settings and dns steps live (issue 4): the real binary against a real coturn, REST
# credentials, round-robin DNS and SRV in network namespaces (as root), iceServers, no secret in
# any output. tests/integration/test_settings.sh says what each scenario checks.
foreach(scenario rest-valid rest-expired dns-partial srv ice-servers secrets)
  add_test(NAME settings_live_${scenario}
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/test_settings.sh ${scenario}
                   $<TARGET_FILE:turnprobe>)
  set_tests_properties(settings_live_${scenario} PROPERTIES TIMEOUT 90 LABELS integration)
endforeach()
