# embed_files(<out.cpp> <namespace> <header> <files...>)
# Generates a C++ source that defines `namespace::embedded_files()` (declared in <header>): a span of {name, text} for each file
# (name = file name without extension), so presets ship inside the binary and need no install path.
set(_EMBED_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/embed_files_script.cmake")

function(embed_files OUT_CPP NAMESPACE HEADER)
  set(files ${ARGN})
  add_custom_command(
    OUTPUT "${OUT_CPP}"
    COMMAND ${CMAKE_COMMAND} -DOUT=${OUT_CPP} -DNAMESPACE=${NAMESPACE} -DHEADER=${HEADER} "-DFILES=${files}"
            -P "${_EMBED_SCRIPT}"
    DEPENDS ${files} "${_EMBED_SCRIPT}"
    COMMENT "Embedding ${NAMESPACE} presets"
    VERBATIM)
endfunction()
