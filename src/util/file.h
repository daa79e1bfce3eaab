// read_file: a whole file as text, the one way the server reads a file
// (the configuration, import-conf, TLS certificates, the blacklist,
// .htpasswd and the store's data files).
//
// Errors are values: Errc::not_found when there is no such file (ENOENT,
// a dangling symbolic link included), Errc::too_large past
// ReadOptions::max_bytes, Errc::io for any other failure. The message names
// the path and the system's reason ("cannot open PATH: REASON",
// "cannot read PATH: REASON", "PATH: larger than N bytes").
//
// Thread-safety: a free function, safe from any thread.
#pragma once

#include <cstddef>
#include <filesystem>
#include <limits>
#include <string>

#include "util/result.h"

namespace chaton {

struct ReadOptions {
  // More than this many bytes: Errc::too_large (reading stops there).
  size_t max_bytes = std::numeric_limits<size_t>::max();
  // Opened with O_NONBLOCK, so a FIFO or device put in the file's place
  // never makes the call wait (a regular file reads the same either way).
  bool no_wait = false;
};

Result<std::string> read_file(const std::filesystem::path& path, ReadOptions options = {});

}  // namespace chaton
