#include <oneapi/dnnl/dnnl.h>

#include <cstdio>
#include <exception>
#include <iostream>

#include "cli.h"
#include "encore/error.h"

#ifndef ENCORE_VERSION
#error "ENCORE_VERSION (CMake's project version) must be defined"
#endif

namespace encore::cli {

Args::Args(const std::vector<std::string>& argv, const std::vector<std::string>& value_flags,
           const std::vector<std::string>& bool_flags) {
  auto is_in = [](const std::vector<std::string>& v, const std::string& s) {
    for (const auto& x : v) if (x == s) return true;
    return false;
  };
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() > 2 && a.rfind("--", 0) == 0) {
      std::string name = a.substr(2), value;
      size_t eq = name.find('=');
      bool inline_value = eq != std::string::npos;
      if (inline_value) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      if (is_in(value_flags, name)) {
        if (!inline_value) {
          if (i + 1 >= argv.size()) throw UsageError{"--" + name + " needs a value"};
          value = argv[++i];
        }
        values_[name] = value;
      } else if (is_in(bool_flags, name)) {
        if (inline_value) throw UsageError{"--" + name + " takes no value"};
        values_[name] = "1";
      } else {
        throw UsageError{"unknown option --" + name};
      }
    } else {
      positional_.push_back(a);
    }
  }
}

bool Args::has(const std::string& flag) const { return values_.count(flag) != 0; }

std::optional<std::string> Args::get(const std::string& flag) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::get_or(const std::string& flag, const std::string& fallback) const {
  auto v = get(flag);
  return v ? *v : fallback;
}

std::string Args::require(const std::string& flag) const {
  auto v = get(flag);
  if (!v) throw UsageError{"--" + flag + " is required"};
  return *v;
}

int Args::get_int(const std::string& flag, int fallback) const {
  auto v = get(flag);
  if (!v) return fallback;
  try {
    size_t used = 0;
    int n = std::stoi(*v, &used);
    if (used != v->size()) throw std::invalid_argument("trailing");
    return n;
  } catch (const std::exception&) {
    throw UsageError{"--" + flag + " expects an integer, got '" + *v + "'"};
  }
}

static std::map<std::string, Command>& registry() {
  static std::map<std::string, Command> r;
  return r;
}
bool register_command(const Command& command) {
  registry()[command.name] = command;
  return true;
}
const std::map<std::string, Command>& commands() { return registry(); }

}  // namespace encore::cli

static void print_overview() {
  std::printf(
      "encore: BERT-family and PyTorch Transformer encoders, faithful and fast\n\n"
      "usage: encore <command> [options]   (encore <command> --help for details)\n"
      "       encore --version\n\n");
  for (const auto& [name, cmd] : encore::cli::commands())
    std::printf("  %-12s %s\n", name.c_str(), cmd.summary.c_str());
}

// The oneDNN line is the library loaded at run time, which is what decides the kernels.
static void print_version() {
  const dnnl_version_t* dnnl = dnnl_version();
  std::printf("encore %s\noneDNN %d.%d.%d\n", ENCORE_VERSION, dnnl->major, dnnl->minor, dnnl->patch);
}

int main(int argc, char** argv) {
  using namespace encore::cli;
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    print_overview();
    return argc < 2 ? 2 : 0;
  }
  if (std::string(argv[1]) == "--version" || std::string(argv[1]) == "-V") {
    print_version();
    return 0;
  }
  auto it = commands().find(argv[1]);
  if (it == commands().end()) {
    std::fprintf(stderr, "encore: unknown command '%s'\nsee 'encore --help'\n", argv[1]);
    return 2;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::printf("%s\n", it->second.usage.c_str());
      return 0;
    }
  }
  try {
    return it->second.run(args);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "encore %s: %s\nsee 'encore %s --help'\n", argv[1], e.message.c_str(), argv[1]);
    return 2;
  } catch (const encore::Error& e) {
    std::fprintf(stderr, "encore %s: error: %s\n", argv[1], e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "encore %s: error: out of memory\n", argv[1]);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "encore %s: error: %s\n", argv[1], e.what());
    return 1;
  }
}
