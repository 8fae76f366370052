// NAME
//   error.hpp - a value type for errors a caller must handle
// DESCRIPTION
//   Result<T> holds either a T or an Error with a human message. Used where
//   failure is an ordinary outcome (bad input, Redis down); exceptions stay
//   for start-up and for what cannot happen.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace rampart {

struct Error {
    std::string message;
};

template <typename T> class Result {
  public:
    Result(T value) : d_v(std::move(value)) {}
    Result(Error error) : d_v(std::move(error)) {}

    bool ok() const { return d_v.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(d_v); }
    const T& value() const { return std::get<0>(d_v); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const Error& error() const { return std::get<1>(d_v); }

  private:
    std::variant<T, Error> d_v;
};

} // namespace rampart
