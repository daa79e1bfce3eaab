# Checks that the sources of one module include only the modules it may
# know (the folder map in docs/ARCHITECTURE.md): run as a test with
#   cmake -DDIR=<src/module> -DALLOWED=module,util,... -P check_includes.cmake
# Every `#include "x/..."` in DIR's files must name a folder in ALLOWED.
cmake_minimum_required(VERSION 3.25)
string(REPLACE "," ";" ALLOWED "${ALLOWED}")
file(GLOB files ${DIR}/*.h ${DIR}/*.cpp)
set(bad "")
foreach(f IN LISTS files)
  file(STRINGS ${f} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"[^\"/]+/")
  foreach(line IN LISTS lines)
    string(REGEX MATCH "\"([^\"/]+)/" _ "${line}")
    if(NOT CMAKE_MATCH_1 IN_LIST ALLOWED)
      cmake_path(GET f FILENAME name)
      string(APPEND bad "\n  ${name}: ${line}")
    endif()
  endforeach()
endforeach()
if(bad)
  message(FATAL_ERROR "${DIR} may include only ${ALLOWED}; it includes:${bad}")
endif()
