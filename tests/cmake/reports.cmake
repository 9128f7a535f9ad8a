# The report writers' tests: text, JSON, Markdown and redaction, with golden files in
# tests/golden/ (TP_UPDATE_GOLDEN=1 rewrites them), and the JSON checked against the schema.
set(RPT_TEST_LIBS reports rpt_fixture stunlib PkgConfig::JSONGLIB)
foreach(t text json md redact)
  if(EXISTS ${CMAKE_SOURCE_DIR}/tests/unit/test_rpt_${t}.c)
    tp_unit_test(test_rpt_${t} SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_rpt_${t}.c
                 LIBS ${RPT_TEST_LIBS} TIMEOUT 60)
  endif()
endforeach()
