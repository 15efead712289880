package main

import (
	"math"
	"slices"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// maxNativeScale is the finest scale of a Prometheus native histogram. The
// Prometheus exporter lowers a finer one to it; the live line does the
// same, so that its quantiles are Prometheus's.
const maxNativeScale = 8

// expHist is an exponential histogram of positive values, as the native
// mode (-histogram native) records the durations: at scale s, bucket i
// holds (2^(i·2^-s), 2^((i+1)·2^-s)].
type expHist struct {
	scale  int32
	zero   uint64           // observations of 0
	counts map[int32]uint64 // by bucket index, at scale
}

// newExpHist returns an empty histogram at the finest scale.
func newExpHist() *expHist {
	return &expHist{scale: maxNativeScale, counts: map[int32]uint64{}}
}

// downscale lowers h's scale to s, merging buckets; a higher s changes
// nothing.
func (h *expHist) downscale(s int32) {
	if s >= h.scale {
		return
	}
	shift := h.scale - s
	merged := make(map[int32]uint64, len(h.counts))
	for i, c := range h.counts {
		merged[i>>shift] += c
	}
	h.scale, h.counts = s, merged
}

// addPoint adds an SDK data point, at the coarser of the two scales.
func (h *expHist) addPoint(dp metricdata.ExponentialHistogramDataPoint[float64]) {
	h.add(dp.Scale, dp.ZeroCount, dp.PositiveBucket.Offset, dp.PositiveBucket.Counts, 1)
}

// add adds (sign 1) or subtracts (sign -1, never below zero) counts of
// buckets offset, offset+1, ... at scale.
func (h *expHist) add(scale int32, zero uint64, offset int32, counts []uint64, sign int) {
	shift := int32(0)
	if scale > h.scale {
		shift = scale - h.scale
	} else {
		h.downscale(scale)
	}
	for j, c := range counts {
		i := (offset + int32(j)) >> shift
		if sign > 0 {
			h.counts[i] += c
		} else {
			h.counts[i] -= min(c, h.counts[i])
		}
	}
	if sign > 0 {
		h.zero += zero
	} else {
		h.zero -= min(zero, h.zero)
	}
}

// merge adds o to h.
func (h *expHist) merge(o *expHist) {
	h.add(o.scale, o.zero, 0, nil, 1)
	for i, c := range o.counts {
		h.add(o.scale, 0, i, []uint64{c}, 1)
	}
}

// minus returns h less prev (nil for none), leaving both alone.
func (h *expHist) minus(prev *expHist) *expHist {
	d := newExpHist()
	d.merge(h)
	if prev != nil {
		d.add(prev.scale, prev.zero, 0, nil, -1)
		for i, c := range prev.counts {
			d.add(prev.scale, 0, i, []uint64{c}, -1)
		}
	}
	return d
}

// explicit returns h as explicit buckets, for quantile: the lower bound of
// the lowest bucket (with the observations of 0 below it), then the upper
// bound of every bucket from the lowest to the highest, empty ones
// included, so that each bucket starts where the one below it ends, and
// linear interpolation inside one is Prometheus's histogram_quantile on
// a native histogram.
func (h *expHist) explicit() (bounds []float64, buckets []uint64) {
	var idx []int32
	for i, c := range h.counts {
		if c > 0 {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, nil
	}
	lo, hi := slices.Min(idx), slices.Max(idx)
	bounds = append(bounds, h.bound(lo))
	buckets = append(buckets, h.zero)
	for i := lo; i <= hi; i++ {
		bounds = append(bounds, h.bound(i+1))
		buckets = append(buckets, h.counts[i])
	}
	return bounds, append(buckets, 0) // nothing above the highest bucket
}

// bound returns the lower bound of bucket i, 2^(i·2^-scale), computed as
// Prometheus does: a power of two times a fraction's power of 2^(2^-scale).
func (h *expHist) bound(i int32) float64 {
	if h.scale <= 0 {
		return math.Ldexp(1, int(i)<<-h.scale)
	}
	frac := i & (1<<h.scale - 1)
	return math.Ldexp(math.Exp2(float64(frac)/float64(int32(1)<<h.scale)), int(i>>h.scale))
}
