# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS): adjusts the staged files of the Debian package
# to Debian's layout before CPack archives them. Other generators keep `cmake --install`'s layout.
if(NOT CPACK_GENERATOR STREQUAL "DEB")
  return()
endif()
set(usr "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/usr")
if(NOT IS_DIRECTORY "${usr}")
  message(FATAL_ERROR "deb_layout: no staged /usr in '${CPACK_TEMPORARY_INSTALL_DIRECTORY}'")
endif()

# Debian's zsh looks in /usr/share/zsh/vendor-completions for packaged completions; its $fpath has
# no /usr/share/zsh/site-functions (only /usr/local/share/zsh/site-functions).
file(MAKE_DIRECTORY "${usr}/share/zsh/vendor-completions")
file(RENAME "${usr}/share/zsh/site-functions/_crcr" "${usr}/share/zsh/vendor-completions/_crcr")
file(REMOVE_RECURSE "${usr}/share/zsh/site-functions")

# Debian policy 12.1: manual pages are installed compressed with gzip -9n.
execute_process(COMMAND gzip -9nf "${usr}/share/man/man1/crcr.1" RESULT_VARIABLE gzip_result)
if(NOT gzip_result EQUAL 0)
  message(FATAL_ERROR "deb_layout: gzip failed on the man page: ${gzip_result}")
endif()
