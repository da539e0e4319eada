package rewrite

import (
	"github.com/go-databases/databases/sqlscan"

	"hash/maphash"
	"sync"
	"sync/atomic"
)

// defaultCacheSize is the number of queries a Cache keeps when NewCache is
// given a size <= 0.
const defaultCacheSize = 1024

// maxCachedLen is the longest query a Cache keeps. Longer queries (bulk
// statements with inlined data) are parsed on every call instead of pinning
// their text in memory.
const maxCachedLen = 64 << 10

// Cache is a bounded, concurrency-safe map from query text to its Plan for
// one dialect; parse errors are cached too. A hit is a map lookup under a
// read lock and allocates nothing. When full, a Cache evicts with the CLOCK
// algorithm, an approximation of least-recently-used whose hits need no
// write lock.
type Cache struct {
	dialect Dialect
	mode    sqlscan.Mode
	seed    maphash.Seed
	mask    uint64
	shards  []shard
}

type shard struct {
	mu   sync.RWMutex
	m    map[string]*entry
	ring []*entry // the CLOCK ring, at most size long
	hand int
	size int
	_    [64]byte // keep neighbouring shards' locks off one cache line
}

type entry struct {
	query string
	plan  *Plan
	err   error
	ref   atomic.Bool // used since the clock hand last passed
}

// NewCache returns a Cache for dialect d holding at most size queries; size <= 0
// means 1024.
func NewCache(d Dialect, size int) *Cache {
	if size <= 0 {
		size = defaultCacheSize
	}
	// Shard large caches so that different queries seldom share a lock; each
	// shard keeps at least 64 entries so eviction stays close to LRU.
	n := 1
	for n < 16 && size/(2*n) >= 64 {
		n *= 2
	}
	c := &Cache{dialect: d, seed: maphash.MakeSeed(), mask: uint64(n - 1), shards: make([]shard, n)}
	for i := range c.shards {
		s := &c.shards[i]
		s.size = size / n
		if i < size%n {
			s.size++
		}
		s.m = make(map[string]*entry)
	}
	return c
}

// Plan returns the Plan of query, parsing it on a miss. Errors are *Error.
func (c *Cache) Plan(query string) (*Plan, error) {
	s := &c.shards[0]
	if c.mask != 0 {
		s = &c.shards[maphash.String(c.seed, query)&c.mask]
	}
	s.mu.RLock()
	e := s.m[query]
	s.mu.RUnlock()
	if e != nil {
		if !e.ref.Load() {
			e.ref.Store(true)
		}
		return e.plan, e.err
	}
	p, err := parseMode(c.dialect, c.mode, query)
	if len(query) > maxCachedLen {
		return p, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.m[query]; e != nil {
		return e.plan, e.err // another goroutine parsed it first
	}
	s.insert(&entry{query: query, plan: p, err: err})
	return p, err
}

// insert adds e, evicting the first entry the clock hand finds unused since
// its last pass. The caller holds the write lock. Hits set reference bits
// without the lock, so the sweep is bounded: after two turns of the clock it
// evicts whatever the hand points at.
func (s *shard) insert(e *entry) {
	s.m[e.query] = e
	if len(s.ring) < s.size {
		s.ring = append(s.ring, e)
		return
	}
	for step := 0; ; step++ {
		old := s.ring[s.hand]
		if old.ref.Load() && step < 2*len(s.ring) {
			old.ref.Store(false)
			s.hand = (s.hand + 1) % len(s.ring)
			continue
		}
		delete(s.m, old.query)
		s.ring[s.hand] = e
		s.hand = (s.hand + 1) % len(s.ring)
		return
	}
}

// count returns the number of queries the cache holds.
func (c *Cache) count() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
