package rewrite

import (
	"errors"
	"strconv"
	"sync"
	"testing"
)

func TestCacheHit(t *testing.T) {
	c := NewCache(Postgres, 0)
	p1, err := c.Plan("SELECT ?")
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := c.Plan("SELECT ?")
	if p1 != p2 || p1.Query() != "SELECT $1" {
		t.Errorf("second Plan = %p %q, want the cached %p", p2, p2.Query(), p1)
	}
	if n := testing.AllocsPerRun(1000, func() { _, _ = c.Plan("SELECT ?") }); n != 0 {
		t.Errorf("a cache hit allocates %v times", n)
	}
}

func TestCacheErrors(t *testing.T) {
	c := NewCache(MySQL, 10)
	_, err1 := c.Plan("SELECT 'x")
	p, err2 := c.Plan("SELECT 'x")
	var re *Error
	if p != nil || !errors.As(err2, &re) || err1 != err2 || re.Offset != 7 {
		t.Errorf("cached error = %v, %v; want the same *Error at offset 7", p, err2)
	}
}

func TestCacheBounded(t *testing.T) {
	for _, size := range []int{1, 5, 100, 1000, 5000} {
		c := NewCache(SQLite, size)
		hot := "SELECT hot"
		for i := range 3 * size {
			if _, err := c.Plan(hot); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Plan("SELECT " + strconv.Itoa(i)); err != nil {
				t.Fatal(err)
			}
		}
		if n := c.count(); n > size {
			t.Errorf("size %d: cache holds %d queries", size, n)
		}
		if size > 1 {
			// A query used between every insertion survives the clock.
			s := &c.shards[0]
			if c.mask != 0 {
				s = nil
			}
			if s != nil {
				s.mu.RLock()
				_, ok := s.m[hot]
				s.mu.RUnlock()
				if !ok {
					t.Errorf("size %d: the hot query was evicted", size)
				}
			}
		}
	}
}

func TestCacheLongQueriesNotKept(t *testing.T) {
	c := NewCache(Postgres, 10)
	long := "SELECT '" + string(make([]byte, maxCachedLen)) + "', ?"
	p, err := c.Plan(long)
	if err != nil || p.NumInput() != 1 {
		t.Fatalf("Plan of a long query: %v", err)
	}
	if c.count() != 0 {
		t.Error("a query longer than maxCachedLen was cached")
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := NewCache(Postgres, 200)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				q := "SELECT ?, " + strconv.Itoa((i*7+g)%500)
				p, err := c.Plan(q)
				if err != nil {
					t.Error(err)
					return
				}
				if want := "SELECT $1, " + strconv.Itoa((i*7+g)%500); p.Query() != want {
					t.Errorf("Plan(%q).Query() = %q, want %q", q, p.Query(), want)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := c.count(); n > 200 {
		t.Errorf("cache holds %d queries, bound is 200", n)
	}
}
