// The encore command line: subcommands register themselves (one file each) and share a
// tiny argument parser. Exit codes: 0 ok, 1 bad input (encore::Error), 2 usage.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace encore::cli {

// Parsed "--name value", "--name=value" and bare "--flag" arguments plus positionals.
// Each subcommand declares which flags take a value; unknown flags are usage errors.
class Args {
 public:
  Args(const std::vector<std::string>& argv, const std::vector<std::string>& value_flags,
       const std::vector<std::string>& bool_flags);

  bool has(const std::string& flag) const;
  std::optional<std::string> get(const std::string& flag) const;
  std::string get_or(const std::string& flag, const std::string& fallback) const;
  std::string require(const std::string& flag) const;  // usage error when absent
  int get_int(const std::string& flag, int fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// Thrown for command-line misuse; main() prints it and points to the subcommand's --help, exit 2.
struct UsageError {
  std::string message;
};

struct Command {
  std::string name;
  std::string summary;
  std::string usage;  // full --help text, with an example
  int (*run)(const std::vector<std::string>& args);
};

bool register_command(const Command& command);
const std::map<std::string, Command>& commands();

}  // namespace encore::cli
