# ballast_bpf_object(SOURCE HEADER SYMBOL OUTPUT_VAR): compiles an eBPF program (C for the
# BPF target) with clang and embeds the object in the binary as SYMBOL, so ballast loads it
# from memory with libbpf: nothing to install beside the binary. HEADER is the maps' layouts
# it shares with C++. Sets OUTPUT_VAR to the generated source that holds the bytes.
find_program(BALLAST_BPF_CLANG NAMES clang clang-14 REQUIRED)
function(ballast_bpf_object source header symbol output_var)
  get_filename_component(stem ${source} NAME_WE)
  set(object ${CMAKE_CURRENT_BINARY_DIR}/${stem}.bpf.o)
  set(embedded ${CMAKE_CURRENT_BINARY_DIR}/${stem}_object.cc)
  add_custom_command(
    OUTPUT ${object}
    # -g gives the BTF that libbpf reads the maps' definitions from.
    COMMAND ${BALLAST_BPF_CLANG} -O2 -g -target bpf -Wall -Werror
            -I${PROJECT_SOURCE_DIR}/src -I/usr/include/${CMAKE_LIBRARY_ARCHITECTURE}
            -c ${CMAKE_CURRENT_SOURCE_DIR}/${source} -o ${object}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${source} ${CMAKE_CURRENT_SOURCE_DIR}/${header}
    COMMENT "Compiling ${source} (BPF)")
  add_custom_command(
    OUTPUT ${embedded}
    COMMAND ${CMAKE_COMMAND} -DINPUT=${object} -DOUTPUT=${embedded} -DSYMBOL=${symbol}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_file.cmake
    DEPENDS ${object} ${PROJECT_SOURCE_DIR}/cmake/embed_file.cmake
    COMMENT "Embedding ${source}")
  set(${output_var} ${embedded} PARENT_SCOPE)
endfunction()
