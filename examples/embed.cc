// Embeds texts with a sentence-transformers model and prints their cosine similarity.
#include <encore/embedder.h>
#include <encore/error.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 4) return std::fprintf(stderr, "usage: %s MODEL_DIR TEXT TEXT...\n", argv[0]), 2;
  try {
    encore::Embedder embedder = encore::Embedder::load(argv[1]);
    std::vector<std::string> texts(argv + 2, argv + argc);
    std::vector<encore::EmbedResult> out = embedder.embed(texts);  // unit vectors (Normalize module)
    for (size_t i = 1; i < out.size(); ++i) {
      float cosine = 0.0f;
      for (int64_t k = 0; k < embedder.dimensions(); ++k) cosine += out[0].embedding[k] * out[i].embedding[k];
      std::printf("%.4f  %s | %s\n", cosine, texts[0].c_str(), texts[i].c_str());
    }
  } catch (const encore::Error& e) {  // bad input (a model directory, a text): one line naming it
    return std::fprintf(stderr, "%s: %s\n", argv[0], e.what()), 1;
  }
}
