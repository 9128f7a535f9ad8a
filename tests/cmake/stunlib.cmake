# stunlib unit tests: one GLib g_test binary per module (tests/unit/test_sl_*.c).
# test_sl_captures reads the shared pcap/pcapng captures, so it also links libpcap.
set(TP_SL_UNIT_TESTS msg auth chan frame classify txn addr captures)
foreach(mod ${TP_SL_UNIT_TESTS})
  set(src ${CMAKE_SOURCE_DIR}/tests/unit/test_sl_${mod}.c)
  if(NOT EXISTS ${src})
    continue()
  endif()
  set(libs stunlib)
  if(mod STREQUAL "captures")
    list(APPEND libs PkgConfig::PCAP)
  endif()
  tp_unit_test(test_sl_${mod} SOURCES ${src} LIBS ${libs} TIMEOUT 120)
endforeach()
