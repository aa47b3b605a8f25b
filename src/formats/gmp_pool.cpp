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
// go to an outbox, handed to `orphans` (for any thread to adopt) each time it holds this many.
// Verification allocates two-limb numbers on worker threads and frees them on the main thread,
// which allocates mostly one-limb ones: without the hand-over those cells would pile up unused
// on the main thread and every batch would take fresh slabs (10^6 tokens: 420 MB).
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
  FreeCell* tail[kClasses] = {};  // last cell of each free list (valid when the list is non-empty)
  std::size_t count[kClasses] = {};  // cells in each free list (at most kKeepCells, or what it adopted)
  FreeCell* out[kClasses] = {};      // the outbox: cells freed while the free list was full
  FreeCell* out_tail[kClasses] = {};
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
struct Orphans {
  FreeCell* free[kClasses] = {};
  FreeCell* tail[kClasses] = {};
  std::vector<std::pair<char*, std::size_t>> rests;
};
Orphans* orphans = new Orphans;
std::atomic<bool> spare[kClasses + 1];  // [kClasses]: a slab rest

// Prepends the list [head, tail] to orphans' free list of class c (the caller holds slabs_mutex).
void give_cells(std::size_t c, FreeCell* head, FreeCell* tail) {
  if (!head) return;
  tail->next = orphans->free[c];
  if (!orphans->free[c]) orphans->tail[c] = tail;
  orphans->free[c] = head;
  spare[c].store(true, std::memory_order_relaxed);
}

// Runs at thread exit: hands the thread's free cells and slab rest to `orphans`.
struct Returner {
  ~Returner() {
    ThreadPool& p = pool;
    std::lock_guard<std::mutex> lock(slabs_mutex);
    for (std::size_t c = 0; c < kClasses; ++c) {
      give_cells(c, p.free[c], p.tail[c]);
      give_cells(c, p.out[c], p.out_tail[c]);
      p.free[c] = p.tail[c] = p.out[c] = p.out_tail[c] = nullptr;
      p.count[c] = p.out_count[c] = 0;
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
    p.free[cls] = p.out[cls];
    p.tail[cls] = p.out_tail[cls];
    p.count[cls] = p.out_count[cls];
    p.out[cls] = p.out_tail[cls] = nullptr;
    p.out_count[cls] = 0;
  }
  if (!p.free[cls] && spare[cls].load(std::memory_order_relaxed)) {  // adopt an ended thread's cells
    (void)&returner;  // this thread hands its cells back when it ends
    std::lock_guard<std::mutex> lock(slabs_mutex);
    p.free[cls] = orphans->free[cls];
    p.tail[cls] = orphans->tail[cls];
    p.count[cls] = kKeepCells;  // at least as many as that, or few: frees go to the outbox a while
    orphans->free[cls] = orphans->tail[cls] = nullptr;
    spare[cls].store(false, std::memory_order_relaxed);
  }
  if (FreeCell* c = p.free[cls]) {
    p.free[cls] = c->next;
    if (!c->next) p.tail[cls] = nullptr, p.count[cls] = 0;
    else if (p.count[cls]) --p.count[cls];
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
    if (!p.free[cls]) p.tail[cls] = c;
    c->next = p.free[cls];
    p.free[cls] = c;
    ++p.count[cls];
    return;
  }
  // More than this thread is likely to reuse soon: share them, kKeepCells at a time.
  if (!p.out[cls]) p.out_tail[cls] = c;
  c->next = p.out[cls];
  p.out[cls] = c;
  if (++p.out_count[cls] == kKeepCells) {
    std::lock_guard<std::mutex> lock(slabs_mutex);
    give_cells(cls, p.out[cls], p.out_tail[cls]);
    p.out[cls] = p.out_tail[cls] = nullptr;
    p.out_count[cls] = 0;
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
