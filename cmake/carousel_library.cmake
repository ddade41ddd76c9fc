# SPDX-License-Identifier: Apache-2.0
# carousel_library(NAME DEPS ...): one library per layer folder src/carousel/NAME (silkworm's
# silkworm_library). Sources are globbed; foo_test.cpp files go into carousel_NAME_test, registered
# with ctest under the prefix "NAME."; foo_benchmark.cpp files go into the shared benchmark binary.
set_property(GLOBAL PROPERTY CAROUSEL_BENCHMARK_SOURCES "")

# Test code and the command-line front end only drive the libraries, which keep their optimisation
# level; compiling the drivers lower halves the build (measured on 5 test files: -O3 -> -O1 cut
# compile CPU by 34%; under the sanitizers -O1 -> -O0 by 48% for tests, 38% for the front end).
# carousel_set_driver_optimization(TARGET [TESTS]): TESTS also lowers the Release level.
function(carousel_set_driver_optimization target)
  if(CAROUSEL_SANITIZE)
    target_compile_options(${target} PRIVATE -O0)
  elseif(ARGV1 STREQUAL "TESTS" AND CMAKE_BUILD_TYPE STREQUAL "Release")
    target_compile_options(${target} PRIVATE -O1)
  endif()
endfunction()

function(carousel_library name)
  cmake_parse_arguments(ARG "" "" "DEPS;TEST_DEPS" ${ARGN})
  set(dir ${CMAKE_CURRENT_SOURCE_DIR}/carousel/${name})
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*.cpp)
  file(GLOB tests CONFIGURE_DEPENDS ${dir}/*_test.cpp)
  file(GLOB benches CONFIGURE_DEPENDS ${dir}/*_benchmark.cpp)
  list(REMOVE_ITEM sources ${tests} ${benches} "")

  set(target carousel_${name})
  add_library(${target} STATIC ${sources})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_link_libraries(${target} PUBLIC ${ARG_DEPS})
  carousel_set_warnings(${target})

  if(CAROUSEL_BUILD_TESTS AND tests)
    add_executable(${target}_test ${tests})
    target_link_libraries(${target}_test PRIVATE ${target} ${ARG_TEST_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
    target_compile_definitions(${target}_test PRIVATE CAROUSEL_TEST_DATA="${PROJECT_SOURCE_DIR}/tests/data")
    carousel_set_warnings(${target}_test)
    carousel_set_driver_optimization(${target}_test TESTS)
    # ctest -j starts the tests of highest COST first; a clean clone has no timing record, so the
    # simulator's whole-network tests (seconds to a minute each) are named as the costly ones.
    set(cost 1)
    if(name STREQUAL "sim")
      set(cost 30)
    endif()
    gtest_discover_tests(${target}_test TEST_PREFIX "${name}." DISCOVERY_TIMEOUT 60 PROPERTIES COST ${cost})
  endif()
  if(benches)
    set_property(GLOBAL APPEND PROPERTY CAROUSEL_BENCHMARK_SOURCES ${benches})
    set_property(GLOBAL APPEND PROPERTY CAROUSEL_BENCHMARK_LIBS ${target})
  endif()
endfunction()
