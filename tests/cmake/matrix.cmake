# turnprobe matrix and --proxy in restricted networks (issue 9): network namespaces, a real
# coturn, tinyproxy and Dante, nftables in the client namespace. As root; see
# tests/integration/test_matrix.sh for what each scenario checks.
foreach(scenario udp-blocked tcp443-only all-dropped http-proxy http-proxy-auth socks5-proxy
        tls-intercept)
  add_test(NAME matrix_${scenario}
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/test_matrix.sh ${scenario}
                   $<TARGET_FILE:turnprobe>)
  set_tests_properties(matrix_${scenario} PROPERTIES TIMEOUT 120 LABELS integration)
endforeach()
