package insights

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// histogram counts latencies in fixed log-linear buckets: below 1.024 µs
// one bucket, then each power of two of nanoseconds split into 8 equal
// buckets up to 2^36 ns (68.7 s), and one bucket for anything longer. A
// quantile is read as the middle of its bucket, within 1/16 (6.25 %) of the
// true value.
//
// Why not a library: the fitting ones are DDSketch (DataDog/sketches-go)
// and HdrHistogram. Neither may be written from two goroutines at once, so
// every call would take a lock; DDSketch grows and allocates as values
// spread, and HdrHistogram at 3 significant digits takes about 150 KB per
// histogram, for each of up to MaxQueries queries. Here recording is one
// atomic add on a fixed array of 1.7 KB allocated with the query, and the
// same buckets draw the latency histogram of the page.
type histogram struct {
	counts [numBuckets]atomic.Uint64
}

const (
	subBits     = 3 // 8 buckets per power of two
	subBuckets  = 1 << subBits
	minExp      = 10 // the first power of two split: 1024 ns
	maxExp      = 36 // the last: 2^36 ns
	numBuckets  = 1 + (maxExp-minExp+1)*subBuckets + 1
	underflowNs = 1 << minExp
)

// bucketOf returns the bucket of a latency of ns nanoseconds.
func bucketOf(ns int64) int {
	if ns < underflowNs {
		return 0
	}
	e := bits.Len64(uint64(ns)) - 1
	if e > maxExp {
		return numBuckets - 1
	}
	sub := int(uint64(ns)>>(e-subBits)) & (subBuckets - 1)
	return 1 + (e-minExp)*subBuckets + sub
}

// bucketBounds returns the range [lo, hi) of bucket i in nanoseconds; the
// last bucket's hi is its lo doubled, for drawing.
func bucketBounds(i int) (lo, hi int64) {
	switch {
	case i <= 0:
		return 0, underflowNs
	case i >= numBuckets-1:
		lo = 1 << (maxExp + 1)
		return lo, 2 * lo
	}
	i--
	e, sub := minExp+i/subBuckets, int64(i%subBuckets)
	width := int64(1) << (e - subBits)
	lo = int64(1)<<e + sub*width
	return lo, lo + width
}

func (h *histogram) record(d time.Duration) { h.counts[bucketOf(int64(d))].Add(1) }

// snapshot copies the counts.
func (h *histogram) snapshot() []uint64 {
	out := make([]uint64, numBuckets)
	for i := range h.counts {
		out[i] = h.counts[i].Load()
	}
	return out
}

// quantile returns the q-quantile (0 < q <= 1) of counts: the middle of
// the bucket that holds the value of that rank, no more than longest (the
// longest latency seen, which makes a constant latency exact at the top).
func quantile(counts []uint64, q float64, longest time.Duration) time.Duration {
	var total uint64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.5)
	rank = min(max(rank, 1), total)
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketBounds(i)
			mid := time.Duration(lo + (hi-lo)/2)
			if longest > 0 && mid > longest {
				return longest
			}
			return mid
		}
	}
	return longest
}
