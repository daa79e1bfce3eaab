# Writes OUT, a C++ file holding the browser assets as string constants.
# Run as: cmake -DOUT=... -DJS=... -DCSS=... -P embed_assets.cmake
file(READ "${JS}" js)
file(READ "${CSS}" css)
file(WRITE "${OUT}" "// Generated from web/ at build time; do not edit.\n"
  "namespace chaton::assets {\n"
  "extern const char kChatonJs[] = R\"CHATON_ASSET(${js})CHATON_ASSET\";\n"
  "extern const char kChatonCss[] = R\"CHATON_ASSET(${css})CHATON_ASSET\";\n"
  "}  // namespace chaton::assets\n")
