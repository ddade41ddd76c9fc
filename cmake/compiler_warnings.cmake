# SPDX-License-Identifier: Apache-2.0
# All warning flags in one place (as silkworm cmake/compiler_warnings.cmake).
set(CAROUSEL_WARNINGS
    -Werror -Wall -Wextra -pedantic -Wshadow -Wsign-conversion -Wold-style-cast -Wnon-virtual-dtor
    -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference -Wformat=2
    # g++ 12 reports false positives inside nlohmann::json and std::optional at -O3 (GCC PR 105562).
    -Wno-maybe-uninitialized)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # clang knows no -Wmaybe-uninitialized.
  list(APPEND CAROUSEL_WARNINGS -Wno-unknown-warning-option)
endif()

function(carousel_set_warnings target)
  target_compile_options(${target} PRIVATE ${CAROUSEL_WARNINGS})
endfunction()
