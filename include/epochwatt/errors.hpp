// Exceptions thrown by the C++ API. The library never calls exit(), abort() or
// std::terminate(); errors surface as these exceptions on the caller's thread, or, with
// ignore_errors, as a logged warning.
#pragma once

#include <stdexcept>
#include <string>

namespace epochwatt {

// A base for every error epochwatt throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An option that is invalid or inconsistent; the message says which and why.
// Thrown by the Tracker constructor (carbontracker raises ValueError in the same cases).
class OptionsError : public Error {
 public:
  using Error::Error;
};

// An API call made out of order, e.g. epoch_end() without epoch_start().
class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace epochwatt
