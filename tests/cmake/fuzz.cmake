# Hooks the fuzz targets and their corpus replays (tests/fuzz/fuzz.cmake) into the test tree.
include(${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz.cmake)
