# Runs `cmake --install BUILD_DIR --prefix PREFIX` into an empty PREFIX and checks the result:
# bin/keyvad and bin/keyva are there and run, lib/systemd/system/keyvad.service is there, names
# PREFIX/bin/keyvad and keeps its user, state directory and hardening settings.
# Usage: cmake -DBUILD_DIR=... -DPREFIX=... -P check_install.cmake
foreach(var BUILD_DIR PREFIX)
  if(NOT ${var})
    message(FATAL_ERROR "${var} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc}):\n${out}")
endif()

set(unit ${PREFIX}/lib/systemd/system/keyvad.service)
foreach(file ${PREFIX}/bin/keyvad ${PREFIX}/bin/keyva ${unit})
  if(NOT EXISTS ${file})
    message(FATAL_ERROR "not installed: ${file}\n${out}")
  endif()
endforeach()

file(READ ${unit} text)
foreach(line "ExecStart=${PREFIX}/bin/keyvad" "User=keyva" "StateDirectory=keyva"
             "Environment=KEYVA_DATA_DIR=/var/lib/keyva/data" "NoNewPrivileges=yes"
             "ProtectSystem=strict" "ReadWritePaths=/var/lib/keyva" "KillSignal=SIGTERM")
  string(FIND "${text}" "\n${line}\n" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${unit} lacks the line '${line}':\n${text}")
  endif()
endforeach()
if(text MATCHES "@[A-Z_]+@")
  message(FATAL_ERROR "${unit} has an unreplaced @VARIABLE@:\n${text}")
endif()

# The installed programs run.
execute_process(COMMAND ${PREFIX}/bin/keyvad --help RESULT_VARIABLE rc OUTPUT_VARIABLE help)
if(NOT rc EQUAL 0 OR NOT help MATCHES "KEYVA_DATA_DIR")
  message(FATAL_ERROR "installed keyvad --help failed (${rc}):\n${help}")
endif()
execute_process(COMMAND ${PREFIX}/bin/keyva --help RESULT_VARIABLE rc OUTPUT_VARIABLE help)
if(NOT rc EQUAL 0 OR NOT help MATCHES "Usage: keyva")
  message(FATAL_ERROR "installed keyva --help failed (${rc}):\n${help}")
endif()
message(STATUS "installed into ${PREFIX}: keyvad, keyva, keyvad.service")
file(REMOVE_RECURSE ${PREFIX})
