// Reading a JSON file with errors that name it.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

namespace encore {

nlohmann::json read_json(const std::filesystem::path& path);

}  // namespace encore
