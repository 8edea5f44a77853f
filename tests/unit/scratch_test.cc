// Scratch memory kept across calls (kernels/scratch.h): grows to the largest request, keeps
// its size through ordinary batch-to-batch variation, and gives the memory back after a long
// run of requests that need less than a quarter of it.
#include "kernels/scratch.h"

#include <gtest/gtest.h>

#include "nn/encoder_layer.h"

namespace encore {
namespace {

using kernels::ReusePolicy;

TEST(Scratch, GrowsKeepsThroughVariationAndShrinksAfterALongSmallRun) {
  kernels::ScratchBuffer<float> b;
  b.get(1000);
  EXPECT_EQ(b.capacity(), 1000u);
  b.get(4000);  // grows
  EXPECT_EQ(b.capacity(), 4000u);
  for (int i = 0; i < 10 * ReusePolicy::kShrinkAfter; ++i) b.get(i % 2 ? 1000 : 3000);  // >= 1/4: kept
  EXPECT_EQ(b.capacity(), 4000u);
  for (int i = 0; i < ReusePolicy::kShrinkAfter - 1; ++i) b.get(900);  // < 1/4, not yet long enough
  EXPECT_EQ(b.capacity(), 4000u);
  b.get(2000);  // a larger request in between restarts the count
  for (int i = 0; i < ReusePolicy::kShrinkAfter - 1; ++i) b.get(900);
  EXPECT_EQ(b.capacity(), 4000u);
  b.get(900);  // the kShrinkAfter-th small request in a row
  EXPECT_EQ(b.capacity(), 900u);
}

TEST(Scratch, WorkspaceFollowsThePolicyAndItsShape) {
  nn::Workspace ws;
  ws.reserve(100, 8, 32);
  EXPECT_EQ(ws.inner.numel(), 100 * 32);
  ws.reserve(50, 8, 32);  // smaller: kept
  EXPECT_EQ(ws.qkv.numel(), 100 * 3 * 8);
  ws.reserve(400, 8, 32);
  EXPECT_EQ(ws.attn.numel(), 400 * 8);
  for (int i = 0; i < ReusePolicy::kShrinkAfter; ++i) ws.reserve(10, 8, 32);
  EXPECT_EQ(ws.tmp.numel(), 10 * 8);
  EXPECT_EQ(ws.inner.numel(), 10 * 32);
  ws.reserve(10, 16, 64);  // another model's widths: reallocated at once
  EXPECT_EQ(ws.qkv.numel(), 10 * 3 * 16);
  EXPECT_EQ(ws.inner.numel(), 10 * 64);
}

}  // namespace
}  // namespace encore
