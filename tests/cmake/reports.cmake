# The report writers' tests: text, JSON, Markdown and redaction, with golden files in
# tests/golden/ (TP_UPDATE_GOLDEN=1 rewrites them), and the JSON checked against the schema.
set(RPT_TEST_LIBS reports rpt_fixture stunlib PkgConfig::JSONGLIB)
foreach(t text json md redact)
  if(EXISTS ${CMAKE_SOURCE_DIR}/tests/unit/test_rpt_${t}.c)
    tp_unit_test(test_rpt_${t} SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_rpt_${t}.c
                 LIBS ${RPT_TEST_LIBS} TIMEOUT 60)
  endif()
endforeach()

# Every golden JSON report validates against docs/report-schema.json (python3-jsonschema), and a
# broken one does not: the schema must be able to say no.
find_program(TP_PYTHON3 python3)
if(TP_PYTHON3)
  file(GLOB RPT_GOLDEN_JSON CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/golden/*.json)
  foreach(f ${RPT_GOLDEN_JSON})
    get_filename_component(name ${f} NAME_WE)
    if(name MATCHES "^invalid-")
      continue()
    endif()
    add_test(NAME report_schema_${name}
             COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/validate_json.sh
                     ${CMAKE_SOURCE_DIR}/docs/report-schema.json ${f})
    set_tests_properties(report_schema_${name} PROPERTIES TIMEOUT 60 LABELS integration)
  endforeach()
  add_test(NAME report_schema_rejects_invalid
           COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/validate_json.sh
                   ${CMAKE_SOURCE_DIR}/docs/report-schema.json
                   ${CMAKE_SOURCE_DIR}/tests/golden/invalid-report.json)
  # Pass only on the validator's own verdict, not on any failure (a missing module, say).
  set_tests_properties(report_schema_rejects_invalid PROPERTIES TIMEOUT 60 LABELS integration
                       PASS_REGULAR_EXPRESSION "is not valid against")
endif()
