package redpage

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/otelred"
)

// The page's timing. The numbers of the table cover the last Window; the
// chart keeps HistoryLen points, one per collection.
const (
	// Interval is the shortest time between two collections: requests for
	// the feed that come sooner get the last one again.
	Interval = time.Second
	// Window is the span the table's rates, ratios and quantiles cover.
	Window = 10 * time.Second
	// HistoryLen is the number of chart points kept per section: five
	// minutes at one collection a second.
	HistoryLen = 300
)

// Collector is what the page reads the instruments from: an
// sdkmetric.Reader of the MeterProvider otelred records to, such as an
// sdkmetric.ManualReader or the Prometheus exporter, with cumulative
// temporality.
type Collector interface {
	Collect(ctx context.Context, rm *metricdata.ResourceMetrics) error
}

// Handler serves the live RED page and its JSON feed. It is safe for
// concurrent use; every viewer shares its collections.
type Handler struct {
	collector Collector
	profile   otelred.Profile
	signals   []signal
	now       func() time.Time

	mu      sync.Mutex
	snaps   []snapshot // oldest first: the newest, and those of the last Window
	history [][]point  // per section, a ring of HistoryLen points
	next    []int      // per section, where the ring writes next
	feed    []byte     // the JSON of the newest collection
	fatal   error      // a reader the page must not collect again
	service string     // of the newest collection
	sampled time.Time  // when the newest collection was taken
}

// New returns the handler of the live RED page of the instruments that
// otelred records with profile p, read from c.
//
// c must keep cumulative counts, as a ManualReader and the Prometheus
// exporter do by default: collecting from a reader with delta temporality
// would take the counts from the exporter it feeds. Handing one over is
// reported on the page and in the feed, and the page collects from it no
// more.
//
// Nothing runs in the background: the handler collects when the feed is
// asked for, at most once per [Interval], so the page costs nothing while
// no one looks at it, and its chart begins when it is first opened.
func New(c Collector, p otelred.Profile) *Handler {
	sigs := signals(p)
	h := &Handler{
		collector: c,
		profile:   p,
		signals:   sigs,
		now:       time.Now,
		history:   make([][]point, len(sigs)),
		next:      make([]int, len(sigs)),
	}
	return h
}

// ServeHTTP serves the page, or with the query format=json its feed.
// Every name in either is escaped: route templates, peers and operations
// are text, never markup.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Query().Get("format") == "json" {
		feed := h.Feed(r.Context())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(feed)
		return
	}
	servePage(w)
}

// Feed collects, unless the last collection is younger than [Interval],
// and returns the feed's JSON, as served with format=json (see the package
// documentation).
func (h *Handler) Feed(ctx context.Context) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sample(ctx)
	if h.feed == nil {
		h.feed = h.encode(nil)
	}
	return slices.Clone(h.feed)
}

// sample takes a collection when the last one is old enough.
func (h *Handler) sample(ctx context.Context) {
	now := h.now()
	if h.fatal != nil || (!h.sampled.IsZero() && now.Sub(h.sampled) < Interval) {
		return
	}
	var rm metricdata.ResourceMetrics
	err := h.collector.Collect(ctx, &rm)
	if err == nil {
		var snap snapshot
		if snap, err = read(&rm, h.signals, now); err == nil {
			h.add(snap)
		}
	}
	if errors.Is(err, errDelta) {
		h.fatal = err
	}
	h.sampled = now
	h.feed = h.encode(err)
}

// add keeps snap: it records a chart point per section against the
// previous collection, and drops the collections older than the Window
// (keeping one at or past it, the base of the table's numbers).
func (h *Handler) add(snap snapshot) {
	if n := len(h.snaps); n > 0 {
		prev := h.snaps[n-1]
		for i := range h.signals {
			h.record(i, chartPoint(&prev, &snap, i))
		}
	}
	h.service = snap.service
	h.snaps = append(h.snaps, snap)
	cut := 0
	for cut+1 < len(h.snaps)-1 && snap.at.Sub(h.snaps[cut+1].at) >= Window {
		cut++
	}
	h.snaps = slices.Delete(h.snaps, 0, cut)
}

// record appends p to section i's ring.
func (h *Handler) record(i int, p point) {
	if len(h.history[i]) < HistoryLen {
		h.history[i] = append(h.history[i], p)
		return
	}
	h.history[i][h.next[i]] = p
	h.next[i] = (h.next[i] + 1) % HistoryLen
}

// points returns section i's chart points, oldest first.
func (h *Handler) points(i int) []point {
	ring := h.history[i]
	out := make([]point, 0, len(ring))
	out = append(out, ring[h.next[i]:]...)
	return append(out, ring[:h.next[i]]...)
}

// point is one chart point: what happened between two collections.
type point struct {
	T          int64  `json:"t"` // Unix milliseconds, at the end of the interval
	Rate       number `json:"rate"`
	ErrorRatio number `json:"error_ratio"`
	P99        number `json:"p99_ms"`
}

func chartPoint(prev, cur *snapshot, i int) point {
	d := cur.sections[i].total.since(&prev.sections[i].total)
	secs := cur.at.Sub(prev.at).Seconds()
	return point{
		T:          cur.at.UnixMilli(),
		Rate:       rate(d.requests, secs),
		ErrorRatio: ratio(d.errors, d.requests),
		P99:        millis(d.hist.quantile(0.99)),
	}
}

// number is a float that encodes NaN and infinities as JSON null.
type number float64

func (n number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

func rate(n uint64, secs float64) number {
	if secs <= 0 {
		return number(math.NaN())
	}
	return number(float64(n) / secs)
}

func ratio(part, whole uint64) number {
	if whole == 0 {
		return number(math.NaN())
	}
	return number(float64(part) / float64(whole))
}

func millis(s float64) number { return number(s * 1000) }

// The feed, as JSON.
type (
	feed struct {
		Service string        `json:"service"`
		Profile string        `json:"profile"`
		Time    int64         `json:"time"`   // Unix milliseconds of the newest collection
		Window  number        `json:"window"` // seconds the table's numbers cover; null before two collections
		Error   string        `json:"error,omitempty"`
		Section []feedSection `json:"sections"`
	}
	feedSection struct {
		Title   string  `json:"title"`
		Key     string  `json:"key"` // the attribute that names the rows
		Total   row     `json:"total"`
		Rows    []row   `json:"rows"`
		History []point `json:"history"`
	}
	row struct {
		Name string `json:"name"`
		// Note says what the row holds when it is not one route, peer,
		// operation or method: the requests that matched no route, or
		// the overflow past the cardinality limit.
		Note       string `json:"note,omitempty"`
		Rate       number `json:"rate"`
		ErrorRatio number `json:"error_ratio"`
		P50        number `json:"p50_ms"`
		P99        number `json:"p99_ms"`
		InFlight   *int64 `json:"in_flight"` // null where the profile does not count it by row
	}
)

// encode builds the feed of the newest collection: the table's numbers
// against the oldest collection kept (at most a Window back), and the
// chart's points. The HTTP server section is always there; the others
// only once their instruments have data.
func (h *Handler) encode(err error) []byte {
	f := feed{Service: h.service, Profile: h.profile.String(), Window: number(math.NaN()), Section: []feedSection{}}
	if err == nil {
		err = h.fatal
	}
	if err != nil {
		f.Error = err.Error()
	}
	if len(h.snaps) == 0 {
		return marshal(f)
	}
	cur := &h.snaps[len(h.snaps)-1]
	f.Time = cur.at.UnixMilli()
	var base *snapshot
	var secs float64
	if len(h.snaps) > 1 {
		base = &h.snaps[0]
		secs = cur.at.Sub(base.at).Seconds()
		f.Window = number(secs)
	}
	for i, sig := range h.signals {
		sec := &cur.sections[i]
		if i > 0 && len(sec.rows) == 0 && !sec.total.hasInFlight {
			continue
		}
		fs := feedSection{Title: sig.title, Key: string(sig.key), Rows: make([]row, 0, len(sec.rows)), History: h.points(i)}
		var prevSec *section
		if base != nil {
			prevSec = &base.sections[i]
		}
		fs.Total = makeRow("all", &sec.total, prevTotal(prevSec), base != nil, secs)
		names := make([]string, 0, len(sec.rows))
		for name := range sec.rows {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			var prev *series
			if prevSec != nil {
				prev = prevSec.rows[name]
			}
			r := makeRow(name, sec.rows[name], prev, base != nil, secs)
			r.Note = sig.note(name, sec.rows[name])
			fs.Rows = append(fs.Rows, r)
		}
		f.Section = append(f.Section, fs)
	}
	return marshal(f)
}

func prevTotal(sec *section) *series {
	if sec == nil {
		return nil
	}
	return &sec.total
}

// makeRow computes a row's numbers over secs since prev; without a
// previous collection (hasBase false) they are null.
func makeRow(name string, cur, prev *series, hasBase bool, secs float64) row {
	r := row{Name: name}
	nan := number(math.NaN())
	r.Rate, r.ErrorRatio, r.P50, r.P99 = nan, nan, nan, nan
	if hasBase {
		d := cur.since(prev)
		r.Rate = rate(d.requests, secs)
		r.ErrorRatio = ratio(d.errors, d.requests)
		r.P50 = millis(d.hist.quantile(0.5))
		r.P99 = millis(d.hist.quantile(0.99))
	}
	if cur.hasInFlight {
		n := cur.inFlight
		r.InFlight = &n
	}
	return r
}

// marshal encodes the feed. encoding/json escapes <, > and & inside
// strings, so no name can close a script or start markup.
func marshal(f feed) []byte {
	b, err := json.Marshal(f)
	if err != nil {
		return []byte(`{"error":"encoding the feed failed","sections":[]}`)
	}
	return b
}
