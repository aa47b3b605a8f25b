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
// A thread keeps up to this many free cells of one size for itself; cells it frees beyond that
// go to an outbox, handed to `orphans` as one chunk each time it holds this many, and a thread
// that runs out adopts one chunk. Verification allocates two-limb numbers on worker threads and
// frees them on the main thread, which allocates mostly one-limb ones: without the hand-over
// those cells would pile up unused on the main thread and every batch would take fresh slabs; and
// with a whole list adopted at once, one worker would take every spare cell while the other took
// fresh slabs (10^6 tokens: 420 MB of slabs either way).
constexpr std::size_t kKeepCells = 1 << 16;

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
  std::size_t count[kClasses] = {};  // cells in each free list (at most kKeepCells)
  FreeCell* out[kClasses] = {};      // the outbox: cells freed while the free list was full
  std::size_t out_count[kClasses] = {};
  char* next = nullptr;
  std::size_t left = 0;
};
thread_local ThreadPool pool;  // trivially destructible: usable until the thread really ends

// What ended threads left: their free cells and the unused rest of their slab. The evaluators
// start worker threads per layer and per batch; without this, every ended thread would strand
// its free cells and up to a slab, and memory would grow with the number of batches. Leaked on
// purpose (no destructor ordering at exit). Guarded by slabs_mutex; `spare` is a hint read
// without the lock, so the hot path takes no lock.
struct Chunk {
  FreeCell* head;
  std::size_t count;
};
struct Orphans {
  std::vector<Chunk> chunks[kClasses];  // free lists of at most kKeepCells cells each
  std::vector<std::pair<char*, std::size_t>> rests;
};
Orphans* orphans = new Orphans;
std::atomic<bool> spare[kClasses + 1];  // [kClasses]: a slab rest

// Hands the list at `head` (`count` cells of class c) to orphans and empties it (the caller
// holds slabs_mutex).
void give_cells(std::size_t c, FreeCell*& head, std::size_t& count) {
  if (!head) return;
  orphans->chunks[c].push_back({head, count});
  head = nullptr;
  count = 0;
  spare[c].store(true, std::memory_order_relaxed);
}

// Runs at thread exit: hands the thread's free cells and slab rest to `orphans`.
struct Returner {
  ~Returner() {
    ThreadPool& p = pool;
    std::lock_guard<std::mutex> lock(slabs_mutex);
    for (std::size_t c = 0; c < kClasses; ++c) {
      give_cells(c, p.free[c], p.count[c]);
      give_cells(c, p.out[c], p.out_count[c]);
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
  if (!p.free[cls] && p.out[cls]) {  // its own outbox first
    std::swap(p.free[cls], p.out[cls]);
    std::swap(p.count[cls], p.out_count[cls]);
  }
  if (!p.free[cls] && spare[cls].load(std::memory_order_relaxed)) {  // adopt a chunk of shared cells
    (void)&returner;  // this thread hands its cells back when it ends
    std::lock_guard<std::mutex> lock(slabs_mutex);
    auto& chunks = orphans->chunks[cls];
    if (!chunks.empty()) {
      p.free[cls] = chunks.back().head;
      p.count[cls] = chunks.back().count;
      chunks.pop_back();
    }
    spare[cls].store(!chunks.empty(), std::memory_order_relaxed);
  }
  if (FreeCell* c = p.free[cls]) {
    p.free[cls] = c->next;
    --p.count[cls];
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
  if (p.count[cls] < kKeepCells) {
    c->next = p.free[cls];
    p.free[cls] = c;
    ++p.count[cls];
    return;
  }
  // More than this thread is likely to reuse soon: share them, kKeepCells at a time.
  c->next = p.out[cls];
  p.out[cls] = c;
  if (++p.out_count[cls] == kKeepCells) {
    std::lock_guard<std::mutex> lock(slabs_mutex);
    give_cells(cls, p.out[cls], p.out_count[cls]);
  }
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

std::size_t gmp_limb_pool_slabs() {
  std::lock_guard<std::mutex> lock(slabs_mutex);
  return slabs->size();
}

}  // namespace interpcert
