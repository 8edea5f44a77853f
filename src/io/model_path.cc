// huggingface_hub's cache layout (file_download.py, constants.py): a repository lives in
// <cache>/models--<org>--<name>/, refs/<branch or tag> holds a commit hash, and
// snapshots/<commit>/ holds that commit's files.
#include "encore/model_path.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "encore/error.h"

namespace encore {

namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

fs::path hub_cache() {
  if (std::string v = env("HF_HUB_CACHE"); !v.empty()) return v;
  if (std::string v = env("HUGGINGFACE_HUB_CACHE"); !v.empty()) return v;
  if (std::string v = env("HF_HOME"); !v.empty()) return fs::path(v) / "hub";
  if (std::string v = env("XDG_CACHE_HOME"); !v.empty()) return fs::path(v) / "huggingface" / "hub";
  return fs::path(env("HOME")) / ".cache" / "huggingface" / "hub";
}

// A repository id as the hub accepts it: one or two names of letters, digits, '-', '_', '.'.
bool is_repo_id(const std::string& id) {
  size_t slashes = 0;
  if (id.empty() || id.front() == '/' || id.back() == '/' || id.find("..") != std::string::npos ||
      id.find("--") != std::string::npos)
    return false;
  for (char ch : id) {
    if (ch == '/')
      ++slashes;
    else if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.'))
      return false;
  }
  return slashes <= 1;
}

bool is_commit_hash(const std::string& s) {
  if (s.size() != 40) return false;
  for (char ch : s)
    if (!std::isxdigit(static_cast<unsigned char>(ch)) || std::isupper(static_cast<unsigned char>(ch))) return false;
  return true;
}

}  // namespace

std::string resolve_model_path(const std::string& name) {
  if (fs::is_directory(name)) return name;
  std::string id = name, revision = "main";
  if (size_t at = name.find('@'); at != std::string::npos) id = name.substr(0, at), revision = name.substr(at + 1);
  if (!is_repo_id(id) || revision.empty() || revision.find("..") != std::string::npos || fs::exists(name))
    fail_path(fs::exists(name), name, ": not a directory");
  std::string folder = "models--" + id;
  for (size_t p = folder.find('/'); p != std::string::npos; p = folder.find('/')) folder.replace(p, 1, "--");
  const fs::path repo = hub_cache() / folder;
  std::string commit = revision;
  if (!is_commit_hash(revision)) {
    std::ifstream ref(repo / "refs" / revision);
    commit.clear();
    if (ref) std::getline(ref, commit);
  }
  const fs::path snapshot = repo / "snapshots" / commit;
  if (!commit.empty() && fs::is_directory(snapshot)) return snapshot.string();
  fail_path(false, name, ": not a directory, and not in the Hugging Face cache (looked for ", (repo / "refs" / revision).string(),
       " and its snapshot; set HF_HUB_CACHE or HF_HOME for another cache, or give a model directory, e.g. from ",
       "`hf download ", id, " --local-dir DIR` on a machine with network access)");
}

}  // namespace encore
