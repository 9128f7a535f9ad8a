# The writers' shared deterministic result model (tests/unit/rpt_fixture.c).
add_library(rpt_fixture STATIC ${CMAKE_SOURCE_DIR}/tests/unit/rpt_fixture.c)
target_include_directories(rpt_fixture PUBLIC ${CMAKE_SOURCE_DIR}/tests/unit)
target_link_libraries(rpt_fixture PUBLIC reports stunlib)
