# Fails the build when a file under core/ includes a Qt header: core must stay Qt-free so that
# it builds on a headless machine with only LibTorch. Run as `cmake -DDIR=... -P CheckQtFree.cmake`.
file(GLOB_RECURSE _sources "${DIR}/*.h" "${DIR}/*.hpp" "${DIR}/*.cpp")
set(_offenders "")
foreach(_file IN LISTS _sources)
  file(STRINGS "${_file}" _hits REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"](Qt[A-Za-z]*/)?Q[A-Za-z]")
  if(_hits)
    list(APPEND _offenders "${_file}: ${_hits}")
  endif()
endforeach()
if(_offenders)
  list(JOIN _offenders "\n  " _msg)
  message(FATAL_ERROR "core/ must not include Qt headers:\n  ${_msg}")
endif()
