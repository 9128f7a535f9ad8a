# Fuzz targets (tests/fuzz/): libFuzzer binaries with TP_FUZZ=ON (clang), corpus-replay
# programs otherwise; CTest runs either over the committed seed corpus in tests/fuzz/corpus/.
#   CC=clang cmake -S . -B build-fuzz -DTP_FUZZ=ON && make -C build-fuzz fuzz_decode fuzz_frame
#   build-fuzz/tests/fuzz_decode -max_total_time=600 NEW_DIR tests/fuzz/corpus/decode
set(TP_FUZZ_DIR ${CMAKE_SOURCE_DIR}/tests/fuzz)
if(TP_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "TP_FUZZ=ON needs clang: configure with CC=clang")
  endif()
  # stunlib's sources are compiled into each fuzzer, so that libFuzzer sees their coverage
  # without changing how the library itself is built.
  file(GLOB TP_FUZZ_SL_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/stunlib/sl_*.c)
endif()
foreach(t decode frame)
  set(corpus ${TP_FUZZ_DIR}/corpus/${t})
  if(TP_FUZZ)
    set(exe fuzz_${t})
    set(test fuzz_${t}_corpus)
    add_executable(${exe} ${TP_FUZZ_DIR}/fuzz_${t}.c ${TP_FUZZ_SL_SOURCES})
    target_include_directories(${exe} PRIVATE ${CMAKE_SOURCE_DIR}/stunlib)
    target_compile_options(${exe} PRIVATE -fsanitize=fuzzer,address,undefined
                           -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    target_link_options(${exe} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${exe} PRIVATE OpenSSL::Crypto)
    # -runs=0: execute every corpus input once, mutate nothing.
    add_test(NAME ${test} COMMAND ${exe} -runs=0 ${corpus})
  else()
    set(exe fuzz_${t}_replay)
    set(test ${exe})
    add_executable(${exe} ${TP_FUZZ_DIR}/fuzz_${t}.c ${TP_FUZZ_DIR}/replay_main.c)
    target_link_libraries(${exe} PRIVATE stunlib)
    add_test(NAME ${test} COMMAND ${exe} ${corpus})
  endif()
  set_tests_properties(${test} PROPERTIES TIMEOUT 300 LABELS fuzz)
endforeach()
