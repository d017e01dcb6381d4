// Errors are values: every fallible library call returns Result<T> (or Status). Nothing in lib/
// throws across the API, prints, or exits; the CLI maps ErrorCode to a documented exit code.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace modelswarm {

// Categories that callers (and scripts, through exit codes) need to tell apart.
enum class ErrorCode {
  invalid_argument,  // the caller asked for something malformed (usage)
  format,            // an input file is malformed: truncated, overflowing, out of range
  unsupported,       // well-formed, but a feature/type we do not handle
  io,                // the OS refused: open, read, write, rename, disk full
  trust,             // bad signature, untrusted key, rollback, expired release
  content,           // bytes differ from what a signed manifest promises
  network,           // peers, trackers, sockets
  interrupted,       // cancelled by a signal or a callback
  internal,          // a bug in modelswarm
};

const char* error_code_name(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;  // one line; names the file and the problem

  static Error invalid_argument(std::string m) { return {ErrorCode::invalid_argument, std::move(m)}; }
  static Error format(std::string m) { return {ErrorCode::format, std::move(m)}; }
  static Error unsupported(std::string m) { return {ErrorCode::unsupported, std::move(m)}; }
  static Error io(std::string m) { return {ErrorCode::io, std::move(m)}; }
  static Error trust(std::string m) { return {ErrorCode::trust, std::move(m)}; }
  static Error content(std::string m) { return {ErrorCode::content, std::move(m)}; }
  static Error network(std::string m) { return {ErrorCode::network, std::move(m)}; }
  static Error interrupted(std::string m) { return {ErrorCode::interrupted, std::move(m)}; }
  static Error internal(std::string m) { return {ErrorCode::internal, std::move(m)}; }
};

// A value or an Error. Minimal stand-in for std::expected (C++23), which g++ 12 / clang 14
// cannot both compile in C++20 mode.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // REQUIRES: !ok()
  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result of an operation with no value.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}
  static Status success() { return {}; }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { assert(!ok()); return *error_; }

 private:
  std::optional<Error> error_;
};

}  // namespace modelswarm

// Propagate an error from an expression returning Status or Result<T>.
#define MS_TRY(expr)                                   \
  do {                                                 \
    auto&& ms_try_r_ = (expr);                         \
    if (!ms_try_r_.ok()) return ms_try_r_.error();     \
  } while (0)

#define MS_CONCAT_INNER_(a, b) a##b
#define MS_CONCAT_(a, b) MS_CONCAT_INNER_(a, b)
// Declare `lhs` from the value of a Result<T> expression, or return its error.
#define MS_ASSIGN_OR_RETURN(lhs, expr) MS_ASSIGN_OR_RETURN_IMPL_(MS_CONCAT_(ms_r_, __LINE__), lhs, expr)
#define MS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.error();              \
  lhs = std::move(tmp).value()
