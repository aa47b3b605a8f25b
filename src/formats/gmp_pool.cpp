#include "interpcert/gmp_pool.hpp"

#include <gmp.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <tuple>
#include <utility>
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
  FreeCell* tail[kClasses] = {};  // last cell of each free list (valid when the list is non-empty)
  char* next = nullptr;
  std::size_t left = 0;
};
thread_local ThreadPool pool;  // trivially destructible: usable until the thread really ends

// What ended threads left: their free cells and the unused rest of their slab. The evaluators
// start worker threads per layer and per batch; without this, every ended thread would strand
// its free cells and up to a slab, and memory would grow with the number of batches. Leaked on
// purpose (no destructor ordering at exit). Guarded by slabs_mutex; `spare` is a hint read
// without the lock, so the hot path takes no lock.
struct Orphans {
  FreeCell* free[kClasses] = {};
  FreeCell* tail[kClasses] = {};
  std::vector<std::pair<char*, std::size_t>> rests;
};
Orphans* orphans = new Orphans;
std::atomic<bool> spare[kClasses + 1];  // [kClasses]: a slab rest

// Runs at thread exit: hands the thread's free cells and slab rest to `orphans`.
struct Returner {
  ~Returner() {
    ThreadPool& p = pool;
    std::lock_guard<std::mutex> lock(slabs_mutex);
    for (std::size_t c = 0; c < kClasses; ++c) {
      if (!p.free[c]) continue;
      p.tail[c]->next = orphans->free[c];
      if (!orphans->free[c]) orphans->tail[c] = p.tail[c];
      orphans->free[c] = p.free[c];
      p.free[c] = p.tail[c] = nullptr;
      spare[c].store(true, std::memory_order_relaxed);
    }
    if (p.left >= kLimb) {
      orphans->rests.emplace_back(p.next, p.left);
      spare[kClasses].store(true, std::memory_order_relaxed);
    }
    p.next = nullptr;
    p.left = 0;
  }
};
thread_local Returner returner;

// As GMP's own allocator does: no exception may unwind through GMP's C frames.
[[noreturn]] void out_of_memory() {
  std::fputs("GNU MP: Cannot allocate memory\n", stderr);
  std::abort();
}

inline bool pooled(std::size_t size) { return size != 0 && size % kLimb == 0 && size <= kClasses * kLimb; }

void* cell_alloc(std::size_t size) {
  ThreadPool& p = pool;
  const std::size_t cls = size / kLimb - 1;
  if (!p.free[cls] && spare[cls].load(std::memory_order_relaxed)) {  // adopt an ended thread's cells
    (void)&returner;  // this thread hands its cells back when it ends
    std::lock_guard<std::mutex> lock(slabs_mutex);
    p.free[cls] = orphans->free[cls];
    p.tail[cls] = orphans->tail[cls];
    orphans->free[cls] = orphans->tail[cls] = nullptr;
    spare[cls].store(false, std::memory_order_relaxed);
  }
  if (FreeCell* c = p.free[cls]) {
    p.free[cls] = c->next;
    if (!c->next) p.tail[cls] = nullptr;
    return c;
  }
  if (p.left < size) {  // the slab's tail (< 4 limbs) is left unused
    (void)&returner;
    std::lock_guard<std::mutex> lock(slabs_mutex);
    if (!orphans->rests.empty()) {
      std::tie(p.next, p.left) = orphans->rests.back();
      orphans->rests.pop_back();
      spare[kClasses].store(!orphans->rests.empty(), std::memory_order_relaxed);
    }
    if (p.left < size) {
      void* slab = std::malloc(kSlab);
      if (!slab) out_of_memory();
      slabs->push_back(slab);
      p.next = static_cast<char*>(slab);
      p.left = kSlab;
    }
  }
  void* c = p.next;
  p.next += size;
  p.left -= size;
  return c;
}

void cell_free(void* ptr, std::size_t size) {
  auto* c = static_cast<FreeCell*>(ptr);
  ThreadPool& p = pool;
  const std::size_t cls = size / kLimb - 1;
  (void)&returner;
  if (!p.free[cls]) p.tail[cls] = c;
  c->next = p.free[cls];
  p.free[cls] = c;
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
