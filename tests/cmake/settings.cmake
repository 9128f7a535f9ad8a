# Settings layer (issue 4): URIs, TURN REST credentials, iceServers JSON, `turnprobe creds`.
tp_unit_test(test_sl_uri SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_sl_uri.c LIBS stunlib)
tp_unit_test(test_sl_rest SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_sl_rest.c LIBS stunlib)
tp_unit_test(test_tp_iceservers SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_tp_iceservers.c
             LIBS tpcore)

# The real binary, then coturn's own client against the credentials it mints.
add_test(NAME test_creds
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/test_creds.sh $<TARGET_FILE:turnprobe>)
set_tests_properties(test_creds PROPERTIES TIMEOUT 60 LABELS integration)
