# `make package` (cpack -G DEB): a Debian package of what `cmake --install`
# installs — the static library, the headers, the CMake package config and
# the pkg-config file — under /usr, with the Debian packages a program that
# builds against it needs declared as dependencies (tests/package/ checks it).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME libmultiproc-dev)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "multiproc developers <multiproc@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
# A static library: what its users link against and include, not a shared
# object's run-time dependencies (so no dpkg-shlibdeps).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcereal-dev, libssl-dev, libc6-dev")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "pkg-config, cmake (>= 3.25)")
include(CPack)
