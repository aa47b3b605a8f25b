#include "interpcert/gmp_pool.hpp"

#include <gmp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace interpcert {
namespace {

constexpr std::size_t kLimb = sizeof(mp_limb_t);
// Blocks of 1 to kClasses limbs come from the pool (one free list per size); larger ones from
// malloc. Exact verification grows one-limb numbers to two or three limbs all the time.
constexpr std::size_t kClasses = 4;
constexpr std::size_t kSlab = 1 << 20;

struct FreeCell {
  FreeCell* next;
};
static_assert(sizeof(FreeCell) <= kLimb);

// Slabs are listed globally so they stay reachable (leak checkers) after their thread ends.
std::mutex slabs_mutex;
std::vector<void*>* slabs = new std::vector<void*>;

// Each thread has its own free lists and slab: no locks on the hot path. A cell freed by another
// thread than the one that allocated it joins the freeing thread's list, which is fine.
struct ThreadPool {
  FreeCell* free[kClasses] = {};
  char* next = nullptr;
  std::size_t left = 0;
};
thread_local ThreadPool pool;

// As GMP's own allocator does: no exception may unwind through GMP's C frames.
[[noreturn]] void out_of_memory() {
  std::fputs("GNU MP: Cannot allocate memory\n", stderr);
  std::abort();
}

inline bool pooled(std::size_t size) { return size != 0 && size % kLimb == 0 && size <= kClasses * kLimb; }

void* cell_alloc(std::size_t size) {
  ThreadPool& p = pool;
  FreeCell*& head = p.free[size / kLimb - 1];
  if (head) {
    FreeCell* c = head;
    head = c->next;
    return c;
  }
  if (p.left < size) {  // the slab's tail (< 4 limbs) is left unused
    void* slab = std::malloc(kSlab);
    if (!slab) out_of_memory();
    {
      std::lock_guard<std::mutex> lock(slabs_mutex);
      slabs->push_back(slab);
    }
    p.next = static_cast<char*>(slab);
    p.left = kSlab;
  }
  void* c = p.next;
  p.next += size;
  p.left -= size;
  return c;
}

void cell_free(void* ptr, std::size_t size) {
  auto* c = static_cast<FreeCell*>(ptr);
  FreeCell*& head = pool.free[size / kLimb - 1];
  c->next = head;
  head = c;
}

void* pool_alloc(std::size_t size) {
  if (pooled(size)) return cell_alloc(size);
  void* p = std::malloc(size);
  if (!p) out_of_memory();
  return p;
}

void pool_free(void* ptr, std::size_t size) {
  if (!ptr) return;
  if (pooled(size)) cell_free(ptr, size);
  else std::free(ptr);
}

void* pool_realloc(void* ptr, std::size_t old_size, std::size_t new_size) {
  if (!pooled(old_size) && !pooled(new_size)) {
    void* p = std::realloc(ptr, new_size);
    if (!p) out_of_memory();
    return p;
  }
  if (old_size == new_size) return ptr;
  void* p = pool_alloc(new_size);
  std::memcpy(p, ptr, old_size < new_size ? old_size : new_size);
  pool_free(ptr, old_size);
  return p;
}

}  // namespace

void install_gmp_limb_pool() { mp_set_memory_functions(pool_alloc, pool_realloc, pool_free); }

}  // namespace interpcert
