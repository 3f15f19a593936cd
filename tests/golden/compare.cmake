# Runs the CLI on SCRIPT and compares its output with EXPECTED, byte for byte.
# To accept a new transcript: vmplay --check SCRIPT > EXPECTED (then read the diff).
execute_process(COMMAND ${CLI} --check ${SCRIPT}
                OUTPUT_VARIABLE actual ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "vmplay exited with ${rc} on ${SCRIPT}:\n${err}")
endif()
file(READ ${EXPECTED} expected)
if(NOT actual STREQUAL expected)
  get_filename_component(name ${SCRIPT} NAME_WE)
  set(actual_file ${CMAKE_CURRENT_BINARY_DIR}/${name}.actual)
  file(WRITE ${actual_file} "${actual}")
  execute_process(COMMAND diff -u ${EXPECTED} ${actual_file} OUTPUT_VARIABLE d)
  message(FATAL_ERROR "transcript differs from ${EXPECTED}:\n${d}")
endif()
