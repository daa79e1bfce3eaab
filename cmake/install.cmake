# Installing Chaton (docs/DEPLOY.md, "Installing and running as a service"):
#
#   cmake --install build --strip [--prefix /usr]   # the files below
#   cd build && cpack -G DEB                        # chaton_<version>_<arch>.deb
#
# installs
#   <prefix>/bin/chaton                       the server (stripped with --strip)
#   <prefix>/share/man/man1/chaton.1          its manual (docs/chaton.1)
#   <etc>/chaton/chaton.toml                  the example configuration
#   <prefix>/lib/systemd/system/chaton.{service,socket}
# where <etc> is /etc when the prefix is /usr (as for the Debian package), else
# <prefix>/etc. The service's ExecStart names <prefix>/bin/chaton and
# <etc>/chaton/chaton.toml: it is written at install time, for the prefix
# then in force (CPack installs with prefix /usr).
include(GNUInstallDirs)

# `install` and `cpack` install what is built and build nothing more (the
# tests are not needed to install the server).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(TARGETS chaton RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/docs/chaton.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

set(CHATON_PACKAGING_DIR ${CMAKE_SOURCE_DIR}/packaging)
install(CODE "set(CHATON_PACKAGING_DIR \"${CHATON_PACKAGING_DIR}\")
set(CHATON_INSTALL_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
set(CHATON_UNIT_DIR \"${CMAKE_BINARY_DIR}/systemd\")")
install(CODE [[
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(CHATON_SYSCONFDIR "/etc")
  else()
    set(CHATON_SYSCONFDIR "${CMAKE_INSTALL_PREFIX}/etc")
  endif()
  set(CHATON_BINDIR "${CMAKE_INSTALL_PREFIX}/${CHATON_INSTALL_BINDIR}")
  set(unit_dir "${CHATON_UNIT_DIR}")  # the units as installed: for this prefix
  configure_file("${CHATON_PACKAGING_DIR}/chaton.service.in" "${unit_dir}/chaton.service" @ONLY)
  configure_file("${CHATON_PACKAGING_DIR}/chaton.socket" "${unit_dir}/chaton.socket" COPYONLY)
  file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE
       FILES "${unit_dir}/chaton.service" "${unit_dir}/chaton.socket")
  file(INSTALL DESTINATION "${CHATON_SYSCONFDIR}/chaton" TYPE FILE
       FILES "${CHATON_PACKAGING_DIR}/chaton.toml")
]])

# The Debian package: `cpack -G DEB` in the build directory.
set(CPACK_PACKAGE_NAME chaton)
set(CPACK_PACKAGE_VENDOR "Chaton")
set(CPACK_PACKAGE_CONTACT "Chaton maintainers <chaton@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "lightweight web chat server with live rooms and daily archives")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "Chaton serves chat rooms to browsers and bots over long-poll, Server-Sent Events and WebSocket, "
       "keeps every post in daily archives in a plain text format, and speaks the original Chaton protocol. "
       "The package runs it as the systemd service chaton.service, configured in /etc/chaton/chaton.toml.")
# Installed with DESTDIR and the prefix /usr, so that the units name
# /usr/bin/chaton and /etc/chaton/chaton.toml.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The libraries' packages come from dpkg-shlibdeps (dpkg-dev); adduser makes
# the system user in postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CHATON_PACKAGING_DIR}/debian/postinst ${CHATON_PACKAGING_DIR}/debian/prerm
    ${CHATON_PACKAGING_DIR}/debian/postrm ${CHATON_PACKAGING_DIR}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
