#include "models/json_file.h"

#include <fstream>

#include "encore/error.h"

namespace encore {

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream f(path);
  if (!f.good()) fail_path(std::filesystem::exists(path), path.string(), ": cannot open");
  try {
    return nlohmann::json::parse(f);
  } catch (const std::exception& e) {
    fail(path.string(), ": invalid JSON: ", e.what());
  }
}

}  // namespace encore
