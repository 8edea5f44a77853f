// encore::Error: the one exception type encore throws for bad input or bad files.
// Its message is a single line that names the file, tensor or argument at fault; the CLI
// prints it and exits non-zero. Internal invariants use ENCORE_CHECK, which throws too, so
// that no bad input can take the process down.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace encore {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// The Error for a named file or directory that does not exist (Python's FileNotFoundError).
class FileNotFound : public Error {
 public:
  using Error::Error;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& first, const Rest&... rest) {
  os << first;
  append(os, rest...);
}
}  // namespace detail

// Builds a message from its parts and throws encore::Error.
template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream os;
  detail::append(os, parts...);
  throw Error(os.str());
}

// Throws encore::FileNotFound when `path` does not exist, with the message built from `parts`.
template <class... Parts>
[[noreturn]] void fail_path(bool exists, const Parts&... parts) {
  std::ostringstream os;
  detail::append(os, parts...);
  if (!exists) throw FileNotFound(os.str());
  throw Error(os.str());
}

}  // namespace encore

#define ENCORE_CHECK(cond, ...)          \
  do {                                   \
    if (!(cond)) ::encore::fail(__VA_ARGS__); \
  } while (0)
