# Faults a real coturn cannot produce, from the scripted responder tests/scripted/turn_script.py
# (and a real coturn for the redirect): one test per scenario. With TP_SANITIZE the script knows
# turnprobe is an ASan/UBSan build (exit codes, time, memory); run them there with -L integration.
set(TP_FAULT_SCENARIOS
    alternate alternate-tcp stale-nonce stale-loop insufficient-capacity unknown-attribute
    bad-integrity no-integrity auth-loop auth-loop-tcp open-relay private-relay
    private-relay-public not-stun not-stun-tcp silent silent-tcp garbage-tcp endless-tcp
    endless-tcp-indications endless-udp-indications error-no-code)
foreach(scenario ${TP_FAULT_SCENARIOS})
  add_test(NAME faults_${scenario}
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/test_faults.sh ${scenario}
                   $<TARGET_FILE:turnprobe>)
  # 77: the scenario cannot run here (no network namespaces for private-relay-public).
  set_tests_properties(faults_${scenario} PROPERTIES TIMEOUT 60 LABELS integration
                                                     SKIP_RETURN_CODE 77)
  if(TP_SANITIZE)
    set_tests_properties(faults_${scenario} PROPERTIES ENVIRONMENT TP_SANITIZED=1)
  endif()
endforeach()

# The scripted responder's own messages, decoded by turnprobe (FINGERPRINT, integrity, layout).
add_test(NAME faults_script_selftest
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/test_faults_selftest.sh
                 $<TARGET_FILE:turnprobe>)
set_tests_properties(faults_script_selftest PROPERTIES TIMEOUT 60 LABELS integration)
