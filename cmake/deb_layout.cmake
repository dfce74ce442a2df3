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

# Debian policy 12.5 and 12.7: the license as a machine-readable copyright file, and the changelog
# (packaging/changelog, Debian's format; this is a native package, so changelog.gz), both in
# /usr/share/doc/crcr.
set(doc "${usr}/share/doc/crcr")
file(MAKE_DIRECTORY "${doc}")
file(READ "${CPACK_CRCR_SOURCE_DIR}/LICENSE" license)
# The license text after its title and copyright lines, each line indented, blank lines as " .".
string(REGEX REPLACE "^.*All rights reserved\\.\n\n" "" terms "${license}")
string(REGEX REPLACE "\n+$" "" terms "${terms}")
string(REGEX REPLACE "\n\n" "\n.\n" terms "${terms}")
string(REGEX REPLACE "\n" "\n " terms "${terms}")
string(REGEX MATCH "Copyright \\(c\\) ([^\n]*)" copyright_line "${license}")
file(WRITE "${doc}/copyright"
"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: crcr
Source: https://github.com/${CPACK_CRCR_GITHUB_REPOSITORY}

Files: *
Copyright: ${CMAKE_MATCH_1}
License: BSD-3-Clause

License: BSD-3-Clause
 ${terms}
")
file(COPY_FILE "${CPACK_CRCR_SOURCE_DIR}/packaging/changelog" "${doc}/changelog")
execute_process(COMMAND gzip -9nf "${doc}/changelog" RESULT_VARIABLE gzip_result)
if(NOT gzip_result EQUAL 0)
  message(FATAL_ERROR "deb_layout: gzip failed on the changelog: ${gzip_result}")
endif()
