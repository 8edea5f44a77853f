// Reading PyTorch and TensorFlow checkpoints without Python or TensorFlow.
//
// read_torch_checkpoint: a torch.save(state_dict) file (pytorch_model.bin, *.pt), in the
//   zip format (torch >= 1.6) or the legacy pickle format. The pickle runs on a restricted
//   machine that only knows what a state_dict contains; a pickle that asks for anything else
//   (a global that is not a tensor, storage or OrderedDict) is refused, never executed.
// read_tf_checkpoint: a TensorFlow tensor bundle, `prefix.index` + `prefix.data-*-of-*`
//   (bert_model.ckpt, written by tf.train.Saver or tf.train.Checkpoint).
//
// Like read_safetensors, both validate every offset, length, shape and checksum before any
// tensor is touched and throw encore::Error naming the file (and tensor). Tensors view the
// memory-mapped file when their layout allows, else they are copies.
#pragma once

#include <string>

#include "encore/safetensors.h"

namespace encore {

TensorFile read_torch_checkpoint(const std::string& path);

// `prefix` is the checkpoint's name without ".index" (a trailing ".index" is accepted too).
// String tensors (e.g. TF2's object graph) are skipped; every other entry is returned,
// optimizer slots included.
TensorFile read_tf_checkpoint(const std::string& prefix);

}  // namespace encore
