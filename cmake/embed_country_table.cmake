# Turns data/grid-intensity-by-country.csv into a C++ table at configure time, so the binary
# carries the offline default and the CSV stays the single source (with its attribution).
function(epochwatt_embed_country_table csv out)
  file(STRINGS "${csv}" lines)
  list(POP_FRONT lines header)
  if(NOT header STREQUAL "country,year,gco2e_per_kwh")
    message(FATAL_ERROR "${csv}: unexpected header '${header}'")
  endif()
  set(rows "")
  foreach(line IN LISTS lines)
    string(REPLACE "," ";" fields "${line}")
    list(LENGTH fields n)
    if(NOT n EQUAL 3)
      message(FATAL_ERROR "${csv}: bad row '${line}'")
    endif()
    list(GET fields 0 cc)
    list(GET fields 1 year)
    list(GET fields 2 value)
    string(APPEND rows "    {\"${cc}\", ${year}, ${value}},\n")
  endforeach()
  set(EPOCHWATT_COUNTRY_ROWS "${rows}")
  configure_file("${CMAKE_CURRENT_FUNCTION_LIST_DIR}/country_table.cpp.in" "${out}" @ONLY)
endfunction()

# Embeds a whole text file as a string constant `name` in namespace epochwatt::data, for tables
# that are parsed once at run time (quoted CSV fields make configure-time parsing fragile).
function(epochwatt_embed_text file name out)
  file(READ "${file}" content)
  set(delim "ew_embed")
  string(FIND "${content}" ")${delim}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${file} contains the raw-string delimiter")
  endif()
  # clang's -Wpedantic flags a literal over 65536 characters, the least length the standard asks
  # every compiler to support (g++ does not check it in C++); clang and g++ take longer ones.
  set(allow_long "#if defined(__clang__)\n#pragma clang diagnostic ignored \"-Woverlength-strings\"\n#endif\n")
  file(WRITE "${out}" "// Generated from ${file}; do not edit.\n${allow_long}#include <string_view>\nnamespace epochwatt::data {\nextern const std::string_view ${name};\nconst std::string_view ${name} = R\"${delim}(${content})${delim}\";\n}  // namespace epochwatt::data\n")
endfunction()
