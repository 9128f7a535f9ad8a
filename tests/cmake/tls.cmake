# turns: over TLS and DTLS against a real coturn, with certificates each test makes with openssl
# (tests/integration/test_tls.sh): one test per scenario.
set(TP_TLS_SCENARIOS ca-tls ca-dtls self-signed insecure expired not-yet-valid mismatch-ip
    mismatch-name expiring-soon tls-on-plain-port plain-on-tls-port tls-only-server
    per-connection-detection capture-tls capture-dtls capture-tls-self capture-dtls-self
    capture-tls13 html incomplete-chain tls-ipv6 dtls-ipv6 hostname-ok)
foreach(scenario ${TP_TLS_SCENARIOS})
  add_test(NAME tls_${scenario}
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/test_tls.sh ${scenario}
                   $<TARGET_FILE:turnprobe>)
  set_tests_properties(tls_${scenario} PROPERTIES TIMEOUT 90 LABELS integration)
endforeach()
