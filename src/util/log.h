// The server's own diagnostics: one small logger for what goes wrong (a
// disk or database failure, a refused accept, a webhook that fails, a
// blacklist that cannot be read). Not the room logs (comet.log, post.log,
// api.log: see log_file.h), and not the command line tools' replies to
// their user, which they print themselves.
//
// Each message becomes one line:
//     2026-11-30T04:38:29.123Z chaton: warning: room x: ...
// the UTC time, "chaton:", the level and the message, whose control
// characters (a newline among them) become spaces, so a message can never
// make or break a line. Lines go to stderr unless set_log_sink() says
// otherwise; messages below the level set by set_log_level() (default
// info) are dropped.
//
// Thread-safety: every function may be called from any thread; each line
// is written whole, lines never interleave.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace chaton {

enum class LogLevel { debug, info, warning, error };

void log_message(LogLevel level, std::string_view message);
inline void log_debug(std::string_view message) { log_message(LogLevel::debug, message); }
inline void log_info(std::string_view message) { log_message(LogLevel::info, message); }
inline void log_warning(std::string_view message) { log_message(LogLevel::warning, message); }
inline void log_error(std::string_view message) { log_message(LogLevel::error, message); }

// Messages below `minimum` are dropped.
void set_log_level(LogLevel minimum);

// Where lines go: a function given each whole line, its newline included.
// An empty function means stderr. Returns the sink that was in place.
using LogSink = std::function<void(std::string_view line)>;
LogSink set_log_sink(LogSink sink);

// The line for a message at a time (see above).
std::string format_log_line(LogLevel level, std::chrono::system_clock::time_point when,
                            std::string_view message);

}  // namespace chaton
