// The Batcher's backend for a TextClassifier: one ragged Model::encode per batch, then the
// classifier's own head per sequence (TextClassifier::logits), so that a served score
// equals `encore classify`'s. The score function is applied per request when answering.
#pragma once

#include "encore/classifier.h"
#include "serve/batcher.h"

namespace encore::serve {

class ClassifierBackend : public Backend {
 public:
  ClassifierBackend(const TextClassifier& classifier, int threads) : classifier_(classifier), threads_(threads) {}
  void run(const BackendBatch& batch, std::vector<SequenceResult>& out) override;

 private:
  const TextClassifier& classifier_;
  int threads_;
};

}  // namespace encore::serve
