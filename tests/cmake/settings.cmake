# Settings layer (issue 4): URIs, TURN REST credentials, iceServers JSON, `turnprobe creds`.
tp_unit_test(test_sl_uri SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_sl_uri.c LIBS stunlib)
tp_unit_test(test_sl_rest SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_sl_rest.c LIBS stunlib)
tp_unit_test(test_tp_iceservers SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_tp_iceservers.c
             LIBS tpcore)
