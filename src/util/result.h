// Status and Result<T>: errors as values.
//
// The domain (rooms, store, rendering, config) never throws across its
// public surface; it returns a Status or a Result<T>. The HTTP adapter turns
// an Errc into a status code, and the CLI turns it into a message and an
// exit code.
//
// Both types are [[nodiscard]]: a call that drops one does not compile
// cleanly. Where dropping it is right, the caller says so with ignore() and
// a comment saying why. value() (and * and ->) on a Result that holds an
// error is a broken invariant: it says so on stderr and aborts
// (docs/ARCHITECTURE.md "Crash policy").
//
// Thread-safety: plain values; the usual rules for a value type.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace chaton {

enum class Errc {
  ok = 0,
  invalid,       // the caller's input is wrong (HTTP 400)
  forbidden,     // refused by policy, e.g. a blacklisted address (403)
  not_found,     // no such room, day or file (404)
  too_large,     // over a configured limit (413)
  rate_limited,  // too fast (429)
  io,            // the disk or the OS failed (500/503)
  unavailable,   // cannot be done right now (the disk is full); try again later (503)
  corrupt,       // stored data cannot be read
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Errc code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return {}; }

  bool is_ok() const { return code_ == Errc::ok; }
  explicit operator bool() const { return is_ok(); }
  Errc code() const { return code_; }
  const std::string& message() const { return message_; }

  // For Errc::rate_limited: whole seconds until trying again makes sense.
  Status&& with_retry_after(int seconds) && {
    retry_after_ = seconds;
    return std::move(*this);
  }
  int retry_after() const { return retry_after_; }

  // Drops this outcome on purpose; the caller says why in a comment.
  void ignore() const {}

 private:
  Errc code_ = Errc::ok;
  std::string message_;
  int retry_after_ = 0;
};

namespace detail {
// Says on stderr that value() was called on an error, with the error, and
// aborts. Out of line so the check costs one branch where it is inlined.
[[noreturn]] void value_of_error(const Status& status);
}  // namespace detail

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status error) : status_(std::move(error)) {}  // NOLINT
  Result(Errc code, std::string message) : status_(code, std::move(message)) {}

  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const { return status_; }
  // The value; aborts when this holds an error (check is_ok() first).
  T& value() & { return checked(); }
  const T& value() const& { return checked(); }
  T&& value() && { return std::move(checked()); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &checked(); }
  T& operator*() { return checked(); }
  const T& operator*() const { return checked(); }

  // Drops this outcome on purpose; the caller says why in a comment.
  void ignore() const {}

 private:
  T& checked() {
    if (!value_) detail::value_of_error(status_);
    return *value_;
  }
  const T& checked() const {
    if (!value_) detail::value_of_error(status_);
    return *value_;
  }

  std::optional<T> value_;
  Status status_;
};

}  // namespace chaton
