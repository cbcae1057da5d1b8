# Install rules: the library, its headers, a CMake package config exporting
# multiproc::multiproc, and a pkg-config file.
include(CMakePackageConfigHelpers)

install(TARGETS multiproc EXPORT multiprocTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/multiproc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(_mp_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/multiproc)
install(EXPORT multiprocTargets NAMESPACE multiproc:: DESTINATION ${_mp_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/multiprocConfig.cmake.in
  ${PROJECT_BINARY_DIR}/multiprocConfig.cmake INSTALL_DESTINATION ${_mp_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/multiprocConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/multiprocConfig.cmake
  ${PROJECT_BINARY_DIR}/multiprocConfigVersion.cmake DESTINATION ${_mp_cmake_dir})

# The .pc file finds its prefix relative to itself, so an install moved with
# --prefix (or DESTDIR) still works.
file(RELATIVE_PATH MULTIPROC_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
# A static libmultiproc needs its private dependencies on the consumer's link line.
if(BUILD_SHARED_LIBS)
  set(MULTIPROC_PC_STATIC_LIBS "")
else()
  set(MULTIPROC_PC_STATIC_LIBS "-lcrypto")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/multiproc.pc.in ${PROJECT_BINARY_DIR}/multiproc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/multiproc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
