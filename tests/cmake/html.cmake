# The HTML report: the unit test parses it (anchors, self-containment, escaping) and the
# integration test renders it with headless Chromium (Debian package "chromium") to PNG
# screenshots kept in build/artifacts/; it is skipped (77) only where chromium is absent.
tp_unit_test(test_rpt_html SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_rpt_html.c
             LIBS reports rpt_fixture stunlib PkgConfig::JSONGLIB TIMEOUT 60)
add_test(NAME html_render
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/html_render.sh
                 $<TARGET_FILE:test_rpt_html> ${CMAKE_BINARY_DIR}/artifacts)
set_tests_properties(html_render PROPERTIES TIMEOUT 400 SKIP_RETURN_CODE 77 LABELS integration)
