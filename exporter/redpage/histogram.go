package redpage

import (
	"math"
	"slices"
)

// hist holds the bucket counts of a duration histogram, cumulative or over
// an interval: either explicit buckets (bounds and counts) or the positive
// buckets of an exponential histogram (scale, zero count, offset and
// counts). The zero value is an empty histogram of either kind.
type hist struct {
	exp bool

	// Explicit: the upper bounds, in seconds; counts has one more entry,
	// for the +Inf bucket.
	bounds []float64

	// Exponential: bucket i covers (base^(offset+i), base^(offset+i+1)],
	// base = 2^(2^-scale); zero counts the values at or near zero.
	scale  int32
	zero   uint64
	offset int32

	// counts are per bucket, not cumulative.
	counts []uint64
}

// empty reports whether h has no buckets yet.
func (h *hist) empty() bool { return h.counts == nil && h.zero == 0 }

// explicitHist returns a copy of an explicit-bucket data point's buckets.
func explicitHist(bounds []float64, counts []uint64) hist {
	if len(counts) != len(bounds)+1 {
		return hist{}
	}
	return hist{bounds: slices.Clone(bounds), counts: slices.Clone(counts)}
}

// exponentialHist returns a copy of an exponential data point's positive
// buckets. Durations are never negative, so negative buckets are left out.
func exponentialHist(scale int32, zero uint64, offset int32, counts []uint64) hist {
	return hist{exp: true, scale: scale, zero: zero, offset: offset, counts: slices.Clone(counts)}
}

// add adds o's buckets to h. Buckets of another kind, or explicit buckets
// with other bounds than h's (a view changed while running), are left out;
// the requests they count are still counted by their series.
func (h *hist) add(o hist) {
	switch {
	case o.empty():
	case h.empty() && !h.exp && h.bounds == nil:
		*h = o.clone()
	case h.exp != o.exp:
	case !h.exp:
		if !slices.Equal(h.bounds, o.bounds) || len(h.counts) != len(o.counts) {
			return
		}
		for i, c := range o.counts {
			h.counts[i] += c
		}
	default:
		*h = combine(*h, o, func(a, b uint64) uint64 { return a + b })
	}
}

// sub returns the buckets of h minus those of an earlier prev of the same
// series: what was observed in between. A bucket that went down (the
// series restarted) counts from zero, as Prometheus's rate does.
func (h hist) sub(prev hist) hist {
	minus := func(a, b uint64) uint64 {
		if b > a {
			return a
		}
		return a - b
	}
	switch {
	case prev.empty() || h.exp != prev.exp:
		return h.clone()
	case !h.exp:
		if !slices.Equal(h.bounds, prev.bounds) || len(h.counts) != len(prev.counts) {
			return h.clone()
		}
		d := h.clone()
		for i := range d.counts {
			d.counts[i] = minus(h.counts[i], prev.counts[i])
		}
		return d
	default:
		return combine(h, prev, minus)
	}
}

func (h hist) clone() hist {
	h.bounds = slices.Clone(h.bounds)
	h.counts = slices.Clone(h.counts)
	return h
}

// combine joins two exponential histograms bucket by bucket with f, at the
// coarser of their two scales.
func combine(a, b hist, f func(a, b uint64) uint64) hist {
	scale := min(a.scale, b.scale)
	a, b = a.downscale(scale), b.downscale(scale)
	lo, hi := a.offset, a.offset+int32(len(a.counts))
	if len(a.counts) == 0 {
		lo, hi = b.offset, b.offset+int32(len(b.counts))
	}
	if len(b.counts) > 0 {
		lo, hi = min(lo, b.offset), max(hi, b.offset+int32(len(b.counts)))
	}
	at := func(h hist, i int32) uint64 {
		if i < h.offset || i >= h.offset+int32(len(h.counts)) {
			return 0
		}
		return h.counts[i-h.offset]
	}
	out := hist{exp: true, scale: scale, zero: f(a.zero, b.zero), offset: lo, counts: make([]uint64, hi-lo)}
	for i := lo; i < hi; i++ {
		out.counts[i-lo] = f(at(a, i), at(b, i))
	}
	return out
}

// downscale merges h's buckets down to a coarser scale: bucket i becomes
// bucket i >> (h.scale - scale), as the SDK does when the range grows.
func (h hist) downscale(scale int32) hist {
	if scale >= h.scale || len(h.counts) == 0 {
		h.scale = min(h.scale, scale)
		return h
	}
	shift := h.scale - scale
	last := h.offset + int32(len(h.counts)) - 1
	out := hist{exp: true, scale: scale, zero: h.zero, offset: h.offset >> shift}
	out.counts = make([]uint64, last>>shift-out.offset+1)
	for i, c := range h.counts {
		out.counts[(h.offset+int32(i))>>shift-out.offset] += c
	}
	return out
}

// quantile estimates the q-quantile (0 <= q <= 1), in seconds, as
// Prometheus's histogram_quantile does: it finds the bucket that holds the
// rank q*count and interpolates linearly inside it.
//
// Explicit buckets: the first bucket starts at 0, and a rank in the +Inf
// bucket gives the highest finite bound. Exponential buckets: a rank in the
// zero bucket gives 0. With no observations the result is NaN.
func (h hist) quantile(q float64) float64 {
	if q < 0 || q > 1 || math.IsNaN(q) {
		return math.NaN()
	}
	if h.exp {
		return h.expQuantile(q)
	}
	if len(h.bounds) == 0 || len(h.counts) != len(h.bounds)+1 {
		return math.NaN()
	}
	var n uint64
	for _, c := range h.counts {
		n += c
	}
	if n == 0 {
		return math.NaN()
	}
	rank := q * float64(n)
	var below float64
	for i, upper := range h.bounds {
		c := float64(h.counts[i])
		if below+c >= rank && c > 0 {
			lower := 0.0
			if i > 0 {
				lower = h.bounds[i-1]
			} else if upper <= 0 {
				return upper
			}
			return lower + (upper-lower)*((rank-below)/c)
		}
		below += c
	}
	return h.bounds[len(h.bounds)-1]
}

func (h hist) expQuantile(q float64) float64 {
	n := h.zero
	for _, c := range h.counts {
		n += c
	}
	if n == 0 {
		return math.NaN()
	}
	rank := q * float64(n)
	below := float64(h.zero)
	if rank <= below {
		return 0
	}
	step := math.Exp2(-float64(h.scale)) // log2 of the base
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		cf := float64(c)
		if below+cf >= rank {
			idx := float64(h.offset + int32(i))
			lower, upper := math.Exp2(idx*step), math.Exp2((idx+1)*step)
			return lower + (upper-lower)*((rank-below)/cf)
		}
		below += cf
	}
	last := float64(h.offset + int32(len(h.counts)))
	return math.Exp2(last * step)
}
