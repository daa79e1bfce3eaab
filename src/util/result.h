// Status and Result<T>: errors as values.
//
// The domain (rooms, store, rendering, config) never throws across its
// public surface; it returns a Status or a Result<T>. The HTTP adapter turns
// an Errc into a status code, and the CLI turns it into a message and an
// exit code.
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

class Status {
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

 private:
  Errc code_ = Errc::ok;
  std::string message_;
  int retry_after_ = 0;
};

template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status error) : status_(std::move(error)) {}  // NOLINT
  Result(Errc code, std::string message) : status_(code, std::move(message)) {}

  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace chaton
