#include "core/buffer.h"

#include <gtest/gtest.h>

#include <string>

namespace ballast::core {
namespace {

TEST(BufferTest, TakesNoMemoryUntilUsedAndReturnsItToThePool) {
  BufferPool pool;
  {
    Buffer b(&pool);
    EXPECT_FALSE(b.has_memory());
    b.append("hello");
    EXPECT_TRUE(b.has_memory());
    EXPECT_EQ(b.view(), "hello");
    b.consume(5);
    b.release();
    EXPECT_FALSE(b.has_memory());
  }
  EXPECT_EQ(pool.free_blocks(), 1u);
  Buffer again(&pool);
  again.append("x");
  EXPECT_EQ(pool.free_blocks(), 0u) << "the freed block is reused, not a new one allocated";
}

TEST(BufferTest, ConsumeAndCompactKeepUnreadBytes) {
  BufferPool pool;
  Buffer b(&pool);
  std::string big(BufferPool::kBlockSize - 10, 'a');
  b.append(big);
  b.consume(big.size() - 3);
  b.append("0123456789ABCDEF");  // needs compaction to fit without growing
  EXPECT_EQ(b.view(), "aaa0123456789ABCDEF");
  EXPECT_EQ(b.capacity(), BufferPool::kBlockSize);
}

TEST(BufferTest, GrowsPastTheBlockSizeWhenAsked) {
  BufferPool pool;
  Buffer b(&pool);
  std::string big(3 * BufferPool::kBlockSize, 'z');
  b.append(big);
  EXPECT_EQ(b.size(), big.size());
  EXPECT_EQ(b.view(), big);
  b.consume(b.size());
  b.release();
  EXPECT_EQ(pool.free_blocks(), 0u) << "oversized memory does not pollute the block pool";
}

TEST(BufferTest, AppendingNothingTakesNoMemory) {
  BufferPool pool;
  Buffer b(&pool);
  b.append(std::string_view());
  EXPECT_FALSE(b.has_memory());
  EXPECT_TRUE(b.empty());
}

TEST(BufferTest, AppendsNumbers) {
  BufferPool pool;
  Buffer b(&pool);
  b.append_decimal(0);
  b.append_char(' ');
  b.append_decimal(18446744073709551615ull);
  b.append_char(' ');
  b.append_hex(0);
  b.append_char(' ');
  b.append_hex(0x1f4a);
  EXPECT_EQ(b.view(), "0 18446744073709551615 0 1f4a");
}

TEST(BufferPoolTest, KeepsAtMostItsLimitOfFreeBlocks) {
  BufferPool pool(2);
  auto a = pool.acquire();
  auto b = pool.acquire();
  auto c = pool.acquire();
  pool.release(std::move(a));
  pool.release(std::move(b));
  pool.release(std::move(c));
  EXPECT_EQ(pool.free_blocks(), 2u);
}

}  // namespace
}  // namespace ballast::core
