// Where a model argument points: a directory, or a Hugging Face repository id in the local
// Hugging Face cache, found offline as huggingface_hub finds it with HF_HUB_OFFLINE=1.
#pragma once

#include <string>

namespace encore {

// `name` itself when it is a directory. Otherwise `ORG/NAME` (or `NAME`), optionally
// `@REVISION` (a branch or tag under refs/, or a commit hash; default main), is looked up in
// the hub cache: $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub; the snapshot directory
// models--ORG--NAME/snapshots/<commit> is returned. When neither exists: an Error that says
// where encore looked and how to get a model directory.
std::string resolve_model_path(const std::string& name);

}  // namespace encore
